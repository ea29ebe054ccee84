//! A replacement for tract's `OptMaxPool` on f32 NCHW 2-D pools.
//!
//! tract-core 0.23.9 evaluates a 2x2 stride-2 max pool at about 12 ns per output (scalar, with a
//! bounds check per tap): on the `cnn` demo model its two pools took 29 us of a 60 us run, about
//! twice onnxruntime's whole run. This op walks each output row with the kernel taps clipped to
//! the input once per row and column, without per-tap checks.
//!
//! Semantics are those of tract's generic max-pool walk: every output starts at `f32::MIN`, the
//! in-bounds taps fold in row-major kernel order with `if acc < v { v } else { acc }` (a NaN
//! never wins, ties keep the first tap), and padded taps are skipped. tract's own 2x2 fast path
//! uses `f32::max` instead, which agrees except possibly on the sign of a zero when `+0.0` and
//! `-0.0` tie; this op gives the same bits on every CPU (no runtime kernel dispatch).

use tract_onnx::{
	prelude::*,
	tract_core::{
		internal::*,
		ops::{cnn::OptMaxPool, nn::DataFormat},
	},
};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct MaxPool2dF32 {
	/// Input [n, c, h, w] and output [n, c, oh, ow], both contiguous.
	n: usize,
	c: usize,
	h: usize,
	w: usize,
	oh: usize,
	ow: usize,
	/// Kernel, strides, dilations and leading padding, (y, x).
	k: (usize, usize),
	s: (usize, usize),
	d: (usize, usize),
	pad: (usize, usize),
}

impl MaxPool2dF32 {
	/// The replacement of `op` on an input of `fact`, if it is a case this op covers.
	pub(crate) fn replacing(op: &OptMaxPool, fact: &TypedFact) -> Option<Self> {
		let ps = &op.pool_spec;
		if op.with_index_outputs.is_some()
			|| ps.data_format != DataFormat::NCHW
			|| ps.rank() != 2
			|| fact.datum_type != f32::datum_type()
		{
			return None;
		}
		let shape = fact.shape.as_concrete()?;
		let &[n, c, h, w] = shape else { return None };
		let padding = ps.computed_padding(&[h, w]);
		let (oh, ow) = (padding[0].convoluted, padding[1].convoluted);
		let out = ps.output_shape(shape).ok()?;
		if out.shape[..] != [n, c, oh, ow] || oh == 0 || ow == 0 {
			return None;
		}
		Some(Self {
			n,
			c,
			h,
			w,
			oh,
			ow,
			k: (ps.kernel_shape[0], ps.kernel_shape[1]),
			s: (ps.stride(0), ps.stride(1)),
			d: (ps.dilation(0), ps.dilation(1)),
			pad: (padding[0].pad_before, padding[1].pad_before),
		})
	}

	/// Kernel taps `lo..hi` of output position `o` that land inside `0..len`.
	fn taps(
		o: usize,
		stride: usize,
		dil: usize,
		pad: usize,
		k: usize,
		len: usize,
	) -> (usize, usize) {
		// Tap t lands on o*stride + t*dil - pad, in bounds when pad <= o*stride + t*dil < len + pad.
		let base = o * stride;
		let lo = if base >= pad { 0 } else { (pad - base).div_ceil(dil) };
		let hi = if base >= len + pad { 0 } else { ((len + pad - base - 1) / dil + 1).min(k) };
		(lo.min(hi), hi)
	}

	fn run(&self, input: &[f32], output: &mut [f32]) {
		let (kh, kw) = self.k;
		let (sh, sw) = self.s;
		let (dh, dw) = self.d;
		let (pt, pl) = self.pad;
		let (h, w, oh, ow) = (self.h, self.w, self.oh, self.ow);
		let cols: Vec<(usize, usize)> =
			(0..ow).map(|ox| Self::taps(ox, sw, dw, pl, kw, w)).collect();
		let simple_2x2 =
			self.k == (2, 2) && self.s == (2, 2) && self.d == (1, 1) && self.pad == (0, 0);
		for (plane, out_plane) in input.chunks_exact(h * w).zip(output.chunks_exact_mut(oh * ow)) {
			for (oy, out_row) in out_plane.chunks_exact_mut(ow).enumerate() {
				if simple_2x2 && 2 * oy + 1 < h && 2 * ow <= w {
					let r0 = &plane[2 * oy * w..][..2 * ow];
					let r1 = &plane[(2 * oy + 1) * w..][..2 * ow];
					for ((o, a), b) in
						out_row.iter_mut().zip(r0.chunks_exact(2)).zip(r1.chunks_exact(2))
					{
						let mut m = f32::MIN;
						for v in [a[0], a[1], b[0], b[1]] {
							m = if m < v { v } else { m };
						}
						*o = m;
					}
					continue;
				}
				let (ky0, ky1) = Self::taps(oy, sh, dh, pt, kh, h);
				for (ox, o) in out_row.iter_mut().enumerate() {
					let (kx0, kx1) = cols[ox];
					let mut m = f32::MIN;
					for ky in ky0..ky1 {
						let row = &plane[(oy * sh + ky * dh - pt) * w..][..w];
						for kx in kx0..kx1 {
							let v = row[ox * sw + kx * dw - pl];
							m = if m < v { v } else { m };
						}
					}
					*o = m;
				}
			}
		}
	}
}

