//! # Model registry (pallet-models)
//!
//! ## Overview
//!
//! Registers ONNX models by content hash with everything needed to run and judge them, keeps
//! small models' bytes on chain, and activates a model only once enough attesters (validators'
//! off-chain workers) have loaded it and reproduced its reference output.
//!
//! ## Terms
//!
//! - *Model id*: `blake2_256` of the ONNX bytes, given by the owner as `hash`. For on-chain
//!   models the pallet checks it when the last chunk arrives; for URI models the nodes check it
//!   when they fetch the file, and attesters only attest a model whose bytes matched.
//! - *Spec* ([`types::ModelSpec`]): name, tensor specs, opset, engine version (must be the
//!   runtime's `EngineVersion`), price per call, acceptance rule, byte size, the declared bound
//!   of the constants its plan may hold (`max_constant_bytes`, non-zero, at most
//!   `MaxConstantBytes`), availability, and the reference vector: a canonical input and
//!   the canonical output expected on it. Tensor specs and rules are `verity-engine`'s types.
//!   A rule must be able to tell a computed output from a guessed one for the declared outputs
//!   (`AcceptanceRule::check`): `TopK(k)` needs `1 <= k` and `2k <=` every output's last axis,
//!   `ArgMax` a last axis of at least 2, both a fixed one; `Tolerance` at most 1e-3 absolute
//!   and 1 % relative. Registration (and genesis) refuses other rules with an error naming why.
//!   The *execution class* ([`ExecutionClass`]) says how nodes compute the model: `Native`
//!   (tract on the host's kernels) or `Deterministic` (the deterministic mode, the same bits on
//!   every node, rule `Exact`), under which attesters certify, executors serve and jurors judge
//!   it ([`Pallet::deterministic_terms`]), and which alone runs inside blocks.
//! - *Deposit*: held from the owner under [`HoldReason::ModelDeposit`]. The *record deposit*
//!   (`DepositBase + DepositPerByte * encoded spec + DepositPerConstantByte *
//!   max_constant_bytes`: state, and the memory every node running the model holds) is held
//!   until the record is reaped; the
//!   *bytes deposit* (`DepositPerByte * byte_size`, on-chain models only) is taken in full at
//!   registration (so uploading chunks never needs another hold) and released as soon as the
//!   chunks are deleted: on rejection, on retirement of a pending model, on reaping a retired
//!   one.
//!
//! ## Life cycle
//!
//! `register_model` → `Pending` → (on-chain: every chunk uploaded and the assembled bytes match
//! the hash) → `attest` × `RequiredAttestations`, each with the attester's output on the
//! reference input, agreeing with the reference output under the model's acceptance rule, and
//! the engine's graph-only figures ([`GraphBounds`]: constant bound and FLOPs), within the
//! declaration and `MaxModelFlops` and equal to the first attestation's → `Active`, the figures
//! recorded; from the FLOPs the chain derives the model's *run bound*
//! ([`Pallet::run_bound`]), within which every node runs it ([`RunLimits`], the terms
//! [`ModelRegistry::model`] hands to the other pallets). One disagreeing (or non-canonical)
//! output, a refusal by the attester's engine, or figures over the limits or disagreeing →
//! `Rejected`, with the [`RejectReason`] in the event: attesters are the trusted
//! validator set, and a model whose reference vector does not reproduce on one honest machine
//! is not safe to judge disputes with. Judging by the rule rather than by hash is what lets an
//! f32 model whose reference came from another runtime (onnxruntime) certify: only `Exact`
//! models need bit-identical outputs. The owner or `ForceOrigin` can `retire`
//! a `Pending` or `Active` model: it accepts no new requests at once, but a retired model stays
//! *servable* ([`ModelRegistry::is_servable`]) until it is reaped: requests already made are
//! still executed, reassigned and judged, and its chunks stay for jurors (otherwise an owner
//! colluding with a wrong provider could retire the model under a challenge, leave the jury
//! empty and have the wrong result stand). `Rejected` and `Retired` records stay for
//! `ReapDelay` blocks, then anyone can `reap` them once no request of the model is open
//! (`Config::Usage`, pallet-inference), which deletes the chunks and releases the deposit to
//! the owner. No penalty is taken on rejection: the deposit is returned in full (bytes
//! deposit at once, record deposit on reap).
//!
//! A model that is still `Pending` `PendingExpiry` blocks after its registration (an upload never
//! finished, a URL that never served the right bytes, attesters that never agreed) **expires**
//! in that block's `on_initialize`: its record, chunks and attestations are removed,
//! `ExpiryBurn` of its deposit (record and bytes) is burned and the rest released
//! (`ModelExpired`). The burn prices what such a model costs: every validator's worker tries to
//! fetch and run it until then. The hash may be registered again.
//!
//! URI models name `http://` or `https://` URLs with a plain host (no user info), checked at
//! registration (`UnsupportedUri`); nodes fetch nothing else (see [`offchain`]).
//!
//! A byte mismatch after the last chunk is not an error: the chunks are deleted, an event is
//! emitted and the owner may upload again (the model stays `Pending`).
//!
//! ## Invariants (checked by `do_try_state`)
//!
//! - For every owner, the balance held for `ModelDeposit` equals the sum of the record and
//!   bytes deposits of their models.
//! - Every model's stored chunks have indices below its chunk count; their number equals
//!   `chunks_received`; only `Pending`/`Active`/`Retired` on-chain models hold chunks; `bytes_verified`
//!   implies all chunks are present.
//! - Attestations exist only for `Pending` models and number fewer than `RequiredAttestations`;
//!   a pending model has figures exactly when it has attestations; recorded figures are
//!   within the declaration.
//! - Exactly the `Pending` models have a `PendingUntil` block, later than the current block,
//!   and are queued in `Expiries` at it; no `Expiries` queue is left in the past.
//! - Every `Deterministic` model's rule is `Exact`.
//!
//! ## Complexity
//!
//! Every call is bounded by `Config` constants: `upload_chunk` that completes a model reads and
//! hashes at most `MaxModelSize` bytes (charged in advance, refunded when smaller); `retire`,
//! `reap` and a rejecting `attest` delete at most `MaxModelSize / ChunkSize` (rounded up) chunks;
//! the expiry hook handles at most `MaxRegistrationsPerBlock` models a block, each like a
//! `retire`.

#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
	not(test),
	deny(
		clippy::unwrap_used,
		clippy::indexing_slicing,
		clippy::arithmetic_side_effects,
		clippy::expect_used
	)
)]

extern crate alloc;

pub mod migrations;
pub mod offchain;
pub mod traits;
pub mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod offchain_tests;
#[cfg(test)]
mod tests;

pub use pallet::*;
pub use traits::{ModelRegistry, ModelUsage};
pub use types::*;
pub use weights::WeightInfo;

