//! The disputes pallet's off-chain duty: a drawn juror **judges**.
//!
//! For every executor key (`Config::ExecutorId`) in the node's keystore whose provider sits on
//! a jury ([`Pallet::juror_duties`]):
//! - in the commit phase the worker re-executes the request's model on its input
//!   ([`ModelRegistry::run_offchain`], [`Purpose::Judge`]), decides for every candidate output
//!   whether it agrees with its own under the model's acceptance rule, keeps
//!   `(verdicts, output, salt)` in offchain local storage and commits
//!   [`Pallet::commitment_of`] `(juror, request, verdicts, output, salt)`;
//! - in the reveal phase it reveals what it kept.
//!
//! The salt is the node's offchain randomness, so other jurors cannot guess a commitment from
//! the candidates. Each step is claimed in offchain storage so that overlapping worker runs
//! submit it once; a busy engine leaves the commit for the next block.

use crate::{Call, Config, Duty, OutputOf, Pallet, VerdictsOf};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::traits::Get;
use frame_system::offchain::Signer;
use sp_runtime::offchain::storage::StorageValueRef;
use verity_host::{HostError, Purpose};
use verity_primitives::offchain;
use verity_primitives::{ExecutorSelection, InferenceForDisputes, ModelRegistry, RequestId};

const LOG: &str = "verity::worker";

/// A juror's vote, kept in offchain local storage between commit and reveal.
#[derive(Encode, Decode, Clone, PartialEq, Debug)]
pub struct Vote {
	/// One verdict per candidate, in candidate order.
	pub verdicts: Vec<bool>,
	/// The juror's own canonical output.
	pub output: Vec<u8>,
	/// The commitment's salt.
	pub salt: [u8; 32],
}

/// Offchain storage key of the vote `who` keeps for dispute `id`.
pub fn vote_key(id: RequestId, who: &impl Encode) -> Vec<u8> {
	(b"verity::vote", id, who).encode()
}

/// The judge duty, run by the pallet's `offchain_worker` hook at block `now`.
pub fn judge_disputes<T: Config>(now: u32) {
	for account in Signer::<T, T::ExecutorId>::keystore_accounts() {
		let Some(provider) = T::Jury::provider_of(&account.id) else { continue };
		for (id, duty) in Pallet::<T>::juror_duties(&provider) {
			let call = match duty {
				Duty::Commit { .. } => {
					if !offchain::claim(b"commit", &id, &account.id, now) {
						continue;
					}
					match commit_call::<T>(id, &account.id) {
						Ok(call) => call,
						Err(e) => {
							log::warn!(target: LOG, "dispute {id}: cannot re-execute: {e:?}");
							if e == HostError::Busy {
								offchain::unclaim(b"commit", &id, &account.id);
							}
							continue;
						},
					}
				},
				Duty::Reveal { .. } => {
					if !offchain::claim(b"reveal", &id, &account.id, now) {
						continue;
					}
					let Some(call) = reveal_call::<T>(id, &account.id) else { continue };
					call
				},
			};
			let duty = match call {
				Call::commit { .. } => verity_host::Duty::VoteCommit,
				_ => verity_host::Duty::VoteReveal,
			};
			if offchain::send_signed::<T, T::ExecutorId, _>(&account.public, call) {
				verity_host::record_duty(duty);
			} else {
				log::warn!(target: LOG, "dispute {id}: transaction not accepted by the pool");
			}
		}
	}
}

/// Re-execute, judge every candidate, keep the vote and build `commit`. A retry (the first
/// commit had not landed `RETRY_AFTER` blocks later) commits the vote already kept: a fresh salt
/// would leave the node unable to reveal whichever of the two commits lands first.
fn commit_call<T: Config>(id: RequestId, who: &T::AccountId) -> Result<Call<T>, HostError> {
	let juror = T::Jury::provider_of(who).ok_or(HostError::InvalidInput)?;
	if let Ok(Some(vote)) = StorageValueRef::persistent(&vote_key(id, who)).get::<Vote>() {
		let commitment =
			Pallet::<T>::commitment_of(&juror, id, &vote.verdicts, &vote.output, &vote.salt);
		log::info!(target: LOG, "dispute {id}: committing the kept verdicts {:?} again", vote.verdicts);
		return Ok(Call::<T>::commit { request: id, commitment });
	}
	let model = T::Inference::model(id).ok_or(HostError::ModelNotFound)?;
	let input = T::Inference::input(id).ok_or(HostError::InvalidInput)?;
	let ours = T::Models::run_offchain(&model, &input, T::MaxOutputLen::get(), Purpose::Judge)?;
	let rule = T::Models::acceptance_rule(&model);
	let verdicts: Vec<bool> = T::Inference::candidates(id)
		.iter()
		.map(|c| rule.as_ref().is_some_and(|rule| verity_engine::agrees_encoded(rule, &ours, c)))
		.collect();
	let salt = sp_io::offchain::random_seed();
	let commitment = Pallet::<T>::commitment_of(&juror, id, &verdicts, &ours, &salt);
	log::info!(target: LOG, "dispute {id}: committing verdicts {verdicts:?}");
	StorageValueRef::persistent(&vote_key(id, who)).set(&Vote { verdicts, output: ours, salt });
	Ok(Call::<T>::commit { request: id, commitment })
}

/// `reveal` of the kept vote; `None` when none is kept (this node did not commit it).
fn reveal_call<T: Config>(id: RequestId, who: &T::AccountId) -> Option<Call<T>> {
	let Ok(Some(vote)) = StorageValueRef::persistent(&vote_key(id, who)).get::<Vote>() else {
		log::warn!(target: LOG, "dispute {id}: no kept vote to reveal");
		return None;
	};
	let verdicts = VerdictsOf::<T>::try_from(vote.verdicts).ok()?;
	let output = OutputOf::<T>::try_from(vote.output).ok()?;
	log::info!(target: LOG, "dispute {id}: revealing");
	Some(Call::<T>::reveal { request: id, verdicts, output, salt: vote.salt })
}
