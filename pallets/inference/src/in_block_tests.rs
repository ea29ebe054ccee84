//! In-block inference (`infer`): a model run inside block execution in the deterministic mode.
//! What it returns, what it charges, and every way a caller could try to make it pay without
//! work, run without paying, or make nodes disagree.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	dispatch::GetDispatchInfo,
	traits::{fungible::Inspect, Get},
	weights::RuntimeDbWeight,
	BoundedVec,
};
use verity_engine::{decode_tensors, encode_tensors, testing::tiny_classifier, Tensor};
use verity_primitives::{testing::MockModelRegistry, ModelId};

/// The classifier's input, `[1, 4]`.
fn classifier_input() -> InputOf<Test> {
	let x = Tensor::from_f32(vec![1, 4], &[0.5, -1.0, 2.0, 0.25]).expect("tensor");
	BoundedVec::truncate_from(encode_tensors(&[x]))
}

/// The engine's FLOP estimate of `bytes`, what an attestation records.
fn flops(bytes: &[u8]) -> u64 {
	let engine = verity_engine::engine::Engine::new(Default::default());
	let info = engine.load(bytes, &verity_engine::model_hash(bytes)).expect("loads natively");
	u64::try_from(info.flops).expect("small")
}

/// MODEL becomes runnable in a block: the classifier's bytes and FLOP estimate.
fn in_block_model() {
	MockModelRegistry::set_in_block(MODEL, tiny_classifier(), flops(&tiny_classifier()));
}

fn inferred() -> Vec<(AccountId, ModelId, OutputOf<Test>, u64, Balance)> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Inference(Event::InferredInBlock {
				caller,
				model,
				output,
				fuel_used,
				royalty,
				..
			}) => Some((caller, model, output, fuel_used, royalty)),
			_ => None,
		})
		.collect()
}

#[test]
fn infer_runs_the_model_pays_the_owner_and_emits_the_output() {
	alice_only().build_and_execute(|| {
		in_block_model();
		let owner_before = Balances::balance(&OWNER);
		let call = crate::Call::<Test>::infer { model: MODEL, input: classifier_input() };
		let charged = call.get_dispatch_info().call_weight;
		let post = Inference::infer(RuntimeOrigin::signed(REQUESTER), MODEL, classifier_input())
			.expect("the model runs in the block");
		let events = inferred();
		assert_eq!(events.len(), 1);
		let (caller, model, output, fuel_used, royalty) = events[0].clone();
		assert_eq!((caller, model, royalty), (REQUESTER, MODEL, PRICE));
		assert_eq!(Balances::balance(&OWNER), owner_before + PRICE);
		// The output is the classifier's: a softmax over 3 classes of the native engine's
		// values (to float precision; the deterministic bits are the wasm module's).
		let out = decode_tensors(&output).expect("canonical output");
		let engine = verity_engine::engine::Engine::new(Default::default());
		let bytes = tiny_classifier();
		engine.load(&bytes, &verity_engine::model_hash(&bytes)).expect("loads natively");
		let native = engine
			.run(
				&verity_engine::model_hash(&bytes),
				&decode_tensors(&classifier_input()).expect("input"),
			)
			.expect("native run");
		let (got, want) = (out[0].to_f32_vec().expect("f32"), native[0].to_f32_vec().expect("f32"));
		assert_eq!(out[0].shape(), &[1, 3]);
		assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6), "{got:?} vs {want:?}");
		assert!((got.iter().sum::<f32>() - 1.0).abs() < 1e-5);
		// Charged up front for the whole budget, refunded down to the fuel used.
		let actual = post.actual_weight.expect("post-dispatch weight");
		assert_eq!(
			actual,
			Inference::infer_weight(&MODEL, classifier_input().len() as u32, Some(fuel_used))
		);
		assert!(actual.ref_time() < charged.ref_time());
		assert!(fuel_used > 0);
	});
}

#[test]
fn the_same_call_gives_the_same_bits_and_fuel_every_time() {
	alice_only().build_and_execute(|| {
		in_block_model();
		for _ in 0..3 {
			assert_ok!(Inference::infer(
				RuntimeOrigin::signed(REQUESTER),
				MODEL,
				classifier_input()
			));
		}
		let events = inferred();
		assert_eq!(events.len(), 3);
		assert!(events.windows(2).all(|w| w[0] == w[1]), "runs differ: {events:?}");
	});
}

#[test]
fn the_owner_pays_itself_nothing() {
	alice_only().build_and_execute(|| {
		in_block_model();
		let before = Balances::balance(&OWNER);
		assert_ok!(Inference::infer(RuntimeOrigin::signed(OWNER), MODEL, classifier_input()));
		assert_eq!(Balances::balance(&OWNER), before);
	});
}

/// A model whose bytes are not on chain (or that has no attested figures) is refused, and the
/// refusal costs the caller the lookup only.
#[test]
fn models_without_on_chain_bytes_and_figures_are_refused() {
	alice_only().build_and_execute(|| {
		assert_noop!(
			Inference::infer(RuntimeOrigin::signed(REQUESTER), MODEL, classifier_input()),
			Error::<Test>::NotRunnableInBlock
		);
		assert_eq!(
			Inference::infer_weight(&MODEL, 16, None),
			<<Test as frame_system::Config>::DbWeight as Get<RuntimeDbWeight>>::get().reads(2)
		);
		assert_noop!(
			Inference::infer(RuntimeOrigin::signed(REQUESTER), UNKNOWN_MODEL, classifier_input()),
			Error::<Test>::ModelNotFound
		);
		MockModelRegistry::set_in_block(
			INACTIVE_MODEL,
			tiny_classifier(),
			flops(&tiny_classifier()),
		);
		assert_noop!(
			Inference::infer(RuntimeOrigin::signed(REQUESTER), INACTIVE_MODEL, classifier_input()),
			Error::<Test>::ModelNotActive
		);
	});
}

