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
//!    of it is folded, within `max_constant_bytes` ([`EngineError::TooManyConstantBytes`]);
//! 5. translation to a typed graph, then every fact (inputs, outputs and intermediates) within
//!    `max_elements`, with each symbolic dimension bound to `max_batch`; shapes that depend on
//!    data (fresh symbols) are rejected, because they cannot be bounded;
//! 6. the declared [`ModelIo`], if any, compatible with the graph's inputs and outputs;
//! 7. cost estimates on the decluttered graph: multiply-adds and divisions (`max_flops`) and
//!    the sum of all tensor sizes as an upper bound of peak memory (`max_peak_bytes`); then
//!    model bytes + constant bound + one run's peak of live tensors within `cache_bytes`
//!    ([`EngineError::PlanTooLarge`]); all of 1-7 depend on the graph only, not on the CPU;
//! 8. optimization into a runnable plan, measured (see "Cache") and inserted into the cache.
//!
//! Every call into tract is wrapped in `catch_unwind`: a hostile model is reported as
//! [`EngineError::Panic`] and never takes the process down (the node's profiles unwind).
//!
//! ## Cache
//! Plans are kept in an LRU bounded in bytes, keyed by model hash. A plan is charged
//! `model bytes + max(constant bound, held) + scratch` ([`ModelInfo::plan_bytes`]):
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
//! one charged (each within `max_peak_bytes`), plus the allocator's and tract's own overhead;
//! docs/benchmarks.md ("Plan memory") has the measured figures.
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

/// Static and dynamic limits of the engine. All are enforced; see the module docs for where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
	/// Largest accepted model file.
	pub max_model_bytes: usize,
	/// Largest tensor anywhere: input, output, initializer or intermediate, in elements.
	pub max_elements: u64,
	/// Value assumed for every symbolic dimension in the static estimates, and the largest
	/// value a symbolic dimension may take at run time.
	pub max_batch: u32,
	/// Most multiply-adds plus divisions one run may perform (estimate from tract's costs).
	pub max_flops: u64,
	/// Upper bound of the bytes of all tensors of one run (sum of every fact's size).
	pub max_peak_bytes: u64,
	/// Most bytes of constants a plan may hold: every tensor that is a constant or computable
	/// from constants (what tract folds into the plan and packs into its ops), counted once per
	/// consumer, computed from the graph before anything is folded (`src/fold.rs`). The same on
	/// every node for a given model, so attestation refuses such a model everywhere alike.
	pub max_constant_bytes: u64,
	/// Most nodes in a graph.
	pub max_nodes: usize,
	/// Byte budget of the plan cache.
	pub cache_bytes: u64,
	/// Wall-time limit of one run; `None` runs on the caller's thread without a limit (for
	/// benchmarks and trusted tools only).
	pub run_timeout: Option<Duration>,
	/// Most runs in flight at once, including detached timed-out ones.
	pub max_concurrent_runs: usize,
}

impl Default for Limits {
	fn default() -> Self {
		Self {
			max_model_bytes: 64 << 20,
			max_elements: 1 << 24,
			max_batch: 64,
			max_flops: 20_000_000_000,
			max_peak_bytes: 1 << 30,
			max_constant_bytes: 256 << 20,
			max_nodes: 10_000,
			cache_bytes: 512 << 20,
			run_timeout: Some(Duration::from_secs(10)),
			max_concurrent_runs: 8,
		}
	}
}

/// Which side of the model a tensor is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
	Input,
	Output,
}

impl std::fmt::Display for Side {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str(match self {
			Side::Input => "input",
			Side::Output => "output",
		})
	}
}

