#!/usr/bin/env bash
# Generates the protobuf serialization of skiff's versioned API types with
# k8s.io/code-generator's go-to-protobuf: generated.proto and generated.pb.go
# beside each pkg/apis/<group>/<version>/types.go, and the protobuf struct
# tags go-to-protobuf writes into those types. hack/update-codegen.sh runs it;
# it needs protoc (hack/install-protoc.sh installs it).
#
# kube_codegen.sh v0.37 has no protobuf function, so this does what
# kubernetes' hack/_update-generated-protobuf-dockerized.sh does, adapted to
# a module outside GOPATH: go-to-protobuf reads and writes
# <output-dir>/<import path>/generated.proto and runs protoc with that
# directory on the include path, so it is given a GOPATH-shaped directory of
# symlinks: skiff's module, apimachinery's module (whose generated.proto files
# skiff's import; it is read-only in the module cache and nothing is written
# there), and gogo/protobuf for gogo.proto and descriptor.proto.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
MODULE=skiff.dev/skiff
export GOBIN=${GOBIN:-${ROOT}/_output/bin}
mkdir -p "${GOBIN}"
BOILERPLATE="${ROOT}/hack/boilerplate.go.txt"

command -v protoc >/dev/null || { echo "update-protobuf: protoc is missing; run hack/install-protoc.sh" >&2; exit 1; }

# The versions tools.go pins: go-to-protobuf, the protoc plugin it runs,
# and the goimports it runs on protoc's output.
go install k8s.io/code-generator/cmd/go-to-protobuf \
    k8s.io/code-generator/cmd/go-to-protobuf/protoc-gen-gogo \
    golang.org/x/tools/cmd/goimports

# Every versioned group: a group other work adds is generated with no edit here.
mapfile -t pkgs < <(find pkg/apis -mindepth 3 -maxdepth 3 -name types.go -path '*/v[0-9]*/types.go' -printf '%h\n' | sort)
[ ${#pkgs[@]} -gt 0 ] || { echo "update-protobuf: no versioned API packages under pkg/apis" >&2; exit 1; }

# A stale generated.pb.go (for a field since removed) would stop the
# packages from loading; go-to-protobuf writes them anew.
for p in "${pkgs[@]}"; do rm -f "${p}/generated.pb.go"; done

gopath=$(mktemp -d)
trap 'rm -rf "${gopath}"' EXIT
link() { mkdir -p "$(dirname "${gopath}/$1")" && ln -s "$2" "${gopath}/$1"; }
link "${MODULE}" "${ROOT}"
link k8s.io/apimachinery "$(go list -m -f '{{.Dir}}' k8s.io/apimachinery)"
gogo=$(go list -m -f '{{.Dir}}' github.com/gogo/protobuf)
link github.com/gogo/protobuf "${gogo}"

# apimachinery's packages are imported, not generated ("-").
apimachinery=(
    -k8s.io/apimachinery/pkg/util/intstr
    -k8s.io/apimachinery/pkg/api/resource
    -k8s.io/apimachinery/pkg/runtime/schema
    -k8s.io/apimachinery/pkg/runtime
    -k8s.io/apimachinery/pkg/apis/meta/v1
)
packages=()
for p in "${pkgs[@]}"; do packages+=("${MODULE}/${p}"); done

PATH="${GOBIN}:${PATH}" go-to-protobuf \
    --go-header-file "${BOILERPLATE}" \
    --output-dir "${gopath}" \
    --proto-import "${gopath}" \
    --proto-import "${gogo}/protobuf" \
    --apimachinery-packages "$(IFS=,; echo "${apimachinery[*]}")" \
    --packages "$(IFS=,; echo "${packages[*]}")"
