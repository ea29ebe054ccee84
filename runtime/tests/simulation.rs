//! Adversarial simulation of the verification game over the real runtime ("Soundness I" in
//! docs/security.md): real pallets (models, providers, inference, disputes, balances), real
//! secp256k1 receipts, calls dispatched as their signers, hooks run block by block. Providers
//! and other accounts follow strategies:
//!
//! - *honest* providers P0–P2 execute correctly and judge honestly; D0 delegates to P0;
//! - *faulty* P3 posts wrong outputs; D3 delegates to it;
//! - *lazy* P4 never executes and never votes;
//! - *colluding* P5 with its puppets R5 (requester) and C5 (challenger): P5 never serves R5's
//!   requests (hoping for the missed-deadline penalty), posts wrong outputs for others and
//!   challenges them itself from C5 (hoping for the slash), and votes "correct" as a juror;
//! - a *griefer* fills some blocks (Normal class) so that deadlines pass in congestion;
//! - an honest *watcher* W challenges every wrong provisional result it sees (unless
//!   `VERITY_SIM_WATCHER=0`);
//! - *auditors*: a provisional result is audited with probability `VERITY_SIM_AUDIT_RATE` %
//!   (default 10); a drawn honest provider reports what it finds, the faulty and the colluding
//!   ones vouch for every result ("agrees") without running it, the lazy one stays silent;
//! - an honest requester R0 sends random `Optimistic` and `Redundant(2)` requests.
//!
//! It prints the profit or loss of each strategy and asserts: honest providers and their
//! delegators are never slashed (false slashes: 0) and lose no stake, every attacking
//! coalition ends with less than it started with, and total issuance changes only by the
//! minted rewards and the burned slashes, with rewards below the slashes that funded them.
//! Seeded: `VERITY_SIM_SEED` (default 1) and `VERITY_SIM_BLOCKS` (default 400). It also prints
//! how many wrong results became provisional and how many of them were finalized (survived),
//! against the survival probability `1 - r * h` of an unwatched wrong result at audit rate `r`
//! with honest auditors holding the share `h` of the other providers' stake.
//!
//! `cargo test --release -p verity-runtime --test simulation -- --nocapture`

use codec::Encode;
use frame_support::{
	dispatch::DispatchClass,
	traits::{fungible::Inspect, Get, Hooks},
	weights::Weight,
};
use pallet_inference::{receipt_message, InferenceForDisputes, Policy};
use sp_core::{ecdsa, Pair, H256};
use sp_runtime::{AccountId32, BuildStorage};
use std::collections::BTreeMap;
use verity_runtime::{
	genesis_config_presets::demo_model, AccountId, Balance, Balances, BalancesConfig, Disputes,
	Inference, ModelsConfig, ProvidersConfig, Runtime, RuntimeEvent, RuntimeGenesisConfig,
	RuntimeOrigin, System, UNIT,
};

const PROVIDERS: usize = 6;
const BOND: Balance = 1_000 * UNIT;
const DELEGATION: Balance = 1_000 * UNIT;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Strategy {
	Honest,
	Faulty,
	Lazy,
	Colluding,
}

const STRATEGIES: [Strategy; PROVIDERS] = [
	Strategy::Honest,
	Strategy::Honest,
	Strategy::Honest,
	Strategy::Faulty,
	Strategy::Lazy,
	Strategy::Colluding,
];

fn account(name: &str) -> AccountId {
	AccountId32::from(sp_io::hashing::blake2_256(name.as_bytes()))
}

/// A tiny deterministic generator (xorshift64*), so the simulation needs no extra crate.
struct Rng(u64);
impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}
	fn chance(&mut self, percent: u64) -> bool {
		self.next() % 100 < percent
	}
}

struct Provider {
	account: AccountId,
	key: ecdsa::Pair,
	executor: AccountId,
	strategy: Strategy,
}

/// The model's "true" output for an input: one-hot at a class derived from the input.
fn truth(input: &[u8]) -> usize {
	(sp_io::hashing::blake2_256(input)[0] % 10) as usize
}

