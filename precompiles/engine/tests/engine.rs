//! Engine load/validate/run tests on tiny models built in Rust.

use std::{sync::Arc, time::Duration};
use verity_engine::{
	agrees_all,
	engine::{Engine, EngineError, Limits},
	model_hash,
	testing::*,
	AcceptanceRule, DType, ModelIo, SpecError, Tensor, TensorSpec,
};

fn engine() -> Engine {
	Engine::new(Limits::default())
}

fn softmax_ref(x: &[f32], rows: usize) -> Vec<f32> {
	let w: Vec<f32> = (0..12).map(|i| (i as f32 - 5.5) / 4.0).collect();
	let b = [0.1f32, -0.2, 0.3];
	let mut out = vec![];
	for r in 0..rows {
		let logits: Vec<f32> = (0..3)
			.map(|j| (0..4).map(|k| x[r * 4 + k] * w[k * 3 + j]).sum::<f32>() + b[j])
			.collect();
		let m = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
		let e: Vec<f32> = logits.iter().map(|l| (l - m).exp()).collect();
		let s: f32 = e.iter().sum();
		out.extend(e.iter().map(|v| v / s));
	}
	out
}

#[test]
fn load_reports_graph_io_and_runs_with_symbolic_batch() {
	let e = engine();
	let bytes = tiny_classifier();
	let h = model_hash(&bytes);
	let info = e.load(&bytes, &h).unwrap();
	assert_eq!(info.io.inputs[0], TensorSpec::new(DType::F32, vec![None, Some(4)]).unwrap());
	assert_eq!(info.io.outputs[0], TensorSpec::new(DType::F32, vec![None, Some(3)]).unwrap());
	assert!(info.flops > 0);
	assert!(e.is_loaded(&h));
	for rows in [1usize, 5] {
		let x: Vec<f32> = (0..rows * 4).map(|i| (i as f32) * 0.37 - 2.0).collect();
		let out = e.run(&h, &[Tensor::from_f32(vec![rows as u32, 4], &x).unwrap()]).unwrap();
		assert_eq!(out.len(), 1);
		assert_eq!(out[0].shape(), &[rows as u32, 3]);
		let got = out[0].to_f32_vec().unwrap();
		for (g, w) in got.iter().zip(softmax_ref(&x, rows)) {
			assert!((g - w).abs() <= 1e-6, "{g} vs {w}");
		}
		// Deterministic on one machine: a rerun is bit-identical.
		let again = e.run(&h, &[Tensor::from_f32(vec![rows as u32, 4], &x).unwrap()]).unwrap();
		assert!(agrees_all(&AcceptanceRule::Exact, &out, &again));
	}
}

#[test]
fn integer_model_is_exact() {
	let e = engine();
	let bytes = tiny_int_add();
	let h = model_hash(&bytes);
	e.load(&bytes, &h).unwrap();
	let out = e.run(&h, &[Tensor::from_i64(vec![2], &[41, -1]).unwrap()]).unwrap();
	assert_eq!(out, vec![Tensor::from_i64(vec![2], &[42, 0]).unwrap()]);
}

#[test]
fn load_rejects_wrong_hash_and_size() {
	let e = Engine::new(Limits { max_model_bytes: 100, ..Limits::default() });
	let bytes = tiny_classifier();
	assert!(matches!(
		e.load(&bytes, &model_hash(&bytes)),
		Err(EngineError::ModelTooLarge { max: 100, .. })
	));
	let e = engine();
	let err = e.load(&bytes, &[0u8; 32]).unwrap_err();
	assert!(matches!(err, EngineError::HashMismatch { .. }));
	assert!(err.to_string().contains("expected 0x0000"), "{err}");
}

/// A cached plan is found by the expected hash before the bytes are hashed: the bytes are
/// verified only when the plan is built.
#[test]
fn cached_load_trusts_the_verified_hash() {
	let e = engine();
	let bytes = tiny_classifier();
	let h = model_hash(&bytes);
	let other = tiny_int_add();
	// Not cached: the bytes are checked.
	assert!(matches!(e.load(&other, &h), Err(EngineError::HashMismatch { .. })));
	let info = e.load(&bytes, &h).unwrap();
	// Cached: the plan of `h` is returned whatever the bytes are.
	assert_eq!(e.load(&other, &h).unwrap(), info);
	assert_eq!(e.load(&[], &h).unwrap().hash, h);
	// After eviction the bytes are checked again.
	e.evict(&h);
	assert!(matches!(e.load(&other, &h), Err(EngineError::HashMismatch { .. })));
}

