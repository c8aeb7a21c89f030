package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"skiff.dev/skiff/pkg/supervisor"
	"skiff.dev/skiff/test/e2e/framework"
)

// TestSchedulerSurvivesAPIServerFreeze is the API-server freeze of the
// fault suite. skiff-scheduler runs with leader election (its default) under
// the supervisor `skiff up` uses. The API server is frozen (SIGSTOP) for
// longer than the scheduler's renew deadline, so the scheduler loses its
// Lease; it must exit non-zero rather than hang, the supervisor must start
// it again, and once the API server is thawed (SIGCONT) new pods must be
// bound.
func TestSchedulerSurvivesAPIServerFreeze(t *testing.T) {
	const freeze = 20 * time.Second // past the 10 s renew deadline
	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	k := framework.NewKubectl(t, server.Kubeconfig)
	k.MustRun(t, fmt.Sprintf(nodeManifest, "freeze-node", "freeze-node"), "apply", "-f", "-")
	k.MustRun(t, "", "patch", "node", "freeze-node", "--subresource=status", "--type=merge", "-p", readyNodeStatus)

	port := framework.FreePort(t)
	logDir := t.TempDir()
	sched, err := supervisor.Start(supervisor.Spec{
		Name: "scheduler", Path: framework.Binary(t, "skiff-scheduler"),
		Args: framework.SchedulerArgs(t, server, port, "--v=2"), LogDir: logDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(server.Pid(), syscall.SIGCONT) // never leave it frozen
		if err := sched.Stop(30 * time.Second); err != nil {
			t.Logf("stop the scheduler: %v", err)
		}
		if t.Failed() {
			if data, err := os.ReadFile(sched.LogPath()); err == nil {
				if len(data) > 8000 {
					data = data[len(data)-8000:]
				}
				t.Logf("---- scheduler log (tail) ----\n%s", data)
			}
		}
	})
	healthz := func() int {
		code, _, _ := framework.SecureGet(fmt.Sprintf("https://127.0.0.1:%d/healthz", port), "")
		return code
	}
	framework.WaitFor(t, 60*time.Second, "the scheduler's /healthz", func() (bool, error) { return healthz() == http.StatusOK, nil })

	bound := regexp.MustCompile(`^freeze-node$`)
	k.MustRun(t, fmt.Sprintf(schedulerPod, "before-freeze", "", "100m"), "apply", "-f", "-")
	waitForPodField(t, k, "before-freeze", "{.spec.nodeName}", bound)
	firstPid := sched.Pid()

	if err := syscall.Kill(server.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatalf("freeze the API server: %v", err)
	}
	frozenAt := time.Now()
	var exitedAfter time.Duration
	for time.Since(frozenAt) < freeze {
		if exitedAfter == 0 && sched.Pid() != firstPid {
			exitedAfter = time.Since(frozenAt)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := syscall.Kill(server.Pid(), syscall.SIGCONT); err != nil {
		t.Fatalf("thaw the API server: %v", err)
	}
	thawedAt := time.Now()

	// The scheduler that lost its lease exited; the supervisor started
	// another (the process id changes).
	framework.WaitFor(t, 60*time.Second, "the scheduler that lost its lease to exit and be restarted", func() (bool, error) {
		pid := sched.Pid()
		return pid != 0 && pid != firstPid, nil
	})
	if exitedAfter == 0 {
		exitedAfter = time.Since(frozenAt)
	}

	k.MustRun(t, fmt.Sprintf(schedulerPod, "after-freeze", "", "100m"), "apply", "-f", "-")
	waitForPodField(t, k, "after-freeze", "{.spec.nodeName}", bound)
	boundAfter := time.Since(thawedAt)
	if code := healthz(); code != http.StatusOK {
		t.Errorf("the restarted scheduler's /healthz = %d, want 200", code)
	}
	t.Logf("API server frozen %s; the scheduler (pid %d) was replaced %s after the freeze began (pid %d now); "+
		"a pod created after the thaw was bound %s after it (the new scheduler waits out the old Lease)",
		freeze, firstPid, exitedAfter.Round(100*time.Millisecond), sched.Pid(), boundAfter.Round(100*time.Millisecond))
}
