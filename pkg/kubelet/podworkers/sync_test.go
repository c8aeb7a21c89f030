package podworkers

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
	"skiff.dev/skiff/pkg/kubelet/runtime"
	fakeruntime "skiff.dev/skiff/pkg/kubelet/runtime/fake"
	"skiff.dev/skiff/pkg/kubelet/status"
)

var epoch = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// harness syncs one pod by hand: each step calls sync directly, so the tests
// need no goroutines and no waiting.
type harness struct {
	t        *testing.T
	client   *fake.Clientset
	rt       *fakeruntime.Runtime
	clock    *testingclock.FakeClock
	recorder *record.FakeRecorder
	p        *PodWorkers
	w        *worker
}

func newHarness(t *testing.T, pod *v1alpha1.Pod) *harness {
	h := &harness{t: t, client: fake.NewClientset(pod), rt: fakeruntime.New(), clock: testingclock.NewFakeClock(epoch), recorder: record.NewFakeRecorder(100)}
	h.rt.Now = h.clock.Now
	h.p = New(context.Background(), Config{
		Client: h.client, Runtime: h.rt, Status: status.NewManager(h.client, nil),
		Recorder: h.recorder, HostIP: "10.1.2.3", Clock: h.clock,
	})
	h.w = &worker{p: h.p, uid: pod.UID, wake: make(chan struct{}, 1), crash: newBackoff(), startFail: newBackoff(),
		startErr: map[string]v1alpha1.ContainerStateWaiting{}, backedOff: map[string]string{}, pod: pod}
	return h
}

func (h *harness) sync() time.Duration {
	h.t.Helper()
	requeue, done := h.w.sync(context.Background())
	if done {
		h.t.Fatal("worker finished while the pod exists")
	}
	return requeue
}

// apiPod is the pod as the API server has it now.
func (h *harness) apiPod() *v1alpha1.Pod {
	h.t.Helper()
	p, err := h.client.CoreV1alpha1().Pods("ns").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) containers() []runtime.Container {
	cs, _ := h.rt.ListContainers(context.Background())
	return cs
}

// exitLatest makes the newest attempt of container name exit with code.
func (h *harness) exitLatest(name string, code int32) {
	latest, _ := runtime.Latest(h.containers(), name)
	if latest == nil || latest.State != runtime.StateRunning {
		h.t.Fatalf("container %s is not running: %+v", name, latest)
	}
	h.rt.Exit(latest.ID, code)
}

func (h *harness) containerStatus(name string) v1alpha1.ContainerStatus {
	h.t.Helper()
	for _, cs := range h.apiPod().Status.ContainerStatuses {
		if cs.Name == name {
			return cs
		}
	}
	h.t.Fatalf("no status for container %s", name)
	return v1alpha1.ContainerStatus{}
}

func newPod(policy v1alpha1.RestartPolicy, names ...string) *v1alpha1.Pod {
	grace := int64(30)
	p := &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "uid-1", CreationTimestamp: metav1.NewTime(epoch)},
		Spec:       v1alpha1.PodSpec{RestartPolicy: policy, NodeName: "n1", TerminationGracePeriodSeconds: &grace},
	}
	for _, n := range names {
		p.Spec.Containers = append(p.Spec.Containers, v1alpha1.Container{Name: n, Image: "img:" + n, Command: []string{"run"}})
	}
	return p
}

func TestNewPodRuns(t *testing.T) {
	h := newHarness(t, newPod(v1alpha1.RestartPolicyAlways, "a", "b"))
	h.sync()
	st := h.apiPod().Status
	if st.Phase != v1alpha1.PodRunning || st.HostIP != "10.1.2.3" || st.PodIP != "10.1.2.3" || st.StartTime == nil {
		t.Errorf("status %+v, want Running on 10.1.2.3 with a start time", st)
	}
	for _, cs := range st.ContainerStatuses {
		if cs.State.Running == nil || !cs.Ready || !strings.HasPrefix(cs.ContainerID, "fake://") {
			t.Errorf("container %s: %+v", cs.Name, cs)
		}
	}
	if len(h.containers()) != 2 {
		t.Errorf("runtime has %d containers, want 2", len(h.containers()))
	}
	// Syncing again starts nothing new and writes nothing.
	actions := len(h.client.Actions())
	h.sync()
	if len(h.containers()) != 2 || len(h.client.Actions()) != actions+0 {
		t.Errorf("a second sync started containers (%d) or wrote to the API (%d actions, was %d)", len(h.containers()), len(h.client.Actions()), actions)
	}
}

