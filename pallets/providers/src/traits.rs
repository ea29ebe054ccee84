//! The glue traits this pallet implements (rewarding, slashing, selecting executors and
//! juries); they live in `verity-primitives` so that other pallets need not depend on this one.

pub use verity_primitives::{ExecutorSelection, JurySelection, Rewards, Slash};
