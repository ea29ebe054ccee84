//! [`Prepared`] and [`Cache`]: a run from a model's post-load image is a pure function of the
//! model, the load limits, the input and the budgets. Same output as a [`Session`], the same
//! fuel on every call whatever ran before, and the same failures whether or not the model was
//! cached. Consensus code (in-block inference) relies on exactly this.

mod common;

use common::{demo_models, limits, Case};
use verity_deterministic::{
	Backend, Cache, Error, Outcome, Prepared, RunLimits, Session, RUNNER_WASM,
};
use verity_engine::encode_tensors;

fn demo(name: &str) -> Case {
	demo_models().into_iter().find(|c| c.name == name).expect("demo model")
}

/// The image's claim to be the whole state: one mutable global (the shadow stack pointer,
/// back at its start when an export returns), not exported.
#[test]
fn the_runner_has_one_mutable_global_and_exports_none() {
	let mut mutable = vec![];
	let mut exported_globals = vec![];
	for payload in wasmparser::Parser::new(0).parse_all(RUNNER_WASM) {
		match payload.expect("valid module") {
			wasmparser::Payload::GlobalSection(r) => {
				for (i, g) in r.into_iter().enumerate() {
					if g.expect("valid global").ty.mutable {
						mutable.push(i as u32);
					}
				}
			},
			wasmparser::Payload::ExportSection(r) => {
				for e in r {
					let e = e.expect("valid export");
					if e.kind == wasmparser::ExternalKind::Global {
						exported_globals.push(e.index);
					}
				}
			},
			_ => {},
		}
	}
	assert_eq!(mutable.len(), 1, "mutable globals {mutable:?}");
	assert!(!exported_globals.contains(&mutable[0]), "the stack pointer is exported");
}

#[test]
fn execute_gives_the_sessions_output_and_the_same_fuel_every_time() {
	for name in ["mlp", "cnn", "int8", "batch"] {
		let m = demo(name);
		let input = encode_tensors(&m.inputs);
		let mut s = Session::new(Backend::CraneliftNative, RunLimits::default()).expect("session");
		s.load(&m.model, &limits()).expect("loads");
		let load_fuel = s.fuel_used();
		let want = s.run(&input).expect("runs");
		let run_fuel = s.fuel_used();
		let p = Prepared::new(Backend::CraneliftNative, &m.model, &limits(), RunLimits::default())
			.expect("prepares");
		assert_eq!(p.load_fuel(), load_fuel, "{name}");
		let first = p.execute(&input, RunLimits::default()).expect("executes");
		assert_eq!(first, Outcome { output: want, fuel_used: load_fuel + run_fuel }, "{name}");
		for _ in 0..3 {
			assert_eq!(p.execute(&input, RunLimits::default()).expect("executes"), first, "{name}");
		}
	}
}

#[test]
fn budgets_fail_alike_before_and_after_preparation() {
	let m = demo("cnn");
	let input = encode_tensors(&m.inputs);
	let p = Prepared::new(Backend::CraneliftNative, &m.model, &limits(), RunLimits::default())
		.expect("prepares");
	let full = p.execute(&input, RunLimits::default()).expect("executes").fuel_used;
	// Exactly enough fuel runs. Less: wasmtime checks fuel at function entries and loop
	// back-edges, so a budget a few units short may still finish the last straight-line
	// stretch; what matters is that a prepared model and a fresh load agree on every budget,
	// and that a budget well short of the run (or of the load) stops it.
	let exact = RunLimits { fuel: full, ..RunLimits::default() };
	assert_eq!(p.execute(&input, exact).expect("runs on exact fuel").fuel_used, full);
	let half_run = p.load_fuel() + (full - p.load_fuel()) / 2;
	for fuel in [full - 1, half_run, p.load_fuel() + 1, p.load_fuel() - 1, 0] {
		let budget = RunLimits { fuel, ..RunLimits::default() };
		let prepared = p.execute(&input, budget);
		let fresh = Prepared::new(Backend::CraneliftNative, &m.model, &limits(), budget)
			.and_then(|q| q.execute(&input, budget));
		assert_eq!(prepared, fresh, "fuel {fuel}");
		if fuel <= half_run {
			assert_eq!(prepared.unwrap_err(), Error::OutOfFuel { limit: fuel }, "fuel {fuel}");
		}
	}
	// Memory below the image is refused before anything runs.
	let memory_bytes = p.image_bytes() - 1;
	let budget = RunLimits { memory_bytes, ..RunLimits::default() };
	assert_eq!(p.execute(&input, budget).unwrap_err(), Error::OutOfMemory { limit: memory_bytes });
	// Bad input is a typed error and the prepared model stays usable.
	let e = p.execute(b"not tensors", RunLimits::default()).unwrap_err();
	assert!(matches!(e, Error::BadInput(_)), "{e:?}");
	assert_eq!(p.execute(&input, RunLimits::default()).expect("executes").fuel_used, full);
}

#[test]
fn cache_hits_give_what_a_fresh_preparation_gives_and_stay_within_bytes() {
	let (mlp, cnn) = (demo("mlp"), demo("cnn"));
	let fresh = |m: &Case| {
		Prepared::new(Backend::CraneliftNative, &m.model, &limits(), RunLimits::default())
			.expect("prepares")
	};
	let (p_mlp, p_cnn) = (fresh(&mlp), fresh(&cnn));
	let run = |cache: &Cache, m: &Case, fuel: u64| {
		let budget = RunLimits { fuel, ..RunLimits::default() };
		cache.execute(
			Backend::CraneliftNative,
			&m.model,
			&limits(),
			&encode_tensors(&m.inputs),
			budget,
		)
	};
	// Room for one image only: every call evicts the other model.
	let cache = Cache::new(p_mlp.image_bytes().max(p_cnn.image_bytes()));
	let want_mlp = p_mlp.execute(&encode_tensors(&mlp.inputs), RunLimits::default()).expect("mlp");
	let want_cnn = p_cnn.execute(&encode_tensors(&cnn.inputs), RunLimits::default()).expect("cnn");
	for _ in 0..2 {
		assert_eq!(run(&cache, &mlp, RunLimits::default().fuel).expect("mlp"), want_mlp);
		assert_eq!(run(&cache, &cnn, RunLimits::default().fuel).expect("cnn"), want_cnn);
		assert_eq!(cache.len(), 1);
	}
	// A cached model under a budget too small for its load fails as a fresh load does.
	let small = p_cnn.load_fuel() / 2;
	assert_eq!(run(&cache, &cnn, small).unwrap_err(), Error::OutOfFuel { limit: small });
	// A failed load is not cached.
	let cache = Cache::new(usize::MAX);
	assert!(matches!(
		cache.execute(
			Backend::CraneliftNative,
			b"not a model",
			&limits(),
			&[],
			RunLimits::default()
		),
		Err(Error::InvalidModel(_))
	));
	assert!(cache.is_empty());
}

#[test]
fn every_backend_executes_the_same_bits() {
	let m = demo("cnn");
	let input = encode_tensors(&m.inputs);
	let outcomes: Vec<Outcome> = Backend::ALL
		.iter()
		.map(|&b| {
			Prepared::new(b, &m.model, &limits(), RunLimits::default())
				.and_then(|p| p.execute(&input, RunLimits::default()))
				.expect("executes")
		})
		.collect();
	assert!(outcomes.windows(2).all(|w| w[0] == w[1]), "backends disagree");
}
