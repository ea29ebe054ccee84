//! The canonical tensor and its SCALE codec.
//!
//! A [`Tensor`] is `(dtype, shape, data)` where `data` holds exactly
//! `product(shape) * dtype.size()` little-endian bytes. Its SCALE encoding is the *canonical
//! form*: the on-chain input, the output that providers submit, and the bytes committed to by
//! [`commitment`] are all this encoding, so two equal tensors always have one byte string.
//!
//! Decoding is hostile-input safe: rank, element count and byte length are checked (with
//! overflow-checked arithmetic) *before* the data buffer is allocated, and a `Bool` byte other
//! than 0 or 1 is rejected so that no two encodings mean the same tensor.

// Compiled into the runtime: no panics (see `rules.rs`).
#![cfg_attr(
	not(test),
	deny(
		clippy::indexing_slicing,
		clippy::arithmetic_side_effects,
		clippy::unwrap_used,
		clippy::expect_used
	)
)]

use alloc::vec::Vec;
use bounded_collections::{BoundedVec, ConstU32};
use codec::{Compact, Decode, DecodeWithMemTracking, Encode, Input, MaxEncodedLen};
use scale_info::TypeInfo;

/// Maximum tensor rank anywhere in Verity (specs, inputs, outputs).
pub const MAX_RANK: u32 = 8;
/// Maximum number of elements in one tensor accepted by the codec (16 Mi). Chains and engines
/// configure tighter limits; this one only keeps decoding itself bounded.
pub const MAX_ELEMENTS: u64 = 1 << 24;
/// Maximum number of tensors in one model input or output list.
pub const MAX_TENSORS: u32 = 16;

/// A tensor shape: at most [`MAX_RANK`] dimensions.
pub type Shape = BoundedVec<u32, ConstU32<MAX_RANK>>;

/// Element type of a tensor. The codec index of each variant is fixed forever: it is part of the
/// canonical encoding that outputs are committed by.
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
pub enum DType {
	#[codec(index = 0)]
	F32,
	#[codec(index = 1)]
	F16,
	#[codec(index = 2)]
	I8,
	#[codec(index = 3)]
	U8,
	#[codec(index = 4)]
	I32,
	#[codec(index = 5)]
	I64,
	#[codec(index = 6)]
	Bool,
}

impl DType {
	/// Bytes per element.
	pub const fn size(self) -> usize {
		match self {
			DType::F32 | DType::I32 => 4,
			DType::F16 => 2,
			DType::I8 | DType::U8 | DType::Bool => 1,
			DType::I64 => 8,
		}
	}

	/// Whether values of this type are IEEE floats (compared by `Tolerance` as reals).
	pub const fn is_float(self) -> bool {
		matches!(self, DType::F32 | DType::F16)
	}
}

/// Why a tensor could not be built or decoded.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum TensorError {
	/// More than [`MAX_RANK`] dimensions.
	RankTooHigh,
	/// `product(shape)` overflowed or exceeded [`MAX_ELEMENTS`].
	TooManyElements,
	/// The data length is not `product(shape) * dtype.size()`.
	DataLength { expected: u64, found: u64 },
	/// A `Bool` element was neither 0 nor 1.
	NonCanonicalBool,
	/// Bytes were left over after the encoded value.
	TrailingBytes,
	/// The bytes are not a SCALE encoding of the expected type.
	Malformed,
}

impl core::fmt::Display for TensorError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			TensorError::RankTooHigh => write!(f, "tensor rank exceeds {MAX_RANK}"),
			TensorError::TooManyElements => {
				write!(f, "tensor element count overflows or exceeds {MAX_ELEMENTS}")
			},
			TensorError::DataLength { expected, found } => {
				write!(f, "tensor data is {found} bytes, shape and dtype require {expected}")
			},
			TensorError::NonCanonicalBool => write!(f, "bool tensor element is neither 0 nor 1"),
			TensorError::TrailingBytes => write!(f, "trailing bytes after encoded tensor(s)"),
			TensorError::Malformed => write!(f, "malformed SCALE encoding"),
		}
	}
}

