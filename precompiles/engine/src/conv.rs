//! A direct convolution replacing tract's for small f32 NCHW 2-D convolutions, with the explicit
//! padding folded in and a following ReLU (`Max` with a constant scalar) fused.
//!
//! tract-core 0.23.9 compiles every convolution to an explicit `Pad`, a lazy im2col and a packed
//! matrix multiply, followed by a separate `Max` pass for a ReLU. On the `cnn` demo model (K = 9
//! and 72, 196-784 output points) the packing dominates: its two convolutions with their pads and
//! ReLUs took 27 us of a 33 us run, where onnxruntime runs the whole model in 15 us.
//!
//! ## Method
//! The input is copied once into a zero-padded buffer. With stride 1, output point (oy, ox) of a
//! tap (ky, kx) reads padded point (oy + ky*dh, ox + kx*dw); numbering the output points "wide"
//! as `p = oy * wp + ox` (wp the padded width, so `ox` runs past `ow` into columns that are
//! computed and dropped), every tap becomes one constant offset into the padded plane, and a
//! block of consecutive `p` is a contiguous load. A stride (sy, sx) is reduced to stride 1 by
//! splitting the padded input into its sy*sx phases (rows `y % sy`, columns `x % sx`): tap
//! (ky, kx) then reads phase `(ky*dh % sy, kx*dw % sx)` at offset `(ky*dh / sy, kx*dw / sx)`.
//!
//! The kernel keeps a block of `CB` output channels by `B` wide points in registers and runs
//! over input channels and taps, broadcasting one weight per channel. Blocking only decides
//! which outputs are computed together: each output is its bias, then `+ w * x` over input
//! channels and taps in row-major order, with a separate multiply and add (Rust never fuses
//! them into an FMA). The result is therefore the same bits whichever path runs it (AVX-512,
//! AVX2, or the plain Rust one the tests hold them to) and for any block size; it differs from
//! tract's by the summation order and FMA rounding only, i.e. a few ulps. The kernel is used on
//! x86-64 CPUs with AVX2 or AVX-512 only; elsewhere tract's convolution stays (see `Path`).
//!
//! The fused ReLU is `if v > low { v } else { low }`: like tract's `f32::max` a NaN gives `low`;
//! the two may differ only on the sign of a zero when `v` is `-0.0` and `low` is `+0.0`.

use tract_onnx::{
	prelude::*,
	tract_core::{
		internal::*,
		ops::{
			binary::TypedBinOp,
			cnn::{Conv, KernelFormat},
			math::Max,
			nn::DataFormat,
		},
	},
};

/// Output channels computed together (the packed weights interleave this many).
const CB: usize = 8;
/// Largest block of wide points of any kernel path: the padded buffer has room for it.
const B_MAX: usize = 32;
/// Largest convolution replaced, in multiply-adds per image (wide points and padded channels
/// included). Measured on this kernel against tract's (3x3, batch 1, AVX-512): 2-3x faster up
/// to 0.3 M (the `cnn` demo model), 0-20% faster at 1-4 M (16->32 channels at 28x28, 3->32 at
/// 112x112 stride 2), 10-35% slower from 8 M on (32->32 channels at 28x28 and above), where
/// tract's packed matrix multiply reuses each loaded input across more output channels.
const MAX_MACS: usize = 1 << 22;
/// Largest padded input kept per image, in elements (512 KiB: about one core's L2 cache).
const MAX_PADDED: usize = 1 << 17;

/// A convolution of `[n, ci, h, w]` into `[n, co, oh, ow]`, group 1. Inputs: the data, the
/// weights packed as `[co / CB, ci, kh * kw, CB]` (zero rows pad `co` to a multiple of `CB`)
/// and the bias as `[co rounded up to CB]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Conv2dF32 {
	n: usize,
	ci: usize,
	h: usize,
	w: usize,
	co: usize,
	oh: usize,
	ow: usize,
	/// Strides (y, x) and padding before (top, left); the padding after is implied by the
	/// buffer size and never read by an output that is kept.
	s: (usize, usize),
	pad: (usize, usize),
	/// One phase plane of the padded input: `hq` rows of `wq` points.
	hq: usize,
	wq: usize,
	/// Offset of each tap (row-major) from the wide point it contributes to, phase included.
	taps: Vec<usize>,
	/// Lower clamp of a fused ReLU, as bits (so the op stays `Eq`).
	low: Option<u32>,
}

