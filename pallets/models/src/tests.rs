//! Unit tests of pallet-models: every call, every error path, genesis and the registry trait.

use crate::{mock::*, traits::ModelRegistry, *};
use codec::Encode;
use frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold, BoundedVec};
use sp_core::H256;
use sp_runtime::{DispatchError, TokenError};

use verity_engine::{encode_tensors, Tensor};

/// Canonical one-tensor f32 `[1, 4]` list, bounded for `attest`.
fn f32_list(values: [f32; 4]) -> BoundedVec<u8, MaxReferenceSize> {
	let t = Tensor::from_f32(vec![1, 4], &values).expect("valid tensor");
	BoundedVec::truncate_from(encode_tensors(&[t]))
}

/// The reference output of `spec`.
fn expected() -> BoundedVec<u8, MaxReferenceSize> {
	f32_list([0.5, 0.25, 1.0, 2.0])
}

/// Off the reference output by far more than the tolerance.
fn wrong() -> BoundedVec<u8, MaxReferenceSize> {
	f32_list([0.5, 0.25, 1.0, 2.5])
}

fn model_bytes(len: usize, seed: u8) -> Vec<u8> {
	(0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

fn hash_of(bytes: &[u8]) -> H256 {
	H256(sp_io::hashing::blake2_256(bytes))
}

fn tensor() -> TensorSpec {
	TensorSpec { dtype: DType::F32, dims: BoundedVec::truncate_from(vec![None, Some(4)]) }
}

fn spec(byte_size: u64, availability: Availability) -> ModelSpecOf<Test> {
	ModelSpec {
		name: BoundedVec::truncate_from(b"demo".to_vec()),
		inputs: BoundedVec::truncate_from(vec![tensor()]),
		outputs: BoundedVec::truncate_from(vec![tensor()]),
		opset: 17,
		engine_version: ENGINE,
		price_per_call: 5,
		acceptance: AcceptanceRule::Tolerance { abs: 1_000, rel: 10 },
		execution: ExecutionClass::Native,
		byte_size,
		max_constant_bytes: DECLARED,
		availability,
		reference_input: BoundedVec::truncate_from(f32_list([1.0, 2.0, 3.0, 4.0]).into_inner()),
		reference_output: expected(),
	}
}

fn uris() -> Availability {
	Availability::Uris(BoundedVec::truncate_from(vec![BoundedVec::truncate_from(
		b"https://models.example/m.onnx".to_vec(),
	)]))
}

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ModelDeposit.into(), &who)
}

fn record_deposit(s: &ModelSpecOf<Test>) -> Balance {
	BASE_DEPOSIT + PER_BYTE * s.encoded_size() as u64 + PER_CONSTANT_BYTE * s.max_constant_bytes
}

/// Constants the test specs declare.
const DECLARED: u64 = 4_096;

/// The engine figures the test attesters report: within `DECLARED` and `MAX_MODEL_FLOPS`.
const FIGURES: GraphBounds = GraphBounds { constant_bytes: 1_000, flops: 50_000 };

/// An attestation that ran the model and got `output`, with [`FIGURES`].
fn ran(output: BoundedVec<u8, MaxReferenceSize>) -> AttestationOf<Test> {
	Attestation::Ran { output, bounds: FIGURES }
}

/// Registers an on-chain model of `len` bytes; returns its id and bytes.
fn register_on_chain(len: usize) -> (H256, Vec<u8>) {
	let bytes = model_bytes(len, 3);
	let id = hash_of(&bytes);
	assert_ok!(ModelsPallet::register_model(
		RuntimeOrigin::signed(OWNER),
		id,
		spec(len as u64, Availability::OnChain)
	));
	(id, bytes)
}

fn upload_all(id: H256, bytes: &[u8]) {
	for (i, c) in bytes.chunks(CHUNK as usize).enumerate().rev() {
		assert_ok!(ModelsPallet::upload_chunk(
			RuntimeOrigin::signed(OWNER),
			id,
			i as u32,
			BoundedVec::truncate_from(c.to_vec())
		));
	}
}

fn register_uri_model() -> H256 {
	let id = H256([42u8; 32]);
	assert_ok!(ModelsPallet::register_model(
		RuntimeOrigin::signed(OWNER),
		id,
		spec(1_000_000, uris())
	));
	id
}

fn status(id: H256) -> ModelStatus<u64> {
	crate::Models::<Test>::get(id).unwrap().status
}

// ---- register_model ----

#[test]
fn register_model_works_on_chain() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, _) = register_on_chain(40);
		let s = spec(40, Availability::OnChain);
		let deposit = record_deposit(&s) + 40 * PER_BYTE;
		assert_eq!(held(OWNER), deposit);
		let info = crate::Models::<Test>::get(id).unwrap();
		assert_eq!(info.chunk_count, 3);
		assert!(!info.bytes_verified);
		assert_eq!(info.status, ModelStatus::Pending);
		System::assert_last_event(
			Event::ModelRegistered { model: id, owner: OWNER, deposit }.into(),
		);
		assert!(!<ModelsPallet as ModelRegistry<_, _>>::is_active(&id));
	});
}

#[test]
fn register_model_works_with_uris() {
	ExtBuilder::default().build_and_execute(|| {
		let id = register_uri_model();
		let info = crate::Models::<Test>::get(id).unwrap();
		assert_eq!(info.chunk_count, 0);
		assert!(info.bytes_verified);
		assert_eq!(info.bytes_deposit, 0);
		assert_eq!(held(OWNER), record_deposit(&spec(1_000_000, uris())));
	});
}

#[test]
fn register_model_fails_on_duplicate() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, _) = register_on_chain(40);
		assert_noop!(
			ModelsPallet::register_model(
				RuntimeOrigin::signed(OTHER),
				id,
				spec(40, Availability::OnChain)
			),
			Error::<Test>::ModelAlreadyRegistered
		);
	});
}

#[test]
fn register_model_fails_on_invalid_specs() {
	ExtBuilder::default().build_and_execute(|| {
		let id = H256([1u8; 32]);
		let reg = |s: ModelSpecOf<Test>| {
			ModelsPallet::register_model(RuntimeOrigin::signed(OWNER), id, s)
		};
		let mut s = spec(10, Availability::OnChain);
		s.name = BoundedVec::default();
		assert_noop!(reg(s), Error::<Test>::EmptyName);
		let mut s = spec(10, Availability::OnChain);
		s.outputs = BoundedVec::default();
		assert_noop!(reg(s), Error::<Test>::NoTensors);
		let mut s = spec(10, Availability::OnChain);
		s.inputs = BoundedVec::truncate_from(vec![TensorSpec {
			dtype: DType::I8,
			dims: BoundedVec::truncate_from(vec![Some(1), None]),
		}]);
		assert_noop!(reg(s), Error::<Test>::InvalidReferenceInput);
		let mut s = spec(10, Availability::OnChain);
		s.reference_input = BoundedVec::truncate_from(vec![1, 2, 3]);
		assert_noop!(reg(s), Error::<Test>::InvalidReferenceInput);
		let mut s = spec(10, Availability::OnChain);
		s.outputs = BoundedVec::truncate_from(vec![tensor(), tensor()]);
		assert_noop!(reg(s), Error::<Test>::InvalidReferenceOutput);
		let mut s = spec(10, Availability::OnChain);
		s.acceptance = AcceptanceRule::TopK(0);
		assert_noop!(reg(s), Error::<Test>::TopKZero);
		assert_noop!(reg(spec(0, Availability::OnChain)), Error::<Test>::EmptyModel);
		assert_noop!(
			reg(spec(MAX_MODEL as u64 + 1, Availability::OnChain)),
			Error::<Test>::ModelTooLarge
		);
		assert_noop!(
			reg(spec(10, Availability::Uris(BoundedVec::default()))),
			Error::<Test>::NoUris
		);
		// URI models may exceed the on-chain maximum.
		assert_ok!(reg(spec(MAX_MODEL as u64 * 1000, uris())));
	});
}

