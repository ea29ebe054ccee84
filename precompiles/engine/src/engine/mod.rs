//! The native engine: validate ONNX models, compile them with tract, cache and run the plans.
//!
//! ## Loading
//! [`Engine::load`] runs, in order, and stops at the first failure with a typed
//! [`EngineError`]:
//! 1. size (`max_model_bytes`); if a plan for the expected hash is cached, it is returned here
//!    (the bytes are not re-hashed: they were verified against that hash when the plan was
//!    built); otherwise blake2-256 of the bytes against the expected hash;
//! 2. protobuf decode, then a scan of the raw proto: opset domain, every node's op in the
//!    [allow-list](ALLOWED_OPS) and known to tract, no sub-graphs, no model-local functions,
//!    no external or sparse data, initializer sizes within `max_elements`;
//! 3. tract parse and type analysis with every op wrapped by the folding guard (`src/fold.rs`):
//!    a tensor is checked against `max_elements` as soon as its shape is known, and tract
//!    evaluates a node over constant inputs only when every output size is known, so nothing
//!    that constant folding creates is allocated before it is checked;
//! 4. the bound of the constants the plan may hold (every tensor that is a constant or computable
//!    from constants, once per non-constant consumer), computed on the analysed graph before any
//!    of it is folded, within `max_constant_bytes` ([`EngineError::TooManyConstantBytes`]) and
//!    within the figure the model's registered spec declares, if the caller passes one
//!    ([`Engine::load_declared`], [`EngineError::ConstantsOverSpec`]); the analysis of step 3
//!    already folds within the smaller of the two;
//! 5. translation to a typed graph, then every fact (inputs, outputs and intermediates) within
//!    `max_elements`, with each symbolic dimension bound to `max_batch`; shapes that depend on
//!    data (fresh symbols) are rejected, because they cannot be bounded;
//! 6. the declared [`ModelIo`], if any, compatible with the graph's inputs and outputs;
//! 7. cost estimates on the decluttered graph: multiply-adds and divisions (`max_flops`) and
//!    the sum of all tensor sizes as an upper bound of peak memory (`max_peak_bytes`); the
//!    packing bound ([`ModelInfo::packing_bytes`]: what padding the constant operands of
//!    matrix products and convolutions to the widest kernel panel adds), the constant bound plus
//!    it again within `max_constant_bytes` and the declared figure; then model bytes +
//!    constant and packing bounds + one run's peak of live tensors within `cache_bytes`
//!    ([`EngineError::PlanTooLarge`], [`ModelInfo::bound_bytes`]); all of 1-7 depend on the
//!    graph only, not on the CPU, so every node refuses a model alike and reports the same
//!    `constants_bound()` and `bound_bytes` for it (what a chain can register and charge for);
//! 8. optimization into a runnable plan, measured (see "Cache"): one run's live tensors in the
//!    optimized plan within `max_peak_bytes`, its whole charge within `cache_bytes` (these two
//!    depend on the CPU's kernels, and are a last line behind the packing bound of step 7, which
//!    no model the tests know reaches); then inserted into the cache.
//!
//! Before translation folds the constants (step 5) and before optimization packs them (step 8),
//! least recently used plans are evicted until the figures known at that point (model bytes +
//! constant bound, then the whole bound) fit in the budget beside the cached plans, so that the
//! plans a new one displaces are freed before it is built, not after.
//!
//! Every call into tract is wrapped in `catch_unwind`: a hostile model is reported as
//! [`EngineError::Panic`] and never takes the process down (the node's profiles unwind).
//!
//! ## Cache
//! Plans are kept in an LRU bounded in bytes, keyed by model hash. A plan is charged
//! `model bytes + max(constant bound + packing bound, held) + scratch`
//! ([`ModelInfo::plan_bytes`]):
//! - the *constant bound* is step 4's figure: every constant tensor and every tensor computable
//!   from constants, counted once per consumer that runs at run time, since each consumer may
//!   keep its own folded or packed copy;
//! - *held* is measured on the optimized plan: the bytes of every constant it keeps, with
//!   tract's packed weights measured by their buffers (their storage reports pointer sizes only;
//!   that is how a plan holding 548 MB of weights was charged 222 KB before);
//! - *scratch* bounds the other tensors one run has alive at once, at `max_batch`: each node's
//!   outputs live from its step to their last consumer's (as tract frees them), and the larger
//!   peak of the optimized plan (im2col buffers included) and the decluttered graph is taken.
//!
//! The charge therefore bounds what the plan holds while cached plus one run's tensors. A plan's
//! run states belong to the plan (see "Running"), so eviction frees it as soon as no run holds
//! it. Resident memory of a node is then the cache budget, plus the runs in flight beyond the
//! one charged (each within `max_peak_bytes`), plus what a cold load holds beyond its own charge
//! while it is built (the plans it displaces are evicted first, see "Loading"; up to about twice
//! its constant bound measured), plus the allocator's and tract's own overhead;
//! docs/benchmarks.md ("Plan memory") has the measured figures and the memory a node needs for
//! a given budget.
//!
//! Plans are handed out as `Arc`s: the cache lock is held only to look up or insert,
//! never while a model runs, so concurrent runs of one model do not serialize. Two threads that
//! load the same uncached model at once both compile it (the lock is not held while compiling);
//! the second insert replaces the first, which costs time but never correctness.
//!
//! ## Running
//! [`Engine::run`] checks the inputs against the graph's specs (dtype, rank, fixed dims, every
//! symbolic dim at most `max_batch`) before touching tract. With a `run_timeout`, the run is
//! handed to the engine's worker pool and the caller waits at most that long, then gets
//! [`EngineError::Timeout`]. The pool is started lazily and grows on demand up to
//! `max_concurrent_runs` persistent threads (no thread is spawned per run). tract cannot be
//! interrupted, so a worker in a timed-out run is *abandoned*: it finishes the run (bounded by
//! the static FLOP limit), its result is dropped, and it returns to the pool. At most
//! `max_concurrent_runs` runs, abandoned ones included, exist at once; beyond that callers get
//! [`EngineError::Busy`], so repeated timeouts cannot pile up threads. While a worker is stuck,
//! the next admitted run finds fewer idle workers than runs in flight and spawns a replacement,
//! so capacity recovers as soon as a slot is free; the pool never exceeds
//! `max_concurrent_runs` threads. A worker that dies (a panic escaping `catch_unwind`, which
//! tract panics do not) is replaced by its own drop guard.
//!
//! A plan keeps the run states (`SimpleState`) of its finished runs, for plans whose ops keep no
//! state between runs, so that repeated runs of one model do not rebuild them. The states belong
//! to the plan: nothing but a run in flight keeps an evicted plan alive.
//!
//! ## What is not bounded
//! Allocation inside tract is bounded only through the static estimates above (there is no
//! allocator hook). Constant folding allocates at most one tensor of `max_elements` at a time
//! before it is weighed (by the guard during analysis and translation, by the fact checks
//! before decluttering); the folded results tract keeps are within the constant bound.

