package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/bench/progress"
	"skiff.dev/skiff/pkg/bench/report"
	"skiff.dev/skiff/pkg/controller"
)

const (
	scenarioNodeFailure = "node-failure"
	// nodeLeaseNamespace holds the nodes' heartbeat Leases.
	nodeLeaseNamespace = "skiff-node-lease"
	// spareTaint keeps pods off the spare nodes until the failing node
	// holds them all.
	spareTaint = "bench.skiff.dev/spare"
	// leaseRenewInterval is the kubelet's.
	leaseRenewInterval = 10 * time.Second
)

// NodeFailureOptions configures the node-failure scenario.
type NodeFailureOptions struct {
	// Pods is how many replicas run on the node that fails.
	Pods int32
	// Spares is how many nodes take them over.
	Spares int
	// TolerationSeconds is the pods' toleration of the not-ready and
	// unreachable taints (the default 300 s would dominate the figure).
	TolerationSeconds int64
}

// NodeFailure measures the controller manager's recovery from a dead node:
// the bench registers a node and spare nodes and plays their kubelets
// (heartbeat Lease, pods reported Running and Ready), runs a Deployment of
// P replicas on the first node, then stops its heartbeat. Figures: time
// until the node is Ready=Unknown, until its first pod is evicted, and
// until all P replicas run Ready on the spares.
func NodeFailure(ctx context.Context, e Env, o NodeFailureOptions) (*report.Result, error) {
	if o.Pods <= 0 || o.Spares <= 0 || o.TolerationSeconds < 0 {
		return nil, fmt.Errorf("node-failure needs --pods and --spares above 0 and --toleration-seconds not below 0")
	}
	const scenario = scenarioNodeFailure
	ns := e.namespace(scenario)
	r := report.New(scenario)
	r.Parameters["pods"] = o.Pods
	r.Parameters["spares"] = o.Spares
	r.Parameters["toleration-seconds"] = o.TolerationSeconds
	r.Parameters["namespace"] = ns

	failing := NodePrefix + "failing"
	spares := make([]string, o.Spares)
	for i := range spares {
		spares[i] = NodePrefix + "spare-" + strconv.Itoa(i)
	}
	h := &hollowNodes{e: e, ns: ns, alive: sets.New(append([]string{failing}, spares...)...)}
	defer func() { r.Notes = append(r.Notes, h.cleanup(ctx)...) }()
	for _, n := range append([]string{failing}, spares...) {
		if err := h.register(ctx, n, n != failing); err != nil {
			return r, err
		}
	}
	hctx, stopHollow := context.WithCancel(ctx)
	defer stopHollow()
	go h.run(hctx)

	name := "bench-node-failure"
	defer func() { r.Notes = append(r.Notes, cleanupDeployment(ctx, e, ns, name, scenario, false)...) }()
	if _, err := e.Client.AppsV1alpha1().Deployments(ns).Create(ctx, o.deployment(ns, name), metav1.CreateOptions{}); err != nil {
		return r, fmt.Errorf("create deployment %s/%s: %w", ns, name, err)
	}
	bar := progress.Start(e.Progress, "pods ready on the node that will fail", int(o.Pods))
	err := waitFor(ctx, e.timeout(), func() bool {
		n := h.readyOn(ctx, func(node string) bool { return node == failing })
		bar.Set(n)
		return n >= int(o.Pods)
	})
	bar.Finish()
	if err != nil {
		return r, fmt.Errorf("the pods did not all become ready on %s: %w", failing, err)
	}
	// Now the spares may take pods, and the node dies.
	for _, n := range spares {
		if err := h.untaint(ctx, n); err != nil {
			return r, err
		}
	}
	killed := time.Now()
	h.kill(failing)

	var unknownAt, firstEvictionAt time.Time
	bar = progress.Start(e.Progress, "pods ready elsewhere", int(o.Pods))
	err = waitFor(ctx, e.timeout(), func() bool {
		if unknownAt.IsZero() && nodeReadyStatus(ctx, e, failing) == v1alpha1.ConditionUnknown {
			unknownAt = time.Now()
		}
		if firstEvictionAt.IsZero() && h.evictedFrom(ctx, failing) {
			firstEvictionAt = time.Now()
		}
		n := h.readyOn(ctx, func(node string) bool { return node != failing })
		bar.Set(n)
		return n >= int(o.Pods)
	})
	bar.Finish()
	elapsed := time.Since(killed)
	if !unknownAt.IsZero() {
		r.Add("heartbeat stop → node Ready=Unknown", unknownAt.Sub(killed).Seconds(), report.Seconds)
	}
	if !firstEvictionAt.IsZero() {
		r.Add("heartbeat stop → first pod evicted", firstEvictionAt.Sub(killed).Seconds(), report.Seconds)
	}
	r.Add("heartbeat stop → every pod ready elsewhere", elapsed.Seconds(), report.Seconds)
	r.Notef("goal: within the controller manager's --node-monitor-grace-period + %d s tolerationSeconds + 5 s", o.TolerationSeconds)
	if err != nil {
		return r, fmt.Errorf("the pods were not all ready elsewhere within %v: %w", e.timeout(), err)
	}
	return r, interrupted(ctx)
}

