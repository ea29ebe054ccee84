//! Conformance against the official ONNX backend test data.
//!
//! Runs every case (`model.onnx` + `test_data_set_*/{input,output}_*.pb`) of the `node` suite,
//! and the `simple` and `pytorch-operator` suites the `onnx` wheel ships, through the engine
//! and compares outputs with the ONNX backend's default tolerance (rtol 1e-3, atol 1e-7; NaN
//! matches NaN). Each case ends `pass`, `fail` (loaded but wrong, or the run errored or
//! panicked) or `unsupported` (the engine refused the model or its tensor types).
//!
//! `conformance/known_failures.txt` lists every case that does not pass, with its status. A
//! case doing worse than listed (pass < unsupported < fail) fails this test; a case doing
//! better is reported so the list can be tightened. Regenerate the list with
//! `VERITY_CONFORMANCE_BLESS=1`.
//!
//! A second test runs the node suite's f32 2-D convolutions again with their weights made
//! constant, which is what routes them to the engine's direct convolution (`src/conv.rs`).
//!
//! Data: `VERITY_ONNX_TEST_DATA` (a directory holding `node/`), or the `onnx` package of
//! `VERITY_PYTHON` (default `~/.cache/verity/venv/bin/python`, then `python3`). Recent wheels
//! ship the node cases as Python only; they are then generated once with
//! `conformance/generate_node_data.py` into `~/.cache/verity/onnx-backend-data-<version>`.
//! Missing data fails the test, unless `VERITY_SKIP_CONFORMANCE=1`.

use std::{
	collections::BTreeMap,
	fs,
	panic::{catch_unwind, AssertUnwindSafe},
	path::{Path, PathBuf},
	process::Command,
	sync::{
		atomic::{AtomicUsize, Ordering},
		Arc, Mutex,
	},
	time::{Duration, Instant},
};
use verity_engine::{
	engine::{from_tract_tensor, tract_onnx, Engine, EngineError, Limits},
	model_hash, DType, Tensor,
};

const RTOL: f64 = 1e-3;
const ATOL: f64 = 1e-7;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
	Pass,
	Unsupported(String),
	Fail(String),
}

impl Status {
	fn rank(&self) -> u8 {
		match self {
			Status::Pass => 0,
			Status::Unsupported(_) => 1,
			Status::Fail(_) => 2,
		}
	}
	fn word(&self) -> &'static str {
		match self {
			Status::Pass => "pass",
			Status::Unsupported(_) => "unsupported",
			Status::Fail(_) => "fail",
		}
	}
	fn reason(&self) -> &str {
		match self {
			Status::Pass => "",
			Status::Unsupported(r) | Status::Fail(r) => r,
		}
	}
}

