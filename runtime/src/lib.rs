//! # Verity runtime
//!
//! The state transition function of the Verity chain: a solochain with BABE block production
//! and GRANDPA finality, balances in VRT (12 decimals), transaction payment and sudo, and the
//! Verity pallets (models, providers, inference, disputes) with explicit pallet indices, never
//! reused. The pallets' off-chain duties run in their own `offchain_worker` hooks.
//!
//! Layout: `configs/` holds one `impl Config` per pallet with its parameters, `apis.rs` the
//! runtime APIs the node calls (the pallets' read API through `RuntimeViewFunction`),
//! `genesis_config_presets.rs` the named genesis presets the node chooses from (`development`,
//! `local_testnet`, `zombienet`), `benchmarks.rs` the benchmarked pallets.

#![cfg_attr(not(feature = "std"), no_std)]
// Runtime code must never panic: a panic in block execution halts the chain.
#![cfg_attr(
	not(test),
	deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

pub mod apis;
pub use apis::RuntimeApi;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
pub mod genesis_config_presets;

extern crate alloc;

use alloc::vec::Vec;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::{runtime_version, RuntimeVersion};

pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Opaque types: what the node needs to know without depending on the runtime's call types.
pub mod opaque {
	use super::*;
	use sp_runtime::traits::Hash as HashT;

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
	/// The session keys of a node: BABE for authoring, GRANDPA for finality, the executor key
	/// for inference duties.
	pub struct SessionKeys {
		pub babe: Babe,
		pub grandpa: Grandpa,
		/// The executor key of a provider's node (secp256k1): signs results, receipts and
		/// jury votes from the node's off-chain workers. `--dev`/`--alice` insert `//Alice`.
		pub executor: verity_primitives::ExecutorKey,
	}
}

/// The runtime's identity. `spec_version` is bumped on every change of runtime logic;
/// `transaction_version` on every change of a call's index or arguments (101 / 2: Soundness I
/// changed `register_provider` and added `set_executor`; 102 / 3: model specs declare
/// `max_constant_bytes`, `attest` carries an `Attestation`; 103 / 3: audits, the new
/// `inference.audit` call changes no existing one; 106 / 3: in-block inference, the new
/// `inference.infer` call and the `run_deterministic` host function).
#[runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("verity"),
	impl_name: alloc::borrow::Cow::Borrowed("verity-node"),
	authoring_version: 1,
	spec_version: 108,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 3,
	system_version: 1,
};

mod block_times {
	/// Target block time. Blocks are produced at one per slot; the slot is this long.
	///
	/// 6 s on every network: the dev chain and the tests use the production value, so that
	/// what is measured is what runs.
	pub const MILLI_SECS_PER_BLOCK: u64 = 6000;

	/// The slot duration can never change after genesis: doing so bricks block production.
	pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

	/// Slots per BABE epoch (1 hour). An epoch's randomness is fixed for the epoch after
	/// next; the per-block VRF output that pallet-inference and pallet-disputes draw from
	/// changes every block. Like the slot duration, it cannot change after genesis.
	pub const EPOCH_DURATION_IN_SLOTS: u64 = 60 * 60_000 / MILLI_SECS_PER_BLOCK;
}
pub use block_times::*;

/// Time in blocks.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// BABE's genesis epoch configuration: a slot has a primary leader with probability 1/4
/// (`c`), and every slot without one falls to a secondary leader that also produces a VRF
/// output. So every block carries a VRF output: the randomness executor assignment and jury
/// draws read (`pallet_babe::ParentBlockRandomness`) is never missing.
pub const BABE_GENESIS_EPOCH_CONFIG: sp_consensus_babe::BabeEpochConfiguration =
	sp_consensus_babe::BabeEpochConfiguration {
		c: (1, 4),
		allowed_slots: sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots,
	};

/// The smallest unit of VRT is 10^-12 VRT.
pub const UNIT: Balance = 1_000_000_000_000;
pub const MILLI_UNIT: Balance = 1_000_000_000;
pub const MICRO_UNIT: Balance = 1_000_000;

/// Below this free balance an account is reaped.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// The token symbol and decimals, also written into the chain spec properties.
pub const TOKEN_SYMBOL: &str = "VRT";
pub const TOKEN_DECIMALS: u8 = 12;
pub const SS58_PREFIX: u16 = 42;

/// Signature scheme of transactions (sr25519, ed25519 or ecdsa).
pub type Signature = MultiSignature;
/// Account identifier: the public key of the signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account, in the smallest unit (10^-12 VRT).
pub type Balance = u128;
/// Transaction counter of an account.
pub type Nonce = u32;
/// Hash type of blocks and storage.
pub type Hash = sp_core::H256;
/// Block number.
pub type BlockNumber = u32;
/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// Signed block.
pub type SignedBlock = generic::SignedBlock<Block>;
/// Block identifier.
pub type BlockId = generic::BlockId<Block>;

/// The transaction extensions, checked in order on every transaction.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
/// The transaction extensions of a signed transaction with `nonce`, valid for `era`, no tip
/// and no metadata hash check: what the pallets' off-chain workers, the e2e tests and the
/// example clients sign.
pub fn tx_extension(era: sp_runtime::generic::Era, nonce: Nonce) -> TxExtension {
	(
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(era),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
		frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
		frame_system::WeightReclaim::<Runtime>::new(),
	)
}

pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Migrations to run on runtime upgrade, besides the pallets' own.
#[allow(unused_parens)]
type Migrations = (
	pallet_models::migrations::v2::MigrateV1ToV2<Runtime>,
	pallet_models::migrations::v3::MigrateV2ToV3<Runtime>,
);

/// Executive: dispatches calls to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

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
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(2)]
	pub type Babe = pallet_babe;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	// The Verity pallets start at 10; 7-9 stay free for infrastructure pallets (contracts).
	#[runtime::pallet_index(10)]
	pub type Models = pallet_models;

	#[runtime::pallet_index(11)]
	pub type Providers = pallet_providers;

	#[runtime::pallet_index(12)]
	pub type Inference = pallet_inference;

	#[runtime::pallet_index(13)]
	pub type Disputes = pallet_disputes;
}
