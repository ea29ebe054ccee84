//! Bounded load generator for a Verity chain on this machine (`scripts/load.sh` starts a dev
//! node and runs it): submits `Optimistic` requests of the demo MLP at increasing rates, one
//! stage per rate, then follows every request to its end and prints, per stage:
//! offered and sustained requests/s, requests included, rejected by the pool or failed in their
//! block (with the reason), blocks whose normal-class weight was full, and p50/p99 latency from
//! the request's block to its provisional and to its finalized result (block timestamps).
//! The last line says whether any request was lost: every submission must end included and
//! then finalized or refunded, or rejected with a reason.
//!
//! Loopback only (it refuses any other host) and bounded: it stops after the last stage plus
//! the time for the last requests to finalize.
//!
//!   cargo run --release -p verity-node --example load_gen -- [rpc-url] [rates] [seconds]
//!   # defaults: http://127.0.0.1:9966 2,5,10,20,40 20

use codec::Decode;
use frame_support::{weights::Weight, BoundedVec};
use jsonrpsee::{
	core::client::ClientT,
	http_client::{HttpClient, HttpClientBuilder},
	rpc_params,
};
use sp_core::H256;
use sp_keyring::Sr25519Keyring;
use std::{
	collections::{BTreeMap, VecDeque},
	time::{Duration, Instant},
};
use verity_runtime::{genesis_config_presets::demo_model, Nonce, RuntimeCall, RuntimeEvent};

/// Signing and submission, shared with the node's `client` subcommand.
use verity_node::client::{tx, view};

type Error = Box<dyn std::error::Error>;

/// Accounts the load is spread over (the dev chain endows them); one nonce sequence each.
const SENDERS: [Sr25519Keyring; 5] = [
	Sr25519Keyring::Bob,
	Sr25519Keyring::Charlie,
	Sr25519Keyring::Dave,
	Sr25519Keyring::Eve,
	Sr25519Keyring::Ferdie,
];

/// A block's events, timestamp and consumed normal-class weight.
struct Block {
	/// Events with the index of the extrinsic that emitted them, if any.
	events: Vec<(Option<u32>, RuntimeEvent)>,
	hash: String,
	timestamp_ms: u64,
	normal_weight: Weight,
}

struct Chain {
	client: HttpClient,
	tx: tx::Chain,
	nonces: BTreeMap<Sr25519Keyring, Nonce>,
}

impl Chain {
	async fn storage<T: Decode>(&self, key: Vec<u8>, at: &str) -> Result<Option<T>, Error> {
		let raw: Option<String> =
			self.client.request("state_getStorage", rpc_params![tx::hex(&key), at]).await?;
		Ok(match raw.and_then(|r| tx::unhex(&r)) {
			Some(bytes) => Some(T::decode(&mut &bytes[..])?),
			None => None,
		})
	}

	/// Alice's (the dev provider's) active stake and own bond at the best block, through
	/// pallet-providers' read API.
	async fn provider_stake(&self) -> Result<(u128, u128), Error> {
		let call = pallet_providers::ProviderViewFunction::<verity_runtime::Runtime>::new(
			Sr25519Keyring::Alice.to_account_id(),
		);
		let raw: String = self
			.client
			.request("state_call", rpc_params![view::API, view::encode_call(&call)])
			.await?;
		let info = view::decode_result::<
			pallet_providers::ProviderViewFunction<verity_runtime::Runtime>,
		>(&raw)?
		.ok_or("Alice is not a provider on this chain")?;
		Ok((info.active_stake, info.self_bond))
	}

	async fn block(&self, n: u32) -> Result<Option<Block>, Error> {
		let hash: Option<String> =
			self.client.request("chain_getBlockHash", rpc_params![n]).await?;
		let Some(hash) = hash else { return Ok(None) };
		let prefix = |p: &[u8], s: &[u8]| frame_support::storage::storage_prefix(p, s).to_vec();
		let records: Vec<frame_system::EventRecord<RuntimeEvent, H256>> =
			self.storage(prefix(b"System", b"Events"), &hash).await?.unwrap_or_default();
		let timestamp_ms: u64 =
			self.storage(prefix(b"Timestamp", b"Now"), &hash).await?.unwrap_or_default();
		let consumed: frame_support::dispatch::PerDispatchClass<Weight> =
			self.storage(prefix(b"System", b"BlockWeight"), &hash).await?.unwrap_or_default();
		Ok(Some(Block {
			events: records
				.into_iter()
				.map(|r| match r.phase {
					frame_system::Phase::ApplyExtrinsic(i) => (Some(i), r.event),
					_ => (None, r.event),
				})
				.collect(),
			hash,
			timestamp_ms,
			normal_weight: *consumed.get(frame_support::dispatch::DispatchClass::Normal),
		}))
	}

