//! The attest duty ([`crate::offchain`]) through the offchain, transaction pool, keystore and
//! inference externalities: a real engine runs a real model.

use crate::{mock::*, *};
use codec::Encode;
use frame_support::{
	assert_ok,
	traits::{Get, Hooks},
	BoundedVec,
};
use parking_lot::RwLock;
use sp_core::{
	ecdsa,
	offchain::testing::{OffchainState, PendingRequest, PoolState},
	H256,
};
use sp_runtime::traits::Dispatchable;
use std::sync::Arc;
use verity_engine::{encode_tensors, model_hash, testing, Tensor};
use verity_host::{HostBackend, InferenceExt};
use verity_primitives::testing::{self as keys, TestXt};

struct Env {
	ext: sp_io::TestExternalities,
	pool: Arc<RwLock<PoolState>>,
	http: Arc<RwLock<OffchainState>>,
	backend: Arc<HostBackend>,
	key: ecdsa::Public,
	_dir: tempfile::TempDir,
}

/// A test chain with the `//Alice` executor-style key in the keystore (an attester when
/// `attester`) and an engine over an empty model store.
fn env(attester: bool) -> Env {
	let mut ext = ExtBuilder::default().build();
	let (pool, keystore, http) = keys::offchain_ext(&mut ext);
	let key = keys::add_executor_key(&keystore, "//Alice");
	if attester {
		add_key_attester(keys::account_of(&key));
	}
	let dir = tempfile::tempdir().unwrap();
	let backend = keys::engine_backend(dir.path(), false);
	ext.register_extension(InferenceExt::new(backend.clone()));
	Env { ext, pool, http, backend, key, _dir: dir }
}

const URI: &str = "http://127.0.0.1:9/m.onnx";

/// The model's URI answers `body` once.
fn serve(http: &RwLock<OffchainState>, body: &[u8]) {
	http.write().expect_request(PendingRequest {
		method: "GET".into(),
		uri: URI.into(),
		sent: true,
		response: Some(body.to_vec()),
		..Default::default()
	});
}

/// A well-formed `[1, 3]` f32 reference output, for models whose output is never compared.
fn some_output() -> Vec<u8> {
	encode_tensors(&[Tensor::from_f32(vec![1, 3], &[0.0, 0.5, 0.5]).unwrap()])
}

fn classifier_input() -> Vec<u8> {
	encode_tensors(&[Tensor::from_f32(vec![1, 4], &[0.5, -1.0, 2.0, 0.0]).unwrap()])
}

fn f32_spec(width: u32) -> TensorSpec {
	TensorSpec { dtype: DType::F32, dims: BoundedVec::truncate_from(vec![None, Some(width)]) }
}

/// Constants the test specs declare: the classifier's bound (a few KiB with packing) fits.
const DECLARED: u64 = 64 << 10;

/// The graph-only figures this node's engine reports for model `bytes`.
fn figures(backend: &HostBackend, bytes: &[u8]) -> GraphBounds {
	let info = backend.load_declared(&model_hash(bytes), None).unwrap();
	let b = verity_host::ModelBounds::of(&info);
	GraphBounds { constant_bytes: b.constant_bytes, flops: b.flops }
}

/// Register `bytes` as a URI model whose reference output is `reference_output`.
fn register(bytes: &[u8], reference_output: Vec<u8>) -> H256 {
	register_as(bytes, reference_output, ExecutionClass::Native)
}

/// [`register`] with execution class `execution`.
fn register_as(bytes: &[u8], reference_output: Vec<u8>, execution: ExecutionClass) -> H256 {
	let id = H256(model_hash(bytes));
	let spec = ModelSpec {
		name: BoundedVec::truncate_from(b"classifier".to_vec()),
		inputs: BoundedVec::truncate_from(vec![f32_spec(4)]),
		outputs: BoundedVec::truncate_from(vec![f32_spec(3)]),
		opset: 17,
		engine_version: ENGINE,
		price_per_call: 5,
		acceptance: AcceptanceRule::Exact,
		execution,
		byte_size: bytes.len() as u64,
		max_constant_bytes: DECLARED,
		availability: Availability::Uris(BoundedVec::truncate_from(vec![
			BoundedVec::truncate_from(URI.as_bytes().to_vec()),
		])),
		reference_input: BoundedVec::truncate_from(classifier_input()),
		reference_output: BoundedVec::truncate_from(reference_output),
	};
	assert_ok!(ModelsPallet::register_model(RuntimeOrigin::signed(OWNER), id, spec));
	assert!(crate::Models::<Test>::get(id).unwrap().bytes_verified);
	id
}

