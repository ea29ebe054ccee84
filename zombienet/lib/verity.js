// Helpers shared by the scenarios' js-scripts (zombienet loads them with `require`; `zombie`
// is the global zombienet sets: ApiPromise, WsProvider, Keyring, connect). Everything talks to
// the real nodes over their RPC; nothing is mocked.
const fs = require("fs");
const path = require("path");
const { compactToU8a, u8aConcat, u8aToHex } = require("@polkadot/util");
const { blake2AsHex } = require("@polkadot/util-crypto");

const UNIT = 10n ** 12n;
// The demo model (runtime/src/genesis_config_presets.rs, `demo_model::ID`).
const DEMO_MODEL = "0x7104290f633e7262b9e7809599b593788c6c4cf30a19f0196d9fed0917e3a381";
// runtime/src/configs/verity.rs
const CHALLENGE_BOND = 10n * UNIT;
const EXECUTION_FEE = 10n * (UNIT / 1000n);

function log(...args) {
	console.log(`      [verity ${new Date().toISOString().slice(11, 19)}]`, ...args);
}

function sleep(ms) {
	return new Promise((r) => setTimeout(r, ms));
}

/** An API connection to node `name`, cached for the whole zombienet run. */
const apis = {};
async function api(networkInfo, name) {
	const uri = networkInfo.nodesByName[name].wsUri;
	if (!apis[uri] || !apis[uri].isConnected) apis[uri] = await zombie.connect(uri);
	await apis[uri].isReady;
	return apis[uri];
}

/** Forget a connection (its node restarted). */
function forget(networkInfo, name) {
	const uri = networkInfo.nodesByName[name].wsUri;
	if (apis[uri]) apis[uri].disconnect().catch(() => {});
	delete apis[uri];
}

/** The sr25519 dev account `//Name`. */
function account(name) {
	const keyring = new zombie.Keyring({ type: "sr25519" });
	return keyring.addFromUri(`//${name}`);
}

/** The demo model's reference input in the canonical tensor-list encoding
 *  (`verity_engine::encode_tensors`: SCALE Vec<(u8 dtype, Vec<u32> shape, Vec<u8> data)>). */
function demoInput() {
	const data = fs.readFileSync(
		path.join(__dirname, "../../precompiles/engine/models/mlp.input.bin"),
	);
	const dims = new Uint8Array(8);
	new DataView(dims.buffer).setUint32(0, 1, true);
	new DataView(dims.buffer).setUint32(4, 64, true);
	return u8aToHex(
		u8aConcat(
			compactToU8a(1),
			new Uint8Array([0]), // F32
			compactToU8a(2),
			dims,
			compactToU8a(data.length),
			new Uint8Array(data),
		),
	);
}

/** Signs and submits `tx` as `pair`, waits for its block; throws on a dispatch error.
 *  Returns { hash, number, events (of this extrinsic), fee }. */
async function submit(api, tx, pair) {
	return new Promise((resolve, reject) => {
		let unsub;
		tx.signAndSend(pair, { nonce: -1 }, async (result) => {
			const { status, events, dispatchError } = result;
			if (status.isInvalid || status.isDropped || status.isUsurped) {
				reject(new Error(`transaction ${status.type}`));
			}
			if (!status.isInBlock) return;
			if (unsub) unsub();
			if (dispatchError) {
				let msg = dispatchError.toString();
				if (dispatchError.isModule) {
					const m = api.registry.findMetaError(dispatchError.asModule);
					msg = `${m.section}.${m.name}`;
				}
				return reject(new Error(`${tx.method.section}.${tx.method.method} failed: ${msg}`));
			}
			const hash = status.asInBlock.toHex();
			const header = await api.rpc.chain.getHeader(hash);
			let fee = 0n;
			for (const { event } of events) {
				if (api.events.transactionPayment.TransactionFeePaid.is(event))
					fee += event.data.actualFee.toBigInt();
			}
			resolve({ hash, number: header.number.toNumber(), events, fee });
		})
			.then((u) => (unsub = u))
			.catch(reject);
	});
}

/** Scans the best chain from block `from` on until `pick(event, number, hash)` returns a
 *  value; returns { value, number, hash }. Throws after `seconds`. */
