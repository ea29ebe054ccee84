//! Configs of the Verity pallets (models, providers, inference, disputes), the protocol
//! timings they share, and the signing types of the pallets' off-chain duties.
//!
//! Timings are in blocks (6 s each); docs/inference.md describes what each one bounds. They
//! are deliberately short so that a whole request life (challenge, dispute, unbonding) can be watched on a dev
//! chain in minutes; a public network raises them together, keeping
//! `UNBONDING_PERIOD > MAX_SLASH_DELAY` (pallet-providers' `integrity_test` refuses to start
//! otherwise).

use frame_support::{
	parameter_types,
	traits::{ConstU32, ConstU64, EnsureOrigin},
	weights::Weight,
	PalletId,
};
use frame_system::{EnsureRoot, RawOrigin};
use sp_runtime::Perbill;

use super::super::{
	AccountId, Balance, Balances, BlockNumber, Disputes, Inference, Models, Providers, Runtime,
	RuntimeHoldReason, RuntimeOrigin, DAYS, MICRO_UNIT, MILLI_UNIT, MINUTES, UNIT,
};

/// Blocks after a result during which anyone may challenge it (pallet-inference).
pub const CHALLENGE_WINDOW: BlockNumber = 10;
/// Blocks jurors have to commit their verdict hashes (pallet-disputes).
pub const COMMIT_PERIOD: BlockNumber = 5;
/// Blocks jurors have to reveal their verdicts (pallet-disputes).
pub const REVEAL_PERIOD: BlockNumber = 5;
/// Blocks a tally may be pushed back when its block's tally queue is full
/// (`pallet_disputes::TALLY_LOOKAHEAD`).
pub const TALLY_LOOKAHEAD: BlockNumber = pallet_disputes::TALLY_LOOKAHEAD;
/// Longest time a dispute takes to reach a verdict: commit, reveal, and a tally pushed back
/// as far as it can be.
pub const DISPUTE_PERIOD: BlockNumber = COMMIT_PERIOD + REVEAL_PERIOD + TALLY_LOOKAHEAD;
/// Blocks from a request (or a reassignment, or a challenge) to the draw of its executors (or
/// jury), from the VRF output of the block after the one that included it (pallet-inference's
/// and pallet-disputes' `DrawDelay`). 2 is the least with which neither the sender nor the
/// author who included the transaction knows the randomness; see `docs/security.md`.
pub const DRAW_DELAY: BlockNumber = 2;
/// The longest time from an assignment to the last slash it can cause: the result deadline
/// (pushed up to `QUEUE_SEARCH` blocks by full timeout queues), the challenge window (pushed
/// the same way), the jury's draw (pushed up to `TALLY_LOOKAHEAD` blocks by full queues), then
/// a dispute (commit, reveal, a tally pushed up to `TALLY_LOOKAHEAD`):
/// 5 + 256 + 10 + 256 + 2 + 16 + 26 = 571 blocks. See `docs/security.md`, "Unbonding".
pub const MAX_SLASH_DELAY: BlockNumber = RESULT_DEADLINE
	+ pallet_inference::QUEUE_SEARCH
	+ CHALLENGE_WINDOW
	+ pallet_inference::QUEUE_SEARCH
	+ DRAW_DELAY
	+ TALLY_LOOKAHEAD
	+ DISPUTE_PERIOD;
/// Blocks unbonded stake stays slashable: past `MAX_SLASH_DELAY`, so stake cannot leave while
/// anything it backed can still be slashed, however far queues pushed the timings (572 blocks,
/// about 57 minutes).
pub const UNBONDING_PERIOD: BlockNumber = MAX_SLASH_DELAY + 1;

