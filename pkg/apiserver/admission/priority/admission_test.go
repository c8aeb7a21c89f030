package priority

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
	corelisters "skiff.dev/skiff/pkg/generated/listers/core/v1alpha1"
)

func class(name string, value int32, globalDefault bool, policy v1alpha1.PreemptionPolicy) *v1alpha1.PriorityClass {
	return &v1alpha1.PriorityClass{
		ObjectMeta:       metav1.ObjectMeta{Name: name},
		Value:            value,
		GlobalDefault:    globalDefault,
		PreemptionPolicy: &policy,
	}
}

// newPlugin serves cached from the informer's view and stored from storage
// only (a class created a moment ago).
func newPlugin(t *testing.T, cached []*v1alpha1.PriorityClass, stored ...runtime.Object) *Plugin {
	t.Helper()
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	for _, pc := range cached {
		if err := indexer.Add(pc); err != nil {
			t.Fatal(err)
		}
	}
	return New(corelisters.NewPriorityClassLister(indexer), func() bool { return true }, fake.NewClientset(stored...))
}

func podAttrs(op admission.Operation, pod, old *core.Pod) admission.Attributes {
	gvr := core.SchemeGroupVersion.WithResource("pods")
	var oldObj runtime.Object
	if old != nil {
		oldObj = old
	}
	return admission.NewAttributesRecord(pod, oldObj, schema.GroupVersionKind{}, "default", pod.Name, gvr, "", op, &metav1.CreateOptions{}, false, nil)
}

func newPod(className string) *core.Pod {
	return &core.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       core.PodSpec{PriorityClassName: className, Containers: []core.Container{{Name: "c", Image: "busybox"}}},
	}
}

var systemClasses = []*v1alpha1.PriorityClass{
	class(core.SystemNodeCritical, 2000001000, false, v1alpha1.PreemptLowerPriority),
	class(core.SystemClusterCritical, 2000000000, false, v1alpha1.PreemptLowerPriority),
}

