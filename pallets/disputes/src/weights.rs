//! Weights for `pallet_disputes`.
//!
//! HAND-ESTIMATED PLACEHOLDER with the shape the benchmarks measure (not measured yet);
//! regenerate on reference hardware with:
//!
//! ```sh
//! frame-omni-bencher v1 benchmark pallet \
//!   --runtime target/release/wbuild/verity-runtime/verity_runtime.compact.compressed.wasm \
//!   --pallet pallet_disputes --extrinsic '*' --steps 50 --repeat 20 \
//!   --template scripts/weight-template.hbs --output pallets/disputes/src/weights.rs
//! ```
//!
//! In the runtime the benchmarks run through the real pallet-inference and pallet-providers, so
//! `challenge` includes `begin_challenge` and a jury selection, and the tallies include
//! `conclude` and the slashes.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_disputes`.
pub trait WeightInfo {
	/// `challenge` with `JurySize` jurors and `MaxCandidates` candidates.
	fn challenge() -> Weight;
	/// `commit`.
	fn commit() -> Weight;
	/// `reveal` of an output of `o` bytes that finds every candidate wrong (keeps the output).
	fn reveal(o: u32) -> Weight;
	/// Tally of a dispute whose `j` jurors all revealed a wrong verdict with a full-size output
	/// (one `conclude`, the bond released, no penalty).
	fn tally_decided(j: u32) -> Weight;
	/// Tally of a dispute whose `j` jurors all committed but none revealed (no quorum: `j`
	/// penalties).
	fn tally_no_quorum(j: u32) -> Weight;
}

/// Weights for `pallet_disputes` using the Substrate node and recommended hardware.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn challenge() -> Weight {
		Weight::from_parts(150_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads(30_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn commit() -> Weight {
		Weight::from_parts(30_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn reveal(o: u32) -> Weight {
		Weight::from_parts(45_000_000, 4_000)
			.saturating_add(Weight::from_parts(2_000, 1).saturating_mul(o.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	fn tally_decided(j: u32) -> Weight {
		Weight::from_parts(120_000_000, 70_000)
			.saturating_add(Weight::from_parts(3_000_000, 0).saturating_mul(j.into()))
			.saturating_add(T::DbWeight::get().reads(12_u64))
			.saturating_add(T::DbWeight::get().writes(10_u64))
	}
	fn tally_no_quorum(j: u32) -> Weight {
		Weight::from_parts(60_000_000, 5_000)
			.saturating_add(Weight::from_parts(70_000_000, 5_000).saturating_mul(j.into()))
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
			.saturating_add(T::DbWeight::get().reads_writes(4_u64, 4_u64).saturating_mul(j.into()))
	}
}

// For tests.
impl WeightInfo for () {
	fn challenge() -> Weight {
		Weight::from_parts(150_000_000, 20_000)
			.saturating_add(RocksDbWeight::get().reads(30_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
	}
	fn commit() -> Weight {
		Weight::from_parts(30_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn reveal(o: u32) -> Weight {
		Weight::from_parts(45_000_000, 4_000)
			.saturating_add(Weight::from_parts(2_000, 1).saturating_mul(o.into()))
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn tally_decided(j: u32) -> Weight {
		Weight::from_parts(120_000_000, 70_000)
			.saturating_add(Weight::from_parts(3_000_000, 0).saturating_mul(j.into()))
			.saturating_add(RocksDbWeight::get().reads(12_u64))
			.saturating_add(RocksDbWeight::get().writes(10_u64))
	}
	fn tally_no_quorum(j: u32) -> Weight {
		Weight::from_parts(60_000_000, 5_000)
			.saturating_add(Weight::from_parts(70_000_000, 5_000).saturating_mul(j.into()))
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
			.saturating_add(
				RocksDbWeight::get().reads_writes(4_u64, 4_u64).saturating_mul(j.into()),
			)
	}
}
