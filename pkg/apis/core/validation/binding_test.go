package validation

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/core"
)

// TestValidatePodBindingAnnotations: a binding's annotations are copied onto
// the pod on a path that does not validate the pod again, so they must be
// valid pod annotations already.
func TestValidatePodBindingAnnotations(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		want        []want
	}{
		{name: "valid annotations", annotations: map[string]string{"example.com/scheduled-by": "me"}},
		{name: "a bad key", annotations: map[string]string{"bad key": "x"}, want: []want{invalid("metadata.annotations")}},
		{name: "too large", annotations: map[string]string{"big": strings.Repeat("x", 256*1024+1)},
			want: []want{{typ: field.ErrorTypeTooLong, field: "metadata.annotations"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &core.Binding{
				ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Annotations: tc.annotations},
				Target:     core.ObjectReference{Kind: "Node", Name: "node-1"},
			}
			expectErrors(t, ValidatePodBinding(b), tc.want...)
		})
	}
}
