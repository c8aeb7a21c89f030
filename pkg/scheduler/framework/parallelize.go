package framework

import (
	"context"
	"math"

	"k8s.io/client-go/util/workqueue"
)

// DefaultParallelism is how many goroutines filter and score nodes at once
// unless --parallelism says otherwise (kube-scheduler's default).
const DefaultParallelism = 16

// Parallelizer runs a function over many pieces on a fixed number of
// goroutines.
type Parallelizer struct {
	Workers int
}

// Until calls fn for each piece in [0, pieces) until all are done or ctx is
// cancelled. Pieces are handed out in chunks so cheap per-node checks do not
// pay a channel operation each.
func (p Parallelizer) Until(ctx context.Context, pieces int, fn func(piece int)) {
	workers := p.Workers
	if workers <= 0 {
		workers = DefaultParallelism
	}
	workqueue.ParallelizeUntil(ctx, workers, pieces, fn, workqueue.WithChunkSize(chunkSizeFor(pieces, workers)))
}

// chunkSizeFor balances per-chunk overhead (large chunks) against keeping
// every worker busy until the end (small chunks): about the square root of
// the number of pieces, but never more than an even share per worker.
func chunkSizeFor(pieces, workers int) int {
	s := int(math.Sqrt(float64(pieces)))
	if r := pieces/workers + 1; s > r {
		s = r
	}
	return max(s, 1)
}
