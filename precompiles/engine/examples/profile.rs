//! Per-node timing of a demo model's optimized tract plan (a diagnostic for docs/benchmarks.md):
//!
//! ```text
//! cargo run --release -p verity-engine --example profile [-- MODEL [RUNS]]
//! ```
//!
//! Builds the plan the way `Engine::load` does (type, declutter, `engine::optimize`; with
//! `VERITY_TRACT_ONLY=1`, tract's `optimize` alone), prints the
//! optimized graph, then the median wall time of each node over RUNS runs (default 2000) and of
//! whole runs.

#[path = "common/mod.rs"]
mod common;

use std::time::Instant;
use verity_engine::engine::{tract_onnx, tract_onnx::prelude::*};

fn main() {
	let mut args = std::env::args().skip(1);
	let name = args.next().unwrap_or_else(|| "cnn".into());
	let runs: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(2000);
	let models = common::manifest(Some(&name));
	let m = models.first().expect("model in manifest");
	let bytes = m.bytes();
	let typed = tract_onnx::onnx()
		.model_for_read(&mut &*bytes)
		.and_then(|m| m.into_typed())
		.and_then(|m| m.into_decluttered())
		.expect("types");
	let opt = if std::env::var_os("VERITY_TRACT_ONLY").is_some() {
		// tract's own optimization only, without the engine's replacement kernels.
		let mut m = typed;
		m.optimize().expect("optimizes");
		m
	} else {
		verity_engine::engine::optimize(typed).expect("optimizes")
	};
	println!("{opt}");
	let plan = TypedSimplePlan::new(opt).expect("plans");
	let x = verity_engine::engine::to_tract(&m.input.tensor(None)).expect("input");
	let n = plan.model().nodes().len();
	let mut per_node: Vec<Vec<f64>> = vec![Vec::with_capacity(runs); n];
	let mut whole = Vec::with_capacity(runs);
	let mut state = plan.spawn().expect("state");
	for i in 0..runs + runs / 10 {
		let t0 = Instant::now();
		let mut times = vec![0f64; n];
		state
			.run_plan_with_eval(tvec!(x.clone().into_tvalue()), |ctx, st, node, inputs| {
				let t = Instant::now();
				let r = tract_onnx::tract_core::plan::eval(ctx, st, node, inputs);
				times[node.id] += t.elapsed().as_secs_f64();
				r
			})
			.expect("runs");
		let dt = t0.elapsed().as_secs_f64();
		if i >= runs / 10 {
			whole.push(dt);
			for (v, t) in per_node.iter_mut().zip(times) {
				v.push(t);
			}
		}
	}
	let mut plain = Vec::with_capacity(runs);
	for _ in 0..runs {
		let t = Instant::now();
		plan.run(tvec!(x.clone().into_tvalue())).expect("runs");
		plain.push(t.elapsed().as_secs_f64());
	}
	println!("median us per node ({runs} runs):");
	for (node, v) in plan.model().nodes().iter().zip(per_node.iter_mut()) {
		let med = common::median(v) * 1e6;
		if med > 0.05 {
			println!("{:>8.2}  #{} {} ({})", med, node.id, node.name, node.op().name());
		}
	}
	println!("{:>8.2}  whole run (timed eval)", common::median(&mut whole) * 1e6);
	println!("{:>8.2}  whole run (plan.run)", common::median(&mut plain) * 1e6);
}
