/**
 * Request an inference on a Verity chain with @polkadot/api, follow it through its events and
 * print the result with its receipt. A starting point for a dApp: copy this directory.
 *
 *   npx tsx request.ts [--url ws://127.0.0.1:9944] [--model 0x…] [--suri //Alice]
 *                      [--input 0.1,0.2,… | --input-file raw.bin] [--input-shape 1,64]
 *                      [--input-dtype f32] [--policy optimistic|redundant:K] [--max-fee PLANCK]
 *                      [--wait provisional|finalized] [--timeout SECONDS]
 *
 * Steps: connect; pick the model (`--model`, else the first `Active` one of `verity_listModels`)
 * and read its spec from `Models::Models`; build the input tensor (shape and dtype from the
 * spec unless given; values from `--input`, `--input-file` (raw little-endian elements) or a
 * fixed ramp) and encode it canonically (`tensors.ts`); sign `inference.request(model, input,
 * maxFee, policy)`; print the transaction's status and, block by block, every event of the
 * inference and disputes pallets about this request; when the result is provisional (or with
 * `--wait finalized` final) read `verity_result`, check the output hash and the receipt
 * (keccak message, ecrecover to the assigned executor) and print the decoded output.
 *
 * The last line is machine-readable: `RESULT {"ok":true,…}` or `RESULT {"ok":false,"error":…}`.
 * Exit code 0 on success, 1 on any failure (node unreachable, model not active, extrinsic
 * failed (the module error is named, e.g. `inference.InputSpecMismatch`), request refunded,
 * timeout), 2 on bad options.
 */
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import type { AugmentedEvent, SubmittableExtrinsicFunction } from '@polkadot/api/types';
import type { Option, Vec } from '@polkadot/types';
import type { EventRecord } from '@polkadot/types/interfaces';
import type { Codec, DefinitionRpc } from '@polkadot/types/types';
import { formatBalance, hexToU8a, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import {
	blake2AsHex,
	blake2AsU8a,
	cryptoWaitReady,
	encodeAddress,
	ethereumEncode,
	keccakAsU8a,
	secp256k1Recover,
} from '@polkadot/util-crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
	decodeTensors,
	describe,
	DTYPE_SIZE,
	elementCount,
	encodeTensors,
	parseDType,
	tensor,
	tensorFromBytes,
	TensorError,
	values,
	type DType,
	type Tensor,
} from './tensors.ts';

// ---- options ----

const USAGE = `usage: npx tsx request.ts [--url ws://127.0.0.1:9944] [--model 0x…] [--suri //Alice]
  [--input v1,v2,… | --input-file raw.bin] [--input-shape 1,64] [--input-dtype f32]
  [--policy optimistic|redundant:K] [--max-fee PLANCK] [--wait provisional|finalized]
  [--timeout SECONDS]`;

class UsageError extends Error {}

function options() {
	const { values: o } = parseArgs({
		options: {
			url: { type: 'string', default: 'ws://127.0.0.1:9944' },
			model: { type: 'string' },
			suri: { type: 'string', default: '//Alice' },
			input: { type: 'string' },
			'input-file': { type: 'string' },
			'input-shape': { type: 'string' },
			'input-dtype': { type: 'string' },
			policy: { type: 'string', default: 'optimistic' },
			'max-fee': { type: 'string' },
			wait: { type: 'string', default: 'provisional' },
			timeout: { type: 'string', default: '180' },
			help: { type: 'boolean', short: 'h' },
		},
		strict: true,
	});
	if (o.help) {
		console.log(USAGE);
		process.exit(0);
	}
	if (o.wait !== 'provisional' && o.wait !== 'finalized') {
		throw new UsageError(`--wait is provisional or finalized, not ${o.wait}`);
	}
	if (o.input !== undefined && o['input-file'] !== undefined) {
		throw new UsageError('give --input or --input-file, not both');
	}
	const timeout = Number(o.timeout);
	if (!(timeout > 0)) throw new UsageError(`--timeout must be a positive number of seconds`);
	const policy = parsePolicy(o.policy);
	const model = o.model;
	if (model !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(model)) {
		throw new UsageError(`--model must be a 0x-prefixed 32-byte hex model id`);
	}
	const shape = o['input-shape']?.split(',').map((d) => {
		const n = Number(d.trim());
		if (!Number.isInteger(n) || n < 0) throw new UsageError(`--input-shape: ${d} is not a dimension`);
		return n;
	});
	let maxFee: bigint | undefined;
	if (o['max-fee'] !== undefined) {
		try {
			maxFee = BigInt(o['max-fee']);
		} catch {
			throw new UsageError('--max-fee is an integer amount in planck (1 VRT = 10^12)');
		}
	}
	return {
		url: o.url,
		model,
		suri: o.suri,
		input: o.input,
		inputFile: o['input-file'],
		shape,
		dtype: o['input-dtype'] === undefined ? undefined : parseDType(o['input-dtype']),
		policy,
		maxFee,
		wait: o.wait as 'provisional' | 'finalized',
		timeoutMs: timeout * 1000,
	};
}

