//! The TypeScript dApp example (`scripts/dapp-example`, @polkadot/api) against a real `--dev`
//! node, run as a user would run it (`node --import tsx request.ts …`): what it prints must be
//! what the chain holds.
//!
//! - Its tensor codec produces the engine's bytes: `test-vectors.json` is checked here against
//!   `verity_engine` and by `tensors.test.ts` against `tensors.ts`.
//! - A request on the demo model's reference input, followed to finalization: the printed
//!   request id, input and output hashes, output values, receipt signature, signer address and
//!   executor equal the chain's records, and every printed event is in the block it names.
//! - A wrong `--input-shape` fails with the chain's `inference.InputSpecMismatch` (the
//!   `ExtrinsicFailed` of the block it names) and a non-zero exit; so does an unreachable node.
//!
//! Needs Node.js and `scripts/dapp-example/node_modules` (`scripts/setup.sh` runs `npm ci`).

mod common;

use codec::Decode;
use common::*;
use serde_json::Value;
use sp_core::{Pair as _, H256};
use sp_keyring::Sr25519Keyring;
use std::{
	fs,
	path::PathBuf,
	process::{Command, Stdio},
	time::{Duration, Instant},
};
use verity_engine::{DType, Tensor};
use verity_runtime::{
	genesis_config_presets::{demo_model, dev_executor},
	Runtime, RuntimeEvent,
};

fn example_dir() -> PathBuf {
	let dir = repo_path("scripts/dapp-example");
	assert!(
		dir.join("node_modules/tsx").is_dir(),
		"{} has no node_modules: run scripts/setup.sh (it runs `npm ci` there)",
		dir.display()
	);
	dir
}

/// What one run of a Node.js script printed.
struct Run {
	code: Option<i32>,
	stdout: String,
	stderr: String,
}

impl Run {
	/// The machine-readable last line, `RESULT {json}`.
	fn result(&self) -> Value {
		let line = self
			.stdout
			.lines()
			.rev()
			.find_map(|l| l.strip_prefix("RESULT "))
			.unwrap_or_else(|| panic!("no RESULT line:\n{self}"));
		serde_json::from_str(line).unwrap_or_else(|e| panic!("RESULT is not JSON ({e}):\n{self}"))
	}
}

impl std::fmt::Display for Run {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		write!(f, "exit {:?}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
	}
}

/// Runs `node --import tsx <args>` in the example's directory; killed after `timeout`.
fn run_example(args: &[&str], timeout: Duration) -> Run {
	let dir = example_dir();
	let out = TempDir::new("dapp-example");
	let (stdout, stderr) = (out.0.join("stdout"), out.0.join("stderr"));
	let mut child = Command::new("node")
		.args(["--import", "tsx"])
		.args(args)
		.current_dir(&dir)
		.stdin(Stdio::null())
		.stdout(fs::File::create(&stdout).unwrap())
		.stderr(fs::File::create(&stderr).unwrap())
		.spawn()
		.unwrap_or_else(|e| panic!("cannot start `node` (Node.js 20 is required): {e}"));
	let deadline = Instant::now() + timeout;
	let status = loop {
		if let Some(status) = child.try_wait().unwrap() {
			break Some(status);
		}
		if Instant::now() > deadline {
			let _ = child.kill();
			let _ = child.wait();
			break None;
		}
		std::thread::sleep(Duration::from_millis(200));
	};
	let run = Run {
		code: status.and_then(|s| s.code()),
		stdout: fs::read_to_string(&stdout).unwrap(),
		stderr: fs::read_to_string(&stderr).unwrap(),
	};
	assert!(status.is_some(), "node {args:?} did not exit within {timeout:?}:\n{run}");
	println!("$ node --import tsx {}\n{run}", args.join(" "));
	run
}

fn dtype(name: &str) -> DType {
	match name {
		"F32" => DType::F32,
		"F16" => DType::F16,
		"I8" => DType::I8,
		"U8" => DType::U8,
		"I32" => DType::I32,
		"I64" => DType::I64,
		"Bool" => DType::Bool,
		other => panic!("unknown dtype {other}"),
	}
}

fn hex0x(bytes: &[u8]) -> String {
	hex(bytes)
}