mod cache;
mod convert;
mod limits;
mod pool;
mod validate;

pub use cache::{CacheStats, ModelInfo};
pub use convert::{from_tract_tensor, to_tract};
pub use limits::{EngineError, Limits, Side, ALLOWED_OPS};
pub use pool::WORKER_THREAD_NAME;

use cache::{Cache, Plan};
use convert::{from_tract, to_dtype};
use pool::{Job, Pool, RunResult, Slot};
use validate::{check_declared, estimate, graph_io, held_bytes, live_peak, packing_bytes};

use crate::{
	fold::FoldError,
	spec::{Dim, ModelIo, SpecError, TensorSpec},
	tensor::{DType, Tensor, MAX_TENSORS},
	ModelHash,
};
use std::{
	collections::{HashMap, HashSet},
	panic::{catch_unwind, AssertUnwindSafe},
	sync::{
		atomic::{AtomicUsize, Ordering},
		mpsc, Arc, Mutex, OnceLock,
	},
	time::Duration,
};
/// The tract version the engine is built on, for tools and tests that need its types.
pub use tract_onnx;

use tract_onnx::{
	pb,
	prelude::{self as tp, Framework, InferenceModelExt, IntoTValue},
	tract_core::ops::konst::Const,
};

/// The engine. `Send + Sync`: share one behind an `Arc` across workers and RPC handlers.
pub struct Engine {
	limits: Limits,
	cache: Mutex<Cache>,
	in_flight: Arc<AtomicUsize>,
	/// Workers for runs with a wall-time limit, started on the first such run.
	pool: OnceLock<Pool>,
}