func (o NodeFailureOptions) deployment(ns, name string) *appsv1alpha1.Deployment {
	d := DeployOptions{Replicas: o.Pods, Command: []string{"sleep", "3600"},
		NodeSelector: map[string]string{LabelScenario: scenarioNodeFailure}}.deployment(ns, nil, nil)
	d.Name = name
	d.Spec.Selector.MatchLabels[LabelScenario] = scenarioNodeFailure
	d.Spec.Template.Labels[LabelScenario] = scenarioNodeFailure
	d.Spec.Strategy = appsv1alpha1.DeploymentStrategy{Type: appsv1alpha1.RollingUpdateDeploymentStrategyType}
	secs := o.TolerationSeconds
	for _, key := range []string{"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"} {
		d.Spec.Template.Spec.Tolerations = append(d.Spec.Template.Spec.Tolerations, v1alpha1.Toleration{
			Key: key, Operator: v1alpha1.TolerationOpExists, Effect: v1alpha1.TaintEffectNoExecute, TolerationSeconds: &secs})
	}
	return d
}

func nodeReadyStatus(ctx context.Context, e Env, name string) v1alpha1.ConditionStatus {
	n, err := e.Client.CoreV1alpha1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	for _, c := range n.Status.Conditions {
		if c.Type == v1alpha1.NodeReady {
			return c.Status
		}
	}
	return ""
}

// hollowNodes plays the kubelets of the bench's nodes: it renews their
// Leases and reports their pods Running and Ready, and confirms the
// deletion of their terminating pods, while they are alive.
type hollowNodes struct {
	e     Env
	ns    string
	mu    sync.Mutex
	alive sets.Set[string]
	names []string
}

func (h *hollowNodes) isAlive(n string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.alive.Has(n)
}

func (h *hollowNodes) kill(n string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.alive.Delete(n)
}

func (h *hollowNodes) register(ctx context.Context, name string, spare bool) error {
	nodes := h.e.Client.CoreV1alpha1().Nodes()
	node := &v1alpha1.Node{ObjectMeta: metav1.ObjectMeta{Name: name,
		Labels: map[string]string{"kubernetes.io/hostname": name, LabelScenario: scenarioNodeFailure}}}
	if spare {
		node.Spec.Taints = []v1alpha1.Taint{{Key: spareTaint, Effect: v1alpha1.TaintEffectNoSchedule}}
	}
	node, err := nodes.Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("register node %s: %w", name, err)
	}
	h.mu.Lock()
	h.names = append(h.names, name)
	h.mu.Unlock()
	now := metav1.Now()
	res := v1alpha1.ResourceList{
		v1alpha1.ResourceCPU:    resource.MustParse(nodeCPU),
		v1alpha1.ResourceMemory: resource.MustParse(nodeMemory),
		v1alpha1.ResourcePods:   resource.MustParse(strconv.Itoa(nodePods * 10)),
	}
	node.Status = v1alpha1.NodeStatus{Capacity: res, Allocatable: res,
		Conditions: []v1alpha1.NodeCondition{{Type: v1alpha1.NodeReady, Status: v1alpha1.ConditionTrue,
			LastHeartbeatTime: now, LastTransitionTime: now, Reason: "SkiffBench", Message: "a skiff-bench hollow node"}},
		NodeInfo: v1alpha1.NodeSystemInfo{KubeletVersion: "skiff-bench", OperatingSystem: "linux", Architecture: "amd64"}}
	if _, err := nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("write status of node %s: %w", name, err)
	}
	return h.renew(ctx, name)
}

