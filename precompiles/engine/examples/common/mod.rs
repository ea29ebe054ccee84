//! Shared by the engine's examples: the demo models' manifest (`models/manifest.json`, written by
//! `scripts/make_models.py`) and a few measuring helpers.
//!
//! The manifest is read with a small JSON reader of its own so the examples need no crate the
//! engine does not already depend on.
#![allow(dead_code)]

use std::{collections::BTreeMap, path::PathBuf};

use verity_engine::{DType, ModelHash, Tensor};

/// Where the demo models live.
pub fn models_dir() -> PathBuf {
	// From the environment cargo sets at run time: a binary reused from the shared target
	// directory may have been built by another checkout.
	std::env::var_os("CARGO_MANIFEST_DIR")
		.map(PathBuf::from)
		.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
		.join("models")
}

/// One input or output of a demo model, as the manifest describes it.
#[derive(Clone, Debug)]
pub struct Io {
	pub name: String,
	/// `f32`, `u8`, `i8`, `i32` or `i64`.
	pub dtype: String,
	/// The declared shape; `None` is a symbolic dimension.
	pub shape: Vec<Option<usize>>,
	/// The shape of the reference tensor in `file`.
	pub reference_shape: Vec<usize>,
	pub file: String,
}

impl Io {
	/// The reference tensor's raw little-endian bytes.
	pub fn read(&self) -> Vec<u8> {
		let path = models_dir().join(&self.file);
		std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
	}

	pub fn dtype(&self) -> DType {
		match self.dtype.as_str() {
			"f32" => DType::F32,
			"f16" => DType::F16,
			"i8" => DType::I8,
			"u8" => DType::U8,
			"i32" => DType::I32,
			"i64" => DType::I64,
			"bool" => DType::Bool,
			other => panic!("manifest: unknown dtype {other}"),
		}
	}

	/// The reference tensor as an engine tensor; `rows` takes rows `start..end` of axis 0.
	pub fn tensor(&self, rows: Option<(usize, usize)>) -> Tensor {
		let raw = self.read();
		let mut shape: Vec<u32> = self.reference_shape.iter().map(|&d| d as u32).collect();
		let data = match rows {
			None => raw,
			Some((start, end)) => {
				let row = raw.len() / self.reference_shape[0].max(1);
				shape[0] = (end - start) as u32;
				raw[start * row..end * row].to_vec()
			},
		};
		Tensor::new(self.dtype(), shape, data).expect("reference tensor matches its shape")
	}
}

/// One demo model.
#[derive(Clone, Debug)]
pub struct Model {
	pub name: String,
	pub file: String,
	pub blake2_256: String,
	pub input: Io,
	pub output: Io,
	/// The suggested acceptance rule: `Exact`, `ArgMax` or `Tolerance`.
	pub rule: String,
}

impl Model {
	pub fn bytes(&self) -> Vec<u8> {
		let path = models_dir().join(&self.file);
		std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
	}

	/// The model hash from the manifest (the engine checks it against the bytes).
	pub fn hash(&self) -> ModelHash {
		let h = &self.blake2_256;
		let mut out = [0u8; 32];
		for (i, o) in out.iter_mut().enumerate() {
			*o = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).expect("hex hash");
		}
		out
	}
}

/// The models of `models/manifest.json`, in its order; `only` (comma-separated names) filters.
pub fn manifest(only: Option<&str>) -> Vec<Model> {
	let path = models_dir().join("manifest.json");
	let text = std::fs::read_to_string(&path)
		.unwrap_or_else(|e| panic!("{}: {e} (run scripts/make_models.py)", path.display()));
	let root = Json::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
	let wanted: Option<Vec<&str>> = only.map(|s| s.split(',').map(str::trim).collect());
	root.get("models")
		.and_then(Json::as_array)
		.expect("manifest has a `models` array")
		.iter()
		.map(|m| Model {
			name: m.str("name"),
			file: m.str("file"),
			blake2_256: m.str("blake2_256"),
			input: io(&m.get("inputs").and_then(Json::as_array).expect("inputs")[0]),
			output: io(&m.get("outputs").and_then(Json::as_array).expect("outputs")[0]),
			rule: m.str("rule"),
		})
		.filter(|m| wanted.as_ref().is_none_or(|w| w.contains(&m.name.as_str())))
		.collect()
}

