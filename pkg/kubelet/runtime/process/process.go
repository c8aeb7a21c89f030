// Package process runs each container as a host process group: command and
// args with the container's env, in a working directory under the kubelet's
// root directory, with stdout and stderr written to a CRI-format log file.
//
// The processes outlive the kubelet, as containers outlive upstream's
// kubelet: every container is recorded in a state file under the root
// directory (containers/<id>.json), and a restarted kubelet adopts the processes still running
// (same pid and same start time in /proc) instead of starting them again.
//
// A process's output goes through two named pipes (FIFOs) that the kubelet
// reads and timestamps into the log file. The process holds its pipes open
// for reading as well as writing, so it never gets SIGPIPE while the kubelet
// is down: its output waits in the pipe (up to 1 MiB) until the restarted
// kubelet reads it again. Logs are not rotated.
//
// A restarted kubelet is not the parent of an adopted process and cannot
// wait for it: it polls /proc, and when the process has gone it records exit
// code 137 with reason ContainerStatusUnknown, as upstream does for a
// container whose end it could not see.
package process

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/component-base/version"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/logs"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

// Type is the runtime's name in container IDs and node info.
const Type = "process"

const (
	// envRoot and envContainerID mark every container process, so a
	// restarted kubelet finds processes its state file does not record.
	envRoot        = "SKIFF_KUBELET_ROOT"
	envContainerID = "SKIFF_CONTAINER_ID"

	defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

	// Exit code and reason for an adopted process whose end was not seen.
	unknownExitCode = 137
	reasonUnknown   = "ContainerStatusUnknown"
	// Exit code and reason for a process that could not be started, as
	// runc reports them.
	startErrorExitCode = 128
	reasonStartError   = "StartError"

	pipeSize = 1 << 20
)

// PollInterval is how often an adopted process is checked for its exit.
var PollInterval = 500 * time.Millisecond

// Options configure a process runtime.
type Options struct {
	// RootDir holds the state (containers/<id>.json), the containers'
	// working directories (pods/<uid>/<container>) and their logs
	// (pods/<uid>/logs/<container>/<attempt>.log).
	RootDir string
	// OnChange, if set, is called with a pod's UID when one of its
	// containers exits, so the kubelet syncs the pod at once.
	OnChange func(types.UID)
}

// Runtime is the process runtime.
type Runtime struct {
	root     string
	onChange func(types.UID)

	mu         sync.Mutex
	containers map[string]*container
}

var _ runtime.Runtime = &Runtime{}

// container is one recorded container and, while it runs, the channel its
// watcher closes once the process has exited and its output is in the log.
type container struct {
	rec    record // guarded by Runtime.mu
	exited chan struct{}
	// saveMu orders the writes of this container's state file.
	saveMu sync.Mutex
	// att are the clients attached to the container's output.
	att attachments
	// stdin is the kubelet's end of the pipe that is the stdin of a
	// container with stdin: true, which attach writes to; nil otherwise,
	// after a stdinOnce attach, and in an adopted container (the pipe died
	// with the kubelet that made it).
	stdinMu sync.Mutex
	stdin   *os.File
}

