//! # Inference requests (pallet-inference) — interface only; the pallet follows.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod traits;
pub use traits::*;
