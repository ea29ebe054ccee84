//! The `verity_*` JSON-RPC API: what a dApp or an operator asks a node about inference.
//!
//! One jsonrpsee trait, [`VerityApi`], with serde types for every answer; the server
//! ([`Verity`]) is generic over the client and reads chain state only through the pallets'
//! read API (`#[pallet::view_functions]`, called with the `RuntimeViewFunction` runtime API), so
//! it never decodes a pallet's storage itself. The generated [`VerityApiClient`] is what Rust
//! clients call.
//!
//! | method | params | result |
//! |---|---|---|
//! | `verity_listModels` | `[at]` | [`ModelEntry`] list |
//! | `verity_request` | `id`, `[at]` | [`RequestEntry`] or `null` |
//! | `verity_result` | `id`, `[at]` | [`ResultEntry`] or `null` (nothing posted yet) |
//! | `verity_quote` | `model`, `policy` (`"optimistic"`, `"redundant:K"`), `[at]` | fee in planck, decimal string |
//! | `verity_dryRun` | `model`, `input` (0x canonical tensors) | [`DryRun`]; unsafe RPC only, `Active` models only, one at a time |
//! | `verity_putModel` | `bytes` (0x ONNX file) | the model id (blake2-256); unsafe RPC only |
//!
//! `at` is a block hash (default: the best block). A receipt's `signature` (65 bytes r‖s‖v)
//! is over `message` (`pallet_inference::receipt_message`); `signerAddress` is what
//! `ecrecover(message, v, r, s)` returns on any EVM chain. Errors carry a readable message;
//! nothing here panics on input.

use codec::{Decode, Encode};
use frame_support::view_functions::{runtime_api::RuntimeViewFunction, ViewFunction};
use jsonrpsee::{core::RpcResult, proc_macros::rpc, types::ErrorObjectOwned, Extensions};
use serde::{Deserialize, Serialize};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::{Bytes, H256};
use std::{marker::PhantomData, sync::Arc};
use verity_engine::encode_tensors;
use verity_runtime::Runtime;

/// Error code of every `verity_*` failure.
pub const ERROR_CODE: i32 = 9000;

fn err(msg: impl Into<String>) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(ERROR_CODE, msg.into(), None::<()>)
}

use crate::client::tx::hex;

/// A registered model.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ModelEntry {
	/// The model id: blake2-256 of the ONNX bytes.
	pub id: H256,
	/// Its name.
	pub name: String,
	/// The owner (SS58).
	pub owner: String,
	/// `Pending`, `Active { since: N }`, `Rejected { at: N }` or `Retired { at: N }`.
	pub status: String,
	/// The acceptance rule (`Exact`, `ArgMax`, `TopK(k)`, `Tolerance { abs, rel }`).
	pub acceptance: String,
	/// How nodes compute its outputs: `Native` or `Deterministic`.
	pub execution: String,
	/// Royalty per call, planck (decimal string).
	pub price_per_call: String,
	/// Size of the ONNX file in bytes.
	pub byte_size: u64,
}

/// One assigned executor of a request.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExecutorEntry {
	/// The provider whose stake backs the result (SS58).
	pub provider: String,
	/// Its executor key's account, the only account that may post (SS58).
	pub executor: String,
}

/// The output a finalized request settled on.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeEntry {
	/// The executor slot whose output it is; `null` for a jury's output.
	pub slot: Option<u32>,
	/// blake2-256 of the canonical output.
	pub output_hash: H256,
}

/// A request.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RequestEntry {
	/// `Drawing { at: N }`, `Assigned { deadline: N }`, `Provisional { .. }`, `Disputed`, `Finalized { .. }`,
	/// `Refunded { .. }`.
	pub status: String,
	/// Who pays (SS58).
	pub requester: String,
	/// The model run.
	pub model: H256,
	/// `Optimistic` or `Redundant(K)`.
	pub policy: String,
	/// The canonical input tensors.
	pub input: Bytes,
	/// blake2-256 of the input, part of every receipt.
	pub input_hash: H256,
	/// Amount held from the requester now, planck.
	pub held: String,
	/// The assigned executors, one per slot.
	pub executors: Vec<ExecutorEntry>,
	/// The settled result, once final.
	pub outcome: Option<OutcomeEntry>,
}

/// A receipt with what a verifier needs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptEntry {
	/// 65 bytes, r ‖ s ‖ v.
	pub signature: Bytes,
	/// The signed 32-byte receipt message.
	pub message: H256,
	/// `ecrecover(message, signature)`, lower-case hex; `null` if it does not recover.
	pub signer_address: Option<String>,
	/// The executor account assigned to the slot (SS58).
	pub executor: Option<String>,
}

/// A request's result.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ResultEntry {
	/// The canonical output tensors.
	pub output: Bytes,
	/// blake2-256 of `output`.
	pub output_hash: H256,
	/// The provider whose executor posted it (SS58), or `jury`.
	pub by: String,
	/// Whether the request is finalized on it.
	#[serde(rename = "final")]
	pub settled: bool,
	/// The executor's receipt; `null` for a jury's output.
	pub receipt: Option<ReceiptEntry>,
}

