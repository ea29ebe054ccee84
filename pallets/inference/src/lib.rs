//! # Inference requests (pallet-inference)
//!
//! ## Overview
//!
//! A dApp pays for an inference with [`Pallet::request`]: the input is checked on chain against
//! the model's input specs, the fee is held, and `DrawDelay` blocks later executors are drawn
//! stake-weighted among the providers serving the model (`ExecutorSelection`), from
//! randomness revealed after the request's block (`Config::Randomness`, BABE's VRF output of
//! the next block): neither the requester nor the author who included the request can know or
//! choose it. Each executor's off-chain worker runs the
//! model natively and posts the canonical output with [`Pallet::submit_result`], together with a
//! secp256k1 receipt. Under `Optimistic` the result is `Provisional` for `ChallengeWindow`
//! blocks (pallet-disputes may take it to a jury), then `Finalized` and paid out. Under
//! `Redundant(k)` each output is compared, as it is posted, with the first one posted under the
//! model's acceptance rule; once every slot has posted, failed or missed its deadline, agreement
//! finalizes at once and any disagreement opens a dispute. Comparing on posting keeps the cost
//! of a comparison in `submit_result`, which pays for it, and out of `on_initialize`.
//!
//! ## Terms
//!
//! - *Fee*: `royalty + k * ExecutionFee`, where the royalty is the model's price per call. It
//!   is held from the requester ([`HoldReason::RequestFee`]) and must not exceed `max_fee`.
//!   On finalization the royalty goes to the model owner and each paid executor's fee to its
//!   provider's reward pool (`Rewards`: commission to the provider, the rest pro rata to the
//!   self-bond and the delegations). Anything not paid out is released to the requester.
//! - *Slot*: one executor assignment of a request (`0..k`).
//! - *Receipt*: the executor's signature over [`types::receipt_message`], checked at
//!   submission by `ReceiptVerifier` (in the runtime: the key behind the executor account).
//! - *Executor key*: a slot is assigned to the key its provider had when it was drawn, and
//!   only that key posts or reports for it, only while it is still the provider's
//!   (`ExecutorSelection::executor_of`). A key the provider replaced (pallet-providers'
//!   `set_executor`) is revoked at once; its open slots run to their deadline and are
//!   penalized like any missed slot.
//!
//! ## Life cycle
//!
//! `Drawing { at }` → `Assigned { deadline }` → (every slot posted) → `Provisional { until }` (optimistic) or
//! `Finalized` / `Disputed` (redundant) → `Finalized` or `Refunded`.
//! - A slot that misses the deadline is penalized (`MissedDeadlinePenalty` of its provider's
//!   stake, burned: a requester could be the provider in disguise), unless a block of its
//!   execution window was congested ([`LastCongested`]): a deadline missed while blocks were
//!   full is never penalized. An executor that cannot run the model (bytes unavailable
//!   or corrupt, timeout) says so with [`Pallet::report_failure`] instead of posting garbage,
//!   without penalty. Optimistic requests whose executor failed or missed are reassigned to
//!   another provider (drawn like the first, `DrawDelay` blocks later), up to `MaxAttempts`
//!   rounds, then refunded; a draw that finds nobody left refunds the request. Redundant requests are
//!   judged on the slots that posted.
//! - Disputes conclude through [`InferenceForDisputes::conclude`]: correct executors are paid,
//!   wrong ones slashed by `WrongResultPenalty` (burned; pallet-disputes funds bounded rewards
//!   for the challenger and the jurors from the returned [`Settlement`]), and where no posted
//!   output is correct the jury's output (if it passes the model's output spec) becomes the
//!   result and the requester is refunded. Without quorum an optimistic result stands (nobody
//!   showed it wrong), and a redundant request is refunded (nobody showed which was right).
//! - Final requests stay readable for `RetentionPeriod` blocks, then are pruned and the
//!   requester's storage deposit ([`HoldReason::StorageDeposit`], `DepositBase + DepositPerByte *
//!   (input + k * MaxOutputLen)`) is released.
//! - Executors' calls (`submit_result`, `report_failure`) are `Operational`: request spam in
//!   the `Normal` class cannot crowd them out of a block.
//!
//! Timed work (deadlines, window closes, pruning) is queued per block in [`Timeouts`], at most
//! `MaxTimeoutsPerBlock` entries a block (a full block's entry goes to the next block with
//! room), so `on_initialize` does bounded work. An entry only acts if the request is still in
//! the state it was queued for.
//!
//! ## Audits
//!
//! Nobody is paid to watch an optimistic result, so a wrong one would stand unless an outsider
//! spends a challenge bond. Every provisional result is therefore sampled for an audit with
//! probability [`AuditRate`], `DrawDelay` blocks after it became provisional, from randomness
//! revealed after that block (the executor cannot time its post to dodge the sample). A sampled
//! result gets one auditor, drawn stake-weighted among the model's other providers. The
//! auditor's worker re-executes the request and reports with [`Pallet::audit`] before the
//! challenge window closes:
//! - `Agrees`: when the result is final the auditor's provider is paid `AuditShare` of the
//!   first paid executor's fee (the request's fee pays for the audit; the requester pays
//!   nothing more). If a jury later finds the result wrong (someone else challenged it), the
//!   auditor vouched for a wrong result without running it: it is slashed `WrongResultPenalty`.
//! - `Disagrees`: a dispute opens at once, raised by the auditor without a bond. The auditor
//!   is kept off the jury and rewarded like a challenger (pallet-disputes' `ChallengerReward`)
//!   if the result is wrong; if the jury upholds it, the false alarm costs the auditor
//!   `WrongResultPenalty`.
//! - `CannotRun`: nothing is paid; counted like an executor's failure report. Another auditor
//!   is drawn `DrawDelay` blocks later (excluding the one that declined) if that is still
//!   inside the window: otherwise an auditor colluding with the executor would decline, for
//!   free up to `FreeFailures`, every audit of a wrong result it is drawn for.
//!
//! An auditor that stays silent until the window closes is penalized like a missed deadline
//! (not when a block of the window was congested). docs/security.md gives the probability that
//! a wrong result survives, per sample rate.
//!
//! ## Invariants (checked by `do_try_state`)
//!
//! - Per requester, the balance held for `RequestFee` equals the sum of `held` over their
//!   requests; final requests hold nothing.
//! - Every assignment entry names a live slot of an `Assigned` request that has not posted;
//!   `pending` equals the number of such entries.
//! - Every non-final request has a queued timeout or is `Disputed`.
//!
//! ## Complexity
//!
//! Every call is bounded by `Config` constants (input and output sizes, `MaxRedundancy`); no
//! call or hook iterates over all requests, providers or delegators.

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

pub mod offchain;
pub mod traits;
pub mod types;
pub mod weights;

#[cfg(test)]
mod attack_tests;
#[cfg(test)]
mod audit_tests;
#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
#[cfg(test)]
mod in_block_tests;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod offchain_tests;
#[cfg(test)]
mod tests;

