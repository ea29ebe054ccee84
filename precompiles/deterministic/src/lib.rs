//! # verity-deterministic
//!
//! Verity's deterministic execution mode: the engine's runner (`precompiles/wasm-runner`, tract)
//! compiled once to a WebAssembly module with no imports, [`RUNNER_WASM`], executed by
//! wasmtime. WebAssembly fixes the result of every instruction except the bit pattern of NaNs
//! (canonicalized here) and relaxed SIMD (disabled here), so the output bits depend on the
//! module and the input only: not on the CPU's features, the compiler backend or the node.
//!
//! ## Terms
//! - *backend*: how the module becomes machine code ([`Backend`]): Cranelift for the host's
//!   features, Cranelift for baseline x86-64, or the Pulley interpreter. They must agree bit for
//!   bit; `tests/agreement.rs` checks it.
//! - *fuel*: wasmtime's instruction budget; a call that runs out stops with
//!   [`Error::OutOfFuel`]. The budget applies to each call ([`Session::load`], [`Session::run`]).
//! - *memory limit*: the most bytes of linear memory an instance may hold; beyond it the module's
//!   allocations fail and the call stops with [`Error::OutOfMemory`].
//!
//! ## Caches
//! Each backend's [`wasmtime::Engine`] and compiled [`Module`] are built once per process, on
//! first use, and kept on disk between processes when a cache directory is set ([`disk`]). A
//! [`Session`] is one instance: it keeps the plan of the model it loaded, so repeated runs pay
//! only for the run, and loading the same model again is a no-op.
//!
//! ## Invariants
//! Nothing here panics on a model, an input or a limit: every failure is an [`Error`]. A trap
//! (fuel, memory, a panic inside the module) drops the instance; the session starts a fresh one
//! and reloads its model on the next run.

pub mod disk;

use std::sync::OnceLock;
use verity_engine::{decode_tensors, encode_tensors, engine::Limits, ModelHash, Tensor};
use wasmtime::{
	Config, Engine, Instance, Module, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder,
	Trap, TypedFunc,
};

/// The runner module, built by `scripts/build_wasm_runner.sh --install`.
pub const RUNNER_WASM: &[u8] = include_bytes!("../runner.wasm");

/// blake2-256 of [`RUNNER_WASM`], computed at build time: the identity of the deterministic
/// mode's code (to become part of the chain's engine version).
pub const RUNNER_HASH: [u8; 32] = include!(concat!(env!("OUT_DIR"), "/runner_hash.rs"));

/// How the runner module is executed. All backends give the same output bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
	/// Cranelift, using every instruction-set extension the host has (the fast path).
	CraneliftNative,
	/// Cranelift restricted to baseline x86-64 (SSE2): no SSE3/SSSE3/SSE4, AVX, AVX2, AVX-512,
	/// FMA, BMI, LZCNT or POPCNT. Available on x86-64 hosts only.
	CraneliftBaseline,
	/// Pulley, wasmtime's portable interpreter (no machine code at all).
	Pulley,
}

impl Backend {
	pub const ALL: [Backend; 3] =
		[Backend::CraneliftNative, Backend::CraneliftBaseline, Backend::Pulley];

	pub fn name(self) -> &'static str {
		match self {
			Backend::CraneliftNative => "cranelift-native",
			Backend::CraneliftBaseline => "cranelift-baseline",
			Backend::Pulley => "pulley",
		}
	}

	fn index(self) -> usize {
		match self {
			Backend::CraneliftNative => 0,
			Backend::CraneliftBaseline => 1,
			Backend::Pulley => 2,
		}
	}
}

impl std::fmt::Display for Backend {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str(self.name())
	}
}

