//! Off-chain duties of a Verity node, run after every imported best block.
//!
//! For every executor key (`vexe`, secp256k1) in the node's keystore, the worker:
//! - **executes** each open assignment of that key (`pallet_inference::Assignments`): makes
//!   sure the model's bytes are in the node's model store (assembled from on-chain chunks or
//!   fetched from the model's URIs, checked against the hash by the host), runs the model
//!   through the `verity-host` functions, signs the receipt and submits `submit_result`; when
//!   the model cannot be obtained or run it submits `report_failure` instead of posting
//!   anything.
//!
//! - **judges** each dispute whose jury includes the key's provider
//!   (`pallet_disputes::Pallet::juror_duties`): in the commit phase it re-executes the model on
//!   the request's input, decides for every candidate output whether it agrees with its own
//!   under the model's acceptance rule, keeps `(verdicts, output, salt)` in offchain local
//!   storage and commits `blake2_256((verdicts, blake2_256(output), salt))`; in the reveal
//!   phase it reveals what it kept. The salt is the node's offchain randomness, so other jurors
//!   cannot guess a commitment from the candidates.
//!
//! Every validator's worker also **attests** pending models with its Aura key (the
//! determinism certificate of pallet-models), see [`attest_models`].
//!
//! Workers can overlap and repeat (one per imported block), so every duty is claimed in
//! offchain local storage with the block it was attempted at, and retried only after
//! [`RETRY_AFTER`] blocks if the chain still shows it open. Transactions are signed with the
//! executor key itself: its account is `blake2_256(compressed public key)` (an ECDSA
//! `MultiSigner`), which the provider named as its executor and funds for fees.
//!
//! A dev-only fault switch (`verity-node --dev-faulty-executor`, refused outside dev and local
//! chains) sets [`FAULT_KEY`] in the node's persistent offchain storage; the worker then posts
//! a perturbed output (with a valid receipt), for tests and demos of disputes.

use crate::{
	AccountId, BlockNumber, Runtime, RuntimeCall, SignedPayload, UncheckedExtrinsic,
};
use alloc::vec::Vec;
use codec::Encode;
use pallet_inference::RequestId;
use pallet_models::{Availability, ModelId};
use sp_core::{ecdsa, H256};
use sp_runtime::{
	generic::Era,
	offchain::storage::{MutateStorageError, StorageRetrievalError, StorageValueRef},
	traits::Get,
	MultiAddress, MultiSignature,
};
use verity_host::HostError;

/// Key type of executor keys.
pub const EXECUTOR_KEY_TYPE: sp_core::crypto::KeyTypeId = sp_core::crypto::KeyTypeId(*b"vexe");

/// The executor key as an application crypto type.
pub mod executor_app {
	use sp_application_crypto::{app_crypto, ecdsa};
	app_crypto!(ecdsa, super::EXECUTOR_KEY_TYPE);
}

/// Binds the `executor` session key to its application crypto.
pub struct ExecutorKey;
impl sp_runtime::BoundToRuntimeAppPublic for ExecutorKey {
	type Public = executor_app::Public;
}

/// Key type of Aura keys: validators attest models with them.
pub const AURA_KEY_TYPE: sp_core::crypto::KeyTypeId = sp_core::crypto::KeyTypeId(*b"aura");

/// Most pending models one worker run attests (each is a model load and run).
const ATTESTATIONS_PER_RUN: usize = 4;

/// Persistent offchain storage key of the dev fault switch (a SCALE `bool`).
pub const FAULT_KEY: &[u8] = b"verity::dev-faulty-executor";

/// Blocks after which an attempted duty that is still open on chain is tried again.
pub const RETRY_AFTER: BlockNumber = 3;

/// Mortality of worker transactions, in blocks.
const TX_LONGEVITY: u64 = 16;

const LOG: &str = "verity::worker";

/// The account of an executor key.
pub fn executor_account(key: &ecdsa::Public) -> AccountId {
	AccountId::from(sp_io::hashing::blake2_256(key.as_ref()))
}