type Policy = { Optimistic: null } | { Redundant: number };

function parsePolicy(s: string): Policy {
	if (s === 'optimistic') return { Optimistic: null };
	const m = /^redundant:(\d+)$/.exec(s);
	if (m) return { Redundant: Number(m[1]) };
	throw new UsageError(`--policy is optimistic or redundant:K, not ${s}`);
}

// ---- output ----

function say(stage: string, text: string) {
	console.log(`[${stage}]`.padEnd(10) + text);
}

class Failure extends Error {
	constructor(
		message: string,
		readonly details: Record<string, unknown> = {},
	) {
		super(message);
	}
}

/** JSON with bigints as decimal strings. */
function json(v: unknown): string {
	return JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x));
}

function short(hex: string): string {
	return hex.length > 18 ? `${hex.slice(0, 10)}…${hex.slice(-6)}` : hex;
}

// ---- the verity_* RPC (node/src/inference_rpc.rs) ----

/** Declared so `api.rpc.verity.*` exists for dApps; the example calls them through `verityRpc`. */
const VERITY_RPC: Record<string, DefinitionRpc> = {
	listModels: { description: 'Registered models', params: [], type: 'Json' },
	request: { description: 'A request', params: [{ name: 'id', type: 'u64' }], type: 'Json' },
	result: { description: 'Result and receipt', params: [{ name: 'id', type: 'u64' }], type: 'Json' },
	dryRun: {
		description: 'Run a model locally, no transaction',
		params: [
			{ name: 'model', type: 'H256' },
			{ name: 'input', type: 'Bytes' },
		],
		type: 'Json',
	},
};

interface ModelListing {
	id: string;
	name: string;
	status: string;
	acceptance: string;
	pricePerCall: string;
}
interface ResultJson {
	output: string | null;
	outputHash: string;
	by: string;
	final?: boolean;
	receipt: {
		signature: string;
		message: string;
		signerAddress: string | null;
		executor: string | null;
	} | null;
}
interface RequestJson {
	status: string;
	requester: string;
	model: string;
	inputHash: string;
}

/**
 * The raw JSON of a `verity_*` method: `provider.send` keeps `null` ("no result yet") apart
 * from an empty object, which the `Json` codec of `api.rpc.verity.*` does not.
 */
async function verityRpc<T>(method: string, params: unknown[]): Promise<T> {
	return (await provider.send(`verity_${method}`, params)) as T;
}

/** `api.query.models.models` and the like, or a clear error on a chain that lacks them. */
function item<T>(of: Record<string, Record<string, unknown> | undefined>, section: string, name: string): T {
	const x = of[section]?.[name];
	if (x === undefined) throw new Failure(`the chain has no ${section}.${name}: is this a Verity node?`);
	return x as T;
}

// ---- steps ----

let provider: WsProvider;

async function connect(url: string, timeoutMs: number): Promise<ApiPromise> {
	try {
		// No automatic reconnection: a node that is not there is reported, not retried forever.
		provider = new WsProvider(url, 0);
	} catch (e) {
		throw new UsageError(`--url: ${(e as Error).message}`);
	}
	let timer: NodeJS.Timeout | undefined;
	const failed = new Promise<never>((_, reject) => {
		provider.on('error', () =>
			reject(
				new Failure(`cannot reach a node at ${url} (is it running? scripts/run.sh starts one)`, {
					error: 'Unreachable',
				}),
			),
		);
		timer = setTimeout(
			() =>
				reject(new Failure(`no answer from ${url} within ${timeoutMs / 1000} s`, { error: 'Unreachable' })),
			timeoutMs,
		);
	});
	await provider.connect();
	await Promise.race([provider.isReady, failed]);
	const api = await Promise.race([
		ApiPromise.create({ provider, rpc: { verity: VERITY_RPC }, noInitWarn: true, throwOnConnect: true }),
		failed,
	]);
	clearTimeout(timer);
	// Once connected, a lost connection fails the run (`fail` is the pending run's reject).
	provider.on('disconnected', () => {
		if (!closing) fail(new Failure(`lost the connection to ${url}`, { error: 'Disconnected' }));
	});
	return api;
}

