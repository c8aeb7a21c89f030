#!/usr/bin/env bash
# JSON against protobuf in one run: for each, a fresh skiff-apiserver storing
# in that media type, skiff-bench's list, watch and create scenarios with
# --kube-api-content-type set to it, then a skiff-scheduler with the same
# flag and the schedule scenario (make bench's 100 nodes / 2000 pods by
# default) ROUNDS times, with the scheduler's CPU time per pod bound read
# by skiff-bench from /proc; the schedule figures are the median of the
# rounds, since one round's CPU per pod moves with the pace the machine
# allows it. Prints each figure side by side with the ratio protobuf/JSON.
# Needs jq.
# Usage: hack/bench-protobuf.sh [BIN_DIR]
#
#   LIST_PODS  pods stored for LIST (5000)   NODES  nodes (100)
#   PODS       pods created and scheduled (2000)   WATCHERS  watches (100)
#   ROUNDS     schedule rounds per media type (3)
set -o errexit -o nounset -o pipefail

bin=${1:-bin}
list_pods=${LIST_PODS:-5000}
nodes=${NODES:-100}
pods=${PODS:-2000}
watchers=${WATCHERS:-100}
rounds=${ROUNDS:-3}
port=${PORT:-16743}
dir=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "${dir}"
}
trap cleanup EXIT

for mode in json protobuf; do
	case ${mode} in
	json) ct=application/json ;;
	protobuf) ct=application/vnd.kubernetes.protobuf ;;
	esac
	data="${dir}/${mode}"
	"${bin}/skiff-apiserver" --data-dir "${data}" --secure-port "${port}" --storage-media-type "${ct}" >"${dir}/${mode}-apiserver.log" 2>&1 &
	apiserver=$!
	pids+=("${apiserver}")
	kc="${data}/admin.kubeconfig"
	for _ in $(seq 1 240); do
		[ -f "${kc}" ] && kubectl --kubeconfig "${kc}" get --raw /readyz >/dev/null 2>&1 && break
		sleep 0.5
	done
	b() { "${bin}/skiff-bench" --kubeconfig "${kc}" --kube-api-content-type "${ct}" --json "$@"; }
	echo "== ${mode}: list, watch, create" >&2
	b list --pods "${list_pods}" --nodes "${nodes}" --repetitions 10 >"${dir}/${mode}-list.json"
	b watch --watchers "${watchers}" >"${dir}/${mode}-watch.json"
	b create --pods "${pods}" --workers 8 >"${dir}/${mode}-create.json"

	echo "== ${mode}: schedule" >&2
	"${bin}/skiff-scheduler" --kubeconfig "${kc}" --kube-api-content-type "${ct}" --leader-elect=false --secure-port 0 >"${dir}/${mode}-scheduler.log" 2>&1 &
	scheduler=$!
	pids+=("${scheduler}")
	sleep 2
	for r in $(seq 1 "${rounds}"); do
		b schedule --nodes "${nodes}" --pods "${pods}" --scheduler-pid "${scheduler}" >"${dir}/${mode}-schedule-${r}.json"
	done
	# Each figure's median over the rounds.
	jq -s '{figures: ([.[].figures[]] | group_by(.name) | map(sort_by(.value) | .[(length / 2 | floor)]))}' \
		"${dir}/${mode}"-schedule-*.json >"${dir}/${mode}-schedule.json"
	kill -TERM "${scheduler}" "${apiserver}"
	wait "${scheduler}" "${apiserver}" 2>/dev/null || true
done

echo "skiff-bench, JSON against protobuf ($(nproc) cores): ${list_pods} pods listed, ${watchers} watchers, ${pods} pods created and scheduled on ${nodes} nodes (median of ${rounds} rounds)"
printf '%-10s %-44s %14s %14s %8s\n' scenario figure JSON protobuf ratio
for s in list watch create schedule; do
	jq -r -n --arg s "${s}" --slurpfile j "${dir}/json-${s}.json" --slurpfile p "${dir}/protobuf-${s}.json" '
		($p[0].figures | map({(.name): .value}) | add) as $pv
		| $j[0].figures[]
		| select($pv[.name] != null)
		| [$s, .name, (.value | tostring) + " " + .unit, ($pv[.name] | tostring) + " " + .unit,
		   (if .value != 0 then (($pv[.name] / .value * 100 | round) / 100 | tostring) + "x" else "-" end)]
		| @tsv' | awk -F'\t' '{printf "%-10s %-44s %14s %14s %8s\n", $1, $2, $3, $4, $5}'
done
