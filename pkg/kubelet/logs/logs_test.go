package logs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fixedClock returns times one second apart from a fixed start, so each
// written line has its own known timestamp.
func fixedClock() func() time.Time {
	t := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

func writeLog(t *testing.T, stdout, stderr string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "0.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := NewWriter(f, fixedClock())
	if err := w.Copy(Stdout, strings.NewReader(stdout)); err != nil {
		t.Fatal(err)
	}
	if err := w.Copy(Stderr, strings.NewReader(stderr)); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWriterFormat(t *testing.T) {
	path := writeLog(t, "one\ntwo", "oops\n")
	got, _ := os.ReadFile(path)
	want := "2024-05-01T10:00:01.000000000Z stdout F one\n" +
		"2024-05-01T10:00:02.000000000Z stdout F two\n" +
		"2024-05-01T10:00:03.000000000Z stderr F oops\n"
	if string(got) != want {
		t.Errorf("log file:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriterSplitsLongLines(t *testing.T) {
	long := strings.Repeat("x", maxLine+10)
	path := writeLog(t, long+"\n", "")
	var out bytes.Buffer
	if err := Read(context.Background(), path, Options{}, nil, &out); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if n := strings.Count(string(raw), "\n"); n != 2 {
		t.Errorf("a %d-byte line was written as %d log lines, want 2 (one partial)", len(long), n)
	}
	if out.String() != long+"\n" {
		t.Errorf("reading joins the partial lines back: got %d bytes, want %d", out.Len(), len(long)+1)
	}
}

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		name    string
		line    string
		want    Entry
		wantErr bool
	}{
		{"full line", "2024-05-01T10:00:00.5Z stdout F hello world\n",
			Entry{Time: time.Date(2024, 5, 1, 10, 0, 0, 5e8, time.UTC), Stream: Stdout, Content: []byte("hello world")}, false},
		{"partial line", "2024-05-01T10:00:00Z stderr P part",
			Entry{Time: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), Stream: Stderr, Partial: true, Content: []byte("part")}, false},
		{"tag with extra fields", "2024-05-01T10:00:00Z stdout F:x y",
			Entry{Time: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), Stream: Stdout, Content: []byte("y")}, false},
		{"empty content", "2024-05-01T10:00:00Z stdout F ",
			Entry{Time: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), Stream: Stdout, Content: []byte{}}, false},
		{"no timestamp", "hello", Entry{}, true},
		{"bad stream", "2024-05-01T10:00:00Z stdin F x", Entry{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLine([]byte(tc.line))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && (!got.Time.Equal(tc.want.Time) || got.Stream != tc.want.Stream || got.Partial != tc.want.Partial || !bytes.Equal(got.Content, tc.want.Content)) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestReadOptions(t *testing.T) {
	path := writeLog(t, "l1\nl2\nl3\n", "l4\n")
	i := func(v int64) *int64 { return &v }
	since := time.Date(2024, 5, 1, 10, 0, 3, 0, time.UTC)
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"everything", Options{}, "l1\nl2\nl3\nl4\n"},
		{"last two lines", Options{TailLines: i(2)}, "l3\nl4\n"},
		{"more lines than the log has", Options{TailLines: i(10)}, "l1\nl2\nl3\nl4\n"},
		{"tail zero", Options{TailLines: i(0)}, ""},
		{"limit cuts mid-line", Options{LimitBytes: i(4)}, "l1\nl"},
		{"limit past the end", Options{LimitBytes: i(100)}, "l1\nl2\nl3\nl4\n"},
		{"timestamps", Options{TailLines: i(1), Timestamps: true}, "2024-05-01T10:00:04Z l4\n"},
		{"since a time", Options{SinceTime: &since}, "l3\nl4\n"},
		{"tail and limit", Options{TailLines: i(2), LimitBytes: i(3)}, "l3\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Read(context.Background(), path, tc.opts, nil, &out); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
}

func TestReadMissingFile(t *testing.T) {
	err := Read(context.Background(), filepath.Join(t.TempDir(), "none.log"), Options{}, nil, &bytes.Buffer{})
	if err == nil {
		t.Error("reading a log that does not exist should fail")
	}
}

// syncBuffer is a bytes.Buffer safe to read while Read writes to it.
type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}
func (b *syncBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

func TestFollowStreamsUntilTheContainerExits(t *testing.T) {
	PollInterval = 5 * time.Millisecond
	path := filepath.Join(t.TempDir(), "0.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := NewWriter(f, nil)
	if err := w.Copy(Stdout, strings.NewReader("first\n")); err != nil {
		t.Fatal(err)
	}
	var running atomic.Bool
	running.Store(true)
	out := newSyncBuffer()
	done := make(chan error, 1)
	go func() {
		done <- Read(context.Background(), path, Options{Follow: true}, running.Load, out)
	}()
	waitFor(t, func() bool { return out.String() == "first\n" })
	// A line written while following arrives; the follower stops only after
	// the container has exited, with the container's last line included.
	if err := w.Copy(Stdout, strings.NewReader("second\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return out.String() == "first\nsecond\n" })
	select {
	case err := <-done:
		t.Fatalf("follow returned while the container ran: %v", err)
	default:
	}
	if err := w.Copy(Stdout, strings.NewReader("last\n")); err != nil {
		t.Fatal(err)
	}
	running.Store(false)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if out.String() != "first\nsecond\nlast\n" {
		t.Errorf("followed %q", out.String())
	}
}

func TestFollowEndsWithTheContext(t *testing.T) {
	PollInterval = 5 * time.Millisecond
	path := writeLog(t, "x\n", "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Read(ctx, path, Options{Follow: true}, func() bool { return true }, &bytes.Buffer{})
	}()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
