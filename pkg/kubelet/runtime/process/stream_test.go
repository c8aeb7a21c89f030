package process

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

// buffer is a WriteCloser safe to read while written.
type buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
func (b *buffer) Close() error { return nil }
func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestExecStreams(t *testing.T) {
	root := t.TempDir()
	r := newRuntime(t, root)
	pod := testPod("streams")
	c := sh("app", "sleep 60")
	c.WorkingDir = "/work"
	c.Env = []v1alpha1.EnvVar{{Name: "GREETING", Value: "hi"}}
	id, err := r.StartContainer(context.Background(), pod, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	wd := filepath.Join(root, "pods", string(pod.UID), "app", "work")
	tests := []struct {
		name             string
		cmd              []string
		stdin            string
		wantOut, wantErr string
		wantCode         int // -1: no exit error at all
	}{
		{name: "env and working dir", cmd: []string{"sh", "-c", `echo "$GREETING $(pwd)"`}, wantOut: "hi " + wd + "\n", wantCode: -1},
		{name: "exit code and stderr", cmd: []string{"sh", "-c", "echo no >&2; exit 3"}, wantErr: "no\n", wantCode: 3},
		{name: "stdin", cmd: []string{"cat"}, stdin: "some input", wantOut: "some input", wantCode: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut buffer
			s := runtime.Streams{Stdout: &out, Stderr: &errOut}
			if tt.stdin != "" {
				s.Stdin = strings.NewReader(tt.stdin)
			}
			err := r.Exec(context.Background(), pod, c, id, tt.cmd, s)
			var exit utilexec.ExitError
			switch {
			case tt.wantCode == -1 && err != nil:
				t.Fatalf("exec: %v", err)
			case tt.wantCode >= 0 && (!errors.As(err, &exit) || exit.ExitStatus() != tt.wantCode):
				t.Fatalf("exec: %v, want exit code %d", err, tt.wantCode)
			}
			if out.String() != tt.wantOut || errOut.String() != tt.wantErr {
				t.Errorf("stdout %q stderr %q, want %q %q", out.String(), errOut.String(), tt.wantOut, tt.wantErr)
			}
		})
	}

	t.Run("a terminal of the client's size", func(t *testing.T) {
		var out buffer
		resize := make(chan remotecommand.TerminalSize, 1)
		resize <- remotecommand.TerminalSize{Width: 91, Height: 17}
		close(resize)
		err := r.Exec(context.Background(), pod, c, id, []string{"sh", "-c", "sleep 0.5; stty size; test -t 0"},
			runtime.Streams{Stdin: strings.NewReader(""), Stdout: &out, TTY: true, Resize: resize})
		if err != nil || !strings.Contains(out.String(), "17 91") {
			t.Errorf("exec on a terminal: %v, output %q", err, out.String())
		}
	})

	t.Run("a terminal resized while the command runs", func(t *testing.T) {
		var out buffer
		resize := make(chan remotecommand.TerminalSize)
		done := make(chan error, 1)
		go func() {
			done <- r.Exec(context.Background(), pod, c, id, []string{"sh", "-c", "stty size; sleep 1; stty size"},
				runtime.Streams{Stdin: strings.NewReader(""), Stdout: &out, TTY: true, Resize: resize})
		}()
		resize <- remotecommand.TerminalSize{Width: 80, Height: 24}
		for !strings.Contains(out.String(), "24 80") {
			time.Sleep(10 * time.Millisecond)
		}
		resize <- remotecommand.TerminalSize{Width: 120, Height: 40}
		close(resize)
		if err := <-done; err != nil || !strings.Contains(out.String(), "40 120") {
			t.Errorf("exec: %v, output %q; want the new size", err, out.String())
		}
	})

	t.Run("an abandoned exec is killed with what it started", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			done <- r.Exec(ctx, pod, c, id, []string{"sh", "-c", "sleep 1000 & echo $!; wait"}, runtime.Streams{Stdout: pw})
		}()
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		child, _ := strconv.Atoi(strings.TrimSpace(line))
		go func() { _, _ = io.Copy(io.Discard, pr) }()
		cancel()
		select {
		case err := <-done:
			if err == nil {
				t.Error("an abandoned exec reported success")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("exec did not return after its context ended")
		}
		deadline := time.Now().Add(5 * time.Second)
		for syscall.Kill(child, 0) == nil && !isZombie(child) {
			if time.Now().After(deadline) {
				t.Fatalf("the exec's child %d still runs", child)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	if err := r.Exec(context.Background(), pod, c, "nope", []string{"true"}, runtime.Streams{}); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("exec in an unknown container: %v", err)
	}
}

func isZombie(pid int) bool {
	st, err := readProcStat(pid)
	return err == nil && (st.state == 'Z' || st.state == 'X')
}

func TestAttach(t *testing.T) {
	r := newRuntime(t, t.TempDir())
	pod := testPod("attach")
	c := sh("app", `while read line; do echo "echo: $line"; done; echo bye`)
	c.Stdin, c.StdinOnce = true, true
	id, err := r.StartContainer(context.Background(), pod, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out buffer
	err = r.Attach(context.Background(), pod, c, id, runtime.Streams{Stdin: strings.NewReader("one\ntwo\n"), Stdout: &out})
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	// stdinOnce: the container read EOF after the attach, and exited.
	if got := out.String(); got != "echo: one\necho: two\nbye\n" {
		t.Errorf("attached output %q", got)
	}

	plain := sh("plain", "sleep 60")
	pid, err := r.StartContainer(context.Background(), pod, plain, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Attach(context.Background(), pod, plain, pid, runtime.Streams{Stdin: strings.NewReader("x")}); err == nil || !strings.Contains(err.Error(), "stdin: true") {
		t.Errorf("attach stdin to a container without stdin: %v", err)
	}
}

func TestPortForward(t *testing.T) {
	r := newRuntime(t, t.TempDir())
	pod := testPod("fwd")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		line, _ := bufio.NewReader(conn).ReadString('\n')
		fmt.Fprintf(conn, "got %s", line)
	}()
	port := int32(ln.Addr().(*net.TCPAddr).Port)
	client, server := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- r.PortForward(context.Background(), pod, port, server) }()
	_ = client.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := client.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	answer, err := bufio.NewReader(client).ReadString('\n')
	if answer != "got ping\n" {
		t.Errorf("forwarded answer %q, %v", answer, err)
	}
	client.Close()
	if err := <-done; err != nil {
		t.Errorf("port-forward: %v", err)
	}

	// A port nobody listens on is an error naming it.
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := int32(closed.Addr().(*net.TCPAddr).Port)
	closed.Close()
	_, s2 := net.Pipe()
	if err := r.PortForward(context.Background(), pod, closedPort, s2); err == nil || !strings.Contains(err.Error(), strconv.Itoa(int(closedPort))) {
		t.Errorf("forward to a closed port: %v", err)
	}
}