/// Issue 13, attack 4: rules that accept any output are not registrable (the spec's outputs
/// are `[None, Some(4)]`).
#[test]
fn register_model_fails_on_rules_that_accept_anything() {
	ExtBuilder::default().build_and_execute(|| {
		let id = H256([1u8; 32]);
		let reg = |rule: AcceptanceRule| {
			let mut s = spec(10, Availability::OnChain);
			s.acceptance = rule;
			ModelsPallet::register_model(RuntimeOrigin::signed(OWNER), id, s)
		};
		for k in [3, 4, 5, u32::MAX] {
			assert_noop!(reg(AcceptanceRule::TopK(k)), Error::<Test>::TopKCoversRow);
		}
		assert_noop!(
			reg(AcceptanceRule::Tolerance { abs: MAX_TOLERANCE_ABS + 1, rel: 0 }),
			Error::<Test>::ToleranceTooLoose
		);
		assert_noop!(
			reg(AcceptanceRule::Tolerance { abs: 0, rel: MAX_TOLERANCE_REL + 1 }),
			Error::<Test>::ToleranceTooLoose
		);
		assert_noop!(
			reg(AcceptanceRule::Tolerance { abs: u64::MAX, rel: u32::MAX }),
			Error::<Test>::ToleranceTooLoose
		);
		// The bounds themselves are registrable.
		assert_ok!(reg(AcceptanceRule::Tolerance {
			abs: MAX_TOLERANCE_ABS,
			rel: MAX_TOLERANCE_REL
		}));
	});
	ExtBuilder::default().build_and_execute(|| {
		let mut s = spec(10, Availability::OnChain);
		s.acceptance = AcceptanceRule::TopK(2);
		assert_ok!(ModelsPallet::register_model(RuntimeOrigin::signed(OWNER), H256([2; 32]), s));
	});
}

#[test]
fn register_model_fails_when_argmax_or_topk_rows_are_not_fixed_or_too_short() {
	ExtBuilder::default().build_and_execute(|| {
		let id = H256([1u8; 32]);
		// A spec whose output is `dims`, with a matching reference output.
		let reg = |rule: AcceptanceRule, dims: Vec<Option<u32>>, shape: Vec<u32>| {
			let mut s = spec(10, Availability::OnChain);
			s.acceptance = rule;
			s.outputs = BoundedVec::truncate_from(vec![TensorSpec {
				dtype: DType::F32,
				dims: BoundedVec::truncate_from(dims),
			}]);
			let n = shape.iter().product::<u32>() as usize;
			let t = Tensor::from_f32(shape, &vec![0.5; n]).expect("valid tensor");
			s.reference_output = BoundedVec::truncate_from(encode_tensors(&[t]));
			ModelsPallet::register_model(RuntimeOrigin::signed(OWNER), id, s)
		};
		assert_noop!(
			reg(AcceptanceRule::ArgMax, vec![Some(1), Some(1)], vec![1, 1]),
			Error::<Test>::ArgMaxRowTooShort
		);
		assert_noop!(
			reg(AcceptanceRule::ArgMax, vec![Some(1), None], vec![1, 4]),
			Error::<Test>::RuleNeedsFixedLastAxis
		);
		assert_noop!(
			reg(AcceptanceRule::TopK(1), vec![], vec![]),
			Error::<Test>::RuleNeedsFixedLastAxis
		);
		assert_ok!(reg(AcceptanceRule::ArgMax, vec![None, Some(2)], vec![1, 2]));
	});
}

#[test]
fn register_model_fails_without_funds() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			ModelsPallet::register_model(
				RuntimeOrigin::signed(POOR),
				H256([1u8; 32]),
				spec(10, uris())
			),
			TokenError::FundsUnavailable
		);
	});
}

#[test]
fn register_model_fails_unsigned() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			ModelsPallet::register_model(RuntimeOrigin::none(), H256([1u8; 32]), spec(10, uris())),
			DispatchError::BadOrigin
		);
	});
}

// ---- upload_chunk ----

#[test]
fn upload_chunk_works_in_any_order_and_verifies() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, bytes) = register_on_chain(40);
		let chunks: Vec<_> = bytes.chunks(CHUNK as usize).collect();
		for i in [2usize, 0] {
			assert_ok!(ModelsPallet::upload_chunk(
				RuntimeOrigin::signed(OWNER),
				id,
				i as u32,
				BoundedVec::truncate_from(chunks[i].to_vec())
			));
			System::assert_last_event(Event::ChunkUploaded { model: id, index: i as u32 }.into());
		}
		assert!(!crate::Models::<Test>::get(id).unwrap().bytes_verified);
		assert_ok!(ModelsPallet::upload_chunk(
			RuntimeOrigin::signed(OWNER),
			id,
			1,
			BoundedVec::truncate_from(chunks[1].to_vec())
		));
		System::assert_last_event(Event::ModelBytesVerified { model: id }.into());
		let info = crate::Models::<Test>::get(id).unwrap();
		assert!(info.bytes_verified);
		assert_eq!(info.chunks_received, 3);
		assert_eq!(status(id), ModelStatus::Pending);
	});
}

#[test]
fn upload_chunk_exact_multiple_of_chunk_size() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, bytes) = register_on_chain(MAX_MODEL as usize);
		assert_eq!(crate::Models::<Test>::get(id).unwrap().chunk_count, MAX_MODEL / CHUNK);
		upload_all(id, &bytes);
		assert!(crate::Models::<Test>::get(id).unwrap().bytes_verified);
	});
}

#[test]
fn upload_chunk_mismatch_clears_chunks_and_allows_retry() {
	ExtBuilder::default().build_and_execute(|| {
		let bytes = model_bytes(20, 3);
		let id = hash_of(&bytes);
		assert_ok!(ModelsPallet::register_model(
			RuntimeOrigin::signed(OWNER),
			id,
			spec(20, Availability::OnChain)
		));
		let mut bad = bytes.clone();
		bad[0] ^= 1;
		upload_all(id, &bad);
		let info = crate::Models::<Test>::get(id).unwrap();
		assert_eq!(info.chunks_received, 0);
		assert!(!info.bytes_verified);
		assert_eq!(Chunks::<Test>::iter_prefix(id).count(), 0);
		assert!(events().contains(&Event::ModelBytesMismatch { model: id, actual: hash_of(&bad) }));
		// The owner uploads the right bytes.
		upload_all(id, &bytes);
		assert!(crate::Models::<Test>::get(id).unwrap().bytes_verified);
	});
}

