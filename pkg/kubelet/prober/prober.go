// Package prober runs the liveness, readiness and startup probes of the
// containers on this node and keeps their results, as upstream's
// pkg/kubelet/prober does. Unlike upstream, which runs a goroutine per probe
// per container, every probe runs on one shared, bounded pool: a scheduler
// keeps the probes in a heap ordered by when each is next due and hands due
// probes to a fixed number of workers, so a node with thousands of probes
// runs a handful of goroutines.
//
// The pod workers tell the prober which containers run (UpdatePod), ask it
// which are started and ready (Results) and which failed a liveness or
// startup probe (Unhealthy), and are woken (OnChange) when any of that
// changes.
package prober

import (
	"container/heap"
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/prober/probe"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

// ProbeType is the kind of a probe, named as in events ("Liveness probe
// failed: ...").
type ProbeType string

const (
	Liveness  ProbeType = "Liveness"
	Readiness ProbeType = "Readiness"
	Startup   ProbeType = "Startup"
)

// DefaultWorkers is the size of the probe pool when Config says none: probes
// mostly wait on the network, and one that hangs holds a worker for at most
// its timeoutSeconds.
const DefaultWorkers = 16

// Config is what the prober needs.
type Config struct {
	// Runtime runs exec probes (if it is a runtime.CommandRunner) and
	// simulates probes (if it is a runtime.ProbeSimulator).
	Runtime runtime.Runtime
	// Recorder, if set, gets an Unhealthy warning for every failed probe.
	Recorder record.EventRecorder
	// Workers is how many probes run at once; zero means DefaultWorkers.
	Workers int
	// OnChange is called with a pod's UID when a container of it becomes
	// ready or unready, starts, or fails its liveness or startup probe,
	// unless UpdatePod was given a function of the pod's own.
	OnChange func(types.UID)
	// Clock drives the schedule; nil means the real clock.
	Clock clock.WithTicker
}

// key names one probe of one container.
type key struct {
	uid       types.UID
	container string
	probeType ProbeType
}

// entry is one probe of one running container, and its results so far.
// All fields are guarded by Manager.mu, except what a worker copies out.
type entry struct {
	key         key
	pod         *v1alpha1.Pod
	spec        *v1alpha1.Container
	probe       *v1alpha1.Probe
	containerID string
	podIP       string
	notify      func(types.UID)

	due     time.Time
	index   int  // in the heap; -1 when not in it
	running bool // handed to a worker
	removed bool

	result  probe.Result // the one reported, after thresholds
	last    probe.Result // the last probe's own outcome
	run     int          // how many probes in a row had outcome last
	onHold  bool         // liveness or startup failed: no more probes of this container
	message string       // why the last failure failed
}

// Manager is the prober.
type Manager struct {
	cfg  Config
	http *probe.HTTPProber

	mu      sync.Mutex
	entries map[key]*entry
	// byPod indexes entries by pod, so a pod's update or removal does not
	// walk every probe of the node (or of all simulated nodes).
	byPod map[types.UID]map[key]*entry
	queue probeHeap
	wake  chan struct{}
}

// New returns a prober; Run starts it.
func New(cfg Config) *Manager {
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	return &Manager{cfg: cfg, http: probe.NewHTTP(), entries: map[key]*entry{}, byPod: map[types.UID]map[key]*entry{}, wake: make(chan struct{}, 1)}
}

// Run runs the scheduler and the workers until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	work := make(chan *entry)
	var wg sync.WaitGroup
	for range m.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				m.probeOnce(ctx, e)
			}
		}()
	}
	m.schedule(ctx, work)
	close(work)
	wg.Wait()
}

