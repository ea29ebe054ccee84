//! Test runtime for pallet-disputes, with thread-local test doubles of pallet-inference
//! (`MockInference`) and pallet-providers (`MockJury`, `MockSlash`).

use crate::{self as pallet_disputes, *};
use codec::Encode;
use core::cell::RefCell;
use frame_support::storage::unhashed;
use frame_support::{
	derive_impl,
	traits::{ConstU32, ConstU64, Hooks},
};
use sp_core::H256;
use sp_runtime::{BuildStorage, DispatchError, Perbill};
use std::collections::BTreeMap;
use verity_primitives::{
	Conclusion, DisputeSubject, ExecutorSelection, InferenceForDisputes, JurySelection, ModelId,
	RequestId, Settlement, Slash, Slashed, Verdict,
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

/// Accused executor of the standard request.
pub const EXECUTOR: AccountId = 1;
/// Second executor (redundant requests).
pub const EXECUTOR_2: AccountId = 2;
/// Jurors, in the mock's selection order (highest stake first).
pub const JUROR_1: AccountId = 3;
pub const JUROR_2: AccountId = 4;
pub const JUROR_3: AccountId = 5;
/// A fourth eligible provider (not selected while three others are eligible).
pub const SPARE: AccountId = 6;
pub const CHALLENGER: AccountId = 20;
pub const CHALLENGER_2: AccountId = 21;
/// An account without funds.
pub const POOR: AccountId = 30;
/// The executor key of a provider is its account + this.
pub const EXEC_OFFSET: AccountId = 100;
pub const ED: Balance = 1;
pub const BOND: Balance = 100;
pub const COMMIT: u64 = 5;
pub const REVEAL: u64 = 5;
pub const JURY_SIZE: u32 = 3;
pub const MAX_PER_BLOCK: u32 = 2;
pub const MAX_OUTPUT: u32 = 64;
pub const MODEL: ModelId = H256([0xaa; 32]);
/// A provisional request with one candidate by `EXECUTOR`.
pub const REQUEST: RequestId = 7;
/// A request that is not provisional (finalized or unknown to `begin_challenge`).
pub const FINAL_REQUEST: RequestId = 8;

pub fn exec(provider: AccountId) -> AccountId {
	provider + EXEC_OFFSET
}

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(2)]
	pub type DisputesPallet = pallet_disputes;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ExistentialDeposit = ConstU64<ED>;
}

frame_support::parameter_types! {
	pub const Quorum: Perbill = Perbill::from_percent(50);
	pub const JurorPenalty: Perbill = Perbill::from_percent(10);
	pub const ChallengerReward: Perbill = Perbill::from_percent(40);
	pub const JurorReward: Perbill = Perbill::from_percent(40);
	/// 0 (draw in the opening call) unless a test sets it.
	pub static DrawDelay: u64 = 0;
}

/// What `MockInference::conclude` reports slashed per wrong candidate.
pub const SLASHED_PER_WRONG: Slashed<Balance> = Slashed { total: 1_000, own: 500 };

verity_primitives::impl_test_signing!(Test, RuntimeCall);

impl Config for Test {
	type ExecutorId = verity_primitives::testing::TestExecutorId;
	type Models = verity_primitives::testing::MockModelRegistry;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Inference = MockInference;
	type Jury = MockJury;
	type Slash = MockSlash;
	type ChallengeBond = ConstU64<BOND>;
	type JurySize = ConstU32<JURY_SIZE>;
	type Randomness = verity_primitives::testing::TestRandomness<Test>;
	type DrawDelay = DrawDelay;
	type CommitPeriod = ConstU64<COMMIT>;
	type RevealPeriod = ConstU64<REVEAL>;
	type Quorum = Quorum;
	type JurorPenalty = JurorPenalty;
	type ChallengerReward = ChallengerReward;
	type JurorReward = JurorReward;
	type MaxCandidates = ConstU32<4>;
	type MaxOutputLen = ConstU32<MAX_OUTPUT>;
	type MaxDisputesPerBlock = ConstU32<MAX_PER_BLOCK>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockHelper;
}

