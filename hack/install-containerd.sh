#!/usr/bin/env bash
# Installs what `skiff up --runtime cri` and the CRI end-to-end test
# (test/e2e/cri_test.go) run on: Debian's containerd and runc, and
# busybox-static, whose /bin/busybox goes into the images
# hack/containerd-up.sh builds (no registry need be reachable).
# Idempotent: installs only what is missing, and says what it did. Needs
# root (CI runs as root). It does not start containerd:
# hack/containerd-up.sh, which runs it first, does.
set -o errexit -o nounset -o pipefail

packages=(containerd runc busybox-static)
missing=()
for p in "${packages[@]}"; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		echo "install-containerd: $p already installed ($(dpkg-query -W -f='${Version}' "$p"))"
	else
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-containerd: need root to install ${missing[*]}" >&2
		exit 1
	fi
	echo "install-containerd: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi

for bin in containerd runc ctr; do
	command -v "$bin" >/dev/null || { echo "install-containerd: $bin not on PATH after install" >&2; exit 1; }
done
test -x /bin/busybox || { echo "install-containerd: /bin/busybox missing after install" >&2; exit 1; }
echo "install-containerd: $(containerd --version); $(runc --version | head -1); busybox at /bin/busybox"
