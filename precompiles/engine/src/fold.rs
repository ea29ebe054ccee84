//! Bounds on the constants tract materializes while it types a model.
//!
//! tract evaluates a node as soon as all its inputs are known ("eager evaluation"), in three
//! places: during type analysis of the inference model (`InferenceOp::infer`), when the typed
//! model is wired (`TypedModel::wire_node`, for inputs of fewer than 16 elements, which is how
//! `ConstantOfShape` becomes a full tensor) and in decluttering (`PropConst`). Each of them
//! computes the value first and weighs its size afterwards, so a 9 KB model whose graph expands
//! a scalar into a 400 MB weight allocates it before any limit of the engine is checked.
//!
//! This module closes that gap before the typed model exists:
//! - [`bound_ops`] wraps every op of the inference model in [`Bounded`], which checks each output
//!   shape as soon as type inference knows it against `max_elements`, and lets tract evaluate a
//!   node only when the size of every output is known, tract would keep the result, and the
//!   values kept so far plus this one stay within `max_constant_bytes` (see [`Bounded::infer`]);
//!   before a node is translated to the typed model, its output shapes must be known and within
//!   `max_elements`, or its value must not be computable at that point.
//! - [`constant_bytes`] then sums, on the analysed inference model (before translation, so before
//!   anything large is folded), the bytes of every tensor that is a constant or is computable from
//!   constants, each counted once per consumer that is not itself constant (every consumer may
//!   hold its own folded or packed copy of it). Nothing here depends on the CPU: every node
//!   computes the same figure for a model, which the engine checks against `max_constant_bytes`.
//!
//! Decluttering folds are bounded too: every typed fact is within `max_elements` (checked by the
//! engine before decluttering), so a fold allocates at most one such tensor before tract weighs
//! it, and what it keeps replaces a tensor already counted in the constant bound.

use std::{
	collections::HashMap,
	sync::atomic::{AtomicU64, Ordering},
};
use tract_hir::internal::*;
use tract_onnx::tract_core::{
	ops::{dummy::Dummy, konst::Const},
	optim::CONST_FOLD_MEM_BUDGET,
};

/// Why the guard refused a model; carried inside tract's error and mapped by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FoldError {
	/// A tensor whose shape is known has more elements than allowed.
	TooLarge { what: String, elements: u128, max: u64 },
	/// A value could be folded but its shape is unknown, so its size cannot be bounded.
	Unbounded { what: String },
	/// The values folded during analysis would exceed the constant budget.
	TooManyConstants { bytes: u128, max: u64 },
}

impl std::fmt::Display for FoldError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			FoldError::TooLarge { what, elements, max } => {
				write!(f, "{what} has {elements} elements, the limit is {max}")
			},
			FoldError::Unbounded { what } => {
				write!(f, "{what} is computable from constants but its shape is unknown")
			},
			FoldError::TooManyConstants { bytes, max } => {
				write!(f, "folded constants would hold {bytes} bytes, the limit is {max}")
			},
		}
	}
}

impl std::error::Error for FoldError {}

/// An inference op whose eager evaluation is bounded. Every `&dyn Op` view (`as_op`, downcasts
/// by tract) is the wrapped op itself; only inference and translation go through the wrapper.
#[derive(Debug, Clone)]
pub(crate) struct Bounded {
	inner: Box<dyn InferenceOp>,
	max_elements: u64,
	max_constant_bytes: u64,
	name: String,
	/// Bytes of the values this node's last evaluation produced (counted in `folded`).
	kept: u64,
	/// Bytes of the values all nodes of the model hold from evaluation during analysis.
	folded: Arc<AtomicU64>,
}

impl PartialEq for Bounded {
	fn eq(&self, other: &Self) -> bool {
		self.max_elements == other.max_elements && self.inner.as_op() == other.inner.as_op()
	}
}

impl Eq for Bounded {}

/// Element count of a fact whose shape is fully known as integers.
fn known_volume(f: &InferenceFact) -> Option<u128> {
	let dims = f.shape.concretize()?;
	let mut n: u128 = 1;
	for d in dims.iter() {
		n = n.saturating_mul(u128::try_from(d.to_i64().ok()?).ok()?);
	}
	Some(n)
}

/// Bytes of one element, 8 when the type is not known yet (the widest numeric type).
fn elem_bytes(f: &InferenceFact) -> u128 {
	f.datum_type.concretize().map_or(8, |dt| dt.size_of() as u128)
}

