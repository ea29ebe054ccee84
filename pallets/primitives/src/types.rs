//! Ids and the view types the glue traits exchange.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_runtime::BoundedVec;
pub use verity_engine::{AcceptanceRule, DType, Dim, TensorSpec, MAX_RANK, MAX_TENSORS};

/// A model is identified by `blake2_256` of its ONNX bytes.
pub type ModelId = H256;

/// The tensor specs of a model (inputs or outputs), as the engine checks them.
pub type TensorSpecs = BoundedVec<TensorSpec, ConstU32<MAX_TENSORS>>;

/// What other pallets see of a model (`ModelRegistry::model`). It leaves out the reference
/// vector, which only attesters need.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ModelView<AccountId, Balance> {
	pub owner: AccountId,
	pub active: bool,
	pub inputs: TensorSpecs,
	pub outputs: TensorSpecs,
	pub opset: u32,
	pub price_per_call: Balance,
	pub acceptance: AcceptanceRule,
	pub byte_size: u64,
	/// How nodes load and run the model: the same terms on every node.
	pub limits: RunLimits,
}

/// What block execution needs to weigh an in-block run of a model in the deterministic mode
/// (`ModelRegistry::in_block_figures`): pallet-models gives them for active models whose bytes
/// are on chain and whose figures were attested, so every node has the same bytes to run.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct InBlockFigures {
	/// Size of the ONNX file (what block execution reads from storage).
	pub byte_size: u64,
	/// Storage items the bytes are kept in (on-chain chunks).
	pub chunks: u32,
	/// The terms every node runs the model under off chain (its declared constants, its
	/// attested FLOPs, the fuel the registry's formula gives): block execution charges this
	/// fuel and runs under these terms, capped by its own per-call limits.
	pub terms: verity_host::DeterministicTerms,
}

/// The terms under which every node loads and runs a model, decided by the chain
/// (pallet-models) so that all nodes refuse, time out or run it alike
/// ([`crate::run_within_limits`]).
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct RunLimits {
	/// The engine version the model's spec names: a node whose engine differs does not run
	/// it (`verity_host::HostError::EngineVersionMismatch`).
	pub engine_version: u32,
	/// The constants the spec declares its plan may hold: the engine refuses the model above
	/// it (`verity_host::HostError::ConstantsOverSpec`).
	pub max_constant_bytes: u64,
	/// Wall-time bound of one run, in milliseconds, derived on chain from the FLOPs the
	/// engine reported at attestation. It replaces the node's own `--inference-timeout-ms`.
	pub run_ms: u32,
	/// Whether the model's FLOPs are within the documented per-node capacity
	/// (`MaxModelFlops`). Only for a model over it may a juror that cannot run it in
	/// `run_ms` abstain without penalty.
	pub within_capacity: bool,
	/// For a model of execution class `Deterministic`: the terms of its runs in the
	/// deterministic mode (fuel and memory instead of `run_ms`), which executors, jurors and
	/// attesters all use, so that every honest node gives the same output bits. `None`: the
	/// native engine.
	pub deterministic: Option<verity_host::DeterministicTerms>,
}

impl RunLimits {
	/// Limits no test model reaches, for mocks and tools: this build's engine version, the
	/// engine's node-wide constant limit (256 MiB), a minute per run, within capacity.
	pub const fn generous() -> Self {
		Self {
			engine_version: verity_engine::ENGINE_VERSION,
			max_constant_bytes: 256 << 20,
			run_ms: 60_000,
			within_capacity: true,
			deterministic: None,
		}
	}
}

/// Identifier of an inference request, assigned in order from 0.
pub type RequestId = u64;

/// What a dispute judges: the posted outputs (*candidates*) of a request, in candidate order.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct DisputeSubject<AccountId> {
	/// The model that was run.
	pub model: ModelId,
	/// The providers whose outputs are judged, one per candidate, in candidate order. Never
	/// jurors of this dispute.
	pub accused: Vec<AccountId>,
}

/// The jury's decision, as pallet-disputes hands it to pallet-inference.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Verdict {
	/// `correct[i]`: whether candidate `i` agrees with the jury's re-execution under the
	/// model's acceptance rule (stake-weighted majority of revealed votes; a tie counts as
	/// correct). `jury_output` is the canonical output a majority juror computed, recorded as
	/// the request's result when no candidate is correct.
	Decided { correct: Vec<bool>, jury_output: Option<Vec<u8>> },
	/// Jurors were seated but too little of their stake revealed a vote: no one is judged, and
	/// a challenged result is not paid (its jury may have been starved of votes).
	NoQuorum,
	/// No juror could be drawn (every provider of the model is accused, excluded or without
	/// stake): no one is judged, and a result whose outputs agreed stands. Only the challenger
	/// (or a provider leaving the model) can bring this about, never the accused executor: the
	/// request was accepted only with enough providers for a jury.
	NoJury,
}

/// How a concluded dispute ended for the request, for pallet-disputes' bookkeeping.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Conclusion {
	/// Every candidate was found correct: a challenger was wrong.
	AllCorrect,
	/// At least one candidate was wrong and its provider was slashed.
	SomeWrong,
	/// No quorum: nobody was judged.
	Undecided,
}

/// What a slash took: the whole amount (burned) and the part of it that was the slashed
/// provider's own active stake. Rewards that a slash funds are bounded by `own`, so that a
/// provider who reports itself from another account never gets back what it lost.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct Slashed<Balance> {
	/// Taken from the provider's pool and unbonding buckets (self-bond and delegations).
	pub total: Balance,
	/// The part of `total` taken from the provider's own active stake.
	pub own: Balance,
}

impl<Balance: sp_runtime::Saturating + Copy> Slashed<Balance> {
	/// Both amounts of `self` and `other` added.
	// Saturating, unlike `core::ops::Add`, which runtime code must not use on balances.
	#[allow(clippy::should_implement_trait)]
	pub fn add(self, other: Self) -> Self {
		Self {
			total: self.total.saturating_add(other.total),
			own: self.own.saturating_add(other.own),
		}
	}
}

/// How a dispute ended for the request and what it slashed, for pallet-disputes'
/// bookkeeping and rewards.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct Settlement<Balance> {
	/// How the request ended.
	pub conclusion: Conclusion,
	/// What the wrong candidates lost, summed (burned; zero unless `SomeWrong`).
	pub slashed: Slashed<Balance>,
}
