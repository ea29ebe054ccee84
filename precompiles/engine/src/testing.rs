//! Tiny ONNX model builders for tests (feature `testing`). Models are built from tract's own
//! protobuf types, so tests need no Python and no committed binaries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use prost::Message;
use tract_onnx::pb::{
	self, attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto::dimension,
	type_proto,
};

pub use tract_onnx::pb::{AttributeProto, NodeProto, TensorProto, ValueInfoProto};

/// ONNX element type codes.
pub const FLOAT: i32 = DataType::Float as i32;
pub const INT64: i32 = DataType::Int64 as i32;
pub const UINT8: i32 = DataType::Uint8 as i32;
pub const INT8: i32 = DataType::Int8 as i32;
pub const INT32: i32 = DataType::Int32 as i32;

/// A graph input/output: `dims` with `None` for a symbolic dim named `N`.
pub fn value(name: &str, elem_type: i32, dims: &[Option<i64>]) -> ValueInfoProto {
	let dim = dims
		.iter()
		.map(|d| pb::tensor_shape_proto::Dimension {
			denotation: String::new(),
			value: Some(match d {
				Some(v) => dimension::Value::DimValue(*v),
				None => dimension::Value::DimParam("N".into()),
			}),
		})
		.collect();
	ValueInfoProto {
		name: name.into(),
		r#type: Some(pb::TypeProto {
			denotation: String::new(),
			value: Some(type_proto::Value::TensorType(type_proto::Tensor {
				elem_type,
				shape: Some(pb::TensorShapeProto { dim }),
			})),
		}),
		doc_string: String::new(),
	}
}

/// A float initializer (raw little-endian data).
pub fn f32_tensor(name: &str, dims: &[i64], data: &[f32]) -> TensorProto {
	TensorProto {
		name: name.into(),
		dims: dims.to_vec(),
		data_type: FLOAT,
		raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
		..Default::default()
	}
}

/// An int64 initializer.
pub fn i64_tensor(name: &str, dims: &[i64], data: &[i64]) -> TensorProto {
	TensorProto {
		name: name.into(),
		dims: dims.to_vec(),
		data_type: INT64,
		int64_data: data.to_vec(),
		..Default::default()
	}
}

pub fn attr_int(name: &str, v: i64) -> AttributeProto {
	AttributeProto {
		name: name.into(),
		r#type: AttributeType::Int as i32,
		i: v,
		..Default::default()
	}
}

pub fn attr_float(name: &str, v: f32) -> AttributeProto {
	AttributeProto {
		name: name.into(),
		r#type: AttributeType::Float as i32,
		f: v,
		..Default::default()
	}
}

pub fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
	AttributeProto {
		name: name.into(),
		r#type: AttributeType::Ints as i32,
		ints: v.to_vec(),
		..Default::default()
	}
}

pub fn node(op: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<AttributeProto>) -> NodeProto {
	NodeProto {
		input: inputs.iter().map(|s| s.to_string()).collect(),
		output: outputs.iter().map(|s| s.to_string()).collect(),
		name: format!("{op}_{}", outputs.first().copied().unwrap_or("")),
		op_type: op.into(),
		domain: String::new(),
		attribute: attrs,
		doc_string: String::new(),
	}
}

/// Encode a model with one graph, opset 13.
pub fn model(
	nodes: Vec<NodeProto>,
	inputs: Vec<ValueInfoProto>,
	outputs: Vec<ValueInfoProto>,
	initializers: Vec<TensorProto>,
) -> Vec<u8> {
	model_with_opset(nodes, inputs, outputs, initializers, 13)
}

pub fn model_with_opset(
	nodes: Vec<NodeProto>,
	inputs: Vec<ValueInfoProto>,
	outputs: Vec<ValueInfoProto>,
	initializers: Vec<TensorProto>,
	opset: i64,
) -> Vec<u8> {
	let m = pb::ModelProto {
		ir_version: 8,
		opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: opset }],
		producer_name: "verity-engine tests".into(),
		graph: Some(pb::GraphProto {
			node: nodes,
			name: "g".into(),
			initializer: initializers,
			input: inputs,
			output: outputs,
			..Default::default()
		}),
		..Default::default()
	};
	m.encode_to_vec()
}

/// `y = softmax(x · W + b)`, x: [N, 4] f32 (symbolic batch), W: [4, 3], y: [N, 3].
/// The classifier used across tests.
pub fn tiny_classifier() -> Vec<u8> {
	let w: Vec<f32> = (0..12).map(|i| (i as f32 - 5.5) / 4.0).collect();
	model(
		vec![
			node("MatMul", &["x", "w"], &["xw"], vec![]),
			node("Add", &["xw", "b"], &["logits"], vec![]),
			node("Softmax", &["logits"], &["y"], vec![attr_int("axis", -1)]),
		],
		vec![value("x", FLOAT, &[None, Some(4)])],
		vec![value("y", FLOAT, &[None, Some(3)])],
		vec![f32_tensor("w", &[4, 3], &w), f32_tensor("b", &[3], &[0.1, -0.2, 0.3])],
	)
}

/// `y = x + 1` on i64 [2] — exact integer arithmetic.
pub fn tiny_int_add() -> Vec<u8> {
	model(
		vec![node("Add", &["x", "one"], &["y"], vec![])],
		vec![value("x", INT64, &[Some(2)])],
		vec![value("y", INT64, &[Some(2)])],
		vec![i64_tensor("one", &[1], &[1])],
	)
}

/// The same model under another hash: `tag` goes into the model's doc string.
pub fn retag(bytes: &[u8], tag: &str) -> Vec<u8> {
	let mut m = pb::ModelProto::decode(bytes).expect("an ONNX model");
	m.doc_string = tag.into();
	m.encode_to_vec()
}

