//! What users type and read: amounts of VRT, percentages, accounts, tensors.

use super::{Error, Result};
use serde_json::{json, Value};
use sp_core::crypto::{Pair as _, Ss58Codec};
use sp_runtime::Perbill;
use verity_engine::{DType, Tensor};
use verity_runtime::{AccountId, Balance, TOKEN_DECIMALS, UNIT};

/// How amounts are written, for error messages and `--help`.
pub const AMOUNT_SYNTAX: &str = "VRT as a decimal (`1.5`, `1.5VRT`, up to 12 decimals) or \
	planck as an integer with a suffix (`1500000000000planck`; 1 VRT = 10^12 planck)";

/// A decimal with at most `decimals` fractional digits, scaled by `10^decimals`.
fn parse_scaled(s: &str, decimals: u32) -> Option<u128> {
	let s = s.replace('_', "");
	let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
	if (int.is_empty() && frac.is_empty())
		|| frac.len() > decimals as usize
		|| !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
	{
		return None;
	}
	let int: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
	let frac_value: u128 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
	let frac_scaled = frac_value.checked_mul(10u128.checked_pow(decimals - frac.len() as u32)?)?;
	int.checked_mul(10u128.checked_pow(decimals)?)?.checked_add(frac_scaled)
}

/// An amount: `1.5` or `1.5VRT` (VRT, up to 12 decimals) or `1500planck`.
pub fn parse_amount(s: &str, what: &str) -> Result<Balance> {
	let t = s.trim();
	let lower = t.to_ascii_lowercase();
	let value = if let Some(planck) = lower.strip_suffix("planck") {
		let p = planck.trim().replace('_', "");
		if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
			None
		} else {
			p.parse::<u128>().ok()
		}
	} else {
		let v = lower.strip_suffix("vrt").unwrap_or(&lower).trim();
		parse_scaled(v, TOKEN_DECIMALS as u32)
	};
	value.ok_or_else(|| Error::new(format!("{what} `{s}` is not an amount: write {AMOUNT_SYNTAX}")))
}

/// `planck` as VRT: `1.5 VRT`, `0 VRT`, `0.000000000001 VRT`.
pub fn vrt(planck: Balance) -> String {
	let int = planck / UNIT;
	let frac = planck % UNIT;
	if frac == 0 {
		return format!("{int} VRT");
	}
	let frac = format!("{frac:012}");
	format!("{int}.{} VRT", frac.trim_end_matches('0'))
}

/// A percentage: `10`, `10%`, `2.5%` (up to 7 decimals, at most 100).
pub fn parse_percent(s: &str, what: &str) -> Result<Perbill> {
	let t = s.trim().trim_end_matches('%').trim();
	parse_scaled(t, 7)
		.filter(|p| *p <= 1_000_000_000)
		.map(|p| Perbill::from_parts(p as u32))
		.ok_or_else(|| {
			Error::new(format!(
				"{what} `{s}` is not a percentage from 0 to 100 (like `10` or `2.5%`)"
			))
		})
}

/// An account: SS58 address, `0x` + 32 bytes, or a secret URI (`//Alice`: its sr25519 account).
pub fn parse_account(s: &str, what: &str) -> Result<AccountId> {
	let t = s.trim();
	if let Ok(a) = AccountId::from_ss58check(t) {
		return Ok(a);
	}
	if let Some(b) = super::tx::unhex(t).filter(|b| b.len() == 32 && t.starts_with("0x")) {
		let raw: [u8; 32] = b.try_into().map_err(|_| Error::new("32 bytes"))?;
		return Ok(AccountId::new(raw));
	}
	if let Ok(pair) = sp_core::sr25519::Pair::from_string(t, None) {
		return Ok(pair.public().into());
	}
	Err(Error::new(format!(
		"{what} `{s}` is not an account: give an SS58 address, 0x and 32 bytes of hex, or a \
		 secret URI such as //Alice"
	)))
}

