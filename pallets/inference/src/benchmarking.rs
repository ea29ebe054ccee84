//! Benchmarks of pallet-inference (v2), and the setup runtimes' benchmark helpers share.
//!
//! ## Worst cases
//!
//! Every benchmark model has one `u8` tensor of any length as its input and its output, and
//! compares outputs under `Tolerance`. One-byte elements make the most elements per byte, and
//! `Tolerance` evaluates its bound exactly for every element (it has no shortcut for equal
//! values): on 64 KiB of `u8` it is the costliest rule, 2.4 ms a comparison natively against
//! 0.56 ms for `TopK` and microseconds for `Exact` (`cargo run --release -p verity-engine
//! --example rule_cost`). Outputs are compared when posted, each with the first output of its
//! round, so a call compares at most once and `on_initialize` never does. Outputs that disagree
//! differ in their last element only, so the comparison reads everything. Outputs are full size
//! where the weight has no size component. Models are served by
//! as many providers as the runtime indexes per model (executor and jury selection read them
//! all), and where deadlines are missed, providers have stake unbonding in every bucket a slash
//! reaches.
//!
//! A call whose path is known only once its request is read is charged the largest of its
//! benchmarks ([`Pallet::submit_result_weight`], [`Pallet::report_failure_weight`],
//! [`Pallet::on_initialize_weight`]):
//! - `submit_result` / `submit_result_disputed`: the last post of a round whose outputs agree
//!   (finalization paying the royalty and `k` executors; for `k = 1` the optimistic result
//!   becomes provisional) or whose last output disagrees (a dispute opens).
//! - `report_failure` / `report_failure_disputed`: the last slot of a round fails after the
//!   others posted full-size outputs that agree (finalization) or disagree (a dispute); for
//!   `k = 1` an optimistic request is reassigned, drawing a new executor.
//! - `on_initialize_finalize` / `_disputed` / `_missed`: per entry, a `MaxRedundancy` round at
//!   its deadline with all but one slot posted (a slash, then finalization or a dispute), or
//!   with no slot posted (a slash per slot, then a refund). Entries of the other kinds do less
//!   of the same work: a provisional result closing (finalization paying one executor), an
//!   optimistic deadline (one slash and one reassignment, a draw of one executor where a dispute
//!   draws a jury), pruning (three removals).
//!
//! ## Setup for runtimes
//!
//! [`register_providers`] (pallet-providers), [`ecdsa_executor`] and [`ecdsa_receipt`]
//! (secp256k1 executor keys for [`EcdsaReceipts`]) implement [`BenchmarkHelper`] in a runtime;
//! [`challengeable_request`] is what pallet-disputes' benchmark helper needs.

use super::*;
use alloc::{vec, vec::Vec};
use codec::Encode;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		Get, Hooks,
	},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_core::{crypto::KeyTypeId, H256};
use sp_runtime::traits::{Saturating, Zero};
use verity_engine::{encode_tensors, AcceptanceRule, DType, Tensor, TensorSpec};
use verity_primitives::{ModelId, ModelRegistry};

/// Smallest size component: a tensor list of eight elements.
const MIN_LEN: u32 = 16;

/// The input and output spec of benchmark models: one `u8` tensor of any length.
pub fn io_spec() -> TensorSpec {
	TensorSpec { dtype: DType::U8, dims: BoundedVec::truncate_from(vec![None]) }
}

/// The rule of benchmark models: exact equality, evaluated as a zero tolerance.
fn rule() -> AcceptanceRule {
	AcceptanceRule::Tolerance { abs: 0, rel: 0 }
}

fn list_of(n: u32, odd: bool) -> Vec<u8> {
	let mut x: u32 = 0x1234_5678;
	let mut data: Vec<u8> = (0..n)
		.map(|_| {
			x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
			((x >> 16) as u8 % 255).saturating_add(1)
		})
		.collect();
	if let (true, Some(d)) = (odd, data.last_mut()) {
		*d = 0;
	}
	match Tensor::new(DType::U8, vec![n], data) {
		Ok(t) => encode_tensors(&[t]),
		Err(e) => panic!("benchmark tensor: {e:?}"),
	}
}