func TestRestartPolicies(t *testing.T) {
	for _, tc := range []struct {
		name        string
		policy      v1alpha1.RestartPolicy
		exitCode    int32
		wantRestart bool
		wantPhase   v1alpha1.PodPhase
	}{
		{"Never: exit 3 fails", v1alpha1.RestartPolicyNever, 3, false, v1alpha1.PodFailed},
		{"Never: exit 0 succeeds", v1alpha1.RestartPolicyNever, 0, false, v1alpha1.PodSucceeded},
		{"OnFailure: exit 0 succeeds", v1alpha1.RestartPolicyOnFailure, 0, false, v1alpha1.PodSucceeded},
		{"OnFailure: exit 1 restarts", v1alpha1.RestartPolicyOnFailure, 1, true, v1alpha1.PodRunning},
		{"Always: exit 0 restarts", v1alpha1.RestartPolicyAlways, 0, true, v1alpha1.PodRunning},
		{"Always: exit 1 restarts", v1alpha1.RestartPolicyAlways, 1, true, v1alpha1.PodRunning},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, newPod(tc.policy, "a"))
			h.sync()
			h.exitLatest("a", tc.exitCode)
			h.sync()
			latest, _ := runtime.Latest(h.containers(), "a")
			if restarted := latest.Attempt == 1 && latest.State == runtime.StateRunning; restarted != tc.wantRestart {
				t.Errorf("restarted = %v, want %v", restarted, tc.wantRestart)
			}
			st := h.apiPod().Status
			if st.Phase != tc.wantPhase {
				t.Errorf("phase %s, want %s", st.Phase, tc.wantPhase)
			}
			cs := h.containerStatus("a")
			if tc.wantRestart {
				if cs.RestartCount != 1 || cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != tc.exitCode {
					t.Errorf("after a restart: %+v", cs)
				}
			} else if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != tc.exitCode {
				t.Errorf("a container that stays exited shows terminated with exit code %d: %+v", tc.exitCode, cs.State)
			}
			if !tc.wantRestart {
				// A finished pod stays finished, even if the runtime forgets it.
				_ = h.rt.RemovePod(context.Background(), "uid-1")
				h.w.pod = h.apiPod()
				h.sync()
				if len(h.containers()) != 0 {
					t.Error("a finished pod was started again")
				}
			}
		})
	}
}

func TestCrashLoopBackOff(t *testing.T) {
	h := newHarness(t, newPod(v1alpha1.RestartPolicyAlways, "a"))
	h.sync()
	// The first crash restarts at once.
	h.exitLatest("a", 1)
	if requeue := h.sync(); requeue != 0 {
		t.Errorf("requeue %v after the first restart", requeue)
	}
	wantDelays := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second}
	for i, delay := range wantDelays {
		attempt := uint32(i + 1)
		h.exitLatest("a", 1)
		requeue := h.sync()
		if requeue != delay {
			t.Fatalf("crash %d: sync again in %v, want %v", i+2, requeue, delay)
		}
		cs := h.containerStatus("a")
		if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" || !strings.Contains(cs.State.Waiting.Message, "back-off "+delay.String()) {
			t.Fatalf("crash %d: state %+v, want CrashLoopBackOff with back-off %v", i+2, cs.State, delay)
		}
		if h.apiPod().Status.Phase != v1alpha1.PodRunning {
			t.Errorf("a crash-looping pod with restartPolicy Always is Running, got %s", h.apiPod().Status.Phase)
		}
		// Not restarted before its time...
		h.clock.Step(delay - time.Second)
		h.sync()
		if latest, _ := runtime.Latest(h.containers(), "a"); latest.Attempt != attempt {
			t.Fatalf("crash %d: restarted before the back-off ended", i+2)
		}
		// ...and restarted when it is over.
		h.clock.Step(time.Second)
		h.sync()
		if latest, _ := runtime.Latest(h.containers(), "a"); latest.Attempt != attempt+1 || latest.State != runtime.StateRunning {
			t.Fatalf("crash %d: not restarted after the back-off: %+v", i+2, latest)
		}
		if cs := h.containerStatus("a"); cs.RestartCount != int32(attempt+1) {
			t.Errorf("restartCount %d, want %d", cs.RestartCount, attempt+1)
		}
	}
	// Only the newest two attempts are kept.
	if n := len(h.containers()); n != 2 {
		t.Errorf("%d attempts kept, want 2 (current and previous)", n)
	}
	if !hasEvent(h.recorder, "BackOff") {
		t.Error("no BackOff event")
	}
}

