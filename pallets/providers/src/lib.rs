//! # Providers (pallet-providers)
//!
//! ## Overview
//!
//! Inference providers put stake at risk before they are trusted with requests. A provider
//! registers with a self-bond, a commission, the models it serves and an executor key; any
//! token holder may delegate to it. Rewards are split commission-first, then pro rata to all
//! active stake; slashes hit the self-bond and every delegation, including stake still
//! unbonding, by the same fraction. Selection of executors is stake-weighted and deterministic
//! from a seed the caller passes.
//!
//! ## Executor keys
//!
//! A provider's node signs results, receipts and jury votes with its *executor key*, a
//! secp256k1 key whose account is `blake2_256(compressed public key)`. Whoever names a key in
//! [`Pallet::register_provider`] or [`Pallet::set_executor`] proves that it holds it: the key's
//! signature over [`verity_primitives::executor_pop_message`]`(genesis hash, provider)`
//! (`blake2_256(b"verity/executor-pop/v1" ‖ genesis hash ‖ SCALE(provider))`), checked by
//! `Config::ExecutorSignatures`. Without it anybody could name somebody else's key: have that
//! key's results count for itself, or keep the key's owner from registering with it. The
//! provider's account in the message makes a proof worthless to anyone else; the genesis hash,
//! on any other chain. A key serves one provider at a time ([`Executors`] is the reverse
//! index). Genesis providers are trusted and give no proof.
//!
//! [`Pallet::set_executor`] replaces a (leaked) key at once, also while the provider is
//! leaving: the old key is revoked in the same call and can post nothing more, not even for
//! the assignments it already had (pallet-inference checks on every submission that the
//! posting key is still its provider's); those slots run to their deadline like any missed
//! one. Rotate when no assignment is open (`chill`, then wait `ResultDeadline` blocks) to
//! miss none.
//!
//! ## Terms and accounting
//!
//! - *Pool*: every provider has an *active pool* ([`types::Pool`]) of points backed by a
//!   balance. A staker (the provider itself or a delegator) owns points in it, recorded in its
//!   [`types::StakeLedger`]. A slash lowers the pool's balance only, so each staker's value
//!   (`points * balance / total points`) drops by the same fraction without touching any
//!   ledger: slashing is O(1) in the number of delegators.
//! - *Unbonding buckets*: unbonded stake moves into a per-provider pool keyed by *era*
//!   (`ceil((now + UnbondingPeriod) / span)`, `span = ceil(UnbondingPeriod / UnbondingBuckets)`)
//!   and becomes withdrawable at block `era * span >= now + UnbondingPeriod`. A slash at `now`
//!   hits the active pool and each bucket with `era * span > now`: at most
//!   `UnbondingBuckets + 2` buckets, a `Config` constant, never the number of delegators.
//! - *Rewards*: a reward-per-point accumulator (`FixedU128`, floor-rounded) per provider;
//!   each ledger keeps the accumulator value at its last settlement. Paying a reward is O(1).
//!   Unbonding stake earns nothing.
//! - *Funds*: all stake is held under [`HoldReason::Stake`] on the pallet account (transferred
//!   there from the staker), so a slash moves or burns one held amount. Unclaimed rewards are
//!   free balance of the same account. The pallet account is endowed with the existential
//!   deposit at genesis so holds and transfers into it never hit the existential deposit.
//!
//! ## Rounding (who absorbs dust)
//!
//! - Joining a pool issues points rounded down; leaving burns points rounded up: rounding
//!   always favours the stakers who stay.
//! - Whoever redeems a pool's last points takes its whole balance: no dust stays in a pool.
//! - A slash takes `fraction.mul_floor(balance)` from each pool: stakers never lose more than
//!   the exact fraction; summed over pools the slashed amount equals what is moved or burned,
//!   exactly. Slashes compose multiplicatively, so their order changes the result by at most
//!   one unit per pool per slash (rounding), never more.
//! - Reward dust (`rest - floor(rest / points) * points`) goes to the provider with its
//!   commission; per-ledger floor rounding leaves at most one unit per settlement in the
//!   pallet account.
//!
//! ## Safety of unbonding
//!
//! `UnbondingPeriod` must exceed `MaxSlashDelay` (asserted in `integrity_test`): the longest
//! time, derived by the runtime from the other pallets' windows and queue spill-overs, between
//! the moment stake backs an assignment and the slash that assignment can cause. Stake cannot
//! leave before any result it backed can be challenged and judged.
//!
//! ## Invariants (checked by `do_try_state`)
//!
//! - The balance held for `Stake` on the pallet account equals the sum of all active pools and
//!   unbonding buckets.
//! - Points add up: the ledgers' points equal each active pool's points, and their unlocking
//!   chunks equal each bucket's points; a pool without points has no balance.
//! - The pallet account's free balance covers the existential deposit plus every unclaimed
//!   reward and commission.
//! - The model index lists exactly the non-leaving providers under each model they serve;
//!   the executor index maps exactly every provider's current executor key back to it (a
//!   rotated-away key is in it no more).

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

pub mod traits;
pub mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use pallet::*;
pub use traits::{ExecutorSelection, JurySelection, Rewards, Slash};
pub use types::*;
pub use weights::WeightInfo;

