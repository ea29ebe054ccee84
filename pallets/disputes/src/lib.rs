//! # Disputes (pallet-disputes)
//!
//! ## Overview
//!
//! A provisional inference result can be challenged by anyone who posts a bond; a request whose
//! redundant executors disagree is disputed by pallet-inference itself (through
//! [`DisputeOpener`]). Either way a jury of providers serving the model, seated by stake (never
//! an accused provider, never the challenger), re-executes the model in their off-chain workers
//! and votes with commit-reveal, one verdict per *candidate* (posted output). The seat-weighted
//! tally becomes a [`Verdict`] that pallet-inference applies (pays or slashes executors, refunds
//! the requester, records the result); this pallet settles the challenger's bond and penalizes
//! jurors who did not vote or voted against a clear majority.
//!
//! ## Terms
//!
//! - *Candidates*: the outputs under dispute, in candidate order; `accused[i]` posted output
//!   `i`. Their bytes are read with `InferenceForDisputes::candidates`, the input with `input`.
//! - *Jury*: drawn by `Config::Jury` in `on_initialize` `DrawDelay` blocks after the dispute
//!   opened (`JuryDrawScheduled`, then `DisputeOpened` with the jurors), from a seed
//!   `blake2_256(SCALE((random, request)))` where `random` is `Config::Randomness` (BABE's VRF
//!   output of the block after the challenge's, which neither the challenger nor that block's
//!   author knows): every eligible provider of the model, each weighing its stake, when at
//!   most `JurySize` are eligible; otherwise `JurySize` seats drawn independently with
//!   probability proportional to stake, each juror weighing its seats. The author of the block
//!   whose VRF output is used can only withhold its block (one re-roll); jurors are still
//!   bounded by stake and must agree with each other to win. Each juror's *weight* is recorded at selection: a coalition's expected
//!   share of the weight equals its share of stake however it splits the stake over accounts.
//!   (Weighing distinct stake-drawn jurors by stake counted stake twice: one account with 45 %
//!   of the stake held the majority of most juries.)
//! - *Phases*: a dispute whose jury was drawn at block `o` takes commitments in blocks
//!   `[o, commit_end = o + CommitPeriod)` and reveals in `[commit_end, reveal_end = commit_end
//!   + RevealPeriod)`; it is tallied in `on_initialize` of `tally_at` (`reveal_end`, or a later
//!   block when that block's queue already holds `MaxDisputesPerBlock` tallies).
//! - *Commitment*: `blake2_256(SCALE((b"verity/vote", juror, request, verdicts: Vec<bool>,
//!   blake2_256(output): H256, salt: [u8; 32])))`, see [`Pallet::commitment_of`], where `juror`
//!   is the juror's provider account. Naming the juror and the request means a lazy juror cannot
//!   copy another juror's commitment from the chain and replay its reveal. Jurors vote with
//!   their provider's *executor key*; the vote counts for the provider.
//!
//! ## Tally
//!
//! - Quorum: if the revealed weight is zero or below `Quorum` (rounded up) of the jury's weight,
//!   the verdict is [`Verdict::NoQuorum`]. An empty jury concludes at once with
//!   [`Verdict::NoJury`].
//! - Otherwise `correct[i] = yes_weight[i] >= no_weight[i]` (a tie favours the executor).
//! - *Jury output* (recorded as the result when candidates are wrong): the output of the
//!   highest-weight revealer among those whose whole verdict vector equals the majority's
//!   `correct` vector and who found some candidate wrong (first to reveal wins a tie). If no
//!   revealer voted exactly the majority vector (possible with several candidates), there is
//!   none. To avoid storing every juror's output, each reveal that finds a candidate wrong
//!   keeps its output only if it beats the output already kept for the same verdict vector.
//! - Penalties: `JurorPenalty` of stake (via `Config::Slash`, burned) from every juror who did
//!   not reveal (whether or not it committed; excused, `JurorExcused`, only when the model is
//!   over the per-node capacity, [`verity_primitives::RunLimits::within_capacity`]: jurors
//!   re-execute within the run bound the chain derives from the model's FLOPs, not their
//!   node's own time limit, so a model within the capacity is one every juror is expected to
//!   run in time) and, when decided, from every juror who voted
//!   against a side holding at least 2/3 of the revealed weight on any candidate; at most one
//!   penalty per juror per dispute.
//! - Slashes are burned by pallet-inference, which reports what it took
//!   ([`verity_primitives::Settlement`]). Rewards are then *minted*, bounded by the accused's
//!   *own* slashed stake (`own`), never by its delegators' part: `ChallengerReward * own` to the
//!   challenger and `JurorReward * own` split by weight among the *majority jurors* (revealed,
//!   with the majority's verdict on every candidate). `ChallengerReward + JurorReward < 100 %`
//!   (asserted in `integrity_test`), so a provider that reports itself from another account,
//!   with its own jurors, still loses at least `(1 - ChallengerReward - JurorReward) * own`:
//!   issuance only ever falls by a slash.
//! - Challenger's bond: on `AllCorrect`, `JurorReward` of it goes to the majority jurors (they
//!   worked for a frivolous challenge) and the rest to the accused providers in equal shares
//!   (the remainder to the first; a share that cannot be received is burned, and with no
//!   accused the bond is burned); on `SomeWrong` or `Undecided` it is released. A challenger
//!   may not be, or hold the executor key of, an accused provider.
//!
//! ## Invariants (checked by `do_try_state`)
//!
//! - For every challenger, the balance held for `ChallengeBond` equals the sum of the bonds
//!   recorded in its open disputes.
//! - Every open dispute is in exactly the tally queue of its `tally_at`, a future block no
//!   earlier than `reveal_end`, and every queued request is an open dispute.
//! - Jurors are distinct, never accused, never the challenger; a juror revealed only after
//!   committing, with one verdict per candidate. Kept outputs belong to open disputes.
//!
//! ## Complexity
//!
//! `challenge` is one selection of `JurySize`, a few reads and writes and at most
//! `TALLY_LOOKAHEAD` tally queue reads. `commit` and `reveal` read and write one dispute record
//! (O(`JurySize`)) and `reveal` at most one output of `MaxOutputLen` bytes. A tally is
//! O(`JurySize * MaxCandidates`) plus one `conclude`, one bond settlement over at most
//! `MaxCandidates` accused and at most `JurySize` slashes; each block tallies at most
//! `MaxDisputesPerBlock` disputes.

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
pub use types::*;
pub use weights::WeightInfo;

