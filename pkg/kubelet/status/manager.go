package status

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/client/statuspatch"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

// Observer is told about the statuses the manager writes, for metrics.
type Observer interface {
	// PodRunning is called once when a pod is first written as Running,
	// with the time since it was created.
	PodRunning(sinceCreation time.Duration)
}

// Manager writes pod statuses to the API server, each only when it differs
// from the pod's current status: the pod's as the informer shows it, or the
// one this kubelet wrote last while the informer has not caught up with it.
type Manager struct {
	client   clientset.Interface
	observer Observer
	now      func() time.Time

	mu   sync.Mutex
	last map[types.UID]written
}

// written is the status a write returned, with the resourceVersions of the
// pod older than it: the one the informer showed when it was written, and
// those of this kubelet's earlier writes the informer had not shown yet.
// While the informer shows one of those, the written status is the newer.
type written struct {
	status v1alpha1.PodStatus
	rv     string
	older  map[string]bool
}

// NewManager returns a Manager writing through client; observer may be nil.
func NewManager(client clientset.Interface, observer Observer) *Manager {
	return &Manager{client: client, observer: observer, now: time.Now, last: map[types.UID]written{}}
}

// Base is the pod's current status as far as the kubelet knows, which a new
// status follows: the one the pod (from the informer) carries, or the last
// one this kubelet wrote if the informer has not shown that write yet. It
// holds every condition, including those other components set, which a
// computed status keeps.
func (m *Manager) Base(pod *v1alpha1.Pod) v1alpha1.PodStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w, ok := m.last[pod.UID]; ok && w.older[pod.ResourceVersion] {
		return *w.status.DeepCopy()
	}
	return *pod.Status.DeepCopy()
}

// SetPodStatus writes status for pod if it differs from Base(pod). The
// write is a strategic merge patch of pods/status from Base(pod) to status,
// as upstream's PatchPodStatus sends: conditions merge by type, so one that
// another component set since Base was read is kept. The pod's UID is a
// precondition so the patch never lands on a pod of the same name created
// since. A pod that no longer exists is not an error.
func (m *Manager) SetPodStatus(ctx context.Context, pod *v1alpha1.Pod, status v1alpha1.PodStatus) error {
	base := m.Base(pod)
	patch, err := statuspatch.Pod(pod.UID, &base, &status)
	if err != nil {
		return fmt.Errorf("status patch for pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if patch == nil {
		return nil
	}
	klog.V(4).InfoS("Writing pod status", "pod", klog.KObj(pod), "patch", string(patch))
	out, err := m.client.CoreV1alpha1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) || replaced(err) {
		klog.V(3).InfoS("Pod gone; status not written", "pod", klog.KObj(pod), "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("patch status of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if out.UID != pod.UID {
		return fmt.Errorf("patch status of pod %s/%s: wrote to pod %s", pod.Namespace, pod.Name, out.UID)
	}
	m.mu.Lock()
	w := written{status: *out.Status.DeepCopy(), rv: out.ResourceVersion, older: map[string]bool{pod.ResourceVersion: true}}
	if prev, ok := m.last[pod.UID]; ok && prev.older[pod.ResourceVersion] {
		// Written on top of an earlier write the informer has not shown.
		for rv := range prev.older {
			w.older[rv] = true
		}
		w.older[prev.rv] = true
	}
	m.last[pod.UID] = w
	m.mu.Unlock()
	if m.observer != nil && status.Phase == v1alpha1.PodRunning && base.Phase != v1alpha1.PodRunning &&
		base.Phase != v1alpha1.PodSucceeded && base.Phase != v1alpha1.PodFailed {
		m.observer.PodRunning(m.now().Sub(pod.CreationTimestamp.Time))
	}
	return nil
}

// Forget drops what the manager remembers of a pod that is gone.
func (m *Manager) Forget(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.last, uid)
}

// PhaseCounts counts the pods by the phase last written for them.
func (m *Manager) PhaseCounts() map[v1alpha1.PodPhase]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[v1alpha1.PodPhase]int{}
	for _, w := range m.last {
		out[w.status.Phase]++
	}
	return out
}

// replaced reports whether a status patch failed because its UID
// precondition did not hold: the API server refuses the patched object, as
// kube-apiserver does, as an invalid change of metadata.uid. The pod of that
// name is another one now.
func replaced(err error) bool {
	var st apierrors.APIStatus
	if !apierrors.IsInvalid(err) || !errors.As(err, &st) || st.Status().Details == nil {
		return false
	}
	for _, c := range st.Status().Details.Causes {
		if c.Field == "metadata.uid" {
			return true
		}
	}
	return false
}
