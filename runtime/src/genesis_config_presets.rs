//! Named genesis presets. The node picks one by name (`--chain dev`, `--chain local`); no
//! genesis logic lives in the node.
//!
//! - `development`: Alice is the only validator and sudo; the dev accounts are endowed. Alice is
//!   also the only provider, so no jury can be drawn: requests need no jurors
//!   (`MinJurors` = 0) and results cannot be challenged. `local_testnet` and `zombienet` run
//!   with 0 too (their tests steer executors by chilling the other providers); a real network
//!   keeps the default of 1.
//! - `local_testnet`: Alice, Bob, Charlie and Dave are validators (GRANDPA tolerates one of the
//!   four being down), Alice is sudo; the dev accounts are endowed.
//! - `zombienet`: the network of the zombienet scenarios (`zombienet/`): Alice, Bob, Charlie
//!   and Dave validate and serve nothing; Eve and Ferdie are the providers (their nodes are not
//!   validators) and `One` delegates to Eve.
//!
//! All start with the demo model ([`demo_model`]) `Active` and owned by Alice, so requests can
//! be made from block 1; in `development` and `local_testnet` Alice is a provider serving it
//! and Bob delegates to her.

use crate::{
	AccountId, BalancesConfig, InferenceConfig, ModelsConfig, ProvidersConfig,
	RuntimeGenesisConfig, SudoConfig, UNIT,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::Perbill;

/// Every endowed dev account starts with this much: 1 million VRT.
pub const ENDOWMENT: crate::Balance = 1_000_000 * UNIT;

/// Alice's self-bond as the demo provider.
pub const DEMO_PROVIDER_BOND: crate::Balance = 10_000 * UNIT;
/// Alice's commission as the demo provider.
pub const DEMO_PROVIDER_COMMISSION: Perbill = Perbill::from_percent(10);
/// Bob's delegation to Alice.
pub const DEMO_DELEGATION: crate::Balance = 1_000 * UNIT;

/// The name of the four-validator local network preset.
pub use sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET;

/// The name of the zombienet preset: four validators, two providers on other nodes.
pub const ZOMBIENET_RUNTIME_PRESET: &str = "zombienet";

/// The demo model of the dev presets: the MLP classifier of the engine's test models,
/// `precompiles/engine/models/mlp.onnx` (described in `manifest.json` beside it): f32[1,64]
/// features -> f32[1,10] class probabilities, opset 17, judged by `ArgMax`.
///
/// Its bytes are stored on chain (38,848 bytes, one chunk), so a dev chain serves the model to
/// its workers without any file server; the genesis build hashes them and refuses a mismatch
/// with [`ID`](demo_model::ID). The reference vector is the manifest's input and onnxruntime
/// output, in the canonical tensor-list encoding of `verity-engine` (SCALE `Vec<Tensor>`).
pub mod demo_model {
	use crate::{Balance, Runtime, MILLI_UNIT};
	use alloc::{vec, vec::Vec};
	use frame_support::BoundedVec;
	use pallet_models::{
		AcceptanceRule, Availability, DType, ExecutionClass, ModelId, ModelSpec, ModelSpecOf,
		TensorSpec,
	};
	use sp_core::H256;

	/// The ONNX file.
	pub const ONNX: &[u8] = include_bytes!("../../precompiles/engine/models/mlp.onnx");
	/// The reference input, raw little-endian f32[1,64].
	pub const REFERENCE_INPUT: &[u8] =
		include_bytes!("../../precompiles/engine/models/mlp.input.bin");
	/// The reference output, raw little-endian f32[1,10].
	pub const REFERENCE_OUTPUT: &[u8] =
		include_bytes!("../../precompiles/engine/models/mlp.output.bin");

	/// `blake2_256` of [`ONNX`] (the manifest's `blake2_256`).
	pub const ID: ModelId = H256([
		0x71, 0x04, 0x29, 0x0f, 0x63, 0x3e, 0x72, 0x62, 0xb9, 0xe7, 0x80, 0x95, 0x99, 0xb5, 0x93,
		0x78, 0x8c, 0x6c, 0x4c, 0xf3, 0x0a, 0x19, 0xf0, 0x19, 0x6d, 0x9f, 0xed, 0x09, 0x17, 0xe3,
		0xa3, 0x81,
	]);
	/// Human-readable name.
	pub const NAME: &[u8] = b"mlp-demo";
	/// ONNX opset of the file.
	pub const OPSET: u32 = 17;
	/// `verity_engine::ENGINE_VERSION` the reference vector is checked with.
	pub const ENGINE_VERSION: u32 = 1;
	/// Royalty per call to the owner.
	pub const PRICE_PER_CALL: Balance = MILLI_UNIT;
	/// The constants its plan may hold: the engine's bound for the file (`ModelBounds::
	/// constant_bytes`, weights plus packing padding), checked by
	/// `demo_model_matches_its_files_and_the_engine_encoding`.
	pub const MAX_CONSTANT_BYTES: u64 = 98_856;
	/// Input `x`: f32[1,64].
	pub const INPUT_DIMS: [u32; 2] = [1, 64];
	/// Output `probs`: f32[1,10].
	pub const OUTPUT_DIMS: [u32; 2] = [1, 10];

	/// Canonical encoding (`verity_engine::encode_tensors`) of a one-tensor f32 list with
	/// raw little-endian `data`; empty if `data` does not fit `dims` (the genesis build then
	/// refuses the spec).
	pub fn canonical_f32_list(dims: &[u32], data: &[u8]) -> Vec<u8> {
		verity_engine::Tensor::new(verity_engine::DType::F32, dims.to_vec(), data.to_vec())
			.map(|t| verity_engine::encode_tensors(&[t]))
			.unwrap_or_default()
	}

	fn tensor(dims: &[u32]) -> TensorSpec {
		TensorSpec {
			dtype: DType::F32,
			dims: BoundedVec::truncate_from(dims.iter().map(|d| Some(*d)).collect()),
		}
	}

	/// The registered spec.
	pub fn spec() -> ModelSpecOf<Runtime> {
		ModelSpec {
			name: BoundedVec::truncate_from(NAME.to_vec()),
			inputs: BoundedVec::truncate_from(vec![tensor(&INPUT_DIMS)]),
			outputs: BoundedVec::truncate_from(vec![tensor(&OUTPUT_DIMS)]),
			opset: OPSET,
			engine_version: ENGINE_VERSION,
			price_per_call: PRICE_PER_CALL,
			acceptance: AcceptanceRule::ArgMax,
			execution: ExecutionClass::Native,
			byte_size: ONNX.len() as u64,
			max_constant_bytes: MAX_CONSTANT_BYTES,
			availability: Availability::OnChain,
			// 267 and 52 bytes, far below `MaxReferenceSize`: never truncated.
			reference_input: BoundedVec::truncate_from(canonical_f32_list(
				&INPUT_DIMS,
				REFERENCE_INPUT,
			)),
			reference_output: BoundedVec::truncate_from(canonical_f32_list(
				&OUTPUT_DIMS,
				REFERENCE_OUTPUT,
			)),
		}
	}
}

/// Compressed secp256k1 public keys of the dev executor keys `//Alice` ... `//Ferdie` (key
/// type `vexe`), which `--dev`/`--alice` etc. insert as the `executor` session key. Constants
/// because the presets are built in the runtime, which cannot derive ECDSA keys; a test
/// derives them again.
pub const DEV_EXECUTOR_KEYS: [(&str, [u8; 33]); 6] = [
	("Alice", hex_literal("020a1091341fe5664bfa1782d5e04779689068c916b04cb365ec3153755684d9a1")),
	("Bob", hex_literal("0390084fdbf27d2b79d26a4f13f0ccd982cb755a661969143c37cbc49ef5b91f27")),
	("Charlie", hex_literal("0389411795514af1627765eceffcbd002719f031604fadd7d188e2dc585b4e1afb")),
	("Dave", hex_literal("03bc9d0ca094bd5b8b3225d7651eac5d18c1c04bf8ae8f8b263eebca4e1410ed0c")),
	("Eve", hex_literal("031d10105e323c4afce225208f71a6441ee327a65b9e646e772500c74d31f669aa")),
	("Ferdie", hex_literal("0291f1217d5a04cb83312ee3d88a6e6b33284e053e6ccfc3a90339a0299d12967c")),
];

// Evaluated at compile time only (the table above is a `const`): a bad literal or an index out
// of range is a compile error, never a runtime panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn hex_literal(s: &str) -> [u8; 33] {
	const fn nibble(c: u8) -> u8 {
		match c {
			b'0'..=b'9' => c - b'0',
			b'a'..=b'f' => c - b'a' + 10,
			_ => panic!("not lowercase hex"),
		}
	}
	let b = s.as_bytes();
	assert!(b.len() == 66, "33 bytes of hex");
	let mut out = [0u8; 33];
	let mut i = 0;
	while i < 33 {
		out[i] = nibble(b[2 * i]) * 16 + nibble(b[2 * i + 1]);
		i += 1;
	}
	out
}

