//! The judge duty ([`crate::offchain`]) through the offchain, transaction pool, keystore and
//! inference externalities: a real engine re-executes a real model, and the commit and
//! reveal the worker signs are accepted by the pallet.

use crate::{mock::*, *};
use frame_support::{assert_ok, traits::Hooks, BoundedVec};
use parking_lot::RwLock;
use sp_core::{ecdsa, offchain::testing::PoolState, H256};
use sp_runtime::traits::Dispatchable;
use std::sync::Arc;
use verity_engine::{encode_tensors, model_hash, testing, Tensor};
use verity_host::{HostBackend, InferenceExt};
use verity_primitives::testing::{self as keys, TestXt};
use verity_primitives::{
	testing::MockModelRegistry, AcceptanceRule, DType, ModelView, RunLimits, TensorSpec,
};

struct Env {
	ext: sp_io::TestExternalities,
	pool: Arc<RwLock<PoolState>>,
	/// The worker's offchain state (its random seed among others).
	offchain: Arc<RwLock<sp_core::offchain::testing::OffchainState>>,
	backend: Arc<HostBackend>,
	model: H256,
	_dir: tempfile::TempDir,
}

fn f32_spec(width: u32) -> TensorSpec {
	TensorSpec { dtype: DType::F32, dims: BoundedVec::truncate_from(vec![None, Some(width)]) }
}

fn classifier_input() -> Vec<u8> {
	encode_tensors(&[Tensor::from_f32(vec![1, 4], &[0.5, -1.0, 2.0, 0.0]).unwrap()])
}

/// `JUROR_1` votes with the `//Alice` key in the keystore; the request under dispute runs the
/// tiny classifier, which the engine's store holds when `stored`.
fn env(stored: bool) -> Env {
	env_with(stored, RunLimits::generous(), verity_engine::engine::Limits::default())
}

/// [`env`] with the chain's `limits` for the model and the node's engine `node` limits.
fn env_with(stored: bool, limits: RunLimits, node: verity_engine::engine::Limits) -> Env {
	let mut ext = ExtBuilder::default().build();
	let (pool, keystore, offchain) = keys::offchain_ext(&mut ext);
	let key = keys::add_executor_key(&keystore, "//Alice");
	let bytes = testing::tiny_classifier();
	let model = H256(model_hash(&bytes));
	let dir = tempfile::tempdir().unwrap();
	let store = verity_host::ModelStore::open(dir.path(), 8 << 20).unwrap();
	let backend =
		Arc::new(HostBackend::new(Arc::new(verity_engine::engine::Engine::new(node)), store));
	if stored {
		backend.store().put(&bytes).unwrap();
	}
	ext.register_extension(InferenceExt::new(backend.clone()));
	ext.execute_with(|| {
		MockJury::set_executor(JUROR_1, keys::account_of(&key));
		MockModelRegistry::insert::<AccountId, Balance>(
			model,
			ModelView {
				owner: CHALLENGER_2,
				active: true,
				inputs: BoundedVec::truncate_from(vec![f32_spec(4)]),
				outputs: BoundedVec::truncate_from(vec![f32_spec(3)]),
				opset: 17,
				price_per_call: 1,
				acceptance: AcceptanceRule::Exact,
				byte_size: bytes.len() as u64,
				limits,
			},
		);
	});
	Env { ext, pool, offchain, backend, model, _dir: dir }
}

fn txs(pool: &RwLock<PoolState>) -> Vec<TestXt<RuntimeCall>> {
	keys::submitted::<RuntimeCall>(pool)
}