/// A dtype name: f32, f16, i8, u8, i32, i64, bool.
pub fn parse_dtype(s: &str) -> Result<DType> {
	Ok(match s.trim().to_ascii_lowercase().as_str() {
		"f32" | "float32" | "float" => DType::F32,
		"f16" | "float16" => DType::F16,
		"i8" | "int8" => DType::I8,
		"u8" | "uint8" => DType::U8,
		"i32" | "int32" => DType::I32,
		"i64" | "int64" => DType::I64,
		"bool" => DType::Bool,
		_ => {
			return Err(Error::new(format!(
				"dtype `{s}` is not one of f32, f16, i8, u8, i32, i64, bool"
			)))
		},
	})
}

pub fn dtype_name(d: DType) -> &'static str {
	match d {
		DType::F32 => "f32",
		DType::F16 => "f16",
		DType::I8 => "i8",
		DType::U8 => "u8",
		DType::I32 => "i32",
		DType::I64 => "i64",
		DType::Bool => "bool",
	}
}

/// A shape written `1,64` (or `1x64`).
pub fn parse_shape(s: &str) -> Result<Vec<u32>> {
	s.split([',', 'x'])
		.map(|d| d.trim().parse::<u32>())
		.collect::<std::result::Result<Vec<_>, _>>()
		.map_err(|_| Error::new(format!("shape `{s}` is not a list of dimensions like 1,64")))
}

/// A tensor of `dtype` and `shape` from raw little-endian bytes; `what` names the source.
pub fn tensor_from_raw(dtype: DType, shape: Vec<u32>, data: Vec<u8>, what: &str) -> Result<Tensor> {
	let elements: u64 = shape.iter().map(|d| *d as u64).product();
	let needed = elements.saturating_mul(dtype.size() as u64);
	if data.len() as u64 != needed {
		return Err(Error::new(format!(
			"{what} has {} bytes, but {} {shape:?} needs {needed} ({elements} elements of {} bytes)",
			data.len(),
			dtype_name(dtype),
			dtype.size()
		)));
	}
	Tensor::new(dtype, shape.clone(), data).map_err(|e| {
		Error::new(format!("{what}: not a valid {} {shape:?} tensor: {e}", dtype_name(dtype)))
	})
}

/// One f32 tensor from comma-separated values.
pub fn tensor_from_f32_list(values: &str, shape: Vec<u32>) -> Result<Tensor> {
	let values = values
		.split(',')
		.map(|v| v.trim().parse::<f32>())
		.collect::<std::result::Result<Vec<_>, _>>()
		.map_err(|_| Error::new("--f32 must be comma-separated numbers like 0.5,1,-2e-3"))?;
	let elements: u64 = shape.iter().map(|d| *d as u64).product();
	if values.len() as u64 != elements {
		return Err(Error::new(format!(
			"--f32 has {} values, but --shape {shape:?} needs {elements}",
			values.len()
		)));
	}
	Tensor::from_f32(shape, &values).map_err(|e| Error::new(format!("--f32: {e}")))
}

fn f16_to_f32(bits: u16) -> f32 {
	let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
	let exp = ((bits >> 10) & 0x1f) as i32;
	let frac = (bits & 0x3ff) as f32;
	sign * match exp {
		0 => frac * 2f32.powi(-24),
		31 if frac == 0.0 => f32::INFINITY,
		31 => f32::NAN,
		e => (1.0 + frac / 1024.0) * 2f32.powi(e - 15),
	}
}