/// The largest delegator count the benchmarks measure `delegate` and `slash` at. Neither
/// iterates delegators (per-share accounting) and their measured weights are flat in the count,
/// which is unbounded; dispatch weights charge the figure measured at this count.
pub const BENCHMARKED_DELEGATORS: u32 = 1_000;

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
			tokens::{Fortitude, Precision, Preservation, Restriction},
		},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use sp_core::H256;
	use sp_runtime::{
		traits::{AccountIdConversion, Bounded, Saturating, Zero},
		FixedPointNumber, FixedU128, Perbill, SaturatedConversion,
	};
	use verity_primitives::{
		ExecutorSignature, ExecutorSignatureVerifier, ModelId, ModelRegistry, Slashed,
	};

	/// The balance type of the currency.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A provider record with this runtime's bounds.
	pub type ProviderInfoOf<T> = ProviderInfo<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		<T as Config>::MaxModelsPerProvider,
	>;
	/// A stake ledger with this runtime's bounds.
	pub type StakeLedgerOf<T> = StakeLedger<BalanceOf<T>, <T as Config>::MaxUnlockingChunks>;
	/// The models a provider serves.
	pub type ModelsOf<T> = BoundedVec<ModelId, <T as Config>::MaxModelsPerProvider>;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The staking currency.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Where models are looked up (served models must be registered and active).
		type Models: ModelRegistry<Self::AccountId, BalanceOf<Self>>;

		/// Id of the account holding all stake and unclaimed rewards.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Smallest self-bond a provider registers with and keeps while registered.
		#[pallet::constant]
		type MinSelfBond: Get<BalanceOf<Self>>;

		/// Smallest delegation (and smallest remainder after a partial undelegation). At
		/// least the existential deposit, so every position is worth keeping.
		#[pallet::constant]
		type MinDelegation: Get<BalanceOf<Self>>;

		/// Smallest active stake (self-bond + delegations) for a provider to be selected.
		/// Non-zero.
		#[pallet::constant]
		type MinStake: Get<BalanceOf<Self>>;

		/// Most models one provider serves.
		#[pallet::constant]
		type MaxModelsPerProvider: Get<u32>;

		/// Most providers indexed under one model (bounds selection).
		#[pallet::constant]
		type MaxProvidersPerModel: Get<u32>;

		/// Most distinct unbonding buckets one ledger can wait on.
		#[pallet::constant]
		type MaxUnlockingChunks: Get<u32>;

		/// Blocks unbonded stake stays slashable. Must exceed `MaxSlashDelay`.
		#[pallet::constant]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;

		/// Number of unbonding buckets per unbonding period (granularity of unlock times and
		/// bound on the work of a slash). Non-zero.
		#[pallet::constant]
		type UnbondingBuckets: Get<u32>;

		/// The longest time from an assignment to the last slash it can cause (result deadline,
		/// challenge window, dispute and every queue spill-over in between; the runtime derives
		/// it from pallet-inference's and pallet-disputes' bounds).
		#[pallet::constant]
		type MaxSlashDelay: Get<BlockNumberFor<Self>>;

		/// Checks proofs of possession of executor keys: a signature by the executor key over
		/// [`verity_primitives::executor_pop_message`] (in the runtime: secp256k1 recovery to
		/// the executor account, as receipts are checked).
		type ExecutorSignatures: ExecutorSignatureVerifier<Self::AccountId>;

		/// Weights of the calls and trait functions.
		type WeightInfo: WeightInfo;

		/// Makes models active and executor keys with their proofs for benchmarks (e.g. with
		/// `pallet_models::Pallet::insert_active_model_for_benchmarks`).
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// Benchmark setup the pallet cannot do generically.
	#[cfg(feature = "runtime-benchmarks")]
	pub trait BenchmarkHelper<AccountId> {
		/// Make `model` registered and active in `Config::Models`.
		fn activate_model(owner: &AccountId, model: ModelId);

		/// Executor key number `i` (distinct keys for distinct `i`, never a benchmark
		/// `account`) as an account, with its signature over `message` that
		/// `Config::ExecutorSignatures` accepts.
		fn executor(i: u32, message: &[u8; 32]) -> (AccountId, ExecutorSignature);
	}

	/// Reasons this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// Stake of providers and delegators, held on the pallet account.
		Stake,
	}

	/// Registered providers.
	#[pallet::storage]
	pub type Providers<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, ProviderInfoOf<T>>;

	/// Stake ledgers by provider and staker.
	#[pallet::storage]
	pub type Stakes<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Blake2_128Concat,
		T::AccountId,
		StakeLedgerOf<T>,
	>;

	/// Unbonding buckets by provider and era.
	#[pallet::storage]
	pub type UnbondingPools<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, u32, Pool<BalanceOf<T>>>;

	/// Non-leaving providers serving each model (the selection index).
	#[pallet::storage]
	pub type ModelProviders<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		ModelId,
		BoundedVec<T::AccountId, T::MaxProvidersPerModel>,
		ValueQuery,
	>;

	/// Provider of each executor key.
	#[pallet::storage]
	pub type Executors<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, T::AccountId>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A provider registered with `bond` self-stake.
		ProviderRegistered { provider: T::AccountId, executor: T::AccountId, bond: BalanceOf<T> },
		/// `staker` added `amount` to `provider`'s active stake (self-bond or delegation).
		Bonded { provider: T::AccountId, staker: T::AccountId, amount: BalanceOf<T> },
		/// `staker` moved `amount` of its stake with `provider` into unbonding, withdrawable
		/// from block `unlock_at` (slashable until then).
		Unbonded {
			provider: T::AccountId,
			staker: T::AccountId,
			amount: BalanceOf<T>,
			unlock_at: BlockNumberFor<T>,
		},
		/// `staker` withdrew `amount` of matured unbonding stake.
		Withdrawn { provider: T::AccountId, staker: T::AccountId, amount: BalanceOf<T> },
		/// `provider` received a reward of `amount`, of which `commission` went to it first.
		Rewarded { provider: T::AccountId, amount: BalanceOf<T>, commission: BalanceOf<T> },
		/// `staker` was paid `amount` of rewards (and commission, for the provider).
		Claimed { provider: T::AccountId, staker: T::AccountId, amount: BalanceOf<T> },
		/// `fraction` of `provider`'s active and unbonding stake was taken and burned: `amount`
		/// in total, `own` of it from the provider's own active stake.
		Slashed {
			provider: T::AccountId,
			fraction: Perbill,
			amount: BalanceOf<T>,
			own: BalanceOf<T>,
		},
		/// The provider now serves `models`.
		ModelsUpdated { provider: T::AccountId, models: ModelsOf<T> },
		/// `model`'s provider list was full and `by` had more stake than `provider`, the
		/// weakest in it: `provider` no longer serves `model`.
		DisplacedFromModel { provider: T::AccountId, model: ModelId, by: T::AccountId },
		/// The provider's executor key changed from `old` (revoked at once) to `new`.
		ExecutorChanged { provider: T::AccountId, old: T::AccountId, new: T::AccountId },
		/// The provider's commission changed.
		CommissionUpdated { provider: T::AccountId, commission: Perbill },
		/// The provider paused; it is not selected.
		Chilled { provider: T::AccountId },
		/// The provider resumed; it may be selected.
		Unchilled { provider: T::AccountId },
		/// The provider deregistered; its self-bond is unbonding; delegators should undelegate.
		Deregistered { provider: T::AccountId },
		/// The last staker of a leaving provider withdrew; its record was removed.
		ProviderRemoved { provider: T::AccountId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The caller is already a provider (or still leaving).
		AlreadyProvider,
		/// No such provider.
		ProviderNotFound,
		/// The provider is leaving and accepts no new stake or changes.
		ProviderLeaving,
		/// The provider is already chilled.
		AlreadyChilled,
		/// The provider is not chilled.
		NotChilled,
		/// The self-bond would be below `MinSelfBond`.
		BondTooLow,
		/// The delegation, or what remains of it, would be below `MinDelegation`.
		DelegationTooLow,
		/// The amount is zero.
		ZeroAmount,
		/// A served model is not registered and active.
		ModelNotActive,
		/// The same model is listed twice.
		DuplicateModel,
		/// A model already has `MaxProvidersPerModel` providers, none of them with less
		/// eligible stake than the caller.
		TooManyProvidersForModel,
		/// The executor key is already some provider's key (the caller's own included).
		ExecutorInUse,
		/// The executor key's signature over `executor_pop_message(genesis hash, caller)` is
		/// missing or wrong: the caller has not shown that it holds the key.
		InvalidExecutorProof,
		/// The caller has no stake with this provider.
		NotStaking,
		/// The provider must use `bond_more`/`unbond`/`deregister` for its own stake.
		ProviderSelfStake,
		/// The ledger already waits on `MaxUnlockingChunks` buckets.
		TooManyUnlockingChunks,
		/// The pool was slashed to zero while points remain; it takes no new stake.
		PoolDepleted,
		/// No unbonding stake is withdrawable yet.
		NothingToWithdraw,
		/// No rewards to claim.
		NothingToClaim,
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// `(provider, self-bond, commission, models, executor)`. Models are not checked
		/// against the registry at genesis (selection checks them anyway), and executor keys
		/// need no proof of possession: genesis is trusted.
		#[allow(clippy::type_complexity)]
		pub providers: Vec<(T::AccountId, BalanceOf<T>, Perbill, Vec<ModelId>, T::AccountId)>,
		/// `(delegator, provider, amount)`.
		pub delegations: Vec<(T::AccountId, T::AccountId, BalanceOf<T>)>,
	}

	#[pallet::genesis_build]
	#[deny(clippy::expect_used)]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			Pallet::<T>::ensure_pallet_account();
			for (provider, bond, commission, models, executor) in &self.providers {
				let models = ModelsOf::<T>::truncate_from(models.clone());
				if let Err(e) =
					Pallet::<T>::do_register(provider, *bond, *commission, models, executor, false)
				{
					panic!("pallet-providers genesis: provider {provider:?}: {e:?}");
				}
			}
			for (delegator, provider, amount) in &self.delegations {
				if let Err(e) = Pallet::<T>::do_delegate(provider, delegator, *amount) {
					panic!("pallet-providers genesis: delegation {delegator:?}: {e:?}");
				}
			}
		}
	}

	#[pallet::hooks]
	#[deny(clippy::expect_used)]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				T::UnbondingPeriod::get() > T::MaxSlashDelay::get(),
				"UnbondingPeriod must exceed MaxSlashDelay"
			);
			assert!(T::UnbondingBuckets::get() > 0, "UnbondingBuckets must be non-zero");
			assert!(!T::MinStake::get().is_zero(), "MinStake must be non-zero");
			assert!(
				T::MinDelegation::get() >= T::Currency::minimum_balance(),
				"MinDelegation must be at least the existential deposit"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	/// The read API: what wallets, clients and the node's RPC ask about providers and stake.
	#[pallet::view_functions]
	#[deny(clippy::expect_used)]
	impl<T: Config> Pallet<T> {
		/// Provider `who` (`None`: not registered, or gone after leaving).
		pub fn provider(who: T::AccountId) -> Option<ProviderView<T::AccountId, BalanceOf<T>>> {
			let info = Providers::<T>::get(&who)?;
			Some(ProviderView {
				eligible: Self::is_eligible(&who, &info),
				self_bond: Self::stake_of(&who, &who),
				executor: info.executor,
				commission: info.commission,
				models: info.models.into_inner(),
				status: info.status,
				active_stake: info.pool.balance,
				stakers: info.stakers,
				commission_pending: info.commission_pending,
			})
		}

		/// The providers indexed for `model`: active and chilled ones (not leaving), in index
		/// order, with their active stake and whether selection considers them now.
		pub fn providers_of(model: ModelId) -> Vec<ModelProvider<T::AccountId, BalanceOf<T>>> {
			ModelProviders::<T>::get(model)
				.into_iter()
				.filter_map(|provider| {
					let info = Providers::<T>::get(&provider)?;
					Some(ModelProvider {
						eligible: Self::is_eligible(&provider, &info),
						active_stake: info.pool.balance,
						provider,
					})
				})
				.collect()
		}

		/// `staker`'s position with `provider` (`None`: it has none).
		pub fn stake(
			provider: T::AccountId,
			staker: T::AccountId,
		) -> Option<StakeView<BalanceOf<T>, BlockNumberFor<T>>> {
			let ledger = Stakes::<T>::get(&provider, &staker)?;
			let unbonding = ledger
				.unlocking
				.iter()
				.map(|chunk| {
					let pool = UnbondingPools::<T>::get(&provider, chunk.era).unwrap_or_default();
					(pool.points_to_balance(chunk.points), Self::era_start(chunk.era))
				})
				.collect();
			Some(StakeView {
				active: Self::stake_of(&provider, &staker),
				pending_rewards: Self::pending_rewards(&provider, &staker),
				unbonding,
			})
		}
	}

	#[pallet::call]
	#[deny(clippy::expect_used)]
	impl<T: Config> Pallet<T> {
		/// Become a provider with `bond` self-stake (moved to the pallet account and held),
		/// `commission`, the `models` served (each registered and active) and the `executor`
		/// key its worker signs results with. `executor_proof` is the executor key's signature
		/// over [`Pallet::executor_proof_message`] of the caller (see the crate docs).
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_provider(models.len() as u32).saturating_add(Pallet::<T>::index_weight(models.len() as u32)))]
		pub fn register_provider(
			origin: OriginFor<T>,
			bond: BalanceOf<T>,
			commission: Perbill,
			models: ModelsOf<T>,
			executor: T::AccountId,
			executor_proof: ExecutorSignature,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::check_executor_proof(&who, &executor, &executor_proof)?;
			Self::do_register(&who, bond, commission, models, &executor, true)
		}

		/// Add `amount` to the caller's own self-bond.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::bond_more())]
		pub fn bond_more(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = Providers::<T>::get(&who).ok_or(Error::<T>::ProviderNotFound)?;
			ensure!(info.status != ProviderStatus::Leaving, Error::<T>::ProviderLeaving);
			Self::do_bond(&who, &who, amount, info)
		}

		/// Start unbonding `amount` of the caller's self-bond; what remains must stay at least
		/// `MinSelfBond` (use `deregister` to leave).
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::unbond())]
		pub fn unbond(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = Providers::<T>::get(&who).ok_or(Error::<T>::ProviderNotFound)?;
			ensure!(info.status != ProviderStatus::Leaving, Error::<T>::ProviderLeaving);
			Self::do_unbond(&who, &who, amount, info, T::MinSelfBond::get(), false)
		}

		/// Delegate `amount` to `provider` (moved to the pallet account and held).
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::delegate(BENCHMARKED_DELEGATORS))]
		pub fn delegate(
			origin: OriginFor<T>,
			provider: T::AccountId,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(who != provider, Error::<T>::ProviderSelfStake);
			Self::do_delegate(&provider, &who, amount)
		}

		/// Start unbonding `amount` of the caller's delegation to `provider`; an amount at
		/// least the delegation's value unbonds all of it. A partial remainder must stay at
		/// least `MinDelegation`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::undelegate())]
		pub fn undelegate(
			origin: OriginFor<T>,
			provider: T::AccountId,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(who != provider, Error::<T>::ProviderSelfStake);
			let info = Providers::<T>::get(&provider).ok_or(Error::<T>::ProviderNotFound)?;
			Self::do_unbond(&provider, &who, amount, info, T::MinDelegation::get(), true)
		}

		/// Withdraw the caller's matured unbonding stake with `provider`. When nothing is left
		/// the ledger is closed and its unclaimed rewards paid; when the last staker of a
		/// leaving provider leaves, the provider record is removed and its commission paid.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::withdraw(T::MaxUnlockingChunks::get()))]
		pub fn withdraw(origin: OriginFor<T>, provider: T::AccountId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw(&provider, &who)
		}

		/// Pay the caller's unclaimed rewards with `provider` (and, for the provider itself,
		/// its commission).
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::claim())]
		pub fn claim(origin: OriginFor<T>, provider: T::AccountId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_claim(&provider, &who)
		}

		/// Replace the models the caller serves (each registered and active).
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::set_models(models.len() as u32).saturating_add(Pallet::<T>::index_weight(models.len() as u32)))]
		pub fn set_models(origin: OriginFor<T>, models: ModelsOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Providers::<T>::get(&who).ok_or(Error::<T>::ProviderNotFound)?;
			ensure!(info.status != ProviderStatus::Leaving, Error::<T>::ProviderLeaving);
			Self::check_models(&models)?;
			Self::unindex_models(&who, &info.models);
			Self::index_models(&who, info.pool.balance, &models)?;
			info.models = models.clone();
			Providers::<T>::insert(&who, info);
			Self::deposit_event(Event::ModelsUpdated { provider: who, models });
			Ok(())
		}

		/// Replace the caller's executor key with `executor`, for which `executor_proof` is the
		/// key's signature over [`Pallet::executor_proof_message`] of the caller. The old key
		/// is revoked at once, open assignments included (see the crate docs); allowed while
		/// leaving, so that a leaked key can be revoked whatever the provider's status.
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::set_executor())]
		pub fn set_executor(
			origin: OriginFor<T>,
			executor: T::AccountId,
			executor_proof: ExecutorSignature,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Providers::<T>::get(&who).ok_or(Error::<T>::ProviderNotFound)?;
			ensure!(!Executors::<T>::contains_key(&executor), Error::<T>::ExecutorInUse);
			Self::check_executor_proof(&who, &executor, &executor_proof)?;
			let old = core::mem::replace(&mut info.executor, executor.clone());
			Executors::<T>::remove(&old);
			Executors::<T>::insert(&executor, &who);
			Providers::<T>::insert(&who, info);
			Self::deposit_event(Event::ExecutorChanged { provider: who, old, new: executor });
			Ok(())
		}

		/// Change the caller's commission; it applies to rewards paid from now on.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_commission())]
		pub fn set_commission(origin: OriginFor<T>, commission: Perbill) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Providers::<T>::get(&who).ok_or(Error::<T>::ProviderNotFound)?;
			ensure!(info.status != ProviderStatus::Leaving, Error::<T>::ProviderLeaving);
			info.commission = commission;
			Providers::<T>::insert(&who, info);
			Self::deposit_event(Event::CommissionUpdated { provider: who, commission });
			Ok(())
		}

		/// Pause: the caller is not selected until `unchill`.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::chill())]
		pub fn chill(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_chilled(who, true)
		}

		/// Resume after `chill`.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::unchill())]
		pub fn unchill(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_chilled(who, false)
		}

		/// Leave: stop being selected, unbond the whole self-bond. The record stays (and its
		/// stake slashable) until every staker has withdrawn.
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::deregister(T::MaxModelsPerProvider::get()))]
		pub fn deregister(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Providers::<T>::get(&who).ok_or(Error::<T>::ProviderNotFound)?;
			ensure!(info.status != ProviderStatus::Leaving, Error::<T>::ProviderLeaving);
			Self::unindex_models(&who, &info.models);
			info.status = ProviderStatus::Leaving;
			let has_stake = Stakes::<T>::get(&who, &who).is_some_and(|l| !l.points.is_zero());
			if has_stake {
				// Unbond everything (`max_value` is at least the ledger's value).
				Self::do_unbond(
					&who,
					&who,
					<BalanceOf<T> as Bounded>::max_value(),
					info,
					Zero::zero(),
					false,
				)?;
			} else {
				Providers::<T>::insert(&who, info);
			}
			Self::deposit_event(Event::Deregistered { provider: who });
			Ok(())
		}
	}

	#[deny(clippy::expect_used)]
	impl<T: Config> Pallet<T> {
		/// The account holding all stake (held) and unclaimed rewards (free).
		pub fn account_id() -> T::AccountId {
			T::PalletId::get().into_account_truncating()
		}

		/// Endow the pallet account with the existential deposit (genesis; idempotent).
		pub fn ensure_pallet_account() {
			let acc = Self::account_id();
			let ed = T::Currency::minimum_balance();
			let free = T::Currency::balance(&acc);
			if free < ed {
				let _ = T::Currency::mint_into(&acc, ed.saturating_sub(free));
			}
		}

		/// What an executor key signs to let `provider` name it:
		/// [`verity_primitives::executor_pop_message`] with this chain's genesis hash.
		pub fn executor_proof_message(provider: &T::AccountId) -> [u8; 32] {
			let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
			verity_primitives::executor_pop_message(genesis.as_ref(), provider)
		}

		/// Whether `proof` is `executor`'s signature over `provider`'s
		/// [`Pallet::executor_proof_message`].
		fn check_executor_proof(
			provider: &T::AccountId,
			executor: &T::AccountId,
			proof: &ExecutorSignature,
		) -> DispatchResult {
			let message = Self::executor_proof_message(provider);
			ensure!(
				T::ExecutorSignatures::verify(executor, &message, proof),
				Error::<T>::InvalidExecutorProof
			);
			Ok(())
		}

		/// Blocks per unbonding bucket: `ceil(UnbondingPeriod / UnbondingBuckets)`, at least 1.
		pub fn bucket_span() -> u32 {
			let period: u32 = T::UnbondingPeriod::get().saturated_into();
			period.div_ceil(T::UnbondingBuckets::get().max(1)).max(1)
		}

		/// Bucket for stake unbonded at `now`.
		pub fn unlock_era(now: BlockNumberFor<T>) -> u32 {
			let now: u32 = now.saturated_into();
			let period: u32 = T::UnbondingPeriod::get().saturated_into();
			now.saturating_add(period).div_ceil(Self::bucket_span())
		}

		/// First block of `era`.
		pub fn era_start(era: u32) -> BlockNumberFor<T> {
			era.saturating_mul(Self::bucket_span()).into()
		}

		/// Eras still slashable at `now` (`era * span > now`): at most `UnbondingBuckets + 2`.
		pub fn slashable_eras(now: BlockNumberFor<T>) -> core::ops::RangeInclusive<u32> {
			let n: u32 = now.saturated_into();
			n.checked_div(Self::bucket_span()).unwrap_or(0).saturating_add(1)
				..=Self::unlock_era(now)
		}

		/// `chill` (`chilled`) or `unchill` `who`: switch between `Active` and `Chilled`.
		fn do_set_chilled(who: T::AccountId, chilled: bool) -> DispatchResult {
			let mut info = Providers::<T>::get(&who).ok_or(Error::<T>::ProviderNotFound)?;
			let (from, to, already) = match chilled {
				true => {
					(ProviderStatus::Active, ProviderStatus::Chilled, Error::<T>::AlreadyChilled)
				},
				false => (ProviderStatus::Chilled, ProviderStatus::Active, Error::<T>::NotChilled),
			};
			ensure!(info.status != ProviderStatus::Leaving, Error::<T>::ProviderLeaving);
			ensure!(info.status == from, already);
			info.status = to;
			Providers::<T>::insert(&who, info);
			Self::deposit_event(match chilled {
				true => Event::Chilled { provider: who },
				false => Event::Unchilled { provider: who },
			});
			Ok(())
		}

		/// Active stake a staker holds with a provider (0 if none).
		pub fn stake_of(provider: &T::AccountId, staker: &T::AccountId) -> BalanceOf<T> {
			match (Providers::<T>::get(provider), Stakes::<T>::get(provider, staker)) {
				(Some(info), Some(l)) => info.pool.points_to_balance(l.points),
				_ => Zero::zero(),
			}
		}

		/// Rewards a staker could claim now (settled + accrued).
		pub fn pending_rewards(provider: &T::AccountId, staker: &T::AccountId) -> BalanceOf<T> {
			match (Providers::<T>::get(provider), Stakes::<T>::get(provider, staker)) {
				(Some(info), Some(l)) => Self::accrued(&info, &l),
				_ => Zero::zero(),
			}
		}

		fn accrued(info: &ProviderInfoOf<T>, l: &StakeLedgerOf<T>) -> BalanceOf<T> {
			let per_point = info.reward_per_point.saturating_sub(l.reward_snapshot);
			l.pending_rewards.saturating_add(per_point.saturating_mul_int(l.points))
		}

		/// Move accrued rewards into `pending_rewards` (before the ledger's points change).
		fn settle(info: &ProviderInfoOf<T>, l: &mut StakeLedgerOf<T>) {
			l.pending_rewards = Self::accrued(info, l);
			l.reward_snapshot = info.reward_per_point;
		}

		fn new_ledger(info: &ProviderInfoOf<T>) -> StakeLedgerOf<T> {
			StakeLedger {
				points: Zero::zero(),
				reward_snapshot: info.reward_per_point,
				pending_rewards: Zero::zero(),
				unlocking: BoundedVec::default(),
			}
		}

		fn check_models(models: &ModelsOf<T>) -> DispatchResult {
			for (i, m) in models.iter().enumerate() {
				ensure!(T::Models::is_active(m), Error::<T>::ModelNotActive);
				ensure!(
					!models.iter().skip(i.saturating_add(1)).any(|n| n == m),
					Error::<T>::DuplicateModel
				);
			}
			Ok(())
		}

		/// List `who` (with active stake `stake`) under each of `models`. A full list takes
		/// `who` in place of its weakest provider (least eligible stake; an ineligible one
		/// counts as none) if `who` has more: otherwise sock puppets at the minimum stake could
		/// fill every slot of a model and keep honest providers, and their stake, out of its
		/// executions and juries. Squatting a model thus costs more stake than any newcomer
		/// brings.
		fn index_models(
			who: &T::AccountId,
			stake: BalanceOf<T>,
			models: &ModelsOf<T>,
		) -> DispatchResult {
			for m in models {
				let displaced = ModelProviders::<T>::try_mutate(m, |list| {
					if list.contains(who) || list.try_push(who.clone()).is_ok() {
						return Ok(None);
					}
					let weakest = list
						.iter_mut()
						.map(|p| {
							let w = Providers::<T>::get(&*p)
								.filter(|info| Self::is_eligible(p, info))
								.map_or_else(Zero::zero, |info| info.pool.balance);
							(p, w)
						})
						.min_by_key(|(_, w)| *w);
					match weakest {
						Some((slot, w)) if stake > w => {
							Ok(Some(core::mem::replace(slot, who.clone())))
						},
						_ => Err(Error::<T>::TooManyProvidersForModel),
					}
				})?;
				if let Some(out) = displaced {
					Providers::<T>::mutate(&out, |info| {
						if let Some(info) = info {
							info.models.retain(|n| n != m);
						}
					});
					Self::deposit_event(Event::DisplacedFromModel {
						provider: out,
						model: *m,
						by: who.clone(),
					});
				}
			}
			Ok(())
		}

		/// Worst-case weight of indexing `m` models on top of the benchmarked calls (which
		/// index into lists with room): every list full, each provider in it read, one
		/// displaced provider written per model.
		pub fn index_weight(m: u32) -> Weight {
			let reads = T::MaxProvidersPerModel::get().saturating_mul(m);
			T::DbWeight::get().reads_writes(reads.into(), m.into())
		}

		fn unindex_models(who: &T::AccountId, models: &ModelsOf<T>) {
			for m in models {
				ModelProviders::<T>::mutate_exists(m, |maybe| {
					if let Some(list) = maybe {
						list.retain(|p| p != who);
						if list.is_empty() {
							*maybe = None;
						}
					}
				});
			}
		}

		pub(crate) fn do_register(
			who: &T::AccountId,
			bond: BalanceOf<T>,
			commission: Perbill,
			models: ModelsOf<T>,
			executor: &T::AccountId,
			check_models: bool,
		) -> DispatchResult {
			ensure!(!Providers::<T>::contains_key(who), Error::<T>::AlreadyProvider);
			ensure!(bond >= T::MinSelfBond::get(), Error::<T>::BondTooLow);
			ensure!(!Executors::<T>::contains_key(executor), Error::<T>::ExecutorInUse);
			if check_models {
				Self::check_models(&models)?;
			}
			Self::index_models(who, bond, &models)?;
			let info = ProviderInfo {
				executor: executor.clone(),
				commission,
				models,
				status: ProviderStatus::Active,
				pool: Pool::default(),
				reward_per_point: FixedU128::zero(),
				commission_pending: Zero::zero(),
				stakers: 0,
			};
			Executors::<T>::insert(executor, who);
			Self::do_bond(who, who, bond, info)?;
			Self::deposit_event(Event::ProviderRegistered {
				provider: who.clone(),
				executor: executor.clone(),
				bond,
			});
			Ok(())
		}

		pub(crate) fn do_delegate(
			provider: &T::AccountId,
			who: &T::AccountId,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			let info = Providers::<T>::get(provider).ok_or(Error::<T>::ProviderNotFound)?;
			ensure!(info.status != ProviderStatus::Leaving, Error::<T>::ProviderLeaving);
			// Small top-ups of an existing delegation are fine; a new one must be worth keeping.
			if !Stakes::<T>::contains_key(provider, who) {
				ensure!(amount >= T::MinDelegation::get(), Error::<T>::DelegationTooLow);
			}
			Self::do_bond(provider, who, amount, info)
		}

		/// Move `amount` from `who` into `provider`'s active pool.
		fn do_bond(
			provider: &T::AccountId,
			who: &T::AccountId,
			amount: BalanceOf<T>,
			mut info: ProviderInfoOf<T>,
		) -> DispatchResult {
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let points = info.pool.balance_to_points(amount).ok_or(Error::<T>::PoolDepleted)?;
			ensure!(!points.is_zero(), Error::<T>::ZeroAmount);
			let mut ledger = match Stakes::<T>::get(provider, who) {
				Some(l) => l,
				None => {
					info.stakers = info.stakers.saturating_add(1);
					Self::new_ledger(&info)
				},
			};
			T::Currency::transfer_and_hold(
				&HoldReason::Stake.into(),
				who,
				&Self::account_id(),
				amount,
				Precision::Exact,
				Preservation::Preserve,
				Fortitude::Polite,
			)?;
			Self::settle(&info, &mut ledger);
			ledger.points = ledger.points.saturating_add(points);
			info.pool.join(points, amount);
			Stakes::<T>::insert(provider, who, ledger);
			Providers::<T>::insert(provider, info);
			Self::deposit_event(Event::Bonded {
				provider: provider.clone(),
				staker: who.clone(),
				amount,
			});
			Ok(())
		}

		/// Move `amount` (or everything, when `amount` is at least the stake's value) of
		/// `who`'s stake into the current unbonding bucket. A partial remainder must be at
		/// least `min_remaining`; `allow_full` permits unbonding everything.
		fn do_unbond(
			provider: &T::AccountId,
			who: &T::AccountId,
			amount: BalanceOf<T>,
			mut info: ProviderInfoOf<T>,
			min_remaining: BalanceOf<T>,
			allow_full: bool,
		) -> DispatchResult {
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let mut ledger = Stakes::<T>::get(provider, who).ok_or(Error::<T>::NotStaking)?;
			ensure!(!ledger.points.is_zero(), Error::<T>::NotStaking);
			let value = info.pool.points_to_balance(ledger.points);
			let full = amount >= value;
			let (points, amount) = if full {
				ensure!(allow_full || min_remaining.is_zero(), Error::<T>::BondTooLow);
				(ledger.points, value)
			} else {
				let remaining = value.saturating_sub(amount);
				ensure!(
					remaining >= min_remaining,
					if allow_full { Error::<T>::DelegationTooLow } else { Error::<T>::BondTooLow }
				);
				(info.pool.points_for_balance(amount).min(ledger.points), amount)
			};
			let now = frame_system::Pallet::<T>::block_number();
			let era = Self::unlock_era(now);
			Self::settle(&info, &mut ledger);
			ledger.points = ledger.points.saturating_sub(points);
			info.pool.leave(points, amount);
			// Stake slashed to nothing has no value to wait for: its points are just burned.
			if !amount.is_zero() {
				let mut bucket = UnbondingPools::<T>::get(provider, era).unwrap_or_default();
				let bucket_points =
					bucket.balance_to_points(amount).ok_or(Error::<T>::PoolDepleted)?;
				match ledger.unlocking.iter_mut().find(|c| c.era == era) {
					Some(c) => c.points = c.points.saturating_add(bucket_points),
					None => ledger
						.unlocking
						.try_push(UnlockChunk { era, points: bucket_points })
						.map_err(|_| Error::<T>::TooManyUnlockingChunks)?,
				}
				bucket.join(bucket_points, amount);
				UnbondingPools::<T>::insert(provider, era, bucket);
			}
			Self::deposit_event(Event::Unbonded {
				provider: provider.clone(),
				staker: who.clone(),
				amount,
				unlock_at: Self::era_start(era),
			});
			Self::store_or_close(provider, who, ledger, info)
		}

		fn pay(to: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
			if amount.is_zero() {
				return Ok(());
			}
			T::Currency::transfer(&Self::account_id(), to, amount, Preservation::Preserve)?;
			Ok(())
		}

		pub(crate) fn do_withdraw(provider: &T::AccountId, who: &T::AccountId) -> DispatchResult {
			let mut ledger = Stakes::<T>::get(provider, who).ok_or(Error::<T>::NotStaking)?;
			let info = Providers::<T>::get(provider).ok_or(Error::<T>::ProviderNotFound)?;
			let now = frame_system::Pallet::<T>::block_number();
			let (matured, waiting): (Vec<UnlockChunk<BalanceOf<T>>>, Vec<_>) =
				ledger.unlocking.iter().copied().partition(|c| Self::era_start(c.era) <= now);
			ensure!(!matured.is_empty(), Error::<T>::NothingToWithdraw);
			let mut total = BalanceOf::<T>::zero();
			for chunk in &matured {
				let mut bucket = UnbondingPools::<T>::get(provider, chunk.era).unwrap_or_default();
				let value = bucket.points_to_balance(chunk.points);
				bucket.leave(chunk.points, value);
				total = total.saturating_add(value);
				if bucket.points.is_zero() {
					UnbondingPools::<T>::remove(provider, chunk.era);
				} else {
					UnbondingPools::<T>::insert(provider, chunk.era, bucket);
				}
			}
			// `waiting` is a subset of a bounded vector: it fits.
			ledger.unlocking = BoundedVec::truncate_from(waiting);
			if !total.is_zero() {
				T::Currency::transfer_on_hold(
					&HoldReason::Stake.into(),
					&Self::account_id(),
					who,
					total,
					Precision::Exact,
					Restriction::Free,
					Fortitude::Polite,
				)?;
			}
			Self::deposit_event(Event::Withdrawn {
				provider: provider.clone(),
				staker: who.clone(),
				amount: total,
			});
			Self::store_or_close(provider, who, ledger, info)
		}

		/// Store the ledger and provider, or, when the ledger holds nothing any more, pay its
		/// rewards and remove it (and remove a leaving provider whose last staker this was,
		/// paying its commission), so nothing stays behind.
		fn store_or_close(
			provider: &T::AccountId,
			who: &T::AccountId,
			mut ledger: StakeLedgerOf<T>,
			mut info: ProviderInfoOf<T>,
		) -> DispatchResult {
			if !ledger.points.is_zero() || !ledger.unlocking.is_empty() {
				Stakes::<T>::insert(provider, who, ledger);
				Providers::<T>::insert(provider, info);
				return Ok(());
			}
			Self::settle(&info, &mut ledger);
			Self::pay(who, ledger.pending_rewards)?;
			Stakes::<T>::remove(provider, who);
			info.stakers = info.stakers.saturating_sub(1);
			if info.status == ProviderStatus::Leaving && info.stakers == 0 {
				Self::pay(provider, info.commission_pending)?;
				Providers::<T>::remove(provider);
				Executors::<T>::remove(&info.executor);
				Self::deposit_event(Event::ProviderRemoved { provider: provider.clone() });
			} else {
				Providers::<T>::insert(provider, info);
			}
			Ok(())
		}

		pub(crate) fn do_claim(provider: &T::AccountId, who: &T::AccountId) -> DispatchResult {
			let mut info = Providers::<T>::get(provider).ok_or(Error::<T>::ProviderNotFound)?;
			let mut amount = BalanceOf::<T>::zero();
			let ledger = Stakes::<T>::get(provider, who).map(|mut l| {
				Self::settle(&info, &mut l);
				amount = core::mem::take(&mut l.pending_rewards);
				l
			});
			if who == provider {
				amount = amount.saturating_add(core::mem::take(&mut info.commission_pending));
			}
			ensure!(!amount.is_zero(), Error::<T>::NothingToClaim);
			Self::pay(who, amount)?;
			if let Some(l) = ledger {
				Stakes::<T>::insert(provider, who, l);
			}
			Providers::<T>::insert(provider, info);
			Self::deposit_event(Event::Claimed {
				provider: provider.clone(),
				staker: who.clone(),
				amount,
			});
			Ok(())
		}

		pub(crate) fn do_reward(
			payer: &T::AccountId,
			provider: &T::AccountId,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			let mut info = Providers::<T>::get(provider).ok_or(Error::<T>::ProviderNotFound)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			T::Currency::transfer(payer, &Self::account_id(), amount, Preservation::Expendable)?;
			let commission = info.commission.mul_floor(amount);
			let rest = amount.saturating_sub(commission);
			// `rest / points`, floor; with no active points everything goes to the provider.
			let per_point =
				FixedU128::checked_from_rational(rest, info.pool.points).unwrap_or_default();
			let distributed = per_point.saturating_mul_int(info.pool.points).min(rest);
			let to_provider = amount.saturating_sub(distributed);
			info.reward_per_point = info.reward_per_point.saturating_add(per_point);
			info.commission_pending = info.commission_pending.saturating_add(to_provider);
			Providers::<T>::insert(provider, info);
			Self::deposit_event(Event::Rewarded { provider: provider.clone(), amount, commission });
			Ok(())
		}

		pub(crate) fn do_slash(
			provider: &T::AccountId,
			fraction: Perbill,
		) -> Slashed<BalanceOf<T>> {
			let Some(mut info) = Providers::<T>::get(provider) else { return Slashed::default() };
			let now = frame_system::Pallet::<T>::block_number();
			let own_points =
				Stakes::<T>::get(provider, provider).map(|l| l.points).unwrap_or_default();
			let own = fraction.mul_floor(info.pool.points_to_balance(own_points));
			let mut total = info.pool.slash_amount(fraction);
			info.pool.balance = info.pool.balance.saturating_sub(total);
			let mut buckets = Vec::new();
			for era in Self::slashable_eras(now) {
				if let Some(mut bucket) = UnbondingPools::<T>::get(provider, era) {
					let take = bucket.slash_amount(fraction);
					bucket.balance = bucket.balance.saturating_sub(take);
					total = total.saturating_add(take);
					buckets.push((era, bucket));
				}
			}
			if total.is_zero() {
				return Slashed::default();
			}
			// Burned, never paid to anyone: a reporter may be the provider in disguise.
			let burned = T::Currency::burn_held(
				&HoldReason::Stake.into(),
				&Self::account_id(),
				total,
				Precision::Exact,
				Fortitude::Force,
			);
			if burned.ok() != Some(total) {
				frame_support::defensive!("stake held on the pallet account is short");
				return Slashed::default();
			}
			Providers::<T>::insert(provider, info);
			for (era, bucket) in buckets {
				UnbondingPools::<T>::insert(provider, era, bucket);
			}
			// `own` is part of the active pool's slash, so never above `total`.
			let own = own.min(total);
			Self::deposit_event(Event::Slashed {
				provider: provider.clone(),
				fraction,
				amount: total,
				own,
			});
			Slashed { total, own }
		}

		/// Whether `provider` may be selected for `model`'s requests now.
		pub fn is_eligible(provider: &T::AccountId, info: &ProviderInfoOf<T>) -> bool {
			let _ = provider;
			info.status == ProviderStatus::Active && info.pool.balance >= T::MinStake::get()
		}

		pub(crate) fn do_select(
			model: &ModelId,
			count: u32,
			seed: H256,
			exclude: &[T::AccountId],
		) -> Vec<T::AccountId> {
			let mut candidates = Self::candidates(model, exclude);
			let mut chosen = Vec::new();
			for round in 0..count {
				let total = candidates.iter().fold(0u128, |acc, (_, w)| acc.saturating_add(*w));
				match Self::pick(&candidates, total, seed, round) {
					Some(i) if i < candidates.len() => chosen.push(candidates.remove(i).0),
					_ => break,
				}
			}
			chosen
		}

		/// The eligible providers of `model` not in `exclude`, with their stake weights.
		/// Servable, not active: a retired model's open requests are still executed and judged
		/// (otherwise retiring it under a challenge would leave the jury empty).
		fn candidates(model: &ModelId, exclude: &[T::AccountId]) -> Vec<(T::AccountId, u128)> {
			if !T::Models::is_servable(model) {
				return Vec::new();
			}
			ModelProviders::<T>::get(model)
				.into_iter()
				.filter(|p| !exclude.contains(p))
				.filter_map(|p| {
					let info = Providers::<T>::get(&p)?;
					Self::is_eligible(&p, &info)
						.then(|| (p, info.pool.balance.saturated_into::<u128>()))
				})
				.collect()
		}

		/// The index in `candidates` (weights summing to `total`) that draw `round` of `seed`
		/// lands on, with probability proportional to weight; `None` when `total` is zero.
		fn pick(
			candidates: &[(T::AccountId, u128)],
			total: u128,
			seed: H256,
			round: u32,
		) -> Option<usize> {
			if total == 0 {
				return None;
			}
			let h = sp_io::hashing::blake2_256(&(seed, round).encode());
			let mut r = [0u8; 16];
			r.copy_from_slice(h.get(..16).unwrap_or(&[0u8; 16]));
			let mut target = u128::from_le_bytes(r).checked_rem(total).unwrap_or(0);
			for (i, (_, w)) in candidates.iter().enumerate() {
				if target < *w {
					return Some(i);
				}
				target = target.saturating_sub(*w);
			}
			None
		}

		/// Check every invariant of the pallet (see the crate docs).
		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			Self::check_holds()?;
			Self::check_points()?;
			Self::check_rewards()?;
			Self::check_index()
		}

		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		fn check_holds() -> Result<(), sp_runtime::TryRuntimeError> {
			let mut sum = BalanceOf::<T>::zero();
			for (_, info) in Providers::<T>::iter() {
				sum = sum.saturating_add(info.pool.balance);
			}
			for (_, _, bucket) in UnbondingPools::<T>::iter() {
				sum = sum.saturating_add(bucket.balance);
			}
			let held = T::Currency::balance_on_hold(&HoldReason::Stake.into(), &Self::account_id());
			ensure!(held == sum, "held stake differs from the sum of pools and buckets");
			Ok(())
		}

		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		fn check_points() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			for (provider, info) in Providers::<T>::iter() {
				let mut points = BalanceOf::<T>::zero();
				let mut stakers = 0u32;
				let mut unlocking: BTreeMap<u32, BalanceOf<T>> = BTreeMap::new();
				for (_, l) in Stakes::<T>::iter_prefix(&provider) {
					points = points.saturating_add(l.points);
					stakers = stakers.saturating_add(1);
					for c in l.unlocking.iter() {
						let e = unlocking.entry(c.era).or_default();
						*e = e.saturating_add(c.points);
					}
				}
				ensure!(points == info.pool.points, "ledger points differ from the pool's");
				ensure!(stakers == info.stakers, "staker count differs from ledgers");
				ensure!(
					!info.pool.points.is_zero() || info.pool.balance.is_zero(),
					"active pool has balance without points"
				);
				let mut buckets = 0usize;
				for (era, bucket) in UnbondingPools::<T>::iter_prefix(&provider) {
					buckets = buckets.saturating_add(1);
					let p = unlocking.get(&era).copied().unwrap_or_default();
					ensure!(p == bucket.points, "unlocking points differ from the bucket's");
					ensure!(!bucket.points.is_zero(), "empty bucket kept");
				}
				ensure!(buckets == unlocking.len(), "unlocking chunk without a bucket");
			}
			for (provider, _, _) in Stakes::<T>::iter() {
				ensure!(Providers::<T>::contains_key(&provider), "ledger of an unknown provider");
			}
			for (provider, _, _) in UnbondingPools::<T>::iter() {
				ensure!(Providers::<T>::contains_key(&provider), "bucket of an unknown provider");
			}
			Ok(())
		}

		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		fn check_rewards() -> Result<(), sp_runtime::TryRuntimeError> {
			let mut owed = T::Currency::minimum_balance();
			for (provider, info) in Providers::<T>::iter() {
				owed = owed.saturating_add(info.commission_pending);
				for (_, l) in Stakes::<T>::iter_prefix(&provider) {
					owed = owed.saturating_add(Self::accrued(&info, &l));
				}
			}
			let free = T::Currency::balance(&Self::account_id());
			ensure!(free >= owed, "unclaimed rewards exceed the pallet account's free balance");
			Ok(())
		}

		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		fn check_index() -> Result<(), sp_runtime::TryRuntimeError> {
			for (model, list) in ModelProviders::<T>::iter() {
				ensure!(!list.is_empty(), "empty index entry kept");
				for p in list.iter() {
					let info = Providers::<T>::get(p).ok_or("indexed provider unknown")?;
					ensure!(info.status != ProviderStatus::Leaving, "leaving provider indexed");
					ensure!(
						info.models.contains(&model),
						"provider indexed for a model it dropped"
					);
				}
			}
			for (provider, info) in Providers::<T>::iter() {
				ensure!(
					Executors::<T>::get(&info.executor).as_ref() == Some(&provider),
					"executor key does not map back"
				);
				if info.status != ProviderStatus::Leaving {
					for m in info.models.iter() {
						ensure!(
							ModelProviders::<T>::get(m).contains(&provider),
							"served model not indexed"
						);
					}
				}
			}
			for (executor, provider) in Executors::<T>::iter() {
				let info =
					Providers::<T>::get(&provider).ok_or("executor of an unknown provider")?;
				ensure!(info.executor == executor, "executor key no longer its provider's");
			}
			ensure!(
				Executors::<T>::iter().count() == Providers::<T>::iter().count(),
				"executor without provider"
			);
			Ok(())
		}
	}

	#[deny(clippy::expect_used)]
	impl<T: Config> Rewards<T::AccountId, BalanceOf<T>> for Pallet<T> {
		fn reward(
			payer: &T::AccountId,
			provider: &T::AccountId,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			frame_support::storage::with_storage_layer(|| Self::do_reward(payer, provider, amount))
		}
	}

	#[deny(clippy::expect_used)]
	impl<T: Config> Slash<T::AccountId, BalanceOf<T>> for Pallet<T> {
		fn slash(provider: &T::AccountId, fraction: Perbill) -> Slashed<BalanceOf<T>> {
			Self::do_slash(provider, fraction)
		}
	}

	#[deny(clippy::expect_used)]
	impl<T: Config> ExecutorSelection<T::AccountId> for Pallet<T> {
		fn select(
			model: &ModelId,
			count: u32,
			seed: H256,
			exclude: &[T::AccountId],
		) -> Vec<T::AccountId> {
			Self::do_select(model, count, seed, exclude)
		}

		/// Benchmarked with the most providers a model can have; the count drawn changes
		/// little (every provider's stake is read either way).
		fn select_weight() -> Weight {
			T::WeightInfo::select(T::MaxProvidersPerModel::get())
		}

		fn executor_of(provider: &T::AccountId) -> Option<T::AccountId> {
			Providers::<T>::get(provider).map(|i| i.executor)
		}

		fn provider_of(executor: &T::AccountId) -> Option<T::AccountId> {
			Executors::<T>::get(executor)
		}

		fn stake_weight(provider: &T::AccountId) -> u128 {
			Providers::<T>::get(provider).map_or(0, |i| i.pool.balance.saturated_into())
		}
	}

	/// Juries: everyone eligible when they fit, else seats drawn stake-weighted with
	/// replacement (see [`JurySelection::draw_jury`]). Drawing distinct jurors by stake and
	/// weighing their votes by stake again counts stake twice: one account with 45 % of a
	/// model's stake held the majority of 99.65 % of juries of seven (docs/security.md).
	#[deny(clippy::expect_used)]
	impl<T: Config> JurySelection<T::AccountId> for Pallet<T> {
		fn draw_jury(
			model: &ModelId,
			count: u32,
			seed: H256,
			exclude: &[T::AccountId],
		) -> Vec<(T::AccountId, u128)> {
			let candidates = Self::candidates(model, exclude);
			if candidates.len() <= count as usize {
				return candidates;
			}
			let total = candidates.iter().fold(0u128, |acc, (_, w)| acc.saturating_add(*w));
			let mut seats: Vec<(T::AccountId, u128)> = Vec::new();
			for seat in 0..count {
				let Some((who, _)) =
					Self::pick(&candidates, total, seed, seat).and_then(|i| candidates.get(i))
				else {
					continue;
				};
				match seats.iter_mut().find(|(p, _)| p == who) {
					Some((_, n)) => *n = n.saturating_add(1),
					None => seats.push((who.clone(), 1)),
				}
			}
			seats
		}
	}
}
