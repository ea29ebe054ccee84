//! Acceptance rules: when two outputs of the same model on the same input count as the same.
//!
//! tract picks kernels per CPU, so float outputs can differ in their low bits between honest
//! machines. Each model declares an [`AcceptanceRule`], and the chain (disputes, redundant
//! execution) and the node decide agreement with [`agrees`]. That function is pure integer
//! logic: floats are decoded from their bits into exact `mantissa * 2^exponent` values and
//! compared with wide integer arithmetic, so the runtime needs no float instructions and every
//! platform reaches the same verdict.
//!
//! Rules common to all variants: the two tensors must have the same dtype and shape, otherwise
//! they never agree; a tensor always agrees with itself, whatever it holds. Special float
//! values, for every rule but `Exact` (which compares bytes, so a NaN there is its bits):
//! - any NaN equals any NaN, whatever its sign and payload, and differs from every number;
//! - `+Inf` equals only `+Inf`, `-Inf` only `-Inf`;
//! - `-0.0` equals `0.0`;
//! - for ranking (`ArgMax`, `TopK`) values are totally ordered:
//!   `-Inf < finite numbers < +Inf < NaN`, equal values ranked by lowest index.
//!
//! A crafted input that drives a model to NaN therefore cannot make two honest, identical
//! outputs disagree.

// Compiled into the runtime, which must not panic: no indexing, unchecked arithmetic or
// unwrapping outside tests (issue 12).
#![cfg_attr(
	not(test),
	deny(
		clippy::indexing_slicing,
		clippy::arithmetic_side_effects,
		clippy::unwrap_used,
		clippy::expect_used
	)
)]

use crate::{
	spec::TensorSpec,
	tensor::{DType, Tensor},
};
use alloc::{vec, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::cmp::Ordering;
use scale_info::TypeInfo;

/// Fixed-point unit of [`AcceptanceRule::Tolerance`] parameters: 1e-9.
pub const TOLERANCE_UNIT: u64 = 1_000_000_000;

/// Largest registrable [`AcceptanceRule::Tolerance`] `rel`: 1e7 parts per billion, 1 %.
///
/// Honest float results differ by rounding only. f32 rounds with a unit of 2^-24 (6e-8): a sum
/// of `n` products evaluated in any order by any kernel is within `n * 2^-24` (relative to the
/// sum of the terms' magnitudes) of the exact one, so 1 % covers accumulations of 160,000 terms
/// even in that worst case (rounding errors rather grow as `sqrt(n)`), and f16 (unit 2^-11)
/// outputs of short sums. A wider relative bound would accept results that no honest kernel
/// produces: an output off by 2 % is another output.
pub const MAX_TOLERANCE_REL: u32 = 10_000_000;

/// Largest registrable [`AcceptanceRule::Tolerance`] `abs`: 1e6 units of 1e-9, i.e. 1e-3.
///
/// The absolute part covers values near zero, where rounding in a cancelling sum is large
/// relative to the result. Models' outputs are probabilities in `[0, 1]` or logits of order
/// 1 to 100; 1e-3 is a tenth of a percent of a probability, beyond what honest rounding
/// differs by, and small enough that a forged output must be close to the model's. An output
/// whose every element is below 1e-3 in magnitude is accepted whatever it is: such a model
/// must scale its outputs or use a relative bound.
pub const MAX_TOLERANCE_ABS: u64 = 1_000_000;

/// How two outputs are compared.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AcceptanceRule {
	/// Byte-identical canonical encodings. For integer and quantized models, or float models
	/// shown to be bit-stable across kernels (NaN included: a NaN compares by its bits here).
	#[codec(index = 0)]
	Exact,
	/// Element-wise `|a - b| <= abs * 1e-9 + rel * 1e-9 * max(|a|, |b|)`, evaluated exactly.
	/// `abs` is in units of 1e-9; `rel` in parts per billion. Symmetric in `a` and `b` (the
	/// juror's and the executor's outputs are interchangeable). Any NaN equals any NaN (sign
	/// and payload ignored) and no number; `+Inf` equals only `+Inf`, `-Inf` only `-Inf`.
	/// Integer tensors are compared by the same formula on their exact values; bool tensors
	/// must be equal.
	#[codec(index = 1)]
	Tolerance { abs: u64, rel: u32 },
	/// The same index of the maximum along the last axis, for every leading index (every row
	/// of a batch). Values are ranked `-Inf < numbers < +Inf < NaN` (any NaN is the largest,
	/// all NaNs equal), `-0.0 == 0.0`, and ties go to the lowest index.
	#[codec(index = 2)]
	ArgMax,
	/// The same *set* of the `k` largest indices along the last axis, for every row. Values
	/// are ranked as for `ArgMax` and ties are broken by lowest index, so the set is well
	/// defined. `k` above the axis length means the whole axis (such rules are not
	/// registrable, see [`AcceptanceRule::check`]).
	#[codec(index = 3)]
	TopK(u32),
}

/// Why an [`AcceptanceRule`] cannot be registered for a model's outputs: it would accept
/// outputs that were never computed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum RuleError {
	/// `TopK(0)`: the empty set, which every output has.
	TopKZero,
	/// `TopK(k)` with `2 * k` above the length of the last axis of output `output`.
	TopKCoversRow { output: u32, k: u32, row: u32 },
	/// `ArgMax` on output `output`, whose last axis has fewer than 2 elements (or which is a
	/// scalar): the maximum of one element is always at index 0.
	ArgMaxRowTooShort { output: u32, row: u32 },
	/// `ArgMax` or `TopK` on output `output`, which has no last axis (a scalar) or a symbolic
	/// one: the row length, and so what the rule checks, would not be known at registration.
	LastAxisNotFixed { output: u32 },
	/// `Tolerance` with `abs` above [`MAX_TOLERANCE_ABS`] or `rel` above
	/// [`MAX_TOLERANCE_REL`].
	ToleranceTooLoose { abs: u64, rel: u32 },
}

