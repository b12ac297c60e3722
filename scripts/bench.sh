#!/usr/bin/env bash
# The side-by-side benchmark: builds the real binaries, installs h2load and
# nginx from Debian if they are missing, runs every pair (see
# internal/bench) and writes BENCHMARKS.md. Loopback traffic only.
#
# Environment: GO (go), BENCH_OUT (BENCHMARKS.md), BENCH_ARGS (extra
# arguments for `meshbench run`, e.g. "-rounds 5" or "-skip http").
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
OUT=${BENCH_OUT:-BENCHMARKS.md}

need_pkgs=()
command -v h2load >/dev/null 2>&1 || need_pkgs+=(nghttp2-client)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_pkgs+=(nginx)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	echo "bench: installing ${need_pkgs[*]}" >&2
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin"

bin=$(mktemp -d "${TMPDIR:-/tmp}/meshbench-bin.XXXXXX")
trap 'rm -rf "$bin"' EXIT
echo "bench: building broker-bridge, booth-runner, meshbench" >&2
$GO build -o "$bin/" ./cmd/broker-bridge ./cmd/booth-runner ./cmd/meshbench

commit=${BENCH_COMMIT:-$(git describe --always --dirty 2>/dev/null || echo unknown)}
# shellcheck disable=SC2086
"$bin/meshbench" run -repo . -bin "$bin" -out "$OUT" -commit "$commit" ${BENCH_ARGS:-}
