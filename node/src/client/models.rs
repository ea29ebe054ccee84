//! `models` and `register-model`: the model registry.
//!
//! # Spec file (`register-model --spec spec.json`)
//!
//! ```json
//! {
//!   "name": "int8-demo",
//!   "opset": 17,
//!   "price": "0.001",
//!   "acceptance": "exact",
//!   "inputs":  [{ "dtype": "u8", "shape": [1, 64] }],
//!   "outputs": [{ "dtype": "u8", "shape": [1, 10] }],
//!   "reference_input":  [{ "file": "int8.input.bin",  "shape": [1, 64] }],
//!   "reference_output": [{ "file": "int8.output.bin", "shape": [1, 10] }]
//! }
//! ```
//!
//! - `inputs`/`outputs`: one entry per tensor in the graph's order; `dtype` is one of `f32`,
//!   `f16`, `i8`, `u8`, `i32`, `i64`, `bool`; a `null` dimension is symbolic (any size, e.g. a
//!   batch).
//! - `price`: royalty per call paid to the owner, an amount (`"0.001"` VRT or `"…planck"`).
//! - `acceptance`: `"exact"`, `"argmax"`, `{"top_k": 3}` or
//!   `{"tolerance": {"abs": 1e-5, "rel": 1e-3}}` (absolute and relative tolerance as real
//!   numbers, stored in units of 10^-9).
//! - `reference_input`/`reference_output`: one entry per tensor; `file` holds its raw
//!   little-endian values (a path relative to the spec file), `shape` is concrete, `dtype`
//!   defaults to the spec's. They are encoded with `verity_engine::encode_tensors`; validators
//!   certify the model by reproducing the output under the acceptance rule.
//! - Optional: `engine_version` (default: this node's engine; the chain accepts only the
//!   engine version its runtime supports), `uris` (the model is fetched from these URLs instead
//!   of being uploaded on chain), `max_constant_bytes` (the bound of the constants the model's
//!   plan may hold, which the deposit charges per byte; default: the local engine's bound for
//!   the file, `ModelInfo::constants_bound`, the figure every validator's engine computes;
//!   `--max-constant-bytes` overrides both), `execution`: `"native"` (default) or
//!   `"deterministic"` (validators certify, providers serve and jurors judge it in the
//!   deterministic mode, with the same output bits on every node; the rule must be `"exact"`,
//!   and the reference output is the deterministic mode's, which the local check computes).

use super::{
	rpc::Rpc,
	values::{dtype_name, parse_amount, parse_dtype, tensor_from_raw, vrt},
	Error, Opts, Output, Result, Signer,
};
use frame_support::BoundedVec;
use pallet_models::{
	AcceptanceRule, Availability, ExecutionClass, ModelSpecOf, ModelStatus, ModelSummaryOf,
	TensorSpec,
};
use serde::Deserialize;
use serde_json::{json, Value};
use sp_core::H256;
use std::path::{Path, PathBuf};
use verity_runtime::{configs::verity::CHUNK_SIZE, Runtime, RuntimeCall, RuntimeEvent};