impl core::fmt::Display for RuleError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			RuleError::TopKZero => write!(f, "TopK(0) accepts every output"),
			RuleError::TopKCoversRow { output, k, row } => write!(
				f,
				"TopK({k}) on output {output} with rows of {row}: 2k must not exceed the row"
			),
			RuleError::ArgMaxRowTooShort { output, row } => write!(
				f,
				"ArgMax on output {output} with rows of {row}: rows need at least 2 elements"
			),
			RuleError::LastAxisNotFixed { output } => {
				write!(f, "output {output} has no fixed last axis for ArgMax/TopK to rank")
			},
			RuleError::ToleranceTooLoose { abs, rel } => write!(
				f,
				"Tolerance {{ abs: {abs}, rel: {rel} }} exceeds abs {MAX_TOLERANCE_ABS} \
				 (1e-3) or rel {MAX_TOLERANCE_REL} (1 %)"
			),
		}
	}
}

impl AcceptanceRule {
	/// Whether this rule can tell computed outputs from guessed ones for a model with these
	/// output specs; the model registry refuses rules that fail. Bounds:
	///
	/// - `Exact`: always.
	/// - `Tolerance`: `abs <= MAX_TOLERANCE_ABS` (1e-3) and `rel <= MAX_TOLERANCE_REL` (1 %),
	///   see those constants for why.
	/// - `ArgMax`: every output has a fixed last axis of at least 2 elements. A guessed index
	///   then matches a row's with chance at most 1/2 (1/n for rows of n).
	/// - `TopK(k)`: `k >= 1` and every output has a fixed last axis of length `n >= 2k`. A
	///   guessed set matches a row's with chance `1 / C(n, k)`, at most `1 / n`; `k > n / 2`
	///   adds nothing, as the top `k` set is the complement of the bottom `n - k` one, and
	///   `k >= n` accepts every row.
	pub fn check(&self, outputs: &[TensorSpec]) -> Result<(), RuleError> {
		let min_row = match *self {
			AcceptanceRule::Exact => return Ok(()),
			AcceptanceRule::Tolerance { abs, rel } => {
				return if abs <= MAX_TOLERANCE_ABS && rel <= MAX_TOLERANCE_REL {
					Ok(())
				} else {
					Err(RuleError::ToleranceTooLoose { abs, rel })
				}
			},
			AcceptanceRule::ArgMax => 2,
			AcceptanceRule::TopK(0) => return Err(RuleError::TopKZero),
			AcceptanceRule::TopK(k) => u64::from(k).saturating_mul(2),
		};
		for (output, spec) in (0u32..).zip(outputs) {
			let row = match spec.dims.last() {
				Some(Some(row)) => *row,
				_ => return Err(RuleError::LastAxisNotFixed { output }),
			};
			if u64::from(row) < min_row {
				return Err(match *self {
					AcceptanceRule::TopK(k) => RuleError::TopKCoversRow { output, k, row },
					_ => RuleError::ArgMaxRowTooShort { output, row },
				});
			}
		}
		Ok(())
	}
}

/// Whether outputs `a` and `b` agree under `rule`. Reflexive for every rule and tensor:
/// `agrees(rule, t, t)` always holds.
pub fn agrees(rule: &AcceptanceRule, a: &Tensor, b: &Tensor) -> bool {
	if a.dtype() != b.dtype() || a.shape() != b.shape() {
		return false;
	}
	match *rule {
		AcceptanceRule::Exact => a.data() == b.data(),
		AcceptanceRule::Tolerance { abs, rel } => tolerance(a, b, abs, rel),
		AcceptanceRule::ArgMax => top_k(a, b, 1),
		AcceptanceRule::TopK(k) => top_k(a, b, k),
	}
}

/// [`agrees`] for output lists: same length and every pair agrees.
pub fn agrees_all(rule: &AcceptanceRule, a: &[Tensor], b: &[Tensor]) -> bool {
	a.len() == b.len() && a.iter().zip(b).all(|(x, y)| agrees(rule, x, y))
}

/// [`agrees_all`] for canonical encodings ([`crate::encode_tensors`]): whether both decode and
/// agree. Bytes that are not a canonical tensor list never agree.
pub fn agrees_encoded(rule: &AcceptanceRule, a: &[u8], b: &[u8]) -> bool {
	match (crate::decode_tensors(a), crate::decode_tensors(b)) {
		(Ok(a), Ok(b)) => agrees_all(rule, &a, &b),
		_ => false,
	}
}

/// An element value decoded exactly: `(-1)^neg * mant * 2^exp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Num {
	Nan,
	Inf { neg: bool },
	Finite { neg: bool, mant: u64, exp: i32 },
}

fn f32_num(bits: u32) -> Num {
	let neg = bits >> 31 == 1;
	let e = (bits >> 23) & 0xff;
	let m = u64::from(bits & 0x7f_ffff);
	match e {
		0xff if m != 0 => Num::Nan,
		0xff => Num::Inf { neg },
		0 => Num::Finite { neg, mant: m, exp: -149 },
		// `e` is 1..=254, so the exponent is -149..=104: the subtraction never saturates.
		_ => Num::Finite { neg, mant: m | (1 << 23), exp: (e as i32).saturating_sub(150) },
	}
}

