package podworkers

import (
	"testing"
	"time"
)

func TestBackoffDoublesToTheMaximum(t *testing.T) {
	b := newBackoff()
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	if left := b.remaining("c", now, now); left != 0 {
		t.Fatalf("a first crash restarts at once, got back-off %v", left)
	}
	var delays []time.Duration
	for range 8 {
		b.next("c", now, now)
		delays = append(delays, b.delay("c"))
		// The container crashes again right after its restart.
		now = now.Add(b.delay("c"))
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 300 * time.Second, 300 * time.Second, 300 * time.Second}
	for i := range want {
		if delays[i] != want[i] {
			t.Fatalf("delays %v, want %v", delays, want)
		}
	}
}

func TestBackoffRemaining(t *testing.T) {
	start := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		finished time.Time // the container's exit
		now      time.Time
		want     time.Duration
	}{
		{"just exited waits the whole delay", start, start, 10 * time.Second},
		{"counts from the exit", start, start.Add(4 * time.Second), 6 * time.Second},
		{"done waiting", start, start.Add(10 * time.Second), 0},
		{"ran over ten minutes: starts over", start.Add(11 * time.Minute), start.Add(11 * time.Minute), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackoff()
			b.next("c", start, start)
			if got := b.remaining("c", tc.finished, tc.now); got != tc.want {
				t.Errorf("remaining %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBackoffResetsAfterALongRun(t *testing.T) {
	b := newBackoff()
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	b.next("c", t0, t0)
	b.next("c", t0, t0)
	if b.delay("c") != 20*time.Second {
		t.Fatalf("delay %v", b.delay("c"))
	}
	later := t0.Add(11 * time.Minute)
	b.next("c", later, later)
	if b.delay("c") != 10*time.Second {
		t.Errorf("after a run of 11 minutes the delay is %v, want 10s again", b.delay("c"))
	}
	if b.remainingSinceUpdate("c", later.Add(3*time.Second)) != 7*time.Second {
		t.Errorf("remaining since update %v", b.remainingSinceUpdate("c", later.Add(3*time.Second)))
	}
}
