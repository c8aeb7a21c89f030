package framework

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// TestUntilOnOneProcessorRunsThePiecesInTurnAndStopsWhenCancelled: with
// GOMAXPROCS=1 the pieces run in order on the caller's goroutine, with no
// goroutine started for them, and a piece that cancels the context (as the
// filter pass does once it has found enough nodes) is the last.
func TestUntilOnOneProcessorRunsThePiecesInTurnAndStopsWhenCancelled(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ran []int
	goroutines := runtime.NumGoroutine()
	Parallelizer{Workers: DefaultParallelism}.Until(ctx, 100, func(i int) {
		if n := runtime.NumGoroutine(); n != goroutines {
			t.Errorf("piece %d: %d goroutines, want the %d there were before Until", i, n, goroutines)
		}
		ran = append(ran, i)
		if i == 41 {
			cancel()
		}
	})
	want := make([]int, 42)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(ran, want) {
		t.Errorf("pieces run %v, want 0..41 in order and none after the cancel", ran)
	}
}

// TestUntilRunsEveryPieceOnce on more processors than one, with more
// workers than processors.
func TestUntilRunsEveryPieceOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	const pieces = 1000
	var mu sync.Mutex
	seen := make([]int, pieces)
	Parallelizer{Workers: DefaultParallelism}.Until(context.Background(), pieces, func(i int) {
		mu.Lock()
		seen[i]++
		mu.Unlock()
	})
	for i, n := range seen {
		if n != 1 {
			t.Errorf("piece %d ran %d times, want once", i, n)
		}
	}
}
