package kubelet

import (
	"context"
	"errors"
	"net/http"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	listers "skiff.dev/skiff/pkg/generated/listers/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime/fake"
	"skiff.dev/skiff/pkg/kubelet/server"
)

func TestLogSource(t *testing.T) {
	ctx := context.Background()
	pod := &v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "u"},
		Spec: v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "app"}, {Name: "idle"}}}}
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	_ = indexer.Add(pod)
	rt := fake.New()
	first, _ := rt.StartContainer(ctx, pod, &pod.Spec.Containers[0], 0)
	rt.Exit(first, 1)
	second, _ := rt.StartContainer(ctx, pod, &pod.Spec.Containers[0], 1)
	src := &LogSource{Pods: listers.NewPodLister(indexer), Runtime: rt}

	for _, tc := range []struct {
		name               string
		ns, pod, container string
		previous           bool
		wantID             string
		wantCode           int
	}{
		{"current attempt", "ns", "web", "app", false, second, 0},
		{"previous attempt", "ns", "web", "app", true, first, 0},
		{"pod not on this node", "ns", "other", "app", false, "", http.StatusNotFound},
		{"container not in the pod", "ns", "web", "db", false, "", http.StatusBadRequest},
		{"container not started yet", "ns", "web", "idle", false, "", http.StatusBadRequest},
		{"no previous attempt", "ns", "web", "idle", true, "", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, running, err := src.ContainerLog(ctx, tc.ns, tc.pod, tc.container, tc.previous)
			if tc.wantCode != 0 {
				var se *server.Error
				if !errors.As(err, &se) || se.Code != tc.wantCode {
					t.Fatalf("err = %v, want HTTP %d", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The fake runtime has no log files; which attempt was chosen
			// shows in whether it runs.
			if want := tc.wantID == second; running() != want {
				t.Errorf("running() = %v, want %v", running(), want)
			}
		})
	}
	rt.Exit(second, 0)
	_, running, _ := src.ContainerLog(ctx, "ns", "web", "app", false)
	if running() {
		t.Error("an exited container reports running")
	}
}