/// Which instruction set the kernel runs with. Every path gives the same bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
	Portable,
	#[cfg(target_arch = "x86_64")]
	Avx2,
	#[cfg(target_arch = "x86_64")]
	Avx512,
}

impl Path {
	/// The SIMD path this CPU supports, if any. Without one the kernel is not used: the plain
	/// Rust path is 2x slower than tract's on the `cnn` model with SSE2, and unmeasured on
	/// other architectures (NEON would need its own kernel, measured on an ARM machine).
	fn native() -> Option<Self> {
		#[cfg(target_arch = "x86_64")]
		{
			if std::arch::is_x86_feature_detected!("avx512f") {
				return Some(Path::Avx512);
			}
			if std::arch::is_x86_feature_detected!("avx2") {
				return Some(Path::Avx2);
			}
		}
		None
	}

	/// Wide points per block.
	fn block(self) -> usize {
		match self {
			Path::Portable => 4,
			#[cfg(target_arch = "x86_64")]
			Path::Avx2 => 8,
			#[cfg(target_arch = "x86_64")]
			Path::Avx512 => 32,
		}
	}

	/// Every path this CPU supports, for tests.
	#[cfg(test)]
	fn available() -> Vec<Self> {
		let mut v = vec![Path::Portable];
		#[cfg(target_arch = "x86_64")]
		{
			if std::arch::is_x86_feature_detected!("avx2") {
				v.push(Path::Avx2);
			}
			if std::arch::is_x86_feature_detected!("avx512f") {
				v.push(Path::Avx512);
			}
		}
		v
	}
}

impl Conv2dF32 {
	/// The replacement of `op` on an input of `fact`, if it is a case this op covers.
	fn replacing(op: &Conv, fact: &TypedFact, low: Option<f32>) -> Option<Self> {
		let ps = &op.pool_spec;
		if op.q_params.is_some()
			|| op.group != 1
			|| op.kernel_fmt != KernelFormat::OIHW
			|| ps.data_format != DataFormat::NCHW
			|| ps.rank() != 2
			|| fact.datum_type != f32::datum_type()
		{
			return None;
		}
		let shape = fact.shape.as_concrete()?;
		let &[n, ci, h, w] = shape else { return None };
		let co = ps.output_channels;
		let (kh, kw) = (ps.kernel_shape[0], ps.kernel_shape[1]);
		let (sh, sw) = (ps.stride(0), ps.stride(1));
		let (dh, dw) = (ps.dilation(0), ps.dilation(1));
		if [n, ci, h, w, co, kh, kw, sh, sw, dh, dw].contains(&0) || ci != ps.input_channels {
			return None;
		}
		let padding = ps.computed_padding(&[h, w]);
		let (pt, pb) = (padding[0].pad_before, padding[0].pad_after);
		let (pl, pr) = (padding[1].pad_before, padding[1].pad_after);
		let (oh, ow) = (padding[0].convoluted, padding[1].convoluted);
		// Only the usual floor geometry; anything else (ceil modes) stays with tract.
		let (hp, wp) = (h.checked_add(pt)?.checked_add(pb)?, w.checked_add(pl)?.checked_add(pr)?);
		let (eh, ew) = ((kh - 1).checked_mul(dh)? + 1, (kw - 1).checked_mul(dw)? + 1);
		if hp < eh || wp < ew || oh != (hp - eh) / sh + 1 || ow != (wp - ew) / sw + 1 {
			return None;
		}
		let (hq, wq) = (hp.div_ceil(sh), wp.div_ceil(sw));
		let plane = hq.checked_mul(wq)?;
		let padded = plane.checked_mul(sh.checked_mul(sw)?)?.checked_mul(ci)?;
		let wide = (oh - 1) * wq + ow;
		let macs = wide.next_multiple_of(CB).checked_mul(co.next_multiple_of(CB))?;
		let macs = macs.checked_mul(ci)?.checked_mul(kh * kw)?;
		if padded > MAX_PADDED || macs > MAX_MACS {
			return None;
		}
		let mut taps = Vec::with_capacity(kh * kw);
		for ky in 0..kh {
			for kx in 0..kw {
				let (y, x) = (ky * dh, kx * dw);
				let phase = (y % sh) * sw + x % sw;
				taps.push(phase * ci * plane + (y / sh) * wq + x / sw);
			}
		}
		Some(Self {
			n,
			ci,
			h,
			w,
			co,
			oh,
			ow,
			s: (sh, sw),
			pad: (pt, pl),
			hq,
			wq,
			taps,
			low: low.map(f32::to_bits),
		})
	}

