//! Registering models on a real `--dev` node: Bob registers the quantized demo model with its
//! bytes on chain; Alice's validator worker loads it, reproduces the reference output and
//! attests, which activates it; Alice serves it and a request returns exactly the reference
//! output (integer model, `Exact` rule). A file that is not ONNX is rejected by the same
//! certificate and never becomes active.

mod common;

use common::*;
use frame_support::BoundedVec;
use pallet_models::{AcceptanceRule, Availability, DType, ModelSpec, TensorSpec};
use sp_core::H256;
use sp_keyring::Sr25519Keyring;
use std::time::Duration;
use verity_runtime::{genesis_config_presets::demo_model, Runtime, RuntimeCall, RuntimeEvent};

const INT8: &[u8] = include_bytes!("../../precompiles/engine/models/int8.onnx");
const INT8_INPUT: &[u8] = include_bytes!("../../precompiles/engine/models/int8.input.bin");
const INT8_OUTPUT: &[u8] = include_bytes!("../../precompiles/engine/models/int8.output.bin");

fn u8_list(dims: &[u32], data: &[u8]) -> Vec<u8> {
	verity_engine::encode_tensors(&[verity_engine::Tensor::new(DType::U8, dims.to_vec(), data.to_vec())
		.unwrap()])
}

fn spec(name: &str, bytes: &[u8]) -> pallet_models::ModelSpecOf<Runtime> {
	let t = |d: u32| TensorSpec::new(DType::U8, vec![Some(1), Some(d)]).unwrap();
	ModelSpec {
		name: BoundedVec::truncate_from(name.as_bytes().to_vec()),
		inputs: BoundedVec::truncate_from(vec![t(64)]),
		outputs: BoundedVec::truncate_from(vec![t(10)]),
		opset: 17,
		engine_version: verity_engine::ENGINE_VERSION,
		price_per_call: verity_runtime::MILLI_UNIT,
		acceptance: AcceptanceRule::Exact,
		byte_size: bytes.len() as u64,
		availability: Availability::OnChain,
		reference_input: BoundedVec::truncate_from(u8_list(&[1, 64], INT8_INPUT)),
		reference_output: BoundedVec::truncate_from(u8_list(&[1, 10], INT8_OUTPUT)),
	}
}

async fn register_and_upload(node: &mut Node, name: &str, bytes: &[u8]) -> (H256, u32) {
	let id = H256(sp_io::hashing::blake2_256(bytes));
	let bob = Sr25519Keyring::Bob.pair();
	execute(node, &bob, RuntimeCall::Models(pallet_models::Call::register_model { hash: id, spec: spec(name, bytes) }))
		.await;
	let (_, at) = execute(
		node,
		&bob,
		RuntimeCall::Models(pallet_models::Call::upload_chunk {
			hash: id,
			index: 0,
			bytes: BoundedVec::truncate_from(bytes.to_vec()),
		}),
	)
	.await;
	(id, at)
}

#[tokio::test(flavor = "multi_thread")]
async fn registered_models_are_certified_by_validators_and_served() {
	let dir = TempDir::new("registration");
	let mut node = Node::spawn("dev-models", &dir.0, &["--dev"]);
	node.wait_ready(Duration::from_secs(60)).await;

	// The quantized model: certified by Alice's worker, then active.
	let (int8, uploaded) = register_and_upload(&mut node, "int8-demo", INT8).await;
	let (activated, _) = wait_event(&mut node, uploaded, Duration::from_secs(90), |e| match e {
		RuntimeEvent::Models(pallet_models::Event::ModelActivated { model }) if *model == int8 =>
			Some(()),
		RuntimeEvent::Models(pallet_models::Event::ModelRejected { model, .. }) if *model == int8 =>
			panic!("the int8 model must certify"),
		_ => None,
	})
	.await;
	println!("int8 model uploaded in block {uploaded}, active in block {activated}");

	// A file that is not ONNX (correct hash, on-chain bytes) is rejected by the certificate.
	let junk = b"this is not an onnx model at all".to_vec();
	let (bad, uploaded) = register_and_upload(&mut node, "junk", &junk).await;
	wait_event(&mut node, uploaded, Duration::from_secs(90), |e| match e {
		RuntimeEvent::Models(pallet_models::Event::ModelRejected { model, .. }) if *model == bad =>
			Some(()),
		RuntimeEvent::Models(pallet_models::Event::ModelActivated { model }) if *model == bad =>
			panic!("a non-ONNX file must never become active"),
		_ => None,
	})
	.await;

	// Alice serves it; a request gets exactly the reference output.
	let models = BoundedVec::truncate_from(vec![demo_model::ID, int8]);
	execute(
		&mut node,
		&Sr25519Keyring::Alice.pair(),
		RuntimeCall::Providers(pallet_providers::Call::set_models { models }),
	)
	.await;
	let call = RuntimeCall::Inference(pallet_inference::Call::request {
		model: int8,
		input: BoundedVec::truncate_from(u8_list(&[1, 64], INT8_INPUT)),
		max_fee: verity_runtime::UNIT,
		policy: pallet_inference::Policy::Optimistic,
	});
	let (_, at) = execute(&mut node, &Sr25519Keyring::Charlie.pair(), call).await;
	let (_, hash) = wait_event(&mut node, at, Duration::from_secs(60), |e| match e {
		RuntimeEvent::Inference(pallet_inference::Event::ResultProvisional { output_hash, .. }) =>
			Some(*output_hash),
		_ => None,
	})
	.await;
	assert_eq!(hash, H256(sp_io::hashing::blake2_256(&u8_list(&[1, 10], INT8_OUTPUT))));
}
