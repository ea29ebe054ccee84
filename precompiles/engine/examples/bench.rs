//! Benchmark of the demo models through the engine (the Rust half of `scripts/bench_engine.sh`,
//! which puts it beside onnxruntime):
//!
//! ```text
//! cargo run --release -p verity-engine --example bench [-- --runs N --models a,b --json-out F]
//! ```
//!
//! Each model is measured in a fresh child process (this program re-run with `--child NAME`), so
//! peak memory and first-load costs are not shared between models. One thread throughout; tract
//! is built without its multithreaded matmul.
//!
//! Per model:
//! - `cold_load_ms`: `Engine::load` into an empty cache (hash, validate, type, declutter,
//!   estimate, optimize, plan): the median over fresh engines; `first_load_ms` is the very first
//!   one in the process, with one-time set-up (op registry, CPU probing) included;
//! - `cached_load_us`: `Engine::load` of a model already in the cache (a size check and a lookup
//!   by the expected hash; the bytes are not re-hashed);
//! - `cached_lookup_us`: `Engine::info` of a cached model, the lookup alone;
//! - `warm_us`: median of one `Engine::run` on the reference input, no wall-time limit (the run
//!   stays on the caller's thread);
//! - `warm_timeout_us`: the same with the default limits, where every run goes to the engine's
//!   worker pool so that a wall-time limit can be enforced: what a worker pays;
//! - `throughput_per_s`: sequential runs per second (no wall-time limit);
//! - `peak_rss_delta_kib`: growth of the peak RSS (`VmHWM`) from just before the first load to
//!   after all runs;
//! - `output_matches`: the output is bit-identical to the onnxruntime reference of the manifest
//!   (not expected of float models; docs/determinism.md).

#[path = "common/mod.rs"]
mod common;

use std::{process::Command, time::Instant};

use verity_engine::engine::{Engine, Limits};

struct Args {
	runs: usize,
	loads: usize,
	models: Option<String>,
	json_out: Option<String>,
	child: Option<String>,
}

fn args() -> Args {
	let mut a = Args { runs: 2000, loads: 20, models: None, json_out: None, child: None };
	let mut it = std::env::args().skip(1);
	while let Some(k) = it.next() {
		match k.as_str() {
			"--runs" => a.runs = it.next().and_then(|v| v.parse().ok()).expect("--runs N"),
			"--loads" => a.loads = it.next().and_then(|v| v.parse().ok()).expect("--loads N"),
			"--models" => a.models = it.next(),
			"--json-out" => a.json_out = it.next(),
			"--child" => a.child = it.next(),
			"--bench" => {}, // passed by `cargo bench`-style runners; ignored
			other => panic!("unknown argument {other}"),
		}
	}
	a
}

const FIELDS: [&str; 9] = [
	"first_load_ms",
	"cold_load_ms",
	"cached_load_us",
	"cached_lookup_us",
	"warm_us",
	"warm_timeout_us",
	"throughput_per_s",
	"peak_rss_delta_kib",
	"output_matches",
];

fn secs(f: impl FnOnce()) -> f64 {
	let t = Instant::now();
	f();
	t.elapsed().as_secs_f64()
}

