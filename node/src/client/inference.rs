//! `request`, `challenge`, `receipt`: pallet-inference and pallet-disputes.

use super::{
	models::{list_error, resolve, specs_line},
	rpc::Rpc,
	tx::hex,
	values::{
		parse_amount, parse_dtype, parse_shape, tensor_from_f32_list, tensor_from_raw, tensor_json,
		tensor_line, vrt,
	},
	Error, Opts, Output, Result, Signer,
};
use crate::rpc::verity::{RequestEntry, ResultEntry};
use frame_support::BoundedVec;
use jsonrpsee::rpc_params;
use pallet_inference::{Policy, RequestStatus};
use pallet_models::ModelStatus;
use serde_json::{json, Value};
use sp_core::{ecdsa, H256};
use std::path::PathBuf;
use verity_runtime::{configs::verity::ExecutionFee, Runtime, RuntimeCall, RuntimeEvent};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Wait {
	/// Until the request is in a block (its id and executors are known).
	Included,
	/// Until a result is posted (provisional during the challenge window).
	Provisional,
	/// Until the result is final (after the challenge window, or a redundant agreement) in a
	/// GRANDPA-finalized block.
	Finalized,
}

#[derive(Debug, clap::Args)]
pub struct RequestArgs {
	/// The model: its 0x id or registered name.
	#[arg(long, value_name = "MODEL")]
	pub model: String,
	/// File holding the input as a canonical tensor list (`verity_engine::encode_tensors`).
	#[arg(long, value_name = "FILE", conflicts_with_all = ["f32", "raw"])]
	pub input: Option<PathBuf>,
	/// A single f32 input tensor: comma-separated values, with --shape.
	#[arg(long, value_name = "VALUES", requires = "shape", conflicts_with = "raw")]
	pub f32: Option<String>,
	/// A single input tensor from a file of raw little-endian values, with --dtype and --shape.
	#[arg(long, value_name = "FILE", requires_all = ["shape", "dtype"])]
	pub raw: Option<PathBuf>,
	/// Element type of the --raw tensor: f32, f16, i8, u8, i32, i64, bool.
	#[arg(long, value_name = "DTYPE")]
	pub dtype: Option<String>,
	/// Shape of the --f32/--raw tensor, e.g. 1,64.
	#[arg(long, value_name = "DIMS")]
	pub shape: Option<String>,
	/// `optimistic` (one executor, challengeable result) or `redundant:K` (K executors whose
	/// outputs must agree, 2 <= K <= 5).
	#[arg(long, default_value = "optimistic", value_name = "POLICY")]
	pub policy: String,
	/// Most the request may cost (royalty + execution fees), e.g. `0.02` VRT; default: the
	/// fee the chain will hold.
	#[arg(long, value_name = "AMOUNT")]
	pub max_fee: Option<String>,
	/// What to wait for before printing.
	#[arg(long, value_enum, default_value = "provisional")]
	pub wait: Wait,
	/// Submit without first checking the model's status and the input against its spec (the
	/// chain checks them anyway and fails the transaction, which still costs its fee).
	#[arg(long)]
	pub no_precheck: bool,
}

#[derive(Debug, clap::Args)]
pub struct ChallengeArgs {
	/// The request whose provisional result is challenged.
	#[arg(long, value_name = "ID")]
	pub request: u64,
	/// Wait for the dispute's verdict.
	#[arg(long)]
	pub wait: bool,
}

#[derive(Debug, clap::Args)]
pub struct ReceiptArgs {
	/// The request.
	#[arg(long, value_name = "ID")]
	pub request: u64,
}

type Request = pallet_inference::RequestViewOf<Runtime>;

fn parse_policy(s: &str) -> Result<Policy> {
	let t = s.trim().to_ascii_lowercase();
	if t == "optimistic" {
		return Ok(Policy::Optimistic);
	}
	t.strip_prefix("redundant:")
		.and_then(|k| k.trim().parse::<u32>().ok())
		.filter(|k| (2..=verity_runtime::configs::verity::MAX_REDUNDANCY).contains(k))
		.map(Policy::Redundant)
		.ok_or_else(|| {
			Error::new(format!(
				"--policy {s}: expected `optimistic` or `redundant:K` with 2 <= K <= 5"
			))
		})
}

