//! Unit tests of pallet-inference: every call and error, the timed paths, dispute conclusions
//! and receipts. `try_state` of this pallet and pallet-providers runs after each.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
	BoundedVec,
};
use sp_core::H256;
use sp_runtime::{DispatchError, TokenError};

const FEE_1: Balance = PRICE + EXEC_FEE;

fn request(policy: Policy) -> RequestId {
	let id = NextRequestId::<Test>::get();
	assert_ok!(Inference::request(
		RuntimeOrigin::signed(REQUESTER),
		MODEL,
		input(),
		10_000,
		policy
	));
	id
}

fn request_model(model: H256, policy: Policy) -> RequestId {
	let id = NextRequestId::<Test>::get();
	assert_ok!(Inference::request(
		RuntimeOrigin::signed(REQUESTER),
		model,
		input(),
		10_000,
		policy
	));
	id
}

fn receipt(id: RequestId, executor: AccountId, out: &[u8]) -> ReceiptSignature {
	let req = Requests::<Test>::get(id).unwrap();
	let msg = Inference::receipt_message_here(
		id,
		&req.model,
		&req.input_hash,
		&H256(sp_io::hashing::blake2_256(out)),
	);
	mock_sign(executor, &msg)
}

fn submit(
	id: RequestId,
	executor: AccountId,
	values: [f32; 4],
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	let out = output(values);
	let r = receipt(id, executor, &out);
	Inference::submit_result(RuntimeOrigin::signed(executor), id, out, r)
}

fn executor_of(id: RequestId, slot: usize) -> AccountId {
	Requests::<Test>::get(id).unwrap().executors[slot].executor
}

fn status(id: RequestId) -> RequestStatus<u64> {
	Requests::<Test>::get(id).unwrap().status
}

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::RequestFee.into(), &who)
}

fn free(who: AccountId) -> Balance {
	Balances::balance(&who)
}

const OUT: [f32; 4] = [0.5, 0.25, 1.0, 2.0];

// ---- request ----

#[test]
fn request_works() {
	alice_only().build_and_execute(|| {
		let before = free(REQUESTER);
		let id = request(Policy::Optimistic);
		assert_eq!(held(REQUESTER), FEE_1);
		// The fee and the storage deposit are held.
		assert_eq!(free(REQUESTER), before - FEE_1 - DEPOSIT_BASE);
		let req = Requests::<Test>::get(id).unwrap();
		assert_eq!(req.status, RequestStatus::Assigned { deadline: 1 + DEADLINE });
		assert_eq!(req.executors[0].provider, ALICE);
		assert_eq!(req.input_hash, H256(sp_io::hashing::blake2_256(&input())));
		assert_eq!(Assignments::<Test>::get(ALICE_EXEC, id), Some(0));
		assert_eq!(
			events(),
			vec![
				Event::Requested {
					request: id,
					requester: REQUESTER,
					model: MODEL,
					policy: Policy::Optimistic,
					fee: FEE_1
				},
				Event::Assigned {
					request: id,
					slot: 0,
					provider: ALICE,
					executor: ALICE_EXEC,
					deadline: 1 + DEADLINE
				},
			]
		);
	});
}

#[test]
fn request_fails_on_bad_model_policy_or_input_and_takes_nothing() {
	alice_only().build_and_execute(|| {
		let origin = || RuntimeOrigin::signed(REQUESTER);
		let req = |model, input: BoundedVec<u8, _>, max, policy| {
			Inference::request(origin(), model, input, max, policy)
		};
		assert_noop!(
			req(UNKNOWN_MODEL, input(), 10_000, Policy::Optimistic),
			Error::<Test>::ModelNotFound
		);
		assert_noop!(
			req(INACTIVE_MODEL, input(), 10_000, Policy::Optimistic),
			Error::<Test>::ModelNotActive
		);
		assert_noop!(
			req(MODEL, input(), 10_000, Policy::Redundant(1)),
			Error::<Test>::InvalidPolicy
		);
		assert_noop!(
			req(MODEL, input(), 10_000, Policy::Redundant(4)),
			Error::<Test>::InvalidPolicy
		);
		assert_noop!(
			req(MODEL, BoundedVec::truncate_from(vec![1, 2, 3]), 10_000, Policy::Optimistic),
			Error::<Test>::MalformedInput
		);
		let two = [
			verity_engine::Tensor::from_f32(vec![1, 4], &[0.0; 4]).unwrap(),
			verity_engine::Tensor::from_f32(vec![1, 4], &[0.0; 4]).unwrap(),
		];
		assert_noop!(
			req(
				MODEL,
				BoundedVec::truncate_from(verity_engine::encode_tensors(&two)),
				10_000,
				Policy::Optimistic
			),
			Error::<Test>::InputCountMismatch
		);
		let wrong_shape = [verity_engine::Tensor::from_f32(vec![1, 3], &[0.0; 3]).unwrap()];
		assert_noop!(
			req(
				MODEL,
				BoundedVec::truncate_from(verity_engine::encode_tensors(&wrong_shape)),
				10_000,
				Policy::Optimistic
			),
			Error::<Test>::InputSpecMismatch
		);
		let wrong_dtype = [verity_engine::Tensor::from_i64(vec![1, 4], &[0; 4]).unwrap()];
		assert_noop!(
			req(
				MODEL,
				BoundedVec::truncate_from(verity_engine::encode_tensors(&wrong_dtype)),
				10_000,
				Policy::Optimistic
			),
			Error::<Test>::InputSpecMismatch
		);
		assert_noop!(
			req(MODEL, input(), FEE_1 - 1, Policy::Optimistic),
			Error::<Test>::FeeAboveMax
		);
		assert_noop!(
			req(MODEL, input(), 10_000, Policy::Redundant(2)),
			Error::<Test>::NotEnoughProviders
		);
		assert_noop!(
			Inference::request(
				RuntimeOrigin::signed(POOR),
				MODEL,
				input(),
				10_000,
				Policy::Optimistic
			),
			TokenError::FundsUnavailable
		);
		assert_noop!(
			Inference::request(RuntimeOrigin::none(), MODEL, input(), 10_000, Policy::Optimistic),
			DispatchError::BadOrigin
		);
		assert_eq!(held(REQUESTER), 0);
		assert_eq!(NextRequestId::<Test>::get(), 0);
	});
}

