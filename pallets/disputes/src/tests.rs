//! Unit tests of pallet-disputes: every call and error path, full dispute flows, phase
//! boundaries and the bounded tally queue.

use crate::{mock::*, *};
use codec::Encode;
use frame_support::{
	assert_noop, assert_ok,
	traits::{
		fungible::{Inspect, InspectHold},
		Hooks,
	},
	BoundedVec,
};
use sp_core::H256;
use sp_runtime::{DispatchError, Perbill, TokenError};
use verity_primitives::{Conclusion, DisputeOpener, RequestId, Verdict};

const SALT: [u8; 32] = [7u8; 32];
const OTHER_SALT: [u8; 32] = [8u8; 32];
/// Blocks of the standard dispute opened at block 1.
const COMMIT_END: u64 = 1 + COMMIT;
const REVEAL_END: u64 = COMMIT_END + REVEAL;

fn verdicts(v: &[bool]) -> VerdictsOf<Test> {
	BoundedVec::truncate_from(v.to_vec())
}

fn output(o: &[u8]) -> OutputOf<Test> {
	BoundedVec::truncate_from(o.to_vec())
}

fn challenge(who: AccountId, request: RequestId) -> sp_runtime::DispatchResult {
	DisputesPallet::challenge(RuntimeOrigin::signed(who), request)
}

fn commit(
	juror: AccountId,
	request: RequestId,
	v: &[bool],
	o: &[u8],
) -> sp_runtime::DispatchResult {
	DisputesPallet::commit(
		RuntimeOrigin::signed(exec(juror)),
		request,
		DisputesPallet::commitment_of(&juror, request, v, o, &SALT),
	)
}

fn reveal(
	juror: AccountId,
	request: RequestId,
	v: &[bool],
	o: &[u8],
) -> sp_runtime::DispatchResult {
	DisputesPallet::reveal(
		RuntimeOrigin::signed(exec(juror)),
		request,
		verdicts(v),
		output(o),
		SALT,
	)
}

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ChallengeBond.into(), &who)
}

fn jurors(request: RequestId) -> Vec<AccountId> {
	crate::Disputes::<Test>::get(request).unwrap().jurors.iter().map(|j| j.provider).collect()
}

fn gone(request: RequestId) -> bool {
	!crate::Disputes::<Test>::contains_key(request)
		&& JuryOutputs::<Test>::iter_prefix(request).next().is_none()
}

fn penalized(request: RequestId, juror: AccountId, stake: Balance) -> Event<Test> {
	Event::JurorPenalized { request, juror, amount: stake / 10 }
}

// ---- challenge ----

#[test]
fn challenge_works() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_eq!(held(CHALLENGER), BOND);
		assert!(!MockInference::is_provisional(REQUEST));
		let info = crate::Disputes::<Test>::get(REQUEST).unwrap();
		assert_eq!(info.challenger, Some(CHALLENGER));
		assert_eq!(info.bond, BOND);
		assert_eq!(info.accused.to_vec(), vec![EXECUTOR]);
		let weights: Vec<(AccountId, u128)> =
			info.jurors.iter().map(|j| (j.provider, j.weight)).collect();
		assert_eq!(weights, vec![(JUROR_1, 500), (JUROR_2, 300), (JUROR_3, 200)]);
		assert_eq!((info.commit_end, info.reveal_end, info.tally_at), (6, 11, 11));
		assert_eq!(Tallies::<Test>::get(11).to_vec(), vec![REQUEST]);
		let parent = System::parent_hash();
		let seed = H256(sp_io::hashing::blake2_256(&(parent, REQUEST).encode()));
		assert_eq!(MockJury::seeds(), vec![seed]);
		System::assert_last_event(
			Event::DisputeOpened {
				request: REQUEST,
				challenger: Some(CHALLENGER),
				jurors: vec![JUROR_1, JUROR_2, JUROR_3],
				commit_end: 6,
				reveal_end: 11,
			}
			.into(),
		);
	});
}

#[test]
fn challenge_fails_when_inference_refuses() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			challenge(CHALLENGER, FINAL_REQUEST),
			DispatchError::Other("RequestNotProvisional")
		);
		assert_noop!(challenge(CHALLENGER, 999), DispatchError::Other("RequestNotFound"));
		assert_eq!(held(CHALLENGER), 0);
	});
}

#[test]
fn challenge_fails_when_already_disputed() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_noop!(challenge(CHALLENGER_2, REQUEST), Error::<Test>::AlreadyDisputed);
	});
}

#[test]
fn challenge_fails_without_funds_for_the_bond_and_changes_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(challenge(POOR, REQUEST), TokenError::FundsUnavailable);
		// pallet-inference's side of the challenge was rolled back too.
		assert!(MockInference::is_provisional(REQUEST));
		assert!(MockJury::seeds().is_empty());
	});
}

#[test]
fn challenge_fails_when_challenger_is_accused() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(challenge(EXECUTOR, REQUEST), Error::<Test>::ChallengerAccused);
		// Nor through the accused provider's executor key.
		assert_noop!(challenge(exec(EXECUTOR), REQUEST), Error::<Test>::ChallengerAccused);
		assert!(MockInference::is_provisional(REQUEST));
	});
}

#[test]
fn challenge_excludes_accused_challenger_and_challengers_provider_from_jury() {
	ExtBuilder::default()
		.providers(vec![
			(EXECUTOR, 900),
			(JUROR_1, 500),
			(JUROR_2, 300),
			(JUROR_3, 200),
			(SPARE, 100),
		])
		.build_and_execute(|| {
			// The executor key of JUROR_1 challenges: JUROR_1 must not judge.
			assert_ok!(challenge(exec(JUROR_1), REQUEST));
			assert_eq!(jurors(REQUEST), vec![JUROR_2, JUROR_3, SPARE]);
		});
}

#[test]
fn challenge_skips_zero_weight_and_duplicate_jurors() {
	ExtBuilder::default().providers(vec![(JUROR_1, 0), (JUROR_2, 300)]).build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_eq!(jurors(REQUEST), vec![JUROR_2]);
	});
}

