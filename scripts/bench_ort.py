#!/usr/bin/env python3
"""Benchmark the demo models (precompiles/engine/models/manifest.json) through onnxruntime.

The baseline that the Verity engine is measured against (scripts/bench_engine.sh prints both).
Each model is measured in a fresh child process, so memory and the first session creation are
not shared between models. Everything runs on one thread: intra_op_num_threads = 1,
inter_op_num_threads = 1, sequential execution, CPU provider, all graph optimizations on.

Per model:
  cold_load_ms       first InferenceSession creation in the process (parse + optimize + init)
  load_ms            median of later session creations (onnxruntime keeps no plan cache)
  warm_us            median wall time of one `session.run` from Python, after warm-up
                     (includes the Python binding: a few microseconds per call)
  bound_us           the same with input and output bound once (`run_with_iobinding`): less
                     Python work per call; onnxruntime's profiler is no help here, its own
                     bookkeeping costs more than these small models
  best_us            the lower of the two: the baseline a native engine is compared with
  throughput_per_s   sequential bound runs per second on one thread (runs / total time)
  peak_rss_delta_kib growth of the process's peak RSS (VmHWM) from just after importing
                     onnxruntime to after all loads and runs
  output_matches     the run reproduced the manifest's reference output bit for bit

Usage: "$VERITY_PYTHON" scripts/bench_ort.py [--runs N] [--models mlp,cnn] [--json]
       [--compare ENGINE_JSON]   (also print the engine's figures beside these, with the ratios
                                  and the issue's targets; scripts/bench_engine.sh does this)
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "precompiles", "engine", "models")
NP_DTYPES = {"f32": "<f4", "u8": "u1", "i8": "i1", "i32": "<i4", "i64": "<i8"}


def vm_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def child(entry, runs, warmup, load_repeats):
    import numpy as np
    import onnxruntime as ort

    hwm0 = vm_kib("VmHWM")
    with open(os.path.join(MODELS, entry["file"]), "rb") as f:
        model_bytes = f.read()
    spec_in, spec_out = entry["inputs"][0], entry["outputs"][0]
    x = np.fromfile(os.path.join(MODELS, spec_in["file"]), NP_DTYPES[spec_in["dtype"]])
    x = x.reshape(spec_in["reference_shape"])
    expected = np.fromfile(os.path.join(MODELS, spec_out["file"]), NP_DTYPES[spec_out["dtype"]])

    def options(profile_dir=None):
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if profile_dir:
            so.enable_profiling = True
            so.profile_file_prefix = os.path.join(profile_dir, "ort")
        return so

    def session(so):
        return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])

    t = time.perf_counter()
    sess = session(options())
    cold_load = time.perf_counter() - t
    loads = []
    for _ in range(load_repeats):
        t = time.perf_counter()
        session(options())
        loads.append(time.perf_counter() - t)

    feeds = {spec_in["name"]: x}
    (y,) = sess.run(None, feeds)
    matches = np.ascontiguousarray(y).reshape(-1).tobytes() == expected.tobytes()
    for _ in range(warmup):
        sess.run(None, feeds)
    lat = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, feeds)
        lat.append(time.perf_counter() - t)

    # The same with input and output bound once (io binding): less Python per call.
    binding = sess.io_binding()
    binding.bind_cpu_input(spec_in["name"], x)
    binding.bind_output(spec_out["name"])
    for _ in range(warmup):
        sess.run_with_iobinding(binding)
    bound = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run_with_iobinding(binding)
        bound.append(time.perf_counter() - t)
    start = time.perf_counter()
    for _ in range(runs):
        sess.run_with_iobinding(binding)
    total = time.perf_counter() - start

    return {
        "model": entry["name"],
        "onnxruntime": ort.__version__,
        "cold_load_ms": cold_load * 1e3,
        "load_ms": statistics.median(loads) * 1e3 if loads else float("nan"),
        "warm_us": statistics.median(lat) * 1e6,
        "bound_us": statistics.median(bound) * 1e6,
        "best_us": min(statistics.median(lat), statistics.median(bound)) * 1e6,
        "throughput_per_s": runs / total,
        "peak_rss_delta_kib": vm_kib("VmHWM") - hwm0,
        "output_matches": bool(matches),
        "runs": runs,
    }


def table(rows):
    cols = [
        ("model", "model", "{}"),
        ("cold load ms", "cold_load_ms", "{:.2f}"),
        ("load ms", "load_ms", "{:.2f}"),
        ("warm us (py)", "warm_us", "{:.1f}"),
        ("warm us (bound)", "bound_us", "{:.1f}"),
        ("runs/s", "throughput_per_s", "{:.0f}"),
        ("peak RSS +KiB", "peak_rss_delta_kib", "{}"),
        ("ref ok", "output_matches", "{}"),
    ]
    cells = [[h for h, _, _ in cols]] + [[fmt.format(r[k]) for _, k, fmt in cols] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(cols))]
    out = []
    for n, c in enumerate(cells):
        out.append("| " + " | ".join(s.ljust(w) for s, w in zip(c, widths)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


# Targets of the engine issue.
TARGET_WARM_RATIO = 1.5  # engine warm latency at most 1.5x onnxruntime's, single-threaded
TARGET_CACHE_SPEEDUP = 50  # a cached (repeat) load at least 50x cheaper than a cold one


def compare(ort_rows, engine_rows):
    eng = {r["model"]: r for r in engine_rows}
    rows, ok = [], True
    for o in ort_rows:
        e = eng.get(o["model"])
        if e is None:
            continue
        ratio = e["warm_us"] / o["best_us"]
        ratio_t = e["warm_timeout_us"] / o["best_us"]
        speedup = e["cold_load_ms"] * 1e3 / e["cached_load_us"]
        good = ratio <= TARGET_WARM_RATIO and speedup >= TARGET_CACHE_SPEEDUP
        ok &= good
        rows.append({
            "model": o["model"],
            "cold ms eng": f"{e['cold_load_ms']:.2f}",
            "cold ms ort": f"{o['cold_load_ms']:.2f}",
            "cached us eng": f"{e['cached_load_us']:.1f}",
            "lookup us eng": f"{e['cached_lookup_us']:.2f}",
            f"cold/cached (>={TARGET_CACHE_SPEEDUP}x)": f"{speedup:.0f}x",
            "warm us eng": f"{e['warm_us']:.1f}",
            "warm us ort": f"{o['best_us']:.1f}",
            f"eng/ort (<={TARGET_WARM_RATIO}x)": f"{ratio:.2f}x",
            "warm us eng+timeout": f"{e['warm_timeout_us']:.1f}",
            "eng+timeout/ort": f"{ratio_t:.2f}x",
            "runs/s eng": f"{e['throughput_per_s']:.0f}",
            "runs/s ort": f"{o['throughput_per_s']:.0f}",
            "peak RSS +KiB eng": f"{e['peak_rss_delta_kib']:.0f}",
            "peak RSS +KiB ort": f"{o['peak_rss_delta_kib']}",
            "targets": "met" if good else "MISSED",
        })
    if not rows:
        return "no model in common", False
    keys = list(rows[0])
    cells = [keys] + [[r[k] for k in keys] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(keys))]
    out = []
    for n, c in enumerate(cells):
        out.append("| " + " | ".join(s.ljust(w) for s, w in zip(c, widths)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out), ok


def main():
    ap = argparse.ArgumentParser(description="onnxruntime baseline for the demo models")
    ap.add_argument("--runs", type=int, default=2000, help="timed runs per model")
    ap.add_argument("--warmup", type=int, default=100, help="untimed runs before timing")
    ap.add_argument("--load-repeats", type=int, default=10, help="session creations after the first")
    ap.add_argument("--models", help="comma-separated subset (default: all in the manifest)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--compare", metavar="ENGINE_JSON",
                    help="the engine's `--json` figures (examples/bench.rs) to print beside these")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()

    with open(os.path.join(MODELS, "manifest.json")) as f:
        entries = {e["name"]: e for e in json.load(f)["models"]}

    if args.child:
        res = child(entries[args.child], args.runs, args.warmup, args.load_repeats)
        print(json.dumps(res))
        return 0

    names = args.models.split(",") if args.models else list(entries)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    rows = []
    for name in names:
        out = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--child", name, "--runs", str(args.runs),
             "--warmup", str(args.warmup), "--load-repeats", str(args.load_repeats)],
            check=True, capture_output=True, text=True, env=env,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if args.compare:
        with open(args.compare) as f:
            engine_rows = json.load(f)
        text, ok = compare(rows, engine_rows)
        print(f"onnxruntime {rows[0]['onnxruntime'] if rows else '?'}, 1 thread, {args.runs} runs")
        print(table(rows))
        print()
        print(f"verity-engine vs onnxruntime {rows[0]['onnxruntime'] if rows else '?'}, "
              f"1 thread, {args.runs} runs; ort warm = the faster of its two call paths")
        print(text)
        return 0 if ok else 2
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"onnxruntime {rows[0]['onnxruntime'] if rows else '?'}, 1 thread, {args.runs} runs")
        print(table(rows))
    return 0 if all(r["output_matches"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
