//! The full node: client, import queue (BABE + GRANDPA), network, transaction pool, off-chain
//! workers, RPC, block authoring and the GRANDPA voter.

use futures::FutureExt;
use sc_client_api::{Backend, BlockBackend};
use sc_consensus_babe::SlotProportion;
use sc_consensus_grandpa::SharedVoterState;
use sc_service::{error::Error as ServiceError, Configuration, TaskManager, WarpSyncConfig};
use sc_telemetry::{Telemetry, TelemetryWorker};
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use std::{sync::Arc, time::Duration};
use verity_runtime::{self, opaque::Block, RuntimeApi};

/// Every host function the runtime may call. This is the one place where the node's host
/// functions are declared: the executor of blocks, of off-chain workers and of every tool
/// that loads the runtime uses this tuple. The inference host functions (`verity-host`) are
/// appended here; a host function once shipped stays here forever.
pub type HostFunctions = (sp_io::SubstrateHostFunctions, verity_host::HostFunctions);

/// The wasm executor with Verity's host functions.
pub type RuntimeExecutor = sc_executor::WasmExecutor<HostFunctions>;

pub type FullClient = sc_service::TFullClient<Block, RuntimeApi, RuntimeExecutor>;
pub type FullBackend = sc_service::TFullBackend<Block>;
pub type FullSelectChain = sc_consensus::LongestChain<FullBackend, Block>;

/// Blocks between two GRANDPA justifications that are stored and served to syncing peers.
const GRANDPA_JUSTIFICATION_PERIOD: u32 = 512;

/// The inherents of a block: its BABE slot and its timestamp.
type SlotInherents =
	(sp_consensus_babe::inherents::InherentDataProvider, sp_timestamp::InherentDataProvider);

/// Makes a block's [`SlotInherents`] from the system clock (block import checks them too).
type CreateSlotInherents = Arc<
	dyn sp_inherents::CreateInherentDataProviders<Block, (), InherentDataProviders = SlotInherents>,
>;

/// Block import: BABE (slot claims, epochs, inherents) around GRANDPA around the client.
type BlockImport = sc_consensus_babe::BabeBlockImport<
	Block,
	FullClient,
	GrandpaImport,
	CreateSlotInherents,
	FullSelectChain,
>;

pub type Service = sc_service::PartialComponents<
	FullClient,
	FullBackend,
	FullSelectChain,
	sc_consensus::DefaultImportQueue<Block>,
	sc_transaction_pool::TransactionPoolHandle<Block, FullClient>,
	(
		BlockImport,
		sc_consensus_babe::BabeLink<Block>,
		sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>,
		sc_consensus_babe::BabeWorkerHandle<Block>,
		Option<Telemetry>,
	),
>;

/// [`SlotInherents`] for a block made now.
fn slot_inherents(slot_duration: sp_consensus_babe::SlotDuration) -> CreateSlotInherents {
	Arc::new(move |_, ()| async move {
		let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
		let slot =
			sp_consensus_babe::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
				*timestamp,
				slot_duration,
			);
		Ok((slot, timestamp))
	})
}

/// The parts of the node that the subcommands (check-block, export, revert, ...) need too.
pub fn new_partial(config: &Configuration) -> Result<Service, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|x| !x.is_empty())
		.map(|endpoints| -> Result<_, sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = sc_service::new_wasm_executor::<HostFunctions>(&config.executor);
	let (client, backend, keystore_container, task_manager) =
		sc_service::new_full_parts::<Block, RuntimeApi, _>(
			config,
			telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
			executor,
			Vec::new(),
		)?;
	let client = Arc::new(client);

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager.spawn_handle().spawn("telemetry", None, worker.run());
		telemetry
	});

	let select_chain = sc_consensus::LongestChain::new(backend.clone());

	let transaction_pool = Arc::from(
		sc_transaction_pool::Builder::new(
			task_manager.spawn_essential_handle(),
			client.clone(),
			config.role.is_authority().into(),
		)
		.with_options(config.transaction_pool.clone())
		.with_prometheus(config.prometheus_registry())
		.build(),
	);

	let (grandpa_block_import, grandpa_link) = sc_consensus_grandpa::block_import(
		client.clone(),
		GRANDPA_JUSTIFICATION_PERIOD,
		&client,
		select_chain.clone(),
		telemetry.as_ref().map(|x| x.handle()),
	)?;

	let babe_config = sc_consensus_babe::configuration(&*client)?;
	let slot_duration = babe_config.slot_duration();
	let (block_import, babe_link) = sc_consensus_babe::block_import(
		babe_config,
		grandpa_block_import.clone(),
		client.clone(),
		slot_inherents(slot_duration),
		select_chain.clone(),
		OffchainTransactionPoolFactory::new(transaction_pool.clone()),
	)?;
	let (import_queue, babe_worker_handle) =
		sc_consensus_babe::import_queue(sc_consensus_babe::ImportQueueParams {
			link: babe_link.clone(),
			block_import: block_import.clone(),
			justification_import: Some(Box::new(grandpa_block_import)),
			client: client.clone(),
			slot_duration,
			spawner: &task_manager.spawn_essential_handle(),
			registry: config.prometheus_registry(),
			telemetry: telemetry.as_ref().map(|x| x.handle()),
		})?;

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, babe_link, grandpa_link, babe_worker_handle, telemetry),
	})
}

