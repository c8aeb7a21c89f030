package process

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/logs"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

const helperEnv = "SKIFF_PROCESS_RUNTIME_TEST_HELPER"

// TestMain lets a test run this binary as a "kubelet" that starts one
// container and is then killed, the way a real kubelet dies.
func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		runHelper(spec)
		return
	}
	PollInterval = 20 * time.Millisecond
	os.Exit(m.Run())
}

type helperSpec struct {
	Root      string
	Pod       *v1alpha1.Pod
	Container *v1alpha1.Container
}

func runHelper(spec string) {
	var h helperSpec
	if err := json.Unmarshal([]byte(spec), &h); err != nil {
		panic(err)
	}
	r, err := New(Options{RootDir: h.Root})
	if err != nil {
		panic(err)
	}
	id, err := r.StartContainer(context.Background(), h.Pod, h.Container, 0)
	if err != nil {
		panic(err)
	}
	fmt.Println(id)
	select {}
}

func testPod(name string) *v1alpha1.Pod {
	return &v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)}}
}

func sh(name, script string) *v1alpha1.Container {
	return &v1alpha1.Container{Name: name, Image: "busybox", Command: []string{"sh", "-c", script}}
}

func newRuntime(t *testing.T, root string) *Runtime {
	t.Helper()
	r, err := New(Options{RootDir: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs, _ := r.ListContainers(context.Background())
		for _, c := range cs {
			_ = r.StopContainer(context.Background(), c.ID, 0)
		}
	})
	return r
}

func listed(t *testing.T, r *Runtime, id string) runtime.Container {
	t.Helper()
	cs, err := r.ListContainers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("container %s not listed", id)
	return runtime.Container{}
}

func waitExited(t *testing.T, r *Runtime, id string) runtime.Container {
	t.Helper()
	var c runtime.Container
	waitFor(t, fmt.Sprintf("container %s to exit", id), func() bool {
		c = listed(t, r, id)
		return c.State == runtime.StateExited
	})
	return c
}