fn f16_num(bits: u16) -> Num {
	let neg = bits >> 15 == 1;
	let e = (bits >> 10) & 0x1f;
	let m = u64::from(bits & 0x3ff);
	match e {
		0x1f if m != 0 => Num::Nan,
		0x1f => Num::Inf { neg },
		0 => Num::Finite { neg, mant: m, exp: -24 },
		// `e` is 1..=30, so the exponent is -24..=5: the subtraction never saturates.
		_ => Num::Finite { neg, mant: m | (1 << 10), exp: i32::from(e).saturating_sub(25) },
	}
}

fn int_num(v: i64) -> Num {
	Num::Finite { neg: v < 0, mant: v.unsigned_abs(), exp: 0 }
}

/// The first `N` bytes of `b` as an array, zero-padded if `b` is shorter (never, for the
/// `dtype.size()`-byte chunks it is given).
fn le<const N: usize>(b: &[u8]) -> [u8; N] {
	let mut out = [0u8; N];
	out.iter_mut().zip(b).for_each(|(d, s)| *d = *s);
	out
}

/// Decode one element (`dtype.size()` little-endian bytes).
fn num(dtype: DType, b: &[u8]) -> Num {
	match dtype {
		DType::F32 => f32_num(u32::from_le_bytes(le(b))),
		DType::F16 => f16_num(u16::from_le_bytes(le(b))),
		DType::I8 => int_num(i64::from(i8::from_le_bytes(le(b)))),
		DType::U8 | DType::Bool => int_num(i64::from(u8::from_le_bytes(le(b)))),
		DType::I32 => int_num(i64::from(i32::from_le_bytes(le(b)))),
		DType::I64 => int_num(i64::from_le_bytes(le(b))),
	}
}

/// The elements of `t`, each as its `dtype.size()` bytes (the size is never zero).
fn elements(t: &Tensor) -> core::slice::ChunksExact<'_, u8> {
	t.data().chunks_exact(t.dtype().size())
}

/// A 384-bit unsigned integer, little-endian limbs: wide enough for every product below
/// (f32 values span 2^-149..2^128, i.e. at most 278 bits once aligned, times 2^32).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct U384([u64; 6]);

impl U384 {
	fn from_u64(v: u64) -> Self {
		Self([v, 0, 0, 0, 0, 0])
	}

	/// `self << s`; bits shifted past 384 are lost (never happens for our operands: s <= 260).
	fn shl(self, s: u32) -> Self {
		let mut out = [0u64; 6];
		let (limbs, bits) = ((s / 64) as usize, s % 64);
		// Limb `i` of the result is limb `i - limbs` shifted by `bits`, with the top `bits`
		// bits of the limb below it (none when `bits` is 0: the shift by 64 is `None`).
		let mut below = 0u64;
		for (dst, src) in out.iter_mut().skip(limbs).zip(self.0) {
			*dst = (src << bits) | below.checked_shr(u64::BITS.saturating_sub(bits)).unwrap_or(0);
			below = src;
		}
		Self(out)
	}

	fn add(self, o: Self) -> Self {
		let mut out = [0u64; 6];
		let mut carry = false;
		for ((slot, x), y) in out.iter_mut().zip(self.0).zip(o.0) {
			let (s1, c1) = x.overflowing_add(y);
			let (s2, c2) = s1.overflowing_add(u64::from(carry));
			*slot = s2;
			carry = c1 || c2;
		}
		Self(out)
	}

	/// `self - o`, requires `self >= o`.
	fn sub(self, o: Self) -> Self {
		let mut out = [0u64; 6];
		let mut borrow = false;
		for ((slot, x), y) in out.iter_mut().zip(self.0).zip(o.0) {
			let (d1, b1) = x.overflowing_sub(y);
			let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
			*slot = d2;
			borrow = b1 || b2;
		}
		Self(out)
	}

	fn mul_u64(self, m: u64) -> Self {
		let mut out = [0u64; 6];
		let mut carry: u128 = 0;
		for (slot, x) in out.iter_mut().zip(self.0) {
			// (2^64 - 1)^2 + (2^64 - 1) < 2^128: the wrapping operations never wrap.
			let p = u128::from(x).wrapping_mul(u128::from(m)).wrapping_add(carry);
			*slot = p as u64;
			carry = p >> 64;
		}
		Self(out)
	}

	fn cmp(&self, o: &Self) -> Ordering {
		// Most significant limb first.
		self.0.iter().rev().cmp(o.0.iter().rev())
	}
}

/// Exact check of `1e9 * |a - b| <= abs + rel * max(|a|, |b|)`; NaN equals NaN only.
fn within(a: Num, b: Num, abs: u64, rel: u32) -> bool {
	match (a, b) {
		(Num::Nan, Num::Nan) => true,
		(Num::Nan, _) | (_, Num::Nan) => false,
		(Num::Inf { neg: x }, Num::Inf { neg: y }) => x == y,
		(Num::Inf { .. }, _) | (_, Num::Inf { .. }) => false,
		(
			Num::Finite { neg: na, mant: ma, exp: ea },
			Num::Finite { neg: nb, mant: mb, exp: eb },
		) => {
			// Align both values (and the integer `abs`) on the smallest exponent, so that all
			// terms are integers multiplied by the same power of two.
			let ea = if ma == 0 { 0 } else { ea };
			let eb = if mb == 0 { 0 } else { eb };
			let emin = ea.min(eb).min(0);
			let x = U384::from_u64(ma).shl(ea.abs_diff(emin));
			let y = U384::from_u64(mb).shl(eb.abs_diff(emin));
			let diff = if na == nb {
				if x.cmp(&y) == Ordering::Less {
					y.sub(x)
				} else {
					x.sub(y)
				}
			} else {
				x.add(y)
			};
			let max = if x.cmp(&y) == Ordering::Less { y } else { x };
			let lhs = diff.mul_u64(TOLERANCE_UNIT);
			let rhs = U384::from_u64(abs).shl(emin.unsigned_abs()).add(max.mul_u64(u64::from(rel)));
			lhs.cmp(&rhs) != Ordering::Greater
		},
	}
}

