package podworkers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

// probeResults tells the prober what of the pod runs now, and returns how
// the pod's status learns which running containers are started and ready;
// nil without a prober.
func (w *worker) probeResults(pod *v1alpha1.Pod, containers []runtime.Container) func(name, id string) (bool, bool) {
	pr := w.p.cfg.Prober
	if pr == nil {
		return nil
	}
	pr.UpdatePod(pod, w.p.cfg.HostIP, containers, w.p.Notify)
	return func(name, id string) (bool, bool) {
		s := pr.Results(pod.UID, name, id)
		return s.Started, s.Ready
	}
}

// forgetProbes stops probing a pod that is done running.
func (w *worker) forgetProbes() {
	if pr := w.p.cfg.Prober; pr != nil {
		pr.RemovePod(w.uid)
	}
}

// killUnhealthy stops each running container that failed its liveness or
// startup probe, within the probe's terminationGracePeriodSeconds if it has
// one, as upstream's kubelet does. The sync that follows restarts it under
// the pod's restart policy and crash back-off, as if it had exited.
func (w *worker) killUnhealthy(ctx context.Context, pod *v1alpha1.Pod, containers []runtime.Container) (bool, error) {
	pr := w.p.cfg.Prober
	if pr == nil {
		return false, nil
	}
	killed := false
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		latest, _ := runtime.Latest(containers, c.Name)
		if latest == nil || latest.State != runtime.StateRunning {
			continue
		}
		failed, ok := pr.Unhealthy(pod.UID, c.Name, latest.ID)
		if !ok {
			continue
		}
		msg := fmt.Sprintf("Container %s failed %s probe", c.Name, strings.ToLower(string(failed.ProbeType)))
		if pod.Spec.RestartPolicy != v1alpha1.RestartPolicyNever {
			msg += ", will be restarted"
		}
		w.event(pod, corev1.EventTypeNormal, "Killing", "%s", msg)
		grace := gracePeriod(pod)
		if failed.GracePeriod != nil {
			grace = time.Duration(*failed.GracePeriod) * time.Second
		}
		klog.V(2).InfoS("Killing unhealthy container", "pod", klog.KObj(pod), "container", c.Name, "probe", failed.ProbeType, "grace", grace, "reason", failed.Message)
		if err := w.p.cfg.Runtime.StopContainer(ctx, latest.ID, grace); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			return killed, fmt.Errorf("stop container %s of pod %s/%s after its %s probe failed: %w", c.Name, pod.Namespace, pod.Name, failed.ProbeType, err)
		}
		killed = true
	}
	return killed, nil
}