fn attestations(pool: &RwLock<PoolState>) -> Vec<TestXt<RuntimeCall>> {
	keys::submitted::<RuntimeCall>(pool)
}

#[test]
fn attester_reproduces_the_reference_output_and_its_attestation_counts() {
	let Env { mut ext, pool, backend, key, _dir, .. } = env(true);
	ext.execute_with(|| {
		let bytes = testing::tiny_classifier();
		backend.store().put(&bytes).unwrap();
		let reference = backend.run(&model_hash(&bytes), &classifier_input()).unwrap();
		let id = register(&bytes, reference.clone());

		ModelsPallet::offchain_worker(1);
		let txs = attestations(&pool);
		assert_eq!(txs.len(), 1);
		let tx = &txs[0];
		assert!(tx.is_signed_by_signer());
		assert_eq!(tx.signer, keys::account_of(&key));
		let bounds = figures(&backend, &bytes);
		assert!(bounds.constant_bytes > 0 && bounds.constant_bytes <= DECLARED);
		assert!(bounds.flops > 0 && bounds.flops <= MAX_MODEL_FLOPS);
		assert_eq!(
			tx.call,
			RuntimeCall::ModelsPallet(Call::attest {
				hash: id,
				attestation: Attestation::Ran {
					output: BoundedVec::truncate_from(reference),
					bounds
				},
			})
		);
		// The chain accepts it as a matching attestation and keeps the figures.
		assert_ok!(tx.call.clone().dispatch(RuntimeOrigin::signed(tx.signer)));
		assert_eq!(crate::Attestations::<Test>::get(id).into_inner(), vec![tx.signer]);
		assert_eq!(crate::Models::<Test>::get(id).unwrap().bounds, Some(bounds));

		// A later run does not attest again: the chain records the attestation.
		ModelsPallet::offchain_worker(10);
		assert_eq!(attestations(&pool).len(), 1);
		ModelsPallet::do_try_state().unwrap();
	});
}

/// The deterministic mode's output of `bytes` on `input`, as every attester computes it.
fn deterministic_output(bytes: &[u8], input: &[u8]) -> Vec<u8> {
	use verity_deterministic::{Backend, RunLimits, Session};
	let mut session = Session::new(Backend::CraneliftNative, RunLimits::default()).unwrap();
	let limits =
		verity_engine::engine::Limits { max_constant_bytes: DECLARED, ..Default::default() };
	session.load(bytes, &limits).unwrap();
	session.run(input).unwrap()
}

/// A `Deterministic` model is certified on the deterministic mode's bits: the attester runs its
/// reference input in that mode and reports exactly its output, which activates the model
/// under `Exact`. Starved of fuel by the chain's terms, every attester refuses it alike.
#[test]
fn a_deterministic_model_is_attested_with_the_deterministic_modes_bits() {
	let Env { mut ext, pool, backend, _dir, .. } = env(true);
	ext.execute_with(|| {
		let bytes = testing::tiny_classifier();
		backend.store().put(&bytes).unwrap();
		let reference = deterministic_output(&bytes, &classifier_input());
		let id = register_as(&bytes, reference.clone(), ExecutionClass::Deterministic);

		ModelsPallet::offchain_worker(1);
		let txs = attestations(&pool);
		assert_eq!(txs.len(), 1);
		let attestation = Attestation::Ran {
			output: BoundedVec::truncate_from(reference.clone()),
			bounds: figures(&backend, &bytes),
		};
		assert_eq!(txs[0].call, RuntimeCall::ModelsPallet(Call::attest { hash: id, attestation }));
		assert_ok!(txs[0].call.clone().dispatch(RuntimeOrigin::signed(txs[0].signer)));
		assert_eq!(crate::Attestations::<Test>::get(id).len(), 1);
		ModelsPallet::do_try_state().unwrap();
	});

	// The same model with fuel for nothing but the runner's start.
	refused_over_deterministic_terms(|| {
		DeterministicBaseFuel::set(1_000);
		DeterministicFuelPerFlop::set(0);
	});
}

