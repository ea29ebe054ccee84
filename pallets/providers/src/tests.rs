//! Unit tests of pallet-providers: every call and error path, rewards, slashing, selection.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
	BoundedVec,
};
use sp_core::H256;
use sp_runtime::{Perbill, TokenError};
use verity_primitives::Slashed;

fn models(v: &[H256]) -> ModelsOf<Test> {
	BoundedVec::truncate_from(v.to_vec())
}

fn register(who: AccountId, bond: Balance, exec: AccountId) -> sp_runtime::DispatchResult {
	ProvidersPallet::register_provider(
		RuntimeOrigin::signed(who),
		bond,
		Perbill::from_percent(10),
		models(&[MODEL_A]),
		exec,
		proof(exec, who),
	)
}

fn stake(p: AccountId, s: AccountId) -> Balance {
	ProvidersPallet::stake_of(&p, &s)
}

fn pool(p: AccountId) -> Pool<Balance> {
	Providers::<Test>::get(p).unwrap().pool
}

fn held_total() -> Balance {
	Balances::balance_on_hold(&HoldReason::Stake.into(), &ProvidersPallet::account_id())
}

fn unlock_block() -> u64 {
	ProvidersPallet::era_start(ProvidersPallet::unlock_era(System::block_number()))
}

// ---- register_provider ----

#[test]
fn register_provider_works() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(ALICE, 1_000, ALICE_EXEC));
		System::assert_last_event(
			Event::ProviderRegistered { provider: ALICE, executor: ALICE_EXEC, bond: 1_000 }.into(),
		);
		assert_eq!(stake(ALICE, ALICE), 1_000);
		assert_eq!(held_total(), 1_000);
		assert_eq!(Balances::balance(&ALICE), 99_000);
		assert_eq!(ModelProviders::<Test>::get(MODEL_A).to_vec(), vec![ALICE]);
		assert_eq!(
			<ProvidersPallet as ExecutorSelection<_>>::executor_of(&ALICE),
			Some(ALICE_EXEC)
		);
		assert_eq!(
			<ProvidersPallet as ExecutorSelection<_>>::provider_of(&ALICE_EXEC),
			Some(ALICE)
		);
	});
}

#[test]
fn register_provider_fails_on_bad_input() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(register(ALICE, MIN_SELF_BOND - 1, ALICE_EXEC), Error::<Test>::BondTooLow);
		assert_noop!(
			ProvidersPallet::register_provider(
				RuntimeOrigin::signed(ALICE),
				1_000,
				Perbill::zero(),
				models(&[RETIRED_MODEL]),
				ALICE_EXEC,
				proof(ALICE_EXEC, ALICE),
			),
			Error::<Test>::ModelNotActive
		);
		assert_noop!(
			ProvidersPallet::register_provider(
				RuntimeOrigin::signed(ALICE),
				1_000,
				Perbill::zero(),
				models(&[MODEL_A, MODEL_A]),
				ALICE_EXEC,
				proof(ALICE_EXEC, ALICE),
			),
			Error::<Test>::DuplicateModel
		);
		assert_noop!(register(1000, 1_001, 2000), TokenError::FundsUnavailable);
		assert_ok!(register(ALICE, 1_000, ALICE_EXEC));
		assert_noop!(register(ALICE, 1_000, 999), Error::<Test>::AlreadyProvider);
		assert_noop!(register(DAVE, 1_000, ALICE_EXEC), Error::<Test>::ExecutorInUse);
		assert_ok!(register(DAVE, 200, DAVE_EXEC));
		assert_ok!(register(EVE, 200, EVE_EXEC));
		assert_noop!(register(CHARLIE, 200, 103), Error::<Test>::TooManyProvidersForModel);
	});
}

fn register_with(
	who: AccountId,
	exec: AccountId,
	executor_proof: verity_primitives::ExecutorSignature,
) -> sp_runtime::DispatchResult {
	ProvidersPallet::register_provider(
		RuntimeOrigin::signed(who),
		1_000,
		Perbill::from_percent(10),
		models(&[MODEL_A]),
		exec,
		executor_proof,
	)
}

/// Attack 8 (issue 13): DAVE names ALICE's executor key, to have her receipts count for him
/// or to keep her from registering with it. Without her key he has no proof for himself, and
/// her proof (seen in her transaction) names her, not him.
#[test]
fn register_provider_fails_with_someone_elses_executor_key() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			register_with(DAVE, ALICE_EXEC, proof(DAVE_EXEC, DAVE)),
			Error::<Test>::InvalidExecutorProof
		);
		assert_noop!(
			register_with(DAVE, ALICE_EXEC, proof(ALICE_EXEC, ALICE)),
			Error::<Test>::InvalidExecutorProof
		);
		assert_noop!(
			register_with(DAVE, ALICE_EXEC, [0u8; 65]),
			Error::<Test>::InvalidExecutorProof
		);
		assert_eq!(<ProvidersPallet as ExecutorSelection<_>>::provider_of(&ALICE_EXEC), None);
		assert_ok!(register(ALICE, 1_000, ALICE_EXEC));
		assert_eq!(
			<ProvidersPallet as ExecutorSelection<_>>::provider_of(&ALICE_EXEC),
			Some(ALICE)
		);
	});
}

