//! A `--dev` node produces and finalizes blocks, and a signed balance transfer lands with
//! exactly the expected balance changes, read back over RPC.

mod common;

use common::*;
use sp_keyring::Sr25519Keyring;
use std::time::Duration;
use verity_runtime::{RuntimeEvent, UNIT};

#[tokio::test(flavor = "multi_thread")]
async fn dev_chain_finalizes_and_transfers() {
	let dir = TempDir::new("dev");
	let mut node = Node::spawn("dev", &dir.0, &["--dev"]);
	node.wait_ready(Duration::from_secs(60)).await;

	// Finality: GRANDPA with Alice alone finalizes what BABE produces.
	let finalized = node.wait_finalized(3, Duration::from_secs(90)).await;
	assert!(finalized >= 3);

	let alice = Sr25519Keyring::Alice;
	let bob = Sr25519Keyring::Bob.to_account_id();
	let value = 42 * UNIT;

	let start = node.best_number().await;
	let xt = node.sign(&alice.pair(), transfer(&bob, value)).await;
	node.submit(&xt).await.expect("transfer accepted by the pool");
	let (block, number) = node.wait_included(&xt, start, Duration::from_secs(60)).await;

	let parent = node.block_hash(number - 1).await.unwrap();
	let alice_before = node.account(&alice.to_account_id(), Some(parent)).await;
	let alice_after = node.account(&alice.to_account_id(), Some(block)).await;
	let bob_before = node.account(&bob, Some(parent)).await;
	let bob_after = node.account(&bob, Some(block)).await;

	let events = node.events(block).await;
	let fee = events
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid { who, actual_fee, .. },
			) if *who == alice.to_account_id() => Some(*actual_fee),
			_ => None,
		})
		.expect("fee event for Alice's transaction");
	assert!(fee > 0, "transactions are not free");
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::Balances(pallet_balances::Event::Transfer { from, to, amount })
			if *from == alice.to_account_id() && *to == bob && *amount == value
	)));

	assert_eq!(bob_after.data.free, bob_before.data.free + value);
	assert_eq!(alice_after.data.free, alice_before.data.free - value - fee);
	assert_eq!(alice_after.nonce, alice_before.nonce + 1);

	// The block with the transfer becomes final.
	node.wait_finalized(number, Duration::from_secs(60)).await;
	assert_eq!(node.block_hash(number).await, Some(block));

	// A transaction with a bad signature is refused by the pool, not included.
	let mut forged = node.sign(&alice.pair(), transfer(&bob, value)).await;
	match &mut forged.preamble {
		sp_runtime::generic::Preamble::Signed(_, sig, _) => {
			*sig =
				sp_runtime::MultiSignature::Sr25519(sp_core::sr25519::Signature::from_raw([7; 64]))
		},
		_ => panic!("sign() builds signed extrinsics"),
	}
	let err = node.submit(&forged).await.expect_err("forged signature rejected");
	assert!(err.contains("Invalid") || err.contains("1010"), "{err}");
}