fn hex32(h: &[u8; 32]) -> String {
	hex::encode(h)
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
	if let Some(s) = p.downcast_ref::<&str>() {
		(*s).to_string()
	} else if let Some(s) = p.downcast_ref::<String>() {
		s.clone()
	} else {
		"non-string panic payload".to_string()
	}
}

/// Run `f`, turning a tract error into [`EngineError::Tract`] and a panic into
/// [`EngineError::Panic`].
fn guarded<T>(
	stage: &'static str,
	f: impl FnOnce() -> tp::TractResult<T>,
) -> Result<T, EngineError> {
	match catch_unwind(AssertUnwindSafe(f)) {
		Ok(Ok(v)) => Ok(v),
		Ok(Err(e)) => Err(fold_error(&e)
			.unwrap_or_else(|| EngineError::Tract { stage, message: format!("{e:#}") })),
		Err(p) => Err(EngineError::Panic { stage, message: panic_message(p) }),
	}
}

/// A refusal of the folding guard (src/fold.rs) anywhere in a tract error chain.
fn fold_error(e: &tp::TractError) -> Option<EngineError> {
	let f = e.chain().find_map(|c| c.downcast_ref::<FoldError>())?;
	Some(match f.clone() {
		FoldError::TooLarge { what, elements, max } => {
			EngineError::TensorTooLarge { what, elements, max }
		},
		FoldError::Unbounded { what } => {
			EngineError::UnboundedShape { what, shape: "not known before folding".into() }
		},
		FoldError::TooManyConstants { bytes, max } => {
			EngineError::TooManyConstantBytes { bytes, max }
		},
	})
}

impl Engine {
	pub fn new(limits: Limits) -> Self {
		Self {
			limits,
			cache: Mutex::new(Cache::default()),
			in_flight: Arc::new(AtomicUsize::new(0)),
			pool: OnceLock::new(),
		}
	}

	pub fn limits(&self) -> &Limits {
		&self.limits
	}

	/// Validate and compile a model, and cache its plan. See the module docs for the checks.
	///
	/// Loading a cached model is a size check and a lookup by `expected`: when a plan for
	/// `expected` is cached, it is returned without hashing `bytes`. The bytes are verified
	/// against `expected` only when a plan is built (cold load); a plan is cached only under the
	/// hash it was verified against, so a hit is always the model `expected` names, whatever
	/// `bytes` hold.
	pub fn load(&self, bytes: &[u8], expected: &ModelHash) -> Result<Arc<ModelInfo>, EngineError> {
		self.load_with_io(bytes, expected, None)
	}

	/// [`Self::load`], also checking that `declared` (the registered spec) matches the graph.
	pub fn load_with_io(
		&self,
		bytes: &[u8],
		expected: &ModelHash,
		declared: Option<&ModelIo>,
	) -> Result<Arc<ModelInfo>, EngineError> {
		self.load_declared(bytes, expected, Declared { io: declared, max_constant_bytes: None })
	}

	/// [`Self::load`], also checking the model against what its registered spec declares: its
	/// inputs and outputs, and the most bytes of constants its plan may hold. A model whose
	/// constant bound is above the declared figure is refused with
	/// [`EngineError::ConstantsOverSpec`] before translation folds anything, and the same way
	/// when its plan is already cached (loaded for a caller that declared more or nothing).
	pub fn load_declared(
		&self,
		bytes: &[u8],
		expected: &ModelHash,
		declared: Declared<'_>,
	) -> Result<Arc<ModelInfo>, EngineError> {
		if bytes.len() > self.limits.max_model_bytes {
			return Err(EngineError::ModelTooLarge {
				size: bytes.len(),
				max: self.limits.max_model_bytes,
			});
		}
		// Cache first: a plan is only ever inserted under the hash its bytes were verified
		// against when it was compiled, so a hit for `expected` is the model the caller asked
		// for. `bytes` are not hashed again (that would cost about 1 us per KiB, more than the
		// lookup by orders of magnitude); they are verified only when a plan is built.
		if let Some(plan) = self.lookup(expected) {
			if let Some(d) = declared.io {
				check_declared(d, &plan.info.io)?;
			}
			declared.check_constants(plan.info.constants_bound())?;
			return Ok(plan.info.clone());
		}
		let actual = crate::model_hash(bytes);
		if &actual != expected {
			return Err(EngineError::HashMismatch {
				expected: hex32(expected),
				actual: hex32(&actual),
			});
		}
		let loaded = self.compile(bytes, *expected, declared).map(|plan| {
			let plan = Arc::new(plan);
			let info = plan.info.clone();
			self.insert(plan);
			info
		});
		// After the compilation's transients and the plans this insert evicted are freed.
		release_free_memory();
		loaded
	}