/// A request as the inference double sees it.
#[derive(Clone)]
pub struct MockRequest {
	pub accused: Vec<AccountId>,
	pub candidates: Vec<Vec<u8>>,
	pub provisional: bool,
}

thread_local! {
	static REQUESTS: RefCell<BTreeMap<RequestId, MockRequest>> = const { RefCell::new(BTreeMap::new()) };
	static CONCLUDED: RefCell<Vec<(RequestId, Verdict)>> = const { RefCell::new(Vec::new()) };
	static CONCLUSION: RefCell<Option<Conclusion>> = const { RefCell::new(None) };
	/// Eligible providers with their stake weight, in selection order.
	static PROVIDERS: RefCell<Vec<(AccountId, u128)>> = const { RefCell::new(Vec::new()) };
	static SLASHES: RefCell<Vec<(AccountId, Perbill)>> = const { RefCell::new(Vec::new()) };
	static SEEDS: RefCell<Vec<H256>> = const { RefCell::new(Vec::new()) };
	/// Executor accounts of real keys (off-chain duty tests) and their providers.
	static KEY_EXECUTORS: RefCell<BTreeMap<AccountId, AccountId>> = const { RefCell::new(BTreeMap::new()) };
	/// The model and input every request runs, when a test sets them (off-chain duty tests).
	static RUN: RefCell<Option<(ModelId, Vec<u8>)>> = const { RefCell::new(None) };
}

fn disputed_key(request: RequestId) -> Vec<u8> {
	(b"mock/disputed", request).encode()
}

/// pallet-inference double: `begin_challenge` succeeds once for provisional requests;
/// `conclude` records its call and returns the configured conclusion, or the one the verdict
/// implies.
pub struct MockInference;

impl MockInference {
	pub fn add(request: RequestId, accused: Vec<AccountId>, provisional: bool) {
		let candidates = accused.iter().map(|a| vec![*a as u8; 4]).collect();
		REQUESTS.with(|r| {
			r.borrow_mut().insert(request, MockRequest { accused, candidates, provisional })
		});
	}
	pub fn subject(request: RequestId) -> DisputeSubject<AccountId> {
		let accused = REQUESTS.with(|r| r.borrow().get(&request).unwrap().accused.clone());
		DisputeSubject { model: MODEL, accused }
	}
	pub fn is_provisional(request: RequestId) -> bool {
		REQUESTS.with(|r| r.borrow().get(&request).is_some_and(|q| q.provisional))
			&& !unhashed::exists(&disputed_key(request))
	}
	pub fn concluded() -> Vec<(RequestId, Verdict)> {
		CONCLUDED.with(|c| c.borrow().clone())
	}
	/// Every request runs `model` on `input`, judged on `candidates` (duty tests).
	pub fn set_run(request: RequestId, model: ModelId, input: Vec<u8>, candidates: Vec<Vec<u8>>) {
		RUN.with(|r| *r.borrow_mut() = Some((model, input)));
		REQUESTS.with(|r| {
			if let Some(q) = r.borrow_mut().get_mut(&request) {
				q.candidates = candidates;
			}
		});
	}
	pub fn set_conclusion(c: Option<Conclusion>) {
		CONCLUSION.with(|x| *x.borrow_mut() = c);
	}
}

