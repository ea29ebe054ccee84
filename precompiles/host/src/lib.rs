//! # verity-host
//!
//! Host functions that give runtime code (off-chain workers, and later contract precompiles)
//! access to the node's native inference engine.
//!
//! ## Interface
//! [`inference`] is a `#[runtime_interface]`. Each function exchanges only primitives and byte
//! slices with the host and returns a `u64` *status* ([`Status`]): the high byte is an error code
//! ([`HostError::code`]), the low 32 bits a value (an output length, or a boolean). Outputs are
//! written into a buffer the caller provides (the allocating return strategies are deprecated
//! in sp-runtime-interface 37). Decoding a status is total: an unknown code becomes
//! [`HostError::Unknown`], so a newer node can never make an older runtime panic.
//!
//! Use the wrappers [`run`], [`verify`], [`model_available`] and [`load_model`], which allocate
//! the buffer and decode the status into a `Result`.
//!
//! **Stability**: a host function, once shipped, is supported forever. Never change one in
//! place: add `#[version(2)]` with the new signature and keep version 1 working.
//!
//! ## Host side
//! On the node, the functions are backed by the [`InferenceExt`] externalities extension, which
//! holds a [`HostBackend`]: an `Arc<Engine>` (plan cache) and a content-addressed on-disk
//! [`ModelStore`]. Register it for off-chain workers (their custom extensions) and wherever
//! else runtime code may call it. Where it is not registered every function returns
//! [`HostError::Unavailable`]; nothing panics. Export [`HostFunctions`] to the executor.
//!
//! ## Determinism
//! `run` returns whatever the local CPU's kernels produce: do not use it in block execution
//! unless the model's acceptance rule is `Exact` on an integer model. `verify` applies the
//! model's acceptance rule, which is what consensus code should compare with.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime_interface::{
	pass_by::{
		PassFatPointerAndRead, PassFatPointerAndWrite, PassPointerAndRead, PassPointerAndWrite,
	},
	runtime_interface,
};
use verity_engine::{AcceptanceRule, ModelHash};

#[cfg(feature = "std")]
mod backend;
#[cfg(feature = "std")]
pub use backend::{
	perturb, HostBackend, InferenceExt, ModelStore, NextIndex, PoolNonceExt, StoreError,
};
#[cfg(feature = "std")]
pub mod metrics;
#[cfg(feature = "std")]
pub use native::warm_up_deterministic;

/// Why an inference host call failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum HostError {
	/// The node did not register the inference extension for this context.
	Unavailable,
	/// The model is neither loaded nor in the node's model store.
	ModelNotFound,
	/// The stored model failed validation (corrupt, unsupported, over limits).
	InvalidModel,
	/// The input is not canonical tensors, or does not match the model's input spec.
	InvalidInput,
	/// The engine failed while running the model.
	ExecutionFailed,
	/// The run exceeded the node's wall-time limit.
	Timeout,
	/// The node is running as many inferences as it allows; retry later.
	Busy,
	/// The encoded output needs `needed` bytes, more than the buffer offered.
	OutputTooLarge { needed: u32 },
	/// The claimed output given to `verify` is not canonical tensors.
	InvalidOutput,
	/// The acceptance rule given to `verify` does not decode.
	InvalidRule,
	/// The constants the model's plan would hold (its constant bound, computed from the graph
	/// alike on every node) are more than the limit its registered spec declares; nothing was
	/// folded. The node logs both figures.
	ConstantsOverSpec,
	/// The node's engine ([`engine_version`]) is not the version the model's spec names:
	/// runtime code refuses to run the model here (never returned by the host itself).
	EngineVersionMismatch,
	/// A deterministic-mode run ([`run_deterministic`]) used all the fuel its terms gave it.
	OutOfFuel,
	/// A deterministic-mode run needed more linear memory than its terms allow.
	OutOfMemory,
	/// A code this runtime does not know (from a newer node).
	Unknown(u8),
}

impl HostError {
	/// The status code of this error (never 0, which means success).
	pub fn code(&self) -> u8 {
		match self {
			HostError::Unavailable => 1,
			HostError::ModelNotFound => 2,
			HostError::InvalidModel => 3,
			HostError::InvalidInput => 4,
			HostError::ExecutionFailed => 5,
			HostError::Timeout => 6,
			HostError::Busy => 7,
			HostError::OutputTooLarge { .. } => 8,
			HostError::InvalidOutput => 9,
			HostError::InvalidRule => 10,
			HostError::ConstantsOverSpec => 11,
			HostError::EngineVersionMismatch => 12,
			HostError::OutOfFuel => 13,
			HostError::OutOfMemory => 14,
			HostError::Unknown(c) => *c,
		}
	}
}

