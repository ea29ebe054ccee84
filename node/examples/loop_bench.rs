//! Benchmark of the inference loop on a running dev chain (`scripts/bench_loop.sh` starts one):
//!
//! 1. latency from the block that includes a request to the block with its provisional result,
//!    for each demo model (the MLP is active at genesis; int8, cnn and batch are registered,
//!    uploaded and certified first, then served by Alice);
//! 2. throughput with one provider: bursts of MLP requests from four accounts; how many
//!    requests a block takes and how many results per second the chain settles.
//!
//! Prints tables. A benchmark, not a test: figures depend on the machine.
//!
//!   cargo run --release -p verity-node --example loop_bench -- [rpc-url] [burst]

use codec::Decode;
use frame_support::BoundedVec;
use jsonrpsee::{
	core::client::ClientT,
	http_client::{HttpClient, HttpClientBuilder},
	rpc_params,
};
use pallet_models::{AcceptanceRule, Availability, DType, ExecutionClass, ModelSpec, TensorSpec};
use serde_json::Value;
use sp_core::H256;
use sp_keyring::Sr25519Keyring;
use std::{
	collections::BTreeMap,
	time::{Duration, Instant},
};
use verity_runtime::{genesis_config_presets::demo_model, Nonce, RuntimeCall, RuntimeEvent};

/// Signing and submission, shared with the node's `client` subcommand.
use verity_node::client::tx;

type Error = Box<dyn std::error::Error>;
/// The demo models, from the environment cargo sets at run time (a binary reused from the
/// shared target directory may have been built by another checkout).
fn models() -> String {
	let manifest = std::env::var("CARGO_MANIFEST_DIR")
		.unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
	format!("{manifest}/../precompiles/engine/models")
}

use tx::hex;
fn unhex(s: &str) -> Vec<u8> {
	tx::unhex(s).unwrap_or_default()
}

struct Chain {
	client: HttpClient,
	nonces: BTreeMap<String, Nonce>,
}

impl Chain {
	async fn submit(&mut self, signer: Sr25519Keyring, call: RuntimeCall) -> Result<(), Error> {
		let who = signer.to_account_id();
		let nonce = match self.nonces.get(&who.to_string()) {
			Some(n) => *n,
			None => {
				self.client.request("system_accountNextIndex", rpc_params![who.to_string()]).await?
			},
		};
		self.nonces.insert(who.to_string(), nonce + 1);
		let xt = tx::Chain::fetch(&self.client).await?.sign(&signer.pair(), call, nonce);
		tx::submit(&self.client, &xt).await?;
		Ok(())
	}

	async fn best(&self) -> Result<u32, Error> {
		let h: Value = self.client.request("chain_getHeader", rpc_params![]).await?;
		Ok(u32::from_str_radix(h["number"].as_str().unwrap_or("0x0").trim_start_matches("0x"), 16)?)
	}

	async fn events(&self, n: u32) -> Result<Option<(Vec<RuntimeEvent>, u64)>, Error> {
		let hash: Option<String> =
			self.client.request("chain_getBlockHash", rpc_params![n]).await?;
		let Some(hash) = hash else { return Ok(None) };
		let key = hex(&frame_support::storage::storage_prefix(b"System", b"Events"));
		let raw: Option<String> =
			self.client.request("state_getStorage", rpc_params![key, &hash]).await?;
		let records: Vec<frame_system::EventRecord<RuntimeEvent, H256>> = match raw {
			Some(r) => Decode::decode(&mut &unhex(&r)[..])?,
			None => vec![],
		};
		let ts_key = hex(&frame_support::storage::storage_prefix(b"Timestamp", b"Now"));
		let ts: Option<String> =
			self.client.request("state_getStorage", rpc_params![ts_key, &hash]).await?;
		let ts =
			ts.map(|t| u64::decode(&mut &unhex(&t)[..]).unwrap_or_default()).unwrap_or_default();
		Ok(Some((records.into_iter().map(|r| r.event).collect(), ts)))
	}

	/// Blocks from `from` until `until` is true of an event; returns every block's events seen.
	async fn scan(
		&self,
		from: u32,
		timeout: Duration,
		mut done: impl FnMut(u32, u64, &RuntimeEvent) -> bool,
	) -> Result<u32, Error> {
		let deadline = Instant::now() + timeout;
		let mut n = from;
		loop {
			while let Some((events, ts)) = self.events(n).await? {
				let mut finished = false;
				for e in &events {
					finished |= done(n, ts, e);
				}
				if finished {
					return Ok(n);
				}
				n += 1;
			}
			if Instant::now() > deadline {
				return Err("timed out".into());
			}
			tokio::time::sleep(Duration::from_millis(300)).await;
		}
	}
}

