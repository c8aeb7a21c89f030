// Package noderestriction confines a kubelet to its own node, as upstream's
// NodeRestriction admission plugin does. The authorizer lets a node write
// its own Node, Lease and pod statuses, but it sees only the request line:
// what a create names in its body, and which fields an update changes, are
// checked here, where the objects are at hand.
//
// A node may not:
//   - create or write another node's Node or Lease;
//   - change its own taints, ownerReferences or spec.unschedulable, or set
//     labels under node-restriction.kubernetes.io/ or, outside the kubelet's
//     own set (kubernetes.io/hostname, kubernetes.io/os, …), under
//     kubernetes.io/ and k8s.io/ (node-role.kubernetes.io/ among them): all
//     of these steer workloads, and they are the admin's to set;
//   - create pods (skiff has no static pods, so no mirror pods), or update
//     a pod's spec or metadata;
//   - write the status of, or delete, a pod bound to another node, or change
//     a pod's labels through its status.
package noderestriction

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apiserver/pkg/admission"
	kubeletapis "k8s.io/kubelet/pkg/apis"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apiserver/auth"
)

// PluginName is the plugin's name, as upstream names it.
const PluginName = "NodeRestriction"

// Plugin is the NodeRestriction admission plugin.
type Plugin struct {
	*admission.Handler
}

var _ admission.ValidationInterface = &Plugin{}

// New returns the plugin; it checks creates, updates and deletes.
func New() *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update, admission.Delete)}
}

// Validate refuses what a node identity may not do; other users pass.
func (p *Plugin) Validate(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	u := a.GetUserInfo()
	if u == nil {
		return nil
	}
	nodeName, isNode := auth.NodeIdentity(u)
	if !isNode || a.GetResource().Group != core.GroupName {
		return nil
	}
	switch a.GetResource().Resource {
	case "nodes":
		return admitNode(nodeName, a)
	case "leases":
		return admitLease(nodeName, a)
	case "pods":
		switch a.GetSubresource() {
		case "":
			return admitPod(nodeName, a)
		case "status":
			return admitPodStatus(nodeName, a)
		default:
			return admission.NewForbidden(a, fmt.Errorf("node %q may write only the status subresource of pods, not %q", nodeName, a.GetSubresource()))
		}
	}
	return nil
}

// objectName is the name the request acts on: from the URL, or for a
// create from the object in the body.
func objectName(a admission.Attributes) string {
	if name := a.GetName(); name != "" {
		return name
	}
	if obj := a.GetObject(); obj != nil {
		if m, err := meta.Accessor(obj); err == nil {
			return m.GetName()
		}
	}
	return ""
}

func admitNode(nodeName string, a admission.Attributes) error {
	if name := objectName(a); name != nodeName {
		return admission.NewForbidden(a, fmt.Errorf("node %q may not modify node %q", nodeName, name))
	}
	switch a.GetOperation() {
	case admission.Create:
		node, ok := a.GetObject().(*core.Node)
		if !ok {
			return admission.NewForbidden(a, fmt.Errorf("unexpected type %T", a.GetObject()))
		}
		// Registering with taints or cordoned is allowed, as upstream's
		// --register-with-taints is: they only keep work away.
		if forbidden := forbiddenLabels(modifiedLabels(node.Labels, nil)); len(forbidden) > 0 {
			return admission.NewForbidden(a, fmt.Errorf("node %q may not set the labels %s", nodeName, strings.Join(forbidden, ", ")))
		}
	case admission.Update:
		node, ok := a.GetObject().(*core.Node)
		if !ok {
			return admission.NewForbidden(a, fmt.Errorf("unexpected type %T", a.GetObject()))
		}
		old, ok := a.GetOldObject().(*core.Node)
		if !ok {
			return admission.NewForbidden(a, fmt.Errorf("unexpected type %T", a.GetOldObject()))
		}
		if !apiequality.Semantic.DeepEqual(node.Spec.Taints, old.Spec.Taints) {
			return admission.NewForbidden(a, fmt.Errorf("node %q may not modify its taints", nodeName))
		}
		// Upstream leaves spec.unschedulable open, but its cordon is also
		// a node.kubernetes.io/unschedulable taint a node cannot lift.
		// skiff's cordon is the field alone, so the field is guarded.
		if node.Spec.Unschedulable != old.Spec.Unschedulable {
			return admission.NewForbidden(a, fmt.Errorf("node %q may not modify spec.unschedulable: cordoning is an admin's decision", nodeName))
		}
		if !apiequality.Semantic.DeepEqual(node.OwnerReferences, old.OwnerReferences) {
			return admission.NewForbidden(a, fmt.Errorf("node %q may not modify its ownerReferences", nodeName))
		}
		if forbidden := forbiddenLabels(modifiedLabels(node.Labels, old.Labels)); len(forbidden) > 0 {
			return admission.NewForbidden(a, fmt.Errorf("node %q may not modify the labels %s", nodeName, strings.Join(forbidden, ", ")))
		}
	}
	return nil
}

