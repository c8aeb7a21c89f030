package deployment

import (
	"context"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/pkg/apis/apps"
)

func TestTable(t *testing.T) {
	list := &apps.DeploymentList{Items: []apps.Deployment{*storedDeployment()}}
	table, err := tableConvertor.ConvertToTable(context.Background(), list, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names, wide []string
	for _, c := range table.ColumnDefinitions {
		if c.Priority == 0 {
			names = append(names, c.Name)
		} else {
			wide = append(wide, c.Name)
		}
	}
	if got, want := names, []string{"Name", "Ready", "Up-to-date", "Available", "Age"}; !slices.Equal(got, want) {
		t.Errorf("columns %v, want %v", got, want)
	}
	if got, want := wide, []string{"Containers", "Images", "Selector"}; !slices.Equal(got, want) {
		t.Errorf("wide columns %v, want %v", got, want)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("%d rows, want 1", len(table.Rows))
	}
	cells := table.Rows[0].Cells
	want := []interface{}{"web", "3/3", int64(1), int64(3), "<unknown>", "main", "busybox:1.36", "app=web"}
	for i := range want {
		if cells[i] != want[i] {
			t.Errorf("cell %s = %#v, want %#v", table.ColumnDefinitions[i].Name, cells[i], want[i])
		}
	}

	noHeaders, err := tableConvertor.ConvertToTable(context.Background(), storedDeployment(), &metav1.TableOptions{NoHeaders: true})
	if err != nil || len(noHeaders.ColumnDefinitions) != 0 || len(noHeaders.Rows) != 1 {
		t.Errorf("a single object without headers: %v, %+v", err, noHeaders)
	}
}