/// Registers the tiny classifier as `Deterministic` after `starve` lowered the chain's terms:
/// the attester's reference run runs out, it refuses (`OverDeterministicTerms`) and the model is
/// rejected.
fn refused_over_deterministic_terms(starve: impl FnOnce()) {
	let Env { mut ext, pool, backend, _dir, .. } = env(true);
	ext.execute_with(|| {
		starve();
		let bytes = testing::tiny_classifier();
		backend.store().put(&bytes).unwrap();
		let id = register_as(
			&bytes,
			deterministic_output(&bytes, &classifier_input()),
			ExecutionClass::Deterministic,
		);
		ModelsPallet::offchain_worker(1);
		let txs = attestations(&pool);
		assert_eq!(txs.len(), 1);
		let attestation = Attestation::Refused(Refusal::OverDeterministicTerms);
		assert_eq!(txs[0].call, RuntimeCall::ModelsPallet(Call::attest { hash: id, attestation }));
		assert_ok!(txs[0].call.clone().dispatch(RuntimeOrigin::signed(txs[0].signer)));
		assert!(matches!(
			crate::Models::<Test>::get(id).unwrap().status,
			ModelStatus::Rejected { .. }
		));
	});
}

/// A `Deterministic` model that needs more fuel than `MaxDeterministicFuel` (whatever its
/// FLOPs' formula gives) runs out of it in the attester's reference run: refused, rejected,
/// never active, so no executor or juror is ever asked to run it past the cap.
#[test]
fn a_model_over_the_fuel_cap_is_refused_at_attestation() {
	refused_over_deterministic_terms(|| MaxDeterministicFuel::set(1_000));
}

/// Executors and jurors run a `Deterministic` model through `run_local` in the deterministic
/// mode under the chain's terms: the output is the mode's bits, running out of the chain's
/// fuel is an error every node meets alike, and a faulty dev executor's perturbation applies
/// to executions only, never to a juror's re-execution.
#[test]
fn executors_and_jurors_run_a_deterministic_model_in_the_deterministic_mode() {
	use verity_host::{HostError, Purpose};
	for faulty in [false, true] {
		let mut ext = ExtBuilder::default().build();
		let dir = tempfile::tempdir().unwrap();
		let backend = keys::engine_backend(dir.path(), faulty);
		ext.register_extension(InferenceExt::new(backend.clone()));
		ext.execute_with(|| {
			let bytes = testing::tiny_classifier();
			backend.store().put(&bytes).unwrap();
			let reference = deterministic_output(&bytes, &classifier_input());
			let id = register_as(&bytes, reference.clone(), ExecutionClass::Deterministic);
			let bounds = figures(&backend, &bytes);
			crate::Models::<Test>::mutate(id, |m| {
				let m = m.as_mut().unwrap();
				m.status = ModelStatus::Active { since: 1 };
				m.bounds = Some(bounds);
			});
			let input = classifier_input();
			let judged = ModelsPallet::run_local(&id, &input, 1024, Purpose::Judge).unwrap();
			assert_eq!(judged, reference);
			let executed = ModelsPallet::run_local(&id, &input, 1024, Purpose::Execute).unwrap();
			assert_eq!(executed == reference, !faulty, "faulty: {faulty}");

			DeterministicBaseFuel::set(1_000);
			DeterministicFuelPerFlop::set(0);
			assert_eq!(
				ModelsPallet::run_local(&id, &input, 1024, Purpose::Judge),
				Err(HostError::OutOfFuel)
			);
			DeterministicBaseFuel::set(BASE_FUEL);
			DeterministicFuelPerFlop::set(50);
		});
	}
}

