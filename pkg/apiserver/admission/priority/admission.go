// Package priority is skiff's Priority admission plugin, as upstream's
// (plugin/pkg/admission/priority): a new pod's spec.priorityClassName is
// resolved to spec.priority and spec.preemptionPolicy from its
// PriorityClass; a pod that names no class gets the globalDefault class, or
// priority 0 when there is none. It also keeps two classes from being
// globalDefault at once.
//
// Where upstream answers 403 Forbidden without a field, skiff answers 422
// Invalid with the field path, as for any other bad input (issue 13): a
// class that does not exist is a NotFound on spec.priorityClassName, and a
// priority or preemption policy the client set that disagrees with the
// class is Invalid on spec.priority or spec.preemptionPolicy.
package priority

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/klog/v2"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned"
	corelisters "skiff.dev/skiff/pkg/generated/listers/core/v1alpha1"
)

// PluginName is the plugin's name, as upstream names it.
const PluginName = "Priority"

var (
	podResource           = core.Resource("pods")
	priorityClassResource = core.Resource("priorityclasses")
)

// Plugin is the Priority admission plugin.
type Plugin struct {
	*admission.Handler
	lister corelisters.PriorityClassLister
	client versioned.Interface
}

var (
	_ admission.MutationInterface   = &Plugin{}
	_ admission.ValidationInterface = &Plugin{}
)

// New returns the plugin. It reads classes from lister, whose informer the
// caller starts (hasSynced reports when it has), and looks a class the
// informer has not seen yet up through client, so that a pod created right
// after its class is not refused.
func New(lister corelisters.PriorityClassLister, hasSynced func() bool, client versioned.Interface) *Plugin {
	p := &Plugin{
		Handler: admission.NewHandler(admission.Create, admission.Update),
		lister:  lister,
		client:  client,
	}
	p.SetReadyFunc(hasSynced)
	return p
}

// Admit sets a new pod's priority and preemption policy from its class, and
// keeps them on an update that leaves them out.
func (p *Plugin) Admit(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetSubresource() != "" || a.GetResource().GroupResource() != podResource {
		return nil
	}
	pod, ok := a.GetObject().(*core.Pod)
	if !ok {
		return apierrors.NewBadRequest(fmt.Sprintf("resource was marked with kind Pod but was %T", a.GetObject()))
	}
	if a.GetOperation() == admission.Update {
		old, ok := a.GetOldObject().(*core.Pod)
		if !ok {
			return apierrors.NewBadRequest(fmt.Sprintf("resource was marked with kind Pod but was %T", a.GetOldObject()))
		}
		// A client that read the pod before admission set these, or
		// builds the object anew, would otherwise be refused for changing
		// an immutable field.
		if pod.Spec.Priority == nil {
			pod.Spec.Priority = old.Spec.Priority
		}
		if pod.Spec.PreemptionPolicy == nil {
			pod.Spec.PreemptionPolicy = old.Spec.PreemptionPolicy
		}
		return nil
	}
	if a.GetOperation() != admission.Create {
		return nil
	}
	if !p.WaitForReady() {
		return admission.NewForbidden(a, fmt.Errorf("not yet ready to handle request"))
	}

	specPath := field.NewPath("spec")
	name, priority, policy := "", core.DefaultPriorityWhenNoDefaultClassExists, core.PreemptLowerPriority
	if pod.Spec.PriorityClassName == "" {
		def, err := p.defaultClass()
		if err != nil {
			return apierrors.NewInternalError(fmt.Errorf("find the default priority class: %w", err))
		}
		if def != nil {
			name, priority, policy = def.Name, def.Value, policyOf(def)
		}
	} else {
		pc, err := p.class(ctx, pod.Spec.PriorityClassName)
		if apierrors.IsNotFound(err) {
			return invalidPod(pod, field.NotFound(specPath.Child("priorityClassName"), pod.Spec.PriorityClassName))
		}
		if err != nil {
			return apierrors.NewInternalError(fmt.Errorf("resolve priority class %s: %w", pod.Spec.PriorityClassName, err))
		}
		name, priority, policy = pc.Name, pc.Value, policyOf(pc)
	}

	if pod.Spec.Priority != nil && *pod.Spec.Priority != priority {
		return invalidPod(pod, field.Invalid(specPath.Child("priority"), *pod.Spec.Priority,
			fmt.Sprintf("the integer value of priority (%d) must not be provided in pod spec; priority admission controller computed %d from the given PriorityClass name", *pod.Spec.Priority, priority)))
	}
	if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy != policy {
		return invalidPod(pod, field.Invalid(specPath.Child("preemptionPolicy"), *pod.Spec.PreemptionPolicy,
			fmt.Sprintf("the string value of PreemptionPolicy (%s) must not be provided in pod spec; priority admission controller computed %s from the given PriorityClass name", *pod.Spec.PreemptionPolicy, policy)))
	}
	pod.Spec.PriorityClassName = name
	pod.Spec.Priority = &priority
	pod.Spec.PreemptionPolicy = &policy
	return nil
}