/// A proof is bound to the chain: the same signature is refused under another genesis hash.
#[test]
fn register_provider_fails_with_a_proof_from_another_chain() {
	ExtBuilder::default().build_and_execute(|| {
		let here = proof(ALICE_EXEC, ALICE);
		frame_system::BlockHash::<Test>::insert(0, H256::repeat_byte(7));
		assert_noop!(register_with(ALICE, ALICE_EXEC, here), Error::<Test>::InvalidExecutorProof);
		assert_ok!(register_with(ALICE, ALICE_EXEC, proof(ALICE_EXEC, ALICE)));
	});
}

#[test]
fn executor_proof_message_names_the_genesis_hash_and_the_provider() {
	ExtBuilder::default().build_and_execute(|| {
		let genesis = frame_system::Pallet::<Test>::block_hash(0);
		let mut data = b"verity/executor-pop/v1".to_vec();
		data.extend_from_slice(genesis.as_bytes());
		data.extend_from_slice(&ALICE.to_le_bytes());
		assert_eq!(
			ProvidersPallet::executor_proof_message(&ALICE),
			sp_io::hashing::blake2_256(&data)
		);
		assert_ne!(
			ProvidersPallet::executor_proof_message(&ALICE),
			ProvidersPallet::executor_proof_message(&DAVE)
		);
	});
}

// ---- set_executor ----

const NEW_EXEC: AccountId = 201;

#[test]
fn set_executor_works() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(ProvidersPallet::set_executor(
			RuntimeOrigin::signed(ALICE),
			NEW_EXEC,
			proof(NEW_EXEC, ALICE)
		));
		System::assert_last_event(
			Event::ExecutorChanged { provider: ALICE, old: ALICE_EXEC, new: NEW_EXEC }.into(),
		);
		assert_eq!(<ProvidersPallet as ExecutorSelection<_>>::executor_of(&ALICE), Some(NEW_EXEC));
		assert_eq!(<ProvidersPallet as ExecutorSelection<_>>::provider_of(&NEW_EXEC), Some(ALICE));
		assert_eq!(<ProvidersPallet as ExecutorSelection<_>>::provider_of(&ALICE_EXEC), None);
		// The revoked key is free again, for whoever holds it.
		assert_ok!(register(DAVE, 1_000, ALICE_EXEC));
	});
}

#[test]
fn set_executor_works_while_leaving() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(ProvidersPallet::deregister(RuntimeOrigin::signed(ALICE)));
		assert_ok!(ProvidersPallet::set_executor(
			RuntimeOrigin::signed(ALICE),
			NEW_EXEC,
			proof(NEW_EXEC, ALICE)
		));
		assert_eq!(<ProvidersPallet as ExecutorSelection<_>>::provider_of(&NEW_EXEC), Some(ALICE));
	});
}

#[test]
fn set_executor_fails_with_invalid_proof() {
	alice_and_bob().build_and_execute(|| {
		let set = |exec, p| ProvidersPallet::set_executor(RuntimeOrigin::signed(ALICE), exec, p);
		assert_noop!(set(NEW_EXEC, [0u8; 65]), Error::<Test>::InvalidExecutorProof);
		// signed for another provider, or by another key
		assert_noop!(set(NEW_EXEC, proof(NEW_EXEC, DAVE)), Error::<Test>::InvalidExecutorProof);
		assert_noop!(set(NEW_EXEC, proof(DAVE_EXEC, ALICE)), Error::<Test>::InvalidExecutorProof);
	});
}

#[test]
fn set_executor_fails_when_key_used_by_a_provider() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(register(DAVE, 1_000, DAVE_EXEC));
		let set = |exec, p| ProvidersPallet::set_executor(RuntimeOrigin::signed(ALICE), exec, p);
		// Even with a valid proof (DAVE's key's holder signed for ALICE too).
		assert_noop!(set(DAVE_EXEC, proof(DAVE_EXEC, ALICE)), Error::<Test>::ExecutorInUse);
		assert_noop!(set(ALICE_EXEC, proof(ALICE_EXEC, ALICE)), Error::<Test>::ExecutorInUse);
	});
}

#[test]
fn set_executor_fails_when_not_a_provider() {
	alice_and_bob().build_and_execute(|| {
		assert_noop!(
			ProvidersPallet::set_executor(
				RuntimeOrigin::signed(DAVE),
				NEW_EXEC,
				proof(NEW_EXEC, DAVE)
			),
			Error::<Test>::ProviderNotFound
		);
	});
}

// ---- bond_more / unbond ----

#[test]
fn bond_more_and_unbond_work() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(ProvidersPallet::bond_more(RuntimeOrigin::signed(ALICE), 500));
		assert_eq!(stake(ALICE, ALICE), 1_500);
		assert_ok!(ProvidersPallet::unbond(RuntimeOrigin::signed(ALICE), 1_400));
		System::assert_last_event(
			Event::Unbonded {
				provider: ALICE,
				staker: ALICE,
				amount: 1_400,
				unlock_at: unlock_block(),
			}
			.into(),
		);
		assert_eq!(stake(ALICE, ALICE), 100);
		assert_eq!(held_total(), 2_500);
	});
}