	fn co_padded(&self) -> usize {
		self.co.next_multiple_of(CB)
	}

	/// Number of wide points: up to the last kept output.
	fn wide(&self) -> usize {
		(self.oh - 1) * self.wq + self.ow
	}

	fn plane(&self) -> usize {
		self.hq * self.wq
	}

	/// Length of the padded buffer: every phase plane, plus the tail read by the last block.
	fn padded_len(&self) -> usize {
		let planes = self.s.0 * self.s.1 * self.ci * self.plane();
		let last_tap = self.taps.iter().copied().max().unwrap_or(0);
		let reach = self.wide().next_multiple_of(B_MAX) + (self.ci - 1) * self.plane() + last_tap;
		planes.max(reach)
	}

	/// Weights `[co, ci, kh, kw]` and bias `[co]` (or a scalar) in the kernel's layout.
	fn pack(&self, weights: &[f32], bias: &[f32]) -> Option<(Vec<f32>, Vec<f32>)> {
		let t = self.taps.len();
		if weights.len() != self.co * self.ci * t || !(bias.len() == self.co || bias.len() == 1) {
			return None;
		}
		let blocks = self.co_padded() / CB;
		let mut packed = vec![0f32; blocks * self.ci * t * CB];
		for (o, filter) in weights.chunks_exact(self.ci * t).enumerate() {
			for (c, taps) in filter.chunks_exact(t).enumerate() {
				for (k, v) in taps.iter().enumerate() {
					packed[((o / CB * self.ci + c) * t + k) * CB + o % CB] = *v;
				}
			}
		}
		let mut b = vec![0f32; self.co_padded()];
		for (o, v) in b.iter_mut().take(self.co).enumerate() {
			*v = if bias.len() == 1 { bias[0] } else { bias[o] };
		}
		Some((packed, b))
	}

	/// Copy one image `[ci, h, w]` into the zeroed padded buffer, split into stride phases.
	fn fill_padded(&self, image: &[f32], padded: &mut [f32]) {
		let (sh, sw) = self.s;
		let (pt, pl) = self.pad;
		let (plane, wq) = (self.plane(), self.wq);
		for (c, chan) in image.chunks_exact(self.h * self.w).enumerate() {
			for (y, row) in chan.chunks_exact(self.w).enumerate() {
				let yy = y + pt;
				let (ry, qy) = (yy % sh, yy / sh);
				if sw == 1 {
					let at = ((ry * self.ci + c) * plane) + qy * wq + pl;
					padded[at..at + self.w].copy_from_slice(row);
					continue;
				}
				for (x, v) in row.iter().enumerate() {
					let xx = x + pl;
					let phase = ry * sw + xx % sw;
					padded[(phase * self.ci + c) * plane + qy * wq + xx / sw] = *v;
				}
			}
		}
	}