type TransactionPool = sc_transaction_pool::TransactionPoolHandle<Block, FullClient>;
type Network = Arc<dyn sc_network::service::traits::NetworkService>;
type SyncService = Arc<sc_network_sync::SyncingService<Block>>;
type GrandpaImport =
	sc_consensus_grandpa::GrandpaBlockImport<FullBackend, Block, FullClient, FullSelectChain>;

/// Builds and starts a full node (a validator when `--validator`/`--dev`): the network with
/// the GRANDPA protocol, the off-chain workers, RPC and the base tasks, then BABE authoring
/// and the GRANDPA voter.
pub fn new_full<
	N: sc_network::NetworkBackend<Block, <Block as sp_runtime::traits::Block>::Hash>,
>(
	config: Configuration,
	verity: crate::cli::VerityArgs,
) -> Result<TaskManager, ServiceError> {
	let inference = inference_backend(&config, &verity)?;
	warm_up_deterministic_mode(&config, &verity);
	if verity.dev_faulty_executor {
		log::warn!("--dev-faulty-executor: this node's executor posts PERTURBED outputs");
	}
	let sc_service::PartialComponents {
		client,
		backend,
		mut task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, babe_link, grandpa_link, babe_worker_handle, mut telemetry),
	} = new_partial(&config)?;
	// The BABE worker (spawned by the import queue, essential) answers epoch queries for as
	// long as a handle to it lives; a dropped handle would end it and stop the node.
	task_manager.keep_alive(babe_worker_handle);

	let mut net_config = sc_network::config::FullNetworkConfiguration::<
		Block,
		<Block as sp_runtime::traits::Block>::Hash,
		N,
	>::new(&config.network, config.prometheus_registry().cloned());
	let metrics = N::register_notification_metrics(config.prometheus_registry());
	let genesis_hash = client
		.block_hash(0)
		.ok()
		.flatten()
		.ok_or_else(|| ServiceError::Other("the database holds no genesis block".into()))?;
	let grandpa_protocol_name =
		sc_consensus_grandpa::protocol_standard_name(&genesis_hash, &config.chain_spec);
	let (grandpa_protocol_config, grandpa_notification_service) =
		sc_consensus_grandpa::grandpa_peers_set_config::<_, N>(
			grandpa_protocol_name.clone(),
			metrics.clone(),
			net_config.peer_store_handle(),
		);
	net_config.add_notification_protocol(grandpa_protocol_config);
	let warp_sync = Arc::new(sc_consensus_grandpa::warp_proof::NetworkProvider::new(
		backend.clone(),
		grandpa_link.shared_authority_set().clone(),
		Vec::default(),
	));
	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) =
		sc_service::build_network(sc_service::BuildNetworkParams {
			config: &config,
			net_config,
			client: client.clone(),
			transaction_pool: transaction_pool.clone(),
			spawn_handle: task_manager.spawn_handle(),
			spawn_essential_handle: task_manager.spawn_essential_handle(),
			import_queue,
			block_announce_validator_builder: None,
			warp_sync_config: Some(WarpSyncConfig::WithProvider(warp_sync)),
			block_relay: None,
			metrics,
			gap_sync_body_policy: None,
		})?;

	publish_fetch_allow_hosts(&backend, &verity.model_fetch_allow_host)?;
	if config.offchain_worker.enabled {
		start_offchain_workers(
			&config,
			&task_manager,
			&client,
			&backend,
			&keystore_container,
			&transaction_pool,
			&network,
			&inference,
		)?;
	}

	let role = config.role;
	let force_authoring = config.force_authoring;
	let grandpa_config = sc_consensus_grandpa::Config {
		gossip_duration: Duration::from_millis(333),
		justification_generation_period: GRANDPA_JUSTIFICATION_PERIOD,
		name: Some(config.network.node_name.clone()),
		observer_enabled: false,
		// Only authorities vote, so only they need the keystore.
		keystore: role.is_authority().then(|| keystore_container.keystore()),
		local_role: role,
		telemetry: telemetry.as_ref().map(|x| x.handle()),
		protocol_name: grandpa_protocol_name,
	};
	let enable_grandpa = !config.disable_grandpa;
	let prometheus_registry = config.prometheus_registry().cloned();

	let rpc_builder = {
		let (client, pool, inference) = (client.clone(), transaction_pool.clone(), inference);
		Box::new(move |_| {
			let deps = crate::rpc::FullDeps {
				client: client.clone(),
				pool: pool.clone(),
				inference: inference.clone(),
			};
			crate::rpc::create_full(deps).map_err(|e| ServiceError::Other(e.to_string()))
		})
	};
	let _rpc_handlers = sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: network.clone(),
		client: client.clone(),
		keystore: keystore_container.keystore(),
		task_manager: &mut task_manager,
		transaction_pool: transaction_pool.clone(),
		rpc_builder,
		backend,
		system_rpc_tx,
		tx_handler_controller,
		sync_service: sync_service.clone(),
		config,
		telemetry: telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	if role.is_authority() {
		start_babe(
			&task_manager,
			client,
			select_chain,
			block_import,
			babe_link,
			&transaction_pool,
			&keystore_container,
			&sync_service,
			force_authoring,
			prometheus_registry.as_ref(),
			telemetry.as_ref(),
		)?;
	}
	if enable_grandpa {
		// Every node runs the full voter (non-authorities only follow): the observer protocol
		// is less tested and can stall finality when many nodes rely on it.
		let grandpa_params = sc_consensus_grandpa::GrandpaParams {
			config: grandpa_config,
			link: grandpa_link,
			network,
			sync: Arc::new(sync_service),
			notification_service: grandpa_notification_service,
			voting_rule: sc_consensus_grandpa::VotingRulesBuilder::default().build(),
			prometheus_registry,
			shared_voter_state: SharedVoterState::empty(),
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			offchain_tx_pool_factory: OffchainTransactionPoolFactory::new(transaction_pool),
		};
		task_manager.spawn_essential_handle().spawn_blocking(
			"grandpa-voter",
			None,
			sc_consensus_grandpa::run_grandpa_voter(grandpa_params)?,
		);
	}
	Ok(task_manager)
}

