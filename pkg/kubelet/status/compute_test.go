package status

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/client/statuspatch"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

var (
	t0  = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	now = t0.Add(time.Minute)
)

func pod(policy v1alpha1.RestartPolicy, names ...string) *v1alpha1.Pod {
	p := &v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u"}}
	p.Spec.RestartPolicy = policy
	for _, n := range names {
		p.Spec.Containers = append(p.Spec.Containers, v1alpha1.Container{Name: n, Image: "img"})
	}
	return p
}

func running(name string, attempt uint32) runtime.Container {
	return runtime.Container{ID: fmt.Sprintf("%s-%d", name, attempt), Name: name, Attempt: attempt, State: runtime.StateRunning, StartedAt: t0.Add(500 * time.Millisecond)}
}

func exited(name string, attempt uint32, code int32) runtime.Container {
	reason := "Completed"
	if code != 0 {
		reason = "Error"
	}
	return runtime.Container{ID: fmt.Sprintf("%s-%d", name, attempt), Name: name, Attempt: attempt, State: runtime.StateExited,
		ExitCode: code, Reason: reason, StartedAt: t0, FinishedAt: t0.Add(10 * time.Second)}
}

func waiting(reason string) v1alpha1.ContainerStateWaiting {
	return v1alpha1.ContainerStateWaiting{Reason: reason}
}

