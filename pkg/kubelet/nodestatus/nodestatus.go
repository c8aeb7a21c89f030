// Package nodestatus registers the kubelet's Node and keeps its status
// current: capacity, allocatable, addresses, the kubelet's port, node info
// and the Ready condition. Status is written when it changes and at least
// once a minute, as upstream's kubelet does with nodeStatusReportFrequency.
package nodestatus

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/client/statuspatch"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

// Well-known node labels.
const (
	LabelHostname = "kubernetes.io/hostname"
	LabelOS       = "kubernetes.io/os"
	LabelArch     = "kubernetes.io/arch"
)

// Ready condition reasons, as upstream's.
const (
	ReasonReady    = "KubeletReady"
	ReasonNotReady = "KubeletNotReady"
)

const (
	// DefaultUpdateInterval is how often the status is computed.
	DefaultUpdateInterval = 10 * time.Second
	// DefaultReportInterval is how long an unchanged status goes unwritten.
	DefaultReportInterval = time.Minute
)

// Config describes the node.
type Config struct {
	NodeName string
	// Hostname is the Hostname address and the hostname label.
	Hostname string
	// NodeIP is the InternalIP address.
	NodeIP string
	// Port is the kubelet's HTTPS port, 0 when it serves none.
	Port int32
	// Labels are added to the well-known ones.
	Labels      map[string]string
	Capacity    v1alpha1.ResourceList
	Allocatable v1alpha1.ResourceList
	// SystemInfo is the node info; Ready fills in the runtime version.
	SystemInfo     v1alpha1.NodeSystemInfo
	KubeletVersion string
	// Ready reports the runtime's type and version, or why the node is not
	// ready to run pods.
	Ready func(ctx context.Context) (runtimeType, runtimeVersion string, err error)

	Clock          clock.WithTicker
	UpdateInterval time.Duration
	ReportInterval time.Duration
}

// Controller registers the node and updates its status.
type Controller struct {
	client clientset.Interface
	cfg    Config
	// node is the node as last written or read.
	node       *v1alpha1.Node
	lastReport time.Time
}

// New returns a Controller for the node cfg describes.
func New(client clientset.Interface, cfg Config) *Controller {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.UpdateInterval == 0 {
		cfg.UpdateInterval = DefaultUpdateInterval
	}
	if cfg.ReportInterval == 0 {
		cfg.ReportInterval = DefaultReportInterval
	}
	return &Controller{client: client, cfg: cfg}
}

// Run registers the node, then updates its status until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	for {
		err := c.Sync(ctx)
		if err != nil {
			klog.ErrorS(err, "Updating node status", "node", c.cfg.NodeName)
		}
		wait := c.cfg.UpdateInterval
		if err != nil && c.node == nil {
			wait = time.Second // not registered yet: try again soon
		}
		timer := c.cfg.Clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C():
		}
	}
}

