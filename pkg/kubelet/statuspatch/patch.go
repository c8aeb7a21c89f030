// Package statuspatch computes the JSON merge patches the kubelet sends to
// pods/status and nodes/status, so a status that did not change costs no
// request at all.
package statuspatch

import (
	"encoding/json"
	"fmt"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
)

// Diff returns the merge patch {"status": ...} that turns old into new, or
// nil when they are the same as the API would store them. extra, when not
// nil, is merged into the top of a non-empty patch (a UID precondition under
// "metadata", say).
func Diff(old, new any, extra map[string]any) ([]byte, error) {
	oldJSON, err := json.Marshal(map[string]any{"status": old})
	if err != nil {
		return nil, fmt.Errorf("encode old status: %w", err)
	}
	newJSON, err := json.Marshal(map[string]any{"status": new})
	if err != nil {
		return nil, fmt.Errorf("encode new status: %w", err)
	}
	diff, err := jsonpatch.CreateMergePatch(oldJSON, newJSON)
	if err != nil {
		return nil, fmt.Errorf("diff status: %w", err)
	}
	var patch map[string]any
	if err := json.Unmarshal(diff, &patch); err != nil {
		return nil, fmt.Errorf("decode status patch: %w", err)
	}
	if len(patch) == 0 {
		return nil, nil
	}
	for k, v := range extra {
		patch[k] = v
	}
	return json.Marshal(patch)
}
