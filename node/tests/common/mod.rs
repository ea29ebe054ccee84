//! Harness for end-to-end tests: spawns the real `verity-node` binary on loopback with free
//! ports and its own base path, talks to it over JSON-RPC, and kills it when dropped.
#![allow(dead_code)]

use codec::{Decode, Encode};
use jsonrpsee::{
	core::{client::ClientT, params::ArrayParams},
	http_client::{HttpClient, HttpClientBuilder},
	rpc_params,
};
use serde_json::Value;
use sp_core::{sr25519, H256};
use std::{
	fs,
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};
use verity_runtime::{
	AccountId, Balance, BalancesCall, Nonce, Runtime, RuntimeCall, RuntimeEvent, UncheckedExtrinsic,
};

/// Signing and submission, shared with the node's `client` subcommand.
pub use verity_node::client::tx;

/// Path of the binary Cargo built for this test run.
pub const NODE_BIN: &str = env!("CARGO_BIN_EXE_verity-node");

/// `rel` under the repository root of the checkout being tested. Read from the environment
/// cargo sets when it runs the test, not baked in at compile time: test binaries in the shared
/// target directory can be reused by another checkout of the same sources (a CI clone), whose
/// path no longer exists afterwards.
pub fn repo_path(rel: &str) -> PathBuf {
	let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
		.map(PathBuf::from)
		.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
	manifest.join("..").join(rel)
}

/// A free TCP port on 127.0.0.1 (bound then released; the node binds it right after).
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A scratch directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
	pub fn new(name: &str) -> Self {
		let nanos = std::time::SystemTime::now()
			.duration_since(std::time::UNIX_EPOCH)
			.unwrap()
			.subsec_nanos();
		let dir =
			std::env::temp_dir().join(format!("verity-e2e-{}-{name}-{nanos}", std::process::id()));
		fs::create_dir_all(&dir).unwrap();
		Self(dir)
	}
}

impl Drop for TempDir {
	fn drop(&mut self) {
		let _ = fs::remove_dir_all(&self.0);
	}
}

/// A running node.
pub struct Node {
	pub name: String,
	child: Option<Child>,
	pub rpc_port: u16,
	pub p2p_port: u16,
	pub base_path: PathBuf,
	pub log_path: PathBuf,
	args: Vec<String>,
	client: HttpClient,
}

impl Node {
	/// Starts `verity-node` with `args` plus base path, ports and quiet logging.
	pub fn spawn(name: &str, base_path: &Path, args: &[&str]) -> Node {
		let rpc_port = free_port();
		let p2p_port = free_port();
		let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
		let client = HttpClientBuilder::default()
			.request_timeout(Duration::from_secs(20))
			.build(format!("http://127.0.0.1:{rpc_port}"))
			.unwrap();
		let mut node = Node {
			name: name.to_string(),
			child: None,
			rpc_port,
			p2p_port,
			base_path: base_path.to_path_buf(),
			log_path: base_path.join(format!("{name}.log")),
			args,
			client,
		};
		node.start();
		node
	}

	fn start(&mut self) {
		fs::create_dir_all(&self.base_path).unwrap();
		let log = fs::OpenOptions::new().create(true).append(true).open(&self.log_path).unwrap();
		let child = Command::new(NODE_BIN)
			.args(&self.args)
			.arg("--base-path")
			.arg(&self.base_path)
			.arg("--rpc-port")
			.arg(self.rpc_port.to_string())
			// Prometheus only where a test asks for it (`--prometheus-port`).
			.args(if self.args.iter().any(|a| a == "--prometheus-port") {
				&[][..]
			} else {
				&["--no-prometheus"][..]
			})
			.args(["--no-telemetry", "--no-mdns", "--listen-addr"])
			.arg(format!("/ip4/127.0.0.1/tcp/{}", self.p2p_port))
			// Unsafe methods (`verity_putModel`, `verity_dryRun`) unless a test chooses.
			.args(if self.args.iter().any(|a| a == "--rpc-methods") {
				&["--rpc-cors", "all"][..]
			} else {
				&["--rpc-methods", "unsafe", "--rpc-cors", "all"][..]
			})
			.stdout(Stdio::null())
			.stderr(log)
			.spawn()
			.unwrap_or_else(|e| panic!("spawn {NODE_BIN}: {e}"));
		self.child = Some(child);
	}

