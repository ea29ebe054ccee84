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
const v = require("../lib/verity.js");

const MODELS = [v.DETERMINISTIC_MODELS.int8, v.DETERMINISTIC_MODELS.cnn, v.DETERMINISTIC_MODELS.batch];
const files = v.pinnedModel;

async function run(nodeName, networkInfo, args) {
	const api = await v.api(networkInfo, nodeName);
	const [step] = args;
	if (step === "register") {
		const bob = v.account("Bob");
		for (const m of MODELS) await v.registerDeterministic(api, m, bob);
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
