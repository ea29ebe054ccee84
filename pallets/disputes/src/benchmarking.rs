//! Benchmarks of pallet-disputes (v2). Disputes are opened through `challenge` on a request the
//! runtime's `BenchmarkHelper` makes challengeable, so in the runtime `challenge` and the
//! tallies measure the real pallet-inference (`begin_challenge`, `conclude`) and
//! pallet-providers (`select`, `slash`).

use super::*;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		Get, Hooks,
	},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::traits::{Saturating, Zero};
use verity_primitives::{ExecutorSelection, RequestId};

fn challenger<T: Config>() -> T::AccountId {
	let who: T::AccountId = account("challenger", 0, 0);
	let funds = T::ChallengeBond::get()
		.saturating_mul(10u32.into())
		.saturating_add(T::Currency::minimum_balance());
	T::Currency::set_balance(&who, funds);
	who
}

/// A dispute on a request with `MaxCandidates` candidates (as many as the runtime's helper
/// supports) and `JurySize` jurors (as many as are eligible).
fn open<T: Config>() -> RequestId {
	let request =
		T::BenchmarkHelper::challengeable_request(T::MaxCandidates::get(), T::JurySize::get());
	assert!(Pallet::<T>::challenge(RawOrigin::Signed(challenger::<T>()).into(), request).is_ok());
	draw::<T>(request);
	request
}

/// Draw the jury of `request` if its draw is still scheduled (`DrawDelay` > 0): move to the
/// draw's block and run its `on_initialize`.
fn draw<T: Config>(request: RequestId) {
	use frame_support::traits::Hooks;
	if let Some(info) = Disputes::<T>::get(request).filter(|i| !i.drawn) {
		frame_system::Pallet::<T>::set_block_number(info.tally_at);
		Pallet::<T>::on_initialize(info.tally_at);
	}
}

fn info<T: Config>(request: RequestId) -> DisputeInfoOf<T> {
	match Disputes::<T>::get(request) {
		Some(info) => info,
		None => panic!("dispute not open"),
	}
}

fn executor<T: Config>(provider: &T::AccountId) -> T::AccountId {
	match T::Jury::executor_of(provider) {
		Some(e) => e,
		None => panic!("juror without executor key"),
	}
}

/// Every candidate wrong: the case that keeps an output.
fn all_wrong<T: Config>(request: RequestId) -> Vec<bool> {
	vec![false; info::<T>(request).accused.len()]
}

fn full_output<T: Config>() -> Vec<u8> {
	vec![0xab; T::MaxOutputLen::get() as usize]
}

fn commit_as<T: Config>(
	request: RequestId,
	juror: &T::AccountId,
	verdicts: &[bool],
	output: &[u8],
) {
	let commitment = Pallet::<T>::commitment_of(juror, request, verdicts, output, &[1u8; 32]);
	let origin = RawOrigin::Signed(executor::<T>(juror)).into();
	assert!(Pallet::<T>::commit(origin, request, commitment).is_ok());
}

fn reveal_as<T: Config>(
	request: RequestId,
	juror: &T::AccountId,
	verdicts: &[bool],
	output: &[u8],
) {
	let origin = RawOrigin::Signed(executor::<T>(juror)).into();
	assert!(Pallet::<T>::reveal(
		origin,
		request,
		BoundedVec::truncate_from(verdicts.to_vec()),
		BoundedVec::truncate_from(output.to_vec()),
		[1u8; 32],
	)
	.is_ok());
}