fn one_hot(class: usize) -> Vec<u8> {
	let mut v = [0f32; 10];
	v[class % 10] = 1.0;
	let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
	demo_model::canonical_f32_list(&demo_model::OUTPUT_DIMS, &bytes)
}

fn class_of(output: &[u8]) -> Option<usize> {
	let tensors = verity_engine::decode_tensors(output).ok()?;
	let values = tensors.first()?.to_f32_vec()?;
	values
		.iter()
		.enumerate()
		.fold(None, |best: Option<(usize, f32)>, (i, v)| match best {
			Some((_, b)) if b >= *v => best,
			_ => Some((i, *v)),
		})
		.map(|(i, _)| i)
}

fn random_input(rng: &mut Rng) -> Vec<u8> {
	let bytes: Vec<u8> =
		(0..64).flat_map(|_| ((rng.next() % 1000) as f32 / 100.0).to_le_bytes()).collect();
	demo_model::canonical_f32_list(&demo_model::INPUT_DIMS, &bytes)
}

struct World {
	providers: Vec<Provider>,
	requester: AccountId,
	puppet_requester: AccountId,
	puppet_challenger: AccountId,
	watcher: AccountId,
	/// Whether the watcher challenges.
	watching: bool,
	/// The genesis audit rate.
	audit_rate: sp_runtime::Perbill,
	delegators: [(AccountId, usize); 2],
	/// Request id -> (input, requester).
	requests: BTreeMap<u64, (Vec<u8>, AccountId)>,
	/// Request id -> strategies of the providers that posted for it.
	posted_by: BTreeMap<u64, Vec<Strategy>>,
	/// Open votes to reveal.
	votes: Vec<OpenVote>,
	/// Posts due next block: (request, provider index, output).
	posts: Vec<(u64, usize, Vec<u8>)>,
}

/// A vote to reveal: (request, provider index, verdicts, output, salt, reveal block).
type OpenVote = (u64, usize, Vec<bool>, Vec<u8>, [u8; 32], u32);