/// Challenge `REQUEST` whose one candidate is `candidate`; then the juror's worker commits,
/// the commit is dispatched, the reveal phase comes, the worker reveals and the reveal is
/// dispatched. Returns the revealed verdicts and output.
fn judge(env: &mut Env, candidate: impl Fn(&[u8]) -> Vec<u8>) -> (Vec<bool>, Vec<u8>, Vec<u8>) {
	let (pool, backend, model) = (env.pool.clone(), env.backend.clone(), env.model);
	env.ext.execute_with(|| {
		let honest = backend.run(&model.0, &classifier_input()).unwrap();
		MockInference::set_run(REQUEST, model, classifier_input(), vec![candidate(&honest)]);
		assert_ok!(DisputesPallet::challenge(RuntimeOrigin::signed(CHALLENGER), REQUEST));
		let info = Disputes::<Test>::get(REQUEST).unwrap();
		assert!(info.jurors.iter().any(|j| j.provider == JUROR_1));

		DisputesPallet::offchain_worker(System::block_number());
		let sent = txs(&pool);
		assert_eq!(sent.len(), 1);
		assert!(sent[0].is_signed_by_signer());
		assert!(matches!(
			sent[0].call,
			RuntimeCall::DisputesPallet(Call::commit { request: REQUEST, .. })
		));
		assert_ok!(sent[0].call.clone().dispatch(RuntimeOrigin::signed(sent[0].signer)));
		// Still in the commit phase: nothing more to do.
		DisputesPallet::offchain_worker(System::block_number());
		assert_eq!(txs(&pool).len(), 1);

		run_to(info.commit_end);
		DisputesPallet::offchain_worker(System::block_number());
		let sent = txs(&pool);
		assert_eq!(sent.len(), 2);
		let RuntimeCall::DisputesPallet(Call::reveal { request, verdicts, output, .. }) =
			sent[1].call.clone()
		else {
			panic!("expected reveal, got {:?}", sent[1].call);
		};
		assert_eq!(request, REQUEST);
		assert_eq!(sent[1].nonce, sent[0].nonce + 1);
		assert_ok!(sent[1].call.clone().dispatch(RuntimeOrigin::signed(sent[1].signer)));
		let info = Disputes::<Test>::get(REQUEST).unwrap();
		let juror = info.jurors.iter().find(|j| j.provider == JUROR_1).unwrap();
		assert_eq!(juror.reveal.as_ref().unwrap().verdicts.to_vec(), verdicts.to_vec());
		(verdicts.to_vec(), output.to_vec(), honest)
	})
}

#[test]
fn juror_upholds_an_output_that_agrees_with_its_re_execution() {
	let mut env = env(true);
	let (verdicts, output, honest) = judge(&mut env, |honest| honest.to_vec());
	assert_eq!(verdicts, vec![true]);
	assert_eq!(output, honest);
	env.ext.execute_with(|| DisputesPallet::do_try_state().unwrap());
}

#[test]
fn juror_rejects_an_output_that_disagrees() {
	let mut env = env(true);
	let (verdicts, output, honest) = judge(&mut env, |honest| {
		let mut wrong = honest.to_vec();
		verity_host::perturb(&mut wrong);
		assert_ne!(wrong, honest);
		wrong
	});
	assert_eq!(verdicts, vec![false]);
	assert_eq!(output, honest);
}

#[test]
fn juror_that_cannot_run_the_model_commits_nothing() {
	let Env { mut ext, pool, model, _dir, .. } = env(false);
	ext.execute_with(|| {
		MockInference::set_run(REQUEST, model, classifier_input(), vec![vec![1, 2, 3]]);
		assert_ok!(DisputesPallet::challenge(RuntimeOrigin::signed(CHALLENGER), REQUEST));
		DisputesPallet::offchain_worker(System::block_number());
		assert!(txs(&pool).is_empty());
	});
}

#[test]
fn keys_of_providers_off_the_jury_submit_nothing() {
	let Env { mut ext, pool, model, _dir, .. } = env(true);
	ext.execute_with(|| {
		// The key belongs to a provider that is not drawn (SPARE is fourth of three seats).
		MockJury::set_executor(
			SPARE,
			keys::account_of(&{
				use sp_core::Pair;
				ecdsa::Pair::from_string("//Alice", None).unwrap().public()
			}),
		);
		MockInference::set_run(REQUEST, model, classifier_input(), vec![vec![1, 2, 3]]);
		assert_ok!(DisputesPallet::challenge(RuntimeOrigin::signed(CHALLENGER), REQUEST));
		DisputesPallet::offchain_worker(System::block_number());
		assert!(txs(&pool).is_empty());
	});
}

/// Issue 14.7: a juror re-executes within the run bound the chain gives the model, not its
/// node's own time limit: a node whose `--inference-timeout-ms` is 0 still votes on a model the
/// chain gives 10 s. On the old code its run timed out, it committed nothing and was penalized.
#[test]
fn a_juror_runs_within_the_chains_bound_not_its_nodes_limit() {
	let node = verity_engine::engine::Limits {
		run_timeout: Some(std::time::Duration::ZERO),
		..Default::default()
	};
	let limits = RunLimits { run_ms: 10_000, ..RunLimits::generous() };
	let mut env = env_with(true, limits, node);
	// `judge` computes the candidate with `env.backend`, which must not be the node's.
	env.backend = {
		let b = keys::engine_backend(&env._dir.path().join("honest"), false);
		b.store().put(&testing::tiny_classifier()).unwrap();
		b
	};
	let (verdicts, output, honest) = judge(&mut env, |honest| honest.to_vec());
	assert_eq!(verdicts, vec![true]);
	assert_eq!(output, honest);
}

