//! The inference pallet's off-chain duty: an assigned executor **executes**.
//!
//! For every executor key (`Config::ExecutorId`, secp256k1, key type `vexe`) in the node's
//! keystore, the worker walks that key's open [`Assignments`]: it runs the request's model on
//! the request's input through the model registry ([`ModelRegistry::run_offchain`], which
//! puts the model's bytes into the node's store first), signs the receipt
//! ([`crate::receipt_message`]) with the same key, and submits `submit_result`. When the model
//! cannot be obtained or run, or its output is over the chain's limit, it submits
//! `report_failure` instead of posting anything. A busy engine leaves the duty for the next
//! block. Every assignment is claimed in offchain storage (see `verity_primitives::offchain`)
//! so that overlapping worker runs post it once.
//!
//! The same keys **audit**: for each of a key's open [`AuditAssignments`] the worker re-runs
//! the request ([`Purpose::Judge`], like a juror) and reports with `audit` whether its output
//! agrees with the provisional one under the model's acceptance rule (a disagreement opens a
//! dispute), or that it cannot run the model.

use crate::{
	Assignments, AuditAssignments, AuditFinding, Call, Config, OutputOf, Pallet, Requests, Results,
};
use alloc::vec::Vec;
use frame_support::traits::Get;
use frame_system::offchain::{AppCrypto, Signer};
use sp_core::{ecdsa, H256};
use verity_host::{HostError, Purpose};
use verity_primitives::ModelRegistry;
use verity_primitives::{hex, offchain};

const LOG: &str = "verity::worker";

/// The raw public key type of the runtime's executor `AppCrypto`.
type GenericPublic<T> = <<T as Config>::ExecutorId as AppCrypto<
	<T as frame_system::offchain::SigningTypes>::Public,
	<T as frame_system::offchain::SigningTypes>::Signature,
>>::GenericPublic;

/// The execute duty, run by the pallet's `offchain_worker` hook at block `now`.
pub fn execute_assignments<T: Config>(now: u32) {
	for account in Signer::<T, T::ExecutorId>::keystore_accounts() {
		let Ok(generic) = GenericPublic::<T>::try_from(account.public.clone()) else { continue };
		let app: verity_primitives::executor_app::Public = generic.into();
		let key: ecdsa::Public = app.into();
		let open: Vec<_> = Assignments::<T>::iter_prefix(&account.id).collect();
		for (id, slot) in open {
			if !offchain::claim(b"exec", &id, &account.id, now) {
				continue;
			}
			let Some(req) = Requests::<T>::get(id) else { continue };
			let max = T::MaxOutputLen::get();
			let (call, duty) =
				match T::Models::run_offchain(&req.model, &req.input, max, Purpose::Execute) {
					Ok(output) => {
						match result_call::<T>(&key, id, slot, &req.model, &req.input_hash, output)
						{
							Some(call) => call,
							None => continue,
						}
					},
					Err(HostError::Busy) => {
						offchain::unclaim(b"exec", &id, &account.id);
						continue;
					},
					Err(e) => {
						log::warn!(
							target: LOG,
							"request {id}: cannot run model 0x{}: {e:?}",
							hex(&req.model.0)
						);
						(
							Call::<T>::report_failure { request: id },
							verity_host::Duty::FailureReport,
						)
					},
				};
			if offchain::send_signed::<T, T::ExecutorId, _>(&account.public, call) {
				verity_host::record_duty(duty);
			} else {
				log::warn!(target: LOG, "request {id}: transaction not accepted by the pool");
			}
		}
	}
}

/// `submit_result` with the signed receipt, or `report_failure` for an output over the
/// chain's limit; `None` if the key cannot sign.
fn result_call<T: Config>(
	key: &ecdsa::Public,
	id: crate::RequestId,
	slot: u32,
	model: &verity_primitives::ModelId,
	input_hash: &H256,
	output: Vec<u8>,
) -> Option<(Call<T>, verity_host::Duty)> {
	let Ok(output) = OutputOf::<T>::try_from(output) else {
		log::warn!(target: LOG, "request {id}: output over the chain's limit");
		return Some((Call::<T>::report_failure { request: id }, verity_host::Duty::FailureReport));
	};
	let output_hash = H256(sp_io::hashing::blake2_256(&output));
	let message = Pallet::<T>::receipt_message_here(id, model, input_hash, &output_hash);
	let key_type = verity_primitives::EXECUTOR_KEY_TYPE;
	let Some(receipt) = sp_io::crypto::ecdsa_sign_prehashed(key_type, key, &message) else {
		log::warn!(target: LOG, "request {id}: executor key not usable for signing");
		return None;
	};
	log::info!(target: LOG, "request {id} slot {slot}: posting output 0x{}", hex(&output_hash.0));
	Some((
		Call::<T>::submit_result { request: id, output, receipt: receipt.0 },
		verity_host::Duty::Result,
	))
}

/// The audit duty, run by the pallet's `offchain_worker` hook at block `now`.
pub fn audit_results<T: Config>(now: u32) {
	for account in Signer::<T, T::ExecutorId>::keystore_accounts() {
		let open: Vec<_> = AuditAssignments::<T>::iter_key_prefix(&account.id).collect();
		for id in open {
			if !offchain::claim(b"audit", &id, &account.id, now) {
				continue;
			}
			let Some(finding) = audit_finding::<T>(id) else {
				offchain::unclaim(b"audit", &id, &account.id);
				continue;
			};
			log::info!(target: LOG, "request {id}: audit finding {finding:?}");
			let call = Call::<T>::audit { request: id, finding };
			if offchain::send_signed::<T, T::ExecutorId, _>(&account.public, call) {
				verity_host::record_duty(verity_host::Duty::Audit);
			} else {
				log::warn!(target: LOG, "request {id}: transaction not accepted by the pool");
			}
		}
	}
}

/// Re-run request `id` and compare with its provisional output; `None` while the engine is busy
/// (retried next block) or the request has no provisional output any more.
fn audit_finding<T: Config>(id: crate::RequestId) -> Option<AuditFinding> {
	let req = Requests::<T>::get(id)?;
	let slot = req.outcome.and_then(|o| o.slot)?;
	let theirs = Results::<T>::get(id, slot)?.output;
	let rule = T::Models::model(&req.model)?.acceptance;
	let max = T::MaxOutputLen::get();
	match T::Models::run_offchain(&req.model, &req.input, max, Purpose::Judge) {
		Ok(ours) => Some(if verity_engine::agrees_encoded(&rule, &ours, &theirs) {
			AuditFinding::Agrees
		} else {
			AuditFinding::Disagrees
		}),
		Err(HostError::Busy) => None,
		Err(e) => {
			log::warn!(target: LOG, "request {id}: cannot run model 0x{}: {e:?}", hex(&req.model.0));
			Some(AuditFinding::CannotRun)
		},
	}
}
