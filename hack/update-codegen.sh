#!/usr/bin/env bash
# Regenerates every generated file: deepcopy, defaulters and conversions
# beside the API types, their protobuf serialization (generated.proto,
# generated.pb.go and the protobuf struct tags, by hack/update-protobuf.sh),
# OpenAPI definitions, and the clientset, listers, informers and apply
# configurations under pkg/generated.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
CODEGEN_PKG=${CODEGEN_PKG:-$(go list -m -f '{{.Dir}}' k8s.io/code-generator)}
MODULE=skiff.dev/skiff
# The generators install into GOBIN; keep them out of the user's PATH dirs.
export GOBIN=${GOBIN:-${ROOT}/_output/bin}
mkdir -p "${GOBIN}"

# shellcheck source=/dev/null
source "${CODEGEN_PKG}/kube_codegen.sh"

BOILERPLATE="${ROOT}/hack/boilerplate.go.txt"

# A generated.pb.go left from types since changed may no longer compile, and
# would stop every generator from loading the package: it is removed first
# and written anew after the helpers.
rm -f pkg/apis/*/v*/generated.pb.go

# apps.skiff.dev embeds core.skiff.dev's PodTemplateSpec: conversion-gen
# finds its conversions in these peers.
kube::codegen::gen_helpers \
    --boilerplate "${BOILERPLATE}" \
    --extra-peer-dir "${MODULE}/pkg/apis/core" \
    --extra-peer-dir "${MODULE}/pkg/apis/core/v1alpha1" \
    "${ROOT}/pkg/apis"

hack/update-protobuf.sh

# apimachinery's own types break a few API rules; those known violations are
# recorded so that new ones in skiff's types fail the run.
REPORT="${ROOT}/api/api-rules/violation_exceptions.list"
# Types served or embedded as k8s.io defines them get OpenAPI definitions
# generated here too; their packages live in the read-only module cache,
# where openapi-gen must write nothing:
#   - the authentication.k8s.io and authorization.k8s.io review types;
#   - autoscaling/v1 Scale (the scale subresource of apps.skiff.dev), and
#     IntOrString (a Deployment's maxSurge and maxUnavailable, probe ports);
#   - core/v1 Namespace and Event, served at /api/v1 in standalone mode.
EXTRA_PKGS=(k8s.io/api/authentication/v1 k8s.io/api/authorization/v1 k8s.io/api/autoscaling/v1 k8s.io/api/core/v1)
KUBE_CODEGEN_READONLY_PKGS+=("${EXTRA_PKGS[@]}")
kube::codegen::gen_openapi \
    --extra-pkgs "${EXTRA_PKGS[0]}" \
    --extra-pkgs "${EXTRA_PKGS[1]}" \
    --extra-pkgs "${EXTRA_PKGS[2]}" \
    --extra-pkgs "${EXTRA_PKGS[3]}" \
    --extra-pkgs k8s.io/apimachinery/pkg/util/intstr \
    --output-dir "${ROOT}/pkg/generated/openapi" \
    --output-pkg "${MODULE}/pkg/generated/openapi" \
    --report-filename "${REPORT}" \
    --output-model-name-file zz_generated.model_name.go \
    ${UPDATE_API_KNOWN_VIOLATIONS:+"--update-report"} \
    --boilerplate "${BOILERPLATE}" \
    "${ROOT}/pkg/apis"

# applyconfiguration-gen needs the OpenAPI definitions just generated, as one
# OpenAPI document, to embed the structured-merge-diff schema that
# fake.NewClientset and the Extract<Kind> functions parse. The document is
# derived entirely from zz_generated.openapi.go and its result is embedded in
# applyconfiguration/internal, so it is a temporary file, not a committed one.
MODELS_SCHEMA=$(mktemp)
trap 'rm -f "${MODELS_SCHEMA}"' EXIT
go run ./hack/tools/models-schema >"${MODELS_SCHEMA}"

# The clientset asks for protobuf, which skiff-apiserver serves for every
# resource; callers that want JSON set ContentType on their rest.Config.
kube::codegen::gen_client \
    --with-watch \
    --prefers-protobuf \
    --with-applyconfig \
    --applyconfig-openapi-schema "${MODELS_SCHEMA}" \
    --output-dir "${ROOT}/pkg/generated" \
    --output-pkg "${MODULE}/pkg/generated" \
    --boilerplate "${BOILERPLATE}" \
    "${ROOT}/pkg/apis"