/// The `u64` every inference host function returns: `code << 32 | value`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Status(pub u64);

impl Status {
	pub fn ok(value: u32) -> Self {
		Self(u64::from(value))
	}

	pub fn err(e: HostError) -> Self {
		let value = match e {
			HostError::OutputTooLarge { needed } => needed,
			_ => 0,
		};
		Self((u64::from(e.code()) << 32) | u64::from(value))
	}

	pub fn from_result(r: Result<u32, HostError>) -> Self {
		match r {
			Ok(v) => Self::ok(v),
			Err(e) => Self::err(e),
		}
	}

	/// Decode; total over all `u64`.
	pub fn into_result(self) -> Result<u32, HostError> {
		let code = (self.0 >> 32) as u8;
		let value = self.0 as u32;
		Err(match code {
			0 => return Ok(value),
			1 => HostError::Unavailable,
			2 => HostError::ModelNotFound,
			3 => HostError::InvalidModel,
			4 => HostError::InvalidInput,
			5 => HostError::ExecutionFailed,
			6 => HostError::Timeout,
			7 => HostError::Busy,
			8 => HostError::OutputTooLarge { needed: value },
			9 => HostError::InvalidOutput,
			10 => HostError::InvalidRule,
			11 => HostError::ConstantsOverSpec,
			12 => HostError::EngineVersionMismatch,
			13 => HostError::OutOfFuel,
			14 => HostError::OutOfMemory,
			c => HostError::Unknown(c),
		})
	}
}

/// Inference host functions. Version 1 of each; see the crate docs on versioning.
#[runtime_interface]
pub trait Inference {
	/// Run `model` on `input` (canonical SCALE tensor list), writing the canonical output list
	/// into the start of `output`. Status value: the number of bytes written.
	fn run(
		&mut self,
		model: PassPointerAndRead<&[u8; 32], 32>,
		input: PassFatPointerAndRead<&[u8]>,
		output: PassFatPointerAndWrite<&mut [u8]>,
	) -> u64 {
		native::run(&mut **self, model, input, output).0
	}

	/// Version 2: as version 1, for a [`Purpose`] (code): a `--dev` node started with `--dev-faulty-executor` perturbs [`Purpose::Execute`]
	/// outputs (and only those), to exercise disputes.
	#[version(2)]
	fn run(
		&mut self,
		model: PassPointerAndRead<&[u8; 32], 32>,
		input: PassFatPointerAndRead<&[u8]>,
		output: PassFatPointerAndWrite<&mut [u8]>,
		purpose: u32,
	) -> u64 {
		native::run_for(&mut **self, model, input, output, purpose).0
	}

	/// Version 3: as version 2, within `timeout_ms` milliseconds of wall time instead of the
	/// node's own limit (`--inference-timeout-ms`): the run bound the chain derives from the
	/// model's FLOPs, so every node gives a model the same time. [`HostError::Timeout`] past it.
	/// [`NODE_TIMEOUT`] (`u32::MAX`) asks for the node's own limit.
	#[version(3)]
	fn run(
		&mut self,
		model: PassPointerAndRead<&[u8; 32], 32>,
		input: PassFatPointerAndRead<&[u8]>,
		output: PassFatPointerAndWrite<&mut [u8]>,
		purpose: u32,
		timeout_ms: u32,
	) -> u64 {
		native::run_within(&mut **self, model, input, output, purpose, timeout_ms).0
	}

	/// The version of the node's engine (`verity_engine::ENGINE_VERSION`), which a model's
	/// spec names (`engine_version`): runtime code runs a model only on an engine of its
	/// version. Status value: the version.
	fn engine_version(&mut self) -> u64 {
		native::engine_version(&mut **self).0
	}

	/// Run `model` on `input` and compare the result with `claimed` (canonical tensor list)
	/// under `rule` (SCALE-encoded [`AcceptanceRule`]). Status value: 1 agree, 0 disagree.
	fn verify(
		&mut self,
		model: PassPointerAndRead<&[u8; 32], 32>,
		input: PassFatPointerAndRead<&[u8]>,
		claimed: PassFatPointerAndRead<&[u8]>,
		rule: PassFatPointerAndRead<&[u8]>,
	) -> u64 {
		native::verify(&mut **self, model, input, claimed, rule).0
	}

	/// Whether the node can run `model` (loaded, or in its model store). Status value: 1 or 0.
	fn model_available(&mut self, model: PassPointerAndRead<&[u8; 32], 32>) -> u64 {
		native::model_available(&mut **self, model).0
	}

