//! Resident memory of loaded plans (a diagnostic for docs/benchmarks.md, "Plan memory"):
//!
//! ```text
//! cargo run --release -p verity-engine --example plan_memory -- MODEL.onnx [COPIES]
//! ```
//!
//! Loads COPIES (default 3) copies of one model into one engine, each under its own hash (the
//! copies differ in their doc string), runs each once on zeros, and prints after each load what
//! the engine charged and the process's resident memory (VmRSS from /proc/self/status).
//! The engine uses the default limits without a run timeout; `VERITY_MAX_ELEMENTS`,
//! `VERITY_MAX_FLOPS`, `VERITY_MAX_PEAK_BYTES`, `VERITY_MAX_CONSTANT_BYTES` and
//! `VERITY_CACHE_BYTES` override those limits, to watch a model the defaults refuse;
//! `VERITY_DECLARED_CONSTANT_BYTES` loads with that declared constant limit
//! (`Engine::load_declared`, what an attester passes from the model's registered spec).
//! The last line is the process's peak resident memory (VmHWM).

use verity_engine::{
	engine::{Declared, Engine, Limits},
	model_hash,
	testing::retag,
	Tensor,
};

fn resident_mib() -> f64 {
	status_mib("VmRSS:")
}

fn status_mib(key: &str) -> f64 {
	let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
	let kib: f64 = status
		.lines()
		.find(|l| l.starts_with(key))
		.and_then(|l| l.split_whitespace().nth(1))
		.and_then(|v| v.parse().ok())
		.unwrap_or(0.0);
	kib / 1024.0
}

fn env_u64(key: &str) -> Option<u64> {
	std::env::var(key).ok().and_then(|v| v.parse().ok())
}

fn main() {
	let mut args = std::env::args().skip(1);
	let path = args.next().expect("usage: plan_memory MODEL.onnx [COPIES]");
	let copies: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(3);
	let bytes = std::fs::read(&path).expect("reads the model");
	let mut limits = Limits { run_timeout: None, ..Limits::default() };
	if let Some(v) = env_u64("VERITY_MAX_ELEMENTS") {
		limits.max_elements = v;
	}
	if let Some(v) = env_u64("VERITY_MAX_FLOPS") {
		limits.max_flops = v;
	}
	if let Some(v) = env_u64("VERITY_MAX_PEAK_BYTES") {
		limits.max_peak_bytes = v;
	}
	if let Some(v) = env_u64("VERITY_MAX_CONSTANT_BYTES") {
		limits.max_constant_bytes = v;
	}
	if let Some(v) = env_u64("VERITY_CACHE_BYTES") {
		limits.cache_bytes = v;
	}
	println!(
		"{path}: {} bytes; max_elements {}, max_constant_bytes {}, cache_bytes {}",
		bytes.len(),
		limits.max_elements,
		limits.max_constant_bytes,
		limits.cache_bytes
	);
	let declared =
		Declared { io: None, max_constant_bytes: env_u64("VERITY_DECLARED_CONSTANT_BYTES") };
	let e = Engine::new(limits);
	println!("start: resident {:.0} MiB", resident_mib());
	for i in 0..copies {
		let copy = retag(&bytes, &format!("copy {i}"));
		let h = model_hash(&copy);
		match e.load_declared(&copy, &h, declared) {
			Ok(info) => {
				let inputs: Vec<Tensor> = info
					.io
					.inputs
					.iter()
					.map(|s| {
						let shape: Vec<u32> = s.dims.iter().map(|d| d.unwrap_or(1)).collect();
						let n: usize = shape.iter().map(|d| *d as usize).product();
						Tensor::new(s.dtype, shape, vec![0u8; n * s.dtype.size()]).expect("input")
					})
					.collect();
				let ran = e.run(&h, &inputs).map(|_| "ran").unwrap_or("run failed");
				let stats = e.cache_stats();
				println!(
					"copy {i}: charged {:.1} MiB (constant bound {:.1}, packing bound {:.1}, held \
					 {:.1}, scratch {:.1}; deterministic bound {:.1}), {ran}; cache {} plans {:.1} \
					 MiB; resident {:.0} MiB",
					info.plan_bytes as f64 / 1048576.0,
					info.constant_bytes as f64 / 1048576.0,
					info.packing_bytes as f64 / 1048576.0,
					info.held_bytes as f64 / 1048576.0,
					info.scratch_bytes as f64 / 1048576.0,
					info.bound_bytes as f64 / 1048576.0,
					stats.entries,
					stats.bytes as f64 / 1048576.0,
					resident_mib()
				);
			},
			Err(err) => println!("copy {i}: refused: {err}; resident {:.0} MiB", resident_mib()),
		}
	}
	println!("peak resident {:.0} MiB", status_mib("VmHWM:"));
}