	/// The signer of extrinsic `index` of block `hash` if it is an `inference.request`.
	async fn request_signer(
		&self,
		hash: &str,
		index: u32,
	) -> Result<Option<verity_runtime::AccountId>, Error> {
		let block: serde_json::Value =
			self.client.request("chain_getBlock", rpc_params![hash]).await?;
		let Some(raw) = block["block"]["extrinsics"].get(index as usize).and_then(|x| x.as_str())
		else {
			return Ok(None);
		};
		let xt = verity_runtime::UncheckedExtrinsic::decode(
			&mut &tx::unhex(raw).unwrap_or_default()[..],
		)?;
		Ok(match (&xt.function, &xt.preamble) {
			(
				RuntimeCall::Inference(pallet_inference::Call::request { .. }),
				sp_runtime::generic::Preamble::Signed(sp_runtime::MultiAddress::Id(who), ..),
			) => Some(who.clone()),
			_ => None,
		})
	}

	async fn best(&self) -> Result<u32, Error> {
		let h: serde_json::Value = self.client.request("chain_getHeader", rpc_params![]).await?;
		Ok(u32::from_str_radix(h["number"].as_str().unwrap_or("0x0").trim_start_matches("0x"), 16)?)
	}

	/// Submits a request of the demo model from `who`; `Err` is the pool's reason.
	async fn request(
		&mut self,
		who: Sr25519Keyring,
		input: &[u8],
	) -> Result<Result<(), String>, Error> {
		let nonce = match self.nonces.get(&who) {
			Some(n) => *n,
			None => tx::next_nonce(&self.client, &who.to_account_id()).await?,
		};
		let call = RuntimeCall::Inference(pallet_inference::Call::request {
			model: demo_model::ID,
			input: BoundedVec::truncate_from(input.to_vec()),
			max_fee: verity_runtime::UNIT,
			policy: pallet_inference::Policy::Optimistic,
		});
		let xt = self.tx.sign(&who.pair(), call, nonce);
		match tx::submit(&self.client, &xt).await {
			Ok(_) => {
				self.nonces.insert(who, nonce + 1);
				Ok(Ok(()))
			},
			// The pool's verdict: the nonce was not used, so the next one reuses it.
			Err(e) => Ok(Err(e.to_string())),
		}
	}
}

/// What happened to one request, by block number.
#[derive(Default, Clone)]
struct Life {
	stage: usize,
	included: u32,
	provisional: Option<u32>,
	end: Option<(u32, &'static str)>,
}

/// An amount in VRT with six decimals.
fn vrt(amount: u128) -> String {
	let unit = verity_runtime::UNIT;
	format!("{}.{:06}", amount / unit, amount % unit / (unit / 1_000_000))
}

fn percentile(v: &mut [f64], p: f64) -> Option<f64> {
	if v.is_empty() {
		return None;
	}
	v.sort_by(|a, b| a.total_cmp(b));
	let i = ((v.len() as f64 - 1.0) * p).round() as usize;
	v.get(i).copied()
}

fn fmt(v: Option<f64>) -> String {
	v.map(|s| format!("{s:.1}")).unwrap_or_else(|| "-".into())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
	let args: Vec<String> = std::env::args().collect();
	let url = args.get(1).cloned().unwrap_or_else(|| "http://127.0.0.1:9966".into());
	let host = url.split("://").nth(1).unwrap_or("").split([':', '/']).next().unwrap_or("");
	if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
		return Err(format!("load_gen only targets a node on this machine, not {host}").into());
	}
	let rates: Vec<u32> = args
		.get(2)
		.map(|s| s.split(',').filter_map(|r| r.trim().parse().ok()).collect())
		.unwrap_or_else(|| vec![2, 5, 10, 20, 40]);
	let seconds: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(20);
	if rates.is_empty()
		|| rates.iter().any(|r| *r == 0 || *r > 1_000)
		|| seconds == 0
		|| seconds > 600
	{
		return Err("rates must be 1..=1000 requests/s and a stage 1..=600 s".into());
	}

	let client =
		HttpClientBuilder::default().request_timeout(Duration::from_secs(60)).build(&url)?;
	let tx = tx::Chain::fetch(&client).await?;
	let mut chain = Chain { client, tx, nonces: BTreeMap::new() };
	let input =
		demo_model::canonical_f32_list(&demo_model::INPUT_DIMS, demo_model::REFERENCE_INPUT);
	let max_normal = <verity_runtime::Runtime as frame_system::Config>::BlockWeights::get()
		.get(frame_support::dispatch::DispatchClass::Normal)
		.max_total
		.unwrap_or(Weight::MAX);