	/// One image: `padded` from [`Self::fill_padded`], `out` its `[co, oh, ow]` output.
	fn run_image(
		&self,
		path: Path,
		padded: &[f32],
		weights: &[f32],
		bias: &[f32],
		out: &mut [f32],
	) {
		let (ci, t, plane) = (self.ci, self.taps.len(), self.plane());
		let (oh, ow, wq) = (self.oh, self.ow, self.wq);
		let b = path.block();
		for (cb, (wb, bb)) in
			weights.chunks_exact(ci * t * CB).zip(bias.chunks_exact(CB)).enumerate()
		{
			let Some(bb) = bb.first_chunk::<CB>() else { continue };
			for p0 in (0..self.wide()).step_by(b) {
				// The block's kept points (ox < ow) are consecutive in the output, from `start`.
				let (mut oy, mut ox) = (p0 / wq, p0 % wq);
				let start = oy * ow + ox.min(ow);
				let mut mask = 0u32;
				for j in 0..b {
					if oy < oh && ox < ow {
						mask |= 1 << j;
					}
					ox += 1;
					if ox == wq {
						(oy, ox) = (oy + 1, 0);
					}
				}
				let tile = Tile {
					padded,
					p0,
					plane,
					taps: &self.taps,
					weights: wb,
					bias: bb,
					channels: (self.co - cb * CB).min(CB),
					out: &mut out[cb * CB * oh * ow..],
					plane_out: oh * ow,
					start,
					mask,
					low: self.low.map(f32::from_bits),
				};
				match path {
					Path::Portable => tile_portable(tile),
					// SAFETY: `Path::native` and `Path::available` only return these paths when the
					// CPU has the feature.
					#[cfg(target_arch = "x86_64")]
					#[allow(unsafe_code)]
					Path::Avx2 => unsafe { tile_avx2(tile) },
					#[cfg(target_arch = "x86_64")]
					#[allow(unsafe_code)]
					Path::Avx512 => unsafe { tile_avx512(tile) },
				}
			}
		}
	}

	/// The whole batch: `input` is `[n, ci, h, w]`, `out` `[n, co, oh, ow]`.
	fn run(&self, path: Path, input: &[f32], weights: &[f32], bias: &[f32], out: &mut [f32]) {
		let out_image = self.co * self.oh * self.ow;
		let mut padded = vec![0f32; self.padded_len()];
		for (image, o) in
			input.chunks_exact(self.ci * self.h * self.w).zip(out.chunks_exact_mut(out_image))
		{
			// The padding and the tail stay zero between images: only the interior is rewritten.
			self.fill_padded(image, &mut padded);
			self.run_image(path, &padded, weights, bias, o);
		}
	}
}

impl Op for Conv2dF32 {
	fn name(&self) -> StaticName {
		"VerityConv2dF32".into()
	}

	fn info(&self) -> TractResult<Vec<String>> {
		Ok(vec![format!(
			"{}x{} -> {}x{}x{}, strides {:?}, pad {:?}, taps {}, relu {:?}",
			self.h,
			self.w,
			self.co,
			self.oh,
			self.ow,
			self.s,
			self.pad,
			self.taps.len(),
			self.low.map(f32::from_bits)
		)])
	}

	fn validation(&self) -> Validation {
		Validation::Rounding
	}

	fn as_typed(&self) -> Option<&dyn TypedOp> {
		Some(self)
	}
}

impl EvalOp for Conv2dF32 {
	fn eval_out_of_plan(&self, inputs: TVec<TValue>) -> TractResult<Option<TVec<TValue>>> {
		Ok(Some(EvalOp::eval(self, &EvalContext::out_of_plan(), inputs)?))
	}

	fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
		let (input, weights, bias) = args_3!(inputs);
		ensure!(
			input.shape() == [self.n, self.ci, self.h, self.w],
			"unexpected input shape {:?}",
			input.shape()
		);
		let t = self.taps.len();
		ensure!(weights.shape() == [self.co_padded() / CB, self.ci, t, CB], "unexpected weights");
		ensure!(bias.shape() == [self.co_padded()], "unexpected bias");
		let (input, weights, bias) =
			(input.try_as_plain_ram()?, weights.try_as_plain_ram()?, bias.try_as_plain_ram()?);
		// Written in place: a tensor built from a `Vec` or an ndarray would be copied once more.
		let mut out = Tensor::zero::<f32>(&[self.n, self.co, self.oh, self.ow])?;
		let mut view = out.try_as_plain_ram_mut()?;
		let dst = view.as_slice_mut::<f32>()?;
		ensure!(dst.len() == self.n * self.co * self.oh * self.ow, "unexpected output length");
		// Plans are built and run in one process, so `native` is what `replace_convs` saw; the
		// plain path is only a (correct, slower) guard.
		let path = Path::native().unwrap_or(Path::Portable);
		self.run(path, input.as_slice()?, weights.as_slice()?, bias.as_slice()?, dst);
		Ok(tvec!(out.into_tvalue()))
	}
}

impl TypedOp for Conv2dF32 {
	fn as_op(&self) -> &dyn Op {
		self
	}

