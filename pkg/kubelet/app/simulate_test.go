package app

import (
	"context"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
)

func TestSimulatedNodes(t *testing.T) {
	o := NewOptions()
	o.NodeName, o.Runtime, o.SimulateNodes, o.HealthzPort = "sim", RuntimeFake, 5, 0
	o.Capacity = map[string]string{"cpu": "32", "memory": "256Gi"}
	if err := o.Complete(); err != nil {
		t.Fatal(err)
	}
	if o.KubeAPIQPS != 300 || o.KubeAPIBurst != 600 { // 50 for each of 6 nodes
		t.Errorf("qps %v burst %v: want 50 per node, burst twice that", o.KubeAPIQPS, o.KubeAPIBurst)
	}
	client := fake.NewClientset()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runSimulated(ctx, o, clients{api: client, events: kubefake.NewClientset()}) }()

	for i := range 5 {
		name := SimulatedNodeName("sim", i)
		waitFor(t, name+" Ready with a lease", func() bool {
			n, err := client.CoreV1alpha1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil || len(n.Status.Conditions) == 0 || n.Status.Conditions[0].Status != v1alpha1.ConditionTrue {
				return false
			}
			_, err = client.CoreV1alpha1().Leases("skiff-node-lease").Get(ctx, name, metav1.GetOptions{})
			return err == nil
		})
	}
	n, _ := client.CoreV1alpha1().Nodes().Get(ctx, "sim-3", metav1.GetOptions{})
	if cpu := n.Status.Capacity["cpu"]; cpu.Value() != 32 || n.Status.NodeInfo.ContainerRuntimeVersion != "fake://0.1.0" || n.Labels["kubernetes.io/hostname"] != "sim-3" {
		t.Errorf("sim-3: %+v", n)
	}

	// Pods bound to a simulated node run there; a pod of another node is
	// not this process's business.
	bound := shPod("on-sim", v1alpha1.RestartPolicyAlways, "true")
	bound.Spec.NodeName = "sim-2"
	elsewhere := shPod("elsewhere", v1alpha1.RestartPolicyAlways, "true")
	elsewhere.Spec.NodeName = "real-node"
	for _, p := range []*v1alpha1.Pod{bound, elsewhere} {
		if _, err := client.CoreV1alpha1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the pod on sim-2 to run", func() bool {
		p := getPod(t, client, "on-sim")
		return p.Status.Phase == v1alpha1.PodRunning && p.Status.ContainerStatuses[0].ContainerID != ""
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p := getPod(t, client, "elsewhere"); p.Status.Phase != "" {
		t.Errorf("a pod of another node got status %+v", p.Status)
	}
}