	/// Load `model` (from the node's store unless its plan is cached) and check it against
	/// `max_constant_bytes`, the most bytes of constants its registered spec declares its plan
	/// may hold (`u64::MAX`: no declaration, the node's own limits only). Writes the SCALE
	/// encoding of the model's [`ModelBounds`] into the start of `report`. Status value: the
	/// number of bytes written; [`HostError::ConstantsOverSpec`] when the model's constant bound
	/// is above `max_constant_bytes`, [`HostError::InvalidModel`] when the engine refuses it
	/// otherwise.
	fn load_model(
		&mut self,
		model: PassPointerAndRead<&[u8; 32], 32>,
		max_constant_bytes: u64,
		report: PassFatPointerAndWrite<&mut [u8]>,
	) -> u64 {
		native::load_model(&mut **self, model, max_constant_bytes, report).0
	}

	/// Count an off-chain worker duty (a [`Duty`] code) in the node's metrics. Status value: 1
	/// if counted, 0 if the node keeps no metrics or the code is unknown.
	fn record_duty(&mut self, duty: u32) -> u64 {
		native::record_duty(&mut **self, duty).0
	}

	/// Put `bytes` into the node's model store if they hash (blake2-256) to `model`; workers
	/// call it with bytes assembled from on-chain chunks or fetched from a model's URIs.
	/// `InvalidModel` when the hash differs. Status value: 1.
	fn put_model(
		&mut self,
		model: PassPointerAndRead<&[u8; 32], 32>,
		bytes: PassFatPointerAndRead<&[u8]>,
	) -> u64 {
		native::put_model(&mut **self, model, bytes).0
	}

	/// Run `model` (the ONNX bytes themselves) on `input` (canonical tensor list) in the
	/// deterministic mode (`verity-deterministic`: the engine compiled to WebAssembly, run by
	/// wasmtime) under `terms` (SCALE-encoded [`DeterministicTerms`]). The output bytes, the
	/// fuel and every failure are the same on every node and CPU, so block execution may call
	/// it: it needs no extension and reads nothing but its arguments. Writes the canonical
	/// output list into the start of `output` and the fuel used (little-endian) into
	/// `fuel_used`. Status value: the number of output bytes. Errors: `InvalidModel`,
	/// `InvalidInput`, `ExecutionFailed` (the model failed while running), `OutOfFuel`,
	/// `OutOfMemory`, `OutputTooLarge`, all deterministic; `Unavailable` when this node cannot
	/// run the mode at all (a node fault: its state would differ, so it would not import the
	/// block).
	fn run_deterministic(
		&mut self,
		model: PassFatPointerAndRead<&[u8]>,
		input: PassFatPointerAndRead<&[u8]>,
		terms: PassFatPointerAndRead<&[u8]>,
		output: PassFatPointerAndWrite<&mut [u8]>,
		fuel_used: PassPointerAndWrite<&mut [u8; 8], 8>,
	) -> u64 {
		native::run_deterministic(model, input, terms, output, fuel_used).0
	}

	/// [`run_deterministic`](inference::run_deterministic) on `model` taken from the node's
	/// model store (by hash), for an off-chain duty's `purpose` (a [`Purpose`] code): how
	/// executors, jurors and attesters run a model of execution class `Deterministic`, so that
	/// every honest node gives the same bits. A `--dev` node started with
	/// `--dev-faulty-executor` perturbs [`Purpose::Execute`] outputs. Errors: those of
	/// `run_deterministic`, and `ModelNotFound` when the store lacks the model.
	fn run_deterministic_stored(
		&mut self,
		model: PassPointerAndRead<&[u8; 32], 32>,
		input: PassFatPointerAndRead<&[u8]>,
		terms: PassFatPointerAndRead<&[u8]>,
		output: PassFatPointerAndWrite<&mut [u8]>,
		fuel_used: PassPointerAndWrite<&mut [u8; 8], 8>,
		purpose: u32,
	) -> u64 {
		native::run_deterministic_stored(
			&mut **self,
			model,
			input,
			terms,
			output,
			fuel_used,
			purpose,
		)
		.0
	}

	/// The next nonce of `account` (SCALE-encoded): its nonce at the best block plus its
	/// transactions ready in the node's pool. `Unavailable` outside a node's offchain worker.
	/// Status value: the nonce.
	fn next_index(&mut self, account: PassFatPointerAndRead<&[u8]>) -> u64 {
		native::next_index(&mut **self, account).0
	}
}

/// The host functions to hand to the node's executor.
#[cfg(feature = "std")]
pub type HostFunctions = inference::HostFunctions;

/// Native implementations, kept out of the macro so that they can be tested directly and so
/// that a build without `std` (but also without the `substrate_runtime` cfg) still compiles.
#[cfg(feature = "std")]
mod native {
	use super::*;
	use sp_externalities::{Externalities, ExternalitiesExt};

