//! Validation of a model: the raw proto scan, symbol binding, fact limits, the graph's declared
//! inputs and outputs, and the static cost, constant and scratch estimates.

use super::*;

impl Engine {
	/// Checks on the raw protobuf, before tract interprets anything. Returns the opset.
	pub(super) fn scan_proto(
		&self,
		proto: &pb::ModelProto,
		onnx: &tract_onnx::Onnx,
	) -> Result<i64, EngineError> {
		let graph = proto.graph.as_ref().ok_or(EngineError::MissingGraph)?;
		if !proto.functions.is_empty() {
			return Err(EngineError::Functions);
		}
		let opset = proto
			.opset_import
			.iter()
			.find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
			.map(|o| o.version)
			.unwrap_or(0);
		if graph.node.len() > self.limits.max_nodes {
			return Err(EngineError::TooManyNodes {
				nodes: graph.node.len(),
				max: self.limits.max_nodes,
			});
		}
		if let Some(s) = graph.sparse_initializer.first() {
			let name = s.values.as_ref().map(|v| v.name.clone()).unwrap_or_default();
			return Err(EngineError::ExternalData { name });
		}
		for t in &graph.initializer {
			self.check_tensor_proto(t)?;
		}
		for node in &graph.node {
			if !(node.domain.is_empty() || node.domain == "ai.onnx")
				|| !ALLOWED_OPS.contains(&node.op_type.as_str())
			{
				return Err(EngineError::OpNotAllowed {
					op: node.op_type.clone(),
					domain: if node.domain.is_empty() {
						"ai.onnx".into()
					} else {
						node.domain.clone()
					},
					node: node.name.clone(),
				});
			}
			if !onnx.op_register.0.contains_key(&node.op_type) {
				return Err(EngineError::OpNotSupported {
					op: node.op_type.clone(),
					node: node.name.clone(),
				});
			}
			for a in &node.attribute {
				if a.g.is_some() || !a.graphs.is_empty() {
					return Err(EngineError::Subgraph { node: node.name.clone() });
				}
				if a.sparse_tensor.is_some() || !a.sparse_tensors.is_empty() {
					return Err(EngineError::ExternalData { name: node.name.clone() });
				}
				if let Some(t) = &a.t {
					self.check_tensor_proto(t)?;
				}
				for t in &a.tensors {
					self.check_tensor_proto(t)?;
				}
			}
		}
		Ok(opset)
	}

	pub(super) fn check_tensor_proto(&self, t: &pb::TensorProto) -> Result<(), EngineError> {
		if t.data_location == Some(pb::tensor_proto::DataLocation::External as i32)
			|| !t.external_data.is_empty()
		{
			return Err(EngineError::ExternalData { name: t.name.clone() });
		}
		let mut n: u128 = 1;
		for d in &t.dims {
			let d = u128::try_from(*d).map_err(|_| {
				EngineError::Malformed(format!("tensor '{}' has a negative dimension", t.name))
			})?;
			n = n.saturating_mul(d);
		}
		if n > u128::from(self.limits.max_elements) {
			return Err(EngineError::TensorTooLarge {
				what: format!("initializer '{}'", t.name),
				elements: n,
				max: self.limits.max_elements,
			});
		}
		Ok(())
	}

	/// Bind every symbol of the graph's inputs to `max_batch`.
	pub(super) fn bind_symbols(&self, m: &tp::TypedModel) -> Result<tp::SymbolValues, EngineError> {
		let mut syms = HashSet::new();
		for o in m.input_outlets().map_err(tract_err("listing inputs"))? {
			let f = m.outlet_fact(*o).map_err(tract_err("listing inputs"))?;
			for d in f.shape.dims() {
				syms.extend(d.symbols());
			}
		}
		let mut values = tp::SymbolValues::default();
		for s in syms {
			values.set(&s, i64::from(self.limits.max_batch));
		}
		Ok(values)
	}

	/// Every fact (inputs, outputs, intermediates, constants) within `max_elements`.
	pub(super) fn check_facts(
		&self,
		m: &tp::TypedModel,
		syms: &tp::SymbolValues,
	) -> Result<(), EngineError> {
		for node in m.nodes() {
			for (ix, out) in node.outputs.iter().enumerate() {
				let what = || format!("tensor {}:{} ('{}')", node.id, ix, node.name);
				let n = volume(&out.fact, syms).ok_or_else(|| EngineError::UnboundedShape {
					what: what(),
					shape: format!("{:?}", out.fact.shape),
				})?;
				if n > u128::from(self.limits.max_elements) {
					return Err(EngineError::TensorTooLarge {
						what: what(),
						elements: n,
						max: self.limits.max_elements,
					});
				}
			}
		}
		Ok(())
	}
}

