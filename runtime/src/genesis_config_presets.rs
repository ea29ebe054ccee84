//! Named genesis presets. The node picks one by name (`--chain dev`, `--chain local`); no
//! genesis logic lives in the node.
//!
//! - `development`: Alice is the only validator and sudo; the dev accounts are endowed.
//! - `local_testnet`: Alice, Bob, Charlie and Dave are validators (GRANDPA tolerates one of the
//!   four being down), Alice is sudo; the dev accounts are endowed.

use crate::{AccountId, BalancesConfig, RuntimeGenesisConfig, SudoConfig, UNIT};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// Every endowed dev account starts with this much: 1 million VRT.
pub const ENDOWMENT: crate::Balance = 1_000_000 * UNIT;

/// The name of the four-validator local network preset.
pub use sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET;

fn testnet_genesis(
	initial_authorities: Vec<(AuraId, GrandpaId)>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts.iter().cloned().map(|k| (k, ENDOWMENT)).collect::<Vec<_>>(),
		},
		aura: pallet_aura::GenesisConfig {
			authorities: initial_authorities.iter().map(|x| x.0.clone()).collect::<Vec<_>>(),
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: initial_authorities.iter().map(|x| (x.1.clone(), 1)).collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root) },
	})
}

fn authority(sr: Sr25519Keyring, ed: Ed25519Keyring) -> (AuraId, GrandpaId) {
	(sr.public().into(), ed.public().into())
}

/// Alice validates alone.
pub fn development_config_genesis() -> Value {
	testnet_genesis(
		vec![authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		Sr25519Keyring::iter().map(|k| k.to_account_id()).collect(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// Alice, Bob, Charlie and Dave validate.
pub fn local_config_genesis() -> Value {
	testnet_genesis(
		vec![
			authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			authority(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			authority(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			authority(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		],
		Sr25519Keyring::iter().map(|k| k.to_account_id()).collect(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The JSON patch of a named preset, `None` for an unknown name.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	Some(serde_json::to_string(&patch).ok()?.into_bytes())
}

/// The names of the presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET),
	]
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn every_listed_preset_builds_and_unknown_is_refused() {
		for name in preset_names() {
			let json = get_preset(&name).expect("listed preset exists");
			let value: Value = serde_json::from_slice(&json).expect("preset is JSON");
			assert!(value.get("aura").is_some(), "{name:?} sets Aura authorities");
		}
		assert!(get_preset(&PresetId::from("no_such_preset")).is_none());
	}

	#[test]
	fn local_testnet_has_four_validators() {
		let json = get_preset(&PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET)).unwrap();
		let value: Value = serde_json::from_slice(&json).unwrap();
		assert_eq!(value["aura"]["authorities"].as_array().unwrap().len(), 4);
		assert_eq!(value["grandpa"]["authorities"].as_array().unwrap().len(), 4);
	}

	#[test]
	fn development_preset_builds_genesis_state() {
		use sp_runtime::BuildStorage;
		let json = get_preset(&PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET)).unwrap();
		// The patch is applied over the default config, as the node does.
		let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
		let patch: Value = serde_json::from_slice(&json).unwrap();
		merge(&mut config, patch);
		let genesis: RuntimeGenesisConfig = serde_json::from_value(config).unwrap();
		let storage = genesis.build_storage().unwrap();
		assert!(!storage.top.is_empty());
	}

	fn merge(a: &mut Value, b: Value) {
		match (a, b) {
			(Value::Object(a), Value::Object(b)) =>
				for (k, v) in b {
					merge(a.entry(k).or_insert(Value::Null), v);
				},
			(a, b) => *a = b,
		}
	}
}