func (h *hollowNodes) renew(ctx context.Context, name string) error {
	leases := h.e.Client.CoreV1alpha1().Leases(nodeLeaseNamespace)
	now := metav1.NowMicro()
	dur := int32(40)
	l, err := leases.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &v1alpha1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: nodeLeaseNamespace, Name: name},
			Spec: v1alpha1.LeaseSpec{HolderIdentity: &name, LeaseDurationSeconds: &dur, RenewTime: &now}}, metav1.CreateOptions{})
	} else if err == nil {
		l.Spec.RenewTime = &now
		_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("renew the lease of node %s: %w", name, err)
	}
	return nil
}

func (h *hollowNodes) untaint(ctx context.Context, name string) error {
	patch := []byte(`{"spec":{"taints":null}}`)
	if _, err := h.e.Client.CoreV1alpha1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("untaint node %s: %w", name, err)
	}
	return nil
}

// run renews the live nodes' Leases every leaseRenewInterval and syncs
// their pods twice a second, until ctx ends.
func (h *hollowNodes) run(ctx context.Context) {
	lastRenew := time.Now()
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if time.Since(lastRenew) >= leaseRenewInterval {
			lastRenew = time.Now()
			h.mu.Lock()
			live := sets.List(h.alive)
			h.mu.Unlock()
			for _, n := range live {
				_ = h.renew(ctx, n)
			}
		}
		h.syncPods(ctx)
	}, 500*time.Millisecond)
}

func (h *hollowNodes) syncPods(ctx context.Context) {
	pods := h.e.Client.CoreV1alpha1().Pods(h.ns)
	list, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	zero := int64(0)
	patch := []byte(`{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}`)
	for i := range list.Items {
		p := &list.Items[i]
		if p.Spec.NodeName == "" || !h.isAlive(p.Spec.NodeName) {
			continue
		}
		switch {
		case p.DeletionTimestamp != nil:
			_ = pods.Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &p.UID}})
		case !controller.IsPodReady(p):
			_, _ = pods.Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
		}
	}
}

// readyOn counts the pods, not being deleted, ready on nodes that match.
func (h *hollowNodes) readyOn(ctx context.Context, match func(node string) bool) int {
	list, err := h.e.Client.CoreV1alpha1().Pods(h.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0
	}
	n := 0
	for i := range list.Items {
		p := &list.Items[i]
		if p.DeletionTimestamp == nil && p.Spec.NodeName != "" && match(p.Spec.NodeName) && controller.IsPodReady(p) {
			n++
		}
	}
	return n
}

// evictedFrom reports whether a pod on node is being deleted.
func (h *hollowNodes) evictedFrom(ctx context.Context, node string) bool {
	list, err := h.e.Client.CoreV1alpha1().Pods(h.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return false
	}
	for i := range list.Items {
		if list.Items[i].Spec.NodeName == node && list.Items[i].DeletionTimestamp != nil {
			return true
		}
	}
	return false
}

// cleanup deletes the nodes and their Leases unless e.Keep.
func (h *hollowNodes) cleanup(ctx context.Context) []string {
	h.mu.Lock()
	names := h.names
	h.mu.Unlock()
	if h.e.Keep || len(names) == 0 {
		return nil
	}
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	var errs firstError
	for _, n := range names {
		if err := h.e.Client.CoreV1alpha1().Nodes().Delete(ctx, n, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs.add(err)
		}
		if err := h.e.Client.CoreV1alpha1().Leases(nodeLeaseNamespace).Delete(ctx, n, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs.add(err)
		}
	}
	if errs.count > 0 {
		return []string{fmt.Sprintf("cleanup: %d nodes or leases not deleted, first: %v", errs.count, errs.first())}
	}
	return nil
}
