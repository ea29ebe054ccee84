//! Test runtime for pallet-inference: real pallet-providers (stake, rewards, slashing,
//! selection) over `MockModelRegistry`, a mock dispute opener and mock receipts.

use crate::{self as pallet_inference, *};
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64},
	weights::Weight,
	BoundedVec, PalletId,
};
use sp_core::H256;
use sp_runtime::{BuildStorage, Perbill};
use verity_engine::{encode_tensors, Tensor};
use verity_primitives::{testing::MockModelRegistry, AcceptanceRule, DType, ModelView, TensorSpec};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

pub const ALICE: AccountId = 1; // provider
pub const BOB: AccountId = 2; // delegator of ALICE
pub const DAVE: AccountId = 4; // provider
pub const EVE: AccountId = 5; // provider
pub const REQUESTER: AccountId = 7;
pub const CHALLENGER: AccountId = 8;
pub const OWNER: AccountId = 9; // model owner
pub const POOR: AccountId = 99;
pub const ALICE_EXEC: AccountId = 101;
pub const DAVE_EXEC: AccountId = 104;
pub const EVE_EXEC: AccountId = 105;
pub const ED: Balance = 1;
pub const PROVIDER_BOND: Balance = 10_000;
pub const PRICE: Balance = 30;
pub const EXEC_FEE: Balance = 100;
pub const DEADLINE: u64 = 3;
pub const WINDOW: u64 = 5;
pub const RETENTION: u64 = 20;
pub const MAX_ATTEMPTS: u32 = 2;
/// Failure reports a provider makes free per `FAILURE_WINDOW` blocks.
pub const FREE_FAILURES: u32 = 2;
pub const FAILURE_WINDOW: u64 = 10;
pub const MAX_TIMEOUTS: u32 = 4;
pub const DEPOSIT_BASE: Balance = 5;
/// Zero per byte keeps the deposit of every test request at `DEPOSIT_BASE`; the per-byte part
/// is tested on `Pallet::deposit_for`.
pub const DEPOSIT_PER_BYTE: Balance = 0;
/// An `Exact` model, f32 `[batch, 4]` in and out.
pub const MODEL: H256 = H256([0xaa; 32]);
/// An `ArgMax` model with the same specs.
pub const ARGMAX_MODEL: H256 = H256([0xab; 32]);
pub const INACTIVE_MODEL: H256 = H256([0xcc; 32]);
pub const UNKNOWN_MODEL: H256 = H256([0xdd; 32]);

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
	pub type Providers = pallet_providers;
	#[runtime::pallet_index(3)]
	pub type Inference = pallet_inference;
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

parameter_types! {
	pub const ProvidersPalletId: PalletId = PalletId(*b"vrt/prov");
	pub const MissedPenalty: Perbill = Perbill::from_percent(1);
	pub const WrongPenalty: Perbill = Perbill::from_percent(10);
	pub const Congestion: Perbill = Perbill::from_percent(80);
	/// 0 (draw in the request's call) unless a test sets it.
	pub static DrawDelay: u64 = 0;
	pub const AuditShare: Perbill = Perbill::from_percent(50);
}

impl pallet_providers::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = MockModelRegistry;
	type PalletId = ProvidersPalletId;
	type MinSelfBond = ConstU64<100>;
	type MinDelegation = ConstU64<10>;
	type MinStake = ConstU64<100>;
	type MaxModelsPerProvider = ConstU32<4>;
	type MaxProvidersPerModel = ConstU32<4>;
	type MaxUnlockingChunks = ConstU32<3>;
	type UnbondingPeriod = ConstU64<40>;
	type UnbondingBuckets = ConstU32<4>;
	type MaxSlashDelay = ConstU64<30>;
	type ExecutorSignatures = verity_primitives::testing::MockExecutorSignatures;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ProvidersHelper;
}

#[cfg(feature = "runtime-benchmarks")]
pub struct ProvidersHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_providers::BenchmarkHelper<AccountId> for ProvidersHelper {
	fn activate_model(owner: &AccountId, model: H256) {
		MockModelRegistry::insert_simple::<AccountId, Balance>(model, *owner, PRICE);
	}

	fn executor(i: u32, message: &[u8; 32]) -> (AccountId, verity_primitives::ExecutorSignature) {
		let executor = 10_000 + AccountId::from(i);
		(executor, verity_primitives::testing::mock_sign(executor, message))
	}
}

std::thread_local! {
	/// Disputes opened through `MockDisputes`.
	pub static OPENED: RefCell<Vec<(RequestId, DisputeSubject<AccountId>)>> = const { RefCell::new(Vec::new()) };
	/// Who raised each dispute opened through `MockDisputes` (`None`: executors disagreed).
	pub static RAISED_BY: RefCell<Vec<(RequestId, Option<AccountId>)>> = const { RefCell::new(Vec::new()) };
	/// Whether `MockDisputes::open` fails.
	pub static DISPUTES_FAIL: RefCell<bool> = const { RefCell::new(false) };
	/// Whether `MockDisputes::open` concludes at once without quorum (as pallet-disputes does
	/// when no juror can be drawn).
	pub static DISPUTES_CONCLUDE_AT_ONCE: RefCell<bool> = const { RefCell::new(false) };
}

