package nodestatus

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clienttesting "k8s.io/client-go/testing"
	testingclock "k8s.io/utils/clock/testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
)

var epoch = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func q(s string) resource.Quantity { return resource.MustParse(s) }

type fakeRuntime struct{ err error }

func (f *fakeRuntime) ready(context.Context) (string, string, error) { return "process", "v1", f.err }

func testConfig(rt *fakeRuntime, clk *testingclock.FakeClock) Config {
	capacity := v1alpha1.ResourceList{"cpu": q("4"), "memory": q("8Gi"), "pods": q("110")}
	return Config{
		NodeName: "n1", Hostname: "host1", NodeIP: "10.0.0.5", Port: 10250,
		Labels:   map[string]string{"zone": "a"},
		Capacity: capacity, Allocatable: Allocatable(capacity, v1alpha1.ResourceList{"cpu": q("500m"), "memory": q("1Gi")}),
		SystemInfo:     v1alpha1.NodeSystemInfo{OperatingSystem: "linux", Architecture: "amd64", KernelVersion: "6.1"},
		KubeletVersion: "v1.37.2-skiff.1", Ready: rt.ready, Clock: clk,
	}
}

func statusPatches(client *fake.Clientset) int {
	n := 0
	for _, a := range client.Actions() {
		if p, ok := a.(clienttesting.PatchAction); ok && p.GetSubresource() == "status" {
			n++
		}
	}
	return n
}

func TestRegistersAReadyNode(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	clk := testingclock.NewFakeClock(epoch)
	c := New(client, testConfig(&fakeRuntime{}, clk))
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	node, err := client.CoreV1alpha1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{LabelHostname: "host1", LabelOS: "linux", LabelArch: "amd64", "zone": "a"} {
		if node.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, node.Labels[k], v)
		}
	}
	st := node.Status
	if len(st.Conditions) != 1 || st.Conditions[0].Type != v1alpha1.NodeReady || st.Conditions[0].Status != v1alpha1.ConditionTrue || st.Conditions[0].Reason != ReasonReady {
		t.Errorf("conditions %+v, want Ready=True KubeletReady", st.Conditions)
	}
	if cpu := st.Allocatable["cpu"]; cpu.Cmp(q("3500m")) != 0 {
		t.Errorf("allocatable cpu %s, want 3500m", cpu.String())
	}
	if mem := st.Allocatable["memory"]; mem.Cmp(q("7Gi")) != 0 {
		t.Errorf("allocatable memory %s, want 7Gi", mem.String())
	}
	if pods := st.Capacity["pods"]; pods.Value() != 110 {
		t.Errorf("pods capacity %s", pods.String())
	}
	if st.DaemonEndpoints.KubeletEndpoint.Port != 10250 {
		t.Errorf("kubelet port %d", st.DaemonEndpoints.KubeletEndpoint.Port)
	}
	if len(st.Addresses) != 2 || st.Addresses[0] != (v1alpha1.NodeAddress{Type: v1alpha1.NodeInternalIP, Address: "10.0.0.5"}) ||
		st.Addresses[1] != (v1alpha1.NodeAddress{Type: v1alpha1.NodeHostName, Address: "host1"}) {
		t.Errorf("addresses %v", st.Addresses)
	}
	if st.NodeInfo.KubeletVersion != "v1.37.2-skiff.1" || st.NodeInfo.ContainerRuntimeVersion != "process://v1" || st.NodeInfo.KernelVersion != "6.1" {
		t.Errorf("node info %+v", st.NodeInfo)
	}
}

func TestStatusWrittenOnChangeAndEveryMinute(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	clk := testingclock.NewFakeClock(epoch)
	rt := &fakeRuntime{}
	c := New(client, testConfig(rt, clk))
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	base := statusPatches(client)
	steps := []struct {
		name      string
		advance   time.Duration
		runtime   error
		wantWrite bool
	}{
		{"unchanged after 10s: not written", 10 * time.Second, nil, false},
		{"unchanged after 50s: not written", 40 * time.Second, nil, false},
		{"unchanged after a minute: written as a heartbeat", 10 * time.Second, nil, true},
		{"runtime down: written at once", 10 * time.Second, errors.New("socket gone"), true},
		{"still down: not written", 10 * time.Second, errors.New("socket gone"), false},
		{"back up: written", 10 * time.Second, nil, true},
	}
	for _, s := range steps {
		clk.Step(s.advance)
		rt.err = s.runtime
		if err := c.Sync(ctx); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		n := statusPatches(client)
		if wrote := n > base; wrote != s.wantWrite {
			t.Errorf("%s: wrote = %v", s.name, wrote)
		}
		base = n
		if s.runtime != nil {
			node, _ := client.CoreV1alpha1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
			ready := node.Status.Conditions[0]
			if ready.Status != v1alpha1.ConditionFalse || ready.Reason != ReasonNotReady || ready.Message != "container runtime is down: socket gone" {
				t.Errorf("%s: Ready %+v", s.name, ready)
			}
		}
	}
	node, _ := client.CoreV1alpha1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	ready := node.Status.Conditions[0]
	if !ready.LastTransitionTime.Time.Equal(clk.Now()) || !ready.LastHeartbeatTime.Time.Equal(clk.Now()) {
		t.Errorf("Ready %+v: the transition back to Ready is now", ready)
	}
}

