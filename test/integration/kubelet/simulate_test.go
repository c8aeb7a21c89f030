package kubelet

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/app"
	"skiff.dev/skiff/test/integration/framework"
)

// Simulated nodes run as one privileged identity: a node identity may write
// only its own Node and Lease, and one process plays many nodes.
func TestSimulatedNodesRegisterAndRunPods(t *testing.T) {
	s := framework.StartTestServer(t)
	ctx := context.Background()
	o := app.NewOptions()
	o.ClientConfig = s.AdminConfig
	o.NodeName, o.Runtime, o.SimulateNodes, o.HealthzPort = "hollow", app.RuntimeFake, 10, 0
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx, o) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("kubelet: %v", err)
		}
	}()

	waitFor(t, "10 Ready nodes with leases", func() (bool, error) {
		nodes, err := s.Client.CoreV1alpha1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		ready := 0
		for _, n := range nodes.Items {
			for _, c := range n.Status.Conditions {
				if c.Type == v1alpha1.NodeReady && c.Status == v1alpha1.ConditionTrue {
					ready++
				}
			}
		}
		leases, err := s.Client.CoreV1alpha1().Leases("skiff-node-lease").List(ctx, metav1.ListOptions{})
		return ready == 10 && err == nil && len(leases.Items) == 10, err
	})
	leases, _ := s.Client.CoreV1alpha1().Leases("skiff-node-lease").List(ctx, metav1.ListOptions{})
	for _, l := range leases.Items {
		if l.Spec.RenewTime == nil || time.Since(l.Spec.RenewTime.Time) > 40*time.Second || *l.Spec.LeaseDurationSeconds != 40 {
			t.Errorf("lease %s: %+v", l.Name, l.Spec)
		}
	}

	p := pod("on-hollow", v1alpha1.RestartPolicyAlways, "unused")
	p.Spec.NodeName = app.SimulatedNodeName("hollow", 7)
	if _, err := s.Client.CoreV1alpha1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pod on hollow-7 to run", func() (bool, error) {
		got, err := s.Client.CoreV1alpha1().Pods("default").Get(ctx, "on-hollow", metav1.GetOptions{})
		return err == nil && got.Status.Phase == v1alpha1.PodRunning && condition(got, v1alpha1.PodReady) == v1alpha1.ConditionTrue, err
	})
}
