//go:build tools

// Package tools pins the code generators in go.mod, so hack/update-codegen.sh
// runs the version the module requires: kube_codegen.sh's generators, and
// go-to-protobuf with the protoc plugin it drives (protoc-gen-gogo) and the
// goimports it runs on protoc's output.
package tools

import (
	_ "golang.org/x/tools/cmd/goimports"
	_ "k8s.io/code-generator"
	_ "k8s.io/code-generator/cmd/go-to-protobuf"
	_ "k8s.io/code-generator/cmd/go-to-protobuf/protoc-gen-gogo"
)