let closing = false;
let fail: (e: unknown) => void = () => {};

interface ModelChoice {
	id: string;
	name: string;
	acceptance: string;
	royalty: bigint;
	inputs: { dtype: DType; dims: (number | null)[] }[];
	outputs: { dtype: DType; dims: (number | null)[] }[];
}

async function pickModel(api: ApiPromise, wanted: string | undefined): Promise<ModelChoice> {
	const listed = await verityRpc<ModelListing[]>('listModels', []);
	const id = wanted?.toLowerCase() ?? listed.find((m) => m.status.startsWith('Active'))?.id;
	if (id === undefined) {
		throw new Failure(
			`no active model on this chain (verity_listModels: ${json(listed.map((m) => `${m.name} ${m.status}`))})`,
			{
				error: 'ModelNotActive',
			},
		);
	}
	const models = item<(id: string) => Promise<Option<Codec>>>(api.query, 'models', 'models');
	const info = await models(id);
	if (info.isNone)
		throw new Failure(`model ${id} is not registered on this chain`, { error: 'ModelNotFound', model: id });
	const m = info.unwrap().toJSON() as {
		spec: {
			name: string;
			inputs: { dtype: string; dims: (number | null)[] }[];
			outputs: { dtype: string; dims: (number | null)[] }[];
			pricePerCall: number | string;
		};
		status: Record<string, unknown>;
	};
	const status = Object.keys(m.status)[0] ?? '?';
	const name = listed.find((l) => l.id === id)?.name ?? id;
	if (status.toLowerCase() !== 'active') {
		throw new Failure(`model ${name} (${id}) is not active: its status is ${json(m.status)}`, {
			error: 'ModelNotActive',
			model: id,
		});
	}
	const specs = (l: { dtype: string; dims: (number | null)[] }[]) =>
		l.map((s) => ({ dtype: parseDType(s.dtype), dims: s.dims }));
	return {
		id,
		name,
		acceptance: listed.find((l) => l.id === id)?.acceptance ?? '?',
		royalty: BigInt(m.spec.pricePerCall),
		inputs: specs(m.spec.inputs),
		outputs: specs(m.spec.outputs),
	};
}

function specText(s: { dtype: DType; dims: (number | null)[] }): string {
	return `${s.dtype}[${s.dims.map((d) => d ?? '?').join(',')}]`;
}

/** A fixed, non-trivial input for `dtype[shape]` when none is given. */
function ramp(dtype: DType, shape: number[]): Tensor {
	const n = elementCount(shape);
	const at = (i: number) => ((i * 7) % 17) - 8;
	switch (dtype) {
		case 'F32':
		case 'F16':
			return tensor(
				dtype,
				shape,
				Array.from({ length: n }, (_, i) => at(i) / 8),
			);
		case 'I64':
			return tensor(
				dtype,
				shape,
				Array.from({ length: n }, (_, i) => BigInt(at(i))),
			);
		case 'U8':
			return tensor(
				dtype,
				shape,
				Array.from({ length: n }, (_, i) => at(i) + 8),
			);
		case 'Bool':
			return tensor(
				dtype,
				shape,
				Array.from({ length: n }, (_, i) => i % 2 === 1),
			);
		default:
			return tensor(
				dtype,
				shape,
				Array.from({ length: n }, (_, i) => at(i)),
			);
	}
}

