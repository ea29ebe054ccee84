//! Benchmarks of pallet-providers (v2). Payout and slash never iterate delegators; `delegate`
//! and `slash` carry a delegator-count component `d` only to show that their weights are flat
//! in it (docs/benchmarks.md has the table).

use super::*;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		Get,
	},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_core::H256;
use sp_runtime::{traits::Saturating, Perbill};
use verity_primitives::{ExecutorSignature, ModelId};

fn big<T: Config>() -> BalanceOf<T> {
	T::MinSelfBond::get()
		.saturating_add(T::MinDelegation::get())
		.saturating_add(T::MinStake::get())
		.saturating_mul(1_000u32.into())
		.saturating_add(T::Currency::minimum_balance())
}

fn funded<T: Config>(name: &'static str, i: u32) -> T::AccountId {
	let who: T::AccountId = account(name, i, 0);
	T::Currency::set_balance(&who, big::<T>().saturating_mul(10u32.into()));
	who
}

fn model(i: u32) -> ModelId {
	H256(sp_io::hashing::blake2_256(&i.to_le_bytes()))
}

/// `m` active models, each already indexed under `MaxProvidersPerModel - 1` other providers.
fn models<T: Config>(m: u32) -> ModelsOf<T> {
	let owner: T::AccountId = account("owner", 0, 0);
	let list: Vec<ModelId> = (0..m).map(model).collect();
	for id in &list {
		T::BenchmarkHelper::activate_model(&owner, *id);
		let fill: Vec<T::AccountId> = (0..T::MaxProvidersPerModel::get().saturating_sub(1))
			.map(|i| account("filler", i, 0))
			.collect();
		ModelProviders::<T>::insert(id, BoundedVec::truncate_from(fill));
	}
	BoundedVec::truncate_from(list)
}

/// Executor key `i` of the benchmark helper, with its proof of possession for `provider`.
fn executor<T: Config>(provider: &T::AccountId, i: u32) -> (T::AccountId, ExecutorSignature) {
	T::BenchmarkHelper::executor(i, &Pallet::<T>::executor_proof_message(provider))
}

fn setup_provider<T: Config>(m: u32) -> T::AccountId {
	Pallet::<T>::ensure_pallet_account();
	let who = funded::<T>("provider", 0);
	let ms = models::<T>(m);
	let (exec, proof) = executor::<T>(&who, 0);
	assert!(Pallet::<T>::register_provider(
		RawOrigin::Signed(who.clone()).into(),
		big::<T>(),
		Perbill::from_percent(10),
		ms,
		exec,
		proof,
	)
	.is_ok());
	who
}

fn delegator<T: Config>(provider: &T::AccountId, i: u32) -> T::AccountId {
	let d = funded::<T>("delegator", i);
	assert!(Pallet::<T>::delegate(
		RawOrigin::Signed(d.clone()).into(),
		provider.clone(),
		big::<T>()
	)
	.is_ok());
	d
}