fn input_bytes(args: &RequestArgs) -> Result<Vec<u8>> {
	let shape = args.shape.as_deref().map(parse_shape).transpose()?;
	match (&args.input, &args.f32, &args.raw, shape) {
		(Some(path), None, None, _) =>
			std::fs::read(path).map_err(|e| Error::new(format!("cannot read --input {}: {e}", path.display()))),
		(None, Some(values), None, Some(shape)) =>
			Ok(verity_engine::encode_tensors(&[tensor_from_f32_list(values, shape)?])),
		(None, None, Some(path), Some(shape)) => {
			let dtype = parse_dtype(args.dtype.as_deref().unwrap_or_default())?;
			let data = std::fs::read(path).map_err(|e| Error::new(format!("cannot read --raw {}: {e}", path.display())))?;
			let what = format!("--raw {}", path.display());
			Ok(verity_engine::encode_tensors(&[tensor_from_raw(dtype, shape, data, &what)?]))
		},
		_ => Err(Error::new("give the input: --input FILE, --f32 VALUES --shape DIMS, or --raw FILE --dtype D --shape DIMS")),
	}
}

/// The request as of the best block, or as of the GRANDPA-finalized block when `finalized`
/// (a `Finalized` status in a best block could still be reorganized away).
async fn request_at(rpc: &Rpc, id: u64, finalized: bool) -> Result<Option<Request>> {
	let at = match finalized {
		true => Some(rpc.call::<H256>("chain_getFinalizedHead", rpc_params![]).await?),
		false => None,
	};
	rpc.view(pallet_inference::RequestInfoViewFunction::<Runtime>::new(id), at).await
}

/// `request`: check it locally (unless `--no-precheck`), submit it, report its executors, wait
/// for its result and check the receipt.
pub async fn request(rpc: &Rpc, opts: &Opts, args: &RequestArgs, out: &mut Output) -> Result<()> {
	let signer = Signer::from_opts(opts)?;
	let (model, info) = resolve(rpc, &args.model).await?;
	let name = String::from_utf8_lossy(&info.name).to_string();
	let input = input_bytes(args)?;
	let policy = parse_policy(&args.policy)?;
	let fee = info
		.price_per_call
		.saturating_add(ExecutionFee::get().saturating_mul(policy.executors().into()));
	let max_fee = match &args.max_fee {
		Some(m) => parse_amount(m, "--max-fee")?,
		None => fee,
	};
	if !args.no_precheck {
		precheck(
			rpc,
			&Precheck { model, name: &name, info: &info, input: &input, policy, fee, max_fee },
		)
		.await?;
	}

	let call = RuntimeCall::Inference(pallet_inference::Call::request {
		model,
		input: BoundedVec::truncate_from(input),
		max_fee,
		policy,
	});
	let included = rpc.execute(&signer, call, "request").await?;
	let mut id = None;
	let mut held = 0;
	for e in &included.events {
		if let RuntimeEvent::Inference(pallet_inference::Event::Requested {
			request, fee, ..
		}) = e
		{
			id = Some(*request);
			held = *fee;
		}
	}
	let id =
		id.ok_or_else(|| Error::new(format!("no Requested event in block #{}", included.number)))?;
	out.line(format!(
		"request {id}: {name} ({model:?}), {policy:?}, fee {} held, in block #{}",
		vrt(held),
		included.number
	));
	let mut req = request_at(rpc, id, false)
		.await?
		.ok_or_else(|| Error::new(format!("request {id} is not in storage")))?;
	if let RequestStatus::Drawing { at } = req.status {
		out.line(format!(
			"  executors drawn in block #{at}, from randomness revealed after block #{}",
			included.number
		));
		if args.wait != Wait::Included {
			while matches!(req.status, RequestStatus::Drawing { .. }) {
				rpc.tick(&format!("the draw of request {id}'s executors")).await?;
				req = request_at(rpc, id, false).await?.ok_or_else(|| {
					Error::new(format!("request {id} disappeared from storage (pruned)"))
				})?;
			}
		}
	}
	for (slot, a) in req.executors.iter().enumerate() {
		out.line(format!("  slot {slot}: provider {} executor {}", a.provider, a.executor));
	}
	let mut json = json!({
		"request": id,
		"block": included.number,
		"model": format!("{model:?}"),
		"policy": format!("{policy:?}"),
		"fee": held.to_string(),
		"executors": req.executors.iter().map(|a| json!({
			"provider": a.provider.to_string(),
			"executor": a.executor.to_string(),
		})).collect::<Vec<_>>(),
	});
	if args.wait == Wait::Included {
		json["status"] = json!(format!("{:?}", req.status));
		out.json = json;
		return Ok(());
	}

	let status = wait_for_result(rpc, id, args.wait).await?;
	out.line(format!("status: {status:?}"));
	json["status"] = json!(format!("{status:?}"));
	let (result, decoded, check) = result_and_receipt(rpc, id, out).await?;
	json["output"] = decoded;
	json["outputHash"] = json!(result.output_hash);
	json["receipt"] = json!(result.receipt);
	json["receiptCheck"] = check;
	out.json = json;
	Ok(())
}

