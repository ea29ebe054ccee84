//! `provider …`, `delegate`, `undelegate`, `withdraw`, `claim`: pallet-providers.

use super::{
	models::resolve,
	rpc::{Included, Rpc},
	tx::hex,
	values::{parse_account, parse_amount, parse_percent, vrt},
	Error, Opts, Output, Result, Signer,
};
use frame_support::BoundedVec;
use serde_json::{json, Value};
use sp_core::{crypto::Pair as _, ecdsa};
use verity_runtime::{AccountId, Balance, Runtime, RuntimeCall, RuntimeEvent};

#[derive(Debug, clap::Subcommand)]
pub enum ProviderCmd {
	/// Become a provider: bond stake, set a commission, name the models served and the
	/// executor key (secp256k1) the node's off-chain worker signs results with.
	Register(RegisterArgs),
	/// Replace the signing provider's executor key (e.g. a leaked one). The old key is revoked
	/// at once, also for the assignments it still has (they run to their deadline and are
	/// penalized like missed ones): chill and wait for open assignments to end first.
	SetExecutor(ExecutorArgs),
	/// Print the proof of possession an executor key gives a provider (for `--executor-proof`
	/// where the key lives on another machine): its signature over
	/// blake2_256("verity/executor-pop/v1" ++ genesis hash ++ provider account).
	ExecutorProof {
		/// The provider the proof is for (default: the --suri account).
		#[arg(long, value_name = "ACCOUNT")]
		provider: Option<String>,
		#[command(flatten)]
		executor: ExecutorArgs,
	},
	/// Replace the list of models the signing provider serves.
	SetModels {
		/// Models served, comma-separated: 0x ids or registered names. Each must be active.
		#[arg(long, value_name = "MODELS")]
		models: String,
	},
	/// Show a provider: status, stake, commission, models, executor, and your stake with it.
	Show {
		/// The provider (default: the --suri account).
		#[arg(long, value_name = "ACCOUNT")]
		provider: Option<String>,
	},
}

#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
	/// Self-bond (at least the chain's MinSelfBond, 100 VRT on the dev chains). Amounts: VRT
	/// as `1.5`/`1.5VRT` or planck as `1500000000000planck`.
	#[arg(long, value_name = "AMOUNT")]
	pub bond: String,
	/// Commission kept from every reward before the pro-rata split, in percent (`10`, `2.5%`).
	#[arg(long, value_name = "PERCENT")]
	pub commission: String,
	/// Models served, comma-separated: 0x ids or registered names. Each must be active.
	#[arg(long, value_name = "MODELS")]
	pub models: String,
	#[command(flatten)]
	pub executor: ExecutorArgs,
}

/// The executor key and its proof of possession: the key's signature over the provider's
/// `executor_pop_message` (this chain's genesis hash and the provider's account), made here
/// from `--executor-suri` or the node's keystore, or given with `--executor-proof`.
#[derive(Debug, clap::Args)]
pub struct ExecutorArgs {
	/// The executor's compressed secp256k1 public key (0x + 33 bytes hex). With
	/// --executor-keystore it picks the key (when the keystore holds several); otherwise
	/// --executor-proof must come with it.
	#[arg(long, value_name = "0xKEY", conflicts_with = "executor_suri")]
	pub executor: Option<String>,
	/// Derive the executor key from this secret URI (ecdsa), e.g. //Eve, and sign the proof
	/// with it. Insert the same secret into the node's keystore with
	/// `verity-node key insert --key-type vexe --scheme ecdsa`.
	#[arg(long, value_name = "SURI", conflicts_with_all = ["executor_keystore", "executor_proof"])]
	pub executor_suri: Option<String>,
	/// Sign the proof with the executor key (`vexe`) in this keystore directory: the provider
	/// node's `<base-path>/chains/<chain id>/keystore` (the node need not run).
	#[arg(long, value_name = "DIR", conflicts_with = "executor_proof")]
	pub executor_keystore: Option<std::path::PathBuf>,
	/// The proof made elsewhere (`provider executor-proof`): 0x + 65 bytes hex (r ++ s ++ v).
	#[arg(long, value_name = "0xSIG", requires = "executor")]
	pub executor_proof: Option<String>,
}