#[test]
fn challenge_with_empty_jury_concludes_at_once_without_quorum() {
	ExtBuilder::default().providers(vec![(EXECUTOR, 900)]).build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_eq!(MockInference::concluded(), vec![(REQUEST, Verdict::NoJury)]);
		assert_eq!(held(CHALLENGER), 0);
		assert_eq!(Balances::balance(&CHALLENGER), 10_000);
		assert!(gone(REQUEST));
		assert!(Tallies::<Test>::iter().next().is_none());
		assert_eq!(
			events(),
			vec![
				Event::DisputeOpened {
					request: REQUEST,
					challenger: Some(CHALLENGER),
					jurors: vec![],
					commit_end: 1,
					reveal_end: 1,
				},
				Event::ChallengeBondReleased {
					request: REQUEST,
					challenger: CHALLENGER,
					amount: BOND
				},
				Event::DisputeResolved {
					request: REQUEST,
					conclusion: Outcome::Undecided,
					correct: None,
					revealed_weight: 0,
					jury_weight: 0,
				},
			]
		);
	});
}

#[test]
fn challenge_fails_when_tally_queues_are_full() {
	ExtBuilder::default().build_and_execute(|| {
		let full: BoundedVec<RequestId, _> = BoundedVec::truncate_from(vec![1_000, 1_001]);
		for b in REVEAL_END..REVEAL_END + TALLY_LOOKAHEAD as u64 {
			Tallies::<Test>::insert(b, full.clone());
		}
		assert_noop!(challenge(CHALLENGER, REQUEST), Error::<Test>::TallyQueueFull);
		assert!(MockInference::is_provisional(REQUEST));
		// With one slot free at the last block of the lookahead, it is used.
		Tallies::<Test>::insert(
			REVEAL_END + TALLY_LOOKAHEAD as u64 - 1,
			BoundedVec::truncate_from(vec![1_000]),
		);
		assert_ok!(challenge(CHALLENGER, REQUEST));
		let at = crate::Disputes::<Test>::get(REQUEST).unwrap().tally_at;
		assert_eq!(at, REVEAL_END + TALLY_LOOKAHEAD as u64 - 1);
		// Remove the fake queue entries (they name no dispute) before try_state.
		for b in REVEAL_END..REVEAL_END + TALLY_LOOKAHEAD as u64 {
			Tallies::<Test>::mutate(b, |q| q.retain(|r| *r == REQUEST));
			if Tallies::<Test>::get(b).is_empty() {
				Tallies::<Test>::remove(b);
			}
		}
	});
}

// ---- DisputeOpener ----

#[test]
fn open_works_without_challenger() {
	ExtBuilder::default().build_and_execute(|| {
		MockInference::add(40, vec![EXECUTOR, EXECUTOR_2], true);
		assert_ok!(<DisputesPallet as DisputeOpener<_>>::open(
			40,
			MockInference::subject(40),
			None
		));
		let info = crate::Disputes::<Test>::get(40).unwrap();
		assert_eq!(info.challenger, None);
		assert_eq!(info.bond, 0);
		assert_eq!(info.accused.to_vec(), vec![EXECUTOR, EXECUTOR_2]);
		System::assert_last_event(
			Event::DisputeOpened {
				request: 40,
				challenger: None,
				jurors: vec![JUROR_1, JUROR_2, JUROR_3],
				commit_end: 6,
				reveal_end: 11,
			}
			.into(),
		);
	});
}

/// An auditor (pallet-inference) raises a dispute without a bond: it is kept off the jury,
/// rewarded like a challenger when the result is wrong, and owes nothing here when the result
/// is right (pallet-inference slashes its stake for the false alarm).
#[test]
fn an_auditor_raised_dispute_keeps_the_auditor_off_the_jury_and_rewards_it() {
	for wrong in [true, false] {
		ExtBuilder::default().build_and_execute(|| {
			MockInference::add(40, vec![EXECUTOR], true);
			let before = Balances::balance(&JUROR_1);
			assert_ok!(<DisputesPallet as DisputeOpener<_>>::open(
				40,
				MockInference::subject(40),
				Some(JUROR_1)
			));
			let seated = jurors(40);
			assert!(!seated.contains(&JUROR_1), "the auditor does not judge: {seated:?}");
			for &j in &seated {
				assert_ok!(commit(j, 40, &[!wrong], b"same"));
			}
			run_to(COMMIT_END);
			for &j in &seated {
				assert_ok!(reveal(j, 40, &[!wrong], b"same"));
			}
			run_to(REVEAL_END);
			let rewarded = events().iter().any(|e| {
				matches!(e, Event::ChallengerRewarded { challenger, amount, .. }
					if *challenger == JUROR_1 && *amount > 0)
			});
			assert_eq!(rewarded, wrong);
			// No bond: nothing released, nothing paid out of one.
			assert!(!events().iter().any(|e| matches!(
				e,
				Event::ChallengeBondReleased { .. } | Event::ChallengerSlashed { .. }
			)));
			assert_eq!(Balances::balance(&JUROR_1) > before, wrong);
			assert_eq!(held(JUROR_1), 0);
		});
	}
}

#[test]
fn open_fails_on_bad_subject_or_open_dispute() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_noop!(
			<DisputesPallet as DisputeOpener<_>>::open(
				REQUEST,
				MockInference::subject(REQUEST),
				None
			),
			Error::<Test>::AlreadyDisputed
		);
		MockInference::add(41, vec![], true);
		assert_noop!(
			<DisputesPallet as DisputeOpener<_>>::open(41, MockInference::subject(41), None),
			Error::<Test>::NoCandidates
		);
		MockInference::add(42, vec![1, 2, 7, 8, 9], true);
		assert_noop!(
			<DisputesPallet as DisputeOpener<_>>::open(42, MockInference::subject(42), None),
			Error::<Test>::TooManyCandidates
		);
	});
}

#[test]
fn open_with_empty_jury_concludes_without_beneficiary() {
	ExtBuilder::default().providers(vec![]).build_and_execute(|| {
		MockInference::add(40, vec![EXECUTOR, EXECUTOR_2], true);
		assert_ok!(<DisputesPallet as DisputeOpener<_>>::open(
			40,
			MockInference::subject(40),
			None
		));
		assert_eq!(MockInference::concluded(), vec![(40, Verdict::NoJury)]);
		assert!(gone(40));
	});
}

// ---- commit ----