/// A canonical list of one `u8` tensor of at most `len` bytes (at least one element), and its
/// element count. Elements are pseudo-random in `1..=255`; with `odd` the last is `0`, so
/// [`rule`] tells the two apart only at the last element.
pub fn tensor_list(len: u32, odd: bool) -> (Vec<u8>, u32) {
	let mut n = len.saturating_sub(8).max(1);
	loop {
		let bytes = list_of(n, odd);
		let over = (bytes.len() as u32).saturating_sub(len);
		if over == 0 || n == 1 {
			return (bytes, n);
		}
		n = n.saturating_sub(over).max(1);
	}
}

fn model_id(i: u32) -> ModelId {
	H256(sp_io::hashing::blake2_256(&(b"verity/bench/model", i).encode()))
}

fn policy(k: u32) -> Policy {
	if k <= 1 {
		Policy::Optimistic
	} else {
		Policy::Redundant(k)
	}
}

/// Benchmark model `i` with at least `providers` providers.
fn setup_model<T: Config>(i: u32, providers: u32, unbonding: bool) -> ModelId {
	let owner: T::AccountId = account("owner", i, 0);
	let model = model_id(i);
	T::BenchmarkHelper::active_model(&owner, model, io_spec(), rule(), providers, unbonding);
	model
}

fn fee<T: Config>(model: &ModelId, k: u32) -> BalanceOf<T> {
	T::Models::price(model)
		.unwrap_or_default()
		.saturating_add(T::ExecutionFee::get().saturating_mul(k.into()))
}

/// The requester, funded for `requests` requests of `MaxRedundancy` executors.
fn requester<T: Config>(model: &ModelId, requests: u32) -> T::AccountId {
	let who: T::AccountId = account("requester", 0, 0);
	let funds = fee::<T>(model, T::MaxRedundancy::get())
		.saturating_mul(requests.saturating_add(1).into())
		.saturating_mul(2u32.into())
		.saturating_add(T::Currency::minimum_balance());
	T::Currency::set_balance(&who, funds);
	who
}

/// A request of `model` for `k` executors (optimistic for `k = 1`) with a small input.
fn new_request<T: Config>(who: &T::AccountId, model: ModelId, k: u32) -> RequestId {
	let input = BoundedVec::truncate_from(tensor_list(MIN_LEN, false).0);
	let id =
		match Pallet::<T>::do_request(who.clone(), model, input, fee::<T>(&model, k), policy(k)) {
			Ok(id) => id,
			Err(e) => panic!("benchmark request: {e:?}"),
		};
	// Executors are drawn `DrawDelay` blocks later: move to that block and draw them.
	if let Some(RequestStatus::Drawing { at }) = status::<T>(id) {
		frame_system::Pallet::<T>::set_block_number(at);
		Requests::<T>::mutate(id, |r| {
			if let Some(r) = r {
				Pallet::<T>::draw(id, r, at);
			}
		});
	}
	id
}

fn assignment<T: Config>(id: RequestId, slot: u32) -> Assignment<T::AccountId> {
	match Requests::<T>::get(id).and_then(|r| r.executors.get(slot as usize).cloned()) {
		Some(a) => a,
		None => panic!("benchmark request without slot {slot}"),
	}
}

fn status<T: Config>(id: RequestId) -> Option<RequestStatus<BlockNumberFor<T>>> {
	Requests::<T>::get(id).map(|r| r.status)
}

/// A receipt of assignment `a` of request `id` for `output`.
fn receipt<T: Config>(
	id: RequestId,
	a: &Assignment<T::AccountId>,
	output: &[u8],
) -> ReceiptSignature {
	let Some(req) = Requests::<T>::get(id) else { panic!("benchmark request missing") };
	let output_hash = H256(sp_io::hashing::blake2_256(output));
	let message = Pallet::<T>::receipt_message_here(id, &req.model, &req.input_hash, &output_hash);
	T::BenchmarkHelper::sign(&a.provider, &a.executor, &message)
}

/// Slot `slot` of request `id` posts `output`.
fn post<T: Config>(id: RequestId, slot: u32, output: &[u8]) {
	let a = assignment::<T>(id, slot);
	let receipt = receipt::<T>(id, &a, output);
	let output = BoundedVec::truncate_from(output.to_vec());
	if let Err(e) = Pallet::<T>::do_submit(a.executor, id, output, receipt) {
		panic!("benchmark result: {e:?}");
	}
}