func readLog(t *testing.T, path string) string {
	t.Helper()
	var out bytes.Buffer
	if err := logs.Read(context.Background(), path, logs.Options{}, nil, &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestExitCodesAndLogs(t *testing.T) {
	for _, tc := range []struct {
		name       string
		script     string
		wantCode   int32
		wantReason string
		wantLog    string
	}{
		{"success", "echo out; echo err >&2", 0, "Completed", "out\nerr\n"},
		{"failure keeps its exit code", "echo bye; exit 3", 3, "Error", "bye\n"},
		// $$ escapes $ in a command, as in Kubernetes: the shell sees $$.
		{"killed by a signal", "kill -9 $$$$", 137, "Error", ""},
		{"last line without a newline", "printf 'no newline'", 0, "Completed", "no newline\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRuntime(t, t.TempDir())
			id, err := r.StartContainer(context.Background(), testPod("p"), sh("c", tc.script), 0)
			if err != nil {
				t.Fatal(err)
			}
			c := waitExited(t, r, id)
			if c.ExitCode != tc.wantCode || c.Reason != tc.wantReason {
				t.Errorf("exit %d %q, want %d %q", c.ExitCode, c.Reason, tc.wantCode, tc.wantReason)
			}
			if c.StartedAt.IsZero() || c.FinishedAt.Before(c.StartedAt) {
				t.Errorf("started %v finished %v", c.StartedAt, c.FinishedAt)
			}
			// stdout and stderr interleave; compare as sets of lines.
			if got := readLog(t, c.LogPath); !sameLines(got, tc.wantLog) {
				t.Errorf("log %q, want %q", got, tc.wantLog)
			}
		})
	}
}

func sameLines(a, b string) bool {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(la) != len(lb) {
		return false
	}
	seen := map[string]int{}
	for _, l := range la {
		seen[l]++
	}
	for _, l := range lb {
		seen[l]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestEnvironmentAndWorkingDir(t *testing.T) {
	root := t.TempDir()
	r := newRuntime(t, root)
	pod := testPod("envpod")
	c := sh("app", `echo "$GREETING|$(pwd)|$HOSTNAME|$HOME"`)
	c.WorkingDir = "/srv/data"
	c.Env = []v1alpha1.EnvVar{{Name: "WHO", Value: "world"}, {Name: "GREETING", Value: "hello $(WHO)"}}
	id, err := r.StartContainer(context.Background(), pod, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := readLog(t, waitExited(t, r, id).LogPath)
	containerDir := filepath.Join(root, "pods", string(pod.UID), "app")
	want := fmt.Sprintf("hello world|%s|envpod|%s\n", filepath.Join(containerDir, "srv/data"), containerDir)
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestStartFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *v1alpha1.Container
	}{
		{"no command", &v1alpha1.Container{Name: "c", Image: "nginx"}},
		{"command not found", &v1alpha1.Container{Name: "c", Command: []string{"no-such-command-skiff"}}},
		{"not executable", &v1alpha1.Container{Name: "c", Command: []string{"/etc/hostname"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRuntime(t, t.TempDir())
			id, err := r.StartContainer(context.Background(), testPod("p"), tc.c, 0)
			var se *runtime.StartError
			if !errors.As(err, &se) || se.Reason != runtime.ReasonRunContainerError {
				t.Fatalf("err = %v, want a RunContainerError", err)
			}
			// Like runc, the attempt exists and exited with 128, so the
			// restart policy decides what happens next.
			c := listed(t, r, id)
			if c.State != runtime.StateExited || c.ExitCode != 128 || c.Reason != "StartError" || c.Message == "" {
				t.Errorf("container %+v, want exited 128 StartError with a message", c)
			}
		})
	}
}

func TestStopContainer(t *testing.T) {
	for _, tc := range []struct {
		name     string
		script   string
		grace    time.Duration
		wantCode int32
	}{
		{"stops on SIGTERM", "echo ready; sleep 100", 30 * time.Second, 143},
		{"killed after grace when it ignores SIGTERM", "trap '' TERM; echo ready; while true; do sleep 0.05; done", 200 * time.Millisecond, 137},
		{"killed at once with no grace", "echo ready; sleep 100", 0, 137},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRuntime(t, t.TempDir())
			id, err := r.StartContainer(context.Background(), testPod("p"), sh("c", tc.script), 0)
			if err != nil {
				t.Fatal(err)
			}
			c := listed(t, r, id)
			waitFor(t, "the container to be ready", func() bool { return strings.Contains(readLog(t, c.LogPath), "ready") })
			if err := r.StopContainer(context.Background(), id, tc.grace); err != nil {
				t.Fatal(err)
			}
			c = listed(t, r, id)
			if c.State != runtime.StateExited || c.ExitCode != tc.wantCode {
				t.Errorf("after stop: %s exit %d, want Exited %d", c.State, c.ExitCode, tc.wantCode)
			}
			if err := r.StopContainer(context.Background(), id, 0); err != nil {
				t.Errorf("stopping an exited container: %v", err)
			}
		})
	}
}

func TestStopReachesTheWholeGroup(t *testing.T) {
	root := t.TempDir()
	r := newRuntime(t, root)
	pod := testPod("p")
	id, err := r.StartContainer(context.Background(), pod, sh("c", "sleep 100 & echo $! > child.pid; wait"), 0)
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(root, "pods", string(pod.UID), "c", "child.pid")
	var child int
	waitFor(t, "the child pid", func() bool {
		data, _ := os.ReadFile(pidFile)
		child, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		return child > 0
	})
	if err := r.StopContainer(context.Background(), id, time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the background child to be gone", func() bool { return !alive(child) })
}

func alive(pid int) bool {
	st, err := readProcStat(pid)
	return err == nil && st.state != 'Z'
}

func TestRemove(t *testing.T) {
	root := t.TempDir()
	r := newRuntime(t, root)
	pod := testPod("p")
	done, err := r.StartContainer(context.Background(), pod, sh("a", "echo hi"), 0)
	if err != nil {
		t.Fatal(err)
	}
	running, err := r.StartContainer(context.Background(), pod, sh("b", "sleep 100"), 0)
	if err != nil {
		t.Fatal(err)
	}
	logPath := waitExited(t, r, done).LogPath
	if err := r.RemoveContainer(context.Background(), running); err == nil {
		t.Error("removing a running container should fail")
	}
	if err := r.RemoveContainer(context.Background(), done); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(logPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("log of a removed container still there: %v", err)
	}
	if err := r.RemovePod(context.Background(), pod.UID); err != nil {
		t.Fatal(err)
	}
	if cs, _ := r.ListContainers(context.Background()); len(cs) != 0 {
		t.Errorf("after RemovePod: %v", cs)
	}
	if _, err := os.Stat(filepath.Join(root, "pods", string(pod.UID))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pod directory still there: %v", err)
	}
	// The state survives a restart: nothing comes back.
	if cs, _ := newRuntime(t, root).ListContainers(context.Background()); len(cs) != 0 {
		t.Errorf("a new runtime on the same root lists %v", cs)
	}
}

func TestExitedContainersSurviveRestart(t *testing.T) {
	root := t.TempDir()
	r := newRuntime(t, root)
	id, err := r.StartContainer(context.Background(), testPod("p"), sh("c", "echo done; exit 4"), 2)
	if err != nil {
		t.Fatal(err)
	}
	before := waitExited(t, r, id)
	after := listed(t, newRuntime(t, root), id)
	if after.ExitCode != 4 || after.Attempt != 2 || after.State != runtime.StateExited || after.LogPath != before.LogPath {
		t.Errorf("after restart %+v, want %+v", after, before)
	}
}

// startInHelper starts a container from a separate "kubelet" process, kills
// that process with SIGKILL, and returns the container's ID.
// startInHelper starts c in a helper process playing the kubelet, waits for
// each settled condition, then kills the helper (kill -9, as a crash).
func startInHelper(t *testing.T, root string, pod *v1alpha1.Pod, c *v1alpha1.Container, settled ...func() bool) string {
	t.Helper()
	spec, _ := json.Marshal(helperSpec{Root: root, Pod: pod, Container: c})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(spec))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("helper kubelet: %v", err)
	}
	for _, wait := range settled {
		waitFor(t, "the helper kubelet to settle", wait)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return strings.TrimSpace(line)
}

func TestRestartedKubeletAdoptsRunningProcess(t *testing.T) {
	root := t.TempDir()
	pod := testPod("adopt")
	script := "echo before; while [ ! -f go ]; do sleep 0.02; done; echo after; sleep 100"
	// Wait for the first line to be in the log before the crash: output the
	// dying kubelet had read from the FIFO but not yet written is lost with
	// it (a crash can lose at most what is in flight), which is not what
	// this test is about.
	firstLog := filepath.Join(root, "pods", string(pod.UID), "logs", "c", "0.log")
	id := startInHelper(t, root, pod, sh("c", script), func() bool {
		data, err := os.ReadFile(firstLog)
		return err == nil && bytes.Contains(data, []byte("before"))
	})

	r := newRuntime(t, root)
	c := listed(t, r, id)
	if c.State != runtime.StateRunning {
		t.Fatalf("after the kubelet restarted the container is %s, want Running (adopted)", c.State)
	}
	if want := runtime.HashContainer(sh("c", script)); c.Hash != want {
		t.Errorf("after the kubelet restarted the container's spec hash is %q, want %q", c.Hash, want)
	}
	rec := r.containers[id].rec
	if !sameProcessAlive(rec.PID, rec.ProcStart) {
		t.Fatalf("adopted pid %d is not running", rec.PID)
	}
	// Output written after the restart reaches the log through the FIFO.
	if err := os.WriteFile(filepath.Join(root, "pods", string(pod.UID), "c", "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "output after the restart in the log", func() bool { return readLog(t, c.LogPath) == "before\nafter\n" })

	if err := r.StopContainer(context.Background(), id, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	c = listed(t, r, id)
	if c.State != runtime.StateExited || c.ExitCode != 137 || c.Reason != "ContainerStatusUnknown" {
		t.Errorf("adopted container after stop: %s %d %q; want Exited 137 ContainerStatusUnknown", c.State, c.ExitCode, c.Reason)
	}
	if sameProcessAlive(rec.PID, rec.ProcStart) {
		t.Errorf("process %d still alive after stop", rec.PID)
	}
}

func TestProcessThatExitedWhileTheKubeletWasDown(t *testing.T) {
	root := t.TempDir()
	id := startInHelper(t, root, testPod("p"), sh("c", "while [ ! -f stop ]; do sleep 0.02; done"))
	// Find the orphan from the state file and let it finish before any
	// kubelet is back.
	recs, err := loadState(filepath.Join(root, "containers"))
	if err != nil || len(recs) != 1 {
		t.Fatalf("state: %v %v", recs, err)
	}
	if err := os.WriteFile(filepath.Join(root, "pods", "uid-p", "c", "stop"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the orphan to exit", func() bool { return !sameProcessAlive(recs[0].PID, recs[0].ProcStart) })

	c := listed(t, newRuntime(t, root), id)
	if c.State != runtime.StateExited || c.Reason != "ContainerStatusUnknown" {
		t.Errorf("got %s %q, want Exited ContainerStatusUnknown", c.State, c.Reason)
	}
}

func TestUnrecordedProcessIsKilled(t *testing.T) {
	root := t.TempDir()
	startInHelper(t, root, testPod("p"), sh("c", "sleep 100"))
	recs, _ := loadState(filepath.Join(root, "containers"))
	if len(recs) != 1 {
		t.Fatalf("state: %v", recs)
	}
	// As if the kubelet died between starting the process and recording it.
	if err := os.Remove(filepath.Join(root, "containers", recs[0].ID+".json")); err != nil {
		t.Fatal(err)
	}
	r := newRuntime(t, root)
	if cs, _ := r.ListContainers(context.Background()); len(cs) != 0 {
		t.Errorf("listed %v", cs)
	}
	waitFor(t, "the unrecorded process to be killed", func() bool { return !sameProcessAlive(recs[0].PID, recs[0].ProcStart) })
}

func TestOnChangeReportsExits(t *testing.T) {
	changed := make(chan types.UID, 1)
	r, err := New(Options{RootDir: t.TempDir(), OnChange: func(uid types.UID) { changed <- uid }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.StartContainer(context.Background(), testPod("p"), sh("c", "exit 0"), 0); err != nil {
		t.Fatal(err)
	}
	select {
	case uid := <-changed:
		if uid != "uid-p" {
			t.Errorf("OnChange(%q), want uid-p", uid)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no OnChange after the container exited")
	}
}

func TestReadProcStat(t *testing.T) {
	st, err := readProcStat(os.Getpid())
	if err != nil || st.startTime == 0 || st.state == 'Z' {
		t.Fatalf("own stat: %+v %v", st, err)
	}
	if !sameProcessAlive(os.Getpid(), st.startTime) {
		t.Error("this process is alive")
	}
	if sameProcessAlive(os.Getpid(), st.startTime+1) {
		t.Error("a different start time is a different process")
	}
	if err := signalGroup(1, syscall.SIGTERM); err == nil {
		t.Error("signalling group 1 must be refused")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
