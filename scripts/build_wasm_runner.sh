#!/usr/bin/env bash
# Builds the deterministic mode's WebAssembly module (precompiles/wasm-runner: the engine's
# runner for wasm32-unknown-unknown, std rebuilt from Debian's rust-web-src, no imports).
#
#   scripts/build_wasm_runner.sh            build; print the module's path, size and blake2-256
#   scripts/build_wasm_runner.sh --install  build and copy it to precompiles/deterministic/runner.wasm
#   scripts/build_wasm_runner.sh --check    build and compare with the committed runner.wasm
#
# The build is reproducible: paths are remapped so the module does not depend on where the
# checkout, the cargo registry or the library sources are. Any change to the engine, tract or
# this crate changes the module, and so RUNNER_HASH (verity-deterministic): run --install and
# commit runner.wasm with the change.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

mode="${1:-}"
case "$mode" in "" | --install | --check) ;; *) echo "usage: $0 [--install|--check]" >&2; exit 2 ;; esac

crate="$VERITY_ROOT/precompiles/wasm-runner"
committed="$VERITY_ROOT/precompiles/deterministic/runner.wasm"
target_dir="$CARGO_TARGET_DIR/wasm-runner"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
sysroot_src="$("$RUSTC" --print sysroot)/lib/rustlib/src/rust"

# getrandom 0.4 needs a backend on wasm32-unknown-unknown: "unsupported" fails every call (the
# module must not draw randomness, nor import a source of it). Remapped paths keep the panic
# messages' file names, and so the module's bytes, independent of this machine.
# `simd128`: fixed-width wasm SIMD, whose results are specified bit for bit (NaN payloads
# aside, which the host canonicalizes), so tract's wasm kernels (`tract-linalg/src/wasm`) are
# as deterministic as scalar code and several times faster. Relaxed SIMD stays off.
export RUSTFLAGS="-C target-feature=+simd128 --cfg getrandom_backend=\"unsupported\" \
--remap-path-prefix=$VERITY_ROOT=/verity \
--remap-path-prefix=$cargo_home=/cargo \
--remap-path-prefix=$sysroot_src=/rustc/src"
unset CARGO_ENCODED_RUSTFLAGS

echo "[wasm-runner] building (target dir $target_dir)" >&2
(cd "$crate" && RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$target_dir" \
	cargo build --release --locked -Zbuild-std=std,panic_abort --target wasm32-unknown-unknown)
built="$target_dir/wasm32-unknown-unknown/release/verity_wasm_runner.wasm"

hash_of() { b2sum -l 256 "$1" | cut -d' ' -f1; }
echo "[wasm-runner] $built: $(stat -c %s "$built") bytes, blake2-256 $(hash_of "$built")" >&2

case "$mode" in
--install)
	cp "$built" "$committed"
	echo "[wasm-runner] installed $committed" >&2
	;;
--check)
	if [ "$(hash_of "$built")" != "$(hash_of "$committed")" ]; then
		echo "[wasm-runner] $committed differs from a fresh build: run $0 --install" >&2
		exit 1
	fi
	echo "[wasm-runner] $committed matches a fresh build" >&2
	;;
esac
