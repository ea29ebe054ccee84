//! Types of the model registry: tensor specs, acceptance rules, the registered spec and the
//! on-chain record.
//!
//! Tensor specs, dtypes and acceptance rules are `verity-engine`'s no_std types, so the runtime
//! checks inputs and judges outputs with exactly the code the node's engine uses. Inner limits
//! (name length, tensor count, rank, URIs) are protocol-level constants; the sizes that cost
//! storage (reference vectors, model bytes, chunk size) are `Config` constants.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::{ConstU32, Get},
	BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;
pub use verity_engine::{
	AcceptanceRule, DType, Dim, RuleError, TensorSpec, MAX_RANK, MAX_TENSORS, MAX_TOLERANCE_ABS,
	MAX_TOLERANCE_REL,
};
pub use verity_host::DeterministicTerms;
pub use verity_primitives::{InBlockFigures, ModelId, ModelView, RunLimits, TensorSpecs};

/// Maximum length of a model name in bytes (UTF-8 expected, not enforced).
pub const MAX_NAME_LEN: u32 = 64;
/// Maximum number of URIs a model can be fetched from.
pub const MAX_URIS: u32 = 4;
/// Maximum length of one URI in bytes.
pub const MAX_URI_LEN: u32 = 256;

/// A bounded URI.
pub type Uri = BoundedVec<u8, ConstU32<MAX_URI_LEN>>;

/// The host of `uri` if it is an `http://` or `https://` URL (lower-case scheme) with a plain
/// host: letters, digits, `.`, `-` and `_`, or a bracketed IPv6 address, optionally followed by
/// `:port` (digits). `None` for anything else: other schemes, user info (`user@host`, which
/// makes a URL look like it points elsewhere), an empty host or port, spaces and control
/// characters. Registration accepts only URIs with a host, and nodes fetch only those (and
/// compare the host with their allow list).
pub fn uri_host(uri: &[u8]) -> Option<&[u8]> {
	if !uri.iter().all(|c| c.is_ascii_graphic()) {
		return None;
	}
	let rest = uri.strip_prefix(b"https://").or_else(|| uri.strip_prefix(b"http://"))?;
	let end = rest.iter().position(|c| matches!(c, b'/' | b'?' | b'#')).unwrap_or(rest.len());
	let authority = rest.get(..end)?;
	let (host, port) = if authority.first() == Some(&b'[') {
		let close = authority.iter().position(|c| *c == b']')?;
		let inner = authority.get(1..close)?;
		if inner.is_empty()
			|| !inner.iter().all(|c| c.is_ascii_hexdigit() || matches!(c, b':' | b'.'))
		{
			return None;
		}
		let after = authority.get(close.checked_add(1)?..)?;
		(authority.get(..=close)?, after)
	} else {
		let colon = authority.iter().position(|c| *c == b':').unwrap_or(authority.len());
		let host = authority.get(..colon)?;
		if host.is_empty()
			|| !host.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
		{
			return None;
		}
		(host, authority.get(colon..)?)
	};
	match port.split_first() {
		None => Some(host),
		Some((b':', digits)) if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
			Some(host)
		},
		_ => None,
	}
}

/// Largest URI model, in bytes: the engine's limit on model files
/// (`verity_engine::Limits::max_model_bytes`), so no node fetches more than it could load.
pub const MAX_URI_MODEL_SIZE: u64 = 64 << 20;

/// Where nodes get the model bytes from.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	PartialEq,
	Eq,
	Debug,
	serde::Serialize,
	serde::Deserialize,
)]
pub enum Availability {
	/// Uploaded on chain with `upload_chunk` (models up to `MaxModelSize`).
	OnChain,
	/// Fetched over HTTP(S) from any of these URIs and verified against the hash.
	Uris(BoundedVec<Uri, ConstU32<MAX_URIS>>),
}