#[test]
fn request_fails_without_providers() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Inference::request(
				RuntimeOrigin::signed(REQUESTER),
				MODEL,
				input(),
				10_000,
				Policy::Optimistic
			),
			Error::<Test>::NotEnoughProviders
		);
	});
}

#[test]
fn full_timeout_queues_push_deadlines_to_the_next_block() {
	three_providers().build_and_execute(|| {
		let ids: Vec<_> = (0..MAX_TIMEOUTS + 1).map(|_| request(Policy::Optimistic)).collect();
		assert_eq!(Timeouts::<Test>::get(1 + DEADLINE).len() as u32, MAX_TIMEOUTS);
		assert_eq!(Timeouts::<Test>::get(2 + DEADLINE).to_vec(), vec![*ids.last().unwrap()]);
		assert_eq!(
			status(*ids.last().unwrap()),
			RequestStatus::Assigned { deadline: 2 + DEADLINE }
		);
	});
}

// ---- submit_result and finalization ----

#[test]
fn optimistic_result_is_provisional_then_finalized_and_paid() {
	alice_only().build_and_execute(|| {
		let id = request(Policy::Optimistic);
		let owner_before = free(OWNER);
		let requester_before = free(REQUESTER);
		let post = submit(id, ALICE_EXEC, OUT).unwrap();
		assert_eq!(post.pays_fee, frame_support::dispatch::Pays::No);
		let hash = H256(sp_io::hashing::blake2_256(&output(OUT)));
		System::assert_last_event(
			Event::ResultProvisional { request: id, output_hash: hash, until: 1 + WINDOW }.into(),
		);
		assert_eq!(status(id), RequestStatus::Provisional { until: 1 + WINDOW });
		assert!(Assignments::<Test>::get(ALICE_EXEC, id).is_none());
		let r = Results::<Test>::get(id, 0).unwrap();
		assert_eq!((r.provider, r.output_hash), (ALICE, hash));

		run_to(WINDOW);
		assert_eq!(status(id), RequestStatus::Provisional { until: 1 + WINDOW });
		run_to(1 + WINDOW);
		assert_eq!(status(id), RequestStatus::Finalized { at: 1 + WINDOW });
		System::assert_last_event(
			Event::ResultFinalized {
				request: id,
				output_hash: hash,
				royalty: PRICE,
				execution_fees: EXEC_FEE,
			}
			.into(),
		);
		assert_eq!(held(REQUESTER), 0);
		assert_eq!(free(REQUESTER), requester_before);
		assert_eq!(free(OWNER), owner_before + PRICE);
		// 10 % commission to Alice, the rest split between Alice's and Bob's equal stakes.
		assert_eq!(pallet_providers::Providers::<Test>::get(ALICE).unwrap().commission_pending, 10);
		assert_eq!(pallet_providers::Pallet::<Test>::pending_rewards(&ALICE, &ALICE), 45);
		assert_eq!(pallet_providers::Pallet::<Test>::pending_rewards(&ALICE, &BOB), 45);
		assert_eq!(
			Requests::<Test>::get(id).unwrap().outcome,
			Some(Outcome { slot: Some(0), output_hash: hash })
		);
	});
}

#[test]
fn submit_result_fails_on_bad_caller_output_or_receipt() {
	alice_only().build_and_execute(|| {
		let id = request(Policy::Optimistic);
		assert_noop!(submit(id, DAVE_EXEC, OUT), Error::<Test>::NotAssigned);
		assert_noop!(
			Inference::submit_result(
				RuntimeOrigin::signed(ALICE_EXEC),
				id + 1,
				output(OUT),
				mock_sign(ALICE_EXEC, &[0u8; 32])
			),
			Error::<Test>::NotAssigned
		);
		let garbage: BoundedVec<u8, _> = BoundedVec::truncate_from(vec![1, 2, 3]);
		let r = receipt(id, ALICE_EXEC, &garbage);
		assert_noop!(
			Inference::submit_result(RuntimeOrigin::signed(ALICE_EXEC), id, garbage, r),
			Error::<Test>::MalformedOutput
		);
		let wrong_shape: BoundedVec<u8, _> =
			BoundedVec::truncate_from(verity_engine::encode_tensors(&[
				verity_engine::Tensor::from_f32(vec![1, 2], &[0.0; 2]).unwrap(),
			]));
		let r = receipt(id, ALICE_EXEC, &wrong_shape);
		assert_noop!(
			Inference::submit_result(RuntimeOrigin::signed(ALICE_EXEC), id, wrong_shape, r),
			Error::<Test>::MalformedOutput
		);
		// A receipt over another output, and one by another key.
		let r = receipt(id, ALICE_EXEC, &output([9.0; 4]));
		assert_noop!(
			Inference::submit_result(RuntimeOrigin::signed(ALICE_EXEC), id, output(OUT), r),
			Error::<Test>::InvalidReceipt
		);
		let r = receipt(id, DAVE_EXEC, &output(OUT));
		assert_noop!(
			Inference::submit_result(RuntimeOrigin::signed(ALICE_EXEC), id, output(OUT), r),
			Error::<Test>::InvalidReceipt
		);
		assert_ok!(submit(id, ALICE_EXEC, OUT));
		assert_noop!(submit(id, ALICE_EXEC, OUT), Error::<Test>::NotAssigned);
	});
}