	fn backend(mut ext: &mut dyn Externalities) -> Option<std::sync::Arc<HostBackend>> {
		ext.extension::<InferenceExt>().map(|e| e.0.clone())
	}

	/// Copies `bytes` into the start of the caller's buffer `dst`; the status value is their
	/// length, `OutputTooLarge` (with the length needed) when `dst` is shorter.
	fn write_out(dst: &mut [u8], bytes: &[u8]) -> Result<u32, HostError> {
		let needed = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
		let dst = dst.get_mut(..bytes.len()).ok_or(HostError::OutputTooLarge { needed })?;
		dst.copy_from_slice(bytes);
		Ok(needed)
	}

	pub fn run(
		ext: &mut dyn Externalities,
		model: &[u8; 32],
		input: &[u8],
		output: &mut [u8],
	) -> Status {
		run_for(ext, model, input, output, Purpose::Judge as u32)
	}

	pub fn run_for(
		ext: &mut dyn Externalities,
		model: &[u8; 32],
		input: &[u8],
		output: &mut [u8],
		purpose: u32,
	) -> Status {
		run_limited(ext, model, input, output, purpose, None)
	}

	pub fn run_within(
		ext: &mut dyn Externalities,
		model: &[u8; 32],
		input: &[u8],
		output: &mut [u8],
		purpose: u32,
		timeout_ms: u32,
	) -> Status {
		let timeout = (timeout_ms != NODE_TIMEOUT)
			.then(|| std::time::Duration::from_millis(u64::from(timeout_ms)));
		run_limited(ext, model, input, output, purpose, timeout)
	}

	/// A run for `purpose` within `timeout`, or the node's own limit when `None`.
	fn run_limited(
		ext: &mut dyn Externalities,
		model: &[u8; 32],
		input: &[u8],
		output: &mut [u8],
		purpose: u32,
		timeout: Option<std::time::Duration>,
	) -> Status {
		Status::from_result((|| {
			let b = backend(ext).ok_or(HostError::Unavailable)?;
			// A purpose this node does not know (a newer runtime) runs honestly.
			let purpose = Purpose::from_code(purpose).unwrap_or(Purpose::Judge);
			let out = match timeout {
				Some(t) => b.run_for_within(model, input, purpose, Some(t))?,
				None => b.run_for(model, input, purpose)?,
			};
			write_out(output, &out)
		})())
	}

	pub fn verify(
		ext: &mut dyn Externalities,
		model: &[u8; 32],
		input: &[u8],
		claimed: &[u8],
		rule: &[u8],
	) -> Status {
		Status::from_result((|| {
			let b = backend(ext).ok_or(HostError::Unavailable)?;
			let rule = AcceptanceRule::decode(&mut &*rule).map_err(|_| HostError::InvalidRule)?;
			b.verify(model, input, claimed, &rule).map(u32::from)
		})())
	}

	pub fn model_available(ext: &mut dyn Externalities, model: &[u8; 32]) -> Status {
		Status::from_result(
			backend(ext).ok_or(HostError::Unavailable).map(|b| u32::from(b.model_available(model))),
		)
	}

	pub fn put_model(ext: &mut dyn Externalities, model: &[u8; 32], bytes: &[u8]) -> Status {
		Status::from_result((|| {
			let b = backend(ext).ok_or(HostError::Unavailable)?;
			b.put_model(model, bytes).map(|()| 1)
		})())
	}

	pub fn load_model(
		ext: &mut dyn Externalities,
		model: &[u8; 32],
		max_constant_bytes: u64,
		report: &mut [u8],
	) -> Status {
		Status::from_result((|| {
			let b = backend(ext).ok_or(HostError::Unavailable)?;
			let declared = (max_constant_bytes != u64::MAX).then_some(max_constant_bytes);
			let info = b.load_declared(model, declared)?;
			let bounds = ModelBounds::of(&info).encode();
			write_out(report, &bounds)
		})())
	}

	pub fn engine_version(ext: &mut dyn Externalities) -> Status {
		Status::from_result(
			backend(ext).ok_or(HostError::Unavailable).map(|_| verity_engine::ENGINE_VERSION),
		)
	}

	pub fn next_index(mut ext: &mut dyn Externalities, account: &[u8]) -> Status {
		let next = ext.extension::<PoolNonceExt>().map(|e| e.0.clone());
		Status::from_result(next.and_then(|f| f(account)).ok_or(HostError::Unavailable))
	}

	/// Prepared models of the deterministic mode, shared by every caller in the process.
	static DETERMINISTIC: verity_deterministic::Cache =
		verity_deterministic::Cache::new(DETERMINISTIC_CACHE_BYTES);

