// A faulty provider under request spam, and an honest watcher (Soundness II, "Measured").
//   "watch": audits off (sudo); Charlie, Dave, One and Two send BURSTS x PER_BURST requests of
//            the demo model, one burst a block, without waiting for inclusion. Bob watches every
//            block: each provisional result whose hash differs from his own run of the model
//            (`verity_dryRun` on Eve's node) is challenged at once. Checks, once every request
//            has settled:
//            - every request was served: no deadline missed, no refund but after a verdict (the
//              workers keep up and sign with the pool's next nonce under the spam);
//            - every result of Ferdie's (faulty) node was wrong and every one of Eve's right;
//            - every wrong result was challenged by Bob, and its dispute ended `SomeWrong` with
//              Ferdie slashed (`ExecutorSlashed`) and Bob rewarded, within MAX_SLASH_BLOCKS of
//              the challenge's block; no right result was challenged;
//            - Ferdie's stake fell by exactly the slashes.
//            Prints the blocks from challenge to slash (MEASURE lines).
const v = require("../lib/verity.js");

const SPAMMERS = ["Charlie", "Dave", "One", "Two"];
// The spam's size; the environment can raise it (docs/security.md has a heavier run).
const BURSTS = Number(process.env.VERITY_SPAM_BURSTS || 4);
const PER_BURST = Number(process.env.VERITY_SPAM_PER_BURST || 12);
// runtime/src/configs/verity.rs: the jury's draw (DRAW_DELAY, pushed up to TALLY_LOOKAHEAD
// blocks by full queues) then a dispute (DISPUTE_PERIOD: commit, reveal, a tally pushed up to
// TALLY_LOOKAHEAD), counted from the challenge's block; docs/security.md.
const DRAW_DELAY = 2;
const TALLY_LOOKAHEAD = 16;
const DISPUTE_PERIOD = 5 + 5 + TALLY_LOOKAHEAD;
const MAX_SLASH_BLOCKS = DRAW_DELAY + TALLY_LOOKAHEAD + DISPUTE_PERIOD;

/** Submits `tx` signed by `pair` with `nonce`; resolves once the pool has it, with
 *  { block }: a promise of its block, { number, ok, error } (wrapped, so that awaiting the
 *  submission does not wait for the block). */
function send(api, tx, pair, nonce) {
	return new Promise((pooled, refused) => {
		let included;
		const block = new Promise((r) => (included = r));
		tx.signAndSend(pair, { nonce }, async ({ status, dispatchError }) => {
			if (status.isReady || status.isBroadcast) pooled({ block });
			if (status.isInvalid || status.isDropped || status.isUsurped) {
				refused(new Error(`${tx.method.section}.${tx.method.method}: ${status.type}`));
				included({ number: null, ok: false, error: status.type });
			}
			if (!status.isInBlock) return;
			const header = await api.rpc.chain.getHeader(status.asInBlock);
			let error = null;
			if (dispatchError) {
				error = dispatchError.toString();
				if (dispatchError.isModule) {
					const m = api.registry.findMetaError(dispatchError.asModule);
					error = `${m.section}.${m.name}`;
				}
			}
			pooled({ block });
			included({ number: header.number.toNumber(), ok: !dispatchError, error });
		}).catch(refused);
	});
}

async function nonceOf(api, pair) {
	return (await api.rpc.system.accountNextIndex(pair.address)).toNumber();
}

async function stakeOf(api, who, hash) {
	const at = hash ? await api.at(hash) : api;
	const p = await at.query.providers.providers(who);
	return p.unwrap().pool.balance.toBigInt();
}