#[test]
fn load_rejects_garbage() {
	let e = engine();
	for bytes in [vec![0xffu8; 64], b"not a model".to_vec(), vec![]] {
		let err = e.load(&bytes, &model_hash(&bytes)).unwrap_err();
		assert!(matches!(err, EngineError::Malformed(_) | EngineError::MissingGraph), "{err:?}");
	}
}

#[test]
fn load_rejects_disallowed_ops_and_domains() {
	let e = engine();
	let rand = model(
		vec![node("RandomNormalLike", &["x"], &["y"], vec![])],
		vec![value("x", FLOAT, &[Some(2)])],
		vec![value("y", FLOAT, &[Some(2)])],
		vec![],
	);
	let err = e.load(&rand, &model_hash(&rand)).unwrap_err();
	assert!(
		matches!(&err, EngineError::OpNotAllowed { op, .. } if op == "RandomNormalLike"),
		"{err}"
	);

	let mut n = node("Relu", &["x"], &["y"], vec![]);
	n.domain = "com.microsoft".into();
	let custom = model(
		vec![n],
		vec![value("x", FLOAT, &[Some(2)])],
		vec![value("y", FLOAT, &[Some(2)])],
		vec![],
	);
	let err = e.load(&custom, &model_hash(&custom)).unwrap_err();
	assert!(matches!(&err, EngineError::OpNotAllowed { domain, .. } if domain == "com.microsoft"));
	assert!(err.to_string().contains("com.microsoft::Relu"), "{err}");
}

#[test]
fn load_rejects_subgraphs_and_external_data() {
	let e = engine();
	let mut n = node("Identity", &["x"], &["y"], vec![]);
	n.attribute.push(AttributeProto {
		name: "body".into(),
		g: Some(Default::default()),
		..Default::default()
	});
	let sub = model(
		vec![n],
		vec![value("x", FLOAT, &[Some(2)])],
		vec![value("y", FLOAT, &[Some(2)])],
		vec![],
	);
	assert!(matches!(e.load(&sub, &model_hash(&sub)), Err(EngineError::Subgraph { .. })));

	let mut w = f32_tensor("w", &[2], &[]);
	w.data_location = Some(1); // EXTERNAL
	let ext = model(
		vec![node("Add", &["x", "w"], &["y"], vec![])],
		vec![value("x", FLOAT, &[Some(2)])],
		vec![value("y", FLOAT, &[Some(2)])],
		vec![w],
	);
	assert!(matches!(
		e.load(&ext, &model_hash(&ext)),
		Err(EngineError::ExternalData { name }) if name == "w"
	));
}

#[test]
fn load_rejects_oversized_tensors() {
	let e = Engine::new(Limits { max_elements: 1000, ..Limits::default() });
	// An initializer that claims a huge shape (its data is missing): rejected before tract
	// would try to allocate it.
	let big = model(
		vec![node("Add", &["x", "w"], &["y"], vec![])],
		vec![value("x", FLOAT, &[Some(2)])],
		vec![value("y", FLOAT, &[Some(2)])],
		vec![f32_tensor("w", &[1 << 20, 1 << 20], &[])],
	);
	let err = e.load(&big, &model_hash(&big)).unwrap_err();
	assert!(matches!(err, EngineError::TensorTooLarge { .. }), "{err}");
	// An intermediate: [N,4] x [4, 3000] at max_batch 64 = 192k elements.
	let wide = model(
		vec![node("MatMul", &["x", "w"], &["y"], vec![])],
		vec![value("x", FLOAT, &[None, Some(4)])],
		vec![value("y", FLOAT, &[None, Some(3000)])],
		vec![f32_tensor("w", &[4, 3000], &vec![0.5; 12_000])],
	);
	let e = Engine::new(Limits { max_elements: 100_000, ..Limits::default() });
	let err = e.load(&wide, &model_hash(&wide)).unwrap_err();
	assert!(matches!(err, EngineError::TensorTooLarge { elements: 192_000, .. }), "{err}");
}

#[test]
fn load_enforces_cost_limits() {
	let bytes = tiny_classifier();
	let h = model_hash(&bytes);
	let err =
		Engine::new(Limits { max_flops: 10, ..Limits::default() }).load(&bytes, &h).unwrap_err();
	assert!(matches!(err, EngineError::TooManyFlops { .. }), "{err}");
	let err = Engine::new(Limits { max_peak_bytes: 64, ..Limits::default() })
		.load(&bytes, &h)
		.unwrap_err();
	assert!(matches!(err, EngineError::TooMuchMemory { .. }), "{err}");
}

