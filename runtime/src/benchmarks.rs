//! The pallets whose benchmarks the runtime exposes (`frame-omni-bencher v1 benchmark pallet
//! --runtime <wasm> --pallet <name>`), through the `Benchmark` runtime API in `apis.rs`.

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, BaselineBench::<Runtime>]
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_models, Models]
	[pallet_providers, Providers]
	[pallet_inference, Inference]
	[pallet_disputes, Disputes]
);