fn tolerance(a: &Tensor, b: &Tensor, abs: u64, rel: u32) -> bool {
	let dtype = a.dtype();
	if dtype == DType::Bool {
		return a.data() == b.data();
	}
	elements(a).zip(elements(b)).all(|(x, y)| within(num(dtype, x), num(dtype, y), abs, rel))
}

/// The ranking key of a float given its sign and magnitude bits, and whether it is NaN: the
/// sign-magnitude bits as a signed integer order IEEE values correctly (`-Inf` lowest, `+Inf`
/// highest, `-0.0 == 0.0`); every NaN ranks above `+Inf`, all NaNs equal.
fn float_key(neg: bool, mag: u32, nan: bool) -> i64 {
	if nan {
		i64::MAX
	} else if neg {
		i64::from(mag).saturating_neg()
	} else {
		i64::from(mag)
	}
}

/// A total-order key for ranking one element (`dtype.size()` little-endian bytes).
fn rank_key(dtype: DType, b: &[u8]) -> i64 {
	match dtype {
		DType::F32 => {
			let bits = u32::from_le_bytes(le(b));
			let mag = bits & 0x7fff_ffff;
			float_key(bits >> 31 == 1, mag, mag > 0x7f80_0000)
		},
		DType::F16 => {
			let bits = u16::from_le_bytes(le(b));
			let mag = bits & 0x7fff;
			float_key(bits >> 15 == 1, u32::from(mag), mag > 0x7c00)
		},
		DType::I8 => i64::from(i8::from_le_bytes(le(b))),
		DType::U8 | DType::Bool => i64::from(u8::from_le_bytes(le(b))),
		DType::I32 => i64::from(i32::from_le_bytes(le(b))),
		DType::I64 => i64::from_le_bytes(le(b)),
	}
}