/// Every way the deterministic mode can fail.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
	#[error("backend {backend} cannot run here: {message}")]
	BackendUnavailable { backend: Backend, message: String },
	#[error("could not instantiate the runner: {0}")]
	Instantiate(String),
	#[error("the call used all of its {limit} fuel")]
	OutOfFuel { limit: u64 },
	#[error("the runner needed more than its memory limit of {limit} bytes")]
	OutOfMemory { limit: usize },
	#[error("invalid model: {0}")]
	InvalidModel(String),
	#[error("bad input: {0}")]
	BadInput(String),
	#[error("no model is loaded")]
	NotLoaded,
	#[error("run failed: {0}")]
	Run(String),
	#[error("the runner trapped: {0}")]
	Trap(String),
	#[error("the runner broke its ABI: {0}")]
	Abi(String),
}

/// Budgets of a [`Session`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunLimits {
	/// Fuel of each call (about one unit per WebAssembly instruction).
	pub fuel: u64,
	/// Most bytes of linear memory the instance may hold (the module's own data included).
	pub memory_bytes: usize,
}

impl Default for RunLimits {
	fn default() -> Self {
		Self { fuel: 200_000_000_000, memory_bytes: 1 << 30 }
	}
}

/// The wasmtime configuration of the deterministic mode; see `docs/determinism.md` for why each
/// setting matters.
#[allow(unsafe_code)]
fn config(backend: Backend) -> Result<Config, Error> {
	let mut c = Config::new();
	// NaN bit patterns are the only non-deterministic part of scalar WebAssembly float
	// arithmetic; Cranelift makes every NaN result the canonical one.
	c.cranelift_nan_canonicalization(true);
	// Fixed-width SIMD is deterministic (its float lanes canonicalized like scalars); some
	// dependencies (rustfft) carry `simd128` functions even in a scalar build. Relaxed SIMD,
	// whose results are implementation-defined by design, stays off.
	c.wasm_simd(true);
	c.wasm_relaxed_simd(false);
	// No `c.wasm_threads(false)`: wasmtime is built without its `threads` feature, which
	// refuses shared memories (and so any concurrency) outright.
	c.consume_fuel(true);
	match backend {
		Backend::CraneliftNative => {},
		Backend::CraneliftBaseline => {
			if !cfg!(target_arch = "x86_64") {
				return Err(Error::BackendUnavailable {
					backend,
					message: "baseline x86-64 needs an x86-64 host".into(),
				});
			}
			for flag in BASELINE_OFF {
				// SAFETY: turning instruction-set extensions off only narrows what Cranelift
				// emits to a subset the host runs; wasmtime checks the flags against the host.
				unsafe {
					c.cranelift_flag_set(flag, "false");
				}
			}
		},
		Backend::Pulley => {
			let target = if cfg!(target_pointer_width = "64") { "pulley64" } else { "pulley32" };
			c.target(target)
				.map_err(|e| Error::BackendUnavailable { backend, message: format!("{e:#}") })?;
		},
	}
	Ok(c)
}

/// The x86-64 extensions [`Backend::CraneliftBaseline`] turns off (Cranelift's `has_*` flags).
pub const BASELINE_OFF: &[&str] = &[
	"has_sse3",
	"has_ssse3",
	"has_cmpxchg16b",
	"has_sse41",
	"has_sse42",
	"has_avx",
	"has_avx2",
	"has_fma",
	"has_avx512bitalg",
	"has_avx512dq",
	"has_avx512vl",
	"has_avx512vbmi",
	"has_avx512f",
	"has_popcnt",
	"has_bmi1",
	"has_bmi2",
	"has_lzcnt",
];

type Compiled = Result<(Engine, Module), Error>;

static COMPILED: [OnceLock<Compiled>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];

/// The engine and compiled runner of `backend`, built once per process on first use: loaded
/// from the cache directory when one is set ([`disk`]) and holds it, compiled otherwise.
pub fn compiled(backend: Backend) -> Result<&'static (Engine, Module), Error> {
	COMPILED[backend.index()]
		.get_or_init(|| {
			let unavailable = |e: wasmtime::Error| Error::BackendUnavailable {
				backend,
				message: format!("{e:#}"),
			};
			let engine = Engine::new(&config(backend)?).map_err(unavailable)?;
			let module = match disk::cache_dir() {
				Some(dir) => {
					disk::load_or_compile(dir, &engine, RUNNER_WASM, || {
						engine.precompile_module(RUNNER_WASM)
					})
					.map_err(unavailable)?
					.0
				},
				None => Module::new(&engine, RUNNER_WASM).map_err(unavailable)?,
			};
			Ok((engine, module))
		})
		.as_ref()
		.map_err(Clone::clone)
}