/// A model too heavy for a block cannot be squeezed in: its budget is above the cap.
#[test]
fn a_model_over_the_fuel_cap_is_refused() {
	alice_only().build_and_execute(|| {
		MockModelRegistry::set_in_block(MODEL, tiny_classifier(), 1 << 40);
		assert_noop!(
			Inference::infer(RuntimeOrigin::signed(REQUESTER), MODEL, classifier_input()),
			Error::<Test>::TooHeavyForBlock
		);
		// The weight charged is capped too.
		let w = Inference::infer_weight(&MODEL, 16, None);
		assert!(w.ref_time() <= WeightPerFuel::get().ref_time() * InBlockMaxFuel::get() * 2);
	});
}

/// Input that does not fit the model's spec fails before anything runs; nothing is paid.
#[test]
fn bad_input_is_refused_and_pays_nothing() {
	alice_only().build_and_execute(|| {
		in_block_model();
		let wrong = Tensor::from_f32(vec![1, 5], &[0.0; 5]).expect("tensor");
		assert_noop!(
			Inference::infer(
				RuntimeOrigin::signed(REQUESTER),
				MODEL,
				BoundedVec::truncate_from(encode_tensors(&[wrong]))
			),
			Error::<Test>::InputSpecMismatch
		);
		assert_noop!(
			Inference::infer(
				RuntimeOrigin::signed(REQUESTER),
				MODEL,
				BoundedVec::truncate_from(b"junk".to_vec())
			),
			Error::<Test>::MalformedInput
		);
	});
}

/// A budget too small for the run stops it (the same way on every node): nothing is paid and
/// no output is emitted; the whole budget's weight stays charged.
#[test]
fn a_run_out_of_fuel_fails_and_pays_nothing() {
	alice_only().build_and_execute(|| {
		in_block_model();
		let starved = verity_host::DeterministicTerms {
			fuel: 1_000,
			..MockModelRegistry::in_block(&MODEL).expect("in block").terms
		};
		MockModelRegistry::set_in_block_terms(MODEL, tiny_classifier(), starved);
		assert_noop!(
			Inference::infer(RuntimeOrigin::signed(REQUESTER), MODEL, classifier_input()),
			Error::<Test>::InBlockOutOfFuel
		);
	});
}

/// The registry's terms are what the call runs under: the model's memory, when lower than
/// `InBlockMemory`, stops the run (every node alike), and the budget charged is the terms'
/// fuel, not a formula of pallet-inference's own.
#[test]
fn the_registry_terms_bound_the_run() {
	alice_only().build_and_execute(|| {
		in_block_model();
		let terms = MockModelRegistry::in_block(&MODEL).expect("in block").terms;
		let charged = Inference::infer_weight(&MODEL, 16, None);
		let tighter = verity_host::DeterministicTerms { fuel: terms.fuel / 2, ..terms };
		MockModelRegistry::set_in_block_terms(MODEL, tiny_classifier(), tighter);
		let fuel_weight = WeightPerFuel::get().ref_time();
		assert_eq!(
			charged.ref_time() - Inference::infer_weight(&MODEL, 16, None).ref_time(),
			(terms.fuel - terms.fuel / 2) * fuel_weight
		);
		let cramped = verity_host::DeterministicTerms { memory_bytes: 64 << 10, ..terms };
		MockModelRegistry::set_in_block_terms(MODEL, tiny_classifier(), cramped);
		assert_noop!(
			Inference::infer(RuntimeOrigin::signed(REQUESTER), MODEL, classifier_input()),
			Error::<Test>::InBlockOutOfMemory
		);
	});
}

/// A model that fails in the deterministic mode (here: bytes that are no model) is an error
/// for the caller, not a panic of the node.
#[test]
fn a_model_that_does_not_load_fails_cleanly() {
	alice_only().build_and_execute(|| {
		MockModelRegistry::set_in_block(MODEL, b"not an onnx model".to_vec(), 100);
		assert_noop!(
			Inference::infer(RuntimeOrigin::signed(REQUESTER), MODEL, classifier_input()),
			Error::<Test>::InBlockFailed
		);
	});
}

/// The poor cannot get inference without paying the royalty.
#[test]
fn a_caller_that_cannot_pay_the_royalty_gets_nothing() {
	alice_only().build_and_execute(|| {
		in_block_model();
		assert!(Inference::infer(RuntimeOrigin::signed(POOR), MODEL, classifier_input()).is_ok());
		// POOR holds 50: a second royalty of 30 would take it below what it must keep.
		assert_noop!(
			Inference::infer(RuntimeOrigin::signed(POOR), MODEL, classifier_input()),
			sp_runtime::TokenError::FundsUnavailable
		);
	});
}

/// Figures that understate a model's FLOPs cannot buy a heavy run for a light weight: the
/// engine loads the model under the FLOP figure the weight was charged for, and refuses it.
#[test]
fn understated_flops_buy_no_run() {
	alice_only().build_and_execute(|| {
		let bytes = tiny_classifier();
		MockModelRegistry::set_in_block(MODEL, bytes.clone(), flops(&bytes) - 1);
		assert_noop!(
			Inference::infer(RuntimeOrigin::signed(REQUESTER), MODEL, classifier_input()),
			Error::<Test>::InBlockFailed
		);
	});
}