func TestBackOffStartsOverAfterALongRun(t *testing.T) {
	h := newHarness(t, newPod(v1alpha1.RestartPolicyAlways, "a"))
	h.sync()
	h.exitLatest("a", 1)
	h.sync() // restarted at once; next back-off 10s
	h.exitLatest("a", 1)
	if requeue := h.sync(); requeue != 10*time.Second {
		t.Fatalf("requeue %v", requeue)
	}
	h.clock.Step(10 * time.Second)
	h.sync() // restarted; back-off now 20s
	// It runs for 11 minutes, then crashes: it restarts at once.
	h.clock.Step(11 * time.Minute)
	h.exitLatest("a", 1)
	if requeue := h.sync(); requeue != 0 {
		t.Errorf("requeue %v after a long run, want an immediate restart", requeue)
	}
	if latest, _ := runtime.Latest(h.containers(), "a"); latest.State != runtime.StateRunning {
		t.Errorf("not restarted: %+v", latest)
	}
}

func TestImagePullBackOff(t *testing.T) {
	pod := newPod(v1alpha1.RestartPolicyNever, "a")
	h := newHarness(t, pod)
	h.rt.SetStartError(pod.UID, "a", &runtime.StartError{Reason: runtime.ReasonErrImagePull, Message: "pull access denied"})
	if requeue := h.sync(); requeue != 10*time.Second {
		t.Errorf("retry in %v, want 10s", requeue)
	}
	cs := h.containerStatus("a")
	if cs.State.Waiting == nil || cs.State.Waiting.Reason != "ErrImagePull" || cs.State.Waiting.Message != "pull access denied" {
		t.Fatalf("state %+v, want ErrImagePull with the runtime's message", cs.State)
	}
	if h.apiPod().Status.Phase != v1alpha1.PodPending {
		t.Errorf("phase %s, want Pending even with restartPolicy Never", h.apiPod().Status.Phase)
	}
	h.clock.Step(time.Second)
	h.sync()
	cs = h.containerStatus("a")
	if cs.State.Waiting == nil || cs.State.Waiting.Reason != "ImagePullBackOff" || !strings.Contains(cs.State.Waiting.Message, "pull access denied") {
		t.Fatalf("state %+v, want ImagePullBackOff", cs.State)
	}
	// After the back-off the pull is tried again; once it works the pod runs.
	h.rt.SetStartError(pod.UID, "a", nil)
	h.clock.Step(9 * time.Second)
	h.sync()
	if cs := h.containerStatus("a"); cs.State.Running == nil {
		t.Errorf("state %+v after the image became available, want running", cs.State)
	}
}

