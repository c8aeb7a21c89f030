package helper

import (
	"testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

func TestToleratesTaint(t *testing.T) {
	taint := v1alpha1.Taint{Key: "dedicated", Value: "gpu", Effect: v1alpha1.TaintEffectNoSchedule}
	tests := []struct {
		name       string
		toleration v1alpha1.Toleration
		want       bool
	}{
		{"same key, value and effect", v1alpha1.Toleration{Key: "dedicated", Operator: v1alpha1.TolerationOpEqual, Value: "gpu", Effect: v1alpha1.TaintEffectNoSchedule}, true},
		{"operator left empty means Equal", v1alpha1.Toleration{Key: "dedicated", Value: "gpu"}, true},
		{"other value", v1alpha1.Toleration{Key: "dedicated", Operator: v1alpha1.TolerationOpEqual, Value: "cpu"}, false},
		{"Exists ignores the value", v1alpha1.Toleration{Key: "dedicated", Operator: v1alpha1.TolerationOpExists}, true},
		{"other key", v1alpha1.Toleration{Key: "zone", Operator: v1alpha1.TolerationOpExists}, false},
		{"empty key with Exists tolerates everything", v1alpha1.Toleration{Operator: v1alpha1.TolerationOpExists}, true},
		{"other effect", v1alpha1.Toleration{Key: "dedicated", Operator: v1alpha1.TolerationOpExists, Effect: v1alpha1.TaintEffectNoExecute}, false},
		{"empty effect matches every effect", v1alpha1.Toleration{Key: "dedicated", Operator: v1alpha1.TolerationOpEqual, Value: "gpu"}, true},
		{"unknown operator", v1alpha1.Toleration{Key: "dedicated", Operator: "Like", Value: "gpu"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ToleratesTaint(&tt.toleration, &taint); got != tt.want {
				t.Errorf("ToleratesTaint = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFindUntoleratedTaint(t *testing.T) {
	taints := []v1alpha1.Taint{
		{Key: "soft", Effect: v1alpha1.TaintEffectPreferNoSchedule},
		{Key: "a", Value: "1", Effect: v1alpha1.TaintEffectNoSchedule},
		{Key: "b", Value: "2", Effect: v1alpha1.TaintEffectNoExecute},
	}
	hard := func(t *v1alpha1.Taint) bool { return t.Effect != v1alpha1.TaintEffectPreferNoSchedule }
	tests := []struct {
		name        string
		tolerations []v1alpha1.Toleration
		wantKey     string
	}{
		{"no tolerations: first hard taint", nil, "a"},
		{"first tolerated: second reported", []v1alpha1.Toleration{{Key: "a", Value: "1"}}, "b"},
		{"all tolerated", []v1alpha1.Toleration{{Key: "a", Value: "1"}, {Key: "b", Operator: v1alpha1.TolerationOpExists}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			taint, found := FindUntoleratedTaint(taints, tt.tolerations, hard)
			if tt.wantKey == "" {
				if found {
					t.Fatalf("found untolerated taint %v, want none", taint)
				}
				return
			}
			if !found || taint.Key != tt.wantKey {
				t.Fatalf("found %v (%v), want taint %q", taint, found, tt.wantKey)
			}
		})
	}
}
