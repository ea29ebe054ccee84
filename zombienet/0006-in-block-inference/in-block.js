// In-block inference on four validators. Every output is computed by every validator while it
// imports the block (the deterministic mode), so the nodes agree or fork; this checks they agree.
//   "register": Bob registers int8 (quantized), cnn and batch (float) of execution class
//               Deterministic with their bytes on chain, each with the deterministic mode's
//               output as its Exact reference (precompiles/deterministic/pinned), and uploads
//               them; the validators' workers certify all three in the deterministic mode
//               (their FLOPs recorded, which in-block inference needs).
//   "infer":    Eve, Ferdie, One and Two each run every model inside a block, each through
//               another validator's node (12 calls). Every call gives exactly the pinned
//               output, whichever node authored the block.
//   "agree":    all four nodes finalize past the last call and hold the same block hash at
//               every height up to it, and the same InferredInBlock events.
const fs = require("fs");
const path = require("path");
const { compactToU8a, u8aConcat, u8aToHex, hexToU8a } = require("@polkadot/util");
const { blake2AsHex } = require("@polkadot/util-crypto");
const v = require("../lib/verity.js");

const DIR = path.join(__dirname, "../../precompiles/engine/models");
// The deterministic mode's outputs of the demo models (pinned by verity-deterministic's tests).
const PINNED = path.join(__dirname, "../../precompiles/deterministic/pinned");
const DTYPES = { f32: [0, "F32"], u8: [3, "U8"] };
const MODELS = [
	{ name: "int8", dtype: "u8", input: [1, 64], output: [1, 10] },
	{ name: "cnn", dtype: "f32", input: [1, 1, 28, 28], output: [1, 10] },
	{ name: "batch", dtype: "f32", input: [3, 16], output: [3, 4], inDims: [null, 16], outDims: [null, 4] },
];

/** `verity_engine::encode_tensors` of one tensor. */
function tensorList(dtype, dims, data) {
	const shape = new Uint8Array(4 * dims.length);
	dims.forEach((d, i) => new DataView(shape.buffer).setUint32(4 * i, d, true));
	return u8aToHex(u8aConcat(compactToU8a(1), new Uint8Array([DTYPES[dtype][0]]), compactToU8a(dims.length), shape, compactToU8a(data.length), data));
}

function files(m) {
	const bytes = new Uint8Array(fs.readFileSync(path.join(DIR, `${m.name}.onnx`)));
	const input = tensorList(m.dtype, m.input, new Uint8Array(fs.readFileSync(path.join(DIR, `${m.name}.input.bin`))));
	const output = tensorList(m.dtype, m.output, new Uint8Array(fs.readFileSync(path.join(PINNED, `${m.name}.output.bin`))));
	return { bytes, id: blake2AsHex(bytes, 256), input, output };
}

async function run(nodeName, networkInfo, args) {
	const api = await v.api(networkInfo, nodeName);
	const [step] = args;
	if (step === "register") {
		const bob = v.account("Bob");
		const demo = (await api.query.models.models(v.DEMO_MODEL)).unwrap();
		const engineVersion = demo.spec.engineVersion.toNumber();
		let from = await v.bestNumber(api);
		for (const m of MODELS) {
			const f = files(m);
			const spec = {
				name: m.name,
				inputs: [{ dtype: DTYPES[m.dtype][1], dims: m.inDims || m.input }],
				outputs: [{ dtype: DTYPES[m.dtype][1], dims: m.outDims || m.output }],
				opset: 17,
				engineVersion,
				pricePerCall: v.UNIT / 1000n,
				acceptance: "Exact",
				execution: "Deterministic",
				byteSize: f.bytes.length,
				maxConstantBytes: 4 << 20,
				availability: "OnChain",
				referenceInput: f.input,
				referenceOutput: f.output,
			};
			await v.submit(api, api.tx.models.registerModel(f.id, spec), bob);
			await v.submit(api, api.tx.models.uploadChunk(f.id, 0, u8aToHex(f.bytes)), bob);
			const active = await v.waitEvent(api, from, 120, `${m.name} activated`, (e) => {
				if (api.events.models.ModelRejected.is(e) && e.data.model.toHex() === f.id)
					throw new Error(`${m.name} rejected: ${e.data.reason}`);
				return api.events.models.ModelActivated.is(e) && e.data.model.toHex() === f.id && e;
			});
			v.check(active.value.data.bounds.flops.toBigInt() > 0n, `${m.name} certified in #${active.number} with ${active.value.data.bounds.flops} FLOPs`);
		}
		return 1;
	}
	if (step === "infer") {
		const start = await v.bestNumber(api);
		// Accounts no validator's worker signs with (a validator's account is its BABE key's).
		const callers = [["alice", "Eve"], ["bob", "Ferdie"], ["charlie", "One"], ["dave", "Two"]];
		// The four callers in parallel, each one's calls in turn (their nonces in order).
		const perCaller = await Promise.all(callers.map(async ([node, who]) => {
			const a = await v.api(networkInfo, node);
			const done = [];
			for (const m of MODELS) {
				const f = files(m);
				done.push({ r: await v.submit(a, a.tx.inference.infer(f.id, f.input), v.account(who)), m, f, node });
			}
			return done;
		}));
		const results = perCaller.flat();
		const outputs = {};
		let last = start;
		const blocks = new Set();
		for (const { r, m, f, node } of results) {
			const ev = r.events.map((e) => e.event).find((e) => api.events.inference.InferredInBlock.is(e));
			if (!ev) throw new Error(`no InferredInBlock for ${m.name} via ${node}`);
			const out = ev.data.output.toHex();
			v.check(out === f.output, `${m.name} via ${node} in #${r.number}: exactly the pinned output`);
			(outputs[m.name] = outputs[m.name] || new Set()).add(out);
			last = Math.max(last, r.number);
			blocks.add(r.hash);
		}
		for (const m of MODELS) v.check(outputs[m.name].size === 1, `${m.name}: the same output bytes in all 4 calls`);
		v.log(`12 in-block inferences in blocks #${start}..#${last}, ${blocks.size} blocks in all`);
		v.save(networkInfo, { last });
		return 1;
	}
	if (step === "agree") {
		const { last } = v.load(networkInfo);
		const nodes = ["alice", "bob", "charlie", "dave"];
		const apis = await Promise.all(nodes.map((n) => v.api(networkInfo, n)));
		await Promise.all(apis.map((a) => v.waitFinalized(a, last + 2, 180)));
		for (let n = 1; n <= last + 2; n++) {
			const hashes = await Promise.all(apis.map((a) => a.rpc.chain.getBlockHash(n)));
			const distinct = new Set(hashes.map((h) => h.toHex()));
			if (distinct.size !== 1) throw new Error(`#${n}: the nodes hold different blocks ${[...distinct]}`);
		}
		v.check(true, `all four nodes finalized the same ${last + 2} blocks`);
		let inferred = 0;
		for (let n = 1; n <= last; n++) {
			const hash = (await apis[0].rpc.chain.getBlockHash(n)).toHex();
			const seen = await Promise.all(apis.map(async (a) => (await v.eventsAt(a, hash))
				.filter((e) => a.events.inference.InferredInBlock.is(e)).map((e) => e.toHex()).join()));
			if (new Set(seen).size !== 1) throw new Error(`#${n}: the nodes report different InferredInBlock events`);
			inferred += seen[0] ? seen[0].split(",").length : 0;
		}
		v.check(inferred === 12, `every node reports the same 12 InferredInBlock events`);
		return 1;
	}
	throw new Error(`unknown step ${step}`);
}

module.exports = { run };