	/// Kills the process (SIGKILL: an abrupt stop, as a crashed validator).
	pub fn stop(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}

	/// Starts the process again with the same base path, ports and arguments.
	pub fn restart(&mut self) {
		self.stop();
		self.start();
	}

	pub fn is_running(&mut self) -> bool {
		matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
	}

	/// The tail of this node's log, for failure messages.
	pub fn log_tail(&self) -> String {
		let log = fs::read_to_string(&self.log_path).unwrap_or_default();
		let lines: Vec<&str> = log.lines().collect();
		lines[lines.len().saturating_sub(40)..].join("\n")
	}

	pub async fn rpc(&self, method: &str, params: ArrayParams) -> Result<Value, String> {
		self.client.request::<Value, _>(method, params).await.map_err(|e| e.to_string())
	}

	/// Waits until the node answers RPC.
	pub async fn wait_ready(&mut self, timeout: Duration) {
		let deadline = Instant::now() + timeout;
		loop {
			if self.rpc("system_health", rpc_params![]).await.is_ok() {
				return;
			}
			assert!(self.is_running(), "{} exited during start:\n{}", self.name, self.log_tail());
			assert!(Instant::now() < deadline, "{} not ready:\n{}", self.name, self.log_tail());
			tokio::time::sleep(Duration::from_millis(250)).await;
		}
	}

	pub async fn peer_id(&self) -> String {
		self.rpc("system_localPeerId", rpc_params![]).await.unwrap().as_str().unwrap().to_string()
	}

	/// The multiaddress other nodes use to reach this one.
	pub async fn multiaddr(&self) -> String {
		format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", self.p2p_port, self.peer_id().await)
	}

	pub async fn best_number(&self) -> u32 {
		let header = self.rpc("chain_getHeader", rpc_params![]).await.unwrap();
		hex_number(&header["number"])
	}

	pub async fn finalized_hash(&self) -> H256 {
		let hash = self.rpc("chain_getFinalizedHead", rpc_params![]).await.unwrap();
		parse_h256(&hash)
	}

	pub async fn finalized_number(&self) -> u32 {
		let hash = self.finalized_hash().await;
		self.number_of(hash).await
	}

	pub async fn number_of(&self, hash: H256) -> u32 {
		let header = self.rpc("chain_getHeader", rpc_params![hash]).await.unwrap();
		hex_number(&header["number"])
	}

	pub async fn block_hash(&self, number: u32) -> Option<H256> {
		let v = self.rpc("chain_getBlockHash", rpc_params![number]).await.unwrap();
		(!v.is_null()).then(|| parse_h256(&v))
	}

	/// The hash of block `number` once it is finalized, `None` before. Walkers over the chain
	/// read finalized blocks only: BABE's secondary slots make short forks, and a best block
	/// read by number can be retracted after the walk passed it (a transaction in the retracted
	/// block is included again in a later one, which the walk would never look at).
	pub async fn finalized_block_hash(&self, number: u32) -> Option<H256> {
		if number > self.finalized_number().await {
			return None;
		}
		self.block_hash(number).await
	}

	/// The BABE authority index of the author of block `number`, from its pre-runtime digest.
	pub async fn babe_author(&self, number: u32) -> u32 {
		let hash = self.block_hash(number).await.expect("block exists");
		let header = self.rpc("chain_getHeader", rpc_params![hash]).await.unwrap();
		header["digest"]["logs"]
			.as_array()
			.expect("digest logs")
			.iter()
			.find_map(|log| {
				let bytes = unhex(log.as_str()?);
				let item = sp_runtime::generic::DigestItem::decode(&mut &bytes[..]).ok()?;
				let (engine, data) = item.as_pre_runtime()?;
				(engine == sp_consensus_babe::BABE_ENGINE_ID)
					.then(|| sp_consensus_babe::digests::PreDigest::decode(&mut &data[..]).ok())
					.flatten()
			})
			.expect("every block has a BABE pre-digest")
			.authority_index()
	}

