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
//! they never agree. NaN agrees with nothing except, under `Exact`, a bit-identical NaN.

use crate::tensor::{DType, Tensor};
use alloc::{vec, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::cmp::Ordering;
use scale_info::TypeInfo;

/// Fixed-point unit of [`AcceptanceRule::Tolerance`] parameters: 1e-9.
pub const TOLERANCE_UNIT: u64 = 1_000_000_000;

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
	/// shown to be bit-stable across kernels.
	#[codec(index = 0)]
	Exact,
	/// Element-wise `|a - b| <= abs * 1e-9 + rel * 1e-9 * max(|a|, |b|)`, evaluated exactly.
	/// `abs` is in units of 1e-9; `rel` in parts per billion. Symmetric in `a` and `b` (the
	/// juror's and the executor's outputs are interchangeable). Equal infinities agree; NaN
	/// never does. Integer tensors are compared by the same formula on their exact values;
	/// bool tensors must be equal.
	#[codec(index = 1)]
	Tolerance { abs: u64, rel: u32 },
	/// The same index of the maximum along the last axis, for every leading index (every row
	/// of a batch). Ties go to the lowest index; `-0.0 == 0.0`; any NaN disagrees.
	#[codec(index = 2)]
	ArgMax,
	/// The same *set* of the `k` largest indices along the last axis, for every row. Ties are
	/// broken by lowest index, so the set is well defined. `k` above the axis length means the
	/// whole axis.
	#[codec(index = 3)]
	TopK(u32),
}

/// Whether outputs `a` and `b` agree under `rule`.
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
		_ => Num::Finite { neg, mant: m | (1 << 23), exp: e as i32 - 150 },
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
		_ => Num::Finite { neg, mant: m | (1 << 10), exp: i32::from(e) - 25 },
	}
}

fn int_num(v: i64) -> Num {
	Num::Finite { neg: v < 0, mant: v.unsigned_abs(), exp: 0 }
}

/// Decode element `i` of `t` (caller guarantees `i < t.len()`).
fn element(t: &Tensor, i: usize) -> Num {
	let d = t.data();
	let size = t.dtype().size();
	let b = d.get(i * size..(i + 1) * size).unwrap_or(&[]);
	let mut buf = [0u8; 8];
	if let Some(dst) = buf.get_mut(..b.len()) {
		dst.copy_from_slice(b);
	}
	match t.dtype() {
		DType::F32 => f32_num(u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]])),
		DType::F16 => f16_num(u16::from_le_bytes([buf[0], buf[1]])),
		DType::I8 => int_num(i64::from(buf[0] as i8)),
		DType::U8 | DType::Bool => int_num(i64::from(buf[0])),
		DType::I32 => int_num(i64::from(i32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]))),
		DType::I64 => int_num(i64::from_le_bytes(buf)),
	}
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
		for i in (0..6).rev() {
			if i < limbs {
				continue;
			}
			let src = i - limbs;
			let mut v = self.0[src] << bits;
			if bits > 0 && src > 0 {
				v |= self.0[src - 1] >> (64 - bits);
			}
			out[i] = v;
		}
		Self(out)
	}

	fn add(self, o: Self) -> Self {
		let mut out = [0u64; 6];
		let mut carry = false;
		for (i, slot) in out.iter_mut().enumerate() {
			let (s1, c1) = self.0[i].overflowing_add(o.0[i]);
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
		for (i, slot) in out.iter_mut().enumerate() {
			let (d1, b1) = self.0[i].overflowing_sub(o.0[i]);
			let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
			*slot = d2;
			borrow = b1 || b2;
		}
		Self(out)
	}

	fn mul_u64(self, m: u64) -> Self {
		let mut out = [0u64; 6];
		let mut carry: u128 = 0;
		for (i, slot) in out.iter_mut().enumerate() {
			let p = u128::from(self.0[i]) * u128::from(m) + carry;
			*slot = p as u64;
			carry = p >> 64;
		}
		Self(out)
	}

	fn cmp(&self, o: &Self) -> Ordering {
		for i in (0..6).rev() {
			match self.0[i].cmp(&o.0[i]) {
				Ordering::Equal => continue,
				other => return other,
			}
		}
		Ordering::Equal
	}
}

/// Exact check of `1e9 * |a - b| <= abs + rel * max(|a|, |b|)`.
fn within(a: Num, b: Num, abs: u64, rel: u32) -> bool {
	match (a, b) {
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
			let x = U384::from_u64(ma).shl((ea - emin) as u32);
			let y = U384::from_u64(mb).shl((eb - emin) as u32);
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
			let rhs = U384::from_u64(abs).shl((-emin) as u32).add(max.mul_u64(u64::from(rel)));
			lhs.cmp(&rhs) != Ordering::Greater
		},
	}
}

fn tolerance(a: &Tensor, b: &Tensor, abs: u64, rel: u32) -> bool {
	if a.dtype() == DType::Bool {
		return a.data() == b.data();
	}
	(0..a.len()).all(|i| within(element(a, i), element(b, i), abs, rel))
}

