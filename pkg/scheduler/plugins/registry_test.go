package plugins

import (
	"context"
	"reflect"
	"testing"

	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
	"skiff.dev/skiff/pkg/scheduler/cache"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

func TestDefaultRegistry(t *testing.T) {
	var filters []string
	weights := map[string]int64{}
	h, err := framework.NewFramework(nil, 1, framework.Options{Snapshot: cache.NewEmptySnapshot(), ClientSet: fake.NewSimpleClientset()})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Default() {
		p := r.Plugin
		if p == nil {
			if p, err = r.Factory(h); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok := p.(framework.FilterPlugin); ok {
			filters = append(filters, p.Name())
		}
		if _, ok := p.(framework.ScorePlugin); ok {
			weights[p.Name()] = r.Weight
		}
	}
	wantFilters := []string{"NodeUnschedulable", "NodeReady", "NodeName", "TaintToleration", "NodeAffinity", "NodeResourcesFit", "PodTopologySpread", "InterPodAffinity"}
	if !reflect.DeepEqual(filters, wantFilters) {
		t.Errorf("filters %v, want %v", filters, wantFilters)
	}
	want := map[string]int64{"TaintToleration": 3, "NodeAffinity": 2, "PodTopologySpread": 2, "InterPodAffinity": 2, "NodeResourcesLeastAllocated": 1, "NodeResourcesBalancedAllocation": 1}
	if !reflect.DeepEqual(weights, want) {
		t.Errorf("score weights %v, want %v", weights, want)
	}
	fw, err := framework.NewFramework(Default(), 1, framework.Options{Snapshot: cache.NewEmptySnapshot(), ClientSet: fake.NewSimpleClientset()})
	if err != nil {
		t.Fatal(err)
	}
	if !fw.HasBindPlugins() || !fw.HasPostFilterPlugins() {
		t.Error("the default profile must bind and preempt")
	}
	hints, err := fw.EnqueueExtensions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range filters {
		if len(hints[name]) == 0 {
			t.Errorf("filter plugin %s registers no events: a pod it rejects would wait for the timeout", name)
		}
	}
}