	// Latencies come from block timestamps; the genesis block has none.
	while chain.best().await? < 1 {
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	let first_block = chain.best().await?;
	let stake_before = chain.provider_stake().await?;
	// Per stage: submitted, pool rejections by reason.
	let mut submitted = vec![0u32; rates.len()];
	let mut pool_rejected: Vec<BTreeMap<String, u32>> = vec![BTreeMap::new(); rates.len()];
	// The first block that can hold each stage's requests.
	let mut stage_starts = vec![0u32; rates.len()];
	// Per sender, the stage of each accepted submission in nonce order: a sender's requests are
	// included in that order, so each `Requested` event is attributed to its stage exactly.
	let mut pending: BTreeMap<verity_runtime::AccountId, VecDeque<usize>> = BTreeMap::new();
	for (s, rate) in rates.iter().enumerate() {
		let start = Instant::now();
		stage_starts[s] = chain.best().await? + 1;
		let total = *rate as u64 * seconds;
		for i in 0..total {
			// Pace the submissions evenly over the stage.
			let due = start + Duration::from_secs_f64(i as f64 / *rate as f64);
			if let Some(wait) = due.checked_duration_since(Instant::now()) {
				tokio::time::sleep(wait).await;
			}
			let who = SENDERS[i as usize % SENDERS.len()];
			submitted[s] += 1;
			match chain.request(who, &input).await? {
				Ok(()) => pending.entry(who.to_account_id()).or_default().push_back(s),
				Err(reason) => *pool_rejected[s].entry(reason).or_default() += 1,
			}
		}
		eprintln!(
			"stage {s}: {rate} req/s for {seconds} s submitted ({:.1} s)",
			start.elapsed().as_secs_f64()
		);
	}

	// Follow every block from the first one until every included request has ended, with a
	// bound: the challenge window plus deadlines and reassignments, generously.
	let window = verity_runtime::configs::verity::CHALLENGE_WINDOW;
	let accepted: u32 =
		submitted.iter().sum::<u32>() - pool_rejected.iter().flat_map(|m| m.values()).sum::<u32>();
	let mut lives: BTreeMap<u64, Life> = BTreeMap::new();
	let mut in_block_failed: Vec<BTreeMap<String, u32>> = vec![BTreeMap::new(); rates.len()];
	let mut timestamps: BTreeMap<u32, u64> = BTreeMap::new();
	let mut full_blocks = vec![0u32; rates.len()];
	let mut included_requests = 0u32;
	// Deadline misses: (penalized, excused by congestion); stake slashed from any provider.
	let mut misses = (0u32, 0u32);
	let mut slashed_total = 0u128;
	let deadline = Instant::now()
		+ Duration::from_secs(120 + 12 * window as u64 + seconds * rates.len() as u64);
	let mut n = first_block;
	let stage_of = |b: u32| stage_starts.iter().rposition(|from| b >= *from).unwrap_or(0);
	loop {
		while let Some(block) = chain.block(n).await? {
			timestamps.insert(n, block.timestamp_ms);
			let stage = stage_of(n);
			if block.normal_weight.ref_time() * 100 >= max_normal.ref_time() * 95
				|| block.normal_weight.proof_size() * 100 >= max_normal.proof_size() * 95
			{
				full_blocks[stage] += 1;
			}
			for (index, e) in &block.events {
				use pallet_inference::Event as E;
				match e {
					RuntimeEvent::Inference(E::Requested { request, requester, .. }) => {
						included_requests += 1;
						let stage =
							pending.get_mut(requester).and_then(|q| q.pop_front()).unwrap_or(stage);
						lives.insert(*request, Life { stage, included: n, ..Default::default() });
					},
					RuntimeEvent::Inference(E::ResultProvisional { request, .. }) => {
						if let Some(l) = lives.get_mut(request) {
							l.provisional = Some(n);
						}
					},
					RuntimeEvent::Inference(E::ResultFinalized { request, .. }) => {
						if let Some(l) = lives.get_mut(request) {
							l.end = Some((n, "finalized"));
						}
					},
					RuntimeEvent::Inference(E::Refunded { request, .. }) => {
						if let Some(l) = lives.get_mut(request) {
							l.end = Some((n, "refunded"));
						}
					},
					RuntimeEvent::Inference(E::DeadlineMissed { congested, .. }) => {
						if *congested {
							misses.1 += 1
						} else {
							misses.0 += 1
						}
					},
					RuntimeEvent::Providers(pallet_providers::Event::Slashed {
						amount, ..
					}) => slashed_total += amount,
					RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
						dispatch_error,
						..
					}) => {
						// Only failed requests count here (the worker's transactions fail too,
						// e.g. a result posted after its slot was reassigned).
						let signer = match index {
							Some(i) => chain.request_signer(&block.hash, *i).await?,
							None => None,
						};
						let Some(signer) = signer else { continue };
						let stage =
							pending.get_mut(&signer).and_then(|q| q.pop_front()).unwrap_or(stage);
						let reason =
							verity_runtime::RuntimeError::from_dispatch_error(*dispatch_error)
								.map(|e| format!("{e:?}"))
								.unwrap_or_else(|| format!("{dispatch_error:?}"));
						*in_block_failed[stage].entry(reason).or_default() += 1;
					},
					_ => {},
				}
			}
			n += 1;
		}
		let failed: u32 = in_block_failed.iter().flat_map(|m| m.values()).sum();
		let done =
			included_requests + failed >= accepted && lives.values().all(|l| l.end.is_some());
		if done || Instant::now() > deadline {
			break;
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}