#[test]
fn upload_chunk_fails_on_bad_input() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, bytes) = register_on_chain(40);
		let up = |who, index, b: &[u8]| {
			ModelsPallet::upload_chunk(
				RuntimeOrigin::signed(who),
				id,
				index,
				BoundedVec::truncate_from(b.to_vec()),
			)
		};
		assert_noop!(
			ModelsPallet::upload_chunk(
				RuntimeOrigin::signed(OWNER),
				H256::zero(),
				0,
				BoundedVec::default()
			),
			Error::<Test>::ModelNotFound
		);
		assert_noop!(up(OTHER, 0, &bytes[..16]), Error::<Test>::NotOwner);
		assert_noop!(up(OWNER, 3, &bytes[..8]), Error::<Test>::ChunkIndexOutOfRange);
		assert_noop!(up(OWNER, 0, &bytes[..15]), Error::<Test>::WrongChunkLength);
		assert_noop!(up(OWNER, 2, &bytes[32..39]), Error::<Test>::WrongChunkLength);
		assert_ok!(up(OWNER, 0, &bytes[..16]));
		assert_noop!(up(OWNER, 0, &bytes[..16]), Error::<Test>::ChunkAlreadyUploaded);
		let uri = register_uri_model();
		assert_noop!(
			ModelsPallet::upload_chunk(RuntimeOrigin::signed(OWNER), uri, 0, BoundedVec::default()),
			Error::<Test>::NotOnChain
		);
		assert_ok!(ModelsPallet::retire(RuntimeOrigin::signed(OWNER), id));
		assert_noop!(up(OWNER, 1, &bytes[16..32]), Error::<Test>::ModelNotPending);
	});
}

// ---- attest ----

fn verified_model() -> H256 {
	let (id, bytes) = register_on_chain(40);
	upload_all(id, &bytes);
	id
}

#[test]
fn attest_activates_after_required_matches() {
	ExtBuilder::default().build_and_execute(|| {
		let id = verified_model();
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_1), id, ran(expected())));
		System::assert_last_event(
			Event::Attested { model: id, attester: ATTESTER_1, count: 1 }.into(),
		);
		assert_eq!(status(id), ModelStatus::Pending);
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_2), id, ran(expected())));
		// 50,000 FLOPs at 1,000 a millisecond: 50 ms on top of the 5,000 ms floor.
		let run_ms = MIN_RUN_MS + 50;
		System::assert_last_event(
			Event::ModelActivated { model: id, bounds: FIGURES, run_ms }.into(),
		);
		assert_eq!(status(id), ModelStatus::Active { since: 1 });
		assert_eq!(Models::<Test>::get(id).unwrap().bounds, Some(FIGURES));
		let view = <ModelsPallet as ModelRegistry<AccountId, Balance>>::model(&id).unwrap();
		assert_eq!(
			view.limits,
			verity_primitives::RunLimits {
				engine_version: ENGINE,
				max_constant_bytes: DECLARED,
				run_ms,
				within_capacity: true,
				deterministic: None,
			}
		);
		assert_eq!(ModelsPallet::model_info(id).unwrap().run_ms, run_ms);
		assert!(Attestations::<Test>::get(id).is_empty());
		assert!(<ModelsPallet as ModelRegistry<_, _>>::is_active(&id));
		assert_eq!(<ModelsPallet as ModelRegistry<_, _>>::owner(&id), Some(OWNER));
		assert_eq!(<ModelsPallet as ModelRegistry<_, _>>::price(&id), Some(5));
		assert_eq!(
			<ModelsPallet as ModelRegistry<_, _>>::acceptance_rule(&id),
			Some(AcceptanceRule::Tolerance { abs: 1_000, rel: 10 })
		);
		// Chunks stay for nodes to fetch.
		assert_eq!(Chunks::<Test>::iter_prefix(id).count(), 3);
	});
}

// ---- execution classes ----

/// A `Deterministic` model needs the `Exact` rule. Once active, its run limits carry the
/// deterministic terms (its declared constants, its attested FLOPs, fuel from those and its
/// size), and it alone, bytes on chain and figures attested, is offered for in-block runs: a
/// `Native` model in the same state is not.
#[test]
fn deterministic_models_need_exact_and_run_under_deterministic_terms() {
	ExtBuilder::default().build_and_execute(|| {
		let bytes = model_bytes(40, 7);
		let id = hash_of(&bytes);
		let tolerant = ModelSpec {
			execution: ExecutionClass::Deterministic,
			..spec(40, Availability::OnChain)
		};
		assert_noop!(
			ModelsPallet::register_model(RuntimeOrigin::signed(OWNER), id, tolerant.clone()),
			Error::<Test>::DeterministicNeedsExact
		);
		let exact = ModelSpec { acceptance: AcceptanceRule::Exact, ..tolerant };
		assert_ok!(ModelsPallet::register_model(RuntimeOrigin::signed(OWNER), id, exact));
		upload_all(id, &bytes);
		let registry =
			|id| <ModelsPallet as ModelRegistry<AccountId, Balance>>::in_block_figures(&id);
		assert_eq!(registry(id), None, "pending");
		for attester in [ATTESTER_1, ATTESTER_2] {
			assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(attester), id, ran(expected())));
		}
		assert_eq!(status(id), ModelStatus::Active { since: 1 });

		let view = <ModelsPallet as ModelRegistry<AccountId, Balance>>::model(&id).unwrap();
		assert_eq!(
			view.limits.deterministic,
			Some(DeterministicTerms {
				max_constant_bytes: DECLARED,
				max_flops: FIGURES.flops,
				fuel: BASE_FUEL + FIGURES.flops * 50 + 40 * 500,
				memory_bytes: 256 << 20,
			})
		);
		assert_eq!(
			registry(id),
			Some(InBlockFigures {
				byte_size: 40,
				chunks: 3,
				terms: view.limits.deterministic.unwrap(),
			})
		);
		assert_eq!(ModelsPallet::model_info(id).unwrap().execution, ExecutionClass::Deterministic);

		// The same state for a `Native` model: no deterministic terms, no in-block runs.
		let native = verified_model();
		for attester in [ATTESTER_1, ATTESTER_2] {
			assert_ok!(ModelsPallet::attest(
				RuntimeOrigin::signed(attester),
				native,
				ran(expected())
			));
		}
		assert_eq!(status(native), ModelStatus::Active { since: 1 });
		let view = <ModelsPallet as ModelRegistry<AccountId, Balance>>::model(&native).unwrap();
		assert_eq!(view.limits.deterministic, None);
		assert_eq!(registry(native), None);
	});
}

/// Without recorded figures (a genesis model), the terms assume the largest model an attester
/// can certify, `MaxModelFlops`, as the run bound does, and its fuel is capped like any.
#[test]
fn deterministic_terms_without_figures_assume_the_capacity() {
	ExtBuilder::default().build_and_execute(|| {
		let s = ModelSpec {
			acceptance: AcceptanceRule::Exact,
			execution: ExecutionClass::Deterministic,
			..spec(1_000, uris())
		};
		let terms = ModelsPallet::deterministic_terms(&s, None);
		assert_eq!(terms.max_flops, MAX_MODEL_FLOPS);
		assert_eq!(terms.fuel, FUEL_CAP);
		MaxDeterministicFuel::set(u64::MAX);
		let terms = ModelsPallet::deterministic_terms(&s, None);
		assert_eq!(terms.fuel, BASE_FUEL + MAX_MODEL_FLOPS * 50 + 1_000 * 500);
		MaxDeterministicFuel::set(FUEL_CAP);
	});
}

