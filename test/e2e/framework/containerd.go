package framework

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	*Process
	// Dir holds the config, the socket, root/ and state/.
	Dir    string
	Socket string
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
			t.Skipf("skipping the CRI test: %s is not installed (run `sudo hack/install-containerd.sh`)", bin)
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

// StartContainerd writes a containerd config from `containerd config
// default` with its own root, state and socket under a temp dir, the
// sandbox (pause) image set to sandboxImage, and restrict_oom_score_adj on
// (nothing here may lower oom_score_adj, and the sandbox asks to); then
// starts containerd and waits until its CRI plugin is ready. No CNI is
// set up: the kubelet's pods use the host network.
//
// At the end of the test every sandbox is stopped and removed, containerd
// stopped, and its mounts and directory removed.
func StartContainerd(t testing.TB, sandboxImage string) *Containerd {
	t.Helper()
	// A short path: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "skiff-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Containerd{Dir: dir, Socket: filepath.Join(dir, "containerd.sock")}
	t.Cleanup(func() { removeContainerdDir(t, dir) })

	defaults, err := exec.Command("containerd", "config", "default").Output()
	if err != nil {
		t.Fatalf("containerd config default: %v", err)
	}
	config := string(defaults)
	for _, r := range []struct{ pattern, value string }{
		{`(?m)^root = .*$`, fmt.Sprintf("root = %q", filepath.Join(dir, "root"))},
		{`(?m)^state = .*$`, fmt.Sprintf("state = %q", filepath.Join(dir, "state"))},
		{`(?m)^(\s*)address = "/run/containerd/containerd.sock"$`, fmt.Sprintf("${1}address = %q", c.Socket)},
		{`(?m)^(\s*)restrict_oom_score_adj = .*$`, "${1}restrict_oom_score_adj = true"},
		{`(?m)^(\s*)sandbox_image = .*$`, fmt.Sprintf("${1}sandbox_image = %q", sandboxImage)},
		{`(?m)^(\s*)path = "/opt/containerd"$`, fmt.Sprintf("${1}path = %q", filepath.Join(dir, "opt"))},
	} {
		re := regexp.MustCompile(r.pattern)
		if n := len(re.FindAllStringIndex(config, -1)); n != 1 {
			t.Fatalf("containerd's default config has %d lines matching %s, want 1:\n%s", n, r.pattern, config)
		}
		config = re.ReplaceAllString(config, r.value)
	}
	if onOverlay(dir) {
		// overlayfs cannot stack on overlayfs (a container's own root):
		// copy layers instead; the test images have one small layer.
		re := regexp.MustCompile(`(?m)^(\s*)snapshotter = "overlayfs"$`)
		config = re.ReplaceAllString(config, `${1}snapshotter = "native"`)
	}
	configPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}

	c.Process = Start(t, "containerd", mustLookPath(t, "containerd"), "--config", configPath)
	conn, err := grpc.NewClient("unix://"+c.Socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("connect to containerd: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	c.Runtime, c.Images = runtimeapi.NewRuntimeServiceClient(conn), runtimeapi.NewImageServiceClient(conn)
	// Runs before Start's cleanup kills containerd: the sandboxes' shims
	// outlive containerd, so they are removed while it still runs.
	t.Cleanup(c.removeAll)

	WaitFor(t, 60*time.Second, "containerd's CRI plugin to be ready", func() (bool, error) {
		if c.Exited() {
			return false, fmt.Errorf("containerd exited: %v", c.err)
		}
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
	return c
}

// onOverlay reports whether dir is on an overlay filesystem.
func onOverlay(dir string) bool {
	const overlayfsMagic = 0x794c7630
	var fs syscall.Statfs_t
	return syscall.Statfs(dir, &fs) == nil && fs.Type == overlayfsMagic
}

func mustLookPath(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not on PATH: %v", name, err)
	}
	return p
}

// Ctr runs containerd's ctr on this containerd, in the CRI namespace.
func (c *Containerd) Ctr(args ...string) (string, error) {
	cmd := exec.Command("ctr", append([]string{"--address", c.Socket, "--namespace", CRINamespace}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ImportImage builds img from busybox and imports it with `ctr images
// import`, where the CRI plugin finds it.
func (c *Containerd) ImportImage(t testing.TB, busybox string, img OCIImage) {
	t.Helper()
	archive := filepath.Join(t.TempDir(), "image.tar")
	if err := WriteBusyboxImage(archive, busybox, img); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Ctr("images", "import", archive); err != nil {
		t.Fatalf("ctr images import %s: %v\n%s", img.Name, err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.Images.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: img.Name}})
	if err != nil || st.Image == nil {
		t.Fatalf("image %s imported but the CRI does not see it: %v", img.Name, err)
	}
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
	if c.Exited() {
		return
	}
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
	c.Stop(30 * time.Second)
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
