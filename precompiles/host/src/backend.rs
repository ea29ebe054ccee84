//! The node side: the externalities extension, its backend, and the on-disk model store.

use crate::{metrics::Metrics, Duty, HostError, Purpose};
use std::{
	fs,
	io::{self, Write},
	path::{Path, PathBuf},
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc,
	},
};
use verity_engine::{
	agrees_all, decode_tensors, encode_tensors,
	engine::{Declared, Engine, EngineError, ModelInfo},
	model_hash, AcceptanceRule, ModelHash,
};

const LOG_TARGET: &str = "verity::inference";

sp_externalities::decl_extension! {
	/// The node's inference engine and model store, for the inference host functions.
	pub struct InferenceExt(Arc<HostBackend>);
}

impl InferenceExt {
	pub fn new(backend: Arc<HostBackend>) -> Self {
		Self(backend)
	}
}

/// The next nonce of an account (SCALE-encoded account id): its nonce at the best block plus
/// its transactions ready in the node's pool, as `system_accountNextIndex` answers it.
pub type NextIndex = dyn Fn(&[u8]) -> Option<u32> + Send + Sync;

sp_externalities::decl_extension! {
	/// The node's transaction pool, for [`crate::inference::next_index`]: workers whose runs
	/// overlap (one per imported block) sign with the pool's next nonce, not the chain's.
	pub struct PoolNonceExt(Arc<NextIndex>);
}

impl PoolNonceExt {
	pub fn new(next_index: Arc<NextIndex>) -> Self {
		Self(next_index)
	}
}

/// Why the model store refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
	#[error("model is {size} bytes, the store accepts at most {max}")]
	TooLarge { size: u64, max: u64 },
	#[error("stored model 0x{0} does not match its hash; it was removed")]
	Corrupt(String),
	#[error("model store I/O error: {0}")]
	Io(#[from] io::Error),
}

/// A content-addressed directory of model files, each named by the hex of its blake2-256.
///
/// Writes go to a temporary file in the same directory and are renamed into place, so a crash
/// never leaves a partial file under a model's name; reads re-hash the bytes, so a file
/// corrupted on disk is detected (and removed, so it can be fetched again) instead of served.
pub struct ModelStore {
	dir: PathBuf,
	max_bytes: u64,
	tmp_counter: AtomicU64,
}

impl ModelStore {
	/// Open (creating if needed) a store in `dir` accepting models up to `max_bytes`.
	pub fn open(dir: impl Into<PathBuf>, max_bytes: u64) -> io::Result<Self> {
		let dir = dir.into();
		fs::create_dir_all(&dir)?;
		Ok(Self { dir, max_bytes, tmp_counter: AtomicU64::new(0) })
	}

	pub fn dir(&self) -> &Path {
		&self.dir
	}

	fn path(&self, hash: &ModelHash) -> PathBuf {
		self.dir.join(format!("{}.onnx", hex::encode(hash)))
	}

	pub fn contains(&self, hash: &ModelHash) -> bool {
		self.path(hash).is_file()
	}

	/// Store `bytes` under their hash; returns the hash. Idempotent.
	pub fn put(&self, bytes: &[u8]) -> Result<ModelHash, StoreError> {
		if bytes.len() as u64 > self.max_bytes {
			return Err(StoreError::TooLarge { size: bytes.len() as u64, max: self.max_bytes });
		}
		let hash = model_hash(bytes);
		if self.contains(&hash) {
			return Ok(hash);
		}
		let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
		let tmp = self.dir.join(format!(".tmp-{}-{}-{n}", hex::encode(hash), std::process::id()));
		let result = (|| {
			let mut f = fs::File::create(&tmp)?;
			f.write_all(bytes)?;
			f.sync_all()?;
			fs::rename(&tmp, self.path(&hash))
		})();
		if let Err(e) = result {
			let _ = fs::remove_file(&tmp);
			return Err(e.into());
		}
		Ok(hash)
	}