/// The attack: deterministic-mode runs are metered by fuel, not wall time, and the fuel comes
/// from the model's FLOPs. An owner registers a `Deterministic` model as heavy as the per-node
/// capacity allows (`MaxModelFlops`): the formula's fuel would keep every attester, executor
/// and juror running far past the chain's windows (in the runtime, 500 billion units, minutes
/// on the slowest node), so honest jurors could not judge a wrong result in time. The terms
/// cap the fuel at `MaxDeterministicFuel`, off chain and in blocks alike: every run ends
/// within the cap on every node (and runs out of fuel alike beyond it).
#[test]
fn a_heavy_deterministic_model_gets_no_more_than_the_fuel_cap() {
	ExtBuilder::default().build_and_execute(|| {
		let bytes = model_bytes(40, 7);
		let id = hash_of(&bytes);
		let heavy = ModelSpec {
			acceptance: AcceptanceRule::Exact,
			execution: ExecutionClass::Deterministic,
			..spec(40, Availability::OnChain)
		};
		assert_ok!(ModelsPallet::register_model(RuntimeOrigin::signed(OWNER), id, heavy));
		upload_all(id, &bytes);
		let bounds = GraphBounds { constant_bytes: 1_000, flops: MAX_MODEL_FLOPS };
		for attester in [ATTESTER_1, ATTESTER_2] {
			let attestation = Attestation::Ran { output: expected(), bounds };
			assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(attester), id, attestation));
		}
		assert_eq!(status(id), ModelStatus::Active { since: 1 });
		let formula = BASE_FUEL + MAX_MODEL_FLOPS * 50 + 40 * 500;
		assert!(formula > FUEL_CAP);
		let view = <ModelsPallet as ModelRegistry<AccountId, Balance>>::model(&id).unwrap();
		let terms = view.limits.deterministic.expect("a Deterministic model");
		assert_eq!((terms.fuel, terms.max_flops), (FUEL_CAP, MAX_MODEL_FLOPS));
		let in_block = <ModelsPallet as ModelRegistry<AccountId, Balance>>::in_block_figures(&id);
		assert_eq!(in_block.map(|f| f.terms), Some(terms));
	});
}

#[test]
fn attest_mismatch_rejects_and_releases_bytes_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		let id = verified_model();
		let s = spec(40, Availability::OnChain);
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_1), id, ran(expected())));
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_2), id, ran(wrong())));
		System::assert_last_event(
			Event::ModelRejected {
				model: id,
				attester: ATTESTER_2,
				reason: RejectReason::OutputMismatch { commitment: hash_of(&wrong()) },
			}
			.into(),
		);
		assert_eq!(status(id), ModelStatus::Rejected { at: 1 });
		assert_eq!(held(OWNER), record_deposit(&s));
		assert_eq!(Chunks::<Test>::iter_prefix(id).count(), 0);
		assert!(Attestations::<Test>::get(id).is_empty());
		assert!(!<ModelsPallet as ModelRegistry<_, _>>::is_active(&id));
	});
}

#[test]
fn attest_fails_on_bad_state() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_1), H256::zero(), ran(expected())),
			Error::<Test>::ModelNotFound
		);
		let (id, bytes) = register_on_chain(40);
		assert_noop!(
			ModelsPallet::attest(RuntimeOrigin::signed(OTHER), id, ran(expected())),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_1), id, ran(expected())),
			Error::<Test>::BytesNotVerified
		);
		upload_all(id, &bytes);
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_1), id, ran(expected())));
		assert_noop!(
			ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_1), id, ran(expected())),
			Error::<Test>::AlreadyAttested
		);
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_2), id, ran(expected())));
		assert_noop!(
			ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_3), id, ran(expected())),
			Error::<Test>::ModelNotPending
		);
	});
}

#[test]
fn attest_works_for_uri_models_without_upload() {
	ExtBuilder::default().build_and_execute(|| {
		let id = register_uri_model();
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_1), id, ran(expected())));
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_3), id, ran(expected())));
		assert!(<ModelsPallet as ModelRegistry<_, _>>::is_active(&id));
	});
}

#[test]
fn attest_judges_by_the_acceptance_rule_not_by_hash() {
	ExtBuilder::default().build_and_execute(|| {
		let id = register_uri_model();
		// 0.5 + 1e-7 is a different bit pattern within the tolerance (abs 1e-6): an honest
		// machine with other float kernels certifies the model.
		assert_ok!(ModelsPallet::attest(
			RuntimeOrigin::signed(ATTESTER_1),
			id,
			ran(f32_list([0.500_000_1, 0.25, 1.0, 2.0]))
		));
		assert_ne!(f32_list([0.500_000_1, 0.25, 1.0, 2.0]), expected());
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_3), id, ran(expected())));
		assert!(<ModelsPallet as ModelRegistry<_, _>>::is_active(&id));
	});
}

#[test]
fn attest_with_non_canonical_output_rejects() {
	ExtBuilder::default().build_and_execute(|| {
		let id = register_uri_model();
		let garbage: BoundedVec<u8, MaxReferenceSize> = BoundedVec::truncate_from(vec![9, 9, 9]);
		assert_ok!(ModelsPallet::attest(
			RuntimeOrigin::signed(ATTESTER_1),
			id,
			ran(garbage.clone())
		));
		System::assert_last_event(
			Event::ModelRejected {
				model: id,
				attester: ATTESTER_1,
				reason: RejectReason::OutputMismatch { commitment: hash_of(&garbage) },
			}
			.into(),
		);
		assert_eq!(status(id), ModelStatus::Rejected { at: 1 });
	});
}

// ---- retire ----

#[test]
fn retire_works_by_owner_and_keeps_an_active_model_servable_until_reaped() {
	ExtBuilder::default().build_and_execute(|| {
		let id = verified_model();
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_1), id, ran(expected())));
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_2), id, ran(expected())));
		let all_held = held(OWNER);
		assert_ok!(ModelsPallet::retire(RuntimeOrigin::signed(OWNER), id));
		System::assert_last_event(Event::ModelRetired { model: id }.into());
		assert_eq!(status(id), ModelStatus::Retired { at: 1 });
		// No new requests, but requests already made still run and are judged: executors and
		// juries are drawn for it and the chunks stay for them.
		assert!(!<ModelsPallet as ModelRegistry<_, _>>::is_active(&id));
		assert!(<ModelsPallet as ModelRegistry<_, _>>::is_servable(&id));
		assert!(<ModelsPallet as ModelRegistry<_, _>>::model(&id).is_some());
		assert_eq!(Chunks::<Test>::iter_prefix(id).count(), 3);
		assert_eq!(held(OWNER), all_held);
	});
}

/// Soundness II.5: an owner colluding with a wrong provider retires the model under a
/// challenge. Before the fix the chunks were deleted at once and selection found nobody, so
/// the jury was empty and the wrong result stood; now the model stays servable and cannot be
/// reaped while a request of it is open.
#[test]
fn a_model_with_open_requests_is_not_reaped() {
	ExtBuilder::default().build_and_execute(|| {
		let id = verified_model();
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_1), id, ran(expected())));
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_2), id, ran(expected())));
		OpenRequests::set(1);
		assert_ok!(ModelsPallet::retire(RuntimeOrigin::signed(OWNER), id));
		System::set_block_number(1 + REAP_DELAY);
		assert_noop!(
			ModelsPallet::reap(RuntimeOrigin::signed(OTHER), id),
			Error::<Test>::ModelInUse
		);
		assert!(<ModelsPallet as ModelRegistry<_, _>>::is_servable(&id));
		// The dispute ended: now it goes, chunks and every deposit with it.
		OpenRequests::set(0);
		assert_ok!(ModelsPallet::reap(RuntimeOrigin::signed(OTHER), id));
		assert_eq!(Chunks::<Test>::iter_prefix(id).count(), 0);
		assert_eq!(held(OWNER), 0);
		assert!(!<ModelsPallet as ModelRegistry<_, _>>::is_servable(&id));
	});
}

