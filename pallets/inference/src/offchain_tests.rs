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
use verity_primitives::{AcceptanceRule, DType, ModelView, TensorSpec};

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
	let bytes = testing::tiny_classifier();
	let model = H256(model_hash(&bytes));
	let view = ModelView {
		owner: OWNER,
		active: true,
		inputs: BoundedVec::truncate_from(vec![f32_spec(4)]),
		outputs: BoundedVec::truncate_from(vec![f32_spec(3)]),
		opset: 17,
		engine_version: 1,
		price_per_call: PRICE,
		acceptance: AcceptanceRule::Exact,
		byte_size: bytes.len() as u64,
	};
	let executor = keys::account_of(&alice_key());
	let mut ext =
		ExtBuilder::default().with_providers(&[(ALICE, executor)]).with_model(model, view).build();
	let (pool, keystore, _) = keys::offchain_ext(&mut ext);
	let key = keys::add_executor_key(&keystore, "//Alice");
	assert_eq!(key, alice_key());
	let dir = tempfile::tempdir().unwrap();
	let backend = keys::engine_backend(dir.path(), faulty);
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