async function run(nodeName, networkInfo, args) {
	const api = await v.api(networkInfo, nodeName);
	if (args[0] !== "watch") throw new Error(`unknown step ${args[0]}`);
	const alice = v.account("Alice");
	const bob = v.account("Bob");
	const eve = v.account("Eve").address;
	const ferdie = v.account("Ferdie").address;

	// Audits off: an audit of Ferdie's result would be raised by Eve, the only other provider,
	// and leave its dispute without a jury.
	await v.submit(api, api.tx.sudo.sudo(api.tx.inference.setAuditRate(0)), alice);
	// Bob's own run of the model on the spam's input.
	const eveApi = await v.api(networkInfo, "eve");
	const dry = await eveApi._rpcCore.provider.send("verity_dryRun", [v.DEMO_MODEL, v.demoInput()]);
	const right = dry.outputHash;
	v.log(`Bob's run of the demo model: output hash ${right}`);
	const ferdieBefore = await stakeOf(api, ferdie);

	const start = await v.bestNumber(api);
	const pairs = SPAMMERS.map(v.account);
	const nonces = await Promise.all(pairs.map((p) => nonceOf(api, p)));
	const tx = () => api.tx.inference.request(v.DEMO_MODEL, v.demoInput(), v.UNIT, "Optimistic");
	const spam = (async () => {
		const blocks = [];
		for (let b = 0; b < BURSTS; b++) {
			const burst = [];
			for (let i = 0; i < PER_BURST; i++) {
				const k = i % pairs.length;
				burst.push(send(api, tx(), pairs[k], nonces[k]++));
			}
			blocks.push(...(await Promise.all(burst)).map((s) => s.block));
			v.log(`burst ${b + 1}: ${PER_BURST} requests in the pool`);
			await v.sleep(6000);
		}
		return Promise.all(blocks);
	})();

	// The watcher: every finalized block from `start`, in order (a best block can still be
	// retracted for a sibling under BABE).
	const requested = new Set(); // ids of the spam's requests
	const by = new Map(); // id -> provider of its posted result
	const provisional = new Map(); // id -> { hash, at }
	const challenged = new Map(); // id -> { block (promise) }
	const resolved = new Map(); // id -> { number, conclusion, slashed, rewarded }
	const missed = [];
	const timeline = {}; // id -> dispute events, for the failure message
	const refunded = [];
	let slashedTotal = 0n;
	let bobNonce = await nonceOf(api, bob);
	let spamDone = false;
	spam.then(() => (spamDone = true));
	const deadline = Date.now() + 540 * 1000;
	let next = start;
	const spammers = new Set(pairs.map((p) => p.address));
	const settled = () => [...requested].every((id) => (provisional.has(id)
		? (provisional.get(id).hash === right ? provisional.get(id).final : (resolved.get(id) || {}).number)
		: refunded.includes(id)));
	while (!(spamDone && requested.size === BURSTS * PER_BURST && settled())) {
		if (Date.now() > deadline) throw new Error(`not settled in time: ${requested.size} requests, ` +
			`${provisional.size} provisional, ${challenged.size} challenged, ${resolved.size} resolved`);
		const head = await v.finalizedNumber(api);
		for (; next <= head; next++) {
			const hash = await api.rpc.chain.getBlockHash(next);
			const records = await (await api.at(hash)).query.system.events();
			const wrong = [];
			const count = {};
			for (const { event: e } of records) {
				const key = `${e.section}.${e.method}`;
				count[key] = (count[key] || 0) + 1;
				if (api.events.disputes.DisputeOpened.is(e) || api.events.disputes.VoteCommitted.is(e) ||
					api.events.disputes.VoteRevealed.is(e)) {
					const id = e.data.request.toNumber();
					(timeline[id] = timeline[id] || []).push(`${e.method}@${next}` +
						(e.data.commitEnd ? `(commit<${e.data.commitEnd},reveal<${e.data.revealEnd})` : ""));
				}
				if (api.events.inference.Requested.is(e) && spammers.has(e.data.requester.toString()))
					requested.add(e.data.request.toNumber());
				const id = e.data && e.data.request ? e.data.request.toNumber() : null;
				if (id === null || !requested.has(id)) continue;
				if (api.events.inference.ResultSubmitted.is(e)) by.set(id, e.data.provider.toString());
				if (api.events.inference.ResultProvisional.is(e)) {
					const h = e.data.outputHash.toHex();
					provisional.set(id, { hash: h, at: next, until: e.data.until.toNumber() });
					if (h !== right) wrong.push(id);
				}
				if (api.events.inference.ResultFinalized.is(e) && provisional.has(id))
					provisional.get(id).final = next;
				if (api.events.inference.DeadlineMissed.is(e)) missed.push([id, e.data.provider.toString()]);
				if (api.events.inference.Refunded.is(e)) refunded.push(id);
				if (api.events.inference.ExecutorSlashed.is(e)) {
					resolved.set(id, Object.assign(resolved.get(id) || {}, { slashed: e.data.provider.toString() }));
					slashedTotal += e.data.slashed.toBigInt();
				}
				if (api.events.disputes.JuryDrawScheduled.is(e) && challenged.has(id))
					challenged.get(id).at = next;
				if (api.events.disputes.ChallengerRewarded.is(e) && e.data.challenger.toString() === bob.address)
					resolved.set(id, Object.assign(resolved.get(id) || {}, { rewarded: true }));
				if (api.events.disputes.JurorPenalized.is(e) || api.events.disputes.JurorExcused.is(e))
					v.log(`#${next}: ${e.section}.${e.method} ${JSON.stringify(e.data.toHuman())}`);
				if (api.events.disputes.DisputeResolved.is(e))
					resolved.set(id, Object.assign(resolved.get(id) || {},
						{ number: next, conclusion: e.data.conclusion.toString() }));
			}
			// Challenge every wrong result at once (the watcher reads finalized blocks: two or
			// three blocks after the result, well inside the 10-block window).
			for (const id of wrong) {
				const { block } = await send(api, api.tx.disputes.challenge(id), bob, bobNonce++);
				challenged.set(id, { block, seen: next });
			}
			const shown = ["inference.Requested", "inference.ResultSubmitted", "disputes.VoteCommitted",
				"disputes.VoteRevealed", "disputes.DisputeOpened", "disputes.DisputeResolved", "disputes.JurorPenalized"];
			v.log(`#${next}: ${shown.filter((k) => count[k]).map((k) => `${k.split(".")[1]} ${count[k]}`).join(", ")}`);
			if (wrong.length) v.log(`#${next}: ${wrong.length} wrong results, challenged: ${wrong.join(", ")}`);
		}
		await v.sleep(1000);
	}
	const sent = await spam;
	v.check(sent.every((b) => b.ok), `all ${sent.length} spam requests were included and dispatched`);
	v.check(missed.length === 0, `no deadline missed under the spam (${JSON.stringify(missed)})`);
	// A wrong result's requester is refunded after the verdict; nothing else is.
	v.check(refunded.every((id) => challenged.has(id)), "no request refunded but the wrong results'");
	const ids = [...requested];
	const ferdies = ids.filter((id) => by.get(id) === ferdie);
	const eves = ids.filter((id) => by.get(id) === eve);
	v.check(ferdies.length > 0 && eves.length > 0 && ferdies.length + eves.length === ids.length,
		`${ids.length} results: ${ferdies.length} by Ferdie, ${eves.length} by Eve`);
	v.check(ferdies.every((id) => provisional.get(id).hash !== right), "every result of Ferdie's is wrong");
	v.check(eves.every((id) => provisional.get(id).hash === right && provisional.get(id).final),
		"every result of Eve's is right and was finalized unchallenged");
	v.check([...challenged.keys()].sort().join() === ferdies.sort().join(),
		"Bob challenged exactly Ferdie's results");
	const spans = [];
	for (const id of ferdies) {
		const c = await challenged.get(id).block;
		const at = challenged.get(id).at;
		v.check(c.ok && at, `challenge of ${id} dispatched in #${at}${c.error ? `: ${c.error}` : ""}`);
		const r = resolved.get(id);
		v.check(r && r.conclusion === "SomeWrong" && r.slashed === ferdie && r.rewarded,
			`request ${id}: SomeWrong, Ferdie slashed, Bob rewarded (${JSON.stringify(r)}; ${timeline[id]})`);
		spans.push([id, provisional.get(id).at, at, r.number]);
	}
	const blocks = spans.map(([, , c, r]) => r - c).sort((a, b) => a - b);
	const fromResult = spans.map(([, p, , r]) => r - p).sort((a, b) => a - b);
	v.log(`MEASURE challenge -> slash, blocks: min ${blocks[0]}, median ${blocks[blocks.length >> 1]}, ` +
		`max ${blocks[blocks.length - 1]} (bound ${MAX_SLASH_BLOCKS}); provisional result -> slash: ` +
		`min ${fromResult[0]}, max ${fromResult[fromResult.length - 1]}; ${spans.length} disputes, ` +
		`blocks #${start}..#${next - 1}`);
	v.check(blocks[blocks.length - 1] <= MAX_SLASH_BLOCKS,
		`every faulty result slashed within ${MAX_SLASH_BLOCKS} blocks of its challenge`);
	const last = await api.rpc.chain.getBlockHash(next - 1);
	const ferdieAfter = await stakeOf(api, ferdie, last);
	v.check(ferdieBefore - ferdieAfter === slashedTotal,
		`Ferdie's bond fell by exactly the slashes (${ferdieBefore} -> ${ferdieAfter})`);
	return 1;
}

module.exports = { run };
