//! Registering models on a real `--dev` node: Bob registers the quantized demo model with its
//! bytes on chain, of execution class `Deterministic`; Alice's validator worker loads it,
//! reproduces the reference output in the deterministic mode and attests, which activates it;
//! it runs inside a block; Alice serves it (in the deterministic mode too) and a request
//! returns exactly the reference output (`Exact` rule). A file that is not ONNX is rejected by the same
//! certificate and never becomes active. A model that makes tract panic on some inputs (an
//! out-of-range `Gather` index) is certified on a good input; a request with a bad index makes
//! Alice's worker report failure (the engine catches the panic), the requester is refunded and
//! blocks keep coming. `verity_dryRun` runs only active models and is an unsafe method;
//! `--model-fetch-allow-host` keeps a node from fetching URI models elsewhere.

mod common;

use codec::Decode;
use common::*;
use frame_support::BoundedVec;
use jsonrpsee::rpc_params;
use pallet_models::{AcceptanceRule, Availability, DType, ExecutionClass, ModelSpec, TensorSpec};
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
	let (input, output) = (u8_list(&[1, 64], INT8_INPUT), u8_list(&[1, 10], INT8_OUTPUT));
	spec(name, bytes, t(64), t(10), input, output, ExecutionClass::Deterministic)
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
		ExecutionClass::Native,
	)
}