	fn as_op_mut(&mut self) -> &mut dyn Op {
		self
	}

	fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
		Ok(tvec!(f32::fact([self.n, self.co, self.oh, self.ow])))
	}
}

/// One block of one image: `channels` (at most `CB`) output channels by the wide points
/// `p0..p0 + block`.
struct Tile<'a> {
	/// The padded image, its phase plane size and the tap offsets.
	padded: &'a [f32],
	p0: usize,
	plane: usize,
	taps: &'a [usize],
	/// The block's packed weights `[ci, taps, CB]` and bias.
	weights: &'a [f32],
	bias: &'a [f32; CB],
	channels: usize,
	/// The output from the block's first channel on, `plane_out` points per channel. Points
	/// `j` of the block with bit `j` of `mask` set go, in order, to `start..` of each channel.
	out: &'a mut [f32],
	plane_out: usize,
	start: usize,
	mask: u32,
	/// Lower clamp of a fused ReLU.
	low: Option<f32>,
}

impl Tile<'_> {
	/// Store one channel's accumulators of the kept points, clamped.
	fn store(&mut self, o: usize, acc: &[f32]) {
		let Some(dst) = self.out.get_mut(o * self.plane_out + self.start..(o + 1) * self.plane_out)
		else {
			return;
		};
		let kept = acc.iter().enumerate().filter(|(j, _)| self.mask >> j & 1 == 1);
		for (d, (_, v)) in dst.iter_mut().zip(kept) {
			*d = match self.low {
				Some(l) if *v > l => *v,
				Some(l) => l,
				None => *v,
			};
		}
	}
}

/// `CB` channels by 4 points in plain Rust. Every kernel computes each output as its bias,
/// then `acc + w * x` over input channels and taps in order, so all give the same bits. The
/// accumulators are point-major so that the inner loop runs over the `CB` contiguous weights of
/// a tap, which compilers vectorize (SSE2, NEON) without being told the instruction set.
fn tile_portable(mut t: Tile) {
	let mut a = [*t.bias; 4];
	for (c, wc) in t.weights.chunks_exact(t.taps.len() * CB).enumerate() {
		let base = c * t.plane + t.p0;
		for (&tap, wt) in t.taps.iter().zip(wc.chunks_exact(CB)) {
			// In bounds by `padded_len`.
			let (Some(x), Some(wt)) = (
				t.padded.get(base + tap..).and_then(<[f32]>::first_chunk::<4>),
				wt.first_chunk::<CB>(),
			) else {
				continue;
			};
			for (point, x) in a.iter_mut().zip(x) {
				for (r, w) in point.iter_mut().zip(wt) {
					*r += w * x;
				}
			}
		}
	}
	for o in 0..t.channels {
		let row = a.map(|point| point[o]);
		t.store(o, &row);
	}
}

/// `CB` channels by 8 points, one 256-bit register each.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(unsafe_code)]
fn tile_avx2(mut t: Tile) {
	use std::arch::x86_64::*;
	let mut a = [_mm256_setzero_ps(); CB];
	for (r, b) in a.iter_mut().zip(t.bias) {
		*r = _mm256_set1_ps(*b);
	}
	for (c, wc) in t.weights.chunks_exact(t.taps.len() * CB).enumerate() {
		let base = c * t.plane + t.p0;
		for (&tap, wt) in t.taps.iter().zip(wc.chunks_exact(CB)) {
			// In bounds by `padded_len`.
			let Some(x) = t.padded.get(base + tap..).and_then(<[f32]>::first_chunk::<8>) else {
				continue;
			};
			// SAFETY: `x` is 8 readable floats.
			let x = unsafe { _mm256_loadu_ps(x.as_ptr()) };
			for (r, w) in a.iter_mut().zip(wt) {
				// Multiply then add, never FMA: the same rounding as the other kernels.
				*r = _mm256_add_ps(*r, _mm256_mul_ps(_mm256_set1_ps(*w), x));
			}
		}
	}
	for (o, r) in a.iter().enumerate().take(t.channels) {
		let mut row = [0f32; 8];
		// SAFETY: `row` holds 8 floats.
		unsafe { _mm256_storeu_ps(row.as_mut_ptr(), *r) };
		t.store(o, &row);
	}
}