	fn compile(
		&self,
		bytes: &[u8],
		hash: ModelHash,
		declared: Declared<'_>,
	) -> Result<Plan, EngineError> {
		let onnx = tract_onnx::onnx();
		let proto = match catch_unwind(AssertUnwindSafe(|| onnx.proto_model_for_read(&mut &*bytes)))
		{
			Ok(Ok(p)) => p,
			Ok(Err(e)) => return Err(EngineError::Malformed(format!("{e:#}"))),
			Err(p) => {
				return Err(EngineError::Panic { stage: "decoding", message: panic_message(p) })
			},
		};
		let opset = self.scan_proto(&proto, &onnx)?;
		let mut inference = guarded("parsing", || onnx.model_for_proto_model(&proto))?;
		drop(proto);
		// Bound tract's eager evaluation before it analyses anything, then bound the constants
		// the plan may hold before translation folds them (src/fold.rs). Analysis folds within
		// the smaller of the node's limit and the declared one.
		let max_constants = declared
			.max_constant_bytes
			.map_or(self.limits.max_constant_bytes, |d| d.min(self.limits.max_constant_bytes));
		crate::fold::bound_ops(&mut inference, self.limits.max_elements, max_constants);
		guarded("analysing types", || inference.analyse(false)).map_err(|e| match e {
			EngineError::TooManyConstantBytes { bytes, .. } => self.over_constants(bytes, declared),
			e => e,
		})?;
		let constant_bytes =
			guarded("bounding constants", || crate::fold::constant_bytes(&inference))?;
		if constant_bytes > u128::from(max_constants) {
			return Err(self.over_constants(constant_bytes, declared));
		}
		// The first part of step 7's check, before translation materializes the constants.
		let model_bytes = bytes.len() as u128;
		if model_bytes.saturating_add(constant_bytes) > u128::from(self.limits.cache_bytes) {
			return Err(EngineError::PlanTooLarge {
				bytes: model_bytes.saturating_add(constant_bytes),
				max: self.limits.cache_bytes,
			});
		}
		// Translation and decluttering fold the constants: make room for them first (see
		// `make_room`), and for the whole bound once it is known, before optimization packs them.
		let cached = self.is_loaded(&hash);
		if !cached {
			self.make_room(
				u64::try_from(model_bytes.saturating_add(constant_bytes)).unwrap_or(u64::MAX),
			);
		}
		let typed = guarded("analysing types", || inference.into_typed())?;

		let symbols = self.bind_symbols(&typed)?;
		self.check_facts(&typed, &symbols)?;
		let io = graph_io(&typed)?;
		if let Some(d) = declared.io {
			check_declared(d, &io)?;
		}

		let decluttered = guarded("decluttering", || typed.into_decluttered())?;
		// Decluttering may rewrite shapes; re-check before estimating costs on this form.
		self.check_facts(&decluttered, &symbols)?;
		let (flops, peak_bytes) = estimate(&decluttered, &symbols)?;
		if flops > u128::from(self.limits.max_flops) {
			return Err(EngineError::TooManyFlops { flops, max: self.limits.max_flops });
		}
		if peak_bytes > u128::from(self.limits.max_peak_bytes) {
			return Err(EngineError::TooMuchMemory {
				bytes: peak_bytes,
				max: self.limits.max_peak_bytes,
			});
		}
		// The deterministic part of the charge: a plan that cannot fit in the cache is refused
		// here, alike on every node with the same limits.
		let activations = guarded("estimating memory", || {
			live_peak(&decluttered, &decluttered.eval_order()?, &symbols)
		})?;
		let packing = guarded("estimating memory", || packing_bytes(&decluttered, &symbols))?;
		let constants = constant_bytes.saturating_add(packing);
		if constants > u128::from(max_constants) {
			return Err(self.over_constants(constants, declared));
		}
		let bound = model_bytes.saturating_add(constants).saturating_add(activations);
		if bound > u128::from(self.limits.cache_bytes) {
			return Err(EngineError::PlanTooLarge { bytes: bound, max: self.limits.cache_bytes });
		}

		if !cached {
			self.make_room(u64::try_from(bound).unwrap_or(u64::MAX));
		}
		let optimized = guarded("optimizing", || optimize(decluttered))?;
		let output_dtypes = io.outputs.iter().map(|s| s.dtype).collect();
		let plan = guarded("planning", || tp::TypedSimplePlan::new(optimized))?;
		let (held_bytes, scratch) = guarded("measuring the plan", || {
			Ok((
				held_bytes(plan.model(), &symbols),
				live_peak(plan.model(), plan.order_without_consts(), &symbols)?,
			))
		})?;
		let scratch_bytes = scratch.max(activations);
		let plan_bytes = model_bytes
			.saturating_add(constants.max(u128::from(held_bytes)))
			.saturating_add(scratch_bytes);
		// What this CPU's kernels made of the plan, a last line behind the packing bound (a kernel
		// with a panel wider than it assumes, a thin operand packed at every run): these
		// refusals depend on the CPU, unlike steps 1-7.
		if scratch > u128::from(self.limits.max_peak_bytes) {
			return Err(EngineError::TooMuchMemory {
				bytes: scratch,
				max: self.limits.max_peak_bytes,
			});
		}
		if plan_bytes > u128::from(self.limits.cache_bytes) {
			return Err(EngineError::PlanTooLarge {
				bytes: plan_bytes,
				max: self.limits.cache_bytes,
			});
		}
		let stateless =
			guarded("planning", || Ok(plan.spawn()?.op_states.iter().all(Option::is_none)))?;
		let info = ModelInfo {
			hash,
			io,
			opset,
			flops,
			peak_bytes,
			constant_bytes,
			packing_bytes: packing,
			bound_bytes: bound,
			held_bytes,
			scratch_bytes,
			plan_bytes: u64::try_from(plan_bytes).unwrap_or(u64::MAX),
		};
		Ok(Plan {
			info: Arc::new(info),
			plan,
			stateless,
			output_dtypes,
			spare: Mutex::new(Vec::new()),
			max_spare: self.limits.max_concurrent_runs,
		})
	}