fn pay_reward<T: Config>(provider: &T::AccountId) {
	let payer = funded::<T>("payer", 0);
	assert!(<Pallet<T> as Rewards<_, _>>::reward(&payer, provider, big::<T>()).is_ok());
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_provider(m: Linear<1, { T::MaxModelsPerProvider::get() }>) {
		Pallet::<T>::ensure_pallet_account();
		let who = funded::<T>("provider", 0);
		let ms = models::<T>(m);
		let (exec, proof) = executor::<T>(&who, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), big::<T>(), Perbill::from_percent(10), ms, exec, proof);

		assert!(Providers::<T>::contains_key(&who));
	}

	#[benchmark]
	fn bond_more() {
		let p = setup_provider::<T>(1);
		pay_reward::<T>(&p);

		#[extrinsic_call]
		_(RawOrigin::Signed(p.clone()), T::MinDelegation::get());

		assert!(Pallet::<T>::stake_of(&p, &p) > big::<T>());
	}

	#[benchmark]
	fn unbond() {
		let p = setup_provider::<T>(1);
		pay_reward::<T>(&p);

		#[extrinsic_call]
		_(RawOrigin::Signed(p.clone()), T::MinDelegation::get());

		assert!(Pallet::<T>::stake_of(&p, &p) < big::<T>());
	}

	/// Delegating to a provider that already has `d` delegators: flat in `d` (per-share
	/// accounting), measured up to [`BENCHMARKED_DELEGATORS`] to show it.
	#[benchmark]
	fn delegate(d: Linear<0, BENCHMARKED_DELEGATORS>) {
		let p = setup_provider::<T>(1);
		for i in 0..d {
			delegator::<T>(&p, i + 1);
		}
		pay_reward::<T>(&p);
		let d = funded::<T>("delegator", 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(d.clone()), p.clone(), big::<T>());

		assert!(Stakes::<T>::contains_key(&p, &d));
	}

	#[benchmark]
	fn undelegate() {
		let p = setup_provider::<T>(1);
		let d = delegator::<T>(&p, 0);
		pay_reward::<T>(&p);

		#[extrinsic_call]
		_(RawOrigin::Signed(d.clone()), p.clone(), T::MinDelegation::get());

		assert!(Stakes::<T>::get(&p, &d).is_some_and(|l| !l.unlocking.is_empty()));
	}

	#[benchmark]
	fn withdraw(u: Linear<1, { T::MaxUnlockingChunks::get() }>) {
		let p = setup_provider::<T>(1);
		let d = delegator::<T>(&p, 0);
		pay_reward::<T>(&p);
		let span: BlockNumberFor<T> = Pallet::<T>::bucket_span().into();
		for i in 0..u {
			let now = frame_system::Pallet::<T>::block_number();
			frame_system::Pallet::<T>::set_block_number(now.saturating_add(span));
			let amount = if i + 1 == u { big::<T>() } else { T::MinDelegation::get() };
			assert!(Pallet::<T>::undelegate(
				RawOrigin::Signed(d.clone()).into(),
				p.clone(),
				amount
			)
			.is_ok());
		}
		let now = frame_system::Pallet::<T>::block_number();
		frame_system::Pallet::<T>::set_block_number(
			now.saturating_add(T::UnbondingPeriod::get()).saturating_add(span),
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(d.clone()), p.clone());

		assert!(!Stakes::<T>::contains_key(&p, &d));
	}

	#[benchmark]
	fn claim() {
		let p = setup_provider::<T>(1);
		let d = delegator::<T>(&p, 0);
		pay_reward::<T>(&p);

		#[extrinsic_call]
		_(RawOrigin::Signed(d.clone()), p.clone());

		assert!(Pallet::<T>::pending_rewards(&p, &d) == 0u32.into());
	}

	#[benchmark]
	fn set_models(m: Linear<1, { T::MaxModelsPerProvider::get() }>) {
		let p = setup_provider::<T>(T::MaxModelsPerProvider::get());
		let owner: T::AccountId = account("owner", 0, 0);
		let new: Vec<ModelId> = (1000..1000u32.saturating_add(m)).map(model).collect();
		for id in &new {
			T::BenchmarkHelper::activate_model(&owner, *id);
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(p.clone()), BoundedVec::truncate_from(new));

		assert!(Providers::<T>::get(&p).is_some_and(|i| i.models.len() as u32 == m));
	}

	#[benchmark]
	fn set_commission() {
		let p = setup_provider::<T>(1);

		#[extrinsic_call]
		_(RawOrigin::Signed(p.clone()), Perbill::from_percent(20));

		assert!(Providers::<T>::get(&p).is_some_and(|i| i.commission == Perbill::from_percent(20)));
	}

	/// A rotation: the proof of the new key is checked (one secp256k1 recovery), the old key
	/// leaves the reverse index and the new one enters it.
	#[benchmark]
	fn set_executor() {
		let p = setup_provider::<T>(1);
		let (new, proof) = executor::<T>(&p, 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(p.clone()), new.clone(), proof);

		assert!(Providers::<T>::get(&p).is_some_and(|i| i.executor == new));
		assert_eq!(Executors::<T>::get(&new), Some(p));
	}

	#[benchmark]
	fn chill() {
		let p = setup_provider::<T>(1);

		#[extrinsic_call]
		_(RawOrigin::Signed(p.clone()));

		assert!(Providers::<T>::get(&p).is_some_and(|i| i.status == ProviderStatus::Chilled));
	}

	#[benchmark]
	fn unchill() {
		let p = setup_provider::<T>(1);
		assert!(Pallet::<T>::chill(RawOrigin::Signed(p.clone()).into()).is_ok());

		#[extrinsic_call]
		_(RawOrigin::Signed(p.clone()));

		assert!(Providers::<T>::get(&p).is_some_and(|i| i.status == ProviderStatus::Active));
	}

	#[benchmark]
	fn deregister(m: Linear<1, { T::MaxModelsPerProvider::get() }>) {
		let p = setup_provider::<T>(m);
		let _d = delegator::<T>(&p, 0);
		pay_reward::<T>(&p);

		#[extrinsic_call]
		_(RawOrigin::Signed(p.clone()));

		assert!(Providers::<T>::get(&p).is_some_and(|i| i.status == ProviderStatus::Leaving));
	}

	#[benchmark]
	fn reward() {
		let p = setup_provider::<T>(1);
		let _d = delegator::<T>(&p, 0);
		let payer = funded::<T>("payer", 0);

		#[block]
		{
			assert!(<Pallet<T> as Rewards<_, _>>::reward(&payer, &p, big::<T>()).is_ok());
		}
	}

	/// Slash touching `b` unbonding buckets of a provider with `d` further delegators (flat in
	/// `d`: the slash scales the provider's pools, never a delegator's ledger).
	#[benchmark]
	fn slash(b: Linear<0, { T::UnbondingBuckets::get() }>, d: Linear<0, BENCHMARKED_DELEGATORS>) {
		let p = setup_provider::<T>(1);
		for i in 0..d {
			delegator::<T>(&p, 1_000_000 + i);
		}
		let span: BlockNumberFor<T> = Pallet::<T>::bucket_span().into();
		for i in 0..b {
			let d = delegator::<T>(&p, i);
			let now = frame_system::Pallet::<T>::block_number();
			frame_system::Pallet::<T>::set_block_number(now.saturating_add(span));
			assert!(Pallet::<T>::undelegate(
				RawOrigin::Signed(d).into(),
				p.clone(),
				T::MinDelegation::get()
			)
			.is_ok());
		}
		#[block]
		{
			let taken = <Pallet<T> as Slash<_, _>>::slash(&p, Perbill::from_percent(10));
			assert!(taken.total > 0u32.into());
		}
	}

	#[benchmark]
	fn select(p: Linear<1, { T::MaxProvidersPerModel::get() }>) {
		Pallet::<T>::ensure_pallet_account();
		let owner: T::AccountId = account("owner", 0, 0);
		let id = model(0);
		T::BenchmarkHelper::activate_model(&owner, id);
		for i in 0..p {
			let who = funded::<T>("provider", i);
			let (exec, proof) = executor::<T>(&who, i);
			assert!(Pallet::<T>::register_provider(
				RawOrigin::Signed(who).into(),
				big::<T>(),
				Perbill::zero(),
				BoundedVec::truncate_from(vec![id]),
				exec,
				proof,
			)
			.is_ok());
		}

		#[block]
		{
			let chosen = <Pallet<T> as ExecutorSelection<_>>::select(&id, p, H256([1u8; 32]), &[]);
			assert_eq!(chosen.len() as u32, p);
		}
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}