#[test]
fn retire_works_by_root_on_pending_model() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, bytes) = register_on_chain(40);
		assert_ok!(ModelsPallet::upload_chunk(
			RuntimeOrigin::signed(OWNER),
			id,
			0,
			BoundedVec::truncate_from(bytes[..16].to_vec())
		));
		let uri = register_uri_model();
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_1), uri, ran(expected())));
		assert_ok!(ModelsPallet::retire(RuntimeOrigin::root(), id));
		assert_ok!(ModelsPallet::retire(RuntimeOrigin::root(), uri));
		assert!(Attestations::<Test>::get(uri).is_empty());
		assert_eq!(Chunks::<Test>::iter_prefix(id).count(), 0);
	});
}

#[test]
fn retire_fails_on_bad_state() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			ModelsPallet::retire(RuntimeOrigin::root(), H256::zero()),
			Error::<Test>::ModelNotFound
		);
		let id = verified_model();
		assert_noop!(
			ModelsPallet::retire(RuntimeOrigin::signed(OTHER), id),
			Error::<Test>::NotOwner
		);
		assert_noop!(ModelsPallet::retire(RuntimeOrigin::none(), id), DispatchError::BadOrigin);
		assert_ok!(ModelsPallet::retire(RuntimeOrigin::signed(OWNER), id));
		assert_noop!(
			ModelsPallet::retire(RuntimeOrigin::signed(OWNER), id),
			Error::<Test>::ModelRetired
		);
		let uri = register_uri_model();
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_1), uri, ran(wrong())));
		assert_noop!(
			ModelsPallet::retire(RuntimeOrigin::signed(OWNER), uri),
			Error::<Test>::ModelRejected
		);
	});
}

// ---- reap ----

#[test]
fn reap_works_after_delay_and_releases_everything() {
	ExtBuilder::default().build_and_execute(|| {
		let id = verified_model();
		let uri = register_uri_model();
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_1), uri, ran(wrong())));
		assert_ok!(ModelsPallet::retire(RuntimeOrigin::signed(OWNER), id));
		System::set_block_number(1 + REAP_DELAY);
		// The pending model's bytes deposit went at retirement; the record deposit goes now.
		let rd = record_deposit(&spec(40, Availability::OnChain));
		assert_ok!(ModelsPallet::reap(RuntimeOrigin::signed(OTHER), id));
		System::assert_last_event(
			Event::ModelReaped { model: id, owner: OWNER, released: rd }.into(),
		);
		assert_ok!(ModelsPallet::reap(RuntimeOrigin::signed(OTHER), uri));
		assert_eq!(held(OWNER), 0);
		assert!(crate::Models::<Test>::get(id).is_none());
		// The hash can be registered again.
		assert_ok!(ModelsPallet::register_model(
			RuntimeOrigin::signed(OWNER),
			id,
			spec(40, Availability::OnChain)
		));
	});
}

#[test]
fn reap_fails_on_bad_state() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			ModelsPallet::reap(RuntimeOrigin::signed(OTHER), H256::zero()),
			Error::<Test>::ModelNotFound
		);
		let id = verified_model();
		assert_noop!(
			ModelsPallet::reap(RuntimeOrigin::signed(OTHER), id),
			Error::<Test>::ModelNotFinal
		);
		assert_ok!(ModelsPallet::retire(RuntimeOrigin::signed(OWNER), id));
		System::set_block_number(REAP_DELAY);
		assert_noop!(
			ModelsPallet::reap(RuntimeOrigin::signed(OTHER), id),
			Error::<Test>::ReapDelayNotElapsed
		);
		assert_noop!(ModelsPallet::reap(RuntimeOrigin::none(), id), DispatchError::BadOrigin);
	});
}

// ---- genesis, registry, invariants ----

#[test]
fn genesis_registers_active_models() {
	let bytes = model_bytes(40, 9);
	let id = hash_of(&bytes);
	let uri_id = H256([5u8; 32]);
	ExtBuilder::default()
		.with_genesis_model(OWNER, id, spec(40, Availability::OnChain), Some(bytes.clone()))
		.with_genesis_model(OTHER, uri_id, spec(1 << 20, uris()), None)
		.build_and_execute(|| {
			assert!(<ModelsPallet as ModelRegistry<_, _>>::is_active(&id));
			assert!(<ModelsPallet as ModelRegistry<_, _>>::is_active(&uri_id));
			assert_eq!(Chunks::<Test>::iter_prefix(id).count(), 3);
			assert_eq!(
				held(OWNER),
				record_deposit(&spec(40, Availability::OnChain)) + 40 * PER_BYTE
			);
		});
}

#[test]
#[should_panic(expected = "pallet-models genesis")]
fn genesis_rejects_wrong_bytes() {
	ExtBuilder::default()
		.with_genesis_model(
			OWNER,
			H256([1u8; 32]),
			spec(40, Availability::OnChain),
			Some(model_bytes(40, 1)),
		)
		.build();
}

#[test]
fn registry_unknown_model_and_unit_impl() {
	ExtBuilder::default().build_and_execute(|| {
		assert!(!<ModelsPallet as ModelRegistry<_, _>>::is_active(&H256::zero()));
		assert_eq!(<ModelsPallet as ModelRegistry<_, _>>::owner(&H256::zero()), None);
		assert!(!<() as ModelRegistry<AccountId, Balance>>::is_active(&H256::zero()));
	});
}

#[test]
fn mock_registry_works() {
	use crate::traits::mock::MockModelRegistry;
	let id = H256([3u8; 32]);
	MockModelRegistry::insert_simple::<AccountId, Balance>(id, OWNER, 9);
	assert!(<MockModelRegistry as ModelRegistry<AccountId, Balance>>::is_active(&id));
	assert_eq!(<MockModelRegistry as ModelRegistry<AccountId, Balance>>::price(&id), Some(9));
	MockModelRegistry::set_active::<AccountId, Balance>(id, false);
	assert!(!<MockModelRegistry as ModelRegistry<AccountId, Balance>>::is_active(&id));
	MockModelRegistry::remove(&id);
	assert!(<MockModelRegistry as ModelRegistry<AccountId, Balance>>::model(&id).is_none());
}

#[test]
fn try_state_detects_broken_deposit() {
	ExtBuilder::default().build().execute_with(|| {
		let _ = register_uri_model();
		assert_ok!(ModelsPallet::do_try_state());
		use frame_support::traits::fungible::MutateHold;
		assert_ok!(Balances::hold(&HoldReason::ModelDeposit.into(), &OWNER, 1));
		assert!(ModelsPallet::do_try_state().is_err());
	});
}

#[test]
fn integrity_test_passes() {
	use frame_support::traits::Hooks;
	<ModelsPallet as Hooks<u64>>::integrity_test();
	assert_eq!(ModelsPallet::max_chunks(), MAX_MODEL / CHUNK);
	assert_eq!(ModelsPallet::chunk_len(40, 2), 8);
	assert_eq!(ModelsPallet::chunk_len(40, 3), 0);
}

// ---- read API (view functions) ----

#[test]
fn model_info_shows_the_record_with_reference_tensors() {
	ExtBuilder::default().build_and_execute(|| {
		let id = register_uri_model();
		let info = ModelsPallet::model_info(id).expect("registered");
		assert_eq!(info.id, id);
		assert_eq!(info.owner, OWNER);
		assert_eq!(info.name, b"demo".to_vec());
		assert_eq!(info.status, ModelStatus::Pending);
		assert_eq!(info.price_per_call, 5);
		assert_eq!(info.byte_size, 1_000_000);
		assert_eq!(
			info.reference_input,
			verity_engine::decode_tensors(&f32_list([1.0, 2.0, 3.0, 4.0])).unwrap()
		);
		assert_eq!(info.reference_output, verity_engine::decode_tensors(&expected()).unwrap());
		assert_eq!(info.chunks, (0, 0));
		assert!(info.bytes_verified);
		assert_eq!(info.deposit, held(OWNER));
		assert_eq!(ModelsPallet::model_info(H256([9; 32])), None);
	});
}