/// A local run's output.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DryRun {
	/// The canonical output tensors.
	pub output: Bytes,
	/// blake2-256 of `output`.
	pub output_hash: H256,
}

/// The `verity_*` methods.
#[rpc(client, server, namespace = "verity")]
pub trait VerityApi<BlockHash> {
	/// The registered models.
	#[method(name = "listModels")]
	fn list_models(&self, at: Option<BlockHash>) -> RpcResult<Vec<ModelEntry>>;

	/// Request `id`; `null` if unknown or pruned.
	#[method(name = "request")]
	fn request_of(&self, id: u64, at: Option<BlockHash>) -> RpcResult<Option<RequestEntry>>;

	/// The result of request `id`; `null` while nothing is posted.
	#[method(name = "result")]
	fn result_of(&self, id: u64, at: Option<BlockHash>) -> RpcResult<Option<ResultEntry>>;

	/// The fee a request for `policy` on `model` holds now, planck.
	#[method(name = "quote")]
	fn quote(&self, model: H256, policy: String, at: Option<BlockHash>) -> RpcResult<String>;

	/// Run `model` on `input` with this node's engine. Unsafe (it costs the node CPU): only on
	/// a node with `--rpc-methods unsafe`, or `auto` on a loopback interface. Only models that
	/// are `Active` at the best block run, one dry run at a time.
	#[method(name = "dryRun", blocking, with_extensions)]
	fn dry_run(&self, model: H256, input: Bytes) -> RpcResult<DryRun>;

	/// Put an ONNX file into this node's model store (unsafe).
	#[method(name = "putModel", blocking, with_extensions)]
	fn put_model(&self, bytes: Bytes) -> RpcResult<H256>;
}

/// Parses `optimistic` or `redundant:K`.
pub fn parse_policy(s: &str) -> Option<pallet_inference::Policy> {
	let s = s.trim().to_ascii_lowercase();
	if s == "optimistic" {
		return Some(pallet_inference::Policy::Optimistic);
	}
	let k = s.strip_prefix("redundant:").or_else(|| s.strip_prefix("redundant("))?;
	k.trim_end_matches(')').parse().ok().map(pallet_inference::Policy::Redundant)
}

/// The `verity_*` server over a client `C` of blocks `B`.
pub struct Verity<C, B> {
	client: Arc<C>,
	backend: Arc<verity_host::HostBackend>,
	/// Held during a dry run: at most one at a time, so dry runs take at most one of the
	/// engine's `max_concurrent_runs` threads (8) and the duties keep the others.
	dry_run_slot: std::sync::Mutex<()>,
	_block: PhantomData<B>,
}

impl<C, B> Verity<C, B> {
	pub fn new(client: Arc<C>, backend: Arc<verity_host::HostBackend>) -> Self {
		Self { client, backend, dry_run_slot: std::sync::Mutex::new(()), _block: PhantomData }
	}
}

impl<C, B> Verity<C, B>
where
	B: sp_runtime::traits::Block<Hash = H256>,
	C: ProvideRuntimeApi<B> + HeaderBackend<B> + Send + Sync + 'static,
	C::Api: RuntimeViewFunction<B>,
{
	/// Call view function `call` at `at` (default: the best block).
	fn view<V: ViewFunction + Encode>(&self, call: V, at: Option<H256>) -> RpcResult<V::ReturnType>
	where
		V::ReturnType: Decode,
	{
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let out = self
			.client
			.runtime_api()
			.execute_view_function(at, V::id(), call.encode())
			.map_err(|e| err(format!("runtime API call failed: {e}")))?
			.map_err(|e| err(format!("the runtime refused the view function: {e:?}")))?;
		V::ReturnType::decode(&mut &out[..])
			.map_err(|_| err("the runtime's answer does not decode with this node's types"))
	}
}

