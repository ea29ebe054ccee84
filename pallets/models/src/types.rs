//! Types of the model registry: tensor specs, acceptance rules, the registered spec and the
//! on-chain record.
//!
//! The tensor and acceptance types mirror what `verity-engine` checks natively; they are kept
//! small and self-contained here so the pallet does not depend on the engine crate (the lead
//! unifies both later). Inner limits (name length, tensor count, rank, URIs) are protocol-level
//! constants shared with the engine; the sizes that cost storage (reference input, model bytes,
//! chunk size) are `Config` constants.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::{ConstU32, Get},
	BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;
use sp_core::H256;

/// A model is identified by `blake2_256` of its ONNX bytes.
pub type ModelId = H256;

/// Maximum rank (number of dimensions) of a tensor.
pub const MAX_RANK: u32 = 8;
/// Maximum number of input (and of output) tensors of a model.
pub const MAX_TENSORS: u32 = 8;
/// Maximum length of a model name in bytes (UTF-8 expected, not enforced).
pub const MAX_NAME_LEN: u32 = 64;
/// Maximum number of URIs a model can be fetched from.
pub const MAX_URIS: u32 = 4;
/// Maximum length of one URI in bytes.
pub const MAX_URI_LEN: u32 = 256;

/// Element type of a tensor.
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
	serde::Serialize,
	serde::Deserialize,
)]
pub enum DType {
	F32,
	F16,
	F64,
	I8,
	I16,
	I32,
	I64,
	U8,
	U16,
	U32,
	U64,
	Bool,
}

impl DType {
	/// Size in bytes of one element.
	pub fn size_of(&self) -> u32 {
		match self {
			DType::Bool | DType::I8 | DType::U8 => 1,
			DType::F16 | DType::I16 | DType::U16 => 2,
			DType::F32 | DType::I32 | DType::U32 => 4,
			DType::F64 | DType::I64 | DType::U64 => 8,
		}
	}
}

/// One dimension of a tensor shape.
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
	serde::Serialize,
	serde::Deserialize,
)]
pub enum Dim {
	/// A fixed extent.
	Fixed(u32),
	/// The symbolic batch dimension; only allowed as the first dimension.
	Batch,
}

/// Dimensions of a tensor, outermost first.
pub type Dims = BoundedVec<Dim, ConstU32<MAX_RANK>>;

/// Element type and shape of one input or output tensor.
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
pub struct TensorSpec {
	pub dtype: DType,
	pub dims: Dims,
}

impl TensorSpec {
	/// A shape is well formed when the symbolic batch appears at most once and only first.
	pub fn is_well_formed(&self) -> bool {
		self.dims.iter().skip(1).all(|d| !matches!(d, Dim::Batch))
	}
}

/// How two outputs of the same model on the same input are judged equal. Disputes use exactly
/// this rule.
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
	serde::Serialize,
	serde::Deserialize,
)]
pub enum AcceptanceRule {
	/// Byte-identical canonical output.
	Exact,
	/// Element-wise `|a - b| <= abs + rel * |b|` on f32 outputs. `abs` is in units of 1e-9,
	/// `rel` in parts per billion: no floats in the runtime.
	Tolerance { abs: u64, rel: u32 },
	/// Same index of the maximum element.
	ArgMax,
	/// Same set of the `k` largest elements (`k >= 1`).
	TopK(u32),
}

/// A bounded URI.
pub type Uri = BoundedVec<u8, ConstU32<MAX_URI_LEN>>;

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
#[scale_info(skip_type_params(MaxRefInput))]
#[codec(mel_bound(Balance: MaxEncodedLen))]
#[serde(bound(serialize = "Balance: serde::Serialize", deserialize = "Balance: serde::Deserialize<'de>"))]
pub struct ModelSpec<Balance, MaxRefInput: Get<u32>>
where
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// Human-readable name.
	pub name: BoundedVec<u8, ConstU32<MAX_NAME_LEN>>,
	/// Input tensors, in the model's input order.
	pub inputs: BoundedVec<TensorSpec, ConstU32<MAX_TENSORS>>,
	/// Output tensors, in the model's output order.
	pub outputs: BoundedVec<TensorSpec, ConstU32<MAX_TENSORS>>,
	/// ONNX opset version.
	pub opset: u32,
	/// Engine version the reference vector was produced with.
	pub engine_version: u32,
	/// Royalty paid to the owner per call.
	pub price_per_call: Balance,
	/// How outputs are compared.
	pub acceptance: AcceptanceRule,
	/// Size of the ONNX file in bytes.
	pub byte_size: u64,
	/// Where the bytes are.
	pub availability: Availability,
	/// Canonical encoding of the reference input.
	pub reference_input: BoundedVec<u8, MaxRefInput>,
	/// Commitment (hash of the canonical encoding) of the expected reference output.
	pub expected_output: H256,
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

/// The on-chain record of a model.
#[derive(
	Encode,
	Decode,
	MaxEncodedLen,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxRefInput))]
#[codec(mel_bound(AccountId: MaxEncodedLen, Balance: MaxEncodedLen, BlockNumber: MaxEncodedLen))]
pub struct ModelInfo<AccountId, Balance, BlockNumber, MaxRefInput: Get<u32>>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// Who registered it, receives the royalty and pays the deposit.
	pub owner: AccountId,
	/// The registered spec.
	pub spec: ModelSpec<Balance, MaxRefInput>,
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
}

/// What other pallets see of a model (`ModelRegistry::model`). It leaves out the reference
/// vector, which only attesters need.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ModelView<AccountId, Balance> {
	pub owner: AccountId,
	pub active: bool,
	pub inputs: BoundedVec<TensorSpec, ConstU32<MAX_TENSORS>>,
	pub outputs: BoundedVec<TensorSpec, ConstU32<MAX_TENSORS>>,
	pub opset: u32,
	pub engine_version: u32,
	pub price_per_call: Balance,
	pub acceptance: AcceptanceRule,
	pub byte_size: u64,
}
