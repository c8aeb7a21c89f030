package scheduler

import (
	"context"
	"testing"

	"skiff.dev/skiff/pkg/scheduler/framework"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

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
