package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
	skiffclient "skiff.dev/skiff/pkg/generated/clientset/versioned/typed/core/v1alpha1"
	"skiff.dev/skiff/test/e2e/framework"
)

// TestNoLostUpdates is fault 4 of the fault suite: 16 writers each
// increment a counter label on one pod 200 times, retrying on conflict.
// Optimistic concurrency must make every increment count.
func TestNoLostUpdates(t *testing.T) {
	const writers, increments = 16, 200
	dataDir := filepath.Join(t.TempDir(), "data")
	server := framework.StartAPIServer(t, dataDir, framework.FreePort(t))
	// Unthrottled: the contention is the point.
	pods := server.AdminClient(t).CoreV1alpha1().Pods("default")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	pod := &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "counter", Labels: map[string]string{"count": "0"}},
		Spec:       v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "c", Image: "busybox"}}},
	}
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create: %v", err)
	}

	var conflicts atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < increments; i++ {
				if err := increment(ctx, pods, &conflicts); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("writer gave up: %v", err)
	}

	p, err := pods.Get(ctx, "counter", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("final count %s after %d conflicts retried", p.Labels["count"], conflicts.Load())
	if want := strconv.Itoa(writers * increments); p.Labels["count"] != want {
		t.Errorf("count = %s, want %s: an acknowledged update was lost", p.Labels["count"], want)
	}
}

// increment adds one to the pod's count label, retrying on 409 Conflict for
// as long as ctx allows: under 16-way contention a writer may lose many
// rounds in a row, and giving up would make the count fall short for a
// reason that is not a lost update.
func increment(ctx context.Context, pods skiffclient.PodInterface, conflicts *atomic.Int64) error {
	for {
		p, err := pods.Get(ctx, "counter", metav1.GetOptions{})
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(p.Labels["count"])
		if err != nil {
			return fmt.Errorf("label count=%q: %w", p.Labels["count"], err)
		}
		p.Labels["count"] = strconv.Itoa(n + 1)
		_, err = pods.Update(ctx, p, metav1.UpdateOptions{})
		if !apierrors.IsConflict(err) {
			return err
		}
		conflicts.Add(1)
	}
}
