//! Robustness: hostile model bytes through the loader and hostile bytes through the codec.
//! Bounded case counts so that CI runs them in seconds; raise `PROPTEST_CASES` to fuzz longer.

use proptest::prelude::*;
use verity_engine::{
	agrees, decode_tensors,
	engine::{Engine, Limits},
	encode_tensors, model_hash,
	testing::*,
	AcceptanceRule, DType, Tensor,
};

fn limits() -> Limits {
	// Tight limits: a mutated model must be refused before it can allocate much.
	Limits { max_elements: 1 << 20, max_peak_bytes: 64 << 20, run_timeout: None, ..Limits::default() }
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
		let has_nan = a.iter().any(|v| f32::from_bits(*v).is_nan());
		for rule in [AcceptanceRule::Exact, AcceptanceRule::Tolerance { abs, rel }, AcceptanceRule::ArgMax, AcceptanceRule::TopK(k)] {
			prop_assert_eq!(agrees(&rule, &ta, &tb), agrees(&rule, &tb, &ta));
			if !has_nan || rule == AcceptanceRule::Exact {
				prop_assert!(agrees(&rule, &ta, &ta.clone()));
			}
		}
	}
}