#[test]
fn a_model_the_engine_refuses_is_refused_and_rejected() {
	let Env { mut ext, pool, backend, _dir, .. } = env(true);
	ext.execute_with(|| {
		let bytes = b"not an onnx model at all".to_vec();
		backend.store().put(&bytes).unwrap();
		let id = register(&bytes, some_output());

		ModelsPallet::offchain_worker(1);
		let txs = attestations(&pool);
		assert_eq!(txs.len(), 1);
		let attestation = Attestation::Refused(Refusal::InvalidModel);
		assert_eq!(txs[0].call, RuntimeCall::ModelsPallet(Call::attest { hash: id, attestation }));
		assert_ok!(txs[0].call.clone().dispatch(RuntimeOrigin::signed(txs[0].signer)));
		assert!(matches!(
			crate::Models::<Test>::get(id).unwrap().status,
			ModelStatus::Rejected { .. }
		));
		System::assert_last_event(
			Event::ModelRejected {
				model: id,
				attester: txs[0].signer,
				reason: RejectReason::Refused(Refusal::InvalidModel),
			}
			.into(),
		);
		ModelsPallet::do_try_state().unwrap();
	});
}

#[test]
fn keys_that_may_not_attest_submit_nothing() {
	let Env { mut ext, pool, backend, _dir, .. } = env(false);
	ext.execute_with(|| {
		let bytes = testing::tiny_classifier();
		backend.store().put(&bytes).unwrap();
		let reference = backend.run(&model_hash(&bytes), &classifier_input()).unwrap();
		register(&bytes, reference);
		ModelsPallet::offchain_worker(1);
		assert!(attestations(&pool).is_empty());
	});
}

#[test]
fn bytes_fetched_from_the_uri_are_stored_and_attested() {
	let Env { mut ext, pool, http, backend, _dir, .. } = env(true);
	ext.execute_with(|| {
		let bytes = testing::tiny_classifier();
		let reference = {
			let scratch = tempfile::tempdir().unwrap();
			let b = keys::engine_backend(scratch.path(), false);
			b.store().put(&bytes).unwrap();
			b.run(&model_hash(&bytes), &classifier_input()).unwrap()
		};
		let id = register(&bytes, reference.clone());
		serve(&http, &bytes);
		ModelsPallet::offchain_worker(1);
		assert!(backend.store().contains(&id.0));
		let txs = attestations(&pool);
		assert_eq!(txs.len(), 1);
		assert_eq!(
			txs[0].call,
			RuntimeCall::ModelsPallet(Call::attest {
				hash: id,
				attestation: Attestation::Ran {
					output: BoundedVec::truncate_from(reference),
					bounds: figures(&backend, &bytes),
				},
			})
		);
	});
}

#[test]
fn bytes_with_the_wrong_hash_leave_the_model_for_a_later_block() {
	// The URI serves other bytes: the fetcher refuses them, the attester does not reject the
	// model and keeps its claim, so the next runs go on to other pending models and this one
	// is tried again `RETRY_AFTER` blocks later.
	let Env { mut ext, pool, http, backend, key, _dir, .. } = env(true);
	ext.execute_with(|| {
		let bytes = testing::tiny_classifier();
		let id = register(&bytes, some_output());
		serve(&http, b"someone else's model");
		ModelsPallet::offchain_worker(1);
		assert!(attestations(&pool).is_empty());
		assert!(!backend.store().contains(&id.0));
		assert_eq!(crate::Models::<Test>::get(id).unwrap().status, ModelStatus::Pending);
		let who = keys::account_of(&key);
		assert!(!verity_primitives::offchain::claim(b"attest", &id, &who, 2));
		let retry = 1 + verity_primitives::offchain::RETRY_AFTER;
		assert!(verity_primitives::offchain::claim(b"attest", &id, &who, retry));
	});
}