func TestRunContainerError(t *testing.T) {
	for _, tc := range []struct {
		name      string
		policy    v1alpha1.RestartPolicy
		wantPhase v1alpha1.PodPhase
		wantState string
	}{
		{"Never: the pod fails with exit code 128", v1alpha1.RestartPolicyNever, v1alpha1.PodFailed, "terminated"},
		{"Always: the container waits to retry", v1alpha1.RestartPolicyAlways, v1alpha1.PodRunning, "RunContainerError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := newPod(tc.policy, "a")
			h := newHarness(t, pod)
			h.rt.SetStartError(pod.UID, "a", &runtime.StartError{Reason: runtime.ReasonRunContainerError, Message: `"run": executable file not found in $PATH`})
			h.sync()
			if got := h.apiPod().Status.Phase; got != tc.wantPhase {
				t.Errorf("phase %s, want %s", got, tc.wantPhase)
			}
			cs := h.containerStatus("a")
			switch tc.wantState {
			case "terminated":
				if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 128 || cs.State.Terminated.Reason != "StartError" {
					t.Errorf("state %+v, want terminated 128 StartError", cs.State)
				}
			default:
				if cs.State.Waiting == nil || cs.State.Waiting.Reason != tc.wantState || !strings.Contains(cs.State.Waiting.Message, "not found") {
					t.Errorf("state %+v, want waiting %s", cs.State, tc.wantState)
				}
				h.clock.Step(time.Second)
				h.sync()
				if cs := h.containerStatus("a"); cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" {
					t.Errorf("state %+v, want CrashLoopBackOff while backing off", cs.State)
				}
			}
			if !hasEvent(h.recorder, "Failed") {
				t.Error("no Failed event")
			}
		})
	}
}

func TestGracefulDeletion(t *testing.T) {
	h := newHarness(t, newPod(v1alpha1.RestartPolicyAlways, "a", "b"))
	h.sync()
	// kubectl delete: the API server sets the deletion timestamp and grace.
	deleting := h.apiPod()
	now := metav1.NewTime(h.clock.Now())
	grace := int64(5)
	deleting.DeletionTimestamp, deleting.DeletionGracePeriodSeconds = &now, &grace
	h.w.pod = deleting
	h.client.ClearActions()
	h.sync()

	stops := h.rt.Stops()
	if len(stops) != 2 {
		t.Fatalf("stops %v, want both containers stopped", stops)
	}
	for _, s := range stops {
		if s.Grace != 5*time.Second {
			t.Errorf("stopped with grace %v, want the deletion's 5s (shorter than the spec's 30s)", s.Grace)
		}
	}
	var patched, deleted bool
	for _, a := range h.client.Actions() {
		switch a := a.(type) {
		case clienttesting.PatchAction:
			patched = true
		case clienttesting.DeleteAction:
			deleted = true
			opts := a.GetDeleteOptions()
			if opts.GracePeriodSeconds == nil || *opts.GracePeriodSeconds != 0 || opts.Preconditions == nil || opts.Preconditions.UID == nil || *opts.Preconditions.UID != "uid-1" {
				t.Errorf("delete options %+v, want grace 0 and the pod's UID as precondition", opts)
			}
			if patched != true {
				t.Error("deleted before writing the final status")
			}
		}
	}
	if !patched || !deleted {
		t.Fatalf("actions %v: want the final status written, then the pod deleted", h.client.Actions())
	}
	if _, err := h.client.CoreV1alpha1().Pods("ns").Get(context.Background(), "web", metav1.GetOptions{}); err == nil {
		t.Error("the pod still exists")
	}
	// Then the informer reports it gone: the worker cleans up and ends.
	h.w.gone = true
	if _, done := h.w.sync(context.Background()); !done {
		t.Error("worker not done after the pod is gone")
	}
	if len(h.containers()) != 0 {
		t.Errorf("runtime still has %v", h.containers())
	}
}

func TestDeletionGracePeriod(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name      string
		spec      *int64
		deletion  *int64
		wantGrace time.Duration
	}{
		{"spec's grace", i(30), nil, 30 * time.Second},
		{"shorter deletion grace wins", i(30), i(3), 3 * time.Second},
		{"longer deletion grace does not", i(10), i(60), 10 * time.Second},
		{"no spec grace: the default", nil, nil, 30 * time.Second},
		{"forced", i(30), i(0), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPod(v1alpha1.RestartPolicyAlways, "a")
			p.Spec.TerminationGracePeriodSeconds, p.DeletionGracePeriodSeconds = tc.spec, tc.deletion
			if got := gracePeriod(p); got != tc.wantGrace {
				t.Errorf("grace %v, want %v", got, tc.wantGrace)
			}
		})
	}
}

func TestPodDeletedOutright(t *testing.T) {
	h := newHarness(t, newPod(v1alpha1.RestartPolicyAlways, "a"))
	h.sync()
	h.w.gone = true
	if _, done := h.w.sync(context.Background()); !done {
		t.Fatal("worker not done")
	}
	if stops := h.rt.Stops(); len(stops) != 1 || stops[0].Grace > orphanGrace {
		t.Errorf("stops %v, want the container stopped within %v", stops, orphanGrace)
	}
	if len(h.containers()) != 0 {
		t.Errorf("runtime still has %v", h.containers())
	}
}