pub(super) fn tract_err(stage: &'static str) -> impl Fn(tp::TractError) -> EngineError {
	move |e| EngineError::Tract { stage, message: format!("{e:#}") }
}

/// Element count of a fact with symbols bound, `None` if it depends on an unbound symbol.
pub(super) fn volume(f: &tp::TypedFact, syms: &tp::SymbolValues) -> Option<u128> {
	let mut n: u128 = 1;
	for d in f.shape.dims() {
		let v = d.eval_to_i64(syms).ok()?;
		n = n.saturating_mul(u128::try_from(v).ok()?);
	}
	Some(n)
}

pub(super) fn spec_of(
	f: &tp::TypedFact,
	side: Side,
	index: usize,
) -> Result<TensorSpec, EngineError> {
	let dtype = to_dtype(f.datum_type).ok_or_else(|| EngineError::UnsupportedDType {
		side,
		index,
		dtype: format!("{:?}", f.datum_type),
	})?;
	let dims: Vec<Dim> =
		f.shape.dims().iter().map(|d| d.as_i64().and_then(|v| u32::try_from(v).ok())).collect();
	TensorSpec::new(dtype, dims).ok_or_else(|| EngineError::SpecMismatch {
		side,
		detail: format!("{side} {index} has rank {}, above {}", f.shape.rank(), crate::MAX_RANK),
	})
}

pub(super) fn graph_io(m: &tp::TypedModel) -> Result<ModelIo, EngineError> {
	let side_specs =
		|outlets: &[tp::OutletId], side: Side| -> Result<Vec<TensorSpec>, EngineError> {
			if outlets.len() > MAX_TENSORS as usize {
				return Err(EngineError::TooManyTensors {
					side,
					found: outlets.len(),
					max: MAX_TENSORS as usize,
				});
			}
			outlets
				.iter()
				.enumerate()
				.map(|(i, o)| {
					let f = m.outlet_fact(*o).map_err(tract_err("reading facts"))?;
					spec_of(f, side, i)
				})
				.collect()
		};
	let inputs = side_specs(m.input_outlets().map_err(tract_err("listing inputs"))?, Side::Input)?;
	let outputs =
		side_specs(m.output_outlets().map_err(tract_err("listing outputs"))?, Side::Output)?;
	// Both lengths were checked against MAX_TENSORS above.
	Ok(ModelIo {
		inputs: inputs.try_into().map_err(|_| EngineError::SpecMismatch {
			side: Side::Input,
			detail: "too many".into(),
		})?,
		outputs: outputs.try_into().map_err(|_| EngineError::SpecMismatch {
			side: Side::Output,
			detail: "too many".into(),
		})?,
	})
}

pub(super) fn check_declared(declared: &ModelIo, graph: &ModelIo) -> Result<(), EngineError> {
	for (side, d, g) in [
		(Side::Input, &declared.inputs, &graph.inputs),
		(Side::Output, &declared.outputs, &graph.outputs),
	] {
		if d.len() != g.len() {
			return Err(EngineError::SpecMismatch {
				side,
				detail: format!("{} declared, the graph has {}", d.len(), g.len()),
			});
		}
		for (i, (ds, gs)) in d.iter().zip(g.iter()).enumerate() {
			if !ds.compatible_with_graph(gs) {
				return Err(EngineError::SpecMismatch {
					side,
					detail: format!("{side} {i} declared {ds:?}, the graph has {gs:?}"),
				});
			}
		}
	}
	Ok(())
}

/// (multiply-adds + divisions, sum of all tensor bytes) at the bound symbols.
pub(super) fn estimate(
	m: &tp::TypedModel,
	syms: &tp::SymbolValues,
) -> Result<(u128, u128), EngineError> {
	let mut flops: u128 = 0;
	let mut bytes: u128 = 0;
	for node in m.nodes() {
		let inputs = m.node_input_facts(node.id).map_err(tract_err("estimating cost"))?;
		let costs = guarded("estimating cost", || node.op.cost(&inputs))?;
		for (kind, count) in costs {
			if kind.is_compute() {
				let c =
					count.eval_to_i64(syms).ok().and_then(|v| u128::try_from(v).ok()).ok_or_else(
						|| EngineError::UnboundedShape {
							what: format!("cost of node '{}'", node.name),
							shape: format!("{count}"),
						},
					)?;
				flops = flops.saturating_add(c);
			}
		}
		for out in &node.outputs {
			let n = volume(&out.fact, syms).unwrap_or(u128::MAX);
			bytes = bytes.saturating_add(n.saturating_mul(out.fact.datum_type.size_of() as u128));
		}
	}
	Ok((flops, bytes))
}

