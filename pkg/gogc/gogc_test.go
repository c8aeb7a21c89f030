package gogc

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	const busy = 1 << 40   // allocates without pause
	const steady = 1 * mib // allocates, slower than a small heap's headroom a second
	for _, tc := range []struct {
		name      string
		live      uint64
		allocRate uint64
		want      int
	}{
		{"no heap yet", 0, busy, 25},
		{"small heap: a quarter", 6 * mib, steady, 25},
		{"half of Full: half", 16 * mib, steady, 50},
		{"three quarters of Full", 24 * mib, 16 * mib, 75},
		{"Full: the runtime's default", 32 * mib, busy, 100},
		{"small heap, busy: Full", 6 * mib, busy, 533},
		{"the scheduler binding pods: Full", 16 * mib, 15 * mib, 200},
		{"busy only just: its size's headroom a second", 16 * mib, 8 * mib, 200},
		{"busy, but allocating less than Full in Quiet: Quiet's worth", 8 * mib, 5 * mib / 2, 312},
		{"not quite busy", 16 * mib, 8*mib - 1, 50},
		{"busy heap: the default", 100 * mib, busy, 100},
		{"at MaxHeadroom: the default", 192 * mib, busy, 100},
		{"large heap: MaxHeadroom", 384 * mib, busy, 50},
		{"the API server at scale", 240 * mib, busy, 80},
		{"huge heap: never below a quarter", 4096 * mib, busy, 25},
		{"idle API server: what it allocates in Quiet", 24 * mib, 1 * mib, 41},
		{"a process that allocates nothing: a quarter", 100 * mib, 0, 25},
		{"a pace that fills the size's headroom: the size's", 100 * mib, 20 * mib, 100},
	} {
		if got := Percent(tc.live, tc.allocRate); got != tc.want {
			t.Errorf("%s: Percent(%d MiB, %d MiB/s) = %d, want %d", tc.name, tc.live/mib, tc.allocRate/mib, got, tc.want)
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
	go func() { tune(ctx, interval); close(done) }()
	// tune sets GOGC at once, then waits for the next tick; stop it there.
	cancel()
	<-done
	if got := debug.SetGCPercent(100); got == 100 {
		t.Errorf("GOGC still 100 for this small test heap, want it tuned below")
	}
}
