//! Audits of provisional results (Soundness II, attack 12: "nobody is paid to watch"). Each
//! test plays the executor or the auditor trying to profit, and asserts it does not.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};
use sp_core::H256;
use sp_runtime::Perbill;
use std::collections::BTreeMap;
use verity_primitives::{Conclusion, InferenceForDisputes};

const OUT: [f32; 4] = [0.5, 0.25, 1.0, 2.0];
const WRONG: [f32; 4] = [9.0, 9.0, 9.0, 9.0];

/// An optimistic request by `REQUESTER` of `MODEL`; returns its id.
fn request_optimistic() -> RequestId {
	let id = NextRequestId::<Test>::get();
	assert_ok!(Inference::request(
		RuntimeOrigin::signed(REQUESTER),
		MODEL,
		input(),
		10_000,
		Policy::Optimistic
	));
	id
}

/// The executor of request `id` (drawn) posts `values` with its receipt; returns the
/// assignment.
fn post(id: RequestId, values: [f32; 4]) -> Assignment<AccountId> {
	let req = Requests::<Test>::get(id).unwrap();
	let a = req.executors[0].clone();
	let out = output(values);
	let hash = H256(sp_io::hashing::blake2_256(&out));
	let receipt =
		mock_sign(a.executor, &Inference::receipt_message_here(id, &MODEL, &req.input_hash, &hash));
	assert_ok!(Inference::submit_result(RuntimeOrigin::signed(a.executor), id, out, receipt));
	a
}

/// An optimistic request whose executor posted `values`; returns its id and the executor's
/// provider.
fn provisional(values: [f32; 4]) -> (RequestId, AccountId) {
	let id = request_optimistic();
	let a = post(id, values);
	assert!(matches!(Requests::<Test>::get(id).unwrap().status, RequestStatus::Provisional { .. }));
	(id, a.provider)
}

/// With every result audited and draws 2 blocks after their cause: an optimistic request
/// whose executor posts a right output in block 3; returns it and the assignment.
fn posted_in_block_3_with_a_draw_delay() -> (RequestId, Assignment<AccountId>) {
	DrawDelay::set(2);
	crate::AuditRate::<Test>::put(Perbill::one());
	let id = request_optimistic();
	run_to(3);
	(id, post(id, OUT))
}

/// The auditor drawn for `id`: (provider, executor key).
fn auditor(id: RequestId) -> (AccountId, AccountId) {
	match Audits::<Test>::get(id) {
		Some(Audit::Assigned { provider, executor }) => (provider, executor),
		other => panic!("no assigned audit: {other:?}"),
	}
}

fn stake(provider: AccountId) -> Balance {
	pallet_providers::Pallet::<Test>::stake_of(&provider, &provider)
}

fn conclude(id: RequestId, correct: bool) -> Conclusion {
	let jury_output = (!correct).then(|| output(OUT).into_inner());
	<Inference as InferenceForDisputes<_, _>>::conclude(
		id,
		Verdict::Decided { correct: vec![correct], jury_output },
	)
	.conclusion
}

/// The attack: a provider posts garbage (saving the work) and nobody challenges. Before audits
/// it was finalized and paid at the window's close. Now an auditor, drawn among the other
/// providers, re-executes, disagrees, and the dispute it raises slashes the executor.
#[test]
fn a_wrong_result_nobody_challenges_is_caught_by_an_audit() {
	three_providers().build_and_execute(|| {
		crate::AuditRate::<Test>::put(Perbill::one());
		let (id, cheat) = provisional(WRONG);
		let before = stake(cheat);
		let (provider, executor) = auditor(id);
		assert_ne!(provider, cheat, "an executor never audits its own result");
		assert!(events().contains(&Event::AuditAssigned { request: id, provider, executor }));

		assert_ok!(Inference::audit(RuntimeOrigin::signed(executor), id, AuditFinding::Disagrees));
		assert_eq!(Requests::<Test>::get(id).unwrap().status, RequestStatus::Disputed);
		// The auditor raised the dispute: pallet-disputes keeps it off the jury and rewards it
		// like a challenger.
		assert_eq!(RAISED_BY.with(|r| r.borrow().clone()), vec![(id, Some(provider))]);

		assert_eq!(conclude(id, false), Conclusion::SomeWrong);
		assert!(stake(cheat) < before, "the cheating executor was slashed");
		assert!(!events().iter().any(|e| matches!(e, Event::AuditorSlashed { .. })));
		assert_eq!(Audits::<Test>::get(id), None);
		assert_eq!(AuditAssignments::<Test>::iter().count(), 0);
	});
}

