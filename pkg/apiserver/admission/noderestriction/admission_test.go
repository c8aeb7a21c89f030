package noderestriction

import (
	"context"
	corev1 "k8s.io/api/core/v1"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apiserver/auth"
)

var (
	node1     = &user.DefaultInfo{Name: "system:node:n1", Groups: []string{auth.NodesGroup, user.AllAuthenticated}}
	admin     = &user.DefaultInfo{Name: "admin", Groups: []string{user.SystemPrivilegedGroup}}
	scheduler = &user.DefaultInfo{Name: auth.SchedulerUser}
)

func attrs(u user.Info, op admission.Operation, resource, sub, ns, name string, obj runtime.Object) admission.Attributes {
	return attrsOld(u, op, resource, sub, ns, name, obj, nil)
}

func attrsOld(u user.Info, op admission.Operation, resource, sub, ns, name string, obj, old runtime.Object) admission.Attributes {
	gvr := schema.GroupVersionResource{Group: core.GroupName, Version: "v1alpha1", Resource: resource}
	return admission.NewAttributesRecord(obj, old, schema.GroupVersionKind{Group: core.GroupName, Version: "v1alpha1"},
		ns, name, gvr, sub, op, nil, false, u)
}

// node is a Node named n1, changed by the options.
func node(opts ...func(*core.Node)) *core.Node {
	n := &core.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{
		"kubernetes.io/hostname": "n1", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
	}}}
	for _, o := range opts {
		o(n)
	}
	return n
}

func withLabel(k, v string) func(*core.Node) {
	return func(n *core.Node) { n.Labels[k] = v }
}

func withoutLabel(k string) func(*core.Node) {
	return func(n *core.Node) { delete(n.Labels, k) }
}

var adminTaint = core.Taint{Key: "maintenance", Value: "true", Effect: core.TaintEffectNoSchedule}

func tainted(n *core.Node) { n.Spec.Taints = []core.Taint{adminTaint} }

func cordoned(n *core.Node) { n.Spec.Unschedulable = true }

func pod(nodeName string, labels map[string]string) *core.Pod {
	return &core.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", Labels: labels}, Spec: core.PodSpec{NodeName: nodeName}}
}