/// Off-chain workers: each pallet's duty runs in them, and reaches the engine and the model
/// store through the inference externalities extension.
#[allow(clippy::too_many_arguments)]
fn start_offchain_workers(
	config: &Configuration,
	task_manager: &TaskManager,
	client: &Arc<FullClient>,
	backend: &Arc<FullBackend>,
	keystore_container: &sc_service::KeystoreContainer,
	transaction_pool: &Arc<TransactionPool>,
	network: &Network,
	inference: &Arc<verity_host::HostBackend>,
) -> Result<(), ServiceError> {
	let inference = inference.clone();
	let next_index = pool_next_index(client.clone(), transaction_pool.clone());
	let offchain_workers = sc_offchain::OffchainWorkers::new(sc_offchain::OffchainWorkerOptions {
		runtime_api_provider: client.clone(),
		is_validator: config.role.is_authority(),
		keystore: Some(keystore_container.keystore()),
		offchain_db: backend.offchain_storage(),
		transaction_pool: Some(OffchainTransactionPoolFactory::new(transaction_pool.clone())),
		network_provider: Arc::new(network.clone()),
		enable_http_requests: true,
		custom_extensions: move |_| {
			vec![
				Box::new(verity_host::InferenceExt::new(inference.clone())) as Box<_>,
				Box::new(verity_host::PoolNonceExt::new(next_index.clone())) as Box<_>,
			]
		},
	})?;
	task_manager.spawn_handle().spawn(
		"offchain-workers-runner",
		"offchain-worker",
		offchain_workers.run(client.clone(), task_manager.spawn_handle()).boxed(),
	);
	Ok(())
}

