//! Property tests: MatMul, Gemm, Conv and Softmax through the engine against naive Rust
//! references, with explicit tolerances.
//!
//! Tolerance for sums of products: `|got - want| <= 1e-5 + 1e-5 * sum(|a_i * b_i|)` — a few f32
//! ulps of the largest partial sum, whatever order the kernel accumulates in.

use proptest::prelude::*;
use verity_engine::{
	engine::{Engine, Limits},
	model_hash,
	testing::*,
	Tensor,
};

fn engine() -> Engine {
	Engine::new(Limits { run_timeout: None, ..Limits::default() })
}

fn run1(bytes: &[u8], inputs: &[Tensor]) -> Vec<f32> {
	let e = engine();
	let h = model_hash(bytes);
	e.load(bytes, &h).unwrap();
	let out = e.run(&h, inputs).unwrap();
	out[0].to_f32_vec().unwrap()
}

fn close(got: &[f32], want: &[(f64, f64)]) -> Result<(), TestCaseError> {
	prop_assert_eq!(got.len(), want.len());
	for (i, (g, (w, mag))) in got.iter().zip(want).enumerate() {
		let tol = 1e-5 + 1e-5 * mag;
		prop_assert!(((*g as f64) - w).abs() <= tol, "element {}: {} vs {} (tol {})", i, g, w, tol);
	}
	Ok(())
}

fn vals(n: usize) -> impl Strategy<Value = Vec<f32>> {
	prop::collection::vec(-4.0f32..4.0, n)
}

fn config() -> ProptestConfig {
	ProptestConfig { cases: 40, ..ProptestConfig::default() }
}

