#!/usr/bin/env bash
# Benchmark of the inference loop (node/examples/loop_bench.rs) on a fresh dev chain: latency
# from request to provisional result per demo model, and throughput with one provider.
# A benchmark, not a test. Results: docs/benchmarks.md ("Inference loop").
#   scripts/bench_loop.sh [burst]      # default burst: 200 requests
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VERITY_ROOT"
verity_build
verity_bench_node "${VERITY_RPC_PORT:-9966}"
"$CARGO_TARGET_DIR/release/examples/loop_bench" "$VERITY_BENCH_URL" "${1:-200}"
