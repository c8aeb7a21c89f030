// Package gogc sizes the Go heap's headroom to the heap and to how fast it
// allocates, for skiff's long-running components.
//
// The Go runtime collects when the heap reaches (1 + GOGC/100) times what
// was live after the last collection: with the default GOGC=100, twice.
// That is cheap and right for a busy heap of tens of MiB, and wrong at both
// ends. An idle component holds 6 to 25 MiB of live heap (most of it
// package-level tables built at start), so doubling it costs as much again,
// five times over under `skiff up`; a process that allocates little
// collects rarely whatever its headroom, so a small one costs it next to
// nothing. A heap of hundreds of MiB (the API server's watch cache at
// scale) doubles into as many MiB more of resident memory that holds only
// garbage.
//
// Tune sets GOGC every second from the live heap and the bytes
// allocated since the last look. The headroom is the least of:
//   - by size: live²/Full below Full, live itself (GOGC=100) from Full up
//     to MaxHeadroom, MaxHeadroom beyond; but a small heap that is busy,
//     that would collect at least once every Busy at that headroom, gets
//     Full;
//   - by rate: what the process allocates in Quiet, so that a collection
//     comes at most about every Quiet at the current pace;
//
// and never less than a quarter of live. A GOGC in the environment, the
// user's choice, turns it off.
//
// The busy exception is for the scheduler and the kubelet under load: with
// 10 to 16 MiB live they allocate 10 to 35 MiB a second. At GOGC=30 to 48
// the scheduler collected two to three times as often as at the runtime's
// default and spent 0.80 s of CPU per 1000 pods bound rather than 0.64 s.
// At the default it still collected two to three times a second, 20 ms of
// CPU each; with Full (GOGC about 200) it collects about once a second and
// spent 0.405–0.415 s rather than 0.435–0.455 s (skiff-bench schedule, 100
// nodes, 2000 pods, on one processor as skiff up runs it), for 10 to 20 MiB
// more at its peak. The memory it costs is at most Full more than live, and
// only while the process is busy.
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
	// Full is the live heap from which the headroom by size is the
	// runtime's default, the live heap itself.
	Full = 32 << 20
	// MaxHeadroom caps the headroom of a large heap. The API server at 1000
	// nodes and 10000 pods holds 200 to 300 MiB live: GOGC 64 to 96. At 128
	// MiB it collected up to half again as often, and GC took a fifth of its
	// CPU while 1000 simulated kubelets and the scheduler shared two cores:
	// pods were created and bound at 314 and 317/s rather than 335 and
	// 346/s, for 49 MiB less at the peak of the churn (519 against 568 MiB
	// RSS; hack/bench-memory.sh).
	MaxHeadroom = 192 << 20
	// Quiet is the time a process allocating at a steady pace may go
	// between collections before its headroom grows further.
	Quiet = 10 * time.Second
	// Busy is the interval between collections, at the headroom by size,
	// below which a small heap counts as busy.
	Busy = time.Second
	// minPercent is the least GOGC Tune sets: a quarter of live.
	minPercent = 25
	// interval is how often the heap is read, and so how long a burst of
	// work runs at an idle process's small headroom before the pace is
	// seen: at 5 s the scheduler's first 2000 pods after a quiet spell
	// cost it 0.70 s of CPU per 1000 bound rather than 0.55 s. A read is
	// two runtime metrics, a microsecond.
	interval = time.Second
)

// Percent is the GOGC for a live heap of live bytes that allocates
// allocRate bytes a second.
func Percent(live, allocRate uint64) int {
	busy := allocRate*uint64(Busy/time.Second) >= bySize(live, false)
	return percentOf(live, min(bySize(live, busy), allocRate*uint64(Quiet/time.Second)))
}

// sizePercent is the GOGC by size alone, for the first look at the heap,
// before there is a pace to read.
func sizePercent(live uint64) int {
	return percentOf(live, bySize(live, false))
}

// percentOf is the GOGC that gives a live heap of live bytes headroom
// bytes, never less than minPercent.
func percentOf(live, headroom uint64) int {
	if live == 0 {
		return minPercent
	}
	return max(int(headroom*100/live), minPercent)
}

// bySize is the headroom for a live heap of live bytes, busy or not.
func bySize(live uint64, busy bool) uint64 {
	switch {
	case live < Full && busy:
		return Full
	case live < Full:
		return live * live / Full
	case live <= MaxHeadroom:
		return live
	default:
		return MaxHeadroom
	}
}

// Tune sets GOGC from the heap every second until ctx ends, unless
// the environment sets GOGC. It returns at once; the tuning runs in the
// background.
func Tune(ctx context.Context) {
	if os.Getenv("GOGC") != "" {
		klog.V(2).InfoS("GOGC set in the environment; the GC target is not tuned", "GOGC", os.Getenv("GOGC"))
		return
	}
	go tune(ctx, interval)
}

func tune(ctx context.Context, every time.Duration) {
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	current := -1
	var lastAllocs uint64
	var lastRead time.Time
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		metrics.Read(samples)
		now := time.Now()
		live, allocs := samples[0].Value.Uint64(), samples[1].Value.Uint64()
		// The first look has no interval to read a pace over: the size
		// alone decides until the next.
		p, rate := sizePercent(live), uint64(0)
		if !lastRead.IsZero() {
			rate = uint64(float64(allocs-lastAllocs) / max(now.Sub(lastRead).Seconds(), 1e-3))
			p = Percent(live, rate)
		}
		lastAllocs, lastRead = allocs, now
		// Before the first collection there is no live heap yet.
		if live > 0 {
			if p != current {
				debug.SetGCPercent(p)
				klog.V(5).InfoS("GC target set", "GOGC", p, "liveHeapBytes", live, "allocBytesPerSecond", rate)
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