// New returns a process runtime on opts.RootDir, adopting the containers a
// previous kubelet left running there and killing any marked process it has
// no record of.
func New(opts Options) (*Runtime, error) {
	root, err := filepath.Abs(opts.RootDir)
	if err != nil {
		return nil, fmt.Errorf("root dir %q: %w", opts.RootDir, err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("create root dir: %w", err)
	}
	r := &Runtime{root: root, onChange: opts.OnChange, containers: map[string]*container{}}
	records, err := loadState(r.stateDir())
	if err != nil {
		return nil, err
	}
	for _, rec := range records {
		c := &container{rec: rec, exited: make(chan struct{})}
		r.containers[rec.ID] = c
		if rec.State != runtime.StateRunning {
			close(c.exited)
			continue
		}
		if sameProcessAlive(rec.PID, rec.ProcStart) {
			klog.InfoS("Adopting running container", "pod", klog.KRef(rec.PodNamespace, rec.PodName), "container", rec.Name, "pid", rec.PID)
			go r.watchAdopted(c)
			continue
		}
		klog.InfoS("Container exited while the kubelet was down", "pod", klog.KRef(rec.PodNamespace, rec.PodName), "container", rec.Name, "pid", rec.PID)
		// Whatever else of its group is left goes too.
		_ = signalGroup(rec.PID, syscall.SIGKILL)
		r.markExitedLocked(c, unknownExitCode, 0, reasonUnknown, "the container exited while the kubelet was not running; its exit code is unknown", time.Now())
		closeExited(c)
		if err := r.save(c); err != nil {
			return nil, err
		}
	}
	r.killUnrecorded()
	return r, nil
}

// killUnrecorded kills marked processes of this root whose container is not
// running in the state file: a kubelet that crashed between starting a
// process and recording it must not leave a second copy running.
func (r *Runtime) killUnrecorded() {
	for pid, id := range markedProcesses(envRoot + "=" + r.root) {
		if c, ok := r.containers[id]; ok && c.rec.State == runtime.StateRunning {
			continue
		}
		klog.InfoS("Killing process of an unknown container", "pid", pid, "containerID", id)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// Type implements runtime.Runtime.
func (r *Runtime) Type() string { return Type }

// Version implements runtime.Runtime: the process runtime is the kubelet.
func (r *Runtime) Version(context.Context) (string, error) { return version.Get().GitVersion, nil }

func (r *Runtime) podDir(uid types.UID) string { return filepath.Join(r.root, "pods", string(uid)) }
func (r *Runtime) fifoPath(uid types.UID, id, stream string) string {
	return filepath.Join(r.podDir(uid), "fifo", id+"."+stream)
}

// workDir is the container's working directory, always under the
// container's own directory: a workingDir in the spec is a path inside it.
func (r *Runtime) workDir(pod *v1alpha1.Pod, c *v1alpha1.Container) string {
	containerDir := filepath.Join(r.podDir(pod.UID), c.Name)
	if c.WorkingDir != "" {
		return filepath.Join(containerDir, filepath.Clean("/"+c.WorkingDir))
	}
	return containerDir
}

// environ returns the PATH a command is looked up in, the container's env,
// and the whole process environment of container id.
func (r *Runtime) environ(pod *v1alpha1.Pod, c *v1alpha1.Container, id string) (string, []v1alpha1.EnvVar, []string) {
	pathEnv := os.Getenv("PATH")
	if pathEnv == "" {
		pathEnv = defaultPath
	}
	base := map[string]string{"PATH": pathEnv, "HOME": filepath.Join(r.podDir(pod.UID), c.Name), "HOSTNAME": pod.Name}
	env := runtime.ContainerEnv(c, base)
	return pathEnv, env, buildEnviron(base, env, r.root, id)
}

// StartContainer implements runtime.Runtime.
func (r *Runtime) StartContainer(ctx context.Context, pod *v1alpha1.Pod, c *v1alpha1.Container, attempt uint32) (string, error) {
	id, err := newID()
	if err != nil {
		return "", err
	}
	podDir := r.podDir(pod.UID)
	workDir := r.workDir(pod, c)
	logPath := filepath.Join(podDir, "logs", c.Name, fmt.Sprintf("%d.log", attempt))
	for _, dir := range []string{workDir, filepath.Dir(logPath), filepath.Join(podDir, "fifo")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("create %s: %w", dir, err)
		}
	}

	pathEnv, env, environ := r.environ(pod, c, id)
	command, args := runtime.ContainerCommand(c, env)
	argv := append(command, args...)

	now := time.Now()
	rec := record{Container: runtime.Container{
		ID: id, PodUID: pod.UID, PodNamespace: pod.Namespace, PodName: pod.Name, Name: c.Name,
		Attempt: attempt, Image: c.Image, State: runtime.StateCreated, CreatedAt: now, LogPath: logPath,
		Hash: runtime.HashContainer(c),
	}}
	fail := func(err error) (string, error) {
		cont := &container{rec: rec, exited: make(chan struct{})}
		r.mu.Lock()
		r.containers[id] = cont
		r.markExitedLocked(cont, startErrorExitCode, 0, reasonStartError, err.Error(), time.Now())
		closeExited(cont)
		r.mu.Unlock()
		if serr := r.save(cont); serr != nil {
			klog.ErrorS(serr, "Recording container state")
		}
		return id, &runtime.StartError{Reason: runtime.ReasonRunContainerError, Message: err.Error()}
	}
	if len(argv) == 0 {
		return fail(errors.New("no command: the process runtime runs the container's command and args, it cannot run an image"))
	}
	path, err := lookPath(argv[0], lookupEnv(env, "PATH", pathEnv), workDir)
	if err != nil {
		return fail(err)
	}

	out, err := openOutput(r.fifoPath(pod.UID, id, logs.Stdout), r.fifoPath(pod.UID, id, logs.Stderr), logPath)
	if err != nil {
		return "", err
	}
	var stdinRead, stdinWrite *os.File
	if c.Stdin {
		if stdinRead, stdinWrite, err = os.Pipe(); err != nil {
			out.closeChildEnds()
			out.close()
			return fail(fmt.Errorf("create stdin pipe: %w", err))
		}
	}
	cmd := &exec.Cmd{
		Path:   path,
		Stdin:  stdinRead,
		Args:   argv,
		Env:    environ,
		Dir:    workDir,
		Stdout: out.childStdout,
		Stderr: out.childStderr,
		// Its own process group, so stopping it reaches every process it
		// started; no parent-death signal, so it outlives the kubelet.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	startErr := cmd.Start()
	out.closeChildEnds()
	if stdinRead != nil {
		stdinRead.Close()
	}
	if startErr != nil {
		if stdinWrite != nil {
			stdinWrite.Close()
		}
		out.close()
		return fail(fmt.Errorf("start %s: %w", argv[0], startErr))
	}
	st, err := readProcStat(cmd.Process.Pid)
	if err != nil {
		// Without its start time the process could not be adopted later.
		_ = signalGroup(cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		out.close()
		return fail(fmt.Errorf("read state of process %d: %w", cmd.Process.Pid, err))
	}
	rec.PID, rec.ProcStart = cmd.Process.Pid, st.startTime
	rec.State, rec.StartedAt = runtime.StateRunning, time.Now()
	cont := &container{rec: rec, exited: make(chan struct{}), stdin: stdinWrite}
	r.mu.Lock()
	r.containers[id] = cont
	r.mu.Unlock()
	if err := r.save(cont); err != nil {
		klog.ErrorS(err, "Recording container state; a restarted kubelet will kill this container", "containerID", id)
	}
	klog.V(2).InfoS("Started container", "pod", klog.KObj(pod), "container", c.Name, "attempt", attempt, "pid", rec.PID)
	go r.watchChild(cont, cmd, out)
	return id, nil
}

// watchChild waits for a process this kubelet started.
func (r *Runtime) watchChild(c *container, cmd *exec.Cmd, out *output) {
	copied := out.copy(&c.att)
	err := cmd.Wait()
	code, signal := int32(0), int32(0)
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			klog.ErrorS(err, "Waiting for container process", "containerID", c.rec.ID)
			code = unknownExitCode
		}
	}
	if ps := cmd.ProcessState; ps != nil {
		ws := ps.Sys().(syscall.WaitStatus)
		switch {
		case ws.Exited():
			code = int32(ws.ExitStatus())
		case ws.Signaled():
			signal = int32(ws.Signal())
			code = 128 + signal
		}
	}
	r.finish(c, out, copied, code, signal, "")
}

// watchAdopted polls /proc for the exit of a process a previous kubelet started.
func (r *Runtime) watchAdopted(c *container) {
	out, err := reopenOutput(r.fifoPath(c.rec.PodUID, c.rec.ID, logs.Stdout), r.fifoPath(c.rec.PodUID, c.rec.ID, logs.Stderr), c.rec.LogPath)
	var copied <-chan struct{}
	if err != nil {
		klog.ErrorS(err, "Reattaching to container output; its further output is lost", "containerID", c.rec.ID)
	} else {
		copied = out.copy(&c.att)
	}
	for sameProcessAlive(c.rec.PID, c.rec.ProcStart) {
		time.Sleep(PollInterval)
	}
	r.finish(c, out, copied, unknownExitCode, 0, "the kubelet restarted while the container ran and could not observe its exit code")
}

// finish records a container's exit once its group is gone and its output
// is in the log.
func (r *Runtime) finish(c *container, out *output, copied <-chan struct{}, code, signal int32, message string) {
	// The processes a container started end with it, as in a container.
	_ = signalGroup(c.rec.PID, syscall.SIGKILL)
	if out != nil {
		select {
		case <-copied:
		case <-time.After(2 * time.Second):
			// A process that left the group still holds the pipe open.
			klog.V(2).InfoS("Container output still open after exit; closing it", "containerID", c.rec.ID)
		}
		out.close()
	}
	c.closeStdin()
	reason := "Completed"
	if code != 0 {
		reason = "Error"
	}
	if message != "" {
		reason = reasonUnknown
	}
	r.mu.Lock()
	r.markExitedLocked(c, code, signal, reason, message, time.Now())
	r.mu.Unlock()
	if err := r.save(c); err != nil {
		klog.ErrorS(err, "Recording container state")
	}
	closeExited(c)
	klog.V(2).InfoS("Container exited", "pod", klog.KRef(c.rec.PodNamespace, c.rec.PodName), "container", c.rec.Name, "exitCode", code)
	if r.onChange != nil {
		r.onChange(c.rec.PodUID)
	}
}

// markExitedLocked records the container's exit in memory; the caller
// saves it and then closes c.exited, so a stopped container's exit is on
// disk by the time StopContainer returns.
func (r *Runtime) markExitedLocked(c *container, code, signal int32, reason, message string, at time.Time) {
	c.rec.State = runtime.StateExited
	c.rec.ExitCode, c.rec.Signal, c.rec.Reason, c.rec.Message = code, signal, reason, message
	c.rec.FinishedAt = at
}

func closeExited(c *container) {
	select {
	case <-c.exited:
	default:
		close(c.exited)
	}
}

// StopContainer implements runtime.Runtime.
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	r.mu.Lock()
	c, ok := r.containers[id]
	r.mu.Unlock()
	if !ok {
		return fmt.Errorf("stop container %s: %w", id, runtime.ErrNotFound)
	}
	select {
	case <-c.exited:
		return nil
	default:
	}
	pgid := c.rec.PID
	if grace > 0 {
		klog.V(2).InfoS("Stopping container", "pod", klog.KRef(c.rec.PodNamespace, c.rec.PodName), "container", c.rec.Name, "grace", grace)
		if err := signalGroup(pgid, syscall.SIGTERM); err != nil {
			return fmt.Errorf("stop container %s: %w", id, err)
		}
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-c.exited:
			return nil
		case <-timer.C:
		case <-ctx.Done():
		}
	}
	if err := signalGroup(pgid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill container %s: %w", id, err)
	}
	select {
	case <-c.exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("kill container %s: %w", id, ctx.Err())
	}
}

