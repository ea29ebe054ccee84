#!/usr/bin/env bash
# Every test: set up the machine, build the workspace (release, like the binary users run),
# run unit tests and the end-to-end tests that start real nodes on loopback, then the zombienet
# scenarios.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

"$VERITY_ROOT/scripts/setup.sh"

start=$(date +%s)
# Quality gate first: formatting (`rustfmt.toml`, stable options).
echo "[test] cargo fmt --check" >&2
cargo fmt --all --check
# Lints: clippy on every crate and target, warnings are errors. Runtime and pallet crates deny the
# panic lints (indexing, unchecked arithmetic, unwrap/expect) outside tests; the engine's runtime
# (no_std) modules deny them too, and its no_std build is checked on its own because the
# workspace check unifies it with `std`.
echo "[test] clippy --workspace --all-targets" >&2
clippy_start=$(date +%s)
verity_clippy --workspace --all-targets -- -D warnings
verity_clippy -p verity-engine --lib --no-default-features -- -D warnings
echo "[test] clippy took $(( $(date +%s) - clippy_start ))s" >&2

echo "[test] building (target dir $CARGO_TARGET_DIR)" >&2
verity_build
echo "[test] build took $(( $(date +%s) - start ))s" >&2


# Passing tests' output is captured; the conformance harness leaves its counts in its report.
report="$CARGO_TARGET_DIR/tmp/conformance-results.txt"
rm -f "$report"
cargo test --release --locked --workspace "$@"
if [ -f "$report" ]; then head -n 1 "$report" | sed 's/^# /[test] /' >&2; fi

# The pallets' benchmarks, each run once at its components' extremes against the mock runtimes
# (`impl_benchmark_test_suite!`): the setup of every worst case must keep working.
echo "[test] pallet benchmarks against the mocks" >&2
bench_start=$(date +%s)
cargo test --release --locked -p pallet-models -p pallet-providers -p pallet-inference -p pallet-disputes \
	--features pallet-models/runtime-benchmarks,pallet-providers/runtime-benchmarks,pallet-inference/runtime-benchmarks,pallet-disputes/runtime-benchmarks \
	benchmark
echo "[test] pallet benchmarks took $(( $(date +%s) - bench_start ))s" >&2
# The zombienet scenarios (zombienet/0*/): four validators and two provider nodes of the binary
# just built, through faults (a validator down in a dispute, a provider offline, a restart, a
# partition); each scenario's duration is printed. VERITY_ZOMBIENET=0 skips them.
if [ "${VERITY_ZOMBIENET:-1}" != 0 ]; then
	zn_start=$(date +%s)
	VERITY_SKIP_SETUP=1 "$VERITY_ROOT/scripts/zombienet.sh" all
	echo "[test] zombienet scenarios took $(( $(date +%s) - zn_start ))s" >&2
fi
echo "[test] total $(( $(date +%s) - start ))s" >&2
