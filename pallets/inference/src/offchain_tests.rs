//! The execute duty ([`crate::offchain`]) through the offchain, transaction pool, keystore and
//! inference externalities: a real engine runs a real model and the receipt is a real
//! secp256k1 signature.

use crate::{mock::*, *};
use frame_support::{assert_ok, traits::Hooks, BoundedVec};
use parking_lot::RwLock;
use sp_core::{ecdsa, offchain::testing::PoolState, H256};
use std::sync::Arc;
use verity_engine::{encode_tensors, model_hash, testing, Tensor};
use verity_host::{HostBackend, InferenceExt};
use verity_primitives::testing::{self as keys, TestXt};
use verity_primitives::{AcceptanceRule, DType, ModelView, RunLimits, TensorSpec};

struct Env {
	ext: sp_io::TestExternalities,
	pool: Arc<RwLock<PoolState>>,
	backend: Arc<HostBackend>,
	key: ecdsa::Public,
	model: H256,
	_dir: tempfile::TempDir,
}

fn alice_key() -> ecdsa::Public {
	use sp_core::Pair;
	ecdsa::Pair::from_string("//Alice", None).unwrap().public()
}

fn f32_spec(width: u32) -> TensorSpec {
	TensorSpec { dtype: DType::F32, dims: BoundedVec::truncate_from(vec![None, Some(width)]) }
}

/// Alice serves the tiny classifier with the `//Alice` executor key, which is in the node's
/// keystore; the engine's store holds the classifier when `stored`. `faulty`: the node runs
/// with the dev fault switch.
fn env(stored: bool, faulty: bool) -> Env {
	let node = verity_engine::engine::Limits::default();
	env_with(stored, faulty, RunLimits::generous(), node)
}

/// [`env`] with the chain's `limits` for the model and the node's engine `node` limits.
fn env_with(
	stored: bool,
	faulty: bool,
	limits: RunLimits,
	node: verity_engine::engine::Limits,
) -> Env {
	let bytes = testing::tiny_classifier();
	let model = H256(model_hash(&bytes));
	let view = ModelView {
		owner: OWNER,
		active: true,
		inputs: BoundedVec::truncate_from(vec![f32_spec(4)]),
		outputs: BoundedVec::truncate_from(vec![f32_spec(3)]),
		opset: 17,
		price_per_call: PRICE,
		acceptance: AcceptanceRule::Exact,
		byte_size: bytes.len() as u64,
		limits,
	};
	let executor = keys::account_of(&alice_key());
	let mut ext =
		ExtBuilder::default().with_providers(&[(ALICE, executor)]).with_model(model, view).build();
	let (pool, keystore, _) = keys::offchain_ext(&mut ext);
	let key = keys::add_executor_key(&keystore, "//Alice");
	assert_eq!(key, alice_key());
	let dir = tempfile::tempdir().unwrap();
	let store = verity_host::ModelStore::open(dir.path(), 8 << 20).unwrap();
	let engine = Arc::new(verity_engine::engine::Engine::new(node));
	let backend = Arc::new(HostBackend::new(engine, store).with_faulty_executor(faulty));
	if stored {
		backend.store().put(&bytes).unwrap();
	}
	ext.register_extension(InferenceExt::new(backend.clone()));
	Env { ext, pool, backend, key, model, _dir: dir }
}

fn classifier_input() -> BoundedVec<u8, frame_support::traits::ConstU32<256>> {
	BoundedVec::truncate_from(encode_tensors(&[Tensor::from_f32(
		vec![1, 4],
		&[0.5, -1.0, 2.0, 0.0],
	)
	.unwrap()]))
}

fn request_classifier(model: H256) -> RequestId {
	let id = NextRequestId::<Test>::get();
	assert_ok!(Inference::request(
		RuntimeOrigin::signed(REQUESTER),
		model,
		classifier_input(),
		10_000,
		Policy::Optimistic
	));
	id
}

