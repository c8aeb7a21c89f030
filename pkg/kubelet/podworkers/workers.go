// Package podworkers runs one worker goroutine per pod, which drives the
// runtime from what runs to what the pod says should run, and reports the
// result through the status manager. It is a small version of upstream's
// pod_workers.go.
//
// A worker is woken by the pod's informer events, by the runtime when one
// of its containers exits, and by its own timers (crash back-off). It owns
// its pod's back-off state, so nothing in a sync needs a lock.
package podworkers

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/kubelet/prober"
	"skiff.dev/skiff/pkg/kubelet/runtime"
	"skiff.dev/skiff/pkg/kubelet/status"
)

// Config is what the pod workers need.
type Config struct {
	Client  clientset.Interface
	Runtime runtime.Runtime
	Status  *status.Manager
	// Recorder, if set, gets events about containers (Started, Killing,
	// BackOff, Failed).
	Recorder record.EventRecorder
	// HostIP is the node's IP, reported as hostIP and, since containers
	// share the host's network, as podIP.
	HostIP string
	// Clock drives back-off timers; nil means the real clock.
	Clock clock.WithTicker
	// ResyncInterval syncs every pod this often even when nothing happened,
	// in case a change went unnoticed; zero means one minute.
	ResyncInterval time.Duration
	// Prober, if set, probes the running containers: its readiness and
	// startup results make containers ready, and a failed liveness or
	// startup probe restarts the container.
	Prober *prober.Manager
}

// PodWorkers holds one worker per pod UID.
type PodWorkers struct {
	cfg Config
	ctx context.Context

	mu      sync.Mutex
	workers map[types.UID]*worker
	wg      sync.WaitGroup
}

// New returns pod workers whose goroutines run until ctx ends.
func New(ctx context.Context, cfg Config) *PodWorkers {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.ResyncInterval == 0 {
		cfg.ResyncInterval = time.Minute
	}
	return &PodWorkers{cfg: cfg, ctx: ctx, workers: map[types.UID]*worker{}}
}

// UpdatePod tells the pod's worker, starting one if needed, about the pod's
// latest state.
func (p *PodWorkers) UpdatePod(pod *v1alpha1.Pod) {
	p.workerFor(pod.UID).update(pod, false)
}

// DeletePod tells the pod's worker that the pod is gone from the API.
func (p *PodWorkers) DeletePod(pod *v1alpha1.Pod) {
	p.workerFor(pod.UID).update(pod, true)
}

// Notify wakes the worker of a pod whose containers changed.
func (p *PodWorkers) Notify(uid types.UID) {
	p.mu.Lock()
	w := p.workers[uid]
	p.mu.Unlock()
	if w != nil {
		w.poke()
	}
}

// Known reports whether the pod has a worker.
func (p *PodWorkers) Known(uid types.UID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.workers[uid]
	return ok
}

// CleanupOrphans stops and removes the containers of pods that have no
// worker: pods deleted while the kubelet was down, or never this node's.
// Call it only once every pod in the informer has been handed to UpdatePod.
func (p *PodWorkers) CleanupOrphans(ctx context.Context) error {
	all, err := p.cfg.Runtime.ListContainers(ctx)
	if err != nil {
		return err
	}
	seen := map[types.UID]bool{}
	for _, c := range all {
		if seen[c.PodUID] {
			continue
		}
		seen[c.PodUID] = true
		p.mu.Lock()
		var orphan *worker
		if _, ok := p.workers[c.PodUID]; !ok {
			orphan = p.startWorkerLocked(c.PodUID)
		}
		p.mu.Unlock()
		if orphan != nil {
			klog.InfoS("Cleaning up containers of a pod that no longer exists", "pod", klog.KRef(c.PodNamespace, c.PodName), "podUID", c.PodUID)
			orphan.update(nil, true)
		}
	}
	return nil
}

// Wait waits for every worker to return after the context ended.
func (p *PodWorkers) Wait() { p.wg.Wait() }

func (p *PodWorkers) workerFor(uid types.UID) *worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w, ok := p.workers[uid]; ok {
		return w
	}
	return p.startWorkerLocked(uid)
}

func (p *PodWorkers) startWorkerLocked(uid types.UID) *worker {
	w := &worker{
		p:         p,
		uid:       uid,
		wake:      make(chan struct{}, 1),
		crash:     newBackoff(),
		startFail: newBackoff(),
		startErr:  map[string]v1alpha1.ContainerStateWaiting{},
		backedOff: map[string]string{},
	}
	p.workers[uid] = w
	p.wg.Add(1)
	go w.run(p.ctx)
	return w
}

func (p *PodWorkers) remove(w *worker) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.workers[w.uid] == w {
		delete(p.workers, w.uid)
	}
}

// worker syncs one pod.
type worker struct {
	p    *PodWorkers
	uid  types.UID
	wake chan struct{}

	mu   sync.Mutex
	pod  *v1alpha1.Pod // latest known; nil for an orphan found in the runtime
	gone bool          // deleted from the API

	// Owned by the worker goroutine.
	crash     *backoff // restarts of exited containers, by container name
	startFail *backoff // starts that created nothing (image pulls...), by container name
	startErr  map[string]v1alpha1.ContainerStateWaiting
	backedOff map[string]string // container name -> the exited attempt a BackOff event was sent for
	terminal  bool              // reached Succeeded or Failed: nothing runs again
	deleted   bool              // this kubelet deleted the pod object
	retries   int
}

func (w *worker) update(pod *v1alpha1.Pod, gone bool) {
	w.mu.Lock()
	if pod != nil {
		w.pod = pod
	}
	w.gone = w.gone || gone
	w.mu.Unlock()
	w.poke()
}

func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) snapshot() (*v1alpha1.Pod, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod, w.gone
}

func (w *worker) run(ctx context.Context) {
	defer w.p.wg.Done()
	clk := w.p.cfg.Clock
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		}
		requeue, done := w.sync(ctx)
		if done {
			w.p.remove(w)
			return
		}
		if requeue <= 0 {
			requeue = w.p.cfg.ResyncInterval
		}
		timer := clk.NewTimer(requeue)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-w.wake:
			// Keep the wake-up for the sync at the top of the loop.
			w.poke()
		case <-timer.C():
			w.poke()
		}
		timer.Stop()
	}
}

// retry is the delay before retrying a sync that failed: 1 s doubling to 30 s.
func (w *worker) retry() time.Duration {
	d := time.Second << min(w.retries, 5)
	w.retries++
	return min(d, 30*time.Second)
}

func (w *worker) event(pod *v1alpha1.Pod, eventType, reason, format string, args ...any) {
	if w.p.cfg.Recorder != nil && pod != nil {
		w.p.cfg.Recorder.Eventf(pod, eventType, reason, format, args...)
	}
}
