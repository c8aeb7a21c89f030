// Package rules holds the strategy behaviour most skiff kinds share, so each
// kind's strategy states only what is particular to it.
package rules

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/storage/names"
)

// Defaults is embedded by every strategy: it types objects with the scheme,
// generates names for generateName, gives no warnings, canonicalizes
// nothing, never creates on update, and allows updates without a
// resourceVersion. A kind that needs otherwise overrides the method.
type Defaults struct {
	runtime.ObjectTyper
	names.NameGenerator
}

// NewDefaults returns the shared behaviour for typer's scheme.
func NewDefaults(typer runtime.ObjectTyper) Defaults {
	return Defaults{ObjectTyper: typer, NameGenerator: names.SimpleNameGenerator}
}

func (Defaults) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }

func (Defaults) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

func (Defaults) Canonicalize(runtime.Object) {}

func (Defaults) AllowCreateOnUpdate(context.Context) bool { return false }

func (Defaults) AllowUnconditionalUpdate(context.Context) bool { return true }
