/*
Copyright The skiff Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Command models-schema writes skiff's generated OpenAPI definitions
// (pkg/generated/openapi) as one OpenAPI v2 document on standard output.
// hack/update-codegen.sh hands that document to applyconfiguration-gen
// (--applyconfig-openapi-schema), which embeds the structured-merge-diff
// schema in pkg/generated/applyconfiguration/internal. Without it that schema
// is empty: fake.NewClientset's field-managed tracker cannot convert objects
// and the Extract<Kind> functions are not generated.
//
// The definitions are keyed by OpenAPI model name, as skiff-apiserver serves
// them. applyconfiguration-gen looks each client type up under the
// REST-friendly form of its Go path, and the fake clientset's type converter
// under the name runtime.Scheme.ToOpenAPIDefinitionName returns; the
// +k8s:openapi-model-package tag in each group's v1alpha1/doc.go makes the
// two the same name. This command fails if a kind registered in skiff's
// scheme has no definition under that name, since applyconfiguration-gen
// would otherwise silently leave the kind out of the schema.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/util"
	"k8s.io/kube-openapi/pkg/validation/spec"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	corev1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/openapi"
)

func main() {
	data, err := modelsSchema()
	if err != nil {
		fmt.Fprintf(os.Stderr, "models-schema: %v\n", err)
		os.Exit(1)
	}
	if _, err := os.Stdout.Write(data); err != nil {
		fmt.Fprintf(os.Stderr, "models-schema: writing the schema: %v\n", err)
		os.Exit(1)
	}
}

// modelsSchema returns the OpenAPI v2 document, as JSON, that holds every
// generated definition.
func modelsSchema() ([]byte, error) {
	ref := func(name string) spec.Ref {
		return spec.MustCreateRef("#/definitions/" + definitionName(name))
	}
	defs := map[string]spec.Schema{}
	for name, def := range openapi.GetOpenAPIDefinitions(ref) {
		defs[definitionName(name)] = v2Schema(def)
	}
	if err := checkKinds(defs); err != nil {
		return nil, err
	}

	doc := &spec.Swagger{SwaggerProps: spec.SwaggerProps{
		Swagger:     "2.0",
		Info:        &spec.Info{InfoProps: spec.InfoProps{Title: "skiff", Version: "unversioned"}},
		Definitions: defs,
	}}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encoding the OpenAPI document: %w", err)
	}
	return data, nil
}

// definitionName returns the name a definition is published under. Types
// with a model name (all of skiff's and apimachinery's) are keyed by it
// already; a type without one is keyed by its Go path, which gets the
// REST-friendly form the API server would give it. Model names must not go
// through ToRESTFriendlyName: having no slash, they would come out reversed.
func definitionName(name string) string {
	if strings.Contains(name, "/") {
		return util.ToRESTFriendlyName(name)
	}
	return name
}

// v2Schema returns the OpenAPI v2 form of a definition: openapi-gen embeds a
// separate v2 schema for types whose v3 schema uses v3-only constructs, and
// applyconfiguration-gen reads v2.
func v2Schema(def common.OpenAPIDefinition) spec.Schema {
	if embedded, ok := def.Schema.Extensions[common.ExtensionV2Schema]; ok {
		if s, ok := embedded.(spec.Schema); ok {
			return s
		}
	}
	return def.Schema
}

// groups are skiff's API groups: each one's scheme builder, version, and a
// type of its package (the kinds apimachinery registers in every group, and
// the autoscaling/v1 Scale of apps, are not skiff's to check).
var groups = []struct {
	addToScheme func(*runtime.Scheme) error
	version     schema.GroupVersion
	pkgPath     string
}{
	{corev1alpha1.AddToScheme, corev1alpha1.SchemeGroupVersion, reflect.TypeFor[corev1alpha1.Pod]().PkgPath()},
	{appsv1alpha1.AddToScheme, appsv1alpha1.SchemeGroupVersion, reflect.TypeFor[appsv1alpha1.Deployment]().PkgPath()},
}

// checkKinds fails unless every kind in skiff's API groups has a definition
// under the name applyconfiguration-gen looks up (the REST-friendly Go path)
// and that name is also its model name, which the fake clientset's type
// converter looks up.
func checkKinds(defs map[string]spec.Schema) error {
	for _, g := range groups {
		if err := checkGroupKinds(defs, g.addToScheme, g.version, g.pkgPath); err != nil {
			return err
		}
	}
	return nil
}

func checkGroupKinds(defs map[string]spec.Schema, addToScheme func(*runtime.Scheme) error, gv schema.GroupVersion, pkgPath string) error {
	scheme := runtime.NewScheme()
	if err := addToScheme(scheme); err != nil {
		return fmt.Errorf("building the %s scheme: %w", gv, err)
	}
	kinds := scheme.KnownTypes(gv)
	names := make([]string, 0, len(kinds))
	for kind := range kinds {
		names = append(names, kind)
	}
	sort.Strings(names)

	for _, kind := range names {
		t := kinds[kind]
		if t.PkgPath() != pkgPath {
			continue
		}
		goName := util.ToRESTFriendlyName(t.PkgPath() + "." + t.Name())
		modelName, err := scheme.ToOpenAPIDefinitionName(gv.WithKind(kind))
		if err != nil {
			return fmt.Errorf("model name of kind %s: %w", kind, err)
		}
		if modelName != goName {
			return fmt.Errorf("kind %s: model name %s differs from %s, the name applyconfiguration-gen looks up; fix +k8s:openapi-model-package", kind, modelName, goName)
		}
		if _, ok := defs[goName]; !ok {
			return fmt.Errorf("kind %s: no generated OpenAPI definition named %s", kind, goName)
		}
	}
	return nil
}