// Sync registers the node if needed and writes its status if it changed or
// was last written a report interval ago.
//
// A write starts from the node as the API server has it now, as upstream's
// kubelet does, and is a strategic merge patch from that to the new status:
// conditions merge by type, so one that another component set (or changed,
// like the node lifecycle controller's Ready=Unknown) is either kept or
// overwritten with the kubelet's own, never left half-patched or erased.
func (c *Controller) Sync(ctx context.Context) error {
	if c.node == nil {
		if err := c.register(ctx); err != nil {
			return err
		}
	}
	now := c.cfg.Clock.Now()
	info, readyErr := c.probe(ctx, c.node.Status)
	want := Status(c.cfg, info, readyErr, c.node.Status, now)
	if !c.lastReport.IsZero() && now.Sub(c.lastReport) < c.cfg.ReportInterval && sameIgnoringHeartbeats(c.node.Status, want) {
		return nil
	}
	nodes := c.client.CoreV1alpha1().Nodes()
	// From the watch cache, as upstream reads it before each write.
	current, err := nodes.Get(ctx, c.cfg.NodeName, metav1.GetOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) {
		c.node = nil // deleted: register again next time
	}
	if err != nil {
		return fmt.Errorf("get node %s: %w", c.cfg.NodeName, err)
	}
	want = Status(c.cfg, info, readyErr, current.Status, now)
	patch, err := statuspatch.Node(&current.Status, &want)
	if err != nil {
		return fmt.Errorf("node %s status patch: %w", c.cfg.NodeName, err)
	}
	c.node = trimmed(current)
	if patch != nil {
		klog.V(4).InfoS("Writing node status", "node", c.cfg.NodeName, "patch", string(patch))
		out, err := nodes.Patch(ctx, c.cfg.NodeName, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
		if apierrors.IsNotFound(err) {
			c.node = nil
		}
		if err != nil {
			return fmt.Errorf("patch status of node %s: %w", c.cfg.NodeName, err)
		}
		c.node = trimmed(out)
	}
	c.lastReport = now
	return nil
}

// register creates the node, or takes over an existing one of the same name.
func (c *Controller) register(ctx context.Context) error {
	nodes := c.client.CoreV1alpha1().Nodes()
	node := &v1alpha1.Node{ObjectMeta: metav1.ObjectMeta{Name: c.cfg.NodeName, Labels: c.labels()}}
	node.Status = c.status(ctx, v1alpha1.NodeStatus{}, c.cfg.Clock.Now())
	out, err := nodes.Create(ctx, node, metav1.CreateOptions{})
	if err == nil {
		klog.InfoS("Registered node", "node", c.cfg.NodeName)
		c.node = trimmed(out)
		return nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("register node %s: %w", c.cfg.NodeName, err)
	}
	existing, err := nodes.Get(ctx, c.cfg.NodeName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get existing node %s: %w", c.cfg.NodeName, err)
	}
	missing := map[string]string{}
	for k, v := range c.labels() {
		if existing.Labels[k] != v {
			missing[k] = v
		}
	}
	if len(missing) > 0 {
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": missing}})
		if existing, err = nodes.Patch(ctx, c.cfg.NodeName, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("label existing node %s: %w", c.cfg.NodeName, err)
		}
	}
	klog.InfoS("Node already registered; taking it over", "node", c.cfg.NodeName)
	c.node = trimmed(existing)
	return nil
}

// trimmed drops what the controller never reads from a node it keeps, so a
// process simulating many nodes holds less.
func trimmed(n *v1alpha1.Node) *v1alpha1.Node {
	n.ManagedFields = nil
	return n
}

func (c *Controller) labels() map[string]string {
	out := map[string]string{}
	for k, v := range c.cfg.Labels {
		out[k] = v
	}
	out[LabelHostname] = c.cfg.Hostname
	out[LabelOS] = c.cfg.SystemInfo.OperatingSystem
	out[LabelArch] = c.cfg.SystemInfo.Architecture
	return out
}

// status computes the node status, carrying transition times over from old.
func (c *Controller) status(ctx context.Context, old v1alpha1.NodeStatus, now time.Time) v1alpha1.NodeStatus {
	info, readyErr := c.probe(ctx, old)
	return Status(c.cfg, info, readyErr, old, now)
}

// probe returns the node info with the runtime's version, and why the node
// is not ready if it is not. The last version known stays while the runtime
// does not answer.
func (c *Controller) probe(ctx context.Context, old v1alpha1.NodeStatus) (v1alpha1.NodeSystemInfo, error) {
	info := c.cfg.SystemInfo
	info.KubeletVersion = c.cfg.KubeletVersion
	var readyErr error
	if c.cfg.Ready != nil {
		var rtType, rtVersion string
		rtType, rtVersion, readyErr = c.cfg.Ready(ctx)
		if readyErr == nil {
			info.ContainerRuntimeVersion = rtType + "://" + rtVersion
		} else if oldInfo := old.NodeInfo.ContainerRuntimeVersion; oldInfo != "" {
			info.ContainerRuntimeVersion = oldInfo
		}
	}
	return info, readyErr
}

// Status is the node status for cfg: Ready unless readyErr says why not.
// Times of an unchanged condition carry over from old.
func Status(cfg Config, info v1alpha1.NodeSystemInfo, readyErr error, old v1alpha1.NodeStatus, now time.Time) v1alpha1.NodeStatus {
	t := metav1.NewTime(now.UTC().Truncate(time.Second))
	ready := v1alpha1.NodeCondition{
		Type: v1alpha1.NodeReady, Status: v1alpha1.ConditionTrue,
		Reason: ReasonReady, Message: "kubelet is posting ready status",
		LastHeartbeatTime: t, LastTransitionTime: t,
	}
	if readyErr != nil {
		ready.Status, ready.Reason = v1alpha1.ConditionFalse, ReasonNotReady
		ready.Message = fmt.Sprintf("container runtime is down: %v", readyErr)
	}
	for _, oc := range old.Conditions {
		if oc.Type == v1alpha1.NodeReady && oc.Status == ready.Status {
			ready.LastTransitionTime = oc.LastTransitionTime
		}
	}
	st := v1alpha1.NodeStatus{
		Capacity:    cfg.Capacity,
		Allocatable: cfg.Allocatable,
		Conditions:  []v1alpha1.NodeCondition{ready},
		Addresses: []v1alpha1.NodeAddress{
			{Type: v1alpha1.NodeInternalIP, Address: cfg.NodeIP},
			{Type: v1alpha1.NodeHostName, Address: cfg.Hostname},
		},
		DaemonEndpoints: v1alpha1.NodeDaemonEndpoints{KubeletEndpoint: v1alpha1.DaemonEndpoint{Port: cfg.Port}},
		NodeInfo:        info,
	}
	// Conditions someone else reports stay.
	for _, oc := range old.Conditions {
		if oc.Type != v1alpha1.NodeReady {
			st.Conditions = append(st.Conditions, oc)
		}
	}
	return st
}

// sameIgnoringHeartbeats reports whether two statuses differ only in their
// conditions' heartbeat times.
func sameIgnoringHeartbeats(a, b v1alpha1.NodeStatus) bool {
	a, b = *a.DeepCopy(), *b.DeepCopy()
	for i := range a.Conditions {
		a.Conditions[i].LastHeartbeatTime = metav1.Time{}
	}
	for i := range b.Conditions {
		b.Conditions[i].LastHeartbeatTime = metav1.Time{}
	}
	patch, err := statuspatch.Node(&a, &b)
	return err == nil && patch == nil
}