impl InferenceForDisputes<AccountId, Balance> for MockInference {
	fn begin_challenge(
		request: RequestId,
		_challenger: &AccountId,
	) -> Result<DisputeSubject<AccountId>, DispatchError> {
		REQUESTS.with(|r| {
			let r = r.borrow();
			let q = r.get(&request).ok_or(DispatchError::Other("RequestNotFound"))?;
			if !q.provisional || unhashed::exists(&disputed_key(request)) {
				return Err(DispatchError::Other("RequestNotProvisional"));
			}
			// In storage, so a failed challenge rolls it back as it would in pallet-inference.
			unhashed::put(&disputed_key(request), &true);
			Ok(DisputeSubject { model: MODEL, accused: q.accused.clone() })
		})
	}
	fn input(request: RequestId) -> Option<Vec<u8>> {
		let known = REQUESTS.with(|r| r.borrow().contains_key(&request));
		let set = RUN.with(|r| r.borrow().as_ref().map(|(_, i)| i.clone()));
		known.then(|| set.unwrap_or_else(|| vec![1, 2, 3]))
	}
	fn model(request: RequestId) -> Option<ModelId> {
		let known = REQUESTS.with(|r| r.borrow().contains_key(&request));
		let set = RUN.with(|r| r.borrow().as_ref().map(|(m, _)| *m));
		known.then(|| set.unwrap_or(MODEL))
	}
	fn candidates(request: RequestId) -> Vec<Vec<u8>> {
		REQUESTS
			.with(|r| r.borrow().get(&request).map(|q| q.candidates.clone()).unwrap_or_default())
	}
	/// Reports `SLASHED_PER_WRONG` for every candidate found wrong (the mock slashes nothing;
	/// pallet-disputes only reads the amounts to pay rewards).
	fn conclude(request: RequestId, verdict: Verdict) -> Settlement<Balance> {
		let implied = match &verdict {
			Verdict::NoQuorum | Verdict::NoJury => Conclusion::Undecided,
			Verdict::Decided { correct, .. } if correct.iter().all(|c| *c) => {
				Conclusion::AllCorrect
			},
			Verdict::Decided { .. } => Conclusion::SomeWrong,
		};
		let wrong = match &verdict {
			Verdict::Decided { correct, .. } => correct.iter().filter(|c| !**c).count() as u64,
			Verdict::NoQuorum | Verdict::NoJury => 0,
		};
		CONCLUDED.with(|c| c.borrow_mut().push((request, verdict)));
		let conclusion = CONCLUSION.with(|c| c.borrow().unwrap_or(implied));
		let slashed = if conclusion == Conclusion::SomeWrong {
			Slashed { total: SLASHED_PER_WRONG.total * wrong, own: SLASHED_PER_WRONG.own * wrong }
		} else {
			Slashed::default()
		};
		Settlement { conclusion, slashed }
	}
}

/// pallet-providers double for selection: the eligible providers in listed order, minus
/// `exclude`, the first `count` of them; executor key = provider + `EXEC_OFFSET`.
pub struct MockJury;

impl MockJury {
	pub fn set(providers: Vec<(AccountId, u128)>) {
		PROVIDERS.with(|p| *p.borrow_mut() = providers);
	}
	pub fn seeds() -> Vec<H256> {
		SEEDS.with(|s| s.borrow().clone())
	}
	/// `executor` (a real key's account) is `provider`'s executor key.
	pub fn set_executor(provider: AccountId, executor: AccountId) {
		KEY_EXECUTORS.with(|k| k.borrow_mut().insert(executor, provider));
	}
}

impl ExecutorSelection<AccountId> for MockJury {
	fn select(_model: &ModelId, count: u32, seed: H256, exclude: &[AccountId]) -> Vec<AccountId> {
		SEEDS.with(|s| s.borrow_mut().push(seed));
		PROVIDERS.with(|p| {
			p.borrow()
				.iter()
				.map(|(a, _)| *a)
				.filter(|a| !exclude.contains(a))
				.take(count as usize)
				.collect()
		})
	}
	fn select_weight() -> frame_support::weights::Weight {
		frame_support::weights::Weight::zero()
	}
	fn executor_of(provider: &AccountId) -> Option<AccountId> {
		let key = KEY_EXECUTORS
			.with(|k| k.borrow().iter().find(|(_, p)| *p == provider).map(|(e, _)| *e));
		Some(key.unwrap_or(provider + EXEC_OFFSET))
	}
	fn provider_of(executor: &AccountId) -> Option<AccountId> {
		if let Some(p) = KEY_EXECUTORS.with(|k| k.borrow().get(executor).copied()) {
			return Some(p);
		}
		executor.checked_sub(EXEC_OFFSET).filter(|p| *p > 0)
	}
	fn stake_weight(provider: &AccountId) -> u128 {
		PROVIDERS.with(|p| p.borrow().iter().find(|(a, _)| a == provider).map_or(0, |(_, w)| *w))
	}
}