/// Without audits (rate 0) the same garbage is paid: the test above is not vacuous.
#[test]
fn without_audits_a_wrong_result_nobody_challenges_is_paid() {
	three_providers().build_and_execute(|| {
		let (id, _) = provisional(WRONG);
		assert_eq!(Audits::<Test>::get(id), None);
		run_to(1 + WINDOW);
		assert_eq!(Requests::<Test>::get(id).unwrap().status, RequestStatus::Finalized {
			at: 1 + WINDOW
		});
		assert!(events().iter().any(|e| matches!(
			e,
			Event::ResultFinalized { request, execution_fees, .. } if *request == id && *execution_fees == EXEC_FEE
		)));
	});
}

/// An honest audit is paid `AuditShare` of the executor's fee when the result is final; the
/// requester pays exactly what an unaudited request costs.
#[test]
fn an_honest_audit_is_paid_from_the_execution_fee() {
	three_providers().build_and_execute(|| {
		crate::AuditRate::<Test>::put(Perbill::one());
		let requester = Balances::balance(&REQUESTER);
		let (id, _) = provisional(OUT);
		let (provider, executor) = auditor(id);
		assert_ok!(Inference::audit(RuntimeOrigin::signed(executor), id, AuditFinding::Agrees));
		assert_eq!(Audits::<Test>::get(id), Some(Audit::Agreed { provider }));
		// Reported once only.
		assert_noop!(
			Inference::audit(RuntimeOrigin::signed(executor), id, AuditFinding::Agrees),
			Error::<Test>::NotAuditor
		);
		run_to(1 + WINDOW);
		let share = EXEC_FEE / 2;
		assert!(events().contains(&Event::AuditorPaid { request: id, provider, amount: share }));
		assert!(events().iter().any(|e| matches!(
			e,
			Event::ResultFinalized { request, execution_fees, .. }
				if *request == id && *execution_fees == EXEC_FEE - share
		)));
		let deposit = Deposits::<Test>::get(id).unwrap();
		assert_eq!(Balances::balance(&REQUESTER), requester - PRICE - EXEC_FEE - deposit);
	});
}

/// The lazy auditor: it reports `Agrees` without running the model. When someone else shows
/// the result wrong, the auditor's stake answers for its vouching.
#[test]
fn an_auditor_that_vouched_for_a_wrong_result_is_slashed() {
	three_providers().build_and_execute(|| {
		crate::AuditRate::<Test>::put(Perbill::one());
		let (id, _) = provisional(WRONG);
		let (provider, executor) = auditor(id);
		assert_ok!(Inference::audit(RuntimeOrigin::signed(executor), id, AuditFinding::Agrees));
		let before = stake(provider);
		assert_ok!(<Inference as InferenceForDisputes<_, _>>::begin_challenge(id, &CHALLENGER));
		assert_eq!(conclude(id, false), Conclusion::SomeWrong);
		assert!(stake(provider) < before);
		assert!(events()
			.iter()
			.any(|e| matches!(e, Event::AuditorSlashed { provider: p, .. } if *p == provider)));
		assert!(!events().iter().any(|e| matches!(e, Event::AuditorPaid { .. })));
	});
}

/// The griefing auditor: it alarms over a right result to delay and burden the executor. The
/// jury upholds the result and the false alarm costs the auditor, not the executor.
#[test]
fn a_false_alarm_costs_the_auditor() {
	three_providers().build_and_execute(|| {
		crate::AuditRate::<Test>::put(Perbill::one());
		let (id, executor_provider) = provisional(OUT);
		let (provider, executor) = auditor(id);
		let (auditor_before, executor_before) = (stake(provider), stake(executor_provider));
		assert_ok!(Inference::audit(RuntimeOrigin::signed(executor), id, AuditFinding::Disagrees));
		assert_eq!(conclude(id, true), Conclusion::AllCorrect);
		assert!(stake(provider) < auditor_before);
		assert_eq!(stake(executor_provider), executor_before);
		assert!(!events().iter().any(|e| matches!(e, Event::AuditorPaid { .. })));
		assert!(events().iter().any(|e| matches!(
			e,
			Event::ResultFinalized { request, execution_fees, .. }
				if *request == id && *execution_fees == EXEC_FEE
		)));
	});
}

