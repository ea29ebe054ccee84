//! Attacks on the request life cycle, as tests ("Soundness I" in `docs/security.md`): each
//! plays an adversary with several accounts and asserts that the attack does not pay and
//! that honest parties lose nothing.

use crate::{mock::*, *};
use codec::Encode;
use frame_support::{
	assert_ok,
	dispatch::{DispatchClass, GetDispatchInfo},
	traits::{
		fungible::{Inspect, InspectHold},
		Get,
	},
	weights::Weight,
};
use verity_primitives::ModelId;

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

/// Soundness II.4, the seed a draw would have had at request time: everyone knows the parent
/// hash before the request is included.
fn parent_seed(id: RequestId, round: u32) -> sp_core::H256 {
	let parent = System::parent_hash();
	sp_core::H256(sp_io::hashing::blake2_256(&(parent, id, round).encode()))
}

/// The seed of round `round` of `id` once the parent block's author revealed `value`.
fn revealed_seed(value: sp_core::H256, id: RequestId, round: u32) -> sp_core::H256 {
	let random = sp_core::H256(sp_io::hashing::blake2_256(
		&[b"verity/assign".as_slice(), value.as_bytes()].concat(),
	));
	sp_core::H256(sp_io::hashing::blake2_256(&(random, id, round).encode()))
}

fn drawn(model: &ModelId, seed: sp_core::H256, exclude: &[AccountId]) -> AccountId {
	use verity_primitives::ExecutorSelection;
	Providers::select(model, 1, seed, exclude)[0]
}

/// A reveal whose draw for round `round` of `id` differs from `avoid`.
fn reveal_avoiding(
	id: RequestId,
	round: u32,
	avoid: AccountId,
	exclude: &[AccountId],
) -> AccountId {
	for v in 0u8.. {
		let value = sp_core::H256([v; 32]);
		let pick = drawn(&MODEL, revealed_seed(value, id, round), exclude);
		if pick != avoid {
			verity_primitives::testing::TestRandomness::<Test>::reveal(Some(value));
			return pick;
		}
	}
	unreachable!("some reveal draws another provider")
}

/// Soundness II.4: executors were drawn in the request's own call from
/// `blake2(parent_hash, id, round)`, which the requester computes before submitting, so it
/// waited for a parent hash that drew its own provider. Now nothing is drawn in the call:
/// the draw is `DrawDelay` (2) blocks later, from the VRF output of the block after the one
/// that included the request. The requester's prediction no longer decides anything.
#[test]
fn a_requester_cannot_predict_its_executor() {
	three_providers().build_and_execute(|| {
		DrawDelay::set(2);
		let id = NextRequestId::<Test>::get();
		let predicted = drawn(&MODEL, parent_seed(id, 0), &[]);
		request_by(REQUESTER, Policy::Optimistic);
		let req = Requests::<Test>::get(id).unwrap();
		assert_eq!(req.status, RequestStatus::Drawing { at: 3 });
		assert!(req.executors.is_empty());
		assert!(events().contains(&Event::DrawScheduled { request: id, at: 3 }));
		// Nobody is assigned in the meantime: no executor can post.
		for exec in [ALICE_EXEC, DAVE_EXEC, EVE_EXEC] {
			assert_eq!(Assignments::<Test>::get(exec, id), None);
		}

		// Block 2's author reveals its VRF output; block 3 draws from it.
		run_to(2);
		let expected = reveal_avoiding(id, 0, predicted, &[]);
		run_to(3);
		let req = Requests::<Test>::get(id).unwrap();
		assert_eq!(req.status, RequestStatus::Assigned { deadline: 3 + DEADLINE });
		assert_eq!(req.executors.len(), 1);
		assert_eq!(req.executors[0].provider, expected);
		assert_ne!(req.executors[0].provider, predicted, "the requester's prediction failed");
		assert_eq!(Assignments::<Test>::get(req.executors[0].executor, id), Some(0));
	});
}

/// The same for a reassignment: an executor that reports failure at a moment of its choice
/// cannot steer the request to a provider of its choice either.
#[test]
fn a_failing_executor_cannot_pick_its_successor() {
	three_providers().build_and_execute(|| {
		DrawDelay::set(2);
		let id = request_by(REQUESTER, Policy::Optimistic);
		run_to(2);
		let first = reveal_avoiding(id, 0, AccountId::MAX, &[]);
		run_to(3);
		let first_exec = Requests::<Test>::get(id).unwrap().executors[0].executor;
		assert_eq!(Requests::<Test>::get(id).unwrap().executors[0].provider, first);

		verity_primitives::testing::TestRandomness::<Test>::reveal(None);
		let predicted = drawn(&MODEL, parent_seed(id, 1), &[first]);
		assert_ok!(Inference::report_failure(RuntimeOrigin::signed(first_exec), id));
		let req = Requests::<Test>::get(id).unwrap();
		assert_eq!(req.status, RequestStatus::Drawing { at: 5 });
		assert!(req.executors.is_empty());
		assert_eq!(req.tried.to_vec(), vec![first]);

		run_to(4);
		let second = reveal_avoiding(id, 1, predicted, &[first]);
		run_to(5);
		let req = Requests::<Test>::get(id).unwrap();
		assert_eq!(req.status, RequestStatus::Assigned { deadline: 5 + DEADLINE });
		assert_eq!(req.executors[0].provider, second);
		assert_ne!(second, first, "a reassignment never returns to a tried provider");
		assert_ne!(second, predicted);
	});
}

/// Providers that leave between the request and its draw cannot strand the requester: with
/// nobody left to draw, the request is refunded in full.
#[test]
fn a_draw_with_nobody_left_refunds_the_request() {
	alice_only().build_and_execute(|| {
		DrawDelay::set(2);
		let before = Balances::free_balance(REQUESTER);
		let id = request_by(REQUESTER, Policy::Optimistic);
		assert_ok!(Providers::chill(RuntimeOrigin::signed(ALICE)));
		run_to(3);
		let req = Requests::<Test>::get(id).unwrap();
		assert_eq!(req.status, RequestStatus::Refunded { at: 3, reason: RefundReason::NoResult });
		assert_eq!(req.held, 0);
		assert!(events().contains(&Event::Refunded {
			request: id,
			amount: PRICE + EXEC_FEE,
			reason: RefundReason::NoResult
		}));
		// Only the storage deposit stays held, until the record is pruned.
		assert_eq!(Balances::free_balance(REQUESTER), before - DEPOSIT_BASE);
		run_to(3 + RETENTION);
		assert_eq!(Balances::free_balance(REQUESTER), before);
	});
}
