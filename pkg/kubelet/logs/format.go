// Package logs writes and reads container logs in the CRI log format, the
// format containerd writes and upstream's kubelet reads:
//
//	2024-05-01T10:00:00.000000001Z stdout F a whole line
//	2024-05-01T10:00:00.000000002Z stderr P the first part of a long line
//
// Both the process runtime (which writes its own logs) and the cri runtime
// (whose logs containerd writes) serve logs through Read.
package logs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Streams of a container's output.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

const (
	tagFull    = "F"
	tagPartial = "P"
	// maxLine is where a line without a newline is cut into partial lines,
	// as containerd does, so a runaway line does not grow without bound.
	maxLine = 16 * 1024
	// timeFormat is RFC 3339 with a fixed nine-digit fraction, so log
	// lines sort by text as well as by time.
	timeFormat = "2006-01-02T15:04:05.000000000Z07:00"
)

// Entry is one line of a CRI log file.
type Entry struct {
	Time   time.Time
	Stream string
	// Partial is true when the content continues in the next entry.
	Partial bool
	// Content is the line without its newline.
	Content []byte
}

// ParseLine parses one CRI log line, with or without its trailing newline.
func ParseLine(line []byte) (Entry, error) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	var e Entry
	ts, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok {
		return e, fmt.Errorf("log line %q: no timestamp", line)
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return e, fmt.Errorf("log line %q: timestamp: %w", line, err)
	}
	stream, rest, ok := bytes.Cut(rest, []byte(" "))
	if !ok || (string(stream) != Stdout && string(stream) != Stderr) {
		return e, fmt.Errorf("log line %q: no stream", line)
	}
	// The tag may carry more fields after a colon; only the first matters.
	tag, content, _ := bytes.Cut(rest, []byte(" "))
	first, _, _ := bytes.Cut(tag, []byte(":"))
	e.Time, e.Stream, e.Partial, e.Content = t, string(stream), string(first) == tagPartial, content
	return e, nil
}

// Writer writes the lines of a container's streams into one CRI log file.
// Lines of the two streams interleave whole, never mixed mid-line.
type Writer struct {
	mu  sync.Mutex
	out io.Writer
	now func() time.Time
}

// NewWriter returns a Writer appending to out; now stamps each line (nil
// means time.Now).
func NewWriter(out io.Writer, now func() time.Time) *Writer {
	if now == nil {
		now = time.Now
	}
	return &Writer{out: out, now: now}
}

// Copy writes every line read from r as a line of stream until r ends. A
// last line without a newline is written as a whole line.
func (w *Writer) Copy(stream string, r io.Reader) error {
	br := bufio.NewReaderSize(r, maxLine)
	for {
		chunk, err := br.ReadSlice('\n')
		switch {
		case err == nil:
			if werr := w.write(stream, tagFull, chunk[:len(chunk)-1]); werr != nil {
				return werr
			}
		case errors.Is(err, bufio.ErrBufferFull):
			if werr := w.write(stream, tagPartial, chunk); werr != nil {
				return werr
			}
		case errors.Is(err, io.EOF):
			if len(chunk) > 0 {
				return w.write(stream, tagFull, chunk)
			}
			return nil
		default:
			return fmt.Errorf("read %s: %w", stream, err)
		}
	}
}

func (w *Writer) write(stream, tag string, content []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	line := make([]byte, 0, len(timeFormat)+len(stream)+len(content)+5)
	line = w.now().UTC().AppendFormat(line, timeFormat)
	line = append(line, ' ')
	line = append(line, stream...)
	line = append(line, ' ')
	line = append(line, tag...)
	line = append(line, ' ')
	line = append(line, content...)
	line = append(line, '\n')
	if _, err := w.out.Write(line); err != nil {
		return fmt.Errorf("write log line: %w", err)
	}
	return nil
}