#[test]
fn the_registry_runs_a_model_for_other_pallets_duties() {
	// What pallet-inference's executors and pallet-disputes' jurors call: the registry fetches
	// the bytes (here from the model's URI) and runs them for the given purpose.
	let Env { mut ext, http, backend, _dir, .. } = env(false);
	ext.execute_with(|| {
		use crate::traits::ModelRegistry;
		let bytes = testing::tiny_classifier();
		let id = register(&bytes, some_output());
		serve(&http, &bytes);
		let out = <ModelsPallet as ModelRegistry<AccountId, Balance>>::run_offchain(
			&id,
			&classifier_input(),
			MaxReferenceSize::get(),
			verity_host::Purpose::Execute,
		)
		.expect("runs");
		assert_eq!(out, backend.run(&id.0, &classifier_input()).unwrap());
		let unknown = <ModelsPallet as ModelRegistry<AccountId, Balance>>::run_offchain(
			&H256([7; 32]),
			&classifier_input(),
			MaxReferenceSize::get(),
			verity_host::Purpose::Judge,
		);
		assert_eq!(unknown, Err(verity_host::HostError::ModelNotFound));
	});
}

/// A route's answer: HTTP status, headers and body.
type Route = (u16, Vec<(String, String)>, Vec<u8>);

/// A web for the fetcher: routes from URI to (status, headers, body), every request logged
/// with the number of body bytes the fetcher read. Unknown URIs answer 404. Everything but
/// HTTP goes to the test offchain externalities.
#[derive(Default)]
struct WebState {
	routes: std::collections::BTreeMap<String, Route>,
	/// (uri, bytes read) per request, in order.
	log: Vec<(String, usize)>,
}

#[derive(Clone)]
struct Web {
	inner: sp_core::offchain::testing::TestOffchainExt,
	state: Arc<RwLock<WebState>>,
}

impl Web {
	fn route(&self, uri: &str, body: &[u8]) {
		self.state.write().routes.insert(uri.into(), (200, vec![], body.to_vec()));
	}
	fn route_with(&self, uri: &str, status: u16, headers: &[(&str, &str)], body: &[u8]) {
		let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
		self.state.write().routes.insert(uri.into(), (status, headers, body.to_vec()));
	}
	/// URIs requested so far, in order.
	fn requested(&self) -> Vec<String> {
		self.state.read().log.iter().map(|(u, _)| u.clone()).collect()
	}
	/// Body bytes read of request `i`.
	fn read_of(&self, i: usize) -> usize {
		self.state.read().log[i].1
	}
	fn response(
		&self,
		id: sp_core::offchain::HttpRequestId,
	) -> (u16, Vec<(String, String)>, Vec<u8>) {
		let s = self.state.read();
		let uri = &s.log[id.0 as usize].0;
		s.routes.get(uri).cloned().unwrap_or((404, vec![], vec![]))
	}
}