/// `CB` channels by 32 points, two 512-bit registers each (16 of the 32 registers). The kept
/// points are compressed in registers and written with masked stores.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(unsafe_code)]
fn tile_avx512(t: Tile) {
	use std::arch::x86_64::*;
	let mut a = [[_mm512_setzero_ps(); 2]; CB];
	for (r, b) in a.iter_mut().zip(t.bias) {
		*r = [_mm512_set1_ps(*b); 2];
	}
	for (c, wc) in t.weights.chunks_exact(t.taps.len() * CB).enumerate() {
		let base = c * t.plane + t.p0;
		for (&tap, wt) in t.taps.iter().zip(wc.chunks_exact(CB)) {
			// In bounds by `padded_len`.
			let Some(x) = t.padded.get(base + tap..).and_then(<[f32]>::first_chunk::<32>) else {
				continue;
			};
			// SAFETY: `x` is 32 readable floats.
			let (x0, x1) =
				unsafe { (_mm512_loadu_ps(x.as_ptr()), _mm512_loadu_ps(x[16..].as_ptr())) };
			for (r, w) in a.iter_mut().zip(wt) {
				let w = _mm512_set1_ps(*w);
				// Multiply then add, never FMA: the same rounding as the other kernels.
				r[0] = _mm512_add_ps(r[0], _mm512_mul_ps(w, x0));
				r[1] = _mm512_add_ps(r[1], _mm512_mul_ps(w, x1));
			}
		}
	}
	let (m0, m1) = ((t.mask & 0xffff) as u16, (t.mask >> 16) as u16);
	let (n0, n1) = (m0.count_ones() as usize, m1.count_ones() as usize);
	for (o, r) in a.iter().enumerate().take(t.channels) {
		let Some(dst) = t.out.get_mut(o * t.plane_out + t.start..(o + 1) * t.plane_out) else {
			continue;
		};
		if dst.len() < n0 + n1 {
			continue;
		}
		let (mut v0, mut v1) = (r[0], r[1]);
		if let Some(l) = t.low {
			// `max_ps(v, l)` is `v > l ? v : l`, the portable clamp.
			let l = _mm512_set1_ps(l);
			(v0, v1) = (_mm512_max_ps(v0, l), _mm512_max_ps(v1, l));
		}
		// SAFETY: `dst` has room for the `n0 + n1` floats written; masked-off lanes are not
		// accessed.
		unsafe {
			let ptr = dst.as_mut_ptr();
			_mm512_mask_storeu_ps(
				ptr,
				(1u32 << n0).wrapping_sub(1) as u16,
				_mm512_maskz_compress_ps(m0, v0),
			);
			_mm512_mask_storeu_ps(
				ptr.add(n0),
				(1u32 << n1).wrapping_sub(1) as u16,
				_mm512_maskz_compress_ps(m1, v1),
			);
		}
	}
}

/// The clamp of a ReLU-like successor: a `Max` whose other input is a constant holding a
/// single value (any rank, broadcast), if `node`'s only consumer is one.
fn fused_relu(model: &TypedModel, node: &TypedNode) -> TractResult<Option<(usize, f32)>> {
	let [succ] = &node.outputs[0].successors[..] else { return Ok(None) };
	if model.output_outlets()?.contains(&OutletId::new(node.id, 0)) {
		return Ok(None);
	}
	let next = model.node(succ.node);
	let Some(bin) = next.op_as::<TypedBinOp>() else { return Ok(None) };
	if !bin.0.is::<Max>() || next.inputs.len() != 2 || next.outputs.len() != 1 {
		return Ok(None);
	}
	let other = model.outlet_fact(next.inputs[1 - succ.slot])?;
	let Some(k) = &other.konst else { return Ok(None) };
	if k.datum_type() != f32::datum_type() || k.len() != 1 || k.rank() > 4 {
		return Ok(None);
	}
	// Same shape and type in and out: the constant only broadcasts.
	if next.outputs[0].fact != node.outputs[0].fact {
		return Ok(None);
	}
	let low = k.try_as_plain_ram()?.as_slice::<f32>()?[0];
	// `max(v, NaN)` is `v` in tract, `NaN` in the fused clamp: leave that one alone.
	Ok((!low.is_nan()).then_some((next.id, low)))
}