/// The executor key of `args` with its proof of possession for `provider` on this chain
/// (checked here, so that a wrong key or proof fails before anything is sent).
fn executor_and_proof(
	rpc: &Rpc,
	args: &ExecutorArgs,
	provider: &AccountId,
) -> Result<(ecdsa::Public, verity_primitives::ExecutorSignature)> {
	let message = verity_primitives::executor_pop_message(rpc.chain.genesis.as_bytes(), provider);
	let named = args
		.executor
		.as_ref()
		.map(|k| {
			super::tx::unhex(k)
				.and_then(|b| <[u8; 33]>::try_from(b).ok())
				.map(ecdsa::Public::from_raw)
				.ok_or_else(|| {
					Error::new(format!(
						"--executor {k}: expected 0x and a 33-byte compressed secp256k1 key"
					))
				})
		})
		.transpose()?;
	let (key, proof) = match (&args.executor_suri, &args.executor_keystore, &args.executor_proof) {
		(Some(suri), _, _) => {
			let pair = ecdsa::Pair::from_string(suri, None)
				.map_err(|e| Error::new(format!("--executor-suri: not a secret URI: {e:?}")))?;
			(pair.public(), pair.sign_prehashed(&message).to_raw())
		},
		(None, Some(dir), _) => keystore_proof(dir, named, &message)?,
		(None, None, Some(p)) => {
			let key = named.ok_or_else(|| Error::new("--executor-proof needs --executor"))?;
			let proof = super::tx::unhex(p).and_then(|b| <[u8; 65]>::try_from(b).ok()).ok_or_else(
				|| Error::new(format!("--executor-proof {p}: expected 0x and 65 bytes")),
			)?;
			(key, proof)
		},
		(None, None, None) => {
			return Err(Error::new(
				"give --executor-suri, --executor-keystore, or --executor with --executor-proof",
			))
		},
	};
	let executor = verity_primitives::executor_account(&key);
	let valid = <verity_primitives::EcdsaExecutorSignatures as verity_primitives::ExecutorSignatureVerifier<AccountId>>::verify(
		&executor, &message, &proof,
	);
	if !valid {
		return Err(Error::new(format!(
			"the executor proof is not a signature of key {} for provider {provider} on this chain",
			hex(key.as_ref())
		)));
	}
	Ok((key, proof))
}

/// Sign `message` with the `vexe` key in the keystore at `dir` (`want`, or its only one).
fn keystore_proof(
	dir: &std::path::Path,
	want: Option<ecdsa::Public>,
	message: &[u8; 32],
) -> Result<(ecdsa::Public, verity_primitives::ExecutorSignature)> {
	use sp_keystore::Keystore;
	let what = format!("--executor-keystore {}", dir.display());
	if !dir.is_dir() {
		return Err(Error::new(format!("{what}: not a directory")));
	}
	let config =
		sc_service::config::KeystoreConfig::Path { path: dir.to_path_buf(), password: None };
	let keystore = sc_service::KeystoreContainer::new(&config)
		.map_err(|e| Error::new(format!("{what}: {e}")))?
		.keystore();
	let keys = keystore.ecdsa_public_keys(verity_primitives::EXECUTOR_KEY_TYPE);
	let key = match (want, keys.as_slice()) {
		(Some(k), _) if keys.contains(&k) => k,
		(Some(k), _) => return Err(Error::new(format!("{what}: no vexe key {}", hex(k.as_ref())))),
		(None, [k]) => *k,
		(None, []) => return Err(Error::new(format!("{what}: no vexe (executor) key"))),
		(None, _) => {
			return Err(Error::new(format!(
				"{what}: {} vexe keys; name one with --executor",
				keys.len()
			)))
		},
	};
	let signature = keystore
		.ecdsa_sign_prehashed(verity_primitives::EXECUTOR_KEY_TYPE, &key, message)
		.map_err(|e| Error::new(format!("{what}: {e}")))?
		.ok_or_else(|| Error::new(format!("{what}: the key {} cannot sign", hex(key.as_ref()))))?;
	Ok((key, signature.to_raw()))
}

#[derive(Debug, clap::Args)]
pub struct DelegateArgs {
	/// The provider: SS58 address, 0x account id, or a secret URI such as //Alice.
	#[arg(long, value_name = "ACCOUNT")]
	pub provider: String,
	/// Amount: VRT as `1.5`/`1.5VRT` or planck as `1500000000000planck` (`undelegate`: `all`
	/// unbonds the whole delegation).
	#[arg(long, value_name = "AMOUNT")]
	pub amount: String,
}

#[derive(Debug, clap::Args)]
pub struct ProviderArg {
	/// The provider: SS58 address, 0x account id, or a secret URI such as //Alice.
	#[arg(long, value_name = "ACCOUNT")]
	pub provider: String,
}

type ProviderInfo = pallet_providers::ProviderView<AccountId, Balance>;

async fn provider_info(rpc: &Rpc, who: &AccountId) -> Result<Option<ProviderInfo>> {
	rpc.view(pallet_providers::ProviderViewFunction::<Runtime>::new(who.clone()), None).await
}

/// Active stake of `staker` with `provider`.
async fn stake_of(rpc: &Rpc, provider: &AccountId, staker: &AccountId) -> Result<Balance> {
	let view =
		pallet_providers::StakeViewFunction::<Runtime>::new(provider.clone(), staker.clone());
	Ok(rpc.view(view, None).await?.map_or(0, |s| s.active))
}