/// Every way loading or running a model can fail.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum EngineError {
	#[error("model is {size} bytes, the limit is {max}")]
	ModelTooLarge { size: usize, max: usize },
	#[error("model hash is 0x{actual}, expected 0x{expected}")]
	HashMismatch { expected: String, actual: String },
	#[error("model is not a valid ONNX protobuf: {0}")]
	Malformed(String),
	#[error("model has no graph")]
	MissingGraph,
	#[error("model has {nodes} nodes, the limit is {max}")]
	TooManyNodes { nodes: usize, max: usize },
	#[error("op {domain}::{op} (node '{node}') is not allowed on Verity")]
	OpNotAllowed { op: String, domain: String, node: String },
	#[error("op {op} (node '{node}') is not supported by the engine")]
	OpNotSupported { op: String, node: String },
	#[error("node '{node}' has a sub-graph attribute; control flow is not allowed")]
	Subgraph { node: String },
	#[error("model-local functions are not allowed")]
	Functions,
	#[error("tensor '{name}' uses external or sparse data, which is not allowed")]
	ExternalData { name: String },
	#[error("{what} has {elements} elements, the limit is {max}")]
	TensorTooLarge { what: String, elements: u128, max: u64 },
	#[error("{what} has a shape that depends on data ({shape}); it cannot be bounded")]
	UnboundedShape { what: String, shape: String },
	#[error("{side} {index} has type {dtype}, which Verity tensors cannot carry")]
	UnsupportedDType { side: Side, index: usize, dtype: String },
	#[error("model has {found} {side}s, at most {max} are allowed")]
	TooManyTensors { side: Side, found: usize, max: usize },
	#[error("declared {side}s do not match the graph: {detail}")]
	SpecMismatch { side: Side, detail: String },
	#[error("estimated {flops} operations per run, the limit is {max}")]
	TooManyFlops { flops: u128, max: u64 },
	#[error("estimated {bytes} bytes of tensors per run, the limit is {max}")]
	TooMuchMemory { bytes: u128, max: u64 },
	#[error(
		"constants computed from the graph would hold {bytes} bytes in the plan, the limit is {max}"
	)]
	TooManyConstantBytes { bytes: u128, max: u64 },
	#[error("compiled plan needs {bytes} bytes, more than the whole cache ({max})")]
	PlanTooLarge { bytes: u128, max: u64 },
	#[error("tract rejected the model while {stage}: {message}")]
	Tract { stage: &'static str, message: String },
	#[error("tract panicked while {stage}: {message}")]
	Panic { stage: &'static str, message: String },
	#[error("model 0x{0} is not loaded")]
	NotLoaded(String),
	#[error("got {found} inputs, the model takes {expected}")]
	InputCount { expected: usize, found: usize },
	#[error("input {index}: {error}")]
	InputSpec { index: usize, error: SpecError },
	#[error("input {index} dimension {axis} is {found}, symbolic dimensions are limited to {max}")]
	BatchTooLarge { index: usize, axis: usize, found: u32, max: u32 },
	#[error("run failed: {0}")]
	Run(String),
	#[error("run exceeded the wall-time limit of {0:?}")]
	Timeout(Duration),
	#[error("too many runs in flight ({0}); retry later")]
	Busy(usize),
	#[error("could not start a worker thread: {0}")]
	Thread(String),
	#[error("output {index}: {message}")]
	Output { index: usize, message: String },
}

/// ONNX ops accepted on Verity (default domain). Deterministic, side-effect free, no control
/// flow: random generators (`RandomNormal`, `Multinomial`, ...) and sub-graph ops (`If`,
/// `Loop`, `Scan`) are left out on purpose.
pub const ALLOWED_OPS: &[&str] = &[
	"Abs",
	"Acos",
	"Acosh",
	"Add",
	"And",
	"ArgMax",
	"ArgMin",
	"Asin",
	"Asinh",
	"Atan",
	"Atanh",
	"AveragePool",
	"BatchNormalization",
	"BitShift",
	"Cast",
	"CastLike",
	"Ceil",
	"Celu",
	"Clip",
	"Compress",
	"Concat",
	"Constant",
	"ConstantOfShape",
	"Conv",
	"ConvInteger",
	"ConvTranspose",
	"Cos",
	"Cosh",
	"CumSum",
	"DepthToSpace",
	"DequantizeLinear",
	"Div",
	"Dropout",
	"DynamicQuantizeLinear",
	"Einsum",
	"Elu",
	"Equal",
	"Erf",
	"Exp",
	"Expand",
	"EyeLike",
	"Flatten",
	"Floor",
	"GRU",
	"Gather",
	"GatherElements",
	"GatherND",
	"Gelu",
	"Gemm",
	"GlobalAveragePool",
	"GlobalLpPool",
	"GlobalMaxPool",
	"Greater",
	"GreaterOrEqual",
	"HardSigmoid",
	"HardSwish",
	"Hardmax",
	"Identity",
	"InstanceNormalization",
	"IsInf",
	"IsNaN",
	"LRN",
	"LSTM",
	"LayerNormalization",
	"LeakyRelu",
	"Less",
	"LessOrEqual",
	"Log",
	"LogSoftmax",
	"LpNormalization",
	"MatMul",
	"MatMulInteger",
	"Max",
	"MaxPool",
	"Mean",
	"Min",
	"Mish",
	"Mod",
	"Mul",
	"Neg",
	"Not",
	"OneHot",
	"Or",
	"PRelu",
	"Pad",
	"Pow",
	"QLinearConv",
	"QLinearMatMul",
	"QuantizeLinear",
	"RNN",
	"Range",
	"Reciprocal",
	"ReduceL1",
	"ReduceL2",
	"ReduceLogSum",
	"ReduceLogSumExp",
	"ReduceMax",
	"ReduceMean",
	"ReduceMin",
	"ReduceProd",
	"ReduceSum",
	"ReduceSumSquare",
	"Relu",
	"Reshape",
	"Resize",
	"Round",
	"ScatterElements",
	"ScatterND",
	"Selu",
	"Shape",
	"Shrink",
	"Sigmoid",
	"Sign",
	"Sin",
	"Sinh",
	"Size",
	"Slice",
	"Softmax",
	"Softplus",
	"Softsign",
	"SpaceToDepth",
	"Split",
	"Sqrt",
	"Squeeze",
	"Sub",
	"Sum",
	"Tan",
	"Tanh",
	"ThresholdedRelu",
	"Tile",
	"TopK",
	"Transpose",
	"Trilu",
	"Unsqueeze",
	"Upsample",
	"Where",
	"Xor",
];

/// What the engine learned about a loaded model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelInfo {
	pub hash: ModelHash,
	/// Inputs and outputs as the graph declares them (symbolic dims are `None`).
	pub io: ModelIo,
	/// ONNX opset of the default domain.
	pub opset: i64,
	/// Estimated multiply-adds and divisions per run at `max_batch`.
	pub flops: u128,
	/// Upper bound of tensor bytes per run at `max_batch`.
	pub peak_bytes: u128,
	/// Bound of the constant bytes the plan may hold (checked against `max_constant_bytes`;
	/// see `src/fold.rs`), computed from the graph before folding: the same on every node.
	pub constant_bytes: u128,
	/// Bytes the optimized plan holds in its constants, measured: plain tensors plus the
	/// buffers of weights packed for tract's matrix multiply. Depends on the CPU's kernels.
	pub held_bytes: u64,
	/// Bound of the tensors one run has alive at once at `max_batch`: the peak of live
	/// non-constant tensors over the optimized plan's steps (im2col buffers included) or over
	/// the decluttered graph's evaluation order, the larger.
	pub scratch_bytes: u128,
	/// Bytes the plan is charged in the cache: model bytes + max(`constant_bytes`,
	/// `held_bytes`) + `scratch_bytes`. See the module docs, "Cache".
	pub plan_bytes: u64,
}

