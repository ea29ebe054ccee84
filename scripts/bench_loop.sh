#!/usr/bin/env bash
# Benchmark of the inference loop (node/examples/loop_bench.rs) on a fresh dev chain: latency
# from request to provisional result per demo model, and throughput with one provider.
# A benchmark, not a test. Results: docs/benchmarks.md ("Inference loop").
#   scripts/bench_loop.sh [burst]      # default burst: 200 requests
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VERITY_ROOT"
verity_build
dir="$(mktemp -d -t verity-bench-XXXX)"
port="${VERITY_RPC_PORT:-9966}"
"$VERITY_NODE_BIN" --dev --base-path "$dir" --rpc-port "$port" --no-prometheus \
	--rpc-max-connections 1000 --pool-limit 100000 --pool-kbytes 200000 2>"$dir/node.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 120); do
	curl -sf -H 'Content-Type: application/json' -d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' \
		"http://127.0.0.1:$port" >/dev/null && break
	sleep 0.5
done
"$CARGO_TARGET_DIR/release/examples/loop_bench" "http://127.0.0.1:$port" "${1:-200}"
