//! Compiled runners on disk, shared by every process that points at the same directory.
//!
//! Compiling [`RUNNER_WASM`](crate::RUNNER_WASM) takes seconds of every core; a node that did it
//! inside block import would stall import (and, when it authors, miss its slot). With a cache
//! directory set ([`set_cache_dir`]), a node compiles the runner once, at low priority before
//! it is needed ([`warm_up`](crate::warm_up)), and every later process, and every other node of
//! the machine that shares the directory, loads the machine code instead.
//!
//! ## Layout
//! `<dir>/runner-<key>.cwasm`, where `<key>` names the module's bytes (blake2-256) and
//! everything wasmtime requires of an engine that loads the code (its
//! `precompile_compatibility_hash`: target, Cranelift flags, features, wasmtime's version). A
//! file holds wasmtime's serialized module followed by the blake2-256 of those bytes, so that a
//! truncated or damaged file is recompiled, not loaded. `<dir>/.lock` serializes the processes:
//! one compiles while the others wait, then load its file.
//!
//! ## Trust
//! Loading a serialized module runs machine code from the file. The directory must be as
//! trusted as the node's binary: whoever can write it can run code as the node.

use std::{
	fs,
	hash::{DefaultHasher, Hash, Hasher},
	io::Write,
	path::{Path, PathBuf},
	sync::OnceLock,
};
use wasmtime::{Engine, Module};

static DIR: OnceLock<PathBuf> = OnceLock::new();

/// Keeps compiled runners in `dir` (created when first needed) for the rest of the process.
/// Only the first call counts; returns whether it was this one.
pub fn set_cache_dir(dir: PathBuf) -> bool {
	DIR.set(dir).is_ok()
}

/// The directory set by [`set_cache_dir`], if any.
pub fn cache_dir() -> Option<&'static Path> {
	DIR.get().map(PathBuf::as_path)
}

/// What [`load_or_compile`] or [`store_if_missing`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
	/// The directory had it: nothing compiled.
	Loaded,
	/// Compiled, and the file written for the next process.
	Compiled,
}

/// The file that holds `wasm` compiled for `engine`.
pub fn path_for(dir: &Path, engine: &Engine, wasm: &[u8]) -> PathBuf {
	let mut h = DefaultHasher::new();
	engine.precompile_compatibility_hash().hash(&mut h);
	let module = blake2b(wasm);
	dir.join(format!("runner-{}-{:016x}.cwasm", hex16(&module), h.finish()))
}

/// `wasm` compiled for `engine`: loaded from `dir` when a sound file for it is there, otherwise
/// compiled by `compile` (which returns wasmtime's serialized module, e.g.
/// `Engine::precompile_module`) and stored. The directory's lock is held throughout, so
/// processes sharing it compile once. Failing to read or write the directory is not an error:
/// the module is compiled in memory as if there were no cache.
pub fn load_or_compile(
	dir: &Path,
	engine: &Engine,
	wasm: &[u8],
	compile: impl FnOnce() -> wasmtime::Result<Vec<u8>>,
) -> wasmtime::Result<(Module, Source)> {
	let path = path_for(dir, engine, wasm);
	let _lock = lock(dir);
	if let Some(module) = load(engine, &path) {
		return Ok((module, Source::Loaded));
	}
	let serialized = compile()?;
	// SAFETY: `serialized` was just produced by wasmtime for an engine of this configuration
	// (`compile`'s contract); deserialize checks that configuration anyway.
	#[allow(unsafe_code)]
	let module = unsafe { Module::deserialize(engine, &serialized)? };
	if let Err(e) = store(&path, &serialized) {
		log::warn!(target: "verity-deterministic", "could not store {}: {e}", path.display());
	}
	Ok((module, Source::Compiled))
}

/// Makes sure `dir` holds a sound file of `wasm` compiled for `engine`, compiling it with
/// `compile` (as in [`load_or_compile`]) when it does not, without loading it: for a warm-up
/// whose engine is not the one that will run the code (a compatible one: same file name).
/// [`Source::Loaded`] when the file was already there.
pub fn store_if_missing(
	dir: &Path,
	engine: &Engine,
	wasm: &[u8],
	compile: impl FnOnce() -> wasmtime::Result<Vec<u8>>,
) -> wasmtime::Result<Source> {
	let path = path_for(dir, engine, wasm);
	let _lock = lock(dir);
	if read_sound(&path).is_some() {
		return Ok(Source::Loaded);
	}
	let serialized = compile()?;
	if let Err(e) = store(&path, &serialized) {
		log::warn!(target: "verity-deterministic", "could not store {}: {e}", path.display());
	}
	Ok(Source::Compiled)
}

/// The serialized module in `path` if the file is there and whole (its checksum holds).
fn read_sound(path: &Path) -> Option<Vec<u8>> {
	let mut bytes = fs::read(path).ok()?;
	let Some(split) = bytes.len().checked_sub(32) else {
		log::warn!(target: "verity-deterministic", "{} is truncated; recompiling", path.display());
		return None;
	};
	if blake2b(&bytes[..split]) != bytes[split..] {
		log::warn!(target: "verity-deterministic", "{} is damaged; recompiling", path.display());
		return None;
	}
	bytes.truncate(split);
	Some(bytes)
}

/// The module in `path` if the file is there, whole, and fits `engine`.
fn load(engine: &Engine, path: &Path) -> Option<Module> {
	let body = read_sound(path)?;
	// SAFETY: the file is what `store` wrote (its checksum matches) in a directory as trusted as
	// the node's binary (module docs); wasmtime refuses code built for another configuration.
	#[allow(unsafe_code)]
	let loaded = unsafe { Module::deserialize(engine, &body) };
	loaded
		.map_err(|e| {
			log::warn!(target: "verity-deterministic", "{} does not load ({e:#}); recompiling", path.display())
		})
		.ok()
}

