//! Every failure of the deterministic mode is a typed [`Error`], never a panic: malformed
//! models, inputs that do not fit, fuel and memory exhaustion. Also: the committed module
//! imports nothing and `RUNNER_HASH` is its hash.

mod common;

use common::{demo_models, limits, Case};
use verity_deterministic::{Backend, Error, RunLimits, Session, RUNNER_HASH, RUNNER_WASM};
use verity_engine::{encode_tensors, model_hash, Tensor};

fn mlp() -> Case {
	demo_models().into_iter().find(|c| c.name == "mlp").expect("mlp demo model")
}

fn session(limits: RunLimits) -> Session {
	Session::new(Backend::CraneliftNative, limits).expect("cranelift is available")
}

/// Bytes of linear memory the module starts with.
fn initial_memory() -> usize {
	for payload in wasmparser::Parser::new(0).parse_all(RUNNER_WASM) {
		if let wasmparser::Payload::MemorySection(r) = payload.expect("valid module") {
			let m = r.into_iter().next().expect("one memory").expect("valid memory");
			return (m.initial as usize) << 16;
		}
	}
	panic!("the runner has no memory")
}

#[test]
fn runner_imports_nothing_and_matches_its_hash() {
	let mut imports = vec![];
	let mut exports = vec![];
	for payload in wasmparser::Parser::new(0).parse_all(RUNNER_WASM) {
		match payload.expect("valid module") {
			wasmparser::Payload::ImportSection(r) => {
				for i in r {
					let i = i.expect("valid import");
					imports.push(format!("{}::{}", i.module, i.name));
				}
			},
			wasmparser::Payload::ExportSection(r) => {
				for e in r {
					exports.push(e.expect("valid export").name.to_string());
				}
			},
			_ => {},
		}
	}
	assert!(imports.is_empty(), "the runner imports {imports:?}");
	for name in ["memory", "verity_alloc", "verity_free", "verity_load", "verity_run"] {
		assert!(exports.iter().any(|e| e == name), "no export {name} in {exports:?}");
	}
	assert_eq!(RUNNER_HASH, model_hash(RUNNER_WASM));
}

#[test]
fn malformed_model_is_invalid() {
	let mut s = session(RunLimits::default());
	let e = s.load(b"definitely not an onnx protobuf", &limits()).unwrap_err();
	assert!(matches!(e, Error::InvalidModel(_)), "{e:?}");
	// Truncated: a real model cut in half.
	let m = mlp();
	let e = s.load(&m.model[..m.model.len() / 2], &limits()).unwrap_err();
	assert!(matches!(e, Error::InvalidModel(_)), "{e:?}");
	assert_eq!(s.run(&encode_tensors(&m.inputs)).unwrap_err(), Error::NotLoaded);
}

#[test]
fn bad_inputs_are_refused_and_the_session_goes_on() {
	let m = mlp();
	let mut s = session(RunLimits::default());
	s.load(&m.model, &limits()).expect("mlp loads");
	let wrong_shape = Tensor::from_f32(vec![1, 32], &[0.5; 32]).expect("tensor");
	let e = s.run(&encode_tensors(&[wrong_shape])).unwrap_err();
	assert!(matches!(e, Error::BadInput(_)), "{e:?}");
	let wrong_dtype = Tensor::from_u8(vec![1, 64], &[1; 64]).expect("tensor");
	let e = s.run(&encode_tensors(&[wrong_dtype])).unwrap_err();
	assert!(matches!(e, Error::BadInput(_)), "{e:?}");
	let e = s.run(&encode_tensors(&[])).unwrap_err();
	assert!(matches!(e, Error::BadInput(_)), "{e:?}");
	let e = s.run(b"\xff\xff\xff\xff garbage").unwrap_err();
	assert!(matches!(e, Error::BadInput(_)), "{e:?}");
	let good = s.run_tensors(&m.inputs).expect("the session still runs");
	assert_eq!(good.len(), 1);
}

#[test]
fn fuel_exhaustion_is_out_of_fuel_and_recovers() {
	let m = mlp();
	let mut s = session(RunLimits { fuel: 100_000, ..RunLimits::default() });
	let e = s.load(&m.model, &limits()).unwrap_err();
	assert_eq!(e, Error::OutOfFuel { limit: 100_000 });
	assert!(s.fuel_used() >= 100_000);
	// A run with too little fuel stops; the session reloads the model and runs again.
	let mut s = session(RunLimits::default());
	s.load(&m.model, &limits()).expect("mlp loads");
	let load_fuel = s.fuel_used();
	let want = s.run_tensors(&m.inputs).expect("mlp runs");
	let run_fuel = s.fuel_used();
	assert!(0 < run_fuel && run_fuel < load_fuel, "load {load_fuel}, run {run_fuel}");
	s.set_fuel(run_fuel / 2);
	let e = s.run_tensors(&m.inputs).unwrap_err();
	assert_eq!(e, Error::OutOfFuel { limit: run_fuel / 2 });
	s.set_fuel(RunLimits::default().fuel);
	assert_eq!(s.run_tensors(&m.inputs).expect("runs after a trap"), want);
	// Fuel use is a property of the model and input: the same on a second run.
	assert_eq!(s.fuel_used(), run_fuel);
}

#[test]
fn memory_limit_is_out_of_memory() {
	let m = demo_models().into_iter().find(|c| c.name == "cnn").expect("cnn demo model");
	// Room for the module's own memory and a little more, not for compiling a model.
	let limit = initial_memory() + (256 << 10);
	let mut s = session(RunLimits { memory_bytes: limit, ..RunLimits::default() });
	let e = s.load(&m.model, &limits()).unwrap_err();
	assert_eq!(e, Error::OutOfMemory { limit });
	// Below the module's own memory: refused at instantiation, the same error.
	let limit = initial_memory() / 2;
	let mut s = session(RunLimits { memory_bytes: limit, ..RunLimits::default() });
	let e = s.load(&m.model, &limits()).unwrap_err();
	assert_eq!(e, Error::OutOfMemory { limit });
	// With room, it loads and runs.
	let mut s = session(RunLimits::default());
	s.load(&m.model, &limits()).expect("cnn loads");
	s.run_tensors(&m.inputs).expect("cnn runs");
}
