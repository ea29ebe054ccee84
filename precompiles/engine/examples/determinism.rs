//! Determinism report for the demo models (docs/determinism.md):
//!
//! ```text
//! cargo run --release -p verity-engine --example determinism [-- --runs N --threads T --models a,b]
//! ```
//!
//! For each model of `models/manifest.json` it runs the reference input through tract and asks:
//! - runs: are `N` sequential runs of one plan bit-identical?
//! - threads: are `T` threads running the same shared plan concurrently bit-identical to that?
//! - kernels: is the output bit-identical when tract is made to use other kernels on this CPU?
//!   tract-linalg probes the instruction sets once per process and then lets the `TRACT_CPU_ISA`
//!   knob edit them (`-avx512f` takes AVX-512 kernels out of the pool, and so on); so each kernel
//!   path is this program re-run as a child process with that variable set. The last path of the
//!   list removes every SIMD extension: tract's generic (portable Rust) kernels.
//! - batch: for a model with a symbolic batch dimension, is each row of a batched run
//!   bit-identical to that row run alone?
//! - reference: how far is tract's output from the onnxruntime reference in the manifest, and do
//!   they pick the same class?
//!
//! Outputs come from the engine itself (`Engine::load` then `Engine::run`, the path workers and
//! jurors use). To say which matrix-multiply kernels each path picked, the child also builds the
//! same tract pipeline (type, declutter, optimize) and lists the kernels of the plan.

#[path = "common/mod.rs"]
mod common;

use std::{
	collections::BTreeSet,
	process::Command,
	sync::{Arc, Barrier},
	thread,
};

use tract_onnx::prelude::*;

use verity_engine::{
	engine::{Engine, Limits},
	Tensor,
};

/// The kernel paths to compare, as `TRACT_CPU_ISA` edits of the probed set (first: as probed).
fn kernel_paths() -> Vec<(&'static str, &'static str)> {
	if cfg!(target_arch = "x86_64") {
		vec![
			("native", ""),
			("avx2+fma", "-avx512f,-avx512vnni,-avx512fp16,-avxvnni,-amx-int8,-amx-bf16"),
			("avx", "-avx512f,-avx512vnni,-avx512fp16,-avxvnni,-amx-int8,-amx-bf16,-fma,-avx2,-f16c"),
			(
				"generic",
				"-avx512f,-avx512vnni,-avx512fp16,-avxvnni,-amx-int8,-amx-bf16,-fma,-avx2,-f16c,-avx",
			),
		]
	} else if cfg!(target_arch = "aarch64") {
		vec![("native", ""), ("neon", "-sme,-sme2,-sve2,-dotprod,-fp16,-apple-amx")]
	} else {
		vec![("native", "")]
	}
}

fn engine() -> Engine {
	// No wall-time limit: runs stay on the calling thread, so "threads" below are really the
	// caller's threads sharing one cached plan.
	Engine::new(Limits { run_timeout: None, max_concurrent_runs: 64, ..Limits::default() })
}

/// Runs `m` (already loaded into `e`) on `x` and returns its first output's bytes.
fn run(e: &Engine, m: &common::Model, x: &Tensor) -> Vec<u8> {
	let y =
		e.run(&m.hash(), std::slice::from_ref(x)).unwrap_or_else(|err| panic!("{}: {err}", m.name));
	y[0].data().to_vec()
}

/// The distinct matrix-multiply kernels an optimized plan uses (the engine's own kernels, such
/// as its direct convolution, are not listed: they give the same bits on every path).
fn kernels(bytes: &[u8]) -> TractResult<BTreeSet<String>> {
	let model =
		tract_onnx::onnx().model_for_read(&mut &bytes[..])?.into_typed()?.into_decluttered()?;
	// The plan `Engine::load` builds, with the engine's replacement kernels.
	let model = verity_engine::engine::optimize(model)?;
	let mut set = BTreeSet::new();
	for node in model.nodes() {
		if let Ok(info) = node.op.info() {
			for line in info {
				if let Some(rest) = line.strip_prefix("Mult: ") {
					let k = rest.rsplit(" with ").next().unwrap_or(rest);
					for name in k.trim_matches(|c| c == '[' || c == ']').split(',') {
						set.insert(name.trim().to_string());
					}
				}
			}
		}
	}
	Ok(set)
}