#[test]
fn declared_io_must_match_graph() {
	let e = engine();
	let bytes = tiny_classifier();
	let h = model_hash(&bytes);
	let io = |inp: Vec<Option<u32>>, out: Vec<Option<u32>>| ModelIo {
		inputs: vec![TensorSpec::new(DType::F32, inp).unwrap()].try_into().unwrap(),
		outputs: vec![TensorSpec::new(DType::F32, out).unwrap()].try_into().unwrap(),
	};
	e.load_with_io(&bytes, &h, Some(&io(vec![None, Some(4)], vec![None, Some(3)]))).unwrap();
	// narrowing the batch is fine
	e.load_with_io(&bytes, &h, Some(&io(vec![Some(1), Some(4)], vec![Some(1), Some(3)]))).unwrap();
	let err = e
		.load_with_io(&bytes, &h, Some(&io(vec![None, Some(5)], vec![None, Some(3)])))
		.unwrap_err();
	assert!(matches!(err, EngineError::SpecMismatch { .. }), "{err}");
	// also when not cached yet
	let e = engine();
	let err =
		e.load_with_io(&bytes, &h, Some(&io(vec![None, Some(4)], vec![None, None]))).unwrap_err();
	assert!(matches!(err, EngineError::SpecMismatch { .. }), "{err}");
	assert!(!e.is_loaded(&h));
}

#[test]
fn run_checks_inputs_first() {
	let e = engine();
	let bytes = tiny_classifier();
	let h = model_hash(&bytes);
	assert!(matches!(e.run(&h, &[]), Err(EngineError::NotLoaded(_))));
	e.load(&bytes, &h).unwrap();
	assert!(matches!(e.run(&h, &[]), Err(EngineError::InputCount { expected: 1, found: 0 })));
	let wrong = Tensor::from_f32(vec![1, 5], &[0.0; 5]).unwrap();
	assert_eq!(
		e.run(&h, &[wrong]),
		Err(EngineError::InputSpec {
			index: 0,
			error: SpecError::DimMismatch { axis: 1, expected: 4, found: 5 }
		})
	);
	let int = Tensor::from_i64(vec![1, 4], &[0; 4]).unwrap();
	assert!(matches!(e.run(&h, &[int]), Err(EngineError::InputSpec { .. })));
	let huge_batch = Tensor::from_f32(vec![65, 4], &[0.0; 260]).unwrap();
	assert!(matches!(e.run(&h, &[huge_batch]), Err(EngineError::BatchTooLarge { found: 65, .. })));
}

#[test]
fn cache_is_lru_bounded_in_bytes() {
	let a = tiny_classifier();
	let b = tiny_int_add();
	let probe = engine();
	let sa = probe.load(&a, &model_hash(&a)).unwrap().plan_bytes;
	let sb = probe.load(&b, &model_hash(&b)).unwrap().plan_bytes;
	// Room for the larger one plus a little, not for both.
	let cap = sa.max(sb) + sa.min(sb) / 2;
	let e = Engine::new(Limits { cache_bytes: cap, ..Limits::default() });
	e.load(&a, &model_hash(&a)).unwrap();
	e.load(&b, &model_hash(&b)).unwrap();
	assert!(!e.is_loaded(&model_hash(&a)));
	assert!(e.is_loaded(&model_hash(&b)));
	assert!(e.cache_stats().bytes <= cap);
	let err = Engine::new(Limits { cache_bytes: 10, ..Limits::default() })
		.load(&a, &model_hash(&a))
		.unwrap_err();
	assert!(matches!(err, EngineError::PlanTooLarge { .. }));
	e.evict(&model_hash(&b));
	assert_eq!(e.cache_stats().entries, 0);
	assert_eq!(e.cache_stats().bytes, 0);
}

#[test]
fn concurrent_runs_share_one_plan() {
	let e = Arc::new(engine());
	let bytes = tiny_classifier();
	let h = model_hash(&bytes);
	e.load(&bytes, &h).unwrap();
	let x = Tensor::from_f32(vec![2, 4], &[0.5, -1.0, 2.0, 0.0, 1.0, 1.0, 1.0, 1.0]).unwrap();
	let reference = e.run(&h, std::slice::from_ref(&x)).unwrap();
	let threads: Vec<_> = (0..4)
		.map(|_| {
			let (e, x, reference) = (e.clone(), x.clone(), reference.clone());
			std::thread::spawn(move || {
				for _ in 0..25 {
					let out = loop {
						match e.run(&h, std::slice::from_ref(&x)) {
							Err(EngineError::Busy(_)) => std::thread::yield_now(),
							r => break r.unwrap(),
						}
					};
					assert_eq!(out, reference);
				}
			})
		})
		.collect();
	for t in threads {
		t.join().unwrap();
	}
}