impl Op for MaxPool2dF32 {
	fn name(&self) -> StaticName {
		"VerityMaxPool2dF32".into()
	}

	fn info(&self) -> TractResult<Vec<String>> {
		Ok(vec![format!(
			"kernel {:?} strides {:?} dilations {:?} pad {:?}",
			self.k, self.s, self.d, self.pad
		)])
	}

	fn as_typed(&self) -> Option<&dyn TypedOp> {
		Some(self)
	}
}

impl EvalOp for MaxPool2dF32 {
	fn eval_out_of_plan(&self, inputs: TVec<TValue>) -> TractResult<Option<TVec<TValue>>> {
		Ok(Some(EvalOp::eval(self, &EvalContext::out_of_plan(), inputs)?))
	}

	fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
		let input = args_1!(inputs);
		ensure!(
			input.shape() == [self.n, self.c, self.h, self.w],
			"unexpected input shape {:?}",
			input.shape()
		);
		let plain = input.try_as_plain_ram()?;
		let src = plain.as_slice::<f32>()?;
		// Written in place: a tensor built from a `Vec` or an ndarray would be copied once more.
		let mut out = Tensor::zero::<f32>(&[self.n, self.c, self.oh, self.ow])?;
		let mut view = out.try_as_plain_ram_mut()?;
		let dst = view.as_slice_mut::<f32>()?;
		ensure!(src.len() == self.n * self.c * self.h * self.w, "unexpected input length");
		ensure!(dst.len() == self.n * self.c * self.oh * self.ow, "unexpected output length");
		self.run(src, dst);
		Ok(tvec!(out.into_tvalue()))
	}
}

impl TypedOp for MaxPool2dF32 {
	fn as_op(&self) -> &dyn Op {
		self
	}

	fn as_op_mut(&mut self) -> &mut dyn Op {
		self
	}

	fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
		Ok(tvec!(f32::fact([self.n, self.c, self.oh, self.ow])))
	}
}

/// Replace every `OptMaxPool` of an optimized model that [`MaxPool2dF32`] covers.
pub(crate) fn replace_max_pools(model: &mut TypedModel) -> TractResult<usize> {
	let mut replaced = 0;
	for id in 0..model.nodes().len() {
		let node = &model.nodes()[id];
		let Some(op) = node.op_as::<OptMaxPool>() else { continue };
		let fact = model.outlet_fact(node.inputs[0])?;
		let Some(new) = MaxPool2dF32::replacing(op, fact) else { continue };
		let out = &node.outputs[0].fact;
		if node.outputs.len() != 1
			|| out.datum_type != f32::datum_type()
			|| out.shape.as_concrete() != Some(&[new.n, new.c, new.oh, new.ow][..])
		{
			continue;
		}
		model.node_mut(id).op = Box::new(new);
		replaced += 1;
	}
	Ok(replaced)
}

#[cfg(test)]
mod tests {
	use super::*;

	/// Against a naive reference over all geometry combinations on a small plane.
	#[test]
	fn matches_naive_pool() {
		let (h, w) = (7, 9);
		let input: Vec<f32> = (0..2 * h * w).map(|i| ((i * 37 % 23) as f32) - 11.0).collect();
		for k in [(1, 1), (2, 2), (3, 2), (3, 3)] {
			for s in [(1, 1), (2, 2), (2, 3)] {
				for d in [(1, 1), (2, 1)] {
					for pad in [(0, 0), (1, 1), (1, 0)] {
						let span = |k: usize, d: usize| (k - 1) * d + 1;
						let (eh, ew) = (span(k.0, d.0), span(k.1, d.1));
						if h + 2 * pad.0 < eh || w + 2 * pad.1 < ew || pad.0 >= eh || pad.1 >= ew {
							continue;
						}
						let oh = (h + 2 * pad.0 - eh) / s.0 + 1;
						let ow = (w + 2 * pad.1 - ew) / s.1 + 1;
						let op = MaxPool2dF32 { n: 1, c: 2, h, w, oh, ow, k, s, d, pad };
						let mut out = vec![0f32; 2 * oh * ow];
						op.run(&input, &mut out);
						for c in 0..2 {
							for oy in 0..oh {
								for ox in 0..ow {
									let mut m = f32::MIN;
									for ky in 0..k.0 {
										for kx in 0..k.1 {
											let iy =
												(oy * s.0 + ky * d.0) as isize - pad.0 as isize;
											let ix =
												(ox * s.1 + kx * d.1) as isize - pad.1 as isize;
											if iy >= 0
												&& ix >= 0 && (iy as usize) < h && (ix as usize) < w
											{
												let v = input
													[c * h * w + iy as usize * w + ix as usize];
												m = if m < v { v } else { m };
											}
										}
									}
									assert_eq!(
										out[(c * oh + oy) * ow + ox].to_bits(),
										m.to_bits(),
										"k {k:?} s {s:?} d {d:?} pad {pad:?} at {c},{oy},{ox}"
									);
								}
							}
						}
					}
				}
			}
		}
	}
}
