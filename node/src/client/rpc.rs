//! The client's connection to a node: typed storage reads, events, and transactions followed
//! to their outcome, every failure turned into one readable line.

use super::{tx, vrt, Error, Result, Signer};
use codec::{Decode, Encode};
use frame_support::view_functions::ViewFunction;
use jsonrpsee::{
	core::{client::ClientT, params::ArrayParams, ClientError},
	http_client::{HttpClient, HttpClientBuilder},
	rpc_params,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use sp_core::H256;
use sp_runtime::DispatchError;
use std::time::{Duration, Instant};
use verity_runtime::{
	AccountId, Balance, Nonce, Runtime, RuntimeCall, RuntimeEvent, UncheckedExtrinsic,
};

/// How often chain state is polled while waiting (a block is 6 s).
const POLL: Duration = Duration::from_millis(500);

/// A connected node.
pub struct Rpc {
	client: HttpClient,
	url: String,
	pub chain: tx::Chain,
	/// When waits give up.
	deadline: Instant,
	timeout: Duration,
}

/// A transaction in a block, with the events it emitted.
pub struct Included {
	pub number: u32,
	pub events: Vec<RuntimeEvent>,
}

/// A submitted transaction not yet seen in a block.
pub struct Pending {
	what: String,
	xt: UncheckedExtrinsic,
	hex: String,
	/// Best block when it was submitted: it can only be in a later one.
	after: u32,
}

impl Rpc {
	/// Connects to `url` (`http(s)://` or `ws(s)://`: a Substrate node serves both on one
	/// port, the client speaks HTTP) and checks that the node runs the runtime this client
	/// was built with. Waits give up `timeout` after this call.
	pub async fn connect(url: &str, timeout: Duration) -> Result<Rpc> {
		let http = if let Some(rest) = url.strip_prefix("ws://") {
			format!("http://{rest}")
		} else if let Some(rest) = url.strip_prefix("wss://") {
			format!("https://{rest}")
		} else if url.starts_with("http://") || url.starts_with("https://") {
			url.to_string()
		} else {
			return Err(Error::new(format!(
				"--url {url}: expected an http://, https://, ws:// or wss:// URL"
			)));
		};
		let client = HttpClientBuilder::default()
			.request_timeout(Duration::from_secs(30))
			.max_request_size(32 << 20)
			.max_response_size(64 << 20)
			.build(&http)
			.map_err(|e| Error::new(format!("--url {url}: {e}")))?;
		let mut rpc = Rpc {
			client,
			url: url.to_string(),
			chain: tx::Chain {
				spec_name: String::new(),
				spec_version: 0,
				transaction_version: 0,
				genesis: H256::zero(),
			},
			deadline: Instant::now() + timeout,
			timeout,
		};
		rpc.chain = tx::Chain::fetch(&rpc.client)
			.await
			.map_err(|e| rpc.rpc_error("state_getRuntimeVersion", e))?;
		let ours = &verity_runtime::VERSION;
		if rpc.chain.spec_name != ours.spec_name {
			return Err(Error::new(format!(
				"the node at {url} runs runtime `{}`, not `{}`: this client only speaks to Verity chains",
				rpc.chain.spec_name, ours.spec_name
			)));
		}
		if rpc.chain.transaction_version != ours.transaction_version {
			return Err(Error::new(format!(
				"the node at {url} runs transaction version {}, this client was built for {}: \
				 use a client built from the node's release",
				rpc.chain.transaction_version, ours.transaction_version
			)));
		}
		if rpc.chain.spec_version != ours.spec_version {
			eprintln!(
				"warning: the node runs runtime version {}, this client was built for {}; storage \
				 layouts may differ",
				rpc.chain.spec_version, ours.spec_version
			);
		}
		Ok(rpc)
	}

	/// One line for a failed RPC call.
	fn rpc_error(&self, method: &str, e: ClientError) -> Error {
		match e {
			ClientError::Transport(e) => {
				let mut cause = e.to_string();
				let mut source = std::error::Error::source(&*e);
				while let Some(s) = source {
					cause = s.to_string();
					source = s.source();
				}
				Error::new(format!("cannot reach the node at {}: {cause}", self.url))
			},
			ClientError::RequestTimeout => {
				Error::new(format!("the node at {} did not answer {method} within 30 s", self.url))
			},
			ClientError::Call(obj) => {
				let data = obj
					.data()
					.map(|d| format!(": {}", d.get().trim_matches('"')))
					.unwrap_or_default();
				Error::new(format!("the node refused {method}: {}{data}", obj.message()))
			},
			e => Error::new(format!("{method} on {}: {e}", self.url)),
		}
	}

	/// Calls `method`.
	pub async fn call<T: DeserializeOwned>(&self, method: &str, params: ArrayParams) -> Result<T> {
		self.client.request(method, params).await.map_err(|e| self.rpc_error(method, e))
	}

	/// The storage value at `key` (best block, or `at`).
	pub async fn storage<T: Decode>(&self, key: Vec<u8>, at: Option<H256>) -> Result<Option<T>> {
		let key = tx::hex(&key);
		let raw: Option<String> = match at {
			Some(at) => self.call("state_getStorage", rpc_params![key, at]).await?,
			None => self.call("state_getStorage", rpc_params![key]).await?,
		};
		let Some(raw) = raw else { return Ok(None) };
		let bytes = tx::unhex(&raw)
			.ok_or_else(|| Error::new("the node returned storage that is not hex"))?;
		T::decode(&mut &bytes[..]).map(Some).map_err(|_| {
			Error::new(format!(
				"chain state does not decode with this client's types (runtime {} v{}): rebuild \
				 the client from the node's release",
				self.chain.spec_name, self.chain.spec_version
			))
		})
	}

	/// Calls view function `call` of a pallet's read API at `at` (default: the best block).
	pub async fn view<V: ViewFunction + Encode>(
		&self,
		call: V,
		at: Option<H256>,
	) -> Result<V::ReturnType>
	where
		V::ReturnType: Decode,
	{
		let params = super::view::encode_call(&call);
		let raw: String = match at {
			Some(at) => self.call("state_call", rpc_params![super::view::API, params, at]).await?,
			None => self.call("state_call", rpc_params![super::view::API, params]).await?,
		};
		super::view::decode_result::<V>(&raw).map_err(|e| {
			Error::new(format!(
				"{e} (runtime {} v{}): rebuild the client from the node's release",
				self.chain.spec_name, self.chain.spec_version
			))
		})
	}

	/// Request `id` (`verity_request`).
	pub async fn verity_request(
		&self,
		id: u64,
	) -> Result<Option<crate::rpc::verity::RequestEntry>> {
		use crate::rpc::verity::VerityApiClient;
		<HttpClient as VerityApiClient<H256>>::request_of(&self.client, id, None)
			.await
			.map_err(|e| self.rpc_error("verity_request", e))
	}

	/// The result of request `id` (`verity_result`).
	pub async fn verity_result(&self, id: u64) -> Result<Option<crate::rpc::verity::ResultEntry>> {
		use crate::rpc::verity::VerityApiClient;
		<HttpClient as VerityApiClient<H256>>::result_of(&self.client, id, None)
			.await
			.map_err(|e| self.rpc_error("verity_result", e))
	}

	/// The registered models (`verity_listModels`).
	pub async fn models(&self) -> Result<Vec<crate::rpc::verity::ModelEntry>> {
		use crate::rpc::verity::VerityApiClient;
		<HttpClient as VerityApiClient<H256>>::list_models(&self.client, None)
			.await
			.map_err(|e| self.rpc_error("verity_listModels", e))
	}

	pub async fn best_number(&self) -> Result<u32> {
		let header: Value = self.call("chain_getHeader", rpc_params![]).await?;
		header["number"]
			.as_str()
			.and_then(|n| u32::from_str_radix(n.trim_start_matches("0x"), 16).ok())
			.ok_or_else(|| Error::new("the node returned a header without a number"))
	}

	pub async fn block_hash(&self, number: u32) -> Result<Option<H256>> {
		let hash: Option<String> = self.call("chain_getBlockHash", rpc_params![number]).await?;
		Ok(hash.and_then(|h| tx::unhex(&h)).filter(|b| b.len() == 32).map(|b| H256::from_slice(&b)))
	}

	/// The event records of block `at`.
	pub async fn events(
		&self,
		at: H256,
	) -> Result<Vec<frame_system::EventRecord<RuntimeEvent, H256>>> {
		// `frame_system::Events` is private to its crate; its key is the plain storage prefix.
		let key = frame_support::storage::storage_prefix(b"System", b"Events").to_vec();
		Ok(self.storage(key, Some(at)).await?.unwrap_or_default())
	}

	/// Balances of `who`.
	pub async fn account(&self, who: &AccountId) -> Result<pallet_balances::AccountData<Balance>> {
		let key = frame_system::Account::<Runtime>::hashed_key_for(who);
		let info: Option<frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>>> =
			self.storage(key, None).await?;
		Ok(info.unwrap_or_default().data)
	}

	/// Sleeps before the next poll; fails with `what` once the client's timeout has passed.
	pub async fn tick(&self, what: &str) -> Result<()> {
		if Instant::now() >= self.deadline {
			return Err(Error::new(format!(
				"timed out after {} s waiting for {what} (raise --timeout to wait longer)",
				self.timeout.as_secs()
			)));
		}
		tokio::time::sleep(POLL).await;
		Ok(())
	}

	/// Signs `call` as `signer` and hands it to the node's pool. `what` names it in messages.
	pub async fn send(&self, signer: &Signer, call: RuntimeCall, what: &str) -> Result<Pending> {
		let after = self.best_number().await?;
		let nonce = tx::next_nonce(&self.client, &signer.account)
			.await
			.map_err(|e| self.rpc_error("system_accountNextIndex", e))?;
		let xt = self.chain.sign(&signer.pair, call, nonce);
		if let Err(e) = tx::submit(&self.client, &xt).await {
			return Err(self.pool_error(signer, what, e).await);
		}
		let hex = tx::hex(&xt.encode());
		Ok(Pending { what: what.to_string(), xt, hex, after })
	}

	/// Why the pool refused a transaction, in words.
	async fn pool_error(&self, signer: &Signer, what: &str, e: ClientError) -> Error {
		let ClientError::Call(obj) = &e else { return self.rpc_error("author_submitExtrinsic", e) };
		let data = obj.data().map(|d| d.get().trim_matches('"').to_string()).unwrap_or_default();
		let who = &signer.account;
		if data.contains("Inability to pay some fees") {
			let free = self.account(who).await.map(|a| vrt(a.free)).unwrap_or_else(|_| "?".into());
			return Error::new(format!(
				"cannot pay fees: account {who} ({}) has {free} free, not enough for the \
				 transaction fee of {what}; fund it first",
				signer.suri
			));
		}
		let detail = if data.is_empty() {
			obj.message().to_string()
		} else {
			format!("{}: {data}", obj.message())
		};
		let hint = match obj.code() {
			1010 if data.contains("outdated") || data.contains("stale") => {
				" (the nonce was used: another transaction of this account got in first; retry)"
			},
			1010 if data.contains("bad signature") || data.contains("BadProof") => {
				" (the signature does not verify: is the client built for this chain?)"
			},
			1012 => " (the same transaction was refused recently; wait a minute)",
			1013 => " (this exact transaction is already in the pool)",
			1014 => " (a transaction with the same nonce is already in the pool)",
			_ => "",
		};
		Error::new(format!("the node's pool refused {what} from {who}: {detail}{hint}"))
	}

	/// Waits until `pending` is in a block and returns its events; a dispatch error becomes an
	/// error naming the pallet and error.
	pub async fn wait(&self, pending: Pending) -> Result<Included> {
		let Pending { what, xt, hex, after } = pending;
		let mut next = after + 1;
		// The hashes of the blocks scanned so far (`after + 1..next`): BABE's secondary slots
		// make short forks, and a block scanned by number may be retracted for a sibling that
		// includes the transaction; the scan then goes back to where the chains meet.
		let mut scanned: Vec<H256> = Vec::new();
		let mut missing_from_pool = 0;
		loop {
			while let Some(&last) = scanned.last() {
				if self.block_hash(next - 1).await? == Some(last) {
					break;
				}
				scanned.pop();
				next -= 1;
			}
			let best = self.best_number().await?;
			while next <= best {
				let Some(hash) = self.block_hash(next).await? else { break };
				let block: Value = self.call("chain_getBlock", rpc_params![hash]).await?;
				let index = block["block"]["extrinsics"]
					.as_array()
					.and_then(|xts| xts.iter().position(|x| x.as_str() == Some(hex.as_str())));
				if let Some(index) = index {
					return self.outcome(&what, next, hash, index as u32).await;
				}
				scanned.push(hash);
				next += 1;
			}
			// A transaction that left the pool without reaching a block was dropped (its nonce
			// was taken, or it became invalid): say so rather than wait for the timeout.
			// A node that does not answer this (the method may be restricted) is not checked.
			let pool: Option<Vec<String>> =
				self.call("author_pendingExtrinsics", rpc_params![]).await.ok();
			if pool.is_none_or(|pool| pool.contains(&hex)) {
				missing_from_pool = 0;
			} else {
				missing_from_pool += 1;
				if missing_from_pool >= 6 {
					return Err(Error::new(format!(
						"{what} (0x{}) left the node's pool without being included in a block \
						 (its nonce was used by another transaction, or it became invalid)",
						sp_core::hexdisplay::HexDisplay::from(&sp_io::hashing::blake2_256(
							&xt.encode()
						))
					)));
				}
			}
			self.tick(&format!("{what} to be included in a block")).await?;
		}
	}

	/// Sends `call` and waits for its block.
	pub async fn execute(
		&self,
		signer: &Signer,
		call: RuntimeCall,
		what: &str,
	) -> Result<Included> {
		let pending = self.send(signer, call, what).await?;
		self.wait(pending).await
	}

	async fn outcome(&self, what: &str, number: u32, hash: H256, index: u32) -> Result<Included> {
		let mut events = Vec::new();
		for record in self.events(hash).await? {
			if record.phase != frame_system::Phase::ApplyExtrinsic(index) {
				continue;
			}
			if let RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error,
				..
			}) = &record.event
			{
				return Err(Error::new(format!(
					"{what} failed in block #{number}: {}",
					describe_dispatch_error(dispatch_error)
				)));
			}
			events.push(record.event);
		}
		Ok(Included { number, events })
	}
}

