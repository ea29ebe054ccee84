//! Disputes on a four-validator local network where Alice, Charlie and Dave are providers and
//! Dave's node runs with `--dev-faulty-executor`:
//! - an honest result (Alice's) survives a bogus challenge: the jury (Charlie, Dave) re-executes
//!   and upholds it, the challenger's bond goes to the jurors (40 %) and Alice, the result is
//!   finalized;
//! - a faulty result (Dave's) is challenged: the jury (Alice, Charlie) finds it wrong, Dave and
//!   his stake are slashed (burned; the challenger and jurors are paid bounded rewards), the
//!   requester is refunded, the jury's output is recorded as the result;
//! - `Redundant(2)` with Dave as one executor opens a dispute by itself; the third provider
//!   judges, Dave is slashed and the honest executor's result is finalized.
//! - with every result audited, Dave's faulty result is caught without any challenger: the
//!   drawn auditor's worker re-executes, disagrees, and the dispute it raises slashes Dave.
//!
//! Executors are steered by chilling the other providers while the request is made; they
//! unchill before the challenge so they can sit on the jury. Audits are off (root sets the rate
//! to 0) until the last part, so that no auditor interferes with the challenges.

mod common;

use common::*;
use pallet_inference::{Policy, RequestStatus};
use sp_keyring::Sr25519Keyring;
use std::time::Duration;
use verity_runtime::{
	configs::verity::{ChallengeBond, ExecutionFee},
	genesis_config_presets::demo_model,
	Runtime, RuntimeCall, RuntimeEvent,
};

fn providers_call(call: pallet_providers::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::Providers(call)
}

async fn set_chilled(node: &mut Node, who: &[Sr25519Keyring], chilled: bool) {
	for k in who {
		let call = if chilled {
			pallet_providers::Call::chill {}
		} else {
			pallet_providers::Call::unchill {}
		};
		execute(node, &k.pair(), providers_call(call)).await;
	}
}

/// Requests the demo model with only `executor` selectable; returns the request id and the
/// block its result became provisional in.
async fn request_served_by(
	node: &mut Node,
	executor: Sr25519Keyring,
	others: &[Sr25519Keyring],
	requester: Sr25519Keyring,
) -> (u64, u32) {
	set_chilled(node, others, true).await;
	let (hash, at) =
		execute(node, &requester.pair(), request_call(demo_input(), Policy::Optimistic)).await;
	// The others stay chilled until the draw, two blocks after the request's.
	let (id, assigned) = requested_and_assigned(node, hash, at).await;
	assert_eq!(assigned.len(), 1, "{assigned:?}");
	assert_eq!(assigned[0].1, executor.to_account_id(), "only {executor} is selectable");
	set_chilled(node, others, false).await;
	let (provisional, _) =
		wait_event(node, at, Duration::from_secs(90), |e| match e {
			RuntimeEvent::Inference(pallet_inference::Event::ResultProvisional {
				request, ..
			}) if *request == id => Some(()),
			_ => None,
		})
		.await;
	(id, provisional)
}

/// Sets the audit rate as root (Alice is sudo).
async fn set_audit_rate(node: &mut Node, rate: sp_runtime::Perbill) {
	let call = RuntimeCall::Inference(pallet_inference::Call::set_audit_rate { rate });
	let sudo = RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(call) });
	let (hash, _) = execute(node, &Sr25519Keyring::Alice.pair(), sudo).await;
	assert!(
		node.events(hash).await.iter().any(|e| matches!(
			e,
			RuntimeEvent::Inference(pallet_inference::Event::AuditRateSet { rate: r }) if *r == rate
		)),
		"the audit rate was set"
	);
}

async fn challenge_and_wait(
	node: &mut Node,
	id: u64,
	challenger: Sr25519Keyring,
) -> (u32, Vec<RuntimeEvent>) {
	let t0 = std::time::Instant::now();
	let (_, challenged_at) = execute(
		node,
		&challenger.pair(),
		RuntimeCall::Disputes(pallet_disputes::Call::challenge { request: id }),
	)
	.await;
	let (at, _) = wait_event(node, challenged_at, Duration::from_secs(240), |e| match e {
		RuntimeEvent::Disputes(pallet_disputes::Event::DisputeResolved { request, .. })
			if *request == id =>
		{
			Some(())
		},
		_ => None,
	})
	.await;
	let events = node.events(node.block_hash(at).await.unwrap()).await;
	println!(
		"dispute on request {id}: challenge in block {challenged_at}, resolved in block {at} \
		 ({} blocks, {:.0} s from submitting the challenge)",
		at - challenged_at,
		t0.elapsed().as_secs_f64()
	);
	(at, events)
}

