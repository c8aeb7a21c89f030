package defaulttolerationseconds

import (
	"context"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/utils/ptr"

	"skiff.dev/skiff/pkg/apis/core"
)

func attrs(op admission.Operation, resource, sub string, obj runtime.Object) admission.Attributes {
	gvr := core.SchemeGroupVersion.WithResource(resource)
	return admission.NewAttributesRecord(obj, nil, schema.GroupVersionKind{}, "default", "p", gvr, sub, op, &metav1.CreateOptions{}, false, nil)
}

func describe(ts []core.Toleration) []string {
	var out []string
	for _, t := range ts {
		s := fmt.Sprintf("%s:%s:%s", t.Key, t.Operator, t.Effect)
		if t.TolerationSeconds != nil {
			s += fmt.Sprintf(":%d", *t.TolerationSeconds)
		}
		out = append(out, s)
	}
	return out
}

func TestAdmit(t *testing.T) {
	notReady300 := "node.kubernetes.io/not-ready:Exists:NoExecute:300"
	unreachable300 := "node.kubernetes.io/unreachable:Exists:NoExecute:300"
	tests := []struct {
		name  string
		given []core.Toleration
		want  []string
	}{
		{name: "a pod without tolerations gets both defaults", want: []string{notReady300, unreachable300}},
		{name: "a pod's own unreachable toleration is kept and not duplicated",
			given: []core.Toleration{{Key: "node.kubernetes.io/unreachable", Operator: core.TolerationOpExists, Effect: core.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](5)}},
			want:  []string{"node.kubernetes.io/unreachable:Exists:NoExecute:5", notReady300}},
		{name: "a toleration of every taint needs no default", given: []core.Toleration{{Operator: core.TolerationOpExists}},
			want: []string{":Exists:"}},
		{name: "a NoSchedule toleration of the key does not count",
			given: []core.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: core.TolerationOpExists, Effect: core.TaintEffectNoSchedule}},
			want:  []string{"node.kubernetes.io/not-ready:Exists:NoSchedule", notReady300, unreachable300}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := &core.Pod{Spec: core.PodSpec{Tolerations: tc.given}}
			if err := New().Admit(context.Background(), attrs(admission.Create, "pods", "", pod), nil); err != nil {
				t.Fatal(err)
			}
			got := describe(pod.Spec.Tolerations)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("tolerations = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAdmitLeavesOtherRequestsAlone(t *testing.T) {
	p := New()
	if p.Handles(admission.Update) {
		t.Error("the plugin must act on creates only, as upstream's does")
	}
	pod := &core.Pod{}
	if err := p.Admit(context.Background(), attrs(admission.Create, "pods", "binding", pod), nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Admit(context.Background(), attrs(admission.Create, "nodes", "", &core.Node{}), nil); err != nil {
		t.Fatal(err)
	}
	if len(pod.Spec.Tolerations) != 0 {
		t.Errorf("a pods/binding create got tolerations: %v", describe(pod.Spec.Tolerations))
	}
}
