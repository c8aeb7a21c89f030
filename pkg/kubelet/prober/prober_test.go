package prober

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/record"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/prober/probe"
	"skiff.dev/skiff/pkg/kubelet/runtime"
	"skiff.dev/skiff/pkg/kubelet/runtime/fake"
)

// execRuntime runs exec probes from a table: a command's first word names
// its exit code. It can hold every exec until released, to see how many run
// at once.
type execRuntime struct {
	runtime.Runtime // only Type and ExecSync are used

	mu      sync.Mutex
	codes   map[string]int32
	calls   map[string]int
	running int
	maxRun  int
	hold    chan struct{}
}

func newExecRuntime() *execRuntime {
	return &execRuntime{codes: map[string]int32{}, calls: map[string]int{}}
}

func (r *execRuntime) Type() string { return "stub" }

func (r *execRuntime) set(cmd string, code int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.codes[cmd] = code
}

func (r *execRuntime) count(cmd string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[cmd]
}

func (r *execRuntime) ExecSync(_ context.Context, _ *v1alpha1.Pod, _ *v1alpha1.Container, _ string, cmd []string, _ time.Duration) ([]byte, int32, error) {
	r.mu.Lock()
	r.calls[cmd[0]]++
	r.running++
	r.maxRun = max(r.maxRun, r.running)
	hold, code := r.hold, r.codes[cmd[0]]
	r.mu.Unlock()
	if hold != nil {
		<-hold
	}
	r.mu.Lock()
	r.running--
	r.mu.Unlock()
	return []byte("output of " + cmd[0]), code, nil
}

func execProbe(cmd string, failureThreshold int32) *v1alpha1.Probe {
	return &v1alpha1.Probe{
		ProbeHandler:  v1alpha1.ProbeHandler{Exec: &v1alpha1.ExecAction{Command: []string{cmd}}},
		PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: failureThreshold,
	}
}

func podWith(uid string, c v1alpha1.Container) (*v1alpha1.Pod, []runtime.Container) {
	pod := &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p" + uid, Namespace: "default", UID: types.UID(uid)},
		Spec:       v1alpha1.PodSpec{Containers: []v1alpha1.Container{c}},
	}
	return pod, []runtime.Container{{ID: "c-" + uid, PodUID: pod.UID, Name: c.Name, State: runtime.StateRunning, StartedAt: time.Now()}}
}

// until waits for cond, failing the test after a while.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func start(t *testing.T, cfg Config) *Manager {
	t.Helper()
	m := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return m
}

func TestRecordThresholds(t *testing.T) {
	S, F := probe.Success, probe.Failure
	tests := []struct {
		name     string
		typ      ProbeType
		success  int32
		failure  int32
		outcomes []probe.Result
		want     []probe.Result // reported after each outcome
	}{
		{"readiness starts unready and turns ready on one success", Readiness, 1, 3, []probe.Result{S}, []probe.Result{S}},
		{"readiness needs successThreshold successes in a row", Readiness, 2, 3, []probe.Result{S, F, S, S}, []probe.Result{F, F, F, S}},
		{"readiness needs failureThreshold failures in a row", Readiness, 1, 3, []probe.Result{S, F, F, S, F, F, F}, []probe.Result{S, S, S, S, S, S, F}},
		{"liveness stays alive below the threshold", Liveness, 1, 2, []probe.Result{F, S, F}, []probe.Result{S, S, S}},
		{"liveness fails at the threshold", Liveness, 1, 2, []probe.Result{F, F}, []probe.Result{S, F}},
		{"startup is unknown until it succeeds", Startup, 1, 3, []probe.Result{F, S}, []probe.Result{probe.Unknown, S}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := execProbe("x", tt.failure)
			p.SuccessThreshold = tt.success
			e := &entry{key: key{probeType: tt.typ}, probe: p, result: initialResult(tt.typ)}
			for i, o := range tt.outcomes {
				e.record(o, "because")
				if e.result != tt.want[i] {
					t.Fatalf("after outcome %d (%v): reported %v, want %v", i, o, e.result, tt.want[i])
				}
			}
		})
	}
}

