//! The glue traits between the Verity pallets. Each pallet implements its side and names the
//! others only through these, in its `Config`; each trait has a `()` impl for mocks that do not
//! care.
//!
//! - [`ModelRegistry`]: pallet-models, read by providers, inference and disputes;
//! - [`Rewards`], [`Slash`], [`ExecutorSelection`], [`JurySelection`]: pallet-providers;
//! - [`InferenceForDisputes`]: pallet-inference, for pallet-disputes;
//! - [`ModelUsage`]: pallet-inference, for pallet-models (a model in use is not reaped);
//! - [`DisputeOpener`]: pallet-disputes, for pallet-inference (redundant executors disagreed).

use crate::types::*;
use alloc::vec::Vec;
use sp_core::H256;
use sp_runtime::{DispatchError, DispatchResult, Perbill};
use verity_host::{HostError, Purpose};

/// Read access to the model registry.
pub trait ModelRegistry<AccountId, Balance> {
	/// What callers need to check an input and judge an output; `None` for an unknown model.
	fn model(model: &ModelId) -> Option<ModelView<AccountId, Balance>>;

	/// Whether the model accepts new requests (registered, certified, not retired).
	fn is_active(model: &ModelId) -> bool {
		Self::model(model).map(|m| m.active).unwrap_or(false)
	}

	/// Whether requests already made may still run the model: executors and juries are drawn
	/// for it and its bytes are kept. True while it is active, and after retirement until it
	/// is reaped (which waits until no request of it is open, see [`ModelUsage`]).
	fn is_servable(model: &ModelId) -> bool {
		Self::is_active(model)
	}

	/// The account that receives the royalty.
	fn owner(model: &ModelId) -> Option<AccountId> {
		Self::model(model).map(|m| m.owner)
	}

	/// Royalty per call.
	fn price(model: &ModelId) -> Option<Balance> {
		Self::model(model).map(|m| m.price_per_call)
	}

	/// How outputs of the model are compared.
	fn acceptance_rule(model: &ModelId) -> Option<AcceptanceRule> {
		Self::model(model).map(|m| m.acceptance)
	}

	/// The figures of `model` for running it inside a block: `Some` only for an active model
	/// of execution class `Deterministic` whose bytes are on chain (verified) and whose FLOPs
	/// were attested.
	fn in_block_figures(_model: &ModelId) -> Option<InBlockFigures> {
		None
	}

	/// The ONNX bytes of a model for which [`ModelRegistry::in_block_figures`] is `Some`, read
	/// from chain storage (block execution may use them: every node has them).
	fn in_block_bytes(_model: &ModelId) -> Option<Vec<u8>> {
		None
	}

	/// Off-chain workers only: run `model` on canonical `input` through the node's engine for
	/// `purpose`, first putting the model's bytes into the node's model store (from on-chain
	/// chunks, or from the first of its URIs that serves bytes with the right hash).
	/// `max_output` bounds the output buffer.
	fn run_offchain(
		model: &ModelId,
		input: &[u8],
		max_output: u32,
		purpose: Purpose,
	) -> Result<Vec<u8>, HostError>;
}

/// No models at all.
impl<AccountId, Balance> ModelRegistry<AccountId, Balance> for () {
	fn model(_: &ModelId) -> Option<ModelView<AccountId, Balance>> {
		None
	}
	fn run_offchain(_: &ModelId, _: &[u8], _: u32, _: Purpose) -> Result<Vec<u8>, HostError> {
		Err(HostError::ModelNotFound)
	}
}

/// How much a model is still in use (pallet-inference, for pallet-models): a model with open
/// requests (disputes included) keeps its bytes and cannot be reaped, so retiring it cannot void
/// a dispute or strand a request.
pub trait ModelUsage {
	/// Requests of `model` that have not ended (assigned, provisional or disputed).
	fn open_requests(model: &ModelId) -> u32;
}

/// Nothing is ever in use.
impl ModelUsage for () {
	fn open_requests(_: &ModelId) -> u32 {
		0
	}
}

/// Pay providers and their delegators.
pub trait Rewards<AccountId, Balance> {
	/// Move `amount` from `payer`'s free balance (which may be emptied) to `provider`'s pool:
	/// the commission to the provider, the rest to every active staker pro rata, claimable
	/// with `claim`. Fails if the provider is unknown or the payer cannot pay.
	fn reward(payer: &AccountId, provider: &AccountId, amount: Balance) -> DispatchResult;
}

impl<AccountId, Balance> Rewards<AccountId, Balance> for () {
	fn reward(_: &AccountId, _: &AccountId, _: Balance) -> DispatchResult {
		Err(DispatchError::Other("no rewards"))
	}
}

/// Take stake from a provider and everyone who delegated to it.
pub trait Slash<AccountId, Balance> {
	/// Slash `fraction` of `provider`'s active stake and of every unbonding bucket not yet
	/// withdrawable (self-bond and delegations alike, pro rata, in constant time) and burn it.
	/// Nobody receives slashed stake directly: whoever could report a provider could be that
	/// provider in disguise (see `docs/security.md`); rewards funded by slashes are paid by the
	/// caller, bounded by [`Slashed::own`]. Returns what was taken (zero for an unknown
	/// provider).
	fn slash(provider: &AccountId, fraction: Perbill) -> Slashed<Balance>;
}

impl<AccountId, Balance: Default> Slash<AccountId, Balance> for () {
	fn slash(_: &AccountId, _: Perbill) -> Slashed<Balance> {
		Slashed::default()
	}
}

