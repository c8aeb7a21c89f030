// Package pod is the registry of pods: the rules for create, update, status
// and delete (strategy.go), their storage and subresources (storage.go,
// binding.go, log.go) and the table kubectl prints (printing.go).
package pod

import (
	"context"
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/validation"
	"skiff.dev/skiff/pkg/registry/rules"
)

// strategy holds the rules for pods written through the main endpoint.
type strategy struct {
	rules.Defaults
}

// NewStrategy returns the pod strategy for typer's scheme.
func NewStrategy(typer runtime.ObjectTyper) strategy {
	return strategy{rules.NewDefaults(typer)}
}

var (
	_ rest.RESTCreateStrategy         = strategy{}
	_ rest.RESTUpdateStrategy         = strategy{}
	_ rest.RESTGracefulDeleteStrategy = strategy{}
	_ rest.ResetFieldsStrategy        = strategy{}
)

func (strategy) NamespaceScoped() bool { return true }

// GetResetFields tells server-side apply that status is not the main
// endpoint's to set.
func (strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"core.skiff.dev/v1alpha1": fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
	}
}

// PrepareForCreate starts every pod Pending, whatever status the client
// sent, and merges matchLabelKeys into the selectors they refine.
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	pod := obj.(*core.Pod)
	pod.Status = core.PodStatus{Phase: core.PodPending}
	pod.Generation = 1
	mergeMatchLabelKeys(pod)
}

// PrepareForUpdate keeps the stored status and bumps the generation only when
// the spec changed.
func (strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newPod, oldPod := obj.(*core.Pod), old.(*core.Pod)
	newPod.Status = oldPod.Status
	if !apiequality.Semantic.DeepEqual(newPod.Spec, oldPod.Spec) {
		newPod.Generation = oldPod.Generation + 1
	}
}

func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidatePod(obj.(*core.Pod)))
}

func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidatePodUpdate(obj.(*core.Pod), old.(*core.Pod)))
}

// CheckGracefulDelete gives a pod that runs on a node its grace period, so the
// kubelet can stop its containers before the pod disappears; a pod that never
// reached a node, or whose containers have all exited, goes at once.
func (strategy) CheckGracefulDelete(_ context.Context, obj runtime.Object, options *metav1.DeleteOptions) bool {
	if options == nil {
		return false
	}
	pod := obj.(*core.Pod)
	var period int64
	switch {
	case options.GracePeriodSeconds != nil:
		period = *options.GracePeriodSeconds
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		period = *pod.Spec.TerminationGracePeriodSeconds
	}
	if pod.Spec.NodeName == "" || pod.Status.Phase == core.PodSucceeded || pod.Status.Phase == core.PodFailed {
		period = 0
	}
	options.GracePeriodSeconds = &period
	return true
}

// statusStrategy holds the rules for pods/status: only status changes.
type statusStrategy struct {
	strategy
}

// NewStatusStrategy returns the pods/status strategy.
func NewStatusStrategy(s strategy) statusStrategy { return statusStrategy{s} }

// GetResetFields tells server-side apply that spec is not pods/status's to set.
func (statusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"core.skiff.dev/v1alpha1": fieldpath.NewSet(
			fieldpath.MakePathOrDie("spec"),
			fieldpath.MakePathOrDie("metadata", "deletionTimestamp"),
			fieldpath.MakePathOrDie("metadata", "ownerReferences"),
		),
	}
}

// PrepareForUpdate keeps the stored spec: a status writer cannot move a pod
// or change what it runs.
func (statusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newPod, oldPod := obj.(*core.Pod), old.(*core.Pod)
	newPod.Spec = oldPod.Spec
	newPod.DeletionTimestamp = oldPod.DeletionTimestamp
	newPod.OwnerReferences = oldPod.OwnerReferences
}

func (statusStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidatePodStatusUpdate(obj.(*core.Pod), old.(*core.Pod)))
}

// GetAttrs returns the labels and the selectable fields of a pod.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	pod, ok := obj.(*core.Pod)
	if !ok {
		return nil, nil, fmt.Errorf("not a pod: %T", obj)
	}
	return labels.Set(pod.Labels), ToSelectableFields(pod), nil
}

// ToSelectableFields returns the fields a pod can be selected by.
func ToSelectableFields(pod *core.Pod) fields.Set {
	return generic.AddObjectMetaFieldsSet(fields.Set{
		"spec.nodeName":      pod.Spec.NodeName,
		"spec.schedulerName": pod.Spec.SchedulerName,
		"status.phase":       string(pod.Status.Phase),
	}, &pod.ObjectMeta, true)
}

// MatchPod selects pods by label and field; spec.nodeName is served from the
// watch cache's index, so a kubelet's watch of its own pods does not scan
// every pod.
func MatchPod(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{
		Label:       label,
		Field:       field,
		GetAttrs:    GetAttrs,
		IndexFields: []string{"spec.nodeName"},
	}
}

// NodeNameTriggerFunc routes watch events to the watchers of one node.
func NodeNameTriggerFunc(obj runtime.Object) string {
	return obj.(*core.Pod).Spec.NodeName
}

// NodeNameIndexFunc indexes pods in the watch cache by node.
func NodeNameIndexFunc(obj interface{}) ([]string, error) {
	pod, ok := obj.(*core.Pod)
	if !ok {
		return nil, fmt.Errorf("not a pod: %T", obj)
	}
	return []string{pod.Spec.NodeName}, nil
}

// Indexers are the watch cache indexes of pods.
func Indexers() *cache.Indexers {
	return &cache.Indexers{storage.FieldIndex("spec.nodeName"): NodeNameIndexFunc}
}
