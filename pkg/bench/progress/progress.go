// Package progress shows how far a benchmark phase has got: a bar redrawn in
// place when the output is a terminal, and a plain line every few seconds
// when it is a file or a pipe (CI logs, `make bench | tee`).
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

const (
	barWidth = 30
	// A terminal is redrawn often; a log gets a line now and then so a
	// long phase shows it is alive without flooding the file.
	terminalInterval = 200 * time.Millisecond
	plainInterval    = 5 * time.Second
)

// Bar counts what a phase has done out of total and shows it on w.
type Bar struct {
	w     io.Writer
	what  string
	total int64
	tty   bool
	start time.Time
	done  atomic.Int64

	stop     chan struct{}
	stopped  chan struct{}
	stopOnce sync.Once
}

// Start starts showing progress of what (e.g. "create pods") towards total
// on w. A nil w shows nothing. Call Finish when the phase ends.
func Start(w io.Writer, what string, total int) *Bar {
	interval := plainInterval
	tty := IsTerminal(w)
	if tty {
		interval = terminalInterval
	}
	return start(w, what, total, tty, interval)
}

func start(w io.Writer, what string, total int, tty bool, interval time.Duration) *Bar {
	b := &Bar{w: w, what: what, total: int64(total), tty: tty, start: time.Now(),
		stop: make(chan struct{}), stopped: make(chan struct{})}
	if w == nil {
		close(b.stopped)
		return b
	}
	go func() {
		defer close(b.stopped)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.draw(false)
			}
		}
	}()
	return b
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Add counts n more done.
func (b *Bar) Add(n int) { b.done.Add(int64(n)) }

// Set says how many are done so far.
func (b *Bar) Set(n int) { b.done.Store(int64(n)) }

// Finish stops the updates and shows the final count once, ending the line.
// It may be called more than once.
func (b *Bar) Finish() {
	b.stopOnce.Do(func() {
		close(b.stop)
		<-b.stopped
		if b.w != nil {
			b.draw(true)
		}
	})
}

func (b *Bar) draw(final bool) {
	line := Render(b.what, b.done.Load(), b.total, time.Since(b.start), b.tty)
	switch {
	case b.tty && final:
		fmt.Fprintf(b.w, "\r\x1b[K%s\n", line)
	case b.tty:
		fmt.Fprintf(b.w, "\r\x1b[K%s", line)
	default:
		fmt.Fprintln(b.w, line)
	}
}

// Render is one progress line: with a bar for a terminal, plain words for a
// log. A total of 0 means unknown.
func Render(what string, done, total int64, elapsed time.Duration, bar bool) string {
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	elapsed = elapsed.Round(100 * time.Millisecond)
	if total <= 0 {
		return fmt.Sprintf("%s: %d done, %.0f/s, %s elapsed", what, done, rate, elapsed)
	}
	frac := min(float64(done)/float64(total), 1)
	if !bar {
		return fmt.Sprintf("%s: %d/%d (%.0f%%), %.0f/s, %s elapsed", what, done, total, 100*frac, rate, elapsed)
	}
	filled := int(frac * barWidth)
	return fmt.Sprintf("%s [%s%s] %d/%d %3.0f%% %.0f/s %s", what,
		strings.Repeat("=", filled), strings.Repeat(" ", barWidth-filled), done, total, 100*frac, rate, elapsed)
}