/// Slots `0..posted` of request `id` post `output`, the last of them `last`.
fn post_round<T: Config>(id: RequestId, posted: u32, output: &[u8], last: &[u8]) {
	for slot in 0..posted {
		post::<T>(id, slot, if slot.saturating_add(1) == posted { last } else { output });
	}
}

/// Fill the timeout queues of all but the last block `schedule_slot` tries from `at`.
fn fill_timeouts<T: Config>(at: BlockNumberFor<T>) {
	let full: BoundedVec<RequestId, T::MaxTimeoutsPerBlock> = BoundedVec::truncate_from(
		(0..T::MaxTimeoutsPerBlock::get()).map(|i| u64::MAX.saturating_sub(i.into())).collect(),
	);
	let mut b = at;
	for _ in 1..SCHEDULE_SEARCH {
		Timeouts::<T>::insert(b, full.clone());
		b = b.saturating_add(1u32.into());
	}
}

/// `n` requests of `MaxRedundancy` executors due at the same block, each with its first
/// `posted` slots posted full-size outputs that agree, or with `odd` whose last differs; the
/// block number is set to their deadline, which is returned.
fn due_rounds<T: Config>(n: u32, posted: u32, odd: bool) -> (BlockNumberFor<T>, Vec<RequestId>) {
	let k = T::MaxRedundancy::get();
	let (output, _) = tensor_list(T::MaxOutputLen::get(), false);
	let last = if odd { tensor_list(T::MaxOutputLen::get(), true).0 } else { output.clone() };
	let model = setup_model::<T>(0, k, true);
	let who = requester::<T>(&model, n);
	let deadline =
		frame_system::Pallet::<T>::block_number().saturating_add(T::ResultDeadline::get());
	let ids: Vec<RequestId> = (0..n).map(|_| new_request::<T>(&who, model, k)).collect();
	for id in &ids {
		post_round::<T>(*id, posted, &output, &last);
	}
	assert_eq!(Timeouts::<T>::decode_len(deadline).unwrap_or(0) as u32, n);
	frame_system::Pallet::<T>::set_block_number(deadline);
	(deadline, ids)
}

/// Use up `provider`'s free failure reports of the current window, so its next one is
/// penalized (the costlier path of `report_failure`).
fn exhaust_failures<T: Config>(provider: &T::AccountId) {
	let now = frame_system::Pallet::<T>::block_number();
	Failures::<T>::insert(provider, (now, T::FreeFailures::get()));
}

/// Key type of the executor keys benchmarks generate in the keystore.
pub const BENCH_KEY_TYPE: KeyTypeId = KeyTypeId(*b"vbch");

/// The SURI of `provider`'s benchmark executor key: a raw hex seed, which the keystore derives
/// without the key stretching of a mnemonic.
fn executor_suri<A: Encode>(provider: &A) -> Vec<u8> {
	const HEX: &[u8; 16] = b"0123456789abcdef";
	let seed = sp_io::hashing::blake2_256(&(b"verity/bench/executor", provider).encode());
	let mut suri = b"0x".to_vec();
	for byte in seed {
		for nibble in [byte >> 4, byte & 0x0f] {
			suri.extend(HEX.get(nibble as usize).copied());
		}
	}
	suri
}

fn executor_public<A: Encode>(provider: &A) -> sp_core::ecdsa::Public {
	sp_io::crypto::ecdsa_generate(BENCH_KEY_TYPE, Some(executor_suri(provider)))
}

/// Generate `provider`'s benchmark executor key, a secp256k1 key in the keystore (the benchmark
/// CLI registers one; tests register a `MemoryKeystore`), and return its account:
/// `blake2_256` of the compressed public key, the account of an ECDSA `MultiSigner`, which is
/// what [`EcdsaReceipts`] recovers. Deterministic: the same provider gets the same key.
pub fn ecdsa_executor<A: Encode + From<[u8; 32]>>(provider: &A) -> A {
	A::from(sp_io::hashing::blake2_256(executor_public(provider).as_ref()))
}