	/// The model's bytes, verified against `hash`; `None` if absent.
	pub fn get(&self, hash: &ModelHash) -> Result<Option<Vec<u8>>, StoreError> {
		let path = self.path(hash);
		let size = match fs::metadata(&path) {
			Ok(m) => m.len(),
			Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
			Err(e) => return Err(e.into()),
		};
		if size > self.max_bytes {
			return Err(StoreError::TooLarge { size, max: self.max_bytes });
		}
		let bytes = match fs::read(&path) {
			Ok(b) => b,
			Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
			Err(e) => return Err(e.into()),
		};
		if &model_hash(&bytes) != hash {
			let _ = fs::remove_file(&path);
			return Err(StoreError::Corrupt(hex::encode(hash)));
		}
		Ok(Some(bytes))
	}

	/// How many model files the store holds and their total size in bytes.
	pub fn usage(&self) -> io::Result<(u64, u64)> {
		let (mut count, mut bytes) = (0, 0);
		for entry in fs::read_dir(&self.dir)? {
			let entry = entry?;
			if entry.file_name().to_string_lossy().ends_with(".onnx") {
				count += 1;
				bytes += entry.metadata()?.len();
			}
		}
		Ok((count, bytes))
	}

	/// Remove a model; absent is not an error.
	pub fn remove(&self, hash: &ModelHash) -> io::Result<()> {
		match fs::remove_file(self.path(hash)) {
			Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
			_ => Ok(()),
		}
	}
}

/// What the host functions call: the engine plus the store it loads models from.
pub struct HostBackend {
	engine: Arc<Engine>,
	store: ModelStore,
	metrics: Option<Metrics>,
	faulty_executor: bool,
}

impl HostBackend {
	pub fn new(engine: Arc<Engine>, store: ModelStore) -> Self {
		Self { engine, store, metrics: None, faulty_executor: false }
	}

	/// Dev only (`verity-node --dev-faulty-executor`, refused on every chain but `--dev`):
	/// perturb every [`Purpose::Execute`] output with [`perturb`], so that this node's executor
	/// posts wrong results with valid receipts. Jurors' and attesters' runs stay honest.
	pub fn with_faulty_executor(mut self, faulty: bool) -> Self {
		self.faulty_executor = faulty;
		self
	}

	/// Whether [`Self::with_faulty_executor`] is on.
	pub fn is_faulty_executor(&self) -> bool {
		self.faulty_executor
	}

	/// Keep [`Metrics`] of runs, plan lookups, the store and worker duties.
	pub fn with_metrics(mut self, metrics: Metrics) -> Self {
		self.metrics = Some(metrics);
		self.update_store_gauges();
		self.update_cache_gauges();
		self
	}

	fn count_plan(&self, outcome: &str) {
		if let Some(m) = &self.metrics {
			m.plan_cache.with_label_values(&[outcome]).inc();
		}
	}

	/// Refresh the plan cache gauges from the engine (after every load, hit or not: another
	/// thread's load may have evicted plans meanwhile).
	fn update_cache_gauges(&self) {
		if let Some(m) = &self.metrics {
			let stats = self.engine.cache_stats();
			m.plan_cache_bytes.set(stats.bytes);
			m.plan_cache_capacity.set(stats.capacity);
			m.plan_cache_plans.set(stats.entries as u64);
		}
	}

	fn update_store_gauges(&self) {
		if let (Some(m), Ok((count, bytes))) = (&self.metrics, self.store.usage()) {
			m.store_models.set(count);
			m.store_bytes.set(bytes);
		}
	}

	/// Count a worker duty; `false` without metrics.
	pub fn record_duty(&self, duty: Duty) -> bool {
		let Some(m) = &self.metrics else { return false };
		m.duties.with_label_values(&[duty.label()]).inc();
		true
	}

	pub fn engine(&self) -> &Arc<Engine> {
		&self.engine
	}

	pub fn store(&self) -> &ModelStore {
		&self.store
	}

	/// Load `hash` from the store into the engine unless it is cached.
	pub fn ensure_loaded(&self, hash: &ModelHash) -> Result<(), HostError> {
		self.load_declared(hash, None).map(|_| ())
	}