/// What `request` checks before submitting.
struct Precheck<'a> {
	model: H256,
	name: &'a str,
	info: &'a pallet_models::ModelSummaryOf<Runtime>,
	input: &'a [u8],
	policy: Policy,
	fee: verity_runtime::Balance,
	max_fee: verity_runtime::Balance,
}

/// The checks `request` makes on chain, made here first so that a mistake costs no fee. The
/// chain's error is named so that the two paths read alike.
async fn precheck(rpc: &Rpc, c: &Precheck<'_>) -> Result<()> {
	let Precheck { model, name, info, input, policy, fee, max_fee } = c;
	if !matches!(info.status, ModelStatus::Active { .. }) {
		return Err(Error::new(format!(
			"model {name} ({model:?}) is {:?}, not active: it takes no requests (Inference::ModelNotActive)",
			info.status
		)));
	}
	let max = verity_runtime::configs::verity::MAX_IO_SIZE as usize;
	if input.len() > max {
		return Err(Error::new(format!(
			"the input is {} bytes, the chain takes at most {max}",
			input.len()
		)));
	}
	if let Err(e) = verity_engine::check_list(&info.inputs, input) {
		let chain_error = match e {
			verity_engine::ListError::Malformed => "MalformedInput",
			verity_engine::ListError::Count { .. } => "InputCountMismatch",
			verity_engine::ListError::Spec { .. } => "InputSpecMismatch",
		};
		return Err(Error::new(format!(
			"the input does not fit model {name}, which takes {}: {} (Inference::{chain_error})",
			specs_line(&info.inputs),
			list_error(&e)
		)));
	}
	let serving = rpc
		.view(pallet_providers::ProvidersOfViewFunction::<Runtime>::new(*model), None)
		.await?
		.len();
	if (serving as u32) < policy.executors() {
		return Err(Error::new(format!(
			"model {name} is served by {serving} provider(s), {policy:?} needs {} (Inference::NotEnoughProviders)",
			policy.executors()
		)));
	}
	if fee > max_fee {
		return Err(Error::new(format!(
			"the request costs {} (royalty {} + execution fees), above --max-fee {} (Inference::FeeAboveMax)",
			vrt(*fee),
			vrt(info.price_per_call),
			vrt(*max_fee)
		)));
	}
	Ok(())
}

/// Waits until request `id` reaches what `wait` asks for; its status then. A refund is an
/// error that says why.
async fn wait_for_result(rpc: &Rpc, id: u64, wait: Wait) -> Result<RequestStatus<u32>> {
	eprintln!(
		"waiting for the {} result of request {id}…",
		if wait == Wait::Finalized { "final" } else { "provisional" }
	);
	let mut said_disputed = false;
	loop {
		let req = request_at(rpc, id, wait == Wait::Finalized)
			.await?
			.ok_or_else(|| Error::new(format!("request {id} disappeared from storage (pruned)")))?;
		match req.status {
			RequestStatus::Refunded { at, reason } => {
				return Err(Error::new(format!(
					"request {id} was refunded in block #{at} ({reason:?}): {}; the fee went back to you",
					match reason {
						pallet_inference::RefundReason::NoResult =>
							"no executor posted a result (they missed their deadlines or could not run the model)",
						pallet_inference::RefundReason::NoCorrectResult => "the jury found every posted output wrong",
						pallet_inference::RefundReason::Undecided =>
							"the executors disagreed and no jury decided which output is right",
					}
				)))
			},
			RequestStatus::Finalized { .. } => return Ok(req.status),
			RequestStatus::Provisional { .. } if wait == Wait::Provisional => return Ok(req.status),
			RequestStatus::Disputed if wait == Wait::Provisional => return Ok(req.status),
			RequestStatus::Disputed if !said_disputed => {
				said_disputed = true;
				eprintln!("request {id} is disputed; waiting for the jury's verdict…");
			},
			_ => {},
		}
		rpc.tick(&format!("the {wait:?} result of request {id}").to_lowercase()).await?;
	}
}

