//! The attest duty ([`crate::offchain`]) through the offchain, transaction pool, keystore and
//! inference externalities: a real engine runs a real model.

use crate::{mock::*, *};
use frame_support::{
	assert_ok,
	traits::{Get, Hooks},
	BoundedVec,
};
use parking_lot::RwLock;
use sp_core::{
	ecdsa,
	offchain::testing::{OffchainState, PendingRequest, PoolState},
	H256,
};
use sp_runtime::traits::Dispatchable;
use std::sync::Arc;
use verity_engine::{encode_tensors, model_hash, testing, Tensor};
use verity_host::{HostBackend, InferenceExt};
use verity_primitives::testing::{self as keys, TestXt};

struct Env {
	ext: sp_io::TestExternalities,
	pool: Arc<RwLock<PoolState>>,
	http: Arc<RwLock<OffchainState>>,
	backend: Arc<HostBackend>,
	key: ecdsa::Public,
	_dir: tempfile::TempDir,
}

/// A test chain with the `//Alice` executor-style key in the keystore (an attester when
/// `attester`) and an engine over an empty model store.
fn env(attester: bool) -> Env {
	let mut ext = ExtBuilder::default().build();
	let (pool, keystore, http) = keys::offchain_ext(&mut ext);
	let key = keys::add_executor_key(&keystore, "//Alice");
	if attester {
		add_key_attester(keys::account_of(&key));
	}
	let dir = tempfile::tempdir().unwrap();
	let backend = keys::engine_backend(dir.path(), false);
	ext.register_extension(InferenceExt::new(backend.clone()));
	Env { ext, pool, http, backend, key, _dir: dir }
}

const URI: &str = "http://127.0.0.1:9/m.onnx";

/// The model's URI answers `body` once.
fn serve(http: &RwLock<OffchainState>, body: &[u8]) {
	http.write().expect_request(PendingRequest {
		method: "GET".into(),
		uri: URI.into(),
		sent: true,
		response: Some(body.to_vec()),
		..Default::default()
	});
}

/// A well-formed `[1, 3]` f32 reference output, for models whose output is never compared.
fn some_output() -> Vec<u8> {
	encode_tensors(&[Tensor::from_f32(vec![1, 3], &[0.0, 0.5, 0.5]).unwrap()])
}

fn classifier_input() -> Vec<u8> {
	encode_tensors(&[Tensor::from_f32(vec![1, 4], &[0.5, -1.0, 2.0, 0.0]).unwrap()])
}

fn f32_spec(width: u32) -> TensorSpec {
	TensorSpec { dtype: DType::F32, dims: BoundedVec::truncate_from(vec![None, Some(width)]) }
}

/// Register `bytes` as a URI model whose reference output is `reference_output`.
fn register(bytes: &[u8], reference_output: Vec<u8>) -> H256 {
	let id = H256(model_hash(bytes));
	let spec = ModelSpec {
		name: BoundedVec::truncate_from(b"classifier".to_vec()),
		inputs: BoundedVec::truncate_from(vec![f32_spec(4)]),
		outputs: BoundedVec::truncate_from(vec![f32_spec(3)]),
		opset: 17,
		engine_version: 1,
		price_per_call: 5,
		acceptance: AcceptanceRule::Exact,
		byte_size: bytes.len() as u64,
		availability: Availability::Uris(BoundedVec::truncate_from(vec![
			BoundedVec::truncate_from(URI.as_bytes().to_vec()),
		])),
		reference_input: BoundedVec::truncate_from(classifier_input()),
		reference_output: BoundedVec::truncate_from(reference_output),
	};
	assert_ok!(ModelsPallet::register_model(RuntimeOrigin::signed(OWNER), id, spec));
	assert!(crate::Models::<Test>::get(id).unwrap().bytes_verified);
	id
}

fn attestations(pool: &RwLock<PoolState>) -> Vec<TestXt<RuntimeCall>> {
	keys::submitted::<RuntimeCall>(pool)
}

#[test]
fn attester_reproduces_the_reference_output_and_its_attestation_counts() {
	let Env { mut ext, pool, backend, key, _dir, .. } = env(true);
	ext.execute_with(|| {
		let bytes = testing::tiny_classifier();
		backend.store().put(&bytes).unwrap();
		let reference = backend.run(&model_hash(&bytes), &classifier_input()).unwrap();
		let id = register(&bytes, reference.clone());

		ModelsPallet::offchain_worker(1);
		let txs = attestations(&pool);
		assert_eq!(txs.len(), 1);
		let tx = &txs[0];
		assert!(tx.is_signed_by_signer());
		assert_eq!(tx.signer, keys::account_of(&key));
		assert_eq!(
			tx.call,
			RuntimeCall::ModelsPallet(Call::attest {
				hash: id,
				output: BoundedVec::truncate_from(reference)
			})
		);
		// The chain accepts it as a matching attestation.
		assert_ok!(tx.call.clone().dispatch(RuntimeOrigin::signed(tx.signer)));
		assert_eq!(crate::Attestations::<Test>::get(id).into_inner(), vec![tx.signer]);

		// A later run does not attest again: the chain records the attestation.
		ModelsPallet::offchain_worker(10);
		assert_eq!(attestations(&pool).len(), 1);
		ModelsPallet::do_try_state().unwrap();
	});
}