// TestPoolIsBounded: many probes share the pool's few workers, and all run.
func TestPoolIsBounded(t *testing.T) {
	rt := newExecRuntime()
	rt.hold = make(chan struct{})
	var mu sync.Mutex
	changed := map[types.UID]bool{}
	m := start(t, Config{Runtime: rt, Workers: 3, OnChange: func(uid types.UID) {
		mu.Lock()
		changed[uid] = true
		mu.Unlock()
	}})
	const pods = 40
	for i := range pods {
		pod, cs := podWith(strconv.Itoa(i), v1alpha1.Container{Name: "app", ReadinessProbe: execProbe("ok", 3)})
		m.UpdatePod(pod, "127.0.0.1", cs, nil)
	}
	until(t, "three probes running", func() bool {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		return rt.running == 3
	})
	close(rt.hold)
	until(t, "every pod ready", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(changed) == pods
	})
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.maxRun != 3 {
		t.Errorf("at most %d probes ran at once, want the pool's 3", rt.maxRun)
	}
	for i := range pods {
		if s := m.Results(types.UID(strconv.Itoa(i)), "app", "c-"+strconv.Itoa(i)); !s.Ready {
			t.Errorf("pod %d not ready: %+v", i, s)
		}
	}
}

func TestReadinessFollowsProbe(t *testing.T) {
	rt := newExecRuntime()
	rt.set("ready", 1)
	changes := make(chan types.UID, 10)
	m := start(t, Config{Runtime: rt, OnChange: func(uid types.UID) { changes <- uid }})
	pod, cs := podWith("a", v1alpha1.Container{Name: "app", ReadinessProbe: execProbe("ready", 1)})
	m.UpdatePod(pod, "127.0.0.1", cs, nil)
	until(t, "a first probe", func() bool { return rt.count("ready") >= 1 })
	if s := m.Results("a", "app", "c-a"); s.Ready || !s.Started {
		t.Fatalf("a failing readiness probe: got %+v, want started and not ready", s)
	}
	rt.set("ready", 0)
	<-changes
	if s := m.Results("a", "app", "c-a"); !s.Ready {
		t.Fatalf("a succeeding readiness probe: got %+v, want ready", s)
	}
	// A new attempt of the container starts unready.
	cs[0].ID = "c-a2"
	m.UpdatePod(pod, "127.0.0.1", cs, nil)
	if s := m.Results("a", "app", "c-a2"); s.Ready {
		t.Fatalf("a new attempt: got %+v, want not ready until probed", s)
	}
	// No probes: started and ready.
	if s := m.Results("b", "app", "c-b"); !s.Ready || !s.Started {
		t.Fatalf("without probes: got %+v", s)
	}
}

func TestLivenessFailure(t *testing.T) {
	rt := newExecRuntime()
	rt.set("alive", 1)
	rec := record.NewFakeRecorder(100)
	changes := make(chan types.UID, 10)
	m := start(t, Config{Runtime: rt, Recorder: rec, OnChange: func(uid types.UID) { changes <- uid }})
	p := execProbe("alive", 2)
	p.TerminationGracePeriodSeconds = new(int64)
	*p.TerminationGracePeriodSeconds = 3
	pod, cs := podWith("a", v1alpha1.Container{Name: "app", LivenessProbe: p})
	m.UpdatePod(pod, "127.0.0.1", cs, nil)
	<-changes
	if n := rt.count("alive"); n != 2 {
		t.Errorf("failed after %d probes, want failureThreshold 2", n)
	}
	f, ok := m.Unhealthy("a", "app", "c-a")
	if !ok || f.ProbeType != Liveness || f.GracePeriod == nil || *f.GracePeriod != 3 || !strings.Contains(f.Message, "exited with 1") {
		t.Fatalf("Unhealthy: %+v %v", f, ok)
	}
	ev := <-rec.Events
	if !strings.HasPrefix(ev, "Warning Unhealthy Liveness probe failed: ") {
		t.Errorf("event %q", ev)
	}
	// The failed attempt is not probed again.
	time.Sleep(1500 * time.Millisecond)
	if n := rt.count("alive"); n != 2 {
		t.Errorf("probed %d times, want no more probes after the failure", n)
	}
}

