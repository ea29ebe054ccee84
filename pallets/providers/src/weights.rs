//! Weights for `pallet_providers`.
//!
//! HAND-WRITTEN PLACEHOLDER with the shape the benchmarks measure; regenerate on reference
//! hardware with:
//!
//! ```sh
//! frame-omni-bencher v1 benchmark pallet \
//!   --runtime target/release/wbuild/verity-runtime/verity_runtime.compact.compressed.wasm \
//!   --pallet pallet_providers --extrinsic '*' --steps 50 --repeat 20 \
//!   --template scripts/weight-template.hbs --output pallets/providers/src/weights.rs
//! ```
//! (or `verity-node benchmark pallet --runtime ...` with the same arguments).
//!
//! No weight has a component for the number of delegators: payout and slash are O(1) in it.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_providers`.
pub trait WeightInfo {
	/// `register_provider` serving `m` models.
	fn register_provider(m: u32) -> Weight;
	/// `bond_more`.
	fn bond_more() -> Weight;
	/// `unbond`.
	fn unbond() -> Weight;
	/// `delegate` (new ledger) to a provider with `d` delegators already (flat in `d`).
	fn delegate(d: u32) -> Weight;
	/// `undelegate` (worst case: closes the ledger and pays rewards).
	fn undelegate() -> Weight;
	/// `withdraw` of `u` matured unlocking chunks (worst case: closes the ledger and removes a leaving provider).
	fn withdraw(u: u32) -> Weight;
	/// `claim`.
	fn claim() -> Weight;
	/// `set_models` with `m` models (and as many dropped).
	fn set_models(m: u32) -> Weight;
	/// `set_commission`.
	fn set_commission() -> Weight;
	/// `chill`.
	fn chill() -> Weight;
	/// `unchill`.
	fn unchill() -> Weight;
	/// `deregister` of a provider serving `m` models (unbonds its self-bond).
	fn deregister(m: u32) -> Weight;
	/// `Rewards::reward` (not a call; for callers to charge).
	fn reward() -> Weight;
	/// `Slash::slash` touching `b` unbonding buckets. Independent of the number of delegators.
	fn slash(b: u32, d: u32) -> Weight;
	/// `ExecutorSelection::select` over `p` indexed providers (one draw per requested executor; count is bounded by `p`).
	fn select(p: u32) -> Weight;
}

