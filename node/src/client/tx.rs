//! Signing and submitting Verity transactions over JSON-RPC: the one place that knows how a
//! signed extrinsic of this runtime is built (immortal era, no tip, no metadata hash).
//!
//! The node's `client` subcommand, the end-to-end harness (`node/tests/common`) and the
//! examples all sign with it, through the node's library.

use codec::Encode;
use jsonrpsee::{
	core::{client::ClientT, ClientError},
	http_client::HttpClient,
	rpc_params,
};
use serde_json::Value;
use sp_core::{crypto::Pair, H256};
use sp_runtime::{traits::IdentifyAccount, MultiSignature, MultiSigner};
use verity_runtime::{AccountId, Nonce, RuntimeCall, SignedPayload, UncheckedExtrinsic};

/// What a signature commits to besides the call: the chain and runtime it is valid on.
#[derive(Clone, Debug)]
pub struct Chain {
	/// `specName` of the node's runtime.
	pub spec_name: String,
	pub spec_version: u32,
	pub transaction_version: u32,
	pub genesis: H256,
}

impl Chain {
	/// Reads the runtime version and the genesis hash from the node.
	pub async fn fetch(client: &HttpClient) -> Result<Chain, ClientError> {
		let version: Value = client.request("state_getRuntimeVersion", rpc_params![]).await?;
		let field = |name: &str| {
			version[name]
				.as_u64()
				.and_then(|v| u32::try_from(v).ok())
				.ok_or_else(|| ClientError::Custom(format!("the runtime version has no {name}")))
		};
		let genesis: String = client.request("chain_getBlockHash", rpc_params![0]).await?;
		let genesis =
			unhex(&genesis).filter(|b| b.len() == 32).map(|b| H256::from_slice(&b)).ok_or_else(
				|| ClientError::Custom(format!("genesis hash {genesis} is not 32 bytes")),
			)?;
		Ok(Chain {
			spec_name: version["specName"].as_str().unwrap_or_default().to_string(),
			spec_version: field("specVersion")?,
			transaction_version: field("transactionVersion")?,
			genesis,
		})
	}

	/// Signs `call` as `pair` with `nonce`: immortal, no tip, no metadata hash check.
	pub fn sign<P>(&self, pair: &P, call: RuntimeCall, nonce: Nonce) -> UncheckedExtrinsic
	where
		P: Pair,
		P::Public: Into<MultiSigner>,
		P::Signature: Into<MultiSignature>,
	{
		let ext = verity_runtime::tx_extension(sp_runtime::generic::Era::Immortal, nonce);
		// The extensions' implicit data, in `TxExtension` order: spec and transaction version
		// (CheckSpecVersion, CheckTxVersion), genesis (CheckGenesis), the era's birth block
		// (CheckEra: the genesis for an immortal era), no metadata hash (CheckMetadataHash).
		let implicit = (
			(),
			self.spec_version,
			self.transaction_version,
			self.genesis,
			self.genesis,
			(),
			(),
			(),
			None,
			(),
		);
		let payload = SignedPayload::from_raw(call.clone(), ext.clone(), implicit);
		let signature: MultiSignature = payload.using_encoded(|p| pair.sign(p)).into();
		UncheckedExtrinsic::new_signed(call, account_of(pair).into(), signature, ext)
	}
}

/// The account of a key pair (for sr25519 and ed25519 the public key, for ecdsa its
/// blake2-256).
pub fn account_of<P>(pair: &P) -> AccountId
where
	P: Pair,
	P::Public: Into<MultiSigner>,
{
	pair.public().into().into_account()
}

/// The next nonce of `who`, counting its transactions in the node's pool.
pub async fn next_nonce(client: &HttpClient, who: &AccountId) -> Result<Nonce, ClientError> {
	client.request("system_accountNextIndex", rpc_params![who.to_string()]).await
}

/// Signs `call` as `pair` against the node's chain with the account's next nonce.
#[allow(dead_code)] // The harness and the examples use it; the client keeps `Chain` per run.
pub async fn sign<P>(
	client: &HttpClient,
	pair: &P,
	call: RuntimeCall,
) -> Result<UncheckedExtrinsic, ClientError>
where
	P: Pair,
	P::Public: Into<MultiSigner>,
	P::Signature: Into<MultiSignature>,
{
	let chain = Chain::fetch(client).await?;
	let nonce = next_nonce(client, &account_of(pair)).await?;
	Ok(chain.sign(pair, call, nonce))
}

/// Submits `xt` to the node's pool; returns its hash.
pub async fn submit(client: &HttpClient, xt: &UncheckedExtrinsic) -> Result<H256, ClientError> {
	let hash: String =
		client.request("author_submitExtrinsic", rpc_params![hex(&xt.encode())]).await?;
	unhex(&hash)
		.filter(|b| b.len() == 32)
		.map(|b| H256::from_slice(&b))
		.ok_or_else(|| ClientError::Custom(format!("transaction hash {hash} is not 32 bytes")))
}

/// `0x`-prefixed lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// Bytes of a hex string with or without `0x`; `None` if it is not hex.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
	hex::decode(s.strip_prefix("0x").unwrap_or(s)).ok()
}