/// Reads `verity_request`/`verity_result`, prints the output, checks the receipt. Returns the
/// result, its decoded output (JSON) and the receipt check.
async fn result_and_receipt(
	rpc: &Rpc,
	id: u64,
	out: &mut Output,
) -> Result<(ResultEntry, Value, Value)> {
	let req = rpc.verity_request(id).await?.ok_or_else(|| {
		Error::new(format!("no request {id} on chain (never made, or pruned a day after it ended)"))
	})?;
	let result = rpc.verity_result(id).await?.ok_or_else(|| {
		Error::new(format!("request {id} has no result yet (status {})", req.status))
	})?;
	let tensors = verity_engine::decode_tensors(&result.output).map_err(|e| {
		Error::new(format!("the output of request {id} is not canonical tensors: {e}"))
	})?;
	for (i, t) in tensors.iter().enumerate() {
		out.line(format!("output {i}: {}", tensor_line(t)));
	}
	out.line(format!("output hash {:?}", result.output_hash));
	let decoded = json!(tensors.iter().map(tensor_json).collect::<Vec<_>>());
	let check = verify_receipt(&rpc.chain.genesis, id, &req, &result)?;
	out.line(format!("receipt {}", serde_json::to_string(&result.receipt).unwrap_or_default()));
	out.line(format!(
		"receipt verified: signed by {} (executor account {}) over the message of request {id}",
		check["signerAddress"].as_str().unwrap_or_default(),
		check["executor"].as_str().unwrap_or_default()
	));
	Ok((result, decoded, check))
}

/// Checks a receipt locally from what the node reported: the message is the receipt message
/// of (the chain's genesis hash, as read at connection, request, model, input hash, output
/// hash), the output hashes to the output hash, the signature is canonical (low `s`, `v` of 0
/// or 1) and recovers to the reported signer address, and the recovered key is the executor
/// assigned to the request.
fn verify_receipt(
	genesis: &H256,
	id: u64,
	req: &RequestEntry,
	result: &ResultEntry,
) -> Result<Value> {
	let Some(receipt) = &result.receipt else {
		return Err(Error::new(format!(
			"request {id} has no executor receipt: its output was set by a jury (ResultCorrected)"
		)));
	};
	let bad = |what: &str| Error::new(format!("receipt of request {id} does not verify: {what}"));
	if H256(sp_io::hashing::blake2_256(&result.output)) != result.output_hash {
		return Err(bad("the output does not hash to the output hash"));
	}
	let message = pallet_inference::receipt_message(
		genesis,
		id,
		&req.model,
		&req.input_hash,
		&result.output_hash,
	);
	if receipt.message.0 != message {
		return Err(bad(
			"the node's message is not the receipt message of this request on this chain",
		));
	}
	let signature: [u8; 65] =
		receipt.signature.to_vec().try_into().map_err(|_| bad("the signature is not 65 bytes"))?;
	if !verity_primitives::is_canonical_signature(&signature) {
		return Err(bad("the signature is not canonical (high s, or v not 0 or 1)"));
	}
	let address = pallet_inference::receipt_signer_address(&message, &signature)
		.ok_or_else(|| bad("the signature does not recover to a key"))?;
	let reported = receipt.signer_address.clone().unwrap_or_default().to_ascii_lowercase();
	if hex(&address) != reported {
		return Err(bad(&format!("it recovers to {}, the node says {reported}", hex(&address))));
	}
	let key = sp_io::crypto::secp256k1_ecdsa_recover_compressed(&signature, &message)
		.map_err(|_| bad("the signature does not recover to a key"))?;
	let executor = verity_primitives::executor_account(&ecdsa::Public::from_raw(key)).to_string();
	if receipt.executor.as_deref() != Some(executor.as_str()) {
		return Err(bad(&format!(
			"it was signed by executor account {executor}, not {:?}",
			receipt.executor
		)));
	}
	if !req.executors.iter().any(|e| e.executor == executor) {
		return Err(bad(&format!("executor account {executor} was not assigned to the request")));
	}
	Ok(json!({
		"verified": true,
		"message": hex(&message),
		"genesisHash": hex(genesis.as_bytes()),
		"signerAddress": hex(&address),
		"executor": executor,
	}))
}

