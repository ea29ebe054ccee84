//! # verity-wasm-runner
//!
//! The engine's runner ([`verity_engine::engine::Engine`], tract) compiled to a WebAssembly
//! module for `wasm32-unknown-unknown` that imports nothing: Verity's deterministic execution
//! mode. The module is built by `scripts/build_wasm_runner.sh` and executed by
//! `verity-deterministic` (wasmtime). WebAssembly arithmetic is fully specified apart from NaN
//! bit patterns (canonicalized by the host) and relaxed SIMD (disabled), so the output bits
//! depend on the module and the input only, not on the CPU that runs it.
//!
//! ## ABI
//! All pointers and lengths are `u32` offsets into the module's memory; every call that can fail
//! returns a status ([`Status`]): `0` for success, and on failure the error message (UTF-8) is
//! the *result buffer*.
//!
//! - `verity_alloc(len) -> ptr`, `verity_free(ptr, len)`: buffers for the host to write into.
//! - `verity_load(limits_ptr, limits_len, model_ptr, model_len) -> status`: validate and compile
//!   a model (replacing any model loaded before) under the limits encoded by
//!   [`encode_limits`]; the result buffer holds its blake2-256 hash.
//! - `verity_run(input_ptr, input_len) -> status`: run the loaded model on a canonical tensor
//!   list (`verity_engine::encode_tensors`); the result buffer holds the outputs, encoded the
//!   same way.
//! - `verity_result_ptr() -> ptr`, `verity_result_len() -> len`: the result buffer of the last
//!   call, valid until the next call.
//!
//! A panic aborts (a trap): the host drops the instance.

use verity_engine::engine::Limits;

/// The outcome of a call.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
	Ok = 0,
	/// The limits buffer is not [`LIMITS_LEN`] bytes.
	BadLimits = 1,
	/// The engine refused the model (malformed, disallowed op, over a limit, ...).
	InvalidModel = 2,
	/// No model is loaded.
	NotLoaded = 3,
	/// The input is not a canonical tensor list, or does not fit the model's inputs.
	BadInput = 4,
	/// The model failed while running.
	RunFailed = 5,
}

/// Length of the encoded limits: eight little-endian `u64`s.
pub const LIMITS_LEN: usize = 64;

/// The limits the module honours, in the order [`encode_limits`] writes them: `max_model_bytes`,
/// `max_elements`, `max_batch`, `max_flops`, `max_peak_bytes`, `max_constant_bytes`,
/// `max_nodes`, `cache_bytes`. Wall time and concurrency do not exist inside the module (fuel
/// bounds the work instead).
pub fn encode_limits(l: &Limits) -> [u8; LIMITS_LEN] {
	let fields = [
		l.max_model_bytes as u64,
		l.max_elements,
		u64::from(l.max_batch),
		l.max_flops,
		l.max_peak_bytes,
		l.max_constant_bytes,
		l.max_nodes as u64,
		l.cache_bytes,
	];
	let mut out = [0u8; LIMITS_LEN];
	for (chunk, v) in out.chunks_exact_mut(8).zip(fields) {
		chunk.copy_from_slice(&v.to_le_bytes());
	}
	out
}

/// Inverse of [`encode_limits`]; `None` if `bytes` is not [`LIMITS_LEN`] long.
pub fn decode_limits(bytes: &[u8]) -> Option<Limits> {
	if bytes.len() != LIMITS_LEN {
		return None;
	}
	let mut f = [0u64; 8];
	for (v, chunk) in f.iter_mut().zip(bytes.chunks_exact(8)) {
		*v = u64::from_le_bytes(chunk.try_into().ok()?);
	}
	let sat = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
	Some(Limits {
		max_model_bytes: sat(f[0]),
		max_elements: f[1],
		max_batch: u32::try_from(f[2]).unwrap_or(u32::MAX),
		max_flops: f[3],
		max_peak_bytes: f[4],
		max_constant_bytes: f[5],
		max_nodes: sat(f[6]),
		cache_bytes: f[7],
		run_timeout: None,
		max_concurrent_runs: 1,
	})
}

/// getrandom 0.2's backend in the module: every call fails.
#[cfg(target_family = "wasm")]
fn no_randomness(_: &mut [u8]) -> Result<(), getrandom02::Error> {
	Err(getrandom02::Error::UNSUPPORTED)
}
#[cfg(target_family = "wasm")]
getrandom02::register_custom_getrandom!(no_randomness);