/// The executor account of a dev key (`Sr25519Keyring` name, e.g. `Alice`).
pub fn dev_executor(keyring: Sr25519Keyring) -> AccountId {
	let name = alloc::format!("{keyring}");
	let key = DEV_EXECUTOR_KEYS
		.iter()
		.find(|(n, _)| *n == name)
		.map(|(_, k)| *k)
		.unwrap_or(DEV_EXECUTOR_KEYS[0].1);
	verity_primitives::executor_account(&sp_core::ecdsa::Public::from_raw(key))
}

/// The demo model, providers and delegation of the dev presets (see the module docs):
/// `providers` serve the demo model with their dev executor keys, `delegator` delegates
/// [`DEMO_DELEGATION`] to `delegate`.
fn demo_models_and_providers(
	providers: &[Sr25519Keyring],
	(delegator, delegate): (Sr25519Keyring, Sr25519Keyring),
) -> (ModelsConfig, ProvidersConfig) {
	let alice = Sr25519Keyring::Alice.to_account_id();
	let models = ModelsConfig {
		models: vec![(
			alice.clone(),
			demo_model::ID,
			demo_model::spec(),
			Some(demo_model::ONNX.to_vec()),
		)],
	};
	let providers = ProvidersConfig {
		providers: providers
			.iter()
			.map(|k| {
				(
					k.to_account_id(),
					DEMO_PROVIDER_BOND,
					DEMO_PROVIDER_COMMISSION,
					vec![demo_model::ID],
					dev_executor(*k),
				)
			})
			.collect(),
		delegations: vec![(delegator.to_account_id(), delegate.to_account_id(), DEMO_DELEGATION)],
	};
	(models, providers)
}