	/// The backend this node runs the deterministic mode on: Cranelift for the host's CPU,
	/// or the Pulley interpreter where Cranelift cannot compile for it. Both give the same
	/// bits and fuel (`verity-deterministic`'s tests).
	fn deterministic_backend() -> verity_deterministic::Backend {
		use verity_deterministic::Backend;
		if verity_deterministic::compiled(Backend::CraneliftNative).is_ok() {
			Backend::CraneliftNative
		} else {
			Backend::Pulley
		}
	}

	/// Readies the deterministic mode's compiled runner for [`run_deterministic`], on the
	/// backend it will use, keeping it in `cache_dir` across restarts (and for every node that
	/// shares the directory). Compiles on the calling thread alone: a node calls this at start
	/// from a low-priority thread so that its first in-block inference finds the runner
	/// compiled, instead of compiling it inside block import. Returns the backend and whether
	/// the runner was compiled (`true`) or loaded from the directory.
	pub fn warm_up_deterministic(
		cache_dir: std::path::PathBuf,
	) -> Result<(verity_deterministic::Backend, bool), verity_deterministic::Error> {
		use verity_deterministic::{disk, warm_up, Backend};
		disk::set_cache_dir(cache_dir);
		let compiled = |s: Option<disk::Source>| s != Some(disk::Source::Loaded);
		match warm_up(Backend::CraneliftNative) {
			Ok(source) => Ok((Backend::CraneliftNative, compiled(source))),
			Err(_) => warm_up(Backend::Pulley).map(|source| (Backend::Pulley, compiled(source))),
		}
	}

	pub fn run_deterministic(
		model: &[u8],
		input: &[u8],
		terms: &[u8],
		output: &mut [u8],
		fuel_used: &mut [u8; 8],
	) -> Status {
		Status::from_result(
			execute_deterministic(model, input, terms)
				.and_then(|outcome| write_outcome(&outcome, output, fuel_used)),
		)
	}

	pub fn run_deterministic_stored(
		ext: &mut dyn Externalities,
		model: &[u8; 32],
		input: &[u8],
		terms: &[u8],
		output: &mut [u8],
		fuel_used: &mut [u8; 8],
		purpose: u32,
	) -> Status {
		Status::from_result((|| {
			let purpose = Purpose::from_code(purpose).ok_or(HostError::InvalidRule)?;
			let b = backend(ext).ok_or(HostError::Unavailable)?;
			let bytes = b.store().get(model).ok().flatten().ok_or(HostError::ModelNotFound)?;
			let mut outcome = execute_deterministic(&bytes, input, terms)?;
			b.perturb_if_faulty(model, purpose, &mut outcome.output);
			write_outcome(&outcome, output, fuel_used)
		})())
	}

	/// Copies a deterministic run's output into the caller's buffer and its fuel into
	/// `fuel_used`; the status value is the output's length.
	fn write_outcome(
		outcome: &verity_deterministic::Outcome,
		output: &mut [u8],
		fuel_used: &mut [u8; 8],
	) -> Result<u32, HostError> {
		let written = write_out(output, &outcome.output)?;
		*fuel_used = outcome.fuel_used.to_le_bytes();
		Ok(written)
	}

	/// Runs model bytes `model` in the deterministic mode under SCALE-encoded `terms`.
	fn execute_deterministic(
		model: &[u8],
		input: &[u8],
		terms: &[u8],
	) -> Result<verity_deterministic::Outcome, HostError> {
		use verity_deterministic::Error as E;
		let terms =
			DeterministicTerms::decode(&mut &terms[..]).map_err(|_| HostError::InvalidRule)?;
		let limits = verity_engine::engine::Limits {
			max_constant_bytes: terms.max_constant_bytes,
			max_flops: terms.max_flops,
			..Default::default()
		};
		let budget = verity_deterministic::RunLimits {
			fuel: terms.fuel,
			memory_bytes: usize::try_from(terms.memory_bytes).unwrap_or(usize::MAX),
		};
		DETERMINISTIC.execute(deterministic_backend(), model, &limits, input, budget).map_err(|e| {
			match e {
				E::InvalidModel(_) => HostError::InvalidModel,
				E::BadInput(_) => HostError::InvalidInput,
				E::Run(_) | E::Trap(_) => HostError::ExecutionFailed,
				E::OutOfFuel { .. } => HostError::OutOfFuel,
				E::OutOfMemory { .. } => HostError::OutOfMemory,
				E::BackendUnavailable { .. } | E::Instantiate(_) | E::Abi(_) | E::NotLoaded => {
					log::error!(
						target: "verity::deterministic",
						"this node cannot run the deterministic mode: {e}"
					);
					HostError::Unavailable
				},
			}
		})
	}