/// Membership of the `k` largest elements of each row (last axis), ties by lowest index: one
/// flag per element, `true` where the element is in its row's set. Linear in the row length
/// (a selection partitions each row; neither the row nor the set is sorted): outputs are
/// compared in the runtime, where a full sort of a 64 KiB output is what made this rule the
/// costliest.
fn top_k_sets(t: &Tensor, k: u32) -> Vec<bool> {
	let dtype = t.dtype();
	let row = match t.shape().last() {
		Some(0) => return Vec::new(),
		Some(n) => *n as usize,
		None => 1,
	};
	let k = (k as usize).min(row);
	let mut member = vec![false; t.len()];
	let Some(last) = k.checked_sub(1) else { return member };
	let mut keyed: Vec<(i64, usize)> = Vec::with_capacity(row);
	// `row >= 1` and `dtype.size() >= 1`: the chunk sizes are never zero.
	let rows = t.data().chunks_exact(row.saturating_mul(dtype.size()));
	for (values, flags) in rows.zip(member.chunks_exact_mut(row)) {
		keyed.clear();
		keyed.extend(values.chunks_exact(dtype.size()).map(|b| rank_key(dtype, b)).zip(0..));
		// Descending by value, then ascending by index: a total order, so the first `k` after
		// the selection are exactly the set a full sort would give. `last < k <= row`, the
		// length of `keyed`, as the selection requires.
		keyed.select_nth_unstable_by(last, |x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
		for (_, j) in keyed.iter().take(k) {
			if let Some(flag) = flags.get_mut(*j) {
				*flag = true;
			}
		}
	}
	member
}

fn top_k(a: &Tensor, b: &Tensor, k: u32) -> bool {
	top_k_sets(a, k) == top_k_sets(b, k)
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::vec;
	use proptest::prelude::*;

	fn f(vals: &[f32]) -> Tensor {
		Tensor::from_f32(vec![vals.len() as u32], vals).unwrap()
	}

	const TOL: AcceptanceRule = AcceptanceRule::Tolerance { abs: 1_000, rel: 1_000 }; // 1e-6, 1e-6

	#[test]
	fn exact_is_bitwise() {
		assert!(agrees(&AcceptanceRule::Exact, &f(&[1.0, f32::NAN]), &f(&[1.0, f32::NAN])));
		assert!(!agrees(&AcceptanceRule::Exact, &f(&[0.0]), &f(&[-0.0])));
		assert!(!agrees(&AcceptanceRule::Exact, &f(&[1.0]), &f(&[1.0 + f32::EPSILON])));
		// dtype and shape must match
		let a = Tensor::from_f32(vec![2, 1], &[1.0, 2.0]).unwrap();
		let b = Tensor::from_f32(vec![1, 2], &[1.0, 2.0]).unwrap();
		assert!(!agrees(&AcceptanceRule::Exact, &a, &b));
		let i = Tensor::new(DType::I32, vec![1], 0u32.to_le_bytes().to_vec()).unwrap();
		assert!(!agrees(&AcceptanceRule::Exact, &f(&[0.0]), &i));
	}

	#[test]
	fn tolerance_basics() {
		assert!(agrees(&TOL, &f(&[1.0]), &f(&[1.0])));
		assert!(agrees(&TOL, &f(&[0.0]), &f(&[-0.0])));
		assert!(agrees(&TOL, &f(&[1.0]), &f(&[1.0 + 1e-6])));
		assert!(!agrees(&TOL, &f(&[1.0]), &f(&[1.0 + 1e-5])));
		// relative part scales with magnitude
		assert!(agrees(&TOL, &f(&[1.0e6]), &f(&[1.0e6 + 0.5])));
		assert!(!agrees(&TOL, &f(&[1.0e6]), &f(&[1.0e6 + 2.0])));
		// opposite signs
		assert!(agrees(&TOL, &f(&[2e-7]), &f(&[-2e-7])));
		assert!(!agrees(&TOL, &f(&[1e-3]), &f(&[-1e-3])));
	}

	#[test]
	fn tolerance_nan_inf() {
		// Any NaN equals any NaN (sign and payload ignored), and no number.
		let nan2 = f32::from_bits(0xffc0_0001);
		assert!(agrees(&TOL, &f(&[f32::NAN]), &f(&[f32::NAN])));
		assert!(agrees(&TOL, &f(&[f32::NAN, 1.0]), &f(&[nan2, 1.0])));
		assert!(!agrees(&TOL, &f(&[f32::NAN]), &f(&[1.0])));
		assert!(!agrees(&TOL, &f(&[0.0]), &f(&[f32::NAN])));
		assert!(!agrees(&TOL, &f(&[f32::NAN]), &f(&[f32::INFINITY])));
		assert!(!agrees(&TOL, &f(&[f32::NEG_INFINITY]), &f(&[f32::NAN])));
		assert!(agrees(&TOL, &f(&[f32::NEG_INFINITY]), &f(&[f32::NEG_INFINITY])));
		assert!(agrees(&TOL, &f(&[f32::INFINITY]), &f(&[f32::INFINITY])));
		assert!(!agrees(&TOL, &f(&[f32::INFINITY]), &f(&[f32::NEG_INFINITY])));
		assert!(!agrees(&TOL, &f(&[f32::INFINITY]), &f(&[f32::MAX])));
		let wide = AcceptanceRule::Tolerance { abs: u64::MAX, rel: u32::MAX };
		assert!(agrees(&wide, &f(&[f32::MAX]), &f(&[-f32::MAX])));
		assert!(!agrees(&wide, &f(&[f32::MAX]), &f(&[f32::INFINITY])));
		assert!(!agrees(&wide, &f(&[f32::MAX]), &f(&[f32::NAN])));
		// Exact compares bytes: a NaN there is its bits.
		assert!(!agrees(&AcceptanceRule::Exact, &f(&[f32::NAN]), &f(&[nan2])));
	}

	#[test]
	fn tolerance_exact_boundary() {
		// abs = 0.5 exactly (5e8 units): 0.5 is representable, so the boundary is exact.
		let r = AcceptanceRule::Tolerance { abs: 500_000_000, rel: 0 };
		assert!(agrees(&r, &f(&[1.0]), &f(&[1.5])));
		assert!(!agrees(&r, &f(&[1.0]), &f(&[1.5 + f32::EPSILON])));
		// rel = 50%: |a-b| <= 0.5 * max(|a|,|b|)  -> 1 vs 2 on the boundary
		let r = AcceptanceRule::Tolerance { abs: 0, rel: 500_000_000 };
		assert!(agrees(&r, &f(&[1.0]), &f(&[2.0])));
		assert!(!agrees(&r, &f(&[1.0]), &f(&[2.0 + 2.0 * f32::EPSILON])));
		// zero tolerance is numeric equality (so -0 == 0, unlike Exact)
		let z = AcceptanceRule::Tolerance { abs: 0, rel: 0 };
		assert!(agrees(&z, &f(&[-0.0, 3.0]), &f(&[0.0, 3.0])));
		assert!(!agrees(&z, &f(&[1.0]), &f(&[1.0 + f32::EPSILON])));
		// subnormals: the smallest step is 2^-149 ~ 1.4e-45, far below 1e-9
		let tiny = f32::from_bits(1);
		assert!(agrees(&AcceptanceRule::Tolerance { abs: 1, rel: 0 }, &f(&[tiny]), &f(&[0.0])));
		assert!(!agrees(&z, &f(&[tiny]), &f(&[0.0])));
	}

	#[test]
	fn tolerance_is_symmetric_and_matches_float_reference() {
		// Compare against f64 arithmetic (exact enough for these magnitudes).
		let vals = [0.0f32, 1e-9, -3.25, 1.0, 1.000_001, 123.456, -1e-3, 7e5, 1e-30];
		for &x in &vals {
			for &y in &vals {
				for (abs, rel) in [(0u64, 0u32), (1_000, 0), (0, 1_000_000), (10, 10)] {
					let r = AcceptanceRule::Tolerance { abs, rel };
					let want = ((x as f64) - (y as f64)).abs() * 1e9
						<= abs as f64 + rel as f64 * (x.abs().max(y.abs()) as f64);
					assert_eq!(agrees(&r, &f(&[x]), &f(&[y])), want, "{x} {y} {abs} {rel}");
					assert_eq!(agrees(&r, &f(&[x]), &f(&[y])), agrees(&r, &f(&[y]), &f(&[x])));
				}
			}
		}
	}

	#[test]
	fn tolerance_integers_and_f16() {
		let a = Tensor::from_i64(vec![2], &[i64::MIN, 5]).unwrap();
		let b = Tensor::from_i64(vec![2], &[i64::MIN, 6]).unwrap();
		assert!(!agrees(&AcceptanceRule::Tolerance { abs: 999_999_999, rel: 0 }, &a, &b));
		assert!(agrees(&AcceptanceRule::Tolerance { abs: 1_000_000_000, rel: 0 }, &a, &b));
		// f16: 1.0 = 0x3C00, next = 0x3C01 (1 + 2^-10)
		let h = |bits: u16| Tensor::new(DType::F16, vec![1], bits.to_le_bytes().to_vec()).unwrap();
		let r = AcceptanceRule::Tolerance { abs: 976_563, rel: 0 }; // >= 2^-10
		assert!(agrees(&r, &h(0x3C00), &h(0x3C01)));
		let r = AcceptanceRule::Tolerance { abs: 976_562, rel: 0 };
		assert!(!agrees(&r, &h(0x3C00), &h(0x3C01)));
		// NaNs (any payload, either sign) equal each other only; infinities keep their sign.
		assert!(agrees(&r, &h(0x7E00), &h(0x7E00)));
		assert!(agrees(&r, &h(0x7E00), &h(0xFD01)));
		assert!(!agrees(&r, &h(0x7E00), &h(0x7C00)));
		assert!(!agrees(&r, &h(0x7C00), &h(0xFC00)));
		assert!(agrees(&r, &h(0xFC00), &h(0xFC00)));
		let bools = Tensor::new(DType::Bool, vec![2], vec![0, 1]).unwrap();
		assert!(agrees(&TOL, &bools, &bools.clone()));
	}

	#[test]
	fn argmax_rows_ties_nan() {
		let a = Tensor::from_f32(vec![2, 3], &[0.1, 0.7, 0.2, 5.0, 1.0, 5.0]).unwrap();
		let b = Tensor::from_f32(vec![2, 3], &[0.3, 0.6, 0.1, 5.0, 4.0, 4.9]).unwrap();
		assert!(agrees(&AcceptanceRule::ArgMax, &a, &b));
		let c = Tensor::from_f32(vec![2, 3], &[0.3, 0.6, 0.1, 4.0, 4.0, 4.9]).unwrap();
		assert!(!agrees(&AcceptanceRule::ArgMax, &a, &c));
		// tie: lowest index wins, -0 == 0
		assert!(agrees(&AcceptanceRule::ArgMax, &f(&[-0.0, 0.0, -1.0]), &f(&[0.0, -0.0, -2.0])));
		assert!(agrees(&AcceptanceRule::ArgMax, &f(&[1.0, 1.0]), &f(&[1.0, 0.5])));
		assert!(!agrees(&AcceptanceRule::ArgMax, &f(&[1.0, 1.0]), &f(&[0.5, 1.0])));
		// NaN ranks above +Inf, all NaNs equal: the first NaN of a row is its maximum.
		assert!(!agrees(&AcceptanceRule::ArgMax, &f(&[f32::NAN, 1.0]), &f(&[0.0, 1.0])));
		let nan2 = f32::from_bits(0xffc0_0001);
		assert!(agrees(
			&AcceptanceRule::ArgMax,
			&f(&[1.0, f32::NAN, f32::INFINITY, nan2]),
			&f(&[1.0, nan2, f32::INFINITY, f32::NAN])
		));
		assert!(!agrees(
			&AcceptanceRule::ArgMax,
			&f(&[1.0, f32::INFINITY, f32::NAN]),
			&f(&[1.0, f32::INFINITY, 0.0])
		));
		// negative values and infinities order correctly
		assert!(agrees(&AcceptanceRule::ArgMax, &f(&[-3.0, -1.0, -2.0]), &f(&[-5.0, -0.5, -9.0])));
		assert!(agrees(
			&AcceptanceRule::ArgMax,
			&f(&[f32::NEG_INFINITY, f32::INFINITY]),
			&f(&[0.0, 1.0])
		));
		// integers
		let i = |v: &[i64]| Tensor::from_i64(vec![v.len() as u32], v).unwrap();
		assert!(agrees(&AcceptanceRule::ArgMax, &i(&[-1, 3, 3]), &i(&[0, 9, 1])));
		// empty last axis: nothing to decide
		let e = Tensor::from_f32(vec![2, 0], &[]).unwrap();
		assert!(agrees(&AcceptanceRule::ArgMax, &e, &e.clone()));
	}

	#[test]
	fn topk_sets() {
		let a = f(&[0.1, 0.5, 0.3, 0.9]);
		let b = f(&[0.2, 0.3, 0.5, 0.8]);
		assert!(agrees(&AcceptanceRule::TopK(1), &a, &b));
		// top-3 set {1,2,3} in both, order differs
		assert!(agrees(&AcceptanceRule::TopK(3), &a, &b));
		let c = f(&[0.6, 0.3, 0.5, 0.8]);
		assert!(!agrees(&AcceptanceRule::TopK(2), &a, &c));
		// k beyond the axis compares the whole axis: always the same set
		assert!(agrees(&AcceptanceRule::TopK(10), &a, &c));
		assert!(agrees(&AcceptanceRule::TopK(0), &a, &c));
		assert!(agrees(&AcceptanceRule::TopK(10), &a, &f(&[0.0, 0.0, 0.0, f32::NAN])));
		// NaN is the largest value: {3, 1} in both, {3, 0} once a NaN moves.
		let n = f(&[0.1, 0.5, 0.3, f32::NAN]);
		assert!(agrees(&AcceptanceRule::TopK(2), &a, &n));
		assert!(!agrees(&AcceptanceRule::TopK(2), &n, &f(&[f32::NAN, 0.5, 0.3, 0.9])));
		assert!(agrees(&AcceptanceRule::TopK(2), &f(&[f32::NAN; 4]), &f(&[f32::NAN; 4])));
	}

	const ALL_RULES: [AcceptanceRule; 5] = [
		AcceptanceRule::Exact,
		TOL,
		AcceptanceRule::Tolerance { abs: 0, rel: 0 },
		AcceptanceRule::ArgMax,
		AcceptanceRule::TopK(2),
	];

	/// Issue 13, attack 3: an input that makes the model output NaN must not make two
	/// bit-identical honest outputs disagree (and get their providers slashed).
	#[test]
	fn identical_outputs_with_nan_agree_under_every_rule() {
		let t =
			Tensor::from_f32(vec![2, 3], &[0.5, f32::NAN, -1.0, f32::NAN, f32::NAN, 2.0]).unwrap();
		let bits: Vec<u8> =
			[0x3C00u16, 0x7E00, 0xFC00].iter().flat_map(|v| v.to_le_bytes()).collect();
		let h = Tensor::new(DType::F16, vec![3], bits).unwrap();
		let disagree: Vec<_> = ALL_RULES
			.iter()
			.flat_map(|rule| [(rule, &t), (rule, &h)])
			.filter(|(rule, t)| !agrees(rule, t, &(*t).clone()))
			.map(|(rule, t)| (*rule, t.dtype()))
			.collect();
		assert_eq!(disagree, vec![]);
	}

	/// The sets by a full sort of each row: the definition `top_k_sets` must match.
	fn top_k_sets_by_sort(t: &Tensor, k: u32) -> Vec<bool> {
		let row = match t.shape().last() {
			Some(0) => return Vec::new(),
			Some(n) => *n as usize,
			None => 1,
		};
		let keys: Vec<i64> = elements(t).map(|b| rank_key(t.dtype(), b)).collect();
		let mut member = vec![false; t.len()];
		for r in 0..t.len() / row {
			let mut keyed = Vec::new();
			for j in 0..row {
				keyed.push((keys[r * row + j], j));
			}
			keyed.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
			for (_, j) in keyed.iter().take(k as usize) {
				member[r * row + j] = true;
			}
		}
		member
	}

	#[test]
	fn topk_selection_matches_a_full_sort() {
		// Few distinct values (many ties), signed zeros, several rows, every k.
		let mut x: u32 = 7;
		let mut next = || {
			x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
			x >> 16
		};
		for rows in [1u32, 3] {
			for len in [1u32, 2, 7, 64] {
				let vals: Vec<f32> = (0..rows * len)
					.map(|_| match next() % 10 {
						0 => -0.0,
						1 => 0.0,
						2 => f32::NAN,
						3 => f32::from_bits(0xffc0_0001),
						4 => f32::INFINITY,
						5 => f32::NEG_INFINITY,
						v => v as f32 - 7.0,
					})
					.collect();
				let t = Tensor::from_f32(vec![rows, len], &vals).unwrap();
				let i = Tensor::new(
					DType::I8,
					vec![rows, len],
					(0..rows * len).map(|_| (next() % 5) as u8).collect(),
				)
				.unwrap();
				for k in 0..=len + 1 {
					assert_eq!(
						top_k_sets(&t, k),
						top_k_sets_by_sort(&t, k),
						"f32 {rows}x{len} k={k}"
					);
					assert_eq!(
						top_k_sets(&i, k),
						top_k_sets_by_sort(&i, k),
						"i8 {rows}x{len} k={k}"
					);
				}
			}
		}
	}

	/// f32 bits, special values often: NaNs (quiet, signalling, negative, odd payloads),
	/// infinities, signed zeros, subnormals, extremes, and any bits.
	fn f32_bits() -> impl Strategy<Value = u32> {
		prop_oneof![
			Just(0x7fc0_0000u32),
			Just(0xffc0_0000),
			0x7f80_0001u32..=0x7fff_ffff,
			0xff80_0001u32..=0xffff_ffff,
			Just(0x7f80_0000),
			Just(0xff80_0000),
			Just(0),
			Just(0x8000_0000),
			1u32..0x80_0000,
			0x8000_0001u32..0x8080_0000,
			Just(0x7f7f_ffff),
			Just(0xff7f_ffff),
			any::<u32>(),
			any::<u32>(),
		]
	}

	/// f16 bits, special values often (as for [`f32_bits`]).
	fn f16_bits() -> impl Strategy<Value = u16> {
		prop_oneof![
			Just(0x7e00u16),
			0x7c01u16..=0x7fff,
			0xfc01u16..=0xffff,
			Just(0x7c00),
			Just(0xfc00),
			Just(0),
			Just(0x8000),
			1u16..0x400,
			0x8001u16..0x8400,
			Just(0x7bff),
			any::<u16>(),
			any::<u16>(),
		]
	}

	fn dtypes() -> impl Strategy<Value = DType> {
		prop_oneof![
			Just(DType::F32),
			Just(DType::F16),
			Just(DType::I8),
			Just(DType::U8),
			Just(DType::I32),
			Just(DType::I64),
			Just(DType::Bool),
		]
	}

	/// Tensors of every dtype, rank 0 to 3 (empty axes included), special values often.
	fn tensors() -> impl Strategy<Value = Tensor> {
		(dtypes(), prop::collection::vec(0u32..5, 0..4)).prop_flat_map(|(dt, shape)| {
			let n: usize = shape.iter().map(|d| *d as usize).product();
			let size = dt.size();
			let element: BoxedStrategy<Vec<u8>> = match dt {
				DType::F32 => f32_bits().prop_map(|b| b.to_le_bytes().to_vec()).boxed(),
				DType::F16 => f16_bits().prop_map(|b| b.to_le_bytes().to_vec()).boxed(),
				DType::Bool => (0u8..2).prop_map(|b| vec![b]).boxed(),
				_ => prop_oneof![
					prop::collection::vec(any::<u8>(), size),
					Just(vec![0xff; size]),
					Just([vec![0; size - 1], vec![0x80]].concat()),
					Just([vec![0xff; size - 1], vec![0x7f]].concat()),
				]
				.boxed(),
			};
			prop::collection::vec(element, n)
				.prop_map(move |es| Tensor::new(dt, shape.clone(), es.concat()).unwrap())
		})
	}

	fn rules() -> impl Strategy<Value = AcceptanceRule> {
		prop_oneof![
			Just(AcceptanceRule::Exact),
			(any::<u64>(), any::<u32>())
				.prop_map(|(abs, rel)| AcceptanceRule::Tolerance { abs, rel }),
			(0u64..10, 0u32..10).prop_map(|(abs, rel)| AcceptanceRule::Tolerance { abs, rel }),
			Just(AcceptanceRule::ArgMax),
			(0u32..8).prop_map(AcceptanceRule::TopK),
		]
	}

	proptest! {
		#![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

		/// Identical outputs agree under every rule, whatever they hold (issue 13, attack 3).
		#[test]
		fn every_rule_is_reflexive(t in tensors(), rule in rules()) {
			prop_assert!(agrees(&rule, &t, &t.clone()), "{:?} {:?}", rule, t);
			let enc = crate::encode_tensors(&[t]);
			prop_assert!(agrees_encoded(&rule, &enc, &enc.clone()));
		}
	}

	fn out(dims: &[Option<u32>]) -> TensorSpec {
		TensorSpec::new(DType::F32, dims.to_vec()).unwrap()
	}

	/// Issue 13, attack 4: rules that accept any output are refused.
	#[test]
	fn check_refuses_rules_that_accept_anything() {
		let ten = [out(&[None, Some(10)])];
		assert_eq!(AcceptanceRule::Exact.check(&[out(&[])]), Ok(()));
		assert_eq!(AcceptanceRule::TopK(0).check(&ten), Err(RuleError::TopKZero));
		assert_eq!(AcceptanceRule::TopK(1).check(&ten), Ok(()));
		assert_eq!(AcceptanceRule::TopK(5).check(&ten), Ok(()));
		for k in [6, 9, 10, 11, u32::MAX] {
			assert_eq!(
				AcceptanceRule::TopK(k).check(&ten),
				Err(RuleError::TopKCoversRow { output: 0, k, row: 10 })
			);
		}
		// Every output is checked.
		let two = [out(&[Some(1), Some(10)]), out(&[Some(3)])];
		assert_eq!(
			AcceptanceRule::TopK(2).check(&two),
			Err(RuleError::TopKCoversRow { output: 1, k: 2, row: 3 })
		);
		assert_eq!(AcceptanceRule::ArgMax.check(&two), Ok(()));
		assert_eq!(AcceptanceRule::ArgMax.check(&[out(&[Some(2)])]), Ok(()));
		assert_eq!(
			AcceptanceRule::ArgMax.check(&[out(&[None, Some(1)])]),
			Err(RuleError::ArgMaxRowTooShort { output: 0, row: 1 })
		);
		assert_eq!(
			AcceptanceRule::ArgMax.check(&[out(&[Some(0)])]),
			Err(RuleError::ArgMaxRowTooShort { output: 0, row: 0 })
		);
		for dims in [&[][..], &[Some(4), None][..]] {
			for rule in [AcceptanceRule::ArgMax, AcceptanceRule::TopK(1)] {
				assert_eq!(
					rule.check(&[ten[0].clone(), out(dims)]),
					Err(RuleError::LastAxisNotFixed { output: 1 })
				);
			}
		}
		let tol = |abs, rel| AcceptanceRule::Tolerance { abs, rel }.check(&[out(&[])]);
		assert_eq!(tol(0, 0), Ok(()));
		assert_eq!(tol(MAX_TOLERANCE_ABS, MAX_TOLERANCE_REL), Ok(()));
		assert_eq!(
			tol(MAX_TOLERANCE_ABS + 1, 0),
			Err(RuleError::ToleranceTooLoose { abs: MAX_TOLERANCE_ABS + 1, rel: 0 })
		);
		assert_eq!(
			tol(0, MAX_TOLERANCE_REL + 1),
			Err(RuleError::ToleranceTooLoose { abs: 0, rel: MAX_TOLERANCE_REL + 1 })
		);
		assert_eq!(
			tol(u64::MAX, u32::MAX),
			Err(RuleError::ToleranceTooLoose { abs: u64::MAX, rel: u32::MAX })
		);
	}

	#[test]
	fn wide_arith() {
		let x = U384::from_u64(u64::MAX).shl(250);
		let y = x.add(U384::from_u64(1));
		assert_eq!(y.sub(x), U384::from_u64(1));
		assert_eq!(U384::from_u64(3).mul_u64(5), U384::from_u64(15));
		assert_eq!(U384::from_u64(1).shl(64), U384([0, 1, 0, 0, 0, 0]));
		assert_eq!(x.cmp(&y), Ordering::Less);
	}
}