/// Choose executors for a request.
pub trait ExecutorSelection<AccountId> {
	/// Up to `count` distinct providers serving `model`, drawn without replacement with
	/// probability proportional to active stake, deterministically from `seed`. Only active
	/// providers with at least the minimum stake, not in `exclude`, and only for an active
	/// model.
	fn select(model: &ModelId, count: u32, seed: H256, exclude: &[AccountId]) -> Vec<AccountId>;

	/// An upper bound of the weight of one `select` (of any `count`, on any model): callers
	/// that select in a hook charge it there.
	fn select_weight() -> frame_support::weights::Weight;

	/// The executor key of `provider`.
	fn executor_of(provider: &AccountId) -> Option<AccountId>;

	/// The provider whose executor key is `executor`.
	fn provider_of(executor: &AccountId) -> Option<AccountId>;

	/// `provider`'s active stake (self-bond plus delegations) as a voting weight; 0 for an
	/// unknown provider.
	fn stake_weight(provider: &AccountId) -> u128;
}

impl<AccountId> ExecutorSelection<AccountId> for () {
	fn select(_: &ModelId, _: u32, _: H256, _: &[AccountId]) -> Vec<AccountId> {
		Vec::new()
	}
	fn select_weight() -> frame_support::weights::Weight {
		frame_support::weights::Weight::zero()
	}
	fn executor_of(_: &AccountId) -> Option<AccountId> {
		None
	}
	fn provider_of(_: &AccountId) -> Option<AccountId> {
		None
	}
	fn stake_weight(_: &AccountId) -> u128 {
		0
	}
}

/// Draw juries. A separate trait from [`ExecutorSelection`] so that a jury can be drawn
/// differently from executors (other randomness, other eligibility) without touching
/// assignment.
pub trait JurySelection<AccountId>: ExecutorSelection<AccountId> {
	/// A jury for a dispute over `model`: eligible providers of the model not in `exclude`,
	/// each with its voting weight, drawn from `seed`. When at most `count` providers are
	/// eligible, all of them sit, each weighing its stake (the exact stake majority). Otherwise
	/// `count` seats are drawn independently with probability proportional to stake (with
	/// replacement), and each juror weighs its number of seats: a coalition's seat count is
	/// then Binomial(`count`, its share of stake) however it splits that stake over accounts.
	/// Empty when no provider is eligible.
	fn draw_jury(
		model: &ModelId,
		count: u32,
		seed: H256,
		exclude: &[AccountId],
	) -> Vec<(AccountId, u128)>;
}

impl<AccountId> JurySelection<AccountId> for () {
	fn draw_jury(_: &ModelId, _: u32, _: H256, _: &[AccountId]) -> Vec<(AccountId, u128)> {
		Vec::new()
	}
}

/// What pallet-disputes needs from pallet-inference.
pub trait InferenceForDisputes<AccountId, Balance> {
	/// Put a `Provisional` request under dispute on `challenger`'s challenge. Fails unless the
	/// request exists, is `Provisional` and its challenge window is open.
	fn begin_challenge(
		request: RequestId,
		challenger: &AccountId,
	) -> Result<DisputeSubject<AccountId>, DispatchError>;

	/// The canonical input of a request under dispute (jurors re-execute on it).
	fn input(request: RequestId) -> Option<Vec<u8>>;

	/// The model a request runs.
	fn model(request: RequestId) -> Option<ModelId>;

	/// The candidates' canonical outputs, in candidate order.
	fn candidates(request: RequestId) -> Vec<Vec<u8>>;

	/// Apply the verdict of the dispute on `request`: pay correct executors, slash wrong ones
	/// (burned; the returned [`Settlement`] says how much, so the caller can fund bounded
	/// rewards), refund the requester where no candidate is correct, record the result and
	/// finalize the request. Infallible: a request that is no longer disputed is left alone
	/// (`Undecided`, nothing slashed).
	fn conclude(request: RequestId, verdict: Verdict) -> Settlement<Balance>;
}

/// What pallet-inference needs from pallet-disputes.
pub trait DisputeOpener<AccountId> {
	/// Open a dispute on `request` without a bond: redundant executors disagreed (`raised_by`
	/// is `None`), or the auditor `raised_by` (a provider) found the result wrong. The auditor
	/// is kept off the jury and rewarded like a challenger if the result is wrong; its penalty
	/// for a false alarm is the inference pallet's.
	fn open(
		request: RequestId,
		subject: DisputeSubject<AccountId>,
		raised_by: Option<AccountId>,
	) -> DispatchResult;
}

impl<AccountId> DisputeOpener<AccountId> for () {
	fn open(_: RequestId, _: DisputeSubject<AccountId>, _: Option<AccountId>) -> DispatchResult {
		Err(DispatchError::Other("no dispute pallet"))
	}
}

impl<AccountId, Balance: Default> InferenceForDisputes<AccountId, Balance> for () {
	fn begin_challenge(
		_: RequestId,
		_: &AccountId,
	) -> Result<DisputeSubject<AccountId>, DispatchError> {
		Err(DispatchError::Other("no inference pallet"))
	}
	fn input(_: RequestId) -> Option<Vec<u8>> {
		None
	}
	fn model(_: RequestId) -> Option<ModelId> {
		None
	}
	fn candidates(_: RequestId) -> Vec<Vec<u8>> {
		Vec::new()
	}
	fn conclude(_: RequestId, _: Verdict) -> Settlement<Balance> {
		Settlement { conclusion: Conclusion::Undecided, slashed: Slashed::default() }
	}
}
