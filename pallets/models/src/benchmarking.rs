//! Benchmarks of pallet-models (v2). Each call is measured at its worst case.

use super::*;
use crate::pallet::{Chunks, Models as ModelsStore};
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		EnsureOrigin, Get, Hooks,
	},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_core::H256;
use sp_runtime::traits::Saturating;

fn fund<T: Config>(who: &T::AccountId) {
	let amount = T::DepositBase::get()
		.saturating_mul(4u32.into())
		.saturating_add(Pallet::<T>::byte_deposit(
			(T::MaxModelSize::get() as u64)
				.saturating_add(T::MaxReferenceSize::get() as u64)
				.saturating_mul(2)
				.saturating_add(10_000),
		))
		.saturating_add(Pallet::<T>::constants_deposit(T::MaxConstantBytes::get()))
		.saturating_add(T::Currency::minimum_balance());
	T::Currency::set_balance(who, amount);
}

/// A canonical list of `MAX_TENSORS` f32 `[n, 4]` tensors, with `n` as large as fits in
/// `bytes` (validation decodes and checks every element of the reference vectors).
fn reference_list(bytes: u32) -> Vec<u8> {
	// Per tensor: dtype 1 + shape 9 + data length prefix (up to 4) + 16 bytes per row.
	let per_tensor = bytes.saturating_sub(1) / MAX_TENSORS;
	let rows = per_tensor.saturating_sub(14) / 16;
	let values = vec![0.5f32; (rows as usize).saturating_mul(4)];
	let t = verity_engine::Tensor::from_f32(vec![rows, 4], &values).expect("bounded tensor");
	verity_engine::encode_tensors(&vec![t; MAX_TENSORS as usize])
}

fn bench_spec<T: Config>(size: u64, availability: Availability, r: u32) -> ModelSpecOf<T> {
	let t = TensorSpec { dtype: DType::F32, dims: BoundedVec::truncate_from(vec![None, Some(4)]) };
	ModelSpec {
		name: BoundedVec::truncate_from(vec![b'm'; MAX_NAME_LEN as usize]),
		inputs: BoundedVec::truncate_from(vec![t.clone(); MAX_TENSORS as usize]),
		outputs: BoundedVec::truncate_from(vec![t; MAX_TENSORS as usize]),
		opset: 17,
		engine_version: T::EngineVersion::get(),
		price_per_call: 1u32.into(),
		// The costliest rule to judge an attestation with.
		acceptance: AcceptanceRule::Tolerance { abs: 1, rel: 1 },
		execution: ExecutionClass::Native,
		byte_size: size,
		// The largest declaration: the largest deposit (the weight does not depend on it).
		max_constant_bytes: T::MaxConstantBytes::get(),
		availability,
		// `r` bytes of reference vectors in all; the output at least as large as the input,
		// so that attestations are judged at full size.
		reference_input: BoundedVec::truncate_from(reference_list(r / 2)),
		reference_output: BoundedVec::truncate_from(reference_list(
			r.saturating_sub(r / 2).max(T::MaxReferenceSize::get()),
		)),
	}
}

fn bytes_of(len: u32) -> Vec<u8> {
	(0..len).map(|i| (i % 251) as u8).collect()
}

fn hash(b: &[u8]) -> H256 {
	H256(sp_io::hashing::blake2_256(b))
}

/// Registers an on-chain model with `n` full chunks stored and verified (storage written
/// directly: the content is irrelevant to deletion cost).
fn model_with_chunks<T: Config>(owner: &T::AccountId, n: u32) -> H256 {
	model_with_chunks_as::<T>(owner, n, H256([n as u8; 32]))
}

