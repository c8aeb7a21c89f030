#!/usr/bin/env bash
# The standard benchmark set on one machine: `skiff up` with 100 simulated
# nodes (fake runtime) and 2000 pods, every skiff-bench scenario in turn,
# each printing its figures. Usage: hack/bench.sh [BIN_DIR]
#
#   NODES  simulated nodes (100)     PODS  pods per scenario (2000)
set -o errexit -o nounset -o pipefail

bin=${1:-bin}
nodes=${NODES:-100}
pods=${PODS:-2000}
dir=$(mktemp -d)
port=${PORT:-16643}
trap 'kill -TERM "${up}" 2>/dev/null; wait "${up}" 2>/dev/null; rm -rf "${dir}"' EXIT

"${bin}/skiff" up --data-dir "${dir}/data" --secure-port "${port}" --kubelet-port 0 \
    --runtime fake --nodes "${nodes}" >"${dir}/up.log" 2>&1 &
up=$!
kubeconfig="${dir}/data/admin.kubeconfig"
for _ in $(seq 1 600); do
    ready=$(kubectl --kubeconfig "${kubeconfig}" get nodes --no-headers 2>/dev/null | grep -c ' Ready ' || true)
    [ "${ready}" -ge "$((nodes + 1))" ] && break
    sleep 0.5
done
echo "skiff up: ${ready} nodes Ready ($(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB)"

apiserver=$(pgrep -f "skiff apiserver --data-dir ${dir}/data" | head -1)
scheduler=$(pgrep -f "skiff scheduler --kubeconfig ${dir}/data/" | head -1)
b() { echo; echo "### skiff-bench $*"; "${bin}/skiff-bench" --kubeconfig "${kubeconfig}" "$@"; }

b create --pods "${pods}" --workers 8
b schedule --nodes "${nodes}" --pods "${pods}" --scheduler-pid "${scheduler}"
b start --pods "${pods}"
b list --pods "${pods}" --nodes "${nodes}"
b watch --watchers "${nodes}"
b churn --rate 50 --duration 60s --apiserver-pid "${apiserver}"
