//! Signing types for mock runtimes with `u64` accounts.
//!
//! The pallets' off-chain duties sign with real secp256k1 keys from the keystore; a mock
//! runtime's accounts are small integers. [`TestSigner`] wraps a real key and maps it to a
//! `u64` account (the first 8 bytes of its [`crate::executor_account`]), so a duty's
//! transactions can be built, signed and decoded by a test exactly as on the real runtime.

use codec::{Decode, DecodeWithMemTracking, Encode};
use frame_system::offchain::AppCrypto;
use scale_info::TypeInfo;
use sp_core::ecdsa;
use sp_runtime::traits::{IdentifyAccount, Lazy, Verify};

/// A secp256k1 public key whose account is a `u64`.
#[derive(
	Clone, PartialEq, Eq, PartialOrd, Ord, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo,
)]
pub struct TestSigner(pub ecdsa::Public);

/// The `u64` account of an executor key in the mocks.
pub fn account_of(key: &ecdsa::Public) -> u64 {
	let full = crate::executor_account(key);
	let bytes: &[u8] = full.as_ref();
	let mut first = [0u8; 8];
	first.copy_from_slice(bytes.get(..8).unwrap_or(&[0u8; 8]));
	u64::from_le_bytes(first)
}

impl IdentifyAccount for TestSigner {
	type AccountId = u64;
	fn into_account(self) -> u64 {
		account_of(&self.0)
	}
}

impl From<ecdsa::Public> for TestSigner {
	fn from(k: ecdsa::Public) -> Self {
		Self(k)
	}
}

impl From<TestSigner> for ecdsa::Public {
	fn from(s: TestSigner) -> Self {
		s.0
	}
}

/// A secp256k1 signature of a [`TestSigner`].
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct TestSignature(pub ecdsa::Signature);

impl From<ecdsa::Signature> for TestSignature {
	fn from(s: ecdsa::Signature) -> Self {
		Self(s)
	}
}

impl From<TestSignature> for ecdsa::Signature {
	fn from(s: TestSignature) -> Self {
		s.0
	}
}

impl Verify for TestSignature {
	type Signer = TestSigner;
	fn verify<L: Lazy<[u8]>>(&self, mut msg: L, signer: &u64) -> bool {
		self.0.recover(msg.get()).is_some_and(|k| account_of(&k) == *signer)
	}
}

/// Executor signatures for mocks whose executor accounts are plain numbers: a signature by
/// `signer` over `message` is [`mock_sign`]`(signer, message)`, which stands for what only the
/// holder of the key could make.
pub struct MockExecutorSignatures;

impl crate::ExecutorSignatureVerifier<u64> for MockExecutorSignatures {
	fn verify(signer: &u64, message: &[u8; 32], signature: &crate::ExecutorSignature) -> bool {
		*signature == mock_sign(*signer, message)
	}
}

/// The signature of [`MockExecutorSignatures`]: `signer` (8 bytes, little endian), `message`,
/// zeros.
pub fn mock_sign(signer: u64, message: &[u8; 32]) -> crate::ExecutorSignature {
	let mut s = [0u8; 65];
	for (to, from) in s.iter_mut().zip(signer.to_le_bytes().iter().chain(message.iter())) {
		*to = *from;
	}
	s
}

/// [`crate::ExecutorAuthId`] for mocks: the same `vexe` keys, [`TestSigner`] accounts.
pub struct TestExecutorId;

impl AppCrypto<TestSigner, TestSignature> for TestExecutorId {
	type RuntimeAppPublic = crate::executor_app::Public;
	type GenericPublic = ecdsa::Public;
	type GenericSignature = ecdsa::Signature;
}

/// The extrinsic of the mocks: what a worker signed, decodable by a test.
#[derive(Clone, PartialEq, Debug, Encode, Decode)]
pub struct TestXt<Call> {
	/// The signing account.
	pub signer: u64,
	/// The nonce the worker used.
	pub nonce: u64,
	/// The call.
	pub call: Call,
	/// The signer's signature over `(call, nonce)`.
	pub signature: TestSignature,
}

impl<Call> sp_runtime::traits::ExtrinsicLike for TestXt<Call> {
	fn is_bare(&self) -> bool {
		false
	}
}

impl<Call: Encode> TestXt<Call> {
	/// Sign `(call, nonce)` with `C` (a keystore key) as `public`.
	pub fn sign<C: AppCrypto<TestSigner, TestSignature>>(
		call: Call,
		public: TestSigner,
		nonce: u64,
	) -> Option<Self> {
		let signature = C::sign(&(&call, nonce).encode(), public.clone())?;
		Some(Self { signer: public.into_account(), nonce, call, signature })
	}

	/// Whether the signature is the signer's.
	pub fn is_signed_by_signer(&self) -> bool {
		self.signature.verify(&(&self.call, self.nonce).encode()[..], &self.signer)
	}
}