func TestComputePhaseAndContainerStates(t *testing.T) {
	for _, tc := range []struct {
		name        string
		pod         *v1alpha1.Pod
		containers  []runtime.Container
		waiting     map[string]v1alpha1.ContainerStateWaiting
		terminating bool
		wantPhase   v1alpha1.PodPhase
		// wantState per container: Running, Terminated:<code>, or the waiting reason.
		wantState   map[string]string
		wantReady   v1alpha1.ConditionStatus
		wantRestart map[string]int32
	}{
		{
			name:      "nothing started yet",
			pod:       pod(v1alpha1.RestartPolicyAlways, "a"),
			wantPhase: v1alpha1.PodPending, wantState: map[string]string{"a": "ContainerCreating"}, wantReady: v1alpha1.ConditionFalse,
		},
		{
			name:       "one of two running",
			pod:        pod(v1alpha1.RestartPolicyAlways, "a", "b"),
			containers: []runtime.Container{running("a", 0)},
			wantPhase:  v1alpha1.PodPending, wantState: map[string]string{"a": "Running", "b": "ContainerCreating"}, wantReady: v1alpha1.ConditionFalse,
		},
		{
			name:       "all running",
			pod:        pod(v1alpha1.RestartPolicyAlways, "a", "b"),
			containers: []runtime.Container{running("a", 0), running("b", 0)},
			wantPhase:  v1alpha1.PodRunning, wantState: map[string]string{"a": "Running", "b": "Running"}, wantReady: v1alpha1.ConditionTrue,
		},
		{
			name:      "image cannot be pulled",
			pod:       pod(v1alpha1.RestartPolicyAlways, "a"),
			waiting:   map[string]v1alpha1.ContainerStateWaiting{"a": waiting("ErrImagePull")},
			wantPhase: v1alpha1.PodPending, wantState: map[string]string{"a": "ErrImagePull"}, wantReady: v1alpha1.ConditionFalse,
		},
		{
			name:       "Never: exit 3 fails the pod",
			pod:        pod(v1alpha1.RestartPolicyNever, "a"),
			containers: []runtime.Container{exited("a", 0, 3)},
			wantPhase:  v1alpha1.PodFailed, wantState: map[string]string{"a": "Terminated:3"}, wantReady: v1alpha1.ConditionFalse,
		},
		{
			name:       "Never: exit 0 succeeds",
			pod:        pod(v1alpha1.RestartPolicyNever, "a"),
			containers: []runtime.Container{exited("a", 0, 0)},
			wantPhase:  v1alpha1.PodSucceeded, wantState: map[string]string{"a": "Terminated:0"}, wantReady: v1alpha1.ConditionFalse,
		},
		{
			name:       "Never: one done, one still running",
			pod:        pod(v1alpha1.RestartPolicyNever, "a", "b"),
			containers: []runtime.Container{exited("a", 0, 1), running("b", 0)},
			wantPhase:  v1alpha1.PodRunning, wantState: map[string]string{"a": "Terminated:1", "b": "Running"}, wantReady: v1alpha1.ConditionFalse,
		},
		{
			name:       "OnFailure: exit 0 succeeds",
			pod:        pod(v1alpha1.RestartPolicyOnFailure, "a"),
			containers: []runtime.Container{exited("a", 1, 0), exited("a", 0, 2)},
			wantPhase:  v1alpha1.PodSucceeded, wantState: map[string]string{"a": "Terminated:0"}, wantReady: v1alpha1.ConditionFalse,
			wantRestart: map[string]int32{"a": 1},
		},
		{
			name:       "OnFailure: a failure backing off keeps the pod running",
			pod:        pod(v1alpha1.RestartPolicyOnFailure, "a"),
			containers: []runtime.Container{exited("a", 2, 1)},
			waiting:    map[string]v1alpha1.ContainerStateWaiting{"a": waiting("CrashLoopBackOff")},
			wantPhase:  v1alpha1.PodRunning, wantState: map[string]string{"a": "CrashLoopBackOff"}, wantReady: v1alpha1.ConditionFalse,
			wantRestart: map[string]int32{"a": 2},
		},
		{
			name:       "Always: crash looping is Running with restarts counted",
			pod:        pod(v1alpha1.RestartPolicyAlways, "a"),
			containers: []runtime.Container{exited("a", 4, 0), exited("a", 3, 1)},
			waiting:    map[string]v1alpha1.ContainerStateWaiting{"a": waiting("CrashLoopBackOff")},
			wantPhase:  v1alpha1.PodRunning, wantState: map[string]string{"a": "CrashLoopBackOff"}, wantReady: v1alpha1.ConditionFalse,
			wantRestart: map[string]int32{"a": 4},
		},
		{
			name:       "Always: restarted and running again",
			pod:        pod(v1alpha1.RestartPolicyAlways, "a"),
			containers: []runtime.Container{running("a", 1), exited("a", 0, 1)},
			wantPhase:  v1alpha1.PodRunning, wantState: map[string]string{"a": "Running"}, wantReady: v1alpha1.ConditionTrue,
			wantRestart: map[string]int32{"a": 1},
		},
		{
			name:        "deleted after running: stopped by SIGTERM is Failed",
			pod:         pod(v1alpha1.RestartPolicyAlways, "a"),
			containers:  []runtime.Container{exited("a", 0, 143)},
			terminating: true,
			wantPhase:   v1alpha1.PodFailed, wantState: map[string]string{"a": "Terminated:143"}, wantReady: v1alpha1.ConditionFalse,
		},
		{
			name:        "deleted after all succeeded",
			pod:         pod(v1alpha1.RestartPolicyAlways, "a"),
			containers:  []runtime.Container{exited("a", 0, 0)},
			terminating: true,
			wantPhase:   v1alpha1.PodSucceeded, wantState: map[string]string{"a": "Terminated:0"}, wantReady: v1alpha1.ConditionFalse,
		},
		{
			name:        "deleted before it ever started",
			pod:         pod(v1alpha1.RestartPolicyAlways, "a"),
			terminating: true,
			wantPhase:   v1alpha1.PodFailed, wantState: map[string]string{"a": "ContainerCreating"}, wantReady: v1alpha1.ConditionFalse,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := Compute(Input{Pod: tc.pod, Containers: tc.containers, Waiting: tc.waiting, RuntimeType: "fake",
				HostIP: "10.0.0.1", PodIP: "10.0.0.1", Terminating: tc.terminating, Now: now})
			if st.Phase != tc.wantPhase {
				t.Errorf("phase %s, want %s", st.Phase, tc.wantPhase)
			}
			if len(st.ContainerStatuses) != len(tc.pod.Spec.Containers) {
				t.Fatalf("%d container statuses for %d containers", len(st.ContainerStatuses), len(tc.pod.Spec.Containers))
			}
			for _, cs := range st.ContainerStatuses {
				if got := stateString(cs.State); got != tc.wantState[cs.Name] {
					t.Errorf("container %s state %s, want %s", cs.Name, got, tc.wantState[cs.Name])
				}
				if cs.RestartCount != tc.wantRestart[cs.Name] {
					t.Errorf("container %s restartCount %d, want %d", cs.Name, cs.RestartCount, tc.wantRestart[cs.Name])
				}
				if cs.Ready != (cs.State.Running != nil) || (*cs.Started) != (cs.State.Running != nil) {
					t.Errorf("container %s ready=%v started=%v in state %s", cs.Name, cs.Ready, *cs.Started, stateString(cs.State))
				}
			}
			if c := findCondition(st.Conditions, v1alpha1.PodReady); c == nil || c.Status != tc.wantReady {
				t.Errorf("Ready condition %+v, want %s", c, tc.wantReady)
			}
			if st.HostIP != "10.0.0.1" || st.PodIP != "10.0.0.1" || st.StartTime == nil || !st.StartTime.Time.Equal(now) {
				t.Errorf("hostIP %q podIP %q startTime %v", st.HostIP, st.PodIP, st.StartTime)
			}
		})
	}
}

