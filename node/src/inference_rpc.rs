//! `verity_*` JSON-RPC methods: what a dApp or operator asks a node about inference.
//!
//! | method | params | result |
//! |---|---|---|
//! | `verity_listModels` | | `[{id, name, owner, status, acceptance, pricePerCall, byteSize}]` |
//! | `verity_request` | `id` | `{status, requester, model, policy, inputHash, executors, outcome}` or `null` |
//! | `verity_result` | `id` | `{output, outputHash, by, receipt}` or `null` (no result yet) |
//! | `verity_dryRun` | `model` (0x hash), `input` (0x canonical tensors) | `{output, outputHash}` |
//! | `verity_putModel` | `bytes` (0x ONNX file) | the model id (blake2-256); unsafe RPC only |
//!
//! `receipt` is `{signature, message, signerAddress, executor}`: `signature` (65 bytes r‖s‖v)
//! over `message` (the keccak-256 receipt message of `pallet_inference::receipt_message`);
//! `signerAddress` is what `ecrecover(message, v, r, s)` returns on any EVM chain. Chain state
//! is read at the best block. Errors carry a readable message; nothing here panics on input.

use codec::Decode;
use jsonrpsee::{
	types::{ErrorObject, ErrorObjectOwned, Params},
	RpcModule,
};
use sc_client_api::StorageProvider;
use serde_json::{json, Value};
use sp_blockchain::HeaderBackend;
use sp_core::{storage::StorageKey, H256};
use std::sync::Arc;
use verity_runtime::Runtime;

use crate::service::FullClient;

const ERROR_CODE: i32 = 9000;

fn err(msg: impl Into<String>) -> ErrorObjectOwned {
	ErrorObject::owned(ERROR_CODE, msg.into(), None::<()>)
}

fn hex(bytes: &[u8]) -> String {
	format!("0x{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn unhex(s: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
	let s = s.strip_prefix("0x").unwrap_or(s);
	if s.len() % 2 != 0 {
		return Err(err("hex string of odd length"));
	}
	(0..s.len())
		.step_by(2)
		.map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| err("not a hex string")))
		.collect()
}

fn h256(s: &str) -> Result<H256, ErrorObjectOwned> {
	let b = unhex(s)?;
	(b.len() == 32).then(|| H256::from_slice(&b)).ok_or_else(|| err("expected 32 bytes"))
}

struct Ctx {
	client: Arc<FullClient>,
	backend: Arc<verity_host::HostBackend>,
}

impl Ctx {
	fn read<T: Decode>(&self, key: Vec<u8>) -> Result<Option<T>, ErrorObjectOwned> {
		let at = self.client.info().best_hash;
		let data = self.client.storage(at, &StorageKey(key)).map_err(|e| err(e.to_string()))?;
		data.map(|d| T::decode(&mut &d.0[..]).map_err(|_| err("state does not decode"))).transpose()
	}

	fn models(&self) -> Result<Vec<Value>, ErrorObjectOwned> {
		let at = self.client.info().best_hash;
		let prefix = frame_support::storage::storage_prefix(b"Models", b"Models").to_vec();
		let keys = self
			.client
			.storage_keys(at, Some(&StorageKey(prefix)), None)
			.map_err(|e| err(e.to_string()))?;
		let mut out = Vec::new();
		for key in keys.take(1000) {
			let Some(info) = self.read::<pallet_models::ModelInfoOf<Runtime>>(key.0.clone())? else {
				continue;
			};
			// Blake2_128Concat: the id is the last 32 bytes of the key.
			let id = &key.0[key.0.len().saturating_sub(32)..];
			out.push(json!({
				"id": hex(id),
				"name": String::from_utf8_lossy(&info.spec.name),
				"owner": info.owner.to_string(),
				"status": format!("{:?}", info.status),
				"acceptance": format!("{:?}", info.spec.acceptance),
				"pricePerCall": info.spec.price_per_call.to_string(),
				"byteSize": info.spec.byte_size,
			}));
		}
		Ok(out)
	}

	fn request(&self, id: u64) -> Result<Option<pallet_inference::RequestOf<Runtime>>, ErrorObjectOwned> {
		self.read(pallet_inference::Requests::<Runtime>::hashed_key_for(id))
	}

