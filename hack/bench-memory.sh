#!/usr/bin/env bash
# The API server's memory at scale: `skiff up` with NODES simulated nodes
# (fake runtime), PODS pods started on them and kept, then the churn
# scenario (RATE pods/s for DURATION: create, status, delete) over them. The
# API server's RSS is sampled every second during the churn; printed: its
# RSS when the pods are running, the most and the mean during the churn,
# at its end, and its peak over its whole life (VmHWM); each with its
# anonymous part (RssAnon: heap and stacks) in brackets, the rest being
# file pages mapped from the page cache (skiff's text and the embedded
# etcd's database), which the kernel reclaims under pressure.
#
# Usage: hack/bench-memory.sh [BIN_DIR]
#   NODES (1000)  PODS (10000)  RATE (50)  DURATION (60s)  PORT (16943)
#   UP_ARGS       extra arguments for skiff up
#   PROFILE_DIR   if set, the API server's heap profile at the end goes there
set -o errexit -o nounset -o pipefail

bin=$(cd "${1:-bin}" && pwd)
nodes=${NODES:-1000}
pods=${PODS:-10000}
rate=${RATE:-50}
duration=${DURATION:-60s}
port=${PORT:-16943}
dir=$(mktemp -d)
trap 'kill -TERM "${up}" 2>/dev/null; wait "${up}" 2>/dev/null; rm -rf "${dir}"' EXIT

# shellcheck disable=SC2086
"${bin}/skiff" up --data-dir "${dir}/data" --secure-port "${port}" --kubelet-port 0 \
    --scheduler-secure-port 0 --controller-manager-secure-port 0 \
    --runtime fake --nodes "${nodes}" ${UP_ARGS:-} >"${dir}/up.log" 2>&1 &
up=$!
kubeconfig="${dir}/data/admin.kubeconfig"
ready=0
for _ in $(seq 1 1200); do
    ready=$(kubectl --kubeconfig "${kubeconfig}" get nodes --no-headers 2>/dev/null | grep -c ' Ready ' || true)
    [ "${ready}" -ge "$((nodes + 1))" ] && break
    sleep 0.5
done
echo "skiff up: ${ready} nodes Ready ($(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB)"

# The API server is the child of skiff up that runs the apiserver component.
apiserver=
for child in $(cat /proc/"${up}"/task/*/children); do
    if tr '\0' ' ' </proc/"${child}"/cmdline | grep -q 'apiserver'; then apiserver=${child}; fi
done
[ -n "${apiserver}" ] || { echo "no API server under skiff up" >&2; exit 1; }
# memory prints the API server's RSS and its anonymous part, in kB, from
# one read of its status so that the two describe the same moment.
memory() { awk '/^VmRSS:/{r = $2} /^RssAnon:/{a = $2} END {print r, a}' /proc/"${apiserver}"/status; }
mib() { bc -l <<<"$1/1024" | xargs printf '%.0f'; }

b() { echo; echo "### skiff-bench $*"; "${bin}/skiff-bench" --kubeconfig "${kubeconfig}" "$@"; }
b start --pods "${pods}" --keep
sleep 10
read -r running running_anon < <(memory)

# Sample the API server's RSS once a second while the churn runs.
(
    while kill -0 "${apiserver}" 2>/dev/null; do memory >>"${dir}/samples"; sleep 1; done
) &
sampler=$!
b churn --rate "${rate}" --duration "${duration}" --apiserver-pid "${apiserver}"
kill "${sampler}" 2>/dev/null || true
read -r end end_anon < <(memory)
hwm=$(awk '/^VmHWM:/{print $2}' /proc/"${apiserver}"/status)
read -r max mean max_anon mean_anon < <(awk '{ if ($1 > m) m = $1; if ($2 > a) a = $2; s += $1; t += $2; n++ } END { print m, s / n, a, t / n }' "${dir}/samples")

echo
echo "### API server memory, ${nodes} nodes, ${pods} pods, churn ${rate}/s for ${duration}"
printf '%-44s %8s MiB (%s anonymous)\n' "RSS with the pods running, before the churn" "$(mib "${running}")" "$(mib "${running_anon}")"
printf '%-44s %8s MiB (%s anonymous)\n' "RSS during the churn: most" "$(mib "${max}")" "$(mib "${max_anon}")"
printf '%-44s %8s MiB (%s anonymous)\n' "RSS during the churn: mean" "$(mib "${mean}")" "$(mib "${mean_anon}")"
printf '%-44s %8s MiB (%s anonymous)\n' "RSS at the end of the churn" "$(mib "${end}")" "$(mib "${end_anon}")"
printf '%-44s %8s MiB\n' "peak RSS over its life (VmHWM)" "$(mib "${hwm}")"
if [ -n "${PROFILE_DIR:-}" ]; then
    mkdir -p "${PROFILE_DIR}"
    kubectl --kubeconfig "${kubeconfig}" get --raw /debug/pprof/heap >"${PROFILE_DIR}/apiserver.heap"
    echo "heap profile: ${PROFILE_DIR}/apiserver.heap"
fi
