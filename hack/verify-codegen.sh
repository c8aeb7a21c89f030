#!/usr/bin/env bash
# Fails when the committed generated code differs from what
# hack/update-codegen.sh produces now.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "${TMP}"' EXIT

# Regenerate in a copy of the tree, so a failed check leaves the work tree alone.
mkdir -p "${TMP}/src"
(cd "${ROOT}" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "${TMP}/src" 2>/dev/null || true)
cd "${TMP}/src"
GOBIN="${ROOT}/_output/bin" hack/update-codegen.sh >/dev/null

status=0
for dir in pkg/generated pkg/apis api; do
    if ! diff -Naupr "${ROOT}/${dir}" "${TMP}/src/${dir}" >"${TMP}/diff" 2>&1; then
        echo "${dir} is out of date; run hack/update-codegen.sh:"
        head -50 "${TMP}/diff"
        status=1
    fi
done
[ "${status}" -eq 0 ] && echo "generated code is up to date"
exit "${status}"
