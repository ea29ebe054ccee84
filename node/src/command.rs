//! Subcommand dispatch and the node's entry point.

use crate::{
	chain_spec,
	cli::{Cli, Subcommand},
	service,
};
use sc_cli::SubstrateCli;
use sc_service::PartialComponents;

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Verity Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	/// Shown with a crash report. The project has no public tracker address yet: point at
	/// the docs that ship with the release rather than at a made-up URL.
	fn support_url() -> String {
		"the issue tracker of your Verity release (see its README.md)".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		Ok(Box::new(chain_spec::load(id)?))
	}
}

/// Reduces an error to one line: the message and its causes, no debug dump or backtrace.
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
	let mut out = e.to_string();
	let mut source = e.source();
	while let Some(cause) = source {
		let msg = cause.to_string();
		if !out.contains(&msg) {
			out.push_str(": ");
			out.push_str(&msg);
		}
		source = cause.source();
	}
	out.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// sc-cli's panic hook (sp-panic-handler) ends the process on a panic in any thread that has
/// not opted into unwinding. The engine's run threads catch tract's panics so that a hostile
/// model fails its run instead of stopping the node; for them the panic is logged and unwinds.
/// Every other thread keeps the abort hook.
fn let_engine_threads_unwind() {
	let abort_hook = std::panic::take_hook();
	std::panic::set_hook(Box::new(move |info| {
		if std::thread::current().name() == Some(verity_engine::engine::WORKER_THREAD_NAME) {
			log::warn!(target: "verity::engine", "a model run panicked (caught; the run fails): {info}");
		} else {
			abort_hook(info)
		}
	}));
}

/// Parses the command line and runs the node or a subcommand.
pub fn run() -> sc_cli::Result<()> {
	let cli = Cli::from_args();

	match &cli.subcommand {
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		#[allow(deprecated)]
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		},
		Some(Subcommand::ExportChainSpec(cmd)) => {
			let spec = cli.load_spec(&cmd.chain)?;
			cmd.run(spec)
		},
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		},
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		},
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		},
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } =
					service::new_partial(&config)?;
				let aux_revert =
					Box::new(|client: std::sync::Arc<service::FullClient>, backend, blocks| {
						sc_consensus_babe::revert(client.clone(), backend, blocks)?;
						sc_consensus_grandpa::revert(client, blocks)?;
						Ok(())
					});
				Ok((cmd.run(client, backend, Some(aux_revert)), task_manager))
			})
		},
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<verity_runtime::opaque::Block>(&config))
		},
		Some(Subcommand::Client(cmd)) => {
			crate::client::run(cmd).map_err(|e| sc_cli::Error::Application(Box::new(e)))
		},
		#[cfg(feature = "runtime-benchmarks")]
		Some(Subcommand::Benchmark(cmd)) => {
			use frame_benchmarking_cli::BenchmarkCmd;
			let runner = cli.create_runner(cmd)?;
			match cmd {
				// The runtime imports the verity-host functions, so the benchmark executor must
				// provide them; no benchmarked call runs a model, so no engine is registered.
				BenchmarkCmd::Pallet(cmd) => runner.sync_run(|config| {
					cmd.run_with_spec::<sp_runtime::traits::HashingFor<
						verity_runtime::opaque::Block,
					>, verity_host::HostFunctions>(Some(config.chain_spec))
				}),
				BenchmarkCmd::Machine(cmd) => runner.sync_run(|config| {
					cmd.run(&config, frame_benchmarking_cli::SUBSTRATE_REFERENCE_HARDWARE.clone())
				}),
				_ => Err(sc_cli::Error::Input(
					"this node supports `benchmark pallet` and `benchmark machine` only".into(),
				)),
			}
		},
		None => {
			let runner = cli.create_runner(&cli.run)?;
			let_engine_threads_unwind();
			let explicit_rpc_port = cli.run.rpc_params.rpc_port.is_some();
			let verity = cli.verity.clone();
			// The fault switch is for test networks only: the built-in test chains, and chain
			// spec files that declare themselves development or local chains (zombienet starts
			// its nodes from a raw spec file it built from `--chain zombienet`). A `Live` chain
			// is refused, so an operator cannot turn it on against a real network by mistake.
			let test_chain = matches!(
				runner.config().chain_spec.chain_type(),
				sc_service::ChainType::Development | sc_service::ChainType::Local
			);
			if verity.dev_faulty_executor && !test_chain {
				return Err(sc_cli::Error::Input(
					"--dev-faulty-executor is refused on this chain: it is only for development \
					 and local test chains (chain type Development or Local)"
						.into(),
				));
			}
			runner.run_node_until_exit(|mut config| async move {
				// Upstream quietly moves the RPC server to a random port when the requested one
				// is taken. An operator who named a port must learn that it is busy instead of
				// running on a port nobody knows about, so only the default port may move.
				crate::preflight::check_listen_addresses(&config, explicit_rpc_port)
					.map_err(sc_cli::Error::Input)?;
				if explicit_rpc_port {
					for endpoint in config.rpc.addr.iter_mut().flatten() {
						endpoint.retry_random_port = false;
					}
				}
				match config.network.network_backend {
					sc_network::config::NetworkBackendType::Libp2p => service::new_full::<
						sc_network::NetworkWorker<
							verity_runtime::opaque::Block,
							<verity_runtime::opaque::Block as sp_runtime::traits::Block>::Hash,
						>,
					>(config, verity)
					.map_err(sc_cli::Error::Service),
					sc_network::config::NetworkBackendType::Litep2p => {
						service::new_full::<sc_network::Litep2pNetworkBackend>(config, verity)
							.map_err(sc_cli::Error::Service)
					},
				}
			})
		},
	}
}
