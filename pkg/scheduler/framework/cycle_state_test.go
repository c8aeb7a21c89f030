package framework_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"skiff.dev/skiff/pkg/scheduler/framework"
)

type counter struct{ n int }

func (c *counter) Clone() framework.StateData { return &counter{n: c.n} }

func TestCycleStateReadOrComputeStoresOneValue(t *testing.T) {
	state := framework.NewCycleState()
	var computed atomic.Int32
	got := make([]framework.StateData, 16)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			got[i] = state.ReadOrCompute("k", func() framework.StateData {
				computed.Add(1)
				return &counter{}
			})
		})
	}
	wg.Wait()
	stored, ok := state.Read("k")
	if !ok {
		t.Fatal("nothing stored under k")
	}
	for i, v := range got {
		if v != stored {
			t.Errorf("caller %d got %p, want the stored %p", i, v, stored)
		}
	}
	if computed.Load() < 1 {
		t.Errorf("compute ran %d times", computed.Load())
	}
}

func TestCycleStateCloneIsIndependent(t *testing.T) {
	state := framework.NewCycleState()
	state.Write("cloned", &counter{n: 1})
	shared := []int{1}
	state.Write("shared", shared)

	clone := state.Clone()
	v, _ := clone.Read("cloned")
	v.(*counter).n = 2
	clone.Write("new", 1)
	state.Write("later", 1)

	if v, _ := state.Read("cloned"); v.(*counter).n != 1 {
		t.Errorf("the original's Cloner data changed through the clone: n = %d", v.(*counter).n)
	}
	if _, ok := state.Read("new"); ok {
		t.Error("a write to the clone shows in the original")
	}
	if _, ok := clone.Read("later"); ok {
		t.Error("a write to the original after cloning shows in the clone")
	}
	if v, ok := clone.Read("shared"); !ok || &v.([]int)[0] != &shared[0] {
		t.Error("data that is not a Cloner is not shared with the clone")
	}
	if _, ok := framework.NewCycleState().Read("cloned"); ok {
		t.Error("a new state reads data")
	}
}