/// The engine crate's directory, from the environment cargo sets when it runs the test: the
/// compile-time path can be another checkout's (a CI clone that built this binary in the shared
/// target directory and is gone), and the known failures read from there were an empty list.
fn manifest_dir() -> PathBuf {
	std::env::var_os("CARGO_MANIFEST_DIR")
		.map(PathBuf::from)
		.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn python() -> String {
	if let Ok(p) = std::env::var("VERITY_PYTHON") {
		return p;
	}
	if let Ok(home) = std::env::var("HOME") {
		let venv = Path::new(&home).join(".cache/verity/venv/bin/python");
		if venv.exists() {
			return venv.display().to_string();
		}
	}
	"python3".into()
}

/// Directories holding suites (`node/`, `simple/`, ...), or an explanation of why none exist.
fn locate_data() -> Result<Vec<PathBuf>, String> {
	if let Ok(dir) = std::env::var("VERITY_ONNX_TEST_DATA") {
		let dir = PathBuf::from(dir);
		let node = if dir.join("node").is_dir() { dir.join("node") } else { dir.clone() };
		if !node.is_dir() {
			return Err(format!("VERITY_ONNX_TEST_DATA={} is not a directory", dir.display()));
		}
		return Ok(vec![node]);
	}
	let py = python();
	let out = Command::new(&py)
		.args([
			"-c",
			"import onnx,os;print(os.path.dirname(onnx.__file__));print(onnx.__version__)",
		])
		.output()
		.map_err(|e| format!("cannot run {py}: {e}"))?;
	if !out.status.success() {
		return Err(format!(
			"{py} cannot import onnx ({}); run scripts/setup.sh",
			String::from_utf8_lossy(&out.stderr).trim()
		));
	}
	let text = String::from_utf8_lossy(&out.stdout).to_string();
	let mut lines = text.lines();
	let onnx_dir = PathBuf::from(lines.next().unwrap_or_default());
	let version = lines.next().unwrap_or("unknown").trim().to_string();
	let shipped = onnx_dir.join("backend/test/data");
	let mut suites = vec![];
	if shipped.join("node").is_dir() {
		suites.push(shipped.join("node"));
	} else {
		let home = std::env::var("HOME").map_err(|_| "HOME is not set".to_string())?;
		let cache = PathBuf::from(home).join(format!(".cache/verity/onnx-backend-data-{version}"));
		if !cache.join("VERSION").is_file() {
			let script = manifest_dir().join("conformance/generate_node_data.py");
			eprintln!("generating ONNX node test data into {} ...", cache.display());
			let st = Command::new(&py)
				.arg(&script)
				.arg(&cache)
				.status()
				.map_err(|e| format!("cannot run {}: {e}", script.display()))?;
			if !st.success() {
				return Err(format!("{} failed", script.display()));
			}
		}
		suites.push(cache.join("node"));
	}
	for extra in ["simple", "pytorch-operator"] {
		if shipped.join(extra).is_dir() {
			suites.push(shipped.join(extra));
		}
	}
	Ok(suites)
}

fn load_pb(path: &Path) -> Result<Tensor, Status> {
	let bytes = fs::read(path).map_err(|e| Status::Fail(format!("reading {path:?}: {e}")))?;
	let proto = tract_onnx::tensor::proto_from_reader(&bytes[..])
		.map_err(|e| Status::Unsupported(format!("tensor proto: {e}")))?;
	let t = tract_onnx::tensor::load_tensor(
		&tract_onnx::data_resolver::FopenDataResolver,
		&proto,
		None,
	)
	.map_err(|e| Status::Unsupported(format!("tensor: {e}")))?;
	from_tract_tensor(&t).map_err(|_| Status::Unsupported(format!("dtype {:?}", t.datum_type())))
}

fn read_set(dir: &Path, kind: &str) -> Result<Vec<Tensor>, Status> {
	let mut out = vec![];
	for i in 0.. {
		let p = dir.join(format!("{kind}_{i}.pb"));
		if !p.is_file() {
			break;
		}
		out.push(load_pb(&p)?);
	}
	Ok(out)
}

fn floats(t: &Tensor) -> Option<Vec<f64>> {
	match t.dtype() {
		DType::F32 => Some(
			t.data()
				.chunks_exact(4)
				.map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
				.collect(),
		),
		DType::F16 => Some(
			t.data()
				.chunks_exact(2)
				.map(|c| {
					tract_onnx::prelude::f16::from_bits(u16::from_le_bytes([c[0], c[1]])).to_f64()
				})
				.collect(),
		),
		_ => None,
	}
}

fn compare(got: &[Tensor], want: &[Tensor]) -> Result<(), String> {
	if got.len() != want.len() {
		return Err(format!("{} outputs, expected {}", got.len(), want.len()));
	}
	for (i, (g, w)) in got.iter().zip(want).enumerate() {
		if g.dtype() != w.dtype() {
			return Err(format!("output {i}: dtype {:?}, expected {:?}", g.dtype(), w.dtype()));
		}
		if g.shape() != w.shape() {
			return Err(format!("output {i}: shape {:?}, expected {:?}", g.shape(), w.shape()));
		}
		match (floats(g), floats(w)) {
			(Some(a), Some(b)) => {
				for (j, (x, y)) in a.iter().zip(&b).enumerate() {
					let ok = (x.is_nan() && y.is_nan())
						|| x == y || (x - y).abs() <= ATOL + RTOL * y.abs();
					if !ok {
						return Err(format!("output {i}[{j}]: {x}, expected {y}"));
					}
				}
			},
			_ => {
				if g.data() != w.data() {
					return Err(format!("output {i}: values differ"));
				}
			},
		}
	}
	Ok(())
}

fn run_case(engine: &Engine, dir: &Path) -> Status {
	if let Ok(why) = fs::read_to_string(dir.join("SKIPPED")) {
		return Status::Unsupported(format!("non-tensor values ({})", why.trim()));
	}
	let Ok(bytes) = fs::read(dir.join("model.onnx")) else {
		return Status::Unsupported("no model.onnx".into());
	};
	let hash = model_hash(&bytes);
	if let Err(e) = engine.load(&bytes, &hash) {
		return match e {
			EngineError::Panic { .. } => Status::Fail(format!("load: {e}")),
			_ => Status::Unsupported(format!("load: {e}")),
		};
	}
	let mut sets: Vec<PathBuf> = fs::read_dir(dir)
		.map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect())
		.unwrap_or_default();
	sets.sort();
	let mut status = Status::Pass;
	for set in sets {
		let inputs = match read_set(&set, "input") {
			Ok(v) => v,
			Err(s) => {
				status = s;
				break;
			},
		};
		let want = match read_set(&set, "output") {
			Ok(v) => v,
			Err(s) => {
				status = s;
				break;
			},
		};
		match engine.run(&hash, &inputs) {
			Err(e @ EngineError::InputSpec { .. }) | Err(e @ EngineError::InputCount { .. }) => {
				// Optional inputs left out, or types the graph leaves open.
				status = Status::Unsupported(format!("run: {e}"));
				break;
			},
			Err(e) => {
				status = Status::Fail(format!("run: {e}"));
				break;
			},
			Ok(got) => {
				if let Err(why) = compare(&got, &want) {
					status = Status::Fail(why);
					break;
				}
			},
		}
	}
	engine.evict(&hash);
	status
}

