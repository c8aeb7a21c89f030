package podworkers

import (
	"context"
	"strings"
	"testing"
	"time"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/prober"
	"skiff.dev/skiff/pkg/kubelet/runtime"
	fakeruntime "skiff.dev/skiff/pkg/kubelet/runtime/fake"
)

// withProber gives the harness a running prober on its clock; the fake
// runtime decides the probes from the pod's annotation.
func (h *harness) withProber() *prober.Manager {
	pr := prober.New(prober.Config{Runtime: h.rt, Recorder: h.recorder, Clock: h.clock, Workers: 2})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { pr.Run(ctx); close(done) }()
	h.t.Cleanup(func() { cancel(); <-done })
	h.p.cfg.Prober = pr
	return pr
}

// probeUntil moves the clock on a second at a time, giving the prober's
// workers a moment each time, until cond holds.
func (h *harness) probeUntil(what string, cond func() bool) {
	h.t.Helper()
	for range 200 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
		h.clock.Step(time.Second)
	}
	h.t.Fatalf("timed out waiting: %s", what)
}

func probePod(annotation string, c func(*v1alpha1.Container)) *v1alpha1.Pod {
	pod := newPod(v1alpha1.RestartPolicyAlways, "app")
	pod.Annotations = map[string]string{fakeruntime.SimulatedProbeAnnotation: annotation}
	c(&pod.Spec.Containers[0])
	return pod
}

func execProbe(failureThreshold int32) *v1alpha1.Probe {
	return &v1alpha1.Probe{
		ProbeHandler:  v1alpha1.ProbeHandler{Exec: &v1alpha1.ExecAction{Command: []string{"check"}}},
		PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: failureThreshold,
	}
}