async fn model_list(rpc: &Rpc, models: &str) -> Result<pallet_providers::ModelsOf<Runtime>> {
	let mut ids = Vec::new();
	for m in models.split(',').map(str::trim).filter(|m| !m.is_empty()) {
		ids.push(resolve(rpc, m).await?.0);
	}
	BoundedVec::try_from(ids).map_err(|_| Error::new("too many models for one provider"))
}

/// The pallet-providers events of a transaction, for `--json`.
fn report(included: &Included) -> Vec<Value> {
	included
		.events
		.iter()
		.filter_map(|e| match e {
			RuntimeEvent::Providers(e) => Some(json!(format!("{e:?}"))),
			_ => None,
		})
		.collect()
}

pub async fn provider(rpc: &Rpc, opts: &Opts, cmd: &ProviderCmd, out: &mut Output) -> Result<()> {
	match cmd {
		ProviderCmd::Register(args) => {
			let signer = Signer::from_opts(opts)?;
			let bond = parse_amount(&args.bond, "--bond")?;
			let commission = parse_percent(&args.commission, "--commission")?;
			let models = model_list(rpc, &args.models).await?;
			let (key, executor_proof) = executor_and_proof(rpc, &args.executor, &signer.account)?;
			let executor = verity_primitives::executor_account(&key);
			let call = RuntimeCall::Providers(pallet_providers::Call::register_provider {
				bond,
				commission,
				models: models.clone(),
				executor: executor.clone(),
				executor_proof,
			});
			let included = rpc.execute(&signer, call, "register_provider").await?;
			out.line(format!(
				"{} is a provider since block #{}: bond {}, commission {commission:?}, {} model(s)",
				signer.account,
				included.number,
				vrt(bond),
				models.len()
			));
			out.line(format!("executor key {} (account {executor})", hex(key.as_ref())));
			out.line("next: insert the executor secret into the provider node's keystore");
			out.line("  verity-node key insert --key-type vexe --scheme ecdsa --suri <executor secret> --base-path <node base path> --chain <chain>");
			out.line(format!("and fund the executor account {executor} for transaction fees"));
			let events = report(&included);
			out.json = json!({
				"provider": signer.account.to_string(),
				"block": included.number,
				"bond": bond.to_string(),
				"commission": commission.deconstruct(),
				"models": models.iter().map(|m| format!("{m:?}")).collect::<Vec<_>>(),
				"executorKey": hex(key.as_ref()),
				"executor": executor.to_string(),
				"events": events,
			});
		},
		ProviderCmd::SetExecutor(args) => {
			let signer = Signer::from_opts(opts)?;
			let (key, executor_proof) = executor_and_proof(rpc, args, &signer.account)?;
			let executor = verity_primitives::executor_account(&key);
			let call = RuntimeCall::Providers(pallet_providers::Call::set_executor {
				executor: executor.clone(),
				executor_proof,
			});
			let included = rpc.execute(&signer, call, "set_executor").await?;
			out.line(format!(
				"{}'s executor key is {} (account {executor}) since block #{}; the old key is revoked",
				signer.account,
				hex(key.as_ref()),
				included.number
			));
			out.line("insert the new executor secret into the provider node's keystore (key type vexe) and fund the account");
			let events = report(&included);
			out.json = json!({
				"provider": signer.account.to_string(),
				"block": included.number,
				"executorKey": hex(key.as_ref()),
				"executor": executor.to_string(),
				"events": events,
			});
		},
		ProviderCmd::ExecutorProof { provider, executor } => {
			let who = match provider {
				Some(p) => parse_account(p, "--provider")?,
				None => Signer::from_opts(opts)
					.map(|s| s.account)
					.map_err(|_| Error::new("give --provider or a valid --suri"))?,
			};
			let (key, proof) = executor_and_proof(rpc, executor, &who)?;
			let account = verity_primitives::executor_account(&key);
			out.line(format!("executor key {} (account {account})", hex(key.as_ref())));
			out.line(format!("proof for provider {who}: {}", hex(&proof)));
			out.json = json!({
				"provider": who.to_string(),
				"executorKey": hex(key.as_ref()),
				"executor": account.to_string(),
				"proof": hex(&proof),
			});
		},
		ProviderCmd::SetModels { models } => {
			let signer = Signer::from_opts(opts)?;
			let models = model_list(rpc, models).await?;
			let call = RuntimeCall::Providers(pallet_providers::Call::set_models {
				models: models.clone(),
			});
			let included = rpc.execute(&signer, call, "set_models").await?;
			out.line(format!(
				"{} serves {} model(s) since block #{}",
				signer.account,
				models.len(),
				included.number
			));
			let events = report(&included);
			out.json = json!({
				"provider": signer.account.to_string(),
				"block": included.number,
				"models": models.iter().map(|m| format!("{m:?}")).collect::<Vec<_>>(),
				"events": events,
			});
		},
		ProviderCmd::Show { provider } => {
			let me = Signer::from_opts(opts).ok().map(|s| s.account);
			let who = match provider {
				Some(p) => parse_account(p, "--provider")?,
				None => {
					me.clone().ok_or_else(|| Error::new("give --provider or a valid --suri"))?
				},
			};
			let info = provider_info(rpc, &who)
				.await?
				.ok_or_else(|| Error::new(format!("{who} is not a provider")))?;
			let own = info.self_bond;
			let yours = match &me {
				Some(me) if *me != who => Some(stake_of(rpc, &who, me).await?),
				_ => None,
			};
			out.line(format!(
				"provider {who}: {:?}, commission {:?}",
				info.status, info.commission
			));
			out.line(format!(
				"  active stake {} (self-bond {}), {} staker(s)",
				vrt(info.active_stake),
				vrt(own),
				info.stakers
			));
			out.line(format!("  executor {}", info.executor));
			for m in info.models.iter() {
				out.line(format!("  serves {m:?}"));
			}
			if let Some(y) = yours {
				out.line(format!("  your stake {}", vrt(y)));
			}
			out.json = json!({
				"provider": who.to_string(),
				"status": format!("{:?}", info.status),
				"commission": info.commission.deconstruct(),
				"activeStake": info.active_stake.to_string(),
				"selfBond": own.to_string(),
				"stakers": info.stakers,
				"executor": info.executor.to_string(),
				"models": info.models.iter().map(|m| format!("{m:?}")).collect::<Vec<_>>(),
				"yourStake": yours.map(|y| y.to_string()),
			});
		},
	}
	Ok(())
}

