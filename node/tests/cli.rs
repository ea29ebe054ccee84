//! The command-line client (`verity-node client …`) against a real `--dev` node, run as a user
//! runs it (the built binary, its stdout, stderr and exit code); what it prints must be what
//! the chain holds.
//!
//! - `request` on the demo model waits for the provisional result and prints the request id,
//!   executor, output tensors and a receipt it verified; all equal the chain's records, and
//!   `receipt` verifies the same receipt to Alice's executor key; `challenge` opens a dispute.
//! - `delegate`/`undelegate` from Bob move his stake with Alice by the amount (storage).
//! - `register-model` with the int8 model, its spec file and reference vectors uploads it and
//!   `--wait-active` returns once the validator certified it (storage: Active).
//! - `provider register` makes Eve a provider with the executor key derived from `//Eve`.
//! - Failures end with one `Error:` line and exit code 1: a wrong input shape (caught before
//!   submitting, and with `--no-precheck` the chain's `Inference::InputSpecMismatch` from the
//!   failed extrinsic's block), an account without funds ("cannot pay fees"), an unknown
//!   model, an unreachable node, a timeout.

mod common;

use common::*;
use serde_json::Value;
use sp_core::{Pair as _, H256};
use sp_keyring::Sr25519Keyring;
use std::{
	path::Path,
	time::{Duration, Instant},
};
use verity_runtime::{
	genesis_config_presets::{demo_model, dev_executor},
	Runtime, RuntimeEvent, UNIT,
};

/// One run of `verity-node client`.
struct Run {
	code: Option<i32>,
	stdout: String,
	stderr: String,
}

impl Run {
	fn json(&self) -> Value {
		serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
			panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
		})
	}

	fn assert_ok(self, what: &str) -> Self {
		assert_eq!(
			self.code,
			Some(0),
			"{what} failed:\nstdout:\n{}\nstderr:\n{}",
			self.stdout,
			self.stderr
		);
		self
	}

	/// Asserts exit code 1 and one `Error:` line; returns that line.
	fn assert_error(&self, what: &str) -> String {
		assert_eq!(
			self.code,
			Some(1),
			"{what} must fail:\nstdout:\n{}\nstderr:\n{}",
			self.stdout,
			self.stderr
		);
		let errors: Vec<&str> = self.stderr.lines().filter(|l| l.starts_with("Error: ")).collect();
		assert_eq!(errors.len(), 1, "{what}: one Error line in:\n{}", self.stderr);
		assert!(!self.stderr.contains("panicked"), "{what}: {}", self.stderr);
		errors[0].to_string()
	}
}

async fn client_at(url: &str, args: &[&str]) -> Run {
	let started = Instant::now();
	let child = tokio::process::Command::new(NODE_BIN)
		.arg("client")
		.args(["--url", url])
		.args(args)
		.kill_on_drop(true)
		.output();
	let out = tokio::time::timeout(Duration::from_secs(400), child)
		.await
		.unwrap_or_else(|_| panic!("client {args:?} did not exit"))
		.expect("spawn the client");
	let run = Run {
		code: out.status.code(),
		stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
		stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
	};
	println!("client {} -> {:?} in {:.1?}", args.join(" "), run.code, started.elapsed());
	run
}

async fn client(node: &Node, args: &[&str]) -> Run {
	client_at(&format!("http://127.0.0.1:{}", node.rpc_port), args).await
}

/// The Ethereum address of the `//Alice` executor key (what receipts recover to).
fn alice_executor_address() -> String {
	let key = sp_core::ecdsa::Pair::from_string("//Alice", None).unwrap();
	let sig = key.sign_prehashed(&[1u8; 32]);
	let public = sp_io::crypto::secp256k1_ecdsa_recover(&sig.0, &[1u8; 32]).ok().unwrap();
	hex(&sp_io::hashing::keccak_256(&public)[12..])
}

fn h256_of(v: &Value) -> H256 {
	H256::from_slice(&unhex(v.as_str().expect("a hash string")))
}

async fn stake(
	node: &Node,
	provider: &verity_runtime::AccountId,
	staker: &verity_runtime::AccountId,
) -> u128 {
	let view =
		pallet_providers::StakeViewFunction::<Runtime>::new(provider.clone(), staker.clone());
	node.view(view, None).await.map_or(0, |s| s.active)
}

