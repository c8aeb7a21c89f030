package fake

import (
	"context"
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

func TestFakeRuntime(t *testing.T) {
	ctx := context.Background()
	f := New()
	pod := &v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u"}}
	c := &v1alpha1.Container{Name: "c", Image: "img"}

	id, err := f.StartContainer(ctx, pod, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := f.ListContainers(ctx)
	if len(cs) != 1 || cs[0].State != runtime.StateRunning || cs[0].PodUID != "u" {
		t.Fatalf("a started container is running at once: %+v", cs)
	}
	f.Exit(id, 2)
	cs, _ = f.ListContainers(ctx)
	if cs[0].State != runtime.StateExited || cs[0].ExitCode != 2 || cs[0].Reason != "Error" {
		t.Errorf("after Exit(2): %+v", cs[0])
	}

	f.SetStartError("u", "c", &runtime.StartError{Reason: runtime.ReasonErrImagePull, Message: "no such image"})
	if _, err := f.StartContainer(ctx, pod, c, 1); !runtime.IsImageError(err) {
		t.Errorf("start with an image error: %v", err)
	}
	if cs, _ = f.ListContainers(ctx); len(cs) != 1 {
		t.Errorf("an image error leaves no container: %+v", cs)
	}
	f.SetStartError("u", "c", &runtime.StartError{Reason: runtime.ReasonRunContainerError, Message: "boom"})
	if _, err := f.StartContainer(ctx, pod, c, 1); err == nil || runtime.IsImageError(err) {
		t.Errorf("start with a run error: %v", err)
	}
	if latest, _ := runtime.Latest(mustList(t, f), "c"); latest.ExitCode != 128 || latest.Reason != "StartError" {
		t.Errorf("a run error leaves an exited attempt: %+v", latest)
	}
	f.SetStartError("u", "c", nil)
	id, _ = f.StartContainer(ctx, pod, c, 2)
	if err := f.StopContainer(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	if latest, _ := runtime.Latest(mustList(t, f), "c"); latest.ExitCode != 137 {
		t.Errorf("stopped with no grace: %+v", latest)
	}
	if err := f.StopContainer(ctx, "nope", 0); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("stopping an unknown container: %v", err)
	}
	if err := f.RemovePod(ctx, "u"); err != nil || len(mustList(t, f)) != 0 {
		t.Errorf("RemovePod left %v (%v)", mustList(t, f), err)
	}
}

func mustList(t *testing.T, f *Runtime) []runtime.Container {
	cs, err := f.ListContainers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