/// Largest model whose bytes are stored on chain (8 MiB); larger models are served from URIs.
pub const MAX_MODEL_SIZE: u32 = 8 * 1024 * 1024;
/// Size of one uploaded chunk (1 MiB): fits the 3.75 MiB of a block open to normal
/// transactions with room for other traffic.
pub const CHUNK_SIZE: u32 = 1024 * 1024;
/// Largest canonical input or output of an inference (64 KiB).
pub const MAX_IO_SIZE: u32 = 64 * 1024;
/// Largest reference input or output of a model: the request input and output limit.
pub const MAX_REFERENCE_SIZE: u32 = MAX_IO_SIZE;
/// Blocks an executor has to post its result. A worker posts in the block after the
/// request for models that run in well under a block; the rest is slack for a busy pool.
pub const RESULT_DEADLINE: BlockNumber = 5;
/// Largest `k` of a `Redundant(k)` request.
pub const MAX_REDUNDANCY: u32 = 5;
/// Largest `max_constant_bytes` a model spec may declare: the engine's node-wide limit.
pub const MAX_CONSTANT_BYTES: u64 = 256 << 20;

// Compile-time checks of the orderings the pallets' `integrity_test`s assert at start-up.
const _: () = assert!(UNBONDING_PERIOD > MAX_SLASH_DELAY);
const _: () = assert!(CHUNK_SIZE > 0 && CHUNK_SIZE <= MAX_MODEL_SIZE);

parameter_types! {
	/// Held per model record whatever its size: pays for the record's existence.
	pub const ModelDepositBase: Balance = UNIT;
	/// Held per stored byte (encoded spec and on-chain model bytes): an 8 MiB on-chain model
	/// holds about 84 VRT, so filling state with model bytes is expensive.
	pub const ModelDepositPerByte: Balance = 10 * MICRO_UNIT;
	/// Rejected or retired models stay readable this long before they can be reaped: as long
	/// as stake stays slashable, so any request or dispute still running can read the spec.
	pub const ModelReapDelay: BlockNumber = UNBONDING_PERIOD;
	/// A model still pending a day after registration expires: a day is ample to upload 8 MiB
	/// (eight 1 MiB chunks, one a block would do) and for the validators' workers to attest
	/// (every pending model is tried within `ceil(P / 4)` blocks by each validator), and bounds
	/// how long a dead URL keeps every validator's worker fetching.
	pub const ModelPendingExpiry: BlockNumber = DAYS;
	/// 10 % of an expiring model's deposit is burned (0.1 VRT of the 1 VRT base at least):
	/// a model nobody can fetch or certify costs its owner, not the validators.
	pub const ModelExpiryBurn: Perbill = Perbill::from_percent(10);
	/// Held per byte of constants a spec declares (`max_constant_bytes`): 1 µVRT, about
	/// 1.05 VRT per MiB, 268 VRT for the largest declaration (256 MiB). Every attesting,
	/// executing and judging node holds that much memory while the model is loaded; a tenth of
	/// the price of a byte of state (`ModelDepositPerByte`), which every node keeps forever.
	pub const ModelDepositPerConstantByte: Balance = MICRO_UNIT;
	/// Largest declaration: the engine's node-wide limit (`Limits::max_constant_bytes`,
	/// 256 MiB), above which every node refuses a model anyway.
	pub const ModelMaxConstantBytes: u64 = MAX_CONSTANT_BYTES;
	/// The per-node capacity: 10 GFLOP per run (the engine's estimate at its largest batch),
	/// half the engine's own `max_flops`. A model over it is rejected at attestation. At the
	/// reference speed below that is 10 s of run, the largest run bound 11 s, well inside the
	/// 30 s (`ResultDeadline`) an executor has.
	pub const ModelMaxFlops: u64 = MODEL_MAX_FLOPS;
	/// The documented reference node (docs/inference.md, "Run bounds"): 1 GFLOP/s on one
	/// engine thread, what tract's generic kernels sustain on a 2019 x86 core; a node slower
	/// than this on a model's matrix products is too small to serve it.
	pub const ModelReferenceFlopsPerMs: u64 = MODEL_REFERENCE_FLOPS_PER_MS;
	/// Floor of every run bound: input decoding, scheduling on the engine's pool, output
	/// encoding.
	pub const ModelMinRunMs: u32 = MODEL_MIN_RUN_MS;

	/// The account holding all provider stake (held) and unclaimed rewards (free).
	pub const ProvidersPalletId: PalletId = PalletId(*b"vrt/prov");
	/// A provider's own stake at risk before it may serve requests.
	pub const MinSelfBond: Balance = 100 * UNIT;
	/// Smallest delegation: well above the existential deposit, so every position is worth its
	/// storage.
	pub const MinDelegation: Balance = 10 * UNIT;
	/// Smallest active stake (self-bond + delegations) for a provider to be selected.
	pub const MinStake: Balance = 100 * UNIT;
	pub const UnbondingPeriod: BlockNumber = UNBONDING_PERIOD;
	pub const ChallengeWindow: BlockNumber = CHALLENGE_WINDOW;
	pub const MaxSlashDelay: BlockNumber = MAX_SLASH_DELAY;

	/// Paid per executor on top of the model's royalty: 0.01 VRT.
	pub const ExecutionFee: Balance = 10 * MILLI_UNIT;
	/// 1 % of the provider's stake for a missed deadline (or a failure report beyond the free
	/// ones), burned.
	pub const MissedDeadlinePenalty: Perbill = Perbill::from_percent(1);
	/// 10 % of the provider's stake for an output a jury found wrong.
	pub const WrongResultPenalty: Perbill = Perbill::from_percent(10);
	pub const ResultDeadline: BlockNumber = RESULT_DEADLINE;
	pub const DrawDelay: BlockNumber = DRAW_DELAY;
	/// Final requests stay readable (storage, RPC) for a day.
	pub const RequestRetention: BlockNumber = DAYS;
	pub const RequestDepositBase: Balance = 10 * MILLI_UNIT;
	pub const RequestDepositPerByte: Balance = MICRO_UNIT;
	pub const CongestionThreshold: Perbill = Perbill::from_percent(80);
	/// The auditor earns half the audited executor's fee (0.005 VRT).
	pub const AuditShare: Perbill = Perbill::from_percent(50);
	/// Failure reports free per provider per window (10 minutes); see docs/security.md.
	pub const FreeFailures: u32 = 16;
	pub const FailureWindow: BlockNumber = 10 * MINUTES;

	/// A challenger's bond: 10 VRT, lost to the executor when the jury upholds the result.
	pub const ChallengeBond: Balance = 10 * UNIT;
	/// Half the drawn jury's stake must reveal for a verdict.
	pub const JuryQuorum: Perbill = Perbill::from_percent(50);
	/// Taken from a juror that does not reveal, or votes against a 2/3 majority.
	pub const JurorPenalty: Perbill = Perbill::from_percent(1);
	pub const ChallengerReward: Perbill = Perbill::from_percent(40);
	pub const JurorReward: Perbill = Perbill::from_percent(40);
}

