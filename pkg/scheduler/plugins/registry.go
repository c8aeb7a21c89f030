// Package plugins wires skiff's scheduling plugins, one folder each, into
// the default profile.
package plugins

import (
	"skiff.dev/skiff/pkg/scheduler/framework"
	"skiff.dev/skiff/pkg/scheduler/plugins/balancedallocation"
	"skiff.dev/skiff/pkg/scheduler/plugins/defaultbinder"
	"skiff.dev/skiff/pkg/scheduler/plugins/defaultpreemption"
	"skiff.dev/skiff/pkg/scheduler/plugins/interpodaffinity"
	"skiff.dev/skiff/pkg/scheduler/plugins/leastallocated"
	"skiff.dev/skiff/pkg/scheduler/plugins/nodeaffinity"
	"skiff.dev/skiff/pkg/scheduler/plugins/nodename"
	"skiff.dev/skiff/pkg/scheduler/plugins/nodeready"
	"skiff.dev/skiff/pkg/scheduler/plugins/noderesourcesfit"
	"skiff.dev/skiff/pkg/scheduler/plugins/nodeunschedulable"
	"skiff.dev/skiff/pkg/scheduler/plugins/podtopologyspread"
	"skiff.dev/skiff/pkg/scheduler/plugins/tainttoleration"
)

// NamespaceListerKey is where the scheduler registers the core/v1
// NamespaceLister for InterPodAffinity.
const NamespaceListerKey = interpodaffinity.NamespaceListerKey

// Default returns the default profile's plugins in upstream's order, with
// upstream's score weights (taints 3, node affinity 2, topology spread 2,
// inter-pod affinity 2, resource spreading 1 each).
//
// Filter order decides which reason a node that fails several filters gives
// in the FailedScheduling message: the node-level ones first, then resource
// fit, then the plugins that look at other pods (spread, affinity), as
// upstream.
func Default() []framework.Registration {
	return []framework.Registration{
		{Plugin: nodeunschedulable.New()},
		{Plugin: nodeready.New()},
		{Plugin: nodename.New()},
		{Plugin: tainttoleration.New(), Weight: 3},
		{Plugin: nodeaffinity.New(), Weight: 2},
		{Plugin: noderesourcesfit.New()},
		{Factory: podtopologyspread.New, Weight: 2},
		{Factory: interpodaffinity.New, Weight: 2},
		{Factory: defaultpreemption.New},
		{Plugin: leastallocated.New(), Weight: 1},
		{Plugin: balancedallocation.New(), Weight: 1},
		{Factory: defaultbinder.New},
	}
}