func TestAdmitPodCreate(t *testing.T) {
	high := class("high", 1000, false, v1alpha1.PreemptLowerPriority)
	polite := class("polite", 500, false, v1alpha1.PreemptNever)
	defaultLow := class("default-low", 10, true, v1alpha1.PreemptLowerPriority)
	tests := []struct {
		name         string
		classes      []*v1alpha1.PriorityClass
		stored       []runtime.Object
		pod          func() *core.Pod
		wantClass    string
		wantPriority int32
		wantPolicy   core.PreemptionPolicy
		wantField    string // a 422 on this field
	}{
		{name: "a named class gives its value", classes: []*v1alpha1.PriorityClass{high}, pod: func() *core.Pod { return newPod("high") },
			wantClass: "high", wantPriority: 1000, wantPolicy: core.PreemptLowerPriority},
		{name: "a class's Never policy is copied", classes: []*v1alpha1.PriorityClass{polite}, pod: func() *core.Pod { return newPod("polite") },
			wantClass: "polite", wantPriority: 500, wantPolicy: core.PreemptNever},
		{name: "system-node-critical", classes: systemClasses, pod: func() *core.Pod { return newPod(core.SystemNodeCritical) },
			wantClass: core.SystemNodeCritical, wantPriority: 2000001000, wantPolicy: core.PreemptLowerPriority},
		{name: "no class and no default gives 0", classes: systemClasses, pod: func() *core.Pod { return newPod("") },
			wantClass: "", wantPriority: 0, wantPolicy: core.PreemptLowerPriority},
		{name: "no class gives the global default", classes: append([]*v1alpha1.PriorityClass{defaultLow, high}, systemClasses...),
			pod: func() *core.Pod { return newPod("") }, wantClass: "default-low", wantPriority: 10, wantPolicy: core.PreemptLowerPriority},
		{name: "of two defaults the lower wins", classes: []*v1alpha1.PriorityClass{class("a", 30, true, v1alpha1.PreemptNever), class("b", 20, true, v1alpha1.PreemptNever)},
			pod: func() *core.Pod { return newPod("") }, wantClass: "b", wantPriority: 20, wantPolicy: core.PreemptNever},
		{name: "a class not yet in the informer is read from storage", stored: []runtime.Object{high},
			pod: func() *core.Pod { return newPod("high") }, wantClass: "high", wantPriority: 1000, wantPolicy: core.PreemptLowerPriority},
		{name: "a priority equal to the class's is accepted", classes: []*v1alpha1.PriorityClass{high},
			pod:       func() *core.Pod { p := newPod("high"); p.Spec.Priority = ptr.To[int32](1000); return p },
			wantClass: "high", wantPriority: 1000, wantPolicy: core.PreemptLowerPriority},

		{name: "a class that does not exist", classes: systemClasses, pod: func() *core.Pod { return newPod("missing") },
			wantField: "spec.priorityClassName"},
		{name: "a priority that disagrees with the class", classes: []*v1alpha1.PriorityClass{high},
			pod: func() *core.Pod { p := newPod("high"); p.Spec.Priority = ptr.To[int32](5); return p }, wantField: "spec.priority"},
		{name: "a priority set without a class", pod: func() *core.Pod { p := newPod(""); p.Spec.Priority = ptr.To[int32](7); return p },
			wantField: "spec.priority"},
		{name: "a preemption policy that disagrees with the class", classes: []*v1alpha1.PriorityClass{polite},
			pod: func() *core.Pod {
				p := newPod("polite")
				p.Spec.PreemptionPolicy = ptr.To(core.PreemptLowerPriority)
				return p
			},
			wantField: "spec.preemptionPolicy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPlugin(t, tc.classes, tc.stored...)
			pod := tc.pod()
			err := p.Admit(context.Background(), podAttrs(admission.Create, pod, nil), nil)
			if tc.wantField != "" {
				if !apierrors.IsInvalid(err) {
					t.Fatalf("err %v, want 422 Invalid", err)
				}
				causes := err.(apierrors.APIStatus).Status().Details.Causes
				if len(causes) != 1 || causes[0].Field != tc.wantField {
					t.Fatalf("causes %+v, want one on %s", causes, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatalf("Admit: %v", err)
			}
			if pod.Spec.PriorityClassName != tc.wantClass || pod.Spec.Priority == nil || *pod.Spec.Priority != tc.wantPriority ||
				pod.Spec.PreemptionPolicy == nil || *pod.Spec.PreemptionPolicy != tc.wantPolicy {
				t.Errorf("class %q priority %v policy %v, want %q %d %s", pod.Spec.PriorityClassName, ptr.Deref(pod.Spec.Priority, -1),
					ptr.Deref(pod.Spec.PreemptionPolicy, "<nil>"), tc.wantClass, tc.wantPriority, tc.wantPolicy)
			}
		})
	}
}

func TestAdmitMissingClassMessage(t *testing.T) {
	err := newPlugin(t, nil).Admit(context.Background(), podAttrs(admission.Create, newPod("gold"), nil), nil)
	if err == nil || !strings.Contains(err.Error(), `spec.priorityClassName: Not found: "gold"`) {
		t.Errorf("err %v", err)
	}
}

func TestAdmitPodUpdateKeepsPriority(t *testing.T) {
	old := newPod("high")
	old.Spec.Priority = ptr.To[int32](1000)
	old.Spec.PreemptionPolicy = ptr.To(core.PreemptLowerPriority)
	pod := newPod("high")
	if err := newPlugin(t, nil).Admit(context.Background(), podAttrs(admission.Update, pod, old), nil); err != nil {
		t.Fatalf("Admit: %v", err)
	}
	if ptr.Deref(pod.Spec.Priority, 0) != 1000 || ptr.Deref(pod.Spec.PreemptionPolicy, "") != core.PreemptLowerPriority {
		t.Errorf("priority %v policy %v, want the stored ones", pod.Spec.Priority, pod.Spec.PreemptionPolicy)
	}
}

func TestAdmitIgnoresSubresourcesAndOtherKinds(t *testing.T) {
	p := newPlugin(t, nil)
	pod := newPod("missing")
	gvr := core.SchemeGroupVersion.WithResource("pods")
	status := admission.NewAttributesRecord(pod, nil, schema.GroupVersionKind{}, "default", "web", gvr, "status", admission.Create, &metav1.CreateOptions{}, false, nil)
	if err := p.Admit(context.Background(), status, nil); err != nil {
		t.Errorf("pods/status: %v", err)
	}
	node := admission.NewAttributesRecord(&core.Node{}, nil, schema.GroupVersionKind{}, "", "n", core.SchemeGroupVersion.WithResource("nodes"), "", admission.Create, &metav1.CreateOptions{}, false, nil)
	if err := p.Admit(context.Background(), node, nil); err != nil {
		t.Errorf("nodes: %v", err)
	}
}

func TestValidateOneGlobalDefault(t *testing.T) {
	existing := class("default-low", 10, true, v1alpha1.PreemptLowerPriority)
	tests := []struct {
		name    string
		op      admission.Operation
		pc      *core.PriorityClass
		wantErr bool
	}{
		{name: "a second default is refused", op: admission.Create, pc: &core.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "other"}, GlobalDefault: true}, wantErr: true},
		{name: "another class becoming default is refused", op: admission.Update, pc: &core.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "other"}, GlobalDefault: true}, wantErr: true},
		{name: "the default may be updated", op: admission.Update, pc: &core.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "default-low"}, GlobalDefault: true}},
		{name: "a class that is not default passes", op: admission.Create, pc: &core.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "other"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPlugin(t, []*v1alpha1.PriorityClass{existing}, existing)
			gvr := core.SchemeGroupVersion.WithResource("priorityclasses")
			a := admission.NewAttributesRecord(tc.pc, tc.pc.DeepCopy(), schema.GroupVersionKind{}, "", tc.pc.Name, gvr, "", tc.op, &metav1.CreateOptions{}, false, nil)
			err := p.Validate(context.Background(), a, nil)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "globalDefault") || !strings.Contains(err.Error(), "default-low") {
				t.Fatalf("err %v, want 422 on globalDefault naming default-low", err)
			}
		})
	}
	// A default only storage knows of yet (created a moment ago) counts.
	stored := newPlugin(t, nil, existing)
	pc := &core.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "other"}, GlobalDefault: true}
	a := admission.NewAttributesRecord(pc, nil, schema.GroupVersionKind{}, "", pc.Name, core.SchemeGroupVersion.WithResource("priorityclasses"), "", admission.Create, &metav1.CreateOptions{}, false, nil)
	if err := stored.Validate(context.Background(), a, nil); !apierrors.IsInvalid(err) {
		t.Errorf("second default while the informer lags: %v, want 422", err)
	}
	// With no default yet, the first one is accepted.
	p := newPlugin(t, nil)
	pc = &core.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "first"}, GlobalDefault: true}
	a = admission.NewAttributesRecord(pc, nil, schema.GroupVersionKind{}, "", pc.Name, core.SchemeGroupVersion.WithResource("priorityclasses"), "", admission.Create, &metav1.CreateOptions{}, false, nil)
	if err := p.Validate(context.Background(), a, nil); err != nil {
		t.Errorf("first default: %v", err)
	}
}