	fn result(&self, id: u64) -> Result<Value, ErrorObjectOwned> {
		let Some(req) = self.request(id)? else { return Ok(Value::Null) };
		let slot = match req.outcome {
			Some(pallet_inference::Outcome { slot: None, output_hash }) => {
				let output: Option<Vec<u8>> =
					self.read(pallet_inference::JuryOutputs::<Runtime>::hashed_key_for(id))?;
				return Ok(json!({
					"output": output.map(|o| hex(&o)),
					"outputHash": hex(output_hash.as_bytes()),
					"by": "jury",
					"receipt": Value::Null,
				}));
			},
			Some(pallet_inference::Outcome { slot: Some(s), .. }) => s,
			None => 0,
		};
		let Some(r) = self.read::<pallet_inference::ResultOf<Runtime>>(
			pallet_inference::Results::<Runtime>::hashed_key_for(id, slot),
		)?
		else {
			return Ok(Value::Null);
		};
		let message =
			pallet_inference::receipt_message(id, &req.model, &req.input_hash, &r.output_hash);
		let address = sp_io::crypto::secp256k1_ecdsa_recover(&r.receipt, &message)
			.ok()
			.map(|key| hex(&sp_io::hashing::keccak_256(&key)[12..]));
		let executor = req.executors.get(slot as usize).map(|a| a.executor.to_string());
		Ok(json!({
			"output": hex(&r.output),
			"outputHash": hex(r.output_hash.as_bytes()),
			"by": r.provider.to_string(),
			"final": matches!(req.status, pallet_inference::RequestStatus::Finalized { .. }),
			"receipt": {
				"signature": hex(&r.receipt),
				"message": hex(&message),
				"signerAddress": address,
				"executor": executor,
			},
		}))
	}

	/// Run a model locally: from the node's store, or from its on-chain chunks.
	fn dry_run(&self, model: H256, input: &[u8]) -> Result<Value, ErrorObjectOwned> {
		if !self.backend.model_available(&model.0) {
			let info = self
				.read::<pallet_models::ModelInfoOf<Runtime>>(
					pallet_models::Models::<Runtime>::hashed_key_for(model),
				)?
				.ok_or_else(|| err("model not in the local store and not registered"))?;
			let mut bytes = Vec::new();
			for i in 0..info.chunk_count {
				let chunk: Vec<u8> = self
					.read(pallet_models::Chunks::<Runtime>::hashed_key_for(model, i))?
					.ok_or_else(|| err("model bytes are not on chain: put the file with verity_putModel"))?;
				bytes.extend_from_slice(&chunk);
			}
			self.backend.put_model(&model.0, &bytes).map_err(|e| err(format!("{e:?}")))?;
		}
		// Loading parses the model on this thread, inside the engine's `catch_unwind`; without
		// the guard the node's panic hook would end the process before the unwind is caught.
		let output = {
			let _unwind = sp_panic_handler::AbortGuard::force_unwind();
			self.backend.run(&model.0, input).map_err(|e| err(format!("{e:?}")))?
		};
		Ok(json!({
			"output": hex(&output),
			"outputHash": hex(&sp_io::hashing::blake2_256(&output)),
		}))
	}
}

/// The `verity_*` methods.
pub fn module(
	client: Arc<FullClient>,
	backend: Arc<verity_host::HostBackend>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>> {
	let ctx = Arc::new(Ctx { client, backend });
	let mut module = RpcModule::new(());
	let c = ctx.clone();
	module.register_method("verity_listModels", move |_, _, _| c.models())?;
	let c = ctx.clone();
	module.register_method("verity_request", move |p: Params, _, _| {
		let (id,): (u64,) = p.parse()?;
		Ok::<_, ErrorObjectOwned>(c.request(id)?.map(|r| {
			json!({
				"status": format!("{:?}", r.status),
				"requester": r.requester.to_string(),
				"model": hex(r.model.as_bytes()),
				"policy": format!("{:?}", r.policy),
				"inputHash": hex(r.input_hash.as_bytes()),
				"held": r.held.to_string(),
				"executors": r.executors.iter().map(|a| json!({
					"provider": a.provider.to_string(),
					"executor": a.executor.to_string(),
				})).collect::<Vec<_>>(),
				"outcome": r.outcome.map(|o| json!({
					"slot": o.slot,
					"outputHash": hex(o.output_hash.as_bytes()),
				})),
			})
		}))
	})?;
	let c = ctx.clone();
	module.register_method("verity_result", move |p: Params, _, _| {
		let (id,): (u64,) = p.parse()?;
		c.result(id)
	})?;
	let c = ctx.clone();
	module.register_blocking_method("verity_dryRun", move |p: Params, _, _| {
		let (model, input): (String, String) = p.parse()?;
		c.dry_run(h256(&model)?, &unhex(&input)?)
	})?;
	let c = ctx;
	module.register_blocking_method("verity_putModel", move |p: Params, _, ext| {
		sc_rpc_api::check_if_safe(&ext)?;
		let (bytes,): (String,) = p.parse()?;
		let bytes = unhex(&bytes)?;
		c.backend
			.store()
			.put(&bytes)
			.map(|h| hex(&h))
			.map_err(|e| err(format!("cannot store the model: {e}")))
	})?;
	Ok(module)
}