/// ALICE rotates her executor key (it leaked) while it holds an assignment: the old key is
/// revoked at once and can neither post nor report a failure; the new key has no assignment
/// of its own; the slot runs to its deadline and is penalized like any missed one.
#[test]
fn a_rotated_away_executor_key_can_no_longer_submit() {
	alice_only().build_and_execute(|| {
		const NEW_EXEC: AccountId = 201;
		let id = request(Policy::Optimistic);
		assert_eq!(executor_of(id, 0), ALICE_EXEC);
		let proof = mock_sign(NEW_EXEC, &Providers::executor_proof_message(&ALICE));
		assert_ok!(Providers::set_executor(RuntimeOrigin::signed(ALICE), NEW_EXEC, proof));
		assert_noop!(submit(id, ALICE_EXEC, OUT), Error::<Test>::ExecutorRevoked);
		assert_noop!(
			Inference::report_failure(RuntimeOrigin::signed(ALICE_EXEC), id),
			Error::<Test>::ExecutorRevoked
		);
		assert_noop!(submit(id, NEW_EXEC, OUT), Error::<Test>::NotAssigned);
		let stake = <Providers as pallet_providers::ExecutorSelection<_>>::stake_weight(&ALICE);
		run_to(1 + DEADLINE);
		assert!(events().contains(&Event::DeadlineMissed {
			request: id,
			slot: 0,
			provider: ALICE,
			slashed: (stake / 100) as Balance,
			congested: false,
		}));
	});
}

#[test]
fn missed_deadline_slashes_and_reassigns_then_refunds() {
	three_providers().build_and_execute(|| {
		let id = request(Policy::Optimistic);
		let first = Requests::<Test>::get(id).unwrap().executors[0].clone();
		let stake_before =
			<Providers as pallet_providers::ExecutorSelection<_>>::stake_weight(&first.provider);
		let requester_before = free(REQUESTER);
		run_to(1 + DEADLINE);
		let slashed = (stake_before / 100) as Balance;
		assert!(events().contains(&Event::DeadlineMissed {
			request: id,
			slot: 0,
			provider: first.provider,
			slashed,
			congested: false,
		}));
		// The penalty was burned, not paid to the requester.
		assert_eq!(free(REQUESTER), requester_before);
		let req = Requests::<Test>::get(id).unwrap();
		assert_eq!(req.tried.to_vec(), vec![first.provider]);
		let second = req.executors[0].clone();
		assert_ne!(second.provider, first.provider);
		assert_eq!(req.status, RequestStatus::Assigned { deadline: 1 + 2 * DEADLINE });
		assert!(Assignments::<Test>::get(first.executor, id).is_none());
		assert_eq!(Assignments::<Test>::get(second.executor, id), Some(0));

		// MAX_ATTEMPTS = 2: the second miss refunds.
		run_to(1 + 2 * DEADLINE);
		assert_eq!(
			status(id),
			RequestStatus::Refunded { at: 1 + 2 * DEADLINE, reason: RefundReason::NoResult }
		);
		System::assert_last_event(
			Event::Refunded { request: id, amount: FEE_1, reason: RefundReason::NoResult }.into(),
		);
		assert_eq!(held(REQUESTER), 0);
	});
}

#[test]
fn reported_failure_reassigns_without_penalty_or_refunds() {
	alice_only().build_and_execute(|| {
		let id = request(Policy::Optimistic);
		let stake = <Providers as pallet_providers::ExecutorSelection<_>>::stake_weight(&ALICE);
		assert_noop!(
			Inference::report_failure(RuntimeOrigin::signed(DAVE_EXEC), id),
			Error::<Test>::NotAssigned
		);
		assert_ok!(Inference::report_failure(RuntimeOrigin::signed(ALICE_EXEC), id));
		assert!(events().contains(&Event::ExecutionFailed {
			request: id,
			slot: 0,
			provider: ALICE,
			penalty: 0
		}));
		// Nobody else serves the model: refunded at once, Alice keeps her stake.
		assert_eq!(status(id), RequestStatus::Refunded { at: 1, reason: RefundReason::NoResult });
		assert_eq!(
			<Providers as pallet_providers::ExecutorSelection<_>>::stake_weight(&ALICE),
			stake
		);
		assert_eq!(held(REQUESTER), 0);
	});
	three_providers().build_and_execute(|| {
		let id = request(Policy::Optimistic);
		let first = executor_of(id, 0);
		assert_ok!(Inference::report_failure(RuntimeOrigin::signed(first), id));
		let second = executor_of(id, 0);
		assert_ne!(first, second);
		assert!(matches!(status(id), RequestStatus::Assigned { .. }));
		assert_ok!(submit(id, second, OUT));
		assert!(matches!(status(id), RequestStatus::Provisional { .. }));
	});
}

#[test]
fn redundant_agreement_finalizes_at_once_and_pays_every_executor() {
	three_providers().build_and_execute(|| {
		let id = request(Policy::Redundant(2));
		assert_eq!(held(REQUESTER), PRICE + 2 * EXEC_FEE);
		let (a, b) = (executor_of(id, 0), executor_of(id, 1));
		assert_ok!(submit(id, a, OUT));
		assert!(matches!(status(id), RequestStatus::Assigned { .. }));
		assert_ok!(submit(id, b, OUT));
		assert_eq!(status(id), RequestStatus::Finalized { at: 1 });
		System::assert_last_event(
			Event::ResultFinalized {
				request: id,
				output_hash: H256(sp_io::hashing::blake2_256(&output(OUT))),
				royalty: PRICE,
				execution_fees: 2 * EXEC_FEE,
			}
			.into(),
		);
		assert_eq!(held(REQUESTER), 0);
	});
}

#[test]
fn redundant_agreement_uses_the_models_rule() {
	three_providers().build_and_execute(|| {
		let id = request_model(ARGMAX_MODEL, Policy::Redundant(2));
		assert_ok!(submit(id, executor_of(id, 0), [0.1, 0.2, 0.9, 0.0]));
		// Different values, same arg-max: agreement under ArgMax.
		assert_ok!(submit(id, executor_of(id, 1), [0.1, 0.3, 0.8, 0.0]));
		assert_eq!(status(id), RequestStatus::Finalized { at: 1 });
	});
}

