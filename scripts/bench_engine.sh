#!/usr/bin/env bash
# Benchmark of the demo models: the engine (precompiles/engine/examples/bench.rs) beside
# onnxruntime (scripts/bench_ort.py), one thread each, with the ratios and the engine issue's
# targets (warm latency <= 1.5x onnxruntime's; cached repeat load >= 50x cheaper than cold).
# A benchmark, not a test: exits 2 when a target is missed. Results: docs/benchmarks.md.
# Usage: scripts/bench_engine.sh [--runs N] [--models a,b]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VERITY_ROOT"
export CARGO_TARGET_DIR="${VERITY_ENGINE_TARGET_DIR:-$HOME/.cache/verity/target-engine}"

[ -x "$VERITY_PYTHON" ] || { echo "no $VERITY_PYTHON: run scripts/setup.sh" >&2; exit 1; }
cargo build -q --release -p verity-engine --example bench
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$CARGO_TARGET_DIR/release/examples/bench" --json-out "$out" "$@"
echo
"$VERITY_PYTHON" scripts/bench_ort.py --compare "$out" "$@"