/// A total-order key for ranking, `None` for NaN. Floats map sign-magnitude bits to a signed
/// integer, which orders IEEE values correctly and makes `-0.0` and `0.0` equal.
fn rank_key(t: &Tensor, i: usize) -> Option<i64> {
	let d = t.data();
	let size = t.dtype().size();
	let b = d.get(i * size..(i + 1) * size)?;
	Some(match t.dtype() {
		DType::F32 => {
			let bits = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
			if matches!(f32_num(bits), Num::Nan) {
				return None;
			}
			let mag = i64::from(bits & 0x7fff_ffff);
			if bits >> 31 == 1 {
				-mag
			} else {
				mag
			}
		},
		DType::F16 => {
			let bits = u16::from_le_bytes([b[0], b[1]]);
			if matches!(f16_num(bits), Num::Nan) {
				return None;
			}
			let mag = i64::from(bits & 0x7fff);
			if bits >> 15 == 1 {
				-mag
			} else {
				mag
			}
		},
		DType::I8 => i64::from(b[0] as i8),
		DType::U8 | DType::Bool => i64::from(b[0]),
		DType::I32 => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
		DType::I64 => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
	})
}

/// Membership of the `k` largest elements of each row (last axis), ties by lowest index: one
/// flag per element, `true` where the element is in its row's set. `None` if any element is
/// NaN. Linear in the row length (a selection partitions each row; neither the row nor the set
/// is sorted): outputs are compared in the runtime, where a full sort of a 64 KiB output is
/// what made this rule the costliest.
fn top_k_sets(t: &Tensor, k: u32) -> Option<Vec<bool>> {
	let row = match t.shape().last() {
		Some(0) => return Some(Vec::new()),
		Some(n) => *n as usize,
		None => 1,
	};
	let rows = t.len() / row;
	let k = (k as usize).min(row);
	let mut member = vec![false; rows * row];
	let mut keyed: Vec<(i64, u32)> = Vec::with_capacity(row);
	for r in 0..rows {
		keyed.clear();
		for j in 0..row {
			keyed.push((rank_key(t, r * row + j)?, j as u32));
		}
		if k == 0 {
			continue;
		}
		// Descending by value, then ascending by index: a total order, so the first `k` after
		// the selection are exactly the set a full sort would give.
		keyed.select_nth_unstable_by(k - 1, |x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
		for (_, j) in &keyed[..k] {
			member[r * row + *j as usize] = true;
		}
	}
	Some(member)
}

fn top_k(a: &Tensor, b: &Tensor, k: u32) -> bool {
	match (top_k_sets(a, k), top_k_sets(b, k)) {
		(Some(x), Some(y)) => x == y,
		_ => false,
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::vec;

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
		assert!(!agrees(&TOL, &f(&[f32::NAN]), &f(&[f32::NAN])));
		assert!(!agrees(&TOL, &f(&[f32::NAN]), &f(&[1.0])));
		assert!(agrees(&TOL, &f(&[f32::INFINITY]), &f(&[f32::INFINITY])));
		assert!(!agrees(&TOL, &f(&[f32::INFINITY]), &f(&[f32::NEG_INFINITY])));
		assert!(!agrees(&TOL, &f(&[f32::INFINITY]), &f(&[f32::MAX])));
		let wide = AcceptanceRule::Tolerance { abs: u64::MAX, rel: u32::MAX };
		assert!(agrees(&wide, &f(&[f32::MAX]), &f(&[-f32::MAX])));
		assert!(!agrees(&wide, &f(&[f32::MAX]), &f(&[f32::INFINITY])));
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
		assert!(!agrees(&r, &h(0x7E00), &h(0x7E00))); // NaN
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
		assert!(!agrees(&AcceptanceRule::ArgMax, &f(&[f32::NAN, 1.0]), &f(&[0.0, 1.0])));
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
		assert!(!agrees(&AcceptanceRule::TopK(10), &a, &f(&[0.0, 0.0, 0.0, f32::NAN])));
	}

	/// The sets by a full sort of each row: the definition `top_k_sets` must match.
	fn top_k_sets_by_sort(t: &Tensor, k: u32) -> Option<Vec<bool>> {
		let row = match t.shape().last() {
			Some(0) => return Some(Vec::new()),
			Some(n) => *n as usize,
			None => 1,
		};
		let mut member = vec![false; t.len()];
		for r in 0..t.len() / row {
			let mut keyed = Vec::new();
			for j in 0..row {
				keyed.push((rank_key(t, r * row + j)?, j));
			}
			keyed.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
			for (_, j) in keyed.iter().take(k as usize) {
				member[r * row + j] = true;
			}
		}
		Some(member)
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
					.map(|_| match next() % 6 {
						0 => -0.0,
						1 => 0.0,
						v => v as f32 - 3.0,
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
