#!/usr/bin/env bash
# run-mesh.sh — the whole mesh on this machine, secure by default: the
# bridge with its embedded NATS+JetStream (mTLS, an NKey user per identity of
# the matrix) and the four demo booths, each on its own credentials and
# checking every call's token. `make run` builds bin/ and runs this.
# Monitoring, on this machine only: the live page and the bridge's metrics on
# http://$MONITOR (no certificate needed), booth-runner's metrics on
# http://$BOOTH_METRICS/metrics.
#
# Ctrl-C (or SIGTERM) stops the booths first (they drain), then the bridge
# (it finishes requests in flight, drains NATS, stops the server), and exits 0.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
MESH_DIR=${MESH_DIR:-.mesh}
MATRIX=${MATRIX:-deployments/matrix.yaml}
BRIDGE=${BRIDGE:-127.0.0.1:8443}
NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
NATS_LISTEN=${NATS_URL#nats://}
MONITOR=${MONITOR:-127.0.0.1:8081}
BOOTH_METRICS=${BOOTH_METRICS:-127.0.0.1:9464}
# PYTHON_BOOTH=1 serves fee-calc with the Python booth (examples/python-booth)
# behind booth-runner --sidecar instead of the Go one; the app listens on
# $PYTHON_APP, the sidecar's outbound endpoint on $SIDECAR_LISTEN.
PYTHON_BOOTH=${PYTHON_BOOTH:-}
PYTHON_APP=${PYTHON_APP:-127.0.0.1:8090}
SIDECAR_LISTEN=${SIDECAR_LISTEN:-127.0.0.1:3500}

for b in meshctl broker-bridge booth-runner; do
	if [[ ! -x $BIN/$b ]]; then
		echo "run-mesh: $BIN/$b is missing: run \"make run\" (it builds bin/ first)" >&2
		exit 1
	fi
done

# Credentials: made on first start, kept afterwards (init is idempotent).
init_out=$("$BIN/meshctl" init --dir "$MESH_DIR" --matrix "$MATRIX")
grep '^created' <<<"$init_out" || true
# audit-log's SSN hash key, kept so hashes match across restarts.
if [[ ! -s $MESH_DIR/audit.key ]]; then
	(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$MESH_DIR/audit.key")
fi

bridge_pid= booths_pid= app_pid= sidecar_pid=
# stop_all stops the booths, then the bridge, each with SIGTERM, and waits
# for them: a process still running after 20 s is killed.
stop_all() {
	local pid
	for pid in $sidecar_pid $app_pid $booths_pid $bridge_pid; do
		kill -TERM "$pid" 2>/dev/null || continue
		for _ in $(seq 200); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
on_signal() {
	trap - INT TERM
	echo
	echo "run-mesh: stopping the booths, then the bridge"
	stop_all
	echo "run-mesh: stopped"
	exit 0
}
# alive reports whether every process started so far still runs.
alive() {
	local pid
	for pid in $bridge_pid $booths_pid $app_pid $sidecar_pid; do
		kill -0 "$pid" 2>/dev/null || return 1
	done
}
# ready waits until the bridge answers (and the services it names have
# instances), and fails at once if a process of the mesh stops meanwhile.
ready() {
	"$BIN/meshctl" ready --bridge "https://$BRIDGE" --dir "$MESH_DIR" --timeout 30s "$@" &
	local pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if ! alive; then
			kill "$pid" 2>/dev/null
			echo "run-mesh: a process of the mesh stopped; see its log above" >&2
			return 1
		fi
		sleep 0.2 &
		wait $! || true
	done
	wait "$pid"
}
# What make demo reads of the running mesh: where its monitoring listens.
printf 'MONITOR=%s\n' "$MONITOR" >"$MESH_DIR/run.env"
trap on_signal INT TERM
trap stop_all EXIT

# The children run in process groups of their own (set -m), so a Ctrl-C at
# the terminal reaches this script only, and it stops them in order.
set -m
"$BIN/broker-bridge" --listen "$BRIDGE" --nats-listen "$NATS_LISTEN" --data "$MESH_DIR/data" \
	--mesh-dir "$MESH_DIR" --matrix "$MATRIX" --monitor-listen "$MONITOR" &
bridge_pid=$!
set +m
ready >/dev/null

booths=(--demo)
if [[ -n $PYTHON_BOOTH ]]; then
	booths=(--booth payment --booth license-printer --booth audit-log)
fi
set -m
"$BIN/booth-runner" "${booths[@]}" --nats "$NATS_URL" --mesh-dir "$MESH_DIR" --matrix "$MATRIX" \
	--audit-key-file "$MESH_DIR/audit.key" --metrics-listen "$BOOTH_METRICS" &
booths_pid=$!
set +m
if [[ -n $PYTHON_BOOTH ]]; then
	# The sidecar's API token, kept beside the credentials (mode 0600).
	if [[ ! -s $MESH_DIR/fee-calc.api-token ]]; then
		(umask 077 && od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$MESH_DIR/fee-calc.api-token")
	fi
	set -m
	python3 examples/python-booth/fee_calc.py --listen "$PYTHON_APP" &
	app_pid=$!
	"$BIN/booth-runner" --sidecar --identity fee-calc --app-url "http://$PYTHON_APP" \
		--endpoints examples/python-booth/endpoints.yaml --listen "$SIDECAR_LISTEN" \
		--api-token-file "$MESH_DIR/fee-calc.api-token" --instance-name python-fee-calc \
		--nats "$NATS_URL" --mesh-dir "$MESH_DIR" --matrix "$MATRIX" &
	sidecar_pid=$!
	set +m
	echo "run-mesh: fee-calc is the Python booth on http://$PYTHON_APP behind the sidecar"
fi
ready --service fee-calc --service payment --service license-printer --service audit-log

cat <<MSG

The mesh is up: bridge https://$BRIDGE (HTTP/2, client certificates required),
NATS $NATS_URL (mTLS + NKeys), credentials in $MESH_DIR/.
Call it as the gateway:

  curl --http2 --cacert $MESH_DIR/ca.pem --cert $MESH_DIR/gateway.pem --key $MESH_DIR/gateway-key.pem \\
    -H 'Content-Type: application/json' -d '{"license_type":"professional-engineer"}' \\
    https://$BRIDGE/v1/call/fee-calc/calculate

or issue Avery's license from another terminal:  make demo  (or make demo-python: the Python gateway)

Watch the calls live:     http://$MONITOR/ui   (read-only, this machine only)
Metrics:                  http://$MONITOR/metrics (bridge), http://$BOOTH_METRICS/metrics (booths)
Traces and the audit chain from the command line, as the inspector:
  $BIN/meshctl trace tail --nats $NATS_URL --mesh-dir $MESH_DIR
  $BIN/meshctl audit verify --nats $NATS_URL --mesh-dir $MESH_DIR
Ctrl-C stops the mesh.
MSG

# Wait until a signal comes, or until a child ends on its own (an error).
while alive; do
	sleep 0.5 &
	wait $! || true
done
echo "run-mesh: a process of the mesh stopped on its own; stopping the rest" >&2
exit 1