#[test]
fn bond_more_and_unbond_fail_on_bad_state() {
	alice_and_bob().build_and_execute(|| {
		assert_noop!(
			ProvidersPallet::bond_more(RuntimeOrigin::signed(BOB), 1),
			Error::<Test>::ProviderNotFound
		);
		assert_noop!(
			ProvidersPallet::unbond(RuntimeOrigin::signed(BOB), 1),
			Error::<Test>::ProviderNotFound
		);
		assert_noop!(
			ProvidersPallet::bond_more(RuntimeOrigin::signed(ALICE), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			ProvidersPallet::unbond(RuntimeOrigin::signed(ALICE), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			ProvidersPallet::unbond(RuntimeOrigin::signed(ALICE), 901),
			Error::<Test>::BondTooLow
		);
		assert_noop!(
			ProvidersPallet::unbond(RuntimeOrigin::signed(ALICE), 1_000),
			Error::<Test>::BondTooLow
		);
		assert_ok!(ProvidersPallet::deregister(RuntimeOrigin::signed(ALICE)));
		assert_noop!(
			ProvidersPallet::bond_more(RuntimeOrigin::signed(ALICE), 1),
			Error::<Test>::ProviderLeaving
		);
		assert_noop!(
			ProvidersPallet::unbond(RuntimeOrigin::signed(ALICE), 1),
			Error::<Test>::ProviderLeaving
		);
	});
}

#[test]
fn unbond_fails_with_too_many_chunks() {
	alice_and_bob().build_and_execute(|| {
		for i in 0..3u64 {
			run_to(1 + i * 5);
			assert_ok!(ProvidersPallet::undelegate(RuntimeOrigin::signed(BOB), ALICE, 10));
		}
		// Same bucket merges.
		assert_ok!(ProvidersPallet::undelegate(RuntimeOrigin::signed(BOB), ALICE, 10));
		run_to(16);
		assert_noop!(
			ProvidersPallet::undelegate(RuntimeOrigin::signed(BOB), ALICE, 10),
			Error::<Test>::TooManyUnlockingChunks
		);
	});
}

// ---- delegate / undelegate ----

#[test]
fn delegate_works() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(ProvidersPallet::delegate(RuntimeOrigin::signed(CHARLIE), ALICE, 500));
		System::assert_last_event(
			Event::Bonded { provider: ALICE, staker: CHARLIE, amount: 500 }.into(),
		);
		assert_eq!(stake(ALICE, CHARLIE), 500);
		assert_eq!(pool(ALICE).balance, 2_500);
		assert_eq!(Providers::<Test>::get(ALICE).unwrap().stakers, 3);
		// Top-ups below the minimum are fine.
		assert_ok!(ProvidersPallet::delegate(RuntimeOrigin::signed(CHARLIE), ALICE, 1));
		assert_eq!(stake(ALICE, CHARLIE), 501);
	});
}

#[test]
fn delegate_fails_on_bad_state() {
	alice_and_bob().build_and_execute(|| {
		assert_noop!(
			ProvidersPallet::delegate(RuntimeOrigin::signed(ALICE), ALICE, 100),
			Error::<Test>::ProviderSelfStake
		);
		assert_noop!(
			ProvidersPallet::delegate(RuntimeOrigin::signed(CHARLIE), DAVE, 100),
			Error::<Test>::ProviderNotFound
		);
		assert_noop!(
			ProvidersPallet::delegate(RuntimeOrigin::signed(CHARLIE), ALICE, MIN_DELEGATION - 1),
			Error::<Test>::DelegationTooLow
		);
		assert_noop!(
			ProvidersPallet::delegate(RuntimeOrigin::signed(CHARLIE), ALICE, 100_000),
			TokenError::FundsUnavailable
		);
		assert_noop!(
			ProvidersPallet::delegate(RuntimeOrigin::signed(BOB), ALICE, 0),
			Error::<Test>::ZeroAmount
		);
		assert_eq!(<ProvidersPallet as Slash<_, _>>::slash(&ALICE, Perbill::one()).total, 2_000);
		assert_noop!(
			ProvidersPallet::delegate(RuntimeOrigin::signed(CHARLIE), ALICE, 100),
			Error::<Test>::PoolDepleted
		);
		assert_ok!(ProvidersPallet::deregister(RuntimeOrigin::signed(ALICE)));
		assert_noop!(
			ProvidersPallet::delegate(RuntimeOrigin::signed(BOB), ALICE, 100),
			Error::<Test>::ProviderLeaving
		);
	});
}

#[test]
fn undelegate_works_partially_and_fully() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(ProvidersPallet::undelegate(RuntimeOrigin::signed(BOB), ALICE, 400));
		assert_eq!(stake(ALICE, BOB), 600);
		assert_ok!(ProvidersPallet::undelegate(RuntimeOrigin::signed(BOB), ALICE, u64::MAX));
		System::assert_last_event(
			Event::Unbonded {
				provider: ALICE,
				staker: BOB,
				amount: 600,
				unlock_at: unlock_block(),
			}
			.into(),
		);
		assert_eq!(stake(ALICE, BOB), 0);
		assert_eq!(pool(ALICE).balance, 1_000);
		assert_eq!(held_total(), 2_000);
	});
}

#[test]
fn undelegate_fails_on_bad_state() {
	alice_and_bob().build_and_execute(|| {
		assert_noop!(
			ProvidersPallet::undelegate(RuntimeOrigin::signed(ALICE), ALICE, 1),
			Error::<Test>::ProviderSelfStake
		);
		assert_noop!(
			ProvidersPallet::undelegate(RuntimeOrigin::signed(BOB), DAVE, 1),
			Error::<Test>::ProviderNotFound
		);
		assert_noop!(
			ProvidersPallet::undelegate(RuntimeOrigin::signed(CHARLIE), ALICE, 1),
			Error::<Test>::NotStaking
		);
		assert_noop!(
			ProvidersPallet::undelegate(RuntimeOrigin::signed(BOB), ALICE, 995),
			Error::<Test>::DelegationTooLow
		);
		assert_noop!(
			ProvidersPallet::undelegate(RuntimeOrigin::signed(BOB), ALICE, 0),
			Error::<Test>::ZeroAmount
		);
	});
}