fn spec(
	name: &str,
	bytes: &[u8],
	input: TensorSpec,
	output: TensorSpec,
	reference_input: Vec<u8>,
	reference_output: Vec<u8>,
	execution: ExecutionClass,
) -> pallet_models::ModelSpecOf<Runtime> {
	ModelSpec {
		name: BoundedVec::truncate_from(name.as_bytes().to_vec()),
		inputs: BoundedVec::truncate_from(vec![input]),
		outputs: BoundedVec::truncate_from(vec![output]),
		opset: 17,
		engine_version: verity_engine::ENGINE_VERSION,
		price_per_call: verity_runtime::MILLI_UNIT,
		acceptance: AcceptanceRule::Exact,
		execution,
		byte_size: bytes.len() as u64,
		max_constant_bytes: verity_node::client::values::constant_bound(bytes),
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
	let id = register(node, bytes, spec).await;
	(id, upload(node, bytes).await)
}

/// Bob registers `bytes` under `spec`; returns the model id.
async fn register(
	node: &mut Node,
	bytes: &[u8],
	spec: pallet_models::ModelSpecOf<Runtime>,
) -> H256 {
	let id = H256(sp_io::hashing::blake2_256(bytes));
	let bob = Sr25519Keyring::Bob.pair();
	execute(
		node,
		&bob,
		RuntimeCall::Models(pallet_models::Call::register_model { hash: id, spec }),
	)
	.await;
	id
}

/// Bob uploads `bytes` of a registered model as one chunk; returns the upload's block.
async fn upload(node: &mut Node, bytes: &[u8]) -> u32 {
	let id = H256(sp_io::hashing::blake2_256(bytes));
	let bob = Sr25519Keyring::Bob.pair();
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
	at
}

#[tokio::test(flavor = "multi_thread")]
async fn registered_models_are_certified_by_validators_and_served() {
	let dir = TempDir::new("registration");
	let mut node = Node::spawn("dev-models", &dir.0, &["--dev"]);
	node.wait_ready(Duration::from_secs(60)).await;

	// `verity_dryRun` runs only models the chain has certified: a file put into the node's
	// store but not registered is refused (it would otherwise run anything anyone could put
	// there on the engine threads the duties need).
	let unregistered = b"bytes that no model is registered with".to_vec();
	let put = node.rpc("verity_putModel", rpc_params![hex(&unregistered)]).await.expect("putModel");
	assert_eq!(parse_h256(&put), H256(sp_io::hashing::blake2_256(&unregistered)));
	let int8_input = hex(&u8_list(&[1, 64], INT8_INPUT));
	let refused = node
		.rpc("verity_dryRun", rpc_params![parse_h256(&put), int8_input.clone()])
		.await
		.expect_err("a dry run of an unregistered model");
	assert!(refused.contains("not registered"), "{refused}");

	// The quantized model: pending while no node has its bytes (a dry run is refused), then
	// uploaded, certified by Alice's worker and active.
	let int8 = register(&mut node, INT8, int8_spec("int8-demo", INT8)).await;
	let pending = node
		.rpc("verity_dryRun", rpc_params![int8, int8_input.clone()])
		.await
		.expect_err("a dry run of a pending model");
	assert!(pending.contains("not active"), "{pending}");
	let uploaded = upload(&mut node, INT8).await;
	let (activated, _) = wait_event(&mut node, uploaded, Duration::from_secs(90), |e| match e {
		RuntimeEvent::Models(pallet_models::Event::ModelActivated { model, .. })
			if *model == int8 =>
		{
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
		RuntimeEvent::Models(pallet_models::Event::ModelActivated { model, .. })
			if *model == bad =>
		{
			panic!("a non-ONNX file must never become active")
		},
		_ => None,
	})
	.await;

	// The gather model certifies on its reference index.
	let (gather, uploaded) = register_and_upload(&mut node, GATHER, gather_spec(GATHER)).await;
	wait_event(&mut node, uploaded, Duration::from_secs(90), |e| match e {
		RuntimeEvent::Models(pallet_models::Event::ModelActivated { model, .. })
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

	// In-block inference: the int8 model (bytes on chain, FLOPs attested) runs inside block
	// execution in the deterministic mode, with no executor: the event carries exactly the
	// reference output, and the owner (Bob) got the royalty.
	let bob = Sr25519Keyring::Bob.to_account_id();
	let call = RuntimeCall::Inference(pallet_inference::Call::infer {
		model: int8,
		input: BoundedVec::truncate_from(u8_list(&[1, 64], INT8_INPUT)),
	});
	let (block, number) = execute(&mut node, &Sr25519Keyring::Charlie.pair(), call).await;
	let inferred = node.events(block).await.into_iter().find_map(|e| match e {
		RuntimeEvent::Inference(pallet_inference::Event::InferredInBlock {
			model,
			output,
			fuel_used,
			royalty,
			..
		}) if model == int8 => Some((output.into_inner(), fuel_used, royalty)),
		_ => None,
	});
	let (output, fuel_used, royalty) = inferred.expect("an InferredInBlock event");
	assert_eq!(output, u8_list(&[1, 10], INT8_OUTPUT));
	assert!(fuel_used > 0);
	let bob_before = node.account(&bob, node.block_hash(number - 1).await).await.data.free;
	let bob_after = node.account(&bob, Some(block)).await.data.free;
	assert_eq!(bob_after - bob_before, royalty);
	println!("in-block inference of int8 in block {number}: {fuel_used} fuel");
	// A `Native` model (the genesis demo model) does not run in a block: a clear error.
	let start = node.best_number().await;
	let call = RuntimeCall::Inference(pallet_inference::Call::infer {
		model: demo_model::ID,
		input: BoundedVec::truncate_from(u8_list(&[1, 64], INT8_INPUT)),
	});
	let xt = node.sign(&Sr25519Keyring::Charlie.pair(), call).await;
	node.submit(&xt).await.expect("accepted by the pool");
	let (block, _) = node.wait_included(&xt, start, Duration::from_secs(60)).await;
	let failed = node.events(block).await.into_iter().find_map(|e| match e {
		RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
			dispatch_error: sp_runtime::DispatchError::Module(m),
			..
		}) => Some(m),
		_ => None,
	});
	let m = failed.expect("the call fails");
	let error =
		pallet_inference::Error::<Runtime>::decode(&mut &m.error[..]).expect("an inference error");
	assert!(matches!(error, pallet_inference::Error::NotRunnableInBlock), "{error:?}");

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

/// A one-file HTTP server on 127.0.0.1 serving `body` at every path; returns its port and the
/// number of connections it accepted.
fn serve_file(body: &'static [u8]) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
	use std::io::{BufRead, Write};
	let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
	let port = listener.local_addr().unwrap().port();
	let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
	let counted = hits.clone();
	std::thread::spawn(move || {
		for stream in listener.incoming() {
			let Ok(mut stream) = stream else { continue };
			counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
			let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
			let mut line = String::new();
			while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
				line.clear();
			}
			let head = format!(
				"HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
				body.len()
			);
			let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body));
		}
	});
	(port, hits)
}

