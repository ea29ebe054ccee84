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

# The build command of the test script (and of the benchmark and load scripts): every target.
# `scripts/run.sh` builds only the node and the demo client; with resolver 2 that build unifies
# features differently from one with the tests, so a test run after a first `run.sh`
# recompiles part of the graph (measured in README.md).
verity_build() {
	cargo build --release --locked --workspace --all-targets "$@"
}

# The lint gate: Debian's clippy of the same release as `$RUSTC`, called directly, because
# `cargo clippy` runs `~/.cargo/bin/cargo-clippy` first when rustup put one there, and a clippy
# driver of another release cannot read the crates Debian's rustc checked (E0514). Runtime crates
# are checked natively (`SKIP_WASM_BUILD`): the wasm build is the same code without `std`.
verity_clippy() {
	SKIP_WASM_BUILD=1 /usr/bin/cargo-clippy clippy --locked "$@"
}

# A throwaway `--dev` node for the benchmark and load scripts, with room for bursts in its pool,
# RPC on 127.0.0.1:$1. Waits until it answers; stops it and deletes its base path when the
# calling script exits. Sets VERITY_BENCH_URL.
verity_bench_node() {
	local port="$1" dir
	dir="$(mktemp -d -t verity-bench-XXXX)"
	"$VERITY_NODE_BIN" --dev --base-path "$dir" --rpc-port "$port" --no-prometheus \
		--rpc-max-connections 1000 --pool-limit 100000 --pool-kbytes 200000 2>"$dir/node.log" &
	VERITY_BENCH_PID=$!
	VERITY_BENCH_DIR="$dir"
	trap 'kill $VERITY_BENCH_PID 2>/dev/null || true; wait $VERITY_BENCH_PID 2>/dev/null || true; rm -rf "$VERITY_BENCH_DIR"' EXIT
	for _ in $(seq 1 120); do
		curl -sf -H 'Content-Type: application/json' \
			-d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' \
			"http://127.0.0.1:$port" >/dev/null && break
		sleep 0.5
	done
	export VERITY_BENCH_URL="http://127.0.0.1:$port"
}