/// An origin that is a signed account whose sr25519 public key is a current BABE authority,
/// yielding that account.
///
/// Model activation certifies that the model's reference output reproduces on the validators'
/// own machines; anyone else could certify a model that no validator can judge in a dispute.
/// Validators hold no separate on-chain identity here (there is no session or staking pallet):
/// the set of block authors is `pallet_babe::Authorities`, and an `AccountId` is the 32 bytes
/// of an sr25519 public key, so a validator attests by signing with its BABE key's account.
/// The check reads one storage value of at most `MaxAuthorities` (32) keys.
pub struct EnsureBabeAuthority;

impl EnsureBabeAuthority {
	/// Whether `who` is the account of a current BABE authority.
	pub fn is_authority(who: &AccountId) -> bool {
		let who: &[u8] = who.as_ref();
		pallet_babe::Authorities::<Runtime>::get().iter().any(|(key, _)| {
			let key: &[u8] = key.as_ref();
			key == who
		})
	}
}

impl EnsureOrigin<RuntimeOrigin> for EnsureBabeAuthority {
	type Success = AccountId;

	fn try_origin(o: RuntimeOrigin) -> Result<AccountId, RuntimeOrigin> {
		match o.clone().into() {
			Ok(RawOrigin::Signed(who)) if Self::is_authority(&who) => Ok(who),
			_ => Err(o),
		}
	}