#[test]
fn commit_works() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_ok!(commit(JUROR_2, REQUEST, &[false], b"out"));
		System::assert_last_event(Event::VoteCommitted { request: REQUEST, juror: JUROR_2 }.into());
		let info = crate::Disputes::<Test>::get(REQUEST).unwrap();
		let juror = info.jurors.iter().find(|j| j.provider == JUROR_2).unwrap();
		assert_eq!(
			juror.commitment,
			Some(DisputesPallet::commitment_of(&JUROR_2, REQUEST, &[false], b"out", &SALT))
		);
		assert_eq!(juror.reveal, None);
	});
}

#[test]
fn commit_fails_when_not_allowed() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(commit(JUROR_1, REQUEST, &[true], b"o"), Error::<Test>::DisputeNotFound);
		assert_ok!(challenge(CHALLENGER, REQUEST));
		// A key that is no provider's executor key, the provider's own account, a provider
		// outside the jury.
		assert_noop!(
			DisputesPallet::commit(RuntimeOrigin::signed(50), REQUEST, H256::zero()),
			Error::<Test>::NotJuror
		);
		assert_noop!(
			DisputesPallet::commit(RuntimeOrigin::signed(JUROR_1), REQUEST, H256::zero()),
			Error::<Test>::NotJuror
		);
		assert_noop!(commit(SPARE, REQUEST, &[true], b"o"), Error::<Test>::NotJuror);
		assert_ok!(commit(JUROR_1, REQUEST, &[true], b"o"));
		assert_noop!(commit(JUROR_1, REQUEST, &[false], b"o"), Error::<Test>::AlreadyCommitted);
		run_to(COMMIT_END);
		assert_noop!(commit(JUROR_2, REQUEST, &[true], b"o"), Error::<Test>::CommitPhaseClosed);
	});
}

#[test]
fn commit_is_open_until_the_last_block_of_the_commit_phase() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		run_to(COMMIT_END - 1);
		assert_ok!(commit(JUROR_1, REQUEST, &[true], b"o"));
		run_to(COMMIT_END);
		assert_noop!(commit(JUROR_2, REQUEST, &[true], b"o"), Error::<Test>::CommitPhaseClosed);
	});
}

// ---- reveal ----

#[test]
fn reveal_works() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_ok!(commit(JUROR_2, REQUEST, &[false], b"jury"));
		run_to(COMMIT_END);
		assert_ok!(reveal(JUROR_2, REQUEST, &[false], b"jury"));
		let output_hash = H256(sp_io::hashing::blake2_256(b"jury"));
		System::assert_last_event(
			Event::VoteRevealed {
				request: REQUEST,
				juror: JUROR_2,
				verdicts: verdicts(&[false]),
				output_hash,
			}
			.into(),
		);
		let info = crate::Disputes::<Test>::get(REQUEST).unwrap();
		let juror = info.jurors.iter().find(|j| j.provider == JUROR_2).unwrap();
		assert_eq!(juror.reveal, Some(Reveal { verdicts: verdicts(&[false]), output_hash }));
		let key = H256(sp_io::hashing::blake2_256(&vec![false].encode()));
		let kept = JuryOutputs::<Test>::get(REQUEST, key).unwrap();
		assert_eq!(
			(kept.juror, kept.weight, kept.output.to_vec()),
			(JUROR_2, 300, b"jury".to_vec())
		);
	});
}

#[test]
fn reveal_of_all_correct_keeps_no_output() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_ok!(commit(JUROR_1, REQUEST, &[true], b"same"));
		run_to(COMMIT_END);
		assert_ok!(reveal(JUROR_1, REQUEST, &[true], b"same"));
		assert!(JuryOutputs::<Test>::iter_prefix(REQUEST).next().is_none());
	});
}

#[test]
fn reveal_fails_when_not_allowed() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(reveal(JUROR_1, REQUEST, &[true], b"o"), Error::<Test>::DisputeNotFound);
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_ok!(commit(JUROR_1, REQUEST, &[false], b"o"));
		assert_noop!(reveal(JUROR_1, REQUEST, &[false], b"o"), Error::<Test>::RevealPhaseNotOpen);
		run_to(COMMIT_END);
		assert_noop!(reveal(SPARE, REQUEST, &[false], b"o"), Error::<Test>::NotJuror);
		assert_noop!(
			DisputesPallet::reveal(
				RuntimeOrigin::signed(50),
				REQUEST,
				verdicts(&[true]),
				output(b"o"),
				SALT
			),
			Error::<Test>::NotJuror
		);
		assert_noop!(reveal(JUROR_2, REQUEST, &[false], b"o"), Error::<Test>::NotCommitted);
		assert_noop!(
			reveal(JUROR_1, REQUEST, &[false, false], b"o"),
			Error::<Test>::WrongVerdictCount
		);
		assert_noop!(reveal(JUROR_1, REQUEST, &[true], b"o"), Error::<Test>::CommitmentMismatch);
		assert_noop!(reveal(JUROR_1, REQUEST, &[false], b"x"), Error::<Test>::CommitmentMismatch);
		assert_noop!(
			DisputesPallet::reveal(
				RuntimeOrigin::signed(exec(JUROR_1)),
				REQUEST,
				verdicts(&[false]),
				output(b"o"),
				OTHER_SALT
			),
			Error::<Test>::CommitmentMismatch
		);
		assert_ok!(reveal(JUROR_1, REQUEST, &[false], b"o"));
		assert_noop!(reveal(JUROR_1, REQUEST, &[false], b"o"), Error::<Test>::AlreadyRevealed);
	});
}