	pub fn record_duty(ext: &mut dyn Externalities, duty: u32) -> Status {
		Status::from_result((|| {
			let b = backend(ext).ok_or(HostError::Unavailable)?;
			let duty = u8::try_from(duty).ok().and_then(Duty::from_code);
			Ok(u32::from(duty.is_some_and(|d| b.record_duty(d))))
		})())
	}
}

#[cfg(all(not(feature = "std"), not(substrate_runtime)))]
mod native {
	//! Native side compiled without `std` (a no_std check without the `substrate_runtime` cfg):
	//! there is no engine to call.
	use super::*;

	pub fn run_for<E: ?Sized>(_: &mut E, _: &[u8; 32], _: &[u8], _: &mut [u8], _: u32) -> Status {
		Status::err(HostError::Unavailable)
	}
	pub fn run<E: ?Sized>(_: &mut E, _: &[u8; 32], _: &[u8], _: &mut [u8]) -> Status {
		Status::err(HostError::Unavailable)
	}
	pub fn run_within<E: ?Sized>(
		_: &mut E,
		_: &[u8; 32],
		_: &[u8],
		_: &mut [u8],
		_: u32,
		_: u32,
	) -> Status {
		Status::err(HostError::Unavailable)
	}
	pub fn engine_version<E: ?Sized>(_: &mut E) -> Status {
		Status::err(HostError::Unavailable)
	}
	pub fn verify<E: ?Sized>(_: &mut E, _: &[u8; 32], _: &[u8], _: &[u8], _: &[u8]) -> Status {
		Status::err(HostError::Unavailable)
	}
	pub fn model_available<E: ?Sized>(_: &mut E, _: &[u8; 32]) -> Status {
		Status::err(HostError::Unavailable)
	}
	pub fn put_model<E: ?Sized>(_: &mut E, _: &[u8; 32], _: &[u8]) -> Status {
		Status::err(HostError::Unavailable)
	}
	pub fn next_index<E: ?Sized>(_: &mut E, _: &[u8]) -> Status {
		Status::err(HostError::Unavailable)
	}
	pub fn record_duty<E: ?Sized>(_: &mut E, _: u32) -> Status {
		Status::err(HostError::Unavailable)
	}
	pub fn load_model<E: ?Sized>(_: &mut E, _: &[u8; 32], _: u64, _: &mut [u8]) -> Status {
		Status::err(HostError::Unavailable)
	}
	pub fn run_deterministic(
		_: &[u8],
		_: &[u8],
		_: &[u8],
		_: &mut [u8],
		_: &mut [u8; 8],
	) -> Status {
		Status::err(HostError::Unavailable)
	}
	pub fn run_deterministic_stored<E: ?Sized>(
		_: &mut E,
		_: &[u8; 32],
		_: &[u8],
		_: &[u8],
		_: &mut [u8],
		_: &mut [u8; 8],
		_: u32,
	) -> Status {
		Status::err(HostError::Unavailable)
	}
}

/// Bytes of prepared models (post-load memory images) a node keeps for the deterministic mode.
pub const DETERMINISTIC_CACHE_BYTES: usize = 512 << 20;

/// The terms of a deterministic-mode run ([`run_deterministic`]), fixed by the chain so that
/// every node computes the same outcome.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct DeterministicTerms {
	/// Most bytes of constants the model's plan may hold (its registered spec's bound).
	pub max_constant_bytes: u64,
	/// Most FLOPs the engine's static estimate may give one run.
	pub max_flops: u64,
	/// Fuel (about one unit per WebAssembly instruction) for the load and the run together.
	pub fuel: u64,
	/// Most bytes of linear memory the run may hold.
	pub memory_bytes: u64,
}

/// What a deterministic-mode run gave.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DeterministicOutcome {
	/// Canonical output tensor list.
	pub output: Vec<u8>,
	/// Fuel the load and the run used.
	pub fuel_used: u64,
}

/// Run `model` in the deterministic mode ([`inference::run_deterministic`]) with an output
/// buffer of `max_output` bytes. Usable in block execution.
pub fn run_deterministic(
	model: &[u8],
	input: &[u8],
	terms: &DeterministicTerms,
	max_output: u32,
) -> Result<DeterministicOutcome, HostError> {
	deterministic_call(max_output, |output, fuel| {
		inference::run_deterministic(model, input, &terms.encode(), output, fuel)
	})
}

/// Calls a deterministic-mode host function with an output buffer of `max_output` bytes and a
/// fuel slot; the output (truncated to what was written) and the fuel used.
fn deterministic_call(
	max_output: u32,
	call: impl FnOnce(&mut [u8], &mut [u8; 8]) -> u64,
) -> Result<DeterministicOutcome, HostError> {
	let mut output = alloc::vec![0u8; max_output as usize];
	let mut fuel = [0u8; 8];
	let len = Status(call(&mut output, &mut fuel)).into_result()?;
	output.truncate(len as usize);
	Ok(DeterministicOutcome { output, fuel_used: u64::from_le_bytes(fuel) })
}

