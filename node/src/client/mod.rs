//! `verity-node client`: the command-line client of a Verity chain.
//!
//! It talks JSON-RPC (HTTP) to any node and signs with the runtime's own types
//! (`verity_runtime::RuntimeCall`, `tx_extension`), so calls and storage are encoded exactly as
//! the chain expects. Each job signs at most a few transactions, follows them into a block and
//! reads the outcome from the block's events: a failed call is reported with its pallet error
//! (`Inference::InputSpecMismatch: …`). Every failure ends the process with one `Error: …`
//! line and exit code 1 (see `main.rs`).
//!
//! Files: `tx.rs` signs and submits, `view.rs` calls the pallets' read API, `rpc.rs` is the
//! connection (views, the typed `verity_*` RPC, events, waiting, error decoding), `values.rs`
//! parses and prints amounts, accounts and tensors (`tx`, `view` and `values` are shared with
//! the e2e tests and the examples through the library), and one file per area holds its jobs:
//! `models.rs`, `staking.rs`, `inference.rs`.

mod inference;
mod models;
pub mod rpc;
mod staking;
pub mod tx;
pub mod values;
pub mod view;

use serde_json::Value;
use sp_core::{crypto::Pair as _, sr25519};
use std::time::Duration;
use verity_runtime::AccountId;

pub use values::vrt;

/// Options every job takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Opts {
	/// JSON-RPC endpoint of a node: http(s):// or ws(s):// (one port serves both; the client
	/// speaks HTTP).
	#[arg(
		long,
		global = true,
		default_value = "http://127.0.0.1:9944",
		value_name = "URL",
		display_order = 100
	)]
	pub url: String,

	/// Secret URI of the signing account (sr25519): a dev account like //Alice, a mnemonic
	/// phrase, or a 0x seed, with optional //hard/soft derivations and ///password.
	#[arg(
		long,
		global = true,
		default_value = "//Alice",
		value_name = "SURI",
		display_order = 100
	)]
	pub suri: String,

	/// Longest time to wait for transactions to be included and for results, in seconds.
	#[arg(long, global = true, default_value_t = 300, value_name = "SECONDS", display_order = 100)]
	pub timeout: u64,

	/// Print the result as one JSON document on stdout (progress still goes to stderr).
	#[arg(long, global = true, display_order = 100)]
	pub json: bool,
}

/// The client's jobs (`AFTER_HELP` describes how amounts, accounts and models are written).
#[derive(Debug, clap::Subcommand)]
pub enum Job {
	/// List the registered models: id, name, status, price per call, size, acceptance rule.
	Models,
	/// Register an ONNX model with its spec, upload its bytes in 1 MiB chunks, and optionally
	/// wait until the validators certify it. Resumes an interrupted upload.
	RegisterModel(models::RegisterArgs),
	/// Provider jobs: register, set-executor, executor-proof, set-models, show.
	#[command(subcommand)]
	Provider(staking::ProviderCmd),
	/// Delegate stake to a provider (it backs the provider's results and earns a share of its
	/// fees).
	Delegate(staking::DelegateArgs),
	/// Start unbonding (part of) a delegation; `withdraw` it after the unbonding period.
	Undelegate(staking::DelegateArgs),
	/// Withdraw matured unbonding stake from a provider.
	Withdraw(staking::ProviderArg),
	/// Claim rewards earned with a provider.
	Claim(staking::ProviderArg),
	/// Request an inference and wait for its result: prints the request id, the executors,
	/// the decoded output tensors and the receipt, checked locally.
	Request(inference::RequestArgs),
	/// Challenge a provisional result (holds the challenge bond, 10 VRT); a jury of providers
	/// re-executes the model.
	Challenge(inference::ChallengeArgs),
	/// Show a request's result and receipt, and check the receipt's secp256k1 signature
	/// locally (message, signer address, executor key).
	Receipt(inference::ReceiptArgs),
}