#[test]
fn reveal_phase_spans_commit_end_to_reveal_end() {
	ExtBuilder::default().build_and_execute(|| {
		for r in [10, 11, 12] {
			MockInference::add(r, vec![EXECUTOR], true);
			assert_ok!(challenge(CHALLENGER, r));
		}
		// Two tallies fit in block 11; the third is tallied in block 12.
		assert_eq!(crate::Disputes::<Test>::get(12).unwrap().tally_at, REVEAL_END + 1);
		assert_ok!(commit(JUROR_1, 10, &[true], b"o"));
		assert_ok!(commit(JUROR_1, 12, &[true], b"o"));
		assert_ok!(commit(JUROR_2, 12, &[true], b"o"));
		run_to(COMMIT_END - 1);
		assert_noop!(reveal(JUROR_1, 10, &[true], b"o"), Error::<Test>::RevealPhaseNotOpen);
		run_to(COMMIT_END);
		assert_ok!(reveal(JUROR_1, 10, &[true], b"o"));
		run_to(REVEAL_END - 1);
		assert_ok!(reveal(JUROR_1, 12, &[true], b"o"));
		run_to(REVEAL_END);
		// Dispute 12 is still open (tallied one block late) but its reveal phase is over.
		assert!(crate::Disputes::<Test>::contains_key(12));
		assert_noop!(reveal(JUROR_2, 12, &[true], b"o"), Error::<Test>::RevealPhaseClosed);
		assert!(gone(10) && gone(11));
		run_to(REVEAL_END + 1);
		assert!(gone(12));
	});
}

#[test]
fn reveal_keeps_the_highest_stake_output_per_verdict_vector() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_ok!(commit(JUROR_1, REQUEST, &[false], b"one"));
		assert_ok!(commit(JUROR_2, REQUEST, &[false], b"two"));
		assert_ok!(commit(JUROR_3, REQUEST, &[false], b"three"));
		run_to(COMMIT_END);
		let key = H256(sp_io::hashing::blake2_256(&vec![false].encode()));
		assert_ok!(reveal(JUROR_2, REQUEST, &[false], b"two"));
		assert_eq!(JuryOutputs::<Test>::get(REQUEST, key).unwrap().juror, JUROR_2);
		assert_ok!(reveal(JUROR_1, REQUEST, &[false], b"one"));
		assert_eq!(JuryOutputs::<Test>::get(REQUEST, key).unwrap().juror, JUROR_1);
		assert_ok!(reveal(JUROR_3, REQUEST, &[false], b"three"));
		assert_eq!(
			JuryOutputs::<Test>::get(REQUEST, key).unwrap().output.to_vec(),
			b"one".to_vec()
		);
	});
}

// ---- tally: full flows ----

#[test]
fn honest_executor_and_bogus_challenge_slashes_the_bond_to_the_jurors_and_the_executor() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		for j in [JUROR_1, JUROR_2, JUROR_3] {
			assert_ok!(commit(j, REQUEST, &[true], b"same"));
		}
		run_to(COMMIT_END);
		for j in [JUROR_1, JUROR_2, JUROR_3] {
			assert_ok!(reveal(j, REQUEST, &[true], b"same"));
		}
		run_to(REVEAL_END);
		assert_eq!(
			MockInference::concluded(),
			vec![(REQUEST, Verdict::Decided { correct: vec![true], jury_output: None })]
		);
		assert_eq!(held(CHALLENGER), 0);
		assert_eq!(Balances::balance(&CHALLENGER), 10_000 - BOND);
		// JurorReward (40 %) of the bond to the jurors by stake (500/300/200), the rest to the
		// executor.
		assert_eq!(Balances::balance(&EXECUTOR), 10_000 + 60);
		assert_eq!(Balances::balance(&JUROR_1), 10_000 + 20);
		assert!(MockSlash::slashes().is_empty());
		assert!(gone(REQUEST));
		assert_eq!(
			events(),
			vec![
				Event::JurorRewarded { request: REQUEST, juror: JUROR_1, amount: 20 },
				Event::JurorRewarded { request: REQUEST, juror: JUROR_2, amount: 12 },
				Event::JurorRewarded { request: REQUEST, juror: JUROR_3, amount: 8 },
				Event::ChallengerSlashed { request: REQUEST, challenger: CHALLENGER, amount: BOND },
				Event::DisputeResolved {
					request: REQUEST,
					conclusion: Outcome::AllCorrect,
					correct: Some(verdicts(&[true])),
					revealed_weight: 1_000,
					jury_weight: 1_000,
				},
			]
		);
	});
}

#[test]
fn faulty_executor_is_judged_wrong_the_bond_released_and_challenger_and_jurors_paid() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_ok!(commit(JUROR_1, REQUEST, &[false], b"jury-1"));
		assert_ok!(commit(JUROR_2, REQUEST, &[false], b"jury-2"));
		assert_ok!(commit(JUROR_3, REQUEST, &[false], b"jury-3"));
		run_to(COMMIT_END);
		assert_ok!(reveal(JUROR_2, REQUEST, &[false], b"jury-2"));
		assert_ok!(reveal(JUROR_1, REQUEST, &[false], b"jury-1"));
		// JUROR_3 committed but never reveals.
		run_to(REVEAL_END);
		assert_eq!(
			MockInference::concluded(),
			vec![(
				REQUEST,
				Verdict::Decided { correct: vec![false], jury_output: Some(b"jury-1".to_vec()) }
			)]
		);
		assert_eq!(held(CHALLENGER), 0);
		// ChallengerReward (40 %) of the executor's own slashed stake (500), minted.
		assert_eq!(Balances::balance(&CHALLENGER), 10_000 + 200);
		assert_eq!(MockSlash::slashes(), vec![(JUROR_3, Perbill::from_percent(10))]);
		assert!(gone(REQUEST));
		assert_eq!(
			events(),
			vec![
				Event::ChallengeBondReleased {
					request: REQUEST,
					challenger: CHALLENGER,
					amount: BOND
				},
				Event::ChallengerRewarded { request: REQUEST, challenger: CHALLENGER, amount: 200 },
				// JurorReward (40 %) of 500 between the revealed majority, 500 : 300.
				Event::JurorRewarded { request: REQUEST, juror: JUROR_1, amount: 125 },
				Event::JurorRewarded { request: REQUEST, juror: JUROR_2, amount: 75 },
				penalized(REQUEST, JUROR_3, 200),
				Event::DisputeResolved {
					request: REQUEST,
					conclusion: Outcome::SomeWrong,
					correct: Some(verdicts(&[false])),
					revealed_weight: 800,
					jury_weight: 1_000,
				},
			]
		);
	});
}