#[test]
fn redundant_disagreement_opens_a_dispute() {
	three_providers().build_and_execute(|| {
		let id = request(Policy::Redundant(2));
		let providers: Vec<_> =
			Requests::<Test>::get(id).unwrap().executors.iter().map(|a| a.provider).collect();
		assert_ok!(submit(id, executor_of(id, 0), OUT));
		assert_ok!(submit(id, executor_of(id, 1), [0.5, 0.25, 1.0, 2.5]));
		assert_eq!(status(id), RequestStatus::Disputed);
		System::assert_last_event(Event::Disputed { request: id }.into());
		assert_eq!(
			OPENED.with(|o| o.borrow().clone()),
			vec![(id, DisputeSubject { model: MODEL, accused: providers })]
		);
		assert_eq!(held(REQUESTER), PRICE + 2 * EXEC_FEE);
		assert_eq!(
			<Inference as InferenceForDisputes<_, _>>::candidates(id),
			vec![output(OUT).into_inner(), output([0.5, 0.25, 1.0, 2.5]).into_inner()]
		);
		assert_eq!(
			<Inference as InferenceForDisputes<_, _>>::input(id),
			Some(input().into_inner())
		);
	});
}

#[test]
fn redundant_disagreement_without_disputes_refunds() {
	three_providers().build_and_execute(|| {
		DISPUTES_FAIL.with(|f| *f.borrow_mut() = true);
		let id = request(Policy::Redundant(2));
		assert_ok!(submit(id, executor_of(id, 0), OUT));
		assert_ok!(submit(id, executor_of(id, 1), [9.0; 4]));
		assert_eq!(status(id), RequestStatus::Refunded { at: 1, reason: RefundReason::Undecided });
		assert_eq!(held(REQUESTER), 0);
	});
}

#[test]
fn a_dispute_concluded_while_opening_ends_the_request() {
	three_providers().build_and_execute(|| {
		DISPUTES_CONCLUDE_AT_ONCE.with(|f| *f.borrow_mut() = true);
		let id = request(Policy::Redundant(2));
		assert_ok!(submit(id, executor_of(id, 0), OUT));
		assert_ok!(submit(id, executor_of(id, 1), [9.0; 4]));
		assert_eq!(status(id), RequestStatus::Refunded { at: 1, reason: RefundReason::Undecided });
		assert_eq!(held(REQUESTER), 0);
	});
}

/// Soundness II.3: `Redundant(k)` collapsed to one unchallengeable result when the other
/// executors failed or missed (before the fix this request was `Finalized` at the deadline).
/// Fewer than k outputs are provisional and challengeable; each posted one is paid after the
/// window.
#[test]
fn redundant_deadline_settles_on_the_posted_slots() {
	three_providers().build_and_execute(|| {
		let id = request(Policy::Redundant(2));
		let missing = Requests::<Test>::get(id).unwrap().executors[1].provider;
		assert_ok!(submit(id, executor_of(id, 0), OUT));
		run_to(1 + DEADLINE);
		assert!(events()
			.iter()
			.any(|e| matches!(e, Event::DeadlineMissed { provider, .. } if *provider == missing)));
		let output_hash = H256(sp_io::hashing::blake2_256(&output(OUT)));
		let until = 1 + DEADLINE + WINDOW;
		assert_eq!(status(id), RequestStatus::Provisional { until });
		assert!(events().contains(&Event::RedundancyNotMet { request: id, posted: 1, wanted: 2 }));
		run_to(until);
		// One posted output: finalized after the window, only its provider paid.
		assert_eq!(status(id), RequestStatus::Finalized { at: until });
		System::assert_last_event(
			Event::ResultFinalized {
				request: id,
				output_hash,
				royalty: PRICE,
				execution_fees: EXEC_FEE,
			}
			.into(),
		);
		assert_eq!(held(REQUESTER), 0);
	});
}

/// Soundness II.3, the attack as the issue states it: one executor posts, the other reports
/// failure (free). Before the fix the single output was `Finalized` in the same block; now it
/// can be challenged, and a jury that finds it wrong slashes its provider.
#[test]
fn a_failure_report_does_not_make_a_single_redundant_output_final() {
	three_providers().build_and_execute(|| {
		let id = request(Policy::Redundant(2));
		let poster = Requests::<Test>::get(id).unwrap().executors[0].provider;
		assert_ok!(submit(id, executor_of(id, 0), [9.0; 4]));
		assert_ok!(Inference::report_failure(RuntimeOrigin::signed(executor_of(id, 1)), id));
		assert_eq!(status(id), RequestStatus::Provisional { until: 1 + WINDOW });
		let subject =
			<Inference as InferenceForDisputes<_, _>>::begin_challenge(id, &CHALLENGER).unwrap();
		assert_eq!(subject.accused, vec![poster]);
		let settlement = <Inference as InferenceForDisputes<_, _>>::conclude(
			id,
			Verdict::Decided { correct: vec![false], jury_output: Some(output(OUT).to_vec()) },
		);
		assert_eq!(settlement.conclusion, Conclusion::SomeWrong);
		assert!(settlement.slashed.total > 0);
		assert!(matches!(status(id), RequestStatus::Finalized { .. }));
	});
}

#[test]
fn redundant_outputs_are_compared_with_the_first_posted_as_they_post() {
	three_providers().build_and_execute(|| {
		// Slot 2 posts first: its output is the reference; slot 0 agrees; slot 1 misses.
		let agreed = request(Policy::Redundant(3));
		assert_ok!(submit(agreed, executor_of(agreed, 2), OUT));
		assert_ok!(submit(agreed, executor_of(agreed, 0), OUT));
		let req = Requests::<Test>::get(agreed).unwrap();
		assert_eq!((req.reference, req.disagreement), (Some(2), false));

		// Slot 1 posts first; slot 2 disagrees; slot 0 misses. The disagreement is recorded
		// when slot 2 posts, and the deadline opens the dispute without comparing again.
		let split = request(Policy::Redundant(3));
		assert_ok!(submit(split, executor_of(split, 1), OUT));
		assert_ok!(submit(split, executor_of(split, 2), [0.5, 0.25, 1.0, 2.5]));
		let req = Requests::<Test>::get(split).unwrap();
		assert_eq!((req.reference, req.disagreement), (Some(1), true));
		assert_eq!(status(split), RequestStatus::Assigned { deadline: 1 + DEADLINE });

		run_to(1 + DEADLINE);
		// Two of three agreed: provisional (challengeable), then both paid.
		assert_eq!(status(agreed), RequestStatus::Provisional { until: 1 + DEADLINE + WINDOW });
		run_to(1 + DEADLINE + WINDOW);
		let req = Requests::<Test>::get(agreed).unwrap();
		assert_eq!(req.status, RequestStatus::Finalized { at: 1 + DEADLINE + WINDOW });
		assert_eq!(req.outcome.unwrap().slot, Some(2), "the reference is the outcome");
		assert!(events().iter().any(|e| matches!(
			e,
			Event::ResultFinalized { request, execution_fees, .. }
				if *request == agreed && *execution_fees == 2 * EXEC_FEE
		)));
		assert_eq!(status(split), RequestStatus::Disputed);
		assert_eq!(
			OPENED.with(|o| o.borrow().iter().map(|(id, _)| *id).collect::<Vec<_>>()),
			vec![split]
		);
	});
}

