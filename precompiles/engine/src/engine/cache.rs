//! The plan cache: what a loaded model holds and is charged, LRU eviction by bytes.

use super::*;

/// What the engine learned about a loaded model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelInfo {
	pub hash: ModelHash,
	/// Inputs and outputs as the graph declares them (symbolic dims are `None`).
	pub io: ModelIo,
	/// ONNX opset of the default domain.
	pub opset: i64,
	/// Estimated multiply-adds and divisions per run at `max_batch`.
	pub flops: u128,
	/// Upper bound of tensor bytes per run at `max_batch`.
	pub peak_bytes: u128,
	/// Bound of the constant bytes the plan may hold (checked against `max_constant_bytes`;
	/// see `src/fold.rs`), computed from the graph before folding: the same on every node.
	pub constant_bytes: u128,
	/// Bound of what packing the constant operands of matrix products and convolutions for
	/// tract's kernels adds to them (padding to the kernels' panels), computed on the
	/// decluttered graph: the same on every node. `constant_bytes + packing_bytes`
	/// ([`Self::constants_bound`]) is checked against `max_constant_bytes` and a declared limit.
	pub packing_bytes: u128,
	/// The deterministic part of the charge, decided on the graph alone (the same on every
	/// node): model bytes + [`Self::constants_bound`] + one run's peak of live tensors on the
	/// decluttered graph at `max_batch`. `PlanTooLarge` is decided on it, and `plan_bytes` is
	/// never below it.
	pub bound_bytes: u128,
	/// Bytes the optimized plan holds in its constants, measured: plain tensors plus the
	/// buffers of weights packed for tract's matrix multiply. Depends on the CPU's kernels.
	pub held_bytes: u64,
	/// Bound of the tensors one run has alive at once at `max_batch`: the peak of live
	/// non-constant tensors over the optimized plan's steps (im2col buffers included) or over
	/// the decluttered graph's evaluation order, the larger.
	pub scratch_bytes: u128,
	/// Bytes the plan is charged in the cache: model bytes + max([`Self::constants_bound`],
	/// `held_bytes`) + `scratch_bytes`. See the module docs, "Cache".
	pub plan_bytes: u64,
}

impl ModelInfo {
	/// The bound of the bytes of constants the plan may hold, packed: `constant_bytes` +
	/// `packing_bytes`. The same on every node; what a model's spec declares and pays for.
	pub fn constants_bound(&self) -> u128 {
		self.constant_bytes.saturating_add(self.packing_bytes)
	}
}

pub(super) struct Plan {
	pub(super) info: Arc<ModelInfo>,
	pub(super) plan: Arc<tp::TypedSimplePlan>,
	/// No op keeps state between runs, so a run state can be reused for the next run.
	pub(super) stateless: bool,
	/// tract dtype of each output, to convert quantized outputs back.
	pub(super) output_dtypes: Vec<DType>,
	/// Run states of this plan's finished runs, reused by its next runs (stateless plans only,
	/// at most `max_concurrent_runs`). They live and die with the plan: an evicted plan is freed
	/// when its last run ends, never kept alive by an idle worker.
	pub(super) spare: Mutex<Vec<tp::TypedSimpleState>>,
	pub(super) max_spare: usize,
}

impl Plan {
	pub(super) fn run(&self, inputs: tp::TVec<tp::TValue>) -> RunResult {
		let spare = self.spare.lock().unwrap_or_else(|p| p.into_inner()).pop();
		let mut st = match spare {
			Some(st) => st,
			None => guarded("running", || self.plan.spawn())?,
		};
		// After an error or a panic the state may be half-updated: it is dropped.
		let r = guarded("running", || st.run(inputs))?;
		if self.stateless {
			let mut spare = self.spare.lock().unwrap_or_else(|p| p.into_inner());
			if spare.len() < self.max_spare {
				spare.push(st);
			}
		}
		Ok(r)
	}
}

pub(super) struct CacheEntry {
	pub(super) plan: Arc<Plan>,
	pub(super) last_used: u64,
}

#[derive(Default)]
pub(super) struct Cache {
	pub(super) entries: HashMap<ModelHash, CacheEntry>,
	pub(super) bytes: u64,
	pub(super) clock: u64,
}

/// Cache occupancy, for metrics and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheStats {
	pub entries: usize,
	pub bytes: u64,
	pub capacity: u64,
}

impl Engine {
	pub(super) fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
		// A poisoned lock only means another thread panicked while holding it; the cache
		// itself stays consistent (every mutation is a single insert/remove), so keep going.
		self.cache.lock().unwrap_or_else(|p| p.into_inner())
	}

	pub(super) fn lookup(&self, hash: &ModelHash) -> Option<Arc<Plan>> {
		let mut c = self.cache();
		c.clock = c.clock.wrapping_add(1);
		let now = c.clock;
		let e = c.entries.get_mut(hash)?;
		e.last_used = now;
		Some(e.plan.clone())
	}

	/// Whether a compiled plan for `hash` is cached.
	pub fn is_loaded(&self, hash: &ModelHash) -> bool {
		self.cache().entries.contains_key(hash)
	}

	/// What the engine knows about a cached model.
	pub fn info(&self, hash: &ModelHash) -> Option<Arc<ModelInfo>> {
		self.lookup(hash).map(|p| p.info.clone())
	}

	/// Drop a model's plan (runs in flight keep their `Arc`).
	pub fn evict(&self, hash: &ModelHash) {
		let mut c = self.cache();
		if let Some(e) = c.entries.remove(hash) {
			c.bytes = c.bytes.saturating_sub(e.plan.info.plan_bytes);
		}
	}

	pub fn cache_stats(&self) -> CacheStats {
		let c = self.cache();
		CacheStats { entries: c.entries.len(), bytes: c.bytes, capacity: self.limits.cache_bytes }
	}

	/// Evict least recently used plans until `bytes` more fit in the budget, before a plan of
	/// at least that charge is built (its deterministic bound, [`ModelInfo::bound_bytes`]): the
	/// plans it displaces are freed before its constants are folded and packed rather than
	/// after, so that a cold load peaks at the budget plus the new plan's transients instead of
	/// the budget plus the whole new plan. A model refused after this point (tract failing to
	/// optimize it) has evicted plans for nothing, which costs reloads, never correctness.
	pub(super) fn make_room(&self, bytes: u64) {
		let mut c = self.cache();
		self.evict_for(&mut c, bytes);
	}

	/// Evict least recently used entries until `bytes` more fit. Linear scan: the cache holds
	/// at most a few hundred plans and this runs once or twice per cold load.
	fn evict_for(&self, c: &mut Cache, bytes: u64) {
		while c.bytes.saturating_add(bytes) > self.limits.cache_bytes {
			let Some(victim) = c.entries.iter().min_by_key(|(_, e)| e.last_used).map(|(h, _)| *h)
			else {
				break;
			};
			if let Some(e) = c.entries.remove(&victim) {
				c.bytes = c.bytes.saturating_sub(e.plan.info.plan_bytes);
			}
		}
	}

	pub(super) fn insert(&self, plan: Arc<Plan>) {
		let mut c = self.cache();
		let bytes = plan.info.plan_bytes;
		let hash = plan.info.hash;
		if let Some(old) = c.entries.remove(&hash) {
			c.bytes = c.bytes.saturating_sub(old.plan.info.plan_bytes);
		}
		self.evict_for(&mut c, bytes);
		c.clock = c.clock.wrapping_add(1);
		let now = c.clock;
		c.bytes = c.bytes.saturating_add(bytes);
		c.entries.insert(hash, CacheEntry { plan, last_used: now });
	}
}