	/// [`Self::ensure_loaded`], also checking the model's constant bound against
	/// `max_constant_bytes`, the limit its registered spec declares:
	/// [`HostError::ConstantsOverSpec`] when it is above, the plan cached or not (the engine's
	/// message, with both figures, is logged).
	pub fn load_declared(
		&self,
		hash: &ModelHash,
		max_constant_bytes: Option<u64>,
	) -> Result<Arc<ModelInfo>, HostError> {
		let r = self.load(hash, max_constant_bytes);
		self.update_cache_gauges();
		r
	}

	fn load(
		&self,
		hash: &ModelHash,
		max_constant_bytes: Option<u64>,
	) -> Result<Arc<ModelInfo>, HostError> {
		let refused = |e: EngineError| {
			log::warn!(target: LOG_TARGET, "model 0x{} rejected: {e}", hex::encode(hash));
			match e {
				EngineError::ConstantsOverSpec { .. } => HostError::ConstantsOverSpec,
				_ => HostError::InvalidModel,
			}
		};
		let declared = Declared { io: None, max_constant_bytes };
		if let Some(info) = self.engine.info(hash) {
			self.count_plan("hit");
			return match declared.max_constant_bytes {
				Some(d) if info.constants_bound() > u128::from(d) => {
					Err(refused(EngineError::ConstantsOverSpec {
						bytes: info.constants_bound(),
						declared: d,
					}))
				},
				_ => Ok(info),
			};
		}
		let bytes = match self.store.get(hash) {
			Ok(Some(b)) => b,
			Ok(None) => {
				self.count_plan("not_found");
				return Err(HostError::ModelNotFound);
			},
			Err(e) => {
				self.count_plan("not_found");
				self.update_store_gauges();
				log::warn!(target: LOG_TARGET, "model 0x{}: {e}", hex::encode(hash));
				return Err(match e {
					StoreError::Io(_) => HostError::ModelNotFound,
					_ => HostError::InvalidModel,
				});
			},
		};
		match self.engine.load_declared(&bytes, hash, declared) {
			Ok(info) => {
				self.count_plan("loaded");
				Ok(info)
			},
			Err(e) => {
				self.count_plan("rejected");
				Err(refused(e))
			},
		}
	}

	/// Run a model on canonical input bytes for `purpose`; returns canonical output bytes,
	/// perturbed for [`Purpose::Execute`] on a faulty dev executor.
	pub fn run_for(
		&self,
		hash: &ModelHash,
		input: &[u8],
		purpose: Purpose,
	) -> Result<Vec<u8>, HostError> {
		self.run_for_within(hash, input, purpose, self.engine.limits().run_timeout)
	}

	/// [`Self::run_for`] with the wall-time limit `timeout` instead of the node's
	/// (`--inference-timeout-ms`): the run bound the chain gives the model.
	pub fn run_for_within(
		&self,
		hash: &ModelHash,
		input: &[u8],
		purpose: Purpose,
		timeout: Option<std::time::Duration>,
	) -> Result<Vec<u8>, HostError> {
		let mut out = self.run_within(hash, input, timeout)?;
		self.perturb_if_faulty(hash, purpose, &mut out);
		Ok(out)
	}

	/// Perturbs `output` of model `hash` if this is a faulty dev executor and `purpose` is
	/// [`Purpose::Execute`]: the one rule for every engine, native or deterministic.
	pub fn perturb_if_faulty(&self, hash: &ModelHash, purpose: Purpose, output: &mut Vec<u8>) {
		if self.faulty_executor && purpose == Purpose::Execute {
			log::warn!(target: LOG_TARGET, "dev faulty executor: perturbing the output of 0x{}", hex::encode(hash));
			perturb(output);
		}
	}

	/// Run a model on canonical input bytes within the node's time limit; returns canonical
	/// output bytes.
	pub fn run(&self, hash: &ModelHash, input: &[u8]) -> Result<Vec<u8>, HostError> {
		self.run_within(hash, input, self.engine.limits().run_timeout)
	}

	/// [`Self::run`] within `timeout` (`None`: no limit).
	pub fn run_within(
		&self,
		hash: &ModelHash,
		input: &[u8],
		timeout: Option<std::time::Duration>,
	) -> Result<Vec<u8>, HostError> {
		let started = std::time::Instant::now();
		let r = self.run_inner(hash, input, timeout);
		if let Some(m) = &self.metrics {
			let outcome = match &r {
				Ok(_) => {
					m.run_seconds.observe(started.elapsed().as_secs_f64());
					"ok"
				},
				Err((_, outcome)) => outcome,
			};
			m.runs.with_label_values(&[outcome]).inc();
		}
		r.map_err(|(e, _)| e)
	}

