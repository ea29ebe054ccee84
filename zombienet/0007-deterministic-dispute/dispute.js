// An Exact float model of execution class Deterministic, served and disputed on a network
// (issue 15: "Exact float models serve and are disputed end to end"). Two requests the cnn
// model on its reference input; One challenges.
//   "register": audits off (sudo: an audit of Ferdie's result would be raised by Eve, the only
//               other provider, and leave its dispute without a jury). Bob registers the float
//               model cnn as Deterministic with the deterministic mode's pinned output as its
//               Exact reference (bytes on chain); the validators certify it in that mode. Eve
//               and Ferdie add it to the models they serve.
//   "serve":    with Eve chilled, R1 goes to Ferdie, whose node runs --dev-faulty-executor:
//               his result is not the pinned output, and One challenges it. With Ferdie
//               chilled, R2 goes to Eve: her result is exactly the pinned output (its hash).
//   "settle":   the jury (Eve) re-executes R1 in the deterministic mode and reveals exactly the
//               pinned output; the dispute ends SomeWrong, Ferdie is slashed, One is rewarded
//               and R1 refunded (no correct result). R2 finalizes unchallenged with the pinned
//               output. No float tolerance anywhere: every comparison is of whole bits.
const v = require("../lib/verity.js");

const CNN = v.DETERMINISTIC_MODELS.cnn;

async function run(nodeName, networkInfo, args) {
	const api = await v.api(networkInfo, nodeName);
	const [step] = args;
	const f = v.pinnedModel(CNN);
	const eve = v.account("Eve");
	const ferdie = v.account("Ferdie");
	const two = v.account("Two");
	const one = v.account("One");
	if (step === "register") {
		await v.submit(api, api.tx.sudo.sudo(api.tx.inference.setAuditRate(0)), v.account("Alice"));
		await v.registerDeterministic(api, CNN, v.account("Bob"));
		for (const p of [eve, ferdie]) {
			const info = (await api.query.providers.providers(p.address)).unwrap();
			const models = info.models.map((m) => m.toHex()).concat([f.id]);
			await v.submit(api, api.tx.providers.setModels(models), p);
		}
		v.check(true, "Eve and Ferdie serve cnn");
		return 1;
	}
	if (step === "serve") {
		// R1 to the faulty provider, R2 to the honest one.
		const steer = async (away, to) => {
			await v.submit(api, api.tx.providers.chill(), away);
			const r = await v.request(api, two, f.id, f.input);
			await v.submit(api, api.tx.providers.unchill(), away);
			v.check(r.provider === to.address, `request ${r.id} assigned to ${v.name(to.address)}`);
			return r;
		};
		const r1 = await steer(eve, ferdie);
		const r2 = await steer(ferdie, eve);
		const provisional = async (r) => (await v.waitEvent(api, r.block, 120, `request ${r.id} provisional`, (e) =>
			api.events.inference.ResultProvisional.is(e) && e.data.request.toNumber() === r.id && e));
		const p1 = await provisional(r1);
		v.check(p1.value.data.outputHash.toHex() !== f.outputHash,
			`Ferdie's result for R1 (#${p1.number}) is not the pinned output: ${p1.value.data.outputHash.toHex()}`);
		const challenge = await v.submit(api, api.tx.disputes.challenge(r1.id), one);
		v.log(`One challenged R1 in #${challenge.number}`);
		const p2 = await provisional(r2);
		v.check(p2.value.data.outputHash.toHex() === f.outputHash,
			`Eve's result for R2 (#${p2.number}) is exactly the pinned output ${f.outputHash}`);
		v.save(networkInfo, { r1: r1.id, r2: r2.id, challenged: challenge.number, served: p2.number });
		return 1;
	}
	if (step === "settle") {
		const s = v.load(networkInfo);
		const resolved = await v.waitEvent(api, s.challenged, 240, "R1's dispute resolved", (e) =>
			api.events.disputes.DisputeResolved.is(e) && e.data.request.toNumber() === s.r1 && e);
		// R1's events from the challenge to the verdict's block (whose settlement comes with it).
		const seen = { revealed: [], slashed: [], rewarded: [], refunded: [] };
		for (let n = s.challenged; n <= resolved.number; n++) {
			const hash = (await api.rpc.chain.getBlockHash(n)).toHex();
			for (const e of await v.eventsAt(api, hash)) {
				if (!e.data || !e.data.request || e.data.request.toNumber() !== s.r1) continue;
				if (api.events.disputes.VoteRevealed.is(e))
					seen.revealed.push([e.data.juror.toString(), e.data.outputHash.toHex()]);
				if (api.events.inference.ExecutorSlashed.is(e))
					seen.slashed.push([e.data.provider.toString(), e.data.slashed.toBigInt()]);
				if (api.events.disputes.ChallengerRewarded.is(e)) seen.rewarded.push(e.data.challenger.toString());
				if (api.events.inference.Refunded.is(e)) seen.refunded.push(e.data.reason.toString());
			}
		}
		v.check(resolved.value.data.conclusion.toString() === "SomeWrong",
			`R1's dispute resolved in #${resolved.number}: SomeWrong`);
		v.check(seen.revealed.length === 1 && seen.revealed[0][0] === eve.address && seen.revealed[0][1] === f.outputHash,
			`the juror Eve re-executed in the deterministic mode and revealed exactly the pinned output (${JSON.stringify(seen.revealed)})`);
		v.check(seen.slashed.length === 1 && seen.slashed[0][0] === ferdie.address && seen.slashed[0][1] > 0n,
			`Ferdie slashed ${seen.slashed.length ? seen.slashed[0][1] : 0} planck`);
		v.check(seen.rewarded.length === 1 && seen.rewarded[0] === one.address, "One, the challenger, rewarded");
		v.check(seen.refunded.length === 1 && seen.refunded[0] === "NoCorrectResult", `R1 refunded to Two (${seen.refunded})`);
		const fin = await v.waitEvent(api, s.served, 120, "R2 finalized", (e) =>
			api.events.inference.ResultFinalized.is(e) && e.data.request.toNumber() === s.r2 && e);
		v.check(fin.value.data.outputHash.toHex() === f.outputHash,
			`R2 finalized unchallenged in #${fin.number} with exactly the pinned output`);
		return 1;
	}
	throw new Error(`unknown step ${step}`);
}

module.exports = { run };
