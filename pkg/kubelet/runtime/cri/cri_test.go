package cri

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/logs"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

func newTestRuntime(t *testing.T, f *fakeCRI, endpoint, node string) *Runtime {
	r, err := New(context.Background(), Options{Endpoint: endpoint, NodeName: node, LogRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func testPod(name string, containers ...v1alpha1.Container) *v1alpha1.Pod {
	return &v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name)},
		Spec: v1alpha1.PodSpec{Containers: containers}}
}

func container(name, image string, policy v1alpha1.PullPolicy) v1alpha1.Container {
	return v1alpha1.Container{Name: name, Image: image, ImagePullPolicy: policy, Command: []string{"/bin/app"}}
}

func listOne(t *testing.T, r *Runtime, id string) runtime.Container {
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
	t.Fatalf("container %s not listed in %v", id, cs)
	return runtime.Container{}
}

func TestStartRunsASandboxThenTheContainer(t *testing.T) {
	ctx := context.Background()
	f := newFakeCRI()
	f.images["busybox:1.36"] = "sha256:bb"
	r := newTestRuntime(t, f, f.serve(t), "node-a")
	if r.Type() != "fakecri" {
		t.Errorf("type %q, want the runtime's name", r.Type())
	}
	c := container("app", "busybox:1.36", v1alpha1.PullIfNotPresent)
	c.Args = []string{"--greet", "$(WHO)"}
	c.Env = []v1alpha1.EnvVar{{Name: "WHO", Value: "world"}}
	c.WorkingDir = "/srv"
	pod := testPod("web", c, container("side", "busybox:1.36", v1alpha1.PullIfNotPresent))

	id, err := r.StartContainer(ctx, pod, &pod.Spec.Containers[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.StartContainer(ctx, pod, &pod.Spec.Containers[1], 0); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.Join(f.calls, " "), "RunPodSandbox"); n != 1 {
		t.Errorf("%d sandboxes run for one pod, want 1", n)
	}
	for _, cfg := range f.sandboxCfg {
		ns := cfg.GetLinux().GetSecurityContext().GetNamespaceOptions()
		if ns.GetNetwork() != runtimeapi.NamespaceMode_NODE || cfg.Hostname != "" {
			t.Errorf("sandbox network %v hostname %q: want host network and no hostname", ns.GetNetwork(), cfg.Hostname)
		}
		if cfg.Labels[LabelPodUID] != "uid-web" || cfg.Labels[LabelNode] != "node-a" || cfg.Metadata.Name != "web" || cfg.Metadata.Namespace != "ns" {
			t.Errorf("sandbox config %+v", cfg)
		}
	}
	f.mu.Lock()
	st := f.containers[id]
	f.mu.Unlock()
	if st.Image.Image != "sha256:bb" || st.Image.UserSpecifiedImage != "busybox:1.36" {
		t.Errorf("image %+v: want the image ID, with the image as the user wrote it", st.Image)
	}
	if strings.Contains(strings.Join(f.calls, " "), "PullImage") {
		t.Error("a present image with IfNotPresent was pulled")
	}

	got := listOne(t, r, id)
	if got.State != runtime.StateRunning || got.PodUID != "uid-web" || got.PodName != "web" || got.PodNamespace != "ns" ||
		got.Name != "app" || got.Attempt != 0 || got.StartedAt.IsZero() || got.Image != "busybox:1.36" {
		t.Errorf("listed %+v", got)
	}
	if !strings.HasSuffix(got.LogPath, "ns_web_uid-web/app/0.log") {
		t.Errorf("log path %q", got.LogPath)
	}
	var out bytes.Buffer
	if err := logs.Read(ctx, got.LogPath, logs.Options{}, nil, &out); err != nil || out.String() != "app started\n" {
		t.Errorf("logs %q, %v", out.String(), err)
	}

	f.exit(id, 7)
	got = listOne(t, r, id)
	if got.State != runtime.StateExited || got.ExitCode != 7 || got.Reason != "Error" || got.FinishedAt.IsZero() {
		t.Errorf("after exit: %+v", got)
	}
}

func TestImages(t *testing.T) {
	for _, tc := range []struct {
		name       string
		image      string
		policy     v1alpha1.PullPolicy
		present    bool
		pullable   bool
		wantReason string // empty: started
		wantPull   bool
	}{
		{"present, IfNotPresent", "app:1", v1alpha1.PullIfNotPresent, true, false, "", false},
		{"missing but pullable", "app:1", v1alpha1.PullIfNotPresent, false, true, "", true},
		{"missing and not pullable", "app:1", v1alpha1.PullIfNotPresent, false, false, runtime.ReasonErrImagePull, true},
		{"Never and missing", "app:1", v1alpha1.PullNever, false, true, runtime.ReasonErrImageNeverPull, false},
		{"Never and present", "app:1", v1alpha1.PullNever, true, false, "", false},
		{"Always pulls even when present", "app:latest", v1alpha1.PullAlways, true, false, runtime.ReasonErrImagePull, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCRI()
			if tc.present {
				f.images[tc.image] = "sha256:x"
			}
			f.pullable[tc.image] = tc.pullable
			r := newTestRuntime(t, f, f.serve(t), "node-a")
			pod := testPod("p", container("c", tc.image, tc.policy))
			id, err := r.StartContainer(context.Background(), pod, &pod.Spec.Containers[0], 0)
			pulled := strings.Contains(strings.Join(f.calls, " "), "PullImage")
			if pulled != tc.wantPull {
				t.Errorf("pulled = %v, want %v", pulled, tc.wantPull)
			}
			if tc.wantReason == "" {
				if err != nil {
					t.Fatalf("start: %v", err)
				}
				return
			}
			var se *runtime.StartError
			if !errors.As(err, &se) || se.Reason != tc.wantReason {
				t.Fatalf("err = %v, want %s", err, tc.wantReason)
			}
			if id != "" || strings.Contains(strings.Join(f.calls, " "), "CreateContainer") {
				t.Error("a container was created without its image")
			}
			if tc.wantReason == runtime.ReasonErrImagePull && !strings.Contains(se.Message, "not found") {
				t.Errorf("message %q should carry the runtime's", se.Message)
			}
		})
	}
}