/// Writes `serialized` and its checksum to `path` through a temporary file and a rename, so
/// that no reader ever sees half a file.
fn store(path: &Path, serialized: &[u8]) -> std::io::Result<()> {
	let tmp = path.with_extension(format!("tmp{}", std::process::id()));
	let mut f = fs::File::create(&tmp)?;
	f.write_all(serialized)?;
	f.write_all(&blake2b(serialized))?;
	f.sync_all()?;
	fs::rename(&tmp, path)
}

/// The directory's exclusive lock, held until the file is dropped; `None` (no locking) when the
/// directory cannot be created or locked.
fn lock(dir: &Path) -> Option<fs::File> {
	fs::create_dir_all(dir).ok()?;
	let f = fs::OpenOptions::new()
		.create(true)
		.truncate(false)
		.write(true)
		.open(dir.join(".lock"))
		.ok()?;
	f.lock().ok()?;
	Some(f)
}

fn blake2b(bytes: &[u8]) -> [u8; 32] {
	let hash = blake2b_simd::Params::new().hash_length(32).hash(bytes);
	let mut out = [0u8; 32];
	out.copy_from_slice(hash.as_bytes());
	out
}

fn hex16(bytes: &[u8; 32]) -> String {
	bytes[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::cell::Cell;

	/// The smallest module: a magic number and a version.
	const EMPTY: &[u8] = b"\0asm\x01\0\0\0";

	fn engine() -> Engine {
		Engine::default()
	}

	/// A compile of [`EMPTY`] for `engine` that counts its calls in `calls`.
	fn counting<'a>(
		engine: &'a Engine,
		calls: &'a Cell<u32>,
	) -> impl Fn() -> wasmtime::Result<Vec<u8>> + Copy + 'a {
		move || {
			calls.set(calls.get() + 1);
			engine.precompile_module(EMPTY)
		}
	}

	#[test]
	fn compiles_once_then_loads_from_the_file() {
		let dir = tempfile::tempdir().unwrap();
		let engine = engine();
		let calls = Cell::new(0);
		let compile = counting(&engine, &calls);
		let (_, first) = load_or_compile(dir.path(), &engine, EMPTY, compile).unwrap();
		assert_eq!(first, Source::Compiled);
		assert!(path_for(dir.path(), &engine, EMPTY).is_file());
		let (_, second) = load_or_compile(dir.path(), &engine, EMPTY, compile).unwrap();
		assert_eq!(second, Source::Loaded);
		assert_eq!(calls.get(), 1);
	}

	#[test]
	fn a_damaged_or_truncated_file_is_recompiled_and_replaced() {
		let dir = tempfile::tempdir().unwrap();
		let engine = engine();
		let compile = || engine.precompile_module(EMPTY);
		load_or_compile(dir.path(), &engine, EMPTY, compile).unwrap();
		let path = path_for(dir.path(), &engine, EMPTY);
		let good = fs::read(&path).unwrap();

		let mut damaged = good.clone();
		damaged[good.len() / 2] ^= 1;
		fs::write(&path, &damaged).unwrap();
		assert_eq!(
			load_or_compile(dir.path(), &engine, EMPTY, compile).unwrap().1,
			Source::Compiled
		);
		assert_eq!(fs::read(&path).unwrap(), good);

		fs::write(&path, &good[..10]).unwrap();
		assert_eq!(
			load_or_compile(dir.path(), &engine, EMPTY, compile).unwrap().1,
			Source::Compiled
		);
		assert_eq!(load_or_compile(dir.path(), &engine, EMPTY, compile).unwrap().1, Source::Loaded);
	}

	#[test]
	fn code_for_another_configuration_is_never_loaded() {
		let dir = tempfile::tempdir().unwrap();
		let native = engine();
		let pulley = Engine::new(wasmtime::Config::new().target("pulley64").unwrap()).unwrap();
		assert_ne!(path_for(dir.path(), &native, EMPTY), path_for(dir.path(), &pulley, EMPTY));
		load_or_compile(dir.path(), &native, EMPTY, || native.precompile_module(EMPTY)).unwrap();
		// Native code written under Pulley's name: the checksum holds, wasmtime refuses it.
		let native_file = fs::read(path_for(dir.path(), &native, EMPTY)).unwrap();
		fs::write(path_for(dir.path(), &pulley, EMPTY), native_file).unwrap();
		let (_, source) =
			load_or_compile(dir.path(), &pulley, EMPTY, || pulley.precompile_module(EMPTY))
				.unwrap();
		assert_eq!(source, Source::Compiled);
	}

	#[test]
	fn store_if_missing_compiles_once_and_load_or_compile_then_loads() {
		let dir = tempfile::tempdir().unwrap();
		let engine = engine();
		let calls = Cell::new(0);
		let compile = counting(&engine, &calls);
		assert_eq!(
			store_if_missing(dir.path(), &engine, EMPTY, compile).unwrap(),
			Source::Compiled
		);
		assert_eq!(store_if_missing(dir.path(), &engine, EMPTY, compile).unwrap(), Source::Loaded);
		assert_eq!(load_or_compile(dir.path(), &engine, EMPTY, compile).unwrap().1, Source::Loaded);
		assert_eq!(calls.get(), 1);
	}

	#[test]
	fn an_unusable_directory_falls_back_to_compiling_in_memory() {
		let dir = tempfile::tempdir().unwrap();
		let file = dir.path().join("not-a-directory");
		fs::write(&file, b"x").unwrap();
		let engine = engine();
		let (_, source) =
			load_or_compile(&file, &engine, EMPTY, || engine.precompile_module(EMPTY)).unwrap();
		assert_eq!(source, Source::Compiled);
	}
}
