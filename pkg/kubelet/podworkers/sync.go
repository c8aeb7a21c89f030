package podworkers

import (
	"context"
	"errors"
	"fmt"
	corev1 "k8s.io/api/core/v1"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
	"skiff.dev/skiff/pkg/kubelet/status"
)

// orphanGrace is the grace given to the containers of a pod that vanished
// from the API without this kubelet stopping it (a forced deletion).
const orphanGrace = 2 * time.Second

// sync brings the pod one step closer to what it should be. It returns when
// to sync again (zero: when something happens) and whether the worker is done.
func (w *worker) sync(ctx context.Context) (time.Duration, bool) {
	pod, gone := w.snapshot()
	all, err := w.p.cfg.Runtime.ListContainers(ctx)
	if err != nil {
		klog.ErrorS(err, "Listing containers", "podUID", w.uid)
		return w.retry(), false
	}
	containers := runtime.PodContainers(all, w.uid)
	var requeue time.Duration
	switch {
	case gone || pod == nil:
		err = w.syncGone(ctx, pod, containers)
		if err == nil {
			return 0, true
		}
	case pod.DeletionTimestamp != nil:
		err = w.syncTerminating(ctx, pod, containers)
	case w.terminal || pod.Status.Phase == v1alpha1.PodSucceeded || pod.Status.Phase == v1alpha1.PodFailed:
		// Nothing of a finished pod runs again, whatever the runtime says,
		// even when someone else set the phase.
		w.terminal = true
		err = w.syncTerminal(ctx, pod, containers)
	default:
		requeue, err = w.syncRunning(ctx, pod, containers)
	}
	if err != nil {
		klog.ErrorS(err, "Syncing pod", "pod", klog.KObj(pod), "podUID", w.uid)
		return w.retry(), false
	}
	w.retries = 0
	return requeue, false
}

// syncGone stops and removes what is left of a pod deleted from the API.
func (w *worker) syncGone(ctx context.Context, pod *v1alpha1.Pod, containers []runtime.Container) error {
	w.forgetProbes()
	grace := orphanGrace
	if pod != nil {
		grace = min(gracePeriod(pod), orphanGrace)
	}
	if err := w.stopAll(ctx, pod, containers, grace); err != nil {
		return err
	}
	if err := w.p.cfg.Runtime.RemovePod(ctx, w.uid); err != nil {
		return fmt.Errorf("remove pod %s from the runtime: %w", w.uid, err)
	}
	w.p.cfg.Status.Forget(w.uid)
	klog.V(2).InfoS("Pod removed", "podUID", w.uid)
	return nil
}

// syncTerminating stops a pod being deleted within its grace period, writes
// its final status, and deletes it for good.
func (w *worker) syncTerminating(ctx context.Context, pod *v1alpha1.Pod, containers []runtime.Container) error {
	w.forgetProbes()
	if w.deleted {
		return nil // the informer will tell the worker the pod is gone
	}
	if err := w.stopAll(ctx, pod, containers, gracePeriod(pod)); err != nil {
		return err
	}
	all, err := w.p.cfg.Runtime.ListContainers(ctx)
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	st := status.Compute(status.Input{
		Pod: pod, Containers: runtime.PodContainers(all, w.uid), RuntimeType: w.p.cfg.Runtime.Type(),
		HostIP: w.p.cfg.HostIP, PodIP: w.p.cfg.HostIP, Old: w.p.cfg.Status.Base(pod), Terminating: true, Now: w.p.cfg.Clock.Now(),
	})
	if err := w.p.cfg.Status.SetPodStatus(ctx, pod, st); err != nil {
		return err
	}
	zero := int64(0)
	uid := pod.UID
	err = w.p.cfg.Client.CoreV1alpha1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	klog.V(2).InfoS("Pod terminated and deleted", "pod", klog.KObj(pod))
	w.deleted = true
	return nil
}

// syncTerminal stops what still runs of a pod in a terminal phase and
// reports its containers as they ended, as upstream's kubelet does with a
// pod another component set to Failed: its statuses must not keep saying
// running and ready.
func (w *worker) syncTerminal(ctx context.Context, pod *v1alpha1.Pod, containers []runtime.Container) error {
	w.forgetProbes()
	stopped := false
	for _, c := range containers {
		stopped = stopped || c.State != runtime.StateExited
	}
	if err := w.stopAll(ctx, pod, containers, gracePeriod(pod)); err != nil {
		return err
	}
	if stopped {
		all, err := w.p.cfg.Runtime.ListContainers(ctx)
		if err != nil {
			return fmt.Errorf("list containers: %w", err)
		}
		containers = runtime.PodContainers(all, w.uid)
	}
	old := w.p.cfg.Status.Base(pod)
	if p := pod.Status.Phase; p == v1alpha1.PodSucceeded || p == v1alpha1.PodFailed {
		old.Phase = p // final whoever set it; the API refuses any other
	}
	st := status.Compute(status.Input{
		Pod: pod, Containers: containers, RuntimeType: w.p.cfg.Runtime.Type(),
		HostIP: w.p.cfg.HostIP, PodIP: w.p.cfg.HostIP, Old: old, Terminating: true, Now: w.p.cfg.Clock.Now(),
	})
	return w.p.cfg.Status.SetPodStatus(ctx, pod, st)
}

