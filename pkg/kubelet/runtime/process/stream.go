package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"k8s.io/klog/v2"
	utilexec "k8s.io/utils/exec"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

var _ runtime.StreamServer = &Runtime{}

// outputGrace is how long an exited command's output may still flow (a
// background child holding the pipe) before the streams are cut.
const outputGrace = time.Second

// initialSizeWait is how long a terminal exec waits for the client's
// terminal size before starting at the default size.
const initialSizeWait = 500 * time.Millisecond

// runningContainer checks that id is a running container of this runtime.
func (r *Runtime) runningContainer(id string) error {
	r.mu.Lock()
	cont, ok := r.containers[id]
	running := ok && cont.rec.State == runtime.StateRunning
	r.mu.Unlock()
	if !ok {
		return fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)
	}
	if !running {
		return fmt.Errorf("container %s is not running", id)
	}
	return nil
}

// Exec implements runtime.StreamServer: the command runs as a host process
// with the container's environment and working directory, in a process
// group (a session, with a terminal) of its own. When ctx ends (the client
// went away) the whole group is killed, so nothing it started is left.
func (r *Runtime) Exec(ctx context.Context, pod *v1alpha1.Pod, c *v1alpha1.Container, id string, cmd []string, s runtime.Streams) error {
	if err := r.runningContainer(id); err != nil {
		return err
	}
	if len(cmd) == 0 {
		return errors.New("exec: no command")
	}
	workDir := r.workDir(pod, c)
	pathEnv, env, environ := r.environ(pod, c, id)
	path, err := lookPath(cmd[0], lookupEnv(env, "PATH", pathEnv), workDir)
	if err != nil {
		return fmt.Errorf("exec %q in container %s: %w", cmd[0], c.Name, err)
	}
	command := exec.CommandContext(ctx, path, cmd[1:]...)
	command.Args[0] = cmd[0]
	command.Env, command.Dir = environ, workDir
	command.Cancel = func() error { return signalGroup(command.Process.Pid, syscall.SIGKILL) }
	command.WaitDelay = outputGrace
	if s.TTY {
		err = r.execTTY(command, s)
	} else {
		err = execPipes(command, s)
	}
	if ctx.Err() != nil {
		klog.V(2).InfoS("Exec abandoned by its client; killed", "pod", klog.KObj(pod), "container", c.Name, "command", cmd[0])
		return fmt.Errorf("exec %q in container %s: %w", cmd[0], c.Name, ctx.Err())
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code := exitErr.ExitCode()
		if code < 0 { // killed by a signal
			if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		}
		return utilexec.CodeExitError{Err: fmt.Errorf("command terminated with exit code %d", code), Code: code}
	}
	if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		return fmt.Errorf("exec %q in container %s: %w", cmd[0], c.Name, err)
	}
	return nil
}

// execPipes runs command with the client's streams on pipes. Stdin is
// copied by a goroutine of its own that the command's exit does not wait
// for: a client's idle stdin must not hold the exit back.
func execPipes(command *exec.Cmd, s runtime.Streams) error {
	command.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if s.Stdout != nil {
		command.Stdout = s.Stdout
	}
	if s.Stderr != nil {
		command.Stderr = s.Stderr
	}
	var stdin io.WriteCloser
	if s.Stdin != nil {
		var err error
		if stdin, err = command.StdinPipe(); err != nil {
			return err
		}
	}
	if err := command.Start(); err != nil {
		return err
	}
	if stdin != nil {
		go func() {
			_, _ = io.Copy(stdin, s.Stdin)
			_ = stdin.Close()
		}()
	}
	return command.Wait()
}