/// Run `model` from the node's model store in the deterministic mode
/// ([`inference::run_deterministic_stored`]) for an off-chain duty's `purpose`, with an output
/// buffer of `max_output` bytes.
pub fn run_deterministic_stored(
	model: &ModelHash,
	input: &[u8],
	terms: &DeterministicTerms,
	max_output: u32,
	purpose: Purpose,
) -> Result<DeterministicOutcome, HostError> {
	deterministic_call(max_output, |output, fuel| {
		inference::run_deterministic_stored(
			model,
			input,
			&terms.encode(),
			output,
			fuel,
			purpose as u32,
		)
	})
}

/// Default output buffer for [`run`]: the chain's maximum output size (64 KiB).
pub const DEFAULT_MAX_OUTPUT: u32 = 64 * 1024;

/// Why runtime code runs a model: a dev node's fault switch applies to [`Purpose::Execute`]
/// only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
	/// An assigned executor computes the output it signs and posts.
	Execute = 0,
	/// A juror re-executes a disputed request (also version 1 of `run`).
	Judge = 1,
	/// A validator runs a pending model's reference input.
	Attest = 2,
}

impl Purpose {
	pub fn from_code(code: u32) -> Option<Self> {
		Some(match code {
			0 => Self::Execute,
			1 => Self::Judge,
			2 => Self::Attest,
			_ => return None,
		})
	}
}

/// Run `model` on canonical `input` for `purpose`; returns the canonical output list.
/// `max_output` bounds the buffer the runtime allocates for the result.
pub fn run_for(
	model: &ModelHash,
	input: &[u8],
	max_output: u32,
	purpose: Purpose,
) -> Result<Vec<u8>, HostError> {
	let mut buf = alloc::vec![0u8; max_output as usize];
	let status = inference::run(model, input, &mut buf, purpose as u32, NODE_TIMEOUT);
	let len = Status(status).into_result()?;
	buf.truncate(len as usize);
	Ok(buf)
}

/// `timeout_ms` of version 3 of `run` that asks for the node's own limit, as versions 1 and 2.
pub const NODE_TIMEOUT: u32 = u32::MAX;

/// [`run_for`] within `timeout_ms` milliseconds instead of the node's own limit: the run bound
/// the chain gives the model (version 3 of `run`).
pub fn run_within(
	model: &ModelHash,
	input: &[u8],
	max_output: u32,
	purpose: Purpose,
	timeout_ms: u32,
) -> Result<Vec<u8>, HostError> {
	let mut buf = alloc::vec![0u8; max_output as usize];
	let status = inference::run(model, input, &mut buf, purpose as u32, timeout_ms);
	let len = Status(status).into_result()?;
	buf.truncate(len as usize);
	Ok(buf)
}

/// The version of this node's engine (`verity_engine::ENGINE_VERSION` of the node binary).
pub fn engine_version() -> Result<u32, HostError> {
	Status(inference::engine_version()).into_result()
}

/// [`run_for`] a juror's re-execution ([`Purpose::Judge`]).
pub fn run(model: &ModelHash, input: &[u8], max_output: u32) -> Result<Vec<u8>, HostError> {
	run_for(model, input, max_output, Purpose::Judge)
}

/// Re-run `model` on `input` and say whether `claimed` agrees under `rule`.
pub fn verify(
	model: &ModelHash,
	input: &[u8],
	claimed: &[u8],
	rule: &AcceptanceRule,
) -> Result<bool, HostError> {
	Status(inference::verify(model, input, claimed, &rule.encode())).into_result().map(|v| v == 1)
}

/// What the node's engine reports about a loaded model ([`load_model`]). The first three
/// figures are computed from the graph alone and are the same on every node with the same
/// engine limits; `plan_bytes` is this node's cache charge, which depends on its CPU's kernels.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo)]
pub struct ModelBounds {
	/// Bound of the bytes of constants the model's plan may hold: every tensor that is a
	/// constant or computable from constants, once per consumer that runs at run time, plus the
	/// padding packing them for the matrix kernels may add
	/// (`verity_engine::engine::ModelInfo::constants_bound`). What a spec's declared limit is
	/// compared with.
	pub constant_bytes: u64,
	/// Model bytes + `constant_bytes` + one run's peak of live tensors at the engine's
	/// `max_batch` (`ModelInfo::bound_bytes`).
	pub bound_bytes: u64,
	/// Estimated multiply-adds and divisions per run at `max_batch`.
	pub flops: u64,
	/// What this node's plan cache charges for the plan (`ModelInfo::plan_bytes`).
	pub plan_bytes: u64,
}

