//! Prints what one output comparison costs under each acceptance rule, natively, on outputs of
//! `--bytes` bytes (default 65536, the runtime's maximum output) for every element type. The
//! runtime compares outputs in `submit_result`; its benchmarks use the costliest rule found
//! here, so this table is how that choice is checked.
//!
//! ```text
//! cargo run --release -p verity-engine --example rule_cost [-- --bytes N --runs N]
//! ```

use std::time::Instant;
use verity_engine::{agrees, AcceptanceRule, DType, Tensor};

fn arg(name: &str, default: usize) -> usize {
	let args: Vec<String> = std::env::args().collect();
	args.iter()
		.position(|a| a == name)
		.and_then(|i| args.get(i + 1))
		.map(|v| v.parse().unwrap_or_else(|_| panic!("{name} takes a number")))
		.unwrap_or(default)
}

/// Two equal tensors of `bytes` bytes: every rule agrees, after reading every element.
fn pair(dtype: DType, bytes: usize) -> (Tensor, Tensor) {
	let size = dtype.size();
	let n = bytes / size;
	let mut x: u32 = 0x1234_5678;
	let mut data: Vec<u8> = Vec::with_capacity(n * size);
	for _ in 0..n {
		x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
		let v = x >> 8;
		match dtype {
			DType::F32 => data.extend_from_slice(&((v % 1000) as f32 / 7.0).to_le_bytes()),
			DType::F16 => data.extend_from_slice(&(0x3c00u16 | (v as u16 & 0x3ff)).to_le_bytes()),
			DType::Bool => data.push((v & 1) as u8),
			_ => data.extend((0..size).map(|i| (v >> (i % 3)) as u8 & 0x3f)),
		}
	}
	let a = Tensor::new(dtype, vec![n as u32], data.clone()).expect("tensor a");
	let b = Tensor::new(dtype, vec![n as u32], data).expect("tensor b");
	(a, b)
}

fn main() {
	let bytes = arg("--bytes", 65_536);
	let runs = arg("--runs", 20);
	let rules = [
		("Exact", AcceptanceRule::Exact),
		("Tolerance", AcceptanceRule::Tolerance { abs: 1_000, rel: 1_000 }),
		("ArgMax", AcceptanceRule::ArgMax),
		("TopK(n-1)", AcceptanceRule::TopK(u32::MAX - 1)),
		("TopK(n/2)", AcceptanceRule::TopK(0)),
	];
	println!("one comparison of two {bytes}-byte outputs, median of {runs} runs, microseconds");
	print!("{:<6} {:>8}", "dtype", "elements");
	for (name, _) in &rules {
		print!(" {name:>10}");
	}
	println!();
	for dtype in [DType::U8, DType::I8, DType::Bool, DType::F16, DType::F32, DType::I32, DType::I64]
	{
		let (a, b) = pair(dtype, bytes);
		let n = a.len();
		print!("{:<6} {n:>8}", format!("{dtype:?}"));
		for (name, rule) in &rules {
			let rule = match (name, rule) {
				(&"TopK(n-1)", _) => AcceptanceRule::TopK(n.saturating_sub(1) as u32),
				(&"TopK(n/2)", _) => AcceptanceRule::TopK((n / 2) as u32),
				(_, r) => *r,
			};
			let mut times: Vec<f64> = (0..runs)
				.map(|_| {
					let t = Instant::now();
					let ok = agrees(&rule, &a, &b);
					let dt = t.elapsed().as_secs_f64() * 1e6;
					assert!(ok, "{name} {dtype:?} must agree");
					dt
				})
				.collect();
			times.sort_by(|x, y| x.total_cmp(y));
			print!(" {:>10.0}", times[times.len() / 2]);
		}
		println!();
	}
}
