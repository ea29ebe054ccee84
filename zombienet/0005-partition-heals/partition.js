// One validator (Dave) partitioned from the rest, then healed.
//   "join":  Dave's reserved peers become Alice, Bob and Charlie (their listen addresses and
//            peer ids read over RPC); Dave syncs and agrees with Alice on a finalized block.
//   "split": Dave's reserved peers are removed: it has no peers; the other three keep
//            finalizing while Dave's finalized head stays put and Dave authors blocks on its own
//            side (recorded: their numbers and hashes).
//   "heal":  the peers are added back; every node (the four validators and both providers)
//            reports the same finalized hash at a height above the partition, and none of the
//            blocks Dave authored alone is in that chain.
const v = require("../lib/verity.js");

const PEERS = ["alice", "bob", "charlie"];

async function addresses(networkInfo) {
	const out = [];
	for (const n of PEERS) {
		const api = await v.api(networkInfo, n);
		const id = (await api.rpc.system.localPeerId()).toString();
		const addrs = (await api.rpc.system.localListenAddresses()).map((a) => a.toString());
		const addr = addrs.find((a) => a.includes("127.0.0.1")) || addrs[0];
		out.push({ id, addr: addr.includes("/p2p/") ? addr : `${addr}/p2p/${id}` });
	}
	return out;
}

async function peers(api) {
	return (await api.rpc.system.health()).peers.toNumber();
}

async function agree(networkInfo, names, height) {
	const hashes = {};
	for (const n of names) {
		const api = await v.api(networkInfo, n);
		await v.waitFinalized(api, height, 120);
		hashes[n] = (await api.rpc.chain.getBlockHash(height)).toHex();
	}
	return hashes;
}

async function run(nodeName, networkInfo, args) {
	const [step] = args;
	const dave = await v.api(networkInfo, "dave");
	const alice = await v.api(networkInfo, "alice");
	if (step === "join") {
		for (const p of await addresses(networkInfo)) await dave.rpc.system.addReservedPeer(p.addr);
		const target = await v.finalizedNumber(alice);
		await v.waitFinalized(dave, target, 120);
		const h = await agree(networkInfo, ["alice", "dave"], target);
		v.check(h.alice === h.dave, `Dave joined (${await peers(dave)} peers) and agrees with Alice on finalized #${target}`);
		return 1;
	}
	if (step === "split") {
		for (const p of await addresses(networkInfo)) await dave.rpc.system.removeReservedPeer(p.id);
		const deadline = Date.now() + 30000;
		while ((await peers(dave)) > 0 && Date.now() < deadline) await v.sleep(500);
		v.check((await peers(dave)) === 0, "Dave has no peers");
		const daveFin = await v.finalizedNumber(dave);
		const aliceFin = await v.finalizedNumber(alice);
		// Long enough for Dave to have several slots of its own (one in four).
		await v.sleep(48000);
		v.check((await peers(dave)) === 0, "Dave still has no peers after 48 s");
		const aliceFin2 = await v.finalizedNumber(alice);
		const daveFin2 = await v.finalizedNumber(dave);
		v.check(aliceFin2 >= aliceFin + 4, `the three others kept finalizing (#${aliceFin} -> #${aliceFin2})`);
		v.check(daveFin2 === daveFin, `Dave alone finalized nothing (stuck at #${daveFin2})`);
		// Dave's own side: blocks above its finalized head that Alice does not have.
		const daveBest = await v.bestNumber(dave);
		const own = [];
		for (let n = daveFin2 + 1; n <= daveBest; n++) {
			// Alice's side never saw Dave's blocks: where the two best chains differ, it is Dave's.
			const hash = (await dave.rpc.chain.getBlockHash(n)).toHex();
			if (hash !== (await alice.rpc.chain.getBlockHash(n)).toHex()) own.push({ n, hash });
		}
		v.check(own.length >= 1, `Dave authored ${own.length} block(s) on its side: ${own.map((b) => `#${b.n} ${b.hash.slice(0, 10)}`).join(", ")}`);
		v.save(networkInfo, { own, aliceFin: aliceFin2 });
		return 1;
	}
	if (step === "heal") {
		const s = v.load(networkInfo);
		for (const p of await addresses(networkInfo)) await dave.rpc.system.addReservedPeer(p.addr);
		const t0 = Date.now();
		// Wait for finality past Dave's highest isolated block too: under BABE a lone validator
		// authors in its secondary slots as well, so its fork can be as long as the others'.
		const height = Math.max((await v.finalizedNumber(alice)) + 3, s.own[s.own.length - 1].n + 1);
		const names = ["alice", "bob", "charlie", "dave", "eve", "ferdie"];
		const h = await agree(networkInfo, names, height);
		v.log(`healed: Dave finalized #${height} ${((Date.now() - t0) / 1000).toFixed(0)} s after its peers came back`);
		v.check(new Set(Object.values(h)).size === 1, `all six nodes report the same finalized #${height}: ${h.alice}`);
		for (const b of s.own) {
			for (const n of ["alice", "dave"]) {
				const api = await v.api(networkInfo, n);
				const canonical = (await api.rpc.chain.getBlockHash(b.n)).toHex();
				v.check(canonical !== b.hash, `${n}: #${b.n} is ${canonical.slice(0, 10)}, not Dave's isolated ${b.hash.slice(0, 10)}`);
			}
		}
		v.check(s.own.length > 0 && height > s.own[s.own.length - 1].n, `the agreed finalized #${height} is above every isolated block`);
		return 1;
	}
	throw new Error(`unknown step ${step}`);
}

module.exports = { run };
