//! The interface between pallet-inference and pallet-disputes.
//!
//! pallet-disputes depends on this crate for [`InferenceForDisputes`] (challenge a result,
//! read what is judged, apply a verdict); pallet-inference reaches disputes only through
//! [`DisputeOpener`] (open a dispute without a challenger when redundant executors disagree),
//! which the runtime implements with pallet-disputes. Each has a `()` impl.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use pallet_models::ModelId;
use scale_info::TypeInfo;
use sp_runtime::{DispatchError, DispatchResult};

/// Identifier of an inference request, assigned in order from 0.
pub type RequestId = u64;

/// What a dispute judges: the posted outputs (*candidates*) of a request, in candidate order.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct DisputeSubject<AccountId> {
	/// The model that was run.
	pub model: ModelId,
	/// The providers whose outputs are judged, one per candidate, in candidate order. Never
	/// jurors of this dispute.
	pub accused: Vec<AccountId>,
}

/// The jury's decision, as pallet-disputes hands it to pallet-inference.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Verdict {
	/// `correct[i]`: whether candidate `i` agrees with the jury's re-execution under the
	/// model's acceptance rule (stake-weighted majority of revealed votes; a tie counts as
	/// correct). `jury_output` is the canonical output a majority juror computed, recorded as
	/// the request's result when no candidate is correct.
	Decided { correct: Vec<bool>, jury_output: Option<Vec<u8>> },
	/// Too little jury stake revealed a vote (or no juror could be chosen): no one is judged.
	NoQuorum,
}

/// How a concluded dispute ended for the request, for pallet-disputes' bookkeeping.
#[derive(
	Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum Conclusion {
	/// Every candidate was found correct: a challenger was wrong.
	AllCorrect,
	/// At least one candidate was wrong and its provider was slashed.
	SomeWrong,
	/// No quorum: nobody was judged.
	Undecided,
}

/// What pallet-disputes needs from pallet-inference.
pub trait InferenceForDisputes<AccountId> {
	/// Put a `Provisional` request under dispute on `challenger`'s challenge. Fails unless the
	/// request exists, is `Provisional` and its challenge window is open.
	fn begin_challenge(
		request: RequestId,
		challenger: &AccountId,
	) -> Result<DisputeSubject<AccountId>, DispatchError>;

	/// The canonical input of a request under dispute (jurors re-execute on it).
	fn input(request: RequestId) -> Option<Vec<u8>>;

	/// The candidates' canonical outputs, in candidate order.
	fn candidates(request: RequestId) -> Vec<Vec<u8>>;

	/// Apply the verdict of the dispute on `request`: pay correct executors, slash wrong ones
	/// (the slashed stake goes to `beneficiary`, burned when `None`), refund the requester
	/// where no candidate is correct, record the result and finalize the request. Infallible:
	/// a request that is no longer disputed is left alone (`Undecided`).
	fn conclude(request: RequestId, verdict: Verdict, beneficiary: Option<&AccountId>)
		-> Conclusion;
}

/// What pallet-inference needs from pallet-disputes.
pub trait DisputeOpener<AccountId> {
	/// Open a dispute on `request` without a challenger (redundant executors disagreed).
	fn open(request: RequestId, subject: DisputeSubject<AccountId>) -> DispatchResult;
}

impl<AccountId> DisputeOpener<AccountId> for () {
	fn open(_: RequestId, _: DisputeSubject<AccountId>) -> DispatchResult {
		Err(DispatchError::Other("no dispute pallet"))
	}
}

impl<AccountId> InferenceForDisputes<AccountId> for () {
	fn begin_challenge(_: RequestId, _: &AccountId) -> Result<DisputeSubject<AccountId>, DispatchError> {
		Err(DispatchError::Other("no inference pallet"))
	}
	fn input(_: RequestId) -> Option<Vec<u8>> {
		None
	}
	fn candidates(_: RequestId) -> Vec<Vec<u8>> {
		Vec::new()
	}
	fn conclude(_: RequestId, _: Verdict, _: Option<&AccountId>) -> Conclusion {
		Conclusion::Undecided
	}
}