async function waitEvent(api, from, seconds, what, pick) {
	const deadline = Date.now() + seconds * 1000;
	let next = from;
	while (Date.now() < deadline) {
		const best = (await api.rpc.chain.getHeader()).number.toNumber();
		for (; next <= best; next++) {
			const hash = await api.rpc.chain.getBlockHash(next);
			const records = await (await api.at(hash)).query.system.events();
			for (const { event } of records) {
				const value = pick(event, next, hash.toHex());
				if (value !== undefined && value !== null && value !== false)
					return { value, number: next, hash: hash.toHex() };
			}
		}
		await sleep(1000);
	}
	throw new Error(`timed out after ${seconds} s waiting for ${what}`);
}

/** All events of block `hash`. */
async function eventsAt(api, hash) {
	return (await (await api.at(hash)).query.system.events()).map((r) => r.event);
}

/**
 * Requests the demo model (optimistic) as `requester` and waits for its executor, drawn two
 * blocks later from randomness revealed after the request's block; returns
 * { id, provider, fee, block (the request's), assignedAt, txFee }.
 */
async function requestDemo(api, requester) {
	return request(api, requester, DEMO_MODEL, demoInput());
}

/** `requestDemo` for any `model` and encoded `input`. */
async function request(api, requester, model, input) {
	const tx = api.tx.inference.request(model, input, UNIT, "Optimistic");
	const r = await submit(api, tx, requester);
	let id, fee;
	for (const { event } of r.events) {
		if (api.events.inference.Requested.is(event)) {
			id = event.data.request.toNumber();
			fee = event.data.fee.toBigInt();
		}
	}
	if (id === undefined) throw new Error("no Requested event");
	const assigned = await waitEvent(api, r.number, 60, `request ${id} assigned`, (e) =>
		api.events.inference.Assigned.is(e) && e.data.request.toNumber() === id && e);
	const provider = assigned.value.data.provider.toString();
	log(`request ${id} (fee ${fee}) in block #${r.number}, assigned to ${name(provider)} in #${assigned.number}`);
	return { id, provider, fee, block: r.number, assignedAt: assigned.number, txFee: r.fee };
}

/** Free + reserved of `who` at block `hash` (latest when omitted). */
async function total(api, who, hash) {
	const at = hash ? await api.at(hash) : api;
	const { data } = await at.query.system.account(who);
	return { free: data.free.toBigInt(), reserved: data.reserved.toBigInt(), total: data.free.toBigInt() + data.reserved.toBigInt() };
}

const NAMES = ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie", "One", "Two"];
function name(address) {
	for (const n of NAMES) if (account(n).address === address) return n;
	return address;
}

// The demo models' files, and the deterministic mode's outputs of them on their reference
// inputs (pinned by verity-deterministic's tests).
const MODELS_DIR = path.join(__dirname, "../../precompiles/engine/models");
const PINNED_DIR = path.join(__dirname, "../../precompiles/deterministic/pinned");
const DTYPES = { f32: [0, "F32"], u8: [3, "U8"] };
// Shapes of the demo models run as `Deterministic` models (`inDims`/`outDims`: the spec's,
// when the batch is dynamic).
const DETERMINISTIC_MODELS = {
	int8: { name: "int8", dtype: "u8", input: [1, 64], output: [1, 10] },
	cnn: { name: "cnn", dtype: "f32", input: [1, 1, 28, 28], output: [1, 10] },
	batch: { name: "batch", dtype: "f32", input: [3, 16], output: [3, 4], inDims: [null, 16], outDims: [null, 4] },
};

/** `verity_engine::encode_tensors` of one tensor. */
function tensorList(dtype, dims, data) {
	const shape = new Uint8Array(4 * dims.length);
	dims.forEach((d, i) => new DataView(shape.buffer).setUint32(4 * i, d, true));
	return u8aToHex(u8aConcat(compactToU8a(1), new Uint8Array([DTYPES[dtype][0]]), compactToU8a(dims.length), shape, compactToU8a(data.length), data));
}

/** Demo model `m` (of DETERMINISTIC_MODELS): its bytes, content hash, reference input and
 *  pinned deterministic output (encoded tensor lists), and the output's hash as the chain
 *  reports it (blake2-256 of the encoded bytes). */