proptest! {
	#![proptest_config(config())]

	#[test]
	fn matmul_matches_reference(
		(m, k, n, a, b) in (1usize..7, 1usize..9, 1usize..7)
			.prop_flat_map(|(m, k, n)| (Just(m), Just(k), Just(n), vals(m * k), vals(k * n)))
	) {
		let bytes = model(
			vec![node("MatMul", &["a", "b"], &["y"], vec![])],
			vec![value("a", FLOAT, &[Some(m as i64), Some(k as i64)]),
				value("b", FLOAT, &[Some(k as i64), Some(n as i64)])],
			vec![value("y", FLOAT, &[Some(m as i64), Some(n as i64)])],
			vec![],
		);
		let got = run1(&bytes, &[
			Tensor::from_f32(vec![m as u32, k as u32], &a).unwrap(),
			Tensor::from_f32(vec![k as u32, n as u32], &b).unwrap(),
		]);
		let mut want = vec![];
		for i in 0..m {
			for j in 0..n {
				let (mut s, mut mag) = (0f64, 0f64);
				for p in 0..k {
					let v = a[i * k + p] as f64 * b[p * n + j] as f64;
					s += v;
					mag += v.abs();
				}
				want.push((s, mag));
			}
		}
		close(&got, &want)?;
	}

	#[test]
	fn gemm_matches_reference(
		(m, k, n, ta, tb, alpha, beta, a, b, c) in
			(1usize..6, 1usize..7, 1usize..6, any::<bool>(), any::<bool>(), -2.0f32..2.0, -2.0f32..2.0)
			.prop_flat_map(|(m, k, n, ta, tb, al, be)|
				(Just(m), Just(k), Just(n), Just(ta), Just(tb), Just(al), Just(be),
				 vals(m * k), vals(k * n), vals(n)))
	) {
		// A is [m,k] or, transposed, [k,m]; B is [k,n] or [n,k]; C ([n]) broadcasts over rows.
		let a_shape = if ta { [k, m] } else { [m, k] };
		let b_shape = if tb { [n, k] } else { [k, n] };
		let bytes = model(
			vec![node("Gemm", &["a", "b", "c"], &["y"], vec![
				attr_float("alpha", alpha), attr_float("beta", beta),
				attr_int("transA", ta as i64), attr_int("transB", tb as i64)])],
			vec![value("a", FLOAT, &[Some(a_shape[0] as i64), Some(a_shape[1] as i64)])],
			vec![value("y", FLOAT, &[Some(m as i64), Some(n as i64)])],
			vec![f32_tensor("b", &[b_shape[0] as i64, b_shape[1] as i64], &b), f32_tensor("c", &[n as i64], &c)],
		);
		let got = run1(&bytes, &[Tensor::from_f32(vec![a_shape[0] as u32, a_shape[1] as u32], &a).unwrap()]);
		let at = |i: usize, p: usize| if ta { a[p * m + i] } else { a[i * k + p] } as f64;
		let bt = |p: usize, j: usize| if tb { b[j * k + p] } else { b[p * n + j] } as f64;
		let mut want = vec![];
		for i in 0..m {
			for (j, &cj) in c.iter().enumerate().take(n) {
				let (mut s, mut mag) = (0f64, 0f64);
				for p in 0..k {
					let v = at(i, p) * bt(p, j);
					s += v;
					mag += v.abs();
				}
				let cj = beta as f64 * cj as f64;
				want.push((alpha as f64 * s + cj, (alpha as f64).abs() * mag + cj.abs()));
			}
		}
		close(&got, &want)?;
	}

	#[test]
	fn conv_matches_reference(
		(ci, co, h, w, kh, kw, stride, pad, x, wt, bias) in
			(1usize..4, 1usize..4, 3usize..8, 3usize..8, 1usize..4, 1usize..4, 1usize..3, 0usize..2)
			.prop_flat_map(|(ci, co, h, w, kh, kw, s, p)|
				(Just(ci), Just(co), Just(h), Just(w), Just(kh), Just(kw), Just(s), Just(p),
				 vals(ci * h * w), vals(co * ci * kh * kw), vals(co)))
	) {
		let oh = (h + 2 * pad - kh) / stride + 1;
		let ow = (w + 2 * pad - kw) / stride + 1;
		let p = pad as i64;
		let bytes = model(
			vec![node("Conv", &["x", "w", "b"], &["y"], vec![
				attr_ints("kernel_shape", &[kh as i64, kw as i64]),
				attr_ints("strides", &[stride as i64, stride as i64]),
				attr_ints("pads", &[p, p, p, p])])],
			vec![value("x", FLOAT, &[Some(1), Some(ci as i64), Some(h as i64), Some(w as i64)])],
			vec![value("y", FLOAT, &[Some(1), Some(co as i64), Some(oh as i64), Some(ow as i64)])],
			vec![f32_tensor("w", &[co as i64, ci as i64, kh as i64, kw as i64], &wt),
				f32_tensor("b", &[co as i64], &bias)],
		);
		let got = run1(&bytes, &[Tensor::from_f32(vec![1, ci as u32, h as u32, w as u32], &x).unwrap()]);
		let mut want = vec![];
		for o in 0..co {
			for y in 0..oh {
				for xx in 0..ow {
					let (mut s, mut mag) = (bias[o] as f64, (bias[o] as f64).abs());
					for c in 0..ci {
						for dy in 0..kh {
							for dx in 0..kw {
								let iy = (y * stride + dy) as i64 - p;
								let ix = (xx * stride + dx) as i64 - p;
								if iy < 0 || ix < 0 || iy >= h as i64 || ix >= w as i64 {
									continue;
								}
								let v = x[(c * h + iy as usize) * w + ix as usize] as f64 *
									wt[((o * ci + c) * kh + dy) * kw + dx] as f64;
								s += v;
								mag += v.abs();
							}
						}
					}
					want.push((s, mag));
				}
			}
		}
		close(&got, &want)?;
	}

	/// The engine's direct convolution (`src/conv.rs`) and tract's fallback, through `Engine`:
	/// batches, asymmetric pads, strides, dilations, an optional ReLU fused into the
	/// convolution, and `group = 2` (not covered by the direct kernel: tract's path).
	#[test]
	fn conv_relu_matches_reference(
		(g, n, h, w, k, s, d, pads, relu, x, wt, bias) in
			(1usize..3, 1usize..3, 1usize..10, 1usize..10, (1usize..4, 1usize..4),
			 (1usize..3, 1usize..3), (1usize..3, 1usize..3), [0usize..3, 0usize..3, 0usize..3, 0usize..3],
			 any::<bool>())
			.prop_filter("kernel larger than the padded input", |(_, _, h, w, k, _, d, p, _)| {
				h + p[0] + p[2] > (k.0 - 1) * d.0 && w + p[1] + p[3] > (k.1 - 1) * d.1
			})
			.prop_flat_map(|(g, n, h, w, k, s, d, p, r)| {
				let (ci, co) = (2 * g, 3 * g);
				(Just(g), Just(n), Just(h), Just(w), Just(k), Just(s), Just(d), Just(p), Just(r),
				 vals(n * ci * h * w), vals(co * 2 * k.0 * k.1), vals(co))
			})
	) {
		// Two input and three output channels per group.
		let (ci, co, cig, cog) = (2 * g, 3 * g, 2, 3);
		let oh = (h + pads[0] + pads[2] - (k.0 - 1) * d.0 - 1) / s.0 + 1;
		let ow = (w + pads[1] + pads[3] - (k.1 - 1) * d.1 - 1) / s.1 + 1;
		let mut nodes = vec![node("Conv", &["x", "w", "b"], &["c"], vec![
			attr_ints("kernel_shape", &[k.0 as i64, k.1 as i64]),
			attr_ints("strides", &[s.0 as i64, s.1 as i64]),
			attr_ints("dilations", &[d.0 as i64, d.1 as i64]),
			attr_ints("pads", &pads.map(|p| p as i64)),
			attr_int("group", g as i64)])];
		if relu {
			nodes.push(node("Relu", &["c"], &["y"], vec![]));
		} else {
			nodes[0].output = vec!["y".into()];
		}
		let dims = |a: usize, b: usize, c: usize, d: usize| [a, b, c, d].map(|v| Some(v as i64));
		let bytes = model(
			nodes,
			vec![value("x", FLOAT, &dims(n, ci, h, w))],
			vec![value("y", FLOAT, &dims(n, co, oh, ow))],
			vec![f32_tensor("w", &[co as i64, cig as i64, k.0 as i64, k.1 as i64], &wt),
				f32_tensor("b", &[co as i64], &bias)],
		);
		let got = run1(&bytes, &[Tensor::from_f32(vec![n as u32, ci as u32, h as u32, w as u32], &x).unwrap()]);
		let mut want = vec![];
		for b in 0..n {
			for o in 0..co {
				let grp = o / cog;
				for y in 0..oh {
					for xx in 0..ow {
						let (mut acc, mut mag) = (bias[o] as f64, (bias[o] as f64).abs());
						for c in 0..cig {
							for dy in 0..k.0 {
								for dx in 0..k.1 {
									let iy = (y * s.0 + dy * d.0) as i64 - pads[0] as i64;
									let ix = (xx * s.1 + dx * d.1) as i64 - pads[1] as i64;
									if iy < 0 || ix < 0 || iy >= h as i64 || ix >= w as i64 {
										continue;
									}
									let v = x[((b * ci + grp * cig + c) * h + iy as usize) * w + ix as usize] as f64 *
										wt[((o * cig + c) * k.0 + dy) * k.1 + dx] as f64;
									acc += v;
									mag += v.abs();
								}
							}
						}
						want.push((if relu { acc.max(0.0) } else { acc }, mag));
					}
				}
			}
		}
		close(&got, &want)?;
	}

	#[test]
	fn softmax_matches_reference(
		(rows, cols, axis, x) in (1usize..6, 1usize..10, 0i64..2)
			.prop_flat_map(|(r, c, a)| (Just(r), Just(c), Just(a), prop::collection::vec(-20.0f32..20.0, r * c)))
	) {
		let bytes = model(
			vec![node("Softmax", &["x"], &["y"], vec![attr_int("axis", axis)])],
			vec![value("x", FLOAT, &[Some(rows as i64), Some(cols as i64)])],
			vec![value("y", FLOAT, &[Some(rows as i64), Some(cols as i64)])],
			vec![],
		);
		let got = run1(&bytes, &[Tensor::from_f32(vec![rows as u32, cols as u32], &x).unwrap()]);
		let idx = |r: usize, c: usize| r * cols + c;
		let mut want = vec![(0f64, 0f64); rows * cols];
		// Opset 13: softmax along the single `axis`.
		let (outer, inner) = if axis == 1 { (rows, cols) } else { (cols, rows) };
		for o in 0..outer {
			let at = |i: usize| if axis == 1 { idx(o, i) } else { idx(i, o) };
			let m = (0..inner).map(|i| x[at(i)] as f64).fold(f64::NEG_INFINITY, f64::max);
			let s: f64 = (0..inner).map(|i| (x[at(i)] as f64 - m).exp()).sum();
			for i in 0..inner {
				// Relative error of exp/sum: allow 1e-5 + 1e-5*value via `mag` = 1e-1 * value.
				let v = (x[at(i)] as f64 - m).exp() / s;
				want[at(i)] = (v, 10.0 * v);
			}
		}
		close(&got, &want)?;
	}
}