fn known_path() -> PathBuf {
	manifest_dir().join("conformance/known_failures.txt")
}

fn read_known() -> BTreeMap<String, u8> {
	let path = known_path();
	let text =
		fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
	text.lines()
		.map(|l| l.split('#').next().unwrap_or("").trim())
		.filter(|l| !l.is_empty())
		.filter_map(|l| {
			let mut it = l.split_whitespace();
			let rank = match it.next()? {
				"unsupported" => 1,
				"fail" => 2,
				_ => return None,
			};
			Some((it.next()?.to_string(), rank))
		})
		.collect()
}

#[test]
fn onnx_backend_conformance() {
	if std::env::var("VERITY_SKIP_CONFORMANCE").as_deref() == Ok("1") {
		eprintln!("conformance skipped (VERITY_SKIP_CONFORMANCE=1)");
		return;
	}
	let suites = match locate_data() {
		Ok(s) => s,
		Err(why) => panic!(
			"ONNX backend test data not found: {why}.\n\
			 Install it with scripts/setup.sh (the onnx PyPI package), point VERITY_ONNX_TEST_DATA \
			 at a directory holding node/, or set VERITY_SKIP_CONFORMANCE=1 for a local run."
		),
	};
	let mut cases: Vec<(String, PathBuf)> = vec![];
	for suite in &suites {
		let name = suite.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
		let mut dirs: Vec<PathBuf> = fs::read_dir(suite)
			.map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect())
			.unwrap_or_default();
		dirs.sort();
		for d in dirs {
			let case = d.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
			cases.push((format!("{name}/{case}"), d));
		}
	}
	assert!(!cases.is_empty(), "no cases found in {suites:?}");

	let engine = Arc::new(Engine::new(Limits {
		run_timeout: Some(Duration::from_secs(20)),
		..Limits::default()
	}));
	let next = AtomicUsize::new(0);
	let results = Mutex::new(BTreeMap::new());
	let start = Instant::now();
	let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(4);
	std::thread::scope(|s| {
		for _ in 0..workers {
			s.spawn(|| loop {
				let i = next.fetch_add(1, Ordering::SeqCst);
				let Some((name, dir)) = cases.get(i) else { break };
				let st = catch_unwind(AssertUnwindSafe(|| run_case(&engine, dir)))
					.unwrap_or_else(|_| Status::Fail("harness panicked".into()));
				results.lock().unwrap().insert(name.clone(), st);
			});
		}
	});
	let results = results.into_inner().unwrap();
	let elapsed = start.elapsed();

	let count = |r: u8| results.values().filter(|s| s.rank() == r).count();
	let (pass, unsupported, fail) = (count(0), count(1), count(2));

	// Write the full report (and the list, when blessing) before judging.
	let mut listing = String::from(
		"# Cases of the ONNX backend test data that do not pass (see tests/conformance.rs).\n\
		 # `unsupported`: the engine refuses the model or its tensor types (safe).\n\
		 # `fail`: loaded, but wrong output or a run error. Regenerate: VERITY_CONFORMANCE_BLESS=1.\n",
	);
	for (name, st) in &results {
		if st.rank() > 0 {
			let reason: String =
				st.reason().chars().take(140).collect::<String>().replace('\n', " ");
			listing.push_str(&format!("{} {name} # {reason}\n", st.word()));
		}
	}
	let summary = format!(
		"ONNX conformance: {} cases in {:.1?}: {pass} passed, {fail} failed, {unsupported} unsupported",
		results.len(),
		elapsed
	);
	// The summary heads the report so that scripts/test.sh can print it: cargo test captures
	// the output of passing tests.
	let report = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("conformance-results.txt");
	let _ = fs::write(&report, format!("# {summary}\n{listing}"));
	if std::env::var("VERITY_CONFORMANCE_BLESS").as_deref() == Ok("1") {
		fs::write(known_path(), &listing).unwrap();
		eprintln!("wrote {}", known_path().display());
	}

	let known = read_known();
	let mut regressions = vec![];
	let mut improvements = vec![];
	for (name, st) in &results {
		let expected = known.get(name).copied().unwrap_or(0);
		if st.rank() > expected {
			regressions.push(format!("{name}: now {} ({})", st.word(), st.reason()));
		} else if st.rank() < expected {
			improvements.push(format!("{name}: now {}", st.word()));
		}
	}
	let vanished = known.keys().filter(|k| !results.contains_key(*k)).count();

	println!("{summary}");
	println!("full report: {}", report.display());
	if !improvements.is_empty() {
		println!("{} cases do better than known_failures.txt says:", improvements.len());
		for i in &improvements {
			println!("  {i}");
		}
	}
	if vanished > 0 {
		println!("{vanished} listed cases are not in this data (other onnx version?)");
	}
	assert!(
		regressions.is_empty(),
		"{} conformance regressions against known_failures.txt:\n  {}",
		regressions.len(),
		regressions.join("\n  ")
	);
}

