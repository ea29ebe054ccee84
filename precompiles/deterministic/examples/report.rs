//! Figures of the deterministic mode for `docs/determinism.md`: per demo model, the warm latency
//! of one run natively (tract on this CPU) and on each deterministic backend, the fuel and
//! memory a run takes, and per backend the one-off cost of compiling the runner.
//!
//! `cargo run --release --locked -p verity-deterministic --example report [-- --runs 20]`
//!
//! `-- --light all` (or a comma list: `--light squeezenet,resnet50`) measures the `onnx`
//! package's light models instead (the target: the deterministic mode within 3x of
//! native, geometric mean); `--no-pulley` leaves the interpreter out (minutes per model).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};
use verity_deterministic::{
	compiled, Backend, Prepared, RunLimits, Session, RUNNER_HASH, RUNNER_WASM,
};
use verity_engine::{encode_tensors, engine::Engine, model_hash};

/// The median time of `runs` calls of `f`.
fn median_of(runs: usize, mut f: impl FnMut()) -> Duration {
	let mut v: Vec<Duration> = (0..runs)
		.map(|_| {
			let t = Instant::now();
			f();
			t.elapsed()
		})
		.collect();
	v.sort();
	v[v.len() / 2]
}

fn ms(d: Duration) -> String {
	format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn main() {
	let args: Vec<String> = std::env::args().collect();
	let runs: usize = args
		.iter()
		.position(|a| a == "--runs")
		.and_then(|i| args.get(i + 1))
		.map(|v| v.parse().expect("--runs N"))
		.unwrap_or(20);
	println!("runner.wasm: {} bytes, blake2-256 {}", RUNNER_WASM.len(), hex::encode(RUNNER_HASH));
	if let Some(list) = args.iter().position(|a| a == "--light").and_then(|i| args.get(i + 1)) {
		let only: Vec<String> = match list.as_str() {
			"all" => vec![],
			l => l.split(',').map(str::to_string).collect(),
		};
		let backends: Vec<Backend> = Backend::ALL
			.into_iter()
			.filter(|&b| b != Backend::Pulley || !args.iter().any(|a| a == "--no-pulley"))
			.collect();
		light_table(&only, &backends, runs);
		return;
	}
	for b in Backend::ALL {
		let t = Instant::now();
		compiled(b).expect("backend available");
		println!("compile runner on {b}: {:.1} s (once per process)", t.elapsed().as_secs_f64());
	}
	let limits = common::limits();
	println!(
		"\n| model | native ms | {} | slowdown (native, baseline, pulley) | load fuel | run fuel | memory MiB |",
		Backend::ALL.map(|b| format!("{b} ms")).join(" | ")
	);
	println!("|---|---|---|---|---|---|---|---|---|");
	for case in common::demo_models() {
		let engine = Engine::new(limits.clone());
		let hash = model_hash(&case.model);
		engine.load(&case.model, &hash).expect("native load");
		engine.run(&hash, &case.inputs).expect("native run");
		let native = median_of(runs, || {
			engine.run(&hash, &case.inputs).expect("native run");
		});
		let input = encode_tensors(&case.inputs);
		let mut cols = vec![];
		let mut slow = vec![];
		let (mut load_fuel, mut run_fuel, mut mem) = (0, 0, 0);
		for b in Backend::ALL {
			let mut s = Session::new(b, RunLimits::default()).expect("session");
			s.load(&case.model, &limits).expect("deterministic load");
			load_fuel = s.fuel_used();
			s.run(&input).expect("deterministic run");
			let d = median_of(runs, || {
				s.run(&input).expect("deterministic run");
			});
			run_fuel = s.fuel_used();
			mem = s.memory_bytes();
			cols.push(ms(d));
			slow.push(format!("{:.1}x", d.as_secs_f64() / native.as_secs_f64()));
		}
		println!(
			"| {} | {} | {} | {} | {load_fuel} | {run_fuel} | {:.1} |",
			case.name,
			ms(native),
			cols.join(" | "),
			slow.join(", "),
			mem as f64 / (1 << 20) as f64
		);
	}
	in_block_table(runs);
}

/// The in-block path (`Prepared`, what `run_deterministic` runs): per model the engine's FLOP
/// estimate, the fuel of a whole call (load and run, what the chain charges), the time of one
/// execute from the prepared image on each backend, and its nanoseconds per unit of fuel (the
/// figure the runtime's `WeightPerFuel` rests on), and the cold preparation.
fn in_block_table(runs: usize) {
	let limits = common::limits();
	println!(
		"\n| model | FLOPs | load fuel | call fuel | run fuel per FLOP | prepare ms (ns/load fuel) | {} |",
		Backend::ALL.map(|b| format!("{b} execute ms (ns/fuel)")).join(" | ")
	);
	println!("|---|---|---|---|---|---|---|---|---|");
	for case in common::demo_models() {
		let engine = Engine::new(limits.clone());
		let info = engine.load(&case.model, &model_hash(&case.model)).expect("native load");
		let input = encode_tensors(&case.inputs);
		let mut cols = vec![];
		let (mut load_fuel, mut call_fuel, mut prepare) = (0, 0, Duration::ZERO);
		for b in Backend::ALL {
			let t = Instant::now();
			let p = Prepared::new(b, &case.model, &limits, RunLimits::default()).expect("prepares");
			if b == Backend::CraneliftNative {
				prepare = t.elapsed();
			}
			load_fuel = p.load_fuel();
			call_fuel = p.execute(&input, RunLimits::default()).expect("executes").fuel_used;
			let d = median_of(runs, || {
				p.execute(&input, RunLimits::default()).expect("executes");
			});
			cols.push(format!("{} ({:.2})", ms(d), d.as_nanos() as f64 / call_fuel as f64));
		}
		let run_fuel = call_fuel - load_fuel;
		println!(
			"| {} | {} | {load_fuel} | {call_fuel} | {:.1} | {} ({:.2}) | {} |",
			case.name,
			info.flops,
			run_fuel as f64 / info.flops.max(1) as f64,
			ms(prepare),
			prepare.as_nanos() as f64 / load_fuel as f64,
			cols.join(" | ")
		);
	}
}

/// The light models: warm median latency natively and on each backend, the slowdown against
/// native, and the geometric mean of the slowdown per backend over the models that ran.
fn light_table(only: &[String], backends: &[Backend], runs: usize) {
	let limits = common::limits();
	let budget = RunLimits { fuel: u64::MAX / 2, memory_bytes: 3 << 30 };
	println!(
		"\n| model | FLOPs | native ms | {} | slowdown vs native | run fuel | memory MiB |",
		backends.iter().map(|b| format!("{b} ms")).collect::<Vec<_>>().join(" | ")
	);
	println!("|---|---|---|{}---|---|---|", "---|".repeat(backends.len()));
	let mut logs = vec![0f64; backends.len()];
	let mut counted = 0;
	for (case, _) in common::light_models(only) {
		let engine = Engine::new(limits.clone());
		let hash = model_hash(&case.model);
		let info = match engine.load(&case.model, &hash) {
			Ok(info) => info,
			Err(e) => {
				println!("| {} | - | refused by the engine's limits: {e} | | | | |", case.name);
				continue;
			},
		};
		// A warm-up call, then the timed ones.
		let time = |f: &mut dyn FnMut()| {
			f();
			median_of(runs, f)
		};
		let native = time(&mut || {
			engine.run(&hash, &case.inputs).expect("native run");
		});
		let input = encode_tensors(&case.inputs);
		let (mut cols, mut slow, mut fuel, mut mem) = (vec![], vec![], 0, 0);
		for (k, &b) in backends.iter().enumerate() {
			let mut s = Session::new(b, budget).expect("session");
			s.load(&case.model, &limits).expect("deterministic load");
			let d = time(&mut || {
				s.run(&input).expect("deterministic run");
			});
			fuel = s.fuel_used();
			mem = s.memory_bytes();
			let x = d.as_secs_f64() / native.as_secs_f64();
			logs[k] += x.ln();
			cols.push(ms(d));
			slow.push(format!("{x:.2}x"));
		}
		counted += 1;
		println!(
			"| {} | {} | {} | {} | {} | {fuel} | {:.0} |",
			case.name,
			info.flops,
			ms(native),
			cols.join(" | "),
			slow.join(", "),
			mem as f64 / (1 << 20) as f64
		);
	}
	if counted > 0 {
		let means: Vec<String> = backends
			.iter()
			.zip(&logs)
			.map(|(b, l)| format!("{b} {:.2}x", (l / counted as f64).exp()))
			.collect();
		println!("\ngeometric mean slowdown vs native over {counted} models: {}", means.join(", "));
	}
}