	/// A run; an error comes with its metrics label.
	fn run_inner(
		&self,
		hash: &ModelHash,
		input: &[u8],
		timeout: Option<std::time::Duration>,
	) -> Result<Vec<u8>, (HostError, &'static str)> {
		let inputs =
			decode_tensors(input).map_err(|_| (HostError::InvalidInput, "invalid_input"))?;
		self.ensure_loaded(hash).map_err(|e| (e, "model_unavailable"))?;
		let outputs = self.engine.run_within(hash, &inputs, timeout).map_err(|e| {
			if matches!(e, EngineError::Panic { .. }) {
				log::warn!(target: LOG_TARGET, "run of 0x{} failed: {e}", hex::encode(hash));
			} else {
				log::debug!(target: LOG_TARGET, "run of 0x{} failed: {e}", hex::encode(hash));
			}
			match e {
				EngineError::InputCount { .. }
				| EngineError::InputSpec { .. }
				| EngineError::BatchTooLarge { .. } => (HostError::InvalidInput, "invalid_input"),
				EngineError::Timeout(_) => (HostError::Timeout, "timeout"),
				EngineError::Busy(_) => (HostError::Busy, "busy"),
				// Evicted between `ensure_loaded` and `run` by a concurrent load.
				EngineError::NotLoaded(_) => (HostError::Busy, "busy"),
				EngineError::Panic { .. } => (HostError::ExecutionFailed, "panicked"),
				_ => (HostError::ExecutionFailed, "failed"),
			}
		})?;
		Ok(encode_tensors(&outputs))
	}

	/// Re-run and compare with `claimed` under `rule`.
	pub fn verify(
		&self,
		hash: &ModelHash,
		input: &[u8],
		claimed: &[u8],
		rule: &AcceptanceRule,
	) -> Result<bool, HostError> {
		let claimed = decode_tensors(claimed).map_err(|_| HostError::InvalidOutput)?;
		let ours = self.run(hash, input)?;
		// Our own encoding always decodes; treat the impossible as an execution failure.
		let ours = decode_tensors(&ours).map_err(|_| HostError::ExecutionFailed)?;
		Ok(agrees_all(rule, &ours, &claimed))
	}

	/// Store `bytes` if they hash to `hash`.
	pub fn put_model(&self, hash: &ModelHash, bytes: &[u8]) -> Result<(), HostError> {
		if verity_engine::model_hash(bytes) != *hash {
			return Err(HostError::InvalidModel);
		}
		let r = self.store.put(bytes).map(|_| ()).map_err(|e| {
			log::warn!(target: LOG_TARGET, "storing model 0x{}: {e}", hex::encode(hash));
			HostError::InvalidModel
		});
		self.update_store_gauges();
		r
	}

	pub fn model_available(&self, hash: &ModelHash) -> bool {
		self.engine.is_loaded(hash) || self.store.contains(hash)
	}
}

/// Make an output wrong under every acceptance rule: in each f32 tensor, swap the largest and
/// the smallest element (the arg-max moves unless all elements are equal, in which case the
/// first is increased by one). Other dtypes are left alone.
pub fn perturb(output: &mut Vec<u8>) {
	use verity_engine::{DType, Tensor};
	let Ok(tensors) = decode_tensors(output) else { return };
	let changed: Vec<Tensor> = tensors
		.into_iter()
		.map(|t| {
			if t.dtype() != DType::F32 {
				return t;
			}
			let Some(mut v) = t.to_f32_vec() else { return t };
			let (mut lo, mut hi) = (0usize, 0usize);
			let (mut min, mut max) = match v.first() {
				Some(x) => (*x, *x),
				None => return t,
			};
			for (i, x) in v.iter().enumerate() {
				if *x < min {
					(lo, min) = (i, *x);
				}
				if *x > max {
					(hi, max) = (i, *x);
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