/// A dispatch error in words: module errors as `Pallet::Error: doc`, from the runtime's type
/// information (the same data as its metadata).
pub fn describe_dispatch_error(e: &DispatchError) -> String {
	use sp_runtime::TokenError::*;
	match e {
		DispatchError::Module(m) => {
			describe_module_error(m.index, m.error[0]).unwrap_or_else(|| {
				format!("module error {}/{} (unknown to this client)", m.index, m.error[0])
			})
		},
		DispatchError::Token(t) => {
			let why = match t {
				FundsUnavailable => "the account has not enough free balance for this",
				OnlyProvider | NotExpendable =>
					"the account would fall below the existential deposit (0.001 VRT); keep some free balance",
				BelowMinimum => "the amount is below the existential deposit (0.001 VRT)",
				Frozen => "the funds are frozen",
				_ => "the balance cannot be moved",
			};
			format!("Token::{t:?}: {why}")
		},
		DispatchError::BadOrigin => "BadOrigin: this account may not make this call".into(),
		DispatchError::Arithmetic(a) => {
			format!("Arithmetic::{a:?}: an amount over- or underflowed")
		},
		DispatchError::Other(s) => format!("Other: {s}"),
		e => format!("{e:?}"),
	}
}

/// `Pallet::Error: doc` of error `error` of the pallet at `pallet_index`.
fn describe_module_error(pallet_index: u8, error: u8) -> Option<String> {
	use scale_info::{TypeDef, TypeInfo};
	let TypeDef::Variant(pallets) = verity_runtime::RuntimeError::type_info().type_def else {
		return None;
	};
	let pallet = pallets.variants.into_iter().find(|v| v.index == pallet_index)?;
	let TypeDef::Variant(errors) = pallet.fields.first()?.ty.type_info().type_def else {
		return None;
	};
	let variant = errors.variants.into_iter().find(|v| v.index == error)?;
	let doc = variant.docs.join(" ");
	let doc = doc.trim();
	Some(if doc.is_empty() {
		format!("{}::{}", pallet.name, variant.name)
	} else {
		format!("{}::{}: {doc}", pallet.name, variant.name)
	})
}