/// Records opened disputes; fails when `DISPUTES_FAIL` is set.
pub struct MockDisputes;
impl DisputeOpener<AccountId> for MockDisputes {
	fn open(
		request: RequestId,
		subject: DisputeSubject<AccountId>,
		raised_by: Option<AccountId>,
	) -> sp_runtime::DispatchResult {
		if DISPUTES_FAIL.with(|f| *f.borrow()) {
			return Err(sp_runtime::DispatchError::Other("disputes unavailable"));
		}
		RAISED_BY.with(|o| o.borrow_mut().push((request, raised_by)));
		OPENED.with(|o| o.borrow_mut().push((request, subject)));
		if DISPUTES_CONCLUDE_AT_ONCE.with(|f| *f.borrow()) {
			<Inference as InferenceForDisputes<AccountId, Balance>>::conclude(
				request,
				Verdict::NoJury,
			);
		}
		Ok(())
	}
}

/// A receipt is valid when it starts with the signer's id (8 bytes LE) followed by the message.
pub struct MockReceipts;
impl ReceiptVerifier<AccountId> for MockReceipts {
	fn verify(signer: &AccountId, message: &[u8; 32], signature: &ReceiptSignature) -> bool {
		*signature == mock_sign(*signer, message)
	}
}

pub fn mock_sign(signer: AccountId, message: &[u8; 32]) -> ReceiptSignature {
	let mut s = [0u8; 65];
	s[..8].copy_from_slice(&signer.to_le_bytes());
	s[8..40].copy_from_slice(message);
	s
}

verity_primitives::impl_test_signing!(Test, RuntimeCall);

parameter_types! {
	/// A thread-local so that a test can lower the cap below a model's budget.
	pub static InBlockMaxFuel: u64 = 500_000_000;
	pub const WeightPerFuel: Weight = Weight::from_parts(1_000, 0);
}

impl Config for Test {
	type ExecutorId = verity_primitives::testing::TestExecutorId;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type InBlockMaxFuel = InBlockMaxFuel;
	type InBlockMemory = ConstU64<{ 256 << 20 }>;
	type WeightPerFuel = WeightPerFuel;
	type Models = MockModelRegistry;
	type Executors = Providers;
	type Rewards = Providers;
	type Slash = Providers;
	type Disputes = MockDisputes;
	type Receipts = MockReceipts;
	type ExecutionFee = ConstU64<EXEC_FEE>;
	type MaxInputLen = ConstU32<256>;
	type MaxOutputLen = ConstU32<256>;
	type MaxRedundancy = ConstU32<3>;
	type ResultDeadline = ConstU64<DEADLINE>;
	type Randomness = verity_primitives::testing::TestRandomness<Test>;
	type DrawDelay = DrawDelay;
	type ChallengeWindow = ConstU64<WINDOW>;
	type MaxAttempts = ConstU32<MAX_ATTEMPTS>;
	type MissedDeadlinePenalty = MissedPenalty;
	type WrongResultPenalty = WrongPenalty;
	type MaxTimeoutsPerBlock = ConstU32<MAX_TIMEOUTS>;
	type RetentionPeriod = ConstU64<RETENTION>;
	type DepositBase = ConstU64<DEPOSIT_BASE>;
	type DepositPerByte = ConstU64<DEPOSIT_PER_BYTE>;
	type FreeFailures = ConstU32<FREE_FAILURES>;
	type FailureWindow = ConstU64<FAILURE_WINDOW>;
	type CongestionThreshold = Congestion;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type AuditShare = AuditShare;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = InferenceHelper;
}

/// Benchmark models in `MockModelRegistry`, real providers, `MockReceipts`.
#[cfg(feature = "runtime-benchmarks")]
pub struct InferenceHelper;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for InferenceHelper {
	fn active_model(
		owner: &AccountId,
		model: H256,
		io: TensorSpec,
		acceptance: AcceptanceRule,
		providers: u32,
		unbonding: bool,
	) {
		MockModelRegistry::insert::<AccountId, Balance>(
			model,
			ModelView {
				owner: *owner,
				active: true,
				inputs: BoundedVec::truncate_from(vec![io.clone()]),
				outputs: BoundedVec::truncate_from(vec![io]),
				opset: 17,
				price_per_call: PRICE,
				acceptance,
				byte_size: 1,
				limits: verity_primitives::RunLimits::generous(),
			},
		);
		pallet_providers::benchmarking::register_providers::<Test>(
			model,
			providers,
			unbonding,
			|p, message| {
				use codec::Encode;
				// Executor keys distinct from every `account(..)` of the benchmarks.
				let h = sp_io::hashing::blake2_256(&(b"mock/executor", p).encode());
				let executor = u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
				(executor, verity_primitives::testing::mock_sign(executor, message))
			},
		);
	}

	fn sign(_provider: &AccountId, executor: &AccountId, message: &[u8; 32]) -> ReceiptSignature {
		mock_sign(*executor, message)
	}
}

