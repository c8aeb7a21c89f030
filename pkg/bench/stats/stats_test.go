package stats

import (
	"sync"
	"testing"
	"time"
)

func ms(values ...int) []time.Duration {
	out := make([]time.Duration, len(values))
	for i, v := range values {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"no samples give zero", nil, 50, 0},
		{"one sample is every percentile", ms(7), 99, 7 * time.Millisecond},
		{"median of an even count is the lower middle", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"median of an odd count is the middle", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"p99 of 1..100 is 99", ms(hundred...), 99, 99 * time.Millisecond},
		{"p90 of 1..100 is 90", ms(hundred...), 90, 90 * time.Millisecond},
		{"p99 of 50 samples is the maximum", ms(hundred[:50]...), 99, 50 * time.Millisecond},
		{"p100 is the maximum", ms(1, 5, 9), 100, 9 * time.Millisecond},
		{"a tiny percentile is the minimum", ms(3, 5, 9), 0.1, 3 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name    string
		samples []time.Duration
		want    Summary
	}{
		{"empty", nil, Summary{}},
		{
			name:    "unsorted input is sorted first",
			samples: ms(40, 10, 30, 20),
			want: Summary{Count: 4, Min: 10 * time.Millisecond, Mean: 25 * time.Millisecond,
				P50: 20 * time.Millisecond, P90: 40 * time.Millisecond, P99: 40 * time.Millisecond, Max: 40 * time.Millisecond},
		},
		{
			name:    "one slow outlier shows at p99 and max, not p50",
			samples: ms(1, 1, 1, 1, 1, 1, 1, 1, 1, 1000),
			want: Summary{Count: 10, Min: time.Millisecond, Mean: 100900 * time.Microsecond,
				P50: time.Millisecond, P90: time.Millisecond, P99: time.Second, Max: time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := append([]time.Duration(nil), tt.samples...)
			if got := Summarize(tt.samples); got != tt.want {
				t.Errorf("Summarize(%v) = %+v, want %+v", tt.samples, got, tt.want)
			}
			for i := range before {
				if before[i] != tt.samples[i] {
					t.Fatalf("Summarize reordered its input: %v", tt.samples)
				}
			}
		})
	}
}

func TestRate(t *testing.T) {
	tests := []struct {
		name    string
		count   int
		elapsed time.Duration
		want    float64
	}{
		{"per second", 500, 2 * time.Second, 250},
		{"sub-second", 10, 100 * time.Millisecond, 100},
		{"nothing elapsed is zero, not infinity", 10, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Rate(tt.count, tt.elapsed); got != tt.want {
				t.Errorf("Rate(%d, %v) = %v, want %v", tt.count, tt.elapsed, got, tt.want)
			}
		})
	}
}

func TestRecorderFromManyGoroutines(t *testing.T) {
	var r Recorder
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= 100; i++ {
				r.Add(time.Duration(i) * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	s := r.Summary()
	if s.Count != 800 || r.Count() != 800 {
		t.Fatalf("recorded %d samples (Count %d), want 800", s.Count, r.Count())
	}
	if s.Min != time.Millisecond || s.Max != 100*time.Millisecond || s.P50 != 50*time.Millisecond {
		t.Errorf("summary %+v, want min 1ms, p50 50ms, max 100ms", s)
	}
}