/// `receipt`.
pub async fn receipt(rpc: &Rpc, args: &ReceiptArgs, out: &mut Output) -> Result<()> {
	let id = args.request;
	let status = rpc.verity_request(id).await?.map(|r| r.status);
	if let Some(status) = &status {
		out.line(format!("request {id}: {status}"));
	}
	let (result, decoded, check) = result_and_receipt(rpc, id, out).await?;
	out.json = json!({
		"request": id,
		"status": status,
		"output": decoded,
		"outputHash": result.output_hash,
		"by": result.by,
		"receipt": result.receipt,
		"receiptCheck": check,
	});
	Ok(())
}

/// `challenge`.
pub async fn challenge(
	rpc: &Rpc,
	opts: &Opts,
	args: &ChallengeArgs,
	out: &mut Output,
) -> Result<()> {
	let signer = Signer::from_opts(opts)?;
	let id = args.request;
	let req = request_at(rpc, id, false).await?.ok_or_else(|| {
		Error::new(format!("no request {id} on chain (Inference::RequestNotFound)"))
	})?;
	if !matches!(req.status, RequestStatus::Provisional { .. }) {
		return Err(Error::new(format!(
			"request {id} is {:?}: only a provisional result can be challenged, within its window",
			req.status
		)));
	}
	let bond = verity_runtime::configs::verity::ChallengeBond::get();
	let included = rpc
		.execute(
			&signer,
			RuntimeCall::Disputes(pallet_disputes::Call::challenge { request: id }),
			"challenge",
		)
		.await?;
	out.line(format!(
		"challenged request {id} in block #{}, bond {} held",
		included.number,
		vrt(bond)
	));
	let mut events = Vec::new();
	let mut draw_at = None;
	let mut report = |e: &RuntimeEvent, events: &mut Vec<Value>| match e {
		RuntimeEvent::Disputes(pallet_disputes::Event::DisputeOpened {
			request,
			jurors,
			commit_end,
			reveal_end,
			..
		}) if *request == id => {
			out.line(format!(
				"  jury of {}: commits until block #{commit_end}, reveals until #{reveal_end}",
				jurors.len()
			));
			events.push(json!(format!("{e:?}")));
		},
		RuntimeEvent::Disputes(pallet_disputes::Event::JuryDrawScheduled {
			request, at, ..
		}) if *request == id => {
			out.line(format!("  the jury is drawn in block #{at}"));
			events.push(json!(format!("{e:?}")));
		},
		RuntimeEvent::Disputes(e) => {
			out.line(format!("  {e:?}"));
			events.push(json!(format!("{e:?}")));
		},
		RuntimeEvent::Inference(e) => {
			out.line(format!("  {e:?}"));
			events.push(json!(format!("{e:?}")));
		},
		_ => {},
	};
	for e in &included.events {
		if let RuntimeEvent::Disputes(pallet_disputes::Event::JuryDrawScheduled {
			request,
			at,
			..
		}) = e
		{
			if *request == id {
				draw_at = Some(*at);
			}
		}
		report(e, &mut events);
	}
	// The jury is drawn from randomness revealed after the challenge's block: report the
	// draw's block too (its `DisputeOpened`, or a conclusion without jurors).
	if let Some(at) = draw_at {
		let hash = loop {
			match rpc.block_hash(at).await? {
				Some(hash) => break hash,
				None => rpc.tick(&format!("block #{at}, where the jury is drawn")).await?,
			}
		};
		for record in rpc.events(hash).await? {
			match &record.event {
				RuntimeEvent::Disputes(
					pallet_disputes::Event::DisputeOpened { request, .. }
					| pallet_disputes::Event::DisputeResolved { request, .. },
				) if *request == id => report(&record.event, &mut events),
				_ => {},
			}
		}
	}
	let mut status = request_at(rpc, id, false).await?.map(|r| r.status);
	if args.wait {
		eprintln!("waiting for the verdict on request {id}…");
		while matches!(status, Some(RequestStatus::Disputed)) {
			rpc.tick(&format!("the verdict on request {id}")).await?;
			status = request_at(rpc, id, false).await?.map(|r| r.status);
		}
	}
	let status = status.map(|s| format!("{s:?}")).unwrap_or_else(|| "pruned".into());
	out.line(format!("request {id}: {status}"));
	out.json = json!({ "request": id, "block": included.number, "bond": bond.to_string(), "status": status, "events": events });
	Ok(())
}
