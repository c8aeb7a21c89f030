package kubelet

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
	"skiff.dev/skiff/pkg/kubelet/nodestatus"
	"skiff.dev/skiff/pkg/kubelet/runtime"
	fakeruntime "skiff.dev/skiff/pkg/kubelet/runtime/fake"
)

type countingRuntime struct {
	*fakeruntime.Runtime
	lists atomic.Int64
}

func (c *countingRuntime) ListContainers(ctx context.Context) ([]runtime.Container, error) {
	c.lists.Add(1)
	return c.Runtime.ListContainers(ctx)
}

// TestRelistedRuntime runs a node over a runtime that reports nothing, as
// CRI: the node's PLEG notices a container's exit, the worker restarts it
// from the relist, and the runtime is listed only by the PLEG while nothing
// changes.
func TestRelistedRuntime(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pod := &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "uid-1"},
		Spec: v1alpha1.PodSpec{NodeName: "n1", RestartPolicy: v1alpha1.RestartPolicyAlways,
			Containers: []v1alpha1.Container{{Name: "a", Image: "img"}}},
	}
	client := fake.NewClientset(pod)
	rt := &countingRuntime{Runtime: fakeruntime.New()} // no SetOnChange: it reports nothing
	const period = 20 * time.Millisecond
	n := NewNode(ctx, NodeConfig{
		Client: client, Runtime: rt, NodeStatus: nodestatus.Config{NodeName: "n1", NodeIP: "10.0.0.1"},
		Relist: true, RelistPeriod: period,
	})
	go n.Run(ctx)
	defer n.Wait()
	defer cancel()
	n.UpdatePod(pod)

	restarts := func() int32 {
		p, err := client.CoreV1alpha1().Pods("ns").Get(ctx, "web", metav1.GetOptions{})
		if err != nil || len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].State.Running == nil {
			return -1
		}
		return p.Status.ContainerStatuses[0].RestartCount
	}
	waitFor(t, "web running", func() bool { return restarts() == 0 })

	// Idle: only the PLEG lists.
	before := rt.lists.Load()
	time.Sleep(20 * period)
	idle := rt.lists.Load() - before
	t.Logf("%d listings over 20 relist periods while idle", idle)
	if idle > 22 {
		t.Errorf("%d listings over 20 relist periods of an idle node, want only the relists (about 20)", idle)
	}

	cs, _ := rt.Runtime.ListContainers(ctx)
	rt.Exit(cs[0].ID, 1)
	waitFor(t, "web restarted after the relist saw it exit", func() bool { return restarts() == 1 })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