/// Makes [`compiled`]`(backend)` ready without competing for every core: when the cache
/// directory lacks the runner, compiles it on the calling thread alone (no parallel
/// compilation) into the directory; then loads it once, with [`compiled`]'s engine. Meant for a node to call from a
/// low-priority thread at start, so that its first in-block inference does not compile inside
/// block import. Returns what it did to the directory (`None`: no directory is set).
pub fn warm_up(backend: Backend) -> Result<Option<disk::Source>, Error> {
	let unavailable =
		|e: wasmtime::Error| Error::BackendUnavailable { backend, message: format!("{e:#}") };
	let source = match disk::cache_dir() {
		Some(dir) => {
			let mut serial = config(backend)?;
			serial.parallel_compilation(false);
			// Parallel compilation is not part of the code's compatibility: the file fits
			// `compiled`'s engine (its name is keyed by that compatibility).
			let serial = Engine::new(&serial).map_err(unavailable)?;
			let source = disk::store_if_missing(dir, &serial, RUNNER_WASM, || {
				serial.precompile_module(RUNNER_WASM)
			})
			.map_err(unavailable)?;
			Some(source)
		},
		None => None,
	};
	compiled(backend)?;
	Ok(source)
}

/// [`StoreLimits`] that remembers whether it refused a memory growth, so that the trap that
/// follows (the module aborts when an allocation fails) is reported as [`Error::OutOfMemory`].
struct Limiter {
	inner: StoreLimits,
	refused: bool,
}

impl ResourceLimiter for Limiter {
	fn memory_growing(
		&mut self,
		current: usize,
		desired: usize,
		maximum: Option<usize>,
	) -> wasmtime::Result<bool> {
		let ok = self.inner.memory_growing(current, desired, maximum)?;
		self.refused |= !ok;
		Ok(ok)
	}

	fn table_growing(
		&mut self,
		current: usize,
		desired: usize,
		maximum: Option<usize>,
	) -> wasmtime::Result<bool> {
		self.inner.table_growing(current, desired, maximum)
	}
}

struct Exports {
	alloc: TypedFunc<u32, u32>,
	free: TypedFunc<(u32, u32), ()>,
	load: TypedFunc<(u32, u32, u32, u32), i32>,
	run: TypedFunc<(u32, u32), i32>,
	result_ptr: TypedFunc<(), u32>,
	result_len: TypedFunc<(), u32>,
	memory: wasmtime::Memory,
}

struct Live {
	store: Store<Limiter>,
	exports: Exports,
}

/// One instance of the runner on one backend, holding at most one loaded model.
pub struct Session {
	backend: Backend,
	limits: RunLimits,
	live: Option<Live>,
	/// The model loaded, kept to reload it after a trap dropped the instance.
	model: Option<(ModelHash, Vec<u8>, [u8; 64])>,
	loaded: bool,
	fuel_used: u64,
}

// The runner's status codes (`precompiles/wasm-runner`).
const OK: i32 = 0;
const BAD_LIMITS: i32 = 1;
const INVALID_MODEL: i32 = 2;
const NOT_LOADED: i32 = 3;
const BAD_INPUT: i32 = 4;
const RUN_FAILED: i32 = 5;

impl Session {
	/// A session on `backend` with the budgets `limits`; compiles the module if this process
	/// has not yet.
	pub fn new(backend: Backend, limits: RunLimits) -> Result<Self, Error> {
		compiled(backend)?;
		Ok(Self { backend, limits, live: None, model: None, loaded: false, fuel_used: 0 })
	}

