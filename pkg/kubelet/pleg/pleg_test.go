package pleg

import (
	"context"
	"sort"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime/fake"
)

func TestRelistReportsChangedPods(t *testing.T) {
	ctx := context.Background()
	rt := fake.New()
	var got []types.UID
	r := New(rt.ListContainers, func(uid types.UID) { got = append(got, uid) })
	pod := func(uid string) *v1alpha1.Pod {
		return &v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Name: uid, UID: types.UID(uid)}}
	}
	c := &v1alpha1.Container{Name: "c"}

	a, _ := rt.StartContainer(ctx, pod("a"), c, 0)
	_, _ = rt.StartContainer(ctx, pod("b"), c, 0)
	r.Relist(ctx)
	if len(got) != 0 {
		t.Errorf("the first relist reported %v; it only records", got)
	}
	steps := []struct {
		name   string
		change func()
		want   []types.UID
	}{
		{"nothing changed", func() {}, nil},
		{"a container exited", func() { rt.Exit(a, 1) }, []types.UID{"a"}},
		{"a container appeared", func() { _, _ = rt.StartContainer(ctx, pod("c"), c, 0) }, []types.UID{"c"}},
		{"a pod's containers went away", func() { _ = rt.RemovePod(ctx, "b") }, []types.UID{"b"}},
	}
	for _, s := range steps {
		got = nil
		s.change()
		r.Relist(ctx)
		sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
		if len(got) != len(s.want) || (len(got) > 0 && got[0] != s.want[0]) {
			t.Errorf("%s: notified %v, want %v", s.name, got, s.want)
		}
	}
}
