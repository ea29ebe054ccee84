//! The deterministic mode's outputs of the demo models are pinned: `pinned/<model>.output.bin`
//! holds the raw little-endian values of each one's output on its reference input, as
//! `runner.wasm` computes them. A `Deterministic` model is certified, served and judged on
//! exactly these bits (its reference output is the mode's), so a change of the runner that
//! changes them changes consensus: it must be deliberate, with the files rewritten
//! (`VERITY_BLESS=1 cargo test -p verity-deterministic --test pinned`) and noted with the new
//! runner. The zombienet in-block scenario (0006) registers the float demo models with these
//! files as their `Exact` reference outputs.

mod common;

use common::{demo_models, limits};
use std::path::PathBuf;
use verity_deterministic::{Backend, RunLimits, Session};

fn pinned(name: &str) -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("pinned").join(format!("{name}.output.bin"))
}

#[test]
fn demo_model_outputs_are_the_pinned_bits() {
	let bless = std::env::var_os("VERITY_BLESS").is_some();
	let mut session = Session::new(Backend::CraneliftNative, RunLimits::default())
		.or_else(|_| Session::new(Backend::Pulley, RunLimits::default()))
		.expect("a backend");
	let mut changed = vec![];
	for case in demo_models() {
		session.load(&case.model, &limits()).expect("loads");
		let outputs = session.run_tensors(&case.inputs).expect("runs");
		assert_eq!(outputs.len(), 1, "{}: the demo models have one output", case.name);
		let bits = outputs[0].data();
		let path = pinned(&case.name);
		if bless {
			std::fs::create_dir_all(path.parent().expect("a directory")).expect("pinned/");
			std::fs::write(&path, bits).expect("write");
			println!("{}: wrote {} bytes to {}", case.name, bits.len(), path.display());
			continue;
		}
		let expected = std::fs::read(&path)
			.unwrap_or_else(|e| panic!("{}: {e} (VERITY_BLESS=1 writes it)", path.display()));
		if expected != bits {
			changed.push(case.name.clone());
		}
	}
	assert!(
		changed.is_empty(),
		"the deterministic mode's bits changed for {changed:?}: a consensus change (see the \
		 module docs)"
	);
}
