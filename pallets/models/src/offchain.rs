//! The model registry's off-chain duty: validators **attest** pending models (the
//! determinism certificate), and the registry puts a model's bytes into the node's model store
//! for every duty that runs it ([`ModelRegistry::run_offchain`]).
//!
//! For every pending model whose bytes are verified, each of the node's attester keys
//! (`Config::AttesterId`, the runtime's BABE key) that `AttestOrigin` accepts and that has not
//! attested yet loads the model under the constants its spec declares
//! (`verity_host::load_model` with `max_constant_bytes`), runs its reference input within the
//! run bound the chain derives from the engine's FLOPs (a `Deterministic` model: in the
//! deterministic mode, under the fuel and memory terms the chain derives from the same
//! figures, so every attester reports the same bits), and submits `attest` with
//! [`Attestation::Ran`]: the output and the engine's graph-only figures ([`GraphBounds`]); the
//! chain judges the output against the reference output under the model's rule and the
//! figures against the spec and `MaxModelFlops`. A model the engine refuses (constants over
//! the declaration, unparsable, unsupported operator, over the engine's limits, a reference
//! input it does not take) is attested [`Attestation::Refused`] with the [`Refusal`], which
//! rejects it: every validator's engine computes the same figures and applies the same limits,
//! so such a model must never become active. A model over `MaxModelFlops` is not run (its
//! attestation carries an empty output and its figures; the chain rejects it for its FLOPs).
//! A node whose engine is not the version the spec names does not attest (the runtime refuses
//! such specs at registration, so only a node running another engine than the runtime expects
//! meets one). A model whose bytes cannot be fetched yet, or an engine that is busy, is left
//! for a later block.
//!
//! **Fairness.** One run tries at most [`ATTESTATIONS_PER_RUN`] models, and a model counts
//! only when this node actually works on it (models it attested, or claimed by an overlapping
//! run, are skipped for free). Runs go round the pending models ([`PendingUntil`], in storage
//! order) from where the last run stopped (a cursor in the node's offchain storage), so models
//! whose bytes never arrive (dead URLs) cannot keep the others waiting: with `P` pending models
//! every one is tried within `ceil(P / ATTESTATIONS_PER_RUN)` runs. A model whose bytes could
//! not be fetched keeps its claim (tried again after `RETRY_AFTER` blocks); dead models stop
//! costing anything when they expire (`PendingExpiry`).
//!
//! **Fetching** ([`fetch`]): only `http://` and `https://` URLs with a plain host, only hosts
//! the node allows ([`FETCH_ALLOW_HOSTS_KEY`], set by `--model-fetch-allow-host`), bodies at
//! most the declared `byte_size` (a larger `Content-Length` is refused before reading; a body
//! is dropped as soon as it passes the size), hashed while they stream in and refused unless
//! they are exactly `byte_size` bytes with the model's blake2-256 hash.
//!
//! [`ModelRegistry::run_offchain`]: crate::ModelRegistry::run_offchain

use crate::{
	uri_host, Attestation, AttestationOf, Attestations, Availability, Call, Config, ExecutionClass,
	GraphBounds, ModelId, ModelInfoOf, ModelStatus, Models, Pallet, PendingUntil, Refusal,
};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::traits::{EnsureOrigin, Get};
use frame_system::offchain::Signer;
use sp_runtime::offchain::storage::StorageValueRef;
use verity_host::{HostError, Purpose};
use verity_primitives::{hex, offchain};

/// Most pending models one worker run works on (each a model fetch, load and run).
pub const ATTESTATIONS_PER_RUN: usize = 4;

/// Deadline of one model download over HTTP, in milliseconds.
pub const FETCH_DEADLINE_MS: u64 = 30_000;

/// Key, in the node's persistent offchain storage, of the hosts model bytes may be fetched
/// from: SCALE `Vec<Vec<u8>>` of lower-case host names (or IP literals), written by the node at
/// start from `--model-fetch-allow-host`. Absent or empty: any host.
pub const FETCH_ALLOW_HOSTS_KEY: &[u8] = b"verity/models/fetch-allow-hosts";

