package v1alpha1

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
)

// PodSelectableFields are the field-selector labels pods answer to beyond
// metadata.name and metadata.namespace.
var PodSelectableFields = []string{"spec.nodeName", "status.phase", "spec.schedulerName"}

// addFieldLabelConversionFuncs declares the field selectors each kind accepts,
// so a request naming any other field fails with 400 instead of matching
// nothing.
func addFieldLabelConversionFuncs(scheme *runtime.Scheme) error {
	kinds := map[string][]string{
		"Pod":           PodSelectableFields,
		"Node":          {"spec.unschedulable"},
		"Lease":         nil,
		"PriorityClass": nil,
	}
	for kind, fields := range kinds {
		allowed := map[string]bool{"metadata.name": true, "metadata.namespace": true}
		for _, f := range fields {
			allowed[f] = true
		}
		if err := scheme.AddFieldLabelConversionFunc(SchemeGroupVersion.WithKind(kind),
			func(label, value string) (string, string, error) {
				if allowed[label] {
					return label, value, nil
				}
				return "", "", fmt.Errorf("field label not supported: %s", label)
			}); err != nil {
			return err
		}
	}
	return nil
}
