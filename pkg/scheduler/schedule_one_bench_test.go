package scheduler

import (
	"context"
	"fmt"
	"testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/informers/externalversions"
	"skiff.dev/skiff/pkg/scheduler/framework"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

// idleScheduler is a Scheduler that does not run, with the nodes in its
// cache, for calling one cycle's steps directly.
func idleScheduler(tb testing.TB, cfg Config, nodes ...*v1alpha1.Node) *Scheduler {
	tb.Helper()
	api := st.NewFakeAPI()
	s, err := New(api.Client, externalversions.NewSharedInformerFactory(api.Client, 0), &st.Recorder{}, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	for _, n := range nodes {
		s.cache.AddNode(n)
	}
	return s
}

// poolNodes makes n nodes, the even ones labelled pool=bench.
func poolNodes(n int) []*v1alpha1.Node {
	var out []*v1alpha1.Node
	for i := range n {
		w := st.MakeNode(fmt.Sprintf("node-%04d", i)).Capacity("64", "256Gi", "110")
		if i%2 == 0 {
			w = w.Label("pool", "bench")
		}
		out = append(out, w.Obj())
	}
	return out
}

// BenchmarkSchedulePodNodeSelector is one scheduling cycle (filter and
// score) of a pod whose nodeSelector half of 2000 nodes fail, as in
// skiff-bench schedule beside 1000 simulated kubelet nodes: the filters
// reject about as many nodes as they pass before enough fit.
func BenchmarkSchedulePodNodeSelector(b *testing.B) {
	s := idleScheduler(b, Config{}, poolNodes(2000)...)
	pod := st.MakePod("p").Req("100m", "128Mi").NodeSelector(map[string]string{"pool": "bench"}).Obj()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.schedulePod(ctx, framework.NewCycleState(), pod); err != nil {
			b.Fatal(err)
		}
	}
}
