// Measures how long a restarted validator takes to catch up 100 blocks.
//   "mark":    records Dave's best block (Dave is stopped right after).
//   "wait":    waits until Alice's best is 100 blocks past it.
//   "measure": Dave was killed and started again on its base path; times how long until its
//              best block reaches Alice's (polled live), from the call (Dave answers RPC) and
//              from the `Highest known block` line of its second start in its log; checks that
//              Dave then agrees with Alice on a finalized block.
const fs = require("fs");
const path = require("path");
const v = require("../lib/verity.js");

async function run(nodeName, networkInfo, args) {
	const [step] = args;
	const alice = await v.api(networkInfo, "alice");
	if (step === "mark") {
		const dave = await v.api(networkInfo, "dave");
		const mark = await v.bestNumber(dave);
		v.save(networkInfo, { mark, stoppedAt: Date.now() });
		v.log(`Dave's best is #${mark}`);
		return 1;
	}
	if (step === "wait") {
		const s = v.load(networkInfo);
		while ((await v.bestNumber(alice)) < s.mark + 100) await v.sleep(2000);
		v.log(`Alice at #${await v.bestNumber(alice)}, ${((Date.now() - s.stoppedAt) / 1000).toFixed(0)} s after Dave stopped`);
		return 1;
	}
	if (step === "measure") {
		const s = v.load(networkInfo);
		v.forget(networkInfo, "dave");
		const dave = await v.api(networkInfo, "dave");
		const t0 = Date.now();
		const first = await v.bestNumber(dave);
		let target = await v.bestNumber(alice);
		let best;
		while ((best = await v.bestNumber(dave)) < (target = Math.max(target, await v.bestNumber(alice)))) await v.sleep(200);
		const t1 = Date.now();
		const logText = fs.readFileSync(path.join(networkInfo.tmpDir, "dave.log"), "utf8");
		const starts = [...logText.matchAll(/^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)[^\n]*Highest known block at #(\d+)/gm)];
		const last = starts[starts.length - 1];
		const started = new Date(last[1].replace(" ", "T")).getTime();
		v.log(`MEASURE catch-up: Dave restarted at #${last[2]} (answered RPC at #${first}), reached Alice's best #${target} ` +
			`(${target - Number(last[2])} blocks behind) in ${((t1 - t0) / 1000).toFixed(1)} s from answering RPC, ` +
			`${((t1 - started) / 1000).toFixed(1)} s from opening its database (log, 1 s resolution)`);
		v.check(target - Number(last[2]) >= 100, `Dave was at least 100 blocks behind (${target - Number(last[2])})`);
		const fin = await v.waitFinalized(dave, target, 120);
		const h = (await dave.rpc.chain.getBlockHash(target)).toHex();
		v.check(h === (await alice.rpc.chain.getBlockHash(target)).toHex(), `Dave finalized #${fin} and agrees with Alice on #${target}`);
		return 1;
	}
	throw new Error(`unknown step ${step}`);
}

module.exports = { run };