#[test]
fn no_quorum_judges_nobody_and_penalizes_the_silent() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_ok!(commit(JUROR_1, REQUEST, &[false], b"o"));
		assert_ok!(commit(JUROR_3, REQUEST, &[false], b"o"));
		run_to(COMMIT_END);
		// 200 of 1000 revealed: below the 50 % quorum.
		assert_ok!(reveal(JUROR_3, REQUEST, &[false], b"o"));
		run_to(REVEAL_END);
		assert_eq!(MockInference::concluded(), vec![(REQUEST, Verdict::NoQuorum)]);
		assert_eq!(held(CHALLENGER), 0);
		assert_eq!(Balances::balance(&CHALLENGER), 10_000);
		// JUROR_1 committed but did not reveal; JUROR_2 did neither.
		let slashed: Vec<AccountId> = MockSlash::slashes().into_iter().map(|s| s.0).collect();
		assert_eq!(slashed, vec![JUROR_1, JUROR_2]);
		assert!(gone(REQUEST));
		assert_eq!(
			events(),
			vec![
				Event::ChallengeBondReleased {
					request: REQUEST,
					challenger: CHALLENGER,
					amount: BOND
				},
				penalized(REQUEST, JUROR_1, 500),
				penalized(REQUEST, JUROR_2, 300),
				Event::DisputeResolved {
					request: REQUEST,
					conclusion: Outcome::Undecided,
					correct: None,
					revealed_weight: 200,
					jury_weight: 1_000,
				},
			]
		);
	});
}

#[test]
fn quorum_is_reached_at_exactly_the_quorum_share() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_ok!(commit(JUROR_2, REQUEST, &[false], b"o"));
		assert_ok!(commit(JUROR_3, REQUEST, &[false], b"o"));
		run_to(COMMIT_END);
		assert_ok!(reveal(JUROR_2, REQUEST, &[false], b"o"));
		assert_ok!(reveal(JUROR_3, REQUEST, &[false], b"o"));
		run_to(REVEAL_END);
		// 500 of 1000 = 50 %: decided.
		assert!(matches!(MockInference::concluded()[0].1, Verdict::Decided { .. }));
	});
}

#[test]
fn redundant_disagreement_two_candidates_one_wrong() {
	ExtBuilder::default().build_and_execute(|| {
		MockInference::add(40, vec![EXECUTOR, EXECUTOR_2], true);
		assert_ok!(<DisputesPallet as DisputeOpener<_>>::open(
			40,
			MockInference::subject(40),
			None
		));
		assert_ok!(commit(JUROR_1, 40, &[true, false], b"good"));
		assert_ok!(commit(JUROR_2, 40, &[true, false], b"good2"));
		assert_ok!(commit(JUROR_3, 40, &[false, true], b"bad"));
		run_to(COMMIT_END);
		assert_ok!(reveal(JUROR_1, 40, &[true, false], b"good"));
		assert_ok!(reveal(JUROR_2, 40, &[true, false], b"good2"));
		assert_ok!(reveal(JUROR_3, 40, &[false, true], b"bad"));
		run_to(REVEAL_END);
		assert_eq!(
			MockInference::concluded(),
			vec![(
				40,
				Verdict::Decided {
					correct: vec![true, false],
					jury_output: Some(b"good".to_vec())
				}
			)]
		);
		// 800 of 1000 is a clear majority against JUROR_3.
		assert_eq!(MockSlash::slashes(), vec![(JUROR_3, Perbill::from_percent(10))]);
		assert!(gone(40));
		// No challenger: no challenger reward; the majority jurors share 40 % of 500.
		assert_eq!(
			events(),
			vec![
				Event::JurorRewarded { request: 40, juror: JUROR_1, amount: 125 },
				Event::JurorRewarded { request: 40, juror: JUROR_2, amount: 75 },
				penalized(40, JUROR_3, 200),
				Event::DisputeResolved {
					request: 40,
					conclusion: Outcome::SomeWrong,
					correct: Some(verdicts(&[true, false])),
					revealed_weight: 1_000,
					jury_weight: 1_000,
				},
			]
		);
	});
}

#[test]
fn ties_on_every_candidate_find_all_correct() {
	ExtBuilder::default().build_and_execute(|| {
		MockInference::add(40, vec![EXECUTOR, EXECUTOR_2], true);
		assert_ok!(<DisputesPallet as DisputeOpener<_>>::open(
			40,
			MockInference::subject(40),
			None
		));
		assert_ok!(commit(JUROR_1, 40, &[false, true], b"a"));
		assert_ok!(commit(JUROR_2, 40, &[true, false], b"b"));
		assert_ok!(commit(JUROR_3, 40, &[true, false], b"c"));
		run_to(COMMIT_END);
		assert_ok!(reveal(JUROR_1, 40, &[false, true], b"a"));
		assert_ok!(reveal(JUROR_2, 40, &[true, false], b"b"));
		assert_ok!(reveal(JUROR_3, 40, &[true, false], b"c"));
		run_to(REVEAL_END);
		// Candidate 0: yes 500 = no 500, a tie: correct. Candidate 1 likewise. Nobody holds a
		// clear majority: no penalty, and no output since nothing is wrong.
		assert_eq!(
			MockInference::concluded(),
			vec![(40, Verdict::Decided { correct: vec![true, true], jury_output: None })]
		);
		assert!(MockSlash::slashes().is_empty());
	});
}

#[test]
fn no_jury_output_when_no_revealer_voted_the_majority_vector() {
	ExtBuilder::default()
		.providers(vec![(JUROR_1, 350), (JUROR_2, 350), (JUROR_3, 300)])
		.build_and_execute(|| {
			MockInference::add(40, vec![EXECUTOR, EXECUTOR_2, SPARE], true);
			assert_ok!(<DisputesPallet as DisputeOpener<_>>::open(
				40,
				MockInference::subject(40),
				None
			));
			let votes: [(AccountId, [bool; 3]); 3] = [
				(JUROR_1, [false, false, true]),
				(JUROR_2, [true, false, false]),
				(JUROR_3, [false, true, false]),
			];
			for (j, v) in &votes {
				assert_ok!(commit(*j, 40, v, b"o"));
			}
			run_to(COMMIT_END);
			for (j, v) in &votes {
				assert_ok!(reveal(*j, 40, v, b"o"));
			}
			run_to(REVEAL_END);
			// "No" wins each candidate (650, 700, 650 of 1000) but nobody voted all three wrong.
			assert_eq!(
				MockInference::concluded(),
				vec![(
					40,
					Verdict::Decided { correct: vec![false, false, false], jury_output: None }
				)]
			);
			// Only candidate 1's 700 is a clear (>= 2/3) majority: JUROR_3 voted against it.
			let slashed: Vec<AccountId> = MockSlash::slashes().into_iter().map(|s| s.0).collect();
			assert_eq!(slashed, vec![JUROR_3]);
		});
}

