#!/usr/bin/env bash
# The memory of an idle `skiff up`: starts it on a fresh data dir, waits for
# its node to be Ready, lets it idle, then prints every process of the tree
# with its RSS and PSS (from /proc/<pid>/smaps_rollup) and the sums.
#
# RSS counts a page in every process that maps it, so processes running one
# binary count its shared text once each; PSS divides a shared page among the
# processes that map it, and its sum is what the tree really holds.
#
# Usage: hack/footprint.sh [BIN_DIR]
#   IDLE   seconds to idle after the node is Ready before measuring (60)
#   PORT   the API server's port (16743); the kubelet's, scheduler's and controller
#          manager's are PORT+7, PORT+16 and PORT+14
#   UP_ARGS extra arguments for skiff up
#   COMPARE_BINARIES=1 also runs BIN_DIR/skiff-scheduler, the scheduler's own
#          binary, beside the tree for as long, and prints it apart: what a
#          component costs when it does not share skiff's text pages
set -o errexit -o nounset -o pipefail

bin=$(cd "${1:-bin}" && pwd)
idle=${IDLE:-60}
port=${PORT:-16743}
dir=$(mktemp -d)
trap 'kill -TERM "${up}" 2>/dev/null; wait "${up}" 2>/dev/null; rm -rf "${dir}"' EXIT

# shellcheck disable=SC2086
"${bin}/skiff" up --data-dir "${dir}/data" --secure-port "${port}" --kubelet-port $((port + 7)) \
    --scheduler-secure-port $((port + 16)) --controller-manager-secure-port $((port + 14)) ${UP_ARGS:-} >"${dir}/up.log" 2>&1 &
up=$!
kubeconfig="${dir}/data/admin.kubeconfig"
ready=0
for _ in $(seq 1 240); do
    ready=$(kubectl --kubeconfig "${kubeconfig}" get nodes --no-headers 2>/dev/null | grep -c ' Ready ' || true)
    [ "${ready}" -ge 1 ] && break
    sleep 0.5
done
if [ "${ready}" -lt 1 ]; then
    echo "skiff up did not get a Ready node; its log:" >&2
    cat "${dir}/up.log" >&2
    exit 1
fi
if [ "${COMPARE_BINARIES:-}" = 1 ]; then
    "${bin}/skiff-scheduler" --kubeconfig "${dir}/data/scheduler.kubeconfig" --leader-elect=false \
        --bind-address=127.0.0.1 --secure-port $((port + 26)) --client-ca-file "${dir}/data/pki/ca.crt" \
        >"${dir}/skiff-scheduler.log" 2>&1 &
    own=$!
    trap 'kill -TERM "${own}" "${up}" 2>/dev/null; wait "${up}" 2>/dev/null; rm -rf "${dir}"' EXIT
fi
sleep "${idle}"

# descendants PID: PID and every process below it.
descendants() {
    echo "$1"
    local child
    for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        descendants "${child}"
    done
}

# kB of a field of smaps_rollup.
field() { awk -v f="$2:" '$1 == f {print $2}' /proc/"$1"/smaps_rollup 2>/dev/null || echo 0; }

# row PID NAME: one process's line; sets rss, pss and priv (kB).
row() {
    local exe
    exe=$(basename "$(readlink /proc/"$1"/exe)")
    rss=$(field "$1" Rss) pss=$(field "$1" Pss)
    priv=$(( $(field "$1" Private_Clean) + $(field "$1" Private_Dirty) ))
    printf '%-8s %-26s %-22s %9.1f %9.1f %9.1f\n' "$1" "$2" "${exe}" \
        "$(bc -l <<<"${rss}/1024")" "$(bc -l <<<"${pss}/1024")" "$(bc -l <<<"${priv}/1024")"
}

echo "skiff up idle ${idle}s after its node was Ready ($(nproc) cores, $(uname -r))"
printf '%-8s %-26s %-22s %9s %9s %9s\n' PID PROCESS BINARY "RSS MiB" "PSS MiB" "PRIV MiB"
rss_sum=0 pss_sum=0 priv_sum=0
for pid in $(descendants "${up}"); do
    [ -r /proc/"${pid}"/smaps_rollup ] || continue
    # The component: skiff's hidden subcommand, or the binary's name.
    name=$(tr '\0' ' ' </proc/"${pid}"/cmdline | awk '{print $2}')
    case "${name}" in -*|"") name=$(basename "$(readlink /proc/"${pid}"/exe)") ;; esac
    row "${pid}" "${name}"
    rss_sum=$((rss_sum + rss)) pss_sum=$((pss_sum + pss)) priv_sum=$((priv_sum + priv))
done
printf '%-58s %9.1f %9.1f %9.1f\n' "whole tree" \
    "$(bc -l <<<"${rss_sum}/1024")" "$(bc -l <<<"${pss_sum}/1024")" "$(bc -l <<<"${priv_sum}/1024")"
if [ -n "${own:-}" ]; then
    echo "beside the tree, for comparison:"
    row "${own}" "scheduler (own binary)"
fi