func TestNodeRestriction(t *testing.T) {
	tests := []struct {
		name       string
		attrs      admission.Attributes
		wantDenied bool
		wantWords  []string
	}{
		// Registration.
		{name: "a node registers itself", attrs: attrs(node1, admission.Create, "nodes", "", "", "n1", node())},
		{name: "a node may not register another node", attrs: attrs(node1, admission.Create, "nodes", "", "", "n2", &core.Node{ObjectMeta: metav1.ObjectMeta{Name: "n2"}}),
			wantDenied: true, wantWords: []string{`"n1"`, `"n2"`}},
		{name: "a create names its node in the body", attrs: attrs(node1, admission.Create, "nodes", "", "", "", node())},
		{name: "a node may not register a node without a name", attrs: attrs(node1, admission.Create, "nodes", "", "", "", &core.Node{}), wantDenied: true},
		{name: "a node registers with its own kubelet labels", attrs: attrs(node1, admission.Create, "nodes", "", "", "n1",
			node(withLabel("topology.kubernetes.io/zone", "z1"), withLabel("kubelet.kubernetes.io/x", "y"), withLabel("node.kubernetes.io/pool", "a"), withLabel("example.com/disk", "ssd")))},
		{name: "a node may not register with a node-role label", attrs: attrs(node1, admission.Create, "nodes", "", "", "n1", node(withLabel("node-role.kubernetes.io/control-plane", ""))),
			wantDenied: true, wantWords: []string{"node-role.kubernetes.io/control-plane"}},
		{name: "a node may not register with a node-restriction label", attrs: attrs(node1, admission.Create, "nodes", "", "", "n1", node(withLabel("node-restriction.kubernetes.io/pci", "true"))),
			wantDenied: true, wantWords: []string{"node-restriction.kubernetes.io/pci"}},
		{name: "a node may register with taints", attrs: attrs(node1, admission.Create, "nodes", "", "", "n1", node(tainted))},

		// Updates of its own Node.
		{name: "a node relabels itself with a label of its own", attrs: attrsOld(node1, admission.Update, "nodes", "", "", "n1", node(withLabel("example.com/disk", "nvme")), node())},
		{name: "a node may not remove an admin's NoSchedule taint", attrs: attrsOld(node1, admission.Update, "nodes", "", "", "n1", node(), node(tainted)),
			wantDenied: true, wantWords: []string{"taints"}},
		{name: "a node may not add a taint", attrs: attrsOld(node1, admission.Update, "nodes", "", "", "n1", node(tainted), node()), wantDenied: true},
		{name: "a node may not uncordon itself", attrs: attrsOld(node1, admission.Update, "nodes", "", "", "n1", node(), node(cordoned)),
			wantDenied: true, wantWords: []string{"spec.unschedulable"}},
		{name: "a node may not cordon itself", attrs: attrsOld(node1, admission.Update, "nodes", "", "", "n1", node(cordoned), node()), wantDenied: true},
		{name: "a node may not add a node-role label", attrs: attrsOld(node1, admission.Update, "nodes", "", "", "n1", node(withLabel("node-role.kubernetes.io/master", "")), node()),
			wantDenied: true, wantWords: []string{"node-role.kubernetes.io/master"}},
		{name: "a node may not remove a node-role label", attrs: attrsOld(node1, admission.Update, "nodes", "", "", "n1", node(), node(withLabel("node-role.kubernetes.io/worker", ""))), wantDenied: true},
		{name: "a node may not change a k8s.io label", attrs: attrsOld(node1, admission.Update, "nodes", "", "", "n1", node(withLabel("sub.k8s.io/x", "2")), node(withLabel("sub.k8s.io/x", "1"))), wantDenied: true},
		{name: "a node may drop a kubelet label", attrs: attrsOld(node1, admission.Update, "nodes", "", "", "n1", node(withoutLabel("kubernetes.io/os")), node())},
		{name: "labels set through node status are checked too", attrs: attrsOld(node1, admission.Update, "nodes", "status", "", "n1", node(withLabel("node-role.kubernetes.io/x", "")), node()),
			wantDenied: true},
		{name: "a node reports status on a tainted, cordoned node", attrs: attrsOld(node1, admission.Update, "nodes", "status", "", "n1", node(tainted, cordoned), node(tainted, cordoned))},
		{name: "a node may not change its ownerReferences", attrs: attrsOld(node1, admission.Update, "nodes", "", "", "n1",
			node(func(n *core.Node) { n.OwnerReferences = []metav1.OwnerReference{{Name: "x"}} }), node()), wantDenied: true},
		{name: "a node may not update another node", attrs: attrsOld(node1, admission.Update, "nodes", "", "", "n2", node(), node()), wantDenied: true},
		{name: "an admin taints, cordons and labels any node", attrs: attrsOld(admin, admission.Update, "nodes", "", "", "n1",
			node(tainted, cordoned, withLabel("node-role.kubernetes.io/worker", "")), node())},

		// Leases.
		{name: "a node creates its own lease", attrs: attrs(node1, admission.Create, "leases", "", auth.NodeLeaseNamespace, "n1", &core.Lease{})},
		{name: "a node renews its own lease", attrs: attrsOld(node1, admission.Update, "leases", "", auth.NodeLeaseNamespace, "n1", &core.Lease{}, &core.Lease{})},
		{name: "a node may not create another node's lease", attrs: attrs(node1, admission.Create, "leases", "", auth.NodeLeaseNamespace, "n2", &core.Lease{}),
			wantDenied: true, wantWords: []string{auth.NodeLeaseNamespace + "/n1"}},
		{name: "a node may not renew another node's lease", attrs: attrsOld(node1, admission.Update, "leases", "", auth.NodeLeaseNamespace, "n2", &core.Lease{}, &core.Lease{}), wantDenied: true},
		{name: "a node may not create its lease in another namespace", attrs: attrs(node1, admission.Create, "leases", "", "default", "n1", &core.Lease{}), wantDenied: true},

		// Pods.
		{name: "a node may not create pods", attrs: attrs(node1, admission.Create, "pods", "", "default", "p", pod("n1", nil)),
			wantDenied: true, wantWords: []string{"may not create pods"}},
		{name: "a node may not bind pods", attrs: attrs(node1, admission.Create, "pods", "binding", "default", "p", &core.Binding{}), wantDenied: true},
		{name: "a node may not change a pod's spec", attrs: attrsOld(node1, admission.Update, "pods", "", "default", "p", pod("n1", nil), pod("n1", nil)), wantDenied: true},
		{name: "a node deletes its own pod", attrs: attrsOld(node1, admission.Delete, "pods", "", "default", "p", nil, pod("n1", nil))},
		{name: "a node may not delete another node's pod", attrs: attrsOld(node1, admission.Delete, "pods", "", "default", "p", nil, pod("n2", nil)),
			wantDenied: true, wantWords: []string{"spec.nodeName"}},
		{name: "a node may not delete a pending pod", attrs: attrsOld(node1, admission.Delete, "pods", "", "default", "p", nil, pod("", nil)), wantDenied: true},
		{name: "a node writes its pod's status", attrs: attrsOld(node1, admission.Update, "pods", "status", "default", "p", pod("n1", map[string]string{"app": "a"}), pod("n1", map[string]string{"app": "a"}))},
		{name: "a node may not write another node's pod status", attrs: attrsOld(node1, admission.Update, "pods", "status", "default", "p", pod("n2", nil), pod("n2", nil)), wantDenied: true},
		{name: "a node may not relabel a pod through its status", attrs: attrsOld(node1, admission.Update, "pods", "status", "default", "p", pod("n1", map[string]string{"app": "b"}), pod("n1", map[string]string{"app": "a"})),
			wantDenied: true, wantWords: []string{"labels"}},
		{name: "an admin deletes any pod", attrs: attrsOld(admin, admission.Delete, "pods", "", "default", "p", nil, pod("n2", nil))},

		// Others.
		{name: "a node creates events about anything", attrs: attrs(node1, admission.Create, "events", "", "default", "e1", &corev1.Event{})},
		{name: "an admin creates any node", attrs: attrs(admin, admission.Create, "nodes", "", "", "n2", &core.Node{})},
		{name: "the scheduler is not restricted", attrs: attrs(scheduler, admission.Create, "leases", "", "skiff-system", "skiff-scheduler", &core.Lease{})},
		{name: "a request without a user is not restricted", attrs: attrs(nil, admission.Create, "nodes", "", "", "n2", &core.Node{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New().Validate(context.Background(), tt.attrs, nil)
			if tt.wantDenied != (err != nil) {
				t.Fatalf("Validate = %v, want denied=%v", err, tt.wantDenied)
			}
			if err == nil {
				return
			}
			if !apierrors.IsForbidden(err) {
				t.Errorf("error %v is not 403 Forbidden", err)
			}
			for _, w := range tt.wantWords {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err.Error(), w)
				}
			}
		})
	}
}

// TestNodeRestrictionHandles: creates, updates and deletes are checked;
// connects (logs) are the authorizer's alone.
func TestNodeRestrictionHandles(t *testing.T) {
	p := New()
	for _, op := range []admission.Operation{admission.Create, admission.Update, admission.Delete} {
		if !p.Handles(op) {
			t.Errorf("the plugin does not handle %s", op)
		}
	}
	if p.Handles(admission.Connect) {
		t.Error("the plugin handles connect")
	}
}

// TestNodeRestrictionAgreesWithAuthorizerOnWhoIsANode: a user named like a
// kubelet but outside system:nodes is not a node to the authorizer, so the
// admission plugin must not treat it as one either (upstream's
// NodeRestriction identifies nodes by name and group together).
func TestNodeRestrictionAgreesWithAuthorizerOnWhoIsANode(t *testing.T) {
	notANode := &user.DefaultInfo{Name: "system:node:n1", Groups: []string{user.SystemPrivilegedGroup}}
	if err := New().Validate(context.Background(), attrs(notANode, admission.Create, "nodes", "", "", "n2", &core.Node{}), nil); err != nil {
		t.Errorf("a system:masters user named system:node:n1 was restricted like a kubelet: %v", err)
	}
}