/// The node suite's f32 convolutions take their weights as graph inputs, which keeps them on
/// tract's path (the engine's direct kernel, `src/conv.rs`, needs constant weights). Here the
/// weights and bias become initializers, so the direct kernel runs the same cases against the
/// same expected outputs and tolerance (on CPUs without it, tract's path does).
#[test]
fn conv_cases_through_the_direct_kernel() {
	use prost::Message;
	use verity_engine::engine::{optimize, tract_onnx::prelude::*};
	if std::env::var("VERITY_SKIP_CONFORMANCE").as_deref() == Ok("1") {
		eprintln!("conformance skipped (VERITY_SKIP_CONFORMANCE=1)");
		return;
	}
	let suites =
		locate_data().unwrap_or_else(|why| panic!("ONNX backend test data not found: {why}"));
	let node = suites.iter().find(|s| s.ends_with("node")).expect("a node suite");
	let mut dirs: Vec<PathBuf> = fs::read_dir(node)
		.unwrap()
		.filter_map(|e| e.ok())
		.map(|e| e.path())
		.filter(|p| {
			let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
			name.starts_with("test_conv_with") || name.starts_with("test_basic_conv")
		})
		.collect();
	dirs.sort();
	let engine = Engine::new(Limits { run_timeout: None, ..Limits::default() });
	let mut checked = vec![];
	for dir in dirs {
		let bytes = fs::read(dir.join("model.onnx")).unwrap();
		let proto = tract_onnx::pb::ModelProto::decode(&bytes[..]).unwrap();
		let mut sets: Vec<PathBuf> = fs::read_dir(&dir)
			.unwrap()
			.filter_map(|e| e.ok())
			.map(|e| e.path())
			.filter(|p| p.is_dir())
			.collect();
		sets.sort();
		for set in sets {
			let mut m = proto.clone();
			let graph = m.graph.as_mut().unwrap();
			for (i, input) in graph.input.split_off(1).into_iter().enumerate() {
				let raw = fs::read(set.join(format!("input_{}.pb", i + 1))).unwrap();
				let mut t = tract_onnx::tensor::proto_from_reader(&raw[..]).unwrap();
				t.name = input.name;
				graph.initializer.push(t);
			}
			let bytes = m.encode_to_vec();
			let typed = tract_onnx::onnx()
				.model_for_read(&mut &*bytes)
				.and_then(|m| m.into_typed())
				.and_then(|m| m.into_decluttered())
				.unwrap();
			let plan = optimize(typed).unwrap();
			assert!(
				plan.nodes().iter().any(|n| n.op().name() == "VerityConv2dF32")
					|| !direct_conv_available(),
				"{}: the direct kernel does not apply:\n{plan}",
				dir.display()
			);
			let hash = model_hash(&bytes);
			engine.load(&bytes, &hash).unwrap();
			let x = load_pb(&set.join("input_0.pb")).unwrap();
			let want = read_set(&set, "output").unwrap();
			let got = engine.run(&hash, &[x]).unwrap();
			if let Err(why) = compare(&got, &want) {
				panic!("{}: {why}", dir.display());
			}
			checked
				.push(dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default());
		}
	}
	println!("direct convolution: {} ONNX cases pass: {checked:?}", checked.len());
	assert!(
		checked.len() >= 6,
		"expected the node suite's six f32 2-D conv cases, got {checked:?}"
	);
}