/// How long a nonce handed to a worker counts as taken although the pool does not show its
/// transaction: the time a transaction needs to appear in the pool's view of the best block,
/// which the pool rebuilds after every imported block.
const NONCE_GRACE: Duration = Duration::from_secs(12);

/// The workers' nonces (the `next_index` host function): the lowest nonce, from the account's
/// nonce at the best block on, that is neither held by one of the account's transactions in
/// the pool (ready or future) nor was handed to a worker in the last [`NONCE_GRACE`].
///
/// Worker runs overlap (one starts on every imported block and a model run takes seconds), so
/// a run must not sign with a nonce that an earlier run's transaction, still pending, already
/// took. Counting the pool's ready transactions on top of the state's nonce (as
/// `system_accountNextIndex` does) is not enough under load: a worker starts as soon as a block
/// is imported, while the fork-aware pool is still rebuilding its view of that block, and
/// - the previous view's ready set counts the transactions the new block included a second time
///   (the nonce is too high: the transaction waits in the future set behind a gap nothing
///   fills, and every later transaction of the account behind it);
/// - the new view does not yet hold the pending transactions (the nonce is too low: the pool
///   answers `Ok` to a local transaction every view rejects, here for its nonce, and drops it).
///
/// Under request spam both starved juries of their votes (docs/security.md). Nonces handed out
/// are therefore remembered here. One whose transaction is not in the pool after the grace
/// period was lost (rejected, or dropped as invalid) and is handed out again, which fills the
/// gap it left.
fn pool_next_index(
	client: Arc<FullClient>,
	pool: Arc<TransactionPool>,
) -> Arc<verity_host::NextIndex> {
	use codec::Decode;
	use sc_client_api::HeaderBackend;
	use sc_transaction_pool_api::{InPoolTransaction, TransactionPool as _};
	use sp_api::ProvideRuntimeApi;
	use std::{collections::BTreeSet, sync::Mutex, time::Instant};
	use substrate_frame_rpc_system::AccountNonceApi;
	use verity_runtime::{AccountId, Nonce};
	let handed = Mutex::new(HandedNonces::default());
	Arc::new(move |account: &[u8]| {
		let account = AccountId::decode(&mut &account[..]).ok()?;
		let best = client.info().best_hash;
		let state: Nonce = client.runtime_api().account_nonce(best, account.clone()).ok()?;
		// The account's nonces in the pool: `CheckNonce` makes a transaction provide the tag
		// `(account, nonce)` first.
		let mut in_pool = BTreeSet::new();
		let mut note = |provides: &[Vec<u8>]| {
			if let Some(Ok((who, nonce))) =
				provides.first().map(|tag| <(AccountId, Nonce)>::decode(&mut &tag[..]))
			{
				if who == account && nonce >= state {
					in_pool.insert(nonce);
				}
			}
		};
		for tx in pool.ready() {
			note(tx.provides());
		}
		for tx in pool.futures() {
			note(tx.provides());
		}
		// A poisoned lock only means another worker panicked while holding it; the record is
		// still valid.
		let mut handed = handed.lock().unwrap_or_else(|e| e.into_inner());
		let next = handed.next(&account, state, &in_pool, Instant::now());
		log::debug!(
			target: "verity::nonce",
			"{account}: nonce {next} (state {state}, in pool {in_pool:?})"
		);
		Some(next)
	})
}

/// The nonces the node handed to its workers in the last [`NONCE_GRACE`], per account, and
/// when (see [`pool_next_index`]).
#[derive(Default)]
struct HandedNonces(
	std::collections::HashMap<
		verity_runtime::AccountId,
		std::collections::BTreeMap<verity_runtime::Nonce, std::time::Instant>,
	>,
);

impl HandedNonces {
	/// The lowest nonce from `state` (the account's nonce at the best block) on that is neither
	/// in `in_pool` nor was handed out within [`NONCE_GRACE`] before `now`; recorded as handed
	/// out at `now`.
	fn next(
		&mut self,
		account: &verity_runtime::AccountId,
		state: verity_runtime::Nonce,
		in_pool: &std::collections::BTreeSet<verity_runtime::Nonce>,
		now: std::time::Instant,
	) -> verity_runtime::Nonce {
		self.0.retain(|_, nonces| {
			nonces.retain(|_, at| now.duration_since(*at) < NONCE_GRACE);
			!nonces.is_empty()
		});
		let mine = self.0.entry(account.clone()).or_default();
		mine.retain(|n, _| *n >= state);
		let mut next = state;
		while in_pool.contains(&next) || mine.contains_key(&next) {
			next = next.saturating_add(1);
		}
		mine.insert(next, now);
		next
	}
}

