//! Robustness: hostile model bytes through the loader and hostile bytes through the codec.
//! Bounded case counts so that CI runs them in seconds; raise `PROPTEST_CASES` to fuzz longer.

use proptest::prelude::*;
use verity_engine::{
	agrees, decode_tensors, encode_tensors,
	engine::{Declared, Engine, EngineError, Limits},
	model_hash,
	testing::*,
	AcceptanceRule, DType, Tensor,
};

fn limits() -> Limits {
	// Tight limits: a mutated model must be refused before it can allocate much.
	Limits {
		max_elements: 1 << 20,
		max_peak_bytes: 64 << 20,
		run_timeout: None,
		..Limits::default()
	}
}

#[derive(Clone, Debug)]
enum Mutation {
	Flip(usize, u8),
	Set(usize, u8),
	Truncate(usize),
	Insert(usize, Vec<u8>),
	Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
	prop_oneof![
		(any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
		(any::<usize>(), any::<u8>()).prop_map(|(i, v)| Mutation::Set(i, v)),
		any::<usize>().prop_map(Mutation::Truncate),
		(any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
			.prop_map(|(i, v)| Mutation::Insert(i, v)),
		(any::<usize>(), 1usize..32).prop_map(|(i, n)| Mutation::Delete(i, n)),
	]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
	if bytes.is_empty() {
		return;
	}
	let len = bytes.len();
	match m {
		Mutation::Flip(i, b) => bytes[i % len] ^= 1 << b,
		Mutation::Set(i, v) => bytes[i % len] = *v,
		Mutation::Truncate(i) => bytes.truncate(i % len),
		Mutation::Insert(i, v) => {
			let at = i % len;
			bytes.splice(at..at, v.iter().copied());
		},
		Mutation::Delete(i, n) => {
			let at = i % len;
			let end = (at + n).min(len);
			bytes.drain(at..end);
		},
	}
}

/// Load (and, if accepted, run) without panicking. Errors are fine.
fn exercise(bytes: &[u8]) {
	let e = Engine::new(limits());
	let h = model_hash(bytes);
	if let Ok(info) = e.load(bytes, &h) {
		// Build a zero input matching the (possibly mutated) graph's specs, batch 1.
		let inputs: Vec<Tensor> = info
			.io
			.inputs
			.iter()
			.filter_map(|s| {
				let shape: Vec<u32> = s.dims.iter().map(|d| d.unwrap_or(1)).collect();
				let n: usize = shape.iter().map(|d| *d as usize).product();
				if n > 1 << 16 {
					return None;
				}
				Tensor::new(s.dtype, shape, vec![0u8; n * s.dtype.size()]).ok()
			})
			.collect();
		let _ = e.run(&h, &inputs);
	}
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

	#[test]
	fn mutated_models_never_panic(
		which in 0usize..2,
		muts in prop::collection::vec(mutation(), 1..6),
	) {
		let mut bytes = if which == 0 { tiny_classifier() } else { tiny_int_add() };
		for m in &muts {
			apply(&mut bytes, m);
		}
		exercise(&bytes);
	}

	#[test]
	fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
		exercise(&bytes);
	}

	#[test]
	fn codec_decode_never_panics_and_is_canonical(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
		if let Ok(t) = Tensor::decode_all(&bytes) {
			prop_assert_eq!(t.canonical_bytes(), bytes.clone());
		}
		if let Ok(ts) = decode_tensors(&bytes) {
			prop_assert_eq!(encode_tensors(&ts), bytes);
		}
	}

	#[test]
	fn codec_roundtrips_and_rejects_mutations(
		dt in prop_oneof![Just(DType::F32), Just(DType::F16), Just(DType::I8), Just(DType::U8),
			Just(DType::I32), Just(DType::I64), Just(DType::Bool)],
		shape in prop::collection::vec(0u32..4, 0..4),
		seed in any::<u64>(),
		m in mutation(),
	) {
		let n: usize = shape.iter().map(|d| *d as usize).product();
		let mut data: Vec<u8> = (0..n * dt.size()).map(|i| (seed.rotate_left(i as u32) & 0xff) as u8).collect();
		if dt == DType::Bool {
			data.iter_mut().for_each(|b| *b &= 1);
		}
		let t = Tensor::new(dt, shape, data).unwrap();
		let enc = t.canonical_bytes();
		prop_assert_eq!(Tensor::decode_all(&enc).unwrap(), t);
		let mut bad = enc.clone();
		apply(&mut bad, &m);
		// Whatever the mutation, decoding either fails or yields a canonical tensor.
		if let Ok(u) = Tensor::decode_all(&bad) {
			prop_assert_eq!(u.canonical_bytes(), bad);
		}
	}

	#[test]
	fn agrees_is_total_reflexive_and_symmetric(
		a in prop::collection::vec(any::<u32>(), 1..8),
		b_seed in any::<u32>(),
		abs in any::<u64>(),
		rel in any::<u32>(),
		k in 0u32..10,
	) {
		let ta = Tensor::new(DType::F32, vec![a.len() as u32], a.iter().flat_map(|v| v.to_le_bytes()).collect()).unwrap();
		let b: Vec<u32> = a.iter().map(|v| v ^ (b_seed & 0xff)).collect();
		let tb = Tensor::new(DType::F32, vec![b.len() as u32], b.iter().flat_map(|v| v.to_le_bytes()).collect()).unwrap();
		for rule in [AcceptanceRule::Exact, AcceptanceRule::Tolerance { abs, rel }, AcceptanceRule::ArgMax, AcceptanceRule::TopK(k)] {
			prop_assert_eq!(agrees(&rule, &ta, &tb), agrees(&rule, &tb, &ta));
			prop_assert!(agrees(&rule, &ta, &ta.clone()));
		}
	}
}

// Hostile models whose weights are produced inside the graph (ConstantOfShape, Expand, Tile,
// Range + Gather): a few hundred bytes of ONNX that fold into megabytes or gigabytes. Each is
// refused before the folded tensors are allocated, or charged in the cache what it holds.

/// Extra resident memory allowed above the cache budget (or above one plan's charge) in the
/// tests below: the allocator's retained free blocks, tract's lazily built tables and the
/// worker threads' stacks. Documented in docs/benchmarks.md ("Plan memory").
const RSS_MARGIN: u64 = 32 << 20;

/// (VmRSS, VmHWM) of this process in bytes, from /proc/self/status.
fn resident() -> (u64, u64) {
	let status = std::fs::read_to_string("/proc/self/status").unwrap();
	let kib = |key: &str| -> u64 {
		let line = status.lines().find(|l| l.starts_with(key)).unwrap();
		line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
	};
	(kib("VmRSS:"), kib("VmHWM:"))
}

/// Run test `name` of this binary again in a child process, where `in_child(name)` is true, so
/// that the resident memory it measures is its own (the harness runs tests as threads of one
/// process). Returns `false` in the child; in the parent, checks that the child passed.
fn spawn_child(name: &str) -> bool {
	if in_child(name) {
		return false;
	}
	let out = std::process::Command::new(std::env::current_exe().unwrap())
		.args([name, "--exact", "--nocapture", "--test-threads=1"])
		.env("VERITY_MEMORY_CHILD", name)
		.output()
		.unwrap();
	let stdout = String::from_utf8_lossy(&out.stdout);
	println!("{stdout}");
	assert!(
		out.status.success(),
		"child failed:\n{stdout}\n{}",
		String::from_utf8_lossy(&out.stderr)
	);
	assert!(stdout.contains("1 passed"), "the child ran no test:\n{stdout}");
	true
}

fn in_child(name: &str) -> bool {
	std::env::var("VERITY_MEMORY_CHILD").as_deref() == Ok(name)
}

fn default_limits() -> Limits {
	Limits { run_timeout: None, ..Limits::default() }
}

fn ones(n: u32) -> Tensor {
	Tensor::from_f32(vec![1, n], &vec![1.0; n as usize]).unwrap()
}

fn mib(b: u64) -> f64 {
	b as f64 / (1 << 20) as f64
}

#[test]
fn hostile_folds_are_refused_before_they_are_allocated() {
	if spawn_child("hostile_folds_are_refused_before_they_are_allocated") {
		return;
	}
	let e = Engine::new(default_limits());
	let (_, hwm0) = resident();
	let cases = [
		// 50,000 x 50,000 f32: 10 GB from a 2-element shape.
		("ConstantOfShape 10 GB", constant_of_shape_matmul(50_000, 50_000, 0.5)),
		// A scalar expanded to 8192 x 8192, then tiled 64 x 64 times: 1.1 TB.
		("Expand/Tile", expand_tile_chain(8192, 64)),
		// Range(0, 2^30): an 8 GB index tensor, gathered into 2^30 x 8.
		("Range/Gather", range_gather(1 << 30, 8)),
		// 160 weights of 2^24 elements, each within max_elements: 10 GiB in all.
		("160 x 64 MiB", constant_of_shape_layers(4096, 160)),
	];
	for (what, bytes) in cases {
		assert!(bytes.len() < 20_000, "{what}: {} bytes", bytes.len());
		let err = e.load(&bytes, &model_hash(&bytes)).unwrap_err();
		println!("{what}: {err}");
		assert!(
			matches!(
				err,
				EngineError::TensorTooLarge { .. } | EngineError::TooManyConstantBytes { .. }
			),
			"{what}: {err}"
		);
	}
	// 48 weights of 4 MiB (192 MiB, within the node's 256 MiB) that type analysis folds one by
	// one, refused by the 8 MiB its spec declares before the third is computed.
	let bytes = constant_of_shape_layers(1024, 48);
	let err = e
		.load_declared(
			&bytes,
			&model_hash(&bytes),
			Declared { io: None, max_constant_bytes: Some(8 << 20) },
		)
		.unwrap_err();
	println!("48 x 4 MiB, 8 MiB declared: {err}");
	assert!(
		matches!(err, EngineError::ConstantsOverSpec { declared, .. } if declared == 8 << 20),
		"{err}"
	);
	let (_, hwm) = resident();
	println!("peak resident growth {:.1} MiB", mib(hwm.saturating_sub(hwm0)));
	assert!(hwm.saturating_sub(hwm0) < 64 << 20, "peak grew by {} bytes", hwm - hwm0);
}

#[test]
fn hostile_models_are_charged_what_they_fold() {
	let e = Engine::new(default_limits());
	let w = 16u64 << 20; // each case folds a 16 MiB f32 weight
					  // (name, model, input width, expected output, whether tract folds the weight into the plan:
					  // it does not fold a result larger than max(its inputs, 4 MiB), which then is computed by
					  // every run and charged as scratch)
	let cases = [
		("ConstantOfShape", constant_of_shape_matmul(2048, 2048, 0.5), 2048, 2048.0 * 0.5, true),
		("Expand/Tile", expand_tile_chain(512, 4), 8192, 8192.0 * 0.25, false),
		("Range/Gather", range_gather(8192, 512), 8192, 8192.0 * 0.125, false),
	];
	for (what, bytes, n, want, folded) in cases {
		let h = model_hash(&bytes);
		let info = e.load(&bytes, &h).unwrap();
		println!(
			"{what}: {} bytes of ONNX, constant bound {}, held {}, scratch {}, charged {}",
			bytes.len(),
			info.constant_bytes,
			info.held_bytes,
			info.scratch_bytes,
			info.plan_bytes
		);
		assert!(info.constant_bytes >= u128::from(w), "{what}");
		if folded {
			assert!(info.held_bytes >= w, "{what}: the packed weight is measured");
		} else {
			assert!(info.scratch_bytes >= u128::from(w), "{what}: the weight is computed per run");
		}
		assert!(info.plan_bytes >= w.max(info.held_bytes) + bytes.len() as u64, "{what}");
		// Folding under the guard computes what tract computes without it.
		let y = e.run(&h, &[ones(n)]).unwrap();
		assert!(y[0].to_f32_vec().unwrap().iter().all(|v| *v == want as f32), "{what}");
	}
	assert!(e.cache_stats().bytes >= 3 * w);
	// The same models under a constant budget below their weights are refused.
	let tight = Engine::new(Limits { max_constant_bytes: 8 << 20, ..default_limits() });
	for bytes in [constant_of_shape_matmul(2048, 2048, 0.5), expand_tile_chain(512, 4)] {
		let err = tight.load(&bytes, &model_hash(&bytes)).unwrap_err();
		assert!(
			matches!(err, EngineError::TooManyConstantBytes { max, .. } if max == 8 << 20),
			"{err}"
		);
	}
}

#[test]
fn resident_memory_stays_within_the_cache_budget() {
	if spawn_child("resident_memory_stays_within_the_cache_budget") {
		return;
	}
	let cache = 96u64 << 20;
	// With a run timeout: runs go through the worker pool, whose states belong to the plans.
	let e = Engine::new(Limits { cache_bytes: cache, ..Limits::default() });
	// One-time costs first (tract's op registry, the worker threads, kernel tables).
	let warm = constant_of_shape_matmul(64, 64, 0.5);
	e.load(&warm, &model_hash(&warm)).unwrap();
	e.run(&model_hash(&warm), &[ones(64)]).unwrap();
	e.evict(&model_hash(&warm));
	let (base, _) = resident();
	println!("baseline {:.1} MiB", mib(base));
	for i in 0..10 {
		// 16 MiB of folded weights each, under ten different hashes.
		let bytes = constant_of_shape_matmul(2048, 2048, 1.0 + i as f32);
		let h = model_hash(&bytes);
		let info = e.load(&bytes, &h).unwrap();
		e.run(&h, &[ones(2048)]).unwrap();
		let (rss, _) = resident();
		let grown = rss.saturating_sub(base);
		let stats = e.cache_stats();
		println!(
			"plan {i}: charged {:.1} MiB, cache {} plans {:.1} MiB, resident +{:.1} MiB",
			mib(info.plan_bytes),
			stats.entries,
			mib(stats.bytes),
			mib(grown)
		);
		assert!(stats.bytes <= cache);
		if i == 0 {
			assert!(grown <= info.plan_bytes + RSS_MARGIN, "one plan: +{grown} bytes");
		}
		assert!(grown <= cache + RSS_MARGIN, "plan {i}: +{grown} bytes");
	}
	assert!(e.cache_stats().entries < 10, "plans were evicted");
	let (_, hwm) = resident();
	let peak = hwm.saturating_sub(base);
	println!("peak resident +{:.1} MiB", mib(peak));
	// Plans are evicted for a new one before it is folded and packed, so the cold loads' own
	// tensors fit in the margin too.
	assert!(peak <= cache + RSS_MARGIN, "peak +{peak} bytes");
	// LSTMs, whose weights live in scan bodies: 32 MiB each, the cache keeps two beside the
	// matrix plans it evicts. Their cold loads need about three times their weights at the
	// peak (not asserted: docs/benchmarks.md, "Memory a provider or validator node needs").
	for i in 0..4 {
		let bytes = constant_of_shape_lstm(1024, 1024, 0.001 * (i + 1) as f32);
		let h = model_hash(&bytes);
		let info = e.load(&bytes, &h).unwrap();
		let x = Tensor::from_f32(vec![1, 1, 1024], &vec![1.0; 1024]).unwrap();
		e.run(&h, &[x]).unwrap();
		let (rss, hwm) = resident();
		let grown = rss.saturating_sub(base);
		let stats = e.cache_stats();
		println!(
			"lstm {i}: charged {:.1} MiB, cache {} plans {:.1} MiB, resident +{:.1} MiB, peak +{:.1} MiB",
			mib(info.plan_bytes),
			stats.entries,
			mib(stats.bytes),
			mib(grown),
			mib(hwm.saturating_sub(base))
		);
		assert!(stats.bytes <= cache);
		assert!(grown <= cache + RSS_MARGIN, "lstm {i}: +{grown} bytes");
	}
}

#[test]
fn constants_over_the_declared_limit_are_refused_alike() {
	let bytes = constant_of_shape_matmul(2048, 2048, 0.5);
	let h = model_hash(&bytes);
	let declared = |max| Declared { io: None, max_constant_bytes: Some(max) };
	// The figure a model's owner declares: the constant bound, computed from the graph.
	let a = Engine::new(default_limits());
	let info = a.load(&bytes, &h).unwrap();
	let bound = u64::try_from(info.constant_bytes).unwrap();
	assert!(bound >= 16 << 20, "{bound}");
	assert!(info.bound_bytes >= info.constant_bytes + bytes.len() as u128);
	assert!(u128::from(info.plan_bytes) >= info.bound_bytes);
	// Another engine, with other runtime limits and another cache, computes the same bound,
	// refuses the model under a smaller declaration and caches nothing, and loads it under the
	// exact figure.
	let b = Engine::new(Limits {
		cache_bytes: 64 << 20,
		max_concurrent_runs: 2,
		run_timeout: Some(std::time::Duration::from_secs(5)),
		..Limits::default()
	});
	let err = b.load_declared(&bytes, &h, declared(bound - 1)).unwrap_err();
	assert_eq!(
		err,
		EngineError::ConstantsOverSpec { bytes: info.constant_bytes, declared: bound - 1 }
	);
	assert!(err.to_string().contains("the model's spec declares"), "{err}");
	assert!(!b.is_loaded(&h));
	let ok = b.load_declared(&bytes, &h, declared(bound)).unwrap();
	assert_eq!((ok.constant_bytes, ok.bound_bytes), (info.constant_bytes, info.bound_bytes));
	// A cached plan is checked against the declaration too.
	let err = a.load_declared(&bytes, &h, declared(8 << 20)).unwrap_err();
	assert!(matches!(err, EngineError::ConstantsOverSpec { declared, .. } if declared == 8 << 20));
	assert!(a.load_declared(&bytes, &h, Declared::default()).is_ok());
	// Over the node's limit and the declared one: the node's limit is reported, whatever the
	// declaration.
	let tight = Engine::new(Limits { max_constant_bytes: 8 << 20, ..default_limits() });
	for d in [4 << 20, 32 << 20] {
		let err = tight.load_declared(&bytes, &h, declared(d)).unwrap_err();
		assert!(
			matches!(err, EngineError::TooManyConstantBytes { max, .. } if max == 8 << 20),
			"{err}"
		);
	}
}

#[test]
fn lstm_weights_held_in_scan_bodies_are_measured() {
	// tract runs an LSTM as a scan whose body holds the (packed) weights: 16 MiB of input
	// weights and 16 MiB of recurrence weights, both made by `ConstantOfShape`.
	let e = Engine::new(default_limits());
	let w = 16u64 << 20;
	let bytes = constant_of_shape_lstm(1024, 1024, 0.001);
	let h = model_hash(&bytes);
	let info = e.load(&bytes, &h).unwrap();
	println!(
		"LSTM: {} bytes of ONNX, constant bound {}, held {}, scratch {}, charged {}",
		bytes.len(),
		info.constant_bytes,
		info.held_bytes,
		info.scratch_bytes,
		info.plan_bytes
	);
	assert!(info.constant_bytes >= u128::from(2 * w));
	assert!(info.held_bytes >= 2 * w, "both weights are measured, in and out of the scan body");
	assert!(info.plan_bytes >= info.held_bytes + bytes.len() as u64);
	// Every gate sees 1024 x 0.001 = 1.024 from x = 1 (h0 = c0 = 0): h = o * tanh(i * g).
	let x = Tensor::from_f32(vec![1, 1, 1024], &vec![1.0; 1024]).unwrap();
	let y = e.run(&h, &[x]).unwrap()[0].to_f32_vec().unwrap();
	let s = 1.0 / (1.0 + (-1.024f64).exp());
	let want = s * (s * 1.024f64.tanh()).tanh();
	assert_eq!(y.len(), 1024);
	assert!(y.iter().all(|v| (f64::from(*v) - want).abs() < 1e-5), "{} vs {want}", y[0]);
}

#[test]
fn packing_is_bounded_from_the_graph() {
	// Thin weights: tract pads the small dimension of a weight it packs to its kernel's panel
	// (up to 128 on AVX-512), or packs a thin operand at every run. The constant bound sees a
	// 16 MiB weight; the packing bound, computed from the decluttered graph, covers what this
	// CPU's kernels make of it.
	let shapes = [(1i64 << 21, 2i64), (1 << 20, 3), (1, 1 << 22), (1 << 22, 1)];
	let roomy = Engine::new(Limits {
		max_constant_bytes: 4 << 30,
		cache_bytes: 8 << 30,
		..default_limits()
	});
	for (rows, cols) in shapes {
		let bytes = constant_of_shape_matmul(rows, cols, 0.5);
		let h = model_hash(&bytes);
		let info = roomy.load(&bytes, &h).unwrap();
		println!(
			"{rows}x{cols}: constant bound {}, packing bound {}, held {}, scratch {}, charged {}",
			info.constant_bytes,
			info.packing_bytes,
			info.held_bytes,
			info.scratch_bytes,
			info.plan_bytes
		);
		assert!(info.packing_bytes > 0, "{rows}x{cols}");
		assert!(info.constants_bound() >= u128::from(info.held_bytes), "{rows}x{cols}");
		let y = roomy.run(&h, &[ones(rows as u32)]).unwrap();
		let want = rows as f32 * 0.5;
		assert!(y[0].to_f32_vec().unwrap().iter().all(|v| *v == want), "{rows}x{cols}");
		roomy.evict(&h);
	}
	// Within the default constant limit and a 64 MiB cache, each is refused, and never cached
	// over the budget (the measured checks after optimization are the last line).
	let cache = 64u64 << 20;
	let peak = 128u64 << 20;
	let e = Engine::new(Limits { cache_bytes: cache, max_peak_bytes: peak, ..default_limits() });
	for (rows, cols) in shapes {
		let bytes = constant_of_shape_matmul(rows, cols, 0.5);
		let h = model_hash(&bytes);
		let err = e.load(&bytes, &h).unwrap_err();
		println!("{rows}x{cols}: {err}");
		assert!(
			matches!(
				err,
				EngineError::TooManyConstantBytes { .. }
					| EngineError::PlanTooLarge { .. }
					| EngineError::TooMuchMemory { .. }
			),
			"{rows}x{cols}: {err}"
		);
		assert!(!e.is_loaded(&h));
		assert!(e.cache_stats().bytes <= cache);
	}
}