/// A model heavy enough to outlast a 1 ms limit: 8 chained 256x256 MatMuls on [64, 256].
/// Heavy enough (about 270M multiply-adds, tens of ms) that a 50 us limit is always hit,
/// even if the calling thread is descheduled for a few ms while the worker runs.
fn heavy_model() -> Vec<u8> {
	chained_matmuls(64)
}

/// `layers` chained 256x256 MatMuls on [64, 256] (about 4.2M multiply-adds each).
fn chained_matmuls(layers: usize) -> Vec<u8> {
	let mut nodes = vec![];
	let mut inits = vec![];
	let mut prev = "x".to_string();
	for i in 0..layers {
		let w = format!("w{i}");
		let out = if i == layers - 1 { "y".to_string() } else { format!("h{i}") };
		nodes.push(node("MatMul", &[&prev, &w], &[&out], vec![]));
		inits.push(f32_tensor(&w, &[256, 256], &vec![0.001; 256 * 256]));
		prev = out;
	}
	model(
		nodes,
		vec![value("x", FLOAT, &[Some(64), Some(256)])],
		vec![value("y", FLOAT, &[Some(64), Some(256)])],
		inits,
	)
}

#[test]
fn run_times_out_and_engine_survives() {
	let bytes = heavy_model();
	let h = model_hash(&bytes);
	let e =
		Engine::new(Limits { run_timeout: Some(Duration::from_micros(50)), ..Limits::default() });
	e.load(&bytes, &h).unwrap();
	let x = Tensor::from_f32(vec![64, 256], &vec![1.0; 64 * 256]).unwrap();
	assert_eq!(
		e.run(&h, std::slice::from_ref(&x)),
		Err(EngineError::Timeout(Duration::from_micros(50)))
	);
	// The engine keeps working; a generous limit lets the same run finish.
	let e2 =
		Engine::new(Limits { run_timeout: Some(Duration::from_secs(30)), ..Limits::default() });
	e2.load(&bytes, &h).unwrap();
	let out = e2.run(&h, &[x]).unwrap();
	assert_eq!(out[0].shape(), &[64, 256]);
}

/// A worker stuck in a timed-out run keeps its slot until the run ends (so with one slot the
/// next caller is refused), then the pool serves runs again.
#[test]
fn abandoned_run_holds_its_slot_then_capacity_recovers() {
	let heavy = chained_matmuls(64); // about 270M multiply-adds: many ms on any CPU
	let hh = model_hash(&heavy);
	let small = tiny_int_add();
	let hs = model_hash(&small);
	let limit = Duration::from_micros(50);
	let e = Engine::new(Limits {
		run_timeout: Some(limit),
		max_concurrent_runs: 1,
		..Limits::default()
	});
	e.load(&heavy, &hh).unwrap();
	e.load(&small, &hs).unwrap();
	let x = Tensor::from_f32(vec![64, 256], &vec![1.0; 64 * 256]).unwrap();
	let y = Tensor::from_i64(vec![2], &[1, 2]).unwrap();
	assert_eq!(e.run(&hh, &[x]), Err(EngineError::Timeout(limit)));
	assert_eq!(e.run(&hs, std::slice::from_ref(&y)), Err(EngineError::Busy(1)));
	// Once the abandoned run ends, its worker returns to the pool.
	let deadline = std::time::Instant::now() + Duration::from_secs(60);
	loop {
		match e.run(&hs, std::slice::from_ref(&y)) {
			Ok(out) => {
				assert_eq!(out[0], Tensor::from_i64(vec![2], &[2, 3]).unwrap());
				break;
			},
			Err(EngineError::Busy(_) | EngineError::Timeout(_)) => {
				assert!(std::time::Instant::now() < deadline, "pool did not recover");
				std::thread::sleep(Duration::from_millis(1));
			},
			Err(other) => panic!("{other}"),
		}
	}
}