// ---- disputes interface ----

#[test]
fn begin_challenge_only_in_the_window() {
	alice_only().build_and_execute(|| {
		let id = request(Policy::Optimistic);
		assert_noop!(
			<Inference as InferenceForDisputes<_, _>>::begin_challenge(id, &CHALLENGER),
			Error::<Test>::NotProvisional
		);
		assert_noop!(
			<Inference as InferenceForDisputes<_, _>>::begin_challenge(id + 9, &CHALLENGER),
			Error::<Test>::RequestNotFound
		);
		assert_ok!(submit(id, ALICE_EXEC, OUT));
		let subject =
			<Inference as InferenceForDisputes<_, _>>::begin_challenge(id, &CHALLENGER).unwrap();
		assert_eq!(subject, DisputeSubject { model: MODEL, accused: vec![ALICE] });
		assert_eq!(status(id), RequestStatus::Disputed);
		// The window's close no longer finalizes it.
		run_to(1 + WINDOW);
		assert_eq!(status(id), RequestStatus::Disputed);
	});
	alice_only().build_and_execute(|| {
		let id = request(Policy::Optimistic);
		assert_ok!(submit(id, ALICE_EXEC, OUT));
		run_to(WINDOW);
		System::set_block_number(1 + WINDOW);
		assert_noop!(
			<Inference as InferenceForDisputes<_, _>>::begin_challenge(id, &CHALLENGER),
			Error::<Test>::ChallengeWindowClosed
		);
	});
}

fn challenged() -> RequestId {
	let id = request(Policy::Optimistic);
	assert_ok!(submit(id, ALICE_EXEC, OUT));
	assert_ok!(<Inference as InferenceForDisputes<_, _>>::begin_challenge(id, &CHALLENGER));
	id
}

#[test]
fn conclude_wrong_executor_slashes_refunds_and_records_the_jury_output() {
	alice_only().build_and_execute(|| {
		let id = challenged();
		let stake = <Providers as pallet_providers::ExecutorSelection<_>>::stake_weight(&ALICE);
		let challenger_before = free(CHALLENGER);
		let jury = output([0.5, 0.25, 1.0, 3.0]).into_inner();
		let issuance = Balances::total_issuance();
		let c = <Inference as InferenceForDisputes<_, _>>::conclude(
			id,
			Verdict::Decided { correct: vec![false], jury_output: Some(jury.clone()) },
		);
		let slashed = (stake / 10) as Balance;
		// Alice's own part: her self-bond is half of her active stake.
		let own = (PROVIDER_BOND / 10) as Balance;
		assert_eq!(
			c,
			Settlement {
				conclusion: Conclusion::SomeWrong,
				slashed: Slashed { total: slashed, own }
			}
		);
		assert!(events().contains(&Event::ExecutorSlashed {
			request: id,
			provider: ALICE,
			slashed
		}));
		// Burned: pallet-disputes pays bounded rewards from the settlement, not this pallet.
		assert_eq!(free(CHALLENGER), challenger_before);
		assert_eq!(Balances::total_issuance(), issuance - slashed);
		let hash = H256(sp_io::hashing::blake2_256(&jury));
		assert!(events().contains(&Event::ResultCorrected { request: id, output_hash: hash }));
		assert_eq!(JuryOutputs::<Test>::get(id).unwrap().into_inner(), jury);
		let req = Requests::<Test>::get(id).unwrap();
		assert_eq!(req.outcome, Some(Outcome { slot: None, output_hash: hash }));
		assert_eq!(req.status, RequestStatus::Finalized { at: 1 });
		assert_eq!(held(REQUESTER), 0);
		// A concluded request is not concluded twice.
		assert_eq!(
			<Inference as InferenceForDisputes<_, _>>::conclude(id, Verdict::NoQuorum).conclusion,
			Conclusion::Undecided
		);
	});
}

#[test]
fn conclude_correct_executor_finalizes_and_pays() {
	alice_only().build_and_execute(|| {
		let id = challenged();
		let owner_before = free(OWNER);
		let c = <Inference as InferenceForDisputes<_, _>>::conclude(
			id,
			Verdict::Decided { correct: vec![true], jury_output: None },
		);
		assert_eq!(
			c,
			Settlement { conclusion: Conclusion::AllCorrect, slashed: Slashed::default() }
		);
		assert_eq!(status(id), RequestStatus::Finalized { at: 1 });
		assert_eq!(free(OWNER), owner_before + PRICE);
		assert_eq!(held(REQUESTER), 0);
	});
}

#[test]
fn conclude_without_jury_keeps_an_optimistic_result_and_refunds_a_redundant_one() {
	alice_only().build_and_execute(|| {
		let id = challenged();
		let c = <Inference as InferenceForDisputes<_, _>>::conclude(id, Verdict::NoJury);
		assert_eq!(c.conclusion, Conclusion::Undecided);
		assert_eq!(status(id), RequestStatus::Finalized { at: 1 });
	});
	three_providers().build_and_execute(|| {
		let id = request(Policy::Redundant(2));
		assert_ok!(submit(id, executor_of(id, 0), OUT));
		assert_ok!(submit(id, executor_of(id, 1), [9.0; 4]));
		let c = <Inference as InferenceForDisputes<_, _>>::conclude(id, Verdict::NoJury);
		assert_eq!(c.conclusion, Conclusion::Undecided);
		assert_eq!(status(id), RequestStatus::Refunded { at: 1, reason: RefundReason::Undecided });
		assert_eq!(held(REQUESTER), 0);
	});
}

