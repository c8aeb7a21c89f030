package status

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clienttesting "k8s.io/client-go/testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/client/statuspatch"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

type countingObserver struct{ latencies []time.Duration }

func (o *countingObserver) PodRunning(d time.Duration) { o.latencies = append(o.latencies, d) }

func patches(client *fake.Clientset) []clienttesting.PatchAction {
	var out []clienttesting.PatchAction
	for _, a := range client.Actions() {
		if p, ok := a.(clienttesting.PatchAction); ok {
			out = append(out, p)
		}
	}
	return out
}

func TestManagerWritesOnlyChanges(t *testing.T) {
	ctx := context.Background()
	p := pod(v1alpha1.RestartPolicyAlways, "a")
	p.CreationTimestamp = metav1.NewTime(t0)
	client := fake.NewClientset(p)
	obs := &countingObserver{}
	m := NewManager(client, obs)
	m.now = func() time.Time { return t0.Add(2 * time.Second) }

	pending := Compute(Input{Pod: p, Old: m.Base(p), Now: now})
	if err := m.SetPodStatus(ctx, p, pending); err != nil {
		t.Fatal(err)
	}
	if n := len(patches(client)); n != 1 {
		t.Fatalf("%d patches after the first status, want 1", n)
	}
	// The same facts again, later: nothing to write.
	again := Compute(Input{Pod: p, Old: m.Base(p), Now: now.Add(time.Minute)})
	if err := m.SetPodStatus(ctx, p, again); err != nil {
		t.Fatal(err)
	}
	if n := len(patches(client)); n != 1 {
		t.Fatalf("%d patches after an unchanged status, want still 1", n)
	}
	if len(obs.latencies) != 0 {
		t.Errorf("start latency observed while Pending: %v", obs.latencies)
	}

	runningStatus := Compute(Input{Pod: p, Containers: []runtime.Container{running("a", 0)}, Old: m.Base(p), Now: now})
	if err := m.SetPodStatus(ctx, p, runningStatus); err != nil {
		t.Fatal(err)
	}
	ps := patches(client)
	if len(ps) != 2 {
		t.Fatalf("%d patches after the pod ran, want 2", len(ps))
	}
	if ps[1].GetSubresource() != "status" {
		t.Errorf("patched subresource %q, want status", ps[1].GetSubresource())
	}
	var body map[string]map[string]any
	if err := json.Unmarshal(ps[1].GetPatch(), &body); err != nil {
		t.Fatal(err)
	}
	if body["metadata"]["uid"] != "u" {
		t.Errorf("patch %s carries no UID precondition", ps[1].GetPatch())
	}
	if _, ok := body["status"]["startTime"]; ok {
		t.Errorf("patch %s rewrites an unchanged startTime", ps[1].GetPatch())
	}
	got, _ := client.CoreV1alpha1().Pods("ns").Get(ctx, "p", metav1.GetOptions{})
	if got.Status.Phase != v1alpha1.PodRunning || got.Status.ContainerStatuses[0].State.Running == nil {
		t.Errorf("stored status %+v", got.Status)
	}
	if len(obs.latencies) != 1 || obs.latencies[0] != 2*time.Second {
		t.Errorf("start latencies %v, want one of 2s", obs.latencies)
	}
	if counts := m.PhaseCounts(); counts[v1alpha1.PodRunning] != 1 {
		t.Errorf("phase counts %v", counts)
	}
	m.Forget(p.UID)
	if counts := m.PhaseCounts(); len(counts) != 0 {
		t.Errorf("phase counts after Forget %v", counts)
	}
}

func TestManagerRemovesFieldsThatWentAway(t *testing.T) {
	old := v1alpha1.PodStatus{Phase: v1alpha1.PodPending, Reason: "Old", Message: "gone soon"}
	patch, err := statuspatch.Pod("u", &old, &v1alpha1.PodStatus{Phase: v1alpha1.PodPending})
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]map[string]any
	_ = json.Unmarshal(patch, &body)
	if v, ok := body["status"]["reason"]; !ok || v != nil {
		t.Errorf("patch %s should set reason to null", patch)
	}
}

func TestManagerIgnoresADeletedPod(t *testing.T) {
	p := pod(v1alpha1.RestartPolicyAlways, "a")
	m := NewManager(fake.NewClientset(), nil)
	if err := m.SetPodStatus(context.Background(), p, Compute(Input{Pod: p, Now: now})); err != nil {
		t.Errorf("writing the status of a deleted pod: %v", err)
	}
}

