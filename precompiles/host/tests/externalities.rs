//! The host functions through `sp_io::TestExternalities`, with and without the extension.

use std::sync::Arc;
use verity_engine::{
	commitment, decode_tensors, encode_tensors,
	engine::{Engine, Limits},
	model_hash, testing, AcceptanceRule, Tensor,
};
use verity_host::{
	engine_version, inference, load_model, model_available, put_model, run, run_within, verify,
	HostBackend, HostError, InferenceExt, ModelStore, Purpose, DEFAULT_MAX_OUTPUT, NODE_TIMEOUT,
};

fn ext_with_backend(dir: &std::path::Path) -> (sp_io::TestExternalities, Arc<HostBackend>) {
	let store = ModelStore::open(dir, 8 << 20).unwrap();
	let backend = Arc::new(HostBackend::new(Arc::new(Engine::new(Limits::default())), store));
	let mut ext = sp_io::TestExternalities::default();
	ext.register_extension(InferenceExt::new(backend.clone()));
	(ext, backend)
}

fn input() -> Vec<u8> {
	encode_tensors(&[
		Tensor::from_f32(vec![2, 4], &[0.5, -1.0, 2.0, 0.0, 1.0, 1.0, 1.0, 1.0]).unwrap()
	])
}

#[test]
fn run_verify_and_availability_with_extension() {
	let dir = tempfile::tempdir().unwrap();
	let (mut ext, backend) = ext_with_backend(dir.path());
	let model = testing::tiny_classifier();
	let h = backend.store().put(&model).unwrap();
	assert_eq!(h, model_hash(&model));
	let unknown = [7u8; 32];

	ext.execute_with(|| {
		assert_eq!(model_available(&h), Ok(true));
		assert_eq!(model_available(&unknown), Ok(false));

		let out = run(&h, &input(), DEFAULT_MAX_OUTPUT).unwrap();
		let tensors = decode_tensors(&out).unwrap();
		assert_eq!(tensors[0].shape(), &[2, 3]);
		let sum: f32 = tensors[0].to_f32_vec().unwrap()[..3].iter().sum();
		assert!((sum - 1.0).abs() < 1e-5);

		// verify: the same output agrees exactly; a perturbed one only within tolerance.
		assert_eq!(verify(&h, &input(), &out, &AcceptanceRule::Exact), Ok(true));
		let mut vals = tensors[0].to_f32_vec().unwrap();
		vals[0] += 1e-4;
		let perturbed = encode_tensors(&[Tensor::from_f32(vec![2, 3], &vals).unwrap()]);
		assert_ne!(commitment(&tensors), commitment(&decode_tensors(&perturbed).unwrap()));
		assert_eq!(verify(&h, &input(), &perturbed, &AcceptanceRule::Exact), Ok(false));
		let loose = AcceptanceRule::Tolerance { abs: 1_000_000, rel: 0 }; // 1e-3
		assert_eq!(verify(&h, &input(), &perturbed, &loose), Ok(true));
		assert_eq!(verify(&h, &input(), &perturbed, &AcceptanceRule::ArgMax), Ok(true));

		// errors are statuses, not panics
		assert_eq!(run(&unknown, &input(), DEFAULT_MAX_OUTPUT), Err(HostError::ModelNotFound));
		assert_eq!(run(&h, b"garbage", DEFAULT_MAX_OUTPUT), Err(HostError::InvalidInput));
		let wrong_shape = encode_tensors(&[Tensor::from_f32(vec![1, 3], &[0.0; 3]).unwrap()]);
		assert_eq!(run(&h, &wrong_shape, DEFAULT_MAX_OUTPUT), Err(HostError::InvalidInput));
		assert_eq!(
			run(&h, &input(), 8),
			Err(HostError::OutputTooLarge { needed: out.len() as u32 })
		);
		assert_eq!(
			verify(&h, &input(), b"\x01\xff", &AcceptanceRule::Exact),
			Err(HostError::InvalidOutput)
		);
		let status = inference::verify(&h, &input(), &out, &[9u8]);
		assert_eq!(verity_host::Status(status).into_result(), Err(HostError::InvalidRule));
	});
	assert!(backend.engine().is_loaded(&h));
}

