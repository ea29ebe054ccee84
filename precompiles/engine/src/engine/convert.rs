//! Conversion between canonical tensors and tract's.

use super::*;

pub(super) fn to_dtype(dt: tp::DatumType) -> Option<DType> {
	use tp::DatumType as T;
	Some(match dt.unquantized() {
		T::F32 => DType::F32,
		T::F16 => DType::F16,
		T::I8 => DType::I8,
		T::U8 => DType::U8,
		T::I32 => DType::I32,
		T::I64 => DType::I64,
		T::Bool => DType::Bool,
		_ => return None,
	})
}

/// Convert a canonical tensor to a tract tensor.
pub fn to_tract(t: &Tensor) -> Result<tp::Tensor, EngineError> {
	let shape: Vec<usize> = t.shape().iter().map(|d| *d as usize).collect();
	let d = t.data();
	let r = match t.dtype() {
		DType::F32 => tp::Tensor::from_shape(
			&shape,
			&d.chunks_exact(4)
				.map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
				.collect::<Vec<_>>(),
		),
		DType::F16 => tp::Tensor::from_shape(
			&shape,
			&d.chunks_exact(2)
				.map(|c| tp::f16::from_bits(u16::from_le_bytes([c[0], c[1]])))
				.collect::<Vec<_>>(),
		),
		DType::I8 => {
			tp::Tensor::from_shape(&shape, &d.iter().map(|b| *b as i8).collect::<Vec<_>>())
		},
		DType::U8 => tp::Tensor::from_shape(&shape, d),
		DType::I32 => tp::Tensor::from_shape(
			&shape,
			&d.chunks_exact(4)
				.map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
				.collect::<Vec<_>>(),
		),
		DType::I64 => tp::Tensor::from_shape(
			&shape,
			&d.chunks_exact(8)
				.map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
				.collect::<Vec<_>>(),
		),
		DType::Bool => {
			tp::Tensor::from_shape(&shape, &d.iter().map(|b| *b != 0).collect::<Vec<_>>())
		},
	};
	r.map_err(|e| EngineError::Run(format!("converting input: {e:#}")))
}

/// Convert a tract tensor to a canonical tensor (quantized types map to their storage type).
/// Errors for types Verity tensors cannot carry (f64, strings, ...).
pub fn from_tract_tensor(t: &tp::Tensor) -> Result<Tensor, EngineError> {
	convert_out(0, t, None)
}

pub(super) fn from_tract(
	index: usize,
	v: &tp::TValue,
	want: Option<DType>,
) -> Result<Tensor, EngineError> {
	convert_out(index, v, want)
}

pub(super) fn convert_out(
	index: usize,
	t: &tp::Tensor,
	want: Option<DType>,
) -> Result<Tensor, EngineError> {
	let err = |message: String| EngineError::Output { index, message };
	let dtype = to_dtype(t.datum_type())
		.ok_or_else(|| err(format!("unsupported output type {:?}", t.datum_type())))?;
	if let Some(w) = want {
		if w != dtype {
			return Err(err(format!("produced {dtype:?}, the graph declares {w:?}")));
		}
	}
	let shape = t
		.shape()
		.iter()
		.map(|d| u32::try_from(*d))
		.collect::<Result<Vec<u32>, _>>()
		.map_err(|_| err("dimension above u32".into()))?;
	let view = t.try_as_plain_ram().map_err(|e| err(format!("{e:#}")))?;
	let data: Vec<u8> = match dtype {
		// Quantized tract types share their storage with the plain ones; read raw bytes.
		DType::U8 | DType::I8 => view
			.as_bytes()
			.get(..t.len())
			.map(<[u8]>::to_vec)
			.ok_or_else(|| err("output storage is shorter than its shape".into()))?,
		DType::Bool => view
			.as_slice::<bool>()
			.map_err(|e| err(format!("{e:#}")))?
			.iter()
			.map(|b| u8::from(*b))
			.collect(),
		DType::F32 => le_bytes(view.as_slice::<f32>(), |v| v.to_le_bytes()).map_err(&err)?,
		DType::F16 => {
			le_bytes(view.as_slice::<tp::f16>(), |v| v.to_bits().to_le_bytes()).map_err(&err)?
		},
		DType::I32 => le_bytes(view.as_slice::<i32>(), |v| v.to_le_bytes()).map_err(&err)?,
		DType::I64 => le_bytes(view.as_slice::<i64>(), |v| v.to_le_bytes()).map_err(&err)?,
	};
	Tensor::new(dtype, shape, data).map_err(|e| err(e.to_string()))
}

pub(super) fn le_bytes<T: Copy, const N: usize>(
	s: tp::TractResult<&[T]>,
	f: impl Fn(T) -> [u8; N],
) -> Result<Vec<u8>, String> {
	let s = s.map_err(|e| format!("{e:#}"))?;
	Ok(s.iter().flat_map(|v| f(*v)).collect())
}
