#!/usr/bin/env bash
# The scheduler's figures on one machine: `skiff up` (fake runtime, one
# simulated node), then skiff-bench schedule-affinity, schedule-spread and
# schedule-preempt against its scheduler, and the basic `schedule` scenario
# against this scheduler and, when OLD_SKIFF is given, against an older
# skiff's scheduler (its binary run beside it under another
# --scheduler-name), alternating ROUNDS times, for the ratio.
#
# Usage: hack/bench-scheduler.sh [BIN_DIR]
#   NODES (500)  ZONES (5)  PODS (5000)  ROUNDS (2)  OLD_SKIFF (path to an older bin/skiff)
#   SCENARIOS (schedule-affinity schedule-spread schedule-preempt)
set -o errexit -o nounset -o pipefail

bin=${1:-bin}
nodes=${NODES:-500}
zones=${ZONES:-5}
pods=${PODS:-5000}
rounds=${ROUNDS:-2}
old=${OLD_SKIFF:-}
dir=$(mktemp -d)
port=${PORT:-16653}
pids=()
trap 'for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "${dir}"' EXIT

"${bin}/skiff" up --data-dir "${dir}/data" --secure-port "${port}" --kubelet-port 0 \
    --runtime fake --nodes 1 >"${dir}/up.log" 2>&1 &
pids+=($!)
kubeconfig="${dir}/data/admin.kubeconfig"
for _ in $(seq 1 600); do
    kubectl --kubeconfig "${kubeconfig}" get nodes --no-headers 2>/dev/null | grep -q ' Ready ' && break
    sleep 0.5
done
scheduler=$(pgrep -f "skiff scheduler --kubeconfig ${dir}/data/" | head -1)
echo "skiff up ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)); scheduler pid ${scheduler}"

if [ -n "${old}" ]; then
    # On one processor, as skiff up runs this build's scheduler, so that the
    # ratio is of the code and not of GOMAXPROCS.
    GOMAXPROCS=${GOMAXPROCS:-1} "${old}" scheduler --kubeconfig "${dir}/data/scheduler.kubeconfig" --leader-elect=false \
        --scheduler-name old-scheduler --bind-address 127.0.0.1 --secure-port 0 >"${dir}/old-scheduler.log" 2>&1 &
    oldpid=$!
    pids+=("${oldpid}")
    echo "old scheduler ${old}: pid ${oldpid}"
fi

b() { echo; echo "### skiff-bench $*"; "${bin}/skiff-bench" --kubeconfig "${kubeconfig}" --timeout 30m "$@"; }

for s in ${SCENARIOS:-schedule-affinity schedule-spread schedule-preempt}; do
    b "$s" --nodes "${nodes}" --zones "${zones}" --pods "${pods}" --scheduler-pid "${scheduler}"
done
for r in $(seq 1 "${rounds}"); do
    b schedule --nodes "${nodes}" --pods "${pods}" --scheduler-pid "${scheduler}"
    if [ -n "${old}" ]; then
        b schedule --nodes "${nodes}" --pods "${pods}" --scheduler-name old-scheduler --scheduler-pid "${oldpid}"
    fi
done