// schedule hands each probe to a worker when it is due. When every worker is
// busy it waits for one, so probes run late rather than pile up.
func (m *Manager) schedule(ctx context.Context, work chan<- *entry) {
	clk := m.cfg.Clock
	for {
		m.mu.Lock()
		now := clk.Now()
		var due []*entry
		for len(m.queue) > 0 && !m.queue[0].due.After(now) {
			e := heap.Pop(&m.queue).(*entry)
			e.running = true
			due = append(due, e)
		}
		wait := time.Duration(-1)
		if len(m.queue) > 0 {
			wait = m.queue[0].due.Sub(now)
		}
		m.mu.Unlock()
		for _, e := range due {
			select {
			case work <- e:
			case <-ctx.Done():
				return
			}
		}
		if len(due) > 0 {
			continue // time went by while handing them out
		}
		var timerC <-chan time.Time
		var timer clock.Timer
		if wait >= 0 {
			timer = clk.NewTimer(wait)
			timerC = timer.C()
		}
		select {
		case <-ctx.Done():
		case <-m.wake:
		case <-timerC:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (m *Manager) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// UpdatePod tells the prober what runs of pod: containers is the pod's
// listing from the runtime. Probes start for a container's running attempt
// and stop for one that is no longer running; a new attempt starts over.
//
// notify, if not nil, is called in place of Config.OnChange for this pod.
func (m *Manager) UpdatePod(pod *v1alpha1.Pod, podIP string, containers []runtime.Container, notify func(types.UID)) {
	now := m.cfg.Clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	want := map[key]bool{}
	for i := range pod.Spec.Containers {
		spec := &pod.Spec.Containers[i]
		latest, _ := runtime.Latest(containers, spec.Name)
		if latest == nil || latest.State != runtime.StateRunning {
			continue
		}
		for _, p := range []struct {
			t     ProbeType
			probe *v1alpha1.Probe
		}{{Startup, spec.StartupProbe}, {Liveness, spec.LivenessProbe}, {Readiness, spec.ReadinessProbe}} {
			if p.probe == nil {
				continue
			}
			k := key{pod.UID, spec.Name, p.t}
			want[k] = true
			e := m.entries[k]
			if e != nil && e.containerID == latest.ID {
				e.pod, e.spec, e.probe, e.podIP, e.notify = pod, spec, p.probe, podIP, notify
				continue
			}
			if e != nil {
				m.removeLocked(e)
			}
			e = &entry{
				key: k, pod: pod, spec: spec, probe: p.probe, containerID: latest.ID, podIP: podIP, notify: notify,
				index: -1, result: initialResult(p.t),
			}
			// The first probe runs once the initial delay after the
			// container's start has passed.
			e.due = latest.StartedAt.Add(time.Duration(p.probe.InitialDelaySeconds) * time.Second)
			if e.due.Before(now) {
				e.due = now
			}
			m.entries[k] = e
			if m.byPod[k.uid] == nil {
				m.byPod[k.uid] = map[key]*entry{}
			}
			m.byPod[k.uid][k] = e
			heap.Push(&m.queue, e)
		}
	}
	for k, e := range m.byPod[pod.UID] {
		if !want[k] {
			m.removeLocked(e)
		}
	}
	m.poke()
}

// RemovePod forgets every probe of the pod.
func (m *Manager) RemovePod(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.byPod[uid] {
		m.removeLocked(e)
	}
}

func (m *Manager) removeLocked(e *entry) {
	e.removed = true
	if e.index >= 0 {
		heap.Remove(&m.queue, e.index)
	}
	if m.entries[e.key] == e {
		delete(m.entries, e.key)
		delete(m.byPod[e.key.uid], e.key)
		if len(m.byPod[e.key.uid]) == 0 {
			delete(m.byPod, e.key.uid)
		}
	}
}

// initialResult is what a probe reports before it has run, as upstream's:
// not ready, alive, not started.
func initialResult(t ProbeType) probe.Result {
	switch t {
	case Readiness:
		return probe.Failure
	case Liveness:
		return probe.Success
	default:
		return probe.Unknown
	}
}

// Status is what the probes of one running container say.
type Status struct {
	// Started: it has no startup probe, or it succeeded.
	Started bool
	// Ready: started, and it has no readiness probe or it succeeds.
	Ready bool
}

// Results returns what the probes say of container name of pod uid, whose
// running attempt is containerID. A container without probes is started
// and ready.
func (m *Manager) Results(uid types.UID, name, containerID string) Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.resultsLocked(uid, name, containerID)
}

func (m *Manager) resultsLocked(uid types.UID, name, containerID string) Status {
	result := func(t ProbeType, none probe.Result) probe.Result {
		e := m.entries[key{uid, name, t}]
		if e == nil {
			return none
		}
		if e.containerID != containerID {
			return initialResult(t) // the prober has not seen this attempt yet
		}
		return e.result
	}
	var s Status
	s.Started = result(Startup, probe.Success) == probe.Success
	s.Ready = s.Started && result(Readiness, probe.Success) == probe.Success
	return s
}

// Failed is a liveness or startup probe that failed for good: the container
// must be restarted.
type Failed struct {
	ProbeType ProbeType
	// GracePeriod is the probe's terminationGracePeriodSeconds, if set.
	GracePeriod *int64
	Message     string
}

// Unhealthy reports whether the running attempt containerID of container
// name failed its startup or liveness probe.
func (m *Manager) Unhealthy(uid types.UID, name, containerID string) (Failed, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range []ProbeType{Startup, Liveness} {
		e := m.entries[key{uid, name, t}]
		if e != nil && e.containerID == containerID && e.result == probe.Failure {
			return Failed{ProbeType: t, GracePeriod: e.probe.TerminationGracePeriodSeconds, Message: e.message}, true
		}
	}
	return Failed{}, false
}

// job is what a worker needs of an entry, copied under the lock.
type job struct {
	pod         *v1alpha1.Pod
	spec        *v1alpha1.Container
	probe       *v1alpha1.Probe
	containerID string
	podIP       string
}

// probeOnce runs one due probe, records its outcome, and schedules the next.
func (m *Manager) probeOnce(ctx context.Context, e *entry) {
	m.mu.Lock()
	if e.removed {
		m.mu.Unlock()
		return
	}
	// Liveness and readiness wait for the startup probe to succeed.
	skip := e.onHold || (e.key.probeType != Startup && !m.resultsLocked(e.key.uid, e.key.container, e.containerID).Started)
	j := job{pod: e.pod, spec: e.spec, probe: e.probe, containerID: e.containerID, podIP: e.podIP}
	notify := e.notify
	m.mu.Unlock()
	if notify == nil {
		notify = m.cfg.OnChange
	}

	var result probe.Result
	var message string
	if !skip {
		result, message = m.run(ctx, e.key.probeType, j)
		if result == probe.Failure {
			klog.V(1).InfoS("Probe failed", "probeType", e.key.probeType, "pod", klog.KObj(j.pod), "podUID", e.key.uid, "container", e.key.container, "output", message)
			if m.cfg.Recorder != nil {
				m.cfg.Recorder.Eventf(j.pod, corev1.EventTypeWarning, "Unhealthy", "%s probe failed: %s", e.key.probeType, message)
			}
		} else {
			klog.V(4).InfoS("Probe succeeded", "probeType", e.key.probeType, "pod", klog.KObj(j.pod), "container", e.key.container)
		}
	}

	m.mu.Lock()
	changed := false
	if !e.removed && !skip && result != probe.Unknown {
		changed = e.record(result, message)
	}
	startupSucceeded := changed && e.key.probeType == Startup && e.result == probe.Success
	if !e.removed {
		e.running = false
		e.due = m.cfg.Clock.Now().Add(time.Duration(j.probe.PeriodSeconds) * time.Second)
		heap.Push(&m.queue, e)
		if startupSucceeded {
			// The probes the startup probe held off run at once.
			for _, t := range []ProbeType{Liveness, Readiness} {
				if o := m.entries[key{e.key.uid, e.key.container, t}]; o != nil && o.index >= 0 {
					o.due = m.cfg.Clock.Now()
					heap.Fix(&m.queue, o.index)
				}
			}
		}
	}
	m.mu.Unlock()
	m.poke()
	if changed && notify != nil {
		notify(e.key.uid)
	}
}

// record counts one probe's outcome against the probe's thresholds, as
// upstream's worker does, and reports whether the reported result changed.
func (e *entry) record(result probe.Result, message string) bool {
	if result == e.last {
		e.run++
	} else {
		e.last, e.run = result, 1
	}
	if result == probe.Failure {
		e.message = message
	}
	if (result == probe.Failure && e.run < int(e.probe.FailureThreshold)) ||
		(result == probe.Success && e.run < int(e.probe.SuccessThreshold)) {
		return false
	}
	changed := e.result != result
	e.result = result
	if result == probe.Failure && e.key.probeType != Readiness {
		// The container will be restarted; probing it again would only
		// report the same failure. Its next attempt starts over.
		e.onHold, e.run = true, 0
	}
	return changed
}

// run runs one probe of a container.
func (m *Manager) run(ctx context.Context, t ProbeType, j job) (probe.Result, string) {
	p := j.probe
	if sim, ok := runtime.As[runtime.ProbeSimulator](m.cfg.Runtime); ok {
		if success, msg, simulated := sim.SimulateProbe(j.pod, j.spec.Name, lower(t), &p.ProbeHandler); simulated {
			if success {
				return probe.Success, ""
			}
			return probe.Failure, msg
		}
	}
	timeout := time.Duration(p.TimeoutSeconds) * time.Second
	switch {
	case p.Exec != nil:
		runner, ok := runtime.As[runtime.CommandRunner](m.cfg.Runtime)
		if !ok {
			return probe.Failure, fmt.Sprintf("the %s runtime cannot run exec probes", m.cfg.Runtime.Type())
		}
		out, code, err := runner.ExecSync(ctx, j.pod, j.spec, j.containerID, p.Exec.Command, timeout)
		if err != nil {
			return probe.Failure, err.Error()
		}
		if code != 0 {
			return probe.Failure, fmt.Sprintf("command %q exited with %d: %s", p.Exec.Command, code, out)
		}
		return probe.Success, ""
	case p.HTTPGet != nil:
		a := p.HTTPGet
		port, err := resolvePort(a.Port.IntValue(), a.Port.StrVal, a.Port.Type == intstr.String, j.spec)
		if err != nil {
			return probe.Failure, err.Error()
		}
		host := a.Host
		if host == "" {
			host = j.podIP
		}
		scheme := "http"
		if a.Scheme == v1alpha1.URISchemeHTTPS {
			scheme = "https"
		}
		headers := make(http.Header, len(a.HTTPHeaders))
		for _, h := range a.HTTPHeaders {
			headers.Add(h.Name, h.Value) // canonical names: a "host" header sets the Host
		}
		return m.http.Probe(ctx, probe.HTTPURL(scheme, host, port, a.Path), headers, timeout)
	case p.TCPSocket != nil:
		a := p.TCPSocket
		port, err := resolvePort(a.Port.IntValue(), a.Port.StrVal, a.Port.Type == intstr.String, j.spec)
		if err != nil {
			return probe.Failure, err.Error()
		}
		host := a.Host
		if host == "" {
			host = j.podIP
		}
		return probe.TCP(ctx, host, port, timeout)
	case p.GRPC != nil:
		service := ""
		if p.GRPC.Service != nil {
			service = *p.GRPC.Service
		}
		return probe.GRPC(ctx, j.podIP, int(p.GRPC.Port), service, timeout)
	}
	return probe.Unknown, "the probe has no handler"
}

// resolvePort returns a probe's port number: the number, or the container
// port of that name.
func resolvePort(num int, name string, named bool, spec *v1alpha1.Container) (int, error) {
	if !named {
		return num, nil
	}
	for _, p := range spec.Ports {
		if p.Name == name {
			return int(p.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("container %s has no port named %q", spec.Name, name)
}

func lower(t ProbeType) string {
	switch t {
	case Liveness:
		return "liveness"
	case Readiness:
		return "readiness"
	default:
		return "startup"
	}
}

// probeHeap orders entries by when they are next due.
type probeHeap []*entry

func (h probeHeap) Len() int           { return len(h) }
func (h probeHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h probeHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *probeHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *probeHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.index = -1
	*h = old[:len(old)-1]
	return e
}