impl Bounded {
	fn check(&self, ix: usize, f: &InferenceFact) -> TractResult<Option<u128>> {
		let Some(n) = known_volume(f) else { return Ok(None) };
		if n > u128::from(self.max_elements) {
			return Err(FoldError::TooLarge {
				what: format!("tensor '{}' output {ix}", self.name),
				elements: n,
				max: self.max_elements,
			}
			.into());
		}
		Ok(Some(n.saturating_mul(elem_bytes(f))))
	}
}

impl Op for Bounded {
	fn name(&self) -> StaticName {
		self.inner.name()
	}

	fn info(&self) -> TractResult<Vec<String>> {
		self.inner.info()
	}

	fn validation(&self) -> Validation {
		self.inner.validation()
	}

	fn mints_runtime_symbols(&self) -> bool {
		self.inner.mints_runtime_symbols()
	}

	fn required_bound_symbols(&self, inputs: &[&TypedFact]) -> TVec<Symbol> {
		self.inner.required_bound_symbols(inputs)
	}

	fn as_typed(&self) -> Option<&dyn TypedOp> {
		None
	}
}

impl EvalOp for Bounded {
	fn eval(&self, ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
		self.inner.eval(ctx, inputs)
	}

	fn forwards_input(&self) -> Option<usize> {
		self.inner.forwards_input()
	}

	fn eval_out_of_plan(&self, inputs: TVec<TValue>) -> TractResult<Option<TVec<TValue>>> {
		self.inner.eval_out_of_plan(inputs)
	}

	fn state(&self, ctx: &EvalContext) -> TractResult<Option<Box<dyn OpState>>> {
		self.inner.state(ctx)
	}

	fn drop_session(&self, session: SessionId, node_id: usize) {
		self.inner.drop_session(session, node_id)
	}
}

impl InferenceOp for Bounded {
	/// Infer facts with the wrapped op's rules only, check the output shapes they give, and only
	/// then let tract evaluate the node, if every input is known, every output size is known,
	/// and the result is one tract keeps (`output <= max(inputs, CONST_FOLD_MEM_BUDGET)`; tract
	/// computes larger ones and drops them, so skipping those changes nothing but the
	/// allocation).
	fn infer(
		&mut self,
		inputs: TVec<&InferenceFact>,
		outputs: TVec<&InferenceFact>,
		observed: TVec<&InferenceFact>,
	) -> TractResult<(TVec<InferenceFact>, TVec<InferenceFact>, TVec<InferenceFact>)> {
		let facts = self.inner.infer_facts(inputs.clone(), outputs.clone(), observed.clone())?;
		let mut out_bytes: u128 = 0;
		let mut sizes_known = true;
		for (ix, f) in facts.1.iter().enumerate() {
			match self.check(ix, f)? {
				Some(b) => out_bytes = out_bytes.saturating_add(b),
				None => sizes_known = false,
			}
		}
		let mut in_bytes: u128 = 0;
		for f in facts.0.iter() {
			let Some(v) = f.value.concretize() else { return Ok(facts) };
			in_bytes = in_bytes
				.saturating_add((v.len() as u128).saturating_mul(v.datum_type().size_of() as u128));
		}
		if facts.0.is_empty()
			|| !sizes_known
			|| out_bytes > in_bytes.max(u128::from(CONST_FOLD_MEM_BUDGET))
		{
			return Ok(facts);
		}
		// Every value tract keeps from here on lives in the model until translation: their sum
		// is a part of the constant bound, checked here before it is allocated.
		let others = u128::from(self.folded.load(Ordering::SeqCst).saturating_sub(self.kept));
		let after = others.saturating_add(out_bytes);
		if after > u128::from(self.max_constant_bytes) {
			return Err(
				FoldError::TooManyConstants { bytes: after, max: self.max_constant_bytes }.into()
			);
		}
		let r = self.inner.infer(inputs, outputs, observed)?;
		let kept: u128 =
			r.1.iter()
				.filter_map(|f| f.value.concretize())
				.map(|v| (v.len() as u128).saturating_mul(v.datum_type().size_of() as u128))
				.fold(0, u128::saturating_add);
		let kept = u64::try_from(kept).unwrap_or(u64::MAX);
		let (old, new) = (self.kept, kept);
		self.kept = kept;
		let _ = self.folded.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
			Some(t.saturating_sub(old).saturating_add(new))
		});
		Ok(r)
	}

	fn infer_facts(
		&mut self,
		inputs: TVec<&InferenceFact>,
		outputs: TVec<&InferenceFact>,
		observed: TVec<&InferenceFact>,
	) -> TractResult<(TVec<InferenceFact>, TVec<InferenceFact>, TVec<InferenceFact>)> {
		self.inner.infer_facts(inputs, outputs, observed)
	}

	fn observe_outlets(
		&self,
		model: &InferenceModel,
		node: &InferenceNode,
	) -> TractResult<Vec<OutletId>> {
		self.inner.observe_outlets(model, node)
	}

	fn incorporate(
		&self,
		model: &InferenceModel,
		node: &InferenceNode,
	) -> TractResult<Option<InferenceModelPatch>> {
		self.inner.incorporate(model, node)
	}

	fn nboutputs(&self) -> TractResult<usize> {
		self.inner.nboutputs()
	}

	fn as_op(&self) -> &dyn Op {
		self.inner.as_op()
	}

	fn as_op_mut(&mut self) -> &mut dyn Op {
		self.inner.as_op_mut()
	}

	/// Translation may evaluate the node (tract folds ops over tiny constant inputs as it wires
	/// them): its output shapes must be known and within the limit first.
	fn to_typed(
		&self,
		source: &InferenceModel,
		node: &InferenceNode,
		target: &mut TypedModel,
		mapping: &HashMap<OutletId, OutletId>,
	) -> TractResult<TVec<OutletId>> {
		let mut sizes_known = true;
		for (ix, f) in source.node_output_facts(node.id)?.iter().enumerate() {
			sizes_known &= self.check(ix, f)?.is_some();
		}
		if !sizes_known
			&& !node.inputs.is_empty()
			&& source.node_input_facts(node.id)?.iter().all(|f| f.value.is_concrete())
		{
			return Err(FoldError::Unbounded { what: format!("tensor '{}'", node.name) }.into());
		}
		self.inner.to_typed(source, node, target, mapping)
	}
}