/// Entry point, called by `OffchainWorkerApi::offchain_worker` after the pallets' hooks.
pub fn offchain_worker(now: BlockNumber) {
	let mut nonces = Nonces::default();
	attest_models(now, &mut nonces);
	let keys = sp_io::crypto::ecdsa_public_keys(EXECUTOR_KEY_TYPE);
	for key in keys {
		let account = executor_account(&key);
		execute_assignments(&key, &account, now, &mut nonces);
		judge_disputes(&key, &account, now, &mut nonces);
	}
}

/// Validators' determinism certificate: for every pending model whose bytes are verified, a
/// validator's worker loads the model, runs the reference input and submits `attest` with its
/// output; the chain judges it against the reference output under the model's rule. A model
/// the engine refuses (unparsable, unsupported op, over limits) is attested with an empty
/// output, which rejects it: it must never become active. A model whose bytes cannot be
/// fetched yet is left for a later block.
fn attest_models(now: BlockNumber, nonces: &mut Nonces) {
	let keys: Vec<_> = sp_io::crypto::sr25519_public_keys(AURA_KEY_TYPE)
		.into_iter()
		.map(|k| (AccountId::from(k.0), k))
		.filter(|(a, _)| crate::configs::verity::EnsureAuraAuthority::is_authority(a))
		.collect();
	if keys.is_empty() {
		return;
	}
	let pending: Vec<_> = pallet_models::Models::<Runtime>::iter()
		.filter(|(_, m)| m.status == pallet_models::ModelStatus::Pending && m.bytes_verified)
		.take(ATTESTATIONS_PER_RUN)
		.collect();
	for (id, info) in pending {
		let attested = pallet_models::Attestations::<Runtime>::get(id);
		for (account, key) in &keys {
			if attested.contains(account) || !claim(b"attest", id, account, now) {
				continue;
			}
			let output = match ensure_model(&id).and_then(|()| {
				let max = <Runtime as pallet_models::Config>::MaxReferenceSize::get();
				verity_host::run(&id.0, &info.spec.reference_input, max)
			}) {
				Ok(output) => output,
				Err(HostError::InvalidModel | HostError::InvalidInput | HostError::OutputTooLarge { .. }) =>
					Vec::new(),
				Err(e) => {
					log::warn!(target: LOG, "model 0x{}: cannot attest yet: {e:?}", hex(&id.0));
					unclaim(b"attest", id, account);
					continue;
				},
			};
			log::info!(target: LOG, "model 0x{}: attesting", hex(&id.0));
			let call = RuntimeCall::Models(pallet_models::Call::attest {
				hash: id,
				output: output.try_into().unwrap_or_default(),
			});
			if submit_signed(key, account, call, now, nonces).is_err() {
				log::warn!(target: LOG, "model 0x{}: attestation not accepted by the pool", hex(&id.0));
			}
		}
	}
}

/// A juror's vote, kept between commit and reveal.
#[derive(codec::Encode, codec::Decode)]
struct Vote {
	verdicts: Vec<bool>,
	output: Vec<u8>,
	salt: [u8; 32],
}

fn vote_key(id: RequestId, who: &AccountId) -> Vec<u8> {
	(b"verity::vote", id, who).encode()
}

