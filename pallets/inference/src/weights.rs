//! Weights for `pallet_inference`.
//!
//! HAND-WRITTEN ESTIMATES (not yet generated: no benchmark run exists for this pallet). They
//! bound the storage accesses of each path and add the byte-proportional work of decoding and
//! checking tensors and hashing. Regenerate from `benchmarking.rs` with
//! `scripts/bench_weights.sh` (`verity-node benchmark pallet --pallet pallet_inference`).

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_inference`.
pub trait WeightInfo {
	fn request(b: u32, k: u32) -> Weight;
	fn submit_result(b: u32, k: u32) -> Weight;
	fn submit_result_disputed(b: u32, k: u32) -> Weight;
	fn report_failure(k: u32) -> Weight;
	fn report_failure_disputed(k: u32) -> Weight;
	fn on_initialize_finalize(n: u32) -> Weight;
	fn on_initialize_disputed(n: u32) -> Weight;
	fn on_initialize_missed(n: u32) -> Weight;
}

/// Estimates for the Verity runtime.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// `request` with an input of `b` bytes and `k` executors.
	fn request(b: u32, k: u32) -> Weight {
		Weight::from_parts(60_000_000, 6_000)
			.saturating_add(Weight::from_parts(4_000, 1).saturating_mul(b.into()))
			.saturating_add(Weight::from_parts(25_000_000, 3_000).saturating_mul(k.into()))
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().reads((2_u64).saturating_mul(k.into())))
			.saturating_add(T::DbWeight::get().writes(5_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(k.into())))
	}
	/// `submit_result` with an output of `b` bytes, finalizing a round of `k` slots.
	fn submit_result(b: u32, k: u32) -> Weight {
		// Receipt recovery (~60 us) plus decoding, checking and (redundant) comparing outputs.
		Weight::from_parts(110_000_000, 8_000)
			.saturating_add(Weight::from_parts(6_000, 1).saturating_mul(b.into()))
			.saturating_add(Weight::from_parts(8_000, 1).saturating_mul(b.saturating_mul(k).into()))
			.saturating_add(Weight::from_parts(40_000_000, 4_000).saturating_mul(k.into()))
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(k.into())))
			.saturating_add(T::DbWeight::get().writes(6_u64))
			.saturating_add(T::DbWeight::get().writes((3_u64).saturating_mul(k.into())))
	}
	/// `submit_result` with an output of `b` bytes, disputing a round of `k` slots.
	fn submit_result_disputed(b: u32, k: u32) -> Weight {
		Self::submit_result(b, k)
	}
	/// `report_failure` finalizing a round of `k` slots.
	fn report_failure(k: u32) -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(Weight::from_parts(40_000_000, 4_000).saturating_mul(k.into()))
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(k.into())))
			.saturating_add(T::DbWeight::get().writes(5_u64))
			.saturating_add(T::DbWeight::get().writes((3_u64).saturating_mul(k.into())))
	}
	/// `report_failure` disputing a round of `k` slots.
	fn report_failure_disputed(k: u32) -> Weight {
		Self::report_failure(k)
	}
	/// `on_initialize` with `n` timed entries, each at most a finalization or a round of
	/// `MaxRedundancy` missed deadlines.
	fn on_initialize_finalize(n: u32) -> Weight {
		Weight::from_parts(5_000_000, 1_000)
			.saturating_add(Weight::from_parts(250_000_000, 20_000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().reads((12_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes(1_u64))
			.saturating_add(T::DbWeight::get().writes((12_u64).saturating_mul(n.into())))
	}
	fn on_initialize_disputed(n: u32) -> Weight {
		Self::on_initialize_finalize(n)
	}
	fn on_initialize_missed(n: u32) -> Weight {
		Self::on_initialize_finalize(n)
	}
}

/// The same estimates with RocksDB weights, for tests.
impl WeightInfo for () {
	fn request(b: u32, k: u32) -> Weight {
		Weight::from_parts(60_000_000, 6_000)
			.saturating_add(Weight::from_parts(4_000, 1).saturating_mul(b.into()))
			.saturating_add(Weight::from_parts(25_000_000, 3_000).saturating_mul(k.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(6, 5))
	}
	fn submit_result(b: u32, k: u32) -> Weight {
		Weight::from_parts(110_000_000, 8_000)
			.saturating_add(Weight::from_parts(6_000, 1).saturating_mul(b.into()))
			.saturating_add(Weight::from_parts(40_000_000, 4_000).saturating_mul(k.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(8, 6))
	}
	fn submit_result_disputed(b: u32, k: u32) -> Weight {
		Self::submit_result(b, k)
	}
	fn report_failure(k: u32) -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(Weight::from_parts(40_000_000, 4_000).saturating_mul(k.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(6, 5))
	}
	fn report_failure_disputed(k: u32) -> Weight {
		Self::report_failure(k)
	}
	fn on_initialize_finalize(n: u32) -> Weight {
		Weight::from_parts(5_000_000, 1_000)
			.saturating_add(Weight::from_parts(250_000_000, 20_000).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(1, 1))
	}
	fn on_initialize_disputed(n: u32) -> Weight {
		Self::on_initialize_finalize(n)
	}
	fn on_initialize_missed(n: u32) -> Weight {
		Self::on_initialize_finalize(n)
	}
}