func TestStartFailureLeavesAnExitedContainer(t *testing.T) {
	f := newFakeCRI()
	f.images["app:1"] = "sha256:x"
	f.failStart["c"] = true
	r := newTestRuntime(t, f, f.serve(t), "node-a")
	pod := testPod("p", container("c", "app:1", v1alpha1.PullIfNotPresent))
	id, err := r.StartContainer(context.Background(), pod, &pod.Spec.Containers[0], 0)
	var se *runtime.StartError
	if !errors.As(err, &se) || se.Reason != runtime.ReasonRunContainerError || !strings.Contains(se.Message, "executable file not found") {
		t.Fatalf("err = %v, want RunContainerError with the runtime's message", err)
	}
	if c := listOne(t, r, id); c.State != runtime.StateExited || c.ExitCode != 128 || c.Reason != "StartError" {
		t.Errorf("container %+v, want exited 128 StartError", c)
	}
}

func TestStopRemoveAndRemovePod(t *testing.T) {
	ctx := context.Background()
	f := newFakeCRI()
	f.images["app:1"] = "sha256:x"
	r := newTestRuntime(t, f, f.serve(t), "node-a")
	pod := testPod("p", container("c", "app:1", v1alpha1.PullIfNotPresent))
	id, err := r.StartContainer(ctx, pod, &pod.Spec.Containers[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	logDir := r.podLogDir(pod)
	if err := r.StopContainer(ctx, id, 7*time.Second); err != nil {
		t.Fatal(err)
	}
	if f.stops[id] != 7 {
		t.Errorf("stop timeout %d, want the grace of 7s", f.stops[id])
	}
	if c := listOne(t, r, id); c.State != runtime.StateExited {
		t.Errorf("after stop: %+v", c)
	}
	if err := r.StopContainer(ctx, "nope", 0); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("stopping an unknown container: %v", err)
	}
	id2, err := r.StartContainer(ctx, pod, &pod.Spec.Containers[0], 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if cs, _ := r.ListContainers(ctx); len(cs) != 1 || cs[0].ID != id2 {
		t.Errorf("after remove: %v", cs)
	}
	if err := r.RemovePod(ctx, pod.UID); err != nil {
		t.Fatal(err)
	}
	if cs, _ := r.ListContainers(ctx); len(cs) != 0 {
		t.Errorf("after RemovePod: %v", cs)
	}
	if len(f.sandboxes) != 0 {
		t.Errorf("sandboxes left: %v", f.sandboxes)
	}
	if _, err := os.Stat(logDir); !os.IsNotExist(err) {
		t.Errorf("pod logs left: %v", err)
	}
}

func TestRestartedKubeletFindsItsOwnContainersOnly(t *testing.T) {
	ctx := context.Background()
	f := newFakeCRI()
	f.images["app:1"] = "sha256:x"
	endpoint := f.serve(t)
	pod := testPod("p", container("c", "app:1", v1alpha1.PullIfNotPresent))
	mine, err := newTestRuntime(t, f, endpoint, "node-a").StartContainer(ctx, pod, &pod.Spec.Containers[0], 2)
	if err != nil {
		t.Fatal(err)
	}
	other := testPod("q", container("c", "app:1", v1alpha1.PullIfNotPresent))
	if _, err := newTestRuntime(t, f, endpoint, "node-b").StartContainer(ctx, other, &other.Spec.Containers[0], 0); err != nil {
		t.Fatal(err)
	}
	restarted := newTestRuntime(t, f, endpoint, "node-a")
	cs, err := restarted.ListContainers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].ID != mine || cs[0].State != runtime.StateRunning || cs[0].Attempt != 2 {
		t.Errorf("after a restart node-a lists %+v, want only its running container", cs)
	}
	if len(cs) == 1 && cs[0].Hash != runtime.HashContainer(&pod.Spec.Containers[0]) {
		t.Errorf("after a restart the container's spec hash is %q, want %q", cs[0].Hash, runtime.HashContainer(&pod.Spec.Containers[0]))
	}
	// A new container of the same pod goes into the existing sandbox.
	if _, err := restarted.StartContainer(ctx, pod, &pod.Spec.Containers[0], 3); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.Join(f.calls, " "), "RunPodSandbox"); n != 2 {
		t.Errorf("%d sandboxes run, want 2 (one per pod)", n)
	}
}