/** The request's input: options shape the first input tensor, others follow the spec. */
function buildInput(
	model: ModelChoice,
	o: ReturnType<typeof options>,
): { tensors: Tensor[]; source: string } {
	const tensors: Tensor[] = [];
	let source = 'a fixed ramp (give --input or --input-file for your own values)';
	model.inputs.forEach((spec, k) => {
		const dtype = (k === 0 ? o.dtype : undefined) ?? spec.dtype;
		// A dynamic dimension (`null` in the spec) gets 1 unless --input-shape says otherwise.
		const shape = (k === 0 ? o.shape : undefined) ?? spec.dims.map((d) => d ?? 1);
		if (k === 0 && o.input !== undefined) {
			const parts = o.input.split(',').map((s) => s.trim());
			const vals =
				dtype === 'Bool'
					? parts.map((s) => s === 'true' || s === '1')
					: dtype === 'I64'
						? parts.map((s) => BigInt(s))
						: parts.map((s) => {
								const x = Number(s);
								if (s === '' || Number.isNaN(x)) throw new UsageError(`--input: ${s} is not a number`);
								return x;
							});
			tensors.push(tensor(dtype, shape, vals as number[] | bigint[] | boolean[]));
			source = '--input';
		} else if (k === 0 && o.inputFile !== undefined) {
			const bytes = readFileSync(o.inputFile);
			const expected = elementCount(shape) * DTYPE_SIZE[dtype];
			if (bytes.length !== expected) {
				throw new UsageError(`--input-file has ${bytes.length} bytes, ${dtype}[${shape}] needs ${expected}`);
			}
			tensors.push(tensorFromBytes(dtype, shape, new Uint8Array(bytes)));
			source = o.inputFile;
		} else {
			tensors.push(ramp(dtype, shape));
		}
	});
	return { tensors, source };
}

function eventFields(record: EventRecord): Record<string, unknown> {
	const { data } = record.event;
	const names = data.names ?? data.map((_, i) => String(i));
	return Object.fromEntries(names.map((n, i) => [n, data[i]?.toPrimitive()]));
}

function eventText(
	section: string,
	method: string,
	f: Record<string, unknown>,
	bal: (x: unknown) => string,
): string {
	const what: Record<string, () => string> = {
		Requested: () => `by ${f.requester}, ${json(f.policy)}, fee ${bal(f.fee)} held`,
		DrawScheduled: () => `executors drawn in block #${f.at}, from randomness revealed after this block`,
		Assigned: () =>
			`slot ${f.slot} to provider ${f.provider}, executor ${f.executor}, deadline #${f.deadline}`,
		ResultSubmitted: () => `slot ${f.slot} by ${f.provider}, output hash ${f.outputHash}`,
		ResultProvisional: () => `output hash ${f.outputHash}, challengeable until #${f.until}`,
		AuditScheduled: () => `whether an auditor re-executes it is drawn in block #${f.at}`,
		AuditAssigned: () => `audited by provider ${f.provider}, executor ${f.executor}`,
		AuditSkipped: () => 'not audited (not sampled, or no other provider to audit it)',
		Audited: () => `the auditor ${f.provider} found: ${json(f.finding)}`,
		ResultFinalized: () =>
			`output hash ${f.outputHash}, royalty ${bal(f.royalty)}, execution fees ${bal(f.executionFees)}`,
		ResultCorrected: () => `the jury's output hash ${f.outputHash}`,
		Refunded: () => `${bal(f.amount)} back to the requester (${json(f.reason)})`,
	};
	const fallback = () =>
		Object.entries(f)
			.filter(([k]) => k !== 'request')
			.map(([k, v]) => `${k} ${json(v)}`)
			.join(', ');
	return `${section}.${method} ${(what[method] ?? fallback)()}`;
}

/** Receipt format version (the byte after the domain tag). */
const RECEIPT_VERSION = 2;
/** n / 2 for secp256k1: the chain (and OpenZeppelin's ECDSA.recover) accepts only s <= n / 2. */
const SECP256K1_HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/**
 * The message an executor signs: keccak256(abi.encodePacked("verity/receipt", uint8(2),
 * bytes32 genesisHash, uint64 requestId, bytes32 model, bytes32 inputHash, bytes32 outputHash)).
 * The genesis hash names the chain, so a receipt from another chain does not verify.
 */
function receiptMessage(genesisHash: string, id: bigint, model: string, inputHash: string, outputHash: string): Uint8Array {
	const idBytes = new Uint8Array(8);
	new DataView(idBytes.buffer).setBigUint64(0, id); // uint64, big-endian as abi.encodePacked
	return keccakAsU8a(
		u8aConcat(
			stringToU8a('verity/receipt'),
			new Uint8Array([RECEIPT_VERSION]),
			hexToU8a(genesisHash),
			idBytes,
			hexToU8a(model),
			hexToU8a(inputHash),
			hexToU8a(outputHash),
		),
	);
}