impl sp_core::offchain::Externalities for Web {
	fn is_validator(&self) -> bool {
		self.inner.is_validator()
	}
	fn network_state(&self) -> Result<sp_core::offchain::OpaqueNetworkState, ()> {
		self.inner.network_state()
	}
	fn timestamp(&mut self) -> sp_core::offchain::Timestamp {
		self.inner.timestamp()
	}
	fn sleep_until(&mut self, deadline: sp_core::offchain::Timestamp) {
		self.inner.sleep_until(deadline)
	}
	fn random_seed(&mut self) -> [u8; 32] {
		self.inner.random_seed()
	}
	fn http_request_start(
		&mut self,
		_method: &str,
		uri: &str,
		_meta: &[u8],
	) -> Result<sp_core::offchain::HttpRequestId, ()> {
		let mut s = self.state.write();
		s.log.push((uri.into(), 0));
		Ok(sp_core::offchain::HttpRequestId((s.log.len() - 1) as u16))
	}
	fn http_request_add_header(
		&mut self,
		_: sp_core::offchain::HttpRequestId,
		_: &str,
		_: &str,
	) -> Result<(), ()> {
		Ok(())
	}
	fn http_request_write_body(
		&mut self,
		_: sp_core::offchain::HttpRequestId,
		_: &[u8],
		_: Option<sp_core::offchain::Timestamp>,
	) -> Result<(), sp_core::offchain::HttpError> {
		Ok(())
	}
	fn http_response_wait(
		&mut self,
		ids: &[sp_core::offchain::HttpRequestId],
		_: Option<sp_core::offchain::Timestamp>,
	) -> Vec<sp_core::offchain::HttpRequestStatus> {
		ids.iter()
			.map(|id| sp_core::offchain::HttpRequestStatus::Finished(self.response(*id).0))
			.collect()
	}
	fn http_response_headers(
		&mut self,
		id: sp_core::offchain::HttpRequestId,
	) -> Vec<(Vec<u8>, Vec<u8>)> {
		self.response(id).1.into_iter().map(|(k, v)| (k.into_bytes(), v.into_bytes())).collect()
	}
	fn http_response_read_body(
		&mut self,
		id: sp_core::offchain::HttpRequestId,
		buffer: &mut [u8],
		_: Option<sp_core::offchain::Timestamp>,
	) -> Result<usize, sp_core::offchain::HttpError> {
		let body = self.response(id).2;
		let mut s = self.state.write();
		let read = &mut s.log[id.0 as usize].1;
		let n = buffer.len().min(body.len() - *read);
		buffer[..n].copy_from_slice(&body[*read..*read + n]);
		*read += n;
		Ok(n)
	}
	fn set_authorized_nodes(&mut self, nodes: Vec<sp_core::OpaquePeerId>, authorized_only: bool) {
		self.inner.set_authorized_nodes(nodes, authorized_only)
	}
}

// ---- attack II.8: starvation, fetch limits ----

/// [`env`] with [`Web`] answering the fetcher's HTTP requests.
fn web_env() -> (Env, Web) {
	let mut env = env(true);
	let (inner, _) = sp_core::offchain::testing::TestOffchainExt::new();
	let web = Web { inner, state: Default::default() };
	env.ext.register_extension(sp_core::offchain::OffchainWorkerExt::new(web.clone()));
	(env, web)
}

/// Register a URI model `id` of `size` bytes served from `uri`, as an owner would.
fn register_uri(id: H256, size: u64, uri: &str) {
	let spec = ModelSpec {
		name: BoundedVec::truncate_from(b"classifier".to_vec()),
		inputs: BoundedVec::truncate_from(vec![f32_spec(4)]),
		outputs: BoundedVec::truncate_from(vec![f32_spec(3)]),
		opset: 17,
		engine_version: ENGINE,
		price_per_call: 5,
		acceptance: AcceptanceRule::Exact,
		execution: ExecutionClass::Native,
		byte_size: size,
		max_constant_bytes: DECLARED,
		availability: Availability::Uris(BoundedVec::truncate_from(vec![
			BoundedVec::truncate_from(uri.as_bytes().to_vec()),
		])),
		reference_input: BoundedVec::truncate_from(classifier_input()),
		reference_output: BoundedVec::truncate_from(some_output()),
	};
	assert_ok!(ModelsPallet::register_model(RuntimeOrigin::signed(OWNER), id, spec));
}

/// The attest calls submitted so far, by model.
fn attested_models(pool: &RwLock<PoolState>) -> Vec<H256> {
	attestations(pool)
		.into_iter()
		.filter_map(|tx| match tx.call {
			RuntimeCall::ModelsPallet(Call::attest { hash, .. }) => Some(hash),
			_ => None,
		})
		.collect()
}

