//! Registering models on a real `--dev` node: Bob registers the quantized demo model with its
//! bytes on chain; Alice's validator worker loads it, reproduces the reference output and
//! attests, which activates it; Alice serves it and a request returns exactly the reference
//! output (integer model, `Exact` rule). A file that is not ONNX is rejected by the same
//! certificate and never becomes active. A model that makes tract panic on some inputs (an
//! out-of-range `Gather` index) is certified on a good input; a request with a bad index makes
//! Alice's worker report failure (the engine catches the panic), the requester is refunded and
//! blocks keep coming.

mod common;

use common::*;
use frame_support::BoundedVec;
use jsonrpsee::rpc_params;
use pallet_models::{AcceptanceRule, Availability, DType, ModelSpec, TensorSpec};
use sp_core::H256;
use sp_keyring::Sr25519Keyring;
use std::time::Duration;
use verity_runtime::{genesis_config_presets::demo_model, Runtime, RuntimeCall, RuntimeEvent};

const INT8: &[u8] = include_bytes!("../../precompiles/engine/models/int8.onnx");
const INT8_INPUT: &[u8] = include_bytes!("../../precompiles/engine/models/int8.input.bin");
const INT8_OUTPUT: &[u8] = include_bytes!("../../precompiles/engine/models/int8.output.bin");
/// `y = table[index]`, `table = 1.5 * [0..8)` (see precompiles/engine/tests/engine.rs).
const GATHER: &[u8] = include_bytes!("../../precompiles/engine/tests/data/gather.onnx");

fn u8_list(dims: &[u32], data: &[u8]) -> Vec<u8> {
	verity_engine::encode_tensors(&[verity_engine::Tensor::new(
		DType::U8,
		dims.to_vec(),
		data.to_vec(),
	)
	.unwrap()])
}

fn int8_spec(name: &str, bytes: &[u8]) -> pallet_models::ModelSpecOf<Runtime> {
	let t = |d: u32| TensorSpec::new(DType::U8, vec![Some(1), Some(d)]).unwrap();
	spec(name, bytes, t(64), t(10), u8_list(&[1, 64], INT8_INPUT), u8_list(&[1, 10], INT8_OUTPUT))
}

fn gather_index(i: i64) -> Vec<u8> {
	verity_engine::encode_tensors(&[verity_engine::Tensor::from_i64(vec![1], &[i]).unwrap()])
}

fn gather_spec(bytes: &[u8]) -> pallet_models::ModelSpecOf<Runtime> {
	let output =
		verity_engine::encode_tensors(&[verity_engine::Tensor::from_f32(vec![1], &[4.5]).unwrap()]);
	spec(
		"gather",
		bytes,
		TensorSpec::new(DType::I64, vec![Some(1)]).unwrap(),
		TensorSpec::new(DType::F32, vec![Some(1)]).unwrap(),
		gather_index(3),
		output,
	)
}

fn spec(
	name: &str,
	bytes: &[u8],
	input: TensorSpec,
	output: TensorSpec,
	reference_input: Vec<u8>,
	reference_output: Vec<u8>,
) -> pallet_models::ModelSpecOf<Runtime> {
	ModelSpec {
		name: BoundedVec::truncate_from(name.as_bytes().to_vec()),
		inputs: BoundedVec::truncate_from(vec![input]),
		outputs: BoundedVec::truncate_from(vec![output]),
		opset: 17,
		engine_version: verity_engine::ENGINE_VERSION,
		price_per_call: verity_runtime::MILLI_UNIT,
		acceptance: AcceptanceRule::Exact,
		byte_size: bytes.len() as u64,
		availability: Availability::OnChain,
		reference_input: BoundedVec::truncate_from(reference_input),
		reference_output: BoundedVec::truncate_from(reference_output),
	}
}