/// Child mode: measure one model, print `key=value` lines.
fn child(m: &common::Model, runs: usize, loads: usize) {
	let bytes = m.bytes();
	let hash = m.hash();
	let x = m.input.tensor(None);
	let inputs = std::slice::from_ref(&x);
	let unlimited = || Limits { run_timeout: None, ..Limits::default() };
	let hwm0 = common::peak_rss_kib();

	// The first load in the process, then cold loads into fresh engines.
	let e = Engine::new(unlimited());
	let first = secs(|| {
		e.load(&bytes, &hash).unwrap_or_else(|err| panic!("{}: {err}", m.name));
	});
	let mut cold: Vec<f64> = (0..loads)
		.map(|_| {
			let fresh = Engine::new(unlimited());
			secs(|| {
				fresh.load(&bytes, &hash).expect("loads");
			})
		})
		.collect();
	let mut cached: Vec<f64> = (0..loads.max(1) * 50)
		.map(|_| {
			secs(|| {
				e.load(&bytes, &hash).expect("loads");
			})
		})
		.collect();

	let mut lookup: Vec<f64> = (0..loads.max(1) * 50)
		.map(|_| {
			secs(|| {
				std::hint::black_box(e.info(&hash)).expect("cached");
			})
		})
		.collect();

	let y = e.run(&hash, inputs).expect("runs");
	let matches = y[0].data() == m.output.read().as_slice();
	for _ in 0..runs / 10 {
		e.run(&hash, inputs).expect("runs");
	}
	let mut warm: Vec<f64> = (0..runs)
		.map(|_| {
			secs(|| {
				e.run(&hash, inputs).expect("runs");
			})
		})
		.collect();
	let total = secs(|| {
		for _ in 0..runs {
			e.run(&hash, inputs).expect("runs");
		}
	});

	let limited = Engine::new(Limits::default());
	limited.load(&bytes, &hash).expect("loads");
	let timeout_runs = (runs / 4).max(1);
	for _ in 0..timeout_runs / 10 {
		limited.run(&hash, inputs).expect("runs");
	}
	let mut warm_timeout: Vec<f64> = (0..timeout_runs)
		.map(|_| {
			secs(|| {
				limited.run(&hash, inputs).expect("runs");
			})
		})
		.collect();

	let values = [
		first * 1e3,
		common::median(&mut cold) * 1e3,
		common::median(&mut cached) * 1e6,
		common::median(&mut lookup) * 1e6,
		common::median(&mut warm) * 1e6,
		common::median(&mut warm_timeout) * 1e6,
		runs as f64 / total,
		common::peak_rss_kib().saturating_sub(hwm0) as f64,
		if matches { 1.0 } else { 0.0 },
	];
	for (k, v) in FIELDS.iter().zip(values) {
		println!("{k}={v}");
	}
}

fn main() {
	let a = args();
	let models = common::manifest(a.models.as_deref());
	if let Some(name) = &a.child {
		let m = models.iter().find(|m| &m.name == name).expect("model in manifest");
		child(m, a.runs, a.loads);
		return;
	}

	let exe = std::env::current_exe().expect("own path");
	let mut rows: Vec<(String, Vec<f64>)> = Vec::new();
	for m in &models {
		let out = Command::new(&exe)
			.args([
				"--child",
				&m.name,
				"--runs",
				&a.runs.to_string(),
				"--loads",
				&a.loads.to_string(),
			])
			.output()
			.expect("child runs");
		assert!(out.status.success(), "{}: {}", m.name, String::from_utf8_lossy(&out.stderr));
		let text = String::from_utf8_lossy(&out.stdout);
		let values = FIELDS
			.iter()
			.map(|k| {
				text.lines()
					.find_map(|l| l.strip_prefix(&format!("{k}=")))
					.and_then(|v| v.parse().ok())
					.unwrap_or(f64::NAN)
			})
			.collect();
		rows.push((m.name.clone(), values));
	}

	if let Some(path) = &a.json_out {
		let objs: Vec<String> = rows
			.iter()
			.map(|(name, v)| {
				let fields: Vec<String> = FIELDS
					.iter()
					.zip(v)
					.map(|(k, x)| match *k {
						"output_matches" => format!("\"{k}\": {}", *x == 1.0),
						_ => format!("\"{k}\": {x}"),
					})
					.collect();
				format!("  {{\"model\": \"{name}\", \"runs\": {}, {}}}", a.runs, fields.join(", "))
			})
			.collect();
		std::fs::write(path, format!("[\n{}\n]\n", objs.join(",\n"))).expect("writes JSON");
	}
	println!("verity-engine (tract-onnx 0.23.9), 1 thread, {} runs", a.runs);
	println!(
		"| model | first load ms | cold load ms | cached load us | cold/cached | cached lookup us | cold/lookup | warm us | warm us (timeout thread) | runs/s | peak RSS +KiB | = ort bits |"
	);
	println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
	for (name, v) in rows {
		println!(
			"| {name} | {:.2} | {:.2} | {:.1} | {:.0}x | {:.2} | {:.0}x | {:.1} | {:.1} | {:.0} | {:.0} | {} |",
			v[0],
			v[1],
			v[2],
			v[1] * 1e3 / v[2],
			v[3],
			v[1] * 1e3 / v[3],
			v[4],
			v[5],
			v[6],
			v[7],
			v[8] == 1.0
		);
	}
}