fn judge_disputes(key: &ecdsa::Public, account: &AccountId, now: BlockNumber, nonces: &mut Nonces) {
	use pallet_disputes::Duty;
	use pallet_inference::InferenceForDisputes;
	use pallet_providers::ExecutorSelection;
	let Some(provider) = <crate::Providers as ExecutorSelection<AccountId>>::provider_of(account)
	else {
		return;
	};
	for (id, duty) in pallet_disputes::Pallet::<Runtime>::juror_duties(&provider) {
		let call = match duty {
			Duty::Commit { .. } => {
				if !claim(b"commit", id, account, now) {
					continue;
				}
				let Some(req) = pallet_inference::Requests::<Runtime>::get(id) else { continue };
				let ours = match run_request(&req.model, &req.input) {
					Ok(o) => o,
					Err(e) => {
						log::warn!(target: LOG, "dispute {id}: cannot re-execute: {e:?}");
						if e == HostError::Busy {
							unclaim(b"commit", id, account);
						}
						continue;
					},
				};
				let rule = <crate::Models as pallet_models::ModelRegistry<_, _>>::acceptance_rule(&req.model);
				let decoded = verity_engine::decode_tensors(&ours).ok();
				let verdicts: Vec<bool> = crate::Inference::candidates(id)
					.iter()
					.map(|c| match (&rule, &decoded, verity_engine::decode_tensors(c)) {
						(Some(rule), Some(ours), Ok(theirs)) =>
							verity_engine::agrees_all(rule, ours, &theirs),
						_ => false,
					})
					.collect();
				let salt = sp_io::offchain::random_seed();
				let commitment = pallet_disputes::Pallet::<Runtime>::commitment_of(&verdicts, &ours, &salt);
				log::info!(target: LOG, "dispute {id}: committing verdicts {verdicts:?}");
				StorageValueRef::persistent(&vote_key(id, account)).set(&Vote { verdicts, output: ours, salt });
				RuntimeCall::Disputes(pallet_disputes::Call::commit { request: id, commitment })
			},
			Duty::Reveal { .. } => {
				if !claim(b"reveal", id, account, now) {
					continue;
				}
				let Ok(Some(vote)) = StorageValueRef::persistent(&vote_key(id, account)).get::<Vote>()
				else {
					log::warn!(target: LOG, "dispute {id}: no kept vote to reveal");
					continue;
				};
				let (Ok(verdicts), Ok(output)) =
					(vote.verdicts.try_into(), vote.output.try_into())
				else {
					continue;
				};
				log::info!(target: LOG, "dispute {id}: revealing");
				RuntimeCall::Disputes(pallet_disputes::Call::reveal {
					request: id,
					verdicts,
					output,
					salt: vote.salt,
				})
			},
		};
		if submit_signed(key, account, call, now, nonces).is_err() {
			log::warn!(target: LOG, "dispute {id}: transaction not accepted by the pool");
		}
	}
}

/// Claim a duty for this block unless it was attempted less than `RETRY_AFTER` blocks ago.
fn claim(kind: &[u8], id: impl Encode, who: &AccountId, now: BlockNumber) -> bool {
	let key = (b"verity::duty", kind, id, who).encode();
	let r = StorageValueRef::persistent(&key).mutate(
		|last: Result<Option<BlockNumber>, StorageRetrievalError>| match last {
			Ok(Some(at)) if now < at.saturating_add(RETRY_AFTER) => Err(()),
			_ => Ok(now),
		},
	);
	!matches!(r, Err(MutateStorageError::ValueFunctionFailed(())) | Err(MutateStorageError::ConcurrentModification(_)))
}

/// Forget a claim so that the next block tries again (transient failures such as a busy
/// engine).
fn unclaim(kind: &[u8], id: impl Encode, who: &AccountId) {
	let key = (b"verity::duty", kind, id, who).encode();
	StorageValueRef::persistent(&key).clear();
}

fn execute_assignments(key: &ecdsa::Public, account: &AccountId, now: BlockNumber, nonces: &mut Nonces) {
	let open: Vec<(RequestId, u32)> =
		pallet_inference::Assignments::<Runtime>::iter_prefix(account).collect();
	for (id, slot) in open {
		if !claim(b"exec", id, account, now) {
			continue;
		}
		let Some(req) = pallet_inference::Requests::<Runtime>::get(id) else { continue };
		let call = match run_request(&req.model, &req.input) {
			Ok(mut output) => {
				if fault_injection() {
					perturb(&mut output);
				}
				match result_call(key, id, slot, &req.model, &req.input_hash, output) {
					Some(call) => call,
					None => continue,
				}
			},
			Err(HostError::Busy) => {
				unclaim(b"exec", id, account);
				continue;
			},
			Err(e) => {
				log::warn!(target: LOG, "request {id}: cannot run model 0x{}: {e:?}", hex(&req.model.0));
				report(id)
			},
		};
		if submit_signed(key, account, call, now, nonces).is_err() {
			log::warn!(target: LOG, "request {id}: transaction not accepted by the pool");
		}
	}
}

