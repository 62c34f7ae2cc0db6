#!/usr/bin/env python3
"""Turns the runs of examples/risk-scoring/bench.sh into rows.tsv and summary.md (standard library only).

  summarize.py RESULTS_DIR --objective 8 --rates 1000,2000,... --rounds 3 [--commit C --cpu NAME --cores N
               --command CMD --agreement work/agreement.json]

Server runs are r<round>-<model>-<protocol>.json (a rising --rate ladder, stopped at the first rate above
the objective), raw runs r<round>-raw-<model>.json (one level per batch size). A rate passes in a round when
its p99 is within the objective and it had no errors; a rate the round did not reach counts as a miss. The
highest rate of a model is the last of the rates, from the lowest up, whose median p99 over the rounds
passes. The raw engine's is its best rows/s at a batch size whose median p99 per call is within the objective.
"""
import argparse
import glob
import json
import math
import os
import re
import statistics
import sys

LABELS = {
    "risk": "FP32, latency-target batching",
    "risk_nobatch": "FP32, no batching",
    "risk_int8": "INT8, latency-target batching",
}
REFERENCE_RATE = 2000  # the reference service's load: 8 ms at 2,000+ transactions per second


def load(out):
    """{(series, protocol): {round: [result, ...]}} from every run file."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(out, "r*-*.json"))):
        match = re.fullmatch(r"r(\d+)-(raw)-(.+)\.json|r(\d+)-(.+)-(v2-json|v2-binary|grpc|grpc-stream)\.json",
                             os.path.basename(path))
        if not match:
            continue
        if match.group(2):
            rnd, key = int(match.group(1)), ("raw", match.group(3))
        else:
            rnd, key = int(match.group(4)), (match.group(5), match.group(6))
        with open(path) as f:
            runs.setdefault(key, {})[rnd] = json.load(f)["results"]
    return runs


def passes(result, objective):
    return result["errors"] == 0 and result["p99_ms"] <= objective


def median(values):
    return statistics.median(values) if values else math.nan


def server_summary(by_round, rates, rounds, objective):
    """(highest passing rate, its median p50 and p99, the median p99 at REFERENCE_RATE, per-round highest)."""
    def at(rate):
        found = []
        for rnd in range(1, rounds + 1):
            level = next((r for r in by_round.get(rnd, []) if r["rate"] == rate), None)
            found.append(level)
        return found

    best = None
    for rate in rates:
        levels = at(rate)
        p99 = median([l["p99_ms"] if l and l["errors"] == 0 else math.inf for l in levels])
        if p99 > objective:
            break
        best = (rate, median([l["p50_ms"] for l in levels if l]), p99)
    per_round = []
    for rnd in range(1, rounds + 1):
        highest = 0
        for rate in rates:
            level = next((r for r in by_round.get(rnd, []) if r["rate"] == rate), None)
            if not level or not passes(level, objective):
                break
            highest = rate
        per_round.append(highest)
    reference = [l for l in at(REFERENCE_RATE) if l]
    ref_p99 = median([l["p99_ms"] for l in reference]) if len(reference) == rounds else math.nan
    return best, ref_p99, per_round


def raw_summary(by_round, rounds, objective):
    """(best rows/s within the objective, its batch size, its median p50 and p99 per call) and p50 per batch."""
    batches = sorted({r["batch_size"] for results in by_round.values() for r in results})
    per_batch = {}
    for b in batches:
        levels = [next((r for r in by_round.get(rnd, []) if r["batch_size"] == b), None) for rnd in range(1, rounds + 1)]
        levels = [l for l in levels if l]
        per_batch[b] = {k: median([l[k] for l in levels]) for k in ("items_per_s", "p50_ms", "p99_ms")}
        per_batch[b]["errors"] = sum(l["errors"] for l in levels)
    ok = [b for b in batches if per_batch[b]["p99_ms"] <= objective and per_batch[b]["errors"] == 0]
    best = max(ok, key=lambda b: per_batch[b]["items_per_s"]) if ok else None
    return best, per_batch


def fmt(value, digits=2):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "missed"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--objective", type=float, required=True)
    parser.add_argument("--rates", required=True)
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--commit", default="unknown")
    parser.add_argument("--cpu", default="unknown")
    parser.add_argument("--cores", default="?")
    parser.add_argument("--command", default="examples/risk-scoring/bench.sh")
    parser.add_argument("--agreement")
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    runs = load(args.out)
    if not runs:
        print(f"summarize.py: no runs in {args.out}", file=sys.stderr)
        return 1

    with open(os.path.join(args.out, "rows.tsv"), "w") as tsv:
        tsv.write("round\tseries\tprotocol\trate\tbatch_size\tthroughput_rps\titems_per_s\tp50_ms\tp99_ms\terrors\n")
        for (series, protocol), by_round in sorted(runs.items()):
            for rnd, results in sorted(by_round.items()):
                for r in results:
                    tsv.write(f"{rnd}\t{series}\t{protocol}\t{r['rate'] or ''}\t{r['batch_size']}\t"
                              f"{r['throughput_rps']:.0f}\t{r['items_per_s']:.0f}\t{r['p50_ms']:.3f}\t"
                              f"{r['p99_ms']:.3f}\t{r['errors']}\n")

    lines = [
        f"Highest rate with p99 ≤ {args.objective:g} ms, replaying the recorded transactions open loop "
        f"({args.rounds} interleaved round{'s' if args.rounds > 1 else ''}, medians). "
        f"Commit {args.commit}, {args.cpu}, {args.cores} cores; `{args.command}`.",
        "",
        f"| model | protocol | highest rate, p99 ≤ {args.objective:g} ms (tx/s) | p50 there (ms) | p99 there (ms) "
        f"| p99 at {REFERENCE_RATE:,}/s (ms) | per round |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    raw = {}
    for (series, protocol), by_round in sorted(runs.items(), key=lambda kv: (kv[0][0] == "raw", kv[0][1] != "grpc",
                                                                             kv[0])):
        if series == "raw":
            raw[protocol] = raw_summary(by_round, args.rounds, args.objective)
            continue
        best, ref_p99, per_round = server_summary(by_round, rates, args.rounds, args.objective)
        name = f"`{series}` ({LABELS.get(series, series)})"
        if best is None:
            lines.append(f"| {name} | {protocol} | none of the rates | – | – | {fmt(ref_p99)} | "
                         f"{', '.join(f'{r:,.0f}' for r in per_round)} |")
        else:
            lines.append(f"| {name} | {protocol} | {best[0]:,.0f} | {fmt(best[1])} | {fmt(best[2])} | {fmt(ref_p99)} | "
                         f"{', '.join(f'{r:,.0f}' for r in per_round)} |")
    for model, (best, per_batch) in sorted(raw.items()):
        kind = "INT8" if "int8" in model else "FP32"
        if best is None:
            lines.append(f"| raw engine, {kind} (`{model}`, no server) | in-process | none | – | – | – | – |")
        else:
            b = per_batch[best]
            lines.append(f"| raw engine, {kind} (`{model}`, no server) | in-process | {b['items_per_s']:,.0f} "
                         f"(batch {best}) | {fmt(b['p50_ms'])} | {fmt(b['p99_ms'])} | – | – |")
    servers = sorted((k for k in runs if k[0] != "raw"), key=lambda k: (k[1] != "grpc", k))
    reached = [r for r in rates if any(l["rate"] == r for k in servers for ls in runs[k].values() for l in ls)]
    if servers and reached:
        lines += ["", "p50 / p99 (ms) at each rate reached, medians over the rounds that reached it (– none did):", "",
                  "| model | protocol | " + " | ".join(f"{r:,.0f}/s" for r in reached) + " |",
                  "| --- | --- | " + " | ".join("---:" for _ in reached) + " |"]
        for key in servers:
            cells = []
            for rate in reached:
                levels = [l for ls in runs[key].values() for l in ls if l["rate"] == rate]
                cells.append(f"{median([l['p50_ms'] for l in levels]):.1f} / {median([l['p99_ms'] for l in levels]):.1f}"
                             if levels else "–")
            lines.append(f"| `{key[0]}` | {key[1]} | " + " | ".join(cells) + " |")
    if raw:
        batches = sorted({b for _, per_batch in raw.values() for b in per_batch})
        lines += ["", "The raw engine, one call per batch, one thread (median p50 per call in ms; rows/s in brackets):",
                  "", "| model | " + " | ".join(f"batch {b}" for b in batches) + " |",
                  "| --- | " + " | ".join("---:" for _ in batches) + " |"]
        for model, (_, per_batch) in sorted(raw.items()):
            cells = [f"{per_batch[b]['p50_ms']:.3f} ({per_batch[b]['items_per_s']:,.0f})" if b in per_batch else "–"
                     for b in batches]
            lines.append(f"| `{model}` | " + " | ".join(cells) + " |")
    if args.agreement and os.path.isfile(args.agreement):
        with open(args.agreement) as f:
            a = json.load(f)
        q, bq = a["int8_vs_fp32"], a["int8_batch64_vs_int8_batch1"]
        lines += ["", f"INT8 against FP32 (PyTorch, {a['transactions']:,} transactions, one per call): max |difference| "
                  f"{q['max_abs_diff']:.4f}, mean {q['mean_abs_diff']:.5f}; decisions at {a['threshold']:g} that flip: "
                  f"{q['flipped_decisions']} ({q['flipped_share']:.2%}); declined: FP32 {a['fp32_declined_share']:.2%}, "
                  f"INT8 {a['int8_declined_share']:.2%}. INT8 in batches of 64 against one per call: max |difference| "
                  f"{bq['max_abs_diff']:.4f}, {bq['flipped_decisions']} flips ({bq['flipped_share']:.2%})."]
    summary = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write(summary)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