/// The silent auditor: drawn, it never reports. It is penalized like a missed deadline; the
/// result is final and the executor paid in full.
#[test]
fn a_silent_auditor_is_penalized() {
	three_providers().build_and_execute(|| {
		crate::AuditRate::<Test>::put(Perbill::one());
		let (id, _) = provisional(OUT);
		let (provider, _) = auditor(id);
		let before = stake(provider);
		run_to(1 + WINDOW);
		assert!(stake(provider) < before);
		assert!(events().iter().any(
			|e| matches!(e, Event::AuditMissed { provider: p, slashed, .. } if *p == provider && *slashed > 0)
		));
		assert_eq!(AuditAssignments::<Test>::iter().count(), 0);
	});
}

/// A report after the window closed, or by anyone but the drawn auditor, is refused.
#[test]
fn only_the_drawn_auditor_reports_and_only_in_the_window() {
	three_providers().build_and_execute(|| {
		crate::AuditRate::<Test>::put(Perbill::one());
		let (id, _) = provisional(OUT);
		let (_, executor) = auditor(id);
		let exec = Requests::<Test>::get(id).unwrap().executors[0].executor;
		assert_noop!(
			Inference::audit(RuntimeOrigin::signed(exec), id, AuditFinding::Agrees),
			Error::<Test>::NotAuditor
		);
		// Challenged by someone else first: the audit is called off.
		assert_ok!(<Inference as InferenceForDisputes<_, _>>::begin_challenge(id, &CHALLENGER));
		assert_noop!(
			Inference::audit(RuntimeOrigin::signed(executor), id, AuditFinding::Agrees),
			Error::<Test>::NotAuditor
		);
		assert_eq!(Audits::<Test>::get(id), None);
	});
}

/// The executor posts when it likes: were the sample drawn from what the block knows when it
/// posts, it would post only in blocks that skip the audit. The sample is drawn `DrawDelay`
/// blocks later, from randomness revealed after its post.
#[test]
fn an_executor_cannot_time_its_post_to_dodge_the_sample() {
	three_providers().build_and_execute(|| {
		let (id, a) = posted_in_block_3_with_a_draw_delay();
		// Nothing is decided in the post's block.
		assert_eq!(Audits::<Test>::get(id), Some(Audit::Drawing { at: 5 }));
		assert!(events().contains(&Event::AuditScheduled { request: id, at: 5 }));
		assert_eq!(AuditAssignments::<Test>::iter().count(), 0);
		run_to(5);
		let (provider, _) = auditor(id);
		assert_ne!(provider, a.provider);
	});
}

/// The sample rate holds over many draws (no seed bias): 2,000 results at 20 %.
#[test]
fn the_sample_rate_holds_over_many_seeds() {
	three_providers().build_and_execute(|| {
		crate::AuditRate::<Test>::put(Perbill::from_percent(20));
		let req = {
			let (id, _) = provisional(OUT);
			Requests::<Test>::get(id).unwrap()
		};
		let mut sampled = 0;
		for i in 0..2_000u32 {
			let seed = H256(sp_io::hashing::blake2_256(&i.to_le_bytes()));
			Audits::<Test>::remove(1_000_000);
			Inference::draw_audit(1_000_000, &req, seed);
			if let Some(Audit::Assigned { executor, .. }) = Audits::<Test>::take(1_000_000) {
				AuditAssignments::<Test>::remove(executor, 1_000_000);
				sampled += 1;
			}
		}
		// Binomial(2000, 0.2): mean 400, standard deviation ~17.9; +-4 sigma.
		assert!((328..=472).contains(&sampled), "{sampled} of 2000 sampled at 20 %");
	});
}

/// Only the admin origin sets the rate and the jury minimum.
#[test]
fn only_the_admin_sets_the_audit_rate_and_min_jurors() {
	three_providers().build_and_execute(|| {
		assert_noop!(
			Inference::set_audit_rate(RuntimeOrigin::signed(REQUESTER), Perbill::one()),
			sp_runtime::DispatchError::BadOrigin
		);
		assert_noop!(
			Inference::set_min_jurors(RuntimeOrigin::signed(REQUESTER), 0),
			sp_runtime::DispatchError::BadOrigin
		);
		assert_ok!(Inference::set_audit_rate(RuntimeOrigin::root(), Perbill::from_percent(5)));
		assert_eq!(crate::AuditRate::<Test>::get(), Perbill::from_percent(5));
		assert_ok!(Inference::set_min_jurors(RuntimeOrigin::root(), 2));
		assert_eq!(MinJurors::<Test>::get(), 2);
		assert!(events().contains(&Event::AuditRateSet { rate: Perbill::from_percent(5) }));
		assert!(events().contains(&Event::MinJurorsSet { min_jurors: 2 }));
	});
}