/// Attack: a faulty executor's result is challenged and its jury's votes are kept off the chain
/// (withheld, or lost in a flooded pool). Before, the result stood and the executor was paid.
/// A seated jury that failed to vote showed nothing: the requester is refunded and nobody is
/// paid, whatever the posted outputs were.
#[test]
fn a_starved_jury_refunds_the_requester_and_pays_no_executor() {
	alice_only().build_and_execute(|| {
		let id = challenged();
		let owner_before = free(OWNER);
		let requester_before = free(REQUESTER);
		let c = <Inference as InferenceForDisputes<_, _>>::conclude(id, Verdict::NoQuorum);
		assert_eq!(
			c,
			Settlement { conclusion: Conclusion::Undecided, slashed: Slashed::default() }
		);
		assert_eq!(status(id), RequestStatus::Refunded { at: 1, reason: RefundReason::Undecided });
		assert_eq!(free(OWNER), owner_before);
		assert_eq!(held(REQUESTER), 0);
		assert!(free(REQUESTER) > requester_before);
		assert!(!events().iter().any(|e| matches!(e, Event::ResultFinalized { .. })));
	});
}

#[test]
fn conclude_redundant_pays_the_right_and_burns_the_slash_of_the_wrong() {
	three_providers().build_and_execute(|| {
		let id = request(Policy::Redundant(2));
		let wrong = Requests::<Test>::get(id).unwrap().executors[1].provider;
		assert_ok!(submit(id, executor_of(id, 0), OUT));
		assert_ok!(submit(id, executor_of(id, 1), [9.0; 4]));
		let requester_before = free(REQUESTER);
		let c = <Inference as InferenceForDisputes<_, _>>::conclude(
			id,
			Verdict::Decided { correct: vec![true, false], jury_output: None },
		);
		assert_eq!(c.conclusion, Conclusion::SomeWrong);
		let slashed = (PROVIDER_BOND / 10) as Balance;
		assert!(events().contains(&Event::ExecutorSlashed {
			request: id,
			provider: wrong,
			slashed
		}));
		// Requester: the unpaid executor fee back, never the slash (it could be the wrong
		// provider in disguise); pays royalty and one fee.
		assert_eq!(free(REQUESTER), requester_before + PRICE + 2 * EXEC_FEE - PRICE - EXEC_FEE);
		assert_eq!(Requests::<Test>::get(id).unwrap().outcome.unwrap().slot, Some(0));
	});
}

#[test]
fn final_requests_are_pruned_after_retention() {
	alice_only().build_and_execute(|| {
		let id = request(Policy::Optimistic);
		assert_ok!(submit(id, ALICE_EXEC, OUT));
		run_to(1 + WINDOW);
		run_to(1 + WINDOW + RETENTION - 1);
		assert!(Requests::<Test>::contains_key(id));
		run_to(1 + WINDOW + RETENTION);
		assert!(!Requests::<Test>::contains_key(id));
		assert!(Results::<Test>::get(id, 0).is_none());
		System::assert_last_event(Event::Pruned { request: id, deposit: DEPOSIT_BASE }.into());
	});
}

// ---- receipts ----

#[test]
fn ecdsa_receipts_verify_against_the_executor_account_and_recover_the_eth_address() {
	use sp_core::{ecdsa, Pair};
	use sp_runtime::AccountId32;
	sp_io::TestExternalities::default().execute_with(|| {
		let pair = ecdsa::Pair::from_seed(&[7u8; 32]);
		let account = AccountId32::from(sp_io::hashing::blake2_256(pair.public().as_ref()));
		let msg =
			receipt_message(&H256([9; 32]), 3, &H256([1; 32]), &H256([2; 32]), &H256([3; 32]));
		let sig: [u8; 65] = pair.sign_prehashed(&msg).0;
		assert!(<EcdsaReceipts as ReceiptVerifier<AccountId32>>::verify(&account, &msg, &sig));
		let other = AccountId32::from([9u8; 32]);
		assert!(!<EcdsaReceipts as ReceiptVerifier<AccountId32>>::verify(&other, &msg, &sig));
		let mut bad = sig;
		bad[5] ^= 1;
		assert!(!<EcdsaReceipts as ReceiptVerifier<AccountId32>>::verify(&account, &msg, &bad));
		// What ecrecover returns: keccak256 of the uncompressed key, last 20 bytes.
		let uncompressed = libsecp_uncompressed(&pair);
		let expected = &sp_io::hashing::keccak_256(&uncompressed)[12..];
		assert_eq!(receipt_signer_address(&msg, &sig).unwrap().as_slice(), expected);
	});
}

fn libsecp_uncompressed(pair: &sp_core::ecdsa::Pair) -> [u8; 64] {
	use sp_core::Pair;
	// sp_io recovers the 64-byte key; recovering our own signature is the independent path
	// through the compressed key above.
	let msg = [42u8; 32];
	let sig = pair.sign_prehashed(&msg).0;
	let key = sp_io::crypto::secp256k1_ecdsa_recover(&sig, &msg).ok().unwrap();
	let compressed = sp_io::crypto::secp256k1_ecdsa_recover_compressed(&sig, &msg).ok().unwrap();
	assert_eq!(compressed, pair.public().0);
	assert_eq!(&key[..32], &compressed[1..]);
	key
}

#[test]
fn a_receipt_cannot_be_replayed_on_another_chain() {
	// Chain A: Alice's executor posts a result and signs its receipt.
	let (signature, message_a) = alice_only().build().execute_with(|| {
		let id = request(Policy::Optimistic);
		assert_ok!(submit(id, executor_of(id, 0), OUT));
		let receipt = Inference::result_info(id).unwrap().receipt.unwrap();
		(receipt.signature, receipt.message)
	});
	// Chain B: the same genesis state (same ids, model, input, executor), another genesis
	// hash. The receipt made for chain A must not count here.
	alice_only().build_and_execute(|| {
		frame_system::BlockHash::<Test>::insert(0, H256([0x42; 32]));
		let id = request(Policy::Optimistic);
		let exec = executor_of(id, 0);
		assert_noop!(
			Inference::submit_result(RuntimeOrigin::signed(exec), id, output(OUT), signature),
			Error::<Test>::InvalidReceipt
		);
		assert_ok!(submit(id, exec, OUT));
		let message_b = Inference::result_info(id).unwrap().receipt.unwrap().message;
		assert_ne!(message_a, message_b);
	});
}

