package table

import (
	"context"
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/pkg/apis/core"
)

func podConvertor() *Convertor {
	return New([]metav1.TableColumnDefinition{
		Column("Name", "string", "name", false),
		Column("Node", "string", "node", true),
	}, func(obj runtime.Object) ([]interface{}, error) {
		p, ok := obj.(*core.Pod)
		if !ok {
			return nil, errors.New("not a pod")
		}
		return []interface{}{p.Name, p.Spec.NodeName}, nil
	})
}

func pod(name, node, rv string) core.Pod {
	return core.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: rv}, Spec: core.PodSpec{NodeName: node}}
}

func TestConvertList(t *testing.T) {
	remaining := int64(7)
	list := &core.PodList{
		ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: "token", RemainingItemCount: &remaining},
		Items:    []core.Pod{pod("a", "n1", "40"), pod("b", "", "41")},
	}
	table, err := podConvertor().ConvertToTable(context.Background(), list, nil)
	if err != nil {
		t.Fatalf("ConvertToTable: %v", err)
	}
	if len(table.ColumnDefinitions) != 2 {
		t.Errorf("columns = %d, want 2", len(table.ColumnDefinitions))
	}
	if len(table.Rows) != 2 || table.Rows[0].Cells[0] != "a" || table.Rows[1].Cells[0] != "b" || table.Rows[0].Cells[1] != "n1" {
		t.Errorf("rows = %+v, want a then b", table.Rows)
	}
	if obj, ok := table.Rows[1].Object.Object.(*core.Pod); !ok || obj.Name != "b" {
		t.Errorf("row object = %#v, want pod b (kubectl reads metadata from it)", table.Rows[1].Object.Object)
	}
	if table.ResourceVersion != "42" || table.Continue != "token" || table.RemainingItemCount == nil || *table.RemainingItemCount != 7 {
		t.Errorf("list metadata = rv %q continue %q remaining %v, want 42, token, 7", table.ResourceVersion, table.Continue, table.RemainingItemCount)
	}
}

func TestConvertEmptyList(t *testing.T) {
	table, err := podConvertor().ConvertToTable(context.Background(), &core.PodList{}, nil)
	if err != nil {
		t.Fatalf("ConvertToTable: %v", err)
	}
	if len(table.Rows) != 0 || len(table.ColumnDefinitions) != 2 {
		t.Errorf("empty list table = %d rows, %d columns; want 0 rows and the columns", len(table.Rows), len(table.ColumnDefinitions))
	}
}

func TestConvertSingle(t *testing.T) {
	p := pod("a", "n1", "40")
	table, err := podConvertor().ConvertToTable(context.Background(), &p, &metav1.TableOptions{})
	if err != nil {
		t.Fatalf("ConvertToTable: %v", err)
	}
	if len(table.Rows) != 1 || table.Rows[0].Cells[0] != "a" {
		t.Errorf("rows = %+v, want one row for a", table.Rows)
	}
	if table.ResourceVersion != "40" {
		t.Errorf("resourceVersion = %q, want the object's 40", table.ResourceVersion)
	}
	if len(table.ColumnDefinitions) != 2 {
		t.Errorf("columns = %d, want 2", len(table.ColumnDefinitions))
	}
}

func TestConvertNoHeaders(t *testing.T) {
	p := pod("a", "n1", "40")
	table, err := podConvertor().ConvertToTable(context.Background(), &p, &metav1.TableOptions{NoHeaders: true})
	if err != nil {
		t.Fatalf("ConvertToTable: %v", err)
	}
	if len(table.ColumnDefinitions) != 0 {
		t.Errorf("columns = %v, want none with NoHeaders", table.ColumnDefinitions)
	}
	if len(table.Rows) != 1 {
		t.Errorf("rows = %d, want 1", len(table.Rows))
	}
}

func TestConvertRowError(t *testing.T) {
	if _, err := podConvertor().ConvertToTable(context.Background(), &core.Node{}, nil); err == nil {
		t.Error("converting an object the row function refuses returned no error")
	}
	list := &core.NodeList{Items: []core.Node{{}}}
	if _, err := podConvertor().ConvertToTable(context.Background(), list, nil); err == nil {
		t.Error("converting a list the row function refuses returned no error")
	}
}

func TestColumn(t *testing.T) {
	if c := Column("Name", "string", "d", false); c.Format != "name" || c.Priority != 0 {
		t.Errorf("Name column = %+v, want format name, priority 0", c)
	}
	if c := Column("IP", "string", "d", true); c.Format != "" || c.Priority != 1 {
		t.Errorf("wide column = %+v, want priority 1", c)
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		ts   metav1.Time
		want string
	}{
		{ts: metav1.Time{}, want: "<unknown>"},
		{ts: metav1.NewTime(time.Now().Add(-5 * time.Minute)), want: "5m"},
		{ts: metav1.NewTime(time.Now().Add(-3 * 24 * time.Hour)), want: "3d"},
	}
	for _, tt := range tests {
		if got := Age(tt.ts); got != tt.want {
			t.Errorf("Age(%v) = %q, want %q", tt.ts, got, tt.want)
		}
	}
}