/// The auditor colluding with a cheating executor: drawn for its wrong result, it reports
/// `CannotRun`, which is free up to `FreeFailures`. Before, that ended the audit and the wrong
/// result was paid at the window's close. Now another auditor (not the one that declined, not
/// the executor) is drawn, disagrees, and the executor is slashed.
#[test]
fn an_auditor_colluding_with_the_executor_cannot_decline_the_audit_away() {
	three_providers().build_and_execute(|| {
		crate::AuditRate::<Test>::put(Perbill::one());
		let (id, cheat) = provisional(WRONG);
		let before = stake(cheat);
		let (accomplice, key) = auditor(id);
		let accomplice_before = stake(accomplice);
		assert_ok!(Inference::audit(RuntimeOrigin::signed(key), id, AuditFinding::CannotRun));
		assert!(events().contains(&Event::Audited {
			request: id,
			provider: accomplice,
			finding: AuditFinding::CannotRun,
			penalty: 0
		}));
		assert_eq!(stake(accomplice), accomplice_before, "a first decline is free");

		let (honest, key) = auditor(id);
		assert!(honest != accomplice && honest != cheat, "the third provider audits");
		assert_ok!(Inference::audit(RuntimeOrigin::signed(key), id, AuditFinding::Disagrees));
		assert_eq!(RAISED_BY.with(|r| r.borrow().clone()), vec![(id, Some(honest))]);
		assert_eq!(conclude(id, false), Conclusion::SomeWrong);
		assert!(stake(cheat) < before, "the cheating executor was slashed");
	});
}

/// The redraw waits `DrawDelay` blocks, like the first draw, so that whoever declines cannot
/// see who would be drawn next; it is scheduled only while the window leaves time for it.
#[test]
fn a_declined_audit_is_redrawn_from_later_randomness_inside_the_window() {
	three_providers().build_and_execute(|| {
		let (id, a) = posted_in_block_3_with_a_draw_delay();
		run_to(5);
		let (declined, key) = auditor(id);
		assert_ok!(Inference::audit(RuntimeOrigin::signed(key), id, AuditFinding::CannotRun));
		assert_eq!(Audits::<Test>::get(id), Some(Audit::Redrawing { at: 7, declined }));
		assert!(events().contains(&Event::AuditScheduled { request: id, at: 7 }));
		assert_eq!(AuditAssignments::<Test>::iter().count(), 0);
		run_to(7);
		let (next, key) = auditor(id);
		assert!(next != declined && next != a.provider);
		// The window closes at 3 + WINDOW = 8: a second decline leaves no time for a draw.
		assert_ok!(Inference::audit(RuntimeOrigin::signed(key), id, AuditFinding::CannotRun));
		assert_eq!(Audits::<Test>::get(id), None);
		assert!(events().contains(&Event::AuditSkipped { request: id }));
		run_to(3 + WINDOW);
		assert!(matches!(
			Requests::<Test>::get(id).unwrap().status,
			RequestStatus::Finalized { .. }
		));
		assert!(!events().iter().any(|e| matches!(e, Event::AuditMissed { .. })));
	});
}

/// The griefing auditor: it declines every audit it is drawn for (saving the work, or to
/// delay audits). Declines are counted with its failure reports: free up to `FreeFailures` a
/// window, then each costs `MissedDeadlinePenalty`, as silence does.
#[test]
fn declining_audits_is_free_only_up_to_the_failure_allowance() {
	three_providers().build_and_execute(|| {
		crate::AuditRate::<Test>::put(Perbill::one());
		let mut declines = BTreeMap::<AccountId, u32>::new();
		let mut penalized = 0;
		for _ in 0..6 {
			let (id, _) = provisional(OUT);
			// Both other providers decline once each.
			for _ in 0..2 {
				let Some(Audit::Assigned { provider, executor }) = Audits::<Test>::get(id) else {
					break;
				};
				let before = stake(provider);
				assert_ok!(Inference::audit(
					RuntimeOrigin::signed(executor),
					id,
					AuditFinding::CannotRun
				));
				let n = declines.entry(provider).or_default();
				*n += 1;
				if *n <= FREE_FAILURES {
					assert_eq!(stake(provider), before, "decline {n} of {provider} is free");
				} else {
					assert!(stake(provider) < before, "decline {n} of {provider} is penalized");
					penalized += 1;
				}
			}
		}
		assert!(penalized > 0, "the test reached declines beyond the allowance: {declines:?}");
	});
}
