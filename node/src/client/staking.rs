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
	/// The executor's compressed secp256k1 public key (0x + 33 bytes hex).
	#[arg(
		long,
		value_name = "0xKEY",
		required_unless_present = "executor_suri",
		conflicts_with = "executor_suri"
	)]
	pub executor: Option<String>,
	/// Derive the executor key from this secret URI (ecdsa), e.g. //Eve. Insert the same
	/// secret into the node's keystore with `verity-node key insert --key-type vexe --scheme ecdsa`.
	#[arg(long, value_name = "SURI")]
	pub executor_suri: Option<String>,
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
			let key = match (&args.executor, &args.executor_suri) {
				(_, Some(suri)) => ecdsa::Pair::from_string(suri, None)
					.map_err(|e| Error::new(format!("--executor-suri: not a secret URI: {e:?}")))?
					.public(),
				(Some(k), None) => {
					let raw: [u8; 33] =
						super::tx::unhex(k).and_then(|b| b.try_into().ok()).ok_or_else(|| {
							Error::new(format!("--executor {k}: expected 0x and a 33-byte compressed secp256k1 key"))
						})?;
					ecdsa::Public::from_raw(raw)
				},
				(None, None) => return Err(Error::new("give --executor or --executor-suri")),
			};
			let executor = verity_primitives::executor_account(&key);
			let call = RuntimeCall::Providers(pallet_providers::Call::register_provider {
				bond,
				commission,
				models: models.clone(),
				executor: executor.clone(),
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
