package podworkers

import "time"

// Crash back-off as upstream's kubelet does it: 10 s, doubling to 5 min,
// forgotten once a container has run for 10 min (twice the maximum).
const (
	initialBackoff = 10 * time.Second
	maxBackoff     = 5 * time.Minute
)

// backoff is a per-key exponential back-off. It is used by one worker
// goroutine only, so it has no lock.
type backoff struct {
	initial, max time.Duration
	entries      map[string]*backoffEntry
}

type backoffEntry struct {
	delay      time.Duration
	lastUpdate time.Time
}

func newBackoff() *backoff {
	return &backoff{initial: initialBackoff, max: maxBackoff, entries: map[string]*backoffEntry{}}
}

// expired reports whether the entry is old enough to start over: nothing
// happened to the key for twice the maximum delay.
func (b *backoff) expired(e *backoffEntry, eventTime time.Time) bool {
	return eventTime.Sub(e.lastUpdate) > 2*b.max
}

// remaining is how long after eventTime (a container's exit) the key is
// still backing off, as of now; zero means go ahead.
func (b *backoff) remaining(key string, eventTime, now time.Time) time.Duration {
	e, ok := b.entries[key]
	if !ok || b.expired(e, eventTime) {
		return 0
	}
	if left := e.delay - now.Sub(eventTime); left > 0 {
		return left
	}
	return 0
}

// remainingSinceUpdate is how long the key backs off counted from its last
// failure, for failures that have no time of their own (an image pull).
func (b *backoff) remainingSinceUpdate(key string, now time.Time) time.Duration {
	e, ok := b.entries[key]
	if !ok {
		return 0
	}
	return b.remaining(key, e.lastUpdate, now)
}

// next records a failure of key at eventTime: the first one (or the first
// after a long quiet time) backs off by the initial delay, each further one
// by twice the last, up to the maximum.
func (b *backoff) next(key string, eventTime, now time.Time) {
	e, ok := b.entries[key]
	if !ok || b.expired(e, eventTime) {
		e = &backoffEntry{delay: b.initial}
		b.entries[key] = e
	} else {
		e.delay = min(2*e.delay, b.max)
	}
	e.lastUpdate = now
}

// delay is the key's current back-off.
func (b *backoff) delay(key string) time.Duration {
	if e, ok := b.entries[key]; ok {
		return e.delay
	}
	return 0
}

func (b *backoff) reset(key string) { delete(b.entries, key) }