fn f32_spec() -> TensorSpec {
	TensorSpec { dtype: DType::F32, dims: BoundedVec::truncate_from(vec![None, Some(4)]) }
}

fn insert_model(id: H256, acceptance: AcceptanceRule, active: bool) {
	MockModelRegistry::insert::<AccountId, Balance>(
		id,
		ModelView {
			owner: OWNER,
			active,
			inputs: BoundedVec::truncate_from(vec![f32_spec()]),
			outputs: BoundedVec::truncate_from(vec![f32_spec()]),
			opset: 17,
			price_per_call: PRICE,
			acceptance,
			byte_size: 1,
			limits: verity_primitives::RunLimits::generous(),
		},
	);
}

/// Canonical one-tensor f32 `[1, 4]` list.
pub fn tensor_list(values: [f32; 4]) -> Vec<u8> {
	encode_tensors(&[Tensor::from_f32(vec![1, 4], &values).expect("valid")])
}

pub fn input() -> BoundedVec<u8, ConstU32<256>> {
	BoundedVec::truncate_from(tensor_list([1.0, 2.0, 3.0, 4.0]))
}

pub fn output(values: [f32; 4]) -> BoundedVec<u8, ConstU32<256>> {
	BoundedVec::truncate_from(tensor_list(values))
}

#[derive(Default)]
pub struct ExtBuilder {
	providers: Vec<(AccountId, AccountId)>,
	/// Models besides the test models, served by every provider.
	extra_models: Vec<(H256, ModelView<AccountId, Balance>)>,
}

impl ExtBuilder {
	/// Providers with `PROVIDER_BOND` serving every test model, with their executor keys.
	pub fn with_providers(mut self, providers: &[(AccountId, AccountId)]) -> Self {
		self.providers.extend_from_slice(providers);
		self
	}

	/// Also register `view` as model `id`, served by every provider.
	pub fn with_model(mut self, id: H256, view: ModelView<AccountId, Balance>) -> Self {
		self.extra_models.push((id, view));
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		MockModelRegistry::clear();
		for (id, view) in &self.extra_models {
			MockModelRegistry::insert::<AccountId, Balance>(*id, view.clone());
		}
		OPENED.with(|o| o.borrow_mut().clear());
		RAISED_BY.with(|o| o.borrow_mut().clear());
		DISPUTES_FAIL.with(|f| *f.borrow_mut() = false);
		DISPUTES_CONCLUDE_AT_ONCE.with(|f| *f.borrow_mut() = false);
		insert_model(MODEL, AcceptanceRule::Exact, true);
		insert_model(ARGMAX_MODEL, AcceptanceRule::ArgMax, true);
		insert_model(INACTIVE_MODEL, AcceptanceRule::Exact, false);
		let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		let balances: Vec<(AccountId, Balance)> = vec![
			ALICE, BOB, DAVE, EVE, REQUESTER, CHALLENGER, OWNER, ALICE_EXEC, DAVE_EXEC, EVE_EXEC,
		]
		.into_iter()
		.map(|a| (a, 100_000))
		.chain([(POOR, 50)])
		.collect();
		pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
			.assimilate_storage(&mut t)
			.unwrap();
		pallet_providers::GenesisConfig::<Test> {
			providers: self
				.providers
				.iter()
				.map(|(p, e)| {
					let extra = self.extra_models.iter().map(|(id, _)| *id);
					let models = [MODEL, ARGMAX_MODEL].into_iter().chain(extra).collect();
					(*p, PROVIDER_BOND, Perbill::from_percent(10), models, *e)
				})
				.collect(),
			delegations: if self.providers.iter().any(|(p, _)| *p == ALICE) {
				vec![(BOB, ALICE, PROVIDER_BOND)]
			} else {
				vec![]
			},
		}
		.assimilate_storage(&mut t)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(t);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Run `test`, then check every invariant of both pallets.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Inference::do_try_state().expect("inference invariants hold");
			Providers::do_try_state().expect("providers invariants hold");
		})
	}
}

/// Alice alone serves the models.
pub fn alice_only() -> ExtBuilder {
	ExtBuilder::default().with_providers(&[(ALICE, ALICE_EXEC)])
}

/// Alice, Dave and Eve serve the models.
pub fn three_providers() -> ExtBuilder {
	ExtBuilder::default().with_providers(&[(ALICE, ALICE_EXEC), (DAVE, DAVE_EXEC), (EVE, EVE_EXEC)])
}

/// Advance to block `n`, running `on_finalize` of the current block and `on_initialize` of
/// every next one on the way (block weights start empty in each block, as in `System::initialize`).
pub fn run_to(n: u64) {
	use frame_support::traits::Hooks;
	while System::block_number() < n {
		Inference::on_finalize(System::block_number());
		let next = System::block_number() + 1;
		System::set_block_number(next);
		frame_system::BlockWeight::<Test>::kill();
		Inference::on_initialize(next);
	}
}

pub fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::Inference(e) = r.event { Some(e) } else { None })
		.collect()
}