/// Request, receipt and challenge, as Charlie then Dave.
async fn request_flow(node: &Node, dir: &Path) -> u64 {
	let input = dir.join("demo.input");
	std::fs::write(&input, demo_input()).unwrap();
	let run = client(
		node,
		&[
			"request",
			"--model",
			"mlp-demo",
			"--input",
			input.to_str().unwrap(),
			"--wait",
			"provisional",
			"--suri",
			"//Charlie",
			"--json",
		],
	)
	.await
	.assert_ok("request");
	let out = run.json();
	let id = out["request"].as_u64().expect("request id");

	// What it printed is what the chain holds.
	let req = node.request_info(id, None).await.expect("request");
	assert_eq!(req.requester, Sr25519Keyring::Charlie.to_account_id());
	assert_eq!(req.model, demo_model::ID);
	assert_eq!(verity_engine::encode_tensors(&req.input), demo_input());
	assert_eq!(out["executors"][0]["executor"], dev_executor(Sr25519Keyring::Alice).to_string());
	assert_eq!(out["executors"][0]["provider"], Sr25519Keyring::Alice.to_account_id().to_string());
	let posted = node.result_info(id, None).await.expect("result");
	assert_eq!(h256_of(&out["outputHash"]), posted.output_hash);
	let posted_receipt = posted.receipt.clone().expect("an executor's receipt").signature;
	let tensors = posted.output.clone();
	assert_eq!(out["output"].as_array().unwrap().len(), tensors.len());
	assert_eq!(out["output"][0]["dtype"], "f32");
	assert_eq!(out["output"][0]["shape"], serde_json::json!(demo_model::OUTPUT_DIMS));
	let printed: Vec<f32> = out["output"][0]["values"]
		.as_array()
		.unwrap()
		.iter()
		.map(|v| v.as_f64().unwrap() as f32)
		.collect();
	assert_eq!(printed, tensors[0].to_f32_vec().unwrap(), "printed output = posted output");
	assert_eq!(out["receiptCheck"]["verified"], true);
	assert_eq!(out["receiptCheck"]["signerAddress"], alice_executor_address());
	assert_eq!(out["receipt"]["signature"].as_str().unwrap(), hex(&posted_receipt));
	assert!(out["status"].as_str().unwrap().starts_with("Provisional"), "{out}");

	// `receipt` checks the same receipt (JSON, then the lines people read).
	let out = client(node, &["receipt", "--request", &id.to_string(), "--json"])
		.await
		.assert_ok("receipt")
		.json();
	assert_eq!(out["receiptCheck"]["verified"], true);
	assert_eq!(out["receiptCheck"]["signerAddress"], alice_executor_address());
	assert_eq!(out["receiptCheck"]["executor"], dev_executor(Sr25519Keyring::Alice).to_string());
	// The message names this chain (its genesis hash).
	let genesis = node.block_hash(0).await.expect("genesis hash");
	assert_eq!(out["receiptCheck"]["genesisHash"], hex(genesis.as_bytes()));
	assert_eq!(h256_of(&out["outputHash"]), posted.output_hash);
	let text =
		client(node, &["receipt", "--request", &id.to_string()]).await.assert_ok("receipt").stdout;
	assert!(text.contains("receipt verified: signed by"), "{text}");
	assert!(text.contains(&"output 0: f32 [1, 10] = [".to_string()), "{text}");

	// Dave challenges the provisional result (no juror can be drawn on a one-provider chain,
	// so the dispute concludes at once without quorum; the result stands).
	let out =
		client(node, &["challenge", "--request", &id.to_string(), "--suri", "//Dave", "--json"])
			.await
			.assert_ok("challenge")
			.json();
	let events = out["events"].to_string();
	assert!(events.contains("DisputeOpened"), "{out}");
	id
}

/// Bob delegates 50 VRT more to Alice, then undelegates them.
async fn staking_flow(node: &Node) {
	let alice = Sr25519Keyring::Alice.to_account_id();
	let bob = Sr25519Keyring::Bob.to_account_id();
	let before = stake(node, &alice, &bob).await;
	let out = client(
		node,
		&["delegate", "--provider", "//Alice", "--amount", "50", "--suri", "//Bob", "--json"],
	)
	.await
	.assert_ok("delegate")
	.json();
	let after = stake(node, &alice, &bob).await;
	assert!(after.abs_diff(before + 50 * UNIT) <= 1, "stake {before} -> {after}");
	assert_eq!(out["stakeAfter"].as_str().unwrap().parse::<u128>().unwrap().abs_diff(after), 0);

	let run = client(
		node,
		&["undelegate", "--provider", &alice.to_string(), "--amount", "50VRT", "--suri", "//Bob"],
	)
	.await
	.assert_ok("undelegate");
	assert!(run.stdout.contains("undelegate 50 VRT from"), "{}", run.stdout);
	let unbonded = stake(node, &alice, &bob).await;
	assert!(unbonded.abs_diff(before) <= 1, "stake {before} -> {after} -> {unbonded}");
}