fn genesis(world: &World) -> sp_io::TestExternalities {
	let owner = account("model-owner");
	let mut balances: Vec<(AccountId, Balance)> =
		world.providers.iter().map(|p| (p.account.clone(), 10_000 * UNIT)).collect();
	for a in [
		&world.requester,
		&world.puppet_requester,
		&world.puppet_challenger,
		&world.watcher,
		&owner,
		&world.delegators[0].0,
		&world.delegators[1].0,
	] {
		balances.push((a.clone(), 10_000 * UNIT));
	}
	let config = RuntimeGenesisConfig {
		balances: BalancesConfig { balances, ..Default::default() },
		models: ModelsConfig {
			models: vec![(
				owner,
				demo_model::ID,
				demo_model::spec(),
				Some(demo_model::ONNX.to_vec()),
			)],
		},
		providers: ProvidersConfig {
			providers: world
				.providers
				.iter()
				.map(|p| {
					(
						p.account.clone(),
						BOND,
						sp_runtime::Perbill::from_percent(10),
						vec![demo_model::ID],
						p.executor.clone(),
					)
				})
				.collect(),
			delegations: world
				.delegators
				.iter()
				.map(|(d, p)| (d.clone(), world.providers[*p].account.clone(), DELEGATION))
				.collect(),
		},
		inference: verity_runtime::InferenceConfig {
			min_jurors: 1,
			audit_rate: world.audit_rate,
			..Default::default()
		},
		..Default::default()
	};
	let mut ext = sp_io::TestExternalities::new(config.build_storage().expect("genesis builds"));
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Everything `who` owns: balance (free and held) plus stake and unclaimed rewards with every
/// provider.
fn wealth(world: &World, who: &AccountId) -> i128 {
	let staked: Balance = world
		.providers
		.iter()
		.map(|p| {
			pallet_providers::Pallet::<Runtime>::stake_of(&p.account, who)
				+ pallet_providers::Pallet::<Runtime>::pending_rewards(&p.account, who)
		})
		.sum();
	(Balances::total_balance(who) + staked) as i128
}

fn sign(world: &World, i: usize, id: u64, input: &[u8], output: &[u8]) -> [u8; 65] {
	let message = receipt_message(
		&verity_primitives::genesis_hash::<Runtime>(),
		id,
		&demo_model::ID,
		&H256(sp_io::hashing::blake2_256(input)),
		&H256(sp_io::hashing::blake2_256(output)),
	);
	world.providers[i].key.sign_prehashed(&message).0
}

/// blake2-256 of the right output of `request`.
fn truth_hash(world: &World, request: u64) -> H256 {
	let input = &world.requests[&request].0;
	H256(sp_io::hashing::blake2_256(&one_hot(truth(input))))
}

fn provider_index(world: &World, who: &AccountId) -> Option<usize> {
	world.providers.iter().position(|p| &p.account == who)
}

/// The counter name for an event about `who`: `"{what}, honest"` or `"{what}, others"`.
fn by_strategy(world: &World, who: &AccountId, what: &str) -> String {
	let honest =
		provider_index(world, who).is_some_and(|i| world.providers[i].strategy == Strategy::Honest);
	format!("{what}, {}", if honest { "honest" } else { "others" })
}

/// What `event` minted and burned.
fn issuance_change(event: &RuntimeEvent) -> (i128, i128) {
	match event {
		RuntimeEvent::Balances(pallet_balances::Event::Minted { amount, .. }) => {
			(*amount as i128, 0)
		},
		RuntimeEvent::Balances(pallet_balances::Event::Burned { amount, .. })
		| RuntimeEvent::Balances(pallet_balances::Event::BurnedHeld { amount, .. }) => {
			(0, *amount as i128)
		},
		_ => (0, 0),
	}
}

/// End block `n`, whose author revealed the VRF output `vrf` (what `pallet_babe::on_finalize`
/// records; executors and juries drawn in the next block read it), and start the next.
fn end_block(n: u32, vrf: [u8; 32]) {
	Inference::on_finalize(n);
	pallet_babe::AuthorVrfRandomness::<Runtime>::put(Some(vrf));
	let next = n + 1;
	System::set_block_number(next);
	frame_system::BlockWeight::<Runtime>::kill();
	Inference::on_initialize(next);
	Disputes::on_initialize(next);
}

#[test]
fn no_attack_pays_and_honest_stake_is_never_slashed() {
	let seed: u64 = std::env::var("VERITY_SIM_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
	let blocks: u32 =
		std::env::var("VERITY_SIM_BLOCKS").ok().and_then(|s| s.parse().ok()).unwrap_or(400);
	let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
	let providers = STRATEGIES
		.iter()
		.enumerate()
		.map(|(i, s)| {
			let key =
				ecdsa::Pair::from_seed(&sp_io::hashing::blake2_256(format!("exec-{i}").as_bytes()));
			let executor = verity_primitives::executor_account(&key.public());
			Provider { account: account(&format!("provider-{i}")), key, executor, strategy: *s }
		})
		.collect();
	let mut world = World {
		providers,
		requester: account("requester"),
		puppet_requester: account("puppet-requester"),
		puppet_challenger: account("puppet-challenger"),
		watcher: account("watcher"),
		watching: std::env::var("VERITY_SIM_WATCHER").map_or(true, |v| v != "0"),
		audit_rate: sp_runtime::Perbill::from_percent(
			std::env::var("VERITY_SIM_AUDIT_RATE").ok().and_then(|s| s.parse().ok()).unwrap_or(10),
		),
		delegators: [(account("delegator-of-honest"), 0), (account("delegator-of-faulty"), 3)],
		requests: BTreeMap::new(),
		posted_by: BTreeMap::new(),
		votes: Vec::new(),
		posts: Vec::new(),
	};
	let mut ext = genesis(&world);
	ext.execute_with(|| {
		let groups: Vec<(&str, Vec<AccountId>)> = vec![
			("honest providers P0-P2", world.providers[..3].iter().map(|p| p.account.clone()).collect()),
			("delegator of P0 (honest)", vec![world.delegators[0].0.clone()]),
			("faulty P3", vec![world.providers[3].account.clone()]),
			("delegator of P3 (faulty)", vec![world.delegators[1].0.clone()]),
			("lazy P4", vec![world.providers[4].account.clone()]),
			(
				"colluding P5 + puppets R5, C5",
				vec![
					world.providers[5].account.clone(),
					world.puppet_requester.clone(),
					world.puppet_challenger.clone(),
				],
			),
			("watcher W", vec![world.watcher.clone()]),
			("requester R0", vec![world.requester.clone()]),
		];
		let before: Vec<i128> =
			groups.iter().map(|(_, g)| g.iter().map(|a| wealth(&world, a)).sum()).collect();
		let honest_stake: Vec<Balance> = (0..3)
			.map(|i| pallet_providers::Pallet::<Runtime>::stake_of(&world.providers[i].account, &world.providers[i].account))
			.collect();
		let issuance = Balances::total_issuance();
		// A wrong result of the faulty P3 gets an honest auditor with probability r * h: h is
		// the honest providers' share of the stake of P3's possible auditors.
		let stake = |i: usize| -> f64 {
			<pallet_providers::Pallet<Runtime> as verity_primitives::ExecutorSelection<_>>::stake_weight(
				&world.providers[i].account,
			) as f64
		};
		let others: f64 = (0..PROVIDERS).filter(|i| *i != 3).map(stake).sum();
		let h = (0..3).map(stake).sum::<f64>() / others;
		let (mut minted, mut burned, mut own_slashed) = (0i128, 0i128, 0i128);
		let mut false_slashes = 0u32;
		let mut counts: BTreeMap<String, u32> = BTreeMap::new();

		for _ in 0..blocks {
			let now = System::block_number();
			// Posts decided last block land now.
			for (id, i, output) in std::mem::take(&mut world.posts) {
				let (input, _) = world.requests[&id].clone();
				let receipt = sign(&world, i, id, &input, &output);
				let ok = Inference::submit_result(
					RuntimeOrigin::signed(world.providers[i].executor.clone()),
					id,
					output.try_into().expect("fits"),
					receipt,
				)
				.is_ok();
				*counts.entry(String::from(if ok { "results posted" } else { "results refused" })).or_default() += 1;
			}
			// Reveals whose phase opened.
			let (due, later): (Vec<_>, Vec<_>) =
				std::mem::take(&mut world.votes).into_iter().partition(|v| v.5 <= now);
			world.votes = later;
			for (id, i, verdicts, output, salt, _) in due {
				let _ = Disputes::reveal(
					RuntimeOrigin::signed(world.providers[i].executor.clone()),
					id,
					verdicts.try_into().expect("fits"),
					output.try_into().expect("fits"),
					salt,
				);
			}
			// New requests.
			if rng.chance(40) {
				let input = random_input(&mut rng);
				let policy = if rng.chance(30) { Policy::Redundant(2) } else { Policy::Optimistic };
				let id = pallet_inference::NextRequestId::<Runtime>::get();
				if Inference::request(
					RuntimeOrigin::signed(world.requester.clone()),
					demo_model::ID,
					input.clone().try_into().expect("fits"),
					UNIT,
					policy,
				)
				.is_ok()
				{
					world.requests.insert(id, (input, world.requester.clone()));
					*counts.entry("requests".into()).or_default() += 1;
				}
			}
			if rng.chance(15) {
				let input = random_input(&mut rng);
				let id = pallet_inference::NextRequestId::<Runtime>::get();
				if Inference::request(
					RuntimeOrigin::signed(world.puppet_requester.clone()),
					demo_model::ID,
					input.clone().try_into().expect("fits"),
					UNIT,
					Policy::Optimistic,
				)
				.is_ok()
				{
					world.requests.insert(id, (input, world.puppet_requester.clone()));
					*counts.entry("requests by the colluder's puppet".into()).or_default() += 1;
				}
			}
			// The griefer fills the Normal class of some blocks.
			if rng.chance(10) {
				let max = <<Runtime as frame_system::Config>::BlockWeights as Get<
					frame_system::limits::BlockWeights,
				>>::get()
				.get(DispatchClass::Normal)
				.max_total
				.unwrap_or(Weight::MAX);
				System::register_extra_weight_unchecked(max, DispatchClass::Normal);
				*counts.entry("congested blocks".into()).or_default() += 1;
			}

			// React to this block's events, and to the events the reactions cause.
			loop {
			let records = System::events();
			if records.is_empty() {
				break;
			}
			System::reset_events();
			for record in records {
				match record.event {
					RuntimeEvent::Inference(pallet_inference::Event::Assigned {
						request, provider, ..
					}) => {
						let Some(i) = provider_index(&world, &provider) else { continue };
						let (input, requester) = world.requests[&request].clone();
						let t = truth(&input);
						let output = match world.providers[i].strategy {
							Strategy::Honest => Some(one_hot(t)),
							Strategy::Faulty => Some(one_hot(t + 1)),
							Strategy::Lazy => None,
							Strategy::Colluding if requester == world.puppet_requester => None,
							Strategy::Colluding => Some(one_hot(t + 2)),
						};
						if let Some(output) = output {
							world.posts.push((request, i, output));
						}
					},
					RuntimeEvent::Inference(pallet_inference::Event::ResultSubmitted {
						request,
						provider,
						..
					}) => {
						let Some(i) = provider_index(&world, &provider) else { continue };
						world.posted_by.entry(request).or_default().push(world.providers[i].strategy);
					},
					RuntimeEvent::Inference(pallet_inference::Event::ResultProvisional {
						request, output_hash, ..
					}) => {
						let posted = world.posted_by.get(&request).cloned().unwrap_or_default();
						if output_hash != truth_hash(&world, request) && posted == [Strategy::Faulty] {
							*counts.entry("wrong results of P3 provisional".into()).or_default() += 1;
						}
						if posted.iter().all(|s| *s == Strategy::Honest) {
							continue;
						}
						if !world.watching && !posted.contains(&Strategy::Colluding) {
							continue;
						}
						// The colluder challenges its own wrong results (front-running the
						// watcher); the watcher challenges the others.
						let challenger = if posted.contains(&Strategy::Colluding) {
							world.puppet_challenger.clone()
						} else {
							world.watcher.clone()
						};
						if Disputes::challenge(RuntimeOrigin::signed(challenger.clone()), request).is_ok() {
							*counts.entry(String::from(if challenger == world.watcher {
									"challenges by the watcher"
								} else {
									"self-challenges by the colluder"
								}))
								.or_default() += 1;
						}
					},
					RuntimeEvent::Inference(pallet_inference::Event::AuditAssigned {
						request, provider, executor,
					}) => {
						let Some(i) = provider_index(&world, &provider) else { continue };
						let right = pallet_inference::Requests::<Runtime>::get(request)
							.and_then(|r| r.outcome)
							.is_some_and(|o| o.output_hash == truth_hash(&world, request));
						let finding = match world.providers[i].strategy {
							Strategy::Honest if right => pallet_inference::AuditFinding::Agrees,
							Strategy::Honest => pallet_inference::AuditFinding::Disagrees,
							Strategy::Faulty | Strategy::Colluding => pallet_inference::AuditFinding::Agrees,
							Strategy::Lazy => continue,
						};
						if Inference::audit(RuntimeOrigin::signed(executor), request, finding).is_ok() {
							*counts.entry(format!("audit findings: {finding:?}")).or_default() += 1;
						}
					},
					RuntimeEvent::Inference(pallet_inference::Event::ResultFinalized {
						request, output_hash, ..
					}) if output_hash != truth_hash(&world, request)
						&& world.posted_by.get(&request).is_some_and(|p| p == &[Strategy::Faulty]) =>
					{
						*counts.entry("wrong results of P3 finalized".into()).or_default() += 1;
					},
					RuntimeEvent::Inference(pallet_inference::Event::AuditMissed { provider, .. }) => {
						*counts.entry(by_strategy(&world, &provider, "audits missed")).or_default() += 1;
					},
					RuntimeEvent::Inference(pallet_inference::Event::AuditorSlashed { provider, .. }) => {
						*counts.entry(by_strategy(&world, &provider, "auditors slashed")).or_default() += 1;
					},
					RuntimeEvent::Disputes(pallet_disputes::Event::DisputeOpened {
						request,
						jurors,
						commit_end,
						..
					}) => {
						*counts.entry("disputes".into()).or_default() += 1;
						let candidates = <Inference as InferenceForDisputes<_, _>>::candidates(request);
						let t = truth(&world.requests[&request].0);
						for juror in jurors {
							let Some(i) = provider_index(&world, &juror) else { continue };
							let verdicts: Vec<bool> = match world.providers[i].strategy {
								Strategy::Honest => candidates.iter().map(|c| class_of(c) == Some(t)).collect(),
								Strategy::Faulty | Strategy::Colluding => vec![true; candidates.len()],
								Strategy::Lazy => continue,
							};
							let output = one_hot(t);
							let salt = sp_io::hashing::blake2_256(&(request, i as u64, seed).encode());
							let commitment = pallet_disputes::Pallet::<Runtime>::commitment_of(
								&juror, request, &verdicts, &output, &salt,
							);
							if Disputes::commit(
								RuntimeOrigin::signed(world.providers[i].executor.clone()),
								request,
								commitment,
							)
							.is_ok()
							{
								world.votes.push((request, i, verdicts, output, salt, commit_end));
							}
						}
					},
					RuntimeEvent::Providers(pallet_providers::Event::Slashed {
						provider, own, ..
					}) => {
						own_slashed += own as i128;
						if let Some(i) = provider_index(&world, &provider) {
							if world.providers[i].strategy == Strategy::Honest {
								false_slashes += 1;
							}
						}
						*counts.entry("slashes".into()).or_default() += 1;
					},
					RuntimeEvent::Inference(pallet_inference::Event::DeadlineMissed {
						provider,
						slashed,
						..
					}) if slashed > 0 => {
						*counts.entry(by_strategy(&world, &provider, "missed deadlines penalized")).or_default() += 1;
					},
					RuntimeEvent::Disputes(pallet_disputes::Event::JurorPenalized { juror, .. }) => {
						*counts.entry(by_strategy(&world, &juror, "juror penalties")).or_default() += 1;
					},
					RuntimeEvent::Inference(pallet_inference::Event::ExecutorSlashed { provider, .. }) => {
						*counts.entry(by_strategy(&world, &provider, "wrong-result slashes")).or_default() += 1;
					},
					other => {
						let (m, b) = issuance_change(&other);
						minted += m;
						burned += b;
					},
				}
			}
			}
			let vrf = sp_io::hashing::blake2_256(&rng.next().to_le_bytes());
			end_block(now, vrf);
		}
		// The last `end_block`'s hooks (deadlines, window closes, tallies) may still mint or
		// burn.
		for record in System::events() {
			let (m, b) = issuance_change(&record.event);
			minted += m;
			burned += b;
		}

		println!(
			"\nsimulation: seed {seed}, {blocks} blocks, audit rate {:?}, watcher {}",
			world.audit_rate,
			if world.watching { "on" } else { "off" }
		);
		for (k, v) in &counts {
			println!("  {k}: {v}");
		}
		let wrong = counts.get("wrong results of P3 provisional").copied().unwrap_or(0);
		let survived = counts.get("wrong results of P3 finalized").copied().unwrap_or(0);
		let r = world.audit_rate.deconstruct() as f64 / 1e9;
		println!(
			"  wrong optimistic results of P3 that survived: {survived} of {wrong} ({:.1} %); \
			 unwatched, an audit alone lets one survive with 1 - r * h = {:.1} % (h = {h:.2}, \
			 the honest share of the other providers' stake at the start)",
			100.0 * survived as f64 / wrong.max(1) as f64,
			100.0 * (1.0 - r * h),
		);
		println!("\n| strategy | accounts | profit (VRT) |\n|---|---|---|");
		let after: Vec<i128> =
			groups.iter().map(|(_, g)| g.iter().map(|a| wealth(&world, a)).sum()).collect();
		for (((name, g), b), a) in groups.iter().zip(&before).zip(&after) {
			println!("| {name} | {} | {:+.4} |", g.len(), (a - b) as f64 / UNIT as f64);
		}
		println!(
			"\nfalse slashes: {false_slashes}; issuance {:+.4} VRT = minted {:.4} - burned {:.4}; own stake slashed {:.4}",
			(Balances::total_issuance() as i128 - issuance as i128) as f64 / UNIT as f64,
			minted as f64 / UNIT as f64,
			burned as f64 / UNIT as f64,
			own_slashed as f64 / UNIT as f64,
		);

		assert_eq!(false_slashes, 0, "an honest provider was slashed");
		for (i, (p, &stake)) in world.providers.iter().zip(&honest_stake).take(3).enumerate() {
			assert!(
				pallet_providers::Pallet::<Runtime>::stake_of(&p.account, &p.account) >= stake,
				"honest provider P{i} lost stake"
			);
		}
		let delegated = pallet_providers::Pallet::<Runtime>::stake_of(&world.providers[0].account, &world.delegators[0].0);
		assert!(delegated >= DELEGATION, "the honest provider's delegator lost stake");
		for (idx, name) in [(2, "faulty"), (4, "lazy"), (5, "colluding")] {
			assert!(after[idx] < before[idx], "the {name} strategy did not lose: {} -> {}", before[idx], after[idx]);
		}
		assert!(after[0] >= before[0], "honest providers lost money");
		assert_eq!(
			Balances::total_issuance() as i128 - issuance as i128,
			minted - burned,
			"issuance changed other than by mints and burns"
		);
		assert!(minted * 100 <= own_slashed * 80, "rewards exceeded 80 % of the own stake slashed");
		assert!(counts.get("disputes").copied().unwrap_or(0) > 0, "the simulation opened no dispute");
		assert!(counts.get("slashes").copied().unwrap_or(0) > 0, "the simulation slashed nobody");
		pallet_providers::Pallet::<Runtime>::do_try_state().expect("providers invariants");
		Inference::do_try_state().expect("inference invariants");
	});
}

/// Soundness II.6: juries are seated by stake, not by slot. For an attacker holding x % of a
/// model's eligible stake (x = 10, 20, 33, 45), in one account or split over ten puppets, the
/// share of juries in which it holds the majority of the seats, over many seeds, against the
/// exact value: seats are independent stake-weighted draws, so the attacker's seat count is
/// Binomial(JurySize, x) however it splits its stake. Agreement within four standard errors in
/// every case shows the draw is unbiased. For comparison the table also gives the exact value
/// of the previous scheme (distinct jurors drawn by stake, votes weighed by stake again), in
/// which one account with 45 % of the stake held most juries.
#[test]
fn an_attackers_share_of_jury_majorities_follows_its_stake() {
	use pallet_providers::JurySelection;
	const HONEST: usize = 10;
	const PUPPETS: usize = 10;
	const DRAWS: u32 = 4_000;
	let honest_stake = 1_000 * UNIT;
	let jury = <Runtime as pallet_disputes::Config>::JurySize::get();
	println!("| attacker stake | attacker accounts | juries with attacker majority (measured, {DRAWS} draws) | exact | previous scheme (exact) |");
	println!("|---|---|---|---|---|");
	for (percent, puppets_n) in
		[10u128, 20, 33, 45].into_iter().flat_map(|p| [(p, 1usize), (p, PUPPETS)])
	{
		// Attacker stake A with A / (A + H) = x.
		let attacker_total = HONEST as u128 * honest_stake * percent / (100 - percent);
		let puppet_stake = attacker_total / puppets_n as u128;
		let owner = account("model-owner");
		let honest: Vec<AccountId> = (0..HONEST).map(|i| account(&format!("honest-{i}"))).collect();
		let puppets: Vec<AccountId> =
			(0..puppets_n).map(|i| account(&format!("puppet-{i}"))).collect();
		let mut balances = vec![(owner.clone(), 10_000 * UNIT)];
		let mut providers = Vec::new();
		for (i, (who, stake)) in honest
			.iter()
			.map(|a| (a, honest_stake))
			.chain(puppets.iter().map(|a| (a, puppet_stake)))
			.enumerate()
		{
			balances.push((who.clone(), stake + 10 * UNIT));
			providers.push((
				who.clone(),
				stake,
				sp_runtime::Perbill::from_percent(10),
				vec![demo_model::ID],
				account(&format!("executor-{i}")),
			));
		}
		let config = RuntimeGenesisConfig {
			balances: BalancesConfig { balances, ..Default::default() },
			models: ModelsConfig {
				models: vec![(
					owner,
					demo_model::ID,
					demo_model::spec(),
					Some(demo_model::ONNX.to_vec()),
				)],
			},
			providers: ProvidersConfig { providers, delegations: vec![] },
			..Default::default()
		};
		let measured =
			sp_io::TestExternalities::new(config.build_storage().unwrap()).execute_with(|| {
				let mut majorities = 0u32;
				for d in 0..DRAWS {
					let seed = H256(sp_io::hashing::blake2_256(
						&(b"jury", percent, puppets_n as u32, d).encode(),
					));
					let seats = <pallet_providers::Pallet<Runtime> as JurySelection<_>>::draw_jury(
						&demo_model::ID,
						jury,
						seed,
						&[],
					);
					let total: u128 = seats.iter().map(|(_, w)| w).sum();
					assert_eq!(total, jury as u128, "more providers than seats: seats drawn");
					let theirs: u128 =
						seats.iter().filter(|(a, _)| puppets.contains(a)).map(|(_, w)| w).sum();
					if theirs * 2 > total {
						majorities += 1;
					}
				}
				majorities as f64 / DRAWS as f64
			});
		let x = attacker_total as f64 / (attacker_total + HONEST as u128 * honest_stake) as f64;
		let exact = binomial_majority(x, jury as usize);
		let previous =
			previous_scheme_majority(HONEST, honest_stake, puppets_n, puppet_stake, jury as usize);
		let se = (exact * (1.0 - exact) / DRAWS as f64).sqrt();
		println!(
			"| {percent} % | {puppets_n} | {:.2} % | {:.2} % | {:.2} % |",
			measured * 100.0,
			exact * 100.0,
			previous * 100.0
		);
		assert!(
			(measured - exact).abs() <= 4.0 * se + 1e-9,
			"x = {percent} %, {puppets_n} accounts: measured {measured}, exact {exact} (standard error {se})"
		);
		// A minority of stake does not hold most juries, however it is split.
		assert!(measured < 0.5, "x = {percent} %, {puppets_n} accounts: {measured}");
	}
}

/// The previous scheme: probability that stake-weighted draws of `jury` distinct providers
/// (without replacement), from `h` providers of stake `sh` and `a` of stake `sa`, give the `a`
/// side more than half the drawn jurors' stake. Exact, by dynamic programming over how many of
/// each side were drawn.
fn previous_scheme_majority(h: usize, sh: Balance, a: usize, sa: Balance, jury: usize) -> f64 {
	// p[i][j]: probability of having drawn i honest and j attacker providers.
	let mut p = vec![vec![0.0f64; a + 1]; h + 1];
	p[0][0] = 1.0;
	let mut result = 0.0;
	for n in 0..=jury.min(h + a) {
		for i in 0..=h.min(n) {
			let j = n - i;
			if j > a || p[i][j] == 0.0 {
				continue;
			}
			if n == jury.min(h + a) {
				if (j as u128) * sa > (i as u128) * sh {
					result += p[i][j];
				}
				continue;
			}
			let rest_h = (h - i) as f64 * sh as f64;
			let rest_a = (a - j) as f64 * sa as f64;
			let total = rest_h + rest_a;
			if i < h {
				p[i + 1][j] += p[i][j] * rest_h / total;
			}
			if j < a {
				p[i][j + 1] += p[i][j] * rest_a / total;
			}
		}
	}
	result
}

/// Each of `jury` seats independently the attacker's with probability `x` (its share of
/// stake); more than half of them.
fn binomial_majority(x: f64, jury: usize) -> f64 {
	let choose = |n: usize, k: usize| -> f64 {
		(0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
	};
	(jury / 2 + 1..=jury)
		.map(|k| choose(jury, k) * x.powi(k as i32) * (1.0 - x).powi((jury - k) as i32))
		.sum()
}