async fn register_and_upload(
	node: &mut Node,
	bytes: &[u8],
	spec: pallet_models::ModelSpecOf<Runtime>,
) -> (H256, u32) {
	let id = H256(sp_io::hashing::blake2_256(bytes));
	let bob = Sr25519Keyring::Bob.pair();
	execute(
		node,
		&bob,
		RuntimeCall::Models(pallet_models::Call::register_model { hash: id, spec }),
	)
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

	// `verity_dryRun` runs only models the chain has certified: the int8 file, put into the
	// node's store but not registered, is refused (it would otherwise run anything anyone
	// could put there on the engine threads the duties need).
	let int8_id = H256(sp_io::hashing::blake2_256(INT8));
	let put = node.rpc("verity_putModel", rpc_params![hex(INT8)]).await.expect("putModel");
	assert_eq!(parse_h256(&put), int8_id);
	let int8_input = hex(&u8_list(&[1, 64], INT8_INPUT));
	let refused = node
		.rpc("verity_dryRun", rpc_params![int8_id, int8_input.clone()])
		.await
		.expect_err("a dry run of an unregistered model");
	assert!(refused.contains("not registered"), "{refused}");

	// The quantized model: certified by Alice's worker, then active.
	let (int8, uploaded) = register_and_upload(&mut node, INT8, int8_spec("int8-demo", INT8)).await;
	let pending = node
		.rpc("verity_dryRun", rpc_params![int8_id, int8_input.clone()])
		.await
		.expect_err("a dry run of a pending model");
	assert!(pending.contains("not active"), "{pending}");
	let (activated, _) = wait_event(&mut node, uploaded, Duration::from_secs(90), |e| match e {
		RuntimeEvent::Models(pallet_models::Event::ModelActivated { model }) if *model == int8 => {
			Some(())
		},
		RuntimeEvent::Models(pallet_models::Event::ModelRejected { model, .. })
			if *model == int8 =>
		{
			panic!("the int8 model must certify")
		},
		_ => None,
	})
	.await;
	println!("int8 model uploaded in block {uploaded}, active in block {activated}");
	// Active now: the dry run gives the reference output.
	let dry = node
		.rpc("verity_dryRun", rpc_params![int8, int8_input])
		.await
		.expect("dry run when active");
	assert_eq!(unhex(dry["output"].as_str().unwrap()), u8_list(&[1, 10], INT8_OUTPUT));

	// A file that is not ONNX (correct hash, on-chain bytes) is rejected by the certificate.
	let junk = b"this is not an onnx model at all".to_vec();
	let (bad, uploaded) = register_and_upload(&mut node, &junk, int8_spec("junk", &junk)).await;
	wait_event(&mut node, uploaded, Duration::from_secs(90), |e| match e {
		RuntimeEvent::Models(pallet_models::Event::ModelRejected { model, .. })
			if *model == bad =>
		{
			Some(())
		},
		RuntimeEvent::Models(pallet_models::Event::ModelActivated { model }) if *model == bad => {
			panic!("a non-ONNX file must never become active")
		},
		_ => None,
	})
	.await;

	// The gather model certifies on its reference index.
	let (gather, uploaded) = register_and_upload(&mut node, GATHER, gather_spec(GATHER)).await;
	wait_event(&mut node, uploaded, Duration::from_secs(90), |e| match e {
		RuntimeEvent::Models(pallet_models::Event::ModelActivated { model })
			if *model == gather =>
		{
			Some(())
		},
		RuntimeEvent::Models(pallet_models::Event::ModelRejected { model, .. })
			if *model == gather =>
		{
			panic!("the gather model must certify")
		},
		_ => None,
	})
	.await;

	// Alice serves them; a request gets exactly the reference output.
	let models = BoundedVec::truncate_from(vec![demo_model::ID, int8, gather]);
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
		RuntimeEvent::Inference(pallet_inference::Event::ResultProvisional {
			output_hash, ..
		}) => Some(*output_hash),
		_ => None,
	})
	.await;
	assert_eq!(hash, H256(sp_io::hashing::blake2_256(&u8_list(&[1, 10], INT8_OUTPUT))));

	// An index out of range makes tract panic in Alice's worker: the engine turns the panic into
	// an error, Alice reports failure (no garbage result, no penalty), every attempt fails the
	// same way and the requester gets the fee back; the node keeps producing blocks.
	let charlie_before = node.account(&Sr25519Keyring::Charlie.to_account_id(), None).await;
	let input = gather_index(100);
	let deposit = request_deposit(input.len(), 1);
	let call = RuntimeCall::Inference(pallet_inference::Call::request {
		model: gather,
		input: BoundedVec::truncate_from(input),
		max_fee: verity_runtime::UNIT,
		policy: pallet_inference::Policy::Optimistic,
	});
	let (hash, at) = execute(&mut node, &Sr25519Keyring::Charlie.pair(), call).await;
	let id = inference_events(&node.events(hash).await)
		.into_iter()
		.find_map(|e| match e {
			pallet_inference::Event::Requested { request, .. } => Some(request),
			_ => None,
		})
		.expect("requested");
	let (failed_at, provider) =
		wait_event(&mut node, at, Duration::from_secs(60), |e| match e {
			RuntimeEvent::Inference(pallet_inference::Event::ExecutionFailed {
				request,
				provider,
				..
			}) if *request == id => Some(provider.clone()),
			RuntimeEvent::Inference(pallet_inference::Event::ResultSubmitted {
				request, ..
			}) if *request == id => panic!("a result was posted for a failed run"),
			_ => None,
		})
		.await;
	assert_eq!(provider, Sr25519Keyring::Alice.to_account_id());
	let (refunded_at, reason) =
		wait_event(&mut node, failed_at, Duration::from_secs(120), |e| match e {
			RuntimeEvent::Inference(pallet_inference::Event::Refunded {
				request, reason, ..
			}) if *request == id => Some(*reason),
			RuntimeEvent::Inference(pallet_inference::Event::ResultSubmitted {
				request, ..
			}) if *request == id => panic!("a result was posted for a failed run"),
			_ => None,
		})
		.await;
	assert_eq!(reason, pallet_inference::RefundReason::NoResult);
	let charlie_after = node
		.account(
			&Sr25519Keyring::Charlie.to_account_id(),
			Some(node.block_hash(refunded_at).await.unwrap()),
		)
		.await;
	assert_eq!(
		charlie_after.data.reserved,
		charlie_before.data.reserved + deposit,
		"the fee hold is released (the storage deposit stays until the request is pruned)"
	);
	let log = std::fs::read_to_string(&node.log_path).unwrap();
	assert!(
		log.contains("a model run panicked"),
		"the node logged the caught panic:\n{}",
		node.log_tail()
	);
	// Blocks keep coming after the panics.
	node.wait_finalized(refunded_at + 2, Duration::from_secs(60)).await;
	println!("gather request {id}: requested in block {at}, first failure {failed_at}, refunded {refunded_at}");
}

/// `verity_dryRun` and `verity_putModel` are unsafe RPC methods: a node that serves only safe
/// methods (`--rpc-methods safe`, or `auto` on a public interface) refuses them, so nobody
/// outside can spend its engine on runs.
#[tokio::test(flavor = "multi_thread")]
async fn dry_run_and_put_model_are_unsafe_methods() {
	let dir = TempDir::new("safe-rpc");
	let mut node = Node::spawn("dev-safe-rpc", &dir.0, &["--dev", "--rpc-methods", "safe"]);
	node.wait_ready(Duration::from_secs(60)).await;
	let input = hex(&demo_model::spec().reference_input);
	let refused = node
		.rpc("verity_dryRun", rpc_params![demo_model::ID, input])
		.await
		.expect_err("dryRun on a safe-only node");
	assert!(refused.contains("unsafe"), "{refused}");
	let refused = node
		.rpc("verity_putModel", rpc_params![hex(INT8)])
		.await
		.expect_err("putModel on a safe-only node");
	assert!(refused.contains("unsafe"), "{refused}");
	// Safe methods still answer.
	node.rpc("verity_listModels", rpc_params![]).await.expect("listModels");
}