// ---- withdraw ----

#[test]
fn withdraw_works_after_unbonding_period() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(ProvidersPallet::undelegate(RuntimeOrigin::signed(BOB), ALICE, 1_000));
		let at = unlock_block();
		assert!(at > UNBONDING);
		run_to(at - 1);
		assert_noop!(
			ProvidersPallet::withdraw(RuntimeOrigin::signed(BOB), ALICE),
			Error::<Test>::NothingToWithdraw
		);
		run_to(at);
		let before = Balances::balance(&BOB);
		assert_ok!(ProvidersPallet::withdraw(RuntimeOrigin::signed(BOB), ALICE));
		assert_eq!(Balances::balance(&BOB), before + 1_000);
		assert!(Stakes::<Test>::get(ALICE, BOB).is_none());
		assert_eq!(Providers::<Test>::get(ALICE).unwrap().stakers, 1);
		assert_eq!(UnbondingPools::<Test>::iter().count(), 0);
	});
}

#[test]
fn withdraw_fails_without_stake() {
	alice_and_bob().build_and_execute(|| {
		assert_noop!(
			ProvidersPallet::withdraw(RuntimeOrigin::signed(CHARLIE), ALICE),
			Error::<Test>::NotStaking
		);
		assert_noop!(
			ProvidersPallet::withdraw(RuntimeOrigin::signed(BOB), ALICE),
			Error::<Test>::NothingToWithdraw
		);
	});
}

#[test]
fn withdraw_closes_ledger_pays_rewards_and_removes_leaving_provider() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(<ProvidersPallet as Rewards<_, _>>::reward(&PAYER, &ALICE, 1_000));
		assert_ok!(ProvidersPallet::deregister(RuntimeOrigin::signed(ALICE)));
		assert!(ModelProviders::<Test>::get(MODEL_A).is_empty());
		assert_ok!(ProvidersPallet::undelegate(RuntimeOrigin::signed(BOB), ALICE, u64::MAX));
		run_to(unlock_block());
		let (a0, b0) = (Balances::balance(&ALICE), Balances::balance(&BOB));
		assert_ok!(ProvidersPallet::withdraw(RuntimeOrigin::signed(BOB), ALICE));
		// 900 split pro rata: 450 each; BOB gets stake + rewards.
		assert_eq!(Balances::balance(&BOB), b0 + 1_000 + 450);
		assert_ok!(ProvidersPallet::withdraw(RuntimeOrigin::signed(ALICE), ALICE));
		// ALICE: stake + 450 share + 100 commission.
		assert_eq!(Balances::balance(&ALICE), a0 + 1_000 + 550);
		System::assert_last_event(Event::ProviderRemoved { provider: ALICE }.into());
		assert!(Providers::<Test>::get(ALICE).is_none());
		assert!(Executors::<Test>::get(ALICE_EXEC).is_none());
		assert_eq!(Balances::balance(&ProvidersPallet::account_id()), ED);
		// ALICE may register again.
		assert_ok!(register(ALICE, 1_000, ALICE_EXEC));
	});
}

// ---- rewards / claim ----

#[test]
fn reward_splits_commission_and_pro_rata() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(ProvidersPallet::delegate(RuntimeOrigin::signed(CHARLIE), ALICE, 2_000));
		assert_ok!(<ProvidersPallet as Rewards<_, _>>::reward(&PAYER, &ALICE, 1_000));
		System::assert_last_event(
			Event::Rewarded { provider: ALICE, amount: 1_000, commission: 100 }.into(),
		);
		// 900 over 4000 stake: ALICE 225, BOB 225, CHARLIE 450.
		assert_eq!(ProvidersPallet::pending_rewards(&ALICE, &BOB), 225);
		assert_eq!(ProvidersPallet::pending_rewards(&ALICE, &CHARLIE), 450);
		let b0 = Balances::balance(&BOB);
		assert_ok!(ProvidersPallet::claim(RuntimeOrigin::signed(BOB), ALICE));
		assert_eq!(Balances::balance(&BOB), b0 + 225);
		System::assert_last_event(
			Event::Claimed { provider: ALICE, staker: BOB, amount: 225 }.into(),
		);
		let a0 = Balances::balance(&ALICE);
		assert_ok!(ProvidersPallet::claim(RuntimeOrigin::signed(ALICE), ALICE));
		assert_eq!(Balances::balance(&ALICE), a0 + 325);
		// Stake joining after a reward earns nothing from it.
		assert_ok!(ProvidersPallet::delegate(RuntimeOrigin::signed(DAVE), ALICE, 4_000));
		assert_eq!(ProvidersPallet::pending_rewards(&ALICE, &DAVE), 0);
		assert_ok!(<ProvidersPallet as Rewards<_, _>>::reward(&PAYER, &ALICE, 1_000));
		assert_eq!(ProvidersPallet::pending_rewards(&ALICE, &DAVE), 450);
		assert_eq!(ProvidersPallet::pending_rewards(&ALICE, &CHARLIE), 450 + 225);
	});
}

