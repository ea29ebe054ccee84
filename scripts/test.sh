#!/usr/bin/env bash
# Every test: set up the machine, build the workspace (release, like the binary users run),
# run unit tests and the end-to-end tests that start real nodes on loopback.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

"$VERITY_ROOT/scripts/setup.sh"

start=$(date +%s)
echo "[test] building (target dir $CARGO_TARGET_DIR)" >&2
verity_build
echo "[test] build took $(( $(date +%s) - start ))s" >&2

cargo test --release --locked --workspace "$@"
echo "[test] total $(( $(date +%s) - start ))s" >&2
