package e2e

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
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
	port, kubeletPort, schedulerPort, cmPort := framework.FreePort(t), framework.FreePort(t), framework.FreePort(t), framework.FreePort(t)
	marker := fmt.Sprintf("skiff-up-e2e-%d", time.Now().UnixNano())
	up := func() *framework.Process {
		return framework.Start(t, "skiff-up", framework.Binary(t, "skiff"), "up",
			"--data-dir", dataDir, "--secure-port", fmt.Sprint(port), "--kubelet-port", fmt.Sprint(kubeletPort),
			"--scheduler-secure-port", fmt.Sprint(schedulerPort), "--controller-manager-secure-port", fmt.Sprint(cmPort), "--node-name", "e2e-node", "--shutdown-grace-period", "5s")
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
	// A development cluster keeps to this machine unless told otherwise.
	for name, p := range map[string]int{"API server": port, "kubelet": kubeletPort, "scheduler": schedulerPort, "controller manager": cmPort} {
		// The scheduler may open its port after the node is Ready.
		framework.WaitFor(t, 30*time.Second, "the "+name+" to listen", func() (bool, error) { return len(listeners(t, p)) > 0, nil })
		if addrs := listeners(t, p); len(addrs) != 1 || addrs[0] != "127.0.0.1" {
			t.Errorf("the %s listens on %v, want 127.0.0.1 only", name, addrs)
		}
	}

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
	// The controller manager's, served the same way.
	cmURL := fmt.Sprintf("https://127.0.0.1:%d", cmPort)
	if code, _, err := framework.SecureGet(cmURL+"/healthz", ""); code != 200 {
		t.Errorf("controller manager /healthz = %d, %v; want 200", code, err)
	}
	if code, _, err := framework.SecureGet(cmURL+"/metrics", ""); code != 403 {
		t.Errorf("controller manager /metrics anonymously = %d, %v; want 403", code, err)
	}
	if code, body, err := framework.SecureGet(cmURL+"/metrics", filepath.Join(dataDir, "admin.kubeconfig")); code != 200 || !strings.Contains(body, "workqueue_") {
		t.Errorf("controller manager /metrics as the admin = %d, %v: %.200s", code, err, body)
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

// TestSkiffUpCRIWithoutRuntime: with no runtime at the endpoint, skiff up
// says so, naming the socket and the README section, and exits non-zero
// before it starts anything.
func TestSkiffUpCRIWithoutRuntime(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	socket := filepath.Join(t.TempDir(), "no-containerd.sock")
	p := framework.Start(t, "skiff-up-cri", framework.Binary(t, "skiff"), "up", "--runtime", "cri",
		"--container-runtime-endpoint", "unix://"+socket, "--data-dir", dataDir,
		"--secure-port", fmt.Sprint(framework.FreePort(t)), "--kubelet-port", fmt.Sprint(framework.FreePort(t)))
	framework.WaitFor(t, 30*time.Second, "skiff up to exit", func() (bool, error) { return p.Exited(), nil })
	if code := p.Stop(time.Second); code == 0 {
		t.Errorf("skiff up --runtime cri with no runtime exited 0")
	}
	log, err := os.ReadFile(p.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"no container runtime answers at unix://" + socket, "no such file or directory",
		"hack/containerd-up.sh", `README.md, section "Containers from images: --runtime cri"`} {
		if !strings.Contains(string(log), want) {
			t.Errorf("skiff up's error lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(string(log), "skiff is up") {
		t.Errorf("skiff up said it was up:\n%s", log)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("skiff up started a cluster (%s exists: %v)", dataDir, err)
	}
}

// TestSkiffUpBindAll: --bind-address 0.0.0.0 serves every interface, and
// the README's way to reach it from another machine works: the admin
// kubeconfig pointed at the machine's own address, which the serving
// certificate names.
func TestSkiffUpBindAll(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	port, kubeletPort := framework.FreePort(t), framework.FreePort(t)
	cluster := framework.Start(t, "skiff-up", framework.Binary(t, "skiff"), "up", "--bind-address", "0.0.0.0",
		"--data-dir", dataDir, "--secure-port", fmt.Sprint(port), "--kubelet-port", fmt.Sprint(kubeletPort),
		"--scheduler-secure-port", fmt.Sprint(framework.FreePort(t)), "--node-name", "bind-all", "--shutdown-grace-period", "5s")
	t.Cleanup(func() {
		if t.Failed() {
			dumpComponentLogs(t, filepath.Join(dataDir, "logs"))
		}
	})
	k := framework.NewKubectl(t, filepath.Join(dataDir, "admin.kubeconfig"))
	framework.WaitFor(t, 90*time.Second, "node bind-all Ready", func() (bool, error) {
		out, _, err := k.Run("", "get", "node", "bind-all", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return err == nil && out == "True", nil
	})
	for name, p := range map[string]int{"API server": port, "kubelet": kubeletPort} {
		framework.WaitFor(t, 30*time.Second, "the "+name+" to listen", func() (bool, error) { return len(listeners(t, p)) > 0, nil })
		if addrs := listeners(t, p); len(addrs) != 1 || !net.ParseIP(addrs[0]).IsUnspecified() {
			t.Errorf("the %s listens on %v, want every interface", name, addrs)
		}
	}
	nodeIP := k.MustRun(t, "", "get", "node", "bind-all", "-o", `jsonpath={.status.addresses[?(@.type=="InternalIP")].address}`)
	if ip := net.ParseIP(nodeIP); ip == nil || ip.IsLoopback() {
		t.Skipf("no address but loopback to reach (%q)", nodeIP)
	}
	data, err := os.ReadFile(filepath.Join(dataDir, "admin.kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	remote := framework.NewKubectl(t, filepath.Join(t.TempDir(), "remote.kubeconfig"))
	if err := os.WriteFile(remote.Kubeconfig, data, 0o600); err != nil {
		t.Fatal(err)
	}
	remote.MustRun(t, "", "config", "set-cluster", "skiff", "--server", "https://"+net.JoinHostPort(nodeIP, fmt.Sprint(port)))
	if out := remote.MustRun(t, "", "get", "nodes"); !strings.Contains(out, "bind-all") {
		t.Errorf("through %s: %s", nodeIP, out)
	}
	if code := cluster.Stop(2 * time.Minute); code != 0 {
		t.Errorf("skiff up exited %d", code)
	}
}

// listeners returns the local addresses of the TCP sockets listening on
// port, from /proc/net/tcp and tcp6.
func listeners(t *testing.T, port int) []string {
	t.Helper()
	var addrs []string
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			// local_address is HEXIP:HEXPORT; state 0A is LISTEN.
			if len(f) < 4 || f[3] != "0A" {
				continue
			}
			hexIP, hexPort, _ := strings.Cut(f[1], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 16); err != nil || int(p) != port {
				continue
			}
			addrs = append(addrs, procNetIP(hexIP))
		}
	}
	return addrs
}

// procNetIP decodes an address of /proc/net/tcp{,6}: 32-bit words in host
// (little-endian) order.
func procNetIP(h string) string {
	b, err := hex.DecodeString(h)
	if err != nil {
		return h
	}
	for i := 0; i+4 <= len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.IP(b).String()
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