/// Everything needed to run and judge a model, as given by its owner.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	serde::Serialize,
	serde::Deserialize,
)]
#[scale_info(skip_type_params(MaxRef))]
#[codec(mel_bound(Balance: MaxEncodedLen))]
#[serde(bound(
	serialize = "Balance: serde::Serialize",
	deserialize = "Balance: serde::Deserialize<'de>"
))]
pub struct ModelSpec<Balance, MaxRef: Get<u32>>
where
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// Human-readable name.
	pub name: BoundedVec<u8, ConstU32<MAX_NAME_LEN>>,
	/// Input tensors, in the model's input order.
	pub inputs: TensorSpecs,
	/// Output tensors, in the model's output order.
	pub outputs: TensorSpecs,
	/// ONNX opset version.
	pub opset: u32,
	/// Engine version the reference vector was produced with.
	pub engine_version: u32,
	/// Royalty paid to the owner per call.
	pub price_per_call: Balance,
	/// How outputs are compared. `Exact` for a `Deterministic` model.
	pub acceptance: AcceptanceRule,
	/// How nodes compute the model's outputs ([`ExecutionClass`]).
	pub execution: ExecutionClass,
	/// Size of the ONNX file in bytes.
	pub byte_size: u64,
	/// Most bytes of constants the model's plan may hold, as the engine bounds them from the
	/// graph (`verity_host::ModelBounds::constant_bytes`: initializers and every tensor computed
	/// from constants, with the padding packing adds). Every node that loads the model holds
	/// about this much memory, so the record deposit charges `DepositPerConstantByte` for each
	/// byte; non-zero and at most `MaxConstantBytes`. Attesters refuse a model whose bound is
	/// above it ([`RejectReason::ConstantsOverSpec`]), and executors and jurors load it under
	/// it, so every node refuses it alike.
	pub max_constant_bytes: u64,
	/// Where the bytes are.
	pub availability: Availability,
	/// Canonical encoding (`verity_engine::encode_tensors`) of the reference input.
	pub reference_input: BoundedVec<u8, MaxRef>,
	/// Canonical encoding of the expected output on the reference input. Attesters' outputs
	/// are judged against it under `acceptance`, so float models certify on any CPU.
	pub reference_output: BoundedVec<u8, MaxRef>,
}

/// How the nodes that certify, serve and judge a model compute its outputs.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	serde::Serialize,
	serde::Deserialize,
)]
pub enum ExecutionClass {
	/// The native engine (tract with the host CPU's kernels): the fastest, but a float
	/// model's last bits may differ between CPUs, so float outputs are compared under a
	/// `Tolerance`, `ArgMax` or `TopK` rule.
	#[default]
	Native,
	/// The deterministic mode (the engine compiled to WebAssembly, run by wasmtime under fuel
	/// and memory terms the chain fixes): every honest node computes the same output bits, on
	/// any CPU, so the rule is `Exact` for every model, floats included. Attesters certify,
	/// executors serve and jurors re-execute it in this mode, and a model with its bytes on
	/// chain can run inside blocks (pallet-inference's `infer`).
	Deterministic,
}

/// Life cycle of a registered model.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub enum ModelStatus<BlockNumber> {
	/// Uploading (on-chain models) or awaiting its determinism certificate.
	Pending,
	/// Certified; accepts requests.
	Active { since: BlockNumber },
	/// An attester did not reproduce the reference output; never becomes active.
	Rejected { at: BlockNumber },
	/// Retired by its owner or root; accepts no new requests.
	Retired { at: BlockNumber },
}

impl<B> ModelStatus<B> {
	/// Whether the model may be reaped (its record removed and remaining deposit released).
	pub fn is_final(&self) -> bool {
		matches!(self, ModelStatus::Rejected { .. } | ModelStatus::Retired { .. })
	}
}