fn list(dtype: DType, dims: &[u32], data: &[u8]) -> Vec<u8> {
	verity_engine::encode_tensors(&[verity_engine::Tensor::new(
		dtype,
		dims.to_vec(),
		data.to_vec(),
	)
	.expect("manifest tensor")])
}

struct Demo {
	name: &'static str,
	dtype: DType,
	input: Vec<u32>,
	output: Vec<u32>,
	rule: AcceptanceRule,
}

async fn register(chain: &mut Chain, d: &Demo) -> Result<(H256, Vec<u8>), Error> {
	let bytes = std::fs::read(format!("{}/{}.onnx", models(), d.name))?;
	let input =
		list(d.dtype, &d.input, &std::fs::read(format!("{}/{}.input.bin", models(), d.name))?);
	let output =
		list(d.dtype, &d.output, &std::fs::read(format!("{}/{}.output.bin", models(), d.name))?);
	let id = H256(sp_io::hashing::blake2_256(&bytes));
	let spec = |dims: &[u32]| {
		let mut v: Vec<Option<u32>> = dims.iter().map(|d| Some(*d)).collect();
		if d.name == "batch" {
			v[0] = None;
		}
		TensorSpec::new(d.dtype, v).expect("rank")
	};
	let spec = ModelSpec {
		name: BoundedVec::truncate_from(d.name.as_bytes().to_vec()),
		inputs: BoundedVec::truncate_from(vec![spec(&d.input)]),
		outputs: BoundedVec::truncate_from(vec![spec(&d.output)]),
		opset: 17,
		engine_version: verity_engine::ENGINE_VERSION,
		price_per_call: verity_runtime::MILLI_UNIT,
		acceptance: d.rule,
		execution: ExecutionClass::Native,
		byte_size: bytes.len() as u64,
		max_constant_bytes: verity_node::client::values::constant_bound(&bytes),
		availability: Availability::OnChain,
		reference_input: BoundedVec::truncate_from(input.clone()),
		reference_output: BoundedVec::truncate_from(output),
	};
	let from = chain.best().await?;
	chain
		.submit(
			Sr25519Keyring::Bob,
			RuntimeCall::Models(pallet_models::Call::register_model { hash: id, spec }),
		)
		.await?;
	chain
		.submit(
			Sr25519Keyring::Bob,
			RuntimeCall::Models(pallet_models::Call::upload_chunk {
				hash: id,
				index: 0,
				bytes: BoundedVec::truncate_from(bytes),
			}),
		)
		.await?;
	chain
		.scan(from, Duration::from_secs(120), |_, _, e| {
			matches!(e, RuntimeEvent::Models(pallet_models::Event::ModelActivated { model, .. }) if *model == id)
		})
		.await?;
	Ok((id, input))
}

fn request(model: H256, input: &[u8]) -> RuntimeCall {
	RuntimeCall::Inference(pallet_inference::Call::request {
		model,
		input: BoundedVec::truncate_from(input.to_vec()),
		max_fee: verity_runtime::UNIT,
		policy: pallet_inference::Policy::Optimistic,
	})
}