#[cfg(target_family = "wasm")]
mod exports {
	use super::*;
	use std::cell::RefCell;
	use verity_engine::{
		decode_tensors, encode_tensors,
		engine::{Engine, EngineError},
		model_hash, ModelHash,
	};

	struct State {
		engine: Option<Engine>,
		model: Option<ModelHash>,
		result: Vec<u8>,
	}

	thread_local! {
		static STATE: RefCell<State> =
			const { RefCell::new(State { engine: None, model: None, result: Vec::new() }) };
	}

	/// # Safety
	/// The host passes a range it wrote inside this module's memory.
	unsafe fn slice<'a>(ptr: u32, len: u32) -> &'a [u8] {
		if len == 0 {
			return &[];
		}
		core::slice::from_raw_parts(ptr as usize as *const u8, len as usize)
	}

	fn finish(status: Status, result: Vec<u8>) -> i32 {
		STATE.with(|s| s.borrow_mut().result = result);
		status as i32
	}

	#[no_mangle]
	pub extern "C" fn verity_alloc(len: u32) -> u32 {
		let mut v = Vec::<u8>::with_capacity(len as usize);
		let p = v.as_mut_ptr();
		core::mem::forget(v);
		p as usize as u32
	}

	/// # Safety
	/// `ptr`/`len` come from [`verity_alloc`].
	#[no_mangle]
	pub unsafe extern "C" fn verity_free(ptr: u32, len: u32) {
		drop(Vec::from_raw_parts(ptr as usize as *mut u8, 0, len as usize));
	}

	/// # Safety
	/// Both ranges lie in this module's memory.
	#[no_mangle]
	pub unsafe extern "C" fn verity_load(
		limits_ptr: u32,
		limits_len: u32,
		model_ptr: u32,
		model_len: u32,
	) -> i32 {
		let Some(limits) = decode_limits(slice(limits_ptr, limits_len)) else {
			return finish(Status::BadLimits, b"limits must be 64 bytes".to_vec());
		};
		let model = slice(model_ptr, model_len);
		let hash = model_hash(model);
		STATE.with(|s| {
			let mut guard = s.borrow_mut();
			let s = &mut *guard;
			s.model = None;
			// A fresh engine per model: its plan cache holds this model only.
			let engine = s.engine.insert(Engine::new(limits));
			match engine.load(model, &hash) {
				Ok(_) => {
					s.model = Some(hash);
					s.result = hash.to_vec();
					Status::Ok as i32
				},
				Err(e) => {
					s.result = e.to_string().into_bytes();
					Status::InvalidModel as i32
				},
			}
		})
	}

	/// # Safety
	/// The range lies in this module's memory.
	#[no_mangle]
	pub unsafe extern "C" fn verity_run(input_ptr: u32, input_len: u32) -> i32 {
		let input = slice(input_ptr, input_len);
		STATE.with(|s| {
			let mut guard = s.borrow_mut();
			let s = &mut *guard;
			let (Some(engine), Some(hash)) = (s.engine.as_ref(), s.model) else {
				s.result = b"no model is loaded".to_vec();
				return Status::NotLoaded as i32;
			};
			let inputs = match decode_tensors(input) {
				Ok(t) => t,
				Err(e) => {
					s.result = format!("input is not a canonical tensor list: {e:?}").into_bytes();
					return Status::BadInput as i32;
				},
			};
			let (status, result) = match engine.run_within(&hash, &inputs, None) {
				Ok(out) => (Status::Ok, encode_tensors(&out)),
				Err(
					e @ (EngineError::InputCount { .. }
					| EngineError::InputSpec { .. }
					| EngineError::BatchTooLarge { .. }),
				) => (Status::BadInput, e.to_string().into_bytes()),
				Err(e) => (Status::RunFailed, e.to_string().into_bytes()),
			};
			s.result = result;
			status as i32
		})
	}

	#[no_mangle]
	pub extern "C" fn verity_result_ptr() -> u32 {
		STATE.with(|s| s.borrow().result.as_ptr() as usize as u32)
	}

	#[no_mangle]
	pub extern "C" fn verity_result_len() -> u32 {
		STATE.with(|s| s.borrow().result.len() as u32)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn limits_round_trip() {
		let l = Limits { run_timeout: None, max_concurrent_runs: 1, ..Limits::default() };
		assert_eq!(decode_limits(&encode_limits(&l)), Some(l));
		assert_eq!(decode_limits(&[0; 63]), None);
	}
}