#[test]
fn put_model_stores_only_bytes_matching_the_hash() {
	let dir = tempfile::tempdir().unwrap();
	let (mut ext, backend) = ext_with_backend(dir.path());
	let model = testing::tiny_classifier();
	let h = model_hash(&model);
	ext.execute_with(|| {
		assert_eq!(model_available(&h), Ok(false));
		let mut corrupt = model.clone();
		corrupt[10] ^= 0xff;
		assert_eq!(put_model(&h, &corrupt), Err(HostError::InvalidModel));
		assert_eq!(model_available(&h), Ok(false));
		assert_eq!(put_model(&h, &model), Ok(()));
		assert_eq!(model_available(&h), Ok(true));
		assert!(run(&h, &input(), DEFAULT_MAX_OUTPUT).is_ok());
	});
	assert!(backend.store().contains(&h));
}

#[test]
fn invalid_stored_model_is_reported() {
	let dir = tempfile::tempdir().unwrap();
	let (mut ext, backend) = ext_with_backend(dir.path());
	let junk = b"definitely not onnx".to_vec();
	let h = backend.store().put(&junk).unwrap();
	ext.execute_with(|| {
		assert_eq!(model_available(&h), Ok(true));
		assert_eq!(run(&h, &input(), DEFAULT_MAX_OUTPUT), Err(HostError::InvalidModel));
	});
}

#[test]
fn without_extension_everything_is_unavailable() {
	let mut ext = sp_io::TestExternalities::default();
	let h = [1u8; 32];
	ext.execute_with(|| {
		assert_eq!(model_available(&h), Err(HostError::Unavailable));
		assert_eq!(run(&h, &input(), DEFAULT_MAX_OUTPUT), Err(HostError::Unavailable));
		assert_eq!(verify(&h, &input(), &[], &AcceptanceRule::Exact), Err(HostError::Unavailable));
		assert_eq!(put_model(&h, b"bytes"), Err(HostError::Unavailable));
		assert_eq!(
			run_within(&h, &input(), DEFAULT_MAX_OUTPUT, Purpose::Execute, 1_000),
			Err(HostError::Unavailable)
		);
		assert_eq!(engine_version(), Err(HostError::Unavailable));
	});
}

/// Version 3 of `run` runs within the caller's (the chain's) time limit, not the node's: a node
/// whose own limit is 0 ms runs a model the chain gives 10 s, and a node without a limit times
/// out where the chain gives 0 ms. `engine_version` reports the node's engine.
#[test]
fn run_within_uses_the_callers_time_limit_and_the_engine_reports_its_version() {
	let dir = tempfile::tempdir().unwrap();
	let store = ModelStore::open(dir.path(), 8 << 20).unwrap();
	let limits = Limits { run_timeout: Some(std::time::Duration::ZERO), ..Limits::default() };
	let backend = Arc::new(HostBackend::new(Arc::new(Engine::new(limits)), store));
	let mut ext = sp_io::TestExternalities::default();
	ext.register_extension(InferenceExt::new(backend.clone()));
	let model = testing::tiny_classifier();
	let h = backend.store().put(&model).unwrap();
	ext.execute_with(|| {
		assert_eq!(engine_version(), Ok(verity_engine::ENGINE_VERSION));
		// Loaded first, so the 0 ms limits below time the run only.
		load_model(&h, None).unwrap();
		assert_eq!(run(&h, &input(), DEFAULT_MAX_OUTPUT), Err(HostError::Timeout));
		assert_eq!(
			run_within(&h, &input(), DEFAULT_MAX_OUTPUT, Purpose::Judge, NODE_TIMEOUT),
			Err(HostError::Timeout)
		);
		let out = run_within(&h, &input(), DEFAULT_MAX_OUTPUT, Purpose::Judge, 10_000).unwrap();
		assert_eq!(decode_tensors(&out).unwrap()[0].shape(), &[2, 3]);
	});

	let dir = tempfile::tempdir().unwrap();
	let store = ModelStore::open(dir.path(), 8 << 20).unwrap();
	let limits =
		Limits { run_timeout: Some(std::time::Duration::from_secs(30)), ..Limits::default() };
	let backend = Arc::new(HostBackend::new(Arc::new(Engine::new(limits)), store));
	let mut ext = sp_io::TestExternalities::default();
	ext.register_extension(InferenceExt::new(backend.clone()));
	let h = backend.store().put(&model).unwrap();
	ext.execute_with(|| {
		load_model(&h, None).unwrap();
		assert!(run(&h, &input(), DEFAULT_MAX_OUTPUT).is_ok());
		assert_eq!(
			run_within(&h, &input(), DEFAULT_MAX_OUTPUT, Purpose::Judge, 0),
			Err(HostError::Timeout)
		);
	});
}

