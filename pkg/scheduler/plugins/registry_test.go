package plugins

import (
	"testing"

	"skiff.dev/skiff/pkg/scheduler/framework"
)

func TestDefaultRegistry(t *testing.T) {
	if _, err := NewDefaultFramework(4); err != nil {
		t.Fatalf("the default plugins do not make a framework: %v", err)
	}
	var filters []string
	weights := map[string]int64{}
	for _, r := range Default() {
		if _, ok := r.Plugin.(framework.FilterPlugin); ok {
			filters = append(filters, r.Plugin.Name())
		}
		if _, ok := r.Plugin.(framework.ScorePlugin); ok {
			weights[r.Plugin.Name()] = r.Weight
		}
	}
	// Resource fit must come last so a node rejected for a hard reason
	// reports that reason, not a shortage.
	if last := filters[len(filters)-1]; last != "NodeResourcesFit" {
		t.Errorf("last filter is %s, want NodeResourcesFit (filters: %v)", last, filters)
	}
	want := map[string]int64{"TaintToleration": 3, "NodeSelector": 2, "NodeResourcesLeastAllocated": 1, "NodeResourcesBalancedAllocation": 1}
	for name, w := range want {
		if weights[name] != w {
			t.Errorf("score weight of %s = %d, want %d", name, weights[name], w)
		}
	}
}