#[test]
fn tensor_codec_vectors_match_the_engine() {
	let dir = example_dir();
	let vectors: Value =
		serde_json::from_str(&fs::read_to_string(dir.join("test-vectors.json")).unwrap()).unwrap();
	let valid = vectors["valid"].as_array().unwrap();
	let invalid = vectors["invalid"].as_array().unwrap();
	assert!(valid.len() >= 10 && invalid.len() >= 9);
	for v in valid {
		let name = v["name"].as_str().unwrap();
		let tensors: Vec<Tensor> = v["tensors"]
			.as_array()
			.unwrap()
			.iter()
			.map(|t| {
				let shape: Vec<u32> = t["shape"]
					.as_array()
					.unwrap()
					.iter()
					.map(|d| d.as_u64().unwrap() as u32)
					.collect();
				let data = unhex(t["data"].as_str().unwrap());
				let tensor = Tensor::new(dtype(t["dtype"].as_str().unwrap()), shape.clone(), data)
					.unwrap_or_else(|e| panic!("{name}: {e}"));
				// Where the engine has a constructor from values, the values give the same bytes.
				if let Some(values) = t["values"].as_array() {
					let from_values = match tensor.dtype() {
						DType::F32 => Some(Tensor::from_f32(
							shape,
							&values.iter().map(|x| x.as_f64().unwrap() as f32).collect::<Vec<_>>(),
						)),
						DType::I64 => Some(Tensor::from_i64(
							shape,
							&values
								.iter()
								.map(|x| x.as_str().unwrap().parse().unwrap())
								.collect::<Vec<_>>(),
						)),
						DType::U8 => Some(Tensor::from_u8(
							shape,
							&values.iter().map(|x| x.as_u64().unwrap() as u8).collect::<Vec<_>>(),
						)),
						_ => None,
					};
					if let Some(built) = from_values {
						assert_eq!(built.unwrap(), tensor, "{name}: values and data differ");
					}
				}
				tensor
			})
			.collect();
		let encoded = unhex(v["encoded"].as_str().unwrap());
		assert_eq!(hex(&verity_engine::encode_tensors(&tensors)), hex(&encoded), "{name}");
		assert_eq!(verity_engine::decode_tensors(&encoded).unwrap(), tensors, "{name}");
	}
	for v in invalid {
		let encoded = unhex(v["encoded"].as_str().unwrap());
		assert!(verity_engine::decode_tensors(&encoded).is_err(), "{} decodes", v["name"]);
	}

	// The TypeScript side against the same vectors.
	let run = run_example(&["--test", "tensors.test.ts"], Duration::from_secs(120));
	assert_eq!(run.code, Some(0), "tensors.test.ts failed:\n{run}");
	assert!(run.stdout.contains("# fail 0"), "{run}");
}