#[test]
fn jury_output_needs_a_revealer_with_the_exact_majority_vector() {
	ExtBuilder::default()
		.providers(vec![(JUROR_1, 400), (JUROR_2, 350), (JUROR_3, 250)])
		.build_and_execute(|| {
			MockInference::add(40, vec![EXECUTOR, EXECUTOR_2], true);
			assert_ok!(<DisputesPallet as DisputeOpener<_>>::open(
				40,
				MockInference::subject(40),
				None
			));
			assert_ok!(commit(JUROR_1, 40, &[false, true], b"a"));
			assert_ok!(commit(JUROR_2, 40, &[true, false], b"b"));
			assert_ok!(commit(JUROR_3, 40, &[false, false], b"c"));
			run_to(COMMIT_END);
			assert_ok!(reveal(JUROR_1, 40, &[false, true], b"a"));
			assert_ok!(reveal(JUROR_2, 40, &[true, false], b"b"));
			run_to(REVEAL_END);
			// Revealed 750 of 1000. Candidate 0: no 400 > yes 350; candidate 1: no 350 < yes
			// 400. Majority vector [false, true] = JUROR_1's: its output is the jury's.
			assert_eq!(
				MockInference::concluded(),
				vec![(
					40,
					Verdict::Decided {
						correct: vec![false, true],
						jury_output: Some(b"a".to_vec())
					}
				)]
			);
			// No side holds 2/3 of 750 (500): only the silent JUROR_3 is penalized.
			let slashed: Vec<AccountId> = MockSlash::slashes().into_iter().map(|s| s.0).collect();
			assert_eq!(slashed, vec![JUROR_3]);
		});
}

#[test]
fn tie_favours_the_executor_and_an_unclear_minority_is_not_penalized() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_ok!(commit(JUROR_1, REQUEST, &[false], b"x"));
		assert_ok!(commit(JUROR_2, REQUEST, &[true], b"y"));
		assert_ok!(commit(JUROR_3, REQUEST, &[true], b"y"));
		run_to(COMMIT_END);
		assert_ok!(reveal(JUROR_1, REQUEST, &[false], b"x"));
		assert_ok!(reveal(JUROR_2, REQUEST, &[true], b"y"));
		assert_ok!(reveal(JUROR_3, REQUEST, &[true], b"y"));
		run_to(REVEAL_END);
		assert_eq!(
			MockInference::concluded()[0].1,
			Verdict::Decided { correct: vec![true], jury_output: None }
		);
		assert!(MockSlash::slashes().is_empty());
		// The majority (JUROR_2, JUROR_3: 300 : 200) shares 40 of the bond.
		assert_eq!(Balances::balance(&JUROR_2), 10_000 + 24);
		assert_eq!(Balances::balance(&JUROR_3), 10_000 + 16);
		assert_eq!(Balances::balance(&EXECUTOR), 10_000 + 60);
	});
}

#[test]
fn bond_is_split_among_several_accused() {
	ExtBuilder::default().providers(vec![(JUROR_1, 500)]).build_and_execute(|| {
		MockInference::add(40, vec![EXECUTOR, EXECUTOR_2, SPARE], true);
		assert_ok!(challenge(CHALLENGER, 40));
		assert_ok!(commit(JUROR_1, 40, &[true, true, true], b"o"));
		run_to(COMMIT_END);
		assert_ok!(reveal(JUROR_1, 40, &[true, true, true], b"o"));
		run_to(REVEAL_END);
		// 40 to the only juror, then 60 / 3 = 20 each.
		assert_eq!(Balances::balance(&JUROR_1), 10_000 + 40);
		assert_eq!(Balances::balance(&EXECUTOR), 10_000 + 20);
		assert_eq!(Balances::balance(&EXECUTOR_2), 10_000 + 20);
		assert_eq!(Balances::balance(&SPARE), 10_000 + 20);
		assert_eq!(Balances::balance(&CHALLENGER), 10_000 - BOND);
		assert_eq!(held(CHALLENGER), 0);
	});
}

#[test]
fn bond_follows_the_conclusion_of_inference() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_ok!(commit(JUROR_1, REQUEST, &[true], b"o"));
		run_to(COMMIT_END);
		assert_ok!(reveal(JUROR_1, REQUEST, &[true], b"o"));
		// pallet-inference no longer had the request under dispute: `Undecided`.
		MockInference::set_conclusion(Some(Conclusion::Undecided));
		run_to(REVEAL_END);
		assert_eq!(Balances::balance(&CHALLENGER), 10_000);
		assert_eq!(held(CHALLENGER), 0);
		assert_eq!(Balances::balance(&EXECUTOR), 10_000);
	});
}

#[test]
fn tally_queue_overflows_into_the_next_block() {
	ExtBuilder::default().build_and_execute(|| {
		for r in [10, 11, 12] {
			MockInference::add(r, vec![EXECUTOR], true);
		}
		assert_ok!(challenge(CHALLENGER, 10));
		assert_ok!(challenge(CHALLENGER_2, 11));
		assert_ok!(challenge(CHALLENGER, 12));
		assert_eq!(held(CHALLENGER), 2 * BOND);
		assert_eq!(Tallies::<Test>::get(REVEAL_END).to_vec(), vec![10, 11]);
		assert_eq!(Tallies::<Test>::get(REVEAL_END + 1).to_vec(), vec![12]);
		let info = crate::Disputes::<Test>::get(12).unwrap();
		// The reveal phase is not extended; only the tally waits.
		assert_eq!((info.reveal_end, info.tally_at), (REVEAL_END, REVEAL_END + 1));
		run_to(REVEAL_END);
		let concluded: Vec<RequestId> = MockInference::concluded().iter().map(|c| c.0).collect();
		assert_eq!(concluded, vec![10, 11]);
		assert!(!Tallies::<Test>::contains_key(REVEAL_END));
		assert_eq!(held(CHALLENGER), BOND);
		DisputesPallet::do_try_state().unwrap();
		run_to(REVEAL_END + 1);
		let concluded: Vec<RequestId> = MockInference::concluded().iter().map(|c| c.0).collect();
		assert_eq!(concluded, vec![10, 11, 12]);
		assert_eq!(held(CHALLENGER), 0);
		assert!(Tallies::<Test>::iter().next().is_none());
	});
}