// execTTY runs command on a new pseudo-terminal, as its session leader
// (so its process group is its pid), resized as the client's terminal is.
func (r *Runtime) execTTY(command *exec.Cmd, s runtime.Streams) error {
	command.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	// A client with a terminal sends its size first: start the command on
	// a terminal of that size, so what it prints first fits.
	var size *pty.Winsize
	select {
	case s, ok := <-s.Resize:
		if ok {
			size = &pty.Winsize{Rows: s.Height, Cols: s.Width}
		}
	case <-time.After(initialSizeWait):
	}
	ptmx, err := pty.StartWithSize(command, size)
	if err != nil {
		return err
	}
	defer ptmx.Close()
	go func() {
		for size := range s.Resize {
			if err := pty.Setsize(ptmx, &pty.Winsize{Rows: size.Height, Cols: size.Width}); err != nil {
				klog.V(4).InfoS("Resizing exec terminal", "err", err)
			}
		}
	}()
	if s.Stdin != nil {
		go func() { _, _ = io.Copy(ptmx, s.Stdin) }()
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		// The terminal is read even when the client wants no output, or
		// the command would block once its buffer is full. Reading ends
		// with EIO once everything holding the terminal has exited.
		var out io.Writer = io.Discard
		if s.Stdout != nil {
			out = s.Stdout
		}
		_, _ = io.Copy(out, ptmx)
	}()
	err = command.Wait()
	select {
	case <-copied:
	case <-time.After(outputGrace):
	}
	return err
}

// Attach implements runtime.StreamServer: the client's stdin goes to the
// container's stdin (a container with stdin: true reads it from a FIFO the
// kubelet holds open), and the container's output from now on goes to the
// client, until the client leaves or the container exits.
func (r *Runtime) Attach(ctx context.Context, _ *v1alpha1.Pod, c *v1alpha1.Container, id string, s runtime.Streams) error {
	r.mu.Lock()
	cont, ok := r.containers[id]
	r.mu.Unlock()
	if !ok {
		return fmt.Errorf("attach to container %s: %w", id, runtime.ErrNotFound)
	}
	if err := r.runningContainer(id); err != nil {
		return err
	}
	if s.TTY {
		return fmt.Errorf("attach to container %s: the process runtime gives containers no terminal; attach without -t", c.Name)
	}
	stdin := cont.stdinWriter()
	if s.Stdin != nil && stdin == nil {
		return fmt.Errorf("attach to container %s: it was not started with stdin: true", c.Name)
	}
	var stdout, stderr io.Writer
	if s.Stdout != nil {
		stdout = s.Stdout
	}
	if s.Stderr != nil {
		stderr = s.Stderr
	}
	unsubscribe := cont.att.add(stdout, stderr)
	defer unsubscribe()
	if s.Stdin != nil {
		go func() {
			_, _ = io.Copy(stdin, s.Stdin)
			if c.StdinOnce {
				cont.closeStdin()
			}
		}()
	}
	select {
	case <-ctx.Done():
	case <-cont.exited:
	}
	return nil
}

// PortForward implements runtime.StreamServer: a process container shares
// the host's network, so the pod's port is the host's, on loopback.
func (r *Runtime) PortForward(ctx context.Context, pod *v1alpha1.Pod, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		return fmt.Errorf("forward port %d of pod %s/%s: %w", port, pod.Namespace, pod.Name, err)
	}
	defer conn.Close()
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(conn, stream)
		// The client has sent everything: let the server see EOF.
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(stream, conn)
		done <- struct{}{}
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}

// attachments fans a container's output out to attached clients.
type attachments struct {
	mu   sync.Mutex
	subs map[int]attached
	next int
}

type attached struct{ stdout, stderr io.Writer }

func (a *attachments) add(stdout, stderr io.Writer) func() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.subs == nil {
		a.subs = map[int]attached{}
	}
	n := a.next
	a.next++
	a.subs[n] = attached{stdout: stdout, stderr: stderr}
	return func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		delete(a.subs, n)
	}
}

// writer returns the writer that copies one stream (stdout when
// stdout, else stderr) to every attached client.
func (a *attachments) writer(stdout bool) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, s := range a.subs {
			w := s.stderr
			if stdout {
				w = s.stdout
			}
			if w != nil {
				_, _ = w.Write(p) // a client that fails to read misses output; the log has it
			}
		}
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// stdinWriter is the kubelet's end of the container's stdin, or nil.
func (c *container) stdinWriter() *os.File {
	c.stdinMu.Lock()
	defer c.stdinMu.Unlock()
	return c.stdin
}

// closeStdin closes the container's stdin: it reads EOF.
func (c *container) closeStdin() {
	c.stdinMu.Lock()
	defer c.stdinMu.Unlock()
	if c.stdin != nil {
		_ = c.stdin.Close()
		c.stdin = nil
	}
}
