#!/usr/bin/env python3
"""Summarises what bench.sh wrote into a Markdown report on stdout.

  bench_report.py RESULTS_DIR [--manifest work/manifest.json]

Throughput and latency: per protocol and concurrency, the median over the interleaved rounds of
volumes/s, p50 and p99 latency per volume and the server's CPU seconds per volume (every round's
value beside it). Memory (inflight.py's results): per number of volumes in flight N, the medians of
the idle resident memory, of its peak before the first answer and of its peak over the whole run;
the extra memory per in-flight volume is the least-squares slope of the median peak before the
first answer over N.
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
        for (protocol, c), rs in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            rs.sort(key=lambda r: r["round"])
            cpus = [r["cpu"] for r in rs if r["cpu"] is not None]
            cpu_cell = f"{statistics.median(cpus):.2f} ({fmt(cpus)})" if cpus else "—"
            lines.append(
                f"| {'REST binary' if protocol == 'v2-binary' else 'gRPC raw'} | {c} "
                f"| {statistics.median(r['vps'] for r in rs):.3f} ({fmt([r['vps'] for r in rs], 3)}) "
                f"| {statistics.median(r['p50'] for r in rs):.2f} ({fmt([r['p50'] for r in rs])}) "
                f"| {statistics.median(r['p99'] for r in rs):.2f} ({fmt([r['p99'] for r in rs])}) "
                f"| {cpu_cell} | {sum(r['volumes'] for r in rs)} | {sum(r['errors'] for r in rs)} |")
        lines.append("")

    # ---- memory ----
    mem = {}
    for f in sorted(out.glob("mem-r*-n*.json")):
        d = load(f)
        if d and d.get("peak_before_first_answer_kib") and not d.get("errors"):
            mem.setdefault(d["n"], []).append(dict(idle=d["idle_kib"] / 1024,
                                                   waiting=d["peak_before_first_answer_kib"] / 1024,
                                                   peak=d["peak_kib"] / 1024))
    if mem:
        lines += ["## Server memory per in-flight volume", "",
                  "A fresh server per run, its resident memory once idle after warm-up; then N volumes sent at "
                  "once over REST binary, the server's resident memory sampled every 20 ms. Until the first answer "
                  "it holds the N request bodies and one forward pass (one instance); the whole run adds the "
                  "replies and their garbage. Medians over the rounds (each round's value after them).", "",
                  "| volumes in flight | idle MiB | peak before the first answer MiB | − idle | peak, whole run MiB "
                  "| − idle |",
                  "|---:|---:|---:|---:|---:|---:|"]
        medians = []
        for n in sorted(mem):
            rs = mem[n]
            idle = statistics.median(r["idle"] for r in rs)
            waiting = statistics.median(r["waiting"] for r in rs)
            peak = statistics.median(r["peak"] for r in rs)
            medians.append((n, waiting))
            lines.append(f"| {n} | {idle:.0f} ({fmt([r['idle'] for r in rs], 0)}) "
                         f"| {waiting:.0f} ({fmt([r['waiting'] for r in rs], 0)}) "
                         f"| {statistics.median(r['waiting'] - r['idle'] for r in rs):.0f} "
                         f"| {peak:.0f} ({fmt([r['peak'] for r in rs], 0)}) "
                         f"| {statistics.median(r['peak'] - r['idle'] for r in rs):.0f} |")
        s = slope(medians)
        lines += ["", f"Extra memory per in-flight volume (slope of the median peak before the first answer over "
                      f"N): **{s:.1f} MiB**" if s is not None else "Extra memory per in-flight volume: needs two levels",
                  ""]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