// RemoveContainer implements runtime.Runtime.
func (r *Runtime) RemoveContainer(_ context.Context, id string) error {
	r.mu.Lock()
	c, ok := r.containers[id]
	if !ok {
		r.mu.Unlock()
		return nil
	}
	if c.rec.State == runtime.StateRunning {
		r.mu.Unlock()
		return fmt.Errorf("remove container %s: it is running", id)
	}
	delete(r.containers, id)
	r.mu.Unlock()
	if err := os.Remove(c.rec.LogPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		klog.ErrorS(err, "Removing container log", "containerID", id)
	}
	return r.unsave(c)
}

// ListContainers implements runtime.Runtime.
func (r *Runtime) ListContainers(context.Context) ([]runtime.Container, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]runtime.Container, 0, len(r.containers))
	for _, c := range r.containers {
		out = append(out, c.rec.Container)
	}
	return out, nil
}

// RemovePod implements runtime.Runtime.
func (r *Runtime) RemovePod(ctx context.Context, uid types.UID) error {
	r.mu.Lock()
	var ids []string
	for id, c := range r.containers {
		if c.rec.PodUID == uid {
			ids = append(ids, id)
		}
	}
	r.mu.Unlock()
	for _, id := range ids {
		if err := r.StopContainer(ctx, id, 0); err != nil {
			return fmt.Errorf("remove pod %s: %w", uid, err)
		}
	}
	var removed []*container
	r.mu.Lock()
	for _, id := range ids {
		if c, ok := r.containers[id]; ok {
			removed = append(removed, c)
			delete(r.containers, id)
		}
	}
	r.mu.Unlock()
	for _, c := range removed {
		if err := r.unsave(c); err != nil {
			return fmt.Errorf("remove pod %s: %w", uid, err)
		}
	}
	if err := os.RemoveAll(r.podDir(uid)); err != nil {
		return fmt.Errorf("remove pod %s: %w", uid, err)
	}
	return nil
}