/// Register as many providers of `model` as pallet-providers indexes per model
/// (`MaxProvidersPerModel`, at least `min`), each with a self-bond of ten times the minimum
/// stake and the executor key and proof of possession `executor(&provider, message)` returns
/// for the provider's [`Pallet::executor_proof_message`]. With `unbonding`, each provider then gets,
/// in each of `UnbondingBuckets + 1` successive buckets, a delegator that unbonds part of its
/// stake there (the most buckets a slash reaches), and the block number advances by
/// `UnbondingBuckets` bucket spans. For `BenchmarkHelper::active_model` of runtimes and mocks.
pub fn register_providers<P: Config>(
	model: ModelId,
	min: u32,
	unbonding: bool,
	executor: impl Fn(&P::AccountId, &[u8; 32]) -> (P::AccountId, ExecutorSignature),
) -> Vec<P::AccountId> {
	use crate::Pallet as Providers;
	let count = <P as Config>::MaxProvidersPerModel::get();
	assert!(count >= min, "a model cannot have {min} providers");
	// The model id's first bytes (`to_low_u64_le` needs fixed-hash's byteorder feature, which
	// the runtime's no_std build does not enable).
	let seed = u32::from_le_bytes([model.0[0], model.0[1], model.0[2], model.0[3]]);
	let bond =
		P::MinSelfBond::get().saturating_add(P::MinStake::get()).saturating_mul(10u32.into());
	let ed = <P::Currency as Inspect<P::AccountId>>::minimum_balance();
	Providers::<P>::ensure_pallet_account();
	let providers: Vec<P::AccountId> = (0..count)
		.map(|i| {
			let who: P::AccountId = account("provider", i, seed);
			P::Currency::set_balance(&who, bond.saturating_mul(2u32.into()).saturating_add(ed));
			let (exec, proof) = executor(&who, &Providers::<P>::executor_proof_message(&who));
			let registered = Providers::<P>::register_provider(
				RawOrigin::Signed(who.clone()).into(),
				bond,
				Perbill::from_percent(10),
				BoundedVec::truncate_from(vec![model]),
				exec,
				proof,
			);
			if let Err(e) = registered {
				panic!("benchmark provider: {e:?}");
			}
			who
		})
		.collect();
	if unbonding {
		let buckets = P::UnbondingBuckets::get();
		let span: BlockNumberFor<P> = Providers::<P>::bucket_span().into();
		let amount = P::MinDelegation::get();
		for bucket in 0..=buckets {
			if bucket > 0 {
				let now = frame_system::Pallet::<P>::block_number();
				frame_system::Pallet::<P>::set_block_number(now.saturating_add(span));
			}
			for (i, provider) in providers.iter().enumerate() {
				let index =
					(i as u32).saturating_mul(buckets.saturating_add(1)).saturating_add(bucket);
				let d: P::AccountId = account("unbonding", index, seed);
				P::Currency::set_balance(&d, amount.saturating_mul(4u32.into()).saturating_add(ed));
				let origin = || RawOrigin::Signed(d.clone()).into();
				let delegated = Providers::<P>::delegate(
					origin(),
					provider.clone(),
					amount.saturating_mul(2u32.into()),
				);
				let unbonded = Providers::<P>::undelegate(origin(), provider.clone(), amount);
				if let Err(e) = delegated.and(unbonded) {
					panic!("benchmark unbonding: {e:?}");
				}
			}
		}
	}
	providers
}