func TestStatusIsAskedOnlyWhenItMayHaveChanged(t *testing.T) {
	ctx := context.Background()
	f := newFakeCRI()
	f.images["app:1"] = "sha256:x"
	r := newTestRuntime(t, f, f.serve(t), "node-a")
	pod := testPod("p", container("c", "app:1", v1alpha1.PullIfNotPresent))
	id, _ := r.StartContainer(ctx, pod, &pod.Spec.Containers[0], 0)
	count := func() int { return strings.Count(strings.Join(f.calls, " "), "ContainerStatus") }
	for range 3 {
		_, _ = r.ListContainers(ctx)
	}
	if n := count(); n != 1 {
		t.Errorf("%d ContainerStatus calls for a running container listed 3 times, want 1", n)
	}
	f.exit(id, 0)
	for range 3 {
		_, _ = r.ListContainers(ctx)
	}
	if n := count(); n != 2 {
		t.Errorf("%d ContainerStatus calls after it exited, want 2", n)
	}
}

func TestNewFailsWithoutARuntime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := New(ctx, Options{Endpoint: "unix://" + t.TempDir() + "/none.sock", NodeName: "n"}); err == nil {
		t.Error("connecting to no runtime should fail")
	}
}

func TestRemoveAllSandboxesRemovesThisNodesOnly(t *testing.T) {
	ctx := context.Background()
	f := newFakeCRI()
	f.images["app:1"] = "sha256:x"
	endpoint := f.serve(t)
	a, b := newTestRuntime(t, f, endpoint, "node-a"), newTestRuntime(t, f, endpoint, "node-b")
	for _, name := range []string{"p", "q"} {
		pod := testPod(name, container("c", "app:1", v1alpha1.PullIfNotPresent))
		if _, err := a.StartContainer(ctx, pod, &pod.Spec.Containers[0], 0); err != nil {
			t.Fatal(err)
		}
	}
	other := testPod("r", container("c", "app:1", v1alpha1.PullIfNotPresent))
	if _, err := b.StartContainer(ctx, other, &other.Spec.Containers[0], 0); err != nil {
		t.Fatal(err)
	}
	var _ runtime.SandboxRemover = a
	if err := a.RemoveAllSandboxes(ctx); err != nil {
		t.Fatal(err)
	}
	if len(f.sandboxes) != 1 || len(f.containers) != 1 {
		t.Errorf("%d sandboxes and %d containers left, want node-b's one of each", len(f.sandboxes), len(f.containers))
	}
	for _, s := range f.sandboxes {
		if s.Labels[LabelNode] != "node-b" {
			t.Errorf("sandbox of %s left", s.Labels[LabelNode])
		}
	}
}