#[test]
fn models_pages_through_every_model_once() {
	ExtBuilder::default().build_and_execute(|| {
		let (on_chain, _) = register_on_chain(40);
		let uri = register_uri_model();
		let first = ModelsPallet::models(None, 1);
		assert_eq!(first.len(), 1);
		let second = ModelsPallet::models(Some(first[0].id), 1);
		assert_eq!(second.len(), 1);
		assert!(ModelsPallet::models(Some(second[0].id), 1).is_empty());
		let mut seen = vec![first[0].id, second[0].id];
		seen.sort();
		let mut all = vec![on_chain, uri];
		all.sort();
		assert_eq!(seen, all);
		assert_eq!(ModelsPallet::models(None, u32::MAX).len(), 2);
		assert!(ModelsPallet::models(None, 0).is_empty());
	});
}

#[test]
fn missing_chunks_and_model_chunk_follow_the_upload() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, bytes) = register_on_chain(40);
		assert_eq!(ModelsPallet::missing_chunks(id), vec![0, 1, 2]);
		assert_ok!(ModelsPallet::upload_chunk(
			RuntimeOrigin::signed(OWNER),
			id,
			1,
			BoundedVec::truncate_from(bytes[16..32].to_vec())
		));
		assert_eq!(ModelsPallet::missing_chunks(id), vec![0, 2]);
		assert_eq!(ModelsPallet::model_chunk(id, 1), Some(bytes[16..32].to_vec()));
		assert_eq!(ModelsPallet::model_chunk(id, 0), None);
		for (i, range) in [(2u32, 32..40), (0, 0..16)] {
			assert_ok!(ModelsPallet::upload_chunk(
				RuntimeOrigin::signed(OWNER),
				id,
				i,
				BoundedVec::truncate_from(bytes[range].to_vec())
			));
		}
		assert!(crate::Models::<Test>::get(id).unwrap().bytes_verified);
		assert!(ModelsPallet::missing_chunks(id).is_empty());
		let assembled: Vec<u8> =
			(0..3).flat_map(|i| ModelsPallet::model_chunk(id, i).unwrap()).collect();
		assert_eq!(assembled, bytes);
		assert!(ModelsPallet::missing_chunks(register_uri_model()).is_empty());
	});
}

#[test]
fn model_bytes_are_the_verified_upload_only() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, bytes) = register_on_chain(40);
		assert_eq!(ModelsPallet::model_bytes(id), None);
		upload_all(id, &bytes);
		assert_eq!(ModelsPallet::model_bytes(id), Some(bytes));
		assert_eq!(ModelsPallet::model_bytes(register_uri_model()), None);
		assert_eq!(ModelsPallet::model_bytes(H256([9; 32])), None);
	});
}

// ---- attack II.8: URIs, expiry ----

fn uri_list(list: &[&str]) -> Availability {
	Availability::Uris(BoundedVec::truncate_from(
		list.iter().map(|u| BoundedVec::truncate_from(u.as_bytes().to_vec())).collect(),
	))
}

#[test]
fn register_model_fails_with_a_uri_that_is_not_http() {
	ExtBuilder::default().build_and_execute(|| {
		for bad in [
			"file:///etc/passwd",
			"ftp://models.example/m.onnx",
			"gopher://models.example/",
			"HTTP://models.example/m.onnx",
			"http://",
			"https:///m.onnx",
			"http://user:pw@models.example/m.onnx",
			"http://models.example:/m.onnx",
			"http://models example/m.onnx",
			"http://[::1/m.onnx",
			"models.example/m.onnx",
		] {
			assert_noop!(
				ModelsPallet::register_model(
					RuntimeOrigin::signed(OWNER),
					H256([7; 32]),
					spec(1_000, uri_list(&["https://ok.example/m.onnx", bad]))
				),
				Error::<Test>::UnsupportedUri
			);
		}
		for good in [
			"https://models.example/m.onnx",
			"http://127.0.0.1:8080/m.onnx?v=1",
			"http://[::1]:80/m.onnx",
			"https://cdn-1.models_example.org",
		] {
			let id = hash_of(good.as_bytes());
			assert_ok!(ModelsPallet::register_model(
				RuntimeOrigin::signed(OWNER),
				id,
				spec(1_000, uri_list(&[good]))
			));
		}
	});
}

#[test]
fn uri_host_takes_the_host_of_http_urls_only() {
	assert_eq!(uri_host(b"https://Models.Example:443/a?b#c"), Some(&b"Models.Example"[..]));
	assert_eq!(uri_host(b"http://[::1]:8080/"), Some(&b"[::1]"[..]));
	assert_eq!(uri_host(b"http://10.0.0.1"), Some(&b"10.0.0.1"[..]));
	assert_eq!(uri_host(b"http://a.example@b.example/"), None);
	assert_eq!(uri_host(b"file:///x"), None);
	assert_eq!(uri_host(b"http://a.example/\n"), None);
}

/// Run the pallet's `on_initialize` of every block up to `n`.
fn run_to(n: u64) {
	use frame_support::traits::Hooks;
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		ModelsPallet::on_initialize(next);
	}
}

#[test]
fn a_pending_model_expires_burning_part_of_its_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		// A URI model whose bytes never arrive, and an on-chain model whose upload stops
		// half-way: both would stay pending, holding deposits and attesters' attention.
		let uri = register_uri_model();
		let (on_chain, bytes) = register_on_chain(40);
		assert_ok!(ModelsPallet::upload_chunk(
			RuntimeOrigin::signed(OWNER),
			on_chain,
			0,
			BoundedVec::truncate_from(bytes[..CHUNK as usize].to_vec())
		));
		let uri_deposit = record_deposit(&spec(1_000_000, uris()));
		let chain_deposit = record_deposit(&spec(40, Availability::OnChain)) + 40 * PER_BYTE;
		assert_eq!(held(OWNER), uri_deposit + chain_deposit);
		let issuance = Balances::total_issuance();

		run_to(1 + PENDING_EXPIRY - 1);
		assert_eq!(status(uri), ModelStatus::Pending);
		run_to(1 + PENDING_EXPIRY);
		assert!(crate::Models::<Test>::get(uri).is_none());
		assert!(crate::Models::<Test>::get(on_chain).is_none());
		assert_eq!(crate::Chunks::<Test>::iter_prefix(on_chain).count(), 0);
		assert_eq!(held(OWNER), 0);
		let burn = |d: Balance| EXPIRY_BURN_PERCENT * d / 100;
		assert_eq!(Balances::total_issuance(), issuance - burn(uri_deposit) - burn(chain_deposit));
		let expired: Vec<_> =
			events().into_iter().filter(|e| matches!(e, Event::ModelExpired { .. })).collect();
		assert_eq!(
			expired,
			vec![
				Event::ModelExpired {
					model: uri,
					owner: OWNER,
					burned: burn(uri_deposit),
					released: uri_deposit - burn(uri_deposit),
				},
				Event::ModelExpired {
					model: on_chain,
					owner: OWNER,
					burned: burn(chain_deposit),
					released: chain_deposit - burn(chain_deposit),
				},
			]
		);
		// The hash can be registered again.
		register_uri_model();
	});
}