/// Weights for `pallet_providers` using the Substrate node and recommended hardware.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register_provider(m: u32) -> Weight {
		Weight::from_parts(60_000_000, 5_000)
			.saturating_add(Weight::from_parts(4_000_000, 2_500).saturating_mul(m.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
			.saturating_add(T::DbWeight::get().reads_writes(1_u64, 1_u64).saturating_mul(m.into()))
	}
	fn bond_more() -> Weight {
		Weight::from_parts(55_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	fn unbond() -> Weight {
		Weight::from_parts(50_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn delegate(_d: u32) -> Weight {
		Weight::from_parts(60_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	fn undelegate() -> Weight {
		Weight::from_parts(65_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	fn withdraw(u: u32) -> Weight {
		Weight::from_parts(70_000_000, 5_000)
			.saturating_add(Weight::from_parts(8_000_000, 2_500).saturating_mul(u.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
			.saturating_add(T::DbWeight::get().reads_writes(1_u64, 1_u64).saturating_mul(u.into()))
	}
	fn claim() -> Weight {
		Weight::from_parts(50_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn set_models(m: u32) -> Weight {
		Weight::from_parts(40_000_000, 5_000)
			.saturating_add(Weight::from_parts(6_000_000, 2_500).saturating_mul(m.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
			.saturating_add(T::DbWeight::get().reads(1_u64).saturating_mul(m.into()))
	}
	fn set_commission() -> Weight {
		Weight::from_parts(20_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn chill() -> Weight {
		Weight::from_parts(20_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn unchill() -> Weight {
		Weight::from_parts(20_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn deregister(m: u32) -> Weight {
		Weight::from_parts(60_000_000, 5_000)
			.saturating_add(Weight::from_parts(4_000_000, 2_500).saturating_mul(m.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
			.saturating_add(T::DbWeight::get().reads_writes(1_u64, 1_u64).saturating_mul(m.into()))
	}
	fn reward() -> Weight {
		Weight::from_parts(50_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn slash(b: u32, _d: u32) -> Weight {
		Weight::from_parts(60_000_000, 5_000)
			.saturating_add(Weight::from_parts(5_000_000, 2_500).saturating_mul(b.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
			.saturating_add(T::DbWeight::get().reads_writes(1_u64, 1_u64).saturating_mul(b.into()))
	}
	fn select(p: u32) -> Weight {
		Weight::from_parts(10_000_000, 5_000)
			.saturating_add(Weight::from_parts(3_000_000, 2_500).saturating_mul(p.into()))
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().reads(1_u64).saturating_mul(p.into()))
	}
}

// For tests.
impl WeightInfo for () {
	fn register_provider(m: u32) -> Weight {
		Weight::from_parts(60_000_000, 5_000)
			.saturating_add(Weight::from_parts(4_000_000, 2_500).saturating_mul(m.into()))
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
			.saturating_add(RocksDbWeight::get().reads_writes(1_u64, 1_u64).saturating_mul(m.into()))
	}
	fn bond_more() -> Weight {
		Weight::from_parts(55_000_000, 5_000)
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
	fn unbond() -> Weight {
		Weight::from_parts(50_000_000, 5_000)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	fn delegate(_d: u32) -> Weight {
		Weight::from_parts(60_000_000, 5_000)
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
	fn undelegate() -> Weight {
		Weight::from_parts(65_000_000, 5_000)
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
	}
	fn withdraw(u: u32) -> Weight {
		Weight::from_parts(70_000_000, 5_000)
			.saturating_add(Weight::from_parts(8_000_000, 2_500).saturating_mul(u.into()))
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
			.saturating_add(RocksDbWeight::get().reads_writes(1_u64, 1_u64).saturating_mul(u.into()))
	}
	fn claim() -> Weight {
		Weight::from_parts(50_000_000, 5_000)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	fn set_models(m: u32) -> Weight {
		Weight::from_parts(40_000_000, 5_000)
			.saturating_add(Weight::from_parts(6_000_000, 2_500).saturating_mul(m.into()))
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
			.saturating_add(RocksDbWeight::get().reads(1_u64).saturating_mul(m.into()))
	}
	fn set_commission() -> Weight {
		Weight::from_parts(20_000_000, 5_000)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn chill() -> Weight {
		Weight::from_parts(20_000_000, 5_000)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn unchill() -> Weight {
		Weight::from_parts(20_000_000, 5_000)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn deregister(m: u32) -> Weight {
		Weight::from_parts(60_000_000, 5_000)
			.saturating_add(Weight::from_parts(4_000_000, 2_500).saturating_mul(m.into()))
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
			.saturating_add(RocksDbWeight::get().reads_writes(1_u64, 1_u64).saturating_mul(m.into()))
	}
	fn reward() -> Weight {
		Weight::from_parts(50_000_000, 5_000)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	fn slash(b: u32, _d: u32) -> Weight {
		Weight::from_parts(60_000_000, 5_000)
			.saturating_add(Weight::from_parts(5_000_000, 2_500).saturating_mul(b.into()))
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
			.saturating_add(RocksDbWeight::get().reads_writes(1_u64, 1_u64).saturating_mul(b.into()))
	}
	fn select(p: u32) -> Weight {
		Weight::from_parts(10_000_000, 5_000)
			.saturating_add(Weight::from_parts(3_000_000, 2_500).saturating_mul(p.into()))
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().reads(1_u64).saturating_mul(p.into()))
	}
}
