//! Prometheus metrics of the node's inference service (served on the node's `--prometheus-port`
//! next to Substrate's own; see docs/inference.md "Metrics").

use prometheus_endpoint::{
	exponential_buckets, register, CounterVec, Gauge, Histogram, HistogramOpts, Opts,
	PrometheusError, Registry, U64,
};

/// Counters and gauges updated by [`crate::HostBackend`] and the `record_duty` host function.
#[derive(Clone)]
pub struct Metrics {
	/// Model runs by outcome.
	pub runs: CounterVec<U64>,
	/// Wall time of runs that produced an output, in seconds.
	pub run_seconds: Histogram,
	/// Plan lookups by outcome: `hit` (already loaded), `loaded`, `rejected`, `not_found`.
	pub plan_cache: CounterVec<U64>,
	/// Bytes the engine's plan cache charges for the plans it holds (constants folded into the
	/// plans, packed weights and one run's tensors; see `verity_engine::engine::ModelInfo`).
	pub plan_cache_bytes: Gauge<U64>,
	/// The plan cache's budget in bytes (`Limits::cache_bytes`).
	pub plan_cache_capacity: Gauge<U64>,
	/// Plans in the engine's cache.
	pub plan_cache_plans: Gauge<U64>,
	/// Bytes of model files in the model store.
	pub store_bytes: Gauge<U64>,
	/// Model files in the model store.
	pub store_models: Gauge<U64>,
	/// Off-chain worker duties submitted to the pool, by kind.
	pub duties: CounterVec<U64>,
}

impl Metrics {
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		Ok(Self {
			runs: register(
				CounterVec::new(
					Opts::new(
						"verity_inference_runs_total",
						"Model runs by outcome (ok, invalid_input, failed, panicked, timeout, busy, \
						 model_unavailable)",
					),
					&["outcome"],
				)?,
				registry,
			)?,
			run_seconds: register(
				Histogram::with_opts(
					HistogramOpts::new(
						"verity_inference_run_seconds",
						"Wall time of successful model runs (decode, run, encode)",
					)
					// 50 us .. ~3.3 s
					.buckets(exponential_buckets(0.000_05, 2.0, 17)?),
				)?,
				registry,
			)?,
			plan_cache: register(
				CounterVec::new(
					Opts::new(
						"verity_model_plan_cache_total",
						"Plan lookups: hit (plan cached), loaded, rejected, not_found",
					),
					&["outcome"],
				)?,
				registry,
			)?,
			plan_cache_bytes: register(
				Gauge::new(
					"verity_model_plan_cache_bytes",
					"Bytes charged for the plans in the engine's cache (folded constants, packed \
					 weights, one run's tensors)",
				)?,
				registry,
			)?,
			plan_cache_capacity: register(
				Gauge::new(
					"verity_model_plan_cache_capacity_bytes",
					"Budget of the engine's plan cache in bytes",
				)?,
				registry,
			)?,
			plan_cache_plans: register(
				Gauge::new("verity_model_plan_cache_plans", "Plans in the engine's cache")?,
				registry,
			)?,
			store_bytes: register(
				Gauge::new("verity_model_store_bytes", "Bytes of model files in the model store")?,
				registry,
			)?,
			store_models: register(
				Gauge::new("verity_model_store_models", "Model files in the model store")?,
				registry,
			)?,
			duties: register(
				CounterVec::new(
					Opts::new(
						"verity_worker_duties_total",
						"Off-chain worker transactions put into the pool: result, failure_report, \
						 vote_commit, vote_reveal, attestation",
					),
					&["duty"],
				)?,
				registry,
			)?,
		})
	}
}
