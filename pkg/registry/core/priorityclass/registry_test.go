package priorityclass

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/install"
)

func testStrategy() strategy {
	s := runtime.NewScheme()
	install.Install(s)
	return NewStrategy(s)
}

func class(name string, value int32) *core.PriorityClass {
	return &core.PriorityClass{
		ObjectMeta:       metav1.ObjectMeta{Name: name, ResourceVersion: "1", Generation: 1},
		Value:            value,
		PreemptionPolicy: ptr.To(core.PreemptLowerPriority),
	}
}

func TestStrategyIsClusterScoped(t *testing.T) {
	if testStrategy().NamespaceScoped() {
		t.Error("PriorityClass is namespaced; upstream's is cluster-scoped")
	}
}

func TestStrategyValidate(t *testing.T) {
	ctx := context.Background()
	s := testStrategy()
	tests := []struct {
		name      string
		pc        *core.PriorityClass
		wantField string
	}{
		{name: "a user class", pc: class("high", 1000)},
		{name: "a user class at the user maximum", pc: class("top", core.HighestUserDefinablePriority)},
		{name: "a user class above the user maximum", pc: class("too-high", core.HighestUserDefinablePriority+1), wantField: "value"},
		{name: "a class taking a system name", pc: class("system-node-critical", 10), wantField: "metadata.name"},
		{name: "a system class as bootstrapped", pc: core.SystemPriorityClasses()[1]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.PrepareForCreate(ctx, tc.pc)
			errs := s.Validate(ctx, tc.pc)
			if tc.wantField == "" {
				if len(errs) > 0 {
					t.Fatalf("errors: %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Field != tc.wantField {
				t.Fatalf("errors %v, want one on %s", errs, tc.wantField)
			}
		})
	}
}

func TestStrategyValidateUpdate(t *testing.T) {
	ctx := context.Background()
	s := testStrategy()
	tests := []struct {
		name           string
		change         func(pc *core.PriorityClass)
		wantField      string
		wantGeneration int64
	}{
		{name: "a label change", change: func(pc *core.PriorityClass) { pc.Labels = map[string]string{"tier": "web"} }, wantGeneration: 1},
		{name: "a new description", change: func(pc *core.PriorityClass) { pc.Description = "web tier" }, wantGeneration: 2},
		{name: "becoming the global default", change: func(pc *core.PriorityClass) { pc.GlobalDefault = true }, wantGeneration: 2},
		{name: "a new value", change: func(pc *core.PriorityClass) { pc.Value = 5 }, wantField: "value", wantGeneration: 2},
		{name: "a new preemption policy", change: func(pc *core.PriorityClass) { pc.PreemptionPolicy = ptr.To(core.PreemptNever) },
			wantField: "preemptionPolicy", wantGeneration: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := class("high", 1000)
			pc := old.DeepCopy()
			tc.change(pc)
			s.PrepareForUpdate(ctx, pc, old)
			if pc.Generation != tc.wantGeneration {
				t.Errorf("generation %d, want %d", pc.Generation, tc.wantGeneration)
			}
			errs := s.ValidateUpdate(ctx, pc, old)
			if tc.wantField == "" {
				if len(errs) > 0 {
					t.Fatalf("errors: %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Field != tc.wantField {
				t.Fatalf("errors %v, want one on %s", errs, tc.wantField)
			}
		})
	}
}

func TestDeleteRefusesSystemClasses(t *testing.T) {
	r := &REST{}
	for _, pc := range core.SystemPriorityClasses() {
		_, _, err := r.Delete(context.Background(), pc.Name, nil, &metav1.DeleteOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("delete %s: %v, want 403 Forbidden", pc.Name, err)
		}
	}
}

func TestTableColumns(t *testing.T) {
	pc := class("high", 1000)
	pc.GlobalDefault = true
	table, err := TableConvertor.ConvertToTable(context.Background(), pc, nil)
	if err != nil {
		t.Fatalf("ConvertToTable: %v", err)
	}
	var normal, wide []string
	for _, c := range table.ColumnDefinitions {
		if c.Priority == 0 {
			normal = append(normal, c.Name)
		} else {
			wide = append(wide, c.Name)
		}
	}
	if got, want := normal, []string{"Name", "Value", "Global-Default", "Age"}; !equal(got, want) {
		t.Errorf("columns %q, want upstream's %q", got, want)
	}
	if got, want := wide, []string{"PreemptionPolicy"}; !equal(got, want) {
		t.Errorf("-o wide columns %q, want %q", got, want)
	}
	cells := table.Rows[0].Cells
	if cells[0] != "high" || cells[1] != int64(1000) || cells[2] != true || cells[4] != "PreemptLowerPriority" {
		t.Errorf("cells %v", cells)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
