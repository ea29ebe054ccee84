#!/usr/bin/env bash
# Runs the runtime benchmarks of Verity's pallets and writes their weights.rs files.
#
#   scripts/bench_weights.sh                 # all four pallets, 50 steps x 20 repeats
#   scripts/bench_weights.sh pallet_models   # one pallet
#   STEPS=10 REPEAT=5 scripts/bench_weights.sh   # a quick pass
#
# Builds verity-node with `--features runtime-benchmarks` in its own target directory
# (`$VERITY_BENCH_TARGET_DIR`, default ~/.cache/verity/target-bench): the feature changes the
# features of most of the dependency graph, and a shared directory would swap the test binary.
# A cold build takes about 40 minutes on 2 cores.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$VERITY_ROOT/scripts/setup.sh"

export CARGO_TARGET_DIR="${VERITY_BENCH_TARGET_DIR:-$HOME/.cache/verity/target-bench}"
# frame-benchmarking-cli's storage-access test runtime is only used by `benchmark storage`, and
# its wasm build does not resolve against this workspace's lock file (WASM_BUILD_WORKSPACE_HINT).
export SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1
STEPS="${STEPS:-50}"
REPEAT="${REPEAT:-20}"

cargo build --release --locked -p verity-node --features runtime-benchmarks
NODE="$CARGO_TARGET_DIR/release/verity-node"

pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=(pallet_models pallet_providers pallet_inference pallet_disputes)
for pallet in "${pallets[@]}"; do
	dir="$VERITY_ROOT/pallets/${pallet#pallet_}/src"
	echo "[bench] $pallet -> $dir/weights.rs" >&2
	"$NODE" benchmark pallet --chain dev --wasm-execution compiled \
		--pallet "$pallet" --extrinsic '*' --steps "$STEPS" --repeat "$REPEAT" \
		--heap-pages 4096 \
		--template "$VERITY_ROOT/scripts/weight-template.hbs" \
		--output "$dir/weights.rs"
done
