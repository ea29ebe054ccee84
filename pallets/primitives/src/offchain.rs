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

/// Blocks a locally counted nonce may stay ahead of the chain's without the chain's advancing
/// before it is presumed lost (a transaction dropped from the pool leaves a gap that would
/// keep every later one waiting) and counting restarts from the chain's nonce. The runtime's
/// worker transactions are mortal for 16 blocks, so by then a pending one has expired and its
/// nonce is free again.
pub const NONCE_STALE_AFTER: u32 = 16;

/// The node's local nonce record of an account: the next nonce to use, the chain's nonce last
/// seen and the block since which the chain has shown it.
#[derive(codec::Encode, codec::Decode)]
struct LocalNonce<Nonce, BlockNumber> {
	next: Nonce,
	chain: Nonce,
	since: BlockNumber,
}

/// Sign `call` with the keystore key `public` (of application crypto `C`) and put it into
/// the transaction pool. `true` when the pool accepted it.
///
/// The nonce: FRAME's signer takes the account's nonce from chain state, which does not yet
/// count this node's transactions still in the pool, so a worker run for the next block
/// would reuse the nonce of one sent a block earlier and the pool would reject one of them
/// (overlapping duties: a result and a vote, two results). The node keeps the next nonce
/// of each of its accounts in its persistent offchain storage, under a lock so that
/// concurrent worker runs take distinct nonces, and hands the larger of it and the chain's
/// nonce to FRAME's signer. If the chain's nonce has not moved for [`NONCE_STALE_AFTER`]
/// blocks while the local one is ahead, a transaction was lost and counting restarts from the
/// chain's.
pub fn send_signed<T, C, LocalCall>(public: &T::Public, call: LocalCall) -> bool
where
	T: CreateSignedTransaction<LocalCall>,
	C: AppCrypto<T::Public, T::Signature>,
	LocalCall: Clone,
{
	use frame_system::pallet_prelude::BlockNumberFor;
	use sp_runtime::{
		offchain::storage_lock::{StorageLock, Time},
		traits::{IdentifyAccount, One, Saturating},
	};
	let account = public.clone().into_account();
	let key = (b"verity::nonce", &account).encode();
	let lock_key = (b"verity::nonce-lock", &account).encode();
	let mut lock = StorageLock::<Time>::new(&lock_key);
	// Another worker run is sending from this account: try again next block.
	let Ok(_guard) = lock.try_lock() else { return false };

	let store = StorageValueRef::persistent(&key);
	let now = frame_system::Pallet::<T>::block_number();
	let chain = frame_system::Account::<T>::get(&account).nonce;
	let local: Option<LocalNonce<T::Nonce, BlockNumberFor<T>>> = store.get().ok().flatten();
	let (next, since) = match local {
		// This node's transactions are ahead of the chain: pending, unless the chain's nonce
		// has not moved for `NONCE_STALE_AFTER` blocks.
		Some(l) if l.next > chain => {
			let since = if l.chain == chain { l.since } else { now };
			if now.saturating_sub(since) >= NONCE_STALE_AFTER.into() {
				(chain, now)
			} else {
				(l.next, since)
			}
		},
		_ => (chain, now),
	};
	// FRAME's signer reads the nonce from `Account`; in an off-chain worker that write is
	// never persisted.
	frame_system::Account::<T>::mutate(&account, |a| a.nonce = next);
	let sent = Signer::<T, C>::all_accounts()
		.with_filter(alloc::vec![public.clone()])
		.send_signed_transaction(|_| call.clone())
		.iter()
		.any(|(_, r)| r.is_ok());
	let next = if sent { next.saturating_add(One::one()) } else { next };
	store.set(&LocalNonce { next, chain, since });
	sent
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