	/// The error for `bytes` of constants over the smaller of the node's limit and the declared
	/// one: the node's limit first ([`EngineError::TooManyConstantBytes`]), so that a model
	/// over both is refused the same way whatever its spec declares.
	fn over_constants(&self, bytes: u128, declared: Declared<'_>) -> EngineError {
		match declared.max_constant_bytes {
			Some(d) if bytes <= u128::from(self.limits.max_constant_bytes) => {
				EngineError::ConstantsOverSpec { bytes, declared: d }
			},
			_ => EngineError::TooManyConstantBytes { bytes, max: self.limits.max_constant_bytes },
		}
	}

	/// Run a cached model within the engine's `run_timeout`. Inputs are checked against the
	/// graph's input specs first.
	pub fn run(&self, hash: &ModelHash, inputs: &[Tensor]) -> Result<Vec<Tensor>, EngineError> {
		self.run_within(hash, inputs, self.limits.run_timeout)
	}

	/// [`Engine::run`] with the wall-time limit `timeout` instead of `Limits::run_timeout`: the
	/// caller's, e.g. the run bound the chain derives from a model's FLOPs, so that every node
	/// gives a model the same time whatever its own default. `None` runs on the caller's thread
	/// without a limit. Slots and the worker pool are shared with [`Engine::run`].
	pub fn run_within(
		&self,
		hash: &ModelHash,
		inputs: &[Tensor],
		timeout: Option<Duration>,
	) -> Result<Vec<Tensor>, EngineError> {
		let plan = self.lookup(hash).ok_or_else(|| EngineError::NotLoaded(hex32(hash)))?;
		let specs = &plan.info.io.inputs;
		if inputs.len() != specs.len() {
			return Err(EngineError::InputCount { expected: specs.len(), found: inputs.len() });
		}
		let mut values = tp::TVec::new();
		for (index, (t, spec)) in inputs.iter().zip(specs.iter()).enumerate() {
			spec.check(t).map_err(|error| EngineError::InputSpec { index, error })?;
			for (axis, (d, v)) in spec.dims.iter().zip(t.shape()).enumerate() {
				if d.is_none() && *v > self.limits.max_batch {
					return Err(EngineError::BatchTooLarge {
						index,
						axis,
						found: *v,
						max: self.limits.max_batch,
					});
				}
			}
			values.push(to_tract(t)?.into_tvalue());
		}

		// No time at all: timed out without running. Waiting zero time for the worker would
		// race it (a small cached model can finish first), and the outcome must not depend on
		// the machine.
		if let Some(limit) = timeout.filter(|t| t.is_zero()) {
			return Err(EngineError::Timeout(limit));
		}
		// Reserve a run slot; released when the run finishes, even after a timeout.
		let prev = self.in_flight.fetch_add(1, Ordering::SeqCst);
		let slot = Slot(self.in_flight.clone());
		if prev >= self.limits.max_concurrent_runs {
			return Err(EngineError::Busy(prev));
		}
		let outputs = match timeout {
			None => {
				let _slot = slot;
				plan.run(values)?
			},
			Some(limit) => {
				let pool = self.pool.get_or_init(Pool::new);
				pool.ensure_workers(prev + 1)?;
				let (reply, rx) = mpsc::sync_channel(1);
				pool.tx
					.send(Job { plan: plan.clone(), inputs: values, slot, reply })
					.map_err(|_| EngineError::Run("worker pool is closed".into()))?;
				match rx.recv_timeout(limit) {
					Ok(r) => r?,
					Err(mpsc::RecvTimeoutError::Timeout) => {
						return Err(EngineError::Timeout(limit))
					},
					Err(mpsc::RecvTimeoutError::Disconnected) => {
						return Err(EngineError::Run("worker thread vanished".into()))
					},
				}
			},
		};
		outputs
			.into_iter()
			.enumerate()
			.map(|(index, v)| from_tract(index, &v, plan.output_dtypes.get(index).copied()))
			.collect()
	}
}

