//! Bit agreement of the deterministic mode across its three backends (Cranelift with the host's
//! features, Cranelift for baseline x86-64, Pulley), on the engine's demo models and on the ONNX
//! backend conformance cases the engine passes. The three outputs must be the same bytes (the
//! canonical tensor encoding). Native tract is run too and how it compares is reported (equal
//! bytes, or the largest absolute difference), not required.
//!
//! Light models (the `onnx` package's real architectures, `common::light_models`): only on
//! request, `VERITY_LIGHT_MODELS=all` or a comma list of names (`squeezenet,shufflenet`), since
//! the Pulley interpreter takes minutes on the larger ones; the report goes to
//! `deterministic-light.txt`.
//!
//! Conformance cases: every passing case by default (797 take about 40 s on the three backends
//! of a 2-core machine, measured in `docs/determinism.md`); `VERITY_DETERMINISTIC_CASES=N` runs
//! every N-th case (in name order) for a quicker look. The report goes to
//! `$CARGO_TARGET_TMPDIR/deterministic-agreement.txt`.

mod common;

use common::{
	demo_models, light_models, limits, max_abs_diff, native, passing_conformance_cases, Case,
};
use std::{collections::BTreeMap, fmt::Write as _, time::Instant};
use verity_deterministic::{Backend, Error, RunLimits, Session};
use verity_engine::{decode_tensors, engine::Engine};

/// Outcome of a case on one backend: the output bytes, or the error.
type Outcome = Result<Vec<u8>, Error>;

fn run(session: &mut Session, case: &Case) -> Outcome {
	session.load(&case.model, &limits())?;
	session.run(&verity_engine::encode_tensors(&case.inputs))
}

/// Same bytes, or the same error kind (messages may name sizes, never bits).
fn same(a: &Outcome, b: &Outcome) -> bool {
	match (a, b) {
		(Ok(x), Ok(y)) => x == y,
		(Err(x), Err(y)) => x == y,
		_ => false,
	}
}

fn native_note(engine: &Engine, case: &Case, det: &Outcome) -> String {
	let Ok(bytes) = det else { return "deterministic mode failed".into() };
	let det = decode_tensors(bytes).expect("runner output decodes");
	match native(engine, case) {
		Err(e) => format!("native failed: {e}"),
		Ok(n) if n == det => "equal".into(),
		Ok(n) => match max_abs_diff(&n, &det) {
			Some(d) => format!("max abs diff {d:e}"),
			None => "different values".into(),
		},
	}
}

fn sessions() -> Vec<Session> {
	Backend::ALL
		.iter()
		.map(|&b| Session::new(b, RunLimits::default()).expect("backend available"))
		.collect()
}

fn report(name: &str, text: &str) {
	let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
	std::fs::write(&path, text).expect("write report");
	println!("{text}report: {}", path.display());
}

#[test]
fn demo_models_agree_on_every_backend() {
	let engine = Engine::new(limits());
	let mut sessions = sessions();
	let mut text = String::from("# demo models: model | outcome | native vs deterministic\n");
	let mut disagreements = vec![];
	for case in demo_models() {
		let outcomes: Vec<Outcome> = sessions.iter_mut().map(|s| run(s, &case)).collect();
		assert!(outcomes[0].is_ok(), "{}: {:?}", case.name, outcomes[0]);
		if !outcomes.iter().all(|o| same(o, &outcomes[0])) {
			disagreements.push(case.name.clone());
		}
		let note = native_note(&engine, &case, &outcomes[0]);
		writeln!(text, "{} | identical on {} backends | native {note}", case.name, outcomes.len())
			.expect("string");
	}
	report("deterministic-demo.txt", &text);
	assert!(disagreements.is_empty(), "backends disagree on {disagreements:?}");
}