function pinnedModel(m) {
	const bytes = new Uint8Array(fs.readFileSync(path.join(MODELS_DIR, `${m.name}.onnx`)));
	const input = tensorList(m.dtype, m.input, new Uint8Array(fs.readFileSync(path.join(MODELS_DIR, `${m.name}.input.bin`))));
	const output = tensorList(m.dtype, m.output, new Uint8Array(fs.readFileSync(path.join(PINNED_DIR, `${m.name}.output.bin`))));
	return { bytes, id: blake2AsHex(bytes, 256), input, output, outputHash: blake2AsHex(output, 256) };
}

/** `owner` registers demo model `m` as `Deterministic` (`Exact`, the pinned output as its
 *  reference) with its bytes on chain, uploads them, and waits for the validators' workers to
 *  certify it; returns the ModelActivated event's { value, number }. */
async function registerDeterministic(api, m, owner) {
	const f = pinnedModel(m);
	const demo = (await api.query.models.models(DEMO_MODEL)).unwrap();
	const from = await bestNumber(api);
	const spec = {
		name: m.name,
		inputs: [{ dtype: DTYPES[m.dtype][1], dims: m.inDims || m.input }],
		outputs: [{ dtype: DTYPES[m.dtype][1], dims: m.outDims || m.output }],
		opset: 17,
		engineVersion: demo.spec.engineVersion.toNumber(),
		pricePerCall: UNIT / 1000n,
		acceptance: "Exact",
		execution: "Deterministic",
		byteSize: f.bytes.length,
		maxConstantBytes: 4 << 20,
		availability: "OnChain",
		referenceInput: f.input,
		referenceOutput: f.output,
	};
	await submit(api, api.tx.models.registerModel(f.id, spec), owner);
	await submit(api, api.tx.models.uploadChunk(f.id, 0, u8aToHex(f.bytes)), owner);
	const active = await waitEvent(api, from, 120, `${m.name} activated`, (e) => {
		if (api.events.models.ModelRejected.is(e) && e.data.model.toHex() === f.id)
			throw new Error(`${m.name} rejected: ${e.data.reason}`);
		return api.events.models.ModelActivated.is(e) && e.data.model.toHex() === f.id && e;
	});
	check(active.value.data.bounds.flops.toBigInt() > 0n, `${m.name} certified in #${active.number} with ${active.value.data.bounds.flops} FLOPs`);
	return active;
}

/** Scenario state shared between the js-script steps of one run (in zombienet's tmp dir). */
function save(networkInfo, state) {
	fs.writeFileSync(path.join(networkInfo.tmpDir, "verity-state.json"), JSON.stringify(state, (_, v) => (typeof v === "bigint" ? `${v}n` : v), 1));
}
function load(networkInfo) {
	return JSON.parse(fs.readFileSync(path.join(networkInfo.tmpDir, "verity-state.json")), (_, v) =>
		typeof v === "string" && /^[0-9]+n$/.test(v) ? BigInt(v.slice(0, -1)) : v,
	);
}

function check(cond, msg) {
	if (!cond) throw new Error(`assertion failed: ${msg}`);
	log(`ok: ${msg}`);
}

/** Waits until `node`'s finalized number is at least `n`; returns its finalized number. */
async function waitFinalized(api, n, seconds) {
	const deadline = Date.now() + seconds * 1000;
	while (Date.now() < deadline) {
		const number = await finalizedNumber(api);
		if (number >= n) return number;
		await sleep(1000);
	}
	throw new Error(`finalized height ${n} not reached within ${seconds} s`);
}

async function bestNumber(api) {
	return (await api.rpc.chain.getHeader()).number.toNumber();
}
async function finalizedNumber(api) {
	const head = await api.rpc.chain.getFinalizedHead();
	return (await api.rpc.chain.getHeader(head)).number.toNumber();
}

module.exports = {
	UNIT, DEMO_MODEL, CHALLENGE_BOND, EXECUTION_FEE, DETERMINISTIC_MODELS,
	log, sleep, api, forget, account, demoInput, submit, waitEvent, eventsAt, requestDemo, request, total,
	name, save, load, check, waitFinalized, bestNumber, finalizedNumber, tensorList, pinnedModel,
	registerDeterministic,
};
