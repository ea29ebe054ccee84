//! Interfaces other pallets use: rewarding, slashing and selecting providers. Each has a `()`
//! impl for mocks that do not care.

use alloc::vec::Vec;
use pallet_models::ModelId;
use sp_core::H256;
use sp_runtime::{DispatchError, DispatchResult, Perbill};

/// Pay providers and their delegators.
pub trait Rewards<AccountId, Balance> {
	/// Move `amount` from `payer`'s free balance (which may be emptied) to `provider`'s pool:
	/// the commission to the provider, the rest to every active staker pro rata, claimable
	/// with `claim`. Fails if the provider is unknown or the payer cannot pay.
	fn reward(payer: &AccountId, provider: &AccountId, amount: Balance) -> DispatchResult;
}

impl<AccountId, Balance> Rewards<AccountId, Balance> for () {
	fn reward(_: &AccountId, _: &AccountId, _: Balance) -> DispatchResult {
		Err(DispatchError::Other("no rewards"))
	}
}

/// Take stake from a provider and everyone who delegated to it.
pub trait Slash<AccountId, Balance> {
	/// Slash `fraction` of `provider`'s active stake and of every unbonding bucket not yet
	/// withdrawable (self-bond and delegations alike, pro rata, in constant time). The amount
	/// goes to `beneficiary` if given (burned if it cannot receive it), else is burned.
	/// Returns the amount taken (0 for an unknown provider).
	fn slash(provider: &AccountId, fraction: Perbill, beneficiary: Option<&AccountId>) -> Balance;
}

impl<AccountId, Balance: Default> Slash<AccountId, Balance> for () {
	fn slash(_: &AccountId, _: Perbill, _: Option<&AccountId>) -> Balance {
		Balance::default()
	}
}

/// Choose executors for a request.
pub trait ExecutorSelection<AccountId> {
	/// Up to `count` distinct providers serving `model`, drawn without replacement with
	/// probability proportional to active stake, deterministically from `seed`. Only active
	/// providers with at least the minimum stake, not in `exclude`, and only for an active
	/// model.
	fn select(model: &ModelId, count: u32, seed: H256, exclude: &[AccountId]) -> Vec<AccountId>;

	/// The executor key of `provider`.
	fn executor_of(provider: &AccountId) -> Option<AccountId>;

	/// The provider whose executor key is `executor`.
	fn provider_of(executor: &AccountId) -> Option<AccountId>;

	/// `provider`'s active stake (self-bond plus delegations) as a voting weight; 0 for an
	/// unknown provider.
	fn stake_weight(provider: &AccountId) -> u128;
}

impl<AccountId> ExecutorSelection<AccountId> for () {
	fn select(_: &ModelId, _: u32, _: H256, _: &[AccountId]) -> Vec<AccountId> {
		Vec::new()
	}
	fn executor_of(_: &AccountId) -> Option<AccountId> {
		None
	}
	fn provider_of(_: &AccountId) -> Option<AccountId> {
		None
	}
	fn stake_weight(_: &AccountId) -> u128 {
		0
	}
}
