package gogc

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name string
		live uint64
		want int
	}{
		{"no heap yet", 0, 25},
		{"idle component: a quarter", 6 * mib, 25},
		{"half of Full: half", 16 * mib, 50},
		{"three quarters of Full", 24 * mib, 75},
		{"Full: the runtime's default", 32 * mib, 100},
		{"busy heap: the default", 100 * mib, 100},
		{"at MaxHeadroom: the default", 128 * mib, 100},
		{"large heap: MaxHeadroom", 256 * mib, 50},
		{"the API server at scale", 240 * mib, 53},
		{"huge heap: never below a quarter", 4096 * mib, 25},
	} {
		if got := Percent(tc.live); got != tc.want {
			t.Errorf("%s: Percent(%d MiB) = %d, want %d", tc.name, tc.live/mib, got, tc.want)
		}
	}
}

func TestTuneLeavesAnEnvironmentGOGC(t *testing.T) {
	t.Setenv("GOGC", "400")
	before := debug.SetGCPercent(400)
	defer debug.SetGCPercent(before)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	Tune(ctx)
	if got := debug.SetGCPercent(400); got != 400 {
		t.Errorf("GOGC %d after Tune, want the environment's 400", got)
	}
}

func TestTuneSetsGOGC(t *testing.T) {
	t.Setenv("GOGC", "")
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	runtime.GC() // a live heap to read
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tune(ctx); close(done) }()
	// tune sets GOGC at once, then waits for the next tick; stop it there.
	cancel()
	<-done
	if got := debug.SetGCPercent(100); got == 100 {
		t.Errorf("GOGC still 100 for this small test heap, want it tuned below")
	}
}