/// Ferdie registers the int8 model from a spec file and waits for its certificate.
async fn registration_flow(node: &Node, dir: &Path) -> H256 {
	for f in ["int8.onnx", "int8.input.bin", "int8.output.bin"] {
		std::fs::copy(repo_path("precompiles/engine/models").join(f), dir.join(f)).unwrap();
	}
	let spec = serde_json::json!({
		"name": "int8-cli",
		"opset": 17,
		"price": "0.001",
		"acceptance": "exact",
		"inputs": [{ "dtype": "u8", "shape": [1, 64] }],
		"outputs": [{ "dtype": "u8", "shape": [1, 10] }],
		"reference_input": [{ "file": "int8.input.bin", "shape": [1, 64] }],
		"reference_output": [{ "file": "int8.output.bin", "shape": [1, 10] }],
	});
	let spec_path = dir.join("int8.spec.json");
	std::fs::write(&spec_path, serde_json::to_string_pretty(&spec).unwrap()).unwrap();
	let model = dir.join("int8.onnx");
	let out = client(
		node,
		&[
			"register-model",
			"--file",
			model.to_str().unwrap(),
			"--spec",
			spec_path.to_str().unwrap(),
			"--wait-active",
			"--suri",
			"//Ferdie",
			"--json",
		],
	)
	.await
	.assert_ok("register-model")
	.json();
	let id = H256(sp_io::hashing::blake2_256(&std::fs::read(&model).unwrap()));
	assert_eq!(h256_of(&out["model"]), id);
	assert!(out["status"].as_str().unwrap().starts_with("Active"), "{out}");
	let info = node
		.view(pallet_models::ModelInfoViewFunction::<Runtime>::new(id), None)
		.await
		.expect("registered");
	assert!(matches!(info.status, pallet_models::ModelStatus::Active { .. }), "{:?}", info.status);
	assert_eq!(info.owner, Sr25519Keyring::Ferdie.to_account_id());
	assert_eq!(info.price_per_call, verity_runtime::MILLI_UNIT);
	assert_eq!(info.acceptance, pallet_models::AcceptanceRule::Exact);
	id
}