/// The values of a tensor as JSON numbers (floats that are not finite as strings).
pub fn tensor_values(t: &Tensor) -> Vec<Value> {
	let float = |v: f32| if v.is_finite() { json!(v) } else { json!(v.to_string()) };
	let d = t.data();
	match t.dtype() {
		DType::F32 => {
			d.chunks_exact(4).map(|c| float(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect()
		},
		DType::F16 => {
			d.chunks_exact(2).map(|c| float(f16_to_f32(u16::from_le_bytes([c[0], c[1]])))).collect()
		},
		DType::I8 => d.iter().map(|b| json!(*b as i8)).collect(),
		DType::U8 => d.iter().map(|b| json!(*b)).collect(),
		DType::I32 => {
			d.chunks_exact(4).map(|c| json!(i32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect()
		},
		DType::I64 => d
			.chunks_exact(8)
			.map(|c| json!(i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))))
			.collect(),
		DType::Bool => d.iter().map(|b| json!(*b != 0)).collect(),
	}
}

/// A tensor as JSON: `{dtype, shape, values}`.
pub fn tensor_json(t: &Tensor) -> Value {
	json!({ "dtype": dtype_name(t.dtype()), "shape": t.shape(), "values": tensor_values(t) })
}

/// A tensor in one line: `f32 [1, 10] = [0.1, …]`.
pub fn tensor_line(t: &Tensor) -> String {
	let values: Vec<String> = tensor_values(t).iter().map(|v| v.to_string()).collect();
	format!("{} {:?} = [{}]", dtype_name(t.dtype()), t.shape(), values.join(", "))
}

/// The local engine's bound of the constants model `bytes` holds (what a spec declares), or 1
/// for a file the engine refuses (validators reject it anyway).
pub fn constant_bound(bytes: &[u8]) -> u64 {
	use verity_engine::engine::{Engine, Limits};
	Engine::new(Limits::default())
		.load(bytes, &verity_engine::model_hash(bytes))
		.map(|info| u64::try_from(info.constants_bound()).unwrap_or(u64::MAX))
		.unwrap_or(1)
		.max(1)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn amounts_parse_and_print() {
		assert_eq!(parse_amount("1.5", "x").unwrap(), 1_500_000_000_000);
		assert_eq!(parse_amount("1.5VRT", "x").unwrap(), 1_500_000_000_000);
		assert_eq!(parse_amount(" 2 vrt ", "x").unwrap(), 2 * UNIT);
		assert_eq!(parse_amount(".001", "x").unwrap(), UNIT / 1000);
		assert_eq!(parse_amount("1_000planck", "x").unwrap(), 1000);
		assert_eq!(parse_amount("0.000000000001", "x").unwrap(), 1);
		for bad in ["", "1.0000000000001", "1,5", "-1", "1.5planck", "abc", "1e3"] {
			assert!(parse_amount(bad, "x").is_err(), "{bad}");
		}
		assert_eq!(vrt(1_500_000_000_000), "1.5 VRT");
		assert_eq!(vrt(0), "0 VRT");
		assert_eq!(vrt(1), "0.000000000001 VRT");
		assert_eq!(vrt(10 * UNIT), "10 VRT");
	}

	#[test]
	fn percents_parse() {
		assert_eq!(parse_percent("10", "c").unwrap(), Perbill::from_percent(10));
		assert_eq!(parse_percent("2.5%", "c").unwrap(), Perbill::from_parts(25_000_000));
		assert_eq!(parse_percent("100%", "c").unwrap(), Perbill::one());
		assert!(parse_percent("100.1", "c").is_err());
	}

	#[test]
	fn accounts_parse() {
		let alice = sp_keyring::Sr25519Keyring::Alice.to_account_id();
		assert_eq!(parse_account("//Alice", "p").unwrap(), alice);
		assert_eq!(parse_account(&alice.to_string(), "p").unwrap(), alice);
		let raw: &[u8] = alice.as_ref();
		assert_eq!(parse_account(&super::super::tx::hex(raw), "p").unwrap(), alice);
		assert!(parse_account("nobody", "p").is_err());
	}

	#[test]
	fn tensors_parse_and_print() {
		let t = tensor_from_f32_list("1, 2.5,-3", vec![1, 3]).unwrap();
		assert_eq!(tensor_line(&t), "f32 [1, 3] = [1.0, 2.5, -3.0]");
		assert!(tensor_from_f32_list("1,2", vec![1, 3]).is_err());
		assert!(tensor_from_raw(DType::U8, vec![2, 2], vec![1, 2, 3], "f").is_err());
		let t = tensor_from_raw(DType::I64, vec![1], 7i64.to_le_bytes().to_vec(), "f").unwrap();
		assert_eq!(tensor_values(&t), vec![json!(7)]);
		assert_eq!(f16_to_f32(0x3c00), 1.0);
		assert_eq!(f16_to_f32(0xc000), -2.0);
		assert_eq!(parse_shape("1,64").unwrap(), vec![1, 64]);
		assert_eq!(parse_shape("1x64").unwrap(), vec![1, 64]);
	}
}
