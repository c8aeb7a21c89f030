// Package defaulttolerationseconds gives every new pod upstream's default
// tolerations of the node lifecycle taints: node.kubernetes.io/not-ready and
// node.kubernetes.io/unreachable, NoExecute, for 300 seconds, unless the pod
// already tolerates them. A pod on a node that stops answering is then
// evicted five minutes later, not at once, and the user sees why in the
// pod's spec.
package defaulttolerationseconds

import (
	"context"

	"k8s.io/apiserver/pkg/admission"

	"skiff.dev/skiff/pkg/apis/core"
)

const (
	// taintNodeNotReady and taintNodeUnreachable are the node lifecycle
	// controller's NoExecute taints.
	taintNodeNotReady    = "node.kubernetes.io/not-ready"
	taintNodeUnreachable = "node.kubernetes.io/unreachable"
	// DefaultSeconds is upstream's --default-not-ready-toleration-seconds
	// and --default-unreachable-toleration-seconds.
	DefaultSeconds int64 = 300
)

// Plugin is the DefaultTolerationSeconds admission plugin.
type Plugin struct {
	*admission.Handler
}

var _ admission.MutationInterface = &Plugin{}

// New returns the plugin; it acts on pod creates only, as upstream's does.
func New() *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create)}
}

// Admit adds the missing default tolerations to a new pod.
func (p *Plugin) Admit(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetResource().GroupResource() != core.Resource("pods") || a.GetSubresource() != "" {
		return nil
	}
	pod, ok := a.GetObject().(*core.Pod)
	if !ok {
		return nil
	}
	notReady, unreachable := false, false
	for _, t := range pod.Spec.Tolerations {
		if tolerates(t, taintNodeNotReady) {
			notReady = true
		}
		if tolerates(t, taintNodeUnreachable) {
			unreachable = true
		}
	}
	if !notReady {
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, defaultToleration(taintNodeNotReady))
	}
	if !unreachable {
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, defaultToleration(taintNodeUnreachable))
	}
	return nil
}

// tolerates reports whether t already covers the NoExecute taint key, by
// key or as a wildcard, the way upstream's plugin decides.
func tolerates(t core.Toleration, key string) bool {
	return (t.Key == key || t.Key == "") && (t.Effect == core.TaintEffectNoExecute || t.Effect == "")
}

func defaultToleration(key string) core.Toleration {
	seconds := DefaultSeconds
	return core.Toleration{
		Key:               key,
		Operator:          core.TolerationOpExists,
		Effect:            core.TaintEffectNoExecute,
		TolerationSeconds: &seconds,
	}
}
