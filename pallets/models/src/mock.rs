//! Test runtime for pallet-models.

use crate::{self as pallet_models, *};
use frame_support::{
	derive_impl,
	traits::{ConstU32, ConstU64},
};
use frame_system::{EnsureRoot, EnsureSignedBy};
use sp_core::H256;
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

pub const OWNER: AccountId = 1;
pub const OTHER: AccountId = 2;
pub const ATTESTER_1: AccountId = 10;
pub const ATTESTER_2: AccountId = 11;
pub const ATTESTER_3: AccountId = 12;
pub const POOR: AccountId = 99;

/// Small sizes so tests exercise multi-chunk models quickly.
pub const CHUNK: u32 = 16;
pub const MAX_MODEL: u32 = 64;
pub const BASE_DEPOSIT: Balance = 100;
pub const PER_BYTE: Balance = 1;
pub const REQUIRED: u32 = 2;
pub const REAP_DELAY: u64 = 5;
/// Blocks a model may stay pending.
pub const PENDING_EXPIRY: u64 = 50;
/// Percent of an expiring model's deposit burned.
pub const EXPIRY_BURN_PERCENT: u64 = 10;
/// Registrations per block.
pub const MAX_REGISTRATIONS: u32 = 8;
/// Deposit per declared byte of constants.
pub const PER_CONSTANT_BYTE: Balance = 1;
/// Most constants a spec may declare.
pub const MAX_CONSTANT_BYTES: u64 = 1 << 19;
/// The engine version the mock runtime supports (the engine's own).
pub const ENGINE: u32 = verity_engine::ENGINE_VERSION;
/// Per-node capacity, FLOPs per run.
pub const MAX_MODEL_FLOPS: u64 = 1_000_000;
/// Fuel of a deterministic-mode run before the model's own work (the runtime's figure).
pub const BASE_FUEL: u64 = 50_000_000;
/// Most fuel of a deterministic-mode run: below the formula's fuel at `MAX_MODEL_FLOPS`
/// (100 million and more), so that tests see the cap bite.
pub const FUEL_CAP: u64 = 80_000_000;
/// FLOPs per millisecond of the reference node.
pub const FLOPS_PER_MS: u64 = 1_000;
/// Run bound of a model without FLOPs.
pub const MIN_RUN_MS: u32 = 5_000;
/// Bound of the reference vectors and attested outputs.
pub type MaxReferenceSize = frame_support::traits::ConstU32<256>;

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
	pub type ModelsPallet = pallet_models;
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
}

std::thread_local! {
	/// Accounts of real keys made attesters by off-chain duty tests.
	static KEY_ATTESTERS: core::cell::RefCell<Vec<AccountId>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// Make `who` (a real key's account) an attester too.
pub fn add_key_attester(who: AccountId) {
	KEY_ATTESTERS.with(|k| k.borrow_mut().push(who));
}

frame_support::parameter_types! {
	/// Open requests of every model, as pallet-inference would report them.
	pub static OpenRequests: u32 = 0;
}

/// Every model has `OpenRequests` open requests.
pub struct MockUsage;
impl ModelUsage for MockUsage {
	fn open_requests(_: &H256) -> u32 {
		OpenRequests::get()
	}
}

pub struct AttesterSet;
impl frame_support::traits::SortedMembers<AccountId> for AttesterSet {
	fn sorted_members() -> Vec<AccountId> {
		let mut all = vec![ATTESTER_1, ATTESTER_2, ATTESTER_3];
		all.extend(KEY_ATTESTERS.with(|k| k.borrow().clone()));
		all.sort();
		all
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn add(_: &AccountId) {}
}

verity_primitives::impl_test_signing!(Test, RuntimeCall);

frame_support::parameter_types! {
	pub ExpiryBurn: sp_runtime::Perbill =
		sp_runtime::Perbill::from_percent(EXPIRY_BURN_PERCENT as u32);
}

frame_support::parameter_types! {
	/// Settable, so that tests can starve deterministic-mode runs of fuel.
	pub static DeterministicBaseFuel: u64 = BASE_FUEL;
	pub static DeterministicFuelPerFlop: u64 = 50;
	/// Settable, so that tests can cap a model's fuel below its formula.
	pub static MaxDeterministicFuel: u64 = FUEL_CAP;
}

impl Config for Test {
	/// Executor-style secp256k1 test keys; `AttestOrigin` decides who attests.
	type AttesterId = verity_primitives::testing::TestExecutorId;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type AttestOrigin = EnsureSignedBy<AttesterSet, AccountId>;
	type ForceOrigin = EnsureRoot<AccountId>;
	type RequiredAttestations = ConstU32<REQUIRED>;
	type DepositBase = ConstU64<BASE_DEPOSIT>;
	type DepositPerByte = ConstU64<PER_BYTE>;
	type MaxModelSize = ConstU32<MAX_MODEL>;
	type ChunkSize = ConstU32<CHUNK>;
	type MaxReferenceSize = MaxReferenceSize;
	type Usage = MockUsage;
	type ReapDelay = ConstU64<REAP_DELAY>;
	type PendingExpiry = ConstU64<PENDING_EXPIRY>;
	type ExpiryBurn = ExpiryBurn;
	type MaxRegistrationsPerBlock = ConstU32<MAX_REGISTRATIONS>;
	type DepositPerConstantByte = ConstU64<PER_CONSTANT_BYTE>;
	type MaxConstantBytes = ConstU64<MAX_CONSTANT_BYTES>;
	type EngineVersion = ConstU32<ENGINE>;
	type MaxModelFlops = ConstU64<MAX_MODEL_FLOPS>;
	type ReferenceFlopsPerMs = ConstU64<FLOPS_PER_MS>;
	type MinRunMs = ConstU32<MIN_RUN_MS>;
	type DeterministicBaseFuel = DeterministicBaseFuel;
	type DeterministicFuelPerFlop = DeterministicFuelPerFlop;
	type DeterministicFuelPerByte = ConstU64<500>;
	type MaxDeterministicFuel = MaxDeterministicFuel;
	type DeterministicMemory = ConstU64<{ 256 << 20 }>;
	type WeightInfo = ();
}

/// A model in the mock's genesis: owner, content hash, spec and the optional chunk bytes.
type GenesisModel = (AccountId, H256, ModelSpecOf<Test>, Option<Vec<u8>>);

#[derive(Default)]
pub struct ExtBuilder {
	genesis_models: Vec<GenesisModel>,
}

impl ExtBuilder {
	pub fn with_genesis_model(
		mut self,
		owner: AccountId,
		id: H256,
		spec: ModelSpecOf<Test>,
		bytes: Option<Vec<u8>>,
	) -> Self {
		self.genesis_models.push((owner, id, spec, bytes));
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		KEY_ATTESTERS.with(|k| k.borrow_mut().clear());
		let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![(OWNER, 1_000_000), (OTHER, 1_000_000), (POOR, 10)],
			..Default::default()
		}
		.assimilate_storage(&mut t)
		.unwrap();
		pallet_models::GenesisConfig::<Test> { models: self.genesis_models }
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
			ModelsPallet::do_try_state().expect("try_state invariants hold");
		})
	}
}

pub fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::ModelsPallet(e) = r.event { Some(e) } else { None })
		.collect()
}