fn hex(b: &[u8]) -> String {
	b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
	(0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

struct Args {
	runs: usize,
	threads: usize,
	models: Option<String>,
	child: bool,
}

fn args() -> Args {
	let mut a = Args { runs: 200, threads: 4, models: None, child: false };
	let mut it = std::env::args().skip(1);
	while let Some(k) = it.next() {
		match k.as_str() {
			"--runs" => a.runs = it.next().and_then(|v| v.parse().ok()).expect("--runs N"),
			"--threads" => a.threads = it.next().and_then(|v| v.parse().ok()).expect("--threads T"),
			"--models" => a.models = it.next(),
			"--child" => a.child = true,
			other => panic!("unknown argument {other}"),
		}
	}
	a
}

/// Child mode: one line per model, `name<TAB>output hex<TAB>kernels`.
fn child(models: &[common::Model]) -> Result<(), Box<dyn std::error::Error>> {
	let e = engine();
	for m in models {
		e.load(&m.bytes(), &m.hash()).map_err(|err| format!("{}: {err}", m.name))?;
		let y = run(&e, m, &m.input.tensor(None));
		let k: Vec<String> = kernels(&m.bytes()).map_err(|e| e.to_string())?.into_iter().collect();
		println!("{}\t{}\t{}", m.name, hex(&y), k.join(","));
	}
	Ok(())
}

fn yes(b: bool) -> &'static str {
	if b {
		"yes"
	} else {
		"NO"
	}
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let a = args();
	let models = common::manifest(a.models.as_deref());
	if a.child {
		return child(&models);
	}

	// Each kernel path: the reference output of every model, and the kernels used.
	let exe = std::env::current_exe()?;
	let mut paths = Vec::new();
	for (label, isa) in kernel_paths() {
		let mut cmd = Command::new(&exe);
		cmd.arg("--child");
		if let Some(m) = &a.models {
			cmd.args(["--models", m]);
		}
		if isa.is_empty() {
			cmd.env_remove("TRACT_CPU_ISA");
		} else {
			cmd.env("TRACT_CPU_ISA", isa);
		}
		let out = cmd.output()?;
		if !out.status.success() {
			let err = String::from_utf8_lossy(&out.stderr);
			return Err(format!("kernel path {label} ({isa}) failed: {err}").into());
		}
		let lines: Vec<(String, Vec<u8>, String)> = String::from_utf8_lossy(&out.stdout)
			.lines()
			.map(|l| {
				let mut f = l.split('\t');
				let name = f.next().unwrap_or_default().to_string();
				let y = unhex(f.next().unwrap_or_default());
				(name, y, f.next().unwrap_or_default().to_string())
			})
			.collect();
		paths.push((label, isa, lines));
	}

	println!(
		"tract-onnx 0.23.9, {} sequential runs, {} concurrent threads, kernel paths: {}",
		a.runs,
		a.threads,
		paths.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
	);
	println!();
	println!(
		"| model | rule | runs identical | threads identical | kernel paths identical | max abs diff across paths | batch rows identical | = onnxruntime bits | max abs diff vs onnxruntime | argmax = onnxruntime |"
	);
	println!("|---|---|---|---|---|---|---|---|---|---|");
	let mut details = Vec::new();
	let e = Arc::new(engine());
	for m in &models {
		e.load(&m.bytes(), &m.hash()).map_err(|err| format!("{}: {err}", m.name))?;
		let x = m.input.tensor(None);
		let first = run(&e, m, &x);

		let mut runs_same = true;
		for _ in 0..a.runs {
			runs_same &= run(&e, m, &x) == first;
		}

		let barrier = Arc::new(Barrier::new(a.threads));
		let handles: Vec<_> = (0..a.threads)
			.map(|_| {
				let (e, m, x, first, barrier) =
					(e.clone(), m.clone(), x.clone(), first.clone(), barrier.clone());
				let runs = a.runs;
				thread::spawn(move || {
					barrier.wait();
					let mut same = true;
					for _ in 0..runs {
						same &= run(&e, &m, &x) == first;
					}
					same
				})
			})
			.collect();
		let mut threads_same = true;
		for h in handles {
			threads_same &= h.join().map_err(|_| "thread panicked")?;
		}

		// Kernel paths, against this process's (native) output.
		let mut paths_same = true;
		let mut paths_diff = 0f64;
		for (label, _, lines) in &paths {
			let Some((_, y, k)) = lines.iter().find(|l| l.0 == m.name) else {
				return Err(format!("kernel path {label} did not report {}", m.name).into());
			};
			let diff = common::max_abs_diff(&m.output.dtype, y, &first);
			paths_same &= *y == first;
			paths_diff = paths_diff.max(diff);
			let same = if *y == first {
				"identical".to_string()
			} else {
				format!("max abs diff {diff:.3e}")
			};
			let k = if k.is_empty() { "-" } else { k };
			details.push(format!("{} / {label}: {same}; kernels {k}", m.name));
		}

		// Batch invariance: every row alone gives that row of the batched output.
		let batch = if m.input.shape.first() == Some(&None) && m.input.reference_shape[0] > 1 {
			let n = m.input.reference_shape[0];
			let out_row = first.len() / n;
			let mut same = true;
			for r in 0..n {
				let xr = m.input.tensor(Some((r, r + 1)));
				same &= run(&e, m, &xr) == first[r * out_row..(r + 1) * out_row];
			}
			yes(same)
		} else {
			"n/a"
		};

		let reference = m.output.read();
		let row = *m.output.reference_shape.last().unwrap_or(&1);
		println!(
			"| {} | {} | {} | {} | {} | {:.3e} | {} | {} | {:.3e} | {} |",
			m.name,
			m.rule,
			yes(runs_same),
			yes(threads_same),
			yes(paths_same),
			paths_diff,
			batch,
			yes(reference == first),
			common::max_abs_diff(&m.output.dtype, &reference, &first),
			yes(common::argmax_agrees(&m.output.dtype, row, &reference, &first)),
		);
	}
	println!();
	println!("Each kernel path against native, and the matrix-multiply kernels it picked:");
	for (label, isa, _) in &paths {
		println!("  {label}: TRACT_CPU_ISA={}", if isa.is_empty() { "(unset)" } else { isa });
	}
	for d in details {
		println!("  {d}");
	}
	Ok(())
}