	let secs = |from: u32, to: u32| -> Option<f64> {
		Some((*timestamps.get(&to)? as f64 - *timestamps.get(&from)? as f64) / 1000.0)
	};
	println!(
		"| offered req/s | submitted | included | pool-rejected | failed in block | sustained req/s | full blocks | provisional p50 / p99 (s) | finalized p50 / p99 (s) | ended |"
	);
	println!("|---|---|---|---|---|---|---|---|---|---|");
	let mut lost = 0u32;
	for (s, rate) in rates.iter().enumerate() {
		let stage: Vec<&Life> = lives.values().filter(|l| l.stage == s).collect();
		let mut prov: Vec<f64> =
			stage.iter().filter_map(|l| l.provisional.and_then(|p| secs(l.included, p))).collect();
		let mut fin: Vec<f64> = stage
			.iter()
			.filter_map(|l| match l.end {
				Some((e, "finalized")) => secs(l.included, e),
				_ => None,
			})
			.collect();
		// Requests of the stage per second, from the block before the stage began to the block
		// that included its last request: the offered rate while the chain keeps up, less once
		// requests queue in the pool.
		let last = stage.iter().map(|l| l.included).max();
		let span = last
			.and_then(|last| secs(stage_starts[s].saturating_sub(1), last))
			.filter(|t| *t > 0.0);
		let sustained = span.map(|t| stage.len() as f64 / t);
		let refunded = stage.iter().filter(|l| matches!(l.end, Some((_, "refunded")))).count();
		let open = stage.iter().filter(|l| l.end.is_none()).count() as u32;
		lost += open;
		let rejected: u32 = pool_rejected[s].values().sum();
		let failed: u32 = in_block_failed[s].values().sum();
		println!(
			"| {rate} | {} | {} | {rejected} | {failed} | {} | {} | {} / {} | {} / {} | {} finalized, {refunded} refunded, {open} open |",
			submitted[s],
			stage.len(),
			fmt(sustained),
			full_blocks[s],
			fmt(percentile(&mut prov.clone(), 0.5)),
			fmt(percentile(&mut prov, 0.99)),
			fmt(percentile(&mut fin.clone(), 0.5)),
			fmt(percentile(&mut fin, 0.99)),
			stage.len() - refunded - open as usize,
		);
		for (reason, count) in pool_rejected[s].iter().chain(in_block_failed[s].iter()) {
			println!("|   | {count} x {reason} | | | | | | | | |");
		}
	}
	let total_submitted: u32 = submitted.iter().sum();
	let rejected: u32 = pool_rejected.iter().flat_map(|m| m.values()).sum();
	let failed: u32 = in_block_failed.iter().flat_map(|m| m.values()).sum();
	// Accepted by the pool but never seen in a block (dropped) also counts as lost.
	let unseen = accepted.saturating_sub(included_requests + failed);
	lost += unseen;
	println!(
		"\n{total_submitted} submitted: {included_requests} included, {rejected} rejected by the pool, \
		 {failed} failed in their block, {unseen} never included; lost (not ended): {lost}"
	);
	// Issue "Soundness I": past saturation no provider is penalized and the honest provider's
	// stake is unchanged.
	let stake_after = chain.provider_stake().await?;
	println!(
		"provider Alice: active stake {} -> {} VRT, own bond {} -> {} VRT; deadline misses: {} \
		 penalized, {} excused (congested); slashed from any provider: {} VRT",
		vrt(stake_before.0),
		vrt(stake_after.0),
		vrt(stake_before.1),
		vrt(stake_after.1),
		misses.0,
		misses.1,
		vrt(slashed_total),
	);
	if lost > 0 {
		return Err(format!("{lost} requests did not end").into());
	}
	Ok(())
}
