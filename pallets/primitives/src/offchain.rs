//! Duty claims shared by the pallets' off-chain workers.
//!
//! A worker runs after every imported best block, so runs overlap and repeat: a duty (execute
//! request 7, commit a vote on request 9, attest a model) is *claimed* in the node's
//! persistent offchain storage with the block it was attempted at, and tried again only
//! [`RETRY_AFTER`] blocks later if the chain still shows it open. A transient failure (busy
//! engine, model bytes not fetched yet) [`unclaim`]s it so that the next block tries again.

use codec::Encode;
use frame_system::offchain::{AppCrypto, CreateSignedTransaction, SendSignedTransaction, Signer};
use sp_runtime::offchain::storage::{StorageRetrievalError, StorageValueRef};

/// Blocks after which an attempted duty that is still open on chain is tried again.
pub const RETRY_AFTER: u32 = 3;

fn key(kind: &[u8], id: &impl Encode, who: &impl Encode) -> alloc::vec::Vec<u8> {
	(b"verity::duty", kind, id, who).encode()
}

/// Claim duty `(kind, id)` of `who` at block `now` unless it was attempted less than
/// [`RETRY_AFTER`] blocks ago (or a concurrent worker holds it). `true` when claimed.
pub fn claim(kind: &[u8], id: &impl Encode, who: &impl Encode, now: u32) -> bool {
	let r = StorageValueRef::persistent(&key(kind, id, who)).mutate(
		|last: Result<Option<u32>, StorageRetrievalError>| match last {
			Ok(Some(at)) if now < at.saturating_add(RETRY_AFTER) && now >= at => Err(()),
			_ => Ok(now),
		},
	);
	r.is_ok()
}

/// Forget a claim so that the next block tries again.
pub fn unclaim(kind: &[u8], id: &impl Encode, who: &impl Encode) {
	StorageValueRef::persistent(&key(kind, id, who)).clear();
}

/// Sign `call` with the keystore key `public` (of application crypto `C`) and put it into
/// the transaction pool, with the account's next nonce. `true` when the pool accepted it.
///
/// The nonce is the pool's next one (the node's `next_index` host function: the nonce at the
/// best block plus the account's transactions ready in the pool), not the nonce in the state
/// of the block the worker runs at: a worker runs after every imported block and runs overlap
/// (a model run takes seconds), so a later run must not sign with the nonce an earlier run's
/// transaction, still in the pool, already took. FRAME's signer reads the nonce from the
/// worker's state overlay and counts on from it within the run; the overlay is never persisted.
pub fn send_signed<T, C, LocalCall>(public: &T::Public, call: LocalCall) -> bool
where
	T: CreateSignedTransaction<LocalCall>,
	C: AppCrypto<T::Public, T::Signature>,
	LocalCall: Clone,
{
	use sp_runtime::traits::IdentifyAccount;
	let account = public.clone().into_account();
	if let Some(next) = verity_host::next_index(&account.encode()) {
		frame_system::Account::<T>::mutate(&account, |a| {
			let next = T::Nonce::from(next);
			if next > a.nonce {
				a.nonce = next;
			}
		});
	}
	Signer::<T, C>::all_accounts()
		.with_filter(alloc::vec![public.clone()])
		.send_signed_transaction(|_| call.clone())
		.iter()
		.any(|(_, r)| r.is_ok())
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::offchain::{testing::TestOffchainExt, OffchainDbExt, OffchainWorkerExt};

	fn ext() -> sp_io::TestExternalities {
		let (offchain, _) = TestOffchainExt::new();
		let mut ext = sp_io::TestExternalities::default();
		ext.register_extension(OffchainDbExt::new(offchain.clone()));
		ext.register_extension(OffchainWorkerExt::new(offchain));
		ext
	}

	#[test]
	fn a_claim_holds_for_retry_after_blocks() {
		ext().execute_with(|| {
			assert!(claim(b"exec", &7u64, &1u64, 10));
			assert!(!claim(b"exec", &7u64, &1u64, 10));
			assert!(!claim(b"exec", &7u64, &1u64, 12));
			// another duty, another account: independent
			assert!(claim(b"exec", &8u64, &1u64, 10));
			assert!(claim(b"exec", &7u64, &2u64, 10));
			assert!(claim(b"commit", &7u64, &1u64, 10));
			assert!(claim(b"exec", &7u64, &1u64, 13));
		});
	}

	#[test]
	fn unclaim_lets_the_next_block_retry() {
		ext().execute_with(|| {
			assert!(claim(b"exec", &7u64, &1u64, 10));
			unclaim(b"exec", &7u64, &1u64);
			assert!(claim(b"exec", &7u64, &1u64, 11));
		});
	}

	#[test]
	fn a_claim_from_a_later_block_does_not_block_a_reorged_earlier_one_forever() {
		ext().execute_with(|| {
			assert!(claim(b"exec", &7u64, &1u64, 20));
			// a worker on a shorter fork (block 15) may try: its chain shows the duty open
			assert!(claim(b"exec", &7u64, &1u64, 15));
		});
	}
}