	/// Waits until the finalized head reaches `target`; returns the number reached.
	pub async fn wait_finalized(&mut self, target: u32, timeout: Duration) -> u32 {
		let deadline = Instant::now() + timeout;
		loop {
			if let Ok(hash) = self.rpc("chain_getFinalizedHead", rpc_params![]).await {
				let n = self.number_of(parse_h256(&hash)).await;
				if n >= target {
					return n;
				}
			}
			assert!(self.is_running(), "{} exited:\n{}", self.name, self.log_tail());
			assert!(
				Instant::now() < deadline,
				"{}: finalized head did not reach #{target} in {timeout:?}:\n{}",
				self.name,
				self.log_tail()
			);
			tokio::time::sleep(Duration::from_millis(500)).await;
		}
	}

	/// Reads and decodes a storage value at `at` (best block when `None`).
	pub async fn storage<T: Decode>(&self, key: &[u8], at: Option<H256>) -> Option<T> {
		let key = hex(key);
		let v = match at {
			Some(at) => self.rpc("state_getStorage", rpc_params![key, at]).await.unwrap(),
			None => self.rpc("state_getStorage", rpc_params![key]).await.unwrap(),
		};
		let bytes = unhex(v.as_str()?);
		Some(T::decode(&mut &bytes[..]).expect("storage decodes"))
	}

	/// Calls view function `call` of a pallet's read API at `at` (best block when `None`).
	pub async fn view<V>(&self, call: V, at: Option<H256>) -> V::ReturnType
	where
		V: frame_support::view_functions::ViewFunction + Encode,
		V::ReturnType: Decode,
	{
		use verity_node::client::view;
		let params = view::encode_call(&call);
		let v = match at {
			Some(at) => self.rpc("state_call", rpc_params![view::API, params, at]).await.unwrap(),
			None => self.rpc("state_call", rpc_params![view::API, params]).await.unwrap(),
		};
		view::decode_result::<V>(v.as_str().expect("state_call returns hex")).unwrap()
	}

	/// Request `id` through pallet-inference's read API.
	pub async fn request_info(
		&self,
		id: u64,
		at: Option<H256>,
	) -> Option<pallet_inference::RequestViewOf<Runtime>> {
		self.view(pallet_inference::RequestInfoViewFunction::<Runtime>::new(id), at).await
	}

	/// The result of request `id` through pallet-inference's read API.
	pub async fn result_info(
		&self,
		id: u64,
		at: Option<H256>,
	) -> Option<pallet_inference::ResultView<AccountId>> {
		self.view(pallet_inference::ResultInfoViewFunction::<Runtime>::new(id), at).await
	}

	pub async fn account(
		&self,
		who: &AccountId,
		at: Option<H256>,
	) -> frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>> {
		let key = frame_system::Account::<Runtime>::hashed_key_for(who);
		self.storage(&key, at).await.unwrap_or_default()
	}

	pub async fn events(&self, at: H256) -> Vec<RuntimeEvent> {
		// `frame_system::Events` is private to its crate; its key is the plain storage prefix.
		let key = frame_support::storage::storage_prefix(b"System", b"Events").to_vec();
		let records: Vec<frame_system::EventRecord<RuntimeEvent, H256>> =
			self.storage(&key, Some(at)).await.unwrap_or_default();
		records.into_iter().map(|r| r.event).collect()
	}

	/// Signs `call` as `signer` (immortal era, no tip) against this node's chain, with the
	/// client's signing code.
	pub async fn sign(&self, signer: &sr25519::Pair, call: RuntimeCall) -> UncheckedExtrinsic {
		tx::sign(&self.client, signer, call)
			.await
			.expect("runtime version, genesis and nonce over RPC")
	}

	/// Submits an extrinsic; returns its hash.
	pub async fn submit(&self, xt: &UncheckedExtrinsic) -> Result<H256, String> {
		let hex_xt = hex(&xt.encode());
		let v = self.rpc("author_submitExtrinsic", rpc_params![hex_xt]).await?;
		Ok(parse_h256(&v))
	}