fn median(v: &mut [f64]) -> f64 {
	v.sort_by(|a, b| a.total_cmp(b));
	v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
	let url = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:9944".into());
	let burst: usize = std::env::args().nth(2).and_then(|b| b.parse().ok()).unwrap_or(200);
	let client =
		HttpClientBuilder::default().request_timeout(Duration::from_secs(60)).build(&url)?;
	let mut chain = Chain { client, nonces: BTreeMap::new() };

	// Models.
	let mlp_input =
		demo_model::canonical_f32_list(&demo_model::INPUT_DIMS, demo_model::REFERENCE_INPUT);
	let mut models = vec![("mlp".to_string(), demo_model::ID, mlp_input.clone())];
	for d in [
		Demo {
			name: "int8",
			dtype: DType::U8,
			input: vec![1, 64],
			output: vec![1, 10],
			rule: AcceptanceRule::Exact,
		},
		Demo {
			name: "cnn",
			dtype: DType::F32,
			input: vec![1, 1, 28, 28],
			output: vec![1, 10],
			rule: AcceptanceRule::ArgMax,
		},
		Demo {
			name: "batch",
			dtype: DType::F32,
			input: vec![3, 16],
			output: vec![3, 4],
			rule: AcceptanceRule::ArgMax,
		},
	] {
		let (id, input) = register(&mut chain, &d).await?;
		models.push((d.name.to_string(), id, input));
	}
	let ids = BoundedVec::truncate_from(models.iter().map(|m| m.1).collect::<Vec<_>>());
	chain
		.submit(
			Sr25519Keyring::Alice,
			RuntimeCall::Providers(pallet_providers::Call::set_models { models: ids }),
		)
		.await?;
	tokio::time::sleep(Duration::from_secs(13)).await;

	// 1. Latency, five sequential requests per model.
	println!(
		"\nLatency: request inclusion -> provisional result (dev chain, 6 s blocks, 1 provider)"
	);
	println!("| model | requests | blocks min | blocks median | blocks max | seconds median (block timestamps) |");
	println!("|-------|----------|------------|---------------|------------|-----------------------------------|");
	for (name, id, input) in &models {
		let mut blocks = vec![];
		let mut secs = vec![];
		for _ in 0..5 {
			let from = chain.best().await?;
			chain.submit(Sr25519Keyring::Charlie, request(*id, input)).await?;
			let mut req: Option<(u64, u32, u64)> = None;
			chain
				.scan(from, Duration::from_secs(120), |n, ts, e| match e {
					RuntimeEvent::Inference(pallet_inference::Event::Requested {
						request,
						model,
						..
					}) if model == id && req.is_none() => {
						req = Some((*request, n, ts));
						false
					},
					RuntimeEvent::Inference(pallet_inference::Event::ResultProvisional {
						request,
						..
					}) => match req {
						Some((r, at, t)) if r == *request => {
							blocks.push((n - at) as f64);
							secs.push((ts - t) as f64 / 1000.0);
							true
						},
						_ => false,
					},
					_ => false,
				})
				.await?;
		}
		let mut b = blocks.clone();
		println!(
			"| {name} | {} | {} | {} | {} | {:.1} |",
			blocks.len(),
			blocks.iter().cloned().fold(f64::INFINITY, f64::min),
			median(&mut b),
			blocks.iter().cloned().fold(0.0, f64::max),
			median(&mut secs)
		);
	}

	// 2. Throughput: a burst of MLP requests from four accounts at once.
	let senders = [
		Sr25519Keyring::Charlie,
		Sr25519Keyring::Dave,
		Sr25519Keyring::Eve,
		Sr25519Keyring::Ferdie,
	];
	let from = chain.best().await? + 1;
	let t0 = Instant::now();
	for i in 0..burst {
		chain.submit(senders[i % senders.len()], request(demo_model::ID, &mlp_input)).await?;
	}
	let submit_secs = t0.elapsed().as_secs_f64();
	let mut per_block: BTreeMap<u32, (u32, u32, u64)> = BTreeMap::new();
	let (mut requested, mut provisional) = (0usize, 0usize);
	chain
		.scan(from, Duration::from_secs(900), |n, ts, e| {
			let entry = per_block.entry(n).or_insert((0, 0, ts));
			match e {
				RuntimeEvent::Inference(pallet_inference::Event::Requested { .. }) => {
					entry.0 += 1;
					requested += 1;
				},
				RuntimeEvent::Inference(pallet_inference::Event::ResultProvisional { .. }) => {
					entry.1 += 1;
					provisional += 1;
				},
				_ => {},
			}
			provisional >= burst
		})
		.await?;
	let first = per_block.iter().find(|(_, v)| v.0 > 0).map(|(_, v)| v.2).unwrap_or_default();
	let last = per_block.iter().rev().find(|(_, v)| v.1 > 0).map(|(_, v)| v.2).unwrap_or_default();
	let span = (last.saturating_sub(first)) as f64 / 1000.0;
	println!("\nThroughput: {burst} MLP requests submitted in {submit_secs:.1} s from 4 accounts, one provider");
	println!("| block | requests included | provisional results |");
	println!("|-------|-------------------|---------------------|");
	for (n, (r, p, _)) in &per_block {
		if *r > 0 || *p > 0 {
			println!("| {n} | {r} | {p} |");
		}
	}
	let max_req = per_block.values().map(|v| v.0).max().unwrap_or(0);
	let max_res = per_block.values().map(|v| v.1).max().unwrap_or(0);
	println!(
		"\nmax requests in one block: {max_req}; max results in one block: {max_res}; \
		 {provisional} results over {span:.0} s of block time = {:.1} results/s",
		provisional as f64 / span.max(6.0)
	);
	Ok(())
}
