#!/usr/bin/env bash
# Starts a containerd configured as `skiff up --runtime cri` needs, on a
# machine that may reach no image registry:
#   - installs containerd, runc and a static busybox if missing
#     (hack/install-containerd.sh, Debian packages);
#   - writes a config of its own from `containerd config default`: its own
#     root, state and socket under DIR (so it shares nothing with a system
#     containerd), restrict_oom_score_adj = true (runc may not lower the
#     sandbox's oom_score_adj otherwise), and the pause image below as the
#     sandbox image;
#   - starts containerd in the background (log DIR/containerd.log, pid
#     DIR/containerd.pid) and waits for it;
#   - builds two images from the static busybox and imports them, so nothing
#     is pulled: skiff.local/pause:1 (the sandbox image) and
#     skiff.local/busybox:1.
# Then it prints the `skiff up` command that uses it. The CRI end-to-end
# test (test/e2e/cri_test.go) runs this same script.
#
# Usage: sudo hack/containerd-up.sh [--dir DIR]   (default /var/lib/skiff-containerd)
#        sudo hack/containerd-up.sh --stop [--dir DIR]
# Idempotent: a containerd it started that still runs is reused.
set -o errexit -o nounset -o pipefail

dir=/var/lib/skiff-containerd
stop=false
while [ $# -gt 0 ]; do
	case "$1" in
	--dir) dir="$2"; shift 2 ;;
	--dir=*) dir="${1#--dir=}"; shift ;;
	--stop) stop=true; shift ;;
	-h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "containerd-up: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done

PAUSE_IMAGE=skiff.local/pause:1
BUSYBOX_IMAGE=skiff.local/busybox:1
socket="$dir/containerd.sock"
pidfile="$dir/containerd.pid"
log() { echo "containerd-up: $*"; }

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && ! grep -q '^State:.*zombie' "/proc/$(cat "$pidfile")/status" 2>/dev/null; }

if $stop; then
	if running; then
		pid=$(cat "$pidfile")
		log "stopping containerd (pid $pid)"
		kill "$pid"
		for _ in $(seq 1 100); do running || break; sleep 0.1; done
		running && kill -9 "$pid"
	fi
	# The shims of sandboxes outlive containerd; they name its socket.
	for p in /proc/[0-9]*; do
		if (cat "$p/cmdline" 2>/dev/null || true) | tr '\0' ' ' | grep -q "containerd-shim.*$socket"; then
			kill -9 "${p#/proc/}" 2>/dev/null || true
		fi
	done
	{ grep -o " $dir/[^ ]*" /proc/self/mountinfo || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
	rm -f "$pidfile"
	log "stopped"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "containerd-up: needs root (containerd does): sudo $0" >&2
	exit 1
fi
# A unix socket path has at most 107 bytes.
if [ "${#socket}" -gt 100 ]; then
	echo "containerd-up: $socket is too long for a socket; choose a shorter --dir" >&2
	exit 1
fi

"$(dirname "$0")/install-containerd.sh"
busybox=""
for b in /bin/busybox /usr/bin/busybox; do
	# Only a static busybox runs alone in an image.
	if [ -x "$b" ] && (LC_ALL=C ldd "$b" 2>&1 || true) | grep -q "not a dynamic executable"; then busybox=$b; break; fi
done
[ -n "$busybox" ] || { echo "containerd-up: no static busybox (Debian's busybox-static)" >&2; exit 1; }

mkdir -p "$dir"
config="$dir/config.toml"
if running; then
	log "containerd already running (pid $(cat "$pidfile")) on $socket"
else
	containerd config default >"$config.default"
	snapshotter=overlayfs
	# overlayfs does not stack on overlayfs (inside a container): copy layers.
	if [ "$(stat -f -c %T "$dir")" = overlayfs ]; then snapshotter=native; fi
	sed -e "s|^root = .*|root = \"$dir/root\"|" \
		-e "s|^state = .*|state = \"$dir/state\"|" \
		-e "s|^\(\s*\)address = \"/run/containerd/containerd.sock\"|\1address = \"$socket\"|" \
		-e "s|^\(\s*\)restrict_oom_score_adj = .*|\1restrict_oom_score_adj = true|" \
		-e "s|^\(\s*\)sandbox_image = .*|\1sandbox_image = \"$PAUSE_IMAGE\"|" \
		-e "s|^\(\s*\)path = \"/opt/containerd\"|\1path = \"$dir/opt\"|" \
		-e "s|^\(\s*\)snapshotter = \"overlayfs\"|\1snapshotter = \"$snapshotter\"|" \
		"$config.default" >"$config"
	rm "$config.default"
	for want in "address = \"$socket\"" "restrict_oom_score_adj = true" "sandbox_image = \"$PAUSE_IMAGE\""; do
		grep -qF "$want" "$config" || { echo "containerd-up: could not set $want in $config" >&2; exit 1; }
	done
	log "starting containerd on $socket (config $config, log $dir/containerd.log)"
	# Its own session, so it outlives this script and the terminal.
	setsid containerd --config "$config" >>"$dir/containerd.log" 2>&1 </dev/null &
	echo $! >"$pidfile"
fi

ctr_() { ctr --address "$socket" --namespace k8s.io "$@"; }
for _ in $(seq 1 300); do
	if ctr --address "$socket" version >/dev/null 2>&1; then break; fi
	running || { echo "containerd-up: containerd exited; see $dir/containerd.log" >&2; tail -20 "$dir/containerd.log" >&2; exit 1; }
	sleep 0.2
done
ctr --address "$socket" version >/dev/null || { echo "containerd-up: containerd does not answer on $socket" >&2; exit 1; }

# build_image NAME CMD... writes an OCI image archive of one layer holding
# the static busybox and its applets, and imports it.
build_image() {
	local name="$1"; shift
	local work; work=$(mktemp -d)
	mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/tmp" "$work/oci/blobs/sha256"
	chmod 1777 "$work/rootfs/tmp"
	cp "$busybox" "$work/rootfs/bin/busybox"
	for a in sh echo sleep cat ls true false pwd env kill date seq head tail wc printf test [ ps id hostname; do
		ln -s busybox "$work/rootfs/bin/$a"
	done
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/rootfs" -cf "$work/layer.tar" .
	blob() { # blob FILE -> digest hex, and the file stored under blobs/
		local h; h=$(sha256sum "$1" | cut -d' ' -f1)
		cp "$1" "$work/oci/blobs/sha256/$h"; echo "$h"
	}
	local layer layer_size config config_size manifest manifest_size cmd_json arch
	layer=$(blob "$work/layer.tar"); layer_size=$(stat -c %s "$work/layer.tar")
	arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
	cmd_json=$(printf '"%s",' "$@"); cmd_json="[${cmd_json%,}]"
	printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":%s},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$arch" "$cmd_json" "$layer" >"$work/config.json"
	config=$(blob "$work/config.json"); config_size=$(stat -c %s "$work/config.json")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
		"$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
	manifest=$(blob "$work/manifest.json"); manifest_size=$(stat -c %s "$work/manifest.json")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
		"$manifest" "$manifest_size" "$name" "${name##*:}" >"$work/oci/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
	tar --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/oci" -cf "$work/image.tar" .
	ctr_ images import "$work/image.tar" >/dev/null
	rm -rf "$work"
	log "imported $name"
}
build_image "$PAUSE_IMAGE" sleep 2147483647
build_image "$BUSYBOX_IMAGE" sh

log "ready. Run skiff on it with:"
echo "  sudo bin/skiff up --runtime cri --container-runtime-endpoint unix://$socket --pod-infra-container-image $PAUSE_IMAGE"
