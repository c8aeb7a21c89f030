// Package statuspatch computes the patches skiff's components send to
// pods/status and nodes/status. They are two-way strategic merge patches, as
// upstream's PatchPodStatus and PatchNodeStatus send: conditions merge by
// type, so a write never erases a condition another component set, and a
// status that did not change costs no request at all.
package statuspatch

import (
	"encoding/json"
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// Pod returns the patch of pods/status that turns old into new, or nil when
// they are equal. The pod's UID rides along as a precondition, so the patch
// fails with a conflict on a pod recreated under the same name since.
func Pod(uid types.UID, old, new *v1alpha1.PodStatus) ([]byte, error) {
	return Diff(old, new, v1alpha1.Pod{}, map[string]any{"metadata": map[string]any{"uid": uid}})
}

// Node returns the patch of nodes/status that turns old into new, or nil
// when they are equal.
func Node(old, new *v1alpha1.NodeStatus) ([]byte, error) {
	return Diff(old, new, v1alpha1.Node{}, nil)
}

// Diff returns the two-way strategic merge patch {"status": ...} that turns
// old into new, with the patch strategies of schema (the Go type of the
// object holding the status), or nil when they are the same as the API would
// store them. extra, when not nil, is merged into the top of a non-empty
// patch (a UID precondition under "metadata", say).
//
// Equal statuses, the common case of a sync, are found without encoding
// anything.
func Diff(old, new, schema any, extra map[string]any) ([]byte, error) {
	if apiequality.Semantic.DeepEqual(old, new) {
		return nil, nil
	}
	oldJSON, err := json.Marshal(map[string]any{"status": old})
	if err != nil {
		return nil, fmt.Errorf("encode old status: %w", err)
	}
	newJSON, err := json.Marshal(map[string]any{"status": new})
	if err != nil {
		return nil, fmt.Errorf("encode new status: %w", err)
	}
	diff, err := strategicpatch.CreateTwoWayMergePatch(oldJSON, newJSON, schema)
	if err != nil {
		return nil, fmt.Errorf("diff status: %w", err)
	}
	if string(diff) == "{}" {
		// Different in Go, the same once encoded (times within a second).
		return nil, nil
	}
	if len(extra) == 0 {
		return diff, nil
	}
	var patch map[string]any
	if err := json.Unmarshal(diff, &patch); err != nil {
		return nil, fmt.Errorf("decode status patch: %w", err)
	}
	for k, v := range extra {
		patch[k] = v
	}
	return json.Marshal(patch)
}