/// Wrap every op of `model` but its sources and constants in [`Bounded`].
pub(crate) fn bound_ops(model: &mut InferenceModel, max_elements: u64, max_constant_bytes: u64) {
	let folded = Arc::new(AtomicU64::new(0));
	for node in model.nodes.iter_mut() {
		if node.op_is::<tract_hir::ops::source::Source>() || node.op_is::<Const>() {
			continue;
		}
		let inner = std::mem::replace(&mut node.op, Box::new(Dummy::new()));
		node.op = Box::new(Bounded {
			inner,
			max_elements,
			max_constant_bytes,
			name: node.name.clone(),
			kept: 0,
			folded: folded.clone(),
		});
	}
}

/// Bytes of every tensor of the analysed `model` that is a constant or computable from
/// constants, each counted once per consumer that is not itself constant (at least once).
/// Such a tensor whose shape is not known is an error: it cannot be bounded.
pub(crate) fn constant_bytes(model: &InferenceModel) -> TractResult<u128> {
	let order = model.eval_order()?;
	// None: not needed for the outputs; Some(true): a constant or computable from constants.
	let mut is_const: Vec<Option<bool>> = vec![None; model.nodes.len()];
	for &id in &order {
		let node = model.node(id);
		let konst = node.op_is::<Const>()
			|| (!node.inputs.is_empty()
				&& !node.op_is::<tract_hir::ops::source::Source>()
				&& node.op.state(&EvalContext::out_of_plan())?.is_none()
				&& node
					.inputs
					.iter()
					.all(|i| is_const.get(i.node).copied().flatten() == Some(true)));
		if let Some(c) = is_const.get_mut(id) {
			*c = Some(konst);
		}
	}
	let outputs = model.output_outlets()?;
	let mut total: u128 = 0;
	for &id in &order {
		if is_const.get(id).copied().flatten() != Some(true) {
			continue;
		}
		let node = model.node(id);
		for (slot, out) in node.outputs.iter().enumerate() {
			let n = known_volume(&out.fact).ok_or_else(|| FoldError::Unbounded {
				what: format!("tensor '{}' output {slot}", node.name),
			})?;
			let bytes = n.saturating_mul(elem_bytes(&out.fact));
			let consumers = out
				.successors
				.iter()
				.filter(|s| is_const.get(s.node).copied().flatten() == Some(false))
				.count() + usize::from(outputs.contains(&OutletId::new(id, slot)));
			total = total.saturating_add(bytes.saturating_mul(consumers.max(1) as u128));
		}
	}
	Ok(total)
}