/// Implements FRAME's off-chain signing traits for a mock runtime `$test` whose accounts are
/// `u64` (and whose nonce converts into `u64`), with [`TestXt`] transactions.
#[macro_export]
macro_rules! impl_test_signing {
	($test:ty, $call:ty) => {
		impl frame_system::offchain::SigningTypes for $test {
			type Public = $crate::testing::TestSigner;
			type Signature = $crate::testing::TestSignature;
		}
		impl<LocalCall> frame_system::offchain::CreateTransactionBase<LocalCall> for $test
		where
			$call: From<LocalCall>,
		{
			type Extrinsic = $crate::testing::TestXt<$call>;
			type RuntimeCall = $call;
		}
		impl<LocalCall> frame_system::offchain::CreateSignedTransaction<LocalCall> for $test
		where
			$call: From<LocalCall>,
		{
			fn create_signed_transaction<
				C: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>,
			>(
				call: $call,
				public: Self::Public,
				_account: u64,
				nonce: <$test as frame_system::Config>::Nonce,
			) -> Option<Self::Extrinsic> {
				$crate::testing::TestXt::sign::<C>(call, public, u64::from(nonce))
			}
		}
	};
}

/// Offchain, transaction pool and keystore externalities for testing a duty: returns the
/// pool's state (to read submitted transactions) and the keystore (to add keys).
pub fn offchain_ext(
	ext: &mut sp_io::TestExternalities,
) -> (
	std::sync::Arc<parking_lot::RwLock<sp_core::offchain::testing::PoolState>>,
	std::sync::Arc<sp_keystore::testing::MemoryKeystore>,
	std::sync::Arc<parking_lot::RwLock<sp_core::offchain::testing::OffchainState>>,
) {
	use sp_core::offchain::{
		testing::{TestOffchainExt, TestTransactionPoolExt},
		OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
	};
	let (offchain, offchain_state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let keystore = std::sync::Arc::new(sp_keystore::testing::MemoryKeystore::new());
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(sp_keystore::KeystoreExt::new(keystore.clone()));
	(pool_state, keystore, offchain_state)
}

/// Add the executor key of dev seed `seed` (`"//Alice"`) to `keystore`; its public key.
pub fn add_executor_key(
	keystore: &sp_keystore::testing::MemoryKeystore,
	seed: &str,
) -> ecdsa::Public {
	sp_keystore::Keystore::ecdsa_generate_new(keystore, crate::EXECUTOR_KEY_TYPE, Some(seed))
		.unwrap_or_else(|e| panic!("keystore: {e}"))
}

/// The transactions in the test pool, decoded.
pub fn submitted<Call: Decode>(
	pool: &parking_lot::RwLock<sp_core::offchain::testing::PoolState>,
) -> std::vec::Vec<TestXt<Call>> {
	pool.read()
		.transactions
		.iter()
		.map(|tx| TestXt::<Call>::decode(&mut &tx[..]).unwrap_or_else(|e| panic!("decode: {e}")))
		.collect()
}

pub use registry::MockModelRegistry;

mod registry {
	//! A registry backed by a thread-local map, for the pallets' mocks.
	use crate::{traits::ModelRegistry, types::*};
	use codec::{Decode, Encode};
	use core::cell::RefCell;
	use sp_runtime::BoundedVec;
	use std::collections::BTreeMap;
	use verity_host::{HostError, Purpose};

	std::thread_local! {
		static MODELS: RefCell<BTreeMap<ModelId, Vec<u8>>> = const { RefCell::new(BTreeMap::new()) };
		static IN_BLOCK: RefCell<BTreeMap<ModelId, (InBlockFigures, Vec<u8>)>> = const { RefCell::new(BTreeMap::new()) };
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
					price_per_call: price,
					acceptance: AcceptanceRule::Exact,
					byte_size: 1,
					limits: RunLimits::generous(),
				},
			);
		}

		/// Fuel per FLOP the mock registry charges ([`Self::set_in_block`]).
		pub const FUEL_PER_FLOP: u64 = 20;
		/// Fuel per byte of model file the mock registry charges.
		pub const FUEL_PER_BYTE: u64 = 200;
		/// Fuel of a run before the model's work, in the mock registry.
		pub const BASE_FUEL: u64 = 50_000_000;

		/// Make a model runnable in a block with these ONNX `bytes` and FLOP estimate (its
		/// view must be inserted too), with fuel as a registry's formula gives:
		/// `BASE_FUEL + flops * FUEL_PER_FLOP + len * FUEL_PER_BYTE`.
		pub fn set_in_block(id: ModelId, bytes: Vec<u8>, flops: u64) {
			let fuel = Self::BASE_FUEL
				.saturating_add(flops.saturating_mul(Self::FUEL_PER_FLOP))
				.saturating_add((bytes.len() as u64).saturating_mul(Self::FUEL_PER_BYTE));
			let terms = verity_host::DeterministicTerms {
				max_constant_bytes: RunLimits::generous().max_constant_bytes,
				max_flops: flops,
				fuel,
				memory_bytes: 2 << 30,
			};
			Self::set_in_block_terms(id, bytes, terms);
		}

		/// Make a model runnable in a block with these ONNX `bytes` under these `terms`.
		pub fn set_in_block_terms(
			id: ModelId,
			bytes: Vec<u8>,
			terms: verity_host::DeterministicTerms,
		) {
			let figures = InBlockFigures { byte_size: bytes.len() as u64, chunks: 1, terms };
			IN_BLOCK.with(|m| m.borrow_mut().insert(id, (figures, bytes)));
		}

		/// The figures a model was made runnable in a block with.
		pub fn in_block(id: &ModelId) -> Option<InBlockFigures> {
			IN_BLOCK.with(|m| m.borrow().get(id).map(|(f, _)| *f))
		}

		/// Change a model's run limits (give the types it was inserted with).
		pub fn set_limits<A: Encode + Decode, B: Encode + Decode>(id: ModelId, limits: RunLimits) {
			MODELS.with(|m| {
				let mut m = m.borrow_mut();
				if let Some(bytes) = m.get_mut(&id) {
					if let Ok(mut v) = ModelView::<A, B>::decode(&mut &bytes[..]) {
						v.limits = limits;
						*bytes = v.encode();
					}
				}
			});
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
			IN_BLOCK.with(|m| m.borrow_mut().clear());
		}
	}

	impl<A: Decode, B: Decode> ModelRegistry<A, B> for MockModelRegistry {
		fn model(model: &ModelId) -> Option<ModelView<A, B>> {
			MODELS.with(|m| {
				m.borrow()
					.get(model)
					.and_then(|bytes| ModelView::<A, B>::decode(&mut &bytes[..]).ok())
			})
		}

		fn in_block_figures(model: &ModelId) -> Option<InBlockFigures> {
			let active = <Self as ModelRegistry<A, B>>::is_active(model);
			IN_BLOCK.with(|m| m.borrow().get(model).filter(|_| active).map(|(f, _)| *f))
		}

		fn in_block_bytes(model: &ModelId) -> Option<Vec<u8>> {
			IN_BLOCK.with(|m| m.borrow().get(model).map(|(_, b)| b.clone()))
		}

		/// Runs what the test put into the inference extension's model store, under the
		/// model's [`RunLimits`] as pallet-models does.
		fn run_offchain(
			model: &ModelId,
			input: &[u8],
			max_output: u32,
			purpose: Purpose,
		) -> Result<Vec<u8>, HostError> {
			let limits = MODELS.with(|m| {
				m.borrow().get(model).and_then(|bytes| {
					ModelView::<A, B>::decode(&mut &bytes[..]).ok().map(|v| v.limits)
				})
			});
			let limits = limits.ok_or(HostError::ModelNotFound)?;
			crate::run_within_limits(model, &limits, input, max_output, purpose)
		}
	}
}