	/// The first current authority; on a chain without one (a bare benchmark genesis) a fixed
	/// key is made the only authority first.
	#[cfg(feature = "runtime-benchmarks")]
	fn try_successful_origin() -> Result<RuntimeOrigin, ()> {
		use sp_consensus_babe::AuthorityId as BabeId;
		let mut keys = pallet_babe::Authorities::<Runtime>::get();
		if keys.is_empty() {
			let key = BabeId::from(sp_core::sr25519::Public::from_raw([1u8; 32]));
			keys = frame_support::WeakBoundedVec::force_from(alloc::vec![(key, 1)], None);
			pallet_babe::Authorities::<Runtime>::put(keys.clone());
		}
		let key: &[u8] = keys.first().ok_or(())?.0.as_ref();
		let raw: [u8; 32] = key.try_into().map_err(|_| ())?;
		Ok(RawOrigin::Signed(AccountId::new(raw)).into())
	}
}

/// Validators sign model attestations with their BABE key (sr25519): its account is the
/// key's 32 bytes, which [`EnsureBabeAuthority`] checks against the authority set.
pub struct BabeAttesterId;

impl frame_system::offchain::AppCrypto<sp_runtime::MultiSigner, sp_runtime::MultiSignature>
	for BabeAttesterId
{
	type RuntimeAppPublic = sp_consensus_babe::AuthorityId;
	type GenericPublic = sp_core::sr25519::Public;
	type GenericSignature = sp_core::sr25519::Signature;
}

impl pallet_models::Config for Runtime {
	type AttesterId = BabeAttesterId;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// Current validators (BABE authorities) attest models, see [`EnsureBabeAuthority`].
	type AttestOrigin = EnsureBabeAuthority;
	type ForceOrigin = EnsureRoot<AccountId>;
	/// One matching attestation activates a model. The dev chain has a single validator and
	/// the local network four, so anything higher would leave models pending whenever a
	/// validator's worker is down; a mismatch from any one validator still rejects. A public
	/// network raises this to a supermajority of its validator set.
	type RequiredAttestations = ConstU32<1>;
	type DepositBase = ModelDepositBase;
	type DepositPerByte = ModelDepositPerByte;
	type MaxModelSize = ConstU32<MAX_MODEL_SIZE>;
	type ChunkSize = ConstU32<CHUNK_SIZE>;
	type MaxReferenceSize = ConstU32<MAX_REFERENCE_SIZE>;
	/// A retired model is reaped only once none of its requests is open.
	type Usage = Inference;
	type ReapDelay = ModelReapDelay;
	type PendingExpiry = ModelPendingExpiry;
	type ExpiryBurn = ModelExpiryBurn;
	/// 16 registrations a block: the expiry hook then handles at most 16 models a block
	/// (about 8 ms, `on_initialize_expire`).
	type MaxRegistrationsPerBlock = ConstU32<16>;
	type DepositPerConstantByte = ModelDepositPerConstantByte;
	type MaxConstantBytes = ModelMaxConstantBytes;
	/// Registration refuses specs for another engine than the one the nodes of this runtime
	/// run: a spec may not ask nodes for an engine they do not have.
	type EngineVersion = ConstU32<{ verity_engine::ENGINE_VERSION }>;
	type MaxModelFlops = ModelMaxFlops;
	type ReferenceFlopsPerMs = ModelReferenceFlopsPerMs;
	type MinRunMs = ModelMinRunMs;
	// A `Deterministic` model's runs, off chain (attest, execute, judge) and in blocks, take
	// these terms; in-block calls cap them further (`InBlockMaxFuel`, `InBlockMemory`).
	type DeterministicBaseFuel = DeterministicBaseFuel;
	type DeterministicFuelPerFlop = DeterministicFuelPerFlop;
	type DeterministicFuelPerByte = DeterministicFuelPerByte;
	type MaxDeterministicFuel = ConstU64<MAX_DETERMINISTIC_FUEL>;
	type DeterministicMemory = DeterministicMemory;
	type WeightInfo = pallet_models::weights::SubstrateWeight<Runtime>;
}