/// `submit_result` with the signed receipt, or `report_failure` for an output over the
/// chain's limit; `None` if the key cannot sign.
fn result_call(
	key: &ecdsa::Public,
	id: RequestId,
	slot: u32,
	model: &ModelId,
	input_hash: &H256,
	output: Vec<u8>,
) -> Option<RuntimeCall> {
	let Ok(output) = pallet_inference::OutputOf::<Runtime>::try_from(output) else {
		log::warn!(target: LOG, "request {id}: output over the chain's limit");
		return Some(report(id));
	};
	let output_hash = H256(sp_io::hashing::blake2_256(&output));
	let message = pallet_inference::receipt_message(id, model, input_hash, &output_hash);
	let Some(receipt) = sp_io::crypto::ecdsa_sign_prehashed(EXECUTOR_KEY_TYPE, key, &message) else {
		log::warn!(target: LOG, "request {id}: executor key not usable for signing");
		return None;
	};
	log::info!(target: LOG, "request {id} slot {slot}: posting output 0x{}", hex(&output_hash.0));
	Some(RuntimeCall::Inference(pallet_inference::Call::submit_result {
		request: id,
		output,
		receipt: receipt.0,
	}))
}

fn report(id: RequestId) -> RuntimeCall {
	RuntimeCall::Inference(pallet_inference::Call::report_failure { request: id })
}

/// Run `model` on `input`, first making sure the node has its bytes.
fn run_request(model: &ModelId, input: &[u8]) -> Result<Vec<u8>, HostError> {
	ensure_model(model)?;
	let max = <Runtime as pallet_inference::Config>::MaxOutputLen::get();
	verity_host::run(&model.0, input, max)
}

/// Put the model's bytes into the node's store if they are not there: from on-chain chunks,
/// or from the first registered URI that serves bytes with the right hash.
pub fn ensure_model(model: &ModelId) -> Result<(), HostError> {
	if verity_host::model_available(&model.0)? {
		return Ok(());
	}
	let info = pallet_models::Models::<Runtime>::get(model).ok_or(HostError::ModelNotFound)?;
	match &info.spec.availability {
		Availability::OnChain => {
			if !info.bytes_verified {
				return Err(HostError::ModelNotFound);
			}
			let mut bytes = Vec::new();
			for i in 0..info.chunk_count {
				let chunk =
					pallet_models::Chunks::<Runtime>::get(model, i).ok_or(HostError::ModelNotFound)?;
				bytes.extend_from_slice(&chunk);
			}
			verity_host::put_model(&model.0, &bytes)
		},
		Availability::Uris(uris) => {
			for uri in uris {
				let Ok(uri) = core::str::from_utf8(uri) else { continue };
				match fetch(uri, info.spec.byte_size) {
					Some(bytes) if verity_host::put_model(&model.0, &bytes).is_ok() => return Ok(()),
					_ => log::warn!(target: LOG, "model 0x{}: {uri} did not serve it", hex(&model.0)),
				}
			}
			Err(HostError::ModelNotFound)
		},
	}
}

/// GET `uri` with a 30 s deadline, refusing bodies longer than `max` bytes.
fn fetch(uri: &str, max: u64) -> Option<Vec<u8>> {
	use sp_runtime::offchain::{http, Duration};
	let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(30_000));
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

/// Whether the node runs with the dev fault switch on.
fn fault_injection() -> bool {
	StorageValueRef::persistent(FAULT_KEY).get::<bool>().ok().flatten().unwrap_or(false)
}

/// Make an output wrong under every acceptance rule: in each f32 tensor, swap the largest and
/// the smallest element (the arg-max moves unless all elements are equal, in which case the
/// first is increased by one).
pub fn perturb(output: &mut Vec<u8>) {
	use verity_engine::{decode_tensors, encode_tensors, DType, Tensor};
	let Ok(tensors) = decode_tensors(output) else { return };
	let changed: Vec<Tensor> = tensors
		.into_iter()
		.map(|t| {
			if t.dtype() != DType::F32 {
				return t;
			}
			let Some(mut v) = t.to_f32_vec() else { return t };
			let (mut lo, mut hi) = (0usize, 0usize);
			for (i, x) in v.iter().enumerate() {
				if *x < v.get(lo).copied().unwrap_or(*x) {
					lo = i;
				}
				if *x > v.get(hi).copied().unwrap_or(*x) {
					hi = i;
				}
			}
			if lo == hi {
				if let Some(first) = v.first_mut() {
					*first += 1.0;
				}
			} else {
				v.swap(lo, hi);
			}
			Tensor::from_f32(t.shape().to_vec(), &v).unwrap_or(t)
		})
		.collect();
	*output = encode_tensors(&changed);
}