/// Hand `--model-fetch-allow-host` to the runtime's fetcher: the lower-case host list goes to
/// the persistent offchain storage under `pallet_models::offchain::FETCH_ALLOW_HOSTS_KEY`
/// (removed when the option is absent, so a restart without it allows every host again).
fn publish_fetch_allow_hosts(
	backend: &Arc<FullBackend>,
	hosts: &[String],
) -> Result<(), ServiceError> {
	use codec::Encode;
	use sc_client_api::Backend as _;
	use sp_core::offchain::OffchainStorage as _;
	let Some(mut storage) = backend.offchain_storage() else {
		if hosts.is_empty() {
			return Ok(());
		}
		return Err(ServiceError::Other(
			"--model-fetch-allow-host needs the offchain database, which this node lacks".into(),
		));
	};
	let key = pallet_models::offchain::FETCH_ALLOW_HOSTS_KEY;
	if hosts.is_empty() {
		storage.remove(sp_offchain::STORAGE_PREFIX, key);
		return Ok(());
	}
	let mut list = Vec::new();
	for host in hosts {
		let host = host.trim().to_ascii_lowercase();
		let probe = format!("http://{host}/");
		if pallet_models::uri_host(probe.as_bytes()) != Some(host.as_bytes()) {
			return Err(ServiceError::Other(format!(
				"--model-fetch-allow-host {host:?}: expected a host name or IP literal (IPv6 in \
				 brackets), without scheme, port or path"
			)));
		}
		list.push(host.into_bytes());
	}
	storage.set(sp_offchain::STORAGE_PREFIX, key, &list.encode());
	log::info!(
		"model bytes are fetched only from: {}",
		hosts.iter().map(|h| h.trim().to_ascii_lowercase()).collect::<Vec<_>>().join(", ")
	);
	Ok(())
}

/// BABE block authoring. Essential: if it fails, the node goes down rather than idling.
#[allow(clippy::too_many_arguments)]
fn start_babe(
	task_manager: &TaskManager,
	client: Arc<FullClient>,
	select_chain: FullSelectChain,
	block_import: BlockImport,
	babe_link: sc_consensus_babe::BabeLink<Block>,
	transaction_pool: &Arc<TransactionPool>,
	keystore_container: &sc_service::KeystoreContainer,
	sync_service: &SyncService,
	force_authoring: bool,
	prometheus_registry: Option<&prometheus_endpoint::Registry>,
	telemetry: Option<&Telemetry>,
) -> Result<(), ServiceError> {
	let proposer_factory = sc_basic_authorship::ProposerFactory::new(
		task_manager.spawn_handle(),
		client.clone(),
		transaction_pool.clone(),
		prometheus_registry,
		telemetry.map(|x| x.handle()),
	);
	let slot_duration = babe_link.config().slot_duration();
	let babe = sc_consensus_babe::start_babe(sc_consensus_babe::BabeParams {
		keystore: keystore_container.keystore(),
		client,
		select_chain,
		env: proposer_factory,
		block_import,
		sync_oracle: sync_service.clone(),
		justification_sync_link: sync_service.clone(),
		create_inherent_data_providers: slot_inherents(slot_duration),
		force_authoring,
		backoff_authoring_blocks: Option::<()>::None,
		babe_link,
		block_proposal_slot_portion: SlotProportion::new(2f32 / 3f32),
		max_block_proposal_slot_portion: None,
		telemetry: telemetry.map(|x| x.handle()),
	})?;
	task_manager.spawn_essential_handle().spawn_blocking("babe", Some("block-authoring"), babe);
	Ok(())
}

