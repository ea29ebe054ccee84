//! # verity-engine
//!
//! Verity's inference engine, in two layers:
//!
//! - **`no_std`, shared with the runtime**: the canonical [`Tensor`] and its SCALE codec
//!   ([`tensor`]), [`TensorSpec`] declarations ([`spec`]), the output [`commitment`], and the
//!   [`AcceptanceRule`]s with [`agrees`] ([`rules`]). Everything here is integer-only and
//!   panic-free on hostile input, so the runtime and the node reach the same verdict.
//! - **`std` only**: the [`engine`] module, which validates ONNX models (hash, protobuf, op
//!   allow-list, declared specs, static size and cost limits), compiles them with tract into
//!   plans kept in a byte-bounded LRU cache, and runs them with a wall-time limit.
//!
//! ## Terms
//! - *model hash*: `blake2_256(onnx bytes)`, the model's identity everywhere in Verity.
//! - *canonical bytes*: the SCALE encoding of a tensor list; the *commitment* is its blake2-256.
//! - *plan*: a validated, optimized, runnable tract model, shared read-only between runs.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod rules;
pub mod spec;
pub mod tensor;

#[cfg(feature = "std")]
mod conv;
#[cfg(feature = "std")]
pub mod engine;
#[cfg(feature = "std")]
mod fold;
#[cfg(feature = "std")]
mod maxpool;

#[cfg(feature = "testing")]
pub mod testing;

pub use rules::{
	agrees, agrees_all, agrees_encoded, AcceptanceRule, RuleError, MAX_TOLERANCE_ABS,
	MAX_TOLERANCE_REL,
};
pub use spec::{check_list, Dim, ListError, ModelIo, SpecError, TensorSpec};
pub use tensor::{
	commitment, decode_tensors, encode_tensors, tensor_commitment, DType, Tensor, TensorError,
	Tensors, MAX_ELEMENTS, MAX_RANK, MAX_TENSORS,
};

/// A model's identity: blake2-256 of its ONNX bytes.
pub type ModelHash = [u8; 32];

/// Hash model bytes the way Verity identifies models.
pub fn model_hash(bytes: &[u8]) -> ModelHash {
	sp_crypto_hashing::blake2_256(bytes)
}

/// Version of the engine's observable behaviour (op set, limits semantics, codec). Recorded in
/// model specs so a node can refuse models validated under another version.
pub const ENGINE_VERSION: u32 = 1;