/// A receipt over `message` by `provider`'s benchmark executor key ([`ecdsa_executor`]), in the
/// `r ++ s ++ v` form [`EcdsaReceipts`] checks.
pub fn ecdsa_receipt<A: Encode>(provider: &A, message: &[u8; 32]) -> ReceiptSignature {
	let public = executor_public(provider);
	match sp_io::crypto::ecdsa_sign_prehashed(BENCH_KEY_TYPE, &public, message) {
		Some(signature) => signature.to_raw(),
		None => panic!("benchmark executor key not in the keystore"),
	}
}

/// A `Provisional` request that `InferenceForDisputes::begin_challenge` accepts, judged on
/// `candidates` full-size posted outputs (at most `MaxRedundancy`), of a model served by at
/// least `jurors` eligible providers besides the accused, all with stake unbonding in every
/// bucket a slash reaches: what pallet-disputes' `BenchmarkHelper::challengeable_request`
/// returns in a runtime.
///
/// A redundant request never becomes provisional (its outputs finalize or dispute it at once),
/// so with more than one candidate the request is made `Redundant(candidates)` and switched to
/// `Optimistic` before its last slot posts: it becomes provisional with every posted output a
/// candidate, as the dispute a redundant disagreement opens would have, and can be challenged.
pub fn challengeable_request<T: Config>(candidates: u32, jurors: u32) -> RequestId {
	let k = candidates.clamp(1, T::MaxRedundancy::get());
	let (output, _) = tensor_list(T::MaxOutputLen::get(), false);
	let model = setup_model::<T>(1, k.saturating_add(jurors), true);
	let who = requester::<T>(&model, 1);
	let id = new_request::<T>(&who, model, k);
	for slot in 0..k {
		if slot.saturating_add(1) == k {
			Requests::<T>::mutate(id, |r| {
				if let Some(r) = r {
					r.policy = Policy::Optimistic;
					r.reference = None;
				}
			});
		}
		post::<T>(id, slot, &output);
	}
	assert!(matches!(status::<T>(id), Some(RequestStatus::Provisional { .. })));
	id
}

