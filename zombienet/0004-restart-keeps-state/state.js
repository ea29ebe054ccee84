// A node restarted on the same base path keeps all its state.
//   "before": Two delegates 500 VRT to Ferdie and requests the demo model (served: result
//             provisional); then what Eve's node reports is recorded: models
//             (verity_listModels), the request and its result (verity_request/verity_result),
//             both providers and Two's stake, its best and finalized block.
//   "after":  Eve's node was killed and started again with the same command and base path. Its
//             log says it loaded its database at the recorded height or above (a node with an
//             empty database starts at #0); at the recorded block it reports the same state
//             (request, providers, stake, balance) and now the same models and result; and
//             its keystore and model store still work: with Ferdie chilled a new request goes
//             to Eve and her node executes it.
const fs = require("fs");
const path = require("path");
const v = require("../lib/verity.js");

async function snapshot(api, at, id) {
	const a = await api.at(at);
	const two = v.account("Two").address;
	const eve = v.account("Eve").address;
	const ferdie = v.account("Ferdie").address;
	return {
		request: (await a.query.inference.requests(id)).toJSON(),
		eve: (await a.query.providers.providers(eve)).toJSON(),
		ferdie: (await a.query.providers.providers(ferdie)).toJSON(),
		twoStake: (await a.query.providers.stakes(ferdie, two)).toJSON(),
		two: (await a.query.system.account(two)).toJSON(),
	};
}

async function rpc(api, method, params) {
	return (await api._rpcCore.provider.send(method, params));
}

async function run(nodeName, networkInfo, args) {
	const [step] = args;
	const alice = await v.api(networkInfo, "alice");
	if (step === "before") {
		const two = v.account("Two");
		await v.submit(alice, alice.tx.providers.delegate(v.account("Ferdie").address, 500n * v.UNIT), two);
		const req = await v.requestDemo(alice, two);
		await v.waitEvent(alice, req.block, 90, "request provisional", (e) =>
			alice.events.inference.ResultProvisional.is(e) && e.data.request.toNumber() === req.id);
		const eve = await v.api(networkInfo, "eve");
		const fin = await v.waitFinalized(eve, req.block + 1, 60);
		const at = (await eve.rpc.chain.getBlockHash(fin)).toHex();
		const state = await snapshot(eve, at, req.id);
		v.check(state.request && state.eve && state.ferdie && state.twoStake, "the request, both providers and Two's stake are in Eve's state");
		const rep = {
			models: await rpc(eve, "verity_listModels", []),
			request: await rpc(eve, "verity_request", [req.id]),
			result: await rpc(eve, "verity_result", [req.id]),
		};
		v.check(Array.isArray(rep.models) && rep.models.length >= 1 && rep.result, `Eve reports ${rep.models.length} model(s) and request ${req.id}'s result`);
		v.save(networkInfo, { id: req.id, fin, at, best: await v.bestNumber(eve), state, rep });
		return 1;
	}
	if (step === "after") {
		const s = v.load(networkInfo);
		v.forget(networkInfo, "eve");
		const eve = await v.api(networkInfo, "eve");
		const logText = fs.readFileSync(path.join(networkInfo.tmpDir, "eve.log"), "utf8");
		const loaded = [...logText.matchAll(/Highest known block at #(\d+)/g)].map((m) => Number(m[1]));
		v.check(loaded.length >= 2 && loaded[loaded.length - 1] >= s.fin,
			`Eve's second start loaded its database at #${loaded[loaded.length - 1]} (first start: #${loaded[0]}; recorded finalized #${s.fin})`);
		const state = await snapshot(eve, s.at, s.id);
		v.check(JSON.stringify(state) === JSON.stringify(s.state), `at block #${s.fin} Eve reports the same request, providers, stake and balance`);
		const models = await rpc(eve, "verity_listModels", []);
		v.check(JSON.stringify(models) === JSON.stringify(s.rep.models), "verity_listModels unchanged");
		const result = await rpc(eve, "verity_result", [s.id]);
		v.check(JSON.stringify(result) === JSON.stringify(s.rep.result), `verity_result(${s.id}) unchanged (output and receipt)`);
		// Still a working provider: keystore and model store survived.
		const ferdie = v.account("Ferdie");
		await v.submit(alice, alice.tx.providers.chill(), ferdie);
		const req = await v.requestDemo(alice, v.account("Two"));
		await v.submit(alice, alice.tx.providers.unchill(), ferdie);
		v.check(req.provider === v.account("Eve").address, "with Ferdie chilled the new request goes to Eve");
		const prov = await v.waitEvent(alice, req.block, 90, "Eve's result", (e) =>
			alice.events.inference.ResultSubmitted.is(e) && e.data.request.toNumber() === req.id && e);
		v.check(prov.value.data.provider.toString() === v.account("Eve").address, `the restarted Eve node executed request ${req.id} (#${prov.number})`);
		return 1;
	}
	throw new Error(`unknown step ${step}`);
}

module.exports = { run };
