package options

import (
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
)

// The gates are process-wide: the cases run in order, the flag's last.
func TestFeatureDefaults(t *testing.T) {
	t.Cleanup(func() {
		_ = utilfeature.DefaultMutableFeatureGate.SetFromMap(map[string]bool{
			string(features.ListFromCacheSnapshot): true, string(features.DetectCacheInconsistency): true})
	})
	for _, tc := range []struct {
		name         string
		args         []string
		wantSnapshot bool
	}{
		{name: "skiff's defaults: both off"},
		{name: "--feature-gates turns one back on", args: []string{"--feature-gates=ListFromCacheSnapshot=true"}, wantSnapshot: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := NewOptions()
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			for _, f := range o.Flags().FlagSets {
				fs.AddFlagSet(f)
			}
			if err := fs.Parse(tc.args); err != nil {
				t.Fatalf("parse %v: %v", tc.args, err)
			}
			if err := applyFeatureDefaults(utilfeature.DefaultMutableFeatureGate); err != nil {
				t.Fatal(err)
			}
			if err := o.ServerRun.ComponentGlobalsRegistry.Set(); err != nil {
				t.Fatal(err)
			}
			if got := utilfeature.DefaultFeatureGate.Enabled(features.ListFromCacheSnapshot); got != tc.wantSnapshot {
				t.Errorf("ListFromCacheSnapshot %v, want %v", got, tc.wantSnapshot)
			}
			if utilfeature.DefaultFeatureGate.Enabled(features.DetectCacheInconsistency) {
				t.Errorf("DetectCacheInconsistency on, want off")
			}
		})
	}
}
