//! Attacks on the request life cycle, as tests ("Soundness I" in `docs/security.md`): each
//! plays an adversary with several accounts and asserts that the attack does not pay and
//! that honest parties lose nothing.

use crate::{mock::*, *};
use frame_support::{
	assert_ok,
	dispatch::{DispatchClass, GetDispatchInfo},
	traits::{
		fungible::{Inspect, InspectHold},
		Get,
	},
	weights::Weight,
};

fn request_by(who: AccountId, policy: Policy) -> RequestId {
	let id = NextRequestId::<Test>::get();
	assert_ok!(Inference::request(RuntimeOrigin::signed(who), MODEL, input(), 10_000, policy));
	id
}

/// Alice's executor receipt for posting `out` on request `id`.
fn alice_receipt(id: RequestId, out: &[u8]) -> ReceiptSignature {
	let req = Requests::<Test>::get(id).unwrap();
	let output_hash = sp_core::H256(sp_io::hashing::blake2_256(out));
	mock_sign(
		ALICE_EXEC,
		&Inference::receipt_message_here(id, &req.model, &req.input_hash, &output_hash),
	)
}

/// Everything `who` owns: free, held, and its stake with every provider.
fn wealth(who: AccountId) -> Balance {
	let stake: Balance = [ALICE, DAVE, EVE]
		.iter()
		.map(|p| pallet_providers::Pallet::<Test>::stake_of(p, &who))
		.sum();
	Balances::total_balance(&who) + stake
}

/// Attack 1: a provider's second account requests and the provider never serves. The old
/// penalty (1 % of the pool, delegators' stake included, paid to the requester) made each miss
/// pay the coalition. Now it is burned: the coalition only loses.
#[test]
fn missed_deadlines_of_ones_own_requests_do_not_pay() {
	alice_only().build_and_execute(|| {
		// REQUESTER is Alice's puppet; BOB is Alice's honest delegator.
		let coalition = wealth(ALICE) + wealth(REQUESTER);
		let bob = wealth(BOB);
		let issuance = Balances::total_issuance();
		for _ in 0..5 {
			request_by(REQUESTER, Policy::Optimistic);
		}
		// Nobody serves; MAX_ATTEMPTS rounds miss (Alice is the only provider: one round).
		run_to(1 + DEADLINE + 1);
		let slashed: Balance = events()
			.iter()
			.filter_map(|e| match e {
				Event::DeadlineMissed { slashed, .. } => Some(*slashed),
				_ => None,
			})
			.sum();
		assert!(slashed > 0, "the misses were penalized");
		assert!(wealth(ALICE) + wealth(REQUESTER) < coalition, "the attack lost money");
		// Every penalty was burned, none paid out.
		assert_eq!(Balances::total_issuance(), issuance - slashed);
		// The honest delegator lost with Alice (it chose her): that is the delegation's risk,
		// and the attacker gained none of it.
		assert!(wealth(BOB) < bob);
	});
}

/// Attack 1 by an outsider, attack 5 (congestion): filling blocks so that results miss their
/// deadline must not cost the honest provider anything.
#[test]
fn a_deadline_missed_while_blocks_were_full_is_not_penalized() {
	alice_only().build_and_execute(|| {
		let stake = pallet_providers::Pallet::<Test>::stake_of(&ALICE, &ALICE);
		let id = request_by(REQUESTER, Policy::Optimistic);
		// An attacker fills block 2 with Normal-class transactions.
		run_to(2);
		let max = <<Test as frame_system::Config>::BlockWeights as Get<
			frame_system::limits::BlockWeights,
		>>::get()
		.get(DispatchClass::Normal)
		.max_total
		.unwrap_or(Weight::MAX);
		frame_system::Pallet::<Test>::register_extra_weight_unchecked(max, DispatchClass::Normal);
		assert!(Inference::is_congested());
		run_to(1 + DEADLINE);
		assert!(events().contains(&Event::DeadlineMissed {
			request: id,
			slot: 0,
			provider: ALICE,
			slashed: 0,
			congested: true,
		}));
		assert_eq!(pallet_providers::Pallet::<Test>::stake_of(&ALICE, &ALICE), stake);
		assert_eq!(LastCongested::<Test>::get(), Some(2));
	});
}