func TestTakesOverAnExistingNode(t *testing.T) {
	ctx := context.Background()
	existing := &v1alpha1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"keep": "me"}},
		Spec: v1alpha1.NodeSpec{Unschedulable: true}}
	client := fake.NewClientset(existing)
	c := New(client, testConfig(&fakeRuntime{}, testingclock.NewFakeClock(epoch)))
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	node, _ := client.CoreV1alpha1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if node.Labels["keep"] != "me" || node.Labels[LabelHostname] != "host1" {
		t.Errorf("labels %v: want the existing ones kept and ours added", node.Labels)
	}
	if !node.Spec.Unschedulable {
		t.Error("the existing node's spec was changed")
	}
	if len(node.Status.Conditions) != 1 || node.Status.Conditions[0].Status != v1alpha1.ConditionTrue {
		t.Errorf("status not written: %+v", node.Status)
	}
}

func TestAllocatable(t *testing.T) {
	capacity := v1alpha1.ResourceList{"cpu": q("2"), "memory": q("1Gi"), "pods": q("110")}
	got := Allocatable(capacity, v1alpha1.ResourceList{"cpu": q("1")}, v1alpha1.ResourceList{"cpu": q("2"), "memory": q("100Mi")})
	if cpu := got["cpu"]; cpu.Sign() != 0 {
		t.Errorf("cpu %s: reservations beyond capacity leave zero", cpu.String())
	}
	if mem := got["memory"]; mem.Cmp(q("924Mi")) != 0 {
		t.Errorf("memory %s, want 924Mi", mem.String())
	}
	if pods := got["pods"]; pods.Value() != 110 {
		t.Errorf("pods %s", pods.String())
	}
}

func TestParseResourceList(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    v1alpha1.ResourceList
		wantErr bool
	}{
		{"", v1alpha1.ResourceList{}, false},
		{"cpu=500m,memory=1Gi", v1alpha1.ResourceList{"cpu": q("500m"), "memory": q("1Gi")}, false},
		{" pods=20 ", v1alpha1.ResourceList{"pods": q("20")}, false},
		{"gpu=1", nil, true},
		{"cpu", nil, true},
		{"cpu=lots", nil, true},
		{"cpu=-1", nil, true},
	} {
		got, err := ParseResourceList(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		for k, v := range tc.want {
			if g := got[k]; g.Cmp(v) != 0 {
				t.Errorf("%q: %s = %s, want %s", tc.in, k, g.String(), v.String())
			}
		}
		if err == nil && len(got) != len(tc.want) {
			t.Errorf("%q: got %v", tc.in, got)
		}
	}
}

func TestMachine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meminfo")
	_ = os.WriteFile(path, []byte("MemFree: 10 kB\nMemTotal:       2048 kB\n"), 0o644)
	if got, err := memTotal(path); err != nil || got != 2048*1024 {
		t.Errorf("memTotal = %d, %v", got, err)
	}
	capacity, err := MachineCapacity(50, v1alpha1.ResourceList{"cpu": q("64")})
	if err != nil {
		t.Fatal(err)
	}
	if cpu, pods, mem := capacity["cpu"], capacity["pods"], capacity["memory"]; cpu.Value() != 64 || pods.Value() != 50 || mem.Sign() <= 0 {
		t.Errorf("capacity %v", capacity)
	}
	for _, tc := range []struct {
		given   string
		wantErr bool
	}{{"192.168.1.7", false}, {"not-an-ip", true}, {"", false}} {
		ip, err := NodeIP(tc.given)
		if (err != nil) != tc.wantErr || (!tc.wantErr && ip == "") || (tc.given != "" && !tc.wantErr && ip != tc.given) {
			t.Errorf("NodeIP(%q) = %q, %v", tc.given, ip, err)
		}
	}
}

// TestStatusWriteKeepsOtherWritersConditions has other components write the
// node's conditions between two of the kubelet's writes: the node lifecycle
// controller's Ready=Unknown, and a condition of a node problem detector.
// The kubelet's next write must set Ready back whole and keep the other.
func TestStatusWriteKeepsOtherWritersConditions(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	clk := testingclock.NewFakeClock(epoch)
	c := New(client, testConfig(&fakeRuntime{}, clk))
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	other := []byte(`{"status":{"conditions":[` +
		`{"type":"Ready","status":"Unknown","reason":"NodeStatusUnknown","message":"Kubelet stopped posting node status."},` +
		`{"type":"KernelDeadlock","status":"False","reason":"KernelHasNoDeadlock"}]}}`)
	if _, err := client.CoreV1alpha1().Nodes().Patch(ctx, "n1", types.StrategicMergePatchType, other, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
	clk.Step(time.Minute) // the heartbeat is due
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	node, _ := client.CoreV1alpha1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	got := map[v1alpha1.NodeConditionType]v1alpha1.NodeCondition{}
	for _, cond := range node.Status.Conditions {
		got[cond.Type] = cond
	}
	if r := got[v1alpha1.NodeReady]; r.Status != v1alpha1.ConditionTrue || r.Reason != ReasonReady || !r.LastTransitionTime.Time.Equal(clk.Now()) {
		t.Errorf("Ready %+v: want the kubelet's Ready=True, KubeletReady, transitioned now", r)
	}
	if k, ok := got["KernelDeadlock"]; !ok || k.Status != v1alpha1.ConditionFalse {
		t.Errorf("conditions %+v: the problem detector's KernelDeadlock was lost", node.Status.Conditions)
	}
}
