//! Shared by the tests and the report example: the engine's demo models and the ONNX backend
//! conformance cases the engine passes, and a native run of either for comparison.
#![allow(dead_code)]

use std::{
	collections::BTreeSet,
	fs,
	path::{Path, PathBuf},
	process::Command,
};
use verity_engine::{
	engine::{from_tract_tensor, tract_onnx, Engine, Limits},
	model_hash, DType, Tensor,
};

/// `precompiles/engine`, from the environment cargo sets at run time (a binary reused from the
/// target directory may have been built by another checkout).
pub fn engine_dir() -> PathBuf {
	std::env::var_os("CARGO_MANIFEST_DIR")
		.map(PathBuf::from)
		.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
		.join("../engine")
}

/// One model with one input set.
#[derive(Clone, Debug)]
pub struct Case {
	pub name: String,
	pub model: Vec<u8>,
	pub inputs: Vec<Tensor>,
}

/// The demo models of `precompiles/engine/models/manifest.json` with their reference inputs.
pub fn demo_models() -> Vec<Case> {
	let dir = engine_dir().join("models");
	let text = fs::read_to_string(dir.join("manifest.json")).expect("demo model manifest");
	let root: serde_json::Value = serde_json::from_str(&text).expect("manifest is JSON");
	let models = root["models"].as_array().expect("manifest has models");
	models
		.iter()
		.map(|m| {
			let file = |v: &serde_json::Value| {
				fs::read(dir.join(v.as_str().expect("file name"))).expect("manifest file")
			};
			let inputs = m["inputs"]
				.as_array()
				.expect("inputs")
				.iter()
				.map(|io| {
					let dtype = match io["dtype"].as_str().expect("dtype") {
						"f32" => DType::F32,
						"u8" => DType::U8,
						"i8" => DType::I8,
						"i32" => DType::I32,
						"i64" => DType::I64,
						other => panic!("unexpected dtype {other}"),
					};
					let shape = io["reference_shape"]
						.as_array()
						.expect("reference shape")
						.iter()
						.map(|d| d.as_u64().expect("concrete dimension") as u32)
						.collect();
					Tensor::new(dtype, shape, file(&io["file"])).expect("reference input")
				})
				.collect();
			Case {
				name: m["name"].as_str().expect("name").to_string(),
				model: file(&m["file"]),
				inputs,
			}
		})
		.collect()
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

/// The `node` suite of the ONNX backend test data, found the way the engine's conformance test
/// finds it (`precompiles/engine/tests/conformance.rs`): `VERITY_ONNX_TEST_DATA`, the `onnx`
/// wheel's own data, or the cases generated once from it into
/// `~/.cache/verity/onnx-backend-data-<version>` (generated here if missing).
pub fn node_suite() -> PathBuf {
	if let Ok(dir) = std::env::var("VERITY_ONNX_TEST_DATA") {
		let dir = PathBuf::from(dir);
		return if dir.join("node").is_dir() { dir.join("node") } else { dir };
	}
	let py = python();
	let out = Command::new(&py)
		.args([
			"-c",
			"import onnx,os;print(os.path.dirname(onnx.__file__));print(onnx.__version__)",
		])
		.output()
		.unwrap_or_else(|e| panic!("cannot run {py}: {e}"));
	assert!(out.status.success(), "{py} cannot import onnx; run scripts/setup.sh");
	let text = String::from_utf8_lossy(&out.stdout).to_string();
	let mut lines = text.lines();
	let shipped = PathBuf::from(lines.next().unwrap_or_default()).join("backend/test/data/node");
	if shipped.is_dir() {
		return shipped;
	}
	let version = lines.next().unwrap_or("unknown").trim();
	let home = std::env::var("HOME").expect("HOME");
	let cache = PathBuf::from(home).join(format!(".cache/verity/onnx-backend-data-{version}"));
	if !cache.join("VERSION").is_file() {
		let script = engine_dir().join("conformance/generate_node_data.py");
		let st = Command::new(&py).arg(&script).arg(&cache).status().expect("run generator");
		assert!(st.success(), "{} failed", script.display());
	}
	cache.join("node")
}

/// Names (`node/test_x`) of the cases the engine does not pass, from its known failures.
fn known_failures() -> BTreeSet<String> {
	let text = fs::read_to_string(engine_dir().join("conformance/known_failures.txt"))
		.expect("engine's known_failures.txt");
	text.lines()
		.map(|l| l.split('#').next().unwrap_or("").trim())
		.filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
		.collect()
}

fn load_pb(path: &Path) -> Option<Tensor> {
	let bytes = fs::read(path).ok()?;
	let proto = tract_onnx::tensor::proto_from_reader(&bytes[..]).ok()?;
	let t = tract_onnx::tensor::load_tensor(
		&tract_onnx::data_resolver::FopenDataResolver,
		&proto,
		None,
	)
	.ok()?;
	from_tract_tensor(&t).ok()
}

/// The node-suite cases the engine passes (every case not in its known failures), each with its
/// first input set, in name order.
pub fn passing_conformance_cases() -> Vec<Case> {
	let suite = node_suite();
	let known = known_failures();
	let mut dirs: Vec<PathBuf> = fs::read_dir(&suite)
		.unwrap_or_else(|e| panic!("{}: {e}", suite.display()))
		.filter_map(|e| e.ok().map(|e| e.path()))
		.filter(|p| p.join("model.onnx").is_file())
		.collect();
	dirs.sort();
	dirs.into_iter()
		.filter_map(|dir| {
			let name = format!("node/{}", dir.file_name()?.to_str()?);
			if known.contains(&name) {
				return None;
			}
			let set = dir.join("test_data_set_0");
			let mut inputs = vec![];
			for i in 0.. {
				let p = set.join(format!("input_{i}.pb"));
				if !p.is_file() {
					break;
				}
				inputs.push(load_pb(&p)?);
			}
			Some(Case { name, model: fs::read(dir.join("model.onnx")).ok()?, inputs })
		})
		.collect()
}

/// The `light` models of the `onnx` package (`backend/test/data/light`): real architectures
/// (alexnet, densenet121, inception v1/v2, resnet50, shufflenet, squeezenet, vgg19, zfnet512)
/// whose weights are `ConstantOfShape` nodes, each with the input the ONNX backend runner
/// builds for them, `arange(n) / n` in f32 in the graph's input shape, and the output the
/// package ships (`<name>_output_0.pb`). `only`: the names to keep (without `light_`), all when
/// empty.
pub fn light_models(only: &[String]) -> Vec<(Case, Option<Tensor>)> {
	let py = python();
	// One line per model: its path and the shape of its data input (the graph input that is
	// not an initializer).
	let script = "import onnx,os,glob\n\
		d=os.path.join(os.path.dirname(onnx.__file__),'backend/test/data/light')\n\
		for p in sorted(glob.glob(os.path.join(d,'*.onnx'))): \
		m=onnx.load(p,load_external_data=False); \
		inits={i.name for i in m.graph.initializer}; \
		data=[i for i in m.graph.input if i.name not in inits][0]; \
		print(p,' '.join(str(x.dim_value) for x in data.type.tensor_type.shape.dim))";
	let out = Command::new(&py)
		.args(["-c", script])
		.output()
		.unwrap_or_else(|e| panic!("cannot run {py}: {e}"));
	assert!(out.status.success(), "{py} cannot list the light models; run scripts/setup.sh");
	String::from_utf8_lossy(&out.stdout)
		.lines()
		.filter_map(|line| {
			let (file, dims) = line.split_once(' ')?;
			let path = PathBuf::from(file);
			let name = path.file_stem()?.to_str()?.trim_start_matches("light_").to_string();
			if !only.is_empty() && !only.contains(&name) {
				return None;
			}
			let shape: Vec<u32> = dims.split(' ').map(|d| d.parse().expect("dimension")).collect();
			let n: usize = shape.iter().map(|&d| d as usize).product();
			let data: Vec<f32> = (0..n).map(|i| i as f32 / n as f32).collect();
			let input = Tensor::from_f32(shape, &data).expect("input tensor");
			let expected = load_pb(&path.with_file_name(format!("light_{name}_output_0.pb")));
			let case = Case { name, model: fs::read(&path).ok()?, inputs: vec![input] };
			Some((case, expected))
		})
		.collect()
}

/// Engine limits for both modes: the defaults, with runs on the caller's thread.
pub fn limits() -> Limits {
	Limits { run_timeout: None, ..Limits::default() }
}

/// The native (tract on this CPU) outputs of a case.
pub fn native(engine: &Engine, case: &Case) -> Result<Vec<Tensor>, String> {
	let hash = model_hash(&case.model);
	engine.load(&case.model, &hash).map_err(|e| e.to_string())?;
	let out = engine.run(&hash, &case.inputs).map_err(|e| e.to_string());
	engine.evict(&hash);
	out
}

/// Largest absolute difference between two float tensor lists (`None` if not comparable).
pub fn max_abs_diff(a: &[Tensor], b: &[Tensor]) -> Option<f64> {
	if a.len() != b.len() {
		return None;
	}
	let mut worst = 0f64;
	for (x, y) in a.iter().zip(b) {
		if x.dtype() != y.dtype() || x.shape() != y.shape() {
			return None;
		}
		match (x.to_f32_vec(), y.to_f32_vec()) {
			(Some(p), Some(q)) => {
				for (u, v) in p.iter().zip(&q) {
					if u.is_nan() && v.is_nan() {
						continue;
					}
					let d = (f64::from(*u) - f64::from(*v)).abs();
					worst = if d.is_nan() { f64::INFINITY } else { worst.max(d) };
				}
			},
			_ if x.data() == y.data() => {},
			_ => return None,
		}
	}
	Some(worst)
}