// syncRunning starts what should run and is not running, and writes the
// pod's status.
func (w *worker) syncRunning(ctx context.Context, pod *v1alpha1.Pod, containers []runtime.Container) (time.Duration, error) {
	rt := w.p.cfg.Runtime
	if killed, err := w.killUnhealthy(ctx, pod, containers); err != nil {
		return 0, err
	} else if killed {
		all, err := rt.ListContainers(ctx)
		if err != nil {
			return 0, fmt.Errorf("list containers: %w", err)
		}
		containers = runtime.PodContainers(all, w.uid)
	}
	now := w.p.cfg.Clock.Now()
	waiting := map[string]v1alpha1.ContainerStateWaiting{}
	var requeue time.Duration
	sooner := func(d time.Duration) {
		if d > 0 && (requeue == 0 || d < requeue) {
			requeue = d
		}
	}
	started := false
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		latest, _ := runtime.Latest(containers, c.Name)
		attempt := uint32(0)
		newSpec := false
		if latest != nil && runtime.SpecChanged(latest, c) && latest.State != runtime.StateExited {
			// Its spec changed (a new image, say): it restarts from the new
			// one, whatever the restart policy, as upstream's kubelet does.
			msg := fmt.Sprintf("Container %s definition changed, will be restarted", c.Name)
			w.event(pod, corev1.EventTypeNormal, "Killing", "%s", msg)
			klog.V(2).InfoS("Restarting container for its new spec", "pod", klog.KObj(pod), "container", c.Name)
			if err := rt.StopContainer(ctx, latest.ID, gracePeriod(pod)); err != nil && !errors.Is(err, runtime.ErrNotFound) {
				return 0, fmt.Errorf("stop container %s of pod %s/%s for its new spec: %w", c.Name, pod.Namespace, pod.Name, err)
			}
			// Not a crash: the new spec starts without back-off.
			w.crash.reset(c.Name)
			attempt, newSpec = latest.Attempt+1, true
		} else if latest != nil {
			if latest.State == runtime.StateRunning {
				continue
			}
			if latest.State == runtime.StateExited && !ShouldRestart(pod.Spec.RestartPolicy, latest.ExitCode) {
				continue
			}
			attempt = latest.Attempt + 1
			if latest.State == runtime.StateExited {
				if left := w.crash.remaining(c.Name, latest.FinishedAt, now); left > 0 {
					msg := fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", w.crash.delay(c.Name), c.Name, pod.Name, pod.Namespace, pod.UID)
					waiting[c.Name] = v1alpha1.ContainerStateWaiting{Reason: status.ReasonCrashLoopBackOff, Message: msg}
					if w.backedOff[c.Name] != latest.ID {
						w.backedOff[c.Name] = latest.ID
						w.event(pod, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s", c.Name, pod.Name)
					}
					sooner(left)
					continue
				}
			}
		}
		if left := w.startFail.remainingSinceUpdate(c.Name, now); left > 0 {
			waiting[c.Name] = backOffWaiting(w.startErr[c.Name], c.Image)
			sooner(left)
			continue
		}

		id, err := rt.StartContainer(ctx, pod, c, attempt)
		if err != nil {
			reason, msg := runtime.ReasonRunContainerError, err.Error()
			var se *runtime.StartError
			if errors.As(err, &se) {
				reason, msg = se.Reason, se.Message
			}
			w.event(pod, corev1.EventTypeWarning, "Failed", "Error: %s", msg)
			klog.V(2).InfoS("Container failed to start", "pod", klog.KObj(pod), "container", c.Name, "reason", reason, "message", msg)
			if id == "" {
				// Nothing was created (image, create errors): retry the
				// start with its own back-off, whatever the restart policy.
				w.startFail.next(c.Name, now, now)
				w.startErr[c.Name] = v1alpha1.ContainerStateWaiting{Reason: reason, Message: msg}
				waiting[c.Name] = w.startErr[c.Name]
				sooner(w.startFail.delay(c.Name))
			} else {
				// The attempt exists and has exited, like a crash.
				w.crash.next(c.Name, now, now)
				if ShouldRestart(pod.Spec.RestartPolicy, 128) {
					waiting[c.Name] = v1alpha1.ContainerStateWaiting{Reason: reason, Message: msg}
					sooner(w.crash.delay(c.Name))
				}
				started = true
			}
			continue
		}
		started = true
		w.startFail.reset(c.Name)
		delete(w.startErr, c.Name)
		if latest != nil && latest.State == runtime.StateExited && !newSpec {
			w.crash.next(c.Name, latest.FinishedAt, now)
		}
		w.event(pod, corev1.EventTypeNormal, "Started", "Started container %s", c.Name)
		w.removeOldAttempts(ctx, containers, c.Name, attempt)
	}
	if started {
		all, err := rt.ListContainers(ctx)
		if err != nil {
			return 0, fmt.Errorf("list containers: %w", err)
		}
		containers = runtime.PodContainers(all, w.uid)
	}
	st := status.Compute(status.Input{
		Pod: pod, Containers: containers, Waiting: waiting, RuntimeType: rt.Type(),
		HostIP: w.p.cfg.HostIP, PodIP: w.p.cfg.HostIP, Old: w.p.cfg.Status.Base(pod), Now: w.p.cfg.Clock.Now(),
		Probes: w.probeResults(pod, containers),
	})
	if err := w.p.cfg.Status.SetPodStatus(ctx, pod, st); err != nil {
		return 0, err
	}
	if st.Phase == v1alpha1.PodSucceeded || st.Phase == v1alpha1.PodFailed {
		w.terminal = true
	}
	return requeue, nil
}

