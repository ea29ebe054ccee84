//! The interface between pallet-inference and pallet-disputes, in `verity-primitives`.
//!
//! pallet-disputes reaches this pallet through [`InferenceForDisputes`] (challenge a result,
//! read what is judged, apply a verdict); this pallet reaches disputes only through
//! [`DisputeOpener`] (open a dispute without a challenger when redundant executors disagree),
//! which the runtime implements with pallet-disputes.

pub use verity_primitives::{
	Conclusion, DisputeOpener, DisputeSubject, InferenceForDisputes, RequestId, Settlement,
	Slashed, Verdict,
};
