package framework

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// CRINamespace is the containerd namespace the CRI plugin keeps its
// images, sandboxes and containers in.
const CRINamespace = "k8s.io"

// Containerd is a containerd the test started, with its own socket, root
// and state directories, so it shares nothing with a system containerd.
type Containerd struct {
	// Dir holds the config, the socket, root/ and state/.
	Dir    string
	Socket string
	// LogPath is containerd's log.
	LogPath string
	// Runtime and Images are CRI clients on the socket.
	Runtime runtimeapi.RuntimeServiceClient
	Images  runtimeapi.ImageServiceClient
}

// Endpoint is the socket as --container-runtime-endpoint takes it.
func (c *Containerd) Endpoint() string { return "unix://" + c.Socket }

// SkipWithoutContainerd skips the test, saying why and how to fix it, when
// containerd, runc or a static busybox is missing or the test is not root.
// It returns the static busybox's path.
func SkipWithoutContainerd(t testing.TB) string {
	t.Helper()
	for _, bin := range []string{"containerd", "containerd-shim-runc-v2", "ctr", "runc"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("skipping the CRI test: %s is not installed (run `sudo hack/containerd-up.sh` or `sudo hack/install-containerd.sh`)", bin)
		}
	}
	busybox := StaticBusybox()
	if busybox == "" {
		t.Skipf("skipping the CRI test: no static busybox to build images with (run `sudo hack/install-containerd.sh`)")
	}
	if os.Geteuid() != 0 {
		t.Skipf("skipping the CRI test: containerd needs root")
	}
	return busybox
}

// PauseImage and BusyboxImage are the images hack/containerd-up.sh builds
// from the static busybox and imports: nothing is pulled.
const (
	PauseImage   = "skiff.local/pause:1"
	BusyboxImage = "skiff.local/busybox:1"
)

// StartContainerd starts containerd as README.md tells a user to, with
// hack/containerd-up.sh, on a directory of the test's own: its own root,
// state and socket, restrict_oom_score_adj on, PauseImage as the sandbox
// image, and PauseImage and BusyboxImage imported. It waits until the CRI
// plugin is ready. No CNI is set up: the kubelet's pods use the host
// network.
//
// At the end of the test every sandbox is stopped and removed, containerd
// stopped (`hack/containerd-up.sh --stop`), and its mounts and directory
// removed.
func StartContainerd(t testing.TB) *Containerd {
	t.Helper()
	// A short path: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "skiff-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Containerd{Dir: dir, Socket: filepath.Join(dir, "containerd.sock"), LogPath: filepath.Join(dir, "containerd.log")}
	t.Cleanup(func() { removeContainerdDir(t, dir) })
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "hack", "containerd-up.sh")
	// Runs after the sandboxes are removed (cleanups run last first).
	t.Cleanup(func() {
		if out, err := exec.Command(script, "--stop", "--dir", dir).CombinedOutput(); err != nil {
			t.Logf("%s --stop: %v\n%s", script, err, out)
		}
		if t.Failed() {
			c.DumpLog(t)
		}
	})
	out, err := exec.Command(script, "--dir", dir).CombinedOutput()
	if err != nil {
		c.DumpLog(t)
		t.Fatalf("%s --dir %s: %v\n%s", script, dir, err, out)
	}
	t.Logf("%s", out)

	conn, err := grpc.NewClient("unix://"+c.Socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("connect to containerd: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	c.Runtime, c.Images = runtimeapi.NewRuntimeServiceClient(conn), runtimeapi.NewImageServiceClient(conn)
	// Runs before the script stops containerd: the sandboxes' shims
	// outlive containerd, so they are removed while it still runs.
	t.Cleanup(c.removeAll)

	WaitFor(t, 60*time.Second, "containerd's CRI plugin to be ready", func() (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		st, err := c.Runtime.Status(ctx, &runtimeapi.StatusRequest{})
		if err != nil {
			return false, nil
		}
		for _, cond := range st.GetStatus().GetConditions() {
			if cond.Type == runtimeapi.RuntimeReady {
				return cond.Status, nil
			}
		}
		return false, nil
	})
	for _, img := range []string{PauseImage, BusyboxImage} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		st, err := c.Images.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: img}})
		cancel()
		if err != nil || st.Image == nil {
			t.Fatalf("hack/containerd-up.sh imported no %s that the CRI sees: %v", img, err)
		}
	}
	return c
}

// DumpLog prints the tail of containerd's log into the test output.
func (c *Containerd) DumpLog(t testing.TB) {
	data, err := os.ReadFile(c.LogPath)
	if err != nil {
		return
	}
	if len(data) > 8000 {
		data = data[len(data)-8000:]
	}
	t.Logf("---- containerd log (tail) ----\n%s", data)
}

// Ctr runs containerd's ctr on this containerd, in the CRI namespace.
func (c *Containerd) Ctr(args ...string) (string, error) {
	cmd := exec.Command("ctr", append([]string{"--address", c.Socket, "--namespace", CRINamespace}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ContainerIDs lists every containerd container in the CRI namespace
// (sandboxes included), as `ctr containers ls -q` prints them.
func (c *Containerd) ContainerIDs(t testing.TB) []string {
	t.Helper()
	out, err := c.Ctr("containers", "ls", "-q")
	if err != nil {
		t.Fatalf("ctr containers ls: %v\n%s", err, out)
	}
	ids := strings.Fields(out)
	sort.Strings(ids)
	return ids
}

// removeAll stops and removes every sandbox (with its containers), so no
// shim or mount outlives the test.
func (c *Containerd) removeAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := c.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return
	}
	for _, sb := range resp.Items {
		_, _ = c.Runtime.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id})
		_, _ = c.Runtime.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.Id})
	}
}

// removeContainerdDir kills shims still serving the socket, unmounts what
// is mounted under dir, and removes it.
func removeContainerdDir(t testing.TB, dir string) {
	socket := []byte(filepath.Join(dir, "containerd.sock"))
	for _, pid := range procs() {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && bytes.Contains(cmdline, []byte("containerd-shim")) && bytes.Contains(cmdline, socket) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	mounts := mountsUnder(dir)
	// Deepest first.
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	for _, m := range mounts {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			t.Logf("unmount %s: %v", m, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Logf("remove %s: %v", dir, err)
	}
}

func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var found []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			found = append(found, fields[4])
		}
	}
	return found
}