#[test]
fn conformance_cases_agree_on_every_backend() {
	let stride = match std::env::var("VERITY_DETERMINISTIC_CASES").as_deref() {
		Ok("all") => 1,
		Ok(n) => n.parse::<usize>().expect("VERITY_DETERMINISTIC_CASES is `all` or N").max(1),
		Err(_) => 1,
	};
	let passing = passing_conformance_cases();
	assert!(passing.len() > 500, "only {} passing conformance cases found", passing.len());
	let cases: Vec<&Case> = passing.iter().step_by(stride).collect();
	let engine = Engine::new(limits());
	let mut sessions = sessions();
	let started = Instant::now();
	let mut disagreements = vec![];
	let mut failures = vec![];
	let mut native_notes: BTreeMap<String, usize> = BTreeMap::new();
	let mut lines = String::new();
	for case in &cases {
		let outcomes: Vec<Outcome> = sessions.iter_mut().map(|s| run(s, case)).collect();
		if !outcomes.iter().all(|o| same(o, &outcomes[0])) {
			disagreements.push(format!("{}: {:?}", case.name, outcomes));
		}
		if let Err(e) = &outcomes[0] {
			failures.push(format!("{}: {e}", case.name));
		}
		let note = native_note(&engine, case, &outcomes[0]);
		let class = if note.starts_with("max abs diff") { "within a difference" } else { &note };
		*native_notes.entry(class.to_string()).or_default() += 1;
		let word = if outcomes[0].is_ok() { "identical" } else { "same error" };
		writeln!(lines, "{} | {word} on 3 backends | native {note}", case.name).expect("string");
	}
	let mut text = format!(
		"# conformance: {} of the engine's {} passing cases (every {stride}-th) on 3 backends; \
		 {} disagreements; {} failing in deterministic mode; {:.0} s\n# native vs \
		 deterministic: {native_notes:?}\n",
		cases.len(),
		passing.len(),
		disagreements.len(),
		failures.len(),
		started.elapsed().as_secs_f64(),
	);
	for f in &failures {
		writeln!(text, "# deterministic failure: {f}").expect("string");
	}
	text.push_str(&lines);
	report("deterministic-agreement.txt", &text);
	assert!(disagreements.is_empty(), "backends disagree:\n{}", disagreements.join("\n"));
}

#[test]
fn light_models_agree_on_every_backend() {
	let Ok(wanted) = std::env::var("VERITY_LIGHT_MODELS") else {
		println!("light models not requested (VERITY_LIGHT_MODELS=all or a list of names)");
		return;
	};
	let only: Vec<String> = match wanted.as_str() {
		"all" => vec![],
		list => list.split(',').map(str::to_string).collect(),
	};
	let models = light_models(&only);
	assert!(!models.is_empty(), "no light model matches {wanted}");
	let engine = Engine::new(limits());
	let mut sessions = sessions();
	let mut text = String::from(
		"# light models: model | outcome on the backends | seconds per backend (load + run) | \
		 deterministic vs the onnx package's expected output | native vs deterministic\n",
	);
	let mut disagreements = vec![];
	for (case, expected) in &models {
		let mut outcomes = vec![];
		let mut secs = vec![];
		for s in sessions.iter_mut() {
			let t = Instant::now();
			outcomes.push(run(s, case));
			secs.push(format!("{:.1}", t.elapsed().as_secs_f64()));
		}
		let agree = outcomes.iter().all(|o| same(o, &outcomes[0]));
		if !agree {
			disagreements.push(case.name.clone());
		}
		let word = match (&outcomes[0], agree) {
			(Ok(_), true) => "identical".to_string(),
			(Err(e), true) => format!("the same error ({e})"),
			(_, false) => format!("DIFFERENT: {outcomes:?}"),
		};
		let vs_expected = match (&outcomes[0], expected) {
			(Ok(bytes), Some(want)) => {
				let got = decode_tensors(bytes).expect("runner output decodes");
				match max_abs_diff(&got, std::slice::from_ref(want)) {
					Some(d) => format!("max abs diff {d:e}"),
					None => "not comparable".into(),
				}
			},
			(Ok(_), None) => "no expected output".into(),
			(Err(_), _) => "-".into(),
		};
		let note = native_note(&engine, case, &outcomes[0]);
		writeln!(
			text,
			"{} | {word} on {} backends | {} | {vs_expected} | native {note}",
			case.name,
			outcomes.len(),
			secs.join(", ")
		)
		.expect("string");
		println!("{}", text.lines().last().unwrap_or_default());
	}
	report("deterministic-light.txt", &text);
	assert!(disagreements.is_empty(), "backends disagree on {disagreements:?}");
}