func TestStartupHoldsLivenessAndReadiness(t *testing.T) {
	rt := newExecRuntime()
	rt.set("started", 1)
	rt.set("alive", 1)
	changes := make(chan types.UID, 10)
	m := start(t, Config{Runtime: rt, OnChange: func(uid types.UID) { changes <- uid }})
	pod, cs := podWith("a", v1alpha1.Container{Name: "app",
		StartupProbe: execProbe("started", 100), LivenessProbe: execProbe("alive", 1), ReadinessProbe: execProbe("ready", 1)})
	m.UpdatePod(pod, "127.0.0.1", cs, nil)
	until(t, "two startup probes", func() bool { return rt.count("started") >= 2 })
	if rt.count("alive") != 0 || rt.count("ready") != 0 {
		t.Fatalf("liveness ran %d and readiness %d times before startup succeeded", rt.count("alive"), rt.count("ready"))
	}
	if s := m.Results("a", "app", "c-a"); s.Started || s.Ready {
		t.Fatalf("before startup: %+v", s)
	}
	if _, ok := m.Unhealthy("a", "app", "c-a"); ok {
		t.Fatal("unhealthy before startup succeeded")
	}
	rt.set("started", 0)
	<-changes // started
	until(t, "liveness to run", func() bool { return rt.count("alive") >= 1 })
	until(t, "liveness to fail", func() bool { _, ok := m.Unhealthy("a", "app", "c-a"); return ok })
}

func TestStartupFailure(t *testing.T) {
	rt := newExecRuntime()
	rt.set("started", 1)
	m := start(t, Config{Runtime: rt})
	pod, cs := podWith("a", v1alpha1.Container{Name: "app", StartupProbe: execProbe("started", 1)})
	m.UpdatePod(pod, "127.0.0.1", cs, nil)
	until(t, "startup to fail", func() bool {
		f, ok := m.Unhealthy("a", "app", "c-a")
		return ok && f.ProbeType == Startup
	})
}

// TestProbeKinds runs one probe of each kind against a real server.
func TestProbeKinds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/vhost" {
			if r.Host != "example.test" {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			return
		}
		if r.URL.Path != "/healthz" || r.Header.Get("X-Check") != "1" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	_, httpPort, _ := net.SplitHostPort(srv.Listener.Addr().String())
	hp, _ := strconv.Atoi(httpPort)

	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("db", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	go func() { _ = gs.Serve(gl) }()
	defer gs.Stop()
	gp := gl.Addr().(*net.TCPAddr).Port
	db := "db"

	rt := newExecRuntime()
	rt.set("false", 1)
	m := New(Config{Runtime: rt})
	ports := []v1alpha1.ContainerPort{{Name: "web", ContainerPort: int32(hp)}}
	tests := []struct {
		name    string
		handler v1alpha1.ProbeHandler
		want    probe.Result
	}{
		{"httpGet by port number", v1alpha1.ProbeHandler{HTTPGet: &v1alpha1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(int32(hp)),
			HTTPHeaders: []v1alpha1.HTTPHeader{{Name: "X-Check", Value: "1"}}}}, probe.Success},
		{"httpGet by port name", v1alpha1.ProbeHandler{HTTPGet: &v1alpha1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("web"),
			HTTPHeaders: []v1alpha1.HTTPHeader{{Name: "X-Check", Value: "1"}}}}, probe.Success},
		{"httpGet with a host header, in any case", v1alpha1.ProbeHandler{HTTPGet: &v1alpha1.HTTPGetAction{Path: "/vhost", Port: intstr.FromString("web"),
			HTTPHeaders: []v1alpha1.HTTPHeader{{Name: "host", Value: "example.test"}}}}, probe.Success},
		{"httpGet 503", v1alpha1.ProbeHandler{HTTPGet: &v1alpha1.HTTPGetAction{Path: "/other", Port: intstr.FromString("web")}}, probe.Failure},
		{"httpGet unknown port name", v1alpha1.ProbeHandler{HTTPGet: &v1alpha1.HTTPGetAction{Path: "/", Port: intstr.FromString("nope")}}, probe.Failure},
		{"tcpSocket open", v1alpha1.ProbeHandler{TCPSocket: &v1alpha1.TCPSocketAction{Port: intstr.FromString("web")}}, probe.Success},
		{"tcpSocket with explicit host", v1alpha1.ProbeHandler{TCPSocket: &v1alpha1.TCPSocketAction{Host: "127.0.0.1", Port: intstr.FromInt32(int32(gp))}}, probe.Success},
		{"grpc serving", v1alpha1.ProbeHandler{GRPC: &v1alpha1.GRPCAction{Port: int32(gp)}}, probe.Success},
		{"grpc not serving", v1alpha1.ProbeHandler{GRPC: &v1alpha1.GRPCAction{Port: int32(gp), Service: &db}}, probe.Failure},
		{"exec exit 0", v1alpha1.ProbeHandler{Exec: &v1alpha1.ExecAction{Command: []string{"true"}}}, probe.Success},
		{"exec exit 1", v1alpha1.ProbeHandler{Exec: &v1alpha1.ExecAction{Command: []string{"false"}}}, probe.Failure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &v1alpha1.Container{Name: "app", Ports: ports}
			j := job{pod: &v1alpha1.Pod{}, spec: spec, containerID: "c", podIP: "127.0.0.1",
				probe: &v1alpha1.Probe{ProbeHandler: tt.handler, TimeoutSeconds: 2}}
			if got, msg := m.run(context.Background(), Readiness, j); got != tt.want {
				t.Fatalf("got %v (%s), want %v", got, msg, tt.want)
			}
		})
	}
}