/// Replace every `Conv` of a decluttered model that [`Conv2dF32`] covers, together with a
/// ReLU that follows it. Runs before tract's `optimize`: after it, the convolution is split
/// into pad, im2col and a matrix multiply over weights in tract's private packed format.
pub(crate) fn replace_convs(model: &mut TypedModel) -> TractResult<usize> {
	if Path::native().is_none() {
		return Ok(0);
	}
	let mut replaced = 0;
	for id in 0..model.nodes().len() {
		let node = &model.nodes()[id];
		let Some(op) = node.op_as::<Conv>() else { continue };
		if node.inputs.len() != 3 || node.outputs.len() != 1 {
			continue;
		}
		let fact = model.outlet_fact(node.inputs[0])?;
		let (wf, bf) = (model.outlet_fact(node.inputs[1])?, model.outlet_fact(node.inputs[2])?);
		let (Some(wk), Some(bk)) = (&wf.konst, &bf.konst) else { continue };
		if wk.datum_type() != f32::datum_type() || bk.datum_type() != f32::datum_type() {
			continue;
		}
		let relu = fused_relu(model, node)?;
		let Some(new) = Conv2dF32::replacing(op, fact, relu.map(|r| r.1)) else { continue };
		let expected = [new.co, new.ci, op.pool_spec.kernel_shape[0], op.pool_spec.kernel_shape[1]];
		let out = &node.outputs[0].fact;
		if wk.shape() != expected
			|| out.datum_type != f32::datum_type()
			|| out.shape.as_concrete() != Some(&[new.n, new.co, new.oh, new.ow][..])
		{
			continue;
		}
		let (wk, bk) = (wk.try_as_plain_ram()?, bk.try_as_plain_ram()?);
		let Some((weights, bias)) = new.pack(wk.as_slice()?, bk.as_slice()?) else { continue };
		let shape = (new.co_padded() / CB, new.ci, new.taps.len(), CB);
		let weights = tract_ndarray::Array4::from_shape_vec(shape, weights)?.into_tensor();
		let bias = tract_ndarray::Array1::from_vec(bias).into_tensor();
		let name = node.name.clone();
		let mut patch = TypedModelPatch::new("verity direct conv");
		let x = patch.tap_model(model, node.inputs[0])?;
		let w = patch.add_const(format!("{name}.verity_weights"), weights)?;
		let b = patch.add_const(format!("{name}.verity_bias"), bias)?;
		let wire = patch.wire_node(format!("{name}.verity"), new, &[x, w, b])?[0];
		let replaced_node = relu.map_or(id, |r| r.0);
		patch.shunt_outside(model, OutletId::new(replaced_node, 0), wire)?;
		patch.apply(model)?;
		replaced += 1;
	}
	if replaced > 0 {
		model.compact()?;
	}
	Ok(replaced)
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	/// Geometry of one test case: (n, ci, co, h, w, kernel, strides, dilations, pads t/l/b/r).
	#[derive(Debug, Clone)]
	struct Case {
		n: usize,
		ci: usize,
		co: usize,
		h: usize,
		w: usize,
		k: (usize, usize),
		s: (usize, usize),
		d: (usize, usize),
		pads: [usize; 4],
	}

	impl Case {
		fn out(&self) -> Option<(usize, usize)> {
			let hp = self.h + self.pads[0] + self.pads[2];
			let wp = self.w + self.pads[1] + self.pads[3];
			let eh = (self.k.0 - 1) * self.d.0 + 1;
			let ew = (self.k.1 - 1) * self.d.1 + 1;
			(hp >= eh && wp >= ew).then(|| ((hp - eh) / self.s.0 + 1, (wp - ew) / self.s.1 + 1))
		}

		fn op(&self, low: Option<f32>) -> Option<Conv2dF32> {
			use tract_onnx::tract_core::ops::cnn::{PaddingSpec, PoolSpec};
			let spec = PoolSpec {
				data_format: DataFormat::NCHW,
				kernel_shape: tvec!(self.k.0, self.k.1),
				padding: PaddingSpec::Explicit(
					tvec!(self.pads[0], self.pads[1]),
					tvec!(self.pads[2], self.pads[3]),
				),
				dilations: Some(tvec!(self.d.0, self.d.1)),
				strides: Some(tvec!(self.s.0, self.s.1)),
				input_channels: self.ci,
				output_channels: self.co,
			};
			let conv =
				Conv { pool_spec: spec, kernel_fmt: KernelFormat::OIHW, group: 1, q_params: None };
			let fact = f32::fact([self.n, self.ci, self.h, self.w]);
			Conv2dF32::replacing(&conv, &fact, low)
		}

		/// (value, sum of |terms|) per output, in f64, skipping padded taps.
		fn reference(
			&self,
			x: &[f32],
			wt: &[f32],
			bias: &[f32],
			low: Option<f32>,
		) -> Vec<(f64, f64)> {
			let Some((oh, ow)) = self.out() else { return vec![] };
			let (kh, kw) = self.k;
			let mut want = vec![];
			for b in 0..self.n {
				for o in 0..self.co {
					for y in 0..oh {
						for xx in 0..ow {
							let (mut s, mut mag) = (bias[o] as f64, (bias[o] as f64).abs());
							for c in 0..self.ci {
								for dy in 0..kh {
									for dx in 0..kw {
										let iy = (y * self.s.0 + dy * self.d.0) as i64
											- self.pads[0] as i64;
										let ix = (xx * self.s.1 + dx * self.d.1) as i64
											- self.pads[1] as i64;
										if iy < 0
											|| ix < 0 || iy >= self.h as i64 || ix >= self.w as i64
										{
											continue;
										}
										let v = x[((b * self.ci + c) * self.h + iy as usize)
											* self.w + ix as usize] as f64 * wt
											[((o * self.ci + c) * kh + dy) * kw + dx]
											as f64;
										s += v;
										mag += v.abs();
									}
								}
							}
							if let Some(l) = low {
								s = s.max(l as f64);
							}
							want.push((s, mag));
						}
					}
				}
			}
			want
		}
	}

	fn case() -> impl Strategy<Value = Case> {
		(
			(1usize..3, 1usize..6, 1usize..12, 1usize..12, 1usize..12),
			((1usize..5, 1usize..5), (1usize..4, 1usize..4), (1usize..3, 1usize..3)),
			[0usize..3, 0usize..3, 0usize..3, 0usize..3],
		)
			.prop_map(|((n, ci, co, h, w), (k, s, d), pads)| Case {
				n,
				ci,
				co,
				h,
				w,
				k,
				s,
				d,
				pads,
			})
			.prop_filter("kernel larger than the padded input", |c| c.out().is_some())
	}

	fn vals(n: usize) -> impl Strategy<Value = Vec<f32>> {
		prop::collection::vec(-4.0f32..4.0, n)
	}

	proptest! {
		#![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

		/// Every kernel path against a naive f64 reference, within a few ulps of the largest
		/// partial sum (`1e-5 + 1e-5 * sum |terms|`), and every path the same bits.
		#[test]
		fn matches_naive_conv(
			(c, x, wt, bias, relu) in case().prop_flat_map(|c| {
				let (xn, wn, bn) = (c.n * c.ci * c.h * c.w, c.co * c.ci * c.k.0 * c.k.1, c.co);
				(Just(c), vals(xn), vals(wn), vals(bn), prop::option::of(-1.0f32..1.0))
			})
		) {
			let op = c.op(relu).expect("small cases are covered");
			let want = c.reference(&x, &wt, &bias, relu);
			let (w, b) = op.pack(&wt, &bias).expect("packs");
			let run = |path| {
				let mut out = vec![f32::NAN; want.len()];
				op.run(path, &x, &w, &b, &mut out);
				out
			};
			let first = run(Path::Portable);
			prop_assert_eq!(first.len(), want.len());
			for (i, (g, (v, mag))) in first.iter().zip(&want).enumerate() {
				let tol = 1e-5 + 1e-5 * mag;
				prop_assert!((*g as f64 - v).abs() <= tol, "{:?} element {}: {} vs {}", c, i, g, v);
			}
			for path in Path::available() {
				let got = run(path);
				let same = got.iter().zip(&first).all(|(a, b)| a.to_bits() == b.to_bits());
				prop_assert!(same, "{:?}: path {:?} differs from the portable one", c, path);
			}
		}
	}
}
