//! Types of pallet-inference: policies, the request record, posted results and receipts.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;
use sp_core::H256;
use verity_primitives::ModelId;

pub use crate::traits::RequestId;

/// Domain tag of receipt messages.
pub const RECEIPT_DOMAIN: &[u8] = b"verity/receipt";

/// Version byte of the receipt format, after [`RECEIPT_DOMAIN`]. Version 1
/// (`"verity/receipt/v1"`, no chain in the message) is no longer accepted anywhere.
pub const RECEIPT_VERSION: u8 = 2;

/// Length of a receipt message's preimage: domain, version, genesis hash, request id, model,
/// input and output hashes.
const RECEIPT_PREIMAGE_LEN: usize = 14 + 1 + 32 + 8 + 32 + 32 + 32;
const _: () = assert!(RECEIPT_DOMAIN.len() == 14);

/// The message an executor signs for a result: `keccak256(RECEIPT_DOMAIN ++ RECEIPT_VERSION ++
/// genesis ++ request (u64 big-endian) ++ model ++ input_hash ++ output_hash)`, which in
/// Solidity is
///
/// ```text
/// keccak256(abi.encodePacked("verity/receipt", uint8(2), bytes32 genesisHash, uint64 requestId,
///                            bytes32 model, bytes32 inputHash, bytes32 outputHash))
/// ```
///
/// `genesis` is the hash of the chain's genesis block ([`verity_primitives::genesis_hash`]):
/// an EVM verifier pins the genesis hash of the chain it trusts, so a receipt from a test
/// network or a fork with the same request ids, models and inputs does not verify there. Any
/// EVM chain checks the 65-byte signature `r ++ s ++ v` over the message with `ecrecover`
/// (`v + 27`) against the executor's Ethereum address; the chain accepts only low-`s`
/// signatures ([`verity_primitives::is_canonical_signature`]). The hashes are the chain's
/// blake2-256 commitments of the canonical input and output.
pub fn receipt_message(
	genesis: &H256,
	request: RequestId,
	model: &ModelId,
	input_hash: &H256,
	output_hash: &H256,
) -> [u8; 32] {
	let mut m = alloc::vec::Vec::with_capacity(RECEIPT_PREIMAGE_LEN);
	m.extend_from_slice(RECEIPT_DOMAIN);
	m.push(RECEIPT_VERSION);
	m.extend_from_slice(genesis.as_bytes());
	m.extend_from_slice(&request.to_be_bytes());
	m.extend_from_slice(model.as_bytes());
	m.extend_from_slice(input_hash.as_bytes());
	m.extend_from_slice(output_hash.as_bytes());
	sp_io::hashing::keccak_256(&m)
}

/// A 65-byte secp256k1 signature `r ++ s ++ v`; the chain accepts only low `s` and `v` 0 or 1.
pub type ReceiptSignature = [u8; 65];

/// How a request is executed.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub enum Policy {
	/// One executor; its result is provisional for the challenge window.
	Optimistic,
	/// `k` executors (2 to `MaxRedundancy`); agreement under the model's rule finalizes at
	/// once, disagreement opens a dispute.
	Redundant(u32),
}

impl Policy {
	/// Number of executors.
	pub fn executors(&self) -> u32 {
		match self {
			Policy::Optimistic => 1,
			Policy::Redundant(k) => *k,
		}
	}
}

/// Why a request's fee went back to the requester.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub enum RefundReason {
	/// Every assignment ran out (missed deadlines or reported failures) without a result.
	NoResult,
	/// The jury found every posted output wrong.
	NoCorrectResult,
	/// Redundant executors disagreed and no dispute could be opened, or the dispute ended
	/// without quorum.
	Undecided,
}

/// Where a request is in its life cycle.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub enum RequestStatus<BlockNumber> {
	/// Waiting for its executors (all, or a reassigned one), drawn in `on_initialize` of `at`.
	Drawing { at: BlockNumber },
	/// Waiting for the assigned executors' results until `deadline` (exclusive).
	Assigned { deadline: BlockNumber },
	/// A result is posted and can be challenged until `until` (exclusive).
	Provisional { until: BlockNumber },
	/// Under dispute; pallet-disputes concludes it.
	Disputed,
	/// Final: the result is in `Request::outcome` and the fee was paid out.
	Finalized { at: BlockNumber },
	/// Final without a paid result: the fee went back to the requester.
	Refunded { at: BlockNumber, reason: RefundReason },
}