/**
 * Checks a receipt as an EVM contract would: recompute the message for the chain it trusts
 * (`genesisHash`), refuse a non-canonical signature (high s, v not 0 or 1), ecrecover the signer.
 */
function checkReceipt(
	receipt: NonNullable<ResultJson['receipt']>,
	genesisHash: string,
	id: bigint,
	model: string,
	inputHash: string,
	outputHash: string,
	executors: string[],
	ss58: number,
): { signerAddress: string; executor: string } {
	const message = receiptMessage(genesisHash, id, model, inputHash, outputHash);
	if (u8aToHex(message) !== receipt.message) {
		throw new Failure(
			`receipt message ${receipt.message} is not keccak256("verity/receipt", 2, ${genesisHash}, ${id}, model, inputHash, outputHash) = ${u8aToHex(message)}`,
		);
	}
	const sig = hexToU8a(receipt.signature);
	if (sig.length !== 65) throw new Failure(`receipt signature is ${sig.length} bytes, not 65`);
	if (BigInt(u8aToHex(sig.subarray(32, 64))) > SECP256K1_HALF_ORDER || sig[64]! > 1) {
		throw new Failure(`receipt signature ${receipt.signature} is not canonical (high s, or v not 0 or 1)`);
	}
	const publicKey = secp256k1Recover(message, sig.subarray(0, 64), sig[64]!);
	const signerAddress = ethereumEncode(publicKey).toLowerCase();
	if (receipt.signerAddress?.toLowerCase() !== signerAddress) {
		throw new Failure(`receipt recovers to ${signerAddress}, the node says ${receipt.signerAddress}`);
	}
	// An executor account is blake2_256 of its compressed secp256k1 key.
	const executor = encodeAddress(blake2AsU8a(publicKey), ss58);
	if (!executors.includes(executor)) {
		throw new Failure(`receipt signed by ${executor}, which was not assigned (${executors.join(', ')})`);
	}
	return { signerAddress, executor };
}