	/// Waits for a finalized block (from `from` on) that includes `xt`; returns its hash and
	/// number.
	pub async fn wait_included(
		&mut self,
		xt: &UncheckedExtrinsic,
		from: u32,
		timeout: Duration,
	) -> (H256, u32) {
		let wanted = hex(&xt.encode());
		let deadline = Instant::now() + timeout;
		let mut next = from;
		loop {
			while let Some(hash) = self.finalized_block_hash(next).await {
				let block = self.rpc("chain_getBlock", rpc_params![hash]).await.unwrap();
				let included = block["block"]["extrinsics"]
					.as_array()
					.unwrap()
					.iter()
					.any(|x| x.as_str() == Some(wanted.as_str()));
				if included {
					return (hash, next);
				}
				next += 1;
			}
			assert!(
				Instant::now() < deadline,
				"{}: extrinsic not included:\n{}",
				self.name,
				self.log_tail()
			);
			tokio::time::sleep(Duration::from_millis(500)).await;
		}
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		self.stop();
	}
}

/// A transfer call of `value` to `dest`.
pub fn transfer(dest: &AccountId, value: Balance) -> RuntimeCall {
	RuntimeCall::Balances(BalancesCall::transfer_keep_alive { dest: dest.clone().into(), value })
}

/// `0x`-prefixed lower-case hex (the client's).
pub use verity_node::client::tx::hex;

/// Bytes of a hex string; panics on anything else.
pub fn unhex(s: &str) -> Vec<u8> {
	tx::unhex(s).unwrap_or_else(|| panic!("not hex: {s}"))
}

pub fn parse_h256(v: &Value) -> H256 {
	H256::from_slice(&unhex(v.as_str().expect("hash is a string")))
}