impl pallet_providers::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type PalletId = ProvidersPalletId;
	type MinSelfBond = MinSelfBond;
	type MinDelegation = MinDelegation;
	type MinStake = MinStake;
	/// Bounds `register_provider` and `set_models`.
	type MaxModelsPerProvider = ConstU32<16>;
	/// Bounds the work of one executor or jury selection.
	type MaxProvidersPerModel = ConstU32<64>;
	/// Enough for one unbonding per bucket plus the buckets a slash may still reach.
	type MaxUnlockingChunks = ConstU32<8>;
	type UnbondingPeriod = UnbondingPeriod;
	/// Four buckets of 139 blocks: unlock times are rounded up to 139 blocks and a slash touches
	/// at most 6 pools.
	type UnbondingBuckets = ConstU32<4>;
	type MaxSlashDelay = MaxSlashDelay;
	/// Proofs of possession of executor keys are secp256k1 signatures recovered to the
	/// executor account, as receipts are.
	type ExecutorSignatures = verity_primitives::EcdsaExecutorSignatures;
	type WeightInfo = pallet_providers::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ProvidersBenchmarkHelper;
}

/// Makes models active for pallet-providers' benchmarks through the real model registry; its
/// executor keys are secp256k1 keys generated in the benchmark keystore (pallet-inference's).
#[cfg(feature = "runtime-benchmarks")]
pub struct ProvidersBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_providers::BenchmarkHelper<AccountId> for ProvidersBenchmarkHelper {
	fn activate_model(owner: &AccountId, model: pallet_models::ModelId) {
		pallet_models::Pallet::<Runtime>::insert_active_model_for_benchmarks(owner, model);
	}

	fn executor(i: u32, message: &[u8; 32]) -> (AccountId, verity_primitives::ExecutorSignature) {
		// A benchmark key per `i`, named by an account no benchmark uses.
		let name = [b"verity/bench/providers/executor".as_slice(), &i.to_le_bytes()].concat();
		let key = AccountId::from(sp_io::hashing::blake2_256(&name));
		(
			pallet_inference::benchmarking::ecdsa_executor(&key),
			pallet_inference::benchmarking::ecdsa_receipt(&key, message),
		)
	}
}

/// Picoseconds per unit of fuel of the reference execution of the deterministic mode: Cranelift
/// restricted to baseline x86-64 (SSE2), the slowest compiled execution, took up to 0.88 ns per
/// unit of run fuel on the `onnx` package's light models (resnet50: 8.96 s for 10.2 billion
/// units; `docs/determinism.md`); a node on the host's own features is about ten times faster.
/// Pulley, the interpreter for hosts Cranelift does not support, is several times slower again:
/// such a node checks bits, it cannot serve heavy `Deterministic` models in time (as a node
/// slower than `ModelReferenceFlopsPerMs` cannot serve heavy `Native` ones).
pub const REFERENCE_PS_PER_FUEL: u64 = 1_000;

/// Most fuel of any `Deterministic` model's run (`pallet_models::Config::MaxDeterministicFuel`):
/// 4 billion units, 4 s at the reference rate, twice that for a CPU half as fast, within the
/// largest run bound of a `Native` model (`ModelMaxFlops` at the reference speed plus
/// `ModelMinRunMs`: 11 s), so an executor meets `ResultDeadline` and a juror its commit period
/// however heavy a model its owner registers. Without the cap a model at `ModelMaxFlops` would
/// get 640 billion units, minutes of run.
pub const MAX_DETERMINISTIC_FUEL: u64 = 4_000_000_000;

/// `ModelMaxFlops`, `ModelReferenceFlopsPerMs`, `ModelMinRunMs` (documented there).
pub const MODEL_MAX_FLOPS: u64 = 10_000_000_000;
pub const MODEL_REFERENCE_FLOPS_PER_MS: u64 = 1_000_000;
pub const MODEL_MIN_RUN_MS: u32 = 1_000;

const _: () = assert!(
	2 * MAX_DETERMINISTIC_FUEL * REFERENCE_PS_PER_FUEL / 1_000_000_000
		<= MODEL_MAX_FLOPS / MODEL_REFERENCE_FLOPS_PER_MS + MODEL_MIN_RUN_MS as u64,
	"a Deterministic model's run at half the reference speed must fit the largest Native run bound"
);