fn submitted() -> impl Fn(&RwLock<PoolState>) -> Vec<TestXt<RuntimeCall>> {
	keys::submitted::<RuntimeCall>
}

#[test]
fn executor_posts_the_engines_output_with_a_receipt_by_its_key() {
	let Env { mut ext, pool, backend, key, model, _dir, .. } = env(true, false);
	ext.execute_with(|| {
		let id = request_classifier(model);
		let honest = backend.run(&model.0, &classifier_input()).unwrap();

		Inference::offchain_worker(1);
		let txs = submitted()(&pool);
		assert_eq!(txs.len(), 1);
		let tx = &txs[0];
		assert!(tx.is_signed_by_signer());
		assert_eq!(tx.signer, keys::account_of(&key));
		let RuntimeCall::Inference(Call::submit_result { request, output, receipt }) = &tx.call
		else {
			panic!("expected submit_result, got {:?}", tx.call);
		};
		assert_eq!(*request, id);
		assert_eq!(output.to_vec(), honest);
		// The receipt is the executor key's prehashed secp256k1 signature of the message.
		let req = Requests::<Test>::get(id).unwrap();
		let message = Inference::receipt_message_here(
			id,
			&model,
			&req.input_hash,
			&H256(sp_io::hashing::blake2_256(output)),
		);
		let recovered = ecdsa::Signature::from_raw(*receipt).recover_prehashed(&message);
		assert_eq!(recovered, Some(key));
		assert!(<EcdsaReceipts as ReceiptVerifier<sp_runtime::AccountId32>>::verify(
			&verity_primitives::executor_account(&key),
			&message,
			receipt
		));
	});
}

#[test]
fn overlapping_worker_runs_post_an_assignment_once() {
	let Env { mut ext, pool, model, _dir, .. } = env(true, false);
	ext.execute_with(|| {
		request_classifier(model);
		Inference::offchain_worker(1);
		Inference::offchain_worker(1);
		Inference::offchain_worker(2);
		assert_eq!(submitted()(&pool).len(), 1);
		// Two transactions of one run would need consecutive nonces; one was sent.
		assert_eq!(submitted()(&pool)[0].nonce, 0);
	});
}

#[test]
fn two_assignments_in_one_run_use_consecutive_nonces() {
	let Env { mut ext, pool, model, _dir, .. } = env(true, false);
	ext.execute_with(|| {
		request_classifier(model);
		request_classifier(model);
		Inference::offchain_worker(1);
		let nonces: Vec<u64> = submitted()(&pool).iter().map(|t| t.nonce).collect();
		assert_eq!(nonces, vec![0, 1]);
	});
}

#[test]
fn a_model_the_node_cannot_obtain_is_reported_as_failure() {
	// MockModelRegistry runs only what the store holds: the classifier is missing.
	let Env { mut ext, pool, model, _dir, .. } = env(false, false);
	ext.execute_with(|| {
		let id = request_classifier(model);
		Inference::offchain_worker(1);
		let txs = submitted()(&pool);
		assert_eq!(txs.len(), 1);
		assert_eq!(txs[0].call, RuntimeCall::Inference(Call::report_failure { request: id }));
	});
}

#[test]
fn a_faulty_dev_executor_posts_a_perturbed_output_with_a_valid_receipt() {
	let Env { mut ext, pool, backend, key, model, _dir, .. } = env(true, true);
	ext.execute_with(|| {
		let id = request_classifier(model);
		let honest = backend.run(&model.0, &classifier_input()).unwrap();
		Inference::offchain_worker(1);
		let txs = submitted()(&pool);
		let RuntimeCall::Inference(Call::submit_result { output, receipt, .. }) = &txs[0].call
		else {
			panic!("expected submit_result");
		};
		assert_ne!(output.to_vec(), honest);
		let req = Requests::<Test>::get(id).unwrap();
		let message = Inference::receipt_message_here(
			id,
			&model,
			&req.input_hash,
			&H256(sp_io::hashing::blake2_256(output)),
		);
		assert_eq!(ecdsa::Signature::from_raw(*receipt).recover_prehashed(&message), Some(key));
	});
}