// modifiedLabels returns the keys added, removed or changed between a and b.
func modifiedLabels(a, b map[string]string) []string {
	var keys []string
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			keys = append(keys, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// forbiddenLabels returns the keys a node may not set on itself: the
// node-restriction.kubernetes.io/ namespace, reserved for labels only an
// admin sets, and the kubernetes.io/ and k8s.io/ namespaces apart from the
// labels kubelets own.
func forbiddenLabels(keys []string) []string {
	var out []string
	for _, k := range keys {
		ns := labelNamespace(k)
		switch {
		case inNamespace(ns, corev1.LabelNamespaceNodeRestriction):
			out = append(out, k)
		case (inNamespace(ns, "kubernetes.io") || inNamespace(ns, "k8s.io")) && !kubeletapis.IsKubeletLabel(k):
			out = append(out, k)
		}
	}
	return out
}

func labelNamespace(key string) string {
	if prefix, _, ok := strings.Cut(key, "/"); ok {
		return prefix
	}
	return ""
}

// inNamespace reports whether ns is domain or one of its subdomains.
func inNamespace(ns, domain string) bool {
	return ns == domain || strings.HasSuffix(ns, "."+domain)
}

func admitLease(nodeName string, a admission.Attributes) error {
	if a.GetNamespace() != auth.NodeLeaseNamespace || objectName(a) != nodeName {
		return admission.NewForbidden(a, fmt.Errorf("node %q may use only the lease %s/%s", nodeName, auth.NodeLeaseNamespace, nodeName))
	}
	return nil
}

func admitPod(nodeName string, a admission.Attributes) error {
	switch a.GetOperation() {
	case admission.Delete:
		pod, ok := a.GetOldObject().(*core.Pod)
		if !ok {
			return admission.NewForbidden(a, fmt.Errorf("cannot tell which node pod %s/%s is bound to", a.GetNamespace(), a.GetName()))
		}
		if pod.Spec.NodeName != nodeName {
			return admission.NewForbidden(a, fmt.Errorf("node %q may delete only pods with spec.nodeName set to itself", nodeName))
		}
		return nil
	case admission.Create:
		// Upstream lets a node create only mirror pods of its static pods;
		// skiff has no static pods.
		return admission.NewForbidden(a, fmt.Errorf("node %q may not create pods", nodeName))
	default:
		return admission.NewForbidden(a, fmt.Errorf("node %q may not %s pods, only write their status and delete its own", nodeName, strings.ToLower(string(a.GetOperation()))))
	}
}

func admitPodStatus(nodeName string, a admission.Attributes) error {
	if a.GetOperation() != admission.Update {
		return admission.NewForbidden(a, fmt.Errorf("unexpected operation %q on pod status", a.GetOperation()))
	}
	old, ok := a.GetOldObject().(*core.Pod)
	if !ok {
		return admission.NewForbidden(a, fmt.Errorf("unexpected type %T", a.GetOldObject()))
	}
	if old.Spec.NodeName != nodeName {
		return admission.NewForbidden(a, fmt.Errorf("node %q may update the status only of pods with spec.nodeName set to itself", nodeName))
	}
	pod, ok := a.GetObject().(*core.Pod)
	if !ok {
		return admission.NewForbidden(a, fmt.Errorf("unexpected type %T", a.GetObject()))
	}
	// Labels select pods for services and controllers; the status
	// subresource keeps them otherwise.
	if !labels.Equals(pod.Labels, old.Labels) {
		return admission.NewForbidden(a, fmt.Errorf("node %q may not update labels through pod status", nodeName))
	}
	return nil
}