/// What the read API (`Pallet::model_info`, `Pallet::models`) shows of a model: the record,
/// with its reference vectors as tensors rather than canonical bytes.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ModelSummary<AccountId, Balance, BlockNumber> {
	/// The model id (blake2-256 of the ONNX bytes).
	pub id: ModelId,
	/// Who registered it and receives the royalty.
	pub owner: AccountId,
	/// Its name (UTF-8 expected).
	pub name: Vec<u8>,
	/// Current status.
	pub status: ModelStatus<BlockNumber>,
	/// Input tensor specs, in graph order.
	pub inputs: TensorSpecs,
	/// Output tensor specs, in graph order.
	pub outputs: TensorSpecs,
	/// ONNX opset version.
	pub opset: u32,
	/// Engine version the reference vector was produced with.
	pub engine_version: u32,
	/// Royalty per call.
	pub price_per_call: Balance,
	/// How outputs are compared. `Exact` for a `Deterministic` model.
	pub acceptance: AcceptanceRule,
	/// How nodes compute the model's outputs ([`ExecutionClass`]).
	pub execution: ExecutionClass,
	/// Size of the ONNX file in bytes.
	pub byte_size: u64,
	/// Declared bound of the constants its plan may hold, in bytes.
	pub max_constant_bytes: u64,
	/// The engine's figures recorded at attestation (`None` before the first attestation, and
	/// for genesis and migrated models).
	pub bounds: Option<GraphBounds>,
	/// The chain's wall-time bound of one run, in milliseconds (`Pallet::run_bound`).
	pub run_ms: u32,
	/// Where the bytes are.
	pub availability: Availability,
	/// The reference input.
	pub reference_input: Vec<verity_engine::Tensor>,
	/// The output expected on the reference input.
	pub reference_output: Vec<verity_engine::Tensor>,
	/// Chunks expected (0 for URI models) and stored.
	pub chunks: (u32, u32),
	/// Whether the bytes matched the hash.
	pub bytes_verified: bool,
	/// Deposit held for the model (record and bytes).
	pub deposit: Balance,
}

impl<AccountId, Balance, BlockNumber> ModelSummary<AccountId, Balance, BlockNumber>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug + sp_runtime::Saturating,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// The summary of record `info` of model `id`. Reference vectors were checked to decode at
	/// registration; one that does not shows as no tensors.
	pub fn new<MaxRef: Get<u32>>(
		id: ModelId,
		info: ModelInfo<AccountId, Balance, BlockNumber, MaxRef>,
		run_ms: u32,
	) -> Self {
		let tensors = |bytes: &[u8]| verity_engine::decode_tensors(bytes).unwrap_or_default();
		Self {
			id,
			owner: info.owner,
			name: info.spec.name.into_inner(),
			status: info.status,
			inputs: info.spec.inputs,
			outputs: info.spec.outputs,
			opset: info.spec.opset,
			engine_version: info.spec.engine_version,
			price_per_call: info.spec.price_per_call,
			acceptance: info.spec.acceptance,
			execution: info.spec.execution,
			byte_size: info.spec.byte_size,
			max_constant_bytes: info.spec.max_constant_bytes,
			bounds: info.bounds,
			run_ms,
			availability: info.spec.availability,
			reference_input: tensors(&info.spec.reference_input),
			reference_output: tensors(&info.spec.reference_output),
			chunks: (info.chunk_count, info.chunks_received),
			bytes_verified: info.bytes_verified,
			deposit: info.record_deposit.saturating_add(info.bytes_deposit),
		}
	}
}

