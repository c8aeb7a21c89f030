package v1alpha1

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
)

// addFieldLabelConversionFuncs declares the field selectors each kind
// accepts, as apps/v1 does, so a request naming any other field fails with
// 400 instead of matching nothing.
func addFieldLabelConversionFuncs(scheme *runtime.Scheme) error {
	kinds := map[string][]string{
		"ReplicaSet": {"status.replicas"},
		"Deployment": nil,
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