#[test]
fn store_is_content_addressed_and_verifies_reads() {
	let dir = tempfile::tempdir().unwrap();
	let store = ModelStore::open(dir.path(), 1024).unwrap();
	let h = store.put(b"abc").unwrap();
	assert_eq!(store.put(b"abc").unwrap(), h);
	assert_eq!(store.get(&h).unwrap().as_deref(), Some(&b"abc"[..]));
	assert!(store.get(&[0u8; 32]).unwrap().is_none());
	assert!(matches!(
		store.put(&[0u8; 2048]),
		Err(verity_host::StoreError::TooLarge { size: 2048, max: 1024 })
	));
	// no temporary files left behind
	let names: Vec<_> = std::fs::read_dir(dir.path())
		.unwrap()
		.map(|e| e.unwrap().file_name().into_string().unwrap())
		.collect();
	assert_eq!(names, vec![format!("{}.onnx", hex_of(&h))]);
	// corrupt on disk: detected and removed
	std::fs::write(dir.path().join(format!("{}.onnx", hex_of(&h))), b"abd").unwrap();
	assert!(matches!(store.get(&h), Err(verity_host::StoreError::Corrupt(_))));
	assert!(!store.contains(&h));
	store.remove(&h).unwrap();
}

fn hex_of(h: &[u8; 32]) -> String {
	h.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs, plan lookups, the store and worker duties show up in the Prometheus registry with
/// the outcome each call had.
#[test]
fn metrics_count_runs_plans_store_and_duties() {
	use prometheus_endpoint::{prometheus::proto::MetricFamily, Registry};
	let dir = tempfile::tempdir().unwrap();
	let registry = Registry::new();
	let metrics = verity_host::metrics::Metrics::register(&registry).unwrap();
	let store = ModelStore::open(dir.path(), 8 << 20).unwrap();
	let backend = Arc::new(
		HostBackend::new(Arc::new(Engine::new(Limits::default())), store).with_metrics(metrics),
	);
	let mut ext = sp_io::TestExternalities::default();
	ext.register_extension(InferenceExt::new(backend.clone()));
	let model = testing::tiny_classifier();
	let h = model_hash(&model);

	ext.execute_with(|| {
		put_model(&h, &model).unwrap();
		run(&h, &input(), DEFAULT_MAX_OUTPUT).unwrap();
		run(&h, &input(), DEFAULT_MAX_OUTPUT).unwrap();
		assert_eq!(run(&h, b"garbage", DEFAULT_MAX_OUTPUT), Err(HostError::InvalidInput));
		assert_eq!(run(&[9; 32], &input(), DEFAULT_MAX_OUTPUT), Err(HostError::ModelNotFound));
		verity_host::record_duty(verity_host::Duty::VoteCommit);
		verity_host::record_duty(verity_host::Duty::VoteCommit);
		verity_host::record_duty(verity_host::Duty::Result);
		// An unknown duty code is not counted.
		assert_eq!(inference::record_duty(99), 0);
	});

	let families = registry.gather();
	let family = |name: &str| -> &MetricFamily {
		families.iter().find(|f| f.get_name() == name).unwrap_or_else(|| panic!("{name} missing"))
	};
	let counter = |name: &str, label: &str| -> u64 {
		family(name)
			.get_metric()
			.iter()
			.find(|m| m.get_label().iter().any(|l| l.get_value() == label))
			.map(|m| m.get_counter().get_value() as u64)
			.unwrap_or(0)
	};
	assert_eq!(counter("verity_inference_runs_total", "ok"), 2);
	assert_eq!(counter("verity_inference_runs_total", "invalid_input"), 1);
	assert_eq!(counter("verity_inference_runs_total", "model_unavailable"), 1);
	assert_eq!(counter("verity_model_plan_cache_total", "loaded"), 1);
	assert_eq!(counter("verity_model_plan_cache_total", "hit"), 1);
	assert_eq!(counter("verity_model_plan_cache_total", "not_found"), 1);
	assert_eq!(counter("verity_worker_duties_total", "vote_commit"), 2);
	assert_eq!(counter("verity_worker_duties_total", "result"), 1);
	let gauge = |name: &str| family(name).get_metric()[0].get_gauge().get_value() as u64;
	assert_eq!(gauge("verity_model_store_models"), 1);
	assert_eq!(gauge("verity_model_store_bytes"), model.len() as u64);
	let info = backend.engine().info(&h).unwrap();
	assert_eq!(gauge("verity_model_plan_cache_plans"), 1);
	assert_eq!(gauge("verity_model_plan_cache_bytes"), info.plan_bytes);
	assert_eq!(gauge("verity_model_plan_cache_capacity_bytes"), Limits::default().cache_bytes);
	let histogram = family("verity_inference_run_seconds").get_metric()[0].get_histogram();
	assert_eq!(histogram.get_sample_count(), 2);
}

/// A model whose 16 MiB weight is built inside its graph: `load_model` refuses it under a
/// smaller declared constant limit (cached or not), reports its bounds under the exact one, and
/// the plan cache gauge reports what the engine charges for it, folded weight included.
#[test]
fn load_model_checks_the_declared_constants_and_the_gauge_reports_the_charge() {
	use prometheus_endpoint::Registry;
	let dir = tempfile::tempdir().unwrap();
	let registry = Registry::new();
	let metrics = verity_host::metrics::Metrics::register(&registry).unwrap();
	let store = ModelStore::open(dir.path(), 8 << 20).unwrap();
	let backend = Arc::new(
		HostBackend::new(Arc::new(Engine::new(Limits::default())), store).with_metrics(metrics),
	);
	let mut ext = sp_io::TestExternalities::default();
	ext.register_extension(InferenceExt::new(backend.clone()));
	let model = testing::constant_of_shape_matmul(2048, 2048, 0.5);
	let h = model_hash(&model);
	// What the owner would declare: the bound a local engine computes.
	let reference = Engine::new(Limits::default()).load(&model, &h).unwrap();
	let bound = u64::try_from(reference.constant_bytes).unwrap();
	assert!(bound >= 16 << 20);
	let charged = || -> u64 {
		registry
			.gather()
			.iter()
			.find(|f| f.get_name() == "verity_model_plan_cache_bytes")
			.unwrap()
			.get_metric()[0]
			.get_gauge()
			.get_value() as u64
	};

	ext.execute_with(|| {
		assert_eq!(load_model(&h, Some(bound)), Err(HostError::ModelNotFound));
		put_model(&h, &model).unwrap();
		assert_eq!(load_model(&h, Some(bound - 1)), Err(HostError::ConstantsOverSpec));
		assert!(!backend.engine().is_loaded(&h), "refused before a plan was built");
		assert_eq!(charged(), 0);
		let bounds = load_model(&h, Some(bound)).unwrap();
		assert_eq!(bounds.constant_bytes, bound);
		assert_eq!(u128::from(bounds.bound_bytes), reference.bound_bytes);
		assert_eq!(u128::from(bounds.flops), reference.flops);
		assert!(bounds.plan_bytes >= 16 << 20, "the folded weight is charged");
		assert_eq!(charged(), bounds.plan_bytes);
		assert_eq!(load_model(&h, None), Ok(bounds));
		// A cached plan is checked against a smaller declaration too, and stays cached.
		assert_eq!(load_model(&h, Some(8 << 20)), Err(HostError::ConstantsOverSpec));
		assert!(backend.engine().is_loaded(&h));
		assert_eq!(
			inference::load_model(&h, u64::MAX, &mut [0u8; 8]) >> 32,
			u64::from(HostError::OutputTooLarge { needed: 0 }.code())
		);
	});
	let mut bare = sp_io::TestExternalities::default();
	bare.execute_with(|| assert_eq!(load_model(&h, None), Err(HostError::Unavailable)));
}
