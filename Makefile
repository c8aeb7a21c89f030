# skiff's build. `make build` puts every binary in bin/, `make test` runs the
# whole suite, `make codegen` regenerates, `make verify` checks what CI checks.

SHELL := /usr/bin/env bash
GO ?= go
# Every build and test links k8s.io/apimachinery with its fieldsv1string tag
# (upstream's opt-in since v0.37): a managedFields entry's field set is an
# interned string, so the thousands of identical pods the API server's watch
# cache and history hold share one copy of each set instead of one each.
ifeq ($(findstring fieldsv1string,$(GOFLAGS)),)
export GOFLAGS := $(strip $(GOFLAGS) -tags=fieldsv1string)
endif
BIN := bin
COMMANDS := skiff-apiserver skiff-scheduler skiff-controller-manager skiff-kubelet skiff kubectl-skiff skiff-bench

# Versions are stamped in the v1.37 line (the k8s.io libraries' release), so
# kubectl can parse /version and the server's emulation range accepts it.
GIT_COMMIT := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
GIT_COUNT := $(shell git rev-list --count HEAD 2>/dev/null || echo 0)
GIT_TREE_STATE := $(shell test -z "$$(git status --porcelain 2>/dev/null)" && echo clean || echo dirty)
VERSION ?= v1.37.2-skiff.$(GIT_COUNT)
# The commit's date rather than the clock's: the same tree links the same
# binaries, so `make build` with no change relinks nothing.
BUILD_DATE := $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo 1970-01-01T00:00:00Z)
VERSION_PKG := k8s.io/component-base/version
LDFLAGS := -s -w \
	-X $(VERSION_PKG).gitVersion=$(VERSION) \
	-X $(VERSION_PKG).gitMajor=1 \
	-X $(VERSION_PKG).gitMinor=37 \
	-X $(VERSION_PKG).gitCommit=$(GIT_COMMIT) \
	-X $(VERSION_PKG).gitTreeState=$(GIT_TREE_STATE) \
	-X $(VERSION_PKG).buildDate=$(BUILD_DATE)

.PHONY: all build test test-unit test-race test-e2e codegen verify vet fmt clean $(COMMANDS)

all: build

build: $(COMMANDS)

$(COMMANDS):
	@if [ -d ./cmd/$@ ]; then $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/$@ ./cmd/$@; fi

# The whole suite: unit, integration and end-to-end (the e2e tests use bin/).
test: build
	SKIFF_BIN_DIR=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 40m ./...

test-unit:
	$(GO) test -count=1 ./pkg/...

# The scheduler under the race detector: its filters run on many goroutines
# at once and share the cycle's state and their rejection statuses.
test-race:
	$(GO) test -race -count=1 ./pkg/scheduler/...

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

# skiff in kind as an aggregated API server (artifacts/kind). These need a
# Docker engine, kind and kubectl; `make test-aggregated` proves the same
# path without them, against an in-process kube-apiserver.
IMAGE := skiff:dev
KIND_CLUSTER ?= skiff
KIND_KUBECTL := kubectl --context kind-$(KIND_CLUSTER)

.PHONY: image kind-deploy kind-test test-aggregated

image:
	docker build -t $(IMAGE) \
		--build-arg VERSION=$(VERSION) \
		--build-arg GIT_COMMIT=$(GIT_COMMIT) \
		--build-arg GIT_TREE_STATE=$(GIT_TREE_STATE) \
		--build-arg BUILD_DATE=$(BUILD_DATE) \
		.

kind-deploy:
	@kind get clusters 2>/dev/null | grep -qx '$(KIND_CLUSTER)' || kind create cluster --name $(KIND_CLUSTER)
	$(MAKE) image
	kind load docker-image $(IMAGE) --name $(KIND_CLUSTER)
	$(KIND_KUBECTL) apply -k artifacts/kind
	@# A re-run loads a new image under the same tag: restart to pick it up.
	$(KIND_KUBECTL) -n skiff-system rollout restart deployment/skiff-apiserver deployment/skiff-scheduler deployment/skiff-kubelet
	$(KIND_KUBECTL) -n skiff-system rollout status deployment/skiff-apiserver --timeout=180s
	$(KIND_KUBECTL) wait --for=condition=Available apiservice/v1alpha1.core.skiff.dev --timeout=180s

kind-test:
	KUBECTL_CONTEXT=kind-$(KIND_CLUSTER) hack/kind-smoke.sh

# A module of its own (it needs k8s.io/kubernetes); see test/aggregated.
test-aggregated:
	cd test/aggregated && $(GO) test -count=1 -timeout 30m ./...

# The standard benchmark set: skiff up with 100 simulated nodes, 2000 pods,
# every skiff-bench scenario (hack/bench.sh prints the figures).
.PHONY: bench
bench: build
	hack/bench.sh $(BIN)