impl ModelBounds {
	/// The size of the SCALE encoding: four `u64`s.
	pub const ENCODED_LEN: usize = 32;

	#[cfg(feature = "std")]
	pub fn of(info: &verity_engine::engine::ModelInfo) -> Self {
		let sat = |v: u128| u64::try_from(v).unwrap_or(u64::MAX);
		Self {
			constant_bytes: sat(info.constants_bound()),
			bound_bytes: sat(info.bound_bytes),
			flops: sat(info.flops),
			plan_bytes: info.plan_bytes,
		}
	}
}

/// Load `model` on this node and check it against the limit on the constants its plan may
/// hold that its registered spec declares (`None`: the node's limits only); returns its
/// [`ModelBounds`]. Attesters call it before running the reference input, so that a model over
/// its declaration is refused alike on every node ([`HostError::ConstantsOverSpec`]).
pub fn load_model(
	model: &ModelHash,
	max_constant_bytes: Option<u64>,
) -> Result<ModelBounds, HostError> {
	let mut buf = [0u8; ModelBounds::ENCODED_LEN];
	let len =
		Status(inference::load_model(model, max_constant_bytes.unwrap_or(u64::MAX), &mut buf))
			.into_result()?;
	let mut bytes = buf.get(..len as usize).ok_or(HostError::InvalidOutput)?;
	ModelBounds::decode(&mut bytes).map_err(|_| HostError::InvalidOutput)
}

/// Whether the node can run `model` right now.
pub fn model_available(model: &ModelHash) -> Result<bool, HostError> {
	Status(inference::model_available(model)).into_result().map(|v| v == 1)
}

/// An off-chain worker duty whose submission the node counts (`verity_worker_duties_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duty {
	/// `submit_result` of an assigned slot.
	Result = 0,
	/// `report_failure` of an assigned slot.
	FailureReport = 1,
	/// A juror's vote commitment.
	VoteCommit = 2,
	/// A juror's vote reveal.
	VoteReveal = 3,
	/// A validator's model attestation.
	Attestation = 4,
	/// An auditor's report on a provisional result.
	Audit = 5,
}

impl Duty {
	pub fn from_code(code: u8) -> Option<Self> {
		Some(match code {
			0 => Self::Result,
			1 => Self::FailureReport,
			2 => Self::VoteCommit,
			3 => Self::VoteReveal,
			4 => Self::Attestation,
			5 => Self::Audit,
			_ => return None,
		})
	}

	/// The metric label.
	pub fn label(self) -> &'static str {
		match self {
			Self::Result => "result",
			Self::FailureReport => "failure_report",
			Self::VoteCommit => "vote_commit",
			Self::VoteReveal => "vote_reveal",
			Self::Attestation => "attestation",
			Self::Audit => "audit",
		}
	}
}

/// The pool's next nonce for `account` (SCALE-encoded); `None` outside a node's offchain
/// worker.
pub fn next_index(account: &[u8]) -> Option<u32> {
	Status(inference::next_index(account)).into_result().ok()
}

/// Count a worker duty in the node's metrics (best effort: a node without metrics ignores it).
pub fn record_duty(duty: Duty) {
	let _ = inference::record_duty(duty as u32);
}

/// Store model `bytes` in the node's model store, checked against `model`.
pub fn put_model(model: &ModelHash, bytes: &[u8]) -> Result<(), HostError> {
	Status(inference::put_model(model, bytes)).into_result().map(|_| ())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn status_roundtrip_is_total() {
		for e in [
			HostError::Unavailable,
			HostError::ModelNotFound,
			HostError::InvalidModel,
			HostError::InvalidInput,
			HostError::ExecutionFailed,
			HostError::Timeout,
			HostError::Busy,
			HostError::OutputTooLarge { needed: 70_000 },
			HostError::InvalidOutput,
			HostError::InvalidRule,
			HostError::ConstantsOverSpec,
			HostError::EngineVersionMismatch,
			HostError::Unknown(200),
		] {
			assert_eq!(Status::err(e).into_result(), Err(e));
		}
		assert_eq!(Status::ok(42).into_result(), Ok(42));
		assert_eq!(Status(u64::MAX).into_result(), Err(HostError::Unknown(255)));
	}

	#[test]
	fn model_bounds_encode_in_their_fixed_length() {
		let b = ModelBounds { constant_bytes: 1, bound_bytes: 2, flops: u64::MAX, plan_bytes: 3 };
		assert_eq!(b.encode().len(), ModelBounds::ENCODED_LEN);
		assert_eq!(ModelBounds::decode(&mut &b.encode()[..]).unwrap(), b);
	}
}
