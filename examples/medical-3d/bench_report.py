#!/usr/bin/env python3
"""Summarises what bench.sh wrote into a Markdown report on stdout.

  bench_report.py RESULTS_DIR [--manifest work/manifest.json]

Throughput and latency: per protocol and concurrency, the median over the interleaved rounds of
volumes/s, p50 and p99 latency per volume and the server's CPU seconds per volume (every round's
value beside it), and the raw engine's next to them. Memory (inflight.py's results): per number
of volumes in flight N, the medians of the growth over the idle server of the resident memory
before the first answer and over the whole run, and of the live heap once all N are held; the
extra memory per in-flight volume is the least-squares slope of those medians over N.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import statistics
import subprocess
import sys


def load(path):
    try:
        return json.loads(pathlib.Path(path).read_text())
    except (OSError, ValueError):
        return None


def slope(points):
    """Least-squares slope of [(x, y)]; None with fewer than two distinct x."""
    if len({x for x, _ in points}) < 2:
        return None
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    except OSError:
        return platform.processor() or "?"


def commit(root):
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def fmt(values, digits=2):
    return " / ".join(f"{v:.{digits}f}" for v in values)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=pathlib.Path)
    parser.add_argument("--manifest", type=pathlib.Path)
    args = parser.parse_args(argv)
    out = args.results
    manifest = load(args.manifest) if args.manifest else None
    lines = []
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    root = pathlib.Path(__file__).resolve().parent.parent.parent
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines += [f"# 3D U-Net, split in two stages: torchlight bench, {when}", "",
              f"- commit {commit(root)}; {cpu_model()}, {os.cpu_count()} cores; load average at the end {load1:.1f}"]
    if manifest:
        lines.append(f"- model: {manifest['parameters']:,} parameters, volume {manifest['input']['shape']} FP32 "
                     f"({manifest['size'] ** 3 * 4 / 2**20:g} MiB in, {2 * manifest['size'] ** 3 * 4 / 2**20:g} MiB "
                     f"out), {manifest['precision']}, stages on {' and '.join(manifest['devices'])}; "
                     f"PyTorch {manifest['torch']}")
    for name in ("verify-rest.txt", "verify-grpc.txt"):
        text = (out / name).read_text().strip().splitlines() if (out / name).exists() else ["not run"]
        lines.append(f"- {'REST binary' if 'rest' in name else 'gRPC raw'} answers against the unsplit model: "
                     f"{text[-1]}")
    lines.append("")

    # ---- throughput and latency ----
    runs = {}
    for f in sorted(out.glob("perf-r*-*.json")):
        if f.name.endswith(".cpu.json"):
            continue
        m = re.match(r"perf-r(\d+)-(.+)-c(\d+)\.json", f.name)
        data = load(f)
        if not m or not data or not data.get("results"):
            continue
        level = data["results"][0]
        cpu = (load(f.with_name(f.stem + ".cpu.json")) or {}).get("server_cpu_s")
        ok = level["requests"] - level["errors"]
        runs.setdefault((m[2], int(m[3])), []).append(dict(
            round=int(m[1]), vps=level["items_per_s"], p50=level["p50_ms"] / 1000, p99=level["p99_ms"] / 1000,
            volumes=ok, errors=level["errors"], cpu=(cpu / ok) if cpu is not None and ok else None))
    if runs:
        lines += ["## Throughput and latency per volume", "",
                  "Closed loop, one instance (`kind: MODEL`), medians over the rounds (each round's value after "
                  "them, in round order). p99 of a few volumes per round is close to their maximum.", "",
                  "| protocol | concurrency | volumes/s | p50 s | p99 s | server CPU s / volume | volumes | errors |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for (protocol, c), rs in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0] != "raw", kv[0][0])):
            rs.sort(key=lambda r: r["round"])
            cpus = [r["cpu"] for r in rs if r["cpu"] is not None]
            cpu_cell = f"{statistics.median(cpus):.2f} ({fmt(cpus)})" if cpus else "—"
            label = {"v2-binary": "REST binary", "grpc": "gRPC raw", "raw": "raw engine, in-process"}[protocol]
            lines.append(
                f"| {label} | {c} "
                f"| {statistics.median(r['vps'] for r in rs):.3f} ({fmt([r['vps'] for r in rs], 3)}) "
                f"| {statistics.median(r['p50'] for r in rs):.2f} ({fmt([r['p50'] for r in rs])}) "
                f"| {statistics.median(r['p99'] for r in rs):.2f} ({fmt([r['p99'] for r in rs])}) "
                f"| {cpu_cell} | {sum(r['volumes'] for r in rs)} | {sum(r['errors'] for r in rs)} |")
        lines.append("")

    # ---- memory ----
    mem = {}
    for f in sorted(out.glob("mem-r*-n*.json")):
        d = load(f)
        if not d or not d.get("peak_before_first_answer_kib") or d.get("errors"):
            continue
        live = None
        if d.get("taken_before_first_answer") and d.get("live_heap_bytes") and d.get("idle_live_heap_bytes"):
            live = (d["live_heap_bytes"] - d["idle_live_heap_bytes"]) / 2**20
        mem.setdefault(d["n"], []).append(dict(
            waiting=(d["peak_before_first_answer_kib"] - d["idle_kib"]) / 1024,
            whole=(d["peak_kib"] - d["idle_kib"]) / 1024, live=live,
            bodies=None if d.get("bodies_bytes") is None else d["bodies_bytes"] / 2**20))
    if mem:
        lines += ["## Server memory per in-flight volume", "",
                  "A fresh server per run; once it is idle after warm-up, N volumes sent at once over REST binary "
                  "(`inflight.py`). Until the first answer the server holds the N requests and runs one forward pass "
                  "(one instance); the whole run adds the replies and their garbage. Resident memory sampled every "
                  "20 ms; the JVM's live heap after a full collection (`jcmd GC.run`) once idle and once all N "
                  "requests are held; the request-body bytes the HTTP listener counts then. Growth over the idle "
                  "server, medians over the rounds (each round's value after them).", "",
                  "| volumes in flight | resident, before the first answer MiB | live heap, all N held MiB "
                  "| bodies held MiB | resident, whole run MiB |",
                  "|---:|---:|---:|---:|---:|"]
        fits = {"resident memory (before the first answer)": [], "live heap": []}
        for n in sorted(mem):
            rs = mem[n]
            waiting = statistics.median(r["waiting"] for r in rs)
            fits["resident memory (before the first answer)"].append((n, waiting))
            lives = [r["live"] for r in rs if r["live"] is not None]
            bodies = [r["bodies"] for r in rs if r["bodies"] is not None]
            live_cell = bodies_cell = "—"
            if lives:
                fits["live heap"].append((n, statistics.median(lives)))
                live_cell = f"+{statistics.median(lives):.1f} ({fmt(lives, 1)})"
            if bodies:
                bodies_cell = f"{statistics.median(bodies):.1f}"
            lines.append(f"| {n} | +{waiting:.0f} ({fmt([r['waiting'] for r in rs], 0)}) | {live_cell} | {bodies_cell} "
                         f"| +{statistics.median(r['whole'] for r in rs):.0f} ({fmt([r['whole'] for r in rs], 0)}) |")
        lines.append("")
        for what, points in fits.items():
            s = slope(points)
            if s is not None:
                lines.append(f"- per in-flight volume, {what}: **{s:.1f} MiB** (least-squares slope of the medians "
                             "over N)")
        lines.append("")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
