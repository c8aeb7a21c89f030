// Package controllermanager runs skiff-controller-manager (app.Run, as the
// binary does) against an in-process skiff-apiserver, under its own
// identity system:kube-controller-manager.
package controllermanager

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/apiserver/auth"
	"skiff.dev/skiff/pkg/controllermanager/app"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/test/integration/framework"
)

const (
	ns    = "cm-it"
	grace = 2 * time.Second
)

// startControllerManager runs the controller manager until the test ends
// and checks it exits cleanly.
func startControllerManager(t *testing.T, s *framework.TestServer) {
	t.Helper()
	o := app.NewOptions()
	o.ClientConfig = s.ConfigFor(auth.ControllerManagerUser)
	o.Serving.SecureServing.BindPort = 0 // no health endpoint needed
	o.NodeMonitorGracePeriod = grace
	o.NodeEvictionRate = 100
	// Leader election stays on: the identity must be allowed its Lease.
	o.LeaderElection.LeaseDuration = 4 * time.Second
	o.LeaderElection.RenewDeadline = 3 * time.Second
	o.LeaderElection.RetryPeriod = 500 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, o) }()
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("controller manager exited with %v, want a clean exit", err)
			}
		})
	})
}

func eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	var lastErr error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 60*time.Second, true,
		func(context.Context) (bool, error) {
			ok, err := cond()
			lastErr = err
			return ok, nil
		})
	if err != nil {
		t.Fatalf("timed out waiting for %s (last error: %v)", what, lastErr)
	}
}

func createReadyNode(t *testing.T, c clientset.Interface, name string) {
	t.Helper()
	ctx := context.Background()
	n, err := c.CoreV1alpha1().Nodes().Create(ctx, &v1alpha1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create node %s: %v", name, err)
	}
	n.Status.Conditions = []v1alpha1.NodeCondition{
		{Type: v1alpha1.NodeReady, Status: v1alpha1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: metav1.Now()},
		{Type: "MemoryPressure", Status: v1alpha1.ConditionFalse, Reason: "KubeletHasSufficientMemory"},
	}
	if _, err := c.CoreV1alpha1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("write status of node %s: %v", name, err)
	}
	now := metav1.NowMicro()
	if _, err := c.CoreV1alpha1().Leases("skiff-node-lease").Create(ctx, &v1alpha1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: "skiff-node-lease", Name: name},
		Spec:       v1alpha1.LeaseSpec{HolderIdentity: ptr.To(name), LeaseDurationSeconds: ptr.To[int32](40), RenewTime: &now},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create lease of node %s: %v", name, err)
	}
}

// keepRenewing renews a node's Lease, as its kubelet would, until the test
// ends.
func keepRenewing(t *testing.T, c clientset.Interface, name string) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		l, err := c.CoreV1alpha1().Leases("skiff-node-lease").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return
		}
		now := metav1.NowMicro()
		l.Spec.RenewTime = &now
		_, _ = c.CoreV1alpha1().Leases("skiff-node-lease").Update(ctx, l, metav1.UpdateOptions{})
	}, grace/4)
}

func boundPod(name, node string, tolerations ...v1alpha1.Toleration) *v1alpha1.Pod {
	return &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.PodSpec{
			NodeName:    node,
			Containers:  []v1alpha1.Container{{Name: "main", Image: "busybox:1.36", Command: []string{"sleep", "3600"}}},
			Tolerations: tolerations,
		},
	}
}

func TestNodeWhoseLeaseExpiresIsTaintedAndItsPodsEvicted(t *testing.T) {
	s := framework.StartTestServer(t)
	c := s.Client
	ctx := context.Background()
	createReadyNode(t, c, "quiet")
	// A second, live node: with no node ready at all the controller
	// evicts nothing (upstream's master disruption mode).
	createReadyNode(t, c, "steady")
	keepRenewing(t, c, "steady")
	unreachable := "node.kubernetes.io/unreachable"
	for _, p := range []*v1alpha1.Pod{
		boundPod("short", "quiet", v1alpha1.Toleration{Key: unreachable, Operator: v1alpha1.TolerationOpExists, Effect: v1alpha1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](1)}),
		boundPod("forever", "quiet", v1alpha1.Toleration{Key: unreachable, Operator: v1alpha1.TolerationOpExists, Effect: v1alpha1.TaintEffectNoExecute}),
		boundPod("defaults", "quiet"),
	} {
		if _, err := c.CoreV1alpha1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod %s: %v", p.Name, err)
		}
	}
	// DefaultTolerationSeconds: what the user sees in the pod.
	p, err := c.CoreV1alpha1().Pods(ns).Get(ctx, "defaults", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Spec.Tolerations) != 2 || *p.Spec.Tolerations[0].TolerationSeconds != 300 || *p.Spec.Tolerations[1].TolerationSeconds != 300 {
		t.Errorf("a pod without tolerations got %+v, want the not-ready and unreachable tolerations for 300 s", p.Spec.Tolerations)
	}

	startControllerManager(t, s)

	// The lease is never renewed: Ready=Unknown, tainted unreachable.
	eventually(t, "node quiet to be Ready=Unknown and tainted unreachable", func() (bool, error) {
		n, err := c.CoreV1alpha1().Nodes().Get(ctx, "quiet", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		var ready, memory v1alpha1.ConditionStatus
		for _, cond := range n.Status.Conditions {
			switch cond.Type {
			case v1alpha1.NodeReady:
				ready = cond.Status
			case "MemoryPressure":
				memory = cond.Status
			}
		}
		if memory != v1alpha1.ConditionFalse {
			t.Fatalf("MemoryPressure = %q: the controller overwrote a condition it does not own", memory)
		}
		tainted := len(n.Spec.Taints) == 1 && n.Spec.Taints[0].Key == unreachable && n.Spec.Taints[0].Effect == v1alpha1.TaintEffectNoExecute
		return ready == v1alpha1.ConditionUnknown && tainted, nil
	})
	terminating := func(name string) (bool, error) {
		p, err := c.CoreV1alpha1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		return p.DeletionTimestamp != nil, nil
	}
	eventually(t, "pod short to be evicted after its 1 s", func() (bool, error) { return terminating("short") })
	for _, name := range []string{"forever", "defaults"} {
		if gone, err := terminating(name); err != nil || gone {
			t.Errorf("pod %s evicted (%v, %v); it tolerates the taint for longer", name, gone, err)
		}
	}

	// The kubelet comes back: it renews its lease and reports Ready.
	keepRenewing(t, c, "quiet")
	patch := []byte(`{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}]}}`)
	if _, err := c.CoreV1alpha1().Nodes().Patch(ctx, "quiet", types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the unreachable taint to go", func() (bool, error) {
		n, err := c.CoreV1alpha1().Nodes().Get(ctx, "quiet", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if len(n.Spec.Taints) != 0 {
			return false, fmt.Errorf("taints %+v, conditions %+v", n.Spec.Taints, n.Status.Conditions)
		}
		return true, nil
	})
}