/// Readies the deterministic mode's runner (in-block inference) in the background: loaded from
/// the cache directory, or compiled into it. Compiling takes seconds of every core; done inside
/// block import on first use, it ran on every node at once (zombienet 0006 timed out in CI).
/// The thread runs at the lowest priority, on one core, so that nodes starting beside each
/// other keep producing blocks meanwhile; those sharing the directory compile once.
fn warm_up_deterministic_mode(config: &Configuration, verity: &crate::cli::VerityArgs) {
	let dir = verity.deterministic_cache_dir.clone().unwrap_or_else(|| {
		let user_cache =
			std::env::var_os("XDG_CACHE_HOME").map(std::path::PathBuf::from).or_else(|| {
				std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache"))
			});
		match user_cache {
			Some(c) => c.join("verity").join("deterministic"),
			None => config.base_path.path().join("deterministic"),
		}
	});
	let spawned = std::thread::Builder::new().name("verity-det-warmup".into()).spawn(move || {
		// SAFETY: setpriority with `who` 0 changes the nice value of the calling thread only
		// (Linux keeps one per thread); it touches no memory.
		#[allow(unsafe_code)]
		#[cfg(target_os = "linux")]
		unsafe {
			libc::setpriority(libc::PRIO_PROCESS, 0, 19);
		}
		let start = std::time::Instant::now();
		match verity_host::warm_up_deterministic(dir.clone()) {
			Ok((backend, compiled)) => log::info!(
				"Deterministic mode ready on {backend} in {:.1} s ({} {})",
				start.elapsed().as_secs_f64(),
				if compiled { "compiled into" } else { "loaded from" },
				dir.display(),
			),
			Err(e) => {
				log::warn!("Deterministic mode unavailable: {e}; in-block inference will fail")
			},
		}
	});
	if let Err(e) = spawned {
		log::warn!("cannot start the deterministic mode's warm-up: {e}; it compiles on first use");
	}
}

/// The engine and model store behind the inference host functions: one per node, shared by
/// every worker (plans are cached across blocks), the store under the chain's base path.
fn inference_backend(
	config: &Configuration,
	verity: &crate::cli::VerityArgs,
) -> Result<Arc<verity_host::HostBackend>, ServiceError> {
	use verity_engine::engine::{Engine, Limits};
	let dir = config.base_path.config_dir(config.chain_spec.id()).join("models");
	let store = verity_host::ModelStore::open(&dir, verity.model_store_max_bytes).map_err(|e| {
		ServiceError::Other(format!("cannot open the model store {}: {e}", dir.display()))
	})?;
	let limits = Limits {
		run_timeout: Some(Duration::from_millis(verity.inference_timeout_ms)),
		..Limits::default()
	};
	log::info!("Model store: {}", dir.display());
	let backend = verity_host::HostBackend::new(Arc::new(Engine::new(limits)), store)
		.with_faulty_executor(verity.dev_faulty_executor);
	Ok(Arc::new(match config.prometheus_registry() {
		Some(registry) => {
			backend.with_metrics(verity_host::metrics::Metrics::register(registry).map_err(
				|e| ServiceError::Other(format!("cannot register the inference metrics: {e}")),
			)?)
		},
		None => backend,
	}))
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::{collections::BTreeSet, time::Instant};
	use verity_runtime::AccountId;

	fn pool(nonces: &[u32]) -> BTreeSet<u32> {
		nonces.iter().copied().collect()
	}

	#[test]
	fn overlapping_runs_get_distinct_nonces_after_the_pools() {
		let (a, now) = (AccountId::from([1; 32]), Instant::now());
		let mut handed = HandedNonces::default();
		// Nonces 5 and 6 pending in the pool; two runs ask before either submits.
		assert_eq!(handed.next(&a, 5, &pool(&[5, 6]), now), 7);
		assert_eq!(handed.next(&a, 5, &pool(&[5, 6]), now), 8);
		// Another account counts on its own.
		assert_eq!(handed.next(&AccountId::from([2; 32]), 0, &pool(&[]), now), 0);
		// 5 and 6 were included (state 7); 7 and 8, handed out, are still held for their runs.
		assert_eq!(handed.next(&a, 7, &pool(&[8]), now), 9);
	}

	#[test]
	fn a_nonce_whose_transaction_was_lost_is_handed_out_again_after_the_grace_period() {
		let (a, start) = (AccountId::from([1; 32]), Instant::now());
		let mut handed = HandedNonces::default();
		assert_eq!(handed.next(&a, 0, &pool(&[]), start), 0);
		assert_eq!(handed.next(&a, 0, &pool(&[0]), start), 1);
		// Nonce 0 left the pool unincluded (rejected on a sibling fork); 1 waits behind it.
		let soon = start + NONCE_GRACE / 2;
		assert_eq!(handed.next(&a, 0, &pool(&[1]), soon), 2);
		let later = start + NONCE_GRACE;
		assert_eq!(handed.next(&a, 0, &pool(&[1, 2]), later), 0, "the gap is filled");
	}
}