/// The on-chain record of a model.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(MaxRef))]
#[codec(mel_bound(AccountId: MaxEncodedLen, Balance: MaxEncodedLen, BlockNumber: MaxEncodedLen))]
pub struct ModelInfo<AccountId, Balance, BlockNumber, MaxRef: Get<u32>>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// Who registered it, receives the royalty and pays the deposit.
	pub owner: AccountId,
	/// The registered spec.
	pub spec: ModelSpec<Balance, MaxRef>,
	/// Current status.
	pub status: ModelStatus<BlockNumber>,
	/// Deposit for the record itself (base + per byte of the encoded spec), held until reaped.
	pub record_deposit: Balance,
	/// Deposit for the model bytes (on-chain models only), held until the chunks are deleted
	/// (on retirement or rejection).
	pub bytes_deposit: Balance,
	/// Number of chunks expected (0 for URI models).
	pub chunk_count: u32,
	/// Number of chunks currently stored.
	pub chunks_received: u32,
	/// Whether the assembled bytes matched the hash (always true for URI models, whose bytes
	/// are checked by the nodes that fetch them).
	pub bytes_verified: bool,
	/// The engine's graph-only figures, from the first attestation that reproduced the
	/// reference output (every later one must report the same); fixed once `Active`. `None`
	/// before any such attestation, for genesis models and for models migrated from storage
	/// version 1: those get the largest run bound.
	pub bounds: Option<GraphBounds>,
}

/// What the engine computes from a model's graph alone, the same on every node of one engine
/// version and limits (`verity_host::ModelBounds` without the node's own cache charge): an
/// attestation carries them and the chain records them on the model.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	serde::Serialize,
	serde::Deserialize,
)]
pub struct GraphBounds {
	/// Bound of the bytes of constants the plan may hold (`ModelBounds::constant_bytes`).
	pub constant_bytes: u64,
	/// Estimated multiply-adds and divisions of one run at the engine's largest batch
	/// (`ModelBounds::flops`): what the chain derives the model's run bound from.
	pub flops: u64,
}

/// Why an attester's engine did not run a model's reference input (an attestation that
/// refuses the model, alike on every node).
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub enum Refusal {
	/// The constants the plan would hold are more than the spec's `max_constant_bytes`
	/// (`verity_host::HostError::ConstantsOverSpec`).
	ConstantsOverSpec,
	/// The engine refused the model: not ONNX, an operator it does not allow, or over its
	/// limits (elements, FLOPs, memory, the node-wide constant limit).
	InvalidModel,
	/// The engine refused the reference input (it does not fit the graph), or the output on it
	/// is longer than `MaxReferenceSize`.
	InvalidReference,
	/// A `Deterministic` model's reference run used more than the fuel or memory the chain
	/// gives it ([`crate::Pallet::deterministic_terms`]): every node would stop it alike.
	OverDeterministicTerms,
}

/// What an attester's worker reports about a pending model ([`crate::Call::attest`]).
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxRef))]
pub enum Attestation<MaxRef: Get<u32>> {
	/// The engine loaded the model under its declared constants, reported `bounds`, and
	/// produced `output` (canonical tensors) on the reference input.
	Ran { output: BoundedVec<u8, MaxRef>, bounds: GraphBounds },
	/// The engine refused the model.
	Refused(Refusal),
}

/// Why a model was rejected ([`crate::Event::ModelRejected`]).
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub enum RejectReason {
	/// The attester's output (committed by `commitment`, the blake2-256 of its bytes) did not
	/// agree with the reference output under the model's acceptance rule, or was not canonical
	/// tensors.
	OutputMismatch { commitment: sp_core::H256 },
	/// The attester's engine refused the model.
	Refused(Refusal),
	/// The reported constant bound is above the spec's `max_constant_bytes` (an engine that
	/// ran the model anyway).
	ConstantsOverSpec { constant_bytes: u64, declared: u64 },
	/// The model's estimated FLOPs per run are above `MaxModelFlops`, the per-node capacity:
	/// no run bound the chain gives would let every node run it.
	TooManyFlops { flops: u64, max: u64 },
	/// The attester's graph-only figures differ from those of an earlier attestation: the
	/// engine is not deterministic on this model (or an attester is faulty), so it is not safe
	/// to serve.
	FiguresDisagree { recorded: GraphBounds, attested: GraphBounds },
}