#[tokio::test(flavor = "multi_thread")]
async fn juries_uphold_honest_results_and_slash_faulty_ones() {
	use Sr25519Keyring::{Alice, Bob, Charlie, Dave, Eve};
	let dir = TempDir::new("disputes");
	let mut alice = Node::spawn(
		"alice",
		&dir.0.join("alice"),
		&["--chain", "local", "--validator", "--alice", "--node-key", &format!("{:064x}", 1)],
	);
	alice.wait_ready(Duration::from_secs(60)).await;
	let bootnode = alice.multiaddr().await;
	let mut others = Vec::new();
	for (i, name) in ["bob", "charlie", "dave"].iter().enumerate() {
		let key = format!("{:064x}", i + 2);
		let flag = format!("--{name}");
		let mut args = vec![
			"--chain",
			"local",
			"--validator",
			flag.as_str(),
			"--node-key",
			&key,
			"--bootnodes",
			&bootnode,
		];
		if *name == "dave" {
			args.push("--dev-faulty-executor");
		}
		others.push(Node::spawn(name, &dir.0.join(name), &args));
	}
	for node in others.iter_mut() {
		node.wait_ready(Duration::from_secs(60)).await;
	}
	alice.wait_finalized(2, Duration::from_secs(120)).await;
	set_audit_rate(&mut alice, sp_runtime::Perbill::zero()).await;

	// 1. Honest Alice, bogus challenge by Bob.
	let (id, _) = request_served_by(&mut alice, Alice, &[Charlie, Dave], Eve).await;
	let bob_before = alice.account(&Bob.to_account_id(), None).await;
	let (at, events) = challenge_and_wait(&mut alice, id, Bob).await;
	let resolved = events.iter().find_map(|e| match e {
		RuntimeEvent::Disputes(pallet_disputes::Event::DisputeResolved {
			request,
			conclusion,
			..
		}) if *request == id => Some(format!("{conclusion:?}")),
		_ => None,
	});
	assert!(resolved.as_deref().is_some_and(|o| o.contains("AllCorrect")), "{events:?}");
	let req = alice.request_info(id, Some(alice.block_hash(at).await.unwrap())).await.unwrap();
	assert_eq!(req.status, RequestStatus::Finalized { at });
	assert_eq!(req.outcome.unwrap().slot, Some(0));
	let bob_after = alice.account(&Bob.to_account_id(), None).await;
	assert!(
		bob_after.data.free + ChallengeBond::get() <= bob_before.data.free,
		"the bogus challenger lost its bond"
	);
	assert_eq!(bob_after.data.reserved, 0);

	// 2. Faulty Dave, rightful challenge by Bob.
	let (id, _) = request_served_by(&mut alice, Dave, &[Alice, Charlie], Eve).await;
	let eve_before = alice.account(&Eve.to_account_id(), None).await;
	let (at, events) = challenge_and_wait(&mut alice, id, Bob).await;
	let slashed = events.iter().find_map(|e| match e {
		RuntimeEvent::Inference(pallet_inference::Event::ExecutorSlashed {
			request,
			provider,
			slashed,
		}) if *request == id => Some((provider.clone(), *slashed)),
		_ => None,
	});
	let (provider, amount) = slashed.unwrap_or_else(|| panic!("Dave slashed: {events:?}"));
	assert_eq!(provider, Dave.to_account_id());
	assert!(amount > 0);
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::Inference(pallet_inference::Event::ResultCorrected { request, .. }) if *request == id
	)));
	let hash = alice.block_hash(at).await.unwrap();
	let req = alice.request_info(id, Some(hash)).await.unwrap();
	assert_eq!(req.status, RequestStatus::Finalized { at });
	assert_eq!(req.outcome.unwrap().slot, None, "the jury's output is the result");
	assert_eq!(req.held, 0);
	// Eve paid nothing for the wrong result: her fee came back (her later balance is at least
	// what it was after the request).
	let eve_after = alice.account(&Eve.to_account_id(), Some(hash)).await;
	// The fee held for this request was released; only the storage deposits of her requests
	// stay held (until they are pruned).
	assert_eq!(
		eve_after.data.reserved,
		eve_before.data.reserved - demo_model::PRICE_PER_CALL - ExecutionFee::get()
	);
	assert!(eve_after.data.free >= eve_before.data.free);
	// 3. Redundant(2) with faulty Dave as one of the two executors: the outputs disagree, which
	// opens a dispute with no challenger; the third provider (the jury) re-executes, Dave is
	// slashed and the honest executor's result is finalized. Nobody is chilled here (a chilled
	// provider sits on no jury), so requests are made until one has Dave among its executors.
	let mut with_dave = None;
	for _ in 0..8 {
		let (hash, at) =
			execute(&mut alice, &Eve.pair(), request_call(demo_input(), Policy::Redundant(2)))
				.await;
		let (id, assigned) = requested_and_assigned(&mut alice, hash, at).await;
		assert_eq!(assigned.len(), 2, "two executors: {assigned:?}");
		if assigned.iter().any(|(_, p, _)| *p == Dave.to_account_id()) {
			let (honest_slot, honest, _) =
				assigned.iter().find(|(_, p, _)| *p != Dave.to_account_id()).cloned().unwrap();
			with_dave = Some((id, at, honest_slot, honest));
			break;
		}
	}
	let (id, at, honest_slot, honest) =
		with_dave.expect("Dave selected for one of 8 Redundant(2) requests");
	let (_, (challenger, jurors)) =
		wait_event(&mut alice, at, Duration::from_secs(90), |e| match e {
			RuntimeEvent::Disputes(pallet_disputes::Event::DisputeOpened {
				request,
				challenger,
				jurors,
				..
			}) if *request == id => Some((challenger.clone(), jurors.clone())),
			_ => None,
		})
		.await;
	assert_eq!(challenger, None, "opened by pallet-inference, not by a challenge");
	assert!(
		!jurors.is_empty() && !jurors.contains(&Dave.to_account_id()) && !jurors.contains(&honest)
	);
	let (at, _) = wait_event(&mut alice, at, Duration::from_secs(240), |e| match e {
		RuntimeEvent::Disputes(pallet_disputes::Event::DisputeResolved { request, .. })
			if *request == id =>
		{
			Some(())
		},
		_ => None,
	})
	.await;
	let hash = alice.block_hash(at).await.unwrap();
	let events = inference_events(&alice.events(hash).await);
	assert!(
		events.iter().any(|e| matches!(e,
			pallet_inference::Event::ExecutorSlashed { request, provider, slashed }
				if *request == id && *provider == Dave.to_account_id() && *slashed > 0)),
		"Dave slashed: {events:?}"
	);
	assert!(events.iter().any(|e| matches!(e,
		pallet_inference::Event::ResultFinalized { request, .. } if *request == id)));
	let req = alice.request_info(id, Some(hash)).await.unwrap();
	assert_eq!(req.status, RequestStatus::Finalized { at });
	assert_eq!(req.outcome.unwrap().slot, Some(honest_slot), "the honest executor's result stands");
	assert_eq!(req.held, 0);

	// 4. Every result audited; faulty Dave serves and nobody challenges. The auditor
	// re-executes, disagrees, and the dispute it raises (no bond) slashes Dave. Alice is chilled
	// while ten requests are drawn, so each goes to Charlie or Dave; she is back (as a juror)
	// before any audit can raise a dispute. Charlie (or Alice) audits Dave's results.
	set_audit_rate(&mut alice, sp_runtime::Perbill::one()).await;
	// Two slashes took Dave below the minimum stake: he bonds more to be drawn again.
	let bond_more = pallet_providers::Call::bond_more { amount: 200 * verity_runtime::UNIT };
	execute(&mut alice, &Dave.pair(), providers_call(bond_more)).await;
	set_chilled(&mut alice, &[Alice], true).await;
	let start = alice.best_number().await;
	let mut batch = Vec::new();
	for _ in 0..10 {
		let xt = alice.sign(&Eve.pair(), request_call(demo_input(), Policy::Optimistic)).await;
		alice.submit(&xt).await.expect("accepted by the pool");
		batch.push(xt);
	}
	let last = batch.last().unwrap().clone();
	alice.wait_included(&last, start, Duration::from_secs(60)).await;
	// The requests' draws come two blocks after their blocks, which are final by now: Alice
	// unchills after them.
	set_chilled(&mut alice, &[Alice], false).await;
	// The batch's requests (several share a block), with their blocks.
	let mut requests: Vec<(u64, u32)> = Vec::new();
	for xt in &batch {
		let (hash, at) = alice.wait_included(xt, start, Duration::from_secs(60)).await;
		for e in alice.events(hash).await {
			if let RuntimeEvent::Inference(pallet_inference::Event::Requested { request, .. }) = e {
				if !requests.iter().any(|(id, _)| *id == request) {
					requests.push((request, at));
				}
			}
		}
	}
	assert_eq!(requests.len(), batch.len());
	let mut by_dave = None;
	for (id, at) in requests {
		let (_, executor) = wait_event(&mut alice, at, Duration::from_secs(60), |e| match e {
			RuntimeEvent::Inference(pallet_inference::Event::Assigned {
				request,
				provider,
				..
			}) if *request == id => Some(provider.clone()),
			_ => None,
		})
		.await;
		assert_ne!(executor, Alice.to_account_id(), "Alice was chilled at the draw");
		if executor == Dave.to_account_id() {
			by_dave = Some((id, at));
			break;
		}
	}
	let (id, provisional) = by_dave.expect("Dave drew one of ten requests (each 1 in 2)");
	let (_, auditor) = wait_event(&mut alice, provisional, Duration::from_secs(60), |e| match e {
		RuntimeEvent::Inference(pallet_inference::Event::AuditAssigned {
			request,
			provider,
			..
		}) if *request == id => Some(provider.clone()),
		_ => None,
	})
	.await;
	assert!(auditor == Alice.to_account_id() || auditor == Charlie.to_account_id());
	let (_, finding) =
		wait_event(&mut alice, provisional, Duration::from_secs(90), |e| match e {
			RuntimeEvent::Inference(pallet_inference::Event::Audited {
				request, finding, ..
			}) if *request == id => Some(*finding),
			_ => None,
		})
		.await;
	assert_eq!(finding, pallet_inference::AuditFinding::Disagrees);
	let (_, challenger) =
		wait_event(&mut alice, provisional, Duration::from_secs(90), |e| match e {
			RuntimeEvent::Disputes(pallet_disputes::Event::DisputeOpened {
				request,
				challenger,
				..
			}) if *request == id => Some(challenger.clone()),
			_ => None,
		})
		.await;
	assert_eq!(challenger, Some(auditor.clone()), "the auditor raised the dispute");
	let (at, _) = wait_event(&mut alice, provisional, Duration::from_secs(240), |e| match e {
		RuntimeEvent::Disputes(pallet_disputes::Event::DisputeResolved { request, .. })
			if *request == id =>
		{
			Some(())
		},
		_ => None,
	})
	.await;
	let events = alice.events(alice.block_hash(at).await.unwrap()).await;
	assert!(
		events.iter().any(|e| matches!(e,
			RuntimeEvent::Inference(pallet_inference::Event::ExecutorSlashed { request, provider, slashed })
				if *request == id && *provider == Dave.to_account_id() && *slashed > 0)),
		"Dave slashed after the audit: {events:?}"
	);
	assert!(events.iter().any(|e| matches!(e,
		RuntimeEvent::Disputes(pallet_disputes::Event::ChallengerRewarded { request, challenger, amount })
			if *request == id && *challenger == auditor && *amount > 0)));
	println!(
		"audit of request {id}: provisional in block {provisional}, Dave slashed in block {at}"
	);

	// The chain still finalizes.
	let head = alice.best_number().await;
	alice.wait_finalized(head, Duration::from_secs(60)).await;
}
