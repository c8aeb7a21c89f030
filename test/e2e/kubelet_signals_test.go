package e2e

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"skiff.dev/skiff/test/e2e/framework"
)

// TestKubeletSecondSignalForcesExit stops a kubelet that drains its node
// (--shutdown-grace-period) while a container ignores SIGTERM: the first
// SIGINT starts the drain, which waits out the container's grace; a second
// signal must end the process at once, as it does for every skiff daemon
// and upstream's components.
func TestKubeletSecondSignalForcesExit(t *testing.T) {
	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	k := framework.NewKubectl(t, server.Kubeconfig)
	kubelet := framework.StartKubelet(t, server, framework.KubeletOptions{
		NodeName: "n1", Runtime: "process", ExtraArgs: []string{"--shutdown-grace-period=10m"},
	})
	marker := fmt.Sprintf("skiff-e2e-stubborn-%d", time.Now().UnixNano())
	k.MustRun(t, fmt.Sprintf(`apiVersion: core.skiff.dev/v1alpha1
kind: Pod
metadata:
  name: stubborn
spec:
  nodeName: n1
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "trap '' TERM; while :; do sleep 1; done", %q]
`, marker), "apply", "-f", "-")
	k.MustRun(t, "", "wait", "--for=condition=Ready", "pod/stubborn", "--timeout=60s")

	if err := syscall.Kill(kubelet.Pid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// The drain waits for the container, which ignores SIGTERM, for ten
	// minutes: the kubelet is still there a few seconds on.
	time.Sleep(3 * time.Second)
	if kubelet.Exited() {
		t.Fatal("the kubelet exited on the first SIGINT; the test needs it draining a stubborn container")
	}

	// Stop sends SIGTERM, the second signal, and waits; -1 means it had to
	// kill the kubelet.
	code := kubelet.Stop(time.Minute)
	if code == -1 {
		t.Fatal("the kubelet ignored a second signal while draining its node")
	}
	t.Logf("the second signal ended the kubelet with exit code %d", code)
	if code == 0 {
		t.Errorf("exit code 0 after a forced exit, want non-zero (the drain did not finish)")
	}
}