#[test]
fn dead_urls_do_not_starve_other_pending_models() {
	// More dead-URL models than one run works on, all before a good model in storage order:
	// the worker must still get to the good one.
	let (Env { mut ext, pool, backend, _dir, .. }, web) = web_env();
	ext.execute_with(|| {
		let bytes = testing::tiny_classifier();
		let good = H256(model_hash(&bytes));
		backend.store().put(&bytes).unwrap();
		let key = |id: &H256| crate::Models::<Test>::hashed_key_for(id);
		let dead: Vec<H256> = (1..=255u8)
			.map(|i| H256([i; 32]))
			.filter(|id| key(id) < key(&good))
			.take(offchain::ATTESTATIONS_PER_RUN)
			.collect();
		assert_eq!(dead.len(), offchain::ATTESTATIONS_PER_RUN);
		for (i, id) in dead.iter().enumerate() {
			register_uri(*id, 1_000, &format!("http://dead.example/{i}.onnx"));
		}
		register_uri(good, bytes.len() as u64, "http://127.0.0.1:9/good.onnx");

		for block in 1..=2 {
			ModelsPallet::offchain_worker(block);
		}
		assert_eq!(attested_models(&pool), vec![good], "the good model is attested by run 2");
		// Each dead URL was tried once: a failed fetch keeps its claim for `RETRY_AFTER`
		// blocks, so the second run did not spend its budget on them again.
		assert_eq!(web.requested().len(), offchain::ATTESTATIONS_PER_RUN);
	});
}

#[test]
fn the_fetcher_only_fetches_http_urls_from_allowed_hosts() {
	let (Env { mut ext, pool, _dir, .. }, web) = web_env();
	ext.execute_with(|| {
		let bytes = testing::tiny_classifier();
		// A record whose URI is not http(s) (registration refuses these; older records or
		// genesis could hold one): never requested.
		let local = H256([5; 32]);
		register_uri(local, 1_000, "http://models.example/x.onnx");
		crate::Models::<Test>::mutate(local, |m| {
			m.as_mut().unwrap().spec.availability = Availability::Uris(BoundedVec::truncate_from(
				vec![BoundedVec::truncate_from(b"file:///etc/passwd".to_vec())],
			));
		});
		// The node allows models.example only: the model on 127.0.0.1 is never requested, the
		// one on models.example is.
		sp_io::offchain::local_storage_set(
			sp_core::offchain::StorageKind::PERSISTENT,
			b"verity/models/fetch-allow-hosts",
			&vec![b"models.example".to_vec()].encode(),
		);
		let elsewhere = H256([6; 32]);
		register_uri(elsewhere, 1_000, "http://127.0.0.1:9/m.onnx");
		let good = H256(model_hash(&bytes));
		register_uri(good, bytes.len() as u64, "https://Models.Example/good.onnx");
		web.route("https://Models.Example/good.onnx", &bytes);

		ModelsPallet::offchain_worker(1);
		assert_eq!(web.requested(), vec!["https://Models.Example/good.onnx".to_string()]);
		assert_eq!(attested_models(&pool), vec![good]);
	});
}

#[test]
fn bodies_longer_than_the_declared_size_are_not_read() {
	let (Env { mut ext, pool, backend, _dir, .. }, web) = web_env();
	ext.execute_with(|| {
		let bytes = testing::tiny_classifier();
		let id = H256(model_hash(&bytes));
		let size = bytes.len() as u64;
		register_uri(id, size, "http://a.example/m.onnx");
		let huge = vec![7u8; 1 << 20];
		// Announced too long: refused before reading the body.
		let length = huge.len().to_string();
		web.route_with("http://a.example/m.onnx", 200, &[("Content-Length", &length)], &huge);
		ModelsPallet::offchain_worker(1);
		assert_eq!(web.requested().len(), 1);
		assert_eq!(web.read_of(0), 0, "nothing read of an announced oversized body");
		// Not announced: reading stops once the body passes the declared size.
		web.route("http://a.example/m.onnx", &huge);
		ModelsPallet::offchain_worker(1 + u64::from(verity_primitives::offchain::RETRY_AFTER));
		assert_eq!(web.requested().len(), 2);
		assert!(web.read_of(1) <= bytes.len() + 4096, "read {} bytes", web.read_of(1));
		assert!(attested_models(&pool).is_empty());
		assert!(!backend.store().contains(&id.0));
		// The right bytes, announced with their length: fetched and attested.
		web.route_with(
			"http://a.example/m.onnx",
			200,
			&[("content-length", &bytes.len().to_string())],
			&bytes,
		);
		ModelsPallet::offchain_worker(1 + 2 * u64::from(verity_primitives::offchain::RETRY_AFTER));
		assert_eq!(attested_models(&pool), vec![id]);
	});
}