	pub fn backend(&self) -> Backend {
		self.backend
	}

	/// Bytes of linear memory the instance holds now (0 before the first call).
	pub fn memory_bytes(&self) -> usize {
		self.live.as_ref().map_or(0, |l| l.exports.memory.data_size(&l.store))
	}

	/// Sets the fuel of each later call.
	pub fn set_fuel(&mut self, fuel: u64) {
		self.limits.fuel = fuel;
	}

	/// Fuel used by the last call (load or run), also when it failed.
	pub fn fuel_used(&self) -> u64 {
		self.fuel_used
	}

	/// Validate and compile `model` inside the module under the engine's `limits` (wall time
	/// and concurrency do not apply there: fuel bounds the work). Loading the model already
	/// loaded does nothing. Returns its hash.
	pub fn load(&mut self, model: &[u8], limits: &Limits) -> Result<ModelHash, Error> {
		let encoded = encode_limits(limits);
		let hash = verity_engine::model_hash(model);
		if self.loaded && self.model.as_ref().is_some_and(|(h, _, l)| *h == hash && *l == encoded) {
			return Ok(hash);
		}
		self.model = None;
		self.loaded = false;
		self.load_inner(model, &encoded)?;
		self.model = Some((hash, model.to_vec(), encoded));
		self.loaded = true;
		Ok(hash)
	}

	fn load_inner(&mut self, model: &[u8], limits: &[u8; 64]) -> Result<(), Error> {
		let (status, result) = self.call(|live| {
			let lp = write(live, limits)?;
			let mp = write(live, model)?;
			let status = live
				.exports
				.load
				.call(&mut live.store, (lp, limits.len() as u32, mp, model.len() as u32))?;
			Ok((status, [(lp, limits.len() as u32), (mp, model.len() as u32)]))
		})?;
		match status {
			OK => Ok(()),
			INVALID_MODEL => Err(Error::InvalidModel(text(&result))),
			BAD_LIMITS => Err(Error::Abi(text(&result))),
			s => Err(Error::Abi(format!("load returned status {s}: {}", text(&result)))),
		}
	}

	/// Run the loaded model on a canonical tensor list (`verity_engine::encode_tensors`);
	/// returns the outputs encoded the same way.
	pub fn run(&mut self, input: &[u8]) -> Result<Vec<u8>, Error> {
		if !self.loaded {
			let Some((hash, model, limits)) = self.model.take() else {
				return Err(Error::NotLoaded);
			};
			let r = self.load_inner(&model, &limits);
			self.model = Some((hash, model, limits));
			r?;
			self.loaded = true;
		}
		let (status, result) = self.call(|live| {
			let ip = write(live, input)?;
			let status = live.exports.run.call(&mut live.store, (ip, input.len() as u32))?;
			Ok((status, [(ip, input.len() as u32), (0, 0)]))
		})?;
		match status {
			OK => Ok(result),
			BAD_INPUT => Err(Error::BadInput(text(&result))),
			RUN_FAILED => Err(Error::Run(text(&result))),
			NOT_LOADED => Err(Error::NotLoaded),
			s => Err(Error::Abi(format!("run returned status {s}: {}", text(&result)))),
		}
	}

	/// [`Session::run`] on decoded tensors.
	pub fn run_tensors(&mut self, inputs: &[Tensor]) -> Result<Vec<Tensor>, Error> {
		let out = self.run(&encode_tensors(inputs))?;
		decode_tensors(&out).map_err(|e| Error::Abi(format!("undecodable output: {e:?}")))
	}

	fn live(&mut self) -> Result<&mut Live, Error> {
		if self.live.is_none() {
			self.live = Some(instantiate(self.backend, self.limits)?);
		}
		self.live.as_mut().ok_or_else(|| Error::Instantiate("no instance".into()))
	}

