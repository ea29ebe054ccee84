#!/usr/bin/env bash
# The main job: set up the machine, build verity-node, start a development chain, print its
# RPC endpoint, and show the inference loop with the demo client (node/examples/demo_client.rs):
# a request for the demo model, its provisional result, then the finalized result with its
# secp256k1 receipt. Stops with Ctrl-C (or SIGTERM); the chain state lives in a temporary
# directory.
#
#   scripts/run.sh                # dev chain on 127.0.0.1:9944 (VERITY_DEMO=0: no demo)
#   VERITY_RPC_PORT=9955 scripts/run.sh
#   scripts/run.sh --exit-after-finalized 3   # start, wait for finalized #3, stop (smoke test)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

EXIT_AFTER=""
if [ "${1:-}" = "--exit-after-finalized" ]; then EXIT_AFTER="${2:?number}"; shift 2; fi

"$VERITY_ROOT/scripts/setup.sh"
echo "[run] building verity-node and the demo client (release; target dir $CARGO_TARGET_DIR)" >&2
# Only what this job runs: the node binary and the demo client, not every test target.
cargo build --release --locked -p verity-node --bin verity-node --example demo_client

RPC_PORT="${VERITY_RPC_PORT:-9944}"
LOG="${VERITY_LOG:-$(mktemp -t verity-dev-XXXX.log)}"
"$VERITY_NODE_BIN" --dev --rpc-port "$RPC_PORT" --no-prometheus "$@" 2>"$LOG" &
NODE_PID=$!
trap 'kill "$NODE_PID" 2>/dev/null || true; wait "$NODE_PID" 2>/dev/null || true' EXIT INT TERM

rpc() {
	curl -sf -H 'Content-Type: application/json' \
		-d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"$1\",\"params\":${2:-[]}}" \
		"http://127.0.0.1:$RPC_PORT"
}
finalized_number() {
	local hash
	hash="$(rpc chain_getFinalizedHead | jq -r .result)"
	printf '%d\n' "$(rpc chain_getHeader "[\"$hash\"]" | jq -r .result.number)"
}

for _ in $(seq 1 120); do
	if rpc system_health >/dev/null; then break; fi
	if ! kill -0 "$NODE_PID" 2>/dev/null; then
		echo "[run] verity-node exited; its log:" >&2; tail -20 "$LOG" >&2; exit 1
	fi
	sleep 0.5
done
rpc system_health >/dev/null || { echo "[run] node did not answer RPC; log: $LOG" >&2; exit 1; }

echo "Verity dev chain running."
echo "  RPC endpoint: ws://127.0.0.1:$RPC_PORT (also http://127.0.0.1:$RPC_PORT)"
echo "  node log:     $LOG"
echo "  stop with Ctrl-C"

if [ "${VERITY_DEMO:-1}" != 0 ]; then
	echo "[run] demo client: one inference request, through to the finalized result"
	"$CARGO_TARGET_DIR/release/examples/demo_client" "http://127.0.0.1:$RPC_PORT" ||
		{ echo "[run] demo client failed; node log: $LOG" >&2; exit 1; }
fi

last=-1
while kill -0 "$NODE_PID" 2>/dev/null; do
	f="$(finalized_number 2>/dev/null || echo "$last")"
	if [ "$f" != "$last" ]; then echo "  finalized #$f"; last="$f"; fi
	if [ -n "$EXIT_AFTER" ] && [ "$f" -ge "$EXIT_AFTER" ]; then exit 0; fi
	sleep 3
done
echo "[run] verity-node stopped; its log: $LOG" >&2
exit 1