// TestSimulatedProbes: the fake runtime decides its pods' probes from the
// pod's annotation.
func TestSimulatedProbes(t *testing.T) {
	m := New(Config{Runtime: fake.New()})
	httpProbe := v1alpha1.ProbeHandler{HTTPGet: &v1alpha1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(1)}}
	execH := v1alpha1.ProbeHandler{Exec: &v1alpha1.ExecAction{Command: []string{"anything"}}}
	tests := []struct {
		annotation string
		typ        ProbeType
		handler    v1alpha1.ProbeHandler
		want       probe.Result
	}{
		{"", Liveness, execH, probe.Success},
		{"", Readiness, httpProbe, probe.Failure}, // really sent, to a closed port
		{"failure", Liveness, execH, probe.Failure},
		{"readiness=success", Readiness, httpProbe, probe.Success},
		{"readiness=failure", Liveness, execH, probe.Success},
		{"app.liveness=failure,success", Liveness, execH, probe.Failure},
		{"other.liveness=failure,success", Liveness, execH, probe.Success},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %q", tt.typ, tt.annotation), func(t *testing.T) {
			pod := &v1alpha1.Pod{}
			if tt.annotation != "" {
				pod.Annotations = map[string]string{fake.SimulatedProbeAnnotation: tt.annotation}
			}
			j := job{pod: pod, spec: &v1alpha1.Container{Name: "app"}, podIP: "127.0.0.1",
				probe: &v1alpha1.Probe{ProbeHandler: tt.handler, TimeoutSeconds: 1}}
			if got, msg := m.run(context.Background(), tt.typ, j); got != tt.want {
				t.Fatalf("got %v (%s), want %v", got, msg, tt.want)
			}
		})
	}
}

func TestRemovePodForgetsItsProbes(t *testing.T) {
	m := New(Config{Runtime: newExecRuntime()})
	for _, uid := range []string{"a", "b"} {
		pod, cs := podWith(uid, v1alpha1.Container{Name: "app", ReadinessProbe: execProbe("x", 1), LivenessProbe: execProbe("y", 1)})
		m.UpdatePod(pod, "127.0.0.1", cs, nil)
	}
	m.RemovePod("a")
	// A container no longer running loses its probes too.
	pod, cs := podWith("b", v1alpha1.Container{Name: "app", ReadinessProbe: execProbe("x", 1), LivenessProbe: execProbe("y", 1)})
	cs[0].State = runtime.StateExited
	m.UpdatePod(pod, "127.0.0.1", cs, nil)
	if len(m.entries) != 0 || len(m.byPod) != 0 || len(m.queue) != 0 {
		t.Errorf("left: %d entries, %d pods, %d queued", len(m.entries), len(m.byPod), len(m.queue))
	}
}
