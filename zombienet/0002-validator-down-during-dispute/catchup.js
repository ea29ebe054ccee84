// The node this runs on (restarted) catches up: its best block reaches Alice's best at the time
// of the call, and it holds the same finalized block as Alice at a common height.
const v = require("../lib/verity.js");

async function run(nodeName, networkInfo) {
	v.forget(networkInfo, nodeName);
	const node = await v.api(networkInfo, nodeName);
	const alice = await v.api(networkInfo, "alice");
	const target = await v.bestNumber(alice);
	const t0 = Date.now();
	while ((await v.bestNumber(node)) < target) await v.sleep(500);
	v.log(`${nodeName} reached #${target} ${((Date.now() - t0) / 1000).toFixed(1)} s after answering RPC`);
	const fin = await v.waitFinalized(node, target, 120);
	const h = (await node.rpc.chain.getBlockHash(target)).toHex();
	const a = (await alice.rpc.chain.getBlockHash(target)).toHex();
	v.check(h === a, `${nodeName} finalized #${fin} and agrees with Alice on #${target} (${h.slice(0, 10)})`);
	return 1;
}

module.exports = { run };