#[test]
fn on_initialize_charges_per_queued_dispute() {
	ExtBuilder::default().build_and_execute(|| {
		let empty = <DisputesPallet as Hooks<u64>>::on_initialize(2);
		for r in [10, 11] {
			MockInference::add(r, vec![EXECUTOR], true);
			assert_ok!(challenge(CHALLENGER, r));
		}
		System::set_block_number(REVEAL_END);
		let two = <DisputesPallet as Hooks<u64>>::on_initialize(REVEAL_END);
		assert_eq!(two, empty.saturating_add(DisputesPallet::tally_weight().saturating_mul(2)));
		assert!(gone(10) && gone(11));
	});
}

// ---- helpers ----

#[test]
fn juror_duties_follow_the_phases() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_eq!(
			DisputesPallet::juror_duties(&JUROR_1),
			vec![(REQUEST, Duty::Commit { until: COMMIT_END })]
		);
		assert!(DisputesPallet::juror_duties(&SPARE).is_empty());
		assert_ok!(commit(JUROR_1, REQUEST, &[true], b"o"));
		assert!(DisputesPallet::juror_duties(&JUROR_1).is_empty());
		run_to(COMMIT_END);
		assert_eq!(
			DisputesPallet::juror_duties(&JUROR_1),
			vec![(REQUEST, Duty::Reveal { until: REVEAL_END })]
		);
		// JUROR_2 missed the commit phase: nothing left to do.
		assert!(DisputesPallet::juror_duties(&JUROR_2).is_empty());
		assert_ok!(reveal(JUROR_1, REQUEST, &[true], b"o"));
		assert!(DisputesPallet::juror_duties(&JUROR_1).is_empty());
	});
}

#[test]
fn commitment_of_follows_the_documented_formula() {
	let out = b"canonical output";
	let hash = H256(sp_io::hashing::blake2_256(out));
	let expected = H256(sp_io::hashing::blake2_256(
		&(b"verity/vote", JUROR_1, 7u64, vec![true, false], hash, SALT).encode(),
	));
	assert_eq!(DisputesPallet::commitment_of(&JUROR_1, 7, &[true, false], out, &SALT), expected);
}

#[test]
fn integrity_test_passes() {
	ExtBuilder::default().build_and_execute(|| {
		<DisputesPallet as Hooks<u64>>::integrity_test();
	});
}

#[test]
fn try_state_detects_a_bond_mismatch() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_ok!(DisputesPallet::do_try_state());
		crate::Disputes::<Test>::mutate(REQUEST, |i| i.as_mut().unwrap().bond = BOND + 1);
		assert!(DisputesPallet::do_try_state().is_err());
	});
}

// ---- read API (view functions) ----

#[test]
fn dispute_info_shows_the_open_dispute_and_its_votes() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(DisputesPallet::dispute_info(REQUEST), None);
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_ok!(commit(JUROR_1, REQUEST, &[true], &[1]));
		let info = DisputesPallet::dispute_info(REQUEST).expect("open");
		assert_eq!(Some(&info), crate::Disputes::<Test>::get(REQUEST).as_ref());
		assert_eq!(info.challenger, Some(CHALLENGER));
		let juror = info.jurors.iter().find(|j| j.provider == JUROR_1).unwrap();
		assert_eq!(
			juror.commitment,
			Some(DisputesPallet::commitment_of(&JUROR_1, REQUEST, &[true], &[1], &SALT))
		);
		assert_eq!(DisputesPallet::dispute_info(FINAL_REQUEST), None);
	});
}

// ---- attacks ("Soundness" in docs/security.md) ----

/// A lazy juror copies another juror's commitment from the chain and replays its reveal: the
/// commitment names the juror and the request, so the copy cannot be revealed.
#[test]
fn a_copied_commitment_cannot_be_revealed() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_ok!(commit(JUROR_1, REQUEST, &[false], b"honest"));
		let copied = crate::Disputes::<Test>::get(REQUEST)
			.unwrap()
			.jurors
			.iter()
			.find(|j| j.provider == JUROR_1)
			.and_then(|j| j.commitment)
			.unwrap();
		assert_ok!(DisputesPallet::commit(RuntimeOrigin::signed(exec(JUROR_2)), REQUEST, copied));
		run_to(COMMIT_END);
		assert_ok!(reveal(JUROR_1, REQUEST, &[false], b"honest"));
		// JUROR_2 replays JUROR_1's reveal, salt included.
		assert_noop!(
			DisputesPallet::reveal(
				RuntimeOrigin::signed(exec(JUROR_2)),
				REQUEST,
				verdicts(&[false]),
				BoundedVec::truncate_from(b"honest".to_vec()),
				SALT
			),
			Error::<Test>::CommitmentMismatch
		);
	});
}

/// A provider posts a wrong result and challenges it from another account, with its own
/// jurors: everything the coalition can collect (challenger and juror rewards) is less than
/// the provider's own slashed stake.
#[test]
fn self_reporting_a_wrong_result_does_not_pay() {
	ExtBuilder::default().build_and_execute(|| {
		// EXECUTOR, CHALLENGER and every juror are one person.
		let coalition = [EXECUTOR, CHALLENGER, JUROR_1, JUROR_2, JUROR_3];
		let wealth = || coalition.iter().map(Balances::total_balance).sum::<Balance>();
		let before = wealth();
		assert_ok!(challenge(CHALLENGER, REQUEST));
		for j in [JUROR_1, JUROR_2, JUROR_3] {
			assert_ok!(commit(j, REQUEST, &[false], b"o"));
		}
		run_to(COMMIT_END);
		for j in [JUROR_1, JUROR_2, JUROR_3] {
			assert_ok!(reveal(j, REQUEST, &[false], b"o"));
		}
		run_to(REVEAL_END);
		// The mock's pallet-inference reports the executor's own loss (it does not move funds).
		let paid = wealth() - before;
		assert_eq!(paid, 200 + 200);
		assert!(paid < SLASHED_PER_WRONG.own, "rewards stay below the self-reporter's own loss");
	});
}

