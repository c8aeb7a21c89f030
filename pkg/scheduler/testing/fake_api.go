package testing

import (
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clienttesting "k8s.io/client-go/testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
)

// FakeAPI is the generated fake clientset with pods/binding behaving as
// skiff-apiserver's does: the first binding sets spec.nodeName and the
// PodScheduled condition, any later one gets 409 Conflict.
type FakeAPI struct {
	Client *fake.Clientset

	mu        sync.Mutex
	bindError func(b *v1alpha1.Binding) error
	binds     map[string]int
}

// SetBindError installs a function called before each binding; a non-nil
// result is returned to the scheduler instead of binding.
func (f *FakeAPI) SetBindError(fn func(b *v1alpha1.Binding) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bindError = fn
}

// NewFakeAPI returns a fake API server holding objects.
func NewFakeAPI(objects ...runtime.Object) *FakeAPI {
	// NewClientset's tracker records managedFields as skiff-apiserver does,
	// using the apply-configuration schema generated for skiff's kinds.
	f := &FakeAPI{Client: fake.NewClientset(objects...), binds: map[string]int{}}
	f.Client.PrependReactor("create", "pods", f.reactToBinding)
	return f
}

// BindCalls returns how many binding requests the pod received.
func (f *FakeAPI) BindCalls(namespace, name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.binds[namespace+"/"+name]
}

// The fake clientset calls reactors one at a time, under its own lock, so
// reading and writing the pod here is atomic, like the API server's
// GuaranteedUpdate.
func (f *FakeAPI) reactToBinding(action clienttesting.Action) (bool, runtime.Object, error) {
	if action.GetSubresource() != "binding" {
		return false, nil, nil
	}
	b := action.(clienttesting.CreateAction).GetObject().(*v1alpha1.Binding)
	ns := action.GetNamespace()
	f.mu.Lock()
	f.binds[ns+"/"+b.Name]++
	hook := f.bindError
	f.mu.Unlock()
	if hook != nil {
		if err := hook(b); err != nil {
			return true, nil, err
		}
	}

	gvr := v1alpha1.SchemeGroupVersion.WithResource("pods")
	obj, err := f.Client.Tracker().Get(gvr, ns, b.Name)
	if err != nil {
		return true, nil, err
	}
	pod := obj.(*v1alpha1.Pod).DeepCopy()
	if b.UID != "" && b.UID != pod.UID {
		return true, nil, apierrors.NewConflict(gvr.GroupResource(), b.Name, fmt.Errorf("precondition failed: UID %s, pod has %s", b.UID, pod.UID))
	}
	if pod.Spec.NodeName != "" {
		return true, nil, apierrors.NewConflict(gvr.GroupResource(), b.Name, fmt.Errorf("pod %s is already assigned to node %q", b.Name, pod.Spec.NodeName))
	}
	pod.Spec.NodeName = b.Target.Name
	var conds []v1alpha1.PodCondition
	for _, c := range pod.Status.Conditions {
		if c.Type != v1alpha1.PodScheduled {
			conds = append(conds, c)
		}
	}
	pod.Status.Conditions = append(conds, v1alpha1.PodCondition{Type: v1alpha1.PodScheduled, Status: v1alpha1.ConditionTrue, LastTransitionTime: metav1.Now()})
	if err := f.Client.Tracker().Update(gvr, pod, ns); err != nil {
		return true, nil, err
	}
	return true, &metav1.Status{Status: metav1.StatusSuccess}, nil
}

// Event is one event a Recorder received.
type Event struct {
	Object  runtime.Object
	Type    string
	Reason  string
	Message string
}

// Recorder is a record.EventRecorder that keeps every event, for tests.
// Unlike record.FakeRecorder it never blocks.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Event records an event.
func (r *Recorder) Event(object runtime.Object, eventtype, reason, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, Event{Object: object, Type: eventtype, Reason: reason, Message: message})
}

// Eventf records an event with a formatted message.
func (r *Recorder) Eventf(object runtime.Object, eventtype, reason, messageFmt string, args ...any) {
	r.Event(object, eventtype, reason, fmt.Sprintf(messageFmt, args...))
}

// AnnotatedEventf records an event; annotations are dropped.
func (r *Recorder) AnnotatedEventf(object runtime.Object, _ map[string]string, eventtype, reason, messageFmt string, args ...any) {
	r.Eventf(object, eventtype, reason, messageFmt, args...)
}

// Events returns the events so far.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}
