#!/usr/bin/env bash
# Load test of the inference loop (node/examples/load_gen.rs) on a fresh dev chain with one
# provider (Alice): Optimistic requests of the demo MLP at increasing rates, each followed to
# its end. Loopback only; stops by itself. Results: docs/benchmarks.md ("Load").
#   scripts/load.sh [rates] [seconds-per-stage]     # default: 2,5,10,20,40 20
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$VERITY_ROOT/scripts/setup.sh"
cd "$VERITY_ROOT"
verity_build
verity_bench_node "${VERITY_RPC_PORT:-9966}"
"$CARGO_TARGET_DIR/release/examples/load_gen" "$VERITY_BENCH_URL" "${1:-2,5,10,20,40}" "${2:-20}"
