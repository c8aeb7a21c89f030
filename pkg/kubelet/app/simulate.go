package app

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/component-base/version"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/client/events"
	"skiff.dev/skiff/pkg/generated/informers/externalversions"
	"skiff.dev/skiff/pkg/kubelet"
	"skiff.dev/skiff/pkg/kubelet/metrics"
	"skiff.dev/skiff/pkg/kubelet/nodelease"
	"skiff.dev/skiff/pkg/kubelet/nodestatus"
	"skiff.dev/skiff/pkg/kubelet/prober"
	"skiff.dev/skiff/pkg/kubelet/runtime/fake"
)

// SimulatedNodeName is the name of simulated node i.
func SimulatedNodeName(base string, i int) string { return fmt.Sprintf("%s-%d", base, i) }

// runSimulated runs o.SimulateNodes nodes with the fake runtime in this
// process, for scale runs: each has its own Node, Lease, status loop and pod
// workers, and all share one pod informer (every bound pod, handed to the
// node it is bound to), one client and one event recorder. Simulated nodes
// serve no kubelet API.
func runSimulated(ctx context.Context, o *Options, c clients) error {
	client := c.api
	nodeIP, err := nodestatus.NodeIP(o.NodeIP)
	if err != nil {
		return err
	}
	capacity, allocatable, err := nodeResources(o)
	if err != nil {
		return err
	}
	recorder, stopEvents := events.NewRecorder(c.events, "skiff-kubelet", o.NodeName)
	defer stopEvents()

	// Shared by every node, and only read.
	sysInfo := nodestatus.SystemInfo()
	kubeletVersion := version.Get().GitVersion
	nodes := make(map[string]*kubelet.Node, o.SimulateNodes)
	m := metrics.New(func() map[v1alpha1.PodPhase]int {
		sum := map[v1alpha1.PodPhase]int{}
		for _, n := range nodes {
			for phase, c := range n.PhaseCounts() {
				sum[phase] += c
			}
		}
		return sum
	})
	// One probe pool for every simulated node: the fake runtimes decide
	// their probes alike (fake.SimulatedProbeAnnotation), so any of them
	// serves as the pool's runtime.
	probes := prober.New(prober.Config{Runtime: fake.New(), Recorder: recorder})
	for i := range o.SimulateNodes {
		name := SimulatedNodeName(o.NodeName, i)
		rt := fake.New()
		n := kubelet.NewNode(ctx, kubelet.NodeConfig{
			Client:  client,
			Runtime: m.InstrumentRuntime(rt),
			NodeStatus: nodestatus.Config{
				NodeName: name, Hostname: name, NodeIP: nodeIP, Labels: o.NodeLabels,
				Capacity: capacity, Allocatable: allocatable, SystemInfo: sysInfo, KubeletVersion: kubeletVersion,
			},
			Recorder: recorder,
			Observer: m,
			Prober:   probes,
		})
		rt.SetOnChange(n.Notify)
		nodes[name] = n
	}

	factory := externalversions.NewSharedInformerFactoryWithOptions(client, 0,
		externalversions.WithTweakListOptions(func(lo *metav1.ListOptions) {
			lo.FieldSelector = fields.OneTermNotEqualSelector("spec.nodeName", "").String()
		}))
	if _, err := factory.Core().V1alpha1().Pods().Informer().AddEventHandler(kubelet.PodHandler(func(name string) *kubelet.Node {
		return nodes[name]
	})); err != nil {
		return fmt.Errorf("watch pods: %w", err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()

	klog.InfoS("Running simulated nodes", "count", o.SimulateNodes, "first", SimulatedNodeName(o.NodeName, 0))
	g, ctx := errgroup.WithContext(ctx)
	// Starts 10 ms apart (spread over at most one lease interval), so the
	// heartbeats of many nodes do not all fall in the same second.
	step := min(10*time.Millisecond, nodelease.DefaultRenewInterval/time.Duration(len(nodes)))
	i := 0
	for _, n := range nodes {
		delay := step * time.Duration(i)
		i++
		g.Go(func() error {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(delay):
			}
			n.Run(ctx)
			return nil
		})
	}
	g.Go(func() error { probes.Run(ctx); return nil })
	serveHealthz(ctx, g, o, nil)
	err = g.Wait()
	for _, n := range nodes {
		n.Wait()
	}
	return err
}