parameter_types! {
	/// Fuel of a deterministic-mode run before the model's own work. The demo models' loads
	/// take 7 to 17 million fuel, most of it a fixed cost of parsing and planning
	/// (`docs/determinism.md`, "In-block inference"); 50 million covers a small model's load
	/// with room to spare.
	pub const DeterministicBaseFuel: u64 = 50_000_000;
	/// Fuel per FLOP of the model's estimate. With the runner's `simd128` kernels the demo
	/// models' runs took 2.0 (batch) to 56 (int8, quantized ops) fuel per estimated FLOP, the
	/// light models 2.5 to 4.9; 64 covers all.
	pub const DeterministicFuelPerFlop: u64 = 64;
	/// Fuel per byte of the ONNX file, for parsing and planning it (cnn: 458 load fuel per
	/// byte, fixed cost included).
	pub const DeterministicFuelPerByte: u64 = 500;
	/// At most 250 million fuel per call: 0.5 s of weight, a quarter of a block.
	pub const InBlockMaxFuel: u64 = 250_000_000;
	/// 256 MiB of linear memory per run.
	pub const InBlockMemory: u64 = 256 << 20;
	/// 2 GiB of linear memory for an off-chain run of a `Deterministic` model: the largest
	/// model a node loads (64 MiB of file, `MaxConstantBytes` of constants) with room for its
	/// tensors, within wasm32's 4 GiB.
	pub const DeterministicMemory: u64 = 2 << 30;
	/// 2 ns of weight per unit of fuel. On the reference machine Cranelift ran a prepared
	/// model's call at 0.06 to 0.14 ns per unit of the fuel charged, and a cold call (the load
	/// of a model no block ran before) at up to 0.58 ns per unit of load fuel with the
	/// `simd128` runner (1.33 ns with the scalar one, measured beside a busy compiler;
	/// `docs/determinism.md`); 2 ns covers the cold call. Pulley, the interpreter a node
	/// without Cranelift support runs, took up to 0.58 ns per unit on the demo models' calls.
	pub const WeightPerFuel: Weight = Weight::from_parts(2_000, 0);
}

impl pallet_inference::Config for Runtime {
	type ExecutorId = verity_primitives::ExecutorAuthId;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// In-block inference: see the parameters' definitions for how they were derived.
	type InBlockMaxFuel = InBlockMaxFuel;
	type InBlockMemory = InBlockMemory;
	type WeightPerFuel = WeightPerFuel;
	type Models = Models;
	type Executors = Providers;
	type Rewards = Providers;
	type Slash = Providers;
	type Disputes = Disputes;
	/// Executor keys are secp256k1 (`executor` session key): the same key signs transactions
	/// and receipts, so a receipt is checked against the submitting account.
	type Receipts = pallet_inference::EcdsaReceipts;
	type ExecutionFee = ExecutionFee;
	type MaxInputLen = ConstU32<MAX_IO_SIZE>;
	type MaxOutputLen = ConstU32<MAX_IO_SIZE>;
	type MaxRedundancy = ConstU32<MAX_REDUNDANCY>;
	type ResultDeadline = ResultDeadline;
	/// The VRF output of the parent block's author (every block has one: BABE's secondary
	/// slots are VRF slots too, see `BABE_GENESIS_EPOCH_CONFIG`).
	type Randomness = pallet_babe::ParentBlockRandomness<Runtime>;
	type DrawDelay = DrawDelay;
	type ChallengeWindow = ChallengeWindow;
	/// An optimistic request is tried on up to three providers before it is refunded.
	type MaxAttempts = ConstU32<3>;
	type MissedDeadlinePenalty = MissedDeadlinePenalty;
	type WrongResultPenalty = WrongResultPenalty;
	/// Draws, deadlines, window closes and pruning handled per block. Every entry is charged
	/// as the costliest kind, now a draw: a selection among a model's 64 providers, 1.23 ms
	/// with database access by the generated weights. A full queue of 384 costs at most
	/// 12.5 ms + 384 x 1.23 ms = 486 ms, inside the 500 ms of a block that normal transactions
	/// cannot take; `integrity_test` checks it (512, the size before draws were queued, would
	/// cost 644 ms). Each request queues about four entries over its life.
	type MaxTimeoutsPerBlock = ConstU32<384>;
	type RetentionPeriod = RequestRetention;
	type DepositBase = RequestDepositBase;
	type DepositPerByte = RequestDepositPerByte;
	type FreeFailures = FreeFailures;
	type FailureWindow = FailureWindow;
	type CongestionThreshold = CongestionThreshold;
	type AdminOrigin = EnsureRoot<AccountId>;
	type AuditShare = AuditShare;
	type WeightInfo = pallet_inference::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = InferenceBenchmarkHelper;
}