/// The most bytes of non-constant tensors alive at once when the nodes of `m` run in `order`
/// at the bound symbols: a node's outputs live from its step until the step of their last
/// consumer (what tract's plan frees after each step), the model's outputs until the end.
pub(super) fn live_peak(
	m: &tp::TypedModel,
	order: &[usize],
	syms: &tp::SymbolValues,
) -> tp::TractResult<u128> {
	let step: HashMap<usize, usize> = order.iter().enumerate().map(|(i, n)| (*n, i)).collect();
	let outputs = m.output_outlets()?;
	let mut freed_after = vec![0u128; order.len().saturating_add(1)];
	let (mut live, mut peak) = (0u128, 0u128);
	for (i, &id) in order.iter().enumerate() {
		let node = m.node(id);
		if !node.op_is::<Const>() {
			for (slot, out) in node.outputs.iter().enumerate() {
				let b = out
					.fact
					.mem_size()
					.eval_to_i64(syms)
					.ok()
					.and_then(|v| u128::try_from(v).ok())
					.unwrap_or(u128::MAX);
				live = live.saturating_add(b);
				let last = if outputs.contains(&tp::OutletId::new(id, slot)) {
					order.len()
				} else {
					out.successors
						.iter()
						.filter_map(|s| step.get(&s.node))
						.copied()
						.max()
						.unwrap_or(i)
				};
				if let Some(f) = freed_after.get_mut(last.max(i)) {
					*f = f.saturating_add(b);
				}
			}
		}
		peak = peak.max(live);
		live = live.saturating_sub(freed_after.get(i).copied().unwrap_or(0));
	}
	Ok(peak)
}

/// The bytes an optimized plan holds in its constants, measured: `Const` nodes (plain tensors,
/// or tract's packed weights, whose storage reports the size of its pointers only: their
/// buffers are measured here) and the packed weights tract bakes into its matrix multiplies
/// (`OptMatMul`, which also carries convolutions), in the plan and in the bodies of its scans
/// (tract runs `LSTM`, `GRU` and `RNN` as scans whose bodies hold their weights). Other ops
/// may keep small constants (pad values, scalars) that are not measured; the charge covers them
/// through the constant bound.
/// Buffers shared between holders are counted once per holder (an over-estimate).
pub(super) fn held_bytes(m: &tp::TypedModel, syms: &tp::SymbolValues) -> u64 {
	use tract_onnx::tract_core::{
		ops::{
			matmul::optimized::{MatMulOperand, OptMatMul, ProtoFusedSpec},
			scan::OptScan,
		},
		tract_linalg::mmm::{EagerPackedInput, MMMInputValue, PackedMatrixStorage},
	};
	let dim_bytes = |d: tp::TDim| d.eval_to_i64(syms).ok().and_then(|v| u64::try_from(v).ok());
	let packed = |v: &dyn MMMInputValue| match v.downcast_ref::<EagerPackedInput>() {
		Some(e) => e.packed.len() as u64,
		None => dim_bytes(v.exotic_fact().mem_size()).unwrap_or(u64::MAX),
	};
	let mut held: u64 = 0;
	for node in m.nodes() {
		let Some(c) = node.op_as::<Const>() else {
			if let Some(scan) = node.op_as::<OptScan>() {
				held = held.saturating_add(held_bytes(scan.plan.model(), syms));
			}
			if let Some(mm) = node.op_as::<OptMatMul>() {
				for op in &mm.micro_ops {
					if let ProtoFusedSpec::AddMatMul { a, b, .. } = op {
						for operand in [a, b] {
							if let MatMulOperand::Const(v) = operand {
								held = held.saturating_add(packed(&**v));
							}
						}
					}
				}
			}
			continue;
		};
		let t = c.val();
		let mut b = if let Some(p) = t.storage_as::<PackedMatrixStorage>() {
			p.values().iter().map(|v| packed(&**v)).fold(0u64, u64::saturating_add)
		} else {
			(t.len() as u64).saturating_mul(t.datum_type().size_of() as u64)
		};
		if let Some(out) = node.outputs.first() {
			b = b.max(dim_bytes(out.fact.mem_size()).unwrap_or(0));
		}
		held = held.saturating_add(b);
	}
	held
}

/// Rows a matrix kernel may pad the M or N axis of an operand it packs to: the widest panel of
/// tract's kernels (AVX-512 `128x1`; AVX2/FMA at most 64, ARM less).
const PANEL: u128 = 128;
/// What a kernel may pad the K axis of a packed operand to (its `k_alignment`, at most 8).
const K_ALIGN: u128 = 8;