fn io(j: &Json) -> Io {
	let dims = |key: &str| -> Vec<Option<usize>> {
		j.get(key)
			.and_then(Json::as_array)
			.expect("shape array")
			.iter()
			.map(|d| match d {
				Json::Num(n) => Some(*n as usize),
				_ => None,
			})
			.collect()
	};
	Io {
		name: j.str("name"),
		dtype: j.str("dtype"),
		shape: dims("shape"),
		reference_shape: dims("reference_shape")
			.into_iter()
			.map(|d| d.expect("concrete"))
			.collect(),
		file: j.str("file"),
	}
}

/// Just enough JSON for the manifest.
#[derive(Clone, Debug)]
pub enum Json {
	Null,
	Bool(bool),
	Num(f64),
	Str(String),
	Arr(Vec<Json>),
	Obj(BTreeMap<String, Json>),
}

impl Json {
	pub fn parse(s: &str) -> Result<Json, String> {
		let mut p = Parser { b: s.as_bytes(), i: 0 };
		let v = p.value()?;
		p.ws();
		if p.i != p.b.len() {
			return Err(format!("trailing data at byte {}", p.i));
		}
		Ok(v)
	}
	pub fn get(&self, key: &str) -> Option<&Json> {
		match self {
			Json::Obj(m) => m.get(key),
			_ => None,
		}
	}
	pub fn as_array(&self) -> Option<&Vec<Json>> {
		match self {
			Json::Arr(a) => Some(a),
			_ => None,
		}
	}
	fn str(&self, key: &str) -> String {
		match self.get(key) {
			Some(Json::Str(s)) => s.clone(),
			other => panic!("manifest: `{key}` is {other:?}, expected a string"),
		}
	}
}

struct Parser<'a> {
	b: &'a [u8],
	i: usize,
}

impl Parser<'_> {
	fn ws(&mut self) {
		while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
			self.i += 1;
		}
	}
	fn eat(&mut self, lit: &str) -> Result<(), String> {
		if self.b[self.i..].starts_with(lit.as_bytes()) {
			self.i += lit.len();
			Ok(())
		} else {
			Err(format!("expected {lit:?} at byte {}", self.i))
		}
	}
	fn value(&mut self) -> Result<Json, String> {
		self.ws();
		match self.b.get(self.i) {
			Some(b'{') => {
				self.i += 1;
				let mut m = BTreeMap::new();
				self.ws();
				if self.b.get(self.i) == Some(&b'}') {
					self.i += 1;
					return Ok(Json::Obj(m));
				}
				loop {
					self.ws();
					let k = self.string()?;
					self.ws();
					self.eat(":")?;
					let v = self.value()?;
					m.insert(k, v);
					self.ws();
					if self.b.get(self.i) == Some(&b',') {
						self.i += 1;
					} else {
						self.eat("}")?;
						return Ok(Json::Obj(m));
					}
				}
			},
			Some(b'[') => {
				self.i += 1;
				let mut a = Vec::new();
				self.ws();
				if self.b.get(self.i) == Some(&b']') {
					self.i += 1;
					return Ok(Json::Arr(a));
				}
				loop {
					a.push(self.value()?);
					self.ws();
					if self.b.get(self.i) == Some(&b',') {
						self.i += 1;
					} else {
						self.eat("]")?;
						return Ok(Json::Arr(a));
					}
				}
			},
			Some(b'"') => self.string().map(Json::Str),
			Some(b't') => self.eat("true").map(|_| Json::Bool(true)),
			Some(b'f') => self.eat("false").map(|_| Json::Bool(false)),
			Some(b'n') => self.eat("null").map(|_| Json::Null),
			Some(_) => {
				let start = self.i;
				while self.i < self.b.len() && b"+-.0123456789eE".contains(&self.b[self.i]) {
					self.i += 1;
				}
				std::str::from_utf8(&self.b[start..self.i])
					.ok()
					.and_then(|s| s.parse().ok())
					.map(Json::Num)
					.ok_or_else(|| format!("bad value at byte {start}"))
			},
			None => Err("unexpected end".into()),
		}
	}
	fn string(&mut self) -> Result<String, String> {
		self.eat("\"")?;
		let mut out = String::new();
		loop {
			let c = *self.b.get(self.i).ok_or("unterminated string")?;
			self.i += 1;
			match c {
				b'"' => return Ok(out),
				b'\\' => {
					let e = *self.b.get(self.i).ok_or("unterminated escape")?;
					self.i += 1;
					match e {
						b'n' => out.push('\n'),
						b't' => out.push('\t'),
						b'u' => {
							let hex = std::str::from_utf8(&self.b[self.i..self.i + 4])
								.map_err(|e| e.to_string())?;
							let cp = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
							out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
							self.i += 4;
						},
						other => out.push(other as char),
					}
				},
				_ => {
					// Multi-byte UTF-8 passes through byte by byte.
					let start = self.i - 1;
					let mut end = self.i;
					while end < self.b.len() && (self.b[end] & 0xC0) == 0x80 {
						end += 1;
					}
					out.push_str(
						std::str::from_utf8(&self.b[start..end]).map_err(|e| e.to_string())?,
					);
					self.i = end;
				},
			}
		}
	}
}