// TestManagerKeepsOtherWritersConditions has a second writer set a
// condition after the kubelet's last write: the kubelet's next status change
// must keep it, whether or not the informer has shown it to the kubelet yet.
func TestManagerKeepsOtherWritersConditions(t *testing.T) {
	const gate = v1alpha1.PodConditionType("example.com/gate")
	for _, tc := range []struct {
		name     string
		informed bool // the informer shows the other writer's change
	}{
		{"informer has not caught up", false},
		{"informer shows the other writer's condition", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			p := pod(v1alpha1.RestartPolicyAlways, "a")
			p.ResourceVersion = "1"
			client := fake.NewClientset(p)
			m := NewManager(client, nil)
			if err := m.SetPodStatus(ctx, p, Compute(Input{Pod: p, Old: m.Base(p), Now: now})); err != nil {
				t.Fatal(err)
			}

			other := []byte(`{"status":{"conditions":[{"type":"example.com/gate","status":"True"}]}}`)
			updated, err := client.CoreV1alpha1().Pods("ns").Patch(ctx, "p", types.StrategicMergePatchType, other, metav1.PatchOptions{}, "status")
			if err != nil {
				t.Fatal(err)
			}
			if tc.informed {
				p = updated.DeepCopy()
				p.ResourceVersion = "3"
			}

			st := Compute(Input{Pod: p, Containers: []runtime.Container{running("a", 0)}, Old: m.Base(p), Now: now})
			if err := m.SetPodStatus(ctx, p, st); err != nil {
				t.Fatal(err)
			}
			got, _ := client.CoreV1alpha1().Pods("ns").Get(ctx, "p", metav1.GetOptions{})
			if got.Status.Phase != v1alpha1.PodRunning {
				t.Errorf("phase %s, want the kubelet's Running", got.Status.Phase)
			}
			if c := findCondition(got.Status.Conditions, gate); c == nil || c.Status != v1alpha1.ConditionTrue {
				t.Errorf("conditions %+v: the other writer's %s was lost", got.Status.Conditions, gate)
			}
			if c := findCondition(got.Status.Conditions, v1alpha1.PodReady); c == nil || c.Status != v1alpha1.ConditionTrue {
				t.Errorf("conditions %+v: want the kubelet's Ready=True", got.Status.Conditions)
			}
		})
	}
}

// TestManagerFollowsTheInformer checks that once the informer shows a status
// newer than the kubelet's last write, it is what the next status follows.
func TestManagerFollowsTheInformer(t *testing.T) {
	ctx := context.Background()
	p := pod(v1alpha1.RestartPolicyAlways, "a")
	p.ResourceVersion = "1"
	m := NewManager(fake.NewClientset(p), nil)
	if err := m.SetPodStatus(ctx, p, Compute(Input{Pod: p, Old: m.Base(p), Now: now})); err != nil {
		t.Fatal(err)
	}
	if base := m.Base(p); base.Phase != v1alpha1.PodPending {
		t.Fatalf("before the informer catches up, Base = %q, want the kubelet's own Pending", base.Phase)
	}
	newer := p.DeepCopy()
	newer.ResourceVersion = "7"
	newer.Status.Phase = v1alpha1.PodFailed
	if base := m.Base(newer); base.Phase != v1alpha1.PodFailed {
		t.Errorf("after someone set Failed, Base = %q, want Failed", base.Phase)
	}
}

// TestManagerFollowsItsOwnWritesAheadOfTheInformer writes twice before the
// informer shows either write: when it then shows the first, the second is
// still the newer status.
func TestManagerFollowsItsOwnWritesAheadOfTheInformer(t *testing.T) {
	ctx := context.Background()
	p := pod(v1alpha1.RestartPolicyAlways, "a")
	p.ResourceVersion = "1"
	client := fake.NewClientset(p)
	// The API server gives every write a new resourceVersion; the fake
	// does not.
	rv := 1
	client.PrependReactor("patch", "pods", func(a clienttesting.Action) (bool, k8sruntime.Object, error) {
		handled, obj, err := clienttesting.ObjectReaction(client.Tracker())(a)
		if pod, ok := obj.(*v1alpha1.Pod); ok {
			rv++
			pod.ResourceVersion = strconv.Itoa(rv)
		}
		return handled, obj, err
	})
	m := NewManager(client, nil)
	write := func(c []runtime.Container) {
		t.Helper()
		if err := m.SetPodStatus(ctx, p, Compute(Input{Pod: p, Containers: c, Old: m.Base(p), Now: now})); err != nil {
			t.Fatal(err)
		}
	}
	write(nil)                                  // Pending
	firstWrite := m.last[p.UID].rv              // what the informer shows next
	write([]runtime.Container{running("a", 0)}) // Running, informer still at "1"
	shown := p.DeepCopy()
	shown.ResourceVersion = firstWrite
	if firstWrite == "" || firstWrite == p.ResourceVersion {
		t.Fatalf("the fake clientset gave the write resourceVersion %q", firstWrite)
	}
	if base := m.Base(shown); base.Phase != v1alpha1.PodRunning {
		t.Errorf("with the informer at the first write, Base = %q, want the second write's Running", base.Phase)
	}
}