struct Plan {
	info: Arc<ModelInfo>,
	plan: Arc<tp::TypedSimplePlan>,
	/// No op keeps state between runs, so a run state can be reused for the next run.
	stateless: bool,
	/// tract dtype of each output, to convert quantized outputs back.
	output_dtypes: Vec<DType>,
	/// Run states of this plan's finished runs, reused by its next runs (stateless plans only,
	/// at most `max_concurrent_runs`). They live and die with the plan: an evicted plan is freed
	/// when its last run ends, never kept alive by an idle worker.
	spare: Mutex<Vec<tp::TypedSimpleState>>,
	max_spare: usize,
}

impl Plan {
	fn run(&self, inputs: tp::TVec<tp::TValue>) -> RunResult {
		let spare = self.spare.lock().unwrap_or_else(|p| p.into_inner()).pop();
		let mut st = match spare {
			Some(st) => st,
			None => guarded("running", || self.plan.spawn())?,
		};
		// After an error or a panic the state may be half-updated: it is dropped.
		let r = guarded("running", || st.run(inputs))?;
		if self.stateless {
			let mut spare = self.spare.lock().unwrap_or_else(|p| p.into_inner());
			if spare.len() < self.max_spare {
				spare.push(st);
			}
		}
		Ok(r)
	}
}

struct CacheEntry {
	plan: Arc<Plan>,
	last_used: u64,
}

#[derive(Default)]
struct Cache {
	entries: HashMap<ModelHash, CacheEntry>,
	bytes: u64,
	clock: u64,
}

/// Cache occupancy, for metrics and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheStats {
	pub entries: usize,
	pub bytes: u64,
	pub capacity: u64,
}

/// The engine. `Send + Sync`: share one behind an `Arc` across workers and RPC handlers.
pub struct Engine {
	limits: Limits,
	cache: Mutex<Cache>,
	in_flight: Arc<AtomicUsize>,
	/// Workers for runs with a wall-time limit, started on the first such run.
	pool: OnceLock<Pool>,
}

type RunResult = Result<tp::TVec<tp::TValue>, EngineError>;

/// A run handed to the pool.
struct Job {
	plan: Arc<Plan>,
	inputs: tp::TVec<tp::TValue>,
	/// The run's slot: released by the worker when the run ends, also after a timeout.
	slot: Slot,
	/// The caller's end is gone after a timeout; the result is then dropped.
	reply: mpsc::SyncSender<RunResult>,
}

/// Persistent worker threads sharing one job queue. Dropping the pool (with the engine) closes
/// the queue: idle workers exit, busy ones after their run.
struct Pool {
	tx: mpsc::Sender<Job>,
	shared: Arc<PoolShared>,
}

struct PoolShared {
	rx: Mutex<mpsc::Receiver<Job>>,
	/// Live worker threads (busy, abandoned or idle).
	live: AtomicUsize,
}

impl Pool {
	fn new() -> Self {
		let (tx, rx) = mpsc::channel();
		Self { tx, shared: Arc::new(PoolShared { rx: Mutex::new(rx), live: AtomicUsize::new(0) }) }
	}

