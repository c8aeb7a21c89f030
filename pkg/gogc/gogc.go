// Package gogc sizes the Go heap's headroom to the heap, for skiff's
// long-running components.
//
// The Go runtime collects when the heap reaches (1 + GOGC/100) times what
// was live after the last collection: with the default GOGC=100, twice.
// That is cheap and right for a busy heap of tens of MiB, and wrong at both
// ends. An idle component holds 6 to 10 MiB of live heap (most of it
// package-level tables built at start), so doubling it costs as much again,
// five times over under `skiff up`; collecting a heap that small is so
// cheap that a smaller headroom costs nothing noticeable. A heap of hundreds
// of MiB (the API server's watch cache at scale) doubles into as many MiB
// more again of resident memory that holds only garbage.
//
// Tune sets GOGC from the live heap as it changes: the headroom is
// live²/Full (at least a quarter of live) below Full, live itself (GOGC=100)
// from Full up to MaxHeadroom, and MaxHeadroom beyond (at least a quarter
// of live). A GOGC in the environment, the user's choice, turns it off.
package gogc

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"k8s.io/klog/v2"
)

const (
	// Full is the live heap from which the headroom is the runtime's
	// default, the live heap itself.
	Full = 32 << 20
	// MaxHeadroom caps the headroom of a large heap. The API server at 1000
	// nodes and 10000 pods with churn holds about 240 MiB live: GOGC=53
	// rather than 100, which costs it about twice as many collections.
	MaxHeadroom = 128 << 20
	// minPercent is the least GOGC Tune sets: a quarter of live.
	minPercent = 25
	// interval is how often the live heap is read.
	interval = 5 * time.Second
)

// Percent is the GOGC for a live heap of live bytes.
func Percent(live uint64) int {
	var headroom uint64
	switch {
	case live == 0:
		return minPercent
	case live < Full:
		headroom = live * live / Full
	case live <= MaxHeadroom:
		headroom = live
	default:
		headroom = MaxHeadroom
	}
	return max(int(headroom*100/live), minPercent)
}

// Tune sets GOGC from the live heap every few seconds until ctx ends,
// unless the environment sets GOGC. It returns at once; the tuning runs in
// the background.
func Tune(ctx context.Context) {
	if os.Getenv("GOGC") != "" {
		klog.V(2).InfoS("GOGC set in the environment; the GC target is not tuned", "GOGC", os.Getenv("GOGC"))
		return
	}
	go tune(ctx)
}

func tune(ctx context.Context) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	current := -1
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		metrics.Read(sample)
		// Before the first collection there is no live heap yet.
		if live := sample[0].Value.Uint64(); live > 0 {
			if p := Percent(live); p != current {
				debug.SetGCPercent(p)
				klog.V(4).InfoS("GC target set", "GOGC", p, "liveHeapBytes", live)
				current = p
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
