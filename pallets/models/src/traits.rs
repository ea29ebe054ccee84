//! The interface other pallets use to look models up (`ModelRegistry`), with a no-op `()` impl
//! and an in-memory [`mock::MockModelRegistry`] for other pallets' unit tests.

use crate::types::{AcceptanceRule, ModelId, ModelView};

/// Read access to the model registry.
pub trait ModelRegistry<AccountId, Balance> {
	/// What callers need to check an input and judge an output; `None` for an unknown model.
	fn model(model: &ModelId) -> Option<ModelView<AccountId, Balance>>;

	/// Whether the model accepts new requests (registered, certified, not retired).
	fn is_active(model: &ModelId) -> bool {
		Self::model(model).map(|m| m.active).unwrap_or(false)
	}

	/// The account that receives the royalty.
	fn owner(model: &ModelId) -> Option<AccountId> {
		Self::model(model).map(|m| m.owner)
	}

	/// Royalty per call.
	fn price(model: &ModelId) -> Option<Balance> {
		Self::model(model).map(|m| m.price_per_call)
	}

	/// How outputs of the model are compared.
	fn acceptance_rule(model: &ModelId) -> Option<AcceptanceRule> {
		Self::model(model).map(|m| m.acceptance)
	}
}

/// No models at all.
impl<AccountId, Balance> ModelRegistry<AccountId, Balance> for () {
	fn model(_: &ModelId) -> Option<ModelView<AccountId, Balance>> {
		None
	}
}

#[cfg(feature = "std")]
pub mod mock {
	//! A registry backed by a thread-local map, for other pallets' mocks.
	use super::*;
	use codec::{Decode, Encode};
	use core::cell::RefCell;
	use frame_support::BoundedVec;
	use std::collections::BTreeMap;

	std::thread_local! {
		static MODELS: RefCell<BTreeMap<ModelId, Vec<u8>>> = RefCell::new(BTreeMap::new());
	}

	/// In-memory `ModelRegistry`. Entries are stored SCALE-encoded so one registry serves any
	/// `AccountId`/`Balance` types; each test thread has its own.
	pub struct MockModelRegistry;

	impl MockModelRegistry {
		/// Insert or replace a model.
		pub fn insert<A: Encode, B: Encode>(id: ModelId, view: ModelView<A, B>) {
			MODELS.with(|m| m.borrow_mut().insert(id, view.encode()));
		}

		/// A simple active `Exact` model with one f32 `[batch, 4]` input and output.
		pub fn insert_simple<A: Encode, B: Encode>(id: ModelId, owner: A, price: B) {
			use crate::types::{DType, TensorSpec};
			let t = TensorSpec {
				dtype: DType::F32,
				dims: BoundedVec::truncate_from(vec![None, Some(4)]),
			};
			Self::insert(
				id,
				ModelView {
					owner,
					active: true,
					inputs: BoundedVec::truncate_from(vec![t.clone()]),
					outputs: BoundedVec::truncate_from(vec![t]),
					opset: 17,
					engine_version: 1,
					price_per_call: price,
					acceptance: AcceptanceRule::Exact,
					byte_size: 1,
				},
			);
		}

		/// Mark a model active or not (give the types it was inserted with).
		pub fn set_active<A: Encode + Decode, B: Encode + Decode>(id: ModelId, active: bool) {
			MODELS.with(|m| {
				let mut m = m.borrow_mut();
				if let Some(bytes) = m.get_mut(&id) {
					if let Ok(mut v) = ModelView::<A, B>::decode(&mut &bytes[..]) {
						v.active = active;
						*bytes = v.encode();
					}
				}
			});
		}

		/// Remove a model.
		pub fn remove(id: &ModelId) {
			MODELS.with(|m| m.borrow_mut().remove(id));
		}

		/// Forget every model.
		pub fn clear() {
			MODELS.with(|m| m.borrow_mut().clear());
		}
	}

	impl<A: Decode, B: Decode> ModelRegistry<A, B> for MockModelRegistry {
		fn model(model: &ModelId) -> Option<ModelView<A, B>> {
			MODELS.with(|m| {
				m.borrow().get(model).and_then(|bytes| ModelView::<A, B>::decode(&mut &bytes[..]).ok())
			})
		}
	}
}
