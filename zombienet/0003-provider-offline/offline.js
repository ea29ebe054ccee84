// The assigned provider is offline: its request is reassigned or refunded, no fee is lost.
// Two is the requester and does nothing else, so its balance is accounted for exactly.
//   "reassign": Eve's node is stopped. With Ferdie chilled, Two's request R1 goes to Eve;
//               Ferdie unchills. Eve misses the deadline (DeadlineMissed, 1 % of her stake
//               burned), R1 is reassigned to Ferdie, whose node executes it (provisional).
//   "refund":   Ferdie's node is stopped too. R2 goes to one of them, misses the deadline,
//               goes to the other, misses again and is refunded in full (Refunded = the fee
//               held). Meanwhile R1 finalizes paying one execution fee (Ferdie's) and the
//               royalty, not Eve's. Two holds only the two requests' storage deposits
//               afterwards (released when they are pruned) and its balance moved by exactly:
//               - transaction fees - royalty - one execution fee (the penalties are burned,
//               never paid to the requester).
const v = require("../lib/verity.js");

async function run(nodeName, networkInfo, args) {
	const api = await v.api(networkInfo, nodeName);
	const two = v.account("Two");
	const eve = v.account("Eve");
	const ferdie = v.account("Ferdie");
	const [step] = args;
	if (step === "reassign") {
		await v.submit(api, api.tx.providers.chill(), ferdie);
		const start = await v.total(api, two.address);
		const r1 = await v.requestDemo(api, two);
		v.check(r1.provider === eve.address, "with Ferdie chilled, R1 is assigned to Eve (whose node is stopped)");
		await v.submit(api, api.tx.providers.unchill(), ferdie);
		const missed = await v.waitEvent(api, r1.block, 120, `R1 deadline missed`, (e) =>
			api.events.inference.DeadlineMissed.is(e) && e.data.request.toNumber() === r1.id && e);
		v.check(missed.value.data.provider.toString() === eve.address && missed.value.data.slashed.toBigInt() > 0n,
			`Eve missed R1's deadline in #${missed.number} and lost ${missed.value.data.slashed} planck`);
		const re = await v.waitEvent(api, missed.number, 60, "R1 reassigned", (e) =>
			api.events.inference.Assigned.is(e) && e.data.request.toNumber() === r1.id && e);
		v.check(re.value.data.provider.toString() === ferdie.address,
			`R1 reassigned to Ferdie in #${re.number}, drawn after the miss`);
		const prov = await v.waitEvent(api, missed.number, 90, "R1 provisional", (e) =>
			api.events.inference.ResultProvisional.is(e) && e.data.request.toNumber() === r1.id);
		v.log(`R1 provisional (Ferdie's result) in #${prov.number}`);
		v.save(networkInfo, { start, r1: { id: r1.id, block: r1.block, fee: r1.fee, txFee: r1.txFee },
			penalties: [missed.value.data.slashed.toBigInt()] });
		return 1;
	}
	if (step === "refund") {
		const s = v.load(networkInfo);
		const r2 = await v.requestDemo(api, two);
		const missed = [];
		const refunded = await v.waitEvent(api, r2.block, 180, "R2 refunded", (e) => {
			if (api.events.inference.DeadlineMissed.is(e) && e.data.request.toNumber() === r2.id)
				missed.push([e.data.provider.toString(), e.data.slashed.toBigInt()]);
			return api.events.inference.Refunded.is(e) && e.data.request.toNumber() === r2.id && e;
		});
		v.check(missed.length === 2 && new Set(missed.map((m) => m[0])).size === 2,
			`R2 missed its deadline at both providers (${missed.map((m) => v.name(m[0]))}) before the refund`);
		v.check(refunded.value.data.amount.toBigInt() === r2.fee,
			`R2 refunded in #${refunded.number}: ${refunded.value.data.amount} planck = the fee held`);
		const fin = await v.waitEvent(api, s.r1.block, 120, "R1 finalized", (e) =>
			api.events.inference.ResultFinalized.is(e) && e.data.request.toNumber() === s.r1.id && e);
		const royalty = fin.value.data.royalty.toBigInt();
		const paid = fin.value.data.executionFees.toBigInt();
		v.check(paid === v.EXECUTION_FEE, `R1 finalized in #${fin.number} paying one execution fee (${paid}) and royalty ${royalty}`);
		const end = Math.max(fin.number, refunded.number);
		const endHash = (await api.rpc.chain.getBlockHash(end)).toHex();
		const after = await v.total(api, two.address, endHash);
		const at = await api.at(endHash);
		const holds = await at.query.balances.holds(two.address);
		const deposits = (await at.query.inference.deposits(s.r1.id)).unwrap().toBigInt() +
			(await at.query.inference.deposits(r2.id)).unwrap().toBigInt();
		const held = holds.reduce((a, h) => a + h.amount.toBigInt(), 0n);
		v.check(holds.every((h) => h.id.isInference && h.id.asInference.isStorageDeposit) && held === deposits,
			`Two holds only the storage deposits (${held} planck) once both requests ended`);
		const penalties = s.penalties.concat(missed.map((m) => m[1])).reduce((a, b) => a + b, 0n);
		const expected = s.start.total - s.r1.txFee - r2.txFee - royalty - paid;
		v.check(after.total === expected,
			`Two's balance ${s.start.total} -> ${after.total} = - tx fees ${s.r1.txFee + r2.txFee} - royalty ${royalty} - execution fee ${paid} (penalties of ${penalties} burned)`);
		return 1;
	}
	throw new Error(`unknown step ${step}`);
}

module.exports = { run };