/// `--model-fetch-allow-host`: two dev chains register the int8 model served from a local
/// server over `http://127.0.0.1:<port>/`. The node that allows `127.0.0.1` fetches, attests
/// and activates it; the node that allows only `models.invalid` never connects to its server
/// and the model stays pending. A malformed host ends the node with one `Error:` line.
#[tokio::test(flavor = "multi_thread")]
async fn uri_models_are_fetched_only_from_allowed_hosts() {
	let (code, stderr) = run_to_exit(
		&["--dev", "--model-fetch-allow-host", "http://models.example/"],
		Duration::from_secs(60),
	);
	assert_eq!(code, Some(1), "{stderr}");
	let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("Error:")).collect();
	assert_eq!(errors.len(), 1, "{stderr}");
	assert!(errors[0].contains("--model-fetch-allow-host"), "{stderr}");

	let (dir_a, dir_b) = (TempDir::new("allow-other"), TempDir::new("allow-local"));
	let mut refusing = Node::spawn(
		"dev-allow-other",
		&dir_a.0,
		&["--dev", "--model-fetch-allow-host", "models.invalid"],
	);
	let mut fetching = Node::spawn(
		"dev-allow-local",
		&dir_b.0,
		&["--dev", "--model-fetch-allow-host", "127.0.0.1"],
	);
	refusing.wait_ready(Duration::from_secs(60)).await;
	fetching.wait_ready(Duration::from_secs(60)).await;
	let id = H256(sp_io::hashing::blake2_256(INT8));
	let mut registered = Vec::new();
	for node in [&mut refusing, &mut fetching] {
		let (port, hits) = serve_file(INT8);
		let mut spec = int8_spec("int8-uri", INT8);
		spec.availability =
			Availability::Uris(BoundedVec::truncate_from(vec![BoundedVec::truncate_from(
				format!("http://127.0.0.1:{port}/int8.onnx").into_bytes(),
			)]));
		let call = RuntimeCall::Models(pallet_models::Call::register_model { hash: id, spec });
		let (_, at) = execute(node, &Sr25519Keyring::Bob.pair(), call).await;
		registered.push((at, hits));
	}
	let (at, hits) = &registered[1];
	wait_event(&mut fetching, *at, Duration::from_secs(90), |e| match e {
		RuntimeEvent::Models(pallet_models::Event::ModelActivated { model, .. })
			if *model == id =>
		{
			Some(())
		},
		_ => None,
	})
	.await;
	assert!(hits.load(std::sync::atomic::Ordering::SeqCst) >= 1);

	// The refusing node's worker has had as many blocks, and three more.
	let (at, hits) = &registered[0];
	let target = at + 4;
	while refusing.best_number().await < target {
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "{}", refusing.log_tail());
	let info = refusing
		.view(pallet_models::ModelInfoViewFunction::<Runtime>::new(id), None)
		.await
		.expect("registered");
	assert_eq!(info.status, pallet_models::ModelStatus::Pending);
	let log = std::fs::read_to_string(&refusing.log_path).unwrap_or_default();
	assert!(log.contains("model bytes are fetched only from: models.invalid"), "{log}");
}