/// pallet-inference's benchmark setup through the real model registry and pallet-providers.
/// Executor keys are secp256k1 keys generated in the benchmark keystore, as `EcdsaReceipts`
/// checks them.
#[cfg(feature = "runtime-benchmarks")]
pub struct InferenceBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_inference::BenchmarkHelper<AccountId> for InferenceBenchmarkHelper {
	fn active_model(
		owner: &AccountId,
		model: pallet_models::ModelId,
		io: pallet_models::TensorSpec,
		acceptance: pallet_models::AcceptanceRule,
		providers: u32,
		unbonding: bool,
	) {
		use frame_support::BoundedVec;
		pallet_models::Pallet::<Runtime>::insert_active_model_for_benchmarks(owner, model);
		// The record's deposit stays the one held for the default spec: only the pallets'
		// invariants on holds depend on it.
		pallet_models::Models::<Runtime>::mutate(model, |info| {
			if let Some(info) = info {
				info.spec.inputs = BoundedVec::truncate_from(alloc::vec![io.clone()]);
				info.spec.outputs = BoundedVec::truncate_from(alloc::vec![io]);
				info.spec.acceptance = acceptance;
				info.spec.price_per_call = UNIT;
			}
		});
		pallet_providers::benchmarking::register_providers::<Runtime>(
			model,
			providers,
			unbonding,
			|provider, message| {
				(
					pallet_inference::benchmarking::ecdsa_executor(provider),
					pallet_inference::benchmarking::ecdsa_receipt(provider, message),
				)
			},
		);
	}

	fn sign(
		provider: &AccountId,
		_executor: &AccountId,
		message: &[u8; 32],
	) -> pallet_inference::ReceiptSignature {
		pallet_inference::benchmarking::ecdsa_receipt(provider, message)
	}
}

impl pallet_disputes::Config for Runtime {
	type ExecutorId = verity_primitives::ExecutorAuthId;
	type Models = Models;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Inference = Inference;
	/// Jurors are a stake-weighted sample of the other providers serving the model: they can
	/// re-execute it, and have stake to lose for not revealing.
	type Jury = Providers;
	type Slash = Providers;
	type ChallengeBond = ChallengeBond;
	type JurySize = ConstU32<7>;
	/// Juries are drawn like executors, see pallet-inference's `Randomness` and `DrawDelay`.
	type Randomness = pallet_babe::ParentBlockRandomness<Runtime>;
	type DrawDelay = DrawDelay;
	type CommitPeriod = ConstU32<COMMIT_PERIOD>;
	type RevealPeriod = ConstU32<REVEAL_PERIOD>;
	type Quorum = JuryQuorum;
	type JurorPenalty = JurorPenalty;
	type ChallengerReward = ChallengerReward;
	type JurorReward = JurorReward;
	/// Every slot of the largest redundant request can be a candidate.
	type MaxCandidates = ConstU32<MAX_REDUNDANCY>;
	type MaxOutputLen = ConstU32<MAX_IO_SIZE>;
	type MaxDisputesPerBlock = ConstU32<16>;
	type WeightInfo = pallet_disputes::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = DisputesBenchmarkHelper;
}

