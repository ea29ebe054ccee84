//! Records of open disputes, bounded by the pallet's `Config` maxima.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;
use sp_core::H256;
use verity_primitives::ModelId;

/// A juror's opened vote: one verdict per candidate and the hash of its own output.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(MaxCandidates))]
pub struct Reveal<MaxCandidates: Get<u32>> {
	/// `verdicts[i]`: whether candidate `i` agrees with the juror's re-execution.
	pub verdicts: BoundedVec<bool, MaxCandidates>,
	/// `blake2_256` of the canonical output the juror computed.
	pub output_hash: H256,
}

/// One juror of a dispute and its vote so far.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(MaxCandidates))]
pub struct JurorVote<AccountId: Clone + Eq + Debug, MaxCandidates: Get<u32>> {
	/// The provider sitting on the jury (it votes through its executor key).
	pub provider: AccountId,
	/// Its stake weight when the jury was selected; later stake changes do not move the tally.
	pub weight: u128,
	/// `blake2_256(SCALE((verdicts, output_hash, salt)))`, once committed.
	pub commitment: Option<H256>,
	/// The opened vote, once revealed (only after a commitment).
	pub reveal: Option<Reveal<MaxCandidates>>,
}

/// An open dispute.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(MaxCandidates, MaxJurors))]
pub struct DisputeInfo<AccountId, Balance, BlockNumber, MaxCandidates, MaxJurors>
where
	AccountId: Clone + Eq + Debug,
	Balance: Clone + Eq + Debug,
	BlockNumber: Clone + Eq + Debug,
	MaxCandidates: Get<u32>,
	MaxJurors: Get<u32>,
{
	/// Who challenged the result; `None` when pallet-inference opened the dispute itself
	/// (redundant executors disagreed).
	pub challenger: Option<AccountId>,
	/// The challenger's bond, held under `HoldReason::ChallengeBond` (zero without challenger).
	pub bond: Balance,
	/// Providers whose outputs are judged, one per candidate, in candidate order.
	pub accused: BoundedVec<AccountId, MaxCandidates>,
	/// The model whose providers judge.
	pub model: ModelId,
	/// The jury, in selection order. Never contains an accused provider or the challenger.
	/// Empty until drawn.
	pub jurors: BoundedVec<JurorVote<AccountId, MaxCandidates>, MaxJurors>,
	/// Whether the jury was drawn. Until then `commit_end`, `reveal_end` and `tally_at` are
	/// the block whose `on_initialize` draws it.
	pub drawn: bool,
	/// First block in which commitments are refused (commit phase: `[opened, commit_end)`).
	pub commit_end: BlockNumber,
	/// First block in which reveals are refused (reveal phase: `[commit_end, reveal_end)`).
	pub reveal_end: BlockNumber,
	/// Block whose `on_initialize` tallies the dispute: `reveal_end`, or later when that
	/// block's tally queue was full.
	pub tally_at: BlockNumber,
}

/// The output kept for a verdict vector: the highest-stake revealer's among those who voted
/// exactly that vector (first revealer on equal stake).
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(MaxOutputLen))]
pub struct JuryOutput<AccountId: Clone + Eq + Debug, MaxOutputLen: Get<u32>> {
	/// The provider whose output this is.
	pub juror: AccountId,
	/// Its stake weight.
	pub weight: u128,
	/// Its canonical output.
	pub output: BoundedVec<u8, MaxOutputLen>,
}

/// What a juror's off-chain worker has to do now (see [`crate::Pallet::juror_duties`]).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Duty<BlockNumber> {
	/// Re-execute and submit `commit` before block `until`.
	Commit { until: BlockNumber },
	/// Submit `reveal` (with the committed verdicts, output and salt) before block `until`.
	Reveal { until: BlockNumber },
}

/// How a dispute ended, as reported in events: pallet-inference's `Conclusion`, mirrored
/// because events need `DecodeWithMemTracking`, which `Conclusion` does not derive.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Outcome {
	/// Every candidate was found correct: a challenger was wrong.
	AllCorrect,
	/// At least one candidate was wrong and its provider was slashed.
	SomeWrong,
	/// No quorum (or no jury): nobody was judged.
	Undecided,
}

impl From<verity_primitives::Conclusion> for Outcome {
	fn from(c: verity_primitives::Conclusion) -> Self {
		match c {
			verity_primitives::Conclusion::AllCorrect => Self::AllCorrect,
			verity_primitives::Conclusion::SomeWrong => Self::SomeWrong,
			verity_primitives::Conclusion::Undecided => Self::Undecided,
		}
	}
}