/// Nonces handed out in this worker run, per account: several transactions from one key in
/// one run must not reuse the on-chain nonce.
#[derive(Default)]
struct Nonces(Vec<(AccountId, u32)>);

impl Nonces {
	fn next(&mut self, account: &AccountId) -> u32 {
		let chain = frame_system::Pallet::<Runtime>::account_nonce(account);
		match self.0.iter_mut().find(|(a, _)| a == account) {
			Some((_, n)) => {
				*n = (*n).max(chain);
				let this = *n;
				*n = n.saturating_add(1);
				this
			},
			None => {
				self.0.push((account.clone(), chain.saturating_add(1)));
				chain
			},
		}
	}
}

/// Sign `call` with the executor key and put it into the transaction pool.
/// A key of this node that signs worker transactions.
#[derive(Clone, Copy)]
enum Key<'a> {
	/// An executor key.
	Executor(&'a ecdsa::Public),
	/// A validator's Aura key (model attestations).
	Aura(&'a sp_core::sr25519::Public),
}

fn submit_signed<'a>(
	key: impl Into<Key<'a>>,
	account: &AccountId,
	call: RuntimeCall,
	now: BlockNumber,
	nonces: &mut Nonces,
) -> Result<(), ()> {
	let duty = duty_of(&call);
	let nonce = nonces.next(account);
	let extension = crate::tx_extension(Era::mortal(TX_LONGEVITY, u64::from(now)), nonce);
	let payload = SignedPayload::new(call, extension).map_err(|_| ())?;
	let signature = match key.into() {
		Key::Executor(key) => payload
			.using_encoded(|bytes| sp_io::crypto::ecdsa_sign(EXECUTOR_KEY_TYPE, key, bytes))
			.map(MultiSignature::Ecdsa),
		Key::Aura(key) => payload
			.using_encoded(|bytes| sp_io::crypto::sr25519_sign(AURA_KEY_TYPE, key, bytes))
			.map(MultiSignature::Sr25519),
	}
	.ok_or(())?;
	let (call, extension, _) = payload.deconstruct();
	let xt = UncheckedExtrinsic::new_signed(
		call,
		MultiAddress::Id(account.clone()),
		signature,
		extension,
	);
	sp_io::offchain::submit_transaction(xt.encode())?;
	if let Some(duty) = duty {
		verity_host::record_duty(duty);
	}
	Ok(())
}

/// The metrics label of a worker transaction (`verity_worker_duties_total` on the node).
fn duty_of(call: &RuntimeCall) -> Option<verity_host::Duty> {
	use verity_host::Duty;
	Some(match call {
		RuntimeCall::Inference(pallet_inference::Call::submit_result { .. }) => Duty::Result,
		RuntimeCall::Inference(pallet_inference::Call::report_failure { .. }) => Duty::FailureReport,
		RuntimeCall::Disputes(pallet_disputes::Call::commit { .. }) => Duty::VoteCommit,
		RuntimeCall::Disputes(pallet_disputes::Call::reveal { .. }) => Duty::VoteReveal,
		RuntimeCall::Models(pallet_models::Call::attest { .. }) => Duty::Attestation,
		_ => return None,
	})
}

impl<'a> From<&'a ecdsa::Public> for Key<'a> {
	fn from(k: &'a ecdsa::Public) -> Self {
		Key::Executor(k)
	}
}

impl<'a> From<&'a sp_core::sr25519::Public> for Key<'a> {
	fn from(k: &'a sp_core::sr25519::Public) -> Self {
		Key::Aura(k)
	}
}

fn hex(bytes: &[u8]) -> alloc::string::String {
	use core::fmt::Write;
	let mut s = alloc::string::String::with_capacity(bytes.len() * 2);
	for b in bytes {
		let _ = write!(s, "{b:02x}");
	}
	s
}