/// Shown after `verity-node client --help`.
const AFTER_HELP: &str = "\
Amounts: VRT as a decimal (1.5 or 1.5VRT, up to 12 decimals) or planck with a suffix
(1500000000000planck; 1 VRT = 10^12 planck). Accounts: an SS58 address, 0x and 32 bytes of hex,
or a secret URI such as //Alice (its sr25519 account). Models: a 0x id or a registered name.

Every failure prints one `Error: ...` line and exits with code 1: an unreachable node, an
account that cannot pay fees, a call the chain refused (`Inference::InputSpecMismatch: ...`),
a timeout.

Examples:
  verity-node client models
  verity-node client request --model mlp-demo --f32 0.1,0.2,... --shape 1,64 --suri //Charlie
  verity-node client receipt --request 0
  verity-node client register-model --file model.onnx --spec spec.json --wait-active --suri //Bob
  verity-node client delegate --provider //Alice --amount 100 --suri //Bob";

/// `verity-node client …`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct ClientCmd {
	#[command(flatten)]
	pub opts: Opts,

	#[command(subcommand)]
	pub job: Job,
}

/// A client failure: one line for the user.
#[derive(Debug)]
pub struct Error(String);

impl Error {
	pub fn new(msg: impl Into<String>) -> Self {
		Error(msg.into())
	}
}

impl std::fmt::Display for Error {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str(&self.0)
	}
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// The signing account.
pub struct Signer {
	pub pair: sr25519::Pair,
	pub account: AccountId,
	pub suri: String,
}

impl Signer {
	fn from_opts(opts: &Opts) -> Result<Signer> {
		let pair = sr25519::Pair::from_string(&opts.suri, None)
			.map_err(|e| Error::new(format!("--suri is not a valid secret URI: {e:?}")))?;
		Ok(Signer { account: tx::account_of(&pair), pair, suri: opts.suri.clone() })
	}
}

/// What a job reports: lines for people (printed as they come), one JSON value for `--json`.
pub struct Output {
	json_mode: bool,
	json: Value,
}

impl Output {
	fn line(&mut self, s: impl AsRef<str>) {
		if !self.json_mode {
			println!("{}", s.as_ref());
		}
	}
}

/// Runs a client job to completion.
pub fn run(cmd: &ClientCmd) -> Result<()> {
	let runtime = tokio::runtime::Builder::new_current_thread()
		.enable_all()
		.build()
		.map_err(|e| Error::new(format!("cannot start the async runtime: {e}")))?;
	runtime.block_on(run_job(cmd))
}

async fn run_job(cmd: &ClientCmd) -> Result<()> {
	let opts = &cmd.opts;
	let rpc = rpc::Rpc::connect(&opts.url, Duration::from_secs(opts.timeout)).await?;
	let mut out = Output { json_mode: opts.json, json: Value::Null };
	match &cmd.job {
		Job::Models => models::list(&rpc, &mut out).await?,
		Job::RegisterModel(args) => models::register(&rpc, opts, args, &mut out).await?,
		Job::Provider(p) => staking::provider(&rpc, opts, p, &mut out).await?,
		Job::Delegate(args) => staking::delegate(&rpc, opts, args, false, &mut out).await?,
		Job::Undelegate(args) => staking::delegate(&rpc, opts, args, true, &mut out).await?,
		Job::Withdraw(args) => staking::settle(&rpc, opts, args, false, &mut out).await?,
		Job::Claim(args) => staking::settle(&rpc, opts, args, true, &mut out).await?,
		Job::Request(args) => inference::request(&rpc, opts, args, &mut out).await?,
		Job::Challenge(args) => inference::challenge(&rpc, opts, args, &mut out).await?,
		Job::Receipt(args) => inference::receipt(&rpc, args, &mut out).await?,
	}
	if opts.json {
		println!("{}", serde_json::to_string_pretty(&out.json).unwrap_or_default());
	}
	Ok(())
}