func TestRestartedKubeletAdoptsRunningContainers(t *testing.T) {
	pod := newPod(v1alpha1.RestartPolicyAlways, "a")
	h := newHarness(t, pod)
	// The runtime already runs the container (started before the restart).
	id, _ := h.rt.StartContainer(context.Background(), pod, &pod.Spec.Containers[0], 3)
	h.sync()
	if cs := h.containers(); len(cs) != 1 || cs[0].ID != id {
		t.Fatalf("containers %v: a second copy was started", cs)
	}
	if cs := h.containerStatus("a"); cs.State.Running == nil || cs.RestartCount != 3 {
		t.Errorf("status %+v, want the adopted container running with its restart count", cs)
	}
}

func hasEvent(r *record.FakeRecorder, reason string) bool {
	for {
		select {
		case e := <-r.Events:
			if strings.Contains(e, " "+reason+" ") {
				return true
			}
		default:
			return false
		}
	}
}

// The rest drives the workers through their goroutines, as the kubelet does.

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWorkersRunAndDeletePods(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pod := newPod(v1alpha1.RestartPolicyAlways, "a")
	client := fake.NewClientset(pod)
	rt := fakeruntime.New()
	p := New(ctx, Config{Client: client, Runtime: rt, Status: status.NewManager(client, nil), HostIP: "10.0.0.9"})
	rt.SetOnChange(p.Notify)

	p.UpdatePod(pod)
	waitFor(t, "the pod to run", func() bool {
		got, _ := client.CoreV1alpha1().Pods("ns").Get(ctx, "web", metav1.GetOptions{})
		return got.Status.Phase == v1alpha1.PodRunning
	})
	// A container exit reaches the worker through Notify.
	cs, _ := rt.ListContainers(ctx)
	rt.Exit(cs[0].ID, 1)
	waitFor(t, "the restart", func() bool {
		got, _ := client.CoreV1alpha1().Pods("ns").Get(ctx, "web", metav1.GetOptions{})
		return len(got.Status.ContainerStatuses) == 1 && got.Status.ContainerStatuses[0].RestartCount == 1
	})
	p.DeletePod(pod)
	waitFor(t, "the worker to end", func() bool { return !p.Known(pod.UID) })
	if cs, _ := rt.ListContainers(ctx); len(cs) != 0 {
		t.Errorf("containers left: %v", cs)
	}
}

func TestCleanupOrphans(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	known := newPod(v1alpha1.RestartPolicyAlways, "a")
	orphan := newPod(v1alpha1.RestartPolicyAlways, "a")
	orphan.UID, orphan.Name = types.UID("uid-orphan"), "old"
	client := fake.NewClientset(known)
	rt := fakeruntime.New()
	_, _ = rt.StartContainer(ctx, orphan, &orphan.Spec.Containers[0], 0)
	p := New(ctx, Config{Client: client, Runtime: rt, Status: status.NewManager(client, nil)})
	p.UpdatePod(known)
	if err := p.CleanupOrphans(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the orphan to be removed", func() bool {
		cs, _ := rt.ListContainers(ctx)
		for _, c := range cs {
			if c.PodUID == orphan.UID {
				return false
			}
		}
		return true
	})
	waitFor(t, "the known pod to run", func() bool {
		cs, _ := rt.ListContainers(ctx)
		return len(cs) == 1 && cs[0].PodUID == known.UID
	})
}

