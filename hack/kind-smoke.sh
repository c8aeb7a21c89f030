#!/usr/bin/env bash
# Smoke test of skiff running in kind as an aggregated API server (after
# `make kind-deploy`), with kubectl through the host's API server only: the
# simulated nodes report Ready, a pod is bound to one of them and runs, and
# it is deleted.
#
#   KUBECTL_CONTEXT  kubeconfig context of the kind cluster (kind-skiff)
#   SKIFF_NODES      simulated nodes to expect (10, as artifacts/kind runs)
#   TIMEOUT          seconds to wait for each step (120)
set -euo pipefail

context=${KUBECTL_CONTEXT:-kind-skiff}
want_nodes=${SKIFF_NODES:-10}
timeout=${TIMEOUT:-120}
ns=default
pod=smoke-$(date +%s)-$$

k() { kubectl --context "$context" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() { k -n "$ns" delete pods.core.skiff.dev "$pod" --ignore-not-found --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT

# until_ok CMD...: run CMD every second until it succeeds or $timeout passes.
until_ok() {
	local deadline=$((SECONDS + timeout))
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 1
	done
}

echo "== APIServices v1alpha1.core.skiff.dev and v1alpha1.apps.skiff.dev are Available"
k wait --for=condition=Available apiservice/v1alpha1.core.skiff.dev apiservice/v1alpha1.apps.skiff.dev --timeout="${timeout}s"

echo "== $want_nodes simulated nodes are Ready"
ready_nodes() {
	k get nodes.core.skiff.dev \
		-o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
		awk '$2 == "True"' | wc -l
}
enough_nodes() { (($(ready_nodes) >= want_nodes)); }
until_ok enough_nodes || fail "only $(ready_nodes) of $want_nodes nodes Ready after ${timeout}s"
k get nodes.core.skiff.dev

echo "== a pod is created, bound and Running"
k apply -f - <<YAML
apiVersion: core.skiff.dev/v1alpha1
kind: Pod
metadata:
  name: $pod
  namespace: $ns
spec:
  containers:
  - name: main
    image: registry.example/smoke:1
    command: ["sleep", "3600"]
YAML
k -n "$ns" wait --for=jsonpath='{.status.phase}'=Running "pods.core.skiff.dev/$pod" --timeout="${timeout}s"
node=$(k -n "$ns" get pods.core.skiff.dev "$pod" -o jsonpath='{.spec.nodeName}')
[[ $node == skiff-sim-* ]] || fail "pod bound to ${node:-nothing}, want one of the simulated nodes"
k -n "$ns" get pods.core.skiff.dev "$pod" -o wide

echo "== the pod is deleted"
k -n "$ns" delete pods.core.skiff.dev "$pod" --timeout="${timeout}s"
gone() { ! k -n "$ns" get pods.core.skiff.dev "$pod" >/dev/null 2>&1; }
until_ok gone || fail "pod $pod still exists ${timeout}s after delete"

echo "PASS: skiff in kind serves nodes and runs pods through the host API server"