// Validate refuses a second globalDefault class, as upstream: which class
// a pod without one gets must not depend on the order classes are read in.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetSubresource() != "" || a.GetResource().GroupResource() != priorityClassResource {
		return nil
	}
	pc, ok := a.GetObject().(*core.PriorityClass)
	if !ok {
		return apierrors.NewBadRequest(fmt.Sprintf("resource was marked with kind PriorityClass but was %T", a.GetObject()))
	}
	if !pc.GlobalDefault {
		return nil
	}
	if !p.WaitForReady() {
		return admission.NewForbidden(a, fmt.Errorf("not yet ready to handle request"))
	}
	// Storage, not the informer: a default created a moment ago must count.
	// Classes are few and rarely written, so the list is cheap.
	def, err := p.storedDefaultClass(ctx)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("find the default priority class: %w", err))
	}
	if def == nil || (a.GetOperation() == admission.Update && def.Name == pc.Name) {
		return nil
	}
	return apierrors.NewInvalid(core.Kind("PriorityClass"), pc.Name, field.ErrorList{
		field.Forbidden(field.NewPath("globalDefault"), fmt.Sprintf("PriorityClass %s is already marked as default. Only one default can exist", def.Name)),
	})
}

// defaultClass is the globalDefault class in the informer's cache. A pod
// created right after a default class may miss it, as upstream's do: the
// lookup is on every pod create and must not reach storage.
func (p *Plugin) defaultClass() (*v1alpha1.PriorityClass, error) {
	all, err := p.lister.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	return lowestDefault(all), nil
}

// storedDefaultClass is the globalDefault class in storage, or in the
// informer's cache when the plugin has no client.
func (p *Plugin) storedDefaultClass(ctx context.Context) (*v1alpha1.PriorityClass, error) {
	if p.client == nil {
		return p.defaultClass()
	}
	list, err := p.client.CoreV1alpha1().PriorityClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	all := make([]*v1alpha1.PriorityClass, len(list.Items))
	for i := range list.Items {
		all[i] = &list.Items[i]
	}
	return lowestDefault(all), nil
}

// lowestDefault is the globalDefault class of all, the lowest-valued one
// should there be several (two servers admitting at once can make that
// happen).
func lowestDefault(all []*v1alpha1.PriorityClass) *v1alpha1.PriorityClass {
	var def *v1alpha1.PriorityClass
	for _, pc := range all {
		if pc.GlobalDefault && (def == nil || pc.Value < def.Value) {
			def = pc
		}
	}
	return def
}

// class finds a class in the informer's cache, or, if it is not there yet,
// in storage.
func (p *Plugin) class(ctx context.Context, name string) (*v1alpha1.PriorityClass, error) {
	pc, err := p.lister.Get(name)
	if err == nil || !apierrors.IsNotFound(err) || p.client == nil {
		return pc, err
	}
	pc, err = p.client.CoreV1alpha1().PriorityClasses().Get(ctx, name, metav1.GetOptions{})
	if err == nil {
		klog.V(4).InfoS("Priority class not in the informer yet, read from storage", "priorityClass", name)
	}
	return pc, err
}

func policyOf(pc *v1alpha1.PriorityClass) core.PreemptionPolicy {
	if pc.PreemptionPolicy == nil {
		return core.PreemptLowerPriority
	}
	return core.PreemptionPolicy(*pc.PreemptionPolicy)
}

func invalidPod(pod *core.Pod, err *field.Error) error {
	name := pod.Name
	if name == "" {
		name = pod.GenerateName
	}
	return apierrors.NewInvalid(core.Kind("Pod"), name, field.ErrorList{err})
}