/// Key, in the node's persistent offchain storage, of the attest duty's round-robin cursor:
/// the raw storage key of the last pending model a run worked on.
pub const ATTEST_CURSOR_KEY: &[u8] = b"verity/models/attest-cursor";

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
	let cursor_store = StorageValueRef::persistent(ATTEST_CURSOR_KEY);
	let cursor: Option<Vec<u8>> = cursor_store.get().ok().flatten();
	let mut worked = 0usize;
	for id in pending_round::<T>(cursor) {
		if worked >= ATTESTATIONS_PER_RUN {
			break;
		}
		let Some(info) = Models::<T>::get(id) else { continue };
		if info.status != ModelStatus::Pending || !info.bytes_verified {
			continue;
		}
		let attested = Attestations::<T>::get(id);
		let mut tried = false;
		for account in &attesters {
			if attested.contains(&account.id) || !offchain::claim(b"attest", &id, &account.id, now)
			{
				continue;
			}
			tried = true;
			let attestation = match attestation_of::<T>(&id, &info) {
				Ok(attestation) => attestation,
				Err(HostError::ModelNotFound) => {
					// Bytes not fetchable (dead or refused URLs): keep the claim, so the next
					// runs go on to other models and this one is retried later.
					log::warn!(target: LOG, "model 0x{}: bytes not available, retried later", hex(&id.0));
					continue;
				},
				Err(HostError::EngineVersionMismatch) => {
					// Not this node's to judge; kept claimed so it is not tried every block.
					log::warn!(
						target: LOG,
						"model 0x{}: the spec names engine version {}, this node runs another: not attesting",
						hex(&id.0),
						info.spec.engine_version
					);
					continue;
				},
				Err(e) => {
					log::warn!(target: LOG, "model 0x{}: cannot attest yet: {e:?}", hex(&id.0));
					offchain::unclaim(b"attest", &id, &account.id);
					continue;
				},
			};
			log::info!(target: LOG, "model 0x{}: attesting {attestation:?}", hex(&id.0));
			let call = Call::<T>::attest { hash: id, attestation };
			if offchain::send_signed::<T, T::AttesterId, _>(&account.public, call) {
				verity_host::record_duty(verity_host::Duty::Attestation);
			} else {
				log::warn!(target: LOG, "model 0x{}: attestation not accepted by the pool", hex(&id.0));
			}
		}
		if tried {
			worked = worked.saturating_add(1);
			cursor_store.set(&PendingUntil::<T>::hashed_key_for(id));
		}
	}
}

/// What this node's engine finds about pending model `id` (see the module docs); an error
/// when it cannot tell yet (bytes not fetchable, engine busy, another engine version).
fn attestation_of<T: Config>(
	id: &ModelId,
	info: &ModelInfoOf<T>,
) -> Result<AttestationOf<T>, HostError> {
	if verity_host::engine_version()? != info.spec.engine_version {
		return Err(HostError::EngineVersionMismatch);
	}
	Pallet::<T>::ensure_local(id)?;
	let bounds = match verity_host::load_model(&id.0, Some(info.spec.max_constant_bytes)) {
		Ok(b) => GraphBounds { constant_bytes: b.constant_bytes, flops: b.flops },
		Err(HostError::ConstantsOverSpec) => {
			return Ok(Attestation::Refused(Refusal::ConstantsOverSpec))
		},
		Err(HostError::InvalidModel) => return Ok(Attestation::Refused(Refusal::InvalidModel)),
		Err(e) => return Err(e),
	};
	if bounds.flops > T::MaxModelFlops::get() {
		return Ok(Attestation::Ran { output: Default::default(), bounds });
	}
	let max = T::MaxReferenceSize::get();
	let input = &info.spec.reference_input;
	let output = match info.spec.execution {
		ExecutionClass::Native => {
			let run_ms = Pallet::<T>::run_bound(Some(bounds));
			verity_host::run_within(&id.0, input, max, Purpose::Attest, run_ms)
		},
		// The terms executors and jurors will run it under once these figures are recorded.
		ExecutionClass::Deterministic => {
			let terms = Pallet::<T>::deterministic_terms(&info.spec, Some(bounds));
			verity_host::run_deterministic_stored(&id.0, input, &terms, max, Purpose::Attest)
				.map(|outcome| outcome.output)
		},
	};
	match output {
		Ok(output) => match output.try_into() {
			Ok(output) => Ok(Attestation::Ran { output, bounds }),
			Err(_) => Ok(Attestation::Refused(Refusal::InvalidReference)),
		},
		Err(HostError::InvalidInput | HostError::OutputTooLarge { .. }) => {
			Ok(Attestation::Refused(Refusal::InvalidReference))
		},
		// A trap inside the deterministic mode is the same on every node.
		Err(HostError::InvalidModel | HostError::ExecutionFailed)
			if info.spec.execution == ExecutionClass::Deterministic =>
		{
			Ok(Attestation::Refused(Refusal::InvalidModel))
		},
		Err(HostError::InvalidModel) => Ok(Attestation::Refused(Refusal::InvalidModel)),
		Err(HostError::OutOfFuel | HostError::OutOfMemory) => {
			Ok(Attestation::Refused(Refusal::OverDeterministicTerms))
		},
		Err(e) => Err(e),
	}
}

/// The pending models once round, in storage order, starting after the raw key `cursor`
/// (from the first when `None`) and wrapping around to it.
fn pending_round<T: Config>(cursor: Option<Vec<u8>>) -> impl Iterator<Item = ModelId> {
	let upto = cursor.clone();
	let after = cursor.map(PendingUntil::<T>::iter_keys_from).into_iter().flatten();
	let wrapped = PendingUntil::<T>::iter_keys().take_while(move |id| {
		upto.as_ref().is_none_or(|upto| PendingUntil::<T>::hashed_key_for(id) <= *upto)
	});
	after.chain(wrapped)
}

/// Hosts this node fetches model bytes from (`None`: any), from [`FETCH_ALLOW_HOSTS_KEY`].
pub fn allowed_hosts() -> Option<Vec<Vec<u8>>> {
	let hosts: Vec<Vec<u8>> =
		StorageValueRef::persistent(FETCH_ALLOW_HOSTS_KEY).get().ok().flatten()?;
	(!hosts.is_empty()).then_some(hosts)
}