func TestPodSandboxImageIsPulledOnceIfMissing(t *testing.T) {
	ctx := context.Background()
	f := newFakeCRI()
	f.images["app:1"] = "sha256:x"
	f.pullable["pause:1"] = true
	r, err := New(ctx, Options{Endpoint: f.serve(t), NodeName: "n", LogRoot: t.TempDir(), PodSandboxImage: "pause:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, name := range []string{"p", "q"} {
		pod := testPod(name, container("c", "app:1", v1alpha1.PullIfNotPresent))
		if _, err := r.StartContainer(ctx, pod, &pod.Spec.Containers[0], 0); err != nil {
			t.Fatal(err)
		}
	}
	if f.images["pause:1"] == "" {
		t.Error("the sandbox image was not pulled")
	}
	if n := strings.Count(strings.Join(f.calls, " "), "PullImage"); n != 1 {
		t.Errorf("%d pulls, want the sandbox image's one", n)
	}

	// Missing and not pullable: the pod says which image, and why.
	f2 := newFakeCRI()
	f2.images["app:1"] = "sha256:x"
	r2, err := New(ctx, Options{Endpoint: f2.serve(t), NodeName: "n", LogRoot: t.TempDir(), PodSandboxImage: "pause:absent"})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	pod := testPod("p", container("c", "app:1", v1alpha1.PullIfNotPresent))
	_, err = r2.StartContainer(ctx, pod, &pod.Spec.Containers[0], 0)
	var se *runtime.StartError
	if !errors.As(err, &se) || !strings.Contains(se.Message, `pod sandbox image "pause:absent"`) || len(f2.sandboxes) != 0 {
		t.Errorf("start without the sandbox image: %v, %d sandboxes", err, len(f2.sandboxes))
	}
}

func TestProbe(t *testing.T) {
	ctx := context.Background()
	f := newFakeCRI()
	v, err := Probe(ctx, f.serve(t), 5*time.Second)
	if err != nil || v.RuntimeName != "fakecri" {
		t.Errorf("probe of a runtime: %v %v", v, err)
	}
	sock := t.TempDir() + "/none.sock"
	if _, err := Probe(ctx, "unix://"+sock, 5*time.Second); err == nil || !strings.Contains(err.Error(), sock) {
		t.Errorf("probe of no runtime: %v", err)
	}
}
