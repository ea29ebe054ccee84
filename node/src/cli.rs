//! Command line of verity-node: the standard Substrate node flags plus the usual subcommands.

#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management (generate, inspect, insert keys into the keystore).
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (deprecated upstream: prefer `export-chain-spec`).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export the chain specification of a preset or file as JSON.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Db meta columns information.
	ChainInfo(sc_cli::ChainInfoCmd),

	/// Command-line client of a running chain: register and upload models, serve them as a
	/// provider, delegate, request inferences, challenge results, check receipts.
	Client(crate::client::ClientCmd),

	/// Runtime benchmarks (`benchmark pallet` writes the pallets' `weights.rs`). Only in a node
	/// built with `--features runtime-benchmarks`; see `scripts/bench_weights.sh`.
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),
}

#[derive(Debug, clap::Parser)]
#[command(
	propagate_version = true,
	args_conflicts_with_subcommands = true,
	subcommand_negates_reqs = true
)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	#[clap(flatten)]
	pub verity: VerityArgs,
}

/// Options of the node's inference service (off-chain workers' engine and model store).
#[derive(Debug, Clone, clap::Args)]
pub struct VerityArgs {
	/// Wall-time limit of one model run in an off-chain worker, in milliseconds. A run over
	/// it fails with a timeout (the executor reports failure); the node keeps going.
	#[arg(long, value_name = "MS", default_value_t = 2_000)]
	pub inference_timeout_ms: u64,

	/// Most bytes of model files the node keeps in its model store
	/// (`<base-path>/chains/<chain>/models`).
	#[arg(long, value_name = "BYTES", default_value_t = 4 << 30)]
	pub model_store_max_bytes: u64,

	/// Fetch URI models' bytes only from this host (repeat for several; exact host name or IP
	/// literal, IPv6 in brackets, case-insensitive; no port). Without it, any host of an
	/// `http(s)://` URL the model's owner registered. Applies to every duty (attesting,
	/// executing, judging): a model whose URLs are all elsewhere is not fetched by this node.
	#[arg(long, value_name = "HOST")]
	pub model_fetch_allow_host: Vec<String>,

	/// Where the node keeps the deterministic mode's compiled runner (in-block inference)
	/// between restarts. Shared by every node of the machine that points at it: one compiles,
	/// the others load its file. As trusted as the node's binary: its files are machine code
	/// the node runs. Default: `$XDG_CACHE_HOME/verity/deterministic`, else
	/// `$HOME/.cache/verity/deterministic`, else `<base-path>/deterministic`.
	#[arg(long, value_name = "DIR")]
	pub deterministic_cache_dir: Option<std::path::PathBuf>,

	/// DEV ONLY: this node's executor posts perturbed outputs (with valid receipts), to test
	/// and demonstrate disputes. Refused on a chain whose spec is not of type Development or
	/// Local.
	#[arg(long)]
	pub dev_faulty_executor: bool,
}