func (h *harness) condition(t v1alpha1.PodConditionType) v1alpha1.ConditionStatus {
	for _, c := range h.apiPod().Status.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

func (h *harness) drainEvents() []string {
	var out []string
	for {
		select {
		case e := <-h.recorder.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func TestFailingReadinessProbeKeepsPodOutOfReady(t *testing.T) {
	pod := probePod("readiness=failure", func(c *v1alpha1.Container) { c.ReadinessProbe = execProbe(1) })
	h := newHarness(t, pod)
	pr := h.withProber()
	h.sync()
	id := h.containerStatus("app").ContainerID[len("fake://"):]
	h.probeUntil("a failed readiness probe", func() bool {
		for _, e := range h.drainEvents() {
			if strings.HasPrefix(e, "Warning Unhealthy Readiness probe failed: simulated failure") {
				return true
			}
		}
		return false
	})
	h.sync()
	cs := h.containerStatus("app")
	if h.apiPod().Status.Phase != v1alpha1.PodRunning || cs.Ready || h.condition(v1alpha1.PodReady) != v1alpha1.ConditionFalse ||
		h.condition(v1alpha1.ContainersReady) != v1alpha1.ConditionFalse {
		t.Fatalf("failing readiness: phase %s, ready %v, Ready %s, ContainersReady %s", h.apiPod().Status.Phase, cs.Ready,
			h.condition(v1alpha1.PodReady), h.condition(v1alpha1.ContainersReady))
	}
	if cs.RestartCount != 0 {
		t.Errorf("a readiness failure restarted the container (restartCount %d)", cs.RestartCount)
	}

	// The probe starts passing: the pod turns Ready.
	pod = pod.DeepCopy()
	pod.Annotations[fakeruntime.SimulatedProbeAnnotation] = "readiness=success"
	h.w.update(pod, false)
	h.sync()
	h.probeUntil("ready", func() bool { return pr.Results(pod.UID, "app", id).Ready })
	h.sync()
	if !h.containerStatus("app").Ready || h.condition(v1alpha1.PodReady) != v1alpha1.ConditionTrue {
		t.Fatalf("passing readiness: ready %v, Ready %s", h.containerStatus("app").Ready, h.condition(v1alpha1.PodReady))
	}
}

func TestFailingLivenessProbeRestartsTheContainer(t *testing.T) {
	grace := int64(7)
	pod := probePod("liveness=failure", func(c *v1alpha1.Container) {
		c.LivenessProbe = execProbe(2)
		c.LivenessProbe.TerminationGracePeriodSeconds = &grace
	})
	h := newHarness(t, pod)
	pr := h.withProber()
	h.sync()
	first := h.containerStatus("app").ContainerID[len("fake://"):]
	h.probeUntil("liveness to fail", func() bool { _, ok := pr.Unhealthy(pod.UID, "app", first); return ok })
	h.sync()

	stops := h.rt.Stops()
	if len(stops) != 1 || stops[0].ID != first || stops[0].Grace != 7*time.Second {
		t.Fatalf("stops %+v, want the first attempt stopped with the probe's 7s grace", stops)
	}
	cs := h.containerStatus("app")
	if cs.RestartCount != 1 || cs.State.Running == nil || cs.LastTerminationState.Terminated == nil {
		t.Fatalf("after a liveness failure: %+v, want attempt 1 running", cs)
	}
	// The new attempt may already be probed: look at the events up to the
	// Killing.
	var before []string
	killed := false
	for _, e := range h.drainEvents() {
		switch {
		case e == "Normal Killing Container app failed liveness probe, will be restarted":
			killed = true
		case !killed && strings.HasPrefix(e, "Warning Unhealthy Liveness probe failed: "):
			before = append(before, e)
		}
	}
	if !killed || len(before) != 2 {
		t.Errorf("killed %v after %d Unhealthy events, want Killing after two (failureThreshold 2)", killed, len(before))
	}

	// The new attempt fails too: it is killed again, and its restart backs off.
	second := cs.ContainerID[len("fake://"):]
	h.probeUntil("liveness to fail again", func() bool { _, ok := pr.Unhealthy(pod.UID, "app", second); return ok })
	h.sync()
	if cs := h.containerStatus("app"); cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" {
		t.Fatalf("second failure: %+v, want CrashLoopBackOff", cs.State)
	}
}

func TestStartupProbeHoldsLivenessOff(t *testing.T) {
	pod := probePod("startup=failure,liveness=failure", func(c *v1alpha1.Container) {
		c.StartupProbe = execProbe(1000)
		c.LivenessProbe = execProbe(1)
	})
	h := newHarness(t, pod)
	pr := h.withProber()
	h.sync()
	id := h.containerStatus("app").ContainerID[len("fake://"):]
	startups := 0
	h.probeUntil("five failed startup probes", func() bool {
		for _, e := range h.drainEvents() {
			if strings.Contains(e, "Liveness probe failed") {
				t.Fatalf("liveness ran before startup succeeded: %s", e)
			}
			if strings.Contains(e, "Startup probe failed") {
				startups++
			}
		}
		return startups >= 5
	})
	if _, ok := pr.Unhealthy(pod.UID, "app", id); ok {
		t.Fatal("unhealthy while starting")
	}
	h.sync()
	if cs := h.containerStatus("app"); *cs.Started || cs.Ready || cs.RestartCount != 0 {
		t.Fatalf("while starting: started %v ready %v restarts %d", *cs.Started, cs.Ready, cs.RestartCount)
	}

	// Startup succeeds: liveness runs, fails, and the container restarts.
	pod = pod.DeepCopy()
	pod.Annotations[fakeruntime.SimulatedProbeAnnotation] = "startup=success,liveness=failure"
	h.w.update(pod, false)
	h.sync()
	h.probeUntil("liveness to fail", func() bool { _, ok := pr.Unhealthy(pod.UID, "app", id); return ok })
	h.sync()
	if cs := h.containerStatus("app"); cs.RestartCount != 1 {
		t.Fatalf("restartCount %d after liveness failed, want 1", cs.RestartCount)
	}
}

func TestFailingStartupProbeRestartsTheContainer(t *testing.T) {
	pod := probePod("startup=failure", func(c *v1alpha1.Container) { c.StartupProbe = execProbe(3) })
	pod.Spec.RestartPolicy = v1alpha1.RestartPolicyNever
	h := newHarness(t, pod)
	pr := h.withProber()
	h.sync()
	id := h.containerStatus("app").ContainerID[len("fake://"):]
	h.probeUntil("startup to fail", func() bool { _, ok := pr.Unhealthy(pod.UID, "app", id); return ok })
	h.sync()
	// restartPolicy Never: killed, not restarted.
	if cs := h.containerStatus("app"); cs.State.Terminated == nil || cs.RestartCount != 0 {
		t.Fatalf("%+v, want terminated and not restarted", cs.State)
	}
	found := false
	for _, e := range h.drainEvents() {
		found = found || e == "Normal Killing Container app failed startup probe"
	}
	if !found {
		t.Error("no Killing event for the failed startup probe")
	}
	if cs, _ := runtime.Latest(h.containers(), "app"); cs.State != runtime.StateExited {
		t.Errorf("container state %s", cs.State)
	}
}
