//! The engine's limits, its errors and the ONNX operator allow-list.

use super::*;

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
	/// The model's constant bound ([`ModelInfo::constants_bound`]) is above the limit its
	/// registered spec declares (and its deposit pays for), passed in by the caller of
	/// [`Engine::load_declared`]. Decided on the graph alone, the same on every node: on the
	/// constant bound before anything large is folded, then with the packing bound on the
	/// decluttered graph. `bytes` is the bound, or, when type analysis crossed the limit while
	/// folding small values, what it had folded by then (a lower bound of the bound).
	#[error(
		"constants computed from the graph would hold {bytes} bytes in the plan, more than the \
		 {declared} bytes the model's spec declares"
	)]
	ConstantsOverSpec { bytes: u128, declared: u64 },
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