/// pallet-disputes' benchmark setup: a provisional request of the real pallet-inference with
/// `candidates` full-size posted outputs (at most `MAX_REDUNDANCY`), whose model is served by
/// every provider pallet-providers indexes per model (at least `candidates + jurors`), made with
/// [`InferenceBenchmarkHelper`] (see `pallet_inference::benchmarking::challengeable_request`).
#[cfg(feature = "runtime-benchmarks")]
pub struct DisputesBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_disputes::BenchmarkHelper<AccountId> for DisputesBenchmarkHelper {
	fn challengeable_request(candidates: u32, jurors: u32) -> pallet_inference::RequestId {
		pallet_inference::benchmarking::challengeable_request::<Runtime>(candidates, jurors)
	}
}

/// Mortality of the transactions the pallets' off-chain workers sign, in blocks from their birth
/// block ([`WORKER_TX_BIRTH_DEPTH`] blocks before the block the worker runs on).
pub const WORKER_TX_LONGEVITY: u64 = 32;

/// How far back from the block a worker runs on its transactions' era starts. A mortal
/// transaction signs the hash of its birth block. Born at the worker's own block, it was invalid
/// (`BadProof`) on every sibling of that block: BABE's secondary slots make such short forks
/// common, and a reorg to a sibling dropped the worker's pending results and votes from every
/// pool (under request spam, juries starved of votes; docs/security.md). Eight blocks back the
/// birth block is an ancestor of every live fork (GRANDPA finalizes two to three blocks behind
/// the head here), and the transaction stays valid for 24 blocks after the worker's block.
pub const WORKER_TX_BIRTH_DEPTH: u64 = 8;

/// The era of a transaction a worker signs at block `now`.
pub fn worker_tx_era(now: u64) -> sp_runtime::generic::Era {
	sp_runtime::generic::Era::mortal(WORKER_TX_LONGEVITY, now.saturating_sub(WORKER_TX_BIRTH_DEPTH))
}

impl frame_system::offchain::SigningTypes for Runtime {
	type Public = <crate::Signature as sp_runtime::traits::Verify>::Signer;
	type Signature = crate::Signature;
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	crate::RuntimeCall: From<C>,
{
	type Extrinsic = crate::UncheckedExtrinsic;
	type RuntimeCall = crate::RuntimeCall;
}

/// The pallets' off-chain duties sign ordinary signed transactions: mortal ([`worker_tx_era`]),
/// no tip, the nonce FRAME's signer counts for the account.
impl<C> frame_system::offchain::CreateSignedTransaction<C> for Runtime
where
	crate::RuntimeCall: From<C>,
{
	fn create_signed_transaction<
		A: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>,
	>(
		call: crate::RuntimeCall,
		public: Self::Public,
		account: AccountId,
		nonce: crate::Nonce,
	) -> Option<crate::UncheckedExtrinsic> {
		use codec::Encode;
		let now = u64::from(frame_system::Pallet::<Runtime>::block_number());
		let era = worker_tx_era(now);
		let payload = crate::SignedPayload::new(call, crate::tx_extension(era, nonce)).ok()?;
		let signature = payload.using_encoded(|bytes| A::sign(bytes, public))?;
		let (call, extension, _) = payload.deconstruct();
		Some(crate::UncheckedExtrinsic::new_signed(
			call,
			sp_runtime::MultiAddress::Id(account),
			signature,
			extension,
		))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// A worker's transaction must not sign the hash of the block the worker runs on (a sibling
	/// of that block would reject it), and must stay valid well past the duty's next blocks.
	#[test]
	fn worker_transactions_are_born_on_an_ancestor_and_outlive_the_next_blocks() {
		for now in [0u64, 1, 7, 8, 9, 17, 1_000, 1_000_003] {
			let era = worker_tx_era(now);
			let birth = era.birth(now);
			assert!(
				birth + WORKER_TX_BIRTH_DEPTH <= now || birth == 0,
				"born at {birth} for {now}"
			);
			assert!(era.death(now) >= now + 16, "dies at {} for {now}", era.death(now));
		}
		// Early blocks: born at genesis, which every fork shares.
		assert_eq!(worker_tx_era(3).birth(3), 0);
	}
}
