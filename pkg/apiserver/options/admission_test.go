package options

import (
	"strings"
	"testing"
)

func TestDisableAdmissionPlugins(t *testing.T) {
	o := NewOptions()
	o.DisableAdmissionPlugins = []string{"NamespaceLifecycle", "AlwaysPullImages"}
	err := o.Validate()
	if err == nil || !strings.Contains(err.Error(), `unknown plugin "AlwaysPullImages"`) || strings.Contains(err.Error(), `"NamespaceLifecycle"`) {
		t.Errorf("Validate = %v, want only AlwaysPullImages refused", err)
	}
	if o.admissionEnabled("NamespaceLifecycle") || !o.admissionEnabled("NodeRestriction") {
		t.Errorf("enabled: NamespaceLifecycle %v, NodeRestriction %v; want false, true",
			o.admissionEnabled("NamespaceLifecycle"), o.admissionEnabled("NodeRestriction"))
	}
}