#[test]
fn a_model_the_engine_refuses_is_attested_empty_and_rejected() {
	let Env { mut ext, pool, backend, _dir, .. } = env(true);
	ext.execute_with(|| {
		let bytes = b"not an onnx model at all".to_vec();
		backend.store().put(&bytes).unwrap();
		let id = register(&bytes, some_output());

		ModelsPallet::offchain_worker(1);
		let txs = attestations(&pool);
		assert_eq!(txs.len(), 1);
		assert_eq!(
			txs[0].call,
			RuntimeCall::ModelsPallet(Call::attest { hash: id, output: BoundedVec::new() })
		);
		assert_ok!(txs[0].call.clone().dispatch(RuntimeOrigin::signed(txs[0].signer)));
		assert!(matches!(
			crate::Models::<Test>::get(id).unwrap().status,
			ModelStatus::Rejected { .. }
		));
		ModelsPallet::do_try_state().unwrap();
	});
}

#[test]
fn keys_that_may_not_attest_submit_nothing() {
	let Env { mut ext, pool, backend, _dir, .. } = env(false);
	ext.execute_with(|| {
		let bytes = testing::tiny_classifier();
		backend.store().put(&bytes).unwrap();
		let reference = backend.run(&model_hash(&bytes), &classifier_input()).unwrap();
		register(&bytes, reference);
		ModelsPallet::offchain_worker(1);
		assert!(attestations(&pool).is_empty());
	});
}

#[test]
fn bytes_fetched_from_the_uri_are_stored_and_attested() {
	let Env { mut ext, pool, http, backend, _dir, .. } = env(true);
	ext.execute_with(|| {
		let bytes = testing::tiny_classifier();
		let reference = {
			let scratch = tempfile::tempdir().unwrap();
			let b = keys::engine_backend(scratch.path(), false);
			b.store().put(&bytes).unwrap();
			b.run(&model_hash(&bytes), &classifier_input()).unwrap()
		};
		let id = register(&bytes, reference.clone());
		serve(&http, &bytes);
		ModelsPallet::offchain_worker(1);
		assert!(backend.store().contains(&id.0));
		let txs = attestations(&pool);
		assert_eq!(txs.len(), 1);
		assert_eq!(
			txs[0].call,
			RuntimeCall::ModelsPallet(Call::attest {
				hash: id,
				output: BoundedVec::truncate_from(reference)
			})
		);
	});
}

#[test]
fn bytes_with_the_wrong_hash_leave_the_model_for_a_later_block() {
	// The URI serves other bytes: the host refuses them, the attester neither rejects the
	// model nor holds the duty, and the next block tries again.
	let Env { mut ext, pool, http, backend, key, _dir, .. } = env(true);
	ext.execute_with(|| {
		let bytes = testing::tiny_classifier();
		let id = register(&bytes, some_output());
		serve(&http, b"someone else's model");
		ModelsPallet::offchain_worker(1);
		assert!(attestations(&pool).is_empty());
		assert!(!backend.store().contains(&id.0));
		assert_eq!(crate::Models::<Test>::get(id).unwrap().status, ModelStatus::Pending);
		assert!(verity_primitives::offchain::claim(b"attest", &id, &keys::account_of(&key), 2));
	});
}

#[test]
fn the_registry_runs_a_model_for_other_pallets_duties() {
	// What pallet-inference's executors and pallet-disputes' jurors call: the registry fetches
	// the bytes (here from the model's URI) and runs them for the given purpose.
	let Env { mut ext, http, backend, _dir, .. } = env(false);
	ext.execute_with(|| {
		use crate::traits::ModelRegistry;
		let bytes = testing::tiny_classifier();
		let id = register(&bytes, some_output());
		serve(&http, &bytes);
		let out = <ModelsPallet as ModelRegistry<AccountId, Balance>>::run_offchain(
			&id,
			&classifier_input(),
			MaxReferenceSize::get(),
			verity_host::Purpose::Execute,
		)
		.expect("runs");
		assert_eq!(out, backend.run(&id.0, &classifier_input()).unwrap());
		let unknown = <ModelsPallet as ModelRegistry<AccountId, Balance>>::run_offchain(
			&H256([7; 32]),
			&classifier_input(),
			MaxReferenceSize::get(),
			verity_host::Purpose::Judge,
		);
		assert_eq!(unknown, Err(verity_host::HostError::ModelNotFound));
	});
}
