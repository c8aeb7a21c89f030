package options

import (
	"fmt"

	"k8s.io/apiserver/pkg/features"
	"k8s.io/component-base/featuregate"
)

// skiffFeatureDefaults are upstream feature gates skiff turns off by
// default, for memory; --feature-gates turns them back on. Measured with
// hack/bench-memory.sh at 1000 nodes, 10000 pods and churn at 50 pods/s,
// the API server's live heap held:
//   - ListFromCacheSnapshot: 43 MiB of copy-on-write B-tree snapshots, one
//     per resourceVersion of the 75 s watch history, so that a LIST at an
//     older resourceVersion (the continue pages of a paginated LIST) is
//     served from the cache. Without it such pages are read from etcd, as
//     before Kubernetes 1.34; skiff's clients list at the latest version.
//   - DetectCacheInconsistency: 44 MiB while it runs, every 5 to 7.5
//     minutes for each cached resource: it lists the resource from etcd
//     and from the cache, decodes both, and compares their digests.
//
// Go collects the heap when it reaches twice what was live, so each MiB of
// live heap costs about two of resident memory.
func skiffFeatureDefaults() map[string]bool {
	return map[string]bool{
		string(features.ListFromCacheSnapshot):    false,
		string(features.DetectCacheInconsistency): false,
	}
}

// applyFeatureDefaults sets skiff's defaults on gate, before --feature-gates
// is applied over them.
func applyFeatureDefaults(gate featuregate.MutableFeatureGate) error {
	if err := gate.SetFromMap(skiffFeatureDefaults()); err != nil {
		return fmt.Errorf("set skiff's feature gate defaults: %w", err)
	}
	return nil
}