/// Number of elements of `shape`, overflow-checked and capped at [`MAX_ELEMENTS`].
pub fn element_count(shape: &[u32]) -> Result<u64, TensorError> {
	let mut n: u64 = 1;
	for d in shape {
		n = n.checked_mul(u64::from(*d)).ok_or(TensorError::TooManyElements)?;
		if n > MAX_ELEMENTS {
			return Err(TensorError::TooManyElements);
		}
	}
	Ok(n)
}

/// A dense, canonical tensor. Fields are private so that every value satisfies the invariant
/// `data.len() == element_count(shape) * dtype.size()` (and canonical bools).
#[derive(Clone, PartialEq, Eq, Debug, Encode, TypeInfo)]
pub struct Tensor {
	dtype: DType,
	shape: Shape,
	data: Vec<u8>,
}

impl Tensor {
	/// Build a tensor from raw little-endian bytes, checking the invariant.
	pub fn new(dtype: DType, shape: Vec<u32>, data: Vec<u8>) -> Result<Self, TensorError> {
		let shape: Shape = shape.try_into().map_err(|_| TensorError::RankTooHigh)?;
		let expected = Self::byte_len(dtype, &shape)?;
		if data.len() as u64 != expected {
			return Err(TensorError::DataLength { expected, found: data.len() as u64 });
		}
		if dtype == DType::Bool && data.iter().any(|b| *b > 1) {
			return Err(TensorError::NonCanonicalBool);
		}
		Ok(Self { dtype, shape, data })
	}

	fn byte_len(dtype: DType, shape: &[u32]) -> Result<u64, TensorError> {
		// Cannot overflow: at most 2^24 elements of at most 8 bytes.
		Ok(element_count(shape)?.saturating_mul(dtype.size() as u64))
	}

	/// An f32 tensor (test vectors, clients). Not used by runtime logic.
	pub fn from_f32(shape: Vec<u32>, values: &[f32]) -> Result<Self, TensorError> {
		Self::new(DType::F32, shape, values.iter().flat_map(|v| v.to_le_bytes()).collect())
	}

	/// An i64 tensor.
	pub fn from_i64(shape: Vec<u32>, values: &[i64]) -> Result<Self, TensorError> {
		Self::new(DType::I64, shape, values.iter().flat_map(|v| v.to_le_bytes()).collect())
	}

	/// A u8 tensor.
	pub fn from_u8(shape: Vec<u32>, values: &[u8]) -> Result<Self, TensorError> {
		Self::new(DType::U8, shape, values.to_vec())
	}

	pub fn dtype(&self) -> DType {
		self.dtype
	}

	pub fn shape(&self) -> &[u32] {
		&self.shape
	}

	/// Little-endian element bytes.
	pub fn data(&self) -> &[u8] {
		&self.data
	}

	/// Number of elements.
	pub fn len(&self) -> usize {
		// Every dtype has a non-zero size, so the division is never `None`.
		self.data.len().checked_div(self.dtype.size()).unwrap_or(0)
	}

	pub fn is_empty(&self) -> bool {
		self.data.is_empty()
	}

	/// Elements as f32 (only for `F32` tensors). Convenience for std callers and tests.
	pub fn to_f32_vec(&self) -> Option<Vec<f32>> {
		(self.dtype == DType::F32).then(|| {
			self.data
				.chunks_exact(4)
				// Every chunk is 4 bytes, so none is skipped.
				.filter_map(|c| c.try_into().ok().map(f32::from_le_bytes))
				.collect()
		})
	}

	/// Canonical bytes (the SCALE encoding).
	pub fn canonical_bytes(&self) -> Vec<u8> {
		self.encode()
	}

	/// Decode one tensor from `bytes`, rejecting trailing bytes.
	pub fn decode_all(mut bytes: &[u8]) -> Result<Self, TensorError> {
		let t = Self::decode_checked(&mut bytes)?;
		if !bytes.is_empty() {
			return Err(TensorError::TrailingBytes);
		}
		Ok(t)
	}