// backOffWaiting is what a container shows while a failed start backs off:
// an image that could not be pulled shows ImagePullBackOff.
func backOffWaiting(last v1alpha1.ContainerStateWaiting, image string) v1alpha1.ContainerStateWaiting {
	if last.Reason == runtime.ReasonErrImagePull {
		return v1alpha1.ContainerStateWaiting{
			Reason:  status.ReasonImagePullBackOff,
			Message: fmt.Sprintf("Back-off pulling image %q: %s", image, last.Message),
		}
	}
	return last
}

// removeOldAttempts removes the container's attempts older than the one
// before attempt: the kubelet keeps the previous one for its logs.
func (w *worker) removeOldAttempts(ctx context.Context, containers []runtime.Container, name string, attempt uint32) {
	for _, c := range containers {
		if c.Name == name && c.Attempt+1 < attempt && c.State != runtime.StateRunning {
			if err := w.p.cfg.Runtime.RemoveContainer(ctx, c.ID); err != nil {
				klog.ErrorS(err, "Removing old container", "containerID", c.ID)
			}
		}
	}
}

// stopAll stops the pod's running containers in parallel, each within grace.
func (w *worker) stopAll(ctx context.Context, pod *v1alpha1.Pod, containers []runtime.Container, grace time.Duration) error {
	var wg sync.WaitGroup
	errs := make([]error, len(containers))
	for i, c := range containers {
		if c.State == runtime.StateExited {
			continue
		}
		w.event(pod, corev1.EventTypeNormal, "Killing", "Stopping container %s", c.Name)
		klog.V(2).InfoS("Stopping container", "pod", klog.KRef(c.PodNamespace, c.PodName), "container", c.Name, "grace", grace)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.p.cfg.Runtime.StopContainer(ctx, c.ID, grace); err != nil && !errors.Is(err, runtime.ErrNotFound) {
				errs[i] = fmt.Errorf("stop container %s of pod %s/%s: %w", c.Name, c.PodNamespace, c.PodName, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ShouldRestart reports whether a container that exited with code runs
// again under the pod's restart policy.
func ShouldRestart(policy v1alpha1.RestartPolicy, code int32) bool {
	switch policy {
	case v1alpha1.RestartPolicyNever:
		return false
	case v1alpha1.RestartPolicyOnFailure:
		return code != 0
	default:
		return true
	}
}

// gracePeriod is how long the pod's containers get between SIGTERM and
// SIGKILL: its spec's terminationGracePeriodSeconds, or the deletion's grace
// if that is shorter.
func gracePeriod(pod *v1alpha1.Pod) time.Duration {
	g := v1alpha1.DefaultTerminationGracePeriodSeconds
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		g = *pod.Spec.TerminationGracePeriodSeconds
	}
	if d := pod.DeletionGracePeriodSeconds; d != nil && *d < g {
		g = *d
	}
	return time.Duration(max(g, 0)) * time.Second
}
