#!/usr/bin/env bash
# demo.sh — Avery's same-day license against a running `make run`: the
# gateway calls the four booths through the bridge with its client
# certificate, downloads the license PDF through the bridge, and prints the
# flow's trace id and its sequence diagram (Mermaid), read back through the
# bridge.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
MESH_DIR=${MESH_DIR:-.mesh}
BRIDGE=${BRIDGE:-127.0.0.1:8443}

if [[ ! -x $BIN/gateway ]]; then
	echo "demo: $BIN/gateway is missing: run \"make demo\" (it builds bin/ first)" >&2
	exit 1
fi
if [[ ! -f $MESH_DIR/gateway.pem ]]; then
	echo "demo: no gateway credentials in $MESH_DIR: start the mesh with \"make run\" first" >&2
	exit 1
fi
"$BIN/gateway" --bridge "https://$BRIDGE" --mesh-dir "$MESH_DIR" --identity gateway \
	--save-license "$MESH_DIR/last-license.pdf"
# The monitoring address the running mesh wrote, unless MONITOR names one.
if [[ -z ${MONITOR:-} && -f $MESH_DIR/run.env ]]; then
	MONITOR=$(sed -n 's/^MONITOR=//p' "$MESH_DIR/run.env")
fi
echo
echo "Watch it live: http://${MONITOR:-127.0.0.1:8081}/ui (with make run)"
