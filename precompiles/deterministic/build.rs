//! Computes `RUNNER_HASH`, the blake2-256 of `runner.wasm`, at build time.

fn main() {
	println!("cargo:rerun-if-changed=runner.wasm");
	let wasm = std::fs::read("runner.wasm").expect("runner.wasm is committed beside Cargo.toml");
	let hash = blake2b_simd::Params::new().hash_length(32).hash(&wasm);
	let bytes: Vec<String> = hash.as_bytes().iter().map(|b| format!("{b:#04x}")).collect();
	let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
	std::fs::write(out.join("runner_hash.rs"), format!("[{}]", bytes.join(", ")))
		.expect("OUT_DIR is writable");
}
