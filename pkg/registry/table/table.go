// Package table builds the server-side tables `kubectl get` prints from a
// resource's column definitions and one function that renders a row.
package table

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apiserver/pkg/registry/rest"

	"skiff.dev/skiff/pkg/apis/core"
)

// RowFunc renders one object's cells, in the order of the columns.
type RowFunc func(obj runtime.Object) ([]interface{}, error)

// Convertor turns objects and lists into metav1.Tables.
type Convertor struct {
	columns []metav1.TableColumnDefinition
	row     RowFunc
}

var _ rest.TableConvertor = &Convertor{}

// New returns a convertor for columns filled by row. Columns with Priority 1
// appear only with `-o wide`, as upstream's printers do.
func New(columns []metav1.TableColumnDefinition, row RowFunc) *Convertor {
	return &Convertor{columns: columns, row: row}
}

// ConvertToTable renders obj, a single object or a list.
func (c *Convertor) ConvertToTable(_ context.Context, obj runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	t := &metav1.Table{}
	if opts, ok := tableOptions.(*metav1.TableOptions); !ok || !opts.NoHeaders {
		t.ColumnDefinitions = c.columns
	}
	addRow := func(o runtime.Object) error {
		cells, err := c.row(o)
		if err != nil {
			return err
		}
		t.Rows = append(t.Rows, metav1.TableRow{Cells: cells, Object: runtime.RawExtension{Object: o}})
		return nil
	}
	if meta.IsListType(obj) {
		if err := meta.EachListItem(obj, addRow); err != nil {
			return nil, fmt.Errorf("render table rows: %w", err)
		}
		if l, err := meta.ListAccessor(obj); err == nil {
			t.ResourceVersion = l.GetResourceVersion()
			t.Continue = l.GetContinue()
			t.RemainingItemCount = l.GetRemainingItemCount()
		}
		return t, nil
	}
	if err := addRow(obj); err != nil {
		return nil, fmt.Errorf("render table row: %w", err)
	}
	if m, err := meta.Accessor(obj); err == nil {
		t.ResourceVersion = m.GetResourceVersion()
	}
	return t, nil
}

// Age renders a creation timestamp as kubectl does ("5m", "3d").
func Age(ts metav1.Time) string {
	if ts.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(metav1.Now().Sub(ts.Time))
}

// Column is shorthand for a column definition; wide columns have priority 1.
func Column(name, typ, description string, wide bool) metav1.TableColumnDefinition {
	c := metav1.TableColumnDefinition{Name: name, Type: typ, Description: description}
	if name == "Name" {
		c.Format = "name"
	}
	if wide {
		c.Priority = 1
	}
	return c
}

// ContainersAndImages renders the CONTAINERS and IMAGES columns of a
// workload's template, comma-separated as kubectl shows them.
func ContainersAndImages(containers []core.Container) (names, images string) {
	n := make([]string, len(containers))
	im := make([]string, len(containers))
	for i, c := range containers {
		n[i], im[i] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(im, ",")
}

// Selector renders a label selector as kubectl shows it; <none> when empty.
func Selector(sel *metav1.LabelSelector) string {
	return metav1.FormatLabelSelector(sel)
}