/// [`model_with_chunks`] under id `id`.
fn model_with_chunks_as<T: Config>(owner: &T::AccountId, n: u32, id: H256) -> H256 {
	let chunk = T::ChunkSize::get();
	let size = (n.max(1) as u64).saturating_mul(chunk as u64);
	assert!(Pallet::<T>::register_model(
		RawOrigin::Signed(owner.clone()).into(),
		id,
		bench_spec::<T>(size, Availability::OnChain, T::MaxReferenceSize::get().saturating_mul(2)),
	)
	.is_ok());
	let count = n.max(1);
	for i in 0..count {
		Chunks::<T>::insert(id, i, BoundedVec::truncate_from(vec![1u8; chunk as usize]));
	}
	ModelsStore::<T>::mutate(id, |m| {
		if let Some(m) = m {
			m.chunks_received = count;
			m.bytes_verified = true;
		}
	});
	id
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_model(r: Linear<0, { T::MaxReferenceSize::get().saturating_mul(2) }>) {
		let caller: T::AccountId = whitelisted_caller();
		fund::<T>(&caller);
		let size = T::MaxModelSize::get() as u64;
		let spec = bench_spec::<T>(size, Availability::OnChain, r);
		let id = H256([1u8; 32]);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), id, spec);

		assert!(ModelsStore::<T>::contains_key(id));
	}

	#[benchmark]
	fn upload_chunk(c: Linear<1, { T::ChunkSize::get() }>) {
		let caller: T::AccountId = whitelisted_caller();
		fund::<T>(&caller);
		let chunk = T::ChunkSize::get();
		// Two chunks: the full first one stays missing, so uploading the second (of `c` bytes)
		// does not complete the model.
		let size = (chunk as u64).saturating_add(c as u64);
		let id = H256([2u8; 32]);
		assert!(Pallet::<T>::register_model(
			RawOrigin::Signed(caller.clone()).into(),
			id,
			bench_spec::<T>(size, Availability::OnChain, 0),
		)
		.is_ok());
		let bytes: ChunkOf<T> = BoundedVec::truncate_from(vec![3u8; c as usize]);

		#[extrinsic_call]
		upload_chunk(RawOrigin::Signed(caller.clone()), id, 1, bytes);

		assert!(Chunks::<T>::contains_key(id, 1));
	}

	#[benchmark]
	fn upload_chunk_and_verify(s: Linear<1, { T::MaxModelSize::get() }>) {
		let caller: T::AccountId = whitelisted_caller();
		fund::<T>(&caller);
		let bytes = bytes_of(s);
		let id = hash(&bytes);
		assert!(Pallet::<T>::register_model(
			RawOrigin::Signed(caller.clone()).into(),
			id,
			bench_spec::<T>(s as u64, Availability::OnChain, 0),
		)
		.is_ok());
		let chunks: Vec<Vec<u8>> =
			bytes.chunks(T::ChunkSize::get() as usize).map(|c| c.to_vec()).collect();
		let last = (chunks.len() as u32).saturating_sub(1);
		for (i, c) in chunks.iter().enumerate().take(last as usize) {
			assert!(Pallet::<T>::upload_chunk(
				RawOrigin::Signed(caller.clone()).into(),
				id,
				i as u32,
				BoundedVec::truncate_from(c.clone())
			)
			.is_ok());
		}
		let final_chunk: ChunkOf<T> =
			BoundedVec::truncate_from(chunks.last().cloned().unwrap_or_default());

		#[extrinsic_call]
		upload_chunk(RawOrigin::Signed(caller.clone()), id, last, final_chunk);

		assert!(ModelsStore::<T>::get(id).is_some_and(|m| m.bytes_verified));
	}

	#[benchmark]
	fn attest() -> Result<(), BenchmarkError> {
		let owner: T::AccountId = account("owner", 0, 0);
		fund::<T>(&owner);
		let id = model_with_chunks::<T>(&owner, 1);
		let origin =
			T::AttestOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let attester =
			T::AttestOrigin::try_origin(origin.clone()).map_err(|_| BenchmarkError::Weightless)?;
		// All but one attestation present: this one activates the model.
		let others: Vec<T::AccountId> = (0..T::RequiredAttestations::get().saturating_sub(1))
			.map(|i| account("attester", i, 0))
			.filter(|a| *a != attester)
			.collect();
		// Earlier attestations recorded the figures this one is compared with.
		let bounds = GraphBounds { constant_bytes: 1, flops: 0 };
		if !others.is_empty() {
			ModelsStore::<T>::mutate(id, |m| {
				if let Some(m) = m {
					m.bounds = Some(bounds);
				}
			});
		}
		Attestations::<T>::insert(id, BoundedVec::truncate_from(others));
		let output = BoundedVec::truncate_from(reference_list(T::MaxReferenceSize::get()));

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id, Attestation::Ran { output, bounds });

		assert!(ModelsStore::<T>::get(id).is_some_and(|m| m.status != ModelStatus::Pending));
		Ok(())
	}

	#[benchmark]
	fn attest_and_reject(
		n: Linear<1, { Pallet::<T>::max_chunks() }>,
	) -> Result<(), BenchmarkError> {
		let owner: T::AccountId = account("owner", 0, 0);
		fund::<T>(&owner);
		let id = model_with_chunks::<T>(&owner, n);
		let origin =
			T::AttestOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		attest(
			origin as T::RuntimeOrigin,
			id,
			Attestation::Ran {
				output: BoundedVec::truncate_from(vec![9u8; 3]),
				bounds: GraphBounds { constant_bytes: 1, flops: 0 },
			},
		);

		assert!(ModelsStore::<T>::get(id)
			.is_some_and(|m| matches!(m.status, ModelStatus::Rejected { .. })));
		Ok(())
	}

	#[benchmark]
	fn retire(n: Linear<1, { Pallet::<T>::max_chunks() }>) {
		let owner: T::AccountId = account("owner", 0, 0);
		fund::<T>(&owner);
		let id = model_with_chunks::<T>(&owner, n);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), id);

		assert_eq!(Chunks::<T>::iter_prefix(id).count(), 0);
	}

	#[benchmark]
	fn reap() {
		let owner: T::AccountId = account("owner", 0, 0);
		fund::<T>(&owner);
		let id = model_with_chunks::<T>(&owner, 1);
		assert!(Pallet::<T>::retire(RawOrigin::Signed(owner.clone()).into(), id).is_ok());
		let now = frame_system::Pallet::<T>::block_number();
		frame_system::Pallet::<T>::set_block_number(now.saturating_add(T::ReapDelay::get()));
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);

		assert!(!ModelsStore::<T>::contains_key(id));
	}

	/// The expiry hook at its worst: `n` models (up to `MaxRegistrationsPerBlock`) expire in
	/// one block, each an on-chain model with every chunk stored, attested once.
	#[benchmark]
	fn on_initialize_expire(n: Linear<0, { T::MaxRegistrationsPerBlock::get() }>) {
		let owner: T::AccountId = account("owner", 0, 0);
		fund::<T>(&owner);
		let one = T::Currency::balance(&owner);
		T::Currency::set_balance(&owner, one.saturating_mul(n.max(1).into()));
		let chunks = Pallet::<T>::max_chunks();
		let mut ids = Vec::new();
		for i in 0..n {
			let mut raw = [0xeeu8; 32];
			raw[..4].copy_from_slice(&i.to_le_bytes());
			ids.push(model_with_chunks_as::<T>(&owner, chunks, H256(raw)));
		}
		let until =
			frame_system::Pallet::<T>::block_number().saturating_add(T::PendingExpiry::get());
		frame_system::Pallet::<T>::set_block_number(until);

		#[block]
		{
			Pallet::<T>::on_initialize(until);
		}

		assert!(ids.iter().all(|id| !ModelsStore::<T>::contains_key(id)));
		assert_eq!(Chunks::<T>::iter().count(), 0);
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