// FRAME's macros expand to `expect`s on what `construct_runtime!` guarantees (the pallet's
// name and index) with this module's spans, so the lint is allowed on the module and denied
// again on every hand-written `impl` block in it.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use codec::Encode;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectHold, Mutate, MutateHold},
			tokens::{Fortitude, Precision},
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_core::H256;
	use sp_runtime::{
		traits::{Saturating, Zero},
		Perbill, SaturatedConversion,
	};

	/// The balance type of the currency.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// The spec type with this runtime's bounds.
	pub type ModelSpecOf<T> = ModelSpec<BalanceOf<T>, <T as Config>::MaxReferenceSize>;
	/// The record type with this runtime's bounds.
	pub type ModelInfoOf<T> = ModelInfo<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as Config>::MaxReferenceSize,
	>;
	/// The read API's view of a model.
	pub type ModelSummaryOf<T> =
		ModelSummary<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	/// One chunk of model bytes.
	pub type ChunkOf<T> = BoundedVec<u8, <T as Config>::ChunkSize>;
	/// An attester's report with this runtime's bounds.
	pub type AttestationOf<T> = Attestation<<T as Config>::MaxReferenceSize>;

	/// 2: `ModelSpec::max_constant_bytes` and `ModelInfo::bounds`; 3: `ModelSpec::execution`
	/// (see [`crate::migrations`]).
	pub(crate) const STORAGE_VERSION: StorageVersion = StorageVersion::new(3);

	/// The models expiring in one block.
	pub type ExpiryQueueOf<T> = BoundedVec<ModelId, <T as Config>::MaxRegistrationsPerBlock>;

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config:
		frame_system::Config<RuntimeEvent: From<Event<Self>>>
		+ frame_system::offchain::CreateSignedTransaction<Call<Self>>
	{
		/// The key a validator's off-chain worker signs attestations with (the runtime: its
		/// BABE key); only keys whose account `AttestOrigin` accepts attest.
		type AttesterId: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>;

		/// The currency deposits are held in.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Who may attest a model's determinism certificate (validators' workers); yields the
		/// attester's account. Each account attests a model at most once.
		type AttestOrigin: EnsureOrigin<Self::RuntimeOrigin, Success = Self::AccountId>;

		/// Who besides the owner may retire a model (governance, root).
		type ForceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Matching attestations needed to activate a model. Must be at least 1.
		#[pallet::constant]
		type RequiredAttestations: Get<u32>;

		/// Deposit held per model record regardless of its size.
		#[pallet::constant]
		type DepositBase: Get<BalanceOf<Self>>;

		/// Deposit held per stored byte (encoded spec and on-chain model bytes).
		#[pallet::constant]
		type DepositPerByte: Get<BalanceOf<Self>>;

		/// Largest model that can be stored on chain, in bytes. At least `ChunkSize`.
		#[pallet::constant]
		type MaxModelSize: Get<u32>;

		/// Size of every chunk but the last, in bytes. Non-zero and at most `MaxModelSize`.
		#[pallet::constant]
		type ChunkSize: Get<u32>;

		/// Largest encoded reference input, and largest encoded reference output (or attested
		/// output), in bytes.
		#[pallet::constant]
		type MaxReferenceSize: Get<u32>;

		/// Open requests of each model (pallet-inference): a model in use is not reaped.
		type Usage: ModelUsage;

		/// Blocks a rejected or retired model's record is kept before it can be reaped. Should
		/// exceed the longest request life (challenge window + dispute) so that running
		/// requests can still read the spec.
		#[pallet::constant]
		type ReapDelay: Get<BlockNumberFor<Self>>;

		/// Blocks a model may stay `Pending` (uploading, or waiting for its attestations)
		/// before it expires. At least 1; long enough to upload `MaxModelSize` and gather
		/// `RequiredAttestations`.
		#[pallet::constant]
		type PendingExpiry: Get<BlockNumberFor<Self>>;

		/// Part of an expiring model's deposit (record and bytes) that is burned; the rest is
		/// released to the owner.
		#[pallet::constant]
		type ExpiryBurn: Get<Perbill>;

		/// Most models registered in one block (their expiries fall in one block, so this
		/// bounds the expiry hook's work). At least 1.
		#[pallet::constant]
		type MaxRegistrationsPerBlock: Get<u32>;

		/// Deposit held per byte of constants a spec declares (`max_constant_bytes`), in the
		/// record deposit: the memory every attesting, executing and judging node holds for the
		/// model's plan.
		#[pallet::constant]
		type DepositPerConstantByte: Get<BalanceOf<Self>>;

		/// Largest `max_constant_bytes` a spec may declare. Non-zero; at most the engine's
		/// node-wide limit (`verity_engine::engine::Limits::max_constant_bytes`), above which
		/// every node refuses the model anyway.
		#[pallet::constant]
		type MaxConstantBytes: Get<u64>;

		/// The engine version this runtime supports (`verity_engine::ENGINE_VERSION` of the
		/// nodes it is meant for): registration refuses a spec naming another, so no model
		/// asks nodes for an engine they are not expected to run.
		#[pallet::constant]
		type EngineVersion: Get<u32>;

		/// The per-node capacity, in FLOPs per run (the engine's estimate at its largest
		/// batch): a model over it is rejected at attestation (`RejectReason::TooManyFlops`).
		/// At most the engine's `Limits::max_flops`.
		#[pallet::constant]
		type MaxModelFlops: Get<u64>;

		/// FLOPs per millisecond the documented reference node sustains: a model's run bound
		/// is `MinRunMs + ceil(flops / ReferenceFlopsPerMs)`. Non-zero.
		#[pallet::constant]
		type ReferenceFlopsPerMs: Get<u64>;

		/// The run bound of a model with no FLOPs: decoding, scheduling and encoding, in
		/// milliseconds.
		#[pallet::constant]
		type MinRunMs: Get<u32>;

		/// Fuel of a deterministic-mode run of a model with no FLOPs and no bytes: the
		/// runner's start, the decoding of the model and the tensors. A run's fuel is
		/// `DeterministicBaseFuel + flops * DeterministicFuelPerFlop + byte_size *
		/// DeterministicFuelPerByte` ([`Pallet::deterministic_terms`]).
		#[pallet::constant]
		type DeterministicBaseFuel: Get<u64>;

		/// Fuel per FLOP of the engine's estimate, in the deterministic mode.
		#[pallet::constant]
		type DeterministicFuelPerFlop: Get<u64>;

		/// Fuel per byte of the model file (parsing and the plan's constants), in the
		/// deterministic mode.
		#[pallet::constant]
		type DeterministicFuelPerByte: Get<u64>;

		/// Most fuel any deterministic-mode run may have, whatever the formula above gives: a
		/// `Deterministic` model's runs are metered by fuel, not wall time, so this cap is what
		/// keeps every run of one (an attester's, an executor's, a juror's) as short as the
		/// chain's windows need. Set it so that the reference execution (the slowest compiled
		/// one a serving node is expected to run) spends this much fuel well within the largest
		/// run bound ([`Pallet::run_bound`]). A model
		/// that needs more runs out of fuel on every node alike: its reference run is refused at
		/// attestation (`Refusal::OverDeterministicTerms`). At least `DeterministicBaseFuel`.
		#[pallet::constant]
		type MaxDeterministicFuel: Get<u64>;

		/// Most bytes of linear memory a deterministic-mode run may hold (the runner's own
		/// data, the plan and the tensors). Every node stops a run above it alike.
		#[pallet::constant]
		type DeterministicMemory: Get<u64>;

		/// Weights of the calls.
		type WeightInfo: WeightInfo;
	}

	/// Reasons this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// Storage deposit of a registered model.
		ModelDeposit,
	}

	/// Registered models by id.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<_, Blake2_128Concat, ModelId, ModelInfoOf<T>>;

	/// Uploaded chunks of on-chain models, by model id and chunk index.
	#[pallet::storage]
	pub type Chunks<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, ModelId, Twox64Concat, u32, ChunkOf<T>>;

	/// Attesters that reproduced the reference output of a pending model.
	#[pallet::storage]
	pub type Attestations<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		ModelId,
		BoundedVec<T::AccountId, T::RequiredAttestations>,
		ValueQuery,
	>;

	/// The block at which each `Pending` model expires (registration block + `PendingExpiry`).
	/// Exactly the pending models have an entry; the attest duty goes round these keys.
	#[pallet::storage]
	pub type PendingUntil<T: Config> = StorageMap<_, Blake2_128Concat, ModelId, BlockNumberFor<T>>;

	/// Models that expire at a block if still pending then (entries of models that left
	/// `Pending` are skipped), taken by that block's `on_initialize`.
	#[pallet::storage]
	pub type Expiries<T: Config> =
		StorageMap<_, Twox64Concat, BlockNumberFor<T>, ExpiryQueueOf<T>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model was registered and is pending; `deposit` is held from the owner.
		ModelRegistered { model: ModelId, owner: T::AccountId, deposit: BalanceOf<T> },
		/// A chunk of an on-chain model was stored.
		ChunkUploaded { model: ModelId, index: u32 },
		/// All chunks are present and their concatenation hashes to the model id.
		ModelBytesVerified { model: ModelId },
		/// All chunks were present but hashed to `actual`: the chunks were deleted and may be
		/// uploaded again.
		ModelBytesMismatch { model: ModelId, actual: H256 },
		/// An attester's output agreed with the reference output under the model's acceptance
		/// rule; `count` matching attestations so far.
		Attested { model: ModelId, attester: T::AccountId, count: u32 },
		/// The model has its determinism certificate and accepts requests: the engine's
		/// figures `bounds` are recorded and every node runs it within `run_ms` milliseconds.
		ModelActivated { model: ModelId, bounds: GraphBounds, run_ms: u32 },
		/// Attester `attester` showed the model unfit (`reason`: its output disagreed with the
		/// reference output, its engine refused the model, its figures are over the spec or the
		/// chain's capacity, or differ from an earlier attestation's): the model is rejected,
		/// its chunks deleted and its bytes deposit released.
		ModelRejected { model: ModelId, attester: T::AccountId, reason: RejectReason },
		/// The model was retired and accepts no new requests. Requests already made still run
		/// and can be judged; the chunks stay until it is reaped (a pending model's are deleted
		/// at once and its bytes deposit released).
		ModelRetired { model: ModelId },
		/// A rejected or retired model's record and chunks were removed and `released` returned
		/// to `owner`.
		ModelReaped { model: ModelId, owner: T::AccountId, released: BalanceOf<T> },
		/// The model was still pending `PendingExpiry` blocks after its registration: its
		/// record, chunks and attestations were removed, `burned` of its deposit burned and
		/// `released` returned to `owner`. The hash may be registered again.
		ModelExpired {
			model: ModelId,
			owner: T::AccountId,
			burned: BalanceOf<T>,
			released: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// A model with this hash is already registered.
		ModelAlreadyRegistered,
		/// No model with this hash is registered.
		ModelNotFound,
		/// The model name is empty.
		EmptyName,
		/// The model declares no input or no output tensor.
		NoTensors,
		/// The reference input is not canonical tensors matching the declared input specs.
		InvalidReferenceInput,
		/// The reference output is not canonical tensors matching the declared output specs.
		InvalidReferenceOutput,
		/// `TopK(0)`: the empty set of indices, which every output has.
		TopKZero,
		/// `TopK(k)` with `2 * k` above the length of some output's last axis: the set of the
		/// top `k` would be matched by guessed outputs too often (always for `k >=` the row).
		TopKCoversRow,
		/// `ArgMax` on an output whose last axis has fewer than 2 elements: every output has
		/// its maximum at index 0.
		ArgMaxRowTooShort,
		/// `ArgMax` or `TopK` on an output that is a scalar or whose last axis is symbolic:
		/// the rows they rank must have a declared length.
		RuleNeedsFixedLastAxis,
		/// `Tolerance` with `abs` above 1e6 (1e-3) or `rel` above 1e7 ppb (1 %): it would
		/// accept outputs no honest kernel produces (`verity_engine::MAX_TOLERANCE_ABS`,
		/// `MAX_TOLERANCE_REL`).
		ToleranceTooLoose,
		/// `Uris` availability with an empty list.
		NoUris,
		/// The declared byte size is zero.
		EmptyModel,
		/// An on-chain model exceeds `MaxModelSize`, or a URI model `MAX_URI_MODEL_SIZE` (64 MiB,
		/// the engine's limit: no node would load it).
		ModelTooLarge,
		/// Only the owner may do this.
		NotOwner,
		/// The model is not `Pending`.
		ModelNotPending,
		/// The model's bytes are served from URIs, not uploaded on chain.
		NotOnChain,
		/// The chunk index is not below the model's chunk count.
		ChunkIndexOutOfRange,
		/// The chunk does not have the expected length (`ChunkSize`, or the rest for the last).
		WrongChunkLength,
		/// This chunk is already stored.
		ChunkAlreadyUploaded,
		/// The on-chain bytes are not all uploaded and verified yet.
		BytesNotVerified,
		/// This attester already attested this model.
		AlreadyAttested,
		/// The model is already retired.
		ModelRetired,
		/// The model was rejected.
		ModelRejected,
		/// The model is neither rejected nor retired.
		ModelNotFinal,
		/// `ReapDelay` has not passed since the model was rejected or retired.
		ReapDelayNotElapsed,
		/// Requests of the model are still open (running, provisional or disputed): it is
		/// reaped once they end.
		ModelInUse,
		/// A URI is not an `http://` or `https://` URL with a plain host (letters, digits, `.`,
		/// `-`, `_` or a bracketed IPv6 address; no user info): nodes fetch nothing else.
		UnsupportedUri,
		/// `MaxRegistrationsPerBlock` models were already registered in this block (they expire
		/// together): register in a later block.
		TooManyRegistrationsInBlock,
		/// The spec declares `max_constant_bytes` of 0: every model's plan holds some constants
		/// (declare the engine's `constant_bytes`, which `verity-node client register-model`
		/// computes).
		NoConstantBytes,
		/// The spec declares more `max_constant_bytes` than `MaxConstantBytes`.
		TooManyConstantBytes,
		/// The spec names an engine version other than the runtime's `EngineVersion`: no node
		/// is expected to run it.
		UnsupportedEngineVersion,
		/// A `Deterministic` model's rule must be `Exact`: every honest node computes the same
		/// bits, so any other rule would only accept wrong outputs.
		DeterministicNeedsExact,
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Models registered `Active` at genesis: `(owner, id, spec, bytes)`. For an `OnChain`
		/// spec `bytes` must be given (it is hashed, checked against `id` and stored as
		/// chunks); for a `Uris` spec only the hash is needed. Deposits are held from the owner,
		/// so the owner must be endowed by the balances genesis.
		#[allow(clippy::type_complexity)]
		pub models: Vec<(T::AccountId, ModelId, ModelSpecOf<T>, Option<Vec<u8>>)>,
	}

	#[pallet::genesis_build]
	#[deny(clippy::expect_used)]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (owner, id, spec, bytes) in &self.models {
				if let Err(e) = Pallet::<T>::do_genesis_model(owner, *id, spec, bytes.as_deref()) {
					panic!("pallet-models genesis: model {id:?}: {e:?}");
				}
			}
		}
	}

	#[pallet::hooks]
	#[deny(clippy::expect_used)]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Expire the models registered `PendingExpiry` blocks ago that are still pending.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let queue = Expiries::<T>::take(now);
			for id in queue.iter() {
				// Entries of models that left `Pending` (or expired and were registered again,
				// with a later expiry) are stale.
				if PendingUntil::<T>::get(id) == Some(now) {
					Self::do_expire(*id);
				}
			}
			T::WeightInfo::on_initialize_expire(queue.len() as u32)
		}

		fn integrity_test() {
			assert!(T::RequiredAttestations::get() >= 1, "RequiredAttestations must be >= 1");
			assert!(!T::PendingExpiry::get().is_zero(), "PendingExpiry must be >= 1");
			assert!(
				T::MaxRegistrationsPerBlock::get() >= 1,
				"MaxRegistrationsPerBlock must be >= 1"
			);
			assert!(T::ChunkSize::get() > 0, "ChunkSize must be > 0");
			assert!(
				T::ChunkSize::get() <= T::MaxModelSize::get(),
				"ChunkSize must not exceed MaxModelSize"
			);
			assert!(T::MaxConstantBytes::get() > 0, "MaxConstantBytes must be > 0");
			assert!(T::ReferenceFlopsPerMs::get() > 0, "ReferenceFlopsPerMs must be > 0");
			assert!(
				Self::run_bound(None) < verity_host::NODE_TIMEOUT,
				"the largest run bound must stay below NODE_TIMEOUT"
			);
			assert!(
				T::MaxDeterministicFuel::get() >= T::DeterministicBaseFuel::get(),
				"MaxDeterministicFuel below DeterministicBaseFuel would refuse every model"
			);
		}

		/// Validators attest pending models, see [`crate::offchain`].
		fn offchain_worker(now: BlockNumberFor<T>) {
			crate::offchain::attest_pending::<T>(now.saturated_into());
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	/// Most models one `models` page returns.
	pub const MAX_MODELS_PAGE: u32 = 100;

	/// The read API: what wallets, clients and the node's RPC ask about models.
	#[pallet::view_functions]
	#[deny(clippy::expect_used)]
	impl<T: Config> Pallet<T> {
		/// Model `id` (`None`: unknown, or reaped).
		pub fn model_info(id: ModelId) -> Option<ModelSummaryOf<T>> {
			Models::<T>::get(id).map(Self::summary_of(id))
		}

		/// Up to `count` (at most 100) registered models in storage order, after model `after`
		/// (`None`: from the first). Page through all by passing the last id returned.
		pub fn models(after: Option<ModelId>, count: u32) -> Vec<ModelSummaryOf<T>> {
			let page = count.min(MAX_MODELS_PAGE) as usize;
			match after {
				Some(id) => Models::<T>::iter_from(Models::<T>::hashed_key_for(id))
					.take(page)
					.map(|(id, info)| Self::summary_of(id)(info))
					.collect(),
				None => Models::<T>::iter()
					.take(page)
					.map(|(id, info)| Self::summary_of(id)(info))
					.collect(),
			}
		}

		/// Chunk `index` of an on-chain model's bytes (`None` past the last stored chunk, and
		/// for URI models): clients and nodes assemble a model from these.
		pub fn model_chunk(id: ModelId, index: u32) -> Option<Vec<u8>> {
			Chunks::<T>::get(id, index).map(|c| c.into_inner())
		}

		/// The bytes of an on-chain model whose upload is complete and matched its hash (`None`
		/// otherwise, and for URI models): what nodes put into their model store.
		pub fn model_bytes(id: ModelId) -> Option<Vec<u8>> {
			Self::assembled_bytes(&id)
		}

		/// Indices of the chunks of a pending on-chain model still to upload, in order (empty
		/// for an unknown, URI or complete model).
		pub fn missing_chunks(id: ModelId) -> Vec<u32> {
			match Models::<T>::get(id) {
				Some(info) if info.status == ModelStatus::Pending && !info.bytes_verified => {
					(0..info.chunk_count).filter(|i| !Chunks::<T>::contains_key(id, i)).collect()
				},
				_ => Vec::new(),
			}
		}
	}

	#[pallet::call]
	#[deny(clippy::expect_used)]
	impl<T: Config> Pallet<T> {
		/// Register a model whose ONNX bytes hash (`blake2_256`) to `hash`. Holds the deposit
		/// (record + bytes for on-chain models) from the caller, who becomes the owner.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_model(
			(spec.reference_input.len() as u32).saturating_add(spec.reference_output.len() as u32)
		).saturating_add(Pallet::<T>::expiry_bookkeeping()))]
		pub fn register_model(
			origin: OriginFor<T>,
			hash: ModelId,
			spec: ModelSpecOf<T>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::validate_spec(&spec)?;
			ensure!(!Models::<T>::contains_key(hash), Error::<T>::ModelAlreadyRegistered);
			let until =
				frame_system::Pallet::<T>::block_number().saturating_add(T::PendingExpiry::get());
			let mut queue = Expiries::<T>::get(until);
			queue.try_push(hash).map_err(|_| Error::<T>::TooManyRegistrationsInBlock)?;
			let info = Self::new_info(owner.clone(), spec);
			let deposit = info.record_deposit.saturating_add(info.bytes_deposit);
			T::Currency::hold(&HoldReason::ModelDeposit.into(), &owner, deposit)?;
			Expiries::<T>::insert(until, queue);
			PendingUntil::<T>::insert(hash, until);
			Models::<T>::insert(hash, info);
			Self::deposit_event(Event::ModelRegistered { model: hash, owner, deposit });
			Ok(())
		}

		/// Upload chunk `index` of an on-chain model (owner only, any order). Every chunk is
		/// `ChunkSize` bytes but the last, which holds the rest. When the last missing chunk
		/// arrives the bytes are assembled and checked against the hash; on mismatch the chunks
		/// are deleted (the call still succeeds, see `ModelBytesMismatch`).
		#[pallet::call_index(1)]
		#[pallet::weight(
			T::WeightInfo::upload_chunk(bytes.len() as u32)
				.max(T::WeightInfo::upload_chunk_and_verify(T::MaxModelSize::get()))
		)]
		pub fn upload_chunk(
			origin: OriginFor<T>,
			hash: ModelId,
			index: u32,
			bytes: ChunkOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let mut info = Models::<T>::get(hash).ok_or(Error::<T>::ModelNotFound)?;
			ensure!(info.owner == who, Error::<T>::NotOwner);
			ensure!(info.status == ModelStatus::Pending, Error::<T>::ModelNotPending);
			ensure!(info.spec.availability == Availability::OnChain, Error::<T>::NotOnChain);
			ensure!(index < info.chunk_count, Error::<T>::ChunkIndexOutOfRange);
			ensure!(
				bytes.len() as u64 == Self::chunk_len(info.spec.byte_size, index),
				Error::<T>::WrongChunkLength
			);
			ensure!(!Chunks::<T>::contains_key(hash, index), Error::<T>::ChunkAlreadyUploaded);

			let len = bytes.len() as u32;
			Chunks::<T>::insert(hash, index, bytes);
			info.chunks_received = info.chunks_received.saturating_add(1);
			Self::deposit_event(Event::ChunkUploaded { model: hash, index });

			if info.chunks_received < info.chunk_count {
				Models::<T>::insert(hash, info);
				return Ok(Some(T::WeightInfo::upload_chunk(len)).into());
			}
			let actual = Self::assembled_hash(hash, info.chunk_count);
			if actual == hash {
				info.bytes_verified = true;
				Self::deposit_event(Event::ModelBytesVerified { model: hash });
			} else {
				Self::clear_chunks(hash, info.chunk_count);
				info.chunks_received = 0;
				Self::deposit_event(Event::ModelBytesMismatch { model: hash, actual });
			}
			let size = info.spec.byte_size.saturated_into::<u32>();
			Models::<T>::insert(hash, info);
			Ok(Some(T::WeightInfo::upload_chunk_and_verify(size)).into())
		}

		/// Attest what the caller's worker found: the engine loaded the model under its declared
		/// constants, reported its graph-only figures and produced an output on the reference
		/// input ([`Attestation::Ran`]), or refused it ([`Attestation::Refused`]). An output that
		/// agrees with the reference output under the model's acceptance rule, with figures
		/// within the spec and `MaxModelFlops` and equal to any earlier attestation's, counts
		/// towards activation; anything else rejects the model (`ModelRejected` names why).
		#[pallet::call_index(2)]
		#[pallet::weight(
			T::WeightInfo::attest()
				.max(T::WeightInfo::attest_and_reject(Pallet::<T>::max_chunks()))
				.saturating_add(T::DbWeight::get().writes(1))
		)]
		pub fn attest(
			origin: OriginFor<T>,
			hash: ModelId,
			attestation: AttestationOf<T>,
		) -> DispatchResultWithPostInfo {
			let attester = T::AttestOrigin::ensure_origin(origin)?;
			let mut info = Models::<T>::get(hash).ok_or(Error::<T>::ModelNotFound)?;
			ensure!(info.status == ModelStatus::Pending, Error::<T>::ModelNotPending);
			ensure!(info.bytes_verified, Error::<T>::BytesNotVerified);
			let mut attesters = Attestations::<T>::get(hash);
			ensure!(!attesters.contains(&attester), Error::<T>::AlreadyAttested);

			let now = frame_system::Pallet::<T>::block_number();
			let bounds = match Self::judge_attestation(&info, &attestation) {
				Ok(bounds) => bounds,
				Err(reason) => {
					let chunks = info.chunk_count;
					Self::drop_bytes(hash, &mut info);
					info.status = ModelStatus::Rejected { at: now };
					Attestations::<T>::remove(hash);
					PendingUntil::<T>::remove(hash);
					Models::<T>::insert(hash, info);
					Self::deposit_event(Event::ModelRejected { model: hash, attester, reason });
					return Ok(Some(
						T::WeightInfo::attest_and_reject(chunks)
							.saturating_add(T::DbWeight::get().writes(1)),
					)
					.into());
				},
			};
			info.bounds = Some(bounds);

			let count = (attesters.len() as u32).saturating_add(1);
			if count >= T::RequiredAttestations::get() {
				info.status = ModelStatus::Active { since: now };
				Attestations::<T>::remove(hash);
				PendingUntil::<T>::remove(hash);
				Models::<T>::insert(hash, info);
				let run_ms = Self::run_bound(Some(bounds));
				Self::deposit_event(Event::Attested { model: hash, attester, count });
				Self::deposit_event(Event::ModelActivated { model: hash, bounds, run_ms });
			} else {
				// Cannot fail: fewer than `RequiredAttestations` are stored (checked above).
				attesters
					.try_push(attester.clone())
					.map_err(|_| DispatchError::Other("attestations full"))?;
				Attestations::<T>::insert(hash, attesters);
				Models::<T>::insert(hash, info);
				Self::deposit_event(Event::Attested { model: hash, attester, count });
			}
			Ok(Some(T::WeightInfo::attest().saturating_add(T::DbWeight::get().writes(1))).into())
		}

		/// Retire a pending or active model (owner or `ForceOrigin`): it accepts no new
		/// requests. An active model's open requests still run and can be judged, so its
		/// chunks stay until `reap`; a pending model's are deleted and its bytes deposit
		/// released at once.
		#[pallet::call_index(3)]
		#[pallet::weight(
			T::WeightInfo::retire(Pallet::<T>::max_chunks())
				.saturating_add(T::DbWeight::get().writes(1))
		)]
		pub fn retire(origin: OriginFor<T>, hash: ModelId) -> DispatchResultWithPostInfo {
			let maybe_who = match T::ForceOrigin::try_origin(origin) {
				Ok(_) => None,
				Err(origin) => Some(ensure_signed(origin)?),
			};
			let mut info = Models::<T>::get(hash).ok_or(Error::<T>::ModelNotFound)?;
			if let Some(who) = maybe_who {
				ensure!(info.owner == who, Error::<T>::NotOwner);
			}
			match info.status {
				ModelStatus::Retired { .. } => return Err(Error::<T>::ModelRetired.into()),
				ModelStatus::Rejected { .. } => return Err(Error::<T>::ModelRejected.into()),
				ModelStatus::Pending | ModelStatus::Active { .. } => {},
			}
			let chunks = if info.status == ModelStatus::Pending {
				Self::drop_bytes(hash, &mut info);
				info.chunk_count
			} else {
				0
			};
			Attestations::<T>::remove(hash);
			PendingUntil::<T>::remove(hash);
			info.status = ModelStatus::Retired { at: frame_system::Pallet::<T>::block_number() };
			Models::<T>::insert(hash, info);
			Self::deposit_event(Event::ModelRetired { model: hash });
			Ok(Some(T::WeightInfo::retire(chunks).saturating_add(T::DbWeight::get().writes(1)))
				.into())
		}

		/// Remove a rejected or retired model's record and chunks once `ReapDelay` has passed
		/// and no request of it is open, returning the rest of the deposit to the owner. Anyone
		/// may call it. The hash can then be registered again.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::reap().saturating_add(T::WeightInfo::retire(Pallet::<T>::max_chunks())))]
		pub fn reap(origin: OriginFor<T>, hash: ModelId) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let mut info = Models::<T>::get(hash).ok_or(Error::<T>::ModelNotFound)?;
			let since = match info.status {
				ModelStatus::Rejected { at } | ModelStatus::Retired { at } => at,
				_ => return Err(Error::<T>::ModelNotFinal.into()),
			};
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(
				now >= since.saturating_add(T::ReapDelay::get()),
				Error::<T>::ReapDelayNotElapsed
			);
			ensure!(T::Usage::open_requests(&hash) == 0, Error::<T>::ModelInUse);
			// A retired model kept its chunks for its open requests; a rejected one has none.
			let chunks = info.chunks_received;
			Self::drop_bytes(hash, &mut info);
			let deposit = info.record_deposit.saturating_add(info.bytes_deposit);
			let released = T::Currency::release(
				&HoldReason::ModelDeposit.into(),
				&info.owner,
				deposit,
				Precision::BestEffort,
			)?;
			Models::<T>::remove(hash);
			Self::deposit_event(Event::ModelReaped { model: hash, owner: info.owner, released });
			// Deleting chunks costs what retiring them did (the benchmark of `retire` with
			// `chunks` chunks); reaping a record without chunks, `reap` alone.
			let extra = if chunks == 0 { Weight::zero() } else { T::WeightInfo::retire(chunks) };
			Ok(Some(T::WeightInfo::reap().saturating_add(extra)).into())
		}
	}

	#[deny(clippy::expect_used)]
	impl<T: Config> Pallet<T> {
		/// What registration adds to its benchmarked weight for the expiry bookkeeping (read and
		/// write the block's `Expiries` queue, write `PendingUntil`); `attest` and `retire` add
		/// one write (`PendingUntil`). Estimated, until the benchmarks are run again.
		pub fn expiry_bookkeeping() -> Weight {
			T::DbWeight::get().reads_writes(1, 2)
		}

		/// Most chunks a model can have: `ceil(MaxModelSize / ChunkSize)`.
		pub fn max_chunks() -> u32 {
			Self::chunk_count_of(T::MaxModelSize::get() as u64)
		}

		/// Number of chunks of a model of `size` bytes.
		pub fn chunk_count_of(size: u64) -> u32 {
			let chunk = (T::ChunkSize::get() as u64).max(1);
			size.div_ceil(chunk).saturated_into()
		}

		/// Expected length of chunk `index` of a model of `size` bytes (0 when out of range).
		pub fn chunk_len(size: u64, index: u32) -> u64 {
			let chunk = T::ChunkSize::get() as u64;
			let start = (index as u64).saturating_mul(chunk);
			size.saturating_sub(start).min(chunk)
		}

		/// Deposit for `bytes` stored bytes, without the base.
		pub fn byte_deposit(bytes: u64) -> BalanceOf<T> {
			T::DepositPerByte::get().saturating_mul(bytes.saturated_into())
		}

		/// Deposit for declaring `bytes` of constants (part of the record deposit).
		pub fn constants_deposit(bytes: u64) -> BalanceOf<T> {
			T::DepositPerConstantByte::get().saturating_mul(bytes.saturated_into())
		}

		/// Whether `encoded` is a canonical tensor list matching `specs` one to one.
		pub fn satisfies(specs: &[TensorSpec], encoded: &[u8]) -> bool {
			verity_engine::check_list(specs, encoded).is_ok()
		}

		/// The assembled bytes of on-chain model `id` once every chunk is stored and the whole
		/// matched its hash; `None` otherwise. At most `MaxModelSize` bytes.
		pub fn assembled_bytes(id: &ModelId) -> Option<Vec<u8>> {
			let info = Models::<T>::get(id)?;
			if info.spec.availability != Availability::OnChain || !info.bytes_verified {
				return None;
			}
			let mut bytes = Vec::new();
			for i in 0..info.chunk_count {
				bytes.extend_from_slice(&Chunks::<T>::get(id, i)?);
			}
			Some(bytes)
		}

		/// Whether an attester's `output` agrees with the spec's reference output under the
		/// spec's acceptance rule (exact integer logic, the engine's `agrees_all`).
		fn reproduces_reference(spec: &ModelSpecOf<T>, output: &[u8]) -> bool {
			verity_engine::agrees_encoded(&spec.acceptance, output, &spec.reference_output)
		}

		/// The figures an attestation lets the model keep, or why it rejects the model: a
		/// refusal, an output that does not reproduce the reference, constants over the spec,
		/// FLOPs over the capacity, or figures that differ from an earlier attestation's (a
		/// determinism fault: graph-only figures are the same on every honest node, so the
		/// model is rejected rather than activated with figures some node disputes).
		fn judge_attestation(
			info: &ModelInfoOf<T>,
			attestation: &AttestationOf<T>,
		) -> Result<GraphBounds, RejectReason> {
			let (output, bounds) = match attestation {
				Attestation::Refused(refusal) => return Err(RejectReason::Refused(*refusal)),
				Attestation::Ran { output, bounds } => (output, *bounds),
			};
			let declared = info.spec.max_constant_bytes;
			if bounds.constant_bytes > declared {
				let constant_bytes = bounds.constant_bytes;
				return Err(RejectReason::ConstantsOverSpec { constant_bytes, declared });
			}
			// Before the output: a worker does not run a model over the capacity (its output
			// is empty).
			let max = T::MaxModelFlops::get();
			if bounds.flops > max {
				return Err(RejectReason::TooManyFlops { flops: bounds.flops, max });
			}
			if !Self::reproduces_reference(&info.spec, output) {
				let commitment = H256(sp_io::hashing::blake2_256(output));
				return Err(RejectReason::OutputMismatch { commitment });
			}
			match info.bounds {
				Some(recorded) if recorded != bounds => {
					Err(RejectReason::FiguresDisagree { recorded, attested: bounds })
				},
				_ => Ok(bounds),
			}
		}

		/// The chain's wall-time bound of one run of a model with figures `bounds`, in
		/// milliseconds: `MinRunMs + ceil(flops / ReferenceFlopsPerMs)`, what the reference node
		/// needs. A model without figures (genesis, migrated) gets the bound of a model at
		/// `MaxModelFlops`, the largest an attested model can have.
		pub fn run_bound(bounds: Option<GraphBounds>) -> u32 {
			let flops = bounds.map_or(T::MaxModelFlops::get(), |b| b.flops);
			let per_ms = T::ReferenceFlopsPerMs::get().max(1);
			let ms = flops.div_ceil(per_ms).saturating_add(u64::from(T::MinRunMs::get()));
			ms.saturated_into()
		}

		/// The terms every node loads and runs model `info` under.
		pub fn run_limits(info: &ModelInfoOf<T>) -> RunLimits {
			RunLimits {
				engine_version: info.spec.engine_version,
				max_constant_bytes: info.spec.max_constant_bytes,
				run_ms: Self::run_bound(info.bounds),
				within_capacity: info.bounds.is_none_or(|b| b.flops <= T::MaxModelFlops::get()),
				deterministic: (info.spec.execution == ExecutionClass::Deterministic)
					.then(|| Self::deterministic_terms(&info.spec, info.bounds)),
			}
		}

		/// The terms of a deterministic-mode run of a model with spec `spec` and figures
		/// `bounds` (those recorded at attestation, or the attester's own while it attests):
		/// its declared constants, its FLOPs (`MaxModelFlops` without figures) as the most the
		/// engine may estimate, fuel from the FLOPs and the file size capped at
		/// `MaxDeterministicFuel`, and `DeterministicMemory`. The same on every node, so every
		/// node reaches the same outcome, an output or running out of fuel or memory. In-block
		/// runs take these terms too, under pallet-inference's tighter caps.
		pub fn deterministic_terms(
			spec: &ModelSpecOf<T>,
			bounds: Option<GraphBounds>,
		) -> DeterministicTerms {
			let flops = bounds.map_or(T::MaxModelFlops::get(), |b| b.flops);
			let fuel = T::DeterministicBaseFuel::get()
				.saturating_add(flops.saturating_mul(T::DeterministicFuelPerFlop::get()))
				.saturating_add(spec.byte_size.saturating_mul(T::DeterministicFuelPerByte::get()));
			DeterministicTerms {
				max_constant_bytes: spec.max_constant_bytes,
				max_flops: flops,
				fuel: fuel.min(T::MaxDeterministicFuel::get()),
				memory_bytes: T::DeterministicMemory::get(),
			}
		}

		/// The read API's summary of record `info` of model `id`.
		fn summary_of(id: ModelId) -> impl Fn(ModelInfoOf<T>) -> ModelSummaryOf<T> {
			move |info| {
				let run_ms = Self::run_bound(info.bounds);
				ModelSummary::new(id, info, run_ms)
			}
		}

		fn validate_spec(spec: &ModelSpecOf<T>) -> DispatchResult {
			ensure!(!spec.name.is_empty(), Error::<T>::EmptyName);
			ensure!(
				spec.engine_version == T::EngineVersion::get(),
				Error::<T>::UnsupportedEngineVersion
			);
			ensure!(spec.max_constant_bytes > 0, Error::<T>::NoConstantBytes);
			ensure!(
				spec.max_constant_bytes <= T::MaxConstantBytes::get(),
				Error::<T>::TooManyConstantBytes
			);
			ensure!(!spec.inputs.is_empty() && !spec.outputs.is_empty(), Error::<T>::NoTensors);
			ensure!(
				Self::satisfies(&spec.inputs, &spec.reference_input),
				Error::<T>::InvalidReferenceInput
			);
			ensure!(
				Self::satisfies(&spec.outputs, &spec.reference_output),
				Error::<T>::InvalidReferenceOutput
			);
			spec.acceptance.check(&spec.outputs).map_err(Self::rule_error)?;
			ensure!(
				spec.execution == ExecutionClass::Native
					|| spec.acceptance == AcceptanceRule::Exact,
				Error::<T>::DeterministicNeedsExact
			);
			ensure!(spec.byte_size > 0, Error::<T>::EmptyModel);
			match &spec.availability {
				Availability::OnChain => ensure!(
					spec.byte_size <= T::MaxModelSize::get() as u64,
					Error::<T>::ModelTooLarge
				),
				Availability::Uris(uris) => {
					ensure!(!uris.is_empty(), Error::<T>::NoUris);
					ensure!(spec.byte_size <= MAX_URI_MODEL_SIZE, Error::<T>::ModelTooLarge);
					ensure!(
						uris.iter().all(|uri| uri_host(uri).is_some()),
						Error::<T>::UnsupportedUri
					);
				},
			}
			Ok(())
		}

		/// The error of a rule that [`AcceptanceRule::check`] refuses.
		fn rule_error(e: RuleError) -> Error<T> {
			match e {
				RuleError::TopKZero => Error::<T>::TopKZero,
				RuleError::TopKCoversRow { .. } => Error::<T>::TopKCoversRow,
				RuleError::ArgMaxRowTooShort { .. } => Error::<T>::ArgMaxRowTooShort,
				RuleError::LastAxisNotFixed { .. } => Error::<T>::RuleNeedsFixedLastAxis,
				RuleError::ToleranceTooLoose { .. } => Error::<T>::ToleranceTooLoose,
			}
		}

		fn new_info(owner: T::AccountId, spec: ModelSpecOf<T>) -> ModelInfoOf<T> {
			let on_chain = spec.availability == Availability::OnChain;
			let record_deposit = T::DepositBase::get()
				.saturating_add(Self::byte_deposit(spec.encoded_size() as u64))
				.saturating_add(Self::constants_deposit(spec.max_constant_bytes));
			let (bytes_deposit, chunk_count) = if on_chain {
				(Self::byte_deposit(spec.byte_size), Self::chunk_count_of(spec.byte_size))
			} else {
				(Zero::zero(), 0)
			};
			ModelInfo {
				owner,
				spec,
				status: ModelStatus::Pending,
				record_deposit,
				bytes_deposit,
				chunk_count,
				chunks_received: 0,
				bytes_verified: !on_chain,
				bounds: None,
			}
		}

		/// `blake2_256` of the concatenated chunks `0..count`. A missing chunk (impossible when
		/// `chunks_received == chunk_count`) makes the hash differ, so the bytes are rejected.
		fn assembled_hash(hash: ModelId, count: u32) -> H256 {
			let mut bytes = Vec::new();
			for i in 0..count {
				match Chunks::<T>::get(hash, i) {
					Some(c) => bytes.extend_from_slice(&c),
					None => {
						frame_support::defensive!("chunk missing although all were counted");
						return H256::zero();
					},
				}
			}
			H256(sp_io::hashing::blake2_256(&bytes))
		}

		fn clear_chunks(hash: ModelId, count: u32) {
			// At most `count` entries exist (indices are checked on upload).
			let _ = Chunks::<T>::clear_prefix(hash, count.saturating_add(1), None);
		}

		/// Delete the chunks and release the bytes deposit (retirement, rejection).
		fn drop_bytes(hash: ModelId, info: &mut ModelInfoOf<T>) {
			Self::clear_chunks(hash, info.chunk_count);
			info.chunks_received = 0;
			if !info.bytes_deposit.is_zero() {
				let released = T::Currency::release(
					&HoldReason::ModelDeposit.into(),
					&info.owner,
					info.bytes_deposit,
					Precision::BestEffort,
				)
				.unwrap_or_default();
				if released != info.bytes_deposit {
					frame_support::defensive!("bytes deposit not fully held");
				}
				info.bytes_deposit = Zero::zero();
			}
		}

		/// Expire pending model `id` (see the crate docs): delete its record, chunks and
		/// attestations, burn `ExpiryBurn` of its deposit and release the rest.
		pub(crate) fn do_expire(id: ModelId) {
			PendingUntil::<T>::remove(id);
			let Some(info) = Models::<T>::get(id) else {
				frame_support::defensive!("a pending model without a record");
				return;
			};
			if info.status != ModelStatus::Pending {
				frame_support::defensive!("an expiry of a model that is not pending");
				return;
			}
			Self::clear_chunks(id, info.chunk_count);
			Attestations::<T>::remove(id);
			Models::<T>::remove(id);
			let reason = HoldReason::ModelDeposit.into();
			let deposit = info.record_deposit.saturating_add(info.bytes_deposit);
			let burned = T::Currency::burn_held(
				&reason,
				&info.owner,
				T::ExpiryBurn::get().mul_floor(deposit),
				Precision::BestEffort,
				Fortitude::Force,
			)
			.unwrap_or_default();
			let released = T::Currency::release(
				&reason,
				&info.owner,
				deposit.saturating_sub(burned),
				Precision::BestEffort,
			)
			.unwrap_or_default();
			if burned.saturating_add(released) != deposit {
				frame_support::defensive!("expired model's deposit not fully held");
			}
			Self::deposit_event(Event::ModelExpired {
				model: id,
				owner: info.owner,
				burned,
				released,
			});
		}

		/// Register an `Active` model at genesis (deposit held, bytes checked and stored).
		pub(crate) fn do_genesis_model(
			owner: &T::AccountId,
			id: ModelId,
			spec: &ModelSpecOf<T>,
			bytes: Option<&[u8]>,
		) -> DispatchResult {
			Self::validate_spec(spec)?;
			ensure!(!Models::<T>::contains_key(id), Error::<T>::ModelAlreadyRegistered);
			let mut info = Self::new_info(owner.clone(), spec.clone());
			if spec.availability == Availability::OnChain {
				let bytes = bytes.ok_or(Error::<T>::BytesNotVerified)?;
				ensure!(bytes.len() as u64 == spec.byte_size, Error::<T>::WrongChunkLength);
				ensure!(
					H256(sp_io::hashing::blake2_256(bytes)) == id,
					Error::<T>::BytesNotVerified
				);
				for (i, chunk) in bytes.chunks(T::ChunkSize::get() as usize).enumerate() {
					let chunk = ChunkOf::<T>::try_from(chunk.to_vec())
						.map_err(|_| Error::<T>::WrongChunkLength)?;
					Chunks::<T>::insert(id, i as u32, chunk);
				}
				info.chunks_received = info.chunk_count;
				info.bytes_verified = true;
			}
			let deposit = info.record_deposit.saturating_add(info.bytes_deposit);
			T::Currency::hold(&HoldReason::ModelDeposit.into(), owner, deposit)?;
			info.status = ModelStatus::Active { since: frame_system::Pallet::<T>::block_number() };
			Models::<T>::insert(id, info);
			Ok(())
		}

		/// Insert an `Active` URI model owned by `owner` without deposit checks, for other
		/// pallets' benchmarks (their `BenchmarkHelper` calls it). The deposit is minted and
		/// held so the invariants still hold.
		#[cfg(feature = "runtime-benchmarks")]
		pub fn insert_active_model_for_benchmarks(owner: &T::AccountId, id: ModelId) {
			use frame_support::traits::fungible::Mutate as _;
			let spec = ModelSpec {
				name: BoundedVec::truncate_from(b"bench".to_vec()),
				inputs: BoundedVec::truncate_from(alloc::vec![TensorSpec {
					dtype: DType::F32,
					dims: BoundedVec::truncate_from(alloc::vec![None, Some(4)]),
				}]),
				outputs: BoundedVec::truncate_from(alloc::vec![TensorSpec {
					dtype: DType::F32,
					dims: BoundedVec::truncate_from(alloc::vec![None, Some(4)]),
				}]),
				opset: 17,
				engine_version: T::EngineVersion::get(),
				price_per_call: Zero::zero(),
				acceptance: AcceptanceRule::Exact,
				execution: ExecutionClass::Native,
				byte_size: 1,
				max_constant_bytes: 1,
				availability: Availability::Uris(BoundedVec::truncate_from(alloc::vec![
					BoundedVec::truncate_from(b"https://bench".to_vec())
				])),
				reference_input: BoundedVec::default(),
				reference_output: BoundedVec::default(),
			};
			let mut info = Self::new_info(owner.clone(), spec);
			let deposit = info.record_deposit;
			let _ = T::Currency::mint_into(
				owner,
				deposit.saturating_add(T::Currency::minimum_balance()),
			);
			let _ = T::Currency::hold(&HoldReason::ModelDeposit.into(), owner, deposit);
			info.status = ModelStatus::Active { since: frame_system::Pallet::<T>::block_number() };
			Models::<T>::insert(id, info);
		}

		/// Check every invariant of the pallet (see the crate docs).
		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			Self::check_deposits()?;
			Self::check_chunks()?;
			Self::check_attestations()?;
			Self::check_expiries()?;
			Self::check_execution_classes()
		}

		/// Every `Deterministic` model's rule is `Exact` (validated at registration; genesis
		/// goes through the same validation).
		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		fn check_execution_classes() -> Result<(), sp_runtime::TryRuntimeError> {
			for (_, info) in Models::<T>::iter() {
				ensure!(
					info.spec.execution == ExecutionClass::Native
						|| info.spec.acceptance == AcceptanceRule::Exact,
					"a Deterministic model whose rule is not Exact"
				);
			}
			Ok(())
		}

		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		fn check_expiries() -> Result<(), sp_runtime::TryRuntimeError> {
			let now = frame_system::Pallet::<T>::block_number();
			for (id, info) in Models::<T>::iter() {
				let until = PendingUntil::<T>::get(id);
				ensure!(
					(info.status == ModelStatus::Pending) == until.is_some(),
					"PendingUntil differs from the pending models"
				);
				if let Some(until) = until {
					ensure!(until > now, "a pending model past its expiry");
					ensure!(
						Expiries::<T>::get(until).contains(&id),
						"a pending model missing from its expiry queue"
					);
				}
			}
			for id in PendingUntil::<T>::iter_keys() {
				ensure!(Models::<T>::contains_key(id), "PendingUntil of an unknown model");
			}
			for (at, _) in Expiries::<T>::iter() {
				ensure!(at > now, "an expiry queue left in the past");
			}
			Ok(())
		}

		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		fn check_deposits() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			let mut per_owner: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			for (_, info) in Models::<T>::iter() {
				let e = per_owner.entry(info.owner.clone()).or_default();
				*e = e.saturating_add(info.record_deposit).saturating_add(info.bytes_deposit);
			}
			for (owner, sum) in per_owner {
				let held = T::Currency::balance_on_hold(&HoldReason::ModelDeposit.into(), &owner);
				ensure!(held == sum, "held model deposit differs from recorded deposits");
			}
			Ok(())
		}

		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		fn check_chunks() -> Result<(), sp_runtime::TryRuntimeError> {
			for (id, info) in Models::<T>::iter() {
				let mut stored = 0u32;
				for index in Chunks::<T>::iter_key_prefix(id) {
					ensure!(index < info.chunk_count, "chunk index out of bounds");
					stored = stored.saturating_add(1);
				}
				ensure!(stored == info.chunks_received, "chunk count differs from stored chunks");
				ensure!(info.chunks_received <= info.chunk_count, "more chunks than expected");
				ensure!(info.chunk_count <= Self::max_chunks(), "chunk count above the maximum");
				if info.spec.availability == Availability::OnChain {
					ensure!(
						!info.bytes_verified
							|| info.status.is_final()
							|| info.chunks_received == info.chunk_count,
						"verified model with missing chunks"
					);
				} else {
					ensure!(info.chunk_count == 0, "URI model with chunks");
				}
				// A retired model keeps its chunks for its open requests until it is reaped.
				if matches!(info.status, ModelStatus::Rejected { .. }) {
					ensure!(stored == 0, "rejected model still stores chunks");
					ensure!(
						info.bytes_deposit.is_zero(),
						"rejected model still holds bytes deposit"
					);
				}
			}
			for (id, _) in Chunks::<T>::iter_keys() {
				ensure!(Models::<T>::contains_key(id), "chunk of an unknown model");
			}
			Ok(())
		}

		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		fn check_attestations() -> Result<(), sp_runtime::TryRuntimeError> {
			for (id, info) in Models::<T>::iter() {
				if info.status == ModelStatus::Pending {
					ensure!(
						info.bounds.is_some() == Attestations::<T>::contains_key(id),
						"a pending model's figures without attestations, or attestations without"
					);
				}
				if let Some(bounds) = info.bounds {
					ensure!(
						bounds.constant_bytes <= info.spec.max_constant_bytes,
						"recorded constants above the declaration"
					);
				}
			}
			for (id, attesters) in Attestations::<T>::iter() {
				let info = Models::<T>::get(id).ok_or("attestations of an unknown model")?;
				ensure!(info.status == ModelStatus::Pending, "attestations of a non-pending model");
				ensure!(
					(attesters.len() as u32) < T::RequiredAttestations::get(),
					"attestations should have activated the model"
				);
			}
			Ok(())
		}
	}

	#[deny(clippy::expect_used)]
	impl<T: Config> ModelRegistry<T::AccountId, BalanceOf<T>> for Pallet<T> {
		fn model(model: &ModelId) -> Option<ModelView<T::AccountId, BalanceOf<T>>> {
			Models::<T>::get(model).map(|m| ModelView {
				active: matches!(m.status, ModelStatus::Active { .. }),
				limits: Self::run_limits(&m),
				owner: m.owner,
				inputs: m.spec.inputs,
				outputs: m.spec.outputs,
				opset: m.spec.opset,
				price_per_call: m.spec.price_per_call,
				acceptance: m.spec.acceptance,
				byte_size: m.spec.byte_size,
			})
		}

		fn is_servable(model: &ModelId) -> bool {
			Models::<T>::get(model).is_some_and(|m| {
				matches!(m.status, ModelStatus::Active { .. } | ModelStatus::Retired { .. })
			})
		}

		fn run_offchain(
			model: &ModelId,
			input: &[u8],
			max_output: u32,
			purpose: verity_host::Purpose,
		) -> Result<Vec<u8>, verity_host::HostError> {
			Self::run_local(model, input, max_output, purpose)
		}

		fn in_block_figures(model: &ModelId) -> Option<InBlockFigures> {
			let m = Models::<T>::get(model)?;
			let runnable = matches!(m.status, ModelStatus::Active { .. })
				&& m.spec.execution == ExecutionClass::Deterministic
				&& m.spec.availability == Availability::OnChain
				&& m.bytes_verified;
			let bounds = m.bounds.filter(|_| runnable)?;
			Some(InBlockFigures {
				byte_size: m.spec.byte_size,
				chunks: m.chunk_count,
				terms: Self::deterministic_terms(&m.spec, Some(bounds)),
			})
		}

		fn in_block_bytes(model: &ModelId) -> Option<Vec<u8>> {
			Self::assembled_bytes(model)
		}
	}
}