/// The node's inference backend for a test: the engine with default limits over an empty model
/// store in `dir`, with the dev fault switch set to `faulty`. Register it on the test
/// externalities with `verity_host::InferenceExt::new`.
pub fn engine_backend(
	dir: &std::path::Path,
	faulty: bool,
) -> std::sync::Arc<verity_host::HostBackend> {
	use verity_engine::engine::{Engine, Limits};
	let store = verity_host::ModelStore::open(dir, 8 << 20)
		.unwrap_or_else(|e| panic!("model store in {}: {e}", dir.display()));
	std::sync::Arc::new(
		verity_host::HostBackend::new(std::sync::Arc::new(Engine::new(Limits::default())), store)
			.with_faulty_executor(faulty),
	)
}

std::thread_local! {
	static REVEALED: core::cell::RefCell<Option<sp_core::H256>> = const { core::cell::RefCell::new(None) };
}

/// Randomness for mock runtimes, standing in for BABE's `ParentBlockRandomness`: `None` (no
/// VRF output; the pallets fall back to the parent hash) until a test reveals a value with
/// [`TestRandomness::reveal`], then `blake2_256(subject ‖ value)`.
pub struct TestRandomness<T>(core::marker::PhantomData<T>);

impl<T> TestRandomness<T> {
	/// What the next reads return: as if the parent block's author revealed `value`.
	pub fn reveal(value: Option<sp_core::H256>) {
		REVEALED.with(|r| *r.borrow_mut() = value);
	}
}

impl<T: frame_system::Config<Hash = sp_core::H256>>
	frame_support::traits::Randomness<
		Option<sp_core::H256>,
		frame_system::pallet_prelude::BlockNumberFor<T>,
	> for TestRandomness<T>
{
	fn random(
		subject: &[u8],
	) -> (Option<sp_core::H256>, frame_system::pallet_prelude::BlockNumberFor<T>) {
		use sp_runtime::traits::{One, Saturating};
		let value = REVEALED
			.with(|r| *r.borrow())
			.map(|v| sp_core::H256(sp_io::hashing::blake2_256(&[subject, v.as_bytes()].concat())));
		(value, frame_system::Pallet::<T>::block_number().saturating_sub(One::one()))
	}
}