	/// Runs one export call prepared by `f` (which writes its arguments and calls), then reads
	/// the result buffer and frees the argument buffers, all on one budget of fuel. A trap drops
	/// the instance.
	fn call(
		&mut self,
		f: impl FnOnce(&mut Live) -> wasmtime::Result<(i32, [(u32, u32); 2])>,
	) -> Result<(i32, Vec<u8>), Error> {
		let limits = self.limits;
		let live = self.live()?;
		live.store.data_mut().refused = false;
		let outcome = (|| -> wasmtime::Result<(i32, Vec<u8>)> {
			live.store.set_fuel(limits.fuel)?;
			let (status, buffers) = f(live)?;
			let result = read_result(live)?;
			for (ptr, len) in buffers {
				if len > 0 {
					live.exports.free.call(&mut live.store, (ptr, len))?;
				}
			}
			Ok((status, result))
		})();
		let used = limits.fuel.saturating_sub(live.store.get_fuel().unwrap_or(0));
		let outcome = outcome.map_err(|e| classify(e, live.store.data().refused, limits));
		self.fuel_used = used;
		if outcome.is_err() {
			// The instance may be mid-way through anything: start afresh next time.
			self.live = None;
			self.loaded = false;
		}
		outcome
	}
}

/// What [`Prepared::execute`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
	/// The outputs, as a canonical tensor list.
	pub output: Vec<u8>,
	/// Fuel of the whole call: the load's (recorded once, [`Prepared::load_fuel`]) plus the
	/// run's. The same on every node and backend, whether or not the model was cached.
	pub fuel_used: u64,
}

/// A model loaded once, kept as the linear memory of the runner's instance right after the load
/// returned. Every [`Prepared::execute`] starts a fresh instance from that image, so its outcome
/// (output, fuel, failure) is a function of the module, the model, the load limits, the input
/// and the budgets only: never of which runs came before on this node, which a [`Session`]
/// cannot promise (its allocator's state and memory size carry over from run to run). That is
/// what consensus code needs (in-block inference).
///
/// The image is the whole instance state: the runner's only mutable global is Rust's shadow
/// stack pointer (`tests/errors.rs` checks it), which is back at its initial value whenever an
/// export returns; its tables are never written.
pub struct Prepared {
	backend: Backend,
	hash: ModelHash,
	image: Vec<u8>,
	load_fuel: u64,
}

impl Prepared {
	/// Load `model` under `limits` with the budgets `budget` on a fresh instance of `backend`
	/// and keep the memory image. Fails as [`Session::load`] would.
	pub fn new(
		backend: Backend,
		model: &[u8],
		limits: &Limits,
		budget: RunLimits,
	) -> Result<Self, Error> {
		let mut session = Session::new(backend, budget)?;
		let hash = session.load(model, limits)?;
		let load_fuel = session.fuel_used();
		let live = session.live.as_ref().ok_or(Error::NotLoaded)?;
		let image = live.exports.memory.data(&live.store).to_vec();
		Ok(Self { backend, hash, image, load_fuel })
	}

	/// The model's hash.
	pub fn hash(&self) -> ModelHash {
		self.hash
	}

	/// Fuel the load used (charged again by every [`Prepared::execute`]).
	pub fn load_fuel(&self) -> u64 {
		self.load_fuel
	}

	/// Bytes of the kept image (the instance's memory after the load).
	pub fn image_bytes(&self) -> usize {
		self.image.len()
	}

