//! The model registry's off-chain duty: validators **attest** pending models (the
//! determinism certificate), and the registry puts a model's bytes into the node's model store
//! for every duty that runs it ([`ModelRegistry::run_offchain`]).
//!
//! For every pending model whose bytes are verified, each of the node's attester keys
//! (`Config::AttesterId`, the runtime's Aura key) that `AttestOrigin` accepts and that has not
//! attested yet loads the model, runs its reference input and submits `attest` with the
//! output; the chain judges it against the reference output under the model's rule. A model
//! the engine refuses (unparsable, unsupported operator, over limits) is attested with an
//! empty output, which rejects it: every validator's engine applies the same limits, so such a
//! model must never become active. A model whose bytes cannot be fetched yet, or an engine that
//! is busy, is left for a later block.
//!
//! [`ModelRegistry::run_offchain`]: crate::ModelRegistry::run_offchain

use crate::{Attestations, Availability, Call, Config, ModelId, ModelStatus, Models, Pallet};
use alloc::vec::Vec;
use frame_support::traits::{EnsureOrigin, Get};
use frame_system::offchain::Signer;
use verity_host::{HostError, Purpose};
use verity_primitives::{hex, offchain};

/// Most pending models one worker run attests (each is a model load and run).
pub const ATTESTATIONS_PER_RUN: usize = 4;

/// Deadline of one model download over HTTP, in milliseconds.
pub const FETCH_DEADLINE_MS: u64 = 30_000;

const LOG: &str = "verity::worker";

/// The attest duty, run by the pallet's `offchain_worker` hook at block `now`.
pub fn attest_pending<T: Config>(now: u32) {
	let attesters: Vec<_> = Signer::<T, T::AttesterId>::keystore_accounts()
		.filter(|a| {
			let origin = frame_system::RawOrigin::Signed(a.id.clone()).into();
			T::AttestOrigin::try_origin(origin).is_ok()
		})
		.collect();
	if attesters.is_empty() {
		return;
	}
	let pending: Vec<_> = Models::<T>::iter()
		.filter(|(_, m)| m.status == ModelStatus::Pending && m.bytes_verified)
		.take(ATTESTATIONS_PER_RUN)
		.collect();
	for (id, info) in pending {
		let attested = Attestations::<T>::get(id);
		for account in &attesters {
			if attested.contains(&account.id) || !offchain::claim(b"attest", &id, &account.id, now)
			{
				continue;
			}
			let max = T::MaxReferenceSize::get();
			let output =
				match Pallet::<T>::run_local(&id, &info.spec.reference_input, max, Purpose::Attest)
				{
					Ok(output) => output,
					Err(
						HostError::InvalidModel
						| HostError::InvalidInput
						| HostError::OutputTooLarge { .. },
					) => Vec::new(),
					Err(e) => {
						log::warn!(target: LOG, "model 0x{}: cannot attest yet: {e:?}", hex(&id.0));
						offchain::unclaim(b"attest", &id, &account.id);
						continue;
					},
				};
			log::info!(target: LOG, "model 0x{}: attesting", hex(&id.0));
			let call =
				Call::<T>::attest { hash: id, output: output.try_into().unwrap_or_default() };
			if offchain::send_signed::<T, T::AttesterId, _>(&account.public, call) {
				verity_host::record_duty(verity_host::Duty::Attestation);
			} else {
				log::warn!(target: LOG, "model 0x{}: attestation not accepted by the pool", hex(&id.0));
			}
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Run `model` on `input` for `purpose` through the node's engine, first making sure the
	/// node's model store has its bytes. Off-chain only.
	pub fn run_local(
		model: &ModelId,
		input: &[u8],
		max_output: u32,
		purpose: Purpose,
	) -> Result<Vec<u8>, HostError> {
		Self::ensure_local(model)?;
		verity_host::run_for(&model.0, input, max_output, purpose)
	}

	/// Put the model's bytes into the node's store if they are not there: from on-chain
	/// chunks, or from the first registered URI that serves bytes with the right hash (the host
	/// checks the hash). Off-chain only.
	pub fn ensure_local(model: &ModelId) -> Result<(), HostError> {
		if verity_host::model_available(&model.0)? {
			return Ok(());
		}
		let info = Models::<T>::get(model).ok_or(HostError::ModelNotFound)?;
		match &info.spec.availability {
			Availability::OnChain => {
				let bytes = Self::assembled_bytes(model).ok_or(HostError::ModelNotFound)?;
				verity_host::put_model(&model.0, &bytes)
			},
			Availability::Uris(uris) => {
				for uri in uris {
					let Ok(uri) = core::str::from_utf8(uri) else { continue };
					match fetch(uri, info.spec.byte_size) {
						Some(bytes) if verity_host::put_model(&model.0, &bytes).is_ok() => {
							return Ok(())
						},
						_ => log::warn!(
							target: LOG,
							"model 0x{}: {uri} did not serve it",
							hex(&model.0)
						),
					}
				}
				Err(HostError::ModelNotFound)
			},
		}
	}
}

/// GET `uri` with a deadline, refusing bodies longer than `max` bytes.
fn fetch(uri: &str, max: u64) -> Option<Vec<u8>> {
	use sp_runtime::offchain::{http, Duration};
	let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(FETCH_DEADLINE_MS));
	let pending = http::Request::get(uri).deadline(deadline).send().ok()?;
	let response = pending.try_wait(deadline).ok()?.ok()?;
	if response.code != 200 {
		return None;
	}
	let mut body = Vec::new();
	for chunk in response.body() {
		body.push(chunk);
		if body.len() as u64 > max {
			return None;
		}
	}
	Some(body)
}
