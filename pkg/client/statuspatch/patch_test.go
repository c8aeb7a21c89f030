package statuspatch

import (
	"encoding/json"
	"testing"
	"time"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

var t0 = metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))

func cond(t v1alpha1.PodConditionType, s v1alpha1.ConditionStatus) v1alpha1.PodCondition {
	return v1alpha1.PodCondition{Type: t, Status: s, LastTransitionTime: t0}
}

func TestPod(t *testing.T) {
	running := v1alpha1.PodStatus{Phase: v1alpha1.PodRunning, Conditions: []v1alpha1.PodCondition{
		cond(v1alpha1.PodReady, v1alpha1.ConditionTrue),
		cond(v1alpha1.PodScheduled, v1alpha1.ConditionTrue),
	}}
	failed := *running.DeepCopy()
	failed.Phase = v1alpha1.PodFailed
	failed.Conditions[0].Status = v1alpha1.ConditionFalse
	noMessage := *running.DeepCopy()
	running.Message = "m"
	cases := []struct {
		name     string
		old, new v1alpha1.PodStatus
		want     string
	}{
		{name: "no change gives no patch", old: running, new: *running.DeepCopy(), want: ""},
		{name: "nil and empty lists are the same", old: v1alpha1.PodStatus{}, new: v1alpha1.PodStatus{Conditions: []v1alpha1.PodCondition{}}, want: ""},
		{name: "a changed condition is sent alone, keyed by its type", old: running, new: failed,
			want: `{"metadata":{"uid":"u1"},"status":{"$setElementOrder/conditions":[{"type":"Ready"},{"type":"PodScheduled"}],"conditions":[{"status":"False","type":"Ready"}],"message":null,"phase":"Failed"}}`},
		{name: "a cleared field is nulled", old: running, new: noMessage, want: `{"metadata":{"uid":"u1"},"status":{"message":null}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Pod("u1", &tc.old, &tc.new)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("Pod = %s\nwant  %s", got, tc.want)
			}
		})
	}
}

// TestPodKeepsOthersConditions applies the patch to a pod on which another
// writer added a condition since old was read: the condition must survive.
func TestPodKeepsOthersConditions(t *testing.T) {
	old := v1alpha1.PodStatus{Phase: v1alpha1.PodPending, Conditions: []v1alpha1.PodCondition{cond(v1alpha1.PodReady, v1alpha1.ConditionFalse)}}
	new := v1alpha1.PodStatus{Phase: v1alpha1.PodRunning, Conditions: []v1alpha1.PodCondition{cond(v1alpha1.PodReady, v1alpha1.ConditionTrue)}}
	current := v1alpha1.Pod{Status: *old.DeepCopy()}
	current.UID = "u1"
	current.Status.Conditions = append(current.Status.Conditions, cond("example.com/gate", v1alpha1.ConditionTrue))

	patch, err := Pod("u1", &old, &new)
	if err != nil {
		t.Fatal(err)
	}
	currentJSON, _ := json.Marshal(current)
	outJSON, err := strategicpatch.StrategicMergePatch(currentJSON, patch, v1alpha1.Pod{})
	if err != nil {
		t.Fatal(err)
	}
	var out v1alpha1.Pod
	if err := json.Unmarshal(outJSON, &out); err != nil {
		t.Fatal(err)
	}
	got := map[v1alpha1.PodConditionType]v1alpha1.ConditionStatus{}
	for _, c := range out.Status.Conditions {
		got[c.Type] = c.Status
	}
	if got[v1alpha1.PodReady] != v1alpha1.ConditionTrue || got["example.com/gate"] != v1alpha1.ConditionTrue || out.Status.Phase != v1alpha1.PodRunning {
		t.Errorf("after the patch: phase %s, conditions %v; want Running, Ready=True and the other writer's gate kept", out.Status.Phase, got)
	}
}

func TestNode(t *testing.T) {
	hb := func(ts metav1.Time) v1alpha1.NodeStatus {
		return v1alpha1.NodeStatus{Conditions: []v1alpha1.NodeCondition{
			{Type: v1alpha1.NodeReady, Status: v1alpha1.ConditionTrue, LastHeartbeatTime: ts, LastTransitionTime: t0},
		}}
	}
	later := metav1.NewTime(t0.Add(time.Minute))
	got, err := Node(ptr(hb(t0)), ptr(hb(later)))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"status":{"$setElementOrder/conditions":[{"type":"Ready"}],"conditions":[{"lastHeartbeatTime":"2026-01-01T00:01:00Z","type":"Ready"}]}}`
	if string(got) != want {
		t.Errorf("Node = %s\nwant   %s", got, want)
	}
}

func ptr[T any](v T) *T { return &v }

// oldDiff is statuspatch.Diff before it compared first: it encoded both
// statuses, diffed them and decoded the result on every call. It is kept
// here only to measure against.
func oldDiff(old, new any, extra map[string]any) ([]byte, error) {
	oldJSON, err := json.Marshal(map[string]any{"status": old})
	if err != nil {
		return nil, err
	}
	newJSON, err := json.Marshal(map[string]any{"status": new})
	if err != nil {
		return nil, err
	}
	diff, err := jsonpatch.CreateMergePatch(oldJSON, newJSON)
	if err != nil {
		return nil, err
	}
	var patch map[string]any
	if err := json.Unmarshal(diff, &patch); err != nil {
		return nil, err
	}
	if len(patch) == 0 {
		return nil, nil
	}
	for k, v := range extra {
		patch[k] = v
	}
	return json.Marshal(patch)
}

// BenchmarkUnchangedPodStatus measures the common sync, where nothing
// changed, before (encode and diff every time) and after (compare first).
func BenchmarkUnchangedPodStatus(b *testing.B) {
	started := true
	st := v1alpha1.PodStatus{
		Phase: v1alpha1.PodRunning, HostIP: "10.0.0.1", PodIP: "10.0.0.1", StartTime: &t0,
		Conditions: []v1alpha1.PodCondition{
			cond(v1alpha1.PodInitialized, v1alpha1.ConditionTrue), cond(v1alpha1.PodReady, v1alpha1.ConditionTrue),
			cond(v1alpha1.ContainersReady, v1alpha1.ConditionTrue), cond(v1alpha1.PodScheduled, v1alpha1.ConditionTrue),
		},
	}
	for _, name := range []string{"main", "sidecar"} {
		st.ContainerStatuses = append(st.ContainerStatuses, v1alpha1.ContainerStatus{
			Name: name, Ready: true, Image: "busybox", ImageID: "sha256:abc", ContainerID: "process://" + name, Started: &started,
			State: v1alpha1.ContainerState{Running: &v1alpha1.ContainerStateRunning{StartedAt: t0}},
		})
	}
	same := *st.DeepCopy()
	extra := map[string]any{"metadata": map[string]any{"uid": "u1"}}
	b.Run("before=encode-and-diff", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if p, err := oldDiff(&st, &same, extra); err != nil || p != nil {
				b.Fatal(p, err)
			}
		}
	})
	b.Run("after=compare-first", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if p, err := Pod("u1", &st, &same); err != nil || p != nil {
				b.Fatal(p, err)
			}
		}
	})
}