#[tokio::test(flavor = "multi_thread")]
async fn client_jobs_against_a_dev_chain() {
	let started = Instant::now();
	let help = client_at("http://127.0.0.1:1", &["--help"]).await.assert_ok("--help");
	for job in [
		"models",
		"register-model",
		"provider",
		"delegate",
		"undelegate",
		"claim",
		"request",
		"challenge",
		"receipt",
	] {
		assert!(help.stdout.contains(job), "{job} in:\n{}", help.stdout);
	}
	let unreachable = client_at(&format!("http://127.0.0.1:{}", free_port()), &["models"]).await;
	let line = unreachable.assert_error("an unreachable node");
	assert!(line.contains("cannot reach the node at"), "{line}");

	let dir = TempDir::new("cli");
	let mut node = Node::spawn("dev-cli", &dir.0, &["--dev"]);
	node.wait_ready(Duration::from_secs(60)).await;

	let models = client(&node, &["models", "--json"]).await.assert_ok("models").json();
	let demo = models
		.as_array()
		.unwrap()
		.iter()
		.find(|m| m["name"] == "mlp-demo")
		.expect("mlp-demo listed");
	assert_eq!(h256_of(&demo["id"]), demo_model::ID);
	assert!(demo["status"].as_str().unwrap().starts_with("Active"), "{demo}");

	// Three accounts work at once, as three users would.
	let (id, (), int8) = tokio::join!(
		request_flow(&node, &dir.0),
		staking_flow(&node),
		registration_flow(&node, &dir.0)
	);
	println!("request {id} served; int8 model {int8:?} active ({:.0?} in)", started.elapsed());

	// A wrong input shape: refused before anything is signed ...
	let values = vec!["0.5"; 63].join(",");
	let wrong = [
		"request",
		"--model",
		"mlp-demo",
		"--f32",
		values.as_str(),
		"--shape",
		"1,63",
		"--suri",
		"//Charlie",
	];
	let line = client(&node, &wrong).await.assert_error("a wrong shape");
	assert!(line.contains("InputSpecMismatch") && line.contains("f32 [1, 64]"), "{line}");
	// ... and by the chain without the pre-check: the transaction fails with the pallet error.
	let mut unchecked = wrong.to_vec();
	unchecked.push("--no-precheck");
	let line = client(&node, &unchecked).await.assert_error("a wrong shape, not pre-checked");
	assert!(
		line.contains("request failed in block #") && line.contains("Inference::InputSpecMismatch"),
		"{line}"
	);
	let block: u32 =
		line.split("block #").nth(1).unwrap().split(':').next().unwrap().parse().unwrap();
	let failed = node.events(node.block_hash(block).await.unwrap()).await.into_iter().find_map(
		|e| match e {
			RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error, ..
			}) => Some(dispatch_error),
			_ => None,
		},
	);
	let Some(sp_runtime::DispatchError::Module(err)) = failed else {
		panic!("no ExtrinsicFailed in #{block}")
	};
	assert!(matches!(
		verity_runtime::RuntimeError::from_dispatch_error(sp_runtime::DispatchError::Module(err)),
		Some(verity_runtime::RuntimeError::Inference(pallet_inference::Error::InputSpecMismatch))
	));

	// An account without funds cannot pay the transaction fee.
	let input = dir.0.join("demo.input");
	let no_funds = [
		"request",
		"--model",
		"mlp-demo",
		"--input",
		input.to_str().unwrap(),
		"--suri",
		"//NoFunds",
	];
	let line = client(&node, &no_funds).await.assert_error("an account without funds");
	assert!(line.contains("cannot pay fees") && line.contains("0 VRT free"), "{line}");

	let line =
		client(&node, &["request", "--model", "no-such-model", "--f32", "1", "--shape", "1"])
			.await
			.assert_error("an unknown model");
	assert!(line.contains("no model named `no-such-model`"), "{line}");

	let line = client(
		&node,
		&[
			"request",
			"--model",
			"mlp-demo",
			"--input",
			input.to_str().unwrap(),
			"--suri",
			"//Charlie",
			"--timeout",
			"1",
		],
	)
	.await
	.assert_error("a timeout");
	assert!(line.contains("timed out after 1 s"), "{line}");

	// Eve becomes a provider of both models with the executor key of //Eve.
	let int8_hex = format!("{int8:?}");
	let models = format!("mlp-demo,{int8_hex}");
	let out = client(
		&node,
		&[
			"provider",
			"register",
			"--bond",
			"200",
			"--commission",
			"5%",
			"--models",
			&models,
			"--executor-suri",
			"//Eve",
			"--suri",
			"//Eve",
			"--json",
		],
	)
	.await
	.assert_ok("provider register")
	.json();
	let eve = Sr25519Keyring::Eve.to_account_id();
	let info = node
		.view(pallet_providers::ProviderViewFunction::<Runtime>::new(eve.clone()), None)
		.await
		.expect("Eve is a provider");
	let executor = verity_primitives::executor_account(
		&sp_core::ecdsa::Pair::from_string("//Eve", None).unwrap().public(),
	);
	assert_eq!(info.executor, executor);
	assert_eq!(out["executor"], executor.to_string());
	assert_eq!(info.models.to_vec(), vec![demo_model::ID, int8]);
	assert_eq!(info.commission, sp_runtime::Perbill::from_percent(5));
	assert_eq!(stake(&node, &eve, &eve).await, 200 * UNIT);
	let shown = client(&node, &["provider", "show", "--provider", "//Eve", "--json"])
		.await
		.assert_ok("provider show")
		.json();
	assert_eq!(shown["activeStake"], (200 * UNIT).to_string());

	// Eve rotates to the key of //Ferdie, with a proof made where that key lives.
	let ferdie = sp_core::ecdsa::Pair::from_string("//Ferdie", None).unwrap().public();
	let ferdie_hex = format!("0x{}", hex::encode(AsRef::<[u8]>::as_ref(&ferdie)));
	let made = client(
		&node,
		&[
			"provider",
			"executor-proof",
			"--provider",
			"//Eve",
			"--executor-suri",
			"//Ferdie",
			"--json",
		],
	)
	.await
	.assert_ok("provider executor-proof")
	.json();
	let proof = made["proof"].as_str().expect("a proof").to_string();
	// The proof names Eve: Dave cannot name Ferdie's key with it (refused before sending).
	let line = client(
		&node,
		&[
			"provider",
			"register",
			"--bond",
			"200",
			"--commission",
			"5%",
			"--models",
			"mlp-demo",
			"--executor",
			&ferdie_hex,
			"--executor-proof",
			&proof,
			"--suri",
			"//Dave",
		],
	)
	.await
	.assert_error("a register with another provider's proof");
	assert!(line.contains("not a signature of key"), "{line}");
	client(
		&node,
		&[
			"provider",
			"set-executor",
			"--executor",
			&ferdie_hex,
			"--executor-proof",
			&proof,
			"--suri",
			"//Eve",
		],
	)
	.await
	.assert_ok("provider set-executor");
	let info = node
		.view(pallet_providers::ProviderViewFunction::<Runtime>::new(eve.clone()), None)
		.await
		.expect("Eve is a provider");
	assert_eq!(info.executor, verity_primitives::executor_account(&ferdie));

	println!("client e2e done in {:.0?}", started.elapsed());
}
