//! Test runtime for pallet-providers (models come from `MockModelRegistry`).

use crate::{self as pallet_providers, *};
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64},
	PalletId,
};
use sp_core::H256;
use sp_runtime::BuildStorage;
use verity_primitives::testing::MockModelRegistry;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

pub const ALICE: AccountId = 1; // provider
pub const BOB: AccountId = 2; // delegator
pub const CHARLIE: AccountId = 3; // delegator
pub const DAVE: AccountId = 4; // provider
pub const EVE: AccountId = 5; // provider
pub const PAYER: AccountId = 60;
pub const ALICE_EXEC: AccountId = 101;
pub const DAVE_EXEC: AccountId = 104;
pub const EVE_EXEC: AccountId = 105;
pub const ED: Balance = 1;
pub const MIN_SELF_BOND: Balance = 100;
pub const MIN_DELEGATION: Balance = 10;
pub const MIN_STAKE: Balance = 150;
pub const UNBONDING: u64 = 20;
pub const BUCKETS: u32 = 4;
pub const MODEL_A: H256 = H256([0xaa; 32]);
pub const MODEL_B: H256 = H256([0xbb; 32]);
pub const RETIRED_MODEL: H256 = H256([0xcc; 32]);

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
	pub type ProvidersPallet = pallet_providers;
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
}

impl Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = MockModelRegistry;
	type PalletId = ProvidersPalletId;
	type MinSelfBond = ConstU64<MIN_SELF_BOND>;
	type MinDelegation = ConstU64<MIN_DELEGATION>;
	type MinStake = ConstU64<MIN_STAKE>;
	type MaxModelsPerProvider = ConstU32<4>;
	type MaxProvidersPerModel = ConstU32<3>;
	type MaxUnlockingChunks = ConstU32<3>;
	type UnbondingPeriod = ConstU64<UNBONDING>;
	type UnbondingBuckets = ConstU32<BUCKETS>;
	type MaxSlashDelay = ConstU64<19>;
	type ExecutorSignatures = verity_primitives::testing::MockExecutorSignatures;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockHelper;
}

#[cfg(feature = "runtime-benchmarks")]
pub struct MockHelper;
#[cfg(feature = "runtime-benchmarks")]
impl BenchmarkHelper<AccountId> for MockHelper {
	fn activate_model(owner: &AccountId, model: H256) {
		MockModelRegistry::insert_simple::<AccountId, Balance>(model, *owner, 1u64);
	}

	fn executor(i: u32, message: &[u8; 32]) -> (AccountId, verity_primitives::ExecutorSignature) {
		let executor = 10_000 + AccountId::from(i);
		(executor, verity_primitives::testing::mock_sign(executor, message))
	}
}

#[derive(Default)]
pub struct ExtBuilder {
	providers: Vec<(AccountId, Balance, sp_runtime::Perbill, Vec<H256>, AccountId)>,
	delegations: Vec<(AccountId, AccountId, Balance)>,
}

impl ExtBuilder {
	pub fn with_provider(
		mut self,
		who: AccountId,
		bond: Balance,
		commission: sp_runtime::Perbill,
		exec: AccountId,
	) -> Self {
		self.providers.push((who, bond, commission, vec![MODEL_A], exec));
		self
	}

	pub fn with_delegation(mut self, who: AccountId, provider: AccountId, amount: Balance) -> Self {
		self.delegations.push((who, provider, amount));
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		MockModelRegistry::clear();
		MockModelRegistry::insert_simple::<AccountId, Balance>(MODEL_A, 900u64, 1u64);
		MockModelRegistry::insert_simple::<AccountId, Balance>(MODEL_B, 900u64, 1u64);
		MockModelRegistry::insert_simple::<AccountId, Balance>(RETIRED_MODEL, 900u64, 1u64);
		MockModelRegistry::set_active::<AccountId, Balance>(RETIRED_MODEL, false);
		let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		let mut balances: Vec<(AccountId, Balance)> =
			vec![ALICE, BOB, CHARLIE, DAVE, EVE, PAYER].into_iter().map(|a| (a, 100_000)).collect();
		balances.extend((1000..1100).map(|a| (a, 1_000)));
		pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
			.assimilate_storage(&mut t)
			.unwrap();
		pallet_providers::GenesisConfig::<Test> {
			providers: self.providers,
			delegations: self.delegations,
		}
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
			ProvidersPallet::do_try_state().expect("try_state invariants hold");
		})
	}
}

/// A provider `ALICE` (bond 1000, 10 % commission) with `BOB` delegating 1000.
pub fn alice_and_bob() -> ExtBuilder {
	ExtBuilder::default()
		.with_provider(ALICE, 1_000, sp_runtime::Perbill::from_percent(10), ALICE_EXEC)
		.with_delegation(BOB, ALICE, 1_000)
}

/// `executor`'s proof of possession for `provider` (the mock's signatures).
pub fn proof(executor: AccountId, provider: AccountId) -> verity_primitives::ExecutorSignature {
	verity_primitives::testing::mock_sign(
		executor,
		&ProvidersPallet::executor_proof_message(&provider),
	)
}

pub fn run_to(n: u64) {
	System::set_block_number(n);
}

pub fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::ProvidersPallet(e) = r.event { Some(e) } else { None })
		.collect()
}
