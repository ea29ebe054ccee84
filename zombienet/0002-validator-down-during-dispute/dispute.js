// A bogus challenge of an honest result, with a validator stopped while the jury works.
//   "open":     Two requests the demo model; once the result is provisional Bob challenges it;
//               the dispute opens with the other provider as the jury.
//   "resolved": the dispute ends `AllCorrect` (the jury upheld the result), Bob's bond went to
//               the accused provider (ChallengerSlashed, Bob lost exactly bond + fee, nothing
//               stays held), the request is Finalized, and the verdict's block is finalized
//               (while Dave is stopped). Prints challenge -> verdict in blocks and seconds.
const v = require("../lib/verity.js");

async function run(nodeName, networkInfo, args) {
	const api = await v.api(networkInfo, nodeName);
	const [step] = args;
	if (step === "open") {
		const two = v.account("Two");
		const bob = v.account("Bob");
		const req = await v.requestDemo(api, two);
		const prov = await v.waitEvent(api, req.block, 90, `request ${req.id} provisional`, (e) =>
			api.events.inference.ResultProvisional.is(e) && e.data.request.toNumber() === req.id);
		v.log(`request ${req.id} provisional in #${prov.number}`);
		const before = await v.total(api, bob.address);
		const t0 = Date.now();
		const c = await v.submit(api, api.tx.disputes.challenge(req.id), bob);
		// The jury is drawn two blocks after the challenge's block.
		const drawn = await v.waitEvent(api, c.number, 60, `the jury of request ${req.id}`, (e) =>
			api.events.disputes.DisputeOpened.is(e) && e.data.request.toNumber() === req.id && e);
		const opened = drawn.value;
		v.check(opened.data.challenger.unwrap().toString() === bob.address,
			`challenge of request ${req.id} by Bob in #${c.number} opened a dispute in #${drawn.number}`);
		const jurors = opened.data.jurors.map((j) => j.toString());
		const other = jurors.length === 1 ? jurors[0] : null;
		v.check(other && other !== req.provider && ["Eve", "Ferdie"].includes(v.name(other)),
			`the jury is the other provider (${jurors.map(v.name)}), not the accused ${v.name(req.provider)}`);
		v.save(networkInfo, { id: req.id, provider: req.provider, challengedAt: c.number, t0,
			bobBefore: before.total, challengeFee: c.fee });
		return 1;
	}
	if (step === "resolved") {
		const s = v.load(networkInfo);
		const bob = v.account("Bob");
		const r = await v.waitEvent(api, s.challengedAt, 300, `dispute on ${s.id} resolved`, (e) =>
			api.events.disputes.DisputeResolved.is(e) && e.data.request.toNumber() === s.id && e);
		const secs = (Date.now() - s.t0) / 1000;
		v.log(`MEASURE dispute resolution: challenge in #${s.challengedAt}, verdict in #${r.number}: ` +
			`${r.number - s.challengedAt} blocks, ${secs.toFixed(0)} s from submitting the challenge`);
		v.check(r.value.data.conclusion.toString() === "AllCorrect",
			`verdict AllCorrect (revealed ${r.value.data.revealedWeight} of ${r.value.data.juryWeight})`);
		const events = await v.eventsAt(api, r.hash);
		const slashed = events.find((e) => api.events.disputes.ChallengerSlashed.is(e) && e.data.request.toNumber() === s.id);
		v.check(slashed && slashed.data.challenger.toString() === bob.address &&
			slashed.data.amount.toBigInt() === v.CHALLENGE_BOND, `Bob's bond of ${v.CHALLENGE_BOND} planck was slashed`);
		const after = await v.total(api, bob.address, r.hash);
		v.check(after.total === s.bobBefore - s.challengeFee - v.CHALLENGE_BOND,
			`Bob lost exactly bond + transaction fee (${s.bobBefore} -> ${after.total})`);
		const holds = await (await api.at(r.hash)).query.balances.holds(bob.address);
		v.check(holds.length === 0 && after.reserved === 0n, "nothing of Bob's stays held");
		const req = await (await api.at(r.hash)).query.inference.requests(s.id);
		v.check(req.isSome && req.unwrap().status.isFinalized, `request ${s.id} Finalized: ${req.unwrap().status}`);
		const fin = await v.waitFinalized(api, r.number + 2, 90);
		v.check(fin >= r.number + 2, `blocks keep finalizing: finalized #${fin} past the verdict #${r.number}`);
		v.save(networkInfo, Object.assign(s, { resolvedAt: r.number }));
		return 1;
	}
	throw new Error(`unknown step ${step}`);
}

module.exports = { run };
