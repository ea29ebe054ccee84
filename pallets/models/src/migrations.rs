//! Storage migrations of pallet-models.
//!
//! **v1 → v2** ([`v2::MigrateV1ToV2`]): specs gain `max_constant_bytes`, records gain `bounds`.
//! A model registered before has no declaration, so it is given the largest one,
//! `MaxConstantBytes`: the engine's node-wide constant limit, the only limit that applied to it
//! until now, so no model that ran before is refused after the upgrade. Its record deposit is
//! left as it was (the owner agreed to that deposit; holding more would need funds the owner
//! may not have). Its `bounds` are `None` (no attestation reported figures then), which gives
//! it the largest run bound (`Pallet::run_bound(None)`).
//!
//! **v2 → v3** ([`v3::MigrateV2ToV3`]): specs gain `execution`; every model registered before
//! is `Native` (the only class there was), so nothing about how it is served changes.
//!
//! Each is one pass over `Models` in the upgrade block: the chain holds few models; one with
//! many would need a multi-block migration.

use crate::{Config, Models, Pallet};
use alloc::vec::Vec;
use frame_support::{
	migrations::VersionedMigration,
	pallet_prelude::*,
	traits::{Get, UncheckedOnRuntimeUpgrade},
};

pub mod v2 {
	use super::*;

	/// The version 1 types, to decode what is stored.
	pub mod v1 {
		use crate::{
			AcceptanceRule, Availability, BalanceOf, ModelStatus, TensorSpecs, MAX_NAME_LEN,
		};
		use frame_support::{pallet_prelude::*, traits::ConstU32, BoundedVec};
		use frame_system::pallet_prelude::BlockNumberFor;

		/// `ModelSpec` of storage version 1 (no `max_constant_bytes`).
		#[derive(Encode, Decode, Clone, PartialEq, Debug)]
		pub struct ModelSpec<Balance, MaxRef: Get<u32>> {
			pub name: BoundedVec<u8, ConstU32<MAX_NAME_LEN>>,
			pub inputs: TensorSpecs,
			pub outputs: TensorSpecs,
			pub opset: u32,
			pub engine_version: u32,
			pub price_per_call: Balance,
			pub acceptance: AcceptanceRule,
			pub byte_size: u64,
			pub availability: Availability,
			pub reference_input: BoundedVec<u8, MaxRef>,
			pub reference_output: BoundedVec<u8, MaxRef>,
		}

		/// `ModelInfo` of storage version 1 (no `bounds`).
		#[derive(Encode, Decode, Clone, PartialEq, Debug)]
		pub struct ModelInfo<AccountId, Balance, BlockNumber, MaxRef: Get<u32>> {
			pub owner: AccountId,
			pub spec: ModelSpec<Balance, MaxRef>,
			pub status: ModelStatus<BlockNumber>,
			pub record_deposit: Balance,
			pub bytes_deposit: Balance,
			pub chunk_count: u32,
			pub chunks_received: u32,
			pub bytes_verified: bool,
		}

		/// A version 1 record with this runtime's types.
		pub type ModelInfoOf<T> = ModelInfo<
			<T as frame_system::Config>::AccountId,
			BalanceOf<T>,
			BlockNumberFor<T>,
			<T as crate::Config>::MaxReferenceSize,
		>;
	}

	/// The version 2 record of version 1 record `old`, declaring `max_constant_bytes`.
	pub fn upgrade<T: Config>(
		old: v1::ModelInfoOf<T>,
		max_constant_bytes: u64,
	) -> super::v3::v2::ModelInfoOf<T> {
		let s = old.spec;
		super::v3::v2::ModelInfo {
			owner: old.owner,
			spec: super::v3::v2::ModelSpec {
				name: s.name,
				inputs: s.inputs,
				outputs: s.outputs,
				opset: s.opset,
				engine_version: s.engine_version,
				price_per_call: s.price_per_call,
				acceptance: s.acceptance,
				byte_size: s.byte_size,
				max_constant_bytes,
				availability: s.availability,
				reference_input: s.reference_input,
				reference_output: s.reference_output,
			},
			status: old.status,
			record_deposit: old.record_deposit,
			bytes_deposit: old.bytes_deposit,
			chunk_count: old.chunk_count,
			chunks_received: old.chunks_received,
			bytes_verified: old.bytes_verified,
			bounds: None,
		}
	}

	/// Rewrites every record in the version 2 layout (see the module docs); run only through
	/// [`MigrateV1ToV2`], which checks and bumps the storage version.
	pub struct InnerMigrateV1ToV2<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV1ToV2<T> {
		fn on_runtime_upgrade() -> Weight {
			use frame_support::storage::unhashed;
			let declared = T::MaxConstantBytes::get();
			// Written in the version 2 layout, which is not `Models`' value type any more
			// (version 3 follows): raw reads and writes under the map's keys.
			let ids: Vec<_> = Models::<T>::iter_keys().collect();
			let mut translated = 0u64;
			for id in &ids {
				let key = Models::<T>::hashed_key_for(id);
				if let Some(old) = unhashed::get::<v1::ModelInfoOf<T>>(&key) {
					unhashed::put(&key, &upgrade::<T>(old, declared));
					translated = translated.saturating_add(1);
				}
			}
			let reads = u64::try_from(ids.len()).unwrap_or(u64::MAX);
			T::DbWeight::get().reads_writes(reads, translated)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			Ok((Models::<T>::iter_keys().count() as u64).encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			// Records are in the version 2 layout until the next migration: counted, and
			// checked whole after [`super::v3::MigrateV2ToV3`].
			let before = u64::decode(&mut &state[..]).map_err(|_| "bad pre_upgrade state")?;
			let after = Models::<T>::iter_keys().count() as u64;
			ensure!(before == after, "records lost in the migration");
			Ok(())
		}
	}

