//! Tensor specifications: what a model declares it accepts and produces.
//!
//! Specs are stored on chain by the model registry, so they are bounded and `MaxEncodedLen`.

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

use crate::tensor::{decode_tensors, DType, Tensor, MAX_RANK, MAX_TENSORS};
use bounded_collections::{BoundedVec, ConstU32};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// One dimension of a spec: `Some(n)` must be exactly `n`; `None` is symbolic (for example a
/// batch dimension) and accepts any size, within the engine's element limits.
pub type Dim = Option<u32>;

/// The declared type and shape of one input or output.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TensorSpec {
	pub dtype: DType,
	pub dims: BoundedVec<Dim, ConstU32<MAX_RANK>>,
}

/// Why a tensor does not satisfy a [`TensorSpec`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum SpecError {
	DTypeMismatch { expected: DType, found: DType },
	RankMismatch { expected: u32, found: u32 },
	DimMismatch { axis: u32, expected: u32, found: u32 },
}

impl core::fmt::Display for SpecError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			SpecError::DTypeMismatch { expected, found } => {
				write!(f, "dtype {found:?}, expected {expected:?}")
			},
			SpecError::RankMismatch { expected, found } => {
				write!(f, "rank {found}, expected {expected}")
			},
			SpecError::DimMismatch { axis, expected, found } => {
				write!(f, "dimension {axis} is {found}, expected {expected}")
			},
		}
	}
}

impl TensorSpec {
	/// A spec from a dtype and dims; `None` if the rank exceeds [`MAX_RANK`].
	pub fn new(dtype: DType, dims: alloc::vec::Vec<Dim>) -> Option<Self> {
		Some(Self { dtype, dims: dims.try_into().ok()? })
	}

	/// Check a tensor against this spec.
	pub fn check(&self, t: &Tensor) -> Result<(), SpecError> {
		if t.dtype() != self.dtype {
			return Err(SpecError::DTypeMismatch { expected: self.dtype, found: t.dtype() });
		}
		if t.shape().len() != self.dims.len() {
			return Err(SpecError::RankMismatch {
				expected: self.dims.len() as u32,
				found: t.shape().len() as u32,
			});
		}
		for (axis, (want, got)) in self.dims.iter().zip(t.shape()).enumerate() {
			if let Some(want) = want {
				if want != got {
					return Err(SpecError::DimMismatch {
						axis: axis as u32,
						expected: *want,
						found: *got,
					});
				}
			}
		}
		Ok(())
	}

	/// Whether `self` (a declaration) is compatible with `graph` (what the model's graph says):
	/// same dtype and rank, and every dim the graph fixes is fixed to the same value by the
	/// declaration. A declaration may fix a dim the graph leaves symbolic (it narrows it), but
	/// may not leave symbolic a dim the graph fixes.
	pub fn compatible_with_graph(&self, graph: &TensorSpec) -> bool {
		self.dtype == graph.dtype
			&& self.dims.len() == graph.dims.len()
			&& self.dims.iter().zip(graph.dims.iter()).all(|(d, g)| match (d, g) {
				(_, None) => true,
				(Some(d), Some(g)) => d == g,
				(None, Some(_)) => false,
			})
	}
}

/// Why an encoded tensor list does not satisfy a list of specs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ListError {
	/// The bytes are not a canonical tensor list.
	Malformed,
	/// The list has `found` tensors, the specs `expected`.
	Count { expected: u32, found: u32 },
	/// Tensor `index` does not satisfy its spec.
	Spec { index: u32, error: SpecError },
}

/// Decode a canonical tensor list and check it against `specs`, one to one. The runtime uses
/// it for request inputs, posted outputs and models' reference vectors.
pub fn check_list(
	specs: &[TensorSpec],
	encoded: &[u8],
) -> Result<alloc::vec::Vec<Tensor>, ListError> {
	let tensors = decode_tensors(encoded).map_err(|_| ListError::Malformed)?;
	if tensors.len() != specs.len() {
		return Err(ListError::Count { expected: specs.len() as u32, found: tensors.len() as u32 });
	}
	for (index, (spec, t)) in specs.iter().zip(&tensors).enumerate() {
		spec.check(t).map_err(|error| ListError::Spec { index: index as u32, error })?;
	}
	Ok(tensors)
}

/// A model's declared inputs and outputs, in graph order.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ModelIo {
	pub inputs: BoundedVec<TensorSpec, ConstU32<MAX_TENSORS>>,
	pub outputs: BoundedVec<TensorSpec, ConstU32<MAX_TENSORS>>,
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::vec;

	#[test]
	fn check_accepts_symbolic_batch() {
		let spec = TensorSpec::new(DType::F32, vec![None, Some(3)]).unwrap();
		assert_eq!(spec.check(&Tensor::from_f32(vec![5, 3], &[0.0; 15]).unwrap()), Ok(()));
		assert_eq!(spec.check(&Tensor::from_f32(vec![0, 3], &[]).unwrap()), Ok(()));
		assert_eq!(
			spec.check(&Tensor::from_f32(vec![1, 4], &[0.0; 4]).unwrap()),
			Err(SpecError::DimMismatch { axis: 1, expected: 3, found: 4 })
		);
		assert_eq!(
			spec.check(&Tensor::from_f32(vec![3], &[0.0; 3]).unwrap()),
			Err(SpecError::RankMismatch { expected: 2, found: 1 })
		);
		assert_eq!(
			spec.check(&Tensor::from_i64(vec![1, 3], &[0; 3]).unwrap()),
			Err(SpecError::DTypeMismatch { expected: DType::F32, found: DType::I64 })
		);
	}

	#[test]
	fn compatibility() {
		let g = TensorSpec::new(DType::F32, vec![None, Some(3)]).unwrap();
		assert!(TensorSpec::new(DType::F32, vec![None, Some(3)])
			.unwrap()
			.compatible_with_graph(&g));
		assert!(TensorSpec::new(DType::F32, vec![Some(1), Some(3)])
			.unwrap()
			.compatible_with_graph(&g));
		assert!(!TensorSpec::new(DType::F32, vec![None, None]).unwrap().compatible_with_graph(&g));
		assert!(!TensorSpec::new(DType::F32, vec![None]).unwrap().compatible_with_graph(&g));
		assert!(!TensorSpec::new(DType::I8, vec![None, Some(3)])
			.unwrap()
			.compatible_with_graph(&g));
	}
}
