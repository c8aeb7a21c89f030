package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

var _ runtime.CommandRunner = &Runtime{}

// maxExecOutput is how much of a command's output ExecSync keeps.
const maxExecOutput = 10 << 10

// ExecSync implements runtime.CommandRunner: the command runs as a host
// process with the container's environment and working directory, as the
// container's own process does, in a process group of its own that is
// killed whole when the timeout passes.
func (r *Runtime) ExecSync(ctx context.Context, pod *v1alpha1.Pod, c *v1alpha1.Container, id string, cmd []string, timeout time.Duration) ([]byte, int32, error) {
	r.mu.Lock()
	cont, ok := r.containers[id]
	running := ok && cont.rec.State == runtime.StateRunning
	r.mu.Unlock()
	if !ok {
		return nil, 0, fmt.Errorf("exec in container %s: %w", id, runtime.ErrNotFound)
	}
	if !running {
		return nil, 0, fmt.Errorf("exec in container %s: it is not running", id)
	}
	if len(cmd) == 0 {
		return nil, 0, errors.New("exec: no command")
	}
	workDir := r.workDir(pod, c)
	pathEnv, env, environ := r.environ(pod, c, id)
	path, err := lookPath(cmd[0], lookupEnv(env, "PATH", pathEnv), workDir)
	if err != nil {
		return nil, 0, fmt.Errorf("exec %q in container %s: %w", cmd[0], c.Name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out limitedBuffer
	command := exec.CommandContext(ctx, path, cmd[1:]...)
	command.Args[0] = cmd[0]
	command.Env, command.Dir = environ, workDir
	command.Stdout, command.Stderr = &out, &out
	command.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// On timeout, kill everything the command started, not only the command.
	command.Cancel = func() error { return signalGroup(command.Process.Pid, syscall.SIGKILL) }
	command.WaitDelay = time.Second
	err = command.Run()
	if ctx.Err() != nil {
		return out.Bytes(), 0, fmt.Errorf("command %q timed out after %s", cmd, timeout)
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return out.Bytes(), int32(exitErr.ExitCode()), nil
	}
	if err != nil {
		return out.Bytes(), 0, fmt.Errorf("exec %q in container %s: %w", cmd[0], c.Name, err)
	}
	return out.Bytes(), 0, nil
}

// limitedBuffer keeps the first maxExecOutput bytes written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxExecOutput - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
