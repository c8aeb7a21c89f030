package logs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"k8s.io/klog/v2"
)

// Options select what Read returns, as the query of upstream's
// /containerLogs endpoint does.
type Options struct {
	// Follow keeps reading as the container writes, until it exits or the
	// context ends.
	Follow bool
	// TailLines, when set, starts that many lines before the end.
	TailLines *int64
	// LimitBytes, when set, stops after that many bytes of output.
	LimitBytes *int64
	// Timestamps prefixes each line with the time it was written.
	Timestamps bool
	// SinceTime, when set, skips lines written before it.
	SinceTime *time.Time
}

// PollInterval is how often a follower looks for new lines.
var PollInterval = 100 * time.Millisecond

var errLimit = errors.New("limit reached")

// Read writes the log at path to out as opts select. running reports whether
// the container may still write; a follower stops at the end of the file once
// it returns false (nil means the container is not running).
func Read(ctx context.Context, path string, opts Options, running func() bool, out io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	defer f.Close()
	if opts.TailLines != nil && *opts.TailLines >= 0 {
		start, err := tailOffset(f, *opts.TailLines)
		if err != nil {
			return fmt.Errorf("tail log %s: %w", path, err)
		}
		if _, err := f.Seek(start, io.SeekStart); err != nil {
			return fmt.Errorf("seek log %s: %w", path, err)
		}
	}
	if running == nil {
		running = func() bool { return false }
	}
	w := &logWriter{out: out, opts: opts, remaining: -1}
	if opts.LimitBytes != nil {
		w.remaining = *opts.LimitBytes
	}
	r := bufio.NewReader(f)
	var pending []byte
	// stopping is set once the container has exited: one more pass to the
	// end of the file picks up what it wrote last, then Read returns.
	stopping := false
	for {
		line, err := r.ReadBytes('\n')
		if err == nil {
			if len(pending) > 0 {
				line = append(pending, line...)
				pending = nil
			}
			if werr := w.writeLine(line); werr != nil {
				if errors.Is(werr, errLimit) {
					return nil
				}
				return werr
			}
			continue
		}
		if !errors.Is(err, io.EOF) {
			return fmt.Errorf("read log %s: %w", path, err)
		}
		// At the end of the file: a line without its newline is still being
		// written, unless nothing more will come.
		pending = append(pending, line...)
		if !opts.Follow || stopping {
			if len(pending) > 0 {
				if werr := w.writeLine(pending); werr != nil && !errors.Is(werr, errLimit) {
					return werr
				}
			}
			return nil
		}
		if !running() {
			stopping = true
			continue
		}
		if f, ok := out.(interface{ Flush() }); ok {
			f.Flush()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(PollInterval):
		}
	}
}

// logWriter turns CRI log lines into the output the client asked for.
type logWriter struct {
	out       io.Writer
	opts      Options
	remaining int64 // bytes left under LimitBytes; -1 for no limit
	// midLine is set after a partial entry: the next entry continues the
	// same line and gets no timestamp of its own.
	midLine bool
}

func (w *logWriter) writeLine(line []byte) error {
	e, err := ParseLine(line)
	if err != nil {
		klog.V(4).InfoS("Skipping malformed log line", "err", err)
		return nil
	}
	if w.opts.SinceTime != nil && e.Time.Before(*w.opts.SinceTime) && !w.midLine {
		return nil
	}
	var buf []byte
	if w.opts.Timestamps && !w.midLine {
		buf = e.Time.UTC().AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, ' ')
	}
	buf = append(buf, e.Content...)
	if !e.Partial {
		buf = append(buf, '\n')
	}
	w.midLine = e.Partial
	if w.remaining >= 0 && int64(len(buf)) >= w.remaining {
		if _, err := w.out.Write(buf[:w.remaining]); err != nil {
			return fmt.Errorf("write logs: %w", err)
		}
		w.remaining = 0
		return errLimit
	}
	if _, err := w.out.Write(buf); err != nil {
		return fmt.Errorf("write logs: %w", err)
	}
	if w.remaining >= 0 {
		w.remaining -= int64(len(buf))
	}
	return nil
}

// tailOffset returns where the last n lines of f begin.
func tailOffset(f *os.File, n int64) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	if n == 0 {
		return size, nil
	}
	buf := make([]byte, 8192)
	var seen int64
	for pos := size; pos > 0; {
		chunk := min(int64(len(buf)), pos)
		pos -= chunk
		if _, err := f.ReadAt(buf[:chunk], pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for i := chunk - 1; i >= 0; i-- {
			// The newline that ends the file ends the last line; every
			// other newline ends the line before a line we keep.
			if buf[i] != '\n' || pos+i == size-1 {
				continue
			}
			if seen++; seen == n {
				return pos + i + 1, nil
			}
		}
	}
	return 0, nil
}
