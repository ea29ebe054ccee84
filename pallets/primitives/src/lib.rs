//! # verity-primitives
//!
//! What the Verity pallets and the runtime share, so that no pallet depends on another:
//! - ids and view types ([`types`]) and the glue traits ([`traits`]) through which the pallets
//!   reach each other from their `Config`;
//! - the **executor key** ([`EXECUTOR_KEY_TYPE`], [`executor_app`]): the secp256k1 key a
//!   provider's node signs results, receipts and jury votes with, and [`ExecutorAuthId`], its
//!   [`AppCrypto`] for FRAME's signed off-chain transactions;
//! - [`ExecutorSignatureVerifier`]: how the chain checks what an executor key signs (receipts,
//!   and the proof of possession a provider gives for its key, [`executor_pop_message`]);
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

/// A recoverable secp256k1 signature by an executor key over a 32-byte message: `r ‖ s ‖ v`,
/// `v` in `0..=3` (Ethereum's `ecrecover` takes `v + 27`).
pub type ExecutorSignature = [u8; 65];

/// Checks signatures by executor keys: whether `signature` over `message` was made by the key
/// behind the account `signer`. pallet-inference checks receipts with it, pallet-providers the
/// proofs of possession of executor keys.
pub trait ExecutorSignatureVerifier<AccountId> {
	fn verify(signer: &AccountId, message: &[u8; 32], signature: &ExecutorSignature) -> bool;
}

/// Signatures by the secp256k1 key whose account is `blake2_256(compressed public key)`: the
/// account of an ECDSA `MultiSigner` ([`executor_account`]), so an executor key signs its
/// transactions, its receipts and its proof of possession alike.
pub struct EcdsaExecutorSignatures;

impl<AccountId: From<[u8; 32]> + PartialEq> ExecutorSignatureVerifier<AccountId>
	for EcdsaExecutorSignatures
{
	fn verify(signer: &AccountId, message: &[u8; 32], signature: &ExecutorSignature) -> bool {
		match sp_io::crypto::secp256k1_ecdsa_recover_compressed(signature, message) {
			Ok(public) => AccountId::from(sp_io::hashing::blake2_256(&public)) == *signer,
			Err(_) => false,
		}
	}
}

/// Domain separator of [`executor_pop_message`].
pub const EXECUTOR_POP_CONTEXT: &[u8; 22] = b"verity/executor-pop/v1";

/// The message an executor key signs (prehashed, [`ExecutorSignature`]) to prove that the
/// provider `provider` holds it, on the chain whose genesis block hash is `genesis_hash`:
///
/// `blake2_256(b"verity/executor-pop/v1" ‖ genesis_hash ‖ SCALE(provider))`
///
/// (for a 32-byte account, `SCALE(provider)` is its 32 bytes). The provider's account makes a
/// proof useless to any other account (it cannot be replayed by someone who saw it in a
/// transaction), the genesis hash useless on any other chain, and the context keeps it apart
/// from receipts and transactions signed by the same key. A proof never expires: it only says
/// that the key's holder lets `provider` name it.
pub fn executor_pop_message(genesis_hash: &[u8], provider: &impl codec::Encode) -> [u8; 32] {
	let mut data = alloc::vec::Vec::with_capacity(96);
	data.extend_from_slice(EXECUTOR_POP_CONTEXT);
	data.extend_from_slice(genesis_hash);
	provider.encode_to(&mut data);
	sp_io::hashing::blake2_256(&data)
}

/// Lower-case hex of `bytes`, for log lines of no_std code.
pub fn hex(bytes: &[u8]) -> alloc::string::String {
	hex::encode(bytes)
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::Pair as _;

	#[test]
	fn executor_proofs_verify_for_the_named_provider_and_chain_only() {
		let key = sp_core::ecdsa::Pair::from_string("//Alice", None).unwrap();
		let other = sp_core::ecdsa::Pair::from_string("//Bob", None).unwrap();
		let executor = executor_account(&key.public());
		let (alice, dave) =
			(sp_runtime::AccountId32::new([1; 32]), sp_runtime::AccountId32::new([4; 32]));
		let genesis = [7u8; 32];
		let message = executor_pop_message(&genesis, &alice);
		let mut data = EXECUTOR_POP_CONTEXT.to_vec();
		data.extend_from_slice(&genesis);
		data.extend_from_slice(alice.as_ref());
		assert_eq!(message, sp_io::hashing::blake2_256(&data));

		let proof = key.sign_prehashed(&message).to_raw();
		let verify =
			<EcdsaExecutorSignatures as ExecutorSignatureVerifier<sp_runtime::AccountId32>>::verify;
		assert!(verify(&executor, &message, &proof));
		// Another provider, another chain, another key: refused.
		assert!(!verify(&executor, &executor_pop_message(&genesis, &dave), &proof));
		assert!(!verify(&executor, &executor_pop_message(&[8u8; 32], &alice), &proof));
		assert!(!verify(&executor, &message, &other.sign_prehashed(&message).to_raw()));
		assert!(!verify(&executor, &message, &[0u8; 65]));
	}
}