#[test]
fn reward_with_rounding_dust_goes_to_provider() {
	ExtBuilder::default()
		.with_provider(ALICE, 1_000, Perbill::zero(), ALICE_EXEC)
		.with_delegation(BOB, ALICE, 1_000)
		.with_delegation(CHARLIE, ALICE, 1_000)
		.build_and_execute(|| {
			assert_ok!(<ProvidersPallet as Rewards<_, _>>::reward(&PAYER, &ALICE, 100));
			let info = Providers::<Test>::get(ALICE).unwrap();
			let shares: u64 = [ALICE, BOB, CHARLIE]
				.iter()
				.map(|s| ProvidersPallet::pending_rewards(&ALICE, s))
				.sum();
			assert!(shares + info.commission_pending <= 100);
			assert!(100 - shares - info.commission_pending <= 3);
		});
}

#[test]
fn reward_fails_on_unknown_provider_or_poor_payer() {
	alice_and_bob().build_and_execute(|| {
		assert_noop!(
			<ProvidersPallet as Rewards<_, _>>::reward(&PAYER, &DAVE, 10),
			Error::<Test>::ProviderNotFound
		);
		assert_noop!(
			<ProvidersPallet as Rewards<_, _>>::reward(&PAYER, &ALICE, 0),
			Error::<Test>::ZeroAmount
		);
		assert!(<ProvidersPallet as Rewards<_, _>>::reward(&999, &ALICE, 10).is_err());
	});
}

#[test]
fn claim_fails_with_nothing_to_claim() {
	alice_and_bob().build_and_execute(|| {
		assert_noop!(
			ProvidersPallet::claim(RuntimeOrigin::signed(BOB), ALICE),
			Error::<Test>::NothingToClaim
		);
		assert_noop!(
			ProvidersPallet::claim(RuntimeOrigin::signed(BOB), DAVE),
			Error::<Test>::ProviderNotFound
		);
	});
}

// ---- set_models / set_commission / chill / unchill / deregister ----

#[test]
fn set_models_works_and_reindexes() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(ProvidersPallet::set_models(RuntimeOrigin::signed(ALICE), models(&[MODEL_B])));
		assert!(ModelProviders::<Test>::get(MODEL_A).is_empty());
		assert_eq!(ModelProviders::<Test>::get(MODEL_B).to_vec(), vec![ALICE]);
		System::assert_last_event(
			Event::ModelsUpdated { provider: ALICE, models: models(&[MODEL_B]) }.into(),
		);
	});
}

#[test]
fn set_models_fails_on_bad_input() {
	alice_and_bob().build_and_execute(|| {
		assert_noop!(
			ProvidersPallet::set_models(RuntimeOrigin::signed(BOB), models(&[MODEL_B])),
			Error::<Test>::ProviderNotFound
		);
		assert_noop!(
			ProvidersPallet::set_models(RuntimeOrigin::signed(ALICE), models(&[RETIRED_MODEL])),
			Error::<Test>::ModelNotActive
		);
		assert_ok!(register(DAVE, 200, DAVE_EXEC));
		assert_ok!(register(EVE, 200, EVE_EXEC));
		assert_ok!(ProvidersPallet::set_models(RuntimeOrigin::signed(ALICE), models(&[MODEL_B])));
		assert_ok!(register(CHARLIE, 200, 103));
		assert_ok!(ProvidersPallet::deregister(RuntimeOrigin::signed(ALICE)));
		assert_noop!(
			ProvidersPallet::set_models(RuntimeOrigin::signed(ALICE), models(&[MODEL_B])),
			Error::<Test>::ProviderLeaving
		);
	});
}

#[test]
fn set_commission_works() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(ProvidersPallet::set_commission(
			RuntimeOrigin::signed(ALICE),
			Perbill::from_percent(50)
		));
		System::assert_last_event(
			Event::CommissionUpdated { provider: ALICE, commission: Perbill::from_percent(50) }
				.into(),
		);
		assert_noop!(
			ProvidersPallet::set_commission(RuntimeOrigin::signed(BOB), Perbill::zero()),
			Error::<Test>::ProviderNotFound
		);
		assert_ok!(ProvidersPallet::deregister(RuntimeOrigin::signed(ALICE)));
		assert_noop!(
			ProvidersPallet::set_commission(RuntimeOrigin::signed(ALICE), Perbill::zero()),
			Error::<Test>::ProviderLeaving
		);
	});
}

