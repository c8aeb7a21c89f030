// Package plugins wires skiff's scheduling plugins, one folder each, into
// the default profile.
package plugins

import (
	"skiff.dev/skiff/pkg/scheduler/framework"
	"skiff.dev/skiff/pkg/scheduler/plugins/balancedallocation"
	"skiff.dev/skiff/pkg/scheduler/plugins/leastallocated"
	"skiff.dev/skiff/pkg/scheduler/plugins/nodename"
	"skiff.dev/skiff/pkg/scheduler/plugins/nodeready"
	"skiff.dev/skiff/pkg/scheduler/plugins/noderesourcesfit"
	"skiff.dev/skiff/pkg/scheduler/plugins/nodeselector"
	"skiff.dev/skiff/pkg/scheduler/plugins/nodeunschedulable"
	"skiff.dev/skiff/pkg/scheduler/plugins/tainttoleration"
)

// Default returns the default profile's plugins in the order they filter,
// with the weights of those that score (kube-scheduler's defaults: taints 3,
// node affinity 2, resource spreading 1 each).
//
// Filter order decides which reason a node that fails several filters gives
// in the FailedScheduling message: the hard, node-level ones come first and
// resource fit last, as upstream.
func Default() []framework.Registration {
	return []framework.Registration{
		{Plugin: nodeunschedulable.New()},
		{Plugin: nodeready.New()},
		{Plugin: nodename.New()},
		{Plugin: tainttoleration.New(), Weight: 3},
		{Plugin: nodeselector.New(), Weight: 2},
		{Plugin: noderesourcesfit.New()},
		{Plugin: leastallocated.New(), Weight: 1},
		{Plugin: balancedallocation.New(), Weight: 1},
	}
}

// NewDefaultFramework returns a framework running the default plugins.
func NewDefaultFramework(parallelism int) (*framework.Framework, error) {
	return framework.NewFramework(Default(), parallelism)
}