/// Every selected provider sits with its mock stake as its weight.
impl JurySelection<AccountId> for MockJury {
	fn draw_jury(
		model: &ModelId,
		count: u32,
		seed: H256,
		exclude: &[AccountId],
	) -> Vec<(AccountId, u128)> {
		<Self as ExecutorSelection<AccountId>>::select(model, count, seed, exclude)
			.into_iter()
			.map(|p| {
				let w = <Self as ExecutorSelection<AccountId>>::stake_weight(&p);
				(p, w)
			})
			.collect()
	}
}

/// pallet-providers double for slashing: records the slash, returns `fraction * stake`.
pub struct MockSlash;

impl MockSlash {
	pub fn slashes() -> Vec<(AccountId, Perbill)> {
		SLASHES.with(|s| s.borrow().clone())
	}
}

impl Slash<AccountId, Balance> for MockSlash {
	fn slash(provider: &AccountId, fraction: Perbill) -> Slashed<Balance> {
		SLASHES.with(|s| s.borrow_mut().push((*provider, fraction)));
		let total = fraction.mul_floor(MockJury::stake_weight(provider) as Balance);
		Slashed { total, own: total }
	}
}

#[cfg(feature = "runtime-benchmarks")]
pub struct MockHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for MockHelper {
	fn challengeable_request(candidates: u32, jurors: u32) -> RequestId {
		let accused: Vec<AccountId> = (0..candidates as u64).map(|i| 1_000 + i).collect();
		MockJury::set((0..jurors as u64).map(|i| (2_000 + i, 1_000u128)).collect());
		MockInference::add(99, accused, true);
		99
	}
}

pub struct ExtBuilder {
	providers: Vec<(AccountId, u128)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self { providers: vec![(JUROR_1, 500), (JUROR_2, 300), (JUROR_3, 200), (SPARE, 100)] }
	}
}

impl ExtBuilder {
	/// Replace the eligible providers (selection order and stake weights).
	pub fn providers(mut self, providers: Vec<(AccountId, u128)>) -> Self {
		self.providers = providers;
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		REQUESTS.with(|r| r.borrow_mut().clear());
		CONCLUDED.with(|c| c.borrow_mut().clear());
		CONCLUSION.with(|c| *c.borrow_mut() = None);
		SLASHES.with(|s| s.borrow_mut().clear());
		SEEDS.with(|s| s.borrow_mut().clear());
		KEY_EXECUTORS.with(|k| k.borrow_mut().clear());
		RUN.with(|r| *r.borrow_mut() = None);
		verity_primitives::testing::MockModelRegistry::clear();
		MockJury::set(self.providers);
		MockInference::add(REQUEST, vec![EXECUTOR], true);
		MockInference::add(FINAL_REQUEST, vec![EXECUTOR], false);
		let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		let balances =
			[EXECUTOR, EXECUTOR_2, JUROR_1, JUROR_2, JUROR_3, SPARE, CHALLENGER, CHALLENGER_2]
				.into_iter()
				.map(|a| (a, 10_000))
				.chain(core::iter::once((exec(JUROR_1), 10_000)))
				.collect();
		pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
			.assimilate_storage(&mut t)
			.unwrap();
		let mut ext = sp_io::TestExternalities::new(t);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Run `test`, then check every invariant of the pallet.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			DisputesPallet::do_try_state().expect("try_state invariants hold");
		})
	}
}

/// Advance to block `n`, running `on_initialize` of every block on the way.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		System::reset_events();
		<DisputesPallet as Hooks<u64>>::on_initialize(next);
	}
}

pub fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::DisputesPallet(e) = r.event { Some(e) } else { None })
		.collect()
}