#[test]
fn receipt_message_matches_abi_encode_packed() {
	// keccak256(abi.encodePacked("verity/receipt", uint8(2), bytes32 genesisHash,
	//                           uint64 requestId, bytes32 model, bytes32 inputHash,
	//                           bytes32 outputHash))
	let genesis = H256([0x99; 32]);
	let msg =
		receipt_message(&genesis, 0x0102, &H256([0xaa; 32]), &H256([0xbb; 32]), &H256([0xcc; 32]));
	let mut packed = b"verity/receipt".to_vec();
	packed.push(2);
	packed.extend_from_slice(&[0x99; 32]);
	packed.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 2]);
	packed.extend_from_slice(&[0xaa; 32]);
	packed.extend_from_slice(&[0xbb; 32]);
	packed.extend_from_slice(&[0xcc; 32]);
	assert_eq!(msg, sp_io::hashing::keccak_256(&packed));
	// Another chain, another message.
	let other = receipt_message(
		&H256([0x98; 32]),
		0x0102,
		&H256([0xaa; 32]),
		&H256([0xbb; 32]),
		&H256([0xcc; 32]),
	);
	assert_ne!(msg, other);
}

/// The setup pallet-inference's benchmarking module offers runtimes.
#[cfg(feature = "runtime-benchmarks")]
mod benchmark_setup {
	use super::*;
	use crate::benchmarking::{
		challengeable_request, ecdsa_executor, ecdsa_receipt, BENCH_KEY_TYPE,
	};
	use sp_runtime::{traits::IdentifyAccount, AccountId32, MultiSigner};

	#[test]
	fn ecdsa_executor_keys_sign_receipts_ecdsa_receipts_accepts() {
		let mut ext = sp_io::TestExternalities::new_empty();
		ext.register_extension(sp_keystore::KeystoreExt::new(
			sp_keystore::testing::MemoryKeystore::new(),
		));
		ext.execute_with(|| {
			let provider = AccountId32::new([7u8; 32]);
			let executor: AccountId32 = ecdsa_executor(&provider);
			// Deterministic, and the account of the key as a `MultiSigner`.
			assert_eq!(ecdsa_executor::<AccountId32>(&provider), executor);
			let keys = sp_io::crypto::ecdsa_public_keys(BENCH_KEY_TYPE);
			assert_eq!(keys.len(), 1);
			assert_eq!(MultiSigner::from(keys[0]).into_account(), executor);

			let message = [9u8; 32];
			let receipt = ecdsa_receipt(&provider, &message);
			assert!(<EcdsaReceipts as ReceiptVerifier<AccountId32>>::verify(
				&executor, &message, &receipt
			));
			assert!(!<EcdsaReceipts as ReceiptVerifier<AccountId32>>::verify(
				&executor, &[8u8; 32], &receipt
			));
			let other: AccountId32 = ecdsa_executor(&AccountId32::new([8u8; 32]));
			assert_ne!(other, executor);
			assert!(!<EcdsaReceipts as ReceiptVerifier<AccountId32>>::verify(
				&other, &message, &receipt
			));
		});
	}

	#[test]
	fn challengeable_request_is_challenged_on_every_candidate() {
		ExtBuilder::default().build_and_execute(|| {
			let id = challengeable_request::<Test>(3, 1);
			let subject = <Inference as InferenceForDisputes<AccountId, Balance>>::begin_challenge(
				id,
				&CHALLENGER,
			)
			.expect("challengeable");
			assert_eq!(subject.accused.len(), 3);
			let candidates =
				<Inference as InferenceForDisputes<AccountId, Balance>>::candidates(id);
			assert_eq!(candidates.len(), 3);
			assert!(candidates.iter().all(|c| c.len() == 256));
			// Eligible providers besides the accused remain for a jury.
			let jury = <Providers as pallet_providers::ExecutorSelection<AccountId>>::select(
				&subject.model,
				1,
				H256::zero(),
				&subject.accused,
			);
			assert_eq!(jury.len(), 1);
			let verdict = Verdict::Decided {
				correct: vec![false; 3],
				jury_output: Some(candidates[0].clone()),
			};
			assert_eq!(
				<Inference as InferenceForDisputes<AccountId, Balance>>::conclude(id, verdict)
					.conclusion,
				Conclusion::SomeWrong
			);
			assert!(matches!(
				Requests::<Test>::get(id).map(|r| r.status),
				Some(RequestStatus::Finalized { .. })
			));
		});
	}
}

// ---- read API (view functions) ----

#[test]
fn quote_is_the_fee_request_holds_or_the_error_it_gives() {
	alice_only().build_and_execute(|| {
		assert_eq!(Inference::quote(MODEL, Policy::Optimistic).ok(), Some(FEE_1));
		assert_eq!(Inference::quote(MODEL, Policy::Redundant(2)).ok(), Some(PRICE + 2 * EXEC_FEE));
		assert!(matches!(
			Inference::quote(MODEL, Policy::Redundant(1)),
			Err(Error::<Test>::InvalidPolicy)
		));
		assert!(matches!(
			Inference::quote(INACTIVE_MODEL, Policy::Optimistic),
			Err(Error::<Test>::ModelNotActive)
		));
		assert!(matches!(
			Inference::quote(UNKNOWN_MODEL, Policy::Optimistic),
			Err(Error::<Test>::ModelNotFound)
		));
		let before = held(REQUESTER);
		request(Policy::Optimistic);
		assert_eq!(held(REQUESTER) - before, FEE_1);
	});
}

