//! # verity-primitives
//!
//! What the Verity pallets and the runtime share, so that no pallet depends on another:
//! - ids and view types ([`types`]) and the glue traits ([`traits`]) through which the pallets
//!   reach each other from their `Config`;
//! - the **executor key** ([`EXECUTOR_KEY_TYPE`], [`executor_app`]): the secp256k1 key a
//!   provider's node signs results, receipts and jury votes with, and [`ExecutorAuthId`], its
//!   [`AppCrypto`] for FRAME's signed off-chain transactions;
//! - [`offchain`]: the claim bookkeeping that keeps overlapping off-chain worker runs from
//!   doing one duty twice;
//! - [`testing`] (std): a signing type for the pallets' mock runtimes, whose `u64` accounts
//!   cannot be derived from a real public key, and an in-memory model registry.

#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
	not(test),
	deny(
		clippy::unwrap_used,
		clippy::expect_used,
		clippy::indexing_slicing,
		clippy::arithmetic_side_effects
	)
)]

extern crate alloc;

use frame_system::offchain::AppCrypto;
use sp_core::crypto::KeyTypeId;
use sp_runtime::{MultiSignature, MultiSigner};

pub mod offchain;
#[cfg(feature = "std")]
pub mod testing;
pub mod traits;
pub mod types;

pub use traits::*;
pub use types::*;

/// Key type of executor keys (`vexe`): secp256k1, so that receipts can be checked with
/// Ethereum's `ecrecover`.
pub const EXECUTOR_KEY_TYPE: KeyTypeId = KeyTypeId(*b"vexe");

/// The executor key as an application crypto type.
pub mod executor_app {
	use sp_application_crypto::{app_crypto, ecdsa};
	app_crypto!(ecdsa, super::EXECUTOR_KEY_TYPE);
}

/// Binds the runtime's `executor` session key to its application crypto.
pub struct ExecutorKey;
impl sp_runtime::BoundToRuntimeAppPublic for ExecutorKey {
	type Public = executor_app::Public;
}

/// Signs transactions with executor keys. An executor's account is
/// `blake2_256(compressed public key)`, which is what [`MultiSigner::Ecdsa`] derives.
pub struct ExecutorAuthId;

impl AppCrypto<MultiSigner, MultiSignature> for ExecutorAuthId {
	type RuntimeAppPublic = executor_app::Public;
	type GenericPublic = sp_core::ecdsa::Public;
	type GenericSignature = sp_core::ecdsa::Signature;
}

/// The on-chain account of an executor key.
pub fn executor_account(key: &sp_core::ecdsa::Public) -> sp_runtime::AccountId32 {
	sp_runtime::AccountId32::from(sp_io::hashing::blake2_256(key.as_ref()))
}

/// Lower-case hex of `bytes`, for log lines of no_std code.
pub fn hex(bytes: &[u8]) -> alloc::string::String {
	hex::encode(bytes)
}