impl<B: Copy> RequestStatus<B> {
	/// The block a final request ended at.
	pub fn ended_at(&self) -> Option<B> {
		match self {
			RequestStatus::Finalized { at } | RequestStatus::Refunded { at, .. } => Some(*at),
			_ => None,
		}
	}
}

/// Which output a finalized request settled on.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub struct Outcome {
	/// The executor slot whose posted output is the result, or `None` for the jury's output
	/// (in `JuryOutputs`).
	pub slot: Option<u32>,
	/// blake2-256 of the canonical output.
	pub output_hash: H256,
}

/// One assigned executor.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Assignment<AccountId> {
	/// The provider whose stake backs the result.
	pub provider: AccountId,
	/// The provider's executor key at assignment time: the only account that may post.
	pub executor: AccountId,
}

/// An inference request.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(MaxInput, MaxExecutors, MaxAttempts))]
#[codec(mel_bound(AccountId: MaxEncodedLen, Balance: MaxEncodedLen, BlockNumber: MaxEncodedLen))]
pub struct Request<
	AccountId,
	Balance,
	BlockNumber,
	MaxInput: Get<u32>,
	MaxExecutors: Get<u32>,
	MaxAttempts: Get<u32>,
> where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// Who pays, and gets refunds.
	pub requester: AccountId,
	/// The model to run.
	pub model: ModelId,
	/// Canonical input tensors, checked against the model's input specs.
	pub input: BoundedVec<u8, MaxInput>,
	/// blake2-256 of `input`, part of every receipt.
	pub input_hash: H256,
	/// Execution policy.
	pub policy: Policy,
	/// Owner royalty (the model's price per call at request time).
	pub royalty: Balance,
	/// Fee per executor (`ExecutionFee` at request time).
	pub execution_fee: Balance,
	/// Amount held from the requester for this request now.
	pub held: Balance,
	/// The assigned executors, one per slot.
	pub executors: BoundedVec<Assignment<AccountId>, MaxExecutors>,
	/// Slots still expected to post (neither posted, failed nor timed out).
	pub pending: u32,
	/// Providers of earlier assignment rounds (an optimistic request is reassigned after a
	/// missed deadline or a reported failure, never to a provider that already had it).
	pub tried: BoundedVec<AccountId, MaxAttempts>,
	/// Life-cycle state.
	pub status: RequestStatus<BlockNumber>,
	/// The settled result, once final.
	pub outcome: Option<Outcome>,
	/// Block the request was made in.
	pub created: BlockNumber,
	/// `Redundant`: the slot of the first output posted. Each later output is compared with it
	/// under the model's acceptance rule when it is posted, so settling a round (possibly in
	/// `on_initialize`, at a deadline) never compares outputs.
	pub reference: Option<u32>,
	/// `Redundant`: an output posted so far disagreed with the reference output.
	pub disagreement: bool,
}

/// What the read API (`Pallet::request_info`) shows of a request: the record with its input as
/// tensors.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct RequestView<AccountId, Balance, BlockNumber> {
	/// Who pays, and gets refunds.
	pub requester: AccountId,
	/// The model run.
	pub model: ModelId,
	/// The input tensors.
	pub input: Vec<verity_engine::Tensor>,
	/// blake2-256 of the canonical input, part of every receipt.
	pub input_hash: H256,
	/// Execution policy.
	pub policy: Policy,
	/// Life-cycle state.
	pub status: RequestStatus<BlockNumber>,
	/// The assigned executors, one per slot.
	pub executors: Vec<Assignment<AccountId>>,
	/// Amount held from the requester for it now.
	pub held: Balance,
	/// Owner royalty.
	pub royalty: Balance,
	/// Fee per executor.
	pub execution_fee: Balance,
	/// The settled result, once final.
	pub outcome: Option<Outcome>,
	/// Block it was made in.
	pub created: BlockNumber,
}

