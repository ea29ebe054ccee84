//! Chain specifications. Genesis content lives in the runtime's presets; the node only names
//! the preset (or reads a chain-spec JSON file).

use sc_service::ChainType;
use verity_runtime::WASM_BINARY;

/// The chain spec type of Verity (no client extensions).
pub type ChainSpec = sc_service::GenericChainSpec;

/// Chain spec properties wallets read: token symbol, decimals, address format.
fn properties() -> sc_service::Properties {
	let mut p = sc_service::Properties::new();
	p.insert("tokenSymbol".into(), verity_runtime::TOKEN_SYMBOL.into());
	p.insert("tokenDecimals".into(), verity_runtime::TOKEN_DECIMALS.into());
	p.insert("ss58Format".into(), verity_runtime::SS58_PREFIX.into());
	p
}

/// The names of the genesis presets the runtime offers.
pub fn preset_names() -> Vec<String> {
	verity_runtime::genesis_config_presets::preset_names()
		.into_iter()
		.map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
		.collect()
}

/// A chain spec built from one of the runtime's genesis presets.
pub fn from_preset(preset: &str) -> Result<ChainSpec, String> {
	let wasm = WASM_BINARY.ok_or_else(|| {
		"this verity-node was built without the runtime wasm (SKIP_WASM_BUILD); \
		 pass a chain-spec file"
			.to_string()
	})?;
	let (name, id, chain_type) = match preset {
		sp_genesis_builder::DEV_RUNTIME_PRESET => {
			("Verity Development", "verity_dev", ChainType::Development)
		},
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => {
			("Verity Local Testnet", "verity_local", ChainType::Local)
		},
		verity_runtime::genesis_config_presets::ZOMBIENET_RUNTIME_PRESET => {
			("Verity Zombienet", "verity_zombienet", ChainType::Local)
		},
		other => return Err(unknown_chain(other)),
	};
	Ok(ChainSpec::builder(wasm, Default::default())
		.with_name(name)
		.with_id(id)
		.with_chain_type(chain_type)
		.with_genesis_config_preset_name(preset)
		.with_properties(properties())
		.build())
}

/// Resolves `--chain`: a preset name or alias (`dev`, `local`), else a chain-spec JSON file.
pub fn load(id: &str) -> Result<ChainSpec, String> {
	let preset = match id {
		"" | "dev" => Some(sp_genesis_builder::DEV_RUNTIME_PRESET),
		"local" => Some(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
		other if preset_names().iter().any(|p| p == other) => Some(other),
		_ => None,
	};
	if let Some(preset) = preset {
		return from_preset(preset);
	}
	let path = std::path::PathBuf::from(id);
	if !path.is_file() {
		return Err(unknown_chain(id));
	}
	ChainSpec::from_json_file(path.clone())
		.map_err(|e| format!("invalid chain spec {}: {}", path.display(), first_line(&e)))
}

fn unknown_chain(id: &str) -> String {
	format!(
		"unknown chain `{id}`: not a preset (dev, local, {}) and no chain-spec file at that path",
		preset_names().join(", ")
	)
}

fn first_line(s: &str) -> &str {
	s.lines().next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
	use super::*;
	use sc_service::ChainSpec as _;

	#[test]
	fn presets_and_aliases_resolve() {
		assert_eq!(load("dev").unwrap().id(), "verity_dev");
		assert_eq!(load("development").unwrap().id(), "verity_dev");
		assert_eq!(load("local").unwrap().id(), "verity_local");
		assert_eq!(load("local_testnet").unwrap().chain_type(), ChainType::Local);
		assert_eq!(load("zombienet").unwrap().id(), "verity_zombienet");
	}

	#[test]
	fn unknown_preset_is_a_clear_error() {
		let Err(err) = load("mainnet-please") else { panic!("unknown preset accepted") };
		assert!(err.starts_with("unknown chain `mainnet-please`"), "{err}");
		assert!(!err.contains('\n'));
	}

	#[test]
	fn malformed_chain_spec_file_is_a_clear_error() {
		let dir = std::env::temp_dir().join(format!("verity-spec-{}", std::process::id()));
		std::fs::create_dir_all(&dir).unwrap();
		let file = dir.join("bad.json");
		std::fs::write(&file, b"{ this is not json").unwrap();
		let Err(err) = load(file.to_str().unwrap()) else { panic!("malformed spec accepted") };
		assert!(err.starts_with("invalid chain spec"), "{err}");
		std::fs::remove_dir_all(dir).unwrap();
	}

	#[test]
	fn dev_spec_carries_token_properties() {
		let spec = load("dev").unwrap();
		assert_eq!(spec.properties()["tokenSymbol"], "VRT");
		assert_eq!(spec.properties()["tokenDecimals"], 12);
	}
}
