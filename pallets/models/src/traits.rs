//! The registry's side of the glue traits: [`ModelRegistry`] lives in `verity-primitives`
//! (implemented by this pallet's `Pallet`), and [`mock::MockModelRegistry`] serves other
//! pallets' mocks.

pub use verity_primitives::{ModelRegistry, ModelUsage};

#[cfg(feature = "std")]
pub mod mock {
	//! An in-memory registry for mocks.
	pub use verity_primitives::testing::MockModelRegistry;
}