/// What a model's registered spec declares, checked by [`Engine::load_declared`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Declared<'a> {
	/// Inputs and outputs: each must be compatible with the graph's.
	pub io: Option<&'a ModelIo>,
	/// Most bytes of constants the model's plan may hold: the registered figure its deposit
	/// pays for, compared with the model's constant bound ([`ModelInfo::constants_bound`], the
	/// same on every node). `None`: only the node's `Limits::max_constant_bytes` applies.
	pub max_constant_bytes: Option<u64>,
}

impl Declared<'_> {
	fn check_constants(&self, bytes: u128) -> Result<(), EngineError> {
		match self.max_constant_bytes {
			Some(d) if bytes > u128::from(d) => {
				Err(EngineError::ConstantsOverSpec { bytes, declared: d })
			},
			_ => Ok(()),
		}
	}
}

/// The last compilation step of [`Engine::load`], public for diagnostic tools. On the
/// decluttered model, small f32 NCHW convolutions (with a ReLU that follows them) are replaced
/// by the engine's direct kernel on x86-64 CPUs with AVX2 or AVX-512 (`src/conv.rs`: padding
/// folded in, the same bits on all of them, within a few ulps of tract's); then tract's
/// `optimize` (concrete shapes are already fixed by
/// the graph; codegen picks im2col + matrix multiply kernels for the other convolutions); then
/// f32 NCHW max pools are replaced by the engine's own kernel (`src/maxpool.rs`: same results as
/// tract's generic walk, several times faster).
pub fn optimize(mut model: tp::TypedModel) -> tp::TractResult<tp::TypedModel> {
	// Before `optimize`: afterwards tract's convolution is split into pad, im2col and a matrix
	// multiply whose weights are in tract's private packed format.
	crate::conv::replace_convs(&mut model)?;
	model.optimize()?;
	crate::maxpool::replace_max_pools(&mut model)?;
	Ok(model)
}

/// Compiling a model allocates and frees tensors several times the size of its largest constant
/// (the folded value, a transposed copy, the packed one), and evicting a plan frees its weights.
/// glibc keeps freed blocks below the top of its heap resident; handing them back after each
/// cold load keeps the process's resident memory near what the cached plans hold (measured in
/// `tests/robustness.rs`: without it, 5 cached plans of 16 MiB held 112-128 MiB; with it, 80).
#[allow(unsafe_code)]
fn release_free_memory() {
	#[cfg(all(target_os = "linux", target_env = "gnu"))]
	// SAFETY: `malloc_trim` only returns free pages of the allocator's heaps to the OS; it is
	// thread-safe and has no preconditions.
	unsafe {
		libc::malloc_trim(0);
	}
}
