# skiff's build. `make build` puts every binary in bin/, `make test` runs the
# whole suite, `make codegen` regenerates, `make verify` checks what CI checks.

SHELL := /usr/bin/env bash
GO ?= go
BIN := bin
COMMANDS := skiff-apiserver skiff-scheduler skiff-kubelet skiff kubectl-skiff

# Versions are stamped in the v1.37 line (the k8s.io libraries' release), so
# kubectl can parse /version and the server's emulation range accepts it.
GIT_COMMIT := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
GIT_COUNT := $(shell git rev-list --count HEAD 2>/dev/null || echo 0)
GIT_TREE_STATE := $(shell test -z "$$(git status --porcelain 2>/dev/null)" && echo clean || echo dirty)
VERSION ?= v1.37.2-skiff.$(GIT_COUNT)
BUILD_DATE := $(shell date -u +'%Y-%m-%dT%H:%M:%SZ')
VERSION_PKG := k8s.io/component-base/version
LDFLAGS := -s -w \
	-X $(VERSION_PKG).gitVersion=$(VERSION) \
	-X $(VERSION_PKG).gitMajor=1 \
	-X $(VERSION_PKG).gitMinor=37 \
	-X $(VERSION_PKG).gitCommit=$(GIT_COMMIT) \
	-X $(VERSION_PKG).gitTreeState=$(GIT_TREE_STATE) \
	-X $(VERSION_PKG).buildDate=$(BUILD_DATE)

.PHONY: all build test test-unit test-e2e codegen verify vet fmt clean $(COMMANDS)

all: build

build: $(COMMANDS)

$(COMMANDS):
	@if [ -d ./cmd/$@ ]; then $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/$@ ./cmd/$@; fi

# The whole suite: unit, integration and end-to-end (the e2e tests use bin/).
test: build
	SKIFF_BIN_DIR=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 40m ./...

test-unit:
	$(GO) test -count=1 ./pkg/...

test-e2e: build
	SKIFF_BIN_DIR=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 30m ./test/e2e/...

codegen:
	hack/update-codegen.sh

verify: vet
	hack/verify-codegen.sh
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

clean:
	rm -rf $(BIN) _output