#[test]
fn models_that_left_pending_do_not_expire() {
	ExtBuilder::default().build_and_execute(|| {
		let active = register_uri_model();
		for a in [ATTESTER_1, ATTESTER_2] {
			assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(a), active, ran(expected())));
		}
		let (retired, _) = register_on_chain(20);
		assert_ok!(ModelsPallet::retire(RuntimeOrigin::signed(OWNER), retired));
		run_to(1 + PENDING_EXPIRY);
		assert!(matches!(status(active), ModelStatus::Active { .. }));
		assert!(matches!(status(retired), ModelStatus::Retired { .. }));
		assert!(!events().iter().any(|e| matches!(e, Event::ModelExpired { .. })));
	});
}

#[test]
fn register_model_fails_when_the_block_has_too_many_registrations() {
	ExtBuilder::default().build_and_execute(|| {
		for i in 0..MAX_REGISTRATIONS {
			assert_ok!(ModelsPallet::register_model(
				RuntimeOrigin::signed(OWNER),
				H256([i as u8 + 100; 32]),
				spec(1_000, uris())
			));
		}
		assert_noop!(
			ModelsPallet::register_model(
				RuntimeOrigin::signed(OWNER),
				H256([1; 32]),
				spec(1_000, uris())
			),
			Error::<Test>::TooManyRegistrationsInBlock
		);
		run_to(2);
		assert_ok!(ModelsPallet::register_model(
			RuntimeOrigin::signed(OWNER),
			H256([1; 32]),
			spec(1_000, uris())
		));
	});
}

#[test]
fn register_model_fails_when_a_uri_model_exceeds_what_the_engine_loads() {
	assert_eq!(MAX_URI_MODEL_SIZE, verity_engine::engine::Limits::default().max_model_bytes as u64);
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			ModelsPallet::register_model(
				RuntimeOrigin::signed(OWNER),
				H256([8; 32]),
				spec(MAX_URI_MODEL_SIZE + 1, uris())
			),
			Error::<Test>::ModelTooLarge
		);
	});
}

// ---- declared constants, engine version, figures and run bounds (issues 18 and 14.7) ----

#[test]
fn register_model_fails_when_the_declared_constants_are_zero_or_over_the_maximum() {
	ExtBuilder::default().build_and_execute(|| {
		let reg = |declared: u64| {
			let mut s = spec(10, Availability::OnChain);
			s.max_constant_bytes = declared;
			ModelsPallet::register_model(RuntimeOrigin::signed(OWNER), H256([3; 32]), s)
		};
		assert_noop!(reg(0), Error::<Test>::NoConstantBytes);
		assert_noop!(reg(MAX_CONSTANT_BYTES + 1), Error::<Test>::TooManyConstantBytes);
		assert_ok!(reg(MAX_CONSTANT_BYTES));
	});
}

/// Issue 14.7: a spec naming an engine the runtime does not support would ask every node for an
/// engine it does not run (and nodes that skip it would be penalized): refused up front. On the
/// old code any `engine_version` registered.
#[test]
fn a_spec_with_an_unsupported_engine_version_is_refused_at_registration() {
	ExtBuilder::default().build_and_execute(|| {
		for version in [0, ENGINE + 1, u32::MAX] {
			let mut s = spec(10, Availability::OnChain);
			s.engine_version = version;
			assert_noop!(
				ModelsPallet::register_model(RuntimeOrigin::signed(OWNER), H256([4; 32]), s),
				Error::<Test>::UnsupportedEngineVersion
			);
		}
	});
}

/// Issue 18: the memory every node holds for a model's plan is paid for, per declared byte.
#[test]
fn the_deposit_charges_each_declared_byte_of_constants() {
	ExtBuilder::default().build_and_execute(|| {
		let small = spec(1_000, uris());
		let mut large = spec(1_000, uris());
		large.max_constant_bytes = 500_000;
		assert_eq!(small.encoded_size(), large.encoded_size());
		assert_ok!(ModelsPallet::register_model(
			RuntimeOrigin::signed(OWNER),
			H256([5; 32]),
			small
		));
		let after_small = held(OWNER);
		assert_ok!(ModelsPallet::register_model(
			RuntimeOrigin::signed(OTHER),
			H256([6; 32]),
			large
		));
		assert_eq!(held(OTHER) - after_small, (500_000 - DECLARED) * PER_CONSTANT_BYTE);
		// Nobody registers a declaration it cannot pay for.
		let mut s = spec(1_000, uris());
		s.max_constant_bytes = MAX_CONSTANT_BYTES;
		assert_noop!(
			ModelsPallet::register_model(RuntimeOrigin::signed(POOR), H256([7; 32]), s),
			TokenError::FundsUnavailable
		);
	});
}

fn rejected_with(id: H256, attester: AccountId, reason: RejectReason) {
	System::assert_last_event(Event::ModelRejected { model: id, attester, reason }.into());
	assert_eq!(status(id), ModelStatus::Rejected { at: 1 });
}

/// Issue 18: an attester whose engine refused the model over its declaration rejects it, with
/// the reason in the event.
#[test]
fn a_refusal_rejects_the_model_with_its_reason() {
	ExtBuilder::default().build_and_execute(|| {
		let id = register_uri_model();
		let refusal = Attestation::Refused(Refusal::ConstantsOverSpec);
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_1), id, refusal));
		rejected_with(id, ATTESTER_1, RejectReason::Refused(Refusal::ConstantsOverSpec));
	});
}

/// An attestation that ran the model but reports constants above the declaration (an engine
/// that did not apply it) rejects the model: the chain checks the figures itself.
#[test]
fn reported_constants_over_the_declaration_reject_the_model() {
	ExtBuilder::default().build_and_execute(|| {
		let id = register_uri_model();
		let bounds = GraphBounds { constant_bytes: DECLARED + 1, flops: 1 };
		let att = Attestation::Ran { output: expected(), bounds };
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_1), id, att));
		let reason =
			RejectReason::ConstantsOverSpec { constant_bytes: DECLARED + 1, declared: DECLARED };
		rejected_with(id, ATTESTER_1, reason);
	});
}

/// Issue 14.7: a model over the per-node capacity gets no run bound every node can meet: it is
/// refused at attestation, even with the right output.
#[test]
fn a_model_over_the_flops_capacity_is_rejected_at_attestation() {
	ExtBuilder::default().build_and_execute(|| {
		let id = register_uri_model();
		let bounds = GraphBounds { constant_bytes: 1, flops: MAX_MODEL_FLOPS + 1 };
		let att = Attestation::Ran { output: expected(), bounds };
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_1), id, att));
		let reason =
			RejectReason::TooManyFlops { flops: MAX_MODEL_FLOPS + 1, max: MAX_MODEL_FLOPS };
		rejected_with(id, ATTESTER_1, reason);
	});
}

/// Graph-only figures are the same on every honest node: attesters that disagree show a
/// determinism fault, and the model is rejected rather than activated with disputed figures.
#[test]
fn attesters_that_disagree_on_the_figures_reject_the_model() {
	ExtBuilder::default().build_and_execute(|| {
		let id = register_uri_model();
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_1), id, ran(expected())));
		assert_eq!(Models::<Test>::get(id).unwrap().bounds, Some(FIGURES));
		let other = GraphBounds { flops: FIGURES.flops + 1, ..FIGURES };
		let att = Attestation::Ran { output: expected(), bounds: other };
		assert_ok!(ModelsPallet::attest(RuntimeOrigin::signed(ATTESTER_2), id, att));
		let reason = RejectReason::FiguresDisagree { recorded: FIGURES, attested: other };
		rejected_with(id, ATTESTER_2, reason);
	});
}