fn hex_number(v: &Value) -> u32 {
	u32::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// Runs the binary to completion with `args`; returns (exit code, stderr).
pub fn run_to_exit(args: &[&str], timeout: Duration) -> (Option<i32>, String) {
	let dir = TempDir::new("run");
	let err_path = dir.0.join("stderr");
	let mut child = Command::new(NODE_BIN)
		.args(args)
		.stdout(Stdio::null())
		.stderr(fs::File::create(&err_path).unwrap())
		.spawn()
		.unwrap();
	let deadline = Instant::now() + timeout;
	let status = loop {
		if let Some(status) = child.try_wait().unwrap() {
			break status;
		}
		if Instant::now() > deadline {
			let _ = child.kill();
			let _ = child.wait();
			panic!("verity-node {args:?} did not exit within {timeout:?}");
		}
		std::thread::sleep(Duration::from_millis(100));
	};
	(status.code(), fs::read_to_string(&err_path).unwrap())
}

/// `Inference::request` for the demo model with `input`, paying at most 1 VRT.
pub fn request_call(input: Vec<u8>, policy: pallet_inference::Policy) -> RuntimeCall {
	RuntimeCall::Inference(pallet_inference::Call::request {
		model: verity_runtime::genesis_config_presets::demo_model::ID,
		input: frame_support::BoundedVec::truncate_from(input),
		max_fee: verity_runtime::UNIT,
		policy,
	})
}

/// The storage deposit a request of `k` executors with `input_len` bytes of input holds until
/// it is pruned (a day after it ends): pallet-inference's `deposit_for` with the runtime's
/// constants.
#[allow(dead_code)]
pub fn request_deposit(input_len: usize, k: u32) -> verity_runtime::Balance {
	use verity_runtime::configs::verity::{RequestDepositBase, RequestDepositPerByte, MAX_IO_SIZE};
	let bytes = input_len as verity_runtime::Balance
		+ k as verity_runtime::Balance * MAX_IO_SIZE as verity_runtime::Balance;
	RequestDepositBase::get() + RequestDepositPerByte::get() * bytes
}

/// The demo model's reference input, canonical.
pub fn demo_input() -> Vec<u8> {
	use verity_runtime::genesis_config_presets::demo_model;
	demo_model::canonical_f32_list(&demo_model::INPUT_DIMS, demo_model::REFERENCE_INPUT)
}

pub fn inference_events(events: &[RuntimeEvent]) -> Vec<pallet_inference::Event<Runtime>> {
	events
		.iter()
		.filter_map(|e| match e {
			RuntimeEvent::Inference(e) => Some(e.clone()),
			_ => None,
		})
		.collect()
}

/// Scans finalized blocks `from..` until one has an event for which `pick` returns `Some`;
/// returns the block number and that value.
pub async fn wait_event<T>(
	node: &mut Node,
	from: u32,
	timeout: Duration,
	mut pick: impl FnMut(&RuntimeEvent) -> Option<T>,
) -> (u32, T) {
	let deadline = Instant::now() + timeout;
	let mut next = from;
	loop {
		while let Some(hash) = node.finalized_block_hash(next).await {
			for e in node.events(hash).await {
				if let Some(v) = pick(&e) {
					return (next, v);
				}
			}
			next += 1;
		}
		assert!(Instant::now() < deadline, "{}: event not seen:\n{}", node.name, node.log_tail());
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// The id of the request that block `hash` included (its `Requested` event) and the
/// assignments drawn for it two blocks later (`Assigned { slot, provider, executor }` in
/// slot order): executors are drawn from randomness revealed after the request's block.
pub async fn requested_and_assigned(
	node: &mut Node,
	hash: H256,
	at: u32,
) -> (u64, Vec<(u32, AccountId, AccountId)>) {
	let id = node
		.events(hash)
		.await
		.into_iter()
		.find_map(|e| match e {
			RuntimeEvent::Inference(pallet_inference::Event::Requested { request, .. }) => {
				Some(request)
			},
			_ => None,
		})
		.expect("a Requested event in the request's block");
	let (drawn, ()) = wait_event(node, at, Duration::from_secs(60), |e| match e {
		RuntimeEvent::Inference(pallet_inference::Event::Assigned { request, .. })
			if *request == id =>
		{
			Some(())
		},
		_ => None,
	})
	.await;
	let hash = node.block_hash(drawn).await.expect("the draw's block");
	let assigned = node
		.events(hash)
		.await
		.into_iter()
		.filter_map(|e| match e {
			RuntimeEvent::Inference(pallet_inference::Event::Assigned {
				request,
				slot,
				provider,
				executor,
				..
			}) if request == id => Some((slot, provider, executor)),
			_ => None,
		})
		.collect();
	(id, assigned)
}

/// Signs, submits and waits for the inclusion of `call` by `signer`; panics if it failed.
pub async fn execute(node: &mut Node, signer: &sr25519::Pair, call: RuntimeCall) -> (H256, u32) {
	let start = node.best_number().await;
	let xt = node.sign(signer, call).await;
	node.submit(&xt).await.expect("accepted by the pool");
	let (hash, number) = node.wait_included(&xt, start, Duration::from_secs(60)).await;
	let failed = node.events(hash).await.into_iter().find_map(|e| match e {
		RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { dispatch_error, .. }) => {
			Some(dispatch_error)
		},
		_ => None,
	});
	assert!(failed.is_none(), "{}: extrinsic failed: {failed:?}", node.name);
	(hash, number)
}

/// The value of metric `name` with label `label` (among others) on the node's Prometheus
/// endpoint at `port`; 0 when the series is absent. Substrate's registry prefixes every name
/// with `substrate_` and adds a `chain` label.
pub fn metric(port: u16, name: &str, label: Option<(&str, &str)>) -> f64 {
	use std::io::{Read, Write};
	let mut stream =
		std::net::TcpStream::connect(("127.0.0.1", port)).expect("prometheus endpoint");
	stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
	let mut body = String::new();
	stream.read_to_string(&mut body).unwrap();
	let prefixed = format!("substrate_{name}");
	let wanted = label.map(|(k, v)| format!("{k}=\"{v}\""));
	body.lines()
		.filter(|l| !l.starts_with('#'))
		.filter_map(|l| l.rsplit_once(' '))
		.find_map(|(series, value)| {
			let (metric, labels) = series.split_once('{').unwrap_or((series, ""));
			let labels: Vec<&str> = labels.trim_end_matches('}').split(',').collect();
			let named = metric == name || metric == prefixed;
			let labelled = wanted.as_ref().is_none_or(|w| labels.contains(&w.as_str()));
			(named && labelled).then(|| value.parse().ok()).flatten()
		})
		.unwrap_or(0.0)
}