	/// Run the model on `input` from the image, with `budget.fuel` for the load and the run
	/// together and `budget.memory_bytes` of memory. Fails with [`Error::OutOfFuel`] or
	/// [`Error::OutOfMemory`] before anything runs when the load alone exceeds the budget.
	pub fn execute(&self, input: &[u8], budget: RunLimits) -> Result<Outcome, Error> {
		if self.image.len() > budget.memory_bytes {
			return Err(Error::OutOfMemory { limit: budget.memory_bytes });
		}
		let Some(run_fuel) = budget.fuel.checked_sub(self.load_fuel) else {
			return Err(Error::OutOfFuel { limit: budget.fuel });
		};
		let limits = RunLimits { fuel: run_fuel, memory_bytes: budget.memory_bytes };
		let mut live = instantiate(self.backend, limits)?;
		let restore = |live: &mut Live| -> wasmtime::Result<()> {
			let page = 1usize << 16;
			let have = live.exports.memory.data_size(&live.store);
			let pages = self.image.len().saturating_sub(have).div_ceil(page);
			if pages > 0 {
				live.exports.memory.grow(&mut live.store, pages as u64)?;
			}
			live.exports.memory.write(&mut live.store, 0, &self.image)?;
			Ok(())
		};
		restore(&mut live).map_err(|e| classify(e, live.store.data().refused, limits))?;
		let mut session = Session {
			backend: self.backend,
			limits,
			live: Some(live),
			model: None,
			loaded: true,
			fuel_used: 0,
		};
		let output = session.run(input);
		// A full budget reports what the whole call used, the load included.
		let fuel_used = self.load_fuel.saturating_add(session.fuel_used());
		output.map(|output| Outcome { output, fuel_used }).map_err(|e| match e {
			Error::OutOfFuel { .. } => Error::OutOfFuel { limit: budget.fuel },
			other => other,
		})
	}
}

/// Prepared models of one process, least recently used first out, holding at most
/// `max_bytes` of images. Keyed by backend, model hash and load limits, so a hit gives exactly
/// what a fresh [`Prepared::new`] would.
pub struct Cache {
	max_bytes: usize,
	entries: std::sync::Mutex<Vec<(CacheKey, std::sync::Arc<Prepared>)>>,
}

type CacheKey = (Backend, ModelHash, [u8; 64]);

impl Cache {
	pub const fn new(max_bytes: usize) -> Self {
		Self { max_bytes, entries: std::sync::Mutex::new(Vec::new()) }
	}

	/// [`Prepared::execute`] of `model` loaded under `limits`, preparing it (under `budget`)
	/// unless it is cached. A load that fails is not cached: it fails again, the same way, on
	/// the next call.
	///
	/// The outcome is the same as a fresh preparation's: a load that succeeded under some
	/// budget used `load_fuel` and ended with its image's size, and linear memory never
	/// shrinks, so under `budget` it succeeds exactly when both fit, which `execute` checks.
	pub fn execute(
		&self,
		backend: Backend,
		model: &[u8],
		limits: &Limits,
		input: &[u8],
		budget: RunLimits,
	) -> Result<Outcome, Error> {
		let key = (backend, verity_engine::model_hash(model), encode_limits(limits));
		let prepared = match self.get(&key) {
			Some(p) => p,
			None => std::sync::Arc::new(Prepared::new(backend, model, limits, budget)?),
		};
		let outcome = prepared.execute(input, budget);
		self.put(key, prepared);
		outcome
	}

	/// Models held now.
	pub fn len(&self) -> usize {
		self.entries.lock().map_or(0, |e| e.len())
	}

	pub fn is_empty(&self) -> bool {
		self.len() == 0
	}

	fn get(&self, key: &CacheKey) -> Option<std::sync::Arc<Prepared>> {
		let entries = self.entries.lock().ok()?;
		entries.iter().find(|(k, _)| k == key).map(|(_, p)| p.clone())
	}

	fn put(&self, key: CacheKey, prepared: std::sync::Arc<Prepared>) {
		// A poisoned lock only loses the cache, never a result.
		let Ok(mut entries) = self.entries.lock() else { return };
		entries.retain(|(k, _)| *k != key);
		if prepared.image_bytes() > self.max_bytes {
			return;
		}
		entries.push((key, prepared));
		let mut total: usize = entries.iter().map(|(_, p)| p.image_bytes()).sum();
		while total > self.max_bytes && !entries.is_empty() {
			let (_, evicted) = entries.remove(0);
			total -= evicted.image_bytes();
		}
	}
}