#[test]
fn run_bounds_follow_the_flops_and_models_without_figures_get_the_largest() {
	ExtBuilder::default().build_and_execute(|| {
		let bound = |flops| ModelsPallet::run_bound(Some(GraphBounds { constant_bytes: 1, flops }));
		assert_eq!(bound(0), MIN_RUN_MS);
		assert_eq!(bound(1), MIN_RUN_MS + 1);
		assert_eq!(bound(FLOPS_PER_MS), MIN_RUN_MS + 1);
		assert_eq!(bound(FLOPS_PER_MS + 1), MIN_RUN_MS + 2);
		let largest = MIN_RUN_MS + (MAX_MODEL_FLOPS / FLOPS_PER_MS) as u32;
		assert_eq!(ModelsPallet::run_bound(None), largest);
		assert_eq!(bound(u64::MAX), u32::MAX, "saturates");
		// A record with figures over the capacity (a runtime that lowered `MaxModelFlops`) is
		// out of capacity: jurors that cannot run it in time are excused.
		let id = register_uri_model();
		Models::<Test>::mutate(id, |m| {
			let m = m.as_mut().unwrap();
			m.status = ModelStatus::Active { since: 1 };
			m.bounds = Some(GraphBounds { constant_bytes: 1, flops: MAX_MODEL_FLOPS + 1 });
		});
		PendingUntil::<Test>::remove(id);
		let view = <ModelsPallet as ModelRegistry<AccountId, Balance>>::model(&id).unwrap();
		assert!(!view.limits.within_capacity);
		Models::<Test>::mutate(id, |m| m.as_mut().unwrap().bounds = None);
		let view = <ModelsPallet as ModelRegistry<AccountId, Balance>>::model(&id).unwrap();
		assert!(view.limits.within_capacity);
		assert_eq!(view.limits.run_ms, largest);
	});
}

/// Storage version 1 → 2: every record gets `max_constant_bytes = MaxConstantBytes` (what nodes
/// enforced before) and no figures; deposits stay as they were; the version is bumped and a
/// second run changes nothing. Then 2 → 3 makes it `Native`.
#[test]
fn migration_v1_to_v2_declares_the_maximum_and_keeps_deposits() {
	use crate::migrations::{
		v2::{v1, MigrateV1ToV2},
		v3::{v2, MigrateV2ToV3},
	};
	use codec::Decode;
	use frame_support::traits::{
		fungible::MutateHold, GetStorageVersion, OnRuntimeUpgrade, StorageVersion,
	};
	ExtBuilder::default().build_and_execute(|| {
		StorageVersion::new(1).put::<ModelsPallet>();
		let s = spec(1_000, uris());
		let old = v1::ModelInfoOf::<Test> {
			owner: OWNER,
			spec: v1::ModelSpec {
				name: s.name.clone(),
				inputs: s.inputs.clone(),
				outputs: s.outputs.clone(),
				opset: s.opset,
				engine_version: s.engine_version,
				price_per_call: s.price_per_call,
				acceptance: s.acceptance,
				byte_size: s.byte_size,
				availability: s.availability.clone(),
				reference_input: s.reference_input.clone(),
				reference_output: s.reference_output.clone(),
			},
			status: ModelStatus::Active { since: 1 },
			record_deposit: 777,
			bytes_deposit: 0,
			chunk_count: 0,
			chunks_received: 0,
			bytes_verified: true,
		};
		let id = H256([9; 32]);
		let key = Models::<Test>::hashed_key_for(id);
		frame_support::storage::unhashed::put_raw(&key, &old.encode());
		assert_ok!(Balances::hold(&HoldReason::ModelDeposit.into(), &OWNER, 777));
		assert!(Models::<Test>::get(id).is_none(), "the old layout does not decode as the new");

		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		let raw = frame_support::storage::unhashed::get_raw(&key).expect("kept");
		let mid = v2::ModelInfoOf::<Test>::decode(&mut &raw[..]).expect("the version 2 layout");
		assert_eq!(mid.spec.max_constant_bytes, MAX_CONSTANT_BYTES);
		assert_eq!(mid.bounds, None);
		assert_eq!(mid.record_deposit, 777);
		assert_eq!(mid.status, ModelStatus::Active { since: 1 });
		assert_eq!(ModelsPallet::on_chain_storage_version(), StorageVersion::new(2));
		// Run again: the version gate leaves the new records alone.
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(frame_support::storage::unhashed::get_raw(&key), Some(raw));

		MigrateV2ToV3::<Test>::on_runtime_upgrade();
		let new = Models::<Test>::get(id).expect("migrated");
		assert_eq!(
			new.spec,
			ModelSpec {
				max_constant_bytes: MAX_CONSTANT_BYTES,
				execution: ExecutionClass::Native,
				..s
			}
		);
		assert_eq!(new.record_deposit, 777);
		assert_eq!(ModelsPallet::on_chain_storage_version(), StorageVersion::new(3));
		let view = <ModelsPallet as ModelRegistry<AccountId, Balance>>::model(&id).unwrap();
		assert_eq!(view.limits.run_ms, ModelsPallet::run_bound(None));
		assert_eq!(view.limits.deterministic, None);
		MigrateV2ToV3::<Test>::on_runtime_upgrade();
		assert_eq!(Models::<Test>::get(id), Some(new));
	});
}

/// Storage version 2 → 3: a record keeps everything (figures, status, chunks) and becomes
/// `Native`, the class every model had before.
#[test]
fn migration_v2_to_v3_makes_every_model_native() {
	use crate::migrations::v3::{v2, MigrateV2ToV3};
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	ExtBuilder::default().build_and_execute(|| {
		StorageVersion::new(2).put::<ModelsPallet>();
		let s = spec(1_000, uris());
		let bounds = Some(GraphBounds { constant_bytes: 4_096, flops: 1_000 });
		let old = v2::ModelInfoOf::<Test> {
			owner: OWNER,
			spec: v2::ModelSpec {
				name: s.name.clone(),
				inputs: s.inputs.clone(),
				outputs: s.outputs.clone(),
				opset: s.opset,
				engine_version: s.engine_version,
				price_per_call: s.price_per_call,
				acceptance: s.acceptance,
				byte_size: s.byte_size,
				max_constant_bytes: s.max_constant_bytes,
				availability: s.availability.clone(),
				reference_input: s.reference_input.clone(),
				reference_output: s.reference_output.clone(),
			},
			status: ModelStatus::Retired { at: 3 },
			record_deposit: 0,
			bytes_deposit: 0,
			chunk_count: 0,
			chunks_received: 0,
			bytes_verified: true,
			bounds,
		};
		let id = H256([7; 32]);
		frame_support::storage::unhashed::put_raw(
			&Models::<Test>::hashed_key_for(id),
			&old.encode(),
		);
		assert!(Models::<Test>::get(id).is_none(), "the old layout does not decode as the new");
		MigrateV2ToV3::<Test>::on_runtime_upgrade();
		let new = Models::<Test>::get(id).expect("migrated");
		assert_eq!(new.spec, ModelSpec { execution: ExecutionClass::Native, ..s });
		assert_eq!(new.bounds, bounds);
		assert_eq!(new.status, ModelStatus::Retired { at: 3 });
		assert_eq!(ModelsPallet::on_chain_storage_version(), StorageVersion::new(3));
	});
}
