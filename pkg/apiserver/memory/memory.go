// Package memory sets the API server's soft memory limit and hands memory
// back to the system after a spike.
//
// A burst of work (many watches starting over large objects, a storm of big
// requests) can take the Go heap to gigabytes for seconds. Once it is over,
// the Go runtime keeps the pages: the next collection is due only when the
// heap doubles what was live at the last one, or after two idle minutes,
// and its background scavenger returns freed pages at about one percent of
// a CPU. The process then holds gigabytes it no longer uses, which on a
// shared machine starves its neighbours (the scheduler's lease renewals
// among them).
package memory

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"k8s.io/klog/v2"
)

// limitFraction is the share of the memory available to the process given
// to the Go heap as its soft limit, leaving room for what is not heap
// (stacks, the embedded etcd's bbolt map, which is not Go memory).
const limitFraction = 0.9

// Limit is the soft memory limit for the Go runtime: explicit (bytes > 0),
// or derived from the cgroup's memory limit or else the machine's memory.
// A GOMEMLIMIT in the environment wins over a derived limit, as the Go
// runtime documents.
func Limit(explicit int64) (limit int64, source string) {
	if explicit > 0 {
		return explicit, "--memory-limit"
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1), "GOMEMLIMIT"
	}
	if b, ok := cgroupLimit(); ok {
		return int64(float64(b) * limitFraction), "cgroup memory limit"
	}
	if b, ok := machineMemory(); ok {
		return int64(float64(b) * limitFraction), "machine memory"
	}
	return 0, ""
}

// SetLimit applies Limit(explicit) to the runtime and logs it.
func SetLimit(explicit int64) {
	limit, source := Limit(explicit)
	if limit <= 0 {
		return
	}
	debug.SetMemoryLimit(limit)
	klog.V(1).InfoS("Go memory limit set", "bytes", limit, "from", source)
}

// cgroupLimit reads the memory limit of the process's cgroup (v2, then v1).
func cgroupLimit() (int64, bool) {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		text := strings.TrimSpace(string(data))
		if text == "max" {
			return 0, false
		}
		b, err := strconv.ParseInt(text, 10, 64)
		// cgroup v1 reports "no limit" as a huge page-aligned number.
		if err != nil || b <= 0 || b >= 1<<60 {
			return 0, false
		}
		return b, true
	}
	return 0, false
}

// machineMemory is MemTotal from /proc/meminfo.
func machineMemory() (int64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		if n, _ := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); n == 1 {
			return kb << 10, true
		}
	}
	return 0, false
}

// Spike is how much memory the runtime may keep from the system beyond
// what the heap uses before ReturnAfterSpikes hands it back.
const Spike = 256 << 20

// ReturnAfterSpikes checks every interval how much memory the Go heap
// holds from the system, and hands what it does not use back at once
// (debug.FreeOSMemory: a collection, then every free page returned) rather
// than over the minutes the runtime would take:
//   - when the heap holds more than Spike beyond its objects, and more than
//     the objects themselves (a collection has run since the spike);
//   - when no collection has run during the last interval although the
//     heap holds over twice Spike (the spike is over and nothing allocates
//     enough to start one; the runtime would wait two minutes, and then
//     scavenge slowly).
//
// It returns when ctx ends.
func ReturnAfterSpikes(ctx context.Context, interval time.Duration) {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/gc/cycles/total:gc-cycles"},
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var lastCycles uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		metrics.Read(samples)
		objects := samples[0].Value.Uint64()
		idle := samples[1].Value.Uint64() + samples[2].Value.Uint64()
		cycles := samples[3].Value.Uint64()
		noGC := cycles == lastCycles
		lastCycles = cycles
		if !(idle > Spike && idle > objects) && !(noGC && objects+idle > 2*Spike) {
			continue
		}
		start := time.Now()
		debug.FreeOSMemory()
		lastCycles++
		klog.V(2).InfoS("Returned idle memory to the system", "heapObjectsBytes", objects, "heapIdleBytes", idle, "took", time.Since(start))
	}
}