/// `delegate` (`undelegate` when `undelegate`).
pub async fn delegate(
	rpc: &Rpc,
	opts: &Opts,
	args: &DelegateArgs,
	undelegate: bool,
	out: &mut Output,
) -> Result<()> {
	let signer = Signer::from_opts(opts)?;
	let provider = parse_account(&args.provider, "--provider")?;
	let amount = if undelegate && args.amount.trim().eq_ignore_ascii_case("all") {
		Balance::MAX
	} else {
		parse_amount(&args.amount, "--amount")?
	};
	if provider_info(rpc, &provider).await?.is_none() {
		return Err(Error::new(format!(
			"{provider} is not a provider (Providers::ProviderNotFound)"
		)));
	}
	let before = stake_of(rpc, &provider, &signer.account).await?;
	let (call, what) = if undelegate {
		(pallet_providers::Call::undelegate { provider: provider.clone(), amount }, "undelegate")
	} else {
		(pallet_providers::Call::delegate { provider: provider.clone(), amount }, "delegate")
	};
	let included = rpc.execute(&signer, RuntimeCall::Providers(call), what).await?;
	let after = stake_of(rpc, &provider, &signer.account).await?;
	let shown = if amount == Balance::MAX { "all".to_string() } else { vrt(amount) };
	out.line(format!(
		"{what} {shown} {} {provider} in block #{}: your active stake {} -> {}",
		if undelegate { "from" } else { "to" },
		included.number,
		vrt(before),
		vrt(after)
	));
	if undelegate {
		out.line("the stake unbonds for the chain's unbonding period; then `verity-node client withdraw`");
	}
	let events = report(&included);
	out.json = json!({
		"provider": provider.to_string(),
		"staker": signer.account.to_string(),
		"block": included.number,
		"stakeBefore": before.to_string(),
		"stakeAfter": after.to_string(),
		"events": events,
	});
	Ok(())
}

/// `withdraw` and `claim`.
pub async fn settle(
	rpc: &Rpc,
	opts: &Opts,
	args: &ProviderArg,
	claim: bool,
	out: &mut Output,
) -> Result<()> {
	let signer = Signer::from_opts(opts)?;
	let provider = parse_account(&args.provider, "--provider")?;
	let before = rpc.account(&signer.account).await?.free;
	let (call, what) = if claim {
		(pallet_providers::Call::claim { provider: provider.clone() }, "claim")
	} else {
		(pallet_providers::Call::withdraw { provider: provider.clone() }, "withdraw")
	};
	let included = rpc.execute(&signer, RuntimeCall::Providers(call), what).await?;
	let after = rpc.account(&signer.account).await?.free;
	out.line(format!(
		"{what} from {provider} in block #{}: free balance {} -> {} (after the transaction fee)",
		included.number,
		vrt(before),
		vrt(after)
	));
	let events = report(&included);
	out.json =
		json!({ "provider": provider.to_string(), "block": included.number, "events": events });
	Ok(())
}