#[test]
fn keys_without_assignments_submit_nothing() {
	let Env { mut ext, pool, _dir, .. } = env(true, false);
	ext.execute_with(|| {
		// A request for a model only Alice serves... none is made: nothing to do.
		Inference::offchain_worker(1);
		assert!(submitted()(&pool).is_empty());
	});
}

/// The result an executor's worker posts for one optimistic request of the classifier: the
/// submitted call.
fn execute_once(env: Env) -> (RequestId, RuntimeCall) {
	let Env { mut ext, pool, model, _dir, .. } = env;
	ext.execute_with(|| {
		let id = request_classifier(model);
		Inference::offchain_worker(1);
		let txs = submitted()(&pool);
		assert_eq!(txs.len(), 1);
		(id, txs[0].call.clone())
	})
}

/// Issue 14.7: the executor runs within the run bound the chain gives the model, not its node's
/// own limit: a node whose `--inference-timeout-ms` is 0 posts a result for a model the chain
/// gives 10 s (on the old code it timed out and reported failure).
#[test]
fn an_executor_runs_within_the_chains_bound_not_its_nodes_limit() {
	let node = verity_engine::engine::Limits {
		run_timeout: Some(std::time::Duration::ZERO),
		..Default::default()
	};
	let limits = RunLimits { run_ms: 10_000, ..RunLimits::generous() };
	let (_, call) = execute_once(env_with(true, false, limits, node));
	assert!(matches!(call, RuntimeCall::Inference(Call::submit_result { .. })), "{call:?}");
}

/// ... and a run over the chain's bound is a failure, whatever the node's own limit.
#[test]
fn an_executor_whose_run_exceeds_the_chains_bound_reports_failure() {
	let limits = RunLimits { run_ms: 0, ..RunLimits::generous() };
	let (id, call) = execute_once(env_with(true, false, limits, Default::default()));
	assert_eq!(call, RuntimeCall::Inference(Call::report_failure { request: id }));
}

/// Issue 18 and 14.7: an executor loads the model under the constants its spec declares and
/// only on the engine version the spec names; otherwise it does not execute (it reports
/// failure, freeing the slot for another provider at once).
#[test]
fn an_executor_over_the_declared_constants_or_with_another_engine_does_not_execute() {
	for limits in [
		RunLimits { max_constant_bytes: 1, ..RunLimits::generous() },
		RunLimits { engine_version: verity_engine::ENGINE_VERSION + 1, ..RunLimits::generous() },
	] {
		let (id, call) = execute_once(env_with(true, false, limits, Default::default()));
		assert_eq!(
			call,
			RuntimeCall::Inference(Call::report_failure { request: id }),
			"{limits:?}"
		);
	}
}

/// Make request `id` provisional with `output` posted by the key's provider (Alice) in slot
/// 0 (as her worker would have, with a real receipt the mock's verifier does not take), and
/// Alice its drawn auditor (as `draw_audit` would with other providers serving the model).
fn provisional_and_audited(id: RequestId, key: &ecdsa::Public, output: Vec<u8>) {
	let output: OutputOf<Test> = BoundedVec::truncate_from(output);
	let output_hash = H256(sp_io::hashing::blake2_256(&output));
	let executor = keys::account_of(key);
	Assignments::<Test>::remove(executor, id);
	Results::<Test>::insert(
		id,
		0,
		ResultRecord { provider: ALICE, output, output_hash, receipt: [0; 65], at: 1 },
	);
	Requests::<Test>::mutate(id, |r| {
		let r = r.as_mut().unwrap();
		r.pending = 0;
		r.status = RequestStatus::Provisional { until: 1 + WINDOW };
		r.outcome = Some(Outcome { slot: Some(0), output_hash });
	});
	AuditAssignments::<Test>::insert(executor, id, ());
	Audits::<Test>::insert(id, Audit::Assigned { provider: ALICE, executor });
}