async function main(): Promise<number> {
	const o = options();
	const deadline = Date.now() + o.timeoutMs;
	const api = await connect(o.url, Math.min(o.timeoutMs, 15_000));
	const [chain, version, best] = await Promise.all([
		api.rpc.system.chain(),
		api.rpc.state.getRuntimeVersion(),
		api.rpc.chain.getHeader(),
	]);
	say('connect', `${o.url}: ${chain} (${version.specName} v${version.specVersion}), best #${best.number}`);
	const decimals = api.registry.chainDecimals[0] ?? 12;
	const unit = api.registry.chainTokens[0] ?? 'VRT';
	const bal = (x: unknown) => formatBalance(BigInt(String(x)), { decimals, withUnit: unit, forceUnit: '-' });
	const ss58 = api.registry.chainSS58 ?? 42;

	// The model and its spec.
	const model = await pickModel(api, o.model);
	const io = `input ${model.inputs.map(specText).join(' ')}, output ${model.outputs.map(specText).join(' ')}`;
	say(
		'model',
		`${model.name} ${model.id} (Active, ${model.acceptance}), ${io}, royalty ${bal(model.royalty)}`,
	);

	// The input, canonically encoded.
	const { tensors, source } = buildInput(model, o);
	const input = encodeTensors(tensors);
	const inputHash = blake2AsHex(input);
	say(
		'input',
		`${tensors.map(describe).join(' ')} from ${source}: ${input.length} bytes, input hash ${inputHash}`,
	);

	// The fee: royalty + k × execution fee, held until the request ends.
	const k = 'Redundant' in o.policy ? o.policy.Redundant : 1;
	const executionFee = BigInt(item<Codec>(api.consts, 'inference', 'executionFee').toString());
	const maxFee = o.maxFee ?? model.royalty + BigInt(k) * executionFee;

	await cryptoWaitReady();
	const signer = new Keyring({ type: 'sr25519', ss58Format: ss58 }).addFromUri(o.suri);
	const request = item<SubmittableExtrinsicFunction<'promise'>>(api.tx, 'inference', 'request');
	const tx = request(model.id, u8aToHex(input), maxFee, o.policy);
	const requestedEvent = item<AugmentedEvent<'promise'>>(api.events, 'inference', 'Requested');
	say(
		'tx',
		`${o.suri} (${signer.address}) signs inference.request(model, input, maxFee ${bal(maxFee)}, ${json(o.policy)})`,
	);

	return await new Promise<number>((resolve, reject) => {
		fail = reject;
		const timer = setTimeout(
			() =>
				reject(
					new Failure(`timed out after ${o.timeoutMs / 1000} s waiting for the ${o.wait} result`, {
						error: 'Timeout',
					}),
				),
			deadline - Date.now(),
		);
		timer.unref();
		const trail: { block: number; event: string }[] = [];
		let requestId: bigint | undefined;
		let cursor: number | undefined; // next block whose events to read
		let scanning = false;
		let again = false;
		let done = false;
		const executors: string[] = [];
		let provisional = false;
		let corrected = false;

		const finish = async (status: string) => {
			done = true;
			clearTimeout(timer);
			try {
				resolve(await report(api, o, model, requestId!, inputHash, executors, trail, status, ss58));
			} catch (e) {
				reject(e);
			}
		};

		// Reads the events of every block from the inclusion block to the best one, in order;
		// a head that arrives while a scan runs makes it look again.
		const scan = async (): Promise<void> => {
			if (done || cursor === undefined) return;
			if (scanning) {
				again = true;
				return;
			}
			scanning = true;
			again = false;
			try {
				const bestNow = (await api.rpc.chain.getHeader()).number.toNumber();
				while (!done && cursor <= bestNow) {
					const hash = await api.rpc.chain.getBlockHash(cursor);
					const at = await api.at(hash);
					const records = await item<() => Promise<Vec<EventRecord>>>(at.query, 'system', 'events')();
					for (const r of records) {
						const { section, method } = r.event;
						if (section !== 'inference' && section !== 'disputes') continue;
						const f = eventFields(r);
						if (f.request === undefined || BigInt(String(f.request)) !== requestId) continue;
						say('event', `#${cursor} ${eventText(section, method, f, bal)}`);
						trail.push({ block: cursor, event: `${section}.${method}` });
						if (method === 'Assigned') executors.push(String(f.executor));
						if (method === 'ResultProvisional') provisional = true;
						if (method === 'ResultCorrected') corrected = true;
						if (method === 'ResultFinalized') return void (await finish('Finalized'));
						if (method === 'Refunded') {
							if (corrected) return void (await finish('Finalized by the jury'));
							done = true;
							clearTimeout(timer);
							return reject(
								new Failure(`request ${requestId} was refunded (${json(f.reason)}): no result`, {
									error: 'Refunded',
									request: requestId,
									reason: f.reason,
								}),
							);
						}
					}
					cursor += 1;
					if (provisional && o.wait === 'provisional') return void (await finish('Provisional'));
				}
			} catch (e) {
				reject(e);
			} finally {
				scanning = false;
			}
			if (again) await scan();
		};

		api.rpc.chain.subscribeNewHeads(() => void scan()).catch(reject);

		tx.signAndSend(signer, (result) => {
			const { status, dispatchError, events, txHash } = result;
			if (status.isReady) say('tx', `in the pool, tx hash ${txHash.toHex()}`);
			else if (status.isFinalized)
				say('tx', `its block ${short(status.asFinalized.toHex())} is final (GRANDPA)`);
			else if (status.isDropped || status.isInvalid || status.isUsurped) {
				reject(
					new Failure(`the transaction was ${status.type.toLowerCase()} by the pool`, { error: status.type }),
				);
			} else if (status.isInBlock) {
				const blockHash = status.asInBlock.toHex();
				void (async () => {
					const number = (await api.rpc.chain.getHeader(blockHash)).number.toNumber();
					say('tx', `in block #${number} ${blockHash}`);
					if (dispatchError) {
						let error: string = dispatchError.type;
						let docs = dispatchError.toString();
						if (dispatchError.isModule) {
							const meta = api.registry.findMetaError(dispatchError.asModule);
							error = `${meta.section}.${meta.name}`;
							docs = meta.docs.join(' ');
						}
						done = true;
						clearTimeout(timer);
						return reject(
							new Failure(`inference.request failed in block #${number}: ${error} (${docs})`, {
								error,
								block: number,
								blockHash,
								txHash: txHash.toHex(),
							}),
						);
					}
					const requested = events.find(({ event }) => requestedEvent.is(event));
					if (!requested) return reject(new Failure('no inference.Requested event for the transaction'));
					requestId = BigInt(String(eventFields(requested).request));
					say('tx', `request id ${requestId}`);
					cursor = number;
					await scan();
				})().catch(reject);
			}
		}).catch((e: Error) =>
			reject(new Failure(`the node refused the transaction: ${e.message}`, { error: 'Rejected' })),
		);
	});
}