// ---- issue 14.7: silence is excused only on a model over the per-node capacity ----

/// Insert `MODEL` into the registry with `within_capacity`.
fn model_with_capacity(within_capacity: bool) {
	use verity_primitives::{testing::MockModelRegistry, RunLimits};
	MockModelRegistry::insert_simple::<AccountId, Balance>(MODEL, CHALLENGER_2, 1);
	let limits = RunLimits { within_capacity, ..RunLimits::generous() };
	MockModelRegistry::set_limits::<AccountId, Balance>(MODEL, limits);
}

/// Jurors re-execute within the chain's run bound, which every node is expected to meet for a
/// model within the capacity: a silent juror of such a model is penalized as before.
#[test]
fn silent_jurors_of_a_model_within_capacity_are_penalized() {
	ExtBuilder::default().build_and_execute(|| {
		model_with_capacity(true);
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_ok!(commit(JUROR_3, REQUEST, &[true], b"o"));
		run_to(COMMIT_END);
		assert_ok!(reveal(JUROR_3, REQUEST, &[true], b"o"));
		run_to(REVEAL_END);
		let slashed: Vec<AccountId> = MockSlash::slashes().into_iter().map(|s| s.0).collect();
		assert_eq!(slashed, vec![JUROR_1, JUROR_2]);
		assert!(!events().iter().any(|e| matches!(e, Event::JurorExcused { .. })));
	});
}

/// A model over the per-node capacity (figures above `MaxModelFlops`, e.g. after the runtime
/// lowered it): a node may not run it within the chain's bound, so silent jurors are excused,
/// with an event; a revealed vote against a clear majority would still be penalized.
#[test]
fn silent_jurors_of_a_model_over_capacity_are_excused() {
	ExtBuilder::default().build_and_execute(|| {
		model_with_capacity(false);
		assert_ok!(challenge(CHALLENGER, REQUEST));
		assert_ok!(commit(JUROR_3, REQUEST, &[true], b"o"));
		run_to(COMMIT_END);
		assert_ok!(reveal(JUROR_3, REQUEST, &[true], b"o"));
		run_to(REVEAL_END);
		assert!(MockSlash::slashes().is_empty());
		let excused: Vec<AccountId> = events()
			.into_iter()
			.filter_map(|e| match e {
				Event::JurorExcused { request: REQUEST, juror } => Some(juror),
				_ => None,
			})
			.collect();
		assert_eq!(excused, vec![JUROR_1, JUROR_2]);
	});
}

/// Soundness II.4: the jury was drawn in the challenge's own call from
/// `blake2(parent_hash, request)`, which the challenger computes before it challenges: it
/// could wait (about ten blocks of the challenge window) for a parent hash that seats its own
/// providers, and a block author knew the seed exactly. Now the call draws nothing; the jury is
/// drawn `DrawDelay` (2) blocks later from the VRF output of the block after the challenge's.
#[test]
fn a_challenger_cannot_pick_its_jury() {
	ExtBuilder::default().build_and_execute(|| {
		DrawDelay::set(2);
		let predicted =
			H256(sp_io::hashing::blake2_256(&(System::parent_hash(), REQUEST).encode()));
		assert_ok!(challenge(CHALLENGER, REQUEST));
		// Nothing is drawn in the call, and nobody can vote yet.
		assert!(MockJury::seeds().is_empty());
		let info = crate::Disputes::<Test>::get(REQUEST).unwrap();
		assert!(!info.drawn && info.jurors.is_empty());
		assert_eq!((info.commit_end, info.reveal_end, info.tally_at), (3, 3, 3));
		assert_eq!(Tallies::<Test>::get(3).to_vec(), vec![REQUEST]);
		System::assert_last_event(
			Event::JuryDrawScheduled { request: REQUEST, challenger: Some(CHALLENGER), at: 3 }
				.into(),
		);
		assert!(commit(JUROR_1, REQUEST, &[false], b"out").is_err());

		// Block 2's author reveals its VRF output; block 3 draws the jury from it.
		run_to(2);
		let value = H256([42u8; 32]);
		verity_primitives::testing::TestRandomness::<Test>::reveal(Some(value));
		run_to(3);
		let random = H256(sp_io::hashing::blake2_256(
			&[b"verity/jury".as_slice(), value.as_bytes()].concat(),
		));
		let seed = H256(sp_io::hashing::blake2_256(&(random, REQUEST).encode()));
		assert_eq!(MockJury::seeds(), vec![seed]);
		assert_ne!(seed, predicted);
		let info = crate::Disputes::<Test>::get(REQUEST).unwrap();
		assert!(info.drawn);
		assert_eq!(info.jurors.len(), 3);
		// The phases run from the draw.
		assert_eq!((info.commit_end, info.reveal_end, info.tally_at), (8, 13, 13));
		assert_eq!(Tallies::<Test>::get(13).to_vec(), vec![REQUEST]);
		assert!(events().contains(&Event::DisputeOpened {
			request: REQUEST,
			challenger: Some(CHALLENGER),
			jurors: vec![JUROR_1, JUROR_2, JUROR_3],
			commit_end: 8,
			reveal_end: 13,
		}));
		assert_ok!(commit(JUROR_1, REQUEST, &[false], b"out"));
	});
}

/// A deferred draw that finds nobody to judge ends the dispute as an empty jury does: no
/// quorum, the bond released, nothing left held.
#[test]
fn a_deferred_draw_without_jurors_concludes_without_quorum() {
	ExtBuilder::default().build_and_execute(|| {
		DrawDelay::set(2);
		assert_ok!(challenge(CHALLENGER, REQUEST));
		MockJury::set(vec![]);
		run_to(3);
		assert!(crate::Disputes::<Test>::get(REQUEST).is_none());
		assert_eq!(held(CHALLENGER), 0);
		assert_eq!(MockInference::concluded(), vec![(REQUEST, Verdict::NoJury)]);
	});
}
