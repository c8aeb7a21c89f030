package scheduler

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	st "skiff.dev/skiff/pkg/scheduler/testing"
)

// Every preemptor of equal priority ends up bound, each in the room of its
// own victim: the nominations of pods already bound must not keep room.
func TestPreemptorsAllBind(t *testing.T) {
	objs := []runtime.Object{st.MakeNode("n").Capacity("4", "8Gi", "110").Obj()}
	for i := range 4 {
		objs = append(objs, st.MakePod("low-"+string(rune('a'+i))).Priority(1).Req("1", "").Node("n").Obj())
	}
	h := start(t, Config{}, objs...)
	for i := range 4 {
		h.create(st.MakePod("high-"+string(rune('a'+i))).Priority(10).Req("1", "").Obj())
	}
	for i := range 4 {
		h.waitBound("high-" + string(rune('a'+i)))
	}
}