/// The chain's bound binds the other way too: a run over it is not a vote.
#[test]
fn a_juror_whose_run_exceeds_the_chains_bound_commits_nothing() {
	let limits = RunLimits { run_ms: 0, ..RunLimits::generous() };
	let Env { mut ext, pool, model, _dir, .. } = env_with(true, limits, Default::default());
	ext.execute_with(|| {
		MockInference::set_run(REQUEST, model, classifier_input(), vec![vec![1, 2, 3]]);
		assert_ok!(DisputesPallet::challenge(RuntimeOrigin::signed(CHALLENGER), REQUEST));
		DisputesPallet::offchain_worker(System::block_number());
		assert!(txs(&pool).is_empty());
	});
}

/// A node whose engine is not the version the model's spec names does not judge it, and one
/// that would hold more constants than the spec declares refuses it like every node.
#[test]
fn a_juror_with_another_engine_or_over_the_declared_constants_does_not_judge() {
	for limits in [
		RunLimits { engine_version: verity_engine::ENGINE_VERSION + 1, ..RunLimits::generous() },
		RunLimits { max_constant_bytes: 1, ..RunLimits::generous() },
	] {
		let Env { mut ext, pool, model, _dir, .. } = env_with(true, limits, Default::default());
		ext.execute_with(|| {
			MockInference::set_run(REQUEST, model, classifier_input(), vec![vec![1, 2, 3]]);
			assert_ok!(DisputesPallet::challenge(RuntimeOrigin::signed(CHALLENGER), REQUEST));
			DisputesPallet::offchain_worker(System::block_number());
			assert!(txs(&pool).is_empty(), "{limits:?}");
		});
	}
}

/// A commit that has not landed by `RETRY_AFTER` blocks later (a busy pool, a retracted block)
/// is sent again. The retry must commit the same vote: were it re-salted, whichever of the two
/// landed first would be the one on chain while the node kept the other's salt, and the reveal
/// would not match the commitment (the juror penalized, the dispute short of a vote).
#[test]
fn a_retried_commit_keeps_the_vote_so_the_reveal_matches_whichever_landed() {
	let mut env = env(true);
	let (pool, backend, model) = (env.pool.clone(), env.backend.clone(), env.model);
	env.ext.execute_with(|| {
		let honest = backend.run(&model.0, &classifier_input()).unwrap();
		MockInference::set_run(REQUEST, model, classifier_input(), vec![honest]);
		assert_ok!(DisputesPallet::challenge(RuntimeOrigin::signed(CHALLENGER), REQUEST));
		let info = Disputes::<Test>::get(REQUEST).unwrap();
		let start = System::block_number();
		assert!(start + u64::from(verity_primitives::offchain::RETRY_AFTER) < info.commit_end);

		DisputesPallet::offchain_worker(start);
		// Each worker run has its own randomness.
		env.offchain.write().seed = [7; 32];
		run_to(start + u64::from(verity_primitives::offchain::RETRY_AFTER));
		DisputesPallet::offchain_worker(System::block_number());
		let sent = txs(&pool);
		assert_eq!(sent.len(), 2, "the commit was sent again");
		let commitment = |i: usize| match &sent[i].call {
			RuntimeCall::DisputesPallet(Call::commit { commitment, .. }) => *commitment,
			other => panic!("expected commit, got {other:?}"),
		};
		assert_eq!(commitment(0), commitment(1), "the retry commits the same vote");

		// The first one lands; the reveal matches it.
		assert_ok!(sent[0].call.clone().dispatch(RuntimeOrigin::signed(sent[0].signer)));
		run_to(info.commit_end);
		DisputesPallet::offchain_worker(System::block_number());
		let sent = txs(&pool);
		assert!(matches!(sent[2].call, RuntimeCall::DisputesPallet(Call::reveal { .. })));
		assert_ok!(sent[2].call.clone().dispatch(RuntimeOrigin::signed(sent[2].signer)));
		let info = Disputes::<Test>::get(REQUEST).unwrap();
		assert!(info.jurors.iter().any(|j| j.provider == JUROR_1 && j.reveal.is_some()));
	});
}