	/// Decode with a precise error (the `Decode` impl maps these to `codec::Error`).
	pub fn decode_checked<I: Input>(input: &mut I) -> Result<Self, TensorError> {
		let dtype = DType::decode(input).map_err(|_| TensorError::Malformed)?;
		// Decode the shape by hand so an over-long rank is reported as such, before any
		// allocation proportional to the claimed length.
		let rank = Compact::<u32>::decode(input).map_err(|_| TensorError::Malformed)?.0;
		if rank > MAX_RANK {
			return Err(TensorError::RankTooHigh);
		}
		let mut dims = Vec::with_capacity(rank as usize);
		for _ in 0..rank {
			dims.push(u32::decode(input).map_err(|_| TensorError::Malformed)?);
		}
		let expected = Self::byte_len(dtype, &dims)?;
		let found = u64::from(Compact::<u32>::decode(input).map_err(|_| TensorError::Malformed)?.0);
		if found != expected {
			return Err(TensorError::DataLength { expected, found });
		}
		// `expected` is bounded by MAX_ELEMENTS * 8, so this allocation is bounded.
		let mut data = alloc::vec![0u8; expected as usize];
		input.read(&mut data).map_err(|_| TensorError::Malformed)?;
		if dtype == DType::Bool && data.iter().any(|b| *b > 1) {
			return Err(TensorError::NonCanonicalBool);
		}
		let shape = Shape::truncate_from(dims);
		Ok(Self { dtype, shape, data })
	}
}

impl Decode for Tensor {
	fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
		Self::decode_checked(input).map_err(|e| match e {
			TensorError::RankTooHigh => "Tensor: rank too high".into(),
			TensorError::TooManyElements => "Tensor: too many elements".into(),
			TensorError::DataLength { .. } => "Tensor: data length does not match shape".into(),
			TensorError::NonCanonicalBool => "Tensor: non-canonical bool".into(),
			TensorError::TrailingBytes | TensorError::Malformed => "Tensor: malformed".into(),
		})
	}
}

impl DecodeWithMemTracking for Tensor {}

/// A list of tensors (a model's inputs or outputs), at most [`MAX_TENSORS`].
pub type Tensors = BoundedVec<Tensor, ConstU32<MAX_TENSORS>>;

/// Encode a list of tensors canonically (SCALE `Vec<Tensor>`).
pub fn encode_tensors(tensors: &[Tensor]) -> Vec<u8> {
	tensors.encode()
}

/// Decode a canonical list of tensors, rejecting trailing bytes and more than
/// [`MAX_TENSORS`] entries (checked before allocating).
pub fn decode_tensors(mut bytes: &[u8]) -> Result<Vec<Tensor>, TensorError> {
	let input = &mut bytes;
	let n = Compact::<u32>::decode(input).map_err(|_| TensorError::Malformed)?.0;
	if n > MAX_TENSORS {
		return Err(TensorError::Malformed);
	}
	let mut out = Vec::with_capacity(n as usize);
	for _ in 0..n {
		out.push(Tensor::decode_checked(input)?);
	}
	if !input.is_empty() {
		return Err(TensorError::TrailingBytes);
	}
	Ok(out)
}

/// The output commitment: blake2-256 of the canonical encoding of the output list.
pub fn commitment(tensors: &[Tensor]) -> [u8; 32] {
	sp_crypto_hashing::blake2_256(&encode_tensors(tensors))
}

