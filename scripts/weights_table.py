#!/usr/bin/env python3
"""Prints the generated weights of Verity's pallets as a Markdown table.

    scripts/weights_table.py [pallets/models/src/weights.rs ...]   # default: all four

Reads the `SubstrateWeight` impl that `scripts/bench_weights.sh` writes: per call, the base
execution time and the slope per component (microseconds), and the database reads and writes
(base + slope). The proof size is left out (a solo chain has no PoV limit).
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = [ROOT / f"pallets/{p}/src/weights.rs" for p in ("models", "providers", "inference", "disputes")]


def us(ps: str) -> str:
    v = int(ps.replace("_", "")) / 1e6
    return f"{v:,.1f}" if v >= 10 else f"{v:.3g}"


def parse(path: Path):
    text = path.read_text()
    impl = text.split("impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T>", 1)[1]
    impl = impl.split("\n}\n", 1)[0]
    for m in re.finditer(r"fn (\w+)\(([^)]*)\) -> Weight \{(.*?)\n\t\}", impl, re.S):
        name, params, body = m.groups()
        comps = [p.split(":")[0].strip().lstrip("_") for p in params.split(",") if p.strip()]
        base = re.search(r"Weight::from_parts\(([\d_]+), \d+\)", body).group(1)
        slopes = re.findall(r"Weight::from_parts\(([\d_]+), 0\)\.saturating_mul\((\w+)\.into\(\)\)", body)
        reads = re.findall(r"reads\(([\d_]+)_u64\)\)", body)
        reads_k = re.findall(r"reads\(\(([\d_]+)_u64\)\.saturating_mul\((\w+)\.into", body)
        writes = re.findall(r"writes\(([\d_]+)_u64\)\)", body)
        writes_k = re.findall(r"writes\(\(([\d_]+)_u64\)\.saturating_mul\((\w+)\.into", body)
        time = us(base) + "".join(f" + {us(s)}·{c}" for s, c in slopes)
        r = " + ".join([*(reads or ["0"]), *(f"{n}·{c}" for n, c in reads_k)])
        w = " + ".join([*(writes or ["0"]), *(f"{n}·{c}" for n, c in writes_k)])
        yield name + (f"({', '.join(comps)})" if comps else ""), time, r, w


def main():
    paths = [Path(p) for p in sys.argv[1:]] or DEFAULT
    print("| pallet | call | time (µs) | reads | writes |")
    print("|---|---|---|---|---|")
    for path in paths:
        pallet = "pallet_" + path.parent.parent.name
        for name, time, r, w in parse(path):
            print(f"| {pallet} | `{name}` | {time} | {r} | {w} |")


if __name__ == "__main__":
    main()