/// Open a dispute and keep its first `j` jurors; they all commit every candidate wrong with a
/// full-size output, and reveal if `reveal`. Returns the request and its tally block.
fn voted<T: Config>(j: u32, reveal: bool) -> (RequestId, BlockNumberFor<T>) {
	let request = open::<T>();
	Disputes::<T>::mutate(request, |i| {
		if let Some(i) = i {
			assert!(i.jurors.len() as u32 >= j, "not enough eligible jurors");
			i.jurors.truncate(j as usize);
		}
	});
	let jurors: Vec<T::AccountId> =
		info::<T>(request).jurors.iter().map(|v| v.provider.clone()).collect();
	let verdicts = all_wrong::<T>(request);
	let output = full_output::<T>();
	for juror in &jurors {
		commit_as::<T>(request, juror, &verdicts, &output);
	}
	let info = info::<T>(request);
	if reveal {
		frame_system::Pallet::<T>::set_block_number(info.commit_end);
		for juror in &jurors {
			reveal_as::<T>(request, juror, &verdicts, &output);
		}
	}
	frame_system::Pallet::<T>::set_block_number(info.tally_at);
	(request, info.tally_at)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Worst case: `MaxCandidates` candidates, `JurySize` jurors, and the tally queues of all
	/// but the last block of the lookahead already full. The jury's draw is measured with
	/// the call (in `on_initialize` of the draw block when `DrawDelay` > 0), so the weight
	/// bounds both the call and a draw, which `on_initialize` charges as this.
	#[benchmark]
	fn challenge() {
		let request =
			T::BenchmarkHelper::challengeable_request(T::MaxCandidates::get(), T::JurySize::get());
		let who = challenger::<T>();
		let now = frame_system::Pallet::<T>::block_number();
		let reveal_end = now
			.saturating_add(T::DrawDelay::get())
			.saturating_add(T::CommitPeriod::get())
			.saturating_add(T::RevealPeriod::get());
		let full: BoundedVec<RequestId, T::MaxDisputesPerBlock> = BoundedVec::truncate_from(
			(0..T::MaxDisputesPerBlock::get()).map(|i| u64::MAX.saturating_sub(i.into())).collect(),
		);
		let mut at = reveal_end;
		for _ in 1..TALLY_LOOKAHEAD {
			Tallies::<T>::insert(at, full.clone());
			at = at.saturating_add(1u32.into());
		}

		#[block]
		{
			assert!(Pallet::<T>::challenge(RawOrigin::Signed(who).into(), request).is_ok());
			draw::<T>(request);
		}

		assert!(Disputes::<T>::get(request).is_some_and(|i| i.drawn));
	}

	/// The last juror of a full jury commits.
	#[benchmark]
	fn commit() {
		let request = open::<T>();
		let juror = match info::<T>(request).jurors.last() {
			Some(j) => j.provider.clone(),
			None => panic!("empty jury"),
		};
		let commitment =
			Pallet::<T>::commitment_of(&juror, request, &all_wrong::<T>(request), &[], &[1u8; 32]);

		#[extrinsic_call]
		_(RawOrigin::Signed(executor::<T>(&juror)), request, commitment);

		assert!(info::<T>(request).jurors.last().is_some_and(|j| j.commitment.is_some()));
	}

	/// The last juror reveals every candidate wrong with an output of `o` bytes, after the
	/// first juror kept a full-size output for the same verdicts (so it is read, and possibly
	/// replaced).
	#[benchmark]
	fn reveal(o: Linear<1, { T::MaxOutputLen::get() }>) {
		let request = open::<T>();
		let jurors: Vec<T::AccountId> =
			info::<T>(request).jurors.iter().map(|j| j.provider.clone()).collect();
		let (first, last) = match (jurors.first(), jurors.last()) {
			(Some(f), Some(l)) => (f.clone(), l.clone()),
			_ => panic!("empty jury"),
		};
		let verdicts = all_wrong::<T>(request);
		let output = vec![0xcd; o as usize];
		commit_as::<T>(request, &last, &verdicts, &output);
		if first != last {
			commit_as::<T>(request, &first, &verdicts, &full_output::<T>());
		}
		frame_system::Pallet::<T>::set_block_number(info::<T>(request).commit_end);
		if first != last {
			reveal_as::<T>(request, &first, &verdicts, &full_output::<T>());
		}

		#[extrinsic_call]
		_(
			RawOrigin::Signed(executor::<T>(&last)),
			request,
			BoundedVec::truncate_from(verdicts.clone()),
			BoundedVec::truncate_from(output),
			[1u8; 32],
		);

		assert!(info::<T>(request).jurors.last().is_some_and(|j| j.reveal.is_some()));
	}

	/// `on_initialize` tallying one dispute whose `j` jurors all revealed every candidate
	/// wrong: one `conclude` with a full-size jury output, the bond released, no penalty.
	#[benchmark]
	fn tally_decided(j: Linear<1, { T::JurySize::get() }>) {
		let (request, at) = voted::<T>(j, true);

		#[block]
		{
			Pallet::<T>::on_initialize(at);
		}

		assert!(!Disputes::<T>::contains_key(request));
	}

	/// `on_initialize` tallying one dispute whose `j` jurors committed but none revealed: no
	/// quorum, `j` penalties.
	#[benchmark]
	fn tally_no_quorum(j: Linear<1, { T::JurySize::get() }>) {
		let (request, at) = voted::<T>(j, false);

		#[block]
		{
			Pallet::<T>::on_initialize(at);
		}

		assert!(!Disputes::<T>::contains_key(request));
		assert!(T::ChallengeBond::get() > Zero::zero());
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