/// A provisional request judged on `k` full-size posted outputs whose audit is assigned, of a
/// model with `others` more providers (the auditor, and one to redraw); returns it and the
/// auditor's executor key.
fn audited<T: Config>(k: u32, others: u32) -> (RequestId, T::AccountId) {
	let id = challengeable_request::<T>(k, others);
	let Some(req) = Requests::<T>::get(id) else { panic!("benchmark request {id} missing") };
	AuditRate::<T>::put(sp_runtime::Perbill::one());
	Pallet::<T>::draw_audit(id, &req, H256::zero());
	match Audits::<T>::get(id) {
		Some(Audit::Assigned { executor, .. }) => (id, executor),
		other => panic!("benchmark audit not assigned: {other:?}"),
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A request with an input of `b` bytes for `k` executors (optimistic for `k = 1`), when
	/// the timeout queues of all but the last block `schedule_slot` tries are full.
	#[benchmark]
	fn request(
		b: Linear<{ MIN_LEN }, { T::MaxInputLen::get() }>,
		k: Linear<1, { T::MaxRedundancy::get() }>,
	) {
		let model = setup_model::<T>(0, T::MaxRedundancy::get(), false);
		let who = requester::<T>(&model, 1);
		let input = BoundedVec::truncate_from(tensor_list(b, false).0);
		let now = frame_system::Pallet::<T>::block_number();
		// The request's first timer: its draw, or (drawing at once) its deadline.
		let delay = T::DrawDelay::get();
		let first = if delay.is_zero() { T::ResultDeadline::get() } else { delay };
		fill_timeouts::<T>(now.saturating_add(first));
		let id = NextRequestId::<T>::get();
		let max_fee = fee::<T>(&model, k);

		#[extrinsic_call]
		_(RawOrigin::Signed(who), model, input, max_fee, policy(k));

		assert!(Requests::<T>::get(id).is_some_and(|r| match r.status {
			RequestStatus::Drawing { .. } => !delay.is_zero(),
			_ => r.executors.len() as u32 == k,
		}));
	}

	/// The last of `k` slots posts an output of `b` bytes that agrees with the first: the two
	/// are decoded and compared, and the request is finalized paying the royalty and `k`
	/// executors. For `k = 1` the optimistic result becomes provisional.
	#[benchmark]
	fn submit_result(
		b: Linear<{ MIN_LEN }, { T::MaxOutputLen::get() }>,
		k: Linear<1, { T::MaxRedundancy::get() }>,
	) {
		let (output, _) = tensor_list(b, false);
		let model = setup_model::<T>(0, k, false);
		let who = requester::<T>(&model, 1);
		let id = new_request::<T>(&who, model, k);
		let last = k.saturating_sub(1);
		post_round::<T>(id, last, &output, &output);
		let a = assignment::<T>(id, last);
		let receipt = receipt::<T>(id, &a, &output);

		#[extrinsic_call]
		submit_result(
			RawOrigin::Signed(a.executor),
			id,
			BoundedVec::truncate_from(output),
			receipt,
		);

		assert!(match status::<T>(id) {
			Some(RequestStatus::Provisional { .. }) => k == 1,
			Some(RequestStatus::Finalized { .. }) => k > 1,
			_ => false,
		});
	}

	/// The last of `k` slots posts an output of `b` bytes that disagrees with the first in its
	/// last element: a dispute opens (in the runtime, a jury is drawn).
	#[benchmark]
	fn submit_result_disputed(
		b: Linear<{ MIN_LEN }, { T::MaxOutputLen::get() }>,
		k: Linear<2, { T::MaxRedundancy::get() }>,
	) {
		let (output, _) = tensor_list(b, false);
		let (odd, _) = tensor_list(b, true);
		let model = setup_model::<T>(0, k, false);
		let who = requester::<T>(&model, 1);
		let id = new_request::<T>(&who, model, k);
		let last = k.saturating_sub(1);
		post_round::<T>(id, last, &output, &output);
		let a = assignment::<T>(id, last);
		let receipt = receipt::<T>(id, &a, &odd);

		#[extrinsic_call]
		submit_result(RawOrigin::Signed(a.executor), id, BoundedVec::truncate_from(odd), receipt);

		assert_eq!(status::<T>(id), Some(RequestStatus::Disputed));
	}

	/// The last of `k` slots reports a failure beyond its provider's free allowance (a slash
	/// with stake unbonding in every bucket) after the others posted full-size outputs that
	/// agree (compared when they were posted): fewer than `k` agreed, so the request becomes
	/// provisional. For `k = 1` the optimistic request is reassigned (a new executor is drawn).
	#[benchmark]
	fn report_failure(k: Linear<1, { T::MaxRedundancy::get() }>) {
		let (output, _) = tensor_list(T::MaxOutputLen::get(), false);
		let model = setup_model::<T>(0, T::MaxRedundancy::get(), true);
		let who = requester::<T>(&model, 1);
		let id = new_request::<T>(&who, model, k);
		let last = k.saturating_sub(1);
		post_round::<T>(id, last, &output, &output);
		let a = assignment::<T>(id, last);
		exhaust_failures::<T>(&a.provider);

		#[extrinsic_call]
		_(RawOrigin::Signed(a.executor.clone()), id);

		assert!(!Assignments::<T>::contains_key(&a.executor, id));
		assert!(match status::<T>(id) {
			Some(RequestStatus::Assigned { .. }) | Some(RequestStatus::Refunded { .. }) => k == 1,
			Some(RequestStatus::Provisional { .. }) => k > 1,
			_ => false,
		});
	}

	/// The last of `k` slots reports a failure beyond its allowance (a slash with stake
	/// unbonding in every bucket) after the others posted full-size outputs of which the last
	/// disagrees: a dispute opens. (With `k = 2` the one posted output is provisional.)
	#[benchmark]
	fn report_failure_disputed(k: Linear<2, { T::MaxRedundancy::get() }>) {
		let (output, _) = tensor_list(T::MaxOutputLen::get(), false);
		let (odd, _) = tensor_list(T::MaxOutputLen::get(), true);
		let model = setup_model::<T>(0, k, true);
		let who = requester::<T>(&model, 1);
		let id = new_request::<T>(&who, model, k);
		let last = k.saturating_sub(1);
		post_round::<T>(id, last, &output, &odd);
		let a = assignment::<T>(id, last);
		exhaust_failures::<T>(&a.provider);

		#[extrinsic_call]
		report_failure(RawOrigin::Signed(a.executor), id);

		assert!(match status::<T>(id) {
			Some(RequestStatus::Disputed) => k > 2,
			Some(RequestStatus::Provisional { .. }) => k == 2,
			_ => false,
		});
	}

	/// The drawn auditor of a provisional result judged on `k` full-size posted outputs
	/// disagrees: a dispute opens, raised by the auditor.
	#[benchmark]
	fn audit_disagrees(k: Linear<1, { T::MaxRedundancy::get() }>) {
		let (id, executor) = audited::<T>(k, 1);

		#[extrinsic_call]
		audit(RawOrigin::Signed(executor), id, AuditFinding::Disagrees);

		assert_eq!(status::<T>(id), Some(RequestStatus::Disputed));
		assert!(matches!(Audits::<T>::get(id), Some(Audit::Alarmed { .. })));
	}

	/// The drawn auditor declines beyond its free failure reports (a slash with stake
	/// unbonding in every bucket), and another auditor is scheduled (drawn at once where
	/// `DrawDelay` is zero). One candidate fewer than the most, so that the model's providers
	/// (`MaxProvidersPerModel`) fit the executors and two auditors in the mock too.
	#[benchmark]
	fn audit_cannot_run() {
		let k = T::MaxRedundancy::get().saturating_sub(1).max(1);
		let (id, executor) = audited::<T>(k, 2);
		let provider = match Audits::<T>::get(id) {
			Some(Audit::Assigned { provider, .. }) => provider,
			other => panic!("benchmark audit not assigned: {other:?}"),
		};
		exhaust_failures::<T>(&provider);

		#[extrinsic_call]
		audit(RawOrigin::Signed(executor), id, AuditFinding::CannotRun);

		assert!(matches!(
			Audits::<T>::get(id),
			Some(Audit::Redrawing { .. }) | Some(Audit::Assigned { .. })
		));
	}

	/// `on_initialize` at the window close of `n` rounds of `MaxRedundancy` slots whose last
	/// slot missed its deadline and whose other slots posted full-size outputs that agree (so
	/// they became provisional): per entry a finalization paying `MaxRedundancy - 1`
	/// executors. The deadline itself (a slash per missing slot and a queued window close)
	/// costs less than the deadline of `on_initialize_missed`, which slashes every slot.
	#[benchmark]
	fn on_initialize_finalize(n: Linear<0, { T::MaxTimeoutsPerBlock::get() }>) {
		let posted = T::MaxRedundancy::get().saturating_sub(1);
		let (deadline, ids) = due_rounds::<T>(n, posted, false);
		Pallet::<T>::on_initialize(deadline);
		let close = deadline.saturating_add(T::ChallengeWindow::get());
		for id in &ids {
			assert_eq!(status::<T>(*id), Some(RequestStatus::Provisional { until: close }));
		}
		frame_system::Pallet::<T>::set_block_number(close);

		#[block]
		{
			Pallet::<T>::on_initialize(close);
		}

		for id in ids {
			assert!(matches!(status::<T>(id), Some(RequestStatus::Finalized { .. })));
		}
	}

	/// As `on_initialize_finalize`, but the last posted output of every round disagreed: per
	/// entry a slash and a dispute (in the runtime, a jury is drawn; a dispute
	/// that cannot be queued refunds the request instead).
	#[benchmark]
	fn on_initialize_disputed(n: Linear<0, { T::MaxTimeoutsPerBlock::get() }>) {
		let posted = T::MaxRedundancy::get().saturating_sub(1);
		let (deadline, ids) = due_rounds::<T>(n, posted, true);

		#[block]
		{
			Pallet::<T>::on_initialize(deadline);
		}

		for id in ids {
			assert!(matches!(
				status::<T>(id),
				Some(RequestStatus::Disputed) | Some(RequestStatus::Refunded { .. })
			));
		}
	}

	/// `on_initialize` at the deadline of `n` rounds of `MaxRedundancy` slots none of which
	/// posted: per entry a slash per slot and a refund.
	#[benchmark]
	fn on_initialize_missed(n: Linear<0, { T::MaxTimeoutsPerBlock::get() }>) {
		let (deadline, ids) = due_rounds::<T>(n, 0, false);

		#[block]
		{
			Pallet::<T>::on_initialize(deadline);
		}

		for id in ids {
			assert!(matches!(status::<T>(id), Some(RequestStatus::Refunded { .. })));
		}
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