/// How many blocks past `reveal_end` a tally may be pushed when queues are full; beyond that
/// a new dispute is refused with `TallyQueueFull` (bounds the work of opening a dispute).
pub const TALLY_LOOKAHEAD: u32 = 16;

/// Domain of vote commitments (first field of the preimage, see `Pallet::commitment_of`).
pub const VOTE_DOMAIN: &[u8; 11] = b"verity/vote";

// FRAME's macros expand to `expect`s on what `construct_runtime!` guarantees (the pallet's
// name and index) with this module's spans, so the lint is allowed on the module and denied
// again on every hand-written `impl` block in it.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::{vec, vec::Vec};
	use codec::Encode;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectHold, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
			Randomness,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_core::H256;
	use sp_runtime::{
		traits::{One, Saturating, Zero},
		Perbill, SaturatedConversion,
	};
	use verity_primitives::{
		Conclusion, DisputeOpener, DisputeSubject, ExecutorSelection, InferenceForDisputes,
		JurySelection, RequestId, Slash as SlashStake, Verdict,
	};

	/// The balance type of the currency.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// An open dispute with this runtime's bounds.
	pub type DisputeInfoOf<T> = DisputeInfo<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as Config>::MaxCandidates,
		<T as Config>::JurySize,
	>;
	/// A kept jury output with this runtime's bounds.
	pub type JuryOutputOf<T> =
		JuryOutput<<T as frame_system::Config>::AccountId, <T as Config>::MaxOutputLen>;
	/// One verdict per candidate.
	pub type VerdictsOf<T> = BoundedVec<bool, <T as Config>::MaxCandidates>;
	/// A juror's canonical output.
	pub type OutputOf<T> = BoundedVec<u8, <T as Config>::MaxOutputLen>;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config:
		frame_system::Config<RuntimeEvent: From<Event<Self>>>
		+ frame_system::offchain::CreateSignedTransaction<Call<Self>>
	{
		/// The executor keys of a provider's node: a juror provider's key signs its votes.
		type ExecutorId: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>;

		/// The model registry: jurors re-execute a request's model and judge under its rule.
		type Models: verity_primitives::ModelRegistry<Self::AccountId, BalanceOf<Self>>;

		/// The currency of challenge bonds.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The requests under dispute (pallet-inference).
		type Inference: InferenceForDisputes<Self::AccountId, BalanceOf<Self>>;

		/// Where jurors come from: stake-weighted providers of the model (pallet-providers).
		type Jury: JurySelection<Self::AccountId>;

		/// Takes stake from penalized jurors (pallet-providers).
		type Slash: SlashStake<Self::AccountId, BalanceOf<Self>>;

		/// Bond a challenger posts, held until the verdict. Non-zero, so challenges cost
		/// something.
		#[pallet::constant]
		type ChallengeBond: Get<BalanceOf<Self>>;

		/// Most jurors of a dispute (fewer when fewer providers are eligible). At least 1.
		#[pallet::constant]
		type JurySize: Get<u32>;

		/// Randomness that a block reveals, read by the block after it (BABE's
		/// `ParentBlockRandomness`). Juries are drawn from it; `None` falls back to the parent
		/// hash.
		type Randomness: Randomness<Option<Self::Hash>, BlockNumberFor<Self>>;

		/// Blocks from the opening of a dispute to the draw of its jury in `on_initialize`
		/// (pushed up to `TALLY_LOOKAHEAD` blocks by full queues). With 2 the jury comes from
		/// the VRF output of the block after the one that included the challenge, which neither
		/// the challenger nor that block's author knows. 0 draws in the opening call from the
		/// parent block's randomness, which the challenger knows: for tests only.
		#[pallet::constant]
		type DrawDelay: Get<BlockNumberFor<Self>>;

		/// Blocks jurors have to commit. Non-zero.
		#[pallet::constant]
		type CommitPeriod: Get<BlockNumberFor<Self>>;

		/// Blocks jurors have to reveal, after the commit phase. Non-zero.
		#[pallet::constant]
		type RevealPeriod: Get<BlockNumberFor<Self>>;

		/// Share of the jury's stake weight that must reveal for a verdict. Non-zero.
		#[pallet::constant]
		type Quorum: Get<Perbill>;

		/// Share of stake taken from a juror who did not reveal or voted against a clear
		/// (at least 2/3 of revealed weight) majority.
		#[pallet::constant]
		type JurorPenalty: Get<Perbill>;

		/// Share of the accused's own slashed stake minted to a challenger who was right.
		/// `ChallengerReward + JurorReward` must stay below 100 %.
		#[pallet::constant]
		type ChallengerReward: Get<Perbill>;

		/// Share of the accused's own slashed stake (or of a wrong challenger's bond) paid to
		/// the majority jurors, split by stake.
		#[pallet::constant]
		type JurorReward: Get<Perbill>;

		/// Most candidates (posted outputs) one dispute judges. At least 1.
		#[pallet::constant]
		type MaxCandidates: Get<u32>;

		/// Longest canonical output a juror reveals, in bytes. At least 1.
		#[pallet::constant]
		type MaxOutputLen: Get<u32>;

		/// Most disputes tallied in one block's `on_initialize`. At least 1.
		#[pallet::constant]
		type MaxDisputesPerBlock: Get<u32>;

		/// Weights of the calls and the tally.
		type WeightInfo: WeightInfo;

		/// Creates challengeable requests and jurors for benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// Benchmark setup the pallet cannot do generically.
	#[cfg(feature = "runtime-benchmarks")]
	pub trait BenchmarkHelper<AccountId> {
		/// Create a request that `Inference::begin_challenge` accepts, judged on `candidates`
		/// candidates (as many as the runtime supports, at least 1), whose model has at least
		/// `jurors` eligible providers besides the accused, each with an executor key
		/// (`Jury::executor_of`). Return its id.
		fn challengeable_request(candidates: u32, jurors: u32) -> RequestId;
	}

	/// Reasons this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A challenger's bond, held on its account until the verdict.
		ChallengeBond,
	}

	/// Open disputes by request. A juror's off-chain worker reads the jury, phases and its own
	/// vote here (or uses [`Pallet::juror_duties`]).
	#[pallet::storage]
	pub type Disputes<T: Config> = StorageMap<_, Twox64Concat, RequestId, DisputeInfoOf<T>>;

	/// Per open dispute, the output kept for each verdict vector that found a candidate wrong,
	/// keyed by `blake2_256(SCALE(verdicts))` (a hash, so `Identity` is safe).
	#[pallet::storage]
	pub type JuryOutputs<T: Config> =
		StorageDoubleMap<_, Twox64Concat, RequestId, Identity, H256, JuryOutputOf<T>>;

	/// Disputes to tally in each block's `on_initialize`.
	#[pallet::storage]
	pub type Tallies<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<RequestId, T::MaxDisputesPerBlock>,
		ValueQuery,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `request` was challenged (by `challenger`, or disputed by pallet-inference when
		/// `None`); its jury is drawn in `on_initialize` of block `at`, and `DisputeOpened`
		/// follows.
		JuryDrawScheduled {
			request: RequestId,
			challenger: Option<T::AccountId>,
			at: BlockNumberFor<T>,
		},
		/// A dispute on `request` opened (by `challenger`, or by pallet-inference when `None`)
		/// with `jurors` (providers; they vote with their executor keys): commitments until
		/// block `commit_end` (exclusive), reveals until `reveal_end` (exclusive).
		DisputeOpened {
			request: RequestId,
			challenger: Option<T::AccountId>,
			jurors: Vec<T::AccountId>,
			commit_end: BlockNumberFor<T>,
			reveal_end: BlockNumberFor<T>,
		},
		/// Provider `juror` committed its vote on `request`.
		VoteCommitted { request: RequestId, juror: T::AccountId },
		/// Provider `juror` revealed `verdicts` (one per candidate) and the hash of the output
		/// it computed.
		VoteRevealed {
			request: RequestId,
			juror: T::AccountId,
			verdicts: VerdictsOf<T>,
			output_hash: H256,
		},
		/// The dispute on `request` ended with `conclusion`. `correct` is the verdict per
		/// candidate (`None`: no quorum); `revealed_weight` of `jury_weight` stake revealed.
		DisputeResolved {
			request: RequestId,
			conclusion: Outcome,
			correct: Option<VerdictsOf<T>>,
			revealed_weight: u128,
			jury_weight: u128,
		},
		/// Provider `juror` lost `amount` of stake for not revealing or voting against a clear
		/// majority on `request`.
		JurorPenalized { request: RequestId, juror: T::AccountId, amount: BalanceOf<T> },
		/// Provider `juror` did not reveal on `request` and was not penalized: the request's
		/// model is over the per-node capacity (its FLOPs above `MaxModelFlops` of
		/// pallet-models), so a node may be unable to run it within the chain's run bound.
		JurorExcused { request: RequestId, juror: T::AccountId },
		/// Every candidate of `request` was correct: `amount` of `challenger`'s bond went to the
		/// majority jurors and the accused providers (or was burned where they could not
		/// receive it).
		ChallengerSlashed { request: RequestId, challenger: T::AccountId, amount: BalanceOf<T> },
		/// `challenger`'s bond of `amount` on `request` was released.
		ChallengeBondReleased { request: RequestId, challenger: T::AccountId, amount: BalanceOf<T> },
		/// `challenger` was right on `request` and was paid `amount` (minted, bounded by what
		/// the wrong providers lost of their own stake).
		ChallengerRewarded { request: RequestId, challenger: T::AccountId, amount: BalanceOf<T> },
		/// Provider `juror` voted with the majority on `request` and was paid `amount`.
		JurorRewarded { request: RequestId, juror: T::AccountId, amount: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No open dispute on this request.
		DisputeNotFound,
		/// The request is already under dispute.
		AlreadyDisputed,
		/// The caller is not the executor key of a juror of this dispute.
		NotJuror,
		/// The commit phase of this dispute is over.
		CommitPhaseClosed,
		/// The reveal phase of this dispute has not started (the commit phase is still open).
		RevealPhaseNotOpen,
		/// The reveal phase of this dispute is over.
		RevealPhaseClosed,
		/// This juror already committed.
		AlreadyCommitted,
		/// This juror already revealed.
		AlreadyRevealed,
		/// This juror did not commit, so it has nothing to reveal.
		NotCommitted,
		/// The revealed verdicts, output and salt do not hash to the commitment.
		CommitmentMismatch,
		/// The number of verdicts differs from the number of candidates.
		WrongVerdictCount,
		/// The request has more candidates than `MaxCandidates`.
		TooManyCandidates,
		/// The request has no candidate to judge.
		NoCandidates,
		/// The challenger is, or holds the executor key of, an accused provider.
		ChallengerAccused,
		/// The tally queues of `TALLY_LOOKAHEAD` blocks from the reveal end are full.
		TallyQueueFull,
	}

	#[pallet::hooks]
	#[deny(clippy::expect_used)]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(n: BlockNumberFor<T>) -> Weight {
			let queue = Tallies::<T>::take(n);
			let mut weight = T::DbWeight::get().reads_writes(1, 1);
			for request in queue {
				// An entry is a tally or a jury draw (which may conclude at once).
				weight.saturating_accrue(Self::tally_weight().max(Self::challenge_weight()));
				match Disputes::<T>::take(request) {
					Some(info) if info.drawn => Self::finish(request, info),
					Some(mut info) => {
						if Self::seat_jury(request, &mut info, n, Self::draw_seed(request)).is_err()
						{
							// No tally queue had room within `TALLY_LOOKAHEAD`: without a jury
							// the dispute ends undecided, holding nothing.
							frame_support::defensive!("no room to tally a drawn jury");
							info.jurors = BoundedVec::new();
							Self::finish(request, info);
						}
					},
					None => {
						frame_support::defensive!("queued tally of a dispute not open");
					},
				}
			}
			weight
		}

		/// Drawn jurors judge, see [`crate::offchain`].
		fn offchain_worker(now: BlockNumberFor<T>) {
			crate::offchain::judge_disputes::<T>(sp_runtime::SaturatedConversion::saturated_into(
				now,
			));
		}

		fn integrity_test() {
			assert!(!T::CommitPeriod::get().is_zero(), "CommitPeriod must be non-zero");
			assert!(!T::RevealPeriod::get().is_zero(), "RevealPeriod must be non-zero");
			assert!(T::JurySize::get() >= 1, "JurySize must be at least 1");
			assert!(T::MaxCandidates::get() >= 1, "MaxCandidates must be at least 1");
			assert!(T::MaxOutputLen::get() >= 1, "MaxOutputLen must be at least 1");
			assert!(T::MaxDisputesPerBlock::get() >= 1, "MaxDisputesPerBlock must be at least 1");
			assert!(!T::Quorum::get().is_zero(), "Quorum must be non-zero");
			assert!(!T::ChallengeBond::get().is_zero(), "ChallengeBond must be non-zero");
			assert!(
				T::ChallengerReward::get().saturating_add(T::JurorReward::get()) < Perbill::one(),
				"ChallengerReward + JurorReward must stay below 100 %: a provider reporting itself would break even"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	/// The read API: what wallets, clients and the node's RPC ask about disputes.
	#[pallet::view_functions]
	#[deny(clippy::expect_used)]
	impl<T: Config> Pallet<T> {
		/// The open dispute on request `id`: challenger, accused, jurors with their weights,
		/// commitments and reveals, and the phase deadlines (`None`: no dispute open).
		pub fn dispute_info(id: RequestId) -> Option<DisputeInfoOf<T>> {
			Disputes::<T>::get(id)
		}
	}

	#[pallet::call]
	#[deny(clippy::expect_used)]
	impl<T: Config> Pallet<T> {
		/// Challenge the provisional result of `request`, holding `ChallengeBond` from the
		/// caller until the verdict. Opens a dispute with a jury drawn now (see the crate docs
		/// for what happens to the bond). Fails, holding nothing, if pallet-inference refuses
		/// the challenge.
		///
		/// Weight: the benchmarked challenge plus a one-juror no-quorum tally, which bounds the
		/// immediate conclusion of a dispute whose jury is empty.
		#[pallet::call_index(0)]
		#[pallet::weight(Pallet::<T>::challenge_weight())]
		pub fn challenge(origin: OriginFor<T>, request: RequestId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			frame_support::storage::with_storage_layer(|| Self::do_challenge(who, request))
		}

		/// Commit a juror's vote on `request`: `commitment` is
		/// `blake2_256(SCALE((b"verity/vote", juror, request, verdicts, blake2_256(output),
		/// salt)))` (see [`Pallet::commitment_of`]). Signed by the juror provider's executor key,
		/// during the commit phase, once. `Operational`: request spam cannot crowd jurors out.
		#[pallet::call_index(1)]
		#[pallet::weight((T::WeightInfo::commit(), DispatchClass::Operational))]
		pub fn commit(
			origin: OriginFor<T>,
			request: RequestId,
			commitment: H256,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Disputes::<T>::get(request).ok_or(Error::<T>::DisputeNotFound)?;
			let provider = T::Jury::provider_of(&who).ok_or(Error::<T>::NotJuror)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now < info.commit_end, Error::<T>::CommitPhaseClosed);
			let juror = info
				.jurors
				.iter_mut()
				.find(|j| j.provider == provider)
				.ok_or(Error::<T>::NotJuror)?;
			ensure!(juror.commitment.is_none(), Error::<T>::AlreadyCommitted);
			juror.commitment = Some(commitment);
			Disputes::<T>::insert(request, info);
			Self::deposit_event(Event::VoteCommitted { request, juror: provider });
			Ok(())
		}

		/// Reveal a committed vote on `request`: one verdict per candidate (`true`: agrees with
		/// the juror's re-execution under the model's acceptance rule), the juror's canonical
		/// output and the salt of the commitment. Signed by the juror provider's executor key,
		/// during the reveal phase, once.
		#[pallet::call_index(2)]
		#[pallet::weight((T::WeightInfo::reveal(output.len() as u32), DispatchClass::Operational))]
		pub fn reveal(
			origin: OriginFor<T>,
			request: RequestId,
			verdicts: VerdictsOf<T>,
			output: OutputOf<T>,
			salt: [u8; 32],
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Disputes::<T>::get(request).ok_or(Error::<T>::DisputeNotFound)?;
			let provider = T::Jury::provider_of(&who).ok_or(Error::<T>::NotJuror)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now >= info.commit_end, Error::<T>::RevealPhaseNotOpen);
			ensure!(now < info.reveal_end, Error::<T>::RevealPhaseClosed);
			ensure!(verdicts.len() == info.accused.len(), Error::<T>::WrongVerdictCount);
			let juror = info
				.jurors
				.iter_mut()
				.find(|j| j.provider == provider)
				.ok_or(Error::<T>::NotJuror)?;
			let commitment = juror.commitment.ok_or(Error::<T>::NotCommitted)?;
			ensure!(juror.reveal.is_none(), Error::<T>::AlreadyRevealed);
			let output_hash = H256(sp_io::hashing::blake2_256(&output));
			ensure!(
				Self::commitment_from_hash(&provider, request, &verdicts, output_hash, &salt)
					== commitment,
				Error::<T>::CommitmentMismatch
			);
			let weight = juror.weight;
			juror.reveal = Some(Reveal { verdicts: verdicts.clone(), output_hash });
			Disputes::<T>::insert(request, info);
			if verdicts.contains(&false) {
				let key = Self::verdict_key(&verdicts);
				if JuryOutputs::<T>::get(request, key).is_none_or(|kept| kept.weight < weight) {
					let kept = JuryOutput { juror: provider.clone(), weight, output };
					JuryOutputs::<T>::insert(request, key, kept);
				}
			}
			Self::deposit_event(Event::VoteRevealed {
				request,
				juror: provider,
				verdicts,
				output_hash,
			});
			Ok(())
		}
	}

	#[deny(clippy::expect_used)]
	impl<T: Config> Pallet<T> {
		/// The commitment provider `juror` submits on `request` for `verdicts` on `output` with
		/// `salt`: `blake2_256(SCALE((b"verity/vote", juror, request, verdicts: Vec<bool>,
		/// blake2_256(output): H256, salt)))`.
		pub fn commitment_of(
			juror: &T::AccountId,
			request: RequestId,
			verdicts: &[bool],
			output: &[u8],
			salt: &[u8; 32],
		) -> H256 {
			let output_hash = H256(sp_io::hashing::blake2_256(output));
			Self::commitment_from_hash(juror, request, verdicts, output_hash, salt)
		}

		fn commitment_from_hash(
			juror: &T::AccountId,
			request: RequestId,
			verdicts: &[bool],
			output_hash: H256,
			salt: &[u8; 32],
		) -> H256 {
			// A slice encodes like the `Vec<bool>` of the documented formula.
			let preimage = (VOTE_DOMAIN, juror, request, verdicts, output_hash, salt).encode();
			H256(sp_io::hashing::blake2_256(&preimage))
		}

		/// Key of the output kept for a verdict vector.
		fn verdict_key(verdicts: &[bool]) -> H256 {
			H256(sp_io::hashing::blake2_256(&verdicts.encode()))
		}

		/// What `provider`'s off-chain worker must do now: commit on disputes whose commit phase
		/// is open and that it has not committed to, reveal on those in their reveal phase that
		/// it committed to and has not revealed. Iterates every open dispute: for off-chain
		/// use (and RPC), not for runtime code. The worker re-executes on
		/// `InferenceForDisputes::input`, judges each of `candidates`, and keeps its salt in
		/// off-chain local storage between commit and reveal.
		pub fn juror_duties(provider: &T::AccountId) -> Vec<(RequestId, Duty<BlockNumberFor<T>>)> {
			let now = frame_system::Pallet::<T>::block_number();
			Disputes::<T>::iter()
				.filter_map(|(request, info)| {
					let juror = info.jurors.iter().find(|j| &j.provider == provider)?;
					if now < info.commit_end && juror.commitment.is_none() {
						Some((request, Duty::Commit { until: info.commit_end }))
					} else if now >= info.commit_end
						&& now < info.reveal_end
						&& juror.commitment.is_some()
						&& juror.reveal.is_none()
					{
						Some((request, Duty::Reveal { until: info.reveal_end }))
					} else {
						None
					}
				})
				.collect()
		}

		/// Weight of `challenge`, and of `DisputeOpener::open` for pallet-inference to charge
		/// in the call that opens a dispute (an upper bound: `open` holds no bond).
		pub fn challenge_weight() -> Weight {
			T::WeightInfo::challenge().saturating_add(T::WeightInfo::tally_no_quorum(1))
		}

		/// Weight charged in `on_initialize` per tallied dispute: a decided tally (one
		/// `conclude`) plus a penalty for every juror bounds every mix of the two.
		pub fn tally_weight() -> Weight {
			let j = T::JurySize::get();
			T::WeightInfo::tally_decided(j)
				.saturating_add(T::WeightInfo::tally_no_quorum(j))
				// The request's model and its record (is it within the per-node capacity?).
				// Estimated until the benchmarks are run again.
				.saturating_add(T::DbWeight::get().reads(2))
		}

		/// The jury seed of `request` from the randomness the parent block revealed (its
		/// author's VRF output), or without one (only the genesis block lacks it) the parent
		/// hash.
		fn draw_seed(request: RequestId) -> H256 {
			let (random, _) = T::Randomness::random(b"verity/jury");
			match random {
				Some(random) => H256(sp_io::hashing::blake2_256(&(random, request).encode())),
				None => Self::parent_seed(request),
			}
		}

		/// A seed everyone knows before the block: only for the tests' immediate draw.
		fn parent_seed(request: RequestId) -> H256 {
			let parent = frame_system::Pallet::<T>::parent_hash();
			H256(sp_io::hashing::blake2_256(&(parent, request).encode()))
		}

		pub(crate) fn do_challenge(who: T::AccountId, request: RequestId) -> DispatchResult {
			ensure!(!Disputes::<T>::contains_key(request), Error::<T>::AlreadyDisputed);
			let subject = T::Inference::begin_challenge(request, &who)?;
			let as_provider = T::Jury::provider_of(&who);
			ensure!(
				!subject.accused.contains(&who)
					&& as_provider.as_ref().is_none_or(|p| !subject.accused.contains(p)),
				Error::<T>::ChallengerAccused
			);
			let bond = T::ChallengeBond::get();
			T::Currency::hold(&HoldReason::ChallengeBond.into(), &who, bond)?;
			Self::do_open(request, Some(who), bond, subject)
		}

		/// Record the dispute and schedule its jury's draw `DrawDelay` blocks from now (or,
		/// with no delay, draw it at once). Callers run it in a storage layer: it fails after the
		/// challenger's bond was held.
		fn do_open(
			request: RequestId,
			challenger: Option<T::AccountId>,
			bond: BalanceOf<T>,
			subject: DisputeSubject<T::AccountId>,
		) -> DispatchResult {
			ensure!(!Disputes::<T>::contains_key(request), Error::<T>::AlreadyDisputed);
			ensure!(!subject.accused.is_empty(), Error::<T>::NoCandidates);
			let accused: BoundedVec<T::AccountId, T::MaxCandidates> =
				subject.accused.try_into().map_err(|_| Error::<T>::TooManyCandidates)?;
			let now = frame_system::Pallet::<T>::block_number();
			let delay = T::DrawDelay::get();
			let at = if delay.is_zero() {
				now
			} else {
				Self::schedule(request, now.saturating_add(delay))?
			};
			let mut info = DisputeInfo {
				challenger: challenger.clone(),
				bond,
				accused,
				model: subject.model,
				jurors: BoundedVec::new(),
				drawn: false,
				commit_end: at,
				reveal_end: at,
				tally_at: at,
			};
			if delay.is_zero() {
				return Self::seat_jury(request, &mut info, now, Self::parent_seed(request));
			}
			Disputes::<T>::insert(request, info);
			Self::deposit_event(Event::JuryDrawScheduled { request, challenger, at });
			Ok(())
		}

		/// Draw the jury of a dispute not yet in `Disputes` (never the accused, the challenger
		/// or the challenger's provider) from `seed` at block `now`, and record the dispute with
		/// its phases from `now`, or with an empty jury conclude it. Fails, changing nothing,
		/// when no tally queue has room.
		fn seat_jury(
			request: RequestId,
			info: &mut DisputeInfoOf<T>,
			now: BlockNumberFor<T>,
			seed: H256,
		) -> DispatchResult {
			let mut exclude: Vec<T::AccountId> = info.accused.to_vec();
			if let Some(who) = &info.challenger {
				exclude.push(who.clone());
				// The challenger's own provider must not judge its challenge either.
				exclude.extend(T::Jury::provider_of(who));
			}
			let selected = T::Jury::draw_jury(&info.model, T::JurySize::get(), seed, &exclude);
			let mut jurors =
				BoundedVec::<JurorVote<T::AccountId, T::MaxCandidates>, T::JurySize>::new();
			for (provider, weight) in selected {
				// Selection promises this; re-checked so a faulty selector cannot seat an
				// accused provider or the same juror twice.
				if exclude.contains(&provider) || jurors.iter().any(|j| j.provider == provider) {
					continue;
				}
				// Zero stake cannot be penalized: no vote.
				if weight == 0 || T::Jury::stake_weight(&provider) == 0 {
					continue;
				}
				let vote = JurorVote { provider, weight, commitment: None, reveal: None };
				if jurors.try_push(vote).is_err() {
					break;
				}
			}
			let event_jurors: Vec<T::AccountId> =
				jurors.iter().map(|j| j.provider.clone()).collect();
			info.drawn = true;
			if jurors.is_empty() {
				Self::deposit_event(Event::DisputeOpened {
					request,
					challenger: info.challenger.clone(),
					jurors: event_jurors,
					commit_end: now,
					reveal_end: now,
				});
				info.commit_end = now;
				info.reveal_end = now;
				info.tally_at = now;
				Self::finish(request, info.clone());
				return Ok(());
			}
			let commit_end = now.saturating_add(T::CommitPeriod::get());
			let reveal_end = commit_end.saturating_add(T::RevealPeriod::get());
			let tally_at = Self::schedule(request, reveal_end)?;
			info.jurors = jurors;
			info.commit_end = commit_end;
			info.reveal_end = reveal_end;
			info.tally_at = tally_at;
			Disputes::<T>::insert(request, info.clone());
			Self::deposit_event(Event::DisputeOpened {
				request,
				challenger: info.challenger.clone(),
				jurors: event_jurors,
				commit_end,
				reveal_end,
			});
			Ok(())
		}

		/// Queue the tally of `request` in the first block from `at` whose queue has room.
		fn schedule(
			request: RequestId,
			at: BlockNumberFor<T>,
		) -> Result<BlockNumberFor<T>, DispatchError> {
			let mut at = at;
			for _ in 0..TALLY_LOOKAHEAD {
				if Tallies::<T>::mutate(at, |q| q.try_push(request).is_ok()) {
					return Ok(at);
				}
				at = at.saturating_add(One::one());
			}
			Err(Error::<T>::TallyQueueFull.into())
		}

		/// Tally a dispute already removed from `Disputes`, apply the verdict, settle the bond,
		/// penalize jurors and drop its kept outputs. Infallible: every path settles every
		/// held amount.
		pub(crate) fn finish(request: RequestId, info: DisputeInfoOf<T>) {
			let candidates = info.accused.len();
			let mut jury_weight = 0u128;
			let mut revealed_weight = 0u128;
			let mut yes = vec![0u128; candidates];
			let mut no = vec![0u128; candidates];
			for juror in info.jurors.iter() {
				jury_weight = jury_weight.saturating_add(juror.weight);
				let Some(reveal) = &juror.reveal else { continue };
				revealed_weight = revealed_weight.saturating_add(juror.weight);
				for ((v, y), n) in reveal.verdicts.iter().zip(yes.iter_mut()).zip(no.iter_mut()) {
					let side = if *v { y } else { n };
					*side = side.saturating_add(juror.weight);
				}
			}
			let quorum = T::Quorum::get().mul_ceil(jury_weight);
			let decided = revealed_weight > 0 && revealed_weight >= quorum;
			let correct: Option<Vec<bool>> =
				decided.then(|| yes.iter().zip(no.iter()).map(|(y, n)| y >= n).collect());

			let verdict = match &correct {
				Some(correct) => {
					let jury_output = if correct.contains(&false) {
						JuryOutputs::<T>::get(request, Self::verdict_key(correct))
							.map(|kept| kept.output.into_inner())
					} else {
						None
					};
					Verdict::Decided { correct: correct.clone(), jury_output }
				},
				None if info.jurors.is_empty() => Verdict::NoJury,
				None => Verdict::NoQuorum,
			};
			// Jurors of a model over the per-node capacity (`RunLimits::within_capacity`) may
			// have been unable to run it within the chain's run bound: their silence is excused.
			// Within the capacity every node is expected to run it in time, so silence is not.
			let excused = T::Inference::model(request)
				.and_then(|model| {
					<T::Models as verity_primitives::ModelRegistry<_, _>>::model(&model)
				})
				.is_some_and(|view| !view.limits.within_capacity);
			let settlement = T::Inference::conclude(request, verdict);
			let conclusion = settlement.conclusion;

			// Jurors who revealed the majority's verdict on every candidate, with their stake.
			let majority: Vec<(T::AccountId, u128)> = match &correct {
				Some(correct) => info
					.jurors
					.iter()
					.filter(|j| {
						j.reveal.as_ref().is_some_and(|r| r.verdicts.iter().eq(correct.iter()))
					})
					.map(|j| (j.provider.clone(), j.weight))
					.collect(),
				None => Vec::new(),
			};
			// An auditor raises a dispute without a bond (its stake answers for a false alarm).
			if let Some(challenger) = info.challenger.as_ref().filter(|_| !info.bond.is_zero()) {
				Self::settle_bond(
					request,
					challenger,
					info.bond,
					&info.accused,
					&majority,
					conclusion,
				);
			}
			if conclusion == Conclusion::SomeWrong {
				let own = settlement.slashed.own;
				if let Some(challenger) = &info.challenger {
					let amount = Self::mint(challenger, T::ChallengerReward::get().mul_floor(own));
					Self::deposit_event(Event::ChallengerRewarded {
						request,
						challenger: challenger.clone(),
						amount,
					});
				}
				let pot = T::JurorReward::get().mul_floor(own);
				for (juror, part) in Self::split(pot, &majority) {
					let amount = Self::mint(&juror, part);
					Self::deposit_event(Event::JurorRewarded { request, juror, amount });
				}
			}

			// A clear majority on candidate `i` holds at least 2/3 of the revealed weight.
			let clear = |side: u128| side.saturating_mul(3) >= revealed_weight.saturating_mul(2);
			for juror in info.jurors.iter() {
				let penalize = match (&juror.reveal, &correct) {
					(None, _) if excused => {
						Self::deposit_event(Event::JurorExcused {
							request,
							juror: juror.provider.clone(),
						});
						false
					},
					(None, _) => true,
					(Some(_), None) => false,
					(Some(reveal), Some(correct)) => reveal
						.verdicts
						.iter()
						.zip(correct.iter())
						.zip(yes.iter().zip(no.iter()))
						.any(|((v, c), (y, n))| v != c && clear(if *c { *y } else { *n })),
				};
				if penalize {
					let amount = T::Slash::slash(&juror.provider, T::JurorPenalty::get()).total;
					Self::deposit_event(Event::JurorPenalized {
						request,
						juror: juror.provider.clone(),
						amount,
					});
				}
			}

			let _ = JuryOutputs::<T>::clear_prefix(request, T::JurySize::get(), None);
			Self::deposit_event(Event::DisputeResolved {
				request,
				conclusion: conclusion.into(),
				correct: correct.map(BoundedVec::truncate_from),
				revealed_weight,
				jury_weight,
			});
		}

		/// `pot` split among `jurors` pro rata to their stake (floor; the dust is not paid).
		fn split(
			pot: BalanceOf<T>,
			jurors: &[(T::AccountId, u128)],
		) -> Vec<(T::AccountId, BalanceOf<T>)> {
			let total: u128 = jurors.iter().fold(0u128, |a, (_, w)| a.saturating_add(*w));
			if total == 0 || pot.is_zero() {
				return Vec::new();
			}
			let pot: u128 = pot.saturated_into();
			jurors
				.iter()
				.map(|(j, w)| {
					let part = sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
						pot,
						*w,
						total,
						sp_runtime::Rounding::Down,
					)
					.unwrap_or(0);
					(j.clone(), part.saturated_into())
				})
				.collect()
		}

		/// Mint `amount` to `who`; nothing if it cannot receive it (below the existential
		/// deposit). Returns what was minted.
		fn mint(who: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
			if amount.is_zero() {
				return amount;
			}
			T::Currency::mint_into(who, amount).unwrap_or_default()
		}

		/// Settle the challenger's held bond: on `AllCorrect`, `JurorReward` of it to the
		/// majority jurors and the rest to the accused; otherwise release it.
		fn settle_bond(
			request: RequestId,
			challenger: &T::AccountId,
			bond: BalanceOf<T>,
			accused: &[T::AccountId],
			majority: &[(T::AccountId, u128)],
			conclusion: Conclusion,
		) {
			let reason = HoldReason::ChallengeBond.into();
			match conclusion {
				Conclusion::AllCorrect => {
					let mut to_jurors = BalanceOf::<T>::zero();
					for (juror, part) in
						Self::split(T::JurorReward::get().mul_floor(bond), majority)
					{
						let amount = Self::pay_held(challenger, &juror, part);
						to_jurors = to_jurors.saturating_add(amount);
						Self::deposit_event(Event::JurorRewarded { request, juror, amount });
					}
					let bond = bond.saturating_sub(to_jurors);
					let count = BalanceOf::<T>::from(accused.len() as u32);
					let share = bond.checked_div(&count).unwrap_or_default();
					let rest = bond.saturating_sub(share.saturating_mul(count));
					let mut amount = BalanceOf::<T>::zero();
					for (i, provider) in accused.iter().enumerate() {
						let part = if i == 0 { share.saturating_add(rest) } else { share };
						amount = amount.saturating_add(Self::pay_held(challenger, provider, part));
					}
					// No accused: nobody to compensate, the bond is burned.
					if accused.is_empty() {
						amount = T::Currency::burn_held(
							&reason,
							challenger,
							bond,
							Precision::BestEffort,
							Fortitude::Force,
						)
						.unwrap_or_default();
					}
					Self::deposit_event(Event::ChallengerSlashed {
						request,
						challenger: challenger.clone(),
						amount: amount.saturating_add(to_jurors),
					});
				},
				Conclusion::SomeWrong | Conclusion::Undecided => {
					let amount =
						T::Currency::release(&reason, challenger, bond, Precision::BestEffort)
							.unwrap_or_default();
					Self::deposit_event(Event::ChallengeBondReleased {
						request,
						challenger: challenger.clone(),
						amount,
					});
				},
			}
		}

		/// Move `amount` of `from`'s held bond to `to`'s free balance; burn it if `to` cannot
		/// receive it (e.g. below the existential deposit), so it never stays held.
		fn pay_held(from: &T::AccountId, to: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
			if amount.is_zero() {
				return amount;
			}
			let reason = HoldReason::ChallengeBond.into();
			T::Currency::transfer_on_hold(
				&reason,
				from,
				to,
				amount,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)
			.or_else(|_| {
				T::Currency::burn_held(
					&reason,
					from,
					amount,
					Precision::BestEffort,
					Fortitude::Force,
				)
			})
			.unwrap_or_default()
		}

		/// Check every invariant of the pallet (see the crate docs).
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			Self::check_bonds()?;
			Self::check_tallies()?;
			Self::check_juries()
		}

		#[cfg(any(feature = "try-runtime", test))]
		fn check_bonds() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			let mut bonds: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			for (_, info) in Disputes::<T>::iter() {
				match &info.challenger {
					Some(who) => {
						let b = bonds.entry(who.clone()).or_default();
						*b = b.saturating_add(info.bond);
					},
					None => ensure!(info.bond.is_zero(), "bond recorded without a challenger"),
				}
			}
			for (who, bond) in bonds {
				let held = T::Currency::balance_on_hold(&HoldReason::ChallengeBond.into(), &who);
				ensure!(held == bond, "held challenge bonds differ from the recorded bonds");
			}
			Ok(())
		}

		#[cfg(any(feature = "try-runtime", test))]
		fn check_tallies() -> Result<(), sp_runtime::TryRuntimeError> {
			let now = frame_system::Pallet::<T>::block_number();
			let mut queued = 0usize;
			for (at, queue) in Tallies::<T>::iter() {
				ensure!(!queue.is_empty(), "empty tally queue kept");
				ensure!(at > now, "tally queue of a past block");
				for request in queue.iter() {
					queued = queued.saturating_add(1);
					let info = Disputes::<T>::get(request).ok_or("queued tally without dispute")?;
					ensure!(info.tally_at == at, "dispute queued in another block than tally_at");
				}
			}
			let mut open = 0usize;
			for (request, info) in Disputes::<T>::iter() {
				open = open.saturating_add(1);
				ensure!(info.tally_at >= info.reveal_end, "tally before the reveal end");
				ensure!(info.reveal_end > info.commit_end, "empty reveal phase");
				ensure!(
					Tallies::<T>::get(info.tally_at).contains(&request),
					"open dispute without a scheduled tally"
				);
			}
			ensure!(open == queued, "a dispute is queued twice");
			Ok(())
		}

		#[cfg(any(feature = "try-runtime", test))]
		fn check_juries() -> Result<(), sp_runtime::TryRuntimeError> {
			for (_, info) in Disputes::<T>::iter() {
				ensure!(!info.accused.is_empty(), "dispute without candidates");
				ensure!(!info.jurors.is_empty(), "dispute with an empty jury stored");
				for (i, juror) in info.jurors.iter().enumerate() {
					ensure!(
						!info.accused.contains(&juror.provider),
						"accused provider on the jury"
					);
					ensure!(
						info.challenger.as_ref() != Some(&juror.provider),
						"challenger on the jury"
					);
					ensure!(
						!info
							.jurors
							.iter()
							.skip(i.saturating_add(1))
							.any(|j| j.provider == juror.provider),
						"juror seated twice"
					);
					if let Some(reveal) = &juror.reveal {
						ensure!(juror.commitment.is_some(), "reveal without commitment");
						ensure!(
							reveal.verdicts.len() == info.accused.len(),
							"verdict count differs from candidates"
						);
					}
				}
			}
			for (request, _, kept) in JuryOutputs::<T>::iter() {
				let info = Disputes::<T>::get(request).ok_or("kept output of a closed dispute")?;
				ensure!(
					info.jurors.iter().any(|j| j.provider == kept.juror && j.reveal.is_some()),
					"kept output of a juror who did not reveal"
				);
			}
			Ok(())
		}
	}

	#[deny(clippy::expect_used)]
	impl<T: Config> DisputeOpener<T::AccountId> for Pallet<T> {
		/// Open a dispute without bond, raised by an auditor or by nobody; nothing changes on
		/// error.
		fn open(
			request: RequestId,
			subject: DisputeSubject<T::AccountId>,
			raised_by: Option<T::AccountId>,
		) -> DispatchResult {
			frame_support::storage::with_storage_layer(|| {
				Self::do_open(request, raised_by, Zero::zero(), subject)
			})
		}
	}
}