pub use pallet::*;
pub use traits::*;
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
			tokens::{Precision, Preservation},
			Randomness,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_core::H256;
	use sp_runtime::{
		traits::{One, Saturating, Zero},
		Perbill,
	};
	use verity_engine::{
		agrees_all, check_list, decode_tensors, AcceptanceRule, ListError, Tensor, TensorSpec,
	};
	use verity_host::HostError;
	use verity_primitives::{
		ExecutorSelection, ModelId, ModelRegistry, ModelUsage, ModelView, Rewards, Slash,
	};

	/// The balance type of the currency.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A request with this runtime's bounds.
	pub type RequestOf<T> = Request<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as Config>::MaxInputLen,
		<T as Config>::MaxRedundancy,
		<T as Config>::MaxAttempts,
	>;
	/// An audit with this runtime's types.
	/// A model's view as `quote_fee` returns it beside the fee.
	pub type ModelViewOf<T> = ModelView<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
	pub type AuditOf<T> = Audit<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;
	/// A posted result with this runtime's bounds.
	pub type ResultOf<T> = ResultRecord<
		<T as frame_system::Config>::AccountId,
		BlockNumberFor<T>,
		<T as Config>::MaxOutputLen,
	>;
	/// Canonical input bytes.
	pub type InputOf<T> = BoundedVec<u8, <T as Config>::MaxInputLen>;
	/// Canonical output bytes.
	pub type OutputOf<T> = BoundedVec<u8, <T as Config>::MaxOutputLen>;
	/// The read API's view of a request.
	pub type RequestViewOf<T> =
		RequestView<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	/// Blocks `queue` searches for room: how far a full timeout queue can push a deadline, a
	/// window close or a pruning (the runtime derives its unbonding period from it).
	pub const QUEUE_SEARCH: u32 = 256;

	/// Blocks `schedule_slot` searches for room before a request fails with `SchedulerFull`.
	pub(crate) const SCHEDULE_SEARCH: u32 = 16;

	/// The round number an audit's seed is derived with: executors' rounds count from 0 and
	/// stay below `MaxAttempts`.
	const AUDIT_ROUND: u32 = u32::MAX;

	/// How a request with an audit ends, for the auditor.
	#[derive(Clone, Copy, PartialEq, Eq, Debug)]
	pub(crate) enum AuditEnd {
		/// The challenge window closed unchallenged: the result is final.
		WindowClosed,
		/// A jury found the audited output right.
		Upheld,
		/// A jury found the audited output wrong.
		Overturned,
		/// A dispute ended without quorum and the result stands.
		Stands,
		/// The request is refunded (or, never provisional, had no audit).
		Refunded,
	}

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// What reading and hashing one byte costs natively (blake2 runs at about 1 ns per byte on
	/// the reference machine; twice that covers the storage copy), for the bytes of a model and
	/// input that in-block inference reads and hashes.
	pub const HASH_PS_PER_BYTE: u64 = 2_000;

	#[pallet::config]
	pub trait Config:
		frame_system::Config<RuntimeEvent: From<Event<Self>>>
		+ frame_system::offchain::CreateSignedTransaction<Call<Self>>
	{
		/// The executor keys of a provider's node (secp256k1, `vexe`): they sign results,
		/// receipts (prehashed, for `ecrecover`) and the transactions that post them.
		type ExecutorId: frame_system::offchain::AppCrypto<
			Self::Public,
			Self::Signature,
			RuntimeAppPublic = verity_primitives::executor_app::Public,
		>;

		/// The fee currency.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// In-block inference ([`Pallet::infer`]): the most fuel one call may be given. A
		/// model's budget is the fuel of its deterministic terms, which the model registry
		/// derives from its attested FLOPs and size (`ModelRegistry::in_block_figures`, the same
		/// terms its off-chain runs take); a model whose budget is above this is refused
		/// ([`Error::TooHeavyForBlock`]).
		#[pallet::constant]
		type InBlockMaxFuel: Get<u64>;

		/// In-block inference: the most bytes of linear memory a run may hold (the model's
		/// terms' memory when that is lower).
		#[pallet::constant]
		type InBlockMemory: Get<u64>;

		/// In-block inference: the weight of one unit of fuel on the reference machine (how
		/// it was measured: `docs/determinism.md`).
		#[pallet::constant]
		type WeightPerFuel: Get<Weight>;

		/// Model specs, activity and owners.
		type Models: ModelRegistry<Self::AccountId, BalanceOf<Self>>;

		/// Stake-weighted choice of executors and the executor key of each provider.
		type Executors: ExecutorSelection<Self::AccountId>;

		/// Pays providers (commission and delegators).
		type Rewards: Rewards<Self::AccountId, BalanceOf<Self>>;

		/// Takes stake from providers that missed deadlines or posted wrong results.
		type Slash: Slash<Self::AccountId, BalanceOf<Self>>;

		/// Opens disputes when redundant executors disagree.
		type Disputes: DisputeOpener<Self::AccountId>;

		/// Checks executors' receipts.
		type Receipts: ReceiptVerifier<Self::AccountId>;

		/// Fee per executor, paid to its provider's pool on finalization.
		#[pallet::constant]
		type ExecutionFee: Get<BalanceOf<Self>>;

		/// Largest canonical input, in bytes.
		#[pallet::constant]
		type MaxInputLen: Get<u32>;

		/// Largest canonical output, in bytes.
		#[pallet::constant]
		type MaxOutputLen: Get<u32>;

		/// Largest `k` of `Redundant(k)`. At least 2.
		#[pallet::constant]
		type MaxRedundancy: Get<u32>;

		/// Blocks an assignment has to post its result. Non-zero.
		#[pallet::constant]
		type ResultDeadline: Get<BlockNumberFor<Self>>;

		/// Randomness that a block reveals, read by the block after it (BABE's
		/// `ParentBlockRandomness`: the VRF output of the parent block's author). Executors are
		/// drawn from it; `None` (no VRF output, e.g. the genesis block's) falls back to the
		/// parent hash.
		type Randomness: Randomness<Option<Self::Hash>, BlockNumberFor<Self>>;

		/// Blocks from a request (or a reassignment) to the draw of its executors, made in
		/// `on_initialize` from [`Config::Randomness`]. With 2 the draw reads the VRF output of
		/// the block *after* the one that included the request: neither the requester nor the
		/// author who included it can know or choose it (see the crate docs for what an author
		/// who withholds a block can do). 0 draws in the request's own call from the parent
		/// block's randomness, which the requester knows: for tests only.
		#[pallet::constant]
		type DrawDelay: Get<BlockNumberFor<Self>>;

		/// Blocks a provisional result can be challenged. Non-zero; pallet-providers'
		/// unbonding period must exceed it plus the dispute time.
		#[pallet::constant]
		type ChallengeWindow: Get<BlockNumberFor<Self>>;

		/// Assignment rounds of an optimistic request before it is refunded. At least 1.
		#[pallet::constant]
		type MaxAttempts: Get<u32>;

		/// Share of a provider's stake taken when its executor misses a deadline.
		#[pallet::constant]
		type MissedDeadlinePenalty: Get<Perbill>;

		/// Share of a provider's stake taken when a jury finds its output wrong.
		#[pallet::constant]
		type WrongResultPenalty: Get<Perbill>;

		/// Most timed entries (deadlines, window closes, pruning) handled in one block.
		/// At least `MaxRedundancy`.
		#[pallet::constant]
		type MaxTimeoutsPerBlock: Get<u32>;

		/// Blocks a final request stays readable before it is pruned. Non-zero.
		#[pallet::constant]
		type RetentionPeriod: Get<BlockNumberFor<Self>>;

		/// Storage deposit of every request, held until it is pruned.
		#[pallet::constant]
		type DepositBase: Get<BalanceOf<Self>>;

		/// Storage deposit per byte a request may store (its input and `k * MaxOutputLen` of
		/// outputs), held until it is pruned.
		#[pallet::constant]
		type DepositPerByte: Get<BalanceOf<Self>>;

		/// Failure reports (`report_failure`) each provider may make per `FailureWindow` without
		/// penalty; beyond them a report costs `MissedDeadlinePenalty` like a miss. Bounds how
		/// often a provider can re-roll the assignment of the requests it is given.
		#[pallet::constant]
		type FreeFailures: Get<u32>;

		/// The window `FreeFailures` counts over, in blocks. Non-zero.
		#[pallet::constant]
		type FailureWindow: Get<BlockNumberFor<Self>>;

		/// A block whose `Normal`-class weight or length reaches this share of its limit is
		/// *congested*: deadlines whose execution window saw one are not penalized.
		#[pallet::constant]
		type CongestionThreshold: Get<Perbill>;

		/// The origin that sets the pallet's parameters ([`MinJurors`], [`AuditRate`]).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Share of the first paid executor's fee that goes to the auditor of an audited result.
		#[pallet::constant]
		type AuditShare: Get<Perbill>;

		/// Weights of the calls and hooks.
		type WeightInfo: WeightInfo;

		/// Makes models, providers and receipts for benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// Benchmark setup the pallet cannot do generically.
	#[cfg(feature = "runtime-benchmarks")]
	pub trait BenchmarkHelper<AccountId> {
		/// Register `model` and make it active in `Config::Models`: owned by `owner`, with a
		/// non-zero royalty, `io` as its only input and its only output, outputs compared under
		/// `acceptance`. Then have at least `providers` eligible providers serve it (as many as
		/// the runtime indexes per model: the worst case of executor selection), each with an
		/// executor key that `sign` signs with. With `unbonding`, every provider also has stake
		/// unbonding in each bucket a slash reaches (the worst case of `Slash::slash`); making
		/// it may advance the block number.
		fn active_model(
			owner: &AccountId,
			model: ModelId,
			io: TensorSpec,
			acceptance: verity_engine::AcceptanceRule,
			providers: u32,
			unbonding: bool,
		);

		/// A receipt over `message` that `Config::Receipts` accepts from `executor`, the executor
		/// key of `provider` (a provider made by `active_model`).
		fn sign(provider: &AccountId, executor: &AccountId, message: &[u8; 32])
			-> ReceiptSignature;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The fee of an open request.
		RequestFee,
		/// The storage deposit of a request, until it is pruned.
		StorageDeposit,
	}

	/// The next request id.
	#[pallet::storage]
	pub type NextRequestId<T> = StorageValue<_, RequestId, ValueQuery>;

	/// Requests, until `RetentionPeriod` after they end.
	#[pallet::storage]
	pub type Requests<T: Config> = StorageMap<_, Twox64Concat, RequestId, RequestOf<T>>;

	/// Posted results by request and slot.
	#[pallet::storage]
	pub type Results<T: Config> =
		StorageDoubleMap<_, Twox64Concat, RequestId, Twox64Concat, u32, ResultOf<T>>;

	/// The jury's output of requests where no executor was right.
	#[pallet::storage]
	pub type JuryOutputs<T: Config> = StorageMap<_, Twox64Concat, RequestId, OutputOf<T>>;

	/// Open assignments by executor key: the slot each executor still has to post for. Its
	/// off-chain worker iterates its own prefix.
	#[pallet::storage]
	pub type Assignments<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, RequestId, u32>;

	/// Audits of provisional (or, after an auditor's alarm or a challenge, disputed) results,
	/// until the request is final.
	#[pallet::storage]
	pub type Audits<T: Config> = StorageMap<_, Twox64Concat, RequestId, AuditOf<T>>;

	/// Open audits by the auditor's executor key, for its off-chain worker: the request's entry
	/// in [`Audits`] is `Assigned` to that key.
	#[pallet::storage]
	pub type AuditAssignments<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, RequestId, ()>;

	/// Storage deposits held for requests, released when the request is pruned.
	#[pallet::storage]
	pub type Deposits<T: Config> = StorageMap<_, Twox64Concat, RequestId, BalanceOf<T>>;

	/// Requests of each model that have not ended (assigned, provisional or disputed): a model
	/// in use is not reaped (`ModelUsage`). No entry when zero.
	#[pallet::storage]
	pub type OpenRequests<T: Config> = StorageMap<_, Blake2_128Concat, ModelId, u32, ValueQuery>;

	/// Eligible providers, besides a request's `k` executors, that must serve a model for a
	/// request to be accepted: a dispute over it must be able to draw a jury. Set at genesis
	/// (the single-provider dev chain runs with 0: its results cannot be challenged).
	#[pallet::storage]
	pub type MinJurors<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Probability that a provisional result is audited (see the crate docs, "Audits"). Set at
	/// genesis and by `AdminOrigin` (`set_audit_rate`).
	#[pallet::storage]
	pub type AuditRate<T: Config> = StorageValue<_, Perbill, ValueQuery>;

	/// Failure reports of each provider in its current `FailureWindow`: (window start, count).
	/// One entry per provider that ever reported a failure (a bonded provider).
	#[pallet::storage]
	pub type Failures<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, (BlockNumberFor<T>, u32)>;

	/// The last block whose `Normal` class was congested (see `CongestionThreshold`).
	#[pallet::storage]
	pub type LastCongested<T: Config> = StorageValue<_, BlockNumberFor<T>, OptionQuery>;

	/// Requests with timed work at a block (deadline, window close, pruning).
	#[pallet::storage]
	pub type Timeouts<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<RequestId, T::MaxTimeoutsPerBlock>,
		ValueQuery,
	>;

	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		/// Initial [`MinJurors`].
		pub min_jurors: u32,
		/// Initial [`AuditRate`].
		pub audit_rate: Perbill,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[deny(clippy::expect_used)]
	impl<T: Config> Default for GenesisConfig<T> {
		fn default() -> Self {
			Self { min_jurors: 1, audit_rate: Perbill::zero(), _config: Default::default() }
		}
	}

	#[pallet::genesis_build]
	#[deny(clippy::expect_used)]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			MinJurors::<T>::put(self.min_jurors);
			AuditRate::<T>::put(self.audit_rate);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A request was made and `fee` held from `requester`.
		Requested {
			request: RequestId,
			requester: T::AccountId,
			model: ModelId,
			policy: Policy,
			fee: BalanceOf<T>,
		},
		/// The executors of `request` (all of them, or the one of a reassignment) are drawn in
		/// `on_initialize` of block `at`, from randomness revealed after this block.
		DrawScheduled { request: RequestId, at: BlockNumberFor<T> },
		/// `provider`'s executor key `executor` must post slot `slot` before `deadline`.
		Assigned {
			request: RequestId,
			slot: u32,
			provider: T::AccountId,
			executor: T::AccountId,
			deadline: BlockNumberFor<T>,
		},
		/// An executor posted its output for a slot.
		ResultSubmitted { request: RequestId, slot: u32, provider: T::AccountId, output_hash: H256 },
		/// The result is provisional and can be challenged until `until` (exclusive).
		ResultProvisional { request: RequestId, output_hash: H256, until: BlockNumberFor<T> },
		/// The request is final with this output; `royalty` went to the model owner and
		/// `execution_fees` to the paid providers' pools.
		ResultFinalized {
			request: RequestId,
			output_hash: H256,
			royalty: BalanceOf<T>,
			execution_fees: BalanceOf<T>,
		},
		/// A jury replaced the posted output(s) with its own.
		ResultCorrected { request: RequestId, output_hash: H256 },
		/// The executor of a slot reported that it cannot run the model; `penalty` was taken
		/// from its provider's stake (non-zero only beyond `FreeFailures` in a window).
		ExecutionFailed {
			request: RequestId,
			slot: u32,
			provider: T::AccountId,
			penalty: BalanceOf<T>,
		},
		/// Fewer than `k` outputs of a `Redundant(k)` request were posted (the others failed or
		/// missed); the `posted` agreeing outputs are provisional and can be challenged like an
		/// optimistic result, instead of counting as redundant.
		RedundancyNotMet { request: RequestId, posted: u32, wanted: u32 },
		/// A slot's deadline passed without a result; `slashed` was taken from its provider.
		DeadlineMissed {
			request: RequestId,
			slot: u32,
			provider: T::AccountId,
			slashed: BalanceOf<T>,
			/// A block of the slot's execution window was congested: no penalty.
			congested: bool,
		},
		/// Redundant outputs disagreed (or a result was challenged): a dispute decides.
		Disputed { request: RequestId },
		/// A jury found a provider's output wrong; `slashed` was taken from its stake.
		ExecutorSlashed { request: RequestId, provider: T::AccountId, slashed: BalanceOf<T> },
		/// `amount` went back to the requester and the request ended without a paid result.
		Refunded { request: RequestId, amount: BalanceOf<T>, reason: RefundReason },
		/// A final request's records were removed and its storage deposit released.
		Pruned { request: RequestId, deposit: BalanceOf<T> },
		/// Whether the provisional result of `request` is audited is drawn in `on_initialize`
		/// of block `at` (or, after an auditor declined, who else audits it).
		AuditScheduled { request: RequestId, at: BlockNumberFor<T> },
		/// `provider`'s executor key `executor` audits the provisional result of `request`
		/// and must report (`audit`) before the challenge window closes.
		AuditAssigned { request: RequestId, provider: T::AccountId, executor: T::AccountId },
		/// The result of `request` was not sampled for an audit, or no other provider could
		/// audit it, or its auditor declined too late in the window for another one.
		AuditSkipped { request: RequestId },
		/// The auditor of `request` reported `finding`; `penalty` was taken from its stake
		/// (only for `CannotRun` beyond the free failure reports).
		Audited {
			request: RequestId,
			provider: T::AccountId,
			finding: AuditFinding,
			penalty: BalanceOf<T>,
		},
		/// The auditor of `request` did not report before the window closed; `slashed` was
		/// taken from its stake (nothing if a block of the window was congested).
		AuditMissed { request: RequestId, provider: T::AccountId, slashed: BalanceOf<T> },
		/// The auditor of a final result was paid `amount` (its provider's reward pool).
		AuditorPaid { request: RequestId, provider: T::AccountId, amount: BalanceOf<T> },
		/// `AdminOrigin` set [`MinJurors`].
		MinJurorsSet { min_jurors: u32 },
		/// `AdminOrigin` set [`AuditRate`].
		AuditRateSet { rate: Perbill },
		/// `caller` ran `model` inside the block on `input_hash` (blake2-256 of its input) in
		/// the deterministic mode: `output` is what every node computed, `fuel_used` the work it
		/// took, and `royalty` went to the model owner.
		InferredInBlock {
			caller: T::AccountId,
			model: ModelId,
			input_hash: H256,
			output: OutputOf<T>,
			fuel_used: u64,
			royalty: BalanceOf<T>,
		},
		/// A jury contradicted the auditor of `request` (it vouched for a wrong result or
		/// alarmed over a right one); `slashed` was taken from its stake.
		AuditorSlashed { request: RequestId, provider: T::AccountId, slashed: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model with this id is registered.
		ModelNotFound,
		/// The model is not active (pending, rejected or retired).
		ModelNotActive,
		/// `Redundant(k)` needs `2 <= k <= MaxRedundancy`.
		InvalidPolicy,
		/// The input is not a canonical tensor list.
		MalformedInput,
		/// The input has a different number of tensors than the model's inputs.
		InputCountMismatch,
		/// An input tensor's dtype or shape does not match the model's spec.
		InputSpecMismatch,
		/// The fee (royalty plus execution fees) exceeds `max_fee`.
		FeeAboveMax,
		/// Fewer eligible providers serve the model than the policy needs.
		NotEnoughProviders,
		/// Fewer than `k + MinJurors` eligible providers serve the model: a dispute over the
		/// request could not draw a jury, so its result could not be challenged.
		JuryUnavailable,
		/// The timeout queue of every block searched is full; retry later.
		SchedulerFull,
		/// No request with this id.
		RequestNotFound,
		/// The caller has no open assignment for this request.
		NotAssigned,
		/// The caller's executor key was replaced by its provider (`set_executor`): it may not
		/// post or report for the assignments it had.
		ExecutorRevoked,
		/// The output is not a canonical tensor list matching the model's output specs.
		MalformedOutput,
		/// The receipt was not signed by the caller's key over this result.
		InvalidReceipt,
		/// The request is not provisional.
		NotProvisional,
		/// The challenge window of the request has closed.
		ChallengeWindowClosed,
		/// The caller does not audit this request (never drawn, already reported, or the
		/// result is no longer provisional).
		NotAuditor,
		/// The model cannot run inside a block: it is not active, not of execution class
		/// `Deterministic`, its bytes are not on chain, or no attestation recorded its FLOPs.
		NotRunnableInBlock,
		/// The model's fuel budget (its deterministic terms' fuel, from its FLOPs and size) is
		/// above `InBlockMaxFuel`.
		TooHeavyForBlock,
		/// The in-block run used all of its fuel budget.
		InBlockOutOfFuel,
		/// The in-block run needed more memory than `InBlockMemory`.
		InBlockOutOfMemory,
		/// The model failed on this input in the deterministic mode (every node alike).
		InBlockFailed,
		/// The model's output is larger than `MaxOutputLen`.
		OutputTooLarge,
		/// This node cannot run the deterministic mode (a node fault, logged by the node).
		DeterministicModeUnavailable,
	}

	#[pallet::hooks]
	#[deny(clippy::expect_used)]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let due = Timeouts::<T>::take(now);
			let n = due.len() as u32;
			for id in due {
				Self::on_timeout(id, now);
			}
			// `on_finalize` reads the block's weight and length and may write `LastCongested`.
			Self::on_initialize_weight(n).saturating_add(T::DbWeight::get().reads_writes(2, 1))
		}

		fn on_finalize(now: BlockNumberFor<T>) {
			if Self::is_congested() {
				LastCongested::<T>::put(now);
			}
		}

		/// Assigned executors run their requests and drawn auditors audit, see
		/// [`crate::offchain`].
		fn offchain_worker(now: BlockNumberFor<T>) {
			let now = sp_runtime::SaturatedConversion::saturated_into(now);
			crate::offchain::execute_assignments::<T>(now);
			crate::offchain::audit_results::<T>(now);
		}

		fn integrity_test() {
			assert!(T::MaxRedundancy::get() >= 2, "MaxRedundancy must be at least 2");
			assert!(!T::ResultDeadline::get().is_zero(), "ResultDeadline must be non-zero");
			assert!(!T::ChallengeWindow::get().is_zero(), "ChallengeWindow must be non-zero");
			assert!(!T::RetentionPeriod::get().is_zero(), "RetentionPeriod must be non-zero");
			assert!(T::MaxAttempts::get() >= 1, "MaxAttempts must be at least 1");
			assert!(!T::FailureWindow::get().is_zero(), "FailureWindow must be non-zero");
			assert!(
				T::MaxTimeoutsPerBlock::get() >= T::MaxRedundancy::get(),
				"MaxTimeoutsPerBlock must be at least MaxRedundancy"
			);
			// A full timeout queue must fit in the share of a block that ordinary transactions
			// cannot take, so `on_initialize` neither crowds them out nor overruns the block.
			let limits = <T as frame_system::Config>::BlockWeights::get();
			let normal = limits.get(DispatchClass::Normal).max_total.unwrap_or(limits.max_block);
			let reserved = limits.max_block.saturating_sub(normal);
			let full = Self::on_initialize_weight(T::MaxTimeoutsPerBlock::get());
			// The heaviest in-block inference must fit in one normal extrinsic.
			let heaviest = T::WeightPerFuel::get().saturating_mul(T::InBlockMaxFuel::get());
			let per_extrinsic =
				limits.get(DispatchClass::Normal).max_extrinsic.unwrap_or(limits.max_block);
			assert!(
				heaviest.all_lte(per_extrinsic),
				"InBlockMaxFuel x WeightPerFuel ({heaviest:?}) exceeds a normal extrinsic ({per_extrinsic:?})"
			);
			assert!(T::InBlockMemory::get() > 0, "InBlockMemory must be non-zero");
			assert!(
				full.all_lte(reserved),
				"on_initialize with MaxTimeoutsPerBlock entries ({full:?}) exceeds the block's non-normal share ({reserved:?})"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	/// The read API: what wallets, clients and the node's RPC ask about requests.
	#[pallet::view_functions]
	#[deny(clippy::expect_used)]
	impl<T: Config> Pallet<T> {
		/// The fee `request` would hold for `policy` on `model` now, or the error it would
		/// fail with for the model or the policy.
		pub fn quote(model: ModelId, policy: Policy) -> Result<BalanceOf<T>, Error<T>> {
			Self::quote_fee(&model, policy).map(|(fee, _)| fee)
		}

		/// Request `id` (`None`: unknown, or pruned after the retention period).
		pub fn request_info(id: RequestId) -> Option<RequestViewOf<T>> {
			let r = Requests::<T>::get(id)?;
			Some(RequestView {
				requester: r.requester,
				model: r.model,
				input: decode_tensors(&r.input).unwrap_or_default(),
				input_hash: r.input_hash,
				policy: r.policy,
				status: r.status,
				executors: r.executors.into_inner(),
				held: r.held,
				royalty: r.royalty,
				execution_fee: r.execution_fee,
				outcome: r.outcome,
				created: r.created,
			})
		}

		/// The result of request `id`: the settled output once final, before that the first
		/// slot's posted output, with the executor's receipt (a jury's output has none).
		/// `None` while nothing is posted.
		pub fn result_info(id: RequestId) -> Option<ResultView<T::AccountId>> {
			let req = Requests::<T>::get(id)?;
			let settled = matches!(req.status, RequestStatus::Finalized { .. });
			let slot = match req.outcome {
				Some(Outcome { slot: None, output_hash }) => {
					let output = JuryOutputs::<T>::get(id)?;
					return Some(ResultView {
						output: decode_tensors(&output).unwrap_or_default(),
						output_hash,
						provider: None,
						receipt: None,
						settled,
					});
				},
				Some(Outcome { slot: Some(s), .. }) => s,
				None => 0,
			};
			let r = Results::<T>::get(id, slot)?;
			let message =
				Self::receipt_message_here(id, &req.model, &req.input_hash, &r.output_hash);
			let receipt = ReceiptView {
				signature: r.receipt,
				message,
				signer_address: receipt_signer_address(&message, &r.receipt),
				executor: req.executors.get(slot as usize).map(|a| a.executor.clone()),
			};
			Some(ResultView {
				output: decode_tensors(&r.output).unwrap_or_default(),
				output_hash: r.output_hash,
				provider: Some(r.provider),
				receipt: Some(receipt),
				settled,
			})
		}
	}

	#[pallet::call]
	#[deny(clippy::expect_used)]
	impl<T: Config> Pallet<T> {
		/// Request an inference of `model` on `input` (canonical tensor list). Holds the fee
		/// (`royalty + k * ExecutionFee`, at most `max_fee`) and assigns `k` executors.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::request(input.len() as u32, policy.executors()))]
		pub fn request(
			origin: OriginFor<T>,
			model: ModelId,
			input: InputOf<T>,
			max_fee: BalanceOf<T>,
			policy: Policy,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_request(who, model, input, max_fee, policy).map(|_| ())
		}

		/// Run `model` on `input` (canonical tensor list) inside this block, in the
		/// deterministic mode: every node computes the same output bits while importing the
		/// block, so the output is final at once, with no executor and no challenge. Pays the
		/// model's royalty to its owner and emits [`Event::InferredInBlock`] with the output.
		/// The model must be active and `Deterministic`, with its bytes on chain and attested
		/// FLOPs; its fuel budget is that of its deterministic terms
		/// (`ModelRegistry::in_block_figures`), at most `InBlockMaxFuel`. Charges
		/// the weight of the budget up front and refunds what the run did not use.
		#[pallet::call_index(6)]
		#[pallet::weight(Pallet::<T>::infer_weight(model, input.len() as u32, None))]
		pub fn infer(
			origin: OriginFor<T>,
			model: ModelId,
			input: InputOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let outcome = Self::do_infer(&who, &model, &input)?;
			Ok(Some(Self::infer_weight(&model, input.len() as u32, Some(outcome.fuel_used))).into())
		}

		/// Post the output of an assigned slot with the executor's receipt (signature over
		/// [`receipt_message`]). Free for the executor when accepted; `Operational`, so request
		/// spam cannot keep it out of blocks. Charges the weight of what it did.
		#[pallet::call_index(1)]
		#[pallet::weight((Pallet::<T>::submit_result_weight(output.len() as u32), DispatchClass::Operational))]
		pub fn submit_result(
			origin: OriginFor<T>,
			request: RequestId,
			output: OutputOf<T>,
			receipt: ReceiptSignature,
		) -> DispatchResultWithPostInfo {
			let executor = ensure_signed(origin)?;
			let b = output.len() as u32;
			let (k, disputed) = Self::do_submit(executor, request, output, receipt)?;
			let actual = if disputed {
				T::WeightInfo::submit_result_disputed(b, k)
			} else {
				T::WeightInfo::submit_result(b, k)
			};
			Ok(frame_support::dispatch::PostDispatchInfo {
				actual_weight: Some(actual),
				pays_fee: Pays::No,
			})
		}

		/// Report that the caller's worker cannot run the model of an assigned slot (bytes
		/// unavailable or corrupt, over limits, timed out). The slot is given up without
		/// penalty; an optimistic request is reassigned or refunded. Free when accepted.
		#[pallet::call_index(2)]
		#[pallet::weight((Pallet::<T>::report_failure_weight(), DispatchClass::Operational))]
		pub fn report_failure(
			origin: OriginFor<T>,
			request: RequestId,
		) -> DispatchResultWithPostInfo {
			let executor = ensure_signed(origin)?;
			let (k, disputed) = Self::do_report_failure(executor, request)?;
			let actual = if disputed {
				T::WeightInfo::report_failure_disputed(k)
			} else {
				T::WeightInfo::report_failure(k)
			};
			Ok(frame_support::dispatch::PostDispatchInfo {
				actual_weight: Some(actual),
				pays_fee: Pays::No,
			})
		}

		/// Report what the caller's executor key found auditing the provisional result of
		/// `request` (see the crate docs, "Audits"): `Disagrees` opens a dispute raised by the
		/// auditor. Only before the challenge window closes; free when accepted and
		/// `Operational`, like the executors' calls.
		#[pallet::call_index(3)]
		#[pallet::weight((Pallet::<T>::audit_weight(), DispatchClass::Operational))]
		pub fn audit(
			origin: OriginFor<T>,
			request: RequestId,
			finding: AuditFinding,
		) -> DispatchResultWithPostInfo {
			let executor = ensure_signed(origin)?;
			Self::do_audit(executor, request, finding)?;
			Ok(Pays::No.into())
		}

		/// Set [`MinJurors`]: the providers besides a request's executors that must serve a
		/// model for the request to be accepted. Requests already made are not affected.
		#[pallet::call_index(4)]
		#[pallet::weight(T::DbWeight::get().writes(1))]
		pub fn set_min_jurors(origin: OriginFor<T>, min_jurors: u32) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			MinJurors::<T>::put(min_jurors);
			Self::deposit_event(Event::MinJurorsSet { min_jurors });
			Ok(())
		}

		/// Set [`AuditRate`]: the probability that a provisional result is audited, for
		/// results that become provisional from now on.
		#[pallet::call_index(5)]
		#[pallet::weight(T::DbWeight::get().writes(1))]
		pub fn set_audit_rate(origin: OriginFor<T>, rate: Perbill) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			AuditRate::<T>::put(rate);
			Self::deposit_event(Event::AuditRateSet { rate });
			Ok(())
		}
	}

	#[deny(clippy::expect_used)]
	impl<T: Config> Pallet<T> {
		/// Weight of [`Pallet::infer`] on `model` with an input of `b` bytes: reading the model's
		/// record and chunks, the royalty transfer, hashing the input, and `fuel` (the budget
		/// when `None`, capped at `InBlockMaxFuel`) times `WeightPerFuel`. A model that cannot
		/// run in a block costs the record read only.
		pub fn infer_weight(model: &ModelId, b: u32, fuel: Option<u64>) -> Weight {
			let db = T::DbWeight::get();
			// The model's record, and the pallet's own checks.
			let lookup = db.reads(2);
			let Some(figures) = T::Models::in_block_figures(model) else { return lookup };
			let budget = figures.terms.fuel.min(T::InBlockMaxFuel::get());
			let fuel = fuel.unwrap_or(budget).min(budget);
			let chunks = u64::from(figures.chunks);
			lookup
				// Chunks, the owner's and caller's accounts.
				.saturating_add(db.reads(chunks.saturating_add(2)))
				.saturating_add(db.writes(2))
				// Hashing the model bytes (the deterministic mode's cache key) and the input.
				.saturating_add(Weight::from_parts(
					(figures.byte_size.saturating_add(u64::from(b)))
						.saturating_mul(HASH_PS_PER_BYTE),
					0,
				))
				.saturating_add(T::WeightPerFuel::get().saturating_mul(fuel))
		}

		/// [`Pallet::infer`] without the origin: what contracts' precompile calls. Checks the
		/// input, pays the royalty, runs the model in the deterministic mode and emits
		/// [`Event::InferredInBlock`]. Nothing is paid when the run fails.
		pub fn do_infer(
			who: &T::AccountId,
			model: &ModelId,
			input: &[u8],
		) -> Result<verity_host::DeterministicOutcome, DispatchError> {
			// Its own storage layer, so that a failed run reverts the royalty also when a caller
			// (a precompile) is not a dispatchable.
			frame_support::storage::with_storage_layer(|| Self::infer_in_layer(who, model, input))
		}

		fn infer_in_layer(
			who: &T::AccountId,
			model: &ModelId,
			input: &[u8],
		) -> Result<verity_host::DeterministicOutcome, DispatchError> {
			let view = T::Models::model(model).ok_or(Error::<T>::ModelNotFound)?;
			ensure!(view.active, Error::<T>::ModelNotActive);
			let figures =
				T::Models::in_block_figures(model).ok_or(Error::<T>::NotRunnableInBlock)?;
			ensure!(figures.terms.fuel <= T::InBlockMaxFuel::get(), Error::<T>::TooHeavyForBlock);
			Self::check_tensors(&view.inputs, input)?;
			// The royalty first: a caller that cannot pay makes no node run the model (and an
			// error below reverts the transfer).
			let royalty = view.price_per_call;
			if !royalty.is_zero() && *who != view.owner {
				T::Currency::transfer(who, &view.owner, royalty, Preservation::Preserve)?;
			}
			let bytes = T::Models::in_block_bytes(model).ok_or(Error::<T>::NotRunnableInBlock)?;
			let terms = verity_host::DeterministicTerms {
				memory_bytes: figures.terms.memory_bytes.min(T::InBlockMemory::get()),
				..figures.terms
			};
			let outcome =
				verity_host::run_deterministic(&bytes, input, &terms, T::MaxOutputLen::get())
					.map_err(|e| match e {
						HostError::OutOfFuel => Error::<T>::InBlockOutOfFuel,
						HostError::OutOfMemory => Error::<T>::InBlockOutOfMemory,
						HostError::OutputTooLarge { .. } => Error::<T>::OutputTooLarge,
						HostError::Unavailable | HostError::Unknown(_) => {
							Error::<T>::DeterministicModeUnavailable
						},
						_ => Error::<T>::InBlockFailed,
					})?;
			let output = OutputOf::<T>::try_from(outcome.output.clone())
				.map_err(|_| Error::<T>::OutputTooLarge)?;
			Self::deposit_event(Event::InferredInBlock {
				caller: who.clone(),
				model: *model,
				input_hash: H256(sp_io::hashing::blake2_256(input)),
				output,
				fuel_used: outcome.fuel_used,
				royalty,
			});
			Ok(outcome)
		}

		/// Weight of `submit_result` with an output of `b` bytes. The request is read only in
		/// the call, so it is charged as the last post of a `MaxRedundancy` round, which settles
		/// by finalization or by a dispute, whichever weighs more.
		pub fn submit_result_weight(b: u32) -> Weight {
			let k = T::MaxRedundancy::get();
			T::WeightInfo::submit_result(b, k).max(T::WeightInfo::submit_result_disputed(b, k))
		}

		/// Weight of `report_failure`: the last slot of a `MaxRedundancy` round, settled by
		/// finalization or by a dispute, whichever weighs more.
		pub fn report_failure_weight() -> Weight {
			let k = T::MaxRedundancy::get();
			T::WeightInfo::report_failure(k).max(T::WeightInfo::report_failure_disputed(k))
		}

		/// Weight of `audit`: at most what the last failure report of a `MaxRedundancy` round
		/// costs when it opens a dispute (a request read and written, a dispute opened, a
		/// failure counted and a stake slashed), plus the audit's two entries and a redraw's
		/// queued timeout. The benchmarks `audit_disagrees` and `audit_cannot_run` measure the
		/// call; their weights are not generated into `weights.rs` yet.
		pub fn audit_weight() -> Weight {
			Self::report_failure_weight().saturating_add(T::DbWeight::get().reads_writes(3, 3))
		}

		/// Weight of `on_initialize` handling `n` timed entries. An entry's kind (finalization,
		/// dispute, missed deadlines, or a cheaper one) is known only once its request is read,
		/// so every entry is charged as the costliest: the largest base plus `n` times the
		/// largest per-entry slope bounds any mix of the (linear) benchmarked weights.
		pub fn on_initialize_weight(n: u32) -> Weight {
			let kinds: [fn(u32) -> Weight; 3] = [
				T::WeightInfo::on_initialize_finalize,
				T::WeightInfo::on_initialize_disputed,
				T::WeightInfo::on_initialize_missed,
			];
			let (base, per_entry) =
				kinds.iter().fold((Weight::zero(), Weight::zero()), |(base, per_entry), f| {
					let empty = f(0);
					(base.max(empty), per_entry.max(f(1).saturating_sub(empty)))
				});
			// An entry may be a draw: one selection, then the request and up to `MaxRedundancy`
			// assignments written.
			let draw = T::Executors::select_weight().saturating_add(
				T::DbWeight::get()
					.reads_writes(1, 1u64.saturating_add(T::MaxRedundancy::get().into())),
			);
			// An entry that ends a request also ends its audit: the audit and its assignment
			// read and removed, the auditor slashed or paid (a hold and a transfer). A draw
			// ends nothing.
			let audit = T::DbWeight::get().reads_writes(4, 4);
			base.saturating_add(per_entry.saturating_add(audit).max(draw).saturating_mul(n.into()))
		}

		/// Whether the current block's `Normal` class reached `CongestionThreshold` of its
		/// weight or length limit.
		pub fn is_congested() -> bool {
			let threshold = T::CongestionThreshold::get();
			let weights = <T as frame_system::Config>::BlockWeights::get();
			let used = frame_system::Pallet::<T>::block_weight();
			let used = used.get(DispatchClass::Normal);
			let max = weights.get(DispatchClass::Normal).max_total.unwrap_or(weights.max_block);
			let heavy = (used.ref_time() > 0
				&& used.ref_time() >= threshold.mul_floor(max.ref_time()))
				|| (used.proof_size() > 0
					&& used.proof_size() >= threshold.mul_floor(max.proof_size()));
			let length = <T as frame_system::Config>::BlockLength::get();
			let max_len = *length.max.get(DispatchClass::Normal);
			let len = frame_system::Pallet::<T>::block_size();
			heavy || (len > 0 && len >= threshold.mul_floor(max_len))
		}

		/// [`receipt_message`] on this chain (its genesis hash): what an executor signs for
		/// `output_hash` on request `request` of `model` with input `input_hash`.
		pub fn receipt_message_here(
			request: RequestId,
			model: &ModelId,
			input_hash: &H256,
			output_hash: &H256,
		) -> [u8; 32] {
			receipt_message(
				&verity_primitives::genesis_hash::<T>(),
				request,
				model,
				input_hash,
				output_hash,
			)
		}

		/// The storage deposit of a request with `input_len` bytes of input and `k` slots.
		pub fn deposit_for(input_len: u32, k: u32) -> BalanceOf<T> {
			let bytes = k.saturating_mul(T::MaxOutputLen::get()).saturating_add(input_len);
			T::DepositPerByte::get()
				.saturating_mul(bytes.into())
				.saturating_add(T::DepositBase::get())
		}

		/// Check a canonical tensor list against specs; `Err` names the first problem.
		pub fn check_tensors(specs: &[TensorSpec], encoded: &[u8]) -> Result<(), Error<T>> {
			check_list(specs, encoded).map(|_| ()).map_err(|e| match e {
				ListError::Malformed => Error::<T>::MalformedInput,
				ListError::Count { .. } => Error::<T>::InputCountMismatch,
				ListError::Spec { .. } => Error::<T>::InputSpecMismatch,
			})
		}

		/// The fee of a request for `policy` on `model` now (royalty plus the execution fee per
		/// executor) with the model's view, or why `request` refuses the model or the policy.
		pub fn quote_fee(
			model: &ModelId,
			policy: Policy,
		) -> Result<(BalanceOf<T>, ModelViewOf<T>), Error<T>> {
			if let Policy::Redundant(k) = policy {
				ensure!((2..=T::MaxRedundancy::get()).contains(&k), Error::<T>::InvalidPolicy);
			}
			let view = T::Models::model(model).ok_or(Error::<T>::ModelNotFound)?;
			ensure!(view.active, Error::<T>::ModelNotActive);
			let fee = T::ExecutionFee::get()
				.checked_mul(&policy.executors().into())
				.and_then(|f| f.checked_add(&view.price_per_call))
				.ok_or(Error::<T>::FeeAboveMax)?;
			Ok((fee, view))
		}

		pub(crate) fn do_request(
			who: T::AccountId,
			model: ModelId,
			input: InputOf<T>,
			max_fee: BalanceOf<T>,
			policy: Policy,
		) -> Result<RequestId, DispatchError> {
			let k = policy.executors();
			let (fee, view) = Self::quote_fee(&model, policy)?;
			Self::check_tensors(&view.inputs, &input)?;
			let execution_fee = T::ExecutionFee::get();
			ensure!(fee <= max_fee, Error::<T>::FeeAboveMax);

			let id = NextRequestId::<T>::get();
			let now = frame_system::Pallet::<T>::block_number();
			// Enough providers for the request and a jury now; the executors themselves are
			// drawn `DrawDelay` blocks later (`draw`), when fewer may be left.
			let eligible = Self::choose(
				&model,
				Self::parent_seed(id, 0),
				k.saturating_add(MinJurors::<T>::get()),
				&[],
			)
			.len() as u32;
			ensure!(eligible >= k, Error::<T>::NotEnoughProviders);
			ensure!(
				eligible >= k.saturating_add(MinJurors::<T>::get()),
				Error::<T>::JuryUnavailable
			);
			let delay = T::DrawDelay::get();
			let first_timer =
				now.saturating_add(if delay.is_zero() { T::ResultDeadline::get() } else { delay });
			let first_timer = Self::schedule_slot(first_timer)?;
			T::Currency::hold(&HoldReason::RequestFee.into(), &who, fee)?;
			let deposit = Self::deposit_for(input.len() as u32, k);
			T::Currency::hold(&HoldReason::StorageDeposit.into(), &who, deposit)?;
			Deposits::<T>::insert(id, deposit);

			let input_hash = H256(sp_io::hashing::blake2_256(&input));
			let mut req = Request {
				requester: who.clone(),
				model,
				input,
				input_hash,
				policy,
				royalty: view.price_per_call,
				execution_fee,
				held: fee,
				executors: BoundedVec::new(),
				pending: k,
				tried: BoundedVec::new(),
				status: RequestStatus::Drawing { at: first_timer },
				outcome: None,
				created: now,
				reference: None,
				disagreement: false,
			};
			NextRequestId::<T>::put(id.saturating_add(1));
			OpenRequests::<T>::mutate(model, |n| *n = n.saturating_add(1));
			Self::push_timeout(first_timer, id);
			Self::deposit_event(Event::Requested {
				request: id,
				requester: who,
				model,
				policy,
				fee,
			});
			if delay.is_zero() {
				// Tests only: draw now, with the deadline already queued.
				let executors = Self::choose(&model, Self::parent_seed(id, 0), k, &[]);
				req.executors = BoundedVec::truncate_from(executors);
				req.status = RequestStatus::Assigned { deadline: first_timer };
				Self::assign_all(id, &req, first_timer);
			} else {
				Self::deposit_event(Event::DrawScheduled { request: id, at: first_timer });
			}
			Requests::<T>::insert(id, req);
			Ok(id)
		}

		/// The seed of round `round` of request `id` from the randomness revealed by the parent
		/// block (its author's VRF output). Without one (the genesis block has none), the
		/// parent hash: it stands in only where no VRF output exists, since an author can grind
		/// its block's hash but not its VRF output.
		fn draw_seed(id: RequestId, round: u32) -> H256 {
			let (random, _) = T::Randomness::random(b"verity/assign");
			match random {
				Some(random) => H256(sp_io::hashing::blake2_256(&(random, id, round).encode())),
				None => Self::parent_seed(id, round),
			}
		}

		/// A seed from the parent hash, which everyone knows before the block: for eligibility
		/// checks (and the tests' immediate draw), never for a real draw.
		fn parent_seed(id: RequestId, round: u32) -> H256 {
			let parent = frame_system::Pallet::<T>::parent_hash();
			H256(sp_io::hashing::blake2_256(&(parent, id, round).encode()))
		}

		/// Draw the `pending` executors of a request in `Drawing`, excluding the providers
		/// tried before; assign them with a deadline `ResultDeadline` from now. With none left,
		/// the request is refunded (`NoResult`).
		pub(crate) fn draw(id: RequestId, req: &mut RequestOf<T>, now: BlockNumberFor<T>) {
			let round = req.tried.len() as u32;
			let exclude = req.tried.to_vec();
			let executors =
				Self::choose(&req.model, Self::draw_seed(id, round), req.pending, &exclude);
			if executors.is_empty() {
				req.pending = 0;
				return Self::refund(id, req, now, RefundReason::NoResult);
			}
			// A redundant request drawn with fewer than `k` providers left runs with those it
			// got: its outputs are then `Provisional` (`RedundancyNotMet`), never final at once.
			let deadline = Self::queue(now.saturating_add(T::ResultDeadline::get()), id);
			req.pending = executors.len() as u32;
			req.executors = BoundedVec::truncate_from(executors);
			req.status = RequestStatus::Assigned { deadline };
			Self::assign_all(id, req, deadline);
		}

		/// Draw `count` providers with their executor keys from `seed`, excluding `exclude`.
		fn choose(
			model: &ModelId,
			seed: H256,
			count: u32,
			exclude: &[T::AccountId],
		) -> Vec<Assignment<T::AccountId>> {
			T::Executors::select(model, count, seed, exclude)
				.into_iter()
				.filter_map(|provider| {
					T::Executors::executor_of(&provider)
						.map(|executor| Assignment { provider, executor })
				})
				.collect()
		}

		fn assign_all(id: RequestId, req: &RequestOf<T>, deadline: BlockNumberFor<T>) {
			for (slot, a) in req.executors.iter().enumerate() {
				let slot = slot as u32;
				Assignments::<T>::insert(&a.executor, id, slot);
				Self::deposit_event(Event::Assigned {
					request: id,
					slot,
					provider: a.provider.clone(),
					executor: a.executor.clone(),
					deadline,
				});
			}
		}

		/// The first block at or after `at` whose timeout queue has room.
		fn schedule_slot(at: BlockNumberFor<T>) -> Result<BlockNumberFor<T>, DispatchError> {
			let mut b = at;
			for _ in 0..SCHEDULE_SEARCH {
				if (Timeouts::<T>::decode_len(b).unwrap_or(0) as u32)
					< T::MaxTimeoutsPerBlock::get()
				{
					return Ok(b);
				}
				b = b.saturating_add(One::one());
			}
			Err(Error::<T>::SchedulerFull.into())
		}

		/// Queue `id` at `at`, which `schedule_slot` returned in this same call.
		fn push_timeout(at: BlockNumberFor<T>, id: RequestId) {
			Timeouts::<T>::mutate(at, |q| {
				if q.try_push(id).is_err() {
					frame_support::defensive!("timeout queue full after schedule_slot");
				}
			});
		}

		/// Queue where the state change already happened: the first block from `at` with
		/// room, searching at most `QUEUE_SEARCH` blocks. Filling that many blocks' queues takes
		/// `QUEUE_SEARCH * MaxTimeoutsPerBlock` paid requests due at once; should it happen,
		/// the entry is lost (reported as a defensive failure and by `try_state`).
		fn queue(at: BlockNumberFor<T>, id: RequestId) -> BlockNumberFor<T> {
			let mut b = at;
			for _ in 0..QUEUE_SEARCH {
				if Timeouts::<T>::mutate(b, |q| q.try_push(id).is_ok()) {
					return b;
				}
				b = b.saturating_add(One::one());
			}
			frame_support::defensive!("no room in the timeout queues");
			b
		}

		/// Record a posted output; returns the request's slot count and whether the post opened
		/// a dispute (for the call's actual weight).
		pub(crate) fn do_submit(
			executor: T::AccountId,
			id: RequestId,
			output: OutputOf<T>,
			receipt: ReceiptSignature,
		) -> Result<(u32, bool), DispatchError> {
			let slot = Assignments::<T>::get(&executor, id).ok_or(Error::<T>::NotAssigned)?;
			let mut req = Requests::<T>::get(id).ok_or(Error::<T>::RequestNotFound)?;
			let view = T::Models::model(&req.model).ok_or(Error::<T>::ModelNotFound)?;
			// Checked and decoded once: a redundant round compares the decoded tensors below.
			let decoded =
				check_list(&view.outputs, &output).map_err(|_| Error::<T>::MalformedOutput)?;
			let output_hash = H256(sp_io::hashing::blake2_256(&output));
			let message = Self::receipt_message_here(id, &req.model, &req.input_hash, &output_hash);
			ensure!(T::Receipts::verify(&executor, &message, &receipt), Error::<T>::InvalidReceipt);
			let provider = req
				.executors
				.get(slot as usize)
				.map(|a| a.provider.clone())
				.ok_or(Error::<T>::NotAssigned)?;
			Self::ensure_current_executor(&provider, &executor)?;

			if let Policy::Redundant(_) = req.policy {
				match req.reference {
					None => req.reference = Some(slot),
					Some(reference) if !req.disagreement => {
						req.disagreement =
							!Self::agrees_with(id, reference, &view.acceptance, &decoded);
					},
					Some(_) => {},
				}
			}

			let now = frame_system::Pallet::<T>::block_number();
			Assignments::<T>::remove(&executor, id);
			Results::<T>::insert(
				id,
				slot,
				ResultRecord { provider: provider.clone(), output, output_hash, receipt, at: now },
			);
			req.pending = req.pending.saturating_sub(1);
			Self::deposit_event(Event::ResultSubmitted {
				request: id,
				slot,
				provider,
				output_hash,
			});
			if req.pending == 0 {
				Self::settle_round(id, &mut req, now);
			}
			let settled = (req.executors.len() as u32, req.status == RequestStatus::Disputed);
			Requests::<T>::insert(id, req);
			Ok(settled)
		}

		/// Give up a slot; returns like [`Self::do_submit`].
		pub(crate) fn do_report_failure(
			executor: T::AccountId,
			id: RequestId,
		) -> Result<(u32, bool), DispatchError> {
			let slot = Assignments::<T>::get(&executor, id).ok_or(Error::<T>::NotAssigned)?;
			let mut req = Requests::<T>::get(id).ok_or(Error::<T>::RequestNotFound)?;
			let provider = req
				.executors
				.get(slot as usize)
				.map(|a| a.provider.clone())
				.ok_or(Error::<T>::NotAssigned)?;
			Self::ensure_current_executor(&provider, &executor)?;
			Assignments::<T>::remove(&executor, id);
			req.pending = req.pending.saturating_sub(1);
			let now = frame_system::Pallet::<T>::block_number();
			let penalty = if Self::count_failure(&provider, now) {
				Zero::zero()
			} else {
				T::Slash::slash(&provider, T::MissedDeadlinePenalty::get()).total
			};
			Self::deposit_event(Event::ExecutionFailed { request: id, slot, provider, penalty });
			if req.pending == 0 {
				Self::settle_round(id, &mut req, now);
			}
			let settled = (req.executors.len() as u32, req.status == RequestStatus::Disputed);
			Requests::<T>::insert(id, req);
			Ok(settled)
		}

		/// Count a failure report of `provider` at `now`; whether it is within the free
		/// allowance of its window. Without a bound, free reports let a provider re-roll every
		/// assignment it dislikes (steering requests to a colluding provider) or collapse the
		/// redundancy of requests at no cost.
		fn count_failure(provider: &T::AccountId, now: BlockNumberFor<T>) -> bool {
			Failures::<T>::mutate(provider, |entry| {
				let (start, count) = match *entry {
					Some((start, count)) if now < start.saturating_add(T::FailureWindow::get()) => {
						(start, count.saturating_add(1))
					},
					_ => (now, 1),
				};
				*entry = Some((start, count));
				count <= T::FreeFailures::get()
			})
		}

		/// An assignment is served by the key it was made to only while that key is still its
		/// provider's: a key the provider replaced (`set_executor`, e.g. because it leaked) is
		/// revoked at once. Its open slots are not moved to the new key; they run to their
		/// deadline like any missed slot (not penalizing them would let a provider dodge the
		/// missed-deadline penalty by rotating keys).
		fn ensure_current_executor(
			provider: &T::AccountId,
			executor: &T::AccountId,
		) -> DispatchResult {
			ensure!(
				T::Executors::executor_of(provider).as_ref() == Some(executor),
				Error::<T>::ExecutorRevoked
			);
			Ok(())
		}

		/// Every slot of the current round is resolved (posted, failed or timed out): move on.
		fn settle_round(id: RequestId, req: &mut RequestOf<T>, now: BlockNumberFor<T>) {
			let posted = Self::posted(id, req);
			match req.policy {
				Policy::Optimistic => match posted.first() {
					Some((slot, r)) => Self::make_provisional(id, req, now, *slot, r.output_hash),
					None => Self::reassign_or_refund(id, req, now),
				},
				Policy::Redundant(_) => {
					if posted.is_empty() {
						return Self::refund(id, req, now, RefundReason::NoResult);
					}
					// Outputs were compared with the reference as they were posted.
					let reference = req
						.reference
						.and_then(|slot| posted.iter().find(|(s, _)| *s == slot))
						.map(|(slot, r)| Outcome { slot: Some(*slot), output_hash: r.output_hash });
					let wanted = req.executors.len() as u32;
					match reference {
						Some(outcome) if !req.disagreement && posted.len() as u32 == wanted => {
							let slots: Vec<u32> = posted.iter().map(|(s, _)| *s).collect();
							// Final at once, never provisional: no audit.
							Self::finalize(id, req, now, outcome, &slots, AuditEnd::Refunded);
						},
						// Fewer than k outputs agreed: not redundant. Finalizing them at once
						// would let one executor whose co-executors failed (or were made to)
						// post an unchallengeable result; they get a challenge window instead.
						Some(Outcome { slot: Some(slot), output_hash }) if !req.disagreement => {
							Self::deposit_event(Event::RedundancyNotMet {
								request: id,
								posted: posted.len() as u32,
								wanted,
							});
							Self::make_provisional(id, req, now, slot, output_hash);
						},
						_ => Self::open_dispute(id, req, now, &posted, None),
					}
				},
			}
		}

		/// The posted (and agreeing) outputs of the round can be challenged until the window
		/// closes, then are paid.
		fn make_provisional(
			id: RequestId,
			req: &mut RequestOf<T>,
			now: BlockNumberFor<T>,
			slot: u32,
			output_hash: H256,
		) {
			let until = Self::queue(now.saturating_add(T::ChallengeWindow::get()), id);
			req.status = RequestStatus::Provisional { until };
			req.outcome = Some(Outcome { slot: Some(slot), output_hash });
			Self::deposit_event(Event::ResultProvisional { request: id, output_hash, until });
			if AuditRate::<T>::get().is_zero() {
				return;
			}
			let delay = T::DrawDelay::get();
			if delay.is_zero() {
				// Tests only: draw now.
				return Self::draw_audit(id, req, Self::parent_seed(id, AUDIT_ROUND));
			}
			let at = Self::queue(now.saturating_add(delay), id);
			Audits::<T>::insert(id, Audit::Drawing { at });
			Self::deposit_event(Event::AuditScheduled { request: id, at });
		}

		/// Sample the provisional result of `id` for an audit with probability `AuditRate`
		/// and draw its auditor, stake-weighted among the model's providers that posted none
		/// of its outputs.
		pub(crate) fn draw_audit(id: RequestId, req: &RequestOf<T>, seed: H256) {
			let [a, b, c, d, ..] = seed.0;
			// `x / 2^32` is uniform in [0, 1): sampled when below the rate.
			let x = u64::from(u32::from_le_bytes([a, b, c, d]));
			let scaled = x.saturating_mul(1_000_000_000).checked_shr(32).unwrap_or(u64::MAX);
			if scaled < u64::from(AuditRate::<T>::get().deconstruct()) {
				Self::assign_auditor(id, req, seed, None);
			} else {
				Audits::<T>::remove(id);
				Self::deposit_event(Event::AuditSkipped { request: id });
			}
		}

		/// Draw the auditor of a sampled result, stake-weighted among the model's providers
		/// that posted none of its outputs, other than `declined`.
		fn assign_auditor(
			id: RequestId,
			req: &RequestOf<T>,
			seed: H256,
			declined: Option<&T::AccountId>,
		) {
			let exclude: Vec<T::AccountId> = Self::posted(id, req)
				.into_iter()
				.map(|(_, r)| r.provider)
				.chain(declined.cloned())
				.collect();
			let seed = H256(sp_io::hashing::blake2_256(&(seed, b"auditor").encode()));
			match Self::choose(&req.model, seed, 1, &exclude).into_iter().next() {
				Some(Assignment { provider, executor }) => {
					AuditAssignments::<T>::insert(&executor, id, ());
					Audits::<T>::insert(
						id,
						Audit::Assigned { provider: provider.clone(), executor: executor.clone() },
					);
					Self::deposit_event(Event::AuditAssigned { request: id, provider, executor });
				},
				None => {
					Audits::<T>::remove(id);
					Self::deposit_event(Event::AuditSkipped { request: id });
				},
			}
		}

		/// Record an auditor's finding; `Disagrees` opens the dispute.
		pub(crate) fn do_audit(
			executor: T::AccountId,
			id: RequestId,
			finding: AuditFinding,
		) -> DispatchResult {
			ensure!(AuditAssignments::<T>::contains_key(&executor, id), Error::<T>::NotAuditor);
			let Some(Audit::Assigned { provider, .. }) = Audits::<T>::get(id) else {
				return Err(Error::<T>::NotAuditor.into());
			};
			let mut req = Requests::<T>::get(id).ok_or(Error::<T>::RequestNotFound)?;
			let RequestStatus::Provisional { until } = req.status else {
				return Err(Error::<T>::NotProvisional.into());
			};
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now < until, Error::<T>::ChallengeWindowClosed);
			Self::ensure_current_executor(&provider, &executor)?;
			AuditAssignments::<T>::remove(&executor, id);
			let mut penalty = Zero::zero();
			match finding {
				AuditFinding::Agrees => {
					Audits::<T>::insert(id, Audit::Agreed { provider: provider.clone() })
				},
				AuditFinding::Disagrees => {
					Audits::<T>::insert(id, Audit::Alarmed { provider: provider.clone() })
				},
				AuditFinding::CannotRun => {
					if !Self::count_failure(&provider, now) {
						penalty = T::Slash::slash(&provider, T::MissedDeadlinePenalty::get()).total;
					}
				},
			}
			Self::deposit_event(Event::Audited {
				request: id,
				provider: provider.clone(),
				finding,
				penalty,
			});
			match finding {
				AuditFinding::Disagrees => {
					let posted = Self::posted(id, &req);
					Self::open_dispute(id, &mut req, now, &posted, Some(provider));
					Requests::<T>::insert(id, req);
				},
				AuditFinding::CannotRun => Self::redraw_audit(id, &req, now, until, provider),
				AuditFinding::Agrees => {},
			}
			Ok(())
		}

		/// The auditor of `id` declined (`CannotRun`): draw another one `DrawDelay` blocks from
		/// now, from randomness revealed after the report, if that is before the window closes
		/// at `until`; else the result goes unaudited.
		fn redraw_audit(
			id: RequestId,
			req: &RequestOf<T>,
			now: BlockNumberFor<T>,
			until: BlockNumberFor<T>,
			declined: T::AccountId,
		) {
			let delay = T::DrawDelay::get();
			if delay.is_zero() {
				// Tests only: draw now.
				return Self::assign_auditor(
					id,
					req,
					Self::parent_seed(id, AUDIT_ROUND),
					Some(&declined),
				);
			}
			let at = now.saturating_add(delay);
			if at >= until {
				Audits::<T>::remove(id);
				return Self::deposit_event(Event::AuditSkipped { request: id });
			}
			let at = Self::queue(at, id);
			Audits::<T>::insert(id, Audit::Redrawing { at, declined });
			Self::deposit_event(Event::AuditScheduled { request: id, at });
		}

		/// A provisional result is challenged: an audit not reported yet is called off (the
		/// jury now decides; the auditor is neither paid nor penalized).
		fn call_off_audit(id: RequestId) {
			match Audits::<T>::get(id) {
				Some(Audit::Assigned { executor, .. }) => {
					AuditAssignments::<T>::remove(&executor, id);
					Audits::<T>::remove(id);
				},
				Some(Audit::Drawing { .. } | Audit::Redrawing { .. }) => Audits::<T>::remove(id),
				_ => {},
			}
		}

		/// End the audit of a request that is ending in `end`: slash an auditor a jury
		/// contradicted, penalize a silent one; returns the auditor to pay (its finding held).
		fn end_audit(id: RequestId, end: AuditEnd, now: BlockNumberFor<T>) -> Option<T::AccountId> {
			let slash = |provider: &T::AccountId| {
				let slashed = T::Slash::slash(provider, T::WrongResultPenalty::get()).total;
				Self::deposit_event(Event::AuditorSlashed {
					request: id,
					provider: provider.clone(),
					slashed,
				});
			};
			match Audits::<T>::take(id)? {
				Audit::Drawing { .. } | Audit::Redrawing { .. } => None,
				Audit::Assigned { provider, executor } => {
					AuditAssignments::<T>::remove(&executor, id);
					if end == AuditEnd::WindowClosed {
						// As for a missed deadline: a congested block in the window excuses.
						let start = now.saturating_sub(T::ChallengeWindow::get());
						let congested = LastCongested::<T>::get().is_some_and(|at| at >= start);
						let slashed = if congested {
							Zero::zero()
						} else {
							T::Slash::slash(&provider, T::MissedDeadlinePenalty::get()).total
						};
						Self::deposit_event(Event::AuditMissed { request: id, provider, slashed });
					}
					None
				},
				Audit::Agreed { provider } => match end {
					AuditEnd::Overturned => {
						slash(&provider);
						None
					},
					AuditEnd::Refunded => None,
					_ => Some(provider),
				},
				Audit::Alarmed { provider } => match end {
					AuditEnd::Upheld => {
						slash(&provider);
						None
					},
					AuditEnd::Overturned => Some(provider),
					_ => None,
				},
			}
		}

		/// Whether `output` (decoded) agrees under `rule` with the output posted for
		/// `reference`. A missing or undecodable reference output disagrees.
		fn agrees_with(
			id: RequestId,
			reference: u32,
			rule: &AcceptanceRule,
			output: &[Tensor],
		) -> bool {
			Results::<T>::get(id, reference)
				.and_then(|r| decode_tensors(&r.output).ok())
				.is_some_and(|theirs| agrees_all(rule, output, &theirs))
		}

		/// The posted results of the current assignments, in slot order.
		fn posted(id: RequestId, req: &RequestOf<T>) -> Vec<(u32, ResultOf<T>)> {
			(0..req.executors.len() as u32)
				.filter_map(|slot| Results::<T>::get(id, slot).map(|r| (slot, r)))
				.collect()
		}

		/// Open a dispute over the posted outputs, raised by an auditor or (`None`) by the
		/// executors' disagreement; refund the request if none can be opened.
		fn open_dispute(
			id: RequestId,
			req: &mut RequestOf<T>,
			now: BlockNumberFor<T>,
			posted: &[(u32, ResultOf<T>)],
			raised_by: Option<T::AccountId>,
		) {
			let subject = DisputeSubject {
				model: req.model,
				accused: posted.iter().map(|(_, r)| r.provider.clone()).collect(),
			};
			req.status = RequestStatus::Disputed;
			// The dispute pallet may conclude at once (no juror available) and re-enter
			// `conclude`, which works on the stored request: store it first, read it back after.
			Requests::<T>::insert(id, req.clone());
			match T::Disputes::open(id, subject, raised_by) {
				Ok(()) => {
					Self::deposit_event(Event::Disputed { request: id });
					if let Some(stored) = Requests::<T>::get(id) {
						*req = stored;
					}
				},
				Err(_) => Self::refund(id, req, now, RefundReason::Undecided),
			}
		}

		/// Reassign an optimistic request to a provider not tried yet (drawn `DrawDelay` blocks
		/// from now), or refund it.
		fn reassign_or_refund(id: RequestId, req: &mut RequestOf<T>, now: BlockNumberFor<T>) {
			let mut tried: Vec<T::AccountId> = req.tried.to_vec();
			tried.extend(req.executors.iter().map(|a| a.provider.clone()));
			// Rounds so far, this one included; `tried` keeps all but the current round.
			let rounds = tried.len() as u32;
			if rounds >= T::MaxAttempts::get() {
				return Self::refund(id, req, now, RefundReason::NoResult);
			}
			req.tried = BoundedVec::truncate_from(tried);
			req.executors = BoundedVec::new();
			req.pending = 1;
			let delay = T::DrawDelay::get();
			if delay.is_zero() {
				return Self::draw(id, req, now);
			}
			let at = Self::queue(now.saturating_add(delay), id);
			req.status = RequestStatus::Drawing { at };
			Self::deposit_event(Event::DrawScheduled { request: id, at });
		}

		/// A request of `model` ended (finalized or refunded).
		fn close(model: &ModelId) {
			OpenRequests::<T>::mutate_exists(model, |n| {
				*n = n.and_then(|n| n.checked_sub(1)).filter(|n| *n > 0);
			});
		}

		/// Release everything held and end the request unpaid.
		fn refund(
			id: RequestId,
			req: &mut RequestOf<T>,
			now: BlockNumberFor<T>,
			reason: RefundReason,
		) {
			Self::end_audit(id, AuditEnd::Refunded, now);
			let amount = Self::release_all(req);
			Self::close(&req.model);
			req.status = RequestStatus::Refunded { at: now, reason };
			Self::queue(now.saturating_add(T::RetentionPeriod::get()), id);
			Self::deposit_event(Event::Refunded { request: id, amount, reason });
		}

		fn release_all(req: &mut RequestOf<T>) -> BalanceOf<T> {
			let released = T::Currency::release(
				&HoldReason::RequestFee.into(),
				&req.requester,
				req.held,
				Precision::BestEffort,
			)
			.unwrap_or_default();
			if released != req.held {
				frame_support::defensive!("request fee not fully held");
			}
			req.held = Zero::zero();
			released
		}

		/// Pay the royalty and the fees of `paid` slots (the auditor's share out of the first,
		/// if the audit ending in `audit` earned it), release the rest, end the request.
		fn finalize(
			id: RequestId,
			req: &mut RequestOf<T>,
			now: BlockNumberFor<T>,
			outcome: Outcome,
			paid: &[u32],
			audit: AuditEnd,
		) {
			let auditor = Self::end_audit(id, audit, now);
			Self::release_all(req);
			let royalty = match T::Models::owner(&req.model) {
				Some(owner) if !req.royalty.is_zero() => T::Currency::transfer(
					&req.requester,
					&owner,
					req.royalty,
					Preservation::Expendable,
				)
				.map(|_| req.royalty)
				.unwrap_or_default(),
				_ => Zero::zero(),
			};
			let mut fees = BalanceOf::<T>::zero();
			// The auditor's share comes out of the first paid executor's fee; with no executor
			// paid there is nothing to share.
			let auditor = auditor.filter(|_| !paid.is_empty());
			let share = match auditor {
				Some(_) => T::AuditShare::get().mul_floor(req.execution_fee),
				None => Zero::zero(),
			};
			let mut cut = share;
			for slot in paid {
				if let Some(a) = req.executors.get(*slot as usize) {
					let fee = req.execution_fee.saturating_sub(core::mem::take(&mut cut));
					if T::Rewards::reward(&req.requester, &a.provider, fee).is_ok() {
						fees = fees.saturating_add(fee);
					}
				}
			}
			if let Some(provider) = auditor {
				if T::Rewards::reward(&req.requester, &provider, share).is_ok() {
					Self::deposit_event(Event::AuditorPaid {
						request: id,
						provider,
						amount: share,
					});
				}
			}
			Self::close(&req.model);
			req.status = RequestStatus::Finalized { at: now };
			req.outcome = Some(outcome);
			Self::queue(now.saturating_add(T::RetentionPeriod::get()), id);
			Self::deposit_event(Event::ResultFinalized {
				request: id,
				output_hash: outcome.output_hash,
				royalty,
				execution_fees: fees,
			});
		}

		/// Timed work for `id` at `now`, if the request is still in the state it was queued for.
		fn on_timeout(id: RequestId, now: BlockNumberFor<T>) {
			let Some(mut req) = Requests::<T>::get(id) else { return };
			match req.status {
				RequestStatus::Drawing { at } if at <= now => {
					Self::draw(id, &mut req, now);
					Requests::<T>::insert(id, req);
				},
				RequestStatus::Assigned { deadline } if deadline <= now => {
					// The slot's execution window began `ResultDeadline` before the deadline
					// (or later, if the deadline was pushed by a full queue: then the window is
					// only longer). A congested block in it excuses the miss: anyone can fill
					// blocks, and an honest executor must not pay for it.
					let start = deadline.saturating_sub(T::ResultDeadline::get());
					let congested = LastCongested::<T>::get().is_some_and(|at| at >= start);
					for (slot, a) in req.executors.clone().iter().enumerate() {
						let slot = slot as u32;
						if Assignments::<T>::take(&a.executor, id).is_some() {
							let slashed = if congested {
								Zero::zero()
							} else {
								T::Slash::slash(&a.provider, T::MissedDeadlinePenalty::get()).total
							};
							Self::deposit_event(Event::DeadlineMissed {
								request: id,
								slot,
								provider: a.provider.clone(),
								slashed,
								congested,
							});
						}
					}
					req.pending = 0;
					Self::settle_round(id, &mut req, now);
					Requests::<T>::insert(id, req);
				},
				RequestStatus::Provisional { until } if until <= now => {
					let outcome =
						req.outcome.unwrap_or(Outcome { slot: Some(0), output_hash: H256::zero() });
					// Every posted output agreed (one for an optimistic request, fewer than k
					// for a redundant one): each is paid.
					let paid: Vec<u32> =
						Self::posted(id, &req).into_iter().map(|(slot, _)| slot).collect();
					Self::finalize(id, &mut req, now, outcome, &paid, AuditEnd::WindowClosed);
					Requests::<T>::insert(id, req);
				},
				RequestStatus::Provisional { .. } => match Audits::<T>::get(id) {
					Some(Audit::Drawing { at }) if at <= now => {
						Self::draw_audit(id, &req, Self::draw_seed(id, AUDIT_ROUND));
					},
					Some(Audit::Redrawing { at, declined }) if at <= now => {
						let seed = Self::draw_seed(id, AUDIT_ROUND);
						Self::assign_auditor(id, &req, seed, Some(&declined));
					},
					_ => {},
				},
				RequestStatus::Finalized { at } | RequestStatus::Refunded { at, .. }
					if at.saturating_add(T::RetentionPeriod::get()) <= now =>
				{
					Requests::<T>::remove(id);
					let _ = Results::<T>::clear_prefix(id, T::MaxRedundancy::get(), None);
					JuryOutputs::<T>::remove(id);
					let deposit = Deposits::<T>::take(id)
						.map(|d| {
							T::Currency::release(
								&HoldReason::StorageDeposit.into(),
								&req.requester,
								d,
								Precision::BestEffort,
							)
							.unwrap_or_default()
						})
						.unwrap_or_default();
					Self::deposit_event(Event::Pruned { request: id, deposit });
				},
				_ => {},
			}
		}

		/// Apply a dispute verdict (see [`InferenceForDisputes::conclude`]).
		pub(crate) fn do_conclude(id: RequestId, verdict: Verdict) -> Settlement<BalanceOf<T>> {
			let undecided =
				Settlement { conclusion: Conclusion::Undecided, slashed: Slashed::default() };
			let Some(mut req) = Requests::<T>::get(id) else { return undecided };
			if req.status != RequestStatus::Disputed {
				return undecided;
			}
			let mut slashed_total = Slashed::<BalanceOf<T>>::default();
			let now = frame_system::Pallet::<T>::block_number();
			let posted = Self::posted(id, &req);
			let conclusion = match verdict {
				Verdict::NoQuorum => {
					// Jurors were seated and too few voted. Nothing was shown either way, so
					// nobody is paid for an unverified result: the requester is refunded (the
					// challenger's bond is released by pallet-disputes). Were the result to
					// stand, a faulty executor would be paid whenever its jury's votes could be
					// kept off the chain (docs/security.md "Worker transactions under request
					// spam").
					Self::refund(id, &mut req, now, RefundReason::Undecided);
					Conclusion::Undecided
				},
				Verdict::NoJury => {
					// No juror could be drawn, which only the challenger or providers leaving
					// the model can bring about (the request needed providers for a jury): a
					// result whose posted outputs agreed stands, since refunding it would give
					// a requester who challenges its own result free inference; outputs that
					// disagreed are refunded (nobody showed which was right).
					match posted.first() {
						Some((slot, r)) if !req.disagreement => {
							let outcome = Outcome { slot: Some(*slot), output_hash: r.output_hash };
							let paid: Vec<u32> = posted.iter().map(|(s, _)| *s).collect();
							Self::finalize(id, &mut req, now, outcome, &paid, AuditEnd::Stands);
						},
						_ => Self::refund(id, &mut req, now, RefundReason::Undecided),
					}
					Conclusion::Undecided
				},
				Verdict::Decided { correct, jury_output } => {
					let mut right = Vec::new();
					for (i, (slot, r)) in posted.iter().enumerate() {
						if correct.get(i).copied().unwrap_or(true) {
							right.push(*slot);
						} else {
							let slashed =
								T::Slash::slash(&r.provider, T::WrongResultPenalty::get());
							slashed_total = slashed_total.add(slashed);
							Self::deposit_event(Event::ExecutorSlashed {
								request: id,
								provider: r.provider.clone(),
								slashed: slashed.total,
							});
						}
					}
					let all_right = right.len() == posted.len();
					// The auditor (if any) checked the provisional outcome's output.
					let upheld = req
						.outcome
						.and_then(|o| o.slot)
						.map_or(all_right, |slot| right.contains(&slot));
					let audit = if upheld { AuditEnd::Upheld } else { AuditEnd::Overturned };
					match right.first().and_then(|s| posted.iter().find(|(p, _)| p == s)) {
						Some((slot, r)) => {
							let outcome = Outcome { slot: Some(*slot), output_hash: r.output_hash };
							Self::finalize(id, &mut req, now, outcome, &right, audit);
						},
						None => {
							// Nothing is paid: the auditor who raised the alarm is rewarded as
							// the dispute's challenger; one that vouched is slashed.
							Self::end_audit(id, audit, now);
							// Recorded only if it is a well-formed output of the model.
							let specs = T::Models::model(&req.model).map(|m| m.outputs);
							let output: Option<OutputOf<T>> = jury_output
								.filter(|o| {
									specs.as_ref().is_some_and(|s| check_list(s, o).is_ok())
								})
								.and_then(|o| BoundedVec::try_from(o).ok());
							match output {
								Some(output) => {
									let output_hash = H256(sp_io::hashing::blake2_256(&output));
									JuryOutputs::<T>::insert(id, output);
									Self::deposit_event(Event::ResultCorrected {
										request: id,
										output_hash,
									});
									let amount = Self::release_all(&mut req);
									Self::close(&req.model);
									req.status = RequestStatus::Finalized { at: now };
									req.outcome = Some(Outcome { slot: None, output_hash });
									Self::queue(now.saturating_add(T::RetentionPeriod::get()), id);
									Self::deposit_event(Event::Refunded {
										request: id,
										amount,
										reason: RefundReason::NoCorrectResult,
									});
								},
								None => {
									Self::refund(id, &mut req, now, RefundReason::NoCorrectResult)
								},
							}
						},
					}
					if all_right {
						Conclusion::AllCorrect
					} else {
						Conclusion::SomeWrong
					}
				},
			};
			Requests::<T>::insert(id, req);
			Settlement { conclusion, slashed: slashed_total }
		}

		/// Check every invariant of the pallet (see the crate docs).
		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			let mut held: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			let mut open: BTreeMap<ModelId, u32> = BTreeMap::new();
			let mut queued: alloc::collections::btree_set::BTreeSet<RequestId> = Default::default();
			for (_, q) in Timeouts::<T>::iter() {
				queued.extend(q);
			}
			for (id, req) in Requests::<T>::iter() {
				let e = held.entry(req.requester.clone()).or_default();
				*e = e.saturating_add(req.held);
				if req.status.ended_at().is_some() {
					ensure!(req.held.is_zero(), "a final request holds funds");
				} else {
					let n = open.entry(req.model).or_default();
					*n = n.saturating_add(1);
				}
				if req.status != RequestStatus::Disputed {
					ensure!(queued.contains(&id), "a request has no queued timeout");
				}
				let open = req
					.executors
					.iter()
					.filter(|a| Assignments::<T>::contains_key(&a.executor, id))
					.count() as u32;
				if let RequestStatus::Drawing { .. } = req.status {
					// `pending` counts the executors still to be drawn.
					ensure!(open == 0 && req.pending > 0, "a request being drawn has executors");
				} else {
					ensure!(open == req.pending, "pending differs from open assignments");
				}
				if !matches!(req.status, RequestStatus::Assigned { .. }) {
					ensure!(open == 0, "assignments of a request that is not assigned");
				}
				match (req.policy, req.reference) {
					(Policy::Optimistic, Some(_)) => {
						Err("an optimistic request has a reference output")?
					},
					(Policy::Redundant(_), Some(slot)) => ensure!(
						Results::<T>::contains_key(id, slot),
						"the reference output of a redundant request is missing"
					),
					_ => {},
				}
			}
			for (requester, sum) in held {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::RequestFee.into(), &requester) == sum,
					"held fees differ from the recorded ones"
				);
			}
			let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			for (id, d) in Deposits::<T>::iter() {
				let req = Requests::<T>::get(id).ok_or("a deposit of an unknown request")?;
				let e = deposits.entry(req.requester).or_default();
				*e = e.saturating_add(d);
			}
			for (requester, sum) in deposits {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::StorageDeposit.into(), &requester)
						== sum,
					"held storage deposits differ from the recorded ones"
				);
			}
			ensure!(
				OpenRequests::<T>::iter().collect::<BTreeMap<_, _>>() == open,
				"open requests per model differ from the requests that have not ended"
			);
			for (_, id, _) in Assignments::<T>::iter() {
				ensure!(Requests::<T>::contains_key(id), "assignment of an unknown request");
			}
			for (id, audit) in Audits::<T>::iter() {
				let status = Requests::<T>::get(id).ok_or("an audit of an unknown request")?.status;
				let provisional = matches!(status, RequestStatus::Provisional { .. });
				match audit {
					Audit::Drawing { .. } | Audit::Redrawing { .. } | Audit::Agreed { .. } => {
						ensure!(
							provisional || status == RequestStatus::Disputed,
							"an audit of a request that is neither provisional nor disputed"
						)
					},
					Audit::Assigned { executor, .. } => ensure!(
						provisional && AuditAssignments::<T>::contains_key(&executor, id),
						"an assigned audit without its assignment, or of a request not provisional"
					),
					Audit::Alarmed { .. } => ensure!(
						status == RequestStatus::Disputed,
						"an auditor's alarm without a dispute"
					),
				}
			}
			for (executor, id, ()) in AuditAssignments::<T>::iter() {
				ensure!(
					matches!(Audits::<T>::get(id), Some(Audit::Assigned { executor: e, .. }) if e == executor),
					"an audit assignment without its assigned audit"
				);
			}
			Ok(())
		}
	}

	#[deny(clippy::expect_used)]
	impl<T: Config> ModelUsage for Pallet<T> {
		fn open_requests(model: &ModelId) -> u32 {
			OpenRequests::<T>::get(model)
		}
	}

	#[deny(clippy::expect_used)]
	impl<T: Config> InferenceForDisputes<T::AccountId, BalanceOf<T>> for Pallet<T> {
		fn begin_challenge(
			request: RequestId,
			challenger: &T::AccountId,
		) -> Result<DisputeSubject<T::AccountId>, DispatchError> {
			let _ = challenger;
			let mut req = Requests::<T>::get(request).ok_or(Error::<T>::RequestNotFound)?;
			let RequestStatus::Provisional { until } = req.status else {
				return Err(Error::<T>::NotProvisional.into());
			};
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now < until, Error::<T>::ChallengeWindowClosed);
			let accused =
				Self::posted(request, &req).into_iter().map(|(_, r)| r.provider).collect();
			Self::call_off_audit(request);
			req.status = RequestStatus::Disputed;
			Requests::<T>::insert(request, req.clone());
			Self::deposit_event(Event::Disputed { request });
			Ok(DisputeSubject { model: req.model, accused })
		}

		fn input(request: RequestId) -> Option<Vec<u8>> {
			Requests::<T>::get(request).map(|r| r.input.into_inner())
		}

		fn model(request: RequestId) -> Option<ModelId> {
			Requests::<T>::get(request).map(|r| r.model)
		}

		fn candidates(request: RequestId) -> Vec<Vec<u8>> {
			Requests::<T>::get(request)
				.map(|req| {
					Self::posted(request, &req)
						.into_iter()
						.map(|(_, r)| r.output.into_inner())
						.collect()
				})
				.unwrap_or_default()
		}

		fn conclude(request: RequestId, verdict: Verdict) -> Settlement<BalanceOf<T>> {
			Self::do_conclude(request, verdict)
		}
	}
}