/// Waits until the node has produced block `number`.
async fn wait_block(node: &mut Node, number: u32) {
	let deadline = Instant::now() + Duration::from_secs(60);
	while node.best_number().await < number {
		assert!(Instant::now() < deadline, "block #{number} not produced:\n{}", node.log_tail());
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// The example's name of a life-cycle event and its request id.
fn life_cycle_event(e: &pallet_inference::Event<Runtime>) -> Option<(&'static str, u64)> {
	use pallet_inference::Event as E;
	Some(match e {
		E::Requested { request, .. } => ("inference.Requested", *request),
		E::DrawScheduled { request, .. } => ("inference.DrawScheduled", *request),
		E::Assigned { request, .. } => ("inference.Assigned", *request),
		E::ResultSubmitted { request, .. } => ("inference.ResultSubmitted", *request),
		E::ResultProvisional { request, .. } => ("inference.ResultProvisional", *request),
		E::AuditScheduled { request, .. } => ("inference.AuditScheduled", *request),
		E::AuditSkipped { request } => ("inference.AuditSkipped", *request),
		E::ResultFinalized { request, .. } => ("inference.ResultFinalized", *request),
		_ => return None,
	})
}

#[tokio::test(flavor = "multi_thread")]
async fn dapp_example_requests_follows_and_verifies_an_inference() {
	// Nobody listens: a clear error, not a hang.
	let nobody = format!("ws://127.0.0.1:{}", free_port());
	let run = run_example(&["request.ts", "--url", &nobody], Duration::from_secs(60));
	assert_eq!(run.code, Some(1), "{run}");
	assert_eq!(run.result()["error"], "Unreachable", "{run}");
	assert!(run.stderr.contains("cannot reach a node"), "{run}");

	let dir = TempDir::new("dapp-example");
	let mut node = Node::spawn("dev", &dir.0, &["--dev"]);
	node.wait_ready(Duration::from_secs(60)).await;
	// The example reads the chain from block 1 on (the demo model is active from genesis).
	wait_block(&mut node, 1).await;
	let url = format!("ws://127.0.0.1:{}", node.rpc_port);

	// A wrong input shape: the chain refuses the request and the example names its error.
	let run = run_example(
		&["request.ts", "--url", &url, "--input-shape", "1,63", "--timeout", "120"],
		Duration::from_secs(150),
	);
	assert_eq!(run.code, Some(1), "{run}");
	let result = run.result();
	assert_eq!(result["ok"], false);
	assert_eq!(result["error"], "inference.InputSpecMismatch", "{run}");
	assert!(run.stderr.contains("inference.InputSpecMismatch"), "{run}");
	let block = parse_h256(&result["blockHash"]);
	assert_eq!(node.number_of(block).await as u64, result["block"].as_u64().unwrap());
	let failed = node.events(block).await.into_iter().find_map(|e| match e {
		RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
			dispatch_error: sp_runtime::DispatchError::Module(err),
			..
		}) => Some(pallet_inference::Error::<Runtime>::decode(&mut &err.error[..]).unwrap()),
		_ => None,
	});
	assert!(matches!(failed, Some(pallet_inference::Error::InputSpecMismatch)), "{failed:?}");

	// The demo model's reference input, to a final result.
	let input_file = repo_path("precompiles/engine/models/mlp.input.bin");
	let input_file = input_file.to_str().expect("a UTF-8 checkout path");
	let started = Instant::now();
	let run = run_example(
		&[
			"request.ts",
			"--url",
			&url,
			"--wait",
			"finalized",
			"--input-file",
			input_file,
			"--timeout",
			"240",
		],
		Duration::from_secs(300),
	);
	println!("finalized run: {:.0?}", started.elapsed());
	assert_eq!(run.code, Some(0), "{run}");
	let result = run.result();
	assert_eq!(result["ok"], true, "{run}");
	assert_eq!(result["stage"], "Finalized");
	let id: u64 = result["request"].as_str().unwrap().parse().unwrap();
	assert!(run.stdout.contains(&format!("request id {id}")), "{run}");

	// The request the chain holds is the one printed, with the engine's input bytes.
	let req = node.request_info(id, None).await.expect("the printed request id is on chain");
	assert_eq!(req.requester, Sr25519Keyring::Alice.to_account_id());
	assert_eq!(result["requester"], req.requester.to_string());
	assert_eq!(req.model, demo_model::ID);
	assert_eq!(result["model"], hex0x(demo_model::ID.as_bytes()));
	assert_eq!(
		verity_engine::encode_tensors(&req.input),
		demo_input(),
		"the example's encoding is the engine's"
	);
	assert_eq!(parse_h256(&result["inputHash"]), req.input_hash);
	let pallet_inference::RequestStatus::Finalized { at: finalized_at } = req.status else {
		panic!("request {id} is {:?}, the example said final", req.status)
	};
	let outcome = req.outcome.as_ref().expect("a final request has an outcome");
	assert_eq!(outcome.slot, Some(0));
	assert_eq!(parse_h256(&result["outputHash"]), outcome.output_hash);

	// The printed output and receipt are the posted result's.
	let posted = node.result_info(id, None).await.expect("result stored");
	assert_eq!(posted.output_hash, outcome.output_hash);
	let posted_output = verity_engine::encode_tensors(&posted.output);
	assert_eq!(H256(sp_io::hashing::blake2_256(&posted_output)), posted.output_hash);
	let posted_receipt = posted.receipt.clone().expect("an executor's receipt").signature;
	let tensors = posted.output.clone();
	let expected: Vec<f32> = tensors[0].to_f32_vec().unwrap();
	let printed = &result["output"][0];
	assert_eq!(printed["dtype"], "F32");
	assert_eq!(printed["shape"], serde_json::json!(demo_model::OUTPUT_DIMS));
	let printed: Vec<f32> =
		printed["values"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
	assert_eq!(printed, expected, "printed output values");
	let spec = demo_model::spec();
	let reference = verity_engine::decode_tensors(&spec.reference_output).unwrap();
	assert!(verity_engine::agrees_all(&spec.acceptance, &tensors, &reference));

	let receipt = &result["receipt"];
	assert_eq!(receipt["signature"], hex0x(&posted_receipt));
	let genesis = node.block_hash(0).await.expect("genesis hash");
	let message = pallet_inference::receipt_message(
		&genesis,
		id,
		&demo_model::ID,
		&req.input_hash,
		&outcome.output_hash,
	);
	assert_eq!(receipt["message"], hex0x(&message));
	let alice_exec = sp_core::ecdsa::Pair::from_string("//Alice", None).unwrap();
	let key =
		sp_io::crypto::secp256k1_ecdsa_recover(&posted_receipt, &message).ok().expect("recovers");
	let address = hex0x(&sp_io::hashing::keccak_256(&key)[12..]);
	let alice_address = {
		let sig = alice_exec.sign_prehashed(&[1u8; 32]);
		let key = sp_io::crypto::secp256k1_ecdsa_recover(&sig.0, &[1u8; 32]).ok().unwrap();
		hex0x(&sp_io::hashing::keccak_256(&key)[12..])
	};
	assert_eq!(address, alice_address);
	assert_eq!(receipt["signerAddress"], address);
	assert_eq!(receipt["executorAccount"], dev_executor(Sr25519Keyring::Alice).to_string());

	// Every printed event is in the block it names, in the life cycle's order.
	let trail = result["events"].as_array().unwrap();
	let names: Vec<&str> = trail.iter().map(|e| e["event"].as_str().unwrap()).collect();
	assert_eq!(
		names,
		[
			"inference.Requested",
			"inference.DrawScheduled",
			"inference.Assigned",
			"inference.ResultSubmitted",
			"inference.ResultProvisional",
			// Sampled for an audit at the dev preset's rate, but the only provider posted the
			// result: nobody can audit it.
			"inference.AuditScheduled",
			"inference.AuditSkipped",
			"inference.ResultFinalized"
		]
	);
	for e in trail {
		let number = e["block"].as_u64().unwrap() as u32;
		let hash = node.block_hash(number).await.unwrap();
		let found = inference_events(&node.events(hash).await)
			.iter()
			.any(|ev| life_cycle_event(ev) == Some((e["event"].as_str().unwrap(), id)));
		assert!(found, "{e} is not in block #{number}");
	}
	assert_eq!(trail.last().unwrap()["block"].as_u64(), Some(u64::from(finalized_at)));
}