	/// Make sure at least `needed` workers live. Called with the number of admitted runs
	/// (including abandoned ones still running), which is at most `max_concurrent_runs`: every
	/// admitted run then has a worker of its own, and a worker stuck in an abandoned run is
	/// replaced when the next run needs it.
	fn ensure_workers(&self, needed: usize) -> Result<(), EngineError> {
		let mut live = self.shared.live.load(Ordering::SeqCst);
		while live < needed {
			match self.shared.live.compare_exchange(
				live,
				live + 1,
				Ordering::SeqCst,
				Ordering::SeqCst,
			) {
				Ok(_) => {
					spawn_worker(self.shared.clone()).map_err(|e| {
						self.shared.live.fetch_sub(1, Ordering::SeqCst);
						EngineError::Thread(e.to_string())
					})?;
					live += 1;
				},
				Err(now) => live = now,
			}
		}
		Ok(())
	}
}

/// The name of the engine's run threads. A host process whose panic hook ends the process (a
/// Substrate node's does) must let panics on these threads unwind: every tract call on them
/// is inside `catch_unwind`, and a hostile model must fail its run, not stop the process.
pub const WORKER_THREAD_NAME: &str = "verity-inference";

/// Start one worker; the caller has already counted it in `live`.
fn spawn_worker(shared: Arc<PoolShared>) -> std::io::Result<()> {
	std::thread::Builder::new().name(WORKER_THREAD_NAME.into()).spawn(move || {
		let guard = WorkerGuard(shared);
		loop {
			let job = {
				let rx = guard.0.rx.lock().unwrap_or_else(|p| p.into_inner());
				rx.recv()
			};
			let Ok(Job { plan, inputs, slot, reply }) = job else { break };
			let r = plan.run(inputs);
			// Free the slot before replying, so that a caller who runs again right away is not
			// refused for its own finished run.
			drop(slot);
			let _ = reply.send(r);
		}
	})?;
	Ok(())
}

/// Uncounts a worker when its thread ends; if it ends by unwinding, starts a replacement.
struct WorkerGuard(Arc<PoolShared>);