fn audit_calls(txs: &[TestXt<RuntimeCall>], key: &ecdsa::Public) -> Vec<(RequestId, AuditFinding)> {
	txs.iter()
		.map(|tx| {
			assert_eq!(tx.signer, keys::account_of(key));
			match &tx.call {
				RuntimeCall::Inference(Call::audit { request, finding }) => (*request, *finding),
				other => panic!("expected audit, got {other:?}"),
			}
		})
		.collect()
}

#[test]
fn an_auditor_reports_agreement_with_a_right_result_and_disagreement_with_a_wrong_one() {
	let Env { mut ext, pool, backend, key, model, _dir } = env(true, false);
	ext.execute_with(|| {
		let right = request_classifier(model);
		let wrong = request_classifier(model);
		let honest = backend.run(&model.0, &classifier_input()).unwrap();
		let garbage = encode_tensors(&[Tensor::from_f32(vec![1, 3], &[9.0, 9.0, 9.0]).unwrap()]);
		provisional_and_audited(right, &key, honest);
		provisional_and_audited(wrong, &key, garbage);

		Inference::offchain_worker(2);
		let txs = submitted()(&pool);
		let mut findings = audit_calls(&txs, &key);
		findings.sort_by_key(|(id, _)| *id);
		assert_eq!(findings, vec![(right, AuditFinding::Agrees), (wrong, AuditFinding::Disagrees)]);
		// Claimed: the next run does not report again.
		Inference::offchain_worker(3);
		assert_eq!(submitted()(&pool).len(), txs.len());
	});
}

#[test]
fn an_auditor_that_cannot_obtain_the_model_says_so() {
	let Env { mut ext, pool, key, model, _dir, .. } = env(false, false);
	ext.execute_with(|| {
		let id = request_classifier(model);
		let output = encode_tensors(&[Tensor::from_f32(vec![1, 3], &[0.1, 0.2, 0.7]).unwrap()]);
		provisional_and_audited(id, &key, output);
		Inference::offchain_worker(2);
		assert_eq!(audit_calls(&submitted()(&pool), &key), vec![(id, AuditFinding::CannotRun)]);
	});
}

/// Soundness II.11: worker runs overlap (one per imported block), and each used to sign with
/// the nonce in its block's state, so a run signed with a nonce that an earlier run's
/// transaction, still in the pool, had taken (the pool refused it). Workers now sign with the
/// pool's next nonce (`next_index`), counting on within a run.
#[test]
fn workers_sign_after_their_transactions_pending_in_the_pool() {
	let Env { mut ext, pool, model, _dir, .. } = env(true, false);
	// The node's pool holds three ready transactions of the executor account.
	ext.register_extension(verity_host::PoolNonceExt::new(std::sync::Arc::new(|_: &[u8]| Some(3))));
	ext.execute_with(|| {
		request_classifier(model);
		request_classifier(model);
		Inference::offchain_worker(1);
		let nonces: Vec<u64> = submitted()(&pool).iter().map(|tx| tx.nonce).collect();
		assert_eq!(nonces, vec![3, 4], "after the pool's pending ones, then counted on");
	});
}

/// Without the node's pool (the extension absent) the state's nonce is used, counted on.
#[test]
fn without_the_pool_workers_sign_from_the_states_nonce() {
	let Env { mut ext, pool, model, _dir, .. } = env(true, false);
	ext.execute_with(|| {
		request_classifier(model);
		request_classifier(model);
		Inference::offchain_worker(1);
		let nonces: Vec<u64> = submitted()(&pool).iter().map(|tx| tx.nonce).collect();
		assert_eq!(nonces, vec![0, 1]);
	});
}