/// Without congestion, the same miss is penalized (the test above is not vacuous).
#[test]
fn a_deadline_missed_in_quiet_blocks_is_penalized() {
	alice_only().build_and_execute(|| {
		let stake = pallet_providers::Pallet::<Test>::stake_of(&ALICE, &ALICE);
		request_by(REQUESTER, Policy::Optimistic);
		run_to(1 + DEADLINE);
		assert!(pallet_providers::Pallet::<Test>::stake_of(&ALICE, &ALICE) < stake);
		assert_eq!(LastCongested::<Test>::get(), None);
	});
}

/// Attack 5: executors' calls are Operational (a share of every block that Normal-class
/// request spam cannot take) and charge the weight of what they did.
#[test]
fn executor_calls_are_operational_and_return_actual_weight() {
	alice_only().build_and_execute(|| {
		let id = request_by(REQUESTER, Policy::Optimistic);
		let out = output([1.0; 4]);
		let receipt = alice_receipt(id, &out);
		let call = crate::Call::<Test>::submit_result { request: id, output: out.clone(), receipt };
		assert_eq!(call.get_dispatch_info().class, DispatchClass::Operational);
		let post =
			Inference::submit_result(RuntimeOrigin::signed(ALICE_EXEC), id, out.clone(), receipt)
				.unwrap();
		assert_eq!(
			post.actual_weight,
			Some(<() as WeightInfo>::submit_result(out.len() as u32, 1))
		);
		assert_eq!(
			crate::Call::<Test>::report_failure { request: id }.get_dispatch_info().class,
			DispatchClass::Operational
		);
	});
}

/// Attack 7: a request stores up to its input and `k` outputs for `RetentionPeriod`; it holds
/// a storage deposit for that time, released when the request is pruned.
#[test]
fn requests_hold_a_storage_deposit_until_pruned() {
	alice_only().build_and_execute(|| {
		let reason = HoldReason::StorageDeposit.into();
		let id = request_by(REQUESTER, Policy::Optimistic);
		assert_eq!(Balances::balance_on_hold(&reason, &REQUESTER), DEPOSIT_BASE);
		assert_eq!(Deposits::<Test>::get(id), Some(DEPOSIT_BASE));
		let out = output([1.0; 4]);
		let receipt = alice_receipt(id, &out);
		assert_ok!(Inference::submit_result(RuntimeOrigin::signed(ALICE_EXEC), id, out, receipt));
		run_to(1 + WINDOW + RETENTION);
		assert!(Requests::<Test>::get(id).is_none());
		assert_eq!(Balances::balance_on_hold(&reason, &REQUESTER), 0);
		assert_eq!(Deposits::<Test>::get(id), None);
		// The per-byte part covers the input and `k` outputs of the largest size.
		let max_out = <<Test as Config>::MaxOutputLen as Get<u32>>::get() as Balance;
		assert_eq!(
			Inference::deposit_for(100, 2),
			DEPOSIT_BASE + DEPOSIT_PER_BYTE * (100 + 2 * max_out)
		);
	});
}

/// A requester without the deposit cannot request, and nothing is held.
#[test]
fn request_fails_without_the_storage_deposit_and_takes_nothing() {
	alice_only().build_and_execute(|| {
		// POOR has 50: the fee (PRICE + EXEC_FEE = 130) is already out of reach; give it exactly
		// the fee so the deposit is what is missing.
		let fee = PRICE + EXEC_FEE;
		assert_ok!(Balances::force_set_balance(RuntimeOrigin::root(), POOR, fee + ED));
		assert!(Inference::request(
			RuntimeOrigin::signed(POOR),
			MODEL,
			input(),
			10_000,
			Policy::Optimistic
		)
		.is_err());
		assert_eq!(Balances::total_balance_on_hold(&POOR), 0);
	});
}