#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
	/// The ONNX model file. Its blake2-256 hash is the model id.
	#[arg(long, value_name = "MODEL.onnx")]
	pub file: PathBuf,
	/// The model's spec: a JSON file with name, inputs, outputs, opset, price, acceptance rule
	/// and reference vectors (format in README.md, "Command-line client").
	#[arg(long, value_name = "SPEC.json")]
	pub spec: PathBuf,
	/// After the upload, wait until the validators certify the model (`ModelActivated`) or
	/// reject it (`ModelRejected`, a non-zero exit).
	#[arg(long)]
	pub wait_active: bool,
	/// Skip running the model on its reference input with this machine's engine before
	/// registering (the check saves the deposit of a model validators would reject).
	#[arg(long)]
	pub skip_local_check: bool,
	/// The bound of the constants the model's plan may hold, in bytes, declared in the spec
	/// and charged in the deposit (1 µVRT a byte on the runtime's settings). Validators
	/// reject a model whose engine bound is above it. Default: the spec file's
	/// `max_constant_bytes`, else the local engine's bound for the file (exact: every engine
	/// of the same version computes the same figure from the graph).
	#[arg(long, value_name = "BYTES")]
	pub max_constant_bytes: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
	name: String,
	opset: u32,
	engine_version: Option<u32>,
	price: Value,
	acceptance: Value,
	inputs: Vec<TensorSpecJson>,
	outputs: Vec<TensorSpecJson>,
	reference_input: Vec<TensorFileJson>,
	reference_output: Vec<TensorFileJson>,
	#[serde(default)]
	uris: Vec<String>,
	max_constant_bytes: Option<u64>,
	execution: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TensorSpecJson {
	dtype: String,
	shape: Vec<Option<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TensorFileJson {
	file: PathBuf,
	shape: Vec<u32>,
	dtype: Option<String>,
}

fn acceptance(v: &Value) -> Result<AcceptanceRule> {
	let bad = || {
		Error::new(format!(
			"spec: acceptance {v} is not \"exact\", \"argmax\", {{\"top_k\": K}} or \
			 {{\"tolerance\": {{\"abs\": A, \"rel\": R}}}}"
		))
	};
	if let Some(s) = v.as_str() {
		return match s.to_ascii_lowercase().as_str() {
			"exact" => Ok(AcceptanceRule::Exact),
			"argmax" => Ok(AcceptanceRule::ArgMax),
			_ => Err(bad()),
		};
	}
	let obj = v.as_object().filter(|o| o.len() == 1).ok_or_else(bad)?;
	if let Some(k) = obj.get("top_k") {
		let k =
			k.as_u64().and_then(|k| u32::try_from(k).ok()).filter(|k| *k > 0).ok_or_else(bad)?;
		return Ok(AcceptanceRule::TopK(k));
	}
	let t = obj.get("tolerance").and_then(|t| t.as_object()).ok_or_else(bad)?;
	let units = |name: &str| -> Result<f64> {
		let x = t
			.get(name)
			.and_then(|x| x.as_f64())
			.filter(|x| x.is_finite() && *x >= 0.0)
			.ok_or_else(bad)?;
		Ok((x * 1e9).round())
	};
	let abs = units("abs")?;
	let rel = units("rel")?;
	if abs > u64::MAX as f64 || rel > u32::MAX as f64 {
		return Err(Error::new("spec: tolerance too large (rel at most 4.29, i.e. 429%)"));
	}
	Ok(AcceptanceRule::Tolerance { abs: abs as u64, rel: rel as u32 })
}

fn execution(v: Option<&str>) -> Result<ExecutionClass> {
	match v.map(str::to_ascii_lowercase).as_deref() {
		None | Some("native") => Ok(ExecutionClass::Native),
		Some("deterministic") => Ok(ExecutionClass::Deterministic),
		Some(other) => Err(Error::new(format!(
			"spec: execution \"{other}\" is not \"native\" or \"deterministic\""
		))),
	}
}

fn tensor_specs(list: &[TensorSpecJson], what: &str) -> Result<Vec<TensorSpec>> {
	list.iter()
		.enumerate()
		.map(|(i, t)| {
			TensorSpec::new(parse_dtype(&t.dtype)?, t.shape.clone()).ok_or_else(|| {
				Error::new(format!("spec: {what}[{i}] has rank {}, the most is 8", t.shape.len()))
			})
		})
		.collect()
}

fn reference(
	list: &[TensorFileJson],
	specs: &[TensorSpec],
	dir: &Path,
	what: &str,
) -> Result<Vec<u8>> {
	let mut tensors = Vec::new();
	for (i, t) in list.iter().enumerate() {
		let dtype = match (&t.dtype, specs.get(i)) {
			(Some(d), _) => parse_dtype(d)?,
			(None, Some(s)) => s.dtype,
			(None, None) => {
				return Err(Error::new(format!(
					"spec: {what}[{i}] has no tensor spec to take its dtype from"
				)))
			},
		};
		let path = dir.join(&t.file);
		let data = std::fs::read(&path).map_err(|e| {
			Error::new(format!("spec: {what}[{i}]: cannot read {}: {e}", path.display()))
		})?;
		tensors.push(tensor_from_raw(
			dtype,
			t.shape.clone(),
			data,
			&format!("{what}[{i}] ({})", path.display()),
		)?);
	}
	let encoded = verity_engine::encode_tensors(&tensors);
	verity_engine::check_list(specs, &encoded).map_err(|e| {
		Error::new(format!("spec: {what} does not match the declared tensors: {}", list_error(&e)))
	})?;
	Ok(encoded)
}

/// A tensor-list mismatch in words.
pub fn list_error(e: &verity_engine::ListError) -> String {
	match e {
		verity_engine::ListError::Malformed => "not a canonical tensor list".into(),
		verity_engine::ListError::Count { expected, found } => {
			format!("{found} tensors, expected {expected}")
		},
		verity_engine::ListError::Spec { index, error } => format!("tensor {index}: {error}"),
	}
}

/// Reads and checks a spec file for a model of `byte_size` bytes.
fn load_spec(path: &Path, byte_size: u64) -> Result<ModelSpecOf<Runtime>> {
	let text = std::fs::read_to_string(path)
		.map_err(|e| Error::new(format!("cannot read the spec {}: {e}", path.display())))?;
	let s: SpecFile = serde_json::from_str(&text)
		.map_err(|e| Error::new(format!("spec {}: {e}", path.display())))?;
	let dir = path.parent().unwrap_or(Path::new("."));
	let inputs = tensor_specs(&s.inputs, "inputs")?;
	let outputs = tensor_specs(&s.outputs, "outputs")?;
	let price = match &s.price {
		Value::String(p) => parse_amount(p, "spec: price")?,
		Value::Number(n) => parse_amount(&n.to_string(), "spec: price")?,
		v => return Err(Error::new(format!("spec: price {v} is not an amount like \"0.001\""))),
	};
	let reference_input = reference(&s.reference_input, &inputs, dir, "reference_input")?;
	let reference_output = reference(&s.reference_output, &outputs, dir, "reference_output")?;
	let max_ref = verity_runtime::configs::verity::MAX_REFERENCE_SIZE as usize;
	for (what, v) in
		[("reference_input", &reference_input), ("reference_output", &reference_output)]
	{
		if v.len() > max_ref {
			return Err(Error::new(format!(
				"spec: {what} encodes to {} bytes, the chain's limit is {max_ref}",
				v.len()
			)));
		}
	}
	if s.name.is_empty() || s.name.len() > pallet_models::MAX_NAME_LEN as usize {
		return Err(Error::new("spec: name must be 1 to 64 bytes"));
	}
	let availability = if s.uris.is_empty() {
		Availability::OnChain
	} else {
		let uris = s
			.uris
			.iter()
			.map(|u| BoundedVec::try_from(u.as_bytes().to_vec()))
			.collect::<std::result::Result<Vec<_>, _>>()
			.map_err(|_| Error::new("spec: a URI is longer than 256 bytes"))?;
		Availability::Uris(
			BoundedVec::try_from(uris).map_err(|_| Error::new("spec: at most 4 URIs"))?,
		)
	};
	let too_many = |what: &str| Error::new(format!("spec: more than 16 {what}"));
	Ok(pallet_models::ModelSpec {
		name: BoundedVec::truncate_from(s.name.into_bytes()),
		inputs: BoundedVec::try_from(inputs).map_err(|_| too_many("inputs"))?,
		outputs: BoundedVec::try_from(outputs).map_err(|_| too_many("outputs"))?,
		opset: s.opset,
		engine_version: s.engine_version.unwrap_or(verity_engine::ENGINE_VERSION),
		price_per_call: price,
		acceptance: acceptance(&s.acceptance)?,
		execution: execution(s.execution.as_deref())?,
		byte_size,
		// 0: not declared, filled from the local engine by `register`.
		max_constant_bytes: s.max_constant_bytes.unwrap_or(0),
		availability,
		reference_input: BoundedVec::truncate_from(reference_input),
		reference_output: BoundedVec::truncate_from(reference_output),
	})
}

/// Loads the model with this machine's engine, as a validator would, and fills an undeclared
/// `max_constant_bytes` (0) with the engine's constant bound; unless `load_only`, also checks
/// the declaration and runs the reference input.
fn local_check(
	bytes: &[u8],
	id: H256,
	spec: &mut ModelSpecOf<Runtime>,
	load_only: bool,
) -> Result<()> {
	use verity_engine::engine::{Engine, Limits};
	let engine = Engine::new(Limits::default());
	let io = verity_engine::ModelIo {
		inputs: spec.inputs.to_vec().try_into().map_err(|_| Error::new("too many inputs"))?,
		outputs: spec.outputs.to_vec().try_into().map_err(|_| Error::new("too many outputs"))?,
	};
	let fail = |e: String| {
		if load_only {
			Error::new(format!(
				"cannot compute the model's constant bound: {e} (declare it with \
				 --max-constant-bytes or \"max_constant_bytes\" in the spec)"
			))
		} else {
			Error::new(format!(
				"local check: {e} (validators would reject the model; --skip-local-check \
				 registers anyway)"
			))
		}
	};
	let info = engine
		.load_with_io(bytes, &id.0, Some(&io))
		.map_err(|e| fail(format!("the model does not load: {e}")))?;
	let bound = u64::try_from(info.constants_bound()).unwrap_or(u64::MAX);
	if spec.max_constant_bytes == 0 {
		spec.max_constant_bytes = bound.max(1);
		eprintln!(
			"declaring max_constant_bytes {} (this engine's bound of the constants its plan holds)",
			spec.max_constant_bytes
		);
	} else if bound > spec.max_constant_bytes {
		return Err(fail(format!(
			"its constants would hold {bound} bytes in the plan, more than the {} declared",
			spec.max_constant_bytes
		)));
	}
	if load_only {
		return Ok(());
	}
	let input =
		verity_engine::decode_tensors(&spec.reference_input).map_err(|e| fail(e.to_string()))?;
	let reference =
		verity_engine::decode_tensors(&spec.reference_output).map_err(|e| fail(e.to_string()))?;
	let output = match spec.execution {
		ExecutionClass::Native => engine
			.run(&id.0, &input)
			.map_err(|e| fail(format!("the reference input does not run: {e}")))?,
		ExecutionClass::Deterministic => {
			if spec.acceptance != AcceptanceRule::Exact {
				return Err(fail("a deterministic model's rule must be \"exact\"".into()));
			}
			deterministic_output(bytes, spec, &input).map_err(fail)?
		},
	};
	if !verity_engine::agrees_all(&spec.acceptance, &output, &reference) {
		return Err(fail(format!(
			"the output on the reference input does not agree with reference_output under {:?}",
			spec.acceptance
		)));
	}
	Ok(())
}

/// The deterministic mode's output on `input`, as validators compute it (wasmtime, the host's
/// backend; every backend gives the same bits), under the spec's declared constants.
fn deterministic_output(
	bytes: &[u8],
	spec: &ModelSpecOf<Runtime>,
	input: &[verity_engine::Tensor],
) -> std::result::Result<Vec<verity_engine::Tensor>, String> {
	use verity_deterministic::{Backend, RunLimits, Session};
	let limits = verity_engine::engine::Limits {
		max_constant_bytes: spec.max_constant_bytes,
		..Default::default()
	};
	let mut session = Session::new(Backend::CraneliftNative, RunLimits::default())
		.or_else(|_| Session::new(Backend::Pulley, RunLimits::default()))
		.map_err(|e| format!("the deterministic mode is unavailable here: {e}"))?;
	session.load(bytes, &limits).map_err(|e| format!("the model does not load: {e}"))?;
	session
		.run_tensors(input)
		.map_err(|e| format!("the reference input does not run in the deterministic mode: {e}"))
}

fn status_name(s: &ModelStatus<u32>) -> String {
	match s {
		ModelStatus::Pending => "Pending".into(),
		ModelStatus::Active { since } => format!("Active (since #{since})"),
		ModelStatus::Rejected { at } => format!("Rejected (at #{at})"),
		ModelStatus::Retired { at } => format!("Retired (at #{at})"),
	}
}

/// Model `id` through the registry's read API.
pub async fn model_info(rpc: &Rpc, id: H256) -> Result<Option<ModelSummaryOf<Runtime>>> {
	rpc.view(pallet_models::ModelInfoViewFunction::<Runtime>::new(id), None).await
}

/// A model by `0x` id or by name (which must be unique).
pub async fn resolve(rpc: &Rpc, model: &str) -> Result<(H256, ModelSummaryOf<Runtime>)> {
	if let Some(b) = super::tx::unhex(model).filter(|b| b.len() == 32 && model.starts_with("0x")) {
		let id = H256::from_slice(&b);
		let info = model_info(rpc, id)
			.await?
			.ok_or_else(|| Error::new(format!("no model {model} is registered")))?;
		return Ok((id, info));
	}
	let list = rpc.models().await?;
	let ids: Vec<String> =
		list.iter().filter(|m| m.name == model).map(|m| format!("{:?}", m.id)).collect();
	match ids.as_slice() {
		[id] => Box::pin(resolve(rpc, id)).await,
		[] => Err(Error::new(format!(
			"no model named `{model}` (give its 0x id or a registered name; `verity-node client models` lists them)"
		))),
		_ => Err(Error::new(format!("several models are named `{model}`: give its 0x id ({})", ids.join(", ")))),
	}
}

/// `models`.
pub async fn list(rpc: &Rpc, out: &mut Output) -> Result<()> {
	let models = rpc.models().await?;
	for m in &models {
		let price = m.price_per_call.parse().ok().map(vrt).unwrap_or_default();
		out.line(format!(
			"{:?}  {:<20} {:<22} price {:<12} {} bytes, {}, {}, owner {}",
			m.id, m.name, m.status, price, m.byte_size, m.acceptance, m.execution, m.owner,
		));
	}
	if models.is_empty() {
		out.line("no models registered");
	}
	out.json = json!(models);
	Ok(())
}

/// `register-model`.
pub async fn register(rpc: &Rpc, opts: &Opts, args: &RegisterArgs, out: &mut Output) -> Result<()> {
	let signer = Signer::from_opts(opts)?;
	let bytes = std::fs::read(&args.file)
		.map_err(|e| Error::new(format!("cannot read the model {}: {e}", args.file.display())))?;
	let max = verity_runtime::configs::verity::MAX_MODEL_SIZE as usize;
	let mut spec = load_spec(&args.spec, bytes.len() as u64)?;
	if let Some(declared) = args.max_constant_bytes {
		spec.max_constant_bytes = declared;
	}
	let on_chain = spec.availability == Availability::OnChain;
	if on_chain && bytes.len() > max {
		return Err(Error::new(format!(
			"{} is {} bytes: models above {max} bytes cannot be stored on chain; serve it from \
			 URLs (\"uris\" in the spec)",
			args.file.display(),
			bytes.len()
		)));
	}
	let id = H256(sp_io::hashing::blake2_256(&bytes));
	let name = String::from_utf8_lossy(&spec.name).to_string();
	if !args.skip_local_check {
		eprintln!("checking {name} on its reference input with this machine's engine…");
		local_check(&bytes, id, &mut spec, false)?;
	} else if spec.max_constant_bytes == 0 {
		local_check(&bytes, id, &mut spec, true)?;
	}

	let mut events = Vec::new();
	let info = match model_info(rpc, id).await? {
		None => {
			eprintln!("registering {name} ({id:?}, {} bytes)…", bytes.len());
			let call = RuntimeCall::Models(pallet_models::Call::register_model { hash: id, spec });
			let included = rpc.execute(&signer, call, "register_model").await?;
			for e in &included.events {
				if let RuntimeEvent::Models(pallet_models::Event::ModelRegistered {
					deposit, ..
				}) = e
				{
					out.line(format!(
						"registered {name} as {id:?} in block #{}, deposit {} held",
						included.number,
						vrt(*deposit)
					));
					events.push(
						json!({"event": "ModelRegistered", "block": included.number, "deposit": deposit.to_string()}),
					);
				}
			}
			model_info(rpc, id)
				.await?
				.ok_or_else(|| Error::new("the model is not on chain after registering"))?
		},
		Some(info) => {
			if info.owner != signer.account {
				return Err(Error::new(format!(
					"model {id:?} is already registered by {} ({})",
					info.owner,
					status_name(&info.status)
				)));
			}
			out.line(format!("{id:?} is already registered by you: {}", status_name(&info.status)));
			info
		},
	};

	if on_chain && info.status == ModelStatus::Pending && !info.bytes_verified {
		upload(rpc, &signer, id, &bytes, info.chunks.0, out, &mut events).await?;
	}

	let mut status = status_name(&info.status);
	if args.wait_active {
		status = wait_active(rpc, id, out).await?;
	}
	out.json =
		json!({ "model": format!("{id:?}"), "name": name, "status": status, "events": events });
	Ok(())
}

async fn upload(
	rpc: &Rpc,
	signer: &Signer,
	id: H256,
	bytes: &[u8],
	chunk_count: u32,
	out: &mut Output,
	events: &mut Vec<Value>,
) -> Result<()> {
	// Every chunk missing on chain goes to the pool at once (consecutive nonces); a block
	// takes about three 1 MiB chunks.
	let missing =
		rpc.view(pallet_models::MissingChunksViewFunction::<Runtime>::new(id), None).await?;
	let mut pending = Vec::new();
	for (index, chunk) in bytes.chunks(CHUNK_SIZE as usize).enumerate() {
		let index = index as u32;
		if !missing.contains(&index) {
			continue;
		}
		let call = RuntimeCall::Models(pallet_models::Call::upload_chunk {
			hash: id,
			index,
			bytes: BoundedVec::truncate_from(chunk.to_vec()),
		});
		let what = format!("upload_chunk {}/{chunk_count}", index + 1);
		pending.push(rpc.send(signer, call, &what).await?);
	}
	eprintln!("uploading {} chunk(s)…", pending.len());
	for p in pending {
		let included = rpc.wait(p).await?;
		for e in &included.events {
			match e {
				RuntimeEvent::Models(pallet_models::Event::ChunkUploaded { index, .. }) => {
					out.line(format!(
						"chunk {}/{chunk_count} stored in block #{}",
						index + 1,
						included.number
					));
				},
				RuntimeEvent::Models(pallet_models::Event::ModelBytesVerified { .. }) => {
					out.line(format!(
						"model bytes verified in block #{}; validators now certify it",
						included.number
					));
					events.push(json!({"event": "ModelBytesVerified", "block": included.number}));
				},
				RuntimeEvent::Models(pallet_models::Event::ModelBytesMismatch {
					actual, ..
				}) => {
					return Err(Error::new(format!(
						"the uploaded chunks hash to {actual:?}, not to the model id {id:?}: the chain deleted them"
					)))
				},
				_ => {},
			}
		}
	}
	Ok(())
}

/// Waits until the model leaves `Pending`: `Active` is success, anything else an error.
async fn wait_active(rpc: &Rpc, id: H256, out: &mut Output) -> Result<String> {
	eprintln!("waiting for the validators' certificate…");
	loop {
		let info = model_info(rpc, id)
			.await?
			.ok_or_else(|| Error::new(format!("model {id:?} disappeared")))?;
		match info.status {
			ModelStatus::Pending => rpc.tick("the model to be certified (ModelActivated)").await?,
			ModelStatus::Active { since } => {
				out.line(format!("model {id:?} is active since block #{since} (ModelActivated)"));
				return Ok(status_name(&info.status));
			},
			ModelStatus::Rejected { at } => {
				let mut why = String::from("a validator showed the model unfit");
				if let Some(hash) = rpc.block_hash(at).await? {
					for r in rpc.events(hash).await? {
						if let RuntimeEvent::Models(pallet_models::Event::ModelRejected {
							model,
							attester,
							reason,
						}) = r.event
						{
							if model == id {
								why = format!("validator {attester}: {}", reject_reason(&reason));
							}
						}
					}
				}
				return Err(Error::new(format!(
					"model {id:?} was rejected in block #{at} (ModelRejected): {why}"
				)));
			},
			ModelStatus::Retired { at } => {
				return Err(Error::new(format!("model {id:?} was retired in block #{at}")))
			},
		}
	}
}

/// Why validators rejected a model, in words.
fn reject_reason(reason: &pallet_models::RejectReason) -> String {
	use pallet_models::{Refusal, RejectReason as R};
	match reason {
		R::OutputMismatch { commitment } => format!(
			"its output on the reference input (blake2 {commitment:?}) did not agree with the \
			 reference output under the acceptance rule"
		),
		R::Refused(Refusal::ConstantsOverSpec) => "the constants its plan would hold are more \
			 than the spec's max_constant_bytes"
			.into(),
		R::Refused(Refusal::InvalidModel) => "its engine refused the model (not ONNX, an \
			 operator it does not allow, or over its limits)"
			.into(),
		R::Refused(Refusal::InvalidReference) => {
			"its engine refused the reference input, or the output was too long".into()
		},
		R::Refused(Refusal::OverDeterministicTerms) => "its reference run in the deterministic \
			 mode needed more fuel or memory than the chain gives the model"
			.into(),
		R::ConstantsOverSpec { constant_bytes, declared } => format!(
			"the constants would hold {constant_bytes} bytes, more than the {declared} declared"
		),
		R::TooManyFlops { flops, max } => {
			format!("the model needs {flops} FLOPs a run, more than the per-node capacity of {max}")
		},
		R::FiguresDisagree { recorded, attested } => format!(
			"its engine's figures {attested:?} differ from an earlier attestation's {recorded:?}"
		),
	}
}

/// The tensor specs in one line: `u8 [1, 64]`, `f32 [?, 3]`.
pub fn specs_line(specs: &[TensorSpec]) -> String {
	specs
		.iter()
		.map(|s| {
			let dims: Vec<String> =
				s.dims.iter().map(|d| d.map_or("?".into(), |d| d.to_string())).collect();
			format!("{} [{}]", dtype_name(s.dtype), dims.join(", "))
		})
		.collect::<Vec<_>>()
		.join(", ")
}
