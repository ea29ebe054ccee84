#!/usr/bin/env bash
# Idempotent machine setup for Verity: Debian's Rust 1.96 with its library sources and clippy, the wasm
# linker, a `wasm32v1-none` sysroot built from those sources, protoc and clang for the node's
# native dependencies, Python packages for model generation, the dApp example's npm packages.
# Fast (a few checks) when all is already in place. The recipe and its reasons are in
# docs/toolchain.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

log() { echo "[setup] $*" >&2; }
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# 1. Debian packages.
APT_PKGS=(rustc-web cargo-web rust-web-src rustfmt-web rust-web-clippy lld-19 clang libclang-dev protobuf-compiler pkg-config
	python3 python3-venv python3-pip curl jq)
missing=()
for p in "${APT_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	log "installing Debian packages: ${missing[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

RUST_VERSION="$(/usr/bin/rustc --version)"
case "$RUST_VERSION" in
	"rustc 1.96"*) ;;
	*) log "expected Debian rustc 1.96 at /usr/bin/rustc, found: $RUST_VERSION"; exit 1 ;;
esac

# 2. rustc looks for `rust-lld` when linking wasm.
if [ "$(readlink -f /usr/local/bin/rust-lld 2>/dev/null)" != "$(readlink -f /usr/lib/llvm-19/bin/lld)" ]; then
	log "linking rust-lld to LLVM 19's lld"
	$SUDO ln -sf /usr/lib/llvm-19/bin/lld /usr/local/bin/rust-lld
fi

# 3. The wasm32v1-none sysroot (what rustup's rust-std component would be), built once from
# Debian's library sources with embedded bitcode (the runtime blob is linked with LTO).
SYSROOT_LIB="/usr/lib/rustlib/wasm32v1-none/lib"
STAMP="$SYSROOT_LIB/.verity-stamp"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$RUST_VERSION" ]; then
	log "building core/alloc for wasm32v1-none ($RUST_VERSION)"
	work="$(mktemp -d)"
	mkdir -p "$work/src"
	cat >"$work/Cargo.toml" <<'TOML'
[package]
name = "sysroot-seed"
version = "0.0.0"
edition = "2021"
[lib]
path = "src/lib.rs"
[profile.release]
panic = "abort"
TOML
	printf '#![no_std]\nextern crate alloc;\n' >"$work/src/lib.rs"
	(cd "$work" && RUSTFLAGS="-Cembed-bitcode=yes" RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$work/target" \
		/usr/bin/cargo build -q --release --target wasm32v1-none -Zbuild-std=core,alloc)
	$SUDO mkdir -p "$SYSROOT_LIB"
	$SUDO rm -f "$SYSROOT_LIB"/lib{core,alloc,compiler_builtins}-*.rlib
	$SUDO cp "$work"/target/wasm32v1-none/release/deps/lib{core,alloc,compiler_builtins}-*.rlib "$SYSROOT_LIB/"
	rm -rf "$work"
	# Stale runtime wasm builds would link against the old rlibs (E0463): drop them.
	rm -rf "$CARGO_TARGET_DIR"/*/wbuild/*/target
	echo "$RUST_VERSION" | $SUDO tee "$STAMP" >/dev/null
fi

# 4. Python packages for model generation, conformance data and benchmarks (issue: engine), in
# a venv of their own: Debian's python3 is externally managed (PEP 668). Reinstalled only when
# requirements.txt changes (its hash is the stamp).
REQS="$VERITY_ROOT/scripts/requirements.txt"
VENV="$(dirname "$(dirname "$VERITY_PYTHON")")"
PY_STAMP="$VENV/.verity-stamp"
if [ -f "$REQS" ] && [ "$(cat "$PY_STAMP" 2>/dev/null)" != "$(sha256sum <"$REQS")" ]; then
	log "installing Python packages into $VENV"
	[ -x "$VERITY_PYTHON" ] || /usr/bin/python3 -m venv "$VENV"
	"$VERITY_PYTHON" -m pip install -q --disable-pip-version-check -r "$REQS"
	sha256sum <"$REQS" >"$PY_STAMP"
fi
# 5. The dApp example's npm packages (scripts/dapp-example), exactly its
# package-lock.json from the npm registry with `npm ci`; again only when the lock file changes
# (its hash is the stamp). Node.js 20+ with npm: the image's, else Debian's.
DAPP="$VERITY_ROOT/scripts/dapp-example"
NPM_STAMP="$DAPP/node_modules/.verity-stamp"
if [ -f "$DAPP/package-lock.json" ] && [ "$(cat "$NPM_STAMP" 2>/dev/null)" != "$(sha256sum <"$DAPP/package-lock.json")" ]; then
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		log "installing Node.js and npm"
		$SUDO apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
	fi
	log "installing the dApp example's npm packages (npm ci in scripts/dapp-example)"
	(cd "$DAPP" && npm ci --include=dev --no-audit --no-fund --silent)
	sha256sum <"$DAPP/package-lock.json" >"$NPM_STAMP"
fi
# 6. The zombienet CLI (zombienet/package.json: @zombienet/cli, with the registry's `toml`
# instead of its git-hosted one), the same way; scripts/zombienet.sh and the scenarios'
# js-scripts use it. Nothing is downloaded when a scenario runs.
ZN="$VERITY_ROOT/zombienet"
ZN_STAMP="$ZN/node_modules/.verity-stamp"
if [ -f "$ZN/package-lock.json" ] && [ "$(cat "$ZN_STAMP" 2>/dev/null)" != "$(sha256sum <"$ZN/package-lock.json")" ]; then
	log "installing the zombienet CLI (npm ci in zombienet)"
	(cd "$ZN" && npm ci --no-audit --no-fund --silent)
	sha256sum <"$ZN/package-lock.json" >"$ZN_STAMP"
fi
log "ok ($RUST_VERSION, target dir $CARGO_TARGET_DIR)"