fn instantiate(backend: Backend, limits: RunLimits) -> Result<Live, Error> {
	let (engine, module) = compiled(backend)?;
	let inner = StoreLimitsBuilder::new()
		.memory_size(limits.memory_bytes)
		.instances(1)
		.memories(1)
		.tables(1)
		.build();
	let mut store = Store::new(engine, Limiter { inner, refused: false });
	store.limiter(|l| l);
	store.set_fuel(limits.fuel).map_err(abi)?;
	let instance = Instance::new(&mut store, module, &[]).map_err(|e| {
		match classify(e, store.data().refused, limits) {
			Error::Trap(m) => Error::Instantiate(m),
			other => other,
		}
	})?;
	let func = |store: &mut Store<Limiter>, name: &str| {
		instance.get_func(&mut *store, name).ok_or_else(|| Error::Abi(format!("no export {name}")))
	};
	let typed = |e: wasmtime::Error| Error::Abi(format!("{e:#}"));
	let exports = Exports {
		alloc: func(&mut store, "verity_alloc")?.typed(&store).map_err(typed)?,
		free: func(&mut store, "verity_free")?.typed(&store).map_err(typed)?,
		load: func(&mut store, "verity_load")?.typed(&store).map_err(typed)?,
		run: func(&mut store, "verity_run")?.typed(&store).map_err(typed)?,
		result_ptr: func(&mut store, "verity_result_ptr")?.typed(&store).map_err(typed)?,
		result_len: func(&mut store, "verity_result_len")?.typed(&store).map_err(typed)?,
		memory: instance
			.get_memory(&mut store, "memory")
			.ok_or_else(|| Error::Abi("no exported memory".into()))?,
	};
	Ok(Live { store, exports })
}

fn abi(e: wasmtime::Error) -> Error {
	Error::Abi(format!("{e:#}"))
}

fn classify(e: wasmtime::Error, refused: bool, limits: RunLimits) -> Error {
	match e.downcast_ref::<Trap>() {
		Some(Trap::OutOfFuel) => Error::OutOfFuel { limit: limits.fuel },
		_ if refused => Error::OutOfMemory { limit: limits.memory_bytes },
		_ => Error::Trap(format!("{e:#}")),
	}
}

fn text(b: &[u8]) -> String {
	String::from_utf8_lossy(b).into_owned()
}

/// Copies `data` into a buffer the module allocates.
fn write(live: &mut Live, data: &[u8]) -> wasmtime::Result<u32> {
	let len = u32::try_from(data.len())?;
	if len == 0 {
		return Ok(0);
	}
	let ptr = live.exports.alloc.call(&mut live.store, len)?;
	live.exports.memory.write(&mut live.store, ptr as usize, data)?;
	Ok(ptr)
}

fn read_result(live: &mut Live) -> wasmtime::Result<Vec<u8>> {
	let ptr = live.exports.result_ptr.call(&mut live.store, ())?;
	let len = live.exports.result_len.call(&mut live.store, ())?;
	let mut out = vec![0u8; len as usize];
	live.exports.memory.read(&live.store, ptr as usize, &mut out)?;
	Ok(out)
}

/// The engine limits as the runner reads them: eight little-endian `u64`s, `max_model_bytes`,
/// `max_elements`, `max_batch`, `max_flops`, `max_peak_bytes`, `max_constant_bytes`,
/// `max_nodes`, `cache_bytes` (the same as `verity_wasm_runner::encode_limits`).
pub fn encode_limits(l: &Limits) -> [u8; 64] {
	let fields = [
		l.max_model_bytes as u64,
		l.max_elements,
		u64::from(l.max_batch),
		l.max_flops,
		l.max_peak_bytes,
		l.max_constant_bytes,
		l.max_nodes as u64,
		l.cache_bytes,
	];
	let mut out = [0u8; 64];
	for (chunk, v) in out.chunks_exact_mut(8).zip(fields) {
		chunk.copy_from_slice(&v.to_le_bytes());
	}
	out
}