impl Drop for WorkerGuard {
	fn drop(&mut self) {
		if std::thread::panicking() {
			// Still counted in `live`: the replacement takes over the count.
			if spawn_worker(self.0.clone()).is_err() {
				self.0.live.fetch_sub(1, Ordering::SeqCst);
			}
		} else {
			self.0.live.fetch_sub(1, Ordering::SeqCst);
		}
	}
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

fn to_dtype(dt: tp::DatumType) -> Option<DType> {
	use tp::DatumType as T;
	Some(match dt.unquantized() {
		T::F32 => DType::F32,
		T::F16 => DType::F16,
		T::I8 => DType::I8,
		T::U8 => DType::U8,
		T::I32 => DType::I32,
		T::I64 => DType::I64,
		T::Bool => DType::Bool,
		_ => return None,
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

	fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
		// A poisoned lock only means another thread panicked while holding it; the cache
		// itself stays consistent (every mutation is a single insert/remove), so keep going.
		self.cache.lock().unwrap_or_else(|p| p.into_inner())
	}

	fn lookup(&self, hash: &ModelHash) -> Option<Arc<Plan>> {
		let mut c = self.cache();
		c.clock = c.clock.wrapping_add(1);
		let now = c.clock;
		let e = c.entries.get_mut(hash)?;
		e.last_used = now;
		Some(e.plan.clone())
	}

	/// Whether a compiled plan for `hash` is cached.
	pub fn is_loaded(&self, hash: &ModelHash) -> bool {
		self.cache().entries.contains_key(hash)
	}

	/// What the engine knows about a cached model.
	pub fn info(&self, hash: &ModelHash) -> Option<Arc<ModelInfo>> {
		self.lookup(hash).map(|p| p.info.clone())
	}

	/// Drop a model's plan (runs in flight keep their `Arc`).
	pub fn evict(&self, hash: &ModelHash) {
		let mut c = self.cache();
		if let Some(e) = c.entries.remove(hash) {
			c.bytes = c.bytes.saturating_sub(e.plan.info.plan_bytes);
		}
	}

	pub fn cache_stats(&self) -> CacheStats {
		let c = self.cache();
		CacheStats { entries: c.entries.len(), bytes: c.bytes, capacity: self.limits.cache_bytes }
	}

	fn insert(&self, plan: Arc<Plan>) {
		let mut c = self.cache();
		let bytes = plan.info.plan_bytes;
		let hash = plan.info.hash;
		if let Some(old) = c.entries.remove(&hash) {
			c.bytes = c.bytes.saturating_sub(old.plan.info.plan_bytes);
		}
		// Evict least recently used entries until the new plan fits. Linear scan: the cache
		// holds at most a few hundred plans and this runs once per cold load.
		while c.bytes.saturating_add(bytes) > self.limits.cache_bytes {
			let Some(victim) = c.entries.iter().min_by_key(|(_, e)| e.last_used).map(|(h, _)| *h)
			else {
				break;
			};
			if let Some(e) = c.entries.remove(&victim) {
				c.bytes = c.bytes.saturating_sub(e.plan.info.plan_bytes);
			}
		}
		c.clock = c.clock.wrapping_add(1);
		let now = c.clock;
		c.bytes = c.bytes.saturating_add(bytes);
		c.entries.insert(hash, CacheEntry { plan, last_used: now });
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
			if let Some(d) = declared {
				check_declared(d, &plan.info.io)?;
			}
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
		declared: Option<&ModelIo>,
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
		// the plan may hold before translation folds them (src/fold.rs).
		crate::fold::bound_ops(
			&mut inference,
			self.limits.max_elements,
			self.limits.max_constant_bytes,
		);
		guarded("analysing types", || inference.analyse(false))?;
		let constant_bytes =
			guarded("bounding constants", || crate::fold::constant_bytes(&inference))?;
		if constant_bytes > u128::from(self.limits.max_constant_bytes) {
			return Err(EngineError::TooManyConstantBytes {
				bytes: constant_bytes,
				max: self.limits.max_constant_bytes,
			});
		}
		// The first part of step 7's check, before translation materializes the constants.
		let model_bytes = bytes.len() as u128;
		if model_bytes.saturating_add(constant_bytes) > u128::from(self.limits.cache_bytes) {
			return Err(EngineError::PlanTooLarge {
				bytes: model_bytes.saturating_add(constant_bytes),
				max: self.limits.cache_bytes,
			});
		}
		let typed = guarded("analysing types", || inference.into_typed())?;

		let symbols = self.bind_symbols(&typed)?;
		self.check_facts(&typed, &symbols)?;
		let io = graph_io(&typed)?;
		if let Some(d) = declared {
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
		let bound = model_bytes.saturating_add(constant_bytes).saturating_add(activations);
		if bound > u128::from(self.limits.cache_bytes) {
			return Err(EngineError::PlanTooLarge { bytes: bound, max: self.limits.cache_bytes });
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
			.saturating_add(constant_bytes.max(u128::from(held_bytes)))
			.saturating_add(scratch_bytes);
		let stateless =
			guarded("planning", || Ok(plan.spawn()?.op_states.iter().all(Option::is_none)))?;
		let info = ModelInfo {
			hash,
			io,
			opset,
			flops,
			peak_bytes,
			constant_bytes,
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

	/// Checks on the raw protobuf, before tract interprets anything. Returns the opset.
	fn scan_proto(
		&self,
		proto: &pb::ModelProto,
		onnx: &tract_onnx::Onnx,
	) -> Result<i64, EngineError> {
		let graph = proto.graph.as_ref().ok_or(EngineError::MissingGraph)?;
		if !proto.functions.is_empty() {
			return Err(EngineError::Functions);
		}
		let opset = proto
			.opset_import
			.iter()
			.find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
			.map(|o| o.version)
			.unwrap_or(0);
		if graph.node.len() > self.limits.max_nodes {
			return Err(EngineError::TooManyNodes {
				nodes: graph.node.len(),
				max: self.limits.max_nodes,
			});
		}
		if let Some(s) = graph.sparse_initializer.first() {
			let name = s.values.as_ref().map(|v| v.name.clone()).unwrap_or_default();
			return Err(EngineError::ExternalData { name });
		}
		for t in &graph.initializer {
			self.check_tensor_proto(t)?;
		}
		for node in &graph.node {
			if !(node.domain.is_empty() || node.domain == "ai.onnx")
				|| !ALLOWED_OPS.contains(&node.op_type.as_str())
			{
				return Err(EngineError::OpNotAllowed {
					op: node.op_type.clone(),
					domain: if node.domain.is_empty() {
						"ai.onnx".into()
					} else {
						node.domain.clone()
					},
					node: node.name.clone(),
				});
			}
			if !onnx.op_register.0.contains_key(&node.op_type) {
				return Err(EngineError::OpNotSupported {
					op: node.op_type.clone(),
					node: node.name.clone(),
				});
			}
			for a in &node.attribute {
				if a.g.is_some() || !a.graphs.is_empty() {
					return Err(EngineError::Subgraph { node: node.name.clone() });
				}
				if a.sparse_tensor.is_some() || !a.sparse_tensors.is_empty() {
					return Err(EngineError::ExternalData { name: node.name.clone() });
				}
				if let Some(t) = &a.t {
					self.check_tensor_proto(t)?;
				}
				for t in &a.tensors {
					self.check_tensor_proto(t)?;
				}
			}
		}
		Ok(opset)
	}

	fn check_tensor_proto(&self, t: &pb::TensorProto) -> Result<(), EngineError> {
		if t.data_location == Some(pb::tensor_proto::DataLocation::External as i32)
			|| !t.external_data.is_empty()
		{
			return Err(EngineError::ExternalData { name: t.name.clone() });
		}
		let mut n: u128 = 1;
		for d in &t.dims {
			let d = u128::try_from(*d).map_err(|_| {
				EngineError::Malformed(format!("tensor '{}' has a negative dimension", t.name))
			})?;
			n = n.saturating_mul(d);
		}
		if n > u128::from(self.limits.max_elements) {
			return Err(EngineError::TensorTooLarge {
				what: format!("initializer '{}'", t.name),
				elements: n,
				max: self.limits.max_elements,
			});
		}
		Ok(())
	}

	/// Bind every symbol of the graph's inputs to `max_batch`.
	fn bind_symbols(&self, m: &tp::TypedModel) -> Result<tp::SymbolValues, EngineError> {
		let mut syms = HashSet::new();
		for o in m.input_outlets().map_err(tract_err("listing inputs"))? {
			let f = m.outlet_fact(*o).map_err(tract_err("listing inputs"))?;
			for d in f.shape.dims() {
				syms.extend(d.symbols());
			}
		}
		let mut values = tp::SymbolValues::default();
		for s in syms {
			values.set(&s, i64::from(self.limits.max_batch));
		}
		Ok(values)
	}

	/// Every fact (inputs, outputs, intermediates, constants) within `max_elements`.
	fn check_facts(&self, m: &tp::TypedModel, syms: &tp::SymbolValues) -> Result<(), EngineError> {
		for node in m.nodes() {
			for (ix, out) in node.outputs.iter().enumerate() {
				let what = || format!("tensor {}:{} ('{}')", node.id, ix, node.name);
				let n = volume(&out.fact, syms).ok_or_else(|| EngineError::UnboundedShape {
					what: what(),
					shape: format!("{:?}", out.fact.shape),
				})?;
				if n > u128::from(self.limits.max_elements) {
					return Err(EngineError::TensorTooLarge {
						what: what(),
						elements: n,
						max: self.limits.max_elements,
					});
				}
			}
		}
		Ok(())
	}

	/// Run a cached model. Inputs are checked against the graph's input specs first.
	pub fn run(&self, hash: &ModelHash, inputs: &[Tensor]) -> Result<Vec<Tensor>, EngineError> {
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

		// Reserve a run slot; released when the run finishes, even after a timeout.
		let prev = self.in_flight.fetch_add(1, Ordering::SeqCst);
		let slot = Slot(self.in_flight.clone());
		if prev >= self.limits.max_concurrent_runs {
			return Err(EngineError::Busy(prev));
		}
		let outputs = match self.limits.run_timeout {
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

/// Decrements the in-flight counter when dropped.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
	fn drop(&mut self) {
		self.0.fetch_sub(1, Ordering::SeqCst);
	}
}

fn tract_err(stage: &'static str) -> impl Fn(tp::TractError) -> EngineError {
	move |e| EngineError::Tract { stage, message: format!("{e:#}") }
}

/// Element count of a fact with symbols bound, `None` if it depends on an unbound symbol.
fn volume(f: &tp::TypedFact, syms: &tp::SymbolValues) -> Option<u128> {
	let mut n: u128 = 1;
	for d in f.shape.dims() {
		let v = d.eval_to_i64(syms).ok()?;
		n = n.saturating_mul(u128::try_from(v).ok()?);
	}
	Some(n)
}

fn spec_of(f: &tp::TypedFact, side: Side, index: usize) -> Result<TensorSpec, EngineError> {
	let dtype = to_dtype(f.datum_type).ok_or_else(|| EngineError::UnsupportedDType {
		side,
		index,
		dtype: format!("{:?}", f.datum_type),
	})?;
	let dims: Vec<Dim> =
		f.shape.dims().iter().map(|d| d.as_i64().and_then(|v| u32::try_from(v).ok())).collect();
	TensorSpec::new(dtype, dims).ok_or_else(|| EngineError::SpecMismatch {
		side,
		detail: format!("{side} {index} has rank {}, above {}", f.shape.rank(), crate::MAX_RANK),
	})
}

fn graph_io(m: &tp::TypedModel) -> Result<ModelIo, EngineError> {
	let side_specs =
		|outlets: &[tp::OutletId], side: Side| -> Result<Vec<TensorSpec>, EngineError> {
			if outlets.len() > MAX_TENSORS as usize {
				return Err(EngineError::TooManyTensors {
					side,
					found: outlets.len(),
					max: MAX_TENSORS as usize,
				});
			}
			outlets
				.iter()
				.enumerate()
				.map(|(i, o)| {
					let f = m.outlet_fact(*o).map_err(tract_err("reading facts"))?;
					spec_of(f, side, i)
				})
				.collect()
		};
	let inputs = side_specs(m.input_outlets().map_err(tract_err("listing inputs"))?, Side::Input)?;
	let outputs =
		side_specs(m.output_outlets().map_err(tract_err("listing outputs"))?, Side::Output)?;
	// Both lengths were checked against MAX_TENSORS above.
	Ok(ModelIo {
		inputs: inputs.try_into().map_err(|_| EngineError::SpecMismatch {
			side: Side::Input,
			detail: "too many".into(),
		})?,
		outputs: outputs.try_into().map_err(|_| EngineError::SpecMismatch {
			side: Side::Output,
			detail: "too many".into(),
		})?,
	})
}

fn check_declared(declared: &ModelIo, graph: &ModelIo) -> Result<(), EngineError> {
	for (side, d, g) in [
		(Side::Input, &declared.inputs, &graph.inputs),
		(Side::Output, &declared.outputs, &graph.outputs),
	] {
		if d.len() != g.len() {
			return Err(EngineError::SpecMismatch {
				side,
				detail: format!("{} declared, the graph has {}", d.len(), g.len()),
			});
		}
		for (i, (ds, gs)) in d.iter().zip(g.iter()).enumerate() {
			if !ds.compatible_with_graph(gs) {
				return Err(EngineError::SpecMismatch {
					side,
					detail: format!("{side} {i} declared {ds:?}, the graph has {gs:?}"),
				});
			}
		}
	}
	Ok(())
}

/// (multiply-adds + divisions, sum of all tensor bytes) at the bound symbols.
fn estimate(m: &tp::TypedModel, syms: &tp::SymbolValues) -> Result<(u128, u128), EngineError> {
	let mut flops: u128 = 0;
	let mut bytes: u128 = 0;
	for node in m.nodes() {
		let inputs = m.node_input_facts(node.id).map_err(tract_err("estimating cost"))?;
		let costs = guarded("estimating cost", || node.op.cost(&inputs))?;
		for (kind, count) in costs {
			if kind.is_compute() {
				let c =
					count.eval_to_i64(syms).ok().and_then(|v| u128::try_from(v).ok()).ok_or_else(
						|| EngineError::UnboundedShape {
							what: format!("cost of node '{}'", node.name),
							shape: format!("{count}"),
						},
					)?;
				flops = flops.saturating_add(c);
			}
		}
		for out in &node.outputs {
			let n = volume(&out.fact, syms).unwrap_or(u128::MAX);
			bytes = bytes.saturating_add(n.saturating_mul(out.fact.datum_type.size_of() as u128));
		}
	}
	Ok((flops, bytes))
}

/// The most bytes of non-constant tensors alive at once when the nodes of `m` run in `order`
/// at the bound symbols: a node's outputs live from its step until the step of their last
/// consumer (what tract's plan frees after each step), the model's outputs until the end.
fn live_peak(
	m: &tp::TypedModel,
	order: &[usize],
	syms: &tp::SymbolValues,
) -> tp::TractResult<u128> {
	let step: HashMap<usize, usize> = order.iter().enumerate().map(|(i, n)| (*n, i)).collect();
	let outputs = m.output_outlets()?;
	let mut freed_after = vec![0u128; order.len().saturating_add(1)];
	let (mut live, mut peak) = (0u128, 0u128);
	for (i, &id) in order.iter().enumerate() {
		let node = m.node(id);
		if !node.op_is::<Const>() {
			for (slot, out) in node.outputs.iter().enumerate() {
				let b = out
					.fact
					.mem_size()
					.eval_to_i64(syms)
					.ok()
					.and_then(|v| u128::try_from(v).ok())
					.unwrap_or(u128::MAX);
				live = live.saturating_add(b);
				let last = if outputs.contains(&tp::OutletId::new(id, slot)) {
					order.len()
				} else {
					out.successors
						.iter()
						.filter_map(|s| step.get(&s.node))
						.copied()
						.max()
						.unwrap_or(i)
				};
				if let Some(f) = freed_after.get_mut(last.max(i)) {
					*f = f.saturating_add(b);
				}
			}
		}
		peak = peak.max(live);
		live = live.saturating_sub(freed_after.get(i).copied().unwrap_or(0));
	}
	Ok(peak)
}

/// The bytes an optimized plan holds in its constants, measured: `Const` nodes (plain tensors,
/// or tract's packed weights, whose storage reports the size of its pointers only: their
/// buffers are measured here) and the packed weights tract bakes into its matrix multiplies
/// (`OptMatMul`, which also carries convolutions). Other ops may keep small constants (pad
/// values, scalars) that are not measured; the charge covers them through the constant bound.
/// Buffers shared between holders are counted once per holder (an over-estimate).
fn held_bytes(m: &tp::TypedModel, syms: &tp::SymbolValues) -> u64 {
	use tract_onnx::tract_core::{
		ops::matmul::optimized::{MatMulOperand, OptMatMul, ProtoFusedSpec},
		tract_linalg::mmm::{EagerPackedInput, MMMInputValue, PackedMatrixStorage},
	};
	let dim_bytes = |d: tp::TDim| d.eval_to_i64(syms).ok().and_then(|v| u64::try_from(v).ok());
	let packed = |v: &dyn MMMInputValue| match v.downcast_ref::<EagerPackedInput>() {
		Some(e) => e.packed.len() as u64,
		None => dim_bytes(v.exotic_fact().mem_size()).unwrap_or(u64::MAX),
	};
	let mut held: u64 = 0;
	for node in m.nodes() {
		let Some(c) = node.op_as::<Const>() else {
			if let Some(mm) = node.op_as::<OptMatMul>() {
				for op in &mm.micro_ops {
					if let ProtoFusedSpec::AddMatMul { a, b, .. } = op {
						for operand in [a, b] {
							if let MatMulOperand::Const(v) = operand {
								held = held.saturating_add(packed(&**v));
							}
						}
					}
				}
			}
			continue;
		};
		let t = c.val();
		let mut b = if let Some(p) = t.storage_as::<PackedMatrixStorage>() {
			p.values().iter().map(|v| packed(&**v)).fold(0u64, u64::saturating_add)
		} else {
			(t.len() as u64).saturating_mul(t.datum_type().size_of() as u64)
		};
		if let Some(out) = node.outputs.first() {
			b = b.max(dim_bytes(out.fact.mem_size()).unwrap_or(0));
		}
		held = held.saturating_add(b);
	}
	held
}

/// Convert a canonical tensor to a tract tensor.
pub fn to_tract(t: &Tensor) -> Result<tp::Tensor, EngineError> {
	let shape: Vec<usize> = t.shape().iter().map(|d| *d as usize).collect();
	let d = t.data();
	let r = match t.dtype() {
		DType::F32 => tp::Tensor::from_shape(
			&shape,
			&d.chunks_exact(4)
				.map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
				.collect::<Vec<_>>(),
		),
		DType::F16 => tp::Tensor::from_shape(
			&shape,
			&d.chunks_exact(2)
				.map(|c| tp::f16::from_bits(u16::from_le_bytes([c[0], c[1]])))
				.collect::<Vec<_>>(),
		),
		DType::I8 => {
			tp::Tensor::from_shape(&shape, &d.iter().map(|b| *b as i8).collect::<Vec<_>>())
		},
		DType::U8 => tp::Tensor::from_shape(&shape, d),
		DType::I32 => tp::Tensor::from_shape(
			&shape,
			&d.chunks_exact(4)
				.map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
				.collect::<Vec<_>>(),
		),
		DType::I64 => tp::Tensor::from_shape(
			&shape,
			&d.chunks_exact(8)
				.map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
				.collect::<Vec<_>>(),
		),
		DType::Bool => {
			tp::Tensor::from_shape(&shape, &d.iter().map(|b| *b != 0).collect::<Vec<_>>())
		},
	};
	r.map_err(|e| EngineError::Run(format!("converting input: {e:#}")))
}

/// Convert a tract tensor to a canonical tensor (quantized types map to their storage type).
/// Errors for types Verity tensors cannot carry (f64, strings, ...).
pub fn from_tract_tensor(t: &tp::Tensor) -> Result<Tensor, EngineError> {
	convert_out(0, t, None)
}

fn from_tract(index: usize, v: &tp::TValue, want: Option<DType>) -> Result<Tensor, EngineError> {
	convert_out(index, v, want)
}

fn convert_out(index: usize, t: &tp::Tensor, want: Option<DType>) -> Result<Tensor, EngineError> {
	let err = |message: String| EngineError::Output { index, message };
	let dtype = to_dtype(t.datum_type())
		.ok_or_else(|| err(format!("unsupported output type {:?}", t.datum_type())))?;
	if let Some(w) = want {
		if w != dtype {
			return Err(err(format!("produced {dtype:?}, the graph declares {w:?}")));
		}
	}
	let shape = t
		.shape()
		.iter()
		.map(|d| u32::try_from(*d))
		.collect::<Result<Vec<u32>, _>>()
		.map_err(|_| err("dimension above u32".into()))?;
	let view = t.try_as_plain_ram().map_err(|e| err(format!("{e:#}")))?;
	let data: Vec<u8> = match dtype {
		// Quantized tract types share their storage with the plain ones; read raw bytes.
		DType::U8 | DType::I8 => view
			.as_bytes()
			.get(..t.len())
			.map(<[u8]>::to_vec)
			.ok_or_else(|| err("output storage is shorter than its shape".into()))?,
		DType::Bool => view
			.as_slice::<bool>()
			.map_err(|e| err(format!("{e:#}")))?
			.iter()
			.map(|b| u8::from(*b))
			.collect(),
		DType::F32 => le_bytes(view.as_slice::<f32>(), |v| v.to_le_bytes()).map_err(&err)?,
		DType::F16 => {
			le_bytes(view.as_slice::<tp::f16>(), |v| v.to_bits().to_le_bytes()).map_err(&err)?
		},
		DType::I32 => le_bytes(view.as_slice::<i32>(), |v| v.to_le_bytes()).map_err(&err)?,
		DType::I64 => le_bytes(view.as_slice::<i64>(), |v| v.to_le_bytes()).map_err(&err)?,
	};
	Tensor::new(dtype, shape, data).map_err(|e| err(e.to_string()))
}

fn le_bytes<T: Copy, const N: usize>(
	s: tp::TractResult<&[T]>,
	f: impl Fn(T) -> [u8; N],
) -> Result<Vec<u8>, String> {
	let s = s.map_err(|e| format!("{e:#}"))?;
	Ok(s.iter().flat_map(|v| f(*v)).collect())
}