#[test]
fn chill_and_unchill_work() {
	alice_and_bob().build_and_execute(|| {
		assert_noop!(
			ProvidersPallet::unchill(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NotChilled
		);
		assert_ok!(ProvidersPallet::chill(RuntimeOrigin::signed(ALICE)));
		System::assert_last_event(Event::Chilled { provider: ALICE }.into());
		assert_noop!(
			ProvidersPallet::chill(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::AlreadyChilled
		);
		assert!(<ProvidersPallet as ExecutorSelection<_>>::select(&MODEL_A, 1, H256::zero(), &[])
			.is_empty());
		assert_ok!(ProvidersPallet::unchill(RuntimeOrigin::signed(ALICE)));
		System::assert_last_event(Event::Unchilled { provider: ALICE }.into());
		assert_eq!(
			<ProvidersPallet as ExecutorSelection<_>>::select(&MODEL_A, 1, H256::zero(), &[]),
			vec![ALICE]
		);
		assert_noop!(
			ProvidersPallet::chill(RuntimeOrigin::signed(BOB)),
			Error::<Test>::ProviderNotFound
		);
		assert_noop!(
			ProvidersPallet::unchill(RuntimeOrigin::signed(BOB)),
			Error::<Test>::ProviderNotFound
		);
		assert_ok!(ProvidersPallet::deregister(RuntimeOrigin::signed(ALICE)));
		assert_noop!(
			ProvidersPallet::chill(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::ProviderLeaving
		);
		assert_noop!(
			ProvidersPallet::unchill(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::ProviderLeaving
		);
	});
}

#[test]
fn deregister_works_and_fails_twice() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(ProvidersPallet::deregister(RuntimeOrigin::signed(ALICE)));
		System::assert_last_event(Event::Deregistered { provider: ALICE }.into());
		assert_eq!(stake(ALICE, ALICE), 0);
		assert_eq!(Providers::<Test>::get(ALICE).unwrap().status, ProviderStatus::Leaving);
		assert_noop!(
			ProvidersPallet::deregister(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::ProviderLeaving
		);
		assert_noop!(
			ProvidersPallet::deregister(RuntimeOrigin::signed(BOB)),
			Error::<Test>::ProviderNotFound
		);
		assert!(<ProvidersPallet as ExecutorSelection<_>>::select(&MODEL_A, 1, H256::zero(), &[])
			.is_empty());
	});
}

// ---- slashing ----

#[test]
fn slash_takes_fraction_of_active_and_unbonding_stake() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(ProvidersPallet::delegate(RuntimeOrigin::signed(CHARLIE), ALICE, 1_000));
		assert_ok!(ProvidersPallet::undelegate(RuntimeOrigin::signed(CHARLIE), ALICE, 1_000));
		run_to(7);
		let before = Balances::total_issuance();
		let got = <ProvidersPallet as Slash<_, _>>::slash(&ALICE, Perbill::from_percent(10));
		// 10 % of the active pool (2,000) and of Charlie's unbonding 1,000; Alice's own part is
		// 10 % of her 1,000.
		assert_eq!(got, Slashed { total: 300, own: 100 });
		System::assert_last_event(
			Event::Slashed {
				provider: ALICE,
				fraction: Perbill::from_percent(10),
				amount: 300,
				own: 100,
			}
			.into(),
		);
		assert!(events().iter().any(|e| matches!(e, Event::Unbonded { staker: CHARLIE, .. })));
		// Burned: nobody is paid by a slash.
		assert_eq!(Balances::total_issuance(), before - 300);
		assert_eq!(stake(ALICE, ALICE), 900);
		assert_eq!(stake(ALICE, BOB), 900);
		run_to(100);
		let c0 = Balances::balance(&CHARLIE);
		assert_ok!(ProvidersPallet::withdraw(RuntimeOrigin::signed(CHARLIE), ALICE));
		assert_eq!(Balances::balance(&CHARLIE), c0 + 900);
	});
}

#[test]
fn slash_burns_and_reports_the_providers_own_part() {
	alice_and_bob().build_and_execute(|| {
		let before = Balances::total_issuance();
		assert_eq!(
			<ProvidersPallet as Slash<_, _>>::slash(&ALICE, Perbill::from_percent(50)),
			Slashed { total: 1_000, own: 500 }
		);
		assert_eq!(Balances::total_issuance(), before - 1_000);
		assert_eq!(held_total(), 1_000);
		// Unknown provider, or a zero fraction: nothing.
		assert_eq!(
			<ProvidersPallet as Slash<_, _>>::slash(&DAVE, Perbill::one()),
			Slashed::default()
		);
		assert_eq!(
			<ProvidersPallet as Slash<_, _>>::slash(&ALICE, Perbill::zero()),
			Slashed::default()
		);
	});
}

#[test]
fn slash_does_not_touch_matured_unbonding() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(ProvidersPallet::undelegate(RuntimeOrigin::signed(BOB), ALICE, u64::MAX));
		run_to(unlock_block());
		assert_eq!(
			<ProvidersPallet as Slash<_, _>>::slash(&ALICE, Perbill::from_percent(50)).total,
			500
		);
		let b0 = Balances::balance(&BOB);
		assert_ok!(ProvidersPallet::withdraw(RuntimeOrigin::signed(BOB), ALICE));
		assert_eq!(Balances::balance(&BOB), b0 + 1_000);
	});
}

#[test]
fn slash_is_order_independent_up_to_rounding() {
	let run = |first: Perbill, second: Perbill| {
		let mut out = (0, 0, 0);
		alice_and_bob().build_and_execute(|| {
			assert_ok!(ProvidersPallet::delegate(RuntimeOrigin::signed(CHARLIE), ALICE, 777));
			assert_ok!(ProvidersPallet::undelegate(RuntimeOrigin::signed(CHARLIE), ALICE, 333));
			let a = <ProvidersPallet as Slash<_, _>>::slash(&ALICE, first).total;
			let b = <ProvidersPallet as Slash<_, _>>::slash(&ALICE, second).total;
			out = (a + b, stake(ALICE, BOB), pool(ALICE).balance);
		});
		out
	};
	let x = run(Perbill::from_percent(13), Perbill::from_percent(41));
	let y = run(Perbill::from_percent(41), Perbill::from_percent(13));
	assert!(x.0.abs_diff(y.0) <= 2, "{x:?} {y:?}");
	assert!(x.1.abs_diff(y.1) <= 1);
	assert!(x.2.abs_diff(y.2) <= 1);
}

