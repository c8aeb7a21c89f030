// Package supervisor keeps a set of child processes running: each is started,
// restarted with back-off when it dies, its failure logged with its exit
// status and last log lines, and stopped with SIGTERM (then SIGKILL) on
// request. `skiff up` runs the cluster's components under it.
package supervisor

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/klog/v2"
)

// Back-off between restarts: doubling from initialBackoff to maxBackoff,
// reset once a run has lasted resetAfter.
const (
	initialBackoff = time.Second
	maxBackoff     = 30 * time.Second
	resetAfter     = time.Minute
)

// Spec is one supervised process.
type Spec struct {
	// Name identifies it in logs and names its log file.
	Name string
	// Path and Args are the program and its arguments.
	Path string
	Args []string
	// Env is added to the supervisor's own environment for the process;
	// an entry here wins over one of the same name there.
	Env []string
	// LogDir receives <Name>.log with the process's stdout and stderr.
	LogDir string
}

// Process is a supervised process, restarted until Stop is called.
type Process struct {
	spec Spec

	mu  sync.Mutex
	cmd *exec.Cmd

	stopOnce sync.Once
	stopping chan struct{} // closed by Stop
	stopped  chan struct{} // closed when supervision has ended
}

// Start starts spec's process and keeps it running in the background until
// Stop.
func Start(spec Spec) (*Process, error) {
	if err := os.MkdirAll(spec.LogDir, 0o755); err != nil {
		return nil, fmt.Errorf("create log dir %s: %w", spec.LogDir, err)
	}
	p := &Process{spec: spec, stopping: make(chan struct{}), stopped: make(chan struct{})}
	exited, err := p.startOnce()
	if err != nil {
		return nil, err
	}
	go p.supervise(exited)
	return p, nil
}

// LogPath is where the process's output goes.
func (p *Process) LogPath() string { return filepath.Join(p.spec.LogDir, p.spec.Name+".log") }

// Pid is the current process's id, or 0 between restarts.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// startOnce starts one run; the returned channel yields its exit.
func (p *Process) startOnce() (<-chan error, error) {
	logFile, err := os.OpenFile(p.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log of %s: %w", p.spec.Name, err)
	}
	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if len(p.spec.Env) > 0 {
		cmd.Env = append(os.Environ(), p.spec.Env...)
	}
	// Its own process group, so a terminal's Ctrl-C reaches only skiff up,
	// which then stops the children in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", p.spec.Name, err)
	}
	p.mu.Lock()
	p.cmd = cmd
	p.mu.Unlock()
	exited := make(chan error, 1)
	go func() {
		exited <- cmd.Wait()
		logFile.Close()
	}()
	return exited, nil
}

func (p *Process) supervise(exited <-chan error) {
	defer close(p.stopped)
	backoff := initialBackoff
	started := time.Now()
	for {
		err := <-exited
		if p.isStopping() {
			return
		}
		if time.Since(started) > resetAfter {
			backoff = initialBackoff
		}
		klog.ErrorS(err, "Component died; restarting it", "component", p.spec.Name,
			"backoff", backoff, "log", p.LogPath(), "lastLines", tail(p.LogPath(), 5))
		select {
		case <-time.After(backoff):
		case <-p.stopping:
			return
		}
		backoff = min(2*backoff, maxBackoff)
		started = time.Now()
		next, err := p.startOnce()
		for err != nil {
			klog.ErrorS(err, "Restart failed", "component", p.spec.Name)
			select {
			case <-time.After(backoff):
			case <-p.stopping:
				return
			}
			next, err = p.startOnce()
		}
		exited = next
		if p.isStopping() {
			// Stop came while this run was starting: end it too.
			_ = syscall.Kill(-p.Pid(), syscall.SIGTERM)
		}
	}
}

func (p *Process) isStopping() bool {
	select {
	case <-p.stopping:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM, waits up to grace for the process to exit, then
// kills its whole process group. It returns the exit error of the last run
// (nil for a clean exit 0).
func (p *Process) Stop(grace time.Duration) error {
	p.stopOnce.Do(func() { close(p.stopping) })
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		<-p.stopped
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.stopped:
	case <-time.After(grace):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.stopped
		return fmt.Errorf("%s did not stop within %s and was killed", p.spec.Name, grace)
	}
	if cmd.ProcessState != nil && !cmd.ProcessState.Success() {
		return fmt.Errorf("%s exited with %s", p.spec.Name, cmd.ProcessState)
	}
	return nil
}

// tail returns the last n lines of a file, for a crash report.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(data) > 64<<10 {
		data = data[len(data)-64<<10:]
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