/// A deterministic bound of the bytes tract's packing adds to the constants the plan holds,
/// computed on the decluttered graph (the same on every node): for each constant operand of a
/// matrix product (`EinSum`: `MatMul`, `Gemm`, the integer and quantized products) or a
/// convolution kernel (`Conv`, `Deconv`; per group, depthwise ones are not packed), its packed
/// size with its M/N axes rounded up to [`PANEL`], its K axes to [`K_ALIGN`] and f16 widened to
/// f32, less its plain size; scan bodies (`LSTM`, `GRU`, `RNN`) included. The constant bound
/// counts every constant once as a plain tensor; this is the padding on top of it (a [2^21, 2]
/// f32 weight: 16 MiB plain, 1 GiB here, 128 MiB measured on AVX-512).
pub(super) fn packing_bytes(m: &tp::TypedModel, syms: &tp::SymbolValues) -> tp::TractResult<u128> {
	use tract_onnx::tract_core::ops::{
		cnn::{Conv, Deconv},
		einsum::EinSum,
		scan::Scan,
	};
	let dims = |f: &tp::TypedFact| -> Option<Vec<u128>> {
		f.shape
			.dims()
			.iter()
			.map(|d| d.eval_to_i64(syms).ok().and_then(|v| u128::try_from(v).ok()))
			.collect()
	};
	let elem = |f: &tp::TypedFact| -> u128 {
		if f.datum_type == tp::DatumType::F16 {
			4
		} else {
			f.datum_type.size_of() as u128
		}
	};
	let round = |v: u128, to: u128| v.div_ceil(to).saturating_mul(to);
	let konst = |o: &tp::OutletId| m.node(o.node).op_is::<Const>();
	let mut extra: u128 = 0;
	for node in m.nodes() {
		if let Some(scan) = node.op_as::<Scan>() {
			extra = extra.saturating_add(packing_bytes(&scan.body, syms)?);
			continue;
		}
		let mut add = |fact: &tp::TypedFact, packed: u128| {
			let size = fact.datum_type.size_of() as u128;
			let plain = dims(fact)
				.map(|d| d.iter().fold(size, |a, v| a.saturating_mul(*v)))
				.unwrap_or(u128::MAX);
			extra = extra.saturating_add(packed.saturating_sub(plain));
		};
		if let Some(op) = node.op_as::<EinSum>() {
			if node.inputs.len() < 2 {
				continue;
			}
			for slot in 0..2usize {
				let Some(outlet) = node.inputs.get(slot) else { continue };
				if !konst(outlet) {
					continue;
				}
				let fact = m.outlet_fact(*outlet)?;
				let Some(d) = dims(fact) else {
					add(fact, u128::MAX);
					continue;
				};
				let other = 1 - slot;
				let (mut batch, mut k, mut mn) = (1u128, 1u128, 1u128);
				for axis in op.axes.iter_all_axes() {
					let Some(here) = axis.inputs.get(slot) else { continue };
					let size = here
						.iter()
						.map(|p| d.get(*p).copied().unwrap_or(1))
						.fold(1u128, u128::saturating_mul);
					let in_other = axis.inputs.get(other).is_some_and(|v| !v.is_empty());
					let in_out = axis.outputs.first().is_some_and(|v| !v.is_empty());
					match (in_other, in_out) {
						(true, true) => batch = batch.saturating_mul(size),
						(true, false) | (false, false) => k = k.saturating_mul(size),
						(false, true) => mn = mn.saturating_mul(size),
					}
				}
				let packed = batch
					.saturating_mul(round(mn, PANEL))
					.saturating_mul(round(k, K_ALIGN))
					.saturating_mul(elem(fact));
				add(fact, packed);
			}
			continue;
		}
		let (group, co, ci) = if let Some(c) = node.op_as::<Conv>() {
			(c.group, c.pool_spec.output_channels, c.pool_spec.input_channels)
		} else if let Some(d) = node.op_as::<Deconv>() {
			(d.group, d.pool_spec.output_channels, d.pool_spec.input_channels)
		} else {
			continue;
		};
		let Some(outlet) = node.inputs.get(1).filter(|o| konst(o)) else { continue };
		let fact = m.outlet_fact(*outlet)?;
		if group > 1 && group == co && group == ci {
			continue;
		}
		let Some(d) = dims(fact) else {
			add(fact, u128::MAX);
			continue;
		};
		let (group, co) = (group.max(1) as u128, co.max(1) as u128);
		let k = d.iter().fold(1u128, |a, v| a.saturating_mul(*v)) / co;
		let packed = group
			.saturating_mul(round(co.div_ceil(group), PANEL))
			.saturating_mul(round(k, K_ALIGN))
			.saturating_mul(elem(fact));
		add(fact, packed);
	}
	Ok(extra)
}