// ---- issue 18 and 14.7: declared constants, engine version, run bounds ----

/// Issue 18: a 200-byte model whose graph computes a 1 MiB weight (`ConstantOfShape` into
/// `MatMul`), declaring 64 KiB: the attester's engine refuses it before folding anything and
/// the attestation rejects it, with the reason in the event. On the old code the attester ran
/// it (every node's 256 MiB limit passes it) and it became active, charged kilobytes.
#[test]
fn a_model_whose_folded_constants_exceed_its_declaration_is_rejected_at_attestation() {
	let Env { mut ext, pool, backend, _dir, .. } = env(true);
	ext.execute_with(|| {
		let bytes = testing::constant_of_shape_matmul(4, 65_536, 0.5);
		assert!(bytes.len() < 1_000);
		backend.store().put(&bytes).unwrap();
		let id = register(&bytes, some_output());

		ModelsPallet::offchain_worker(1);
		let txs = attestations(&pool);
		assert_eq!(txs.len(), 1);
		let attestation = Attestation::Refused(Refusal::ConstantsOverSpec);
		assert_eq!(txs[0].call, RuntimeCall::ModelsPallet(Call::attest { hash: id, attestation }));
		assert_ok!(txs[0].call.clone().dispatch(RuntimeOrigin::signed(txs[0].signer)));
		System::assert_last_event(
			Event::ModelRejected {
				model: id,
				attester: txs[0].signer,
				reason: RejectReason::Refused(Refusal::ConstantsOverSpec),
			}
			.into(),
		);
		assert!(!backend.engine().is_loaded(&id.0), "nothing was folded or cached");
		ModelsPallet::do_try_state().unwrap();
	});
}

/// Executors and jurors run through the registry, which loads the model under its declared
/// constants and the engine version of its spec: a node refuses alike what the attesters
/// refused.
#[test]
fn the_registry_runs_models_under_their_declaration_and_engine_version() {
	let Env { mut ext, backend, _dir, .. } = env(false);
	ext.execute_with(|| {
		use crate::traits::ModelRegistry;
		let run = |id: &H256| {
			<ModelsPallet as ModelRegistry<AccountId, Balance>>::run_offchain(
				id,
				&classifier_input(),
				MaxReferenceSize::get(),
				verity_host::Purpose::Execute,
			)
		};
		let bytes = testing::tiny_classifier();
		backend.store().put(&bytes).unwrap();
		let id = register(&bytes, some_output());
		assert!(run(&id).is_ok());
		let bound = figures(&backend, &bytes).constant_bytes;
		crate::Models::<Test>::mutate(id, |m| {
			m.as_mut().unwrap().spec.max_constant_bytes = bound - 1
		});
		assert_eq!(run(&id), Err(verity_host::HostError::ConstantsOverSpec));
		crate::Models::<Test>::mutate(id, |m| {
			let m = m.as_mut().unwrap();
			m.spec.max_constant_bytes = bound;
			m.spec.engine_version = ENGINE + 1;
		});
		assert_eq!(run(&id), Err(verity_host::HostError::EngineVersionMismatch));
	});
}

/// Issue 14.7: a node whose engine is not the version a pending model's spec names does not
/// attest it (registration refuses such specs; an older record or another node binary can
/// still meet one).
#[test]
fn a_node_with_another_engine_does_not_attest() {
	let Env { mut ext, pool, backend, _dir, .. } = env(true);
	ext.execute_with(|| {
		let bytes = testing::tiny_classifier();
		backend.store().put(&bytes).unwrap();
		let id = register(&bytes, some_output());
		crate::Models::<Test>::mutate(id, |m| m.as_mut().unwrap().spec.engine_version = ENGINE + 1);
		ModelsPallet::offchain_worker(1);
		assert!(attestations(&pool).is_empty());
		assert_eq!(crate::Models::<Test>::get(id).unwrap().status, ModelStatus::Pending);
	});
}
