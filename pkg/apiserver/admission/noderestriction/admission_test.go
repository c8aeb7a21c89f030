package noderestriction

import (
	"context"
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
	gvr := schema.GroupVersionResource{Group: core.GroupName, Version: "v1alpha1", Resource: resource}
	return admission.NewAttributesRecord(obj, nil, schema.GroupVersionKind{Group: core.GroupName, Version: "v1alpha1"},
		ns, name, gvr, sub, op, &metav1.CreateOptions{}, false, u)
}

func TestNodeRestriction(t *testing.T) {
	tests := []struct {
		name       string
		attrs      admission.Attributes
		wantDenied bool
		wantWords  []string
	}{
		{name: "a node registers itself", attrs: attrs(node1, admission.Create, "nodes", "", "", "n1", &core.Node{})},
		{name: "a node may not register another node", attrs: attrs(node1, admission.Create, "nodes", "", "", "n2", &core.Node{}),
			wantDenied: true, wantWords: []string{`"n1"`, `"n2"`}},
		{name: "a node may not register a node without a name", attrs: attrs(node1, admission.Create, "nodes", "", "", "", &core.Node{}), wantDenied: true},
		{name: "a node creates its own lease", attrs: attrs(node1, admission.Create, "leases", "", auth.NodeLeaseNamespace, "n1", &core.Lease{})},
		{name: "a node may not create another node's lease", attrs: attrs(node1, admission.Create, "leases", "", auth.NodeLeaseNamespace, "n2", &core.Lease{}),
			wantDenied: true, wantWords: []string{auth.NodeLeaseNamespace + "/n1"}},
		{name: "a node may not create its lease in another namespace", attrs: attrs(node1, admission.Create, "leases", "", "default", "n1", &core.Lease{}), wantDenied: true},
		{name: "a node creates events about anything", attrs: attrs(node1, admission.Create, "events", "", "default", "e1", &core.Event{})},
		{name: "an admin creates any node", attrs: attrs(admin, admission.Create, "nodes", "", "", "n2", &core.Node{})},
		{name: "the scheduler is not restricted", attrs: attrs(scheduler, admission.Create, "leases", "", "skiff-system", "skiff-scheduler", &core.Lease{})},
		{name: "a request without a user is not restricted", attrs: attrs(nil, admission.Create, "nodes", "", "", "n2", &core.Node{})},
		{name: "a subresource create is not a node create", attrs: attrs(node1, admission.Create, "pods", "binding", "default", "p", &core.Binding{})},
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

// TestNodeRestrictionHandlesCreatesOnly: updates are the authorizer's to
// check (it sees the name in the URL); the plugin must not block them.
func TestNodeRestrictionHandlesCreatesOnly(t *testing.T) {
	p := New()
	if !p.Handles(admission.Create) {
		t.Error("the plugin does not handle creates")
	}
	for _, op := range []admission.Operation{admission.Update, admission.Delete, admission.Connect} {
		if p.Handles(op) {
			t.Errorf("the plugin handles %s", op)
		}
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
