package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/test/e2e/framework"
)

// mountTmpfs mounts a tmpfs of size on a fresh directory for the test, or
// skips the test where that is not allowed (not root, no mount).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small filesystem needs root")
	}
	dir := filepath.Join(t.TempDir(), "vol")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount a %s tmpfs: %v: %s", size, err, out)
	}
	t.Cleanup(func() {
		// The server is stopped by its own cleanup, registered later and
		// so run first.
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// TestEmbeddedEtcdTooSmallVolume is part of fault 9 of the fault suite: a
// data dir on a volume too small for etcd's WAL. skiff-apiserver must exit
// with an error that says so, not a stack trace from inside etcd.
func TestEmbeddedEtcdTooSmallVolume(t *testing.T) {
	vol := mountTmpfs(t, "40m")
	p := framework.Start(t, "skiff-apiserver", framework.Binary(t, "skiff-apiserver"),
		"--data-dir", filepath.Join(vol, "data"), "--secure-port", fmt.Sprint(framework.FreePort(t)))
	framework.WaitFor(t, 90*time.Second, "skiff-apiserver to exit", func() (bool, error) { return p.Exited(), nil })
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	out := string(data)
	t.Logf("skiff-apiserver said:\n%s", out)
	for _, bad := range []string{"panic", "goroutine ", "SIGBUS"} {
		if strings.Contains(out, bad) {
			t.Errorf("output contains %q: a crash, not a clear error", bad)
		}
	}
	if !strings.Contains(out, "free") || !strings.Contains(out, "--data-dir") {
		t.Errorf("the error does not say the volume lacks free space and what to do about it")
	}
}

// TestEmbeddedEtcdDiskFills is fault 9 of the fault suite: the volume under
// the embedded etcd fills while the server runs, first with someone else's
// file, then with the server's own data (up to etcd's space quota, which
// skiff sizes to the volume). Writes must fail with a clear 5xx while reads
// go on; the server must not exit; once the other file is removed, writes
// must resume without a restart; and nothing acknowledged may be lost.
func TestEmbeddedEtcdDiskFills(t *testing.T) {
	vol := mountTmpfs(t, "512m")
	dataDir := filepath.Join(vol, "data")
	server := framework.StartAPIServer(t, dataDir, framework.FreePort(t),
		// Compact often, so deleted objects free database pages soon.
		"--etcd-compaction-interval", "10s")
	client := server.AdminClient(t)
	pods := client.CoreV1alpha1().Pods("default")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	create := func(name string, filler int) error {
		p := &v1alpha1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "c", Image: "busybox"}}},
		}
		if filler > 0 {
			p.Spec.Containers[0].Args = []string{strings.Repeat("x", filler)}
		}
		// No retries: client-go retries a 5xx with Retry-After ten times,
		// and the test wants to see each answer.
		return client.CoreV1alpha1().RESTClient().Post().Namespace("default").Resource("pods").
			Body(p).MaxRetries(0).Do(ctx).Error()
	}
	expectRefused := func(err error, what string) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: succeeded, want a 5xx", what)
		}
		st, ok := err.(apierrors.APIStatus)
		if !ok || st.Status().Code < 500 || st.Status().Code == http.StatusInternalServerError {
			t.Fatalf("%s: %v, want a 503 or 507 with a message", what, err)
		}
		t.Logf("%s: HTTP %d: %s", what, st.Status().Code, st.Status().Message)
	}
	for i := 0; i < 20; i++ {
		if err := create(fmt.Sprintf("before-%d", i), 0); err != nil {
			t.Fatalf("create before the disk fills: %v", err)
		}
	}

	// Someone else fills the volume.
	filler := filepath.Join(vol, "filler")
	if out, err := exec.Command("dd", "if=/dev/zero", "of="+filler, "bs=1M", "count=1000").CombinedOutput(); err == nil {
		t.Fatalf("dd filled 1000 MiB on a 512 MiB volume? %s", out)
	}
	probe := 0
	framework.WaitFor(t, time.Minute, "writes to be refused on the full volume", func() (bool, error) {
		probe++
		err := create(fmt.Sprintf("probe-full-%d", probe), 0)
		if err != nil {
			t.Logf("probe %d on the full volume: %v", probe, err)
		}
		return err != nil, nil
	})
	expectRefused(create("while-full", 0), "a create on the full volume")
	if _, err := pods.List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("list on the full volume: %v", err)
	}
	if _, err := pods.Get(ctx, "before-0", metav1.GetOptions{}); err != nil {
		t.Errorf("get on the full volume: %v", err)
	}
	if server.Exited() {
		t.Fatal("skiff-apiserver exited when its volume filled")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	framework.WaitFor(t, time.Minute, "writes to resume once the filler is removed", func() (bool, error) {
		return create("after-filler", 0) == nil, nil
	})

	// The server's own data fills its quota: large pods until refused.
	var big []string
	var refused error
	for i := 0; i < 400 && refused == nil; i++ {
		name := fmt.Sprintf("big-%d", i)
		if refused = create(name, 900<<10); refused == nil {
			big = append(big, name)
		}
	}
	expectRefused(refused, fmt.Sprintf("create after %d large pods", len(big)))
	if _, err := pods.List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("list with the database full: %v", err)
	}
	if server.Exited() {
		t.Fatal("skiff-apiserver exited when its database filled")
	}
	// Nothing acknowledged is lost, across a restart too.
	server.Stop(30 * time.Second)
	server = framework.StartAPIServer(t, dataDir, framework.FreePort(t))
	pods = server.AdminClient(t).CoreV1alpha1().Pods("default")
	list, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list after restart: %v", err)
	}
	stored := map[string]bool{}
	for _, p := range list.Items {
		stored[p.Name] = true
	}
	for _, name := range append(append([]string{"after-filler"}, big...), beforeNames(20)...) {
		if !stored[name] {
			t.Errorf("acknowledged pod %s is lost", name)
		}
	}
}

func beforeNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("before-%d", i)
	}
	return out
}