/// Whether the engine's direct convolution runs on this CPU (it needs AVX2, see `src/conv.rs`).
fn direct_conv_available() -> bool {
	#[cfg(target_arch = "x86_64")]
	{
		std::arch::is_x86_feature_detected!("avx2")
	}
	#[cfg(not(target_arch = "x86_64"))]
	{
		false
	}
}

/// The `light` models of the onnx package: real architectures whose weights are
/// `ConstantOfShape` nodes (a few KB of ONNX each). With the default limits each is refused
/// before its weights are folded, or loaded and charged at least the constants it holds.
/// `light_vgg19` (548 MiB of folded weights, 9 KB of ONNX) must be refused.
#[test]
fn light_models_are_refused_or_charged_what_they_hold() {
	if std::env::var("VERITY_SKIP_CONFORMANCE").as_deref() == Ok("1") {
		eprintln!("conformance skipped (VERITY_SKIP_CONFORMANCE=1)");
		return;
	}
	let out = Command::new(python())
		.args(["-c", "import onnx,os;print(os.path.dirname(onnx.__file__))"])
		.output()
		.expect("runs python");
	let light =
		PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("backend/test/data/light");
	let mut models: Vec<PathBuf> = fs::read_dir(&light)
		.unwrap_or_else(|e| panic!("{}: {e}", light.display()))
		.filter_map(|e| e.ok())
		.map(|e| e.path())
		.filter(|p| p.extension().is_some_and(|x| x == "onnx"))
		.collect();
	models.sort();
	assert!(models.len() >= 5, "light models in {}", light.display());
	let engine = Engine::new(Limits { run_timeout: None, ..Limits::default() });
	for path in &models {
		let name = path.file_stem().unwrap().to_string_lossy().to_string();
		let bytes = fs::read(path).unwrap();
		match engine.load(&bytes, &model_hash(&bytes)) {
			Ok(info) => {
				println!(
					"{name}: {} bytes, loaded: constant bound {}, packing bound {}, held {}, \
					 scratch {}, charged {}",
					bytes.len(),
					info.constant_bytes,
					info.packing_bytes,
					info.held_bytes,
					info.scratch_bytes,
					info.plan_bytes
				);
				assert!(u128::from(info.plan_bytes) >= info.constant_bytes + bytes.len() as u128);
				assert!(info.plan_bytes >= info.held_bytes + bytes.len() as u64);
				// The graph-only bound covers what this CPU's kernels hold, packed.
				assert!(info.constants_bound() >= u128::from(info.held_bytes), "{name}");
				engine.evict(&model_hash(&bytes));
			},
			Err(e) => {
				println!("{name}: {} bytes, refused: {e}", bytes.len());
				assert!(
					matches!(
						e,
						EngineError::TensorTooLarge { .. }
							| EngineError::TooManyConstantBytes { .. }
							| EngineError::PlanTooLarge { .. }
							| EngineError::TooManyFlops { .. }
							| EngineError::TooMuchMemory { .. }
					),
					"{name}: {e}"
				);
			},
		}
		if name == "light_vgg19" {
			assert!(!engine.is_loaded(&model_hash(&bytes)), "light_vgg19 must be refused");
		}
	}
}