async function report(
	api: ApiPromise,
	o: ReturnType<typeof options>,
	model: ModelChoice,
	id: bigint,
	inputHash: string,
	executors: string[],
	trail: { block: number; event: string }[],
	status: string,
	ss58: number,
): Promise<number> {
	const [result, request] = await Promise.all([
		verityRpc<ResultJson | null>('result', [Number(id)]),
		verityRpc<RequestJson | null>('request', [Number(id)]),
	]);
	if (!result || !request) throw new Failure(`verity_result(${id}) has no result`);
	if (request.inputHash !== inputHash) {
		throw new Failure(`the chain's input hash ${request.inputHash} is not ours, ${inputHash}`);
	}
	say('result', `request ${id}: ${request.status}, by ${result.by}`);
	if (result.output === null) throw new Failure(`verity_result(${id}) has no output bytes`);
	const output = hexToU8a(result.output);
	if (blake2AsHex(output) !== result.outputHash) {
		throw new Failure(`output bytes hash to ${blake2AsHex(output)}, not the committed ${result.outputHash}`);
	}
	const tensors = decodeTensors(output);
	tensors.forEach((t, i) => {
		const v = values(t);
		const float = t.dtype === 'F32' || t.dtype === 'F16';
		const shown = float ? (v as number[]).map((x) => Number(x.toPrecision(6))) : v;
		const best = float ? ` argmax ${(v as number[]).reduce((b, x, j, a) => (x > a[b]! ? j : b), 0)}` : '';
		say('result', `output ${i}: ${describe(t)}${best}: ${json(shown)}`);
	});
	say('result', `output hash ${result.outputHash} (blake2-256 of the output bytes: checked)`);

	let receipt: Record<string, unknown> | null = null;
	if (result.receipt) {
		const genesisHash = api.genesisHash.toHex();
		const checked = checkReceipt(
			result.receipt,
			genesisHash,
			id,
			model.id,
			inputHash,
			result.outputHash,
			executors,
			ss58,
		);
		say(
			'receipt',
			`message ${result.receipt.message} (keccak256 of "verity/receipt", 2, genesis ${genesisHash}, id, model, inputHash, outputHash: checked)`,
		);
		say('receipt', `signature ${result.receipt.signature}`);
		say(
			'receipt',
			`signer ${checked.signerAddress} (ecrecover; executor account ${checked.executor}, assigned: checked)`,
		);
		receipt = { ...result.receipt, signerAddress: checked.signerAddress, executorAccount: checked.executor };
	} else {
		say('receipt', "none: the output is a jury's, recorded by the chain");
	}
	const done = {
		ok: true,
		request: id,
		model: model.id,
		status: request.status,
		stage: status,
		requester: request.requester,
		inputHash,
		outputHash: result.outputHash,
		output: tensors.map((t) => ({ dtype: t.dtype, shape: t.shape, values: values(t) })),
		receipt,
		events: trail,
	};
	console.log(`RESULT ${json(done)}`);
	return 0;
}

main()
	.then(async (code) => {
		closing = true;
		process.exit(code);
	})
	.catch((e: unknown) => {
		closing = true;
		const usage =
			e instanceof UsageError ||
			e instanceof TensorError ||
			(e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'));
		const message = e instanceof Error ? e.message : String(e);
		console.error(`error: ${message}`);
		if (usage) console.error(USAGE);
		const details = e instanceof Failure ? e.details : {};
		console.log(
			`RESULT ${json({ ok: false, error: details.error ?? (usage ? 'Usage' : 'Error'), message, ...details })}`,
		);
		process.exit(usage ? 2 : 1);
	});
