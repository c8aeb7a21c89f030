#!/usr/bin/env bash
# Installs protoc, which hack/update-codegen.sh runs (through go-to-protobuf)
# to generate the protobuf serialization of skiff's API types: Debian's
# protobuf-compiler. Idempotent: installs only when protoc is missing, and
# says what it did. Uses sudo when not root.
set -o errexit -o nounset -o pipefail

if command -v protoc >/dev/null; then
	echo "install-protoc: $(protoc --version) already installed"
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "install-protoc: need root or sudo to install protobuf-compiler" >&2; exit 1; }
	sudo=(sudo)
fi
echo "install-protoc: installing protobuf-compiler"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends protobuf-compiler

command -v protoc >/dev/null || { echo "install-protoc: protoc not on PATH after install" >&2; exit 1; }
echo "install-protoc: $(protoc --version)"