	/// Storage version 1 → 2 of pallet-models (in the runtime's `Migrations`).
	pub type MigrateV1ToV2<T> = VersionedMigration<
		1,
		2,
		InnerMigrateV1ToV2<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

pub mod v3 {
	use super::*;

	/// The version 2 types, to decode what is stored.
	pub mod v2 {
		use crate::{
			AcceptanceRule, Availability, BalanceOf, GraphBounds, ModelStatus, TensorSpecs,
			MAX_NAME_LEN,
		};
		use frame_support::{pallet_prelude::*, traits::ConstU32, BoundedVec};
		use frame_system::pallet_prelude::BlockNumberFor;

		/// `ModelSpec` of storage version 2 (no `execution`).
		#[derive(Encode, Decode, Clone, PartialEq, Debug)]
		pub struct ModelSpec<Balance, MaxRef: Get<u32>> {
			pub name: BoundedVec<u8, ConstU32<MAX_NAME_LEN>>,
			pub inputs: TensorSpecs,
			pub outputs: TensorSpecs,
			pub opset: u32,
			pub engine_version: u32,
			pub price_per_call: Balance,
			pub acceptance: AcceptanceRule,
			pub byte_size: u64,
			pub max_constant_bytes: u64,
			pub availability: Availability,
			pub reference_input: BoundedVec<u8, MaxRef>,
			pub reference_output: BoundedVec<u8, MaxRef>,
		}

		/// `ModelInfo` of storage version 2.
		#[derive(Encode, Decode, Clone, PartialEq, Debug)]
		pub struct ModelInfo<AccountId, Balance, BlockNumber, MaxRef: Get<u32>> {
			pub owner: AccountId,
			pub spec: ModelSpec<Balance, MaxRef>,
			pub status: ModelStatus<BlockNumber>,
			pub record_deposit: Balance,
			pub bytes_deposit: Balance,
			pub chunk_count: u32,
			pub chunks_received: u32,
			pub bytes_verified: bool,
			pub bounds: Option<GraphBounds>,
		}

		/// A version 2 record with this runtime's types.
		pub type ModelInfoOf<T> = ModelInfo<
			<T as frame_system::Config>::AccountId,
			BalanceOf<T>,
			BlockNumberFor<T>,
			<T as crate::Config>::MaxReferenceSize,
		>;
	}

	/// The version 3 record of version 2 record `old`: a `Native` model.
	pub fn upgrade<T: Config>(old: v2::ModelInfoOf<T>) -> crate::ModelInfoOf<T> {
		let s = old.spec;
		crate::ModelInfo {
			owner: old.owner,
			spec: crate::ModelSpec {
				name: s.name,
				inputs: s.inputs,
				outputs: s.outputs,
				opset: s.opset,
				engine_version: s.engine_version,
				price_per_call: s.price_per_call,
				acceptance: s.acceptance,
				execution: crate::ExecutionClass::Native,
				byte_size: s.byte_size,
				max_constant_bytes: s.max_constant_bytes,
				availability: s.availability,
				reference_input: s.reference_input,
				reference_output: s.reference_output,
			},
			status: old.status,
			record_deposit: old.record_deposit,
			bytes_deposit: old.bytes_deposit,
			chunk_count: old.chunk_count,
			chunks_received: old.chunks_received,
			bytes_verified: old.bytes_verified,
			bounds: old.bounds,
		}
	}

	/// Rewrites every record in the version 3 layout; run only through [`MigrateV2ToV3`],
	/// which checks and bumps the storage version.
	pub struct InnerMigrateV2ToV3<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV2ToV3<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut translated = 0u64;
			Models::<T>::translate::<v2::ModelInfoOf<T>, _>(|_, old| {
				translated = translated.saturating_add(1);
				Some(upgrade::<T>(old))
			});
			T::DbWeight::get().reads_writes(translated, translated)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			Ok((Models::<T>::iter_keys().count() as u64).encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let before = u64::decode(&mut &state[..]).map_err(|_| "bad pre_upgrade state")?;
			let after = Models::<T>::iter().count() as u64;
			ensure!(before == after, "records lost in the migration");
			Pallet::<T>::do_try_state()
		}
	}

	/// Storage version 2 → 3 of pallet-models (in the runtime's `Migrations`, after
	/// [`super::v2::MigrateV1ToV2`]).
	pub type MigrateV2ToV3<T> = VersionedMigration<
		2,
		3,
		InnerMigrateV2ToV3<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