/// Why a fetch gave no model bytes.
#[derive(Debug, PartialEq, Eq, Clone, Encode, Decode)]
pub enum FetchError {
	/// Not an `http://` or `https://` URL with a plain host.
	UnsupportedUri,
	/// The host is not in the node's allow list (`--model-fetch-allow-host`).
	HostNotAllowed,
	/// The request could not be sent or timed out.
	Unreachable,
	/// The server answered with this status instead of 200.
	Status(u16),
	/// The body (or its announced `Content-Length`) is longer than the declared size.
	TooLarge,
	/// The body is shorter than the declared size.
	TooShort,
	/// The body does not hash to the model id.
	WrongHash,
}

/// GET `uri` for model `model` of `size` bytes with a deadline: see the module docs.
pub fn fetch(uri: &[u8], size: u64, model: &ModelId) -> Result<Vec<u8>, FetchError> {
	use sp_runtime::offchain::{http, Duration};
	let host = uri_host(uri).ok_or(FetchError::UnsupportedUri)?;
	if let Some(allowed) = allowed_hosts() {
		if !allowed.iter().any(|h| h.eq_ignore_ascii_case(host)) {
			return Err(FetchError::HostNotAllowed);
		}
	}
	let uri = core::str::from_utf8(uri).map_err(|_| FetchError::UnsupportedUri)?;
	let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(FETCH_DEADLINE_MS));
	let pending =
		http::Request::get(uri).deadline(deadline).send().map_err(|_| FetchError::Unreachable)?;
	let mut response = pending
		.try_wait(deadline)
		.map_err(|_| FetchError::Unreachable)?
		.map_err(|_| FetchError::Unreachable)?;
	if response.code != 200 {
		return Err(FetchError::Status(response.code));
	}
	// Header names compared without case (HTTP/2 servers send them lower-case, others not).
	let announced = {
		let mut headers = response.headers().into_iter();
		let mut found = None;
		while headers.next() {
			if let Some((name, value)) = headers.current() {
				if name.eq_ignore_ascii_case("content-length") {
					found = value.trim().parse::<u64>().ok();
					break;
				}
			}
		}
		found
	};
	if announced.is_some_and(|len| len > size) {
		return Err(FetchError::TooLarge);
	}
	let mut hasher = blake2b_simd::Params::new().hash_length(32).to_state();
	let cap = usize::try_from(size).map_err(|_| FetchError::TooLarge)?;
	let mut body = Vec::new();
	let mut hashed = 0usize;
	for byte in response.body() {
		if body.len() >= cap {
			return Err(FetchError::TooLarge);
		}
		body.push(byte);
		if body.len().saturating_sub(hashed) >= HASH_STEP {
			hasher.update(body.get(hashed..).unwrap_or_default());
			hashed = body.len();
		}
	}
	hasher.update(body.get(hashed..).unwrap_or_default());
	if body.len() < cap {
		return Err(FetchError::TooShort);
	}
	if hasher.finalize().as_bytes() != model.as_bytes() {
		return Err(FetchError::WrongHash);
	}
	Ok(body)
}

/// Bytes hashed at a time while a body streams in.
const HASH_STEP: usize = 64 * 1024;

impl<T: Config> Pallet<T> {
	/// Run `model` on `input` for `purpose` through the node's engine under the chain's
	/// [`RunLimits`](verity_primitives::RunLimits) (engine version, declared constants, run
	/// bound; [`verity_primitives::run_within_limits`]), first making sure the node's model
	/// store has its bytes. What executors and jurors run. Off-chain only.
	pub fn run_local(
		model: &ModelId,
		input: &[u8],
		max_output: u32,
		purpose: Purpose,
	) -> Result<Vec<u8>, HostError> {
		let info = Models::<T>::get(model).ok_or(HostError::ModelNotFound)?;
		let limits = Self::run_limits(&info);
		// Before fetching anything: a node with another engine does not run the model.
		if verity_host::engine_version()? != limits.engine_version {
			return Err(HostError::EngineVersionMismatch);
		}
		Self::ensure_local(model)?;
		verity_primitives::run_within_limits(model, &limits, input, max_output, purpose)
	}

	/// Put the model's bytes into the node's store if they are not there: from on-chain
	/// chunks, or from the first registered URI that serves them ([`fetch`]; the host checks
	/// the hash again). Off-chain only.
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
					match fetch(uri, info.spec.byte_size, model) {
						Ok(bytes) if verity_host::put_model(&model.0, &bytes).is_ok() => {
							return Ok(())
						},
						Ok(_) => log::warn!(
							target: LOG,
							"model 0x{}: the store refused the bytes of {}",
							hex(&model.0),
							alloc::string::String::from_utf8_lossy(uri)
						),
						Err(e) => log::warn!(
							target: LOG,
							"model 0x{}: {} did not serve it: {e:?}",
							hex(&model.0),
							alloc::string::String::from_utf8_lossy(uri)
						),
					}
				}
				Err(HostError::ModelNotFound)
			},
		}
	}
}