/// A `value` attribute holding one f32 (for `ConstantOfShape`).
fn attr_f32_value(v: f32) -> AttributeProto {
	AttributeProto {
		name: "value".into(),
		r#type: AttributeType::Tensor as i32,
		t: Some(f32_tensor("value", &[1], &[v])),
		..Default::default()
	}
}

// Hostile models: a few hundred bytes each, whose weights are produced inside the graph, so that
// what tract folds into the plan is far larger than the file.

/// `y = x · ConstantOfShape([rows, cols], fill)`, x: [1, rows] f32, y: [1, cols]. The weight is
/// `rows * cols * 4` bytes once folded; `fill` only changes the model's hash.
pub fn constant_of_shape_matmul(rows: i64, cols: i64, fill: f32) -> Vec<u8> {
	model(
		vec![
			node("ConstantOfShape", &["shape"], &["w"], vec![attr_f32_value(fill)]),
			node("MatMul", &["x", "w"], &["y"], vec![]),
		],
		vec![value("x", FLOAT, &[Some(1), Some(rows)])],
		vec![value("y", FLOAT, &[Some(1), Some(cols)])],
		vec![i64_tensor("shape", &[2], &[rows, cols])],
	)
}

/// `layers` chained `y = y · ConstantOfShape([n, n])`, x: [1, n]: `layers * n * n * 4` bytes of
/// folded weights, each within the element limit when `n * n` is.
pub fn constant_of_shape_layers(n: i64, layers: usize) -> Vec<u8> {
	let mut nodes = vec![];
	let mut prev = "x".to_string();
	for i in 0..layers {
		let (w, y) = (format!("w{i}"), format!("y{i}"));
		nodes.push(node("ConstantOfShape", &["shape"], &[&w], vec![attr_f32_value(0.5)]));
		nodes.push(node("MatMul", &[&prev, &w], &[&y], vec![]));
		prev = y;
	}
	nodes.push(node("Identity", &[&prev], &["y"], vec![]));
	model(
		nodes,
		vec![value("x", FLOAT, &[Some(1), Some(n)])],
		vec![value("y", FLOAT, &[Some(1), Some(n)])],
		vec![i64_tensor("shape", &[2], &[n, n])],
	)
}

/// A scalar expanded to [n, n], tiled `tiles` times along rows twice (an Expand/Tile chain), into
/// a MatMul: x: [1, n * tiles * tiles], y: [1, n]. The folded weight has `n² * tiles²` elements.
pub fn expand_tile_chain(n: i64, tiles: i64) -> Vec<u8> {
	model(
		vec![
			node("Expand", &["c", "shape"], &["e"], vec![]),
			node("Tile", &["e", "reps"], &["t1"], vec![]),
			node("Tile", &["t1", "reps"], &["t2"], vec![]),
			node("MatMul", &["x", "t2"], &["y"], vec![]),
		],
		vec![value("x", FLOAT, &[Some(1), Some(n * tiles * tiles)])],
		vec![value("y", FLOAT, &[Some(1), Some(n)])],
		vec![
			f32_tensor("c", &[1, 1], &[0.25]),
			i64_tensor("shape", &[2], &[n, n]),
			i64_tensor("reps", &[2], &[tiles, 1]),
		],
	)
}

/// `Range(0, n, 1) mod 16` indexing a Gather over a [16, width] constant: an [n, width] weight
/// built from a 3-scalar Range, into a MatMul: x: [1, n], y: [1, width].
pub fn range_gather(n: i64, width: i64) -> Vec<u8> {
	model(
		vec![
			node("Range", &["start", "limit", "delta"], &["r"], vec![]),
			node("Mod", &["r", "sixteen"], &["idx"], vec![]),
			node("ConstantOfShape", &["dshape"], &["data"], vec![attr_f32_value(0.125)]),
			node("Gather", &["data", "idx"], &["g"], vec![attr_int("axis", 0)]),
			node("MatMul", &["x", "g"], &["y"], vec![]),
		],
		vec![value("x", FLOAT, &[Some(1), Some(n)])],
		vec![value("y", FLOAT, &[Some(1), Some(width)])],
		vec![
			i64_tensor("start", &[], &[0]),
			i64_tensor("limit", &[], &[n]),
			i64_tensor("delta", &[], &[1]),
			i64_tensor("sixteen", &[], &[16]),
			i64_tensor("dshape", &[2], &[16, width]),
		],
	)
}

/// An LSTM over one step whose input and recurrence weights (`[1, 4 * hidden, input]` and
/// `[1, 4 * hidden, hidden]`) are `ConstantOfShape`s: x: [1, 1, input], y: [1, 1, 1, hidden].
/// tract runs the LSTM as a scan whose body holds the weights.
pub fn constant_of_shape_lstm(input: i64, hidden: i64, fill: f32) -> Vec<u8> {
	model(
		vec![
			node("ConstantOfShape", &["wshape"], &["w"], vec![attr_f32_value(fill)]),
			node("ConstantOfShape", &["rshape"], &["r"], vec![attr_f32_value(fill)]),
			node("LSTM", &["x", "w", "r"], &["y"], vec![attr_int("hidden_size", hidden)]),
		],
		vec![value("x", FLOAT, &[Some(1), Some(1), Some(input)])],
		vec![value("y", FLOAT, &[Some(1), Some(1), Some(1), Some(hidden)])],
		vec![
			i64_tensor("wshape", &[3], &[1, 4 * hidden, input]),
			i64_tensor("rshape", &[3], &[1, 4 * hidden, hidden]),
		],
	)
}