#[test]
fn request_info_and_result_info_show_tensors_and_the_receipt() {
	alice_only().build_and_execute(|| {
		assert_eq!(Inference::request_info(999), None);
		let id = request(Policy::Optimistic);
		let view = Inference::request_info(id).expect("made");
		assert_eq!(view.requester, REQUESTER);
		assert_eq!(view.model, MODEL);
		assert_eq!(verity_engine::encode_tensors(&view.input), input().to_vec());
		assert_eq!(view.input_hash, H256(sp_io::hashing::blake2_256(&input())));
		assert_eq!(view.held, FEE_1);
		assert_eq!(view.executors.len(), 1);
		assert_eq!(Inference::result_info(id), None);

		let exec = executor_of(id, 0);
		assert_ok!(submit(id, exec, OUT));
		let result = Inference::result_info(id).expect("posted");
		assert_eq!(verity_engine::encode_tensors(&result.output), output(OUT).to_vec());
		assert_eq!(result.output_hash, H256(sp_io::hashing::blake2_256(&output(OUT))));
		assert_eq!(result.provider, Some(ALICE));
		assert!(!result.settled);
		let posted = result.receipt.expect("an executor's receipt");
		assert_eq!(
			posted.message,
			Inference::receipt_message_here(id, &MODEL, &view.input_hash, &result.output_hash)
		);
		assert_eq!(posted.signature, receipt(id, exec, &output(OUT)));
		assert_eq!(posted.executor, Some(exec));
	});
}

// ---- Soundness II: juries that can be formed, bounded failure reports ----

/// Soundness II.5: with one provider, a challenge finds no juror and the provisional result
/// stands. A request is refused unless `k + MinJurors` eligible providers serve the model.
#[test]
fn a_request_needs_providers_left_for_a_jury() {
	alice_only().build_and_execute(|| {
		MinJurors::<Test>::put(1);
		assert_noop!(
			Inference::request(
				RuntimeOrigin::signed(REQUESTER),
				MODEL,
				input(),
				10_000,
				Policy::Optimistic
			),
			Error::<Test>::JuryUnavailable
		);
	});
	three_providers().build_and_execute(|| {
		MinJurors::<Test>::put(1);
		// 2 executors + 1 juror of 3 providers: accepted; 3 + 1 is not.
		let id = request(Policy::Redundant(2));
		assert_eq!(Requests::<Test>::get(id).unwrap().executors.len(), 2);
		assert_noop!(
			Inference::request(
				RuntimeOrigin::signed(REQUESTER),
				MODEL,
				input(),
				10_000,
				Policy::Redundant(3)
			),
			Error::<Test>::JuryUnavailable
		);
		// The executors are the draw of `k` alone (the extra pick only checks the jury).
		MinJurors::<Test>::put(0);
		let id2 = NextRequestId::<Test>::get();
		let drawn = <Providers as pallet_providers::ExecutorSelection<_>>::select(
			&MODEL,
			2,
			H256(sp_io::hashing::blake2_256(&codec::Encode::encode(&(
				System::parent_hash(),
				id2,
				0u32,
			)))),
			&[],
		);
		request(Policy::Redundant(2));
		let got: Vec<_> =
			Requests::<Test>::get(id2).unwrap().executors.iter().map(|a| a.provider).collect();
		assert_eq!(got, drawn);
	});
}

/// Failure reports are free up to `FREE_FAILURES` per provider and `FAILURE_WINDOW`; beyond
/// that each costs the missed-deadline penalty, so a provider cannot re-roll every assignment
/// it is given. A new window starts free again.
#[test]
fn failure_reports_beyond_the_allowance_are_penalized() {
	alice_only().build_and_execute(|| {
		let weight = || <Providers as pallet_providers::ExecutorSelection<_>>::stake_weight(&ALICE);
		let penalties = |from: usize| -> Vec<Balance> {
			events()[from..]
				.iter()
				.filter_map(|e| match e {
					Event::ExecutionFailed { penalty, .. } => Some(*penalty),
					_ => None,
				})
				.collect()
		};
		let before = weight();
		let from = events().len();
		for _ in 0..FREE_FAILURES + 1 {
			let id = request(Policy::Optimistic);
			assert_ok!(Inference::report_failure(RuntimeOrigin::signed(ALICE_EXEC), id));
		}
		let paid = penalties(from);
		assert_eq!(paid.len() as u32, FREE_FAILURES + 1);
		assert!(paid[..FREE_FAILURES as usize].iter().all(|p| *p == 0));
		assert!(paid[FREE_FAILURES as usize] > 0);
		assert_eq!(weight(), before - paid[FREE_FAILURES as usize] as u128);

		run_to(1 + FAILURE_WINDOW);
		let from = events().len();
		let id = request(Policy::Optimistic);
		assert_ok!(Inference::report_failure(RuntimeOrigin::signed(ALICE_EXEC), id));
		assert_eq!(penalties(from), vec![0]);
	});
}

/// A challenged result whose outputs agreed stands without quorum, each posted output paid
/// (fewer than k of a redundant request); disagreeing outputs are refunded.
#[test]
fn no_jury_keeps_agreeing_outputs_and_refunds_disagreeing_ones() {
	three_providers().build_and_execute(|| {
		let id = request(Policy::Redundant(3));
		assert_ok!(submit(id, executor_of(id, 0), OUT));
		assert_ok!(submit(id, executor_of(id, 1), OUT));
		assert_ok!(Inference::report_failure(RuntimeOrigin::signed(executor_of(id, 2)), id));
		assert!(matches!(status(id), RequestStatus::Provisional { .. }));
		<Inference as InferenceForDisputes<_, _>>::begin_challenge(id, &CHALLENGER).unwrap();
		<Inference as InferenceForDisputes<_, _>>::conclude(id, Verdict::NoJury);
		assert_eq!(status(id), RequestStatus::Finalized { at: 1 });
		assert!(events().iter().any(|e| matches!(
			e,
			Event::ResultFinalized { request, execution_fees, .. }
				if *request == id && *execution_fees == 2 * EXEC_FEE
		)));
		assert_eq!(OpenRequests::<Test>::get(MODEL), 0);
	});
}
