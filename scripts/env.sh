# shellcheck shell=bash
# Sourced by every script: one toolchain (Debian's Rust 1.96, see docs/toolchain.md) and one
# persistent target directory outside the checkout, so a fresh clone reuses compiled crates.
export VERITY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="/usr/bin:/usr/local/bin:$PATH"
export CARGO=/usr/bin/cargo
export RUSTC=/usr/bin/rustc
export RUSTDOC=/usr/bin/rustdoc
unset RUSTUP_TOOLCHAIN
export CARGO_TARGET_DIR="${VERITY_TARGET_DIR:-$HOME/.cache/verity/target}"
export VERITY_NODE_BIN="$CARGO_TARGET_DIR/release/verity-node"
# Python with the pinned packages of scripts/requirements.txt (a venv made by setup.sh).
export VERITY_PYTHON="$HOME/.cache/verity/venv/bin/python"
mkdir -p "$CARGO_TARGET_DIR"
# The target directory is outside the checkout, so the runtime's wasm builder cannot find the
# workspace's Cargo.lock by walking up from it; without this hint it would resolve fresh,
# unpinned versions for the wasm build.
export WASM_BUILD_WORKSPACE_HINT="$VERITY_ROOT"

# The one build command of the run and test scripts. Both build the same targets with the same
# features: with resolver 2 a plain `-p verity-node` build unifies features differently from a
# build with the tests, and would recompile a large part of the graph a second time.
verity_build() {
	cargo build --release --locked --workspace --all-targets "$@"
}