/// The engine's plan for a small conv + ReLU holds the direct kernel with the ReLU fused and no
/// explicit pad (on CPUs it runs on); a grouped convolution keeps tract's path.
#[test]
fn small_conv_uses_the_direct_kernel_only_where_it_applies() {
	use verity_engine::engine::{optimize, tract_onnx, tract_onnx::prelude::*};
	let conv = |group: i64| {
		model(
			vec![
				node(
					"Conv",
					&["x", "w", "b"],
					&["c"],
					vec![
						attr_ints("kernel_shape", &[3, 3]),
						attr_ints("pads", &[1, 1, 1, 1]),
						attr_int("group", group),
					],
				),
				node("Relu", &["c"], &["y"], vec![]),
			],
			vec![value("x", FLOAT, &[Some(1), Some(2), Some(6), Some(6)])],
			vec![value("y", FLOAT, &[Some(1), Some(4), Some(6), Some(6)])],
			vec![
				f32_tensor("w", &[4, 2 / group, 3, 3], &vec![0.5; 4 * 2 / group as usize * 9]),
				f32_tensor("b", &[4], &[0.0, 1.0, -1.0, 2.0]),
			],
		)
	};
	let ops = |bytes: &[u8]| -> Vec<String> {
		let typed = tract_onnx::onnx()
			.model_for_read(&mut &*bytes)
			.and_then(|m| m.into_typed())
			.and_then(|m| m.into_decluttered())
			.unwrap();
		optimize(typed).unwrap().nodes().iter().map(|n| n.op().name().to_string()).collect()
	};
	let direct = ops(&conv(1));
	if !direct_conv_available() {
		assert!(!direct.iter().any(|o| o == "VerityConv2dF32"), "{direct:?}");
		return;
	}
	assert!(direct.iter().any(|o| o == "VerityConv2dF32"), "{direct:?}");
	assert!(
		!direct.iter().any(|o| o.contains("Max") || o == "Pad"),
		"ReLU and pad folded: {direct:?}"
	);
	let grouped = ops(&conv(2));
	assert!(!grouped.iter().any(|o| o == "VerityConv2dF32"), "{grouped:?}");
}

/// Whether the engine's direct convolution runs on this CPU (it needs AVX2, see `src/conv.rs`).
fn direct_conv_available() -> bool {
	#[cfg(target_arch = "x86_64")]
	{
		std::arch::is_x86_feature_detected!("avx2")
	}
	#[cfg(not(target_arch = "x86_64"))]
	{
		false
	}
}