/// The genesis audit rate of every preset: one provisional result in ten is audited. A
/// provider posting wrong results keeps each unnoticed by audits with probability 0.9 (n in a
/// row with 0.9^n); each one caught costs `WrongResultPenalty` of its stake (docs/security.md,
/// "Audits"). Root changes it with `inference.set_audit_rate`.
pub const AUDIT_RATE: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(10);

fn testnet_genesis(
	initial_authorities: Vec<(BabeId, GrandpaId)>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
	providers: &[Sr25519Keyring],
	delegation: (Sr25519Keyring, Sr25519Keyring),
	min_jurors: u32,
) -> Value {
	let (models_config, providers_config) = demo_models_and_providers(providers, delegation);
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts.iter().cloned().map(|k| (k, ENDOWMENT)).collect::<Vec<_>>(),
		},
		babe: pallet_babe::GenesisConfig {
			authorities: initial_authorities.iter().map(|x| (x.0.clone(), 1)).collect::<Vec<_>>(),
			epoch_config: crate::BABE_GENESIS_EPOCH_CONFIG,
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: initial_authorities.iter().map(|x| (x.1.clone(), 1)).collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root) },
		models: models_config,
		providers: providers_config,
		inference: InferenceConfig { min_jurors, audit_rate: AUDIT_RATE },
	})
}

fn authority(sr: Sr25519Keyring, ed: Ed25519Keyring) -> (BabeId, GrandpaId) {
	(sr.public().into(), ed.public().into())
}

/// The dev accounts and their dev executor accounts (executors pay transaction fees up
/// front; accepted results and failure reports are refunded).
fn endowed() -> Vec<AccountId> {
	Sr25519Keyring::iter()
		.map(|k| k.to_account_id())
		.chain(
			Sr25519Keyring::iter()
				.filter(|k| DEV_EXECUTOR_KEYS.iter().any(|(n, _)| alloc::format!("{k}") == *n))
				.map(dev_executor),
		)
		.collect()
}