impl<C, B> VerityApiServer<H256> for Verity<C, B>
where
	B: sp_runtime::traits::Block<Hash = H256>,
	C: ProvideRuntimeApi<B> + HeaderBackend<B> + Send + Sync + 'static,
	C::Api: RuntimeViewFunction<B>,
{
	fn list_models(&self, at: Option<H256>) -> RpcResult<Vec<ModelEntry>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let mut out = Vec::new();
		let mut after = None;
		loop {
			let page = self.view(
				pallet_models::ModelsViewFunction::<Runtime>::new(
					after,
					pallet_models::MAX_MODELS_PAGE,
				),
				Some(at),
			)?;
			let full = page.len() as u32 == pallet_models::MAX_MODELS_PAGE;
			after = page.last().map(|m| m.id);
			out.extend(page.into_iter().map(|m| ModelEntry {
				id: m.id,
				name: String::from_utf8_lossy(&m.name).into_owned(),
				owner: m.owner.to_string(),
				status: format!("{:?}", m.status),
				acceptance: format!("{:?}", m.acceptance),
				execution: format!("{:?}", m.execution),
				price_per_call: m.price_per_call.to_string(),
				byte_size: m.byte_size,
			}));
			if !full {
				return Ok(out);
			}
		}
	}

	fn request_of(&self, id: u64, at: Option<H256>) -> RpcResult<Option<RequestEntry>> {
		let Some(r) =
			self.view(pallet_inference::RequestInfoViewFunction::<Runtime>::new(id), at)?
		else {
			return Ok(None);
		};
		Ok(Some(RequestEntry {
			status: format!("{:?}", r.status),
			requester: r.requester.to_string(),
			model: r.model,
			policy: format!("{:?}", r.policy),
			input: encode_tensors(&r.input).into(),
			input_hash: r.input_hash,
			held: r.held.to_string(),
			executors: r
				.executors
				.iter()
				.map(|a| ExecutorEntry {
					provider: a.provider.to_string(),
					executor: a.executor.to_string(),
				})
				.collect(),
			outcome: r.outcome.map(|o| OutcomeEntry { slot: o.slot, output_hash: o.output_hash }),
		}))
	}

	fn result_of(&self, id: u64, at: Option<H256>) -> RpcResult<Option<ResultEntry>> {
		let Some(r) =
			self.view(pallet_inference::ResultInfoViewFunction::<Runtime>::new(id), at)?
		else {
			return Ok(None);
		};
		Ok(Some(ResultEntry {
			output: encode_tensors(&r.output).into(),
			output_hash: r.output_hash,
			by: r.provider.map_or_else(|| "jury".to_string(), |p| p.to_string()),
			settled: r.settled,
			receipt: r.receipt.map(|c| ReceiptEntry {
				signature: c.signature.to_vec().into(),
				message: H256(c.message),
				signer_address: c.signer_address.map(|a| hex(&a)),
				executor: c.executor.map(|e| e.to_string()),
			}),
		}))
	}

	fn quote(&self, model: H256, policy: String, at: Option<H256>) -> RpcResult<String> {
		let policy = parse_policy(&policy)
			.ok_or_else(|| err(format!("policy `{policy}`: expected optimistic or redundant:K")))?;
		match self.view(pallet_inference::QuoteViewFunction::<Runtime>::new(model, policy), at)? {
			Ok(fee) => Ok(fee.to_string()),
			Err(e) => Err(err(format!("Inference::{}", <&'static str>::from(e)))),
		}
	}

	fn dry_run(&self, ext: &Extensions, model: H256, input: Bytes) -> RpcResult<DryRun> {
		sc_rpc_api::check_if_safe(ext)?;
		// Only what the chain certified: a model that is pending, rejected, retired or not
		// registered (but put into the store) is not something duties would ever run.
		let status = self
			.view(pallet_models::ModelInfoViewFunction::<Runtime>::new(model), None)?
			.map(|m| m.status);
		match status {
			Some(pallet_models::ModelStatus::Active { .. }) => {},
			None => return Err(err(format!("model {model:?} is not registered on chain"))),
			Some(status) => {
				return Err(err(format!(
					"model {model:?} is not active on chain ({status:?}): only attested models \
					 run"
				)))
			},
		}
		let _slot = match self.dry_run_slot.try_lock() {
			Ok(slot) => slot,
			Err(std::sync::TryLockError::Poisoned(slot)) => slot.into_inner(),
			Err(std::sync::TryLockError::WouldBlock) => {
				return Err(err("another dry run is in progress on this node: try again"))
			},
		};
		if !self.backend.model_available(&model.0) {
			self.fetch_on_chain_model(model)?;
		}
		// Loading parses the model on this thread, inside the engine's `catch_unwind`; without
		// the guard the node's panic hook would end the process before the unwind is caught.
		let output = {
			let _unwind = sp_panic_handler::AbortGuard::force_unwind();
			self.backend.run(&model.0, &input).map_err(|e| err(format!("{e:?}")))?
		};
		Ok(DryRun { output_hash: H256(sp_io::hashing::blake2_256(&output)), output: output.into() })
	}

	fn put_model(&self, ext: &Extensions, bytes: Bytes) -> RpcResult<H256> {
		sc_rpc_api::check_if_safe(ext)?;
		self.backend
			.store()
			.put(&bytes)
			.map(H256)
			.map_err(|e| err(format!("cannot store the model: {e}")))
	}
}

impl<C, B> Verity<C, B>
where
	B: sp_runtime::traits::Block<Hash = H256>,
	C: ProvideRuntimeApi<B> + HeaderBackend<B> + Send + Sync + 'static,
	C::Api: RuntimeViewFunction<B>,
{
	/// Put an on-chain model's bytes (pallet-models' `model_bytes`) into the node's store.
	fn fetch_on_chain_model(&self, model: H256) -> RpcResult<()> {
		let bytes = self
			.view(pallet_models::ModelBytesViewFunction::<Runtime>::new(model), None)?
			.ok_or_else(|| {
				err("model not in the local store, and its bytes are not on chain: put the file \
				     with verity_putModel")
			})?;
		self.backend.put_model(&model.0, &bytes).map_err(|e| err(format!("{e:?}")))
	}
}
