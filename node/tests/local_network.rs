//! A four-validator local network (Alice, Bob, Charlie, Dave) on loopback: it produces and
//! finalizes blocks, keeps finalizing with one validator stopped (3 of 4 is more than 2/3),
//! and the stopped validator catches up when it restarts with its base path.

mod common;

use common::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn four_validators_tolerate_one_down_and_it_catches_up() {
	let dir = TempDir::new("local");
	let names = ["alice", "bob", "charlie", "dave"];

	let mut alice = Node::spawn(
		"alice",
		&dir.0.join("alice"),
		&["--chain", "local", "--validator", "--alice", "--node-key", &node_key(1)],
	);
	alice.wait_ready(Duration::from_secs(60)).await;
	let bootnode = alice.multiaddr().await;

	let mut others: Vec<Node> = names[1..]
		.iter()
		.enumerate()
		.map(|(i, name)| {
			let key = node_key(i as u8 + 2);
			let flag = format!("--{name}");
			Node::spawn(
				name,
				&dir.0.join(name),
				&[
					"--chain",
					"local",
					"--validator",
					&flag,
					"--node-key",
					&key,
					"--bootnodes",
					&bootnode,
				],
			)
		})
		.collect();
	for node in others.iter_mut() {
		node.wait_ready(Duration::from_secs(60)).await;
	}

	// All four see finality advance: GRANDPA needs 3 of 4 votes, so every vote counts here.
	let f = alice.wait_finalized(8, Duration::from_secs(180)).await;
	for node in others.iter_mut() {
		node.wait_finalized(f, Duration::from_secs(60)).await;
	}
	// All four produce blocks: BABE's leader of a slot is drawn (primary, by VRF) or assigned
	// (secondary), so each validator authors about a quarter of the blocks; all four appear
	// within 40 blocks unless one of them cannot author (P ~ 4 * (3/4)^40 < 1e-4 otherwise).
	let mut authors = std::collections::BTreeSet::new();
	let mut f = f;
	for n in 1.. {
		if n > f {
			assert!(n <= 40, "a validator authored none of 40 blocks: {authors:?}");
			f = alice.wait_finalized(n, Duration::from_secs(60)).await;
		}
		authors.insert(alice.babe_author(n).await);
		if authors.len() == 4 {
			break;
		}
	}
	let peers = alice.rpc("system_peers", jsonrpsee::rpc_params![]).await.unwrap();
	assert_eq!(peers.as_array().unwrap().len(), 3, "alice is connected to the three others");

	// Stop Dave abruptly. The other three still form a supermajority.
	let dave = others.last_mut().unwrap();
	dave.stop();
	let dave_at_stop = alice.finalized_number().await;
	let target = dave_at_stop + 4;
	let reached = alice.wait_finalized(target, Duration::from_secs(120)).await;
	assert!(reached >= target, "finality continued without dave");
	for node in others.iter_mut().take(2) {
		node.wait_finalized(target, Duration::from_secs(60)).await;
	}

	// Dave restarts on the same base path and catches up to where the others are.
	let dave = others.last_mut().unwrap();
	dave.restart();
	dave.wait_ready(Duration::from_secs(60)).await;
	let head = alice.finalized_number().await;
	dave.wait_finalized(head, Duration::from_secs(120)).await;
	let hash = alice.block_hash(head).await;
	assert_eq!(dave.block_hash(head).await, hash, "dave follows the same chain");
}

/// A fixed ed25519 node key so peer identities are stable across restarts.
fn node_key(n: u8) -> String {
	format!("{:064x}", n)
}