// TestSpecChangeRestartsTheContainer changes a running container's image,
// as `kubectl set image` does: the kubelet stops the container and starts
// it again from the new spec, whatever the restart policy, and reports the
// generation it acted on.
func TestSpecChangeRestartsTheContainer(t *testing.T) {
	for _, policy := range []v1alpha1.RestartPolicy{v1alpha1.RestartPolicyAlways, v1alpha1.RestartPolicyNever} {
		t.Run(string(policy), func(t *testing.T) {
			pod := newPod(policy, "a", "b")
			pod.Generation = 1
			h := newHarness(t, pod)
			h.sync()
			if g := h.apiPod().Status.ObservedGeneration; g != 1 {
				t.Errorf("observedGeneration %d, want 1", g)
			}
			first, _ := runtime.Latest(h.containers(), "a")

			changed := h.apiPod()
			changed.Spec.Containers[0].Image = "img:a-v2"
			changed.Generation = 2
			h.w.pod = changed
			h.sync()

			latest, previous := runtime.Latest(h.containers(), "a")
			if latest.Attempt != 1 || latest.State != runtime.StateRunning || latest.Image != "img:a-v2" {
				t.Errorf("container a after the image changed: %+v, want attempt 1 running img:a-v2", latest)
			}
			if previous == nil || previous.ID != first.ID || previous.State != runtime.StateExited {
				t.Errorf("the old attempt %+v was not stopped", previous)
			}
			if b, _ := runtime.Latest(h.containers(), "b"); b.Attempt != 0 || b.State != runtime.StateRunning {
				t.Errorf("container b, whose spec did not change, was touched: %+v", b)
			}
			st := h.apiPod().Status
			if st.ObservedGeneration != 2 || st.Phase != v1alpha1.PodRunning {
				t.Errorf("status: observedGeneration %d phase %s, want 2 and Running", st.ObservedGeneration, st.Phase)
			}
			if cs := h.containerStatus("a"); cs.Image != "img:a-v2" || cs.RestartCount != 1 || cs.State.Running == nil {
				t.Errorf("container a status %+v, want img:a-v2 running, one restart", cs)
			}
			if !hasEvent(h.recorder, "Killing") {
				t.Error("no Killing event for the changed container")
			}
			// And it stays: a third sync restarts nothing.
			h.sync()
			if l, _ := runtime.Latest(h.containers(), "a"); l.ID != latest.ID {
				t.Errorf("the new container was restarted again: %+v", l)
			}
		})
	}
}

// TestPodFailedBySomeoneElseStopsItsContainers sets a running pod's phase to
// Failed from another component: the kubelet stops its containers and its
// container statuses stop saying running and ready.
func TestPodFailedBySomeoneElseStopsItsContainers(t *testing.T) {
	pod := newPod(v1alpha1.RestartPolicyAlways, "a")
	pod.ResourceVersion = "1"
	h := newHarness(t, pod)
	h.sync()
	if cs := h.containerStatus("a"); cs.State.Running == nil || !cs.Ready {
		t.Fatalf("container a %+v, want running and ready", cs)
	}
	failed, err := h.client.CoreV1alpha1().Pods("ns").Patch(context.Background(), "web", types.StrategicMergePatchType,
		[]byte(`{"status":{"phase":"Failed","reason":"Evicted","message":"evicted by the test"}}`), metav1.PatchOptions{}, "status")
	if err != nil {
		t.Fatal(err)
	}
	failed.ResourceVersion = "9" // as the informer shows it
	h.w.pod = failed
	h.sync()

	if latest, _ := runtime.Latest(h.containers(), "a"); latest.State != runtime.StateExited {
		t.Errorf("container a is %s in a Failed pod, want stopped", latest.State)
	}
	st := h.apiPod().Status
	if st.Phase != v1alpha1.PodFailed || st.Reason != "Evicted" {
		t.Errorf("phase %s reason %q, want Failed, Evicted kept", st.Phase, st.Reason)
	}
	cs := h.containerStatus("a")
	if cs.State.Running != nil || cs.Ready || cs.State.Terminated == nil {
		t.Errorf("container a status %+v: want terminated and not ready", cs)
	}
	for _, c := range st.Conditions {
		if c.Type == v1alpha1.PodReady && c.Status != v1alpha1.ConditionFalse {
			t.Errorf("Ready %s in a Failed pod", c.Status)
		}
	}
	// Nothing restarts it.
	h.w.pod = h.apiPod()
	h.w.pod.ResourceVersion = "10"
	h.sync()
	if latest, _ := runtime.Latest(h.containers(), "a"); latest.Attempt != 0 {
		t.Errorf("a container of a Failed pod was started again: %+v", latest)
	}
}
