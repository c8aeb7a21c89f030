package progress

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	tests := []struct {
		name    string
		done    int64
		total   int64
		elapsed time.Duration
		bar     bool
		want    string
	}{
		{"plain line for a log", 250, 1000, 2 * time.Second, false, "create pods: 250/1000 (25%), 125/s, 2s elapsed"},
		{"bar for a terminal", 500, 1000, time.Second, true, "create pods [===============               ] 500/1000  50% 500/s 1s"},
		{"full bar", 1000, 1000, time.Second, true, "create pods [==============================] 1000/1000 100% 1000/s 1s"},
		{"more than the total never overflows the bar", 1200, 1000, time.Second, true, "create pods [==============================] 1200/1000 100% 1200/s 1s"},
		{"unknown total", 42, 0, 2 * time.Second, true, "create pods: 42 done, 21/s, 2s elapsed"},
		{"nothing elapsed has no rate", 0, 10, 0, false, "create pods: 0/10 (0%), 0/s, 0s elapsed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Render("create pods", tt.done, tt.total, tt.elapsed, tt.bar); got != tt.want {
				t.Errorf("Render = %q\n          want %q", got, tt.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the bar's goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func TestPlainOutputEndsWithTheFinalCount(t *testing.T) {
	var out syncBuffer
	b := start(&out, "bind pods", 10, false, time.Millisecond)
	for range 10 {
		b.Add(1)
	}
	b.Finish()
	b.Finish() // a second Finish prints nothing more
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "bind pods: 10/10 (100%)") {
		t.Errorf("last line %q, want the final count 10/10", last)
	}
	if strings.Contains(out.String(), "\r") {
		t.Errorf("plain output has carriage returns meant for a terminal: %q", out.String())
	}
}

func TestTerminalOutputRedrawsInPlace(t *testing.T) {
	var out syncBuffer
	b := start(&out, "create pods", 4, true, time.Millisecond)
	b.Set(4)
	b.Finish()
	got := out.String()
	if !strings.HasPrefix(got, "\r\x1b[K") || !strings.HasSuffix(got, "\n") || strings.Count(got, "\n") != 1 {
		t.Errorf("terminal output %q, want redraws of one line (\\r, clear) and one newline at the end", got)
	}
	final := got[strings.LastIndex(got, "\r"):]
	if !strings.Contains(final, "[==============================] 4/4 100%") {
		t.Errorf("final redraw %q, want a full bar at 4/4", final)
	}
}

func TestNilWriterCountsSilently(t *testing.T) {
	b := Start(nil, "quiet", 3)
	b.Add(3)
	b.Finish()
	if got := b.done.Load(); got != 3 {
		t.Errorf("counted %d, want 3", got)
	}
}

func TestAFileIsNotATerminal(t *testing.T) {
	if IsTerminal(&bytes.Buffer{}) {
		t.Error("a buffer reported as a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	if IsTerminal(f) {
		t.Error("a regular file reported as a terminal")
	}
	f.Close()
}