/// Alice validates alone and is the only provider.
pub fn development_config_genesis() -> Value {
	testnet_genesis(
		vec![authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		endowed(),
		Sr25519Keyring::Alice.to_account_id(),
		&[Sr25519Keyring::Alice],
		(Sr25519Keyring::Bob, Sr25519Keyring::Alice),
		// One provider: no jury can ever be drawn, so results on the dev chain cannot be
		// challenged (a real network keeps the default of 1).
		0,
	)
}

/// Alice, Bob, Charlie and Dave: the validators of the `local_testnet` and `zombienet` presets.
fn four_validators() -> Vec<(BabeId, GrandpaId)> {
	vec![
		authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
		authority(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
		authority(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
		authority(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
	]
}

/// Alice, Bob, Charlie and Dave validate; Alice, Charlie and Dave are providers (so a
/// dispute over one has two others to judge it).
pub fn local_config_genesis() -> Value {
	testnet_genesis(
		four_validators(),
		endowed(),
		Sr25519Keyring::Alice.to_account_id(),
		&[Sr25519Keyring::Alice, Sr25519Keyring::Charlie, Sr25519Keyring::Dave],
		(Sr25519Keyring::Bob, Sr25519Keyring::Alice),
		// The local network's tests steer a request to one executor by chilling the other
		// providers while it is made (they unchill before the challenge): no jury check.
		0,
	)
}

/// Alice, Bob, Charlie and Dave validate; Eve and Ferdie are the providers, run by nodes that
/// do not validate; `One` delegates to Eve. Two providers so that a dispute over one has the
/// other as its jury, and a request whose provider is offline has another to go to.
pub fn zombienet_config_genesis() -> Value {
	testnet_genesis(
		four_validators(),
		endowed(),
		Sr25519Keyring::Alice.to_account_id(),
		&[Sr25519Keyring::Eve, Sr25519Keyring::Ferdie],
		(Sr25519Keyring::One, Sr25519Keyring::Eve),
		// The scenarios steer requests by chilling one of the two providers: no jury check.
		0,
	)
}

/// The JSON patch of a named preset, `None` for an unknown name.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		ZOMBIENET_RUNTIME_PRESET => zombienet_config_genesis(),
		_ => return None,
	};
	Some(serde_json::to_string(&patch).ok()?.into_bytes())
}

/// The names of the presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET),
		PresetId::from(ZOMBIENET_RUNTIME_PRESET),
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
			assert!(value.get("babe").is_some(), "{name:?} sets BABE authorities");
		}
		assert!(get_preset(&PresetId::from("no_such_preset")).is_none());
	}

	#[test]
	fn dev_executor_keys_are_the_dev_seeds() {
		use sp_core::{ecdsa, Pair};
		for (name, key) in DEV_EXECUTOR_KEYS {
			let pair = ecdsa::Pair::from_string(&alloc::format!("//{name}"), None).unwrap();
			assert_eq!(pair.public().0, key, "{name}");
		}
		let alice = ecdsa::Pair::from_string("//Alice", None).unwrap().public();
		assert_eq!(
			dev_executor(Sr25519Keyring::Alice),
			sp_runtime::traits::IdentifyAccount::into_account(sp_runtime::MultiSigner::from(alice))
		);
	}

	#[test]
	fn local_testnet_has_four_validators() {
		let json = get_preset(&PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET)).unwrap();
		let value: Value = serde_json::from_slice(&json).unwrap();
		assert_eq!(value["babe"]["authorities"].as_array().unwrap().len(), 4);
		assert_eq!(value["grandpa"]["authorities"].as_array().unwrap().len(), 4);
	}

	/// The genesis storage the node builds for preset `name`: its patch over the default config.
	fn genesis_storage(name: &str) -> sp_runtime::Storage {
		use sp_runtime::BuildStorage;
		let json = get_preset(&PresetId::from(name)).unwrap();
		let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
		let patch: Value = serde_json::from_slice(&json).unwrap();
		merge(&mut config, patch);
		let genesis: RuntimeGenesisConfig = serde_json::from_value(config).unwrap();
		genesis.build_storage().unwrap()
	}

	#[test]
	fn development_preset_builds_genesis_state() {
		assert!(!genesis_storage(sp_genesis_builder::DEV_RUNTIME_PRESET).top.is_empty());
	}

	/// The demo model is `Active` with its bytes stored and deposit held, Alice serves it with
	/// her bond held, Bob's delegation is recorded, and both pallets' invariants hold.
	fn check_demo_state(providers: usize) {
		use crate::{Balances, Providers, RuntimeHoldReason};
		use frame_support::traits::fungible::{Inspect, InspectHold};
		use pallet_models::{ModelRegistry, ModelStatus};
		use pallet_providers::{ExecutorSelection, ProviderStatus};

		let alice = Sr25519Keyring::Alice.to_account_id();
		let bob = Sr25519Keyring::Bob.to_account_id();

		let model = pallet_models::Models::<crate::Runtime>::get(demo_model::ID).unwrap();
		assert!(matches!(model.status, ModelStatus::Active { .. }), "{:?}", model.status);
		assert_eq!(model.owner, alice);
		assert_eq!(model.spec, demo_model::spec());
		assert_eq!((model.chunk_count, model.chunks_received), (1, 1));
		assert!(model.bytes_verified);
		assert_eq!(
			pallet_models::Chunks::<crate::Runtime>::get(demo_model::ID, 0).unwrap().to_vec(),
			demo_model::ONNX
		);
		assert!(<crate::Models as ModelRegistry<_, _>>::is_active(&demo_model::ID));
		let model_deposit = model.record_deposit + model.bytes_deposit;
		assert!(model_deposit > 0);
		assert_eq!(
			Balances::balance_on_hold(
				&RuntimeHoldReason::Models(pallet_models::HoldReason::ModelDeposit),
				&alice
			),
			model_deposit
		);

		let provider = pallet_providers::Providers::<crate::Runtime>::get(&alice).unwrap();
		assert_eq!(provider.status, ProviderStatus::Active);
		assert_eq!(provider.commission, DEMO_PROVIDER_COMMISSION);
		assert_eq!(provider.models.to_vec(), vec![demo_model::ID]);
		assert_eq!(provider.executor, dev_executor(Sr25519Keyring::Alice));
		assert_eq!(provider.stakers, 2);
		assert_eq!(Providers::stake_of(&alice, &alice), DEMO_PROVIDER_BOND);
		assert_eq!(Providers::stake_of(&alice, &bob), DEMO_DELEGATION);
		let pallet_account = Providers::account_id();
		assert_eq!(
			Balances::balance_on_hold(
				&RuntimeHoldReason::Providers(pallet_providers::HoldReason::Stake),
				&pallet_account
			),
			DEMO_PROVIDER_BOND * providers as crate::Balance + DEMO_DELEGATION
		);
		// The pallet account was endowed by the providers genesis, so it can never be reaped.
		assert_eq!(Balances::balance(&pallet_account), crate::EXISTENTIAL_DEPOSIT);
		assert_eq!(Balances::balance(&alice), ENDOWMENT - DEMO_PROVIDER_BOND - model_deposit);
		assert_eq!(Balances::balance(&bob), ENDOWMENT - DEMO_DELEGATION);
		let chosen = <Providers as ExecutorSelection<_>>::select(
			&demo_model::ID,
			9,
			Default::default(),
			&[],
		);
		assert_eq!(chosen.len(), providers);
		assert!(chosen.contains(&alice));
		assert_eq!(
			<Providers as ExecutorSelection<_>>::provider_of(&dev_executor(Sr25519Keyring::Alice)),
			Some(alice)
		);
		assert_eq!(
			Balances::balance(&dev_executor(Sr25519Keyring::Alice)),
			ENDOWMENT,
			"executor accounts are endowed for fees"
		);

		#[cfg(feature = "try-runtime")]
		{
			crate::Models::do_try_state().unwrap();
			Providers::do_try_state().unwrap();
			crate::Inference::do_try_state().unwrap();
		}
	}

	#[test]
	fn development_genesis_has_active_demo_model_provider_and_delegation() {
		sp_io::TestExternalities::new(genesis_storage(sp_genesis_builder::DEV_RUNTIME_PRESET))
			.execute_with(|| check_demo_state(1));
	}

	#[test]
	fn local_testnet_genesis_has_active_demo_model_provider_and_delegation() {
		sp_io::TestExternalities::new(genesis_storage(LOCAL_TESTNET_RUNTIME_PRESET))
			.execute_with(|| check_demo_state(3));
	}

	/// Eve and Ferdie serve the demo model with their dev executor keys, One's delegation to
	/// Eve is recorded, none of the four validators is a provider, and every stake is held.
	#[test]
	fn zombienet_genesis_has_two_non_validator_providers_and_a_delegator() {
		use crate::{Balances, Providers, RuntimeHoldReason};
		use frame_support::traits::fungible::{Inspect, InspectHold};
		use pallet_providers::{ExecutorSelection, ProviderStatus};
		use Sr25519Keyring::{Alice, Bob, Charlie, Dave, Eve, Ferdie, One};

		let json = get_preset(&PresetId::from(ZOMBIENET_RUNTIME_PRESET)).unwrap();
		let value: Value = serde_json::from_slice(&json).unwrap();
		assert_eq!(value["babe"]["authorities"].as_array().unwrap().len(), 4);
		assert_eq!(value["grandpa"]["authorities"].as_array().unwrap().len(), 4);

		sp_io::TestExternalities::new(genesis_storage(ZOMBIENET_RUNTIME_PRESET)).execute_with(
			|| {
				assert!(<crate::Models as pallet_models::ModelRegistry<_, _>>::is_active(
					&demo_model::ID
				));
				for k in [Eve, Ferdie] {
					let p = pallet_providers::Providers::<crate::Runtime>::get(k.to_account_id())
						.unwrap();
					assert_eq!(p.status, ProviderStatus::Active);
					assert_eq!(p.models.to_vec(), vec![demo_model::ID]);
					assert_eq!(p.executor, dev_executor(k));
					assert_eq!(
						Providers::stake_of(&k.to_account_id(), &k.to_account_id()),
						DEMO_PROVIDER_BOND
					);
					assert_eq!(Balances::balance(&dev_executor(k)), ENDOWMENT);
				}
				for k in [Alice, Bob, Charlie, Dave] {
					assert!(pallet_providers::Providers::<crate::Runtime>::get(k.to_account_id())
						.is_none());
				}
				assert_eq!(
					Providers::stake_of(&Eve.to_account_id(), &One.to_account_id()),
					DEMO_DELEGATION
				);
				assert_eq!(Balances::balance(&One.to_account_id()), ENDOWMENT - DEMO_DELEGATION);
				assert_eq!(
					Balances::balance_on_hold(
						&RuntimeHoldReason::Providers(pallet_providers::HoldReason::Stake),
						&Providers::account_id()
					),
					2 * DEMO_PROVIDER_BOND + DEMO_DELEGATION
				);
				let mut chosen = <Providers as ExecutorSelection<_>>::select(
					&demo_model::ID,
					9,
					Default::default(),
					&[],
				);
				chosen.sort();
				let mut expected = vec![Eve.to_account_id(), Ferdie.to_account_id()];
				expected.sort();
				assert_eq!(chosen, expected);
				#[cfg(feature = "try-runtime")]
				Providers::do_try_state().unwrap();
			},
		);
	}

	#[test]
	fn demo_model_matches_its_files_and_the_engine_encoding() {
		use sp_runtime::traits::{BlakeTwo256, Hash};
		assert_eq!(BlakeTwo256::hash(demo_model::ONNX), demo_model::ID);
		assert_eq!(demo_model::ONNX.len(), 38_848);
		let input = verity_engine::Tensor::new(
			verity_engine::DType::F32,
			demo_model::INPUT_DIMS.to_vec(),
			demo_model::REFERENCE_INPUT.to_vec(),
		)
		.unwrap();
		let output = verity_engine::Tensor::new(
			verity_engine::DType::F32,
			demo_model::OUTPUT_DIMS.to_vec(),
			demo_model::REFERENCE_OUTPUT.to_vec(),
		)
		.unwrap();
		let spec = demo_model::spec();
		assert_eq!(spec.reference_input.to_vec(), verity_engine::encode_tensors(&[input]));
		assert_eq!(spec.reference_output.to_vec(), verity_engine::encode_tensors(&[output]));
		// The declaration is the engine's constant bound for the file: attesters of a chain
		// that registered it again would accept it, and it is not declared larger than needed.
		let engine = verity_engine::engine::Engine::new(Default::default());
		let info = engine.load(demo_model::ONNX, &demo_model::ID.0).unwrap();
		assert_eq!(info.constants_bound(), u128::from(demo_model::MAX_CONSTANT_BYTES));
	}

	fn merge(a: &mut Value, b: Value) {
		match (a, b) {
			(Value::Object(a), Value::Object(b)) => {
				for (k, v) in b {
					merge(a.entry(k).or_insert(Value::Null), v);
				}
			},
			(a, b) => *a = b,
		}
	}
}
