package validation

import (
	"fmt"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/core"
)

// maxListedChanges bounds the changes a forbidden-update error lists, so a
// huge pod cannot make a huge error.
const maxListedChanges = 10

var containersType = reflect.TypeOf([]core.Container(nil))

// describeSpecChanges names the fields where two pod specs differ, with the
// old and new value of simple fields, like
// `spec.restartPolicy: "Always" -> "Never", spec.containers[0].command`.
// It walks the fields once (a text diff of the two specs would take seconds
// on a pod with thousands of containers).
func describeSpecChanges(oldSpec, newSpec *core.PodSpec, specPath *field.Path) string {
	var changes []string
	compareFields(reflect.ValueOf(oldSpec).Elem(), reflect.ValueOf(newSpec).Elem(), specPath, &changes)
	if len(changes) > maxListedChanges {
		more := len(changes) - maxListedChanges
		changes = append(changes[:maxListedChanges], fmt.Sprintf("and %d more", more))
	}
	return strings.Join(changes, ", ")
}

// compareFields appends a description of each differing field of two structs
// of the same type, descending into containers matched by index.
func compareFields(oldV, newV reflect.Value, path *field.Path, changes *[]string) {
	t := oldV.Type()
	for i := 0; i < t.NumField(); i++ {
		o, n := oldV.Field(i), newV.Field(i)
		if apiequality.Semantic.DeepEqual(o.Interface(), n.Interface()) {
			continue
		}
		p := path.Child(jsonName(t.Field(i).Name))
		if o.Type() == containersType && o.Len() == n.Len() {
			for j := 0; j < o.Len(); j++ {
				compareFields(o.Index(j), n.Index(j), p.Index(j), changes)
			}
			continue
		}
		*changes = append(*changes, describeChange(p, o, n))
	}
}

// describeChange shows old and new values of scalars (and pointers to
// them); for anything bigger the path says enough.
func describeChange(p *field.Path, o, n reflect.Value) string {
	ov, oOK := scalar(o)
	nv, nOK := scalar(n)
	if oOK && nOK {
		return fmt.Sprintf("%s: %s -> %s", p, ov, nv)
	}
	return p.String()
}

func scalar(v reflect.Value) (string, bool) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "null", true
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		return fmt.Sprintf("%q", v.String()), true
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Bool:
		return fmt.Sprint(v.Interface()), true
	}
	return "", false
}

// jsonName turns a Go field name into its JSON name; every PodSpec and
// Container field is the Go name with a lower-case first letter.
func jsonName(goName string) string {
	r, size := utf8.DecodeRuneInString(goName)
	return string(unicode.ToLower(r)) + goName[size:]
}