#[test]
fn slash_cost_and_result_do_not_depend_on_delegator_count() {
	// Same total stake split among 1 or 50 delegators: identical slashed amount, and the slash
	// touches only the provider record and bucket keys (no ledger is read or written).
	let run = |n: u64| {
		let mut out = 0;
		let mut b = ExtBuilder::default().with_provider(ALICE, 1_000, Perbill::zero(), ALICE_EXEC);
		for i in 0..n {
			b = b.with_delegation(1000 + i, ALICE, 500 / n);
		}
		b.build_and_execute(|| {
			let ledgers_before: Vec<_> = Stakes::<Test>::iter().collect();
			out = <ProvidersPallet as Slash<_, _>>::slash(&ALICE, Perbill::from_percent(20)).total;
			let ledgers_after: Vec<_> = Stakes::<Test>::iter().collect();
			assert_eq!(ledgers_before, ledgers_after);
		});
		out
	};
	assert_eq!(run(1), run(50));
}

#[test]
fn full_slash_then_everyone_can_leave() {
	alice_and_bob().build_and_execute(|| {
		assert_eq!(<ProvidersPallet as Slash<_, _>>::slash(&ALICE, Perbill::one()).total, 2_000);
		assert_ok!(ProvidersPallet::undelegate(RuntimeOrigin::signed(BOB), ALICE, u64::MAX));
		// Nothing to wait for: the ledger closed at once.
		assert!(Stakes::<Test>::get(ALICE, BOB).is_none());
		assert_ok!(ProvidersPallet::deregister(RuntimeOrigin::signed(ALICE)));
		assert!(Providers::<Test>::get(ALICE).is_none());
	});
}

// ---- selection ----

#[test]
fn select_is_stake_weighted_deterministic_and_filtered() {
	ExtBuilder::default()
		.with_provider(ALICE, 9_000, Perbill::zero(), ALICE_EXEC)
		.with_provider(DAVE, 1_000, Perbill::zero(), DAVE_EXEC)
		.with_provider(EVE, MIN_STAKE - 1, Perbill::zero(), EVE_EXEC)
		.build_and_execute(|| {
			let sel = |seed: u8, n, ex: &[u64]| {
				<ProvidersPallet as ExecutorSelection<_>>::select(&MODEL_A, n, H256([seed; 32]), ex)
			};
			assert_eq!(sel(1, 1, &[]), sel(1, 1, &[]));
			let alice_first = (0..200u8).filter(|s| sel(*s, 1, &[]) == vec![ALICE]).count();
			assert!(alice_first > 150, "{alice_first}");
			// EVE is below MinStake and never selected.
			let mut all = sel(3, 5, &[]);
			all.sort();
			assert_eq!(all, vec![ALICE, DAVE]);
			assert_eq!(sel(3, 5, &[ALICE]), vec![DAVE]);
			assert!(<ProvidersPallet as ExecutorSelection<_>>::select(
				&RETIRED_MODEL,
				1,
				H256::zero(),
				&[]
			)
			.is_empty());
			assert!(<ProvidersPallet as ExecutorSelection<_>>::select(
				&MODEL_B,
				1,
				H256::zero(),
				&[]
			)
			.is_empty());
		});
}

// ---- genesis, invariants, config ----

#[test]
fn genesis_registers_providers_and_delegations() {
	alice_and_bob().build_and_execute(|| {
		assert_eq!(stake(ALICE, ALICE), 1_000);
		assert_eq!(stake(ALICE, BOB), 1_000);
		assert_eq!(held_total(), 2_000);
		assert_eq!(Balances::balance(&ProvidersPallet::account_id()), ED);
	});
}

#[test]
#[should_panic(expected = "pallet-providers genesis")]
fn genesis_rejects_low_bond() {
	ExtBuilder::default().with_provider(ALICE, 1, Perbill::zero(), ALICE_EXEC).build();
}

#[test]
fn try_state_detects_broken_hold() {
	alice_and_bob().build().execute_with(|| {
		assert_ok!(ProvidersPallet::do_try_state());
		Providers::<Test>::mutate(ALICE, |i| i.as_mut().unwrap().pool.balance += 1);
		assert!(ProvidersPallet::do_try_state().is_err());
	});
}

#[test]
fn integrity_test_and_buckets() {
	use frame_support::traits::Hooks;
	<ProvidersPallet as Hooks<u64>>::integrity_test();
	assert_eq!(ProvidersPallet::bucket_span(), 5);
	assert_eq!(ProvidersPallet::unlock_era(1), 5);
	assert_eq!(ProvidersPallet::era_start(5), 25);
	// Slashable eras are bounded by the bucket count, whatever `now` is.
	for now in 0..100u64 {
		let r = ProvidersPallet::slashable_eras(now);
		assert!(r.clone().count() as u32 <= BUCKETS + 2);
		assert!(ProvidersPallet::era_start(*r.start()) > now);
	}
}

#[test]
fn unit_impls_do_nothing() {
	assert!(<() as Rewards<u64, u64>>::reward(&1, &2, 3).is_err());
	assert_eq!(<() as Slash<u64, u64>>::slash(&1, Perbill::one()), Slashed::default());
	assert!(<() as ExecutorSelection<u64>>::select(&MODEL_A, 1, H256::zero(), &[]).is_empty());
	assert_eq!(<() as ExecutorSelection<u64>>::executor_of(&1), None);
	assert_eq!(<() as ExecutorSelection<u64>>::provider_of(&1), None);
}