func newID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("container id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// buildEnviron is the process environment: what the runtime provides, the
// markers, then the container's env, which wins.
func buildEnviron(base map[string]string, env []v1alpha1.EnvVar, root, id string) []string {
	out := make([]string, 0, len(base)+len(env)+2)
	for k, v := range base {
		out = append(out, k+"="+v)
	}
	out = append(out, envRoot+"="+root, envContainerID+"="+id)
	for _, e := range env {
		out = append(out, e.Name+"="+e.Value)
	}
	return dedupEnv(out)
}

// dedupEnv keeps the last value of each variable.
func dedupEnv(env []string) []string {
	last := map[string]int{}
	for i, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		last[k] = i
	}
	out := env[:0:0]
	for i, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if last[k] == i {
			out = append(out, kv)
		}
	}
	return out
}

func lookupEnv(env []v1alpha1.EnvVar, name, def string) string {
	v := def
	for _, e := range env {
		if e.Name == name {
			v = e.Value
		}
	}
	return v
}

// lookPath finds file in the container's PATH (not the kubelet's); a path
// with a slash is taken as is, relative to the working directory.
func lookPath(file, pathEnv, dir string) (string, error) {
	if strings.Contains(file, "/") {
		p := file
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if err := executable(p); err != nil {
			return "", fmt.Errorf("%s: %w", file, err)
		}
		return p, nil
	}
	for _, d := range filepath.SplitList(pathEnv) {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, file)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%q: executable file not found in $PATH", file)
}

func executable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("not an executable file")
	}
	return unix.Access(path, unix.X_OK)
}