/// With a second slot, a run next to an abandoned one gets a replacement worker right away.
#[test]
fn replacement_worker_serves_next_to_abandoned_run() {
	let heavy = chained_matmuls(64);
	let hh = model_hash(&heavy);
	let small = tiny_int_add();
	let hs = model_hash(&small);
	let e = Engine::new(Limits {
		run_timeout: Some(Duration::from_micros(50)),
		max_concurrent_runs: 2,
		..Limits::default()
	});
	e.load(&heavy, &hh).unwrap();
	e.load(&small, &hs).unwrap();
	let x = Tensor::from_f32(vec![64, 256], &vec![1.0; 64 * 256]).unwrap();
	assert!(matches!(e.run(&hh, &[x]), Err(EngineError::Timeout(_))));
	let y = Tensor::from_i64(vec![2], &[1, 2]).unwrap();
	// The first small run may time out while its replacement worker starts (50 us is tight
	// on a busy machine); it must succeed within a few tries, long before the heavy run ends.
	let ok = (0..200).find_map(|_| match e.run(&hs, std::slice::from_ref(&y)) {
		Ok(out) => Some(out),
		Err(EngineError::Busy(_) | EngineError::Timeout(_)) => {
			std::thread::sleep(Duration::from_micros(200));
			None
		},
		Err(other) => panic!("{other}"),
	});
	assert_eq!(
		ok.expect("a replacement worker runs")[0],
		Tensor::from_i64(vec![2], &[2, 3]).unwrap()
	);
}

#[test]
fn busy_when_no_run_slot() {
	let bytes = tiny_int_add();
	let h = model_hash(&bytes);
	let e = Engine::new(Limits { max_concurrent_runs: 0, ..Limits::default() });
	e.load(&bytes, &h).unwrap();
	let x = Tensor::from_i64(vec![2], &[1, 2]).unwrap();
	assert_eq!(e.run(&h, &[x]), Err(EngineError::Busy(0)));
}

#[test]
fn inline_runs_without_timeout() {
	let bytes = tiny_int_add();
	let h = model_hash(&bytes);
	let e = Engine::new(Limits { run_timeout: None, ..Limits::default() });
	e.load(&bytes, &h).unwrap();
	let out = e.run(&h, &[Tensor::from_i64(vec![2], &[1, 2]).unwrap()]).unwrap();
	assert_eq!(out[0], Tensor::from_i64(vec![2], &[2, 3]).unwrap());
}

/// tract panics (in debug builds) on a BitShift by at least the type's width; the engine must
/// turn that into an error and keep working.
#[test]
fn tract_panics_are_caught() {
	let bytes = model(
		vec![node(
			"BitShift",
			&["x", "s"],
			&["y"],
			vec![AttributeProto {
				name: "direction".into(),
				r#type: 3, // STRING
				s: b"LEFT".to_vec(),
				..Default::default()
			}],
		)],
		vec![value("x", INT32, &[Some(2)]), value("s", INT32, &[Some(2)])],
		vec![value("y", INT32, &[Some(2)])],
		vec![],
	);
	let e = engine();
	let h = model_hash(&bytes);
	e.load(&bytes, &h).unwrap();
	let i32s = |v: [i32; 2]| {
		Tensor::new(DType::I32, vec![2], v.iter().flat_map(|x| x.to_le_bytes()).collect()).unwrap()
	};
	let r = e.run(&h, &[i32s([1, 1]), i32s([40, 1])]);
	if cfg!(debug_assertions) {
		assert!(matches!(r, Err(EngineError::Panic { .. })), "{r:?}");
	}
	// The engine (and the plan) survive.
	let out = e.run(&h, &[i32s([1, 3]), i32s([2, 1])]).unwrap();
	assert_eq!(out[0], i32s([4, 6]));
}

#[test]
fn engine_is_send_and_sync() {
	fn assert_send_sync<T: Send + Sync>() {}
	assert_send_sync::<Engine>();
	assert_send_sync::<Arc<Engine>>();
}

/// `tests/data/gather.onnx`: `y = table[index]` with a constant `table` of 8 floats (`1.5 * i`)
/// and an i64 `index` input of shape [1]. tract indexes the table without a bounds check, so an
/// index out of range panics inside tract (release builds too): the engine must return an
/// error and keep serving. The node's end-to-end test uses the same file.
#[test]
fn out_of_range_gather_is_an_error_and_the_engine_survives() {
	let bytes = include_bytes!("data/gather.onnx");
	let e = engine();
	let h = model_hash(bytes);
	e.load(bytes, &h).unwrap();
	let index = |i: i64| Tensor::from_i64(vec![1], &[i]).unwrap();
	for bad in [8, 100, -9, i64::MAX] {
		let r = e.run(&h, &[index(bad)]);
		assert!(r.is_err(), "index {bad}: {r:?}");
	}
	assert_eq!(e.run(&h, &[index(3)]).unwrap()[0], Tensor::from_f32(vec![1], &[4.5]).unwrap());
	assert_eq!(e.run(&h, &[index(-1)]).unwrap()[0], Tensor::from_f32(vec![1], &[10.5]).unwrap());
}
