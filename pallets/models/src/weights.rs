//! Weights for `pallet_models`.
//!
//! HAND-WRITTEN PLACEHOLDER with the shape the benchmarks measure; regenerate on reference
//! hardware with:
//!
//! ```sh
//! frame-omni-bencher v1 benchmark pallet \
//!   --runtime target/release/wbuild/verity-runtime/verity_runtime.compact.compressed.wasm \
//!   --pallet pallet_models --extrinsic '*' --steps 50 --repeat 20 \
//!   --template scripts/weight-template.hbs --output pallets/models/src/weights.rs
//! ```
//! (or `verity-node benchmark pallet --runtime ... ` with the same arguments).

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_models`.
pub trait WeightInfo {
	/// `register_model` with a reference input of `r` bytes.
	fn register_model(r: u32) -> Weight;
	/// `upload_chunk` of `c` bytes that does not complete the model.
	fn upload_chunk(c: u32) -> Weight;
	/// `upload_chunk` that completes a model of `s` bytes (assembles and hashes them).
	fn upload_chunk_and_verify(s: u32) -> Weight;
	/// `attest` that matches (worst case: it activates the model).
	fn attest() -> Weight;
	/// `attest` that rejects a model with `n` chunks (deletes them).
	fn attest_and_reject(n: u32) -> Weight;
	/// `retire` of a model with `n` chunks.
	fn retire(n: u32) -> Weight;
	/// `reap`.
	fn reap() -> Weight;
}

/// Weights for `pallet_models` using the Substrate node and recommended hardware.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Models::Models` (r:1 w:1), `Balances::Holds` (r:1 w:1)
	fn register_model(r: u32) -> Weight {
		Weight::from_parts(45_000_000, 4_000)
			.saturating_add(Weight::from_parts(1_500, 1).saturating_mul(r.into()))
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Models::Models` (r:1 w:1), `Models::Chunks` (r:1 w:1)
	fn upload_chunk(c: u32) -> Weight {
		Weight::from_parts(30_000_000, 4_000)
			.saturating_add(Weight::from_parts(1_000, 1).saturating_mul(c.into()))
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Models::Models` (r:1 w:1), `Models::Chunks` (r:1+n w:1)
	fn upload_chunk_and_verify(s: u32) -> Weight {
		Weight::from_parts(40_000_000, 4_000)
			// read + copy + blake2 per byte
			.saturating_add(Weight::from_parts(4_000, 2).saturating_mul(s.into()))
			.saturating_add(T::DbWeight::get().reads(10_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Models::Models` (r:1 w:1), `Models::Attestations` (r:1 w:1)
	fn attest() -> Weight {
		Weight::from_parts(35_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Models::Models` (r:1 w:1), `Models::Attestations` (r:1 w:1),
	/// `Models::Chunks` (r:0 w:n), `Balances::Holds` (r:1 w:1)
	fn attest_and_reject(n: u32) -> Weight {
		Weight::from_parts(50_000_000, 4_000)
			.saturating_add(Weight::from_parts(2_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(n.into())))
	}
	/// Storage: `Models::Models` (r:1 w:1), `Models::Attestations` (w:1),
	/// `Models::Chunks` (r:0 w:n), `Balances::Holds` (r:1 w:1)
	fn retire(n: u32) -> Weight {
		Weight::from_parts(45_000_000, 4_000)
			.saturating_add(Weight::from_parts(2_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(n.into())))
	}
	/// Storage: `Models::Models` (r:1 w:1), `Balances::Holds` (r:1 w:1)
	fn reap() -> Weight {
		Weight::from_parts(40_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
}

// For backwards compatibility and tests.
impl WeightInfo for () {
	fn register_model(r: u32) -> Weight {
		Weight::from_parts(45_000_000, 4_000)
			.saturating_add(Weight::from_parts(1_500, 1).saturating_mul(r.into()))
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn upload_chunk(c: u32) -> Weight {
		Weight::from_parts(30_000_000, 4_000)
			.saturating_add(Weight::from_parts(1_000, 1).saturating_mul(c.into()))
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn upload_chunk_and_verify(s: u32) -> Weight {
		Weight::from_parts(40_000_000, 4_000)
			.saturating_add(Weight::from_parts(4_000, 2).saturating_mul(s.into()))
			.saturating_add(RocksDbWeight::get().reads(10_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn attest() -> Weight {
		Weight::from_parts(35_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn attest_and_reject(n: u32) -> Weight {
		Weight::from_parts(50_000_000, 4_000)
			.saturating_add(Weight::from_parts(2_000_000, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
			.saturating_add(RocksDbWeight::get().writes((1_u64).saturating_mul(n.into())))
	}
	fn retire(n: u32) -> Weight {
		Weight::from_parts(45_000_000, 4_000)
			.saturating_add(Weight::from_parts(2_000_000, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
			.saturating_add(RocksDbWeight::get().writes((1_u64).saturating_mul(n.into())))
	}
	fn reap() -> Weight {
		Weight::from_parts(40_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
}
