package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"skiff.dev/skiff/test/e2e/framework"
)

// TestSkiffUp runs the one-command cluster as a newcomer would: a Ready node,
// a pod Running with its log readable, Ctrl-C leaving nothing behind, and a
// second start bringing the pod back.
func TestSkiffUp(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	port, kubeletPort, schedulerPort := framework.FreePort(t), framework.FreePort(t), framework.FreePort(t)
	marker := fmt.Sprintf("skiff-up-e2e-%d", time.Now().UnixNano())
	up := func() *framework.Process {
		return framework.Start(t, "skiff-up", framework.Binary(t, "skiff"), "up",
			"--data-dir", dataDir, "--secure-port", fmt.Sprint(port), "--kubelet-port", fmt.Sprint(kubeletPort),
			"--scheduler-secure-port", fmt.Sprint(schedulerPort), "--node-name", "e2e-node", "--shutdown-grace-period", "5s")
	}
	k := framework.NewKubectl(t, filepath.Join(dataDir, "admin.kubeconfig"))
	t.Cleanup(func() {
		if t.Failed() {
			dumpComponentLogs(t, filepath.Join(dataDir, "logs"))
		}
	})
	waitNodeReady := func() {
		framework.WaitFor(t, 90*time.Second, "node e2e-node Ready", func() (bool, error) {
			out, _, err := k.Run("", "get", "node", "e2e-node", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
			return err == nil && out == "True", nil
		})
	}

	started := time.Now()
	cluster := up()
	waitNodeReady()
	t.Logf("skiff up → Ready node: %s", time.Since(started).Round(time.Millisecond))

	pod := fmt.Sprintf(`apiVersion: core.skiff.dev/v1alpha1
kind: Pod
metadata: {name: greeter}
spec:
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo hello from skiff; sleep 3600; : %s"]
`, marker)
	k.MustRun(t, pod, "apply", "-f", "-")
	k.MustRun(t, "", "wait", "--for=condition=Ready", "pod/greeter", "--timeout=60s")
	t.Logf("skiff up → first pod Running: %s", time.Since(started).Round(time.Millisecond))
	if out := k.MustRun(t, "", "get", "--raw", "/apis/core.skiff.dev/v1alpha1/namespaces/default/pods/greeter/log"); !strings.Contains(out, "hello from skiff") {
		t.Errorf("pod log = %q", out)
	}
	if n := countProcesses(t, marker); n != 1 {
		t.Errorf("%d container processes running, want 1", n)
	}
	// The scheduler's endpoints: HTTPS on loopback, health for anyone,
	// metrics for the admin.
	schedURL := fmt.Sprintf("https://127.0.0.1:%d", schedulerPort)
	if code, _, err := framework.SecureGet(schedURL+"/healthz", ""); code != 200 {
		t.Errorf("scheduler /healthz = %d, %v; want 200", code, err)
	}
	if code, body, err := framework.SecureGet(schedURL+"/metrics", filepath.Join(dataDir, "admin.kubeconfig")); code != 200 || !strings.Contains(body, "scheduler_schedule_attempts_total") {
		t.Errorf("scheduler /metrics as the admin = %d, %v: %.200s", code, err, body)
	}

	if code := cluster.Stop(2 * time.Minute); code != 0 {
		t.Fatalf("skiff up after SIGTERM exited %d, want 0", code)
	}
	if n := countProcesses(t, marker); n != 0 {
		t.Errorf("%d container processes left after skiff up stopped", n)
	}
	if n := countProcesses(t, dataDir); n != 0 {
		t.Errorf("%d component processes left after skiff up stopped", n)
	}

	cluster = up()
	waitNodeReady()
	k.MustRun(t, "", "wait", "--for=condition=Ready", "pod/greeter", "--timeout=60s")
	// The node's and the pod's Ready conditions are the ones stored before
	// the restart, so the waits above can return before the new kubelet has
	// started the container again: wait for the process itself.
	framework.WaitFor(t, 60*time.Second, "the container to run again after the restart", func() (bool, error) {
		return countProcesses(t, marker) == 1, nil
	})
	if n := countProcesses(t, marker); n != 1 {
		t.Errorf("after restart %d container processes, want 1", n)
	}
	if code := cluster.Stop(2 * time.Minute); code != 0 {
		t.Errorf("second skiff up exited %d, want 0", code)
	}
}

// countProcesses counts running processes whose command line contains s.
func countProcesses(t *testing.T, s string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("read /proc: %v", err)
	}
	n := 0
	self := fmt.Sprint(os.Getpid())
	for _, e := range entries {
		if e.Name() == self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && strings.Contains(string(stat), ") Z ") {
			continue // a zombie is gone in all but name
		}
		if strings.Contains(strings.ReplaceAll(string(cmdline), "\x00", " "), s) {
			n++
		}
	}
	return n
}

// dumpComponentLogs prints the tail of every component log skiff up wrote.
func dumpComponentLogs(t *testing.T, dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if len(data) > 4000 {
			data = data[len(data)-4000:]
		}
		t.Logf("---- %s (tail) ----\n%s", e.Name(), data)
	}
}
