//! Demo client of the inference loop, run by `scripts/run.sh` against its dev chain:
//! Charlie requests the demo model (the MLP classifier active at genesis) on its reference
//! input, the demo prints the provisional result, waits for the challenge window to close and
//! prints the finalized result with its secp256k1 receipt.
//!
//!   cargo run --release -p verity-node --example demo_client -- [http://127.0.0.1:9944]

use jsonrpsee::{core::client::ClientT, http_client::HttpClientBuilder, rpc_params};
use serde_json::Value;
use sp_keyring::Sr25519Keyring;
use std::time::{Duration, Instant};
use verity_runtime::{genesis_config_presets::demo_model, RuntimeCall};

/// Signing and submission, shared with the node's `client` subcommand.
use verity_node::client::tx;

type Error = Box<dyn std::error::Error>;

fn unhex(s: &str) -> Vec<u8> {
	tx::unhex(s).unwrap_or_default()
}

async fn poll<T>(
	what: &str,
	timeout: Duration,
	mut f: impl AsyncFnMut() -> Result<Option<T>, Error>,
) -> Result<T, Error> {
	let deadline = Instant::now() + timeout;
	loop {
		if let Some(v) = f().await? {
			return Ok(v);
		}
		if Instant::now() > deadline {
			return Err(format!("timed out waiting for {what}").into());
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

#[tokio::main]
async fn main() -> Result<(), Error> {
	let url = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:9944".into());
	let client =
		HttpClientBuilder::default().request_timeout(Duration::from_secs(30)).build(&url)?;

	let models: Value = client.request("verity_listModels", rpc_params![]).await?;
	println!("[demo] models on chain: {}", serde_json::to_string(&models)?);

	let input =
		demo_model::canonical_f32_list(&demo_model::INPUT_DIMS, demo_model::REFERENCE_INPUT);
	let call = RuntimeCall::Inference(pallet_inference::Call::request {
		model: demo_model::ID,
		input: frame_support::BoundedVec::truncate_from(input),
		max_fee: verity_runtime::UNIT,
		policy: pallet_inference::Policy::Optimistic,
	});
	let xt = tx::sign(&client, &Sr25519Keyring::Charlie.pair(), call).await?;
	let tx_hash = tx::submit(&client, &xt).await?;
	println!("[demo] Charlie requested mlp-demo on its reference input: tx {tx_hash:?}");

	// The newest request of Charlie's: scan ids from the top (the demo is the chain's user).
	let id = poll("the request on chain", Duration::from_secs(60), async || {
		for id in (0..64u64).rev() {
			let r: Value = client.request("verity_request", rpc_params![id]).await?;
			if r["requester"].as_str() == Some(&Sr25519Keyring::Charlie.to_account_id().to_string())
			{
				return Ok(Some(id));
			}
		}
		Ok(None)
	})
	.await?;
	println!("[demo] request id {id}");

	let result = poll("the provisional result", Duration::from_secs(60), async || {
		let r: Value = client.request("verity_result", rpc_params![id]).await?;
		Ok((!r.is_null()).then_some(r))
	})
	.await?;
	println!("[demo] provisional result: {}", serde_json::to_string(&result)?);

	let status = poll("finalization", Duration::from_secs(120), async || {
		let r: Value = client.request("verity_request", rpc_params![id]).await?;
		let s = r["status"].as_str().unwrap_or_default().to_string();
		Ok((s.starts_with("Finalized") || s.starts_with("Refunded")).then_some(s))
	})
	.await?;
	let result: Value = client.request("verity_result", rpc_params![id]).await?;
	let output = unhex(result["output"].as_str().unwrap_or_default());
	let tensors = verity_engine::decode_tensors(&output).map_err(|e| format!("{e:?}"))?;
	let probs = tensors.first().and_then(|t| t.to_f32_vec()).unwrap_or_default();
	let class = probs
		.iter()
		.enumerate()
		.max_by(|a, b| a.1.total_cmp(b.1))
		.map(|(i, _)| i)
		.unwrap_or_default();
	println!("[demo] request {id}: {status}");
	println!("[demo]   class {class}, probabilities {probs:?}");
	println!("[demo]   output hash {}", result["outputHash"]);
	println!("[demo]   receipt {}", serde_json::to_string_pretty(&result["receipt"])?);
	if !status.starts_with("Finalized") {
		return Err(format!("request ended as {status}").into());
	}
	Ok(())
}