func stateString(s v1alpha1.ContainerState) string {
	switch {
	case s.Running != nil:
		return "Running"
	case s.Terminated != nil:
		return fmt.Sprintf("Terminated:%d", s.Terminated.ExitCode)
	case s.Waiting != nil:
		return s.Waiting.Reason
	}
	return "none"
}

func TestContainerStatusDetails(t *testing.T) {
	p := pod(v1alpha1.RestartPolicyAlways, "a")
	st := Compute(Input{Pod: p, Containers: []runtime.Container{running("a", 1), exited("a", 0, 2)}, RuntimeType: "process", Now: now})
	cs := st.ContainerStatuses[0]
	if cs.ContainerID != "process://a-1" {
		t.Errorf("containerID %q, want process://a-1", cs.ContainerID)
	}
	if !cs.State.Running.StartedAt.Time.Equal(t0) {
		t.Errorf("startedAt %v, want %v (whole seconds, as the API keeps it)", cs.State.Running.StartedAt, t0)
	}
	last := cs.LastTerminationState.Terminated
	if last == nil || last.ExitCode != 2 || last.Reason != "Error" || last.ContainerID != "process://a-0" || !last.FinishedAt.Time.Equal(t0.Add(10*time.Second)) {
		t.Errorf("lastState %+v, want the previous attempt's exit 2", last)
	}
	if st.Conditions[0].Type != v1alpha1.PodInitialized || st.Conditions[1].Type != v1alpha1.PodReady ||
		st.Conditions[2].Type != v1alpha1.ContainersReady || st.Conditions[3].Type != v1alpha1.PodScheduled {
		t.Errorf("conditions %v, want Initialized Ready ContainersReady PodScheduled", st.Conditions)
	}
}