/// The commitment of a single tensor (blake2-256 of its canonical bytes).
pub fn tensor_commitment(tensor: &Tensor) -> [u8; 32] {
	sp_crypto_hashing::blake2_256(&tensor.encode())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn t() -> Tensor {
		Tensor::from_f32(alloc::vec![2, 2], &[1.0, -0.0, f32::NAN, f32::INFINITY]).unwrap()
	}

	#[test]
	fn roundtrip() {
		let a = t();
		let bytes = a.encode();
		assert_eq!(Tensor::decode_all(&bytes).unwrap(), a);
		assert_eq!(Tensor::decode(&mut &bytes[..]).unwrap(), a);
		let list = alloc::vec![a.clone(), Tensor::from_i64(alloc::vec![], &[7]).unwrap()];
		let enc = encode_tensors(&list);
		assert_eq!(decode_tensors(&enc).unwrap(), list);
		// The list encoding is the same as the bounded list type's, which pallets may use.
		let bounded: Tensors = list.clone().try_into().unwrap();
		assert_eq!(bounded.encode(), enc);
	}

	#[test]
	fn scalar_and_empty() {
		let s = Tensor::from_f32(alloc::vec![], &[3.5]).unwrap();
		assert_eq!(s.len(), 1);
		let e = Tensor::new(DType::I32, alloc::vec![3, 0], alloc::vec![]).unwrap();
		assert!(e.is_empty());
		assert_eq!(Tensor::decode_all(&e.encode()).unwrap(), e);
	}

	#[test]
	fn new_rejects_bad_length() {
		assert_eq!(
			Tensor::new(DType::F32, alloc::vec![2], alloc::vec![0; 7]),
			Err(TensorError::DataLength { expected: 8, found: 7 })
		);
	}

	#[test]
	fn decode_rejects_malformed() {
		let good = t().encode();
		// truncated
		for cut in 0..good.len() {
			assert!(Tensor::decode_all(&good[..cut]).is_err(), "cut {cut}");
		}
		// trailing
		let mut long = good.clone();
		long.push(0);
		assert_eq!(Tensor::decode_all(&long), Err(TensorError::TrailingBytes));
		// unknown dtype
		let mut bad = good.clone();
		bad[0] = 7;
		assert_eq!(Tensor::decode_all(&bad), Err(TensorError::Malformed));
		// rank 9
		let mut r9 = alloc::vec![0u8];
		r9.extend(Compact(9u32).encode());
		r9.extend([1u8; 36]);
		assert_eq!(Tensor::decode_all(&r9), Err(TensorError::RankTooHigh));
	}

	#[test]
	fn decode_rejects_huge_shape_without_allocating() {
		// shape [u32::MAX, u32::MAX] with a tiny data length: must fail on the element count.
		let mut b = alloc::vec![0u8];
		b.extend(Compact(2u32).encode());
		b.extend(u32::MAX.encode());
		b.extend(u32::MAX.encode());
		b.extend(Compact(0u32).encode());
		assert_eq!(Tensor::decode_all(&b), Err(TensorError::TooManyElements));
		// just over the element limit
		let mut b = alloc::vec![2u8];
		b.extend(Compact(1u32).encode());
		b.extend(((MAX_ELEMENTS + 1) as u32).encode());
		assert_eq!(Tensor::decode_all(&b), Err(TensorError::TooManyElements));
	}

	#[test]
	fn decode_rejects_claimed_length_mismatch() {
		let mut b = alloc::vec![0u8];
		b.extend(Compact(1u32).encode());
		b.extend(2u32.encode());
		b.extend(Compact(1_000_000u32).encode());
		assert_eq!(
			Tensor::decode_all(&b),
			Err(TensorError::DataLength { expected: 8, found: 1_000_000 })
		);
	}

	#[test]
	fn bool_must_be_canonical() {
		assert!(Tensor::new(DType::Bool, alloc::vec![2], alloc::vec![0, 1]).is_ok());
		assert_eq!(
			Tensor::new(DType::Bool, alloc::vec![1], alloc::vec![2]),
			Err(TensorError::NonCanonicalBool)
		);
		let mut enc = Tensor::new(DType::Bool, alloc::vec![1], alloc::vec![1]).unwrap().encode();
		*enc.last_mut().unwrap() = 5;
		assert_eq!(Tensor::decode_all(&enc), Err(TensorError::NonCanonicalBool));
	}

	#[test]
	fn decode_tensors_bounds_count() {
		let enc = Compact(MAX_TENSORS + 1).encode();
		assert_eq!(decode_tensors(&enc), Err(TensorError::Malformed));
	}

	#[test]
	fn commitment_is_blake2_of_canonical_bytes() {
		let list = alloc::vec![t()];
		assert_eq!(commitment(&list), sp_crypto_hashing::blake2_256(&list.encode()));
		assert_ne!(commitment(&list), commitment(&[]));
	}
}