/// A receipt as the read API shows it, with what a verifier needs.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ReceiptView<AccountId> {
	/// The executor's signature, `r ++ s ++ v`.
	pub signature: ReceiptSignature,
	/// The signed message, [`receipt_message`].
	pub message: [u8; 32],
	/// The Ethereum address `ecrecover(message, signature)` returns (`None`: invalid).
	pub signer_address: Option<[u8; 20]>,
	/// The executor account assigned to the slot.
	pub executor: Option<AccountId>,
}

/// What the read API (`Pallet::result_info`) shows of a request's result.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ResultView<AccountId> {
	/// The output tensors.
	pub output: Vec<verity_engine::Tensor>,
	/// blake2-256 of the canonical output.
	pub output_hash: H256,
	/// The provider whose executor posted it; `None` for a jury's output.
	pub provider: Option<AccountId>,
	/// The executor's receipt; `None` for a jury's output.
	pub receipt: Option<ReceiptView<AccountId>>,
	/// Whether the request is finalized on it.
	pub settled: bool,
}

/// A result posted by an executor.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(MaxOutput))]
#[codec(mel_bound(AccountId: MaxEncodedLen, BlockNumber: MaxEncodedLen))]
pub struct ResultRecord<AccountId, BlockNumber, MaxOutput: Get<u32>>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// The provider whose executor posted it.
	pub provider: AccountId,
	/// Canonical output tensors, checked against the model's output specs.
	pub output: BoundedVec<u8, MaxOutput>,
	/// blake2-256 of `output`.
	pub output_hash: H256,
	/// The executor's secp256k1 signature over [`receipt_message`].
	pub receipt: ReceiptSignature,
	/// Block it was posted in.
	pub at: BlockNumber,
}

/// Checks receipts: whether `signature` over `message` was made by the key behind `signer`
/// (the executor keys' verifier of `verity-primitives`).
pub use verity_primitives::ExecutorSignatureVerifier as ReceiptVerifier;

/// Receipts signed with the secp256k1 key whose account is `blake2_256(compressed public
/// key)`: the account of an ECDSA `MultiSigner`, so an executor key signs both its
/// transactions and its receipts.
pub use verity_primitives::EcdsaExecutorSignatures as EcdsaReceipts;

/// The Ethereum address of the key that signed a receipt (what `ecrecover` returns), if the
/// signature is valid.
pub fn receipt_signer_address(
	message: &[u8; 32],
	signature: &ReceiptSignature,
) -> Option<[u8; 20]> {
	let public = sp_io::crypto::secp256k1_ecdsa_recover(signature, message).ok()?;
	let hash = sp_io::hashing::keccak_256(&public);
	let mut address = [0u8; 20];
	address.copy_from_slice(hash.get(12..)?);
	Some(address)
}

/// What an auditor found when it re-executed a provisional result (the `audit` call).
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub enum AuditFinding {
	/// Its own output agrees with the provisional one under the model's acceptance rule.
	Agrees,
	/// Its own output disagrees: a dispute opens, raised by the auditor.
	Disagrees,
	/// It cannot run the model (bytes unavailable, over its limits): counted like an
	/// executor's failure report, free up to `FreeFailures` a window; another auditor is
	/// drawn if the window leaves time for one.
	CannotRun,
}

/// The audit of a provisional result (see the crate docs, "Audits").
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub enum Audit<AccountId, BlockNumber> {
	/// Whether the result is sampled, and who audits it, is drawn in `on_initialize` of `at`
	/// from randomness revealed after the result was posted.
	Drawing { at: BlockNumber },
	/// `provider`'s executor key `executor` must report before the challenge window closes.
	Assigned { provider: AccountId, executor: AccountId },
	/// `provider` reported that the result agrees with its own output: it is paid its share
	/// when the result is final, and slashed if a jury later finds the result wrong.
	Agreed { provider: AccountId },
	/// `provider` reported a disagreement and the dispute it raised is open: it is slashed if
	/// the jury upholds the result.
	Alarmed { provider: AccountId },
	/// `declined` reported `CannotRun`: another auditor (not `declined`, none of the
	/// executors) is drawn in `on_initialize` of `at`, from randomness revealed after the
	/// report. The result stays sampled.
	Redrawing { at: BlockNumber, declined: AccountId },
}