func TestComputeCarriesOverFromTheOldStatus(t *testing.T) {
	p := pod(v1alpha1.RestartPolicyAlways, "a")
	start := metav1.NewTime(t0)
	scheduledAt := metav1.NewTime(t0.Add(-time.Hour))
	old := v1alpha1.PodStatus{
		Phase:     v1alpha1.PodRunning,
		StartTime: &start,
		Conditions: []v1alpha1.PodCondition{
			{Type: v1alpha1.PodScheduled, Status: v1alpha1.ConditionTrue, LastTransitionTime: scheduledAt},
			{Type: v1alpha1.PodReady, Status: v1alpha1.ConditionTrue, LastTransitionTime: start},
			{Type: v1alpha1.ContainersReady, Status: v1alpha1.ConditionFalse, LastTransitionTime: start},
			{Type: "example.com/Custom", Status: v1alpha1.ConditionTrue},
		},
	}
	st := Compute(Input{Pod: p, Containers: []runtime.Container{running("a", 0)}, Old: old, Now: now})
	if !st.StartTime.Equal(&start) {
		t.Errorf("startTime %v, want the old %v", st.StartTime, start)
	}
	for _, tc := range []struct {
		cond v1alpha1.PodConditionType
		want time.Time
	}{
		{v1alpha1.PodScheduled, scheduledAt.Time}, // kept: the scheduler's
		{v1alpha1.PodReady, t0},                   // unchanged status keeps its time
		{v1alpha1.ContainersReady, now},           // False -> True is a transition now
		{v1alpha1.PodInitialized, now},            // new
	} {
		c := findCondition(st.Conditions, tc.cond)
		if c == nil || !c.LastTransitionTime.Time.Equal(tc.want) {
			t.Errorf("%s lastTransitionTime %v, want %v", tc.cond, c, tc.want)
		}
	}
	if findCondition(st.Conditions, "example.com/Custom") == nil {
		t.Error("a condition someone else set was dropped")
	}
	// A terminal phase is final.
	old.Phase = v1alpha1.PodFailed
	if st := Compute(Input{Pod: p, Containers: []runtime.Container{running("a", 0)}, Old: old, Now: now}); st.Phase != v1alpha1.PodFailed {
		t.Errorf("phase %s after Failed, want Failed", st.Phase)
	}
}

func TestComputeIsStable(t *testing.T) {
	p := pod(v1alpha1.RestartPolicyAlways, "a")
	in := Input{Pod: p, Containers: []runtime.Container{running("a", 0)}, Now: now}
	first := Compute(in)
	in.Old, in.Now = first, now.Add(time.Hour)
	second := Compute(in)
	patch, err := statuspatch.Pod("u", &first, &second)
	if err != nil || patch != nil {
		t.Errorf("recomputing from the same facts later changed the status: %s %v", patch, err)
	}
}

func TestProbesDecideReadiness(t *testing.T) {
	p := pod(v1alpha1.RestartPolicyAlways, "web", "sidecar")
	probes := map[string][2]bool{ // by container ID: started, ready
		"web-0":     {true, false},
		"sidecar-0": {true, true},
	}
	in := Input{Pod: p, Containers: []runtime.Container{running("web", 0), running("sidecar", 0)}, Now: now,
		Probes: func(name, id string) (bool, bool) { r := probes[id]; return r[0], r[1] }}
	st := Compute(in)
	if st.Phase != v1alpha1.PodRunning || st.ContainerStatuses[0].Ready || !st.ContainerStatuses[1].Ready {
		t.Fatalf("phase %s, ready %v %v: want Running with web unready", st.Phase, st.ContainerStatuses[0].Ready, st.ContainerStatuses[1].Ready)
	}
	for _, cond := range []v1alpha1.PodConditionType{v1alpha1.PodReady, v1alpha1.ContainersReady} {
		c := findCondition(st.Conditions, cond)
		if c == nil || c.Status != v1alpha1.ConditionFalse || c.Message != "containers with unready status: [web]" {
			t.Errorf("%s: %+v", cond, c)
		}
	}
	// Not started yet (a startup probe): neither started nor ready.
	probes["web-0"] = [2]bool{false, false}
	if cs := Compute(in).ContainerStatuses[0]; *cs.Started || cs.Ready {
		t.Errorf("before startup: started %v ready %v", *cs.Started, cs.Ready)
	}
	probes["web-0"] = [2]bool{true, true}
	if c := findCondition(Compute(in).Conditions, v1alpha1.PodReady); c.Status != v1alpha1.ConditionTrue {
		t.Errorf("all ready: Ready %s", c.Status)
	}
}