/// Peak resident set size of this process so far (`VmHWM`), in KiB.
pub fn peak_rss_kib() -> u64 {
	status_kib("VmHWM")
}

/// Current resident set size (`VmRSS`), in KiB.
pub fn rss_kib() -> u64 {
	status_kib("VmRSS")
}

fn status_kib(field: &str) -> u64 {
	std::fs::read_to_string("/proc/self/status")
		.ok()
		.and_then(|s| {
			s.lines()
				.find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
				.and_then(|l| l.split_whitespace().nth(1))
				.and_then(|v| v.parse().ok())
		})
		.unwrap_or(0)
}

/// Resets `VmHWM` to the current RSS (Linux ≥ 4.0: write "5" to `clear_refs`), so the next
/// `peak_rss_kib` measures from here. Returns whether that worked.
pub fn reset_peak_rss() -> bool {
	std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The median of `v` (sorted in place).
pub fn median(v: &mut [f64]) -> f64 {
	v.sort_by(|a, b| a.total_cmp(b));
	let n = v.len();
	if n == 0 {
		f64::NAN
	} else if n % 2 == 1 {
		v[n / 2]
	} else {
		(v[n / 2 - 1] + v[n / 2]) / 2.0
	}
}

/// The largest element-wise absolute difference of two raw little-endian tensors of `dtype`.
pub fn max_abs_diff(dtype: &str, a: &[u8], b: &[u8]) -> f64 {
	if a.len() != b.len() {
		return f64::INFINITY;
	}
	fn go<const N: usize>(a: &[u8], b: &[u8], f: impl Fn([u8; N]) -> f64) -> f64 {
		a.chunks_exact(N)
			.zip(b.chunks_exact(N))
			.map(|(x, y)| {
				let (x, y) = (f(x.try_into().unwrap()), f(y.try_into().unwrap()));
				if x == y {
					0.0
				} else {
					(x - y).abs()
				}
			})
			.fold(0.0, f64::max)
	}
	match dtype {
		"f32" => go::<4>(a, b, |x| f32::from_le_bytes(x) as f64),
		"u8" => go::<1>(a, b, |x| x[0] as f64),
		"i8" => go::<1>(a, b, |x| x[0] as i8 as f64),
		"i32" => go::<4>(a, b, |x| i32::from_le_bytes(x) as f64),
		"i64" => go::<8>(a, b, |x| i64::from_le_bytes(x) as f64),
		other => panic!("dtype {other}"),
	}
}

/// Whether the arg-max of every row (last axis of length `row`) agrees.
pub fn argmax_agrees(dtype: &str, row: usize, a: &[u8], b: &[u8]) -> bool {
	let vals = |x: &[u8]| -> Vec<f64> {
		match dtype {
			"f32" => x
				.chunks_exact(4)
				.map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
				.collect(),
			"u8" => x.iter().map(|&v| v as f64).collect(),
			"i8" => x.iter().map(|&v| v as i8 as f64).collect(),
			"i32" => x
				.chunks_exact(4)
				.map(|c| i32::from_le_bytes(c.try_into().unwrap()) as f64)
				.collect(),
			"i64" => x
				.chunks_exact(8)
				.map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f64)
				.collect(),
			other => panic!("dtype {other}"),
		}
	};
	let argmax = |v: &[f64]| -> Vec<usize> {
		v.chunks(row.max(1))
			.map(|r| {
				r.iter().enumerate().fold(0, |best, (i, x)| if *x > r[best] { i } else { best })
			})
			.collect()
	};
	let (va, vb) = (vals(a), vals(b));
	va.len() == vb.len() && argmax(&va) == argmax(&vb)
}