// ---- read API (view functions) ----

#[test]
fn provider_and_providers_of_show_stake_and_eligibility() {
	alice_and_bob().build_and_execute(|| {
		let view = ProvidersPallet::provider(ALICE).expect("registered");
		assert_eq!(view.executor, ALICE_EXEC);
		assert_eq!(view.commission, Perbill::from_percent(10));
		assert_eq!(view.models, vec![MODEL_A]);
		assert_eq!(view.status, ProviderStatus::Active);
		assert!(view.eligible);
		assert_eq!(view.active_stake, 2_000);
		assert_eq!(view.self_bond, 1_000);
		assert_eq!(view.stakers, 2);
		assert_eq!(ProvidersPallet::provider(BOB), None);
		let listed = ProvidersPallet::providers_of(MODEL_A);
		assert_eq!(
			listed,
			vec![ModelProvider { provider: ALICE, active_stake: 2_000, eligible: true }]
		);
		assert_ok!(ProvidersPallet::chill(RuntimeOrigin::signed(ALICE)));
		assert!(!ProvidersPallet::provider(ALICE).unwrap().eligible);
		assert!(!ProvidersPallet::providers_of(MODEL_A)[0].eligible);
		assert!(ProvidersPallet::providers_of(MODEL_B).is_empty());
	});
}

#[test]
fn stake_shows_active_stake_rewards_and_the_unbonding_schedule() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(<ProvidersPallet as Rewards<_, _>>::reward(&PAYER, &ALICE, 1_000));
		assert_ok!(ProvidersPallet::undelegate(RuntimeOrigin::signed(BOB), ALICE, 400));
		let unlock = unlock_block();
		let bob = ProvidersPallet::stake(ALICE, BOB).expect("Bob delegates");
		assert_eq!(bob.active, stake(ALICE, BOB));
		assert_eq!(bob.active, 600);
		assert_eq!(bob.pending_rewards, ProvidersPallet::pending_rewards(&ALICE, &BOB));
		assert_eq!(bob.pending_rewards, 450);
		assert_eq!(bob.unbonding, vec![(400, unlock)]);
		assert_eq!(ProvidersPallet::stake(ALICE, CHARLIE), None);
	});
}

/// Soundness II.6, slot squatting: puppets at the minimum stake fill every slot of a model.
/// Before the fix a newcomer was refused whatever its stake (`TooManyProvidersForModel`),
/// keeping honest stake out of the model's executions and juries; now a newcomer with more
/// stake takes the weakest slot, and one with no more stake is refused.
#[test]
fn a_full_model_takes_a_provider_with_more_stake_in_place_of_the_weakest() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(ProvidersPallet::set_models(RuntimeOrigin::signed(ALICE), models(&[MODEL_B])));
		// The squatters: three puppets at 200 fill MODEL_A (three slots in the mock).
		assert_ok!(register(DAVE, 200, DAVE_EXEC));
		assert_ok!(register(EVE, 200, EVE_EXEC));
		assert_ok!(register(CHARLIE, 200, 103));
		assert_eq!(ModelProviders::<Test>::get(MODEL_A).len(), 3);
		// Alice (2,000 with Bob's delegation) takes the slot of the first weakest puppet.
		assert_ok!(ProvidersPallet::set_models(
			RuntimeOrigin::signed(ALICE),
			models(&[MODEL_A, MODEL_B])
		));
		System::assert_has_event(
			Event::DisplacedFromModel { provider: DAVE, model: MODEL_A, by: ALICE }.into(),
		);
		let listed = ModelProviders::<Test>::get(MODEL_A);
		assert!(listed.contains(&ALICE) && !listed.contains(&DAVE));
		assert!(Providers::<Test>::get(DAVE).unwrap().models.is_empty());
		// Dave comes back with no more stake than the weakest left: refused.
		assert_noop!(
			ProvidersPallet::set_models(RuntimeOrigin::signed(DAVE), models(&[MODEL_A])),
			Error::<Test>::TooManyProvidersForModel
		);
	});
}

/// A jury: everyone eligible with its stake when they fit; otherwise `count` seats drawn by
/// stake with replacement, each juror weighing its seats; the excluded never.
#[test]
fn juries_seat_everyone_who_fits_or_draw_seats_by_stake() {
	alice_and_bob().build_and_execute(|| {
		assert_ok!(register(DAVE, 200, DAVE_EXEC));
		let jury = |count, seed: u8, exclude: &[AccountId]| {
			<ProvidersPallet as JurySelection<_>>::draw_jury(
				&MODEL_A,
				count,
				sp_core::H256::repeat_byte(seed),
				exclude,
			)
		};
		assert_eq!(jury(7, 1, &[]), vec![(ALICE, 2_000), (DAVE, 200)]);
		assert_eq!(jury(7, 1, &[DAVE]), vec![(ALICE, 2_000)]);
		// One seat, two eligible: seats are drawn.
		let one = jury(1, 2, &[]);
		assert_eq!(one.len(), 1);
		assert_eq!(one[0].1, 1);
		// Fifty draws of one seat: Alice (2,000 of 2,200) wins most.
		let dave = (0..50u8).filter(|s| jury(1, *s, &[])[0].0 == DAVE).count();
		assert!(dave > 0 && dave < 15, "{dave}");
		assert!(jury(7, 1, &[ALICE, DAVE]).is_empty());
	});
}
