package framework

import (
	"fmt"
	"sort"
	"strings"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// Diagnosis records why each node was found infeasible.
type Diagnosis struct {
	// NodeToStatus maps a node's name to the status of the filter that
	// rejected it.
	NodeToStatus map[string]*Status
	// PreFilterMsg is set when a PreFilter plugin rejected the pod before
	// any node was looked at.
	PreFilterMsg string
	// PostFilterMsg is what the PostFilter plugins (preemption) said.
	PostFilterMsg string
	// UnschedulablePlugins are the plugins that rejected the pod: only
	// events they registered move it out of the unschedulable queue.
	UnschedulablePlugins map[string]struct{}
}

// FitError is the failure of a scheduling attempt that found no node.
type FitError struct {
	Pod         *v1alpha1.Pod
	NumAllNodes int
	Diagnosis   Diagnosis
}

// Error is the message users read in the FailedScheduling event and the
// PodScheduled condition, in kube-scheduler's form:
//
//	0/4 nodes are available: 1 node(s) were unschedulable, 3 Insufficient cpu.
//
// Each reason is counted over the nodes that gave it, and the "<count>
// <reason>" strings are sorted.
func (f *FitError) Error() string {
	msg := fmt.Sprintf("0/%d nodes are available:", f.NumAllNodes)
	if f.Diagnosis.PreFilterMsg != "" {
		return msg + " " + f.Diagnosis.PreFilterMsg + "."
	}
	counts := map[string]int{}
	for _, s := range f.Diagnosis.NodeToStatus {
		for _, r := range s.Reasons() {
			counts[r]++
		}
	}
	histogram := make([]string, 0, len(counts))
	for reason, n := range counts {
		histogram = append(histogram, fmt.Sprintf("%d %s", n, reason))
	}
	sort.Strings(histogram)
	if len(histogram) > 0 {
		msg += " " + strings.Join(histogram, ", ") + "."
	}
	if f.Diagnosis.PostFilterMsg != "" {
		msg += " " + f.Diagnosis.PostFilterMsg
	}
	return msg
}
