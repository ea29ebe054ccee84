#!/usr/bin/env python3
"""Measure block time and finality lag of a running Verity node over JSON-RPC.

Samples the best and finalized heads every 0.5 s for --seconds, then reads the on-chain
timestamp (pallet-timestamp `Now`) of every block produced meanwhile. Prints a table.

    scripts/measure_chain.py --url http://127.0.0.1:9944 --seconds 120

Stdlib only. Block time = difference of consecutive on-chain timestamps. Finality lag = best
number - finalized number, sampled; and the wall time from a block's first sighting as best to
its first sighting as finalized.
"""
import argparse
import json
import statistics
import time
import urllib.request

# twox128("Timestamp") ++ twox128("Now")
TIMESTAMP_NOW = "0xf0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb"


def rpc(url, method, params=None):
    body = json.dumps({"id": 1, "jsonrpc": "2.0", "method": method, "params": params or []})
    req = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        reply = json.load(r)
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply["result"]


def number(url, block_hash=None):
    header = rpc(url, "chain_getHeader", [block_hash] if block_hash else [])
    return int(header["number"], 16)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:9944")
    ap.add_argument("--seconds", type=float, default=120)
    args = ap.parse_args()

    seen_best, seen_final, lags = {}, {}, []
    start = time.time()
    first = number(args.url)
    while time.time() - start < args.seconds:
        now = time.time()
        best = number(args.url)
        fin = number(args.url, rpc(args.url, "chain_getFinalizedHead"))
        for n in range(first, best + 1):
            seen_best.setdefault(n, now)
        for n in range(first, fin + 1):
            seen_final.setdefault(n, now)
        lags.append(best - fin)
        time.sleep(0.5)
    last = number(args.url)

    stamps = []
    for n in range(first, last + 1):
        h = rpc(args.url, "chain_getBlockHash", [n])
        raw = rpc(args.url, "state_getStorage", [TIMESTAMP_NOW, h])
        stamps.append(int.from_bytes(bytes.fromhex(raw[2:]), "little"))
    gaps = [(b - a) / 1000 for a, b in zip(stamps, stamps[1:])]
    final_delay = [seen_final[n] - seen_best[n] for n in seen_best if n in seen_final and n > first]

    print(f"blocks observed: #{first}..#{last} over {args.seconds:.0f} s")
    print("| metric | mean | min | max |")
    print("|---|---|---|---|")
    if gaps:
        print(f"| block time (s, on-chain timestamps) | {statistics.mean(gaps):.2f} | {min(gaps):.2f} | {max(gaps):.2f} |")
    if lags:
        print(f"| finality lag (blocks, best - finalized) | {statistics.mean(lags):.2f} | {min(lags)} | {max(lags)} |")
    if final_delay:
        print(f"| finality delay (s, seen best -> seen finalized, 0.5 s sampling) | {statistics.mean(final_delay):.2f} | {min(final_delay):.2f} | {max(final_delay):.2f} |")


if __name__ == "__main__":
    main()
