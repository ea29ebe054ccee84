//! Types of the provider pallet: share pools, providers and stake ledgers.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding, traits::Zero, FixedU128, Perbill, Rounding,
	SaturatedConversion,
};
use verity_primitives::ModelId;

/// A share pool: `points` are claims on `balance`. Stakers own points; slashing lowers
/// `balance` only, so every staker of the pool loses the same fraction without being touched.
///
/// Rounding: converting balance to points rounds down (a joiner never gets more than they
/// paid for) and points to balance rounds down, except that whoever redeems all remaining
/// points takes the whole balance, so the dust of all earlier roundings goes to the last staker
/// out and nothing stays in an empty pool.
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
)]
pub struct Pool<Balance> {
	/// Total points issued.
	pub points: Balance,
	/// Total balance backing them.
	pub balance: Balance,
}

fn mul_div<B>(a: B, b: B, c: B, r: Rounding) -> Option<u128>
where
	B: SaturatedConversion + Copy + sp_runtime::traits::UniqueSaturatedInto<u128>,
{
	multiply_by_rational_with_rounding(
		a.saturated_into(),
		b.saturated_into(),
		c.saturated_into(),
		r,
	)
}

impl<Balance> Pool<Balance>
where
	Balance: sp_runtime::traits::AtLeast32BitUnsigned
		+ Copy
		+ sp_runtime::traits::UniqueSaturatedInto<u128>,
	u128: sp_runtime::traits::UniqueSaturatedInto<Balance>,
{
	/// Points issued for `amount` joining the pool; `None` when the pool was slashed to zero
	/// while points remain (nobody can join a depleted pool).
	pub fn balance_to_points(&self, amount: Balance) -> Option<Balance> {
		if self.points.is_zero() {
			return Some(amount);
		}
		if self.balance.is_zero() {
			return None;
		}
		mul_div(amount, self.points, self.balance, Rounding::Down).map(|p| p.saturated_into())
	}

	/// Points to burn to take `amount` out (rounded up, at most all points).
	pub fn points_for_balance(&self, amount: Balance) -> Balance {
		if self.balance.is_zero() {
			return self.points;
		}
		mul_div(amount, self.points, self.balance, Rounding::Up)
			.map(|p| p.saturated_into())
			.unwrap_or(self.points)
			.min(self.points)
	}

	/// Balance `points` are worth (rounded down; redeeming all points yields the whole balance).
	pub fn points_to_balance(&self, points: Balance) -> Balance {
		if points >= self.points {
			return self.balance;
		}
		mul_div(points, self.balance, self.points, Rounding::Down)
			.map(|b| b.saturated_into())
			.unwrap_or(Zero::zero())
			.min(self.balance)
	}

	/// Add `amount` for `points`.
	pub fn join(&mut self, points: Balance, amount: Balance) {
		self.points = self.points.saturating_add(points);
		self.balance = self.balance.saturating_add(amount);
	}

	/// Remove `points` worth `amount`.
	pub fn leave(&mut self, points: Balance, amount: Balance) {
		self.points = self.points.saturating_sub(points);
		self.balance = self.balance.saturating_sub(amount);
	}

	/// The amount a slash of `fraction` takes from this pool (rounded down: stakers never lose
	/// more than the exact fraction).
	pub fn slash_amount(&self, fraction: Perbill) -> Balance {
		fraction.mul_floor(self.balance)
	}
}

/// State of a provider.
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
pub enum ProviderStatus {
	/// Selectable for the models it serves.
	Active,
	/// Registered but not selectable (paused by the provider).
	Chilled,
	/// Deregistered: not selectable, accepts no delegations; the record is removed once every
	/// staker has withdrawn.
	Leaving,
}

/// A registered provider and its active share pool.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(MaxModels))]
#[codec(mel_bound(AccountId: MaxEncodedLen, Balance: MaxEncodedLen))]
pub struct ProviderInfo<AccountId, Balance, MaxModels: Get<u32>>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// Key its off-chain worker signs results with.
	pub executor: AccountId,
	/// Share of every reward kept by the provider before the pro-rata split.
	pub commission: Perbill,
	/// Models it serves.
	pub models: BoundedVec<ModelId, MaxModels>,
	/// Current status.
	pub status: ProviderStatus,
	/// Active stake (self-bond and delegations), earning rewards and slashable.
	pub pool: Pool<Balance>,
	/// Rewards per active point accumulated since registration (floor-rounded).
	pub reward_per_point: FixedU128,
	/// Commission (and undistributable reward dust) owed to the provider.
	pub commission_pending: Balance,
	/// Number of stake ledgers (including the provider's own).
	pub stakers: u32,
}

/// A claim on an unbonding bucket.
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
pub struct UnlockChunk<Balance> {
	/// Bucket index; withdrawable from block `era * bucket_span`.
	pub era: u32,
	/// Points in that bucket's pool.
	pub points: Balance,
}

/// A staker's position with one provider (the provider's self-bond is its own ledger).
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(MaxChunks))]
#[codec(mel_bound(Balance: MaxEncodedLen))]
pub struct StakeLedger<Balance, MaxChunks: Get<u32>>
where
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// Points in the provider's active pool.
	pub points: Balance,
	/// `reward_per_point` when rewards were last settled into `pending_rewards`.
	pub reward_snapshot: FixedU128,
	/// Settled, unclaimed rewards.
	pub pending_rewards: Balance,
	/// Stake being unbonded, by bucket.
	pub unlocking: BoundedVec<UnlockChunk<Balance>, MaxChunks>,
}

/// What the read API (`Pallet::provider`) shows of a provider.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ProviderView<AccountId, Balance> {
	/// Key its off-chain worker signs results with.
	pub executor: AccountId,
	/// Share of every reward kept before the pro-rata split.
	pub commission: Perbill,
	/// Models it serves.
	pub models: alloc::vec::Vec<ModelId>,
	/// Current status.
	pub status: ProviderStatus,
	/// Whether executor and jury selection consider it now (active, with the minimum stake).
	pub eligible: bool,
	/// Active stake: self-bond and delegations.
	pub active_stake: Balance,
	/// Its own part of the active stake.
	pub self_bond: Balance,
	/// Number of stakers, itself included.
	pub stakers: u32,
	/// Commission owed to it, claimable.
	pub commission_pending: Balance,
}

/// One provider of a model, as the read API (`Pallet::providers_of`) lists it.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ModelProvider<AccountId, Balance> {
	/// The provider.
	pub provider: AccountId,
	/// Its active stake, the weight of its selection.
	pub active_stake: Balance,
	/// Whether selection considers it now.
	pub eligible: bool,
}

/// A staker's position with a provider, as the read API (`Pallet::stake`) shows it.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct StakeView<Balance, BlockNumber> {
	/// Active stake: earns rewards, slashable.
	pub active: Balance,
	/// Rewards claimable now with `claim`.
	pub pending_rewards: Balance,
	/// Stake being unbonded: `(amount, block from which withdraw releases it)`. Slashable
	/// until then.
	pub unbonding: alloc::vec::Vec<(Balance, BlockNumber)>,
}
