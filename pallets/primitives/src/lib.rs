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

/// Off-chain only: run `model` (already in the node's store) on canonical `input` under the
/// chain's `limits`, for `purpose`: refused on a node whose engine is not the version the
/// model's spec names (`EngineVersionMismatch`, nothing loaded). A model with deterministic
/// terms runs in the deterministic mode under them (fuel and memory, the same outcome on every
/// node); any other is loaded under the spec's declared constants (`ConstantsOverSpec` above
/// them, alike on every node) and run by the native engine within the chain's run bound
/// (version 3 of the `run` host function; `Timeout` past it) instead of the node's own limit.
/// `max_output` bounds the output buffer.
pub fn run_within_limits(
	model: &ModelId,
	limits: &RunLimits,
	input: &[u8],
	max_output: u32,
	purpose: verity_host::Purpose,
) -> Result<alloc::vec::Vec<u8>, verity_host::HostError> {
	if verity_host::engine_version()? != limits.engine_version {
		return Err(verity_host::HostError::EngineVersionMismatch);
	}
	if let Some(terms) = &limits.deterministic {
		return verity_host::run_deterministic_stored(&model.0, input, terms, max_output, purpose)
			.map(|outcome| outcome.output);
	}
	verity_host::load_model(&model.0, Some(limits.max_constant_bytes))?;
	// `NODE_TIMEOUT` would ask for the node's own limit: the chain's bound stays below it.
	let run_ms = limits.run_ms.min(verity_host::NODE_TIMEOUT.saturating_sub(1));
	verity_host::run_within(&model.0, input, max_output, purpose, run_ms)
}

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
/// `v` in `0..=1` (Ethereum's `ecrecover` takes `v + 27`). The chain accepts only the
/// canonical form ([`is_canonical_signature`]).
pub type ExecutorSignature = [u8; 65];

/// Half the order of secp256k1's group, `n / 2` (big-endian): the largest `s` of a canonical
/// signature (Ethereum's EIP-2 bound, OpenZeppelin's `ECDSA.recover`).
pub const SECP256K1_HALF_ORDER: [u8; 32] = [
	0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// Whether `signature` is in the one form the chain accepts: `s <= n / 2` ("low s") and the
/// recovery id `v` 0 or 1. For every signature `(r, s, v)` the triple `(r, n - s, v ^ 1)` is
/// valid for the same message and key, and `v + 27` names the same recovery id; accepting
/// only one of them gives every signed message exactly one signature, so a receipt or proof
/// cannot be re-encoded into "another" valid one, and EVM verifiers that refuse high `s`
/// (OpenZeppelin's `ECDSA.recover`) accept every signature the chain accepted.
pub fn is_canonical_signature(signature: &ExecutorSignature) -> bool {
	let (Some(s), Some(v)) = (signature.get(32..64), signature.get(64)) else { return false };
	s <= &SECP256K1_HALF_ORDER[..] && *v <= 1
}

/// Checks signatures by executor keys: whether `signature` over `message` was made by the key
/// behind the account `signer`. pallet-inference checks receipts with it, pallet-providers the
/// proofs of possession of executor keys.
pub trait ExecutorSignatureVerifier<AccountId> {
	fn verify(signer: &AccountId, message: &[u8; 32], signature: &ExecutorSignature) -> bool;
}

/// Signatures by the secp256k1 key whose account is `blake2_256(compressed public key)`: the
/// account of an ECDSA `MultiSigner` ([`executor_account`]), so an executor key signs its
/// transactions, its receipts and its proof of possession alike. Only canonical signatures
/// (low `s`, `v` 0 or 1: [`is_canonical_signature`]) verify.
pub struct EcdsaExecutorSignatures;

impl<AccountId: From<[u8; 32]> + PartialEq> ExecutorSignatureVerifier<AccountId>
	for EcdsaExecutorSignatures
{
	fn verify(signer: &AccountId, message: &[u8; 32], signature: &ExecutorSignature) -> bool {
		if !is_canonical_signature(signature) {
			return false;
		}
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

/// The chain's genesis block hash, as the runtime sees it: `frame_system::BlockHash` of block 0
/// (the real hash from block 1 on; in the first block and in mock runtimes, what
/// frame-system's genesis stored). Executor messages name it so that a signature made for this
/// chain means nothing on any other (receipts, proofs of possession).
pub fn genesis_hash<T: frame_system::Config>() -> sp_core::H256 {
	use sp_runtime::traits::Zero;
	let hash = frame_system::Pallet::<T>::block_hash(
		frame_system::pallet_prelude::BlockNumberFor::<T>::zero(),
	);
	let mut out = [0u8; 32];
	for (to, from) in out.iter_mut().zip(hash.as_ref()) {
		*to = *from;
	}
	sp_core::H256(out)
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

	/// `n - s` of a big-endian 32-byte `s` (`n` the order of secp256k1's group).
	fn negate_s(s: &[u8]) -> [u8; 32] {
		const N: [u8; 32] = [
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c,
			0xd0, 0x36, 0x41, 0x41,
		];
		let mut out = [0u8; 32];
		let mut borrow = 0i16;
		for i in (0..32).rev() {
			let d = N[i] as i16 - s[i] as i16 - borrow;
			borrow = i16::from(d < 0);
			out[i] = d.rem_euclid(256) as u8;
		}
		out
	}

	#[test]
	fn half_order_is_half_of_the_group_order() {
		// n = 2 * (n / 2) + 1: negating n / 2 gives n / 2 + 1.
		let mut next = SECP256K1_HALF_ORDER;
		*next.last_mut().unwrap() += 1;
		assert_eq!(negate_s(&SECP256K1_HALF_ORDER), next);
	}

	#[test]
	fn high_s_and_non_canonical_v_signatures_are_refused() {
		let key = sp_core::ecdsa::Pair::from_string("//Alice", None).unwrap();
		let executor: sp_runtime::AccountId32 = executor_account(&key.public());
		let verify =
			<EcdsaExecutorSignatures as ExecutorSignatureVerifier<sp_runtime::AccountId32>>::verify;
		for seed in 0u8..8 {
			let message = [seed; 32];
			let low = key.sign_prehashed(&message).to_raw();
			assert!(is_canonical_signature(&low), "libsecp256k1 signs with low s");
			assert!(verify(&executor, &message, &low));
			// The malleated twin (r, n - s, v ^ 1) recovers to the same key...
			let mut high = low;
			high[32..64].copy_from_slice(&negate_s(&low[32..64]));
			high[64] ^= 1;
			let recovered = sp_io::crypto::secp256k1_ecdsa_recover_compressed(&high, &message);
			assert_eq!(recovered.ok(), Some(key.public().0));
			// ...and is refused, as is Ethereum's `v + 27` spelling of the low one.
			assert!(!verify(&executor, &message, &high));
			let mut eth_v = low;
			eth_v[64] += 27;
			assert!(!verify(&executor, &message, &eth_v));
		}
	}
}
