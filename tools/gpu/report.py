#!/usr/bin/env python3
"""Writes check.md and results.json from what check.sh left in its work folder.

  report.py --work WORK --out OUT [--protocol P] [--elapsed S]

Every section is written from whatever is there: a step that failed or never ran leaves its rows
as "—" and its target as "no data", so a partial run still reports what it measured.
"""

import argparse
import datetime
import json
import pathlib
import sys


def load(path):
    try:
        return json.loads(pathlib.Path(path).read_text())
    except (OSError, ValueError):
        return None


def num(value, digits=3):
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.{digits}f}"


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def server_split(stats_dir, point):
    """Means (ms) over a bench point from the model's v2 statistics before and after it, or None."""
    before, after = (load(pathlib.Path(stats_dir) / f"{point['id']}.{when}.json") for when in ("before", "after"))
    try:
        b, a = before["model_stats"][0], after["model_stats"][0]
    except (TypeError, KeyError, IndexError):
        return None

    def delta(key):
        return (a["inference_stats"][key]["count"] - b["inference_stats"][key]["count"],
                a["inference_stats"][key]["ns"] - b["inference_stats"][key]["ns"])

    (done, done_ns), (queued, queue_ns), (runs, run_ns) = delta("success"), delta("queue"), delta("compute_infer")
    if done <= 0 or runs <= 0:
        return None
    rows = a["inference_count"] - b["inference_count"]
    return dict(in_model=done_ns / done / 1e6, queue=queue_ns / max(queued, 1) / 1e6, compute=run_ns / runs / 1e6,
                rows_per_run=rows / runs)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


class Report:
    def __init__(self, work, protocol):
        self.work = pathlib.Path(work)
        self.protocol = protocol
        self.plan = load(self.work / "plan.json") or {}
        self.device = self.plan.get("device", "?")
        self.bench = {}
        for f in sorted((self.work / "bench").glob("*.json")):
            self.bench[f.stem] = load(f)
        self.targets = []  # (what, target, measured, verdict)

    def point(self, model, batch, concurrency=None):
        """The server's result for a plan point: (p50 ms, items/s, errors, note) or None."""
        for p in self.plan.get("points", []):
            if p["model"] == model and p["batch"] == batch and (concurrency is None or p["concurrency"] == concurrency):
                r = self.bench.get(p["id"])
                if not r or not r.get("results"):
                    return None
                level = r["results"][0]
                return dict(p50=level["p50_ms"], items=level["items_per_s"], errors=level["errors"],
                            requests=level["requests"], concurrency=p["concurrency"], note=r.get("note"))
        return None

    def target(self, what, goal, measured, ok, cpu_meaningful=False):
        """ok: True/False, or None when there is no data. On the CPU smoke run, performance targets
        are shown but not judged: they speak of a GPU."""
        if ok is None:
            verdict = "no data"
        elif self.device != "cuda" and not cpu_meaningful:
            verdict = "n/a on CPU"
        else:
            verdict = "pass" if ok else "**FAIL**"
        self.targets.append((what, goal, measured, verdict))


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--protocol", default="v2-binary")
    parser.add_argument("--elapsed", type=int)
    parser.add_argument("--partial", action="store_true", help="written before the last steps ran")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    rep = Report(args.work, args.protocol)
    work = rep.work
    facts = load(work / "facts.json") or {}
    raw = load(out / "raw.json") or {}
    main_server = load(work / "server-main.json") or {}
    aux_server = load(work / "server-aux.json") or {}
    compare = load(work / "probe" / "compare.json") or {}
    memory = load(work / "probe" / "memory.json")
    oom = load(work / "probe" / "oom.json")
    steps = []
    if (work / "steps.tsv").exists():
        steps = [line.split("\t") for line in (work / "steps.tsv").read_text().splitlines() if line]
    sizes = rep.plan.get("sizes", {})
    sections = []

    # ---- ResNet-50 precisions against raw PyTorch ----
    raw_rows = {(r["precision"], r["batch"]): r for r in raw.get("resnet50", [])}
    rows = []
    top = max(sizes.get("resnet_batches", [1]))
    at_top = {}
    for p in sizes.get("resnet_precisions", []):
        for b in sizes.get("resnet_batches", []):
            r = raw_rows.get((p, b))
            s = rep.point(f"resnet50_{p}", b)
            thr = ratio(s and s["items"], r and r["items_per_s"])
            lat = ratio(r and r["p50_ms"], s and s["p50"])
            rows.append([p, b, s["concurrency"] if s else "—", num(r and r["p50_ms"]), num(r and r["items_per_s"]),
                         num(s and s["p50"]), num(s and s["items"]), num(thr, 2), num(lat, 2),
                         (s["errors"] if s else "—")])
            if b == top:
                at_top[p] = (s and s["items"], r and r["items_per_s"])
        # The same model with inputs declared at its own precision (resnet50_<p>_wire), where made.
        for b in sizes.get("resnet_batches", []):
            w = rep.point(f"resnet50_{p}_wire", b)
            if w is None:
                continue
            r = raw_rows.get((p, b))
            rows.append([f"{p}, {p.upper()} in", b, w["concurrency"], num(r and r["p50_ms"]),
                         num(r and r["items_per_s"]), num(w["p50"]), num(w["items"]),
                         num(ratio(w["items"], r and r["items_per_s"]), 2), num(ratio(r and r["p50_ms"], w["p50"]), 2),
                         w["errors"]])
    sections.append(("ResNet-50: torchlight next to raw PyTorch eager",
                     f"Server over {rep.protocol} (FP32 inputs and outputs whatever the precision, except the rows "
                     f"\"fp16, FP16 in\" and \"bf16, BF16 in\", whose inputs are declared at the model's precision: half "
                     f"the bytes; batch 1 one request at a time, larger batches with {sizes.get('busy_concurrency', '?')} "
                     f"in flight), {sizes.get('duration')} per point. Raw PyTorch: inputs already on the device, "
                     "each call synchronized. `thr` = server img/s ÷ raw img/s; `lat` = raw p50 ÷ server p50.",
                     table(["precision", "batch", "conc.", "raw p50 ms", "raw img/s", "server p50 ms", "server img/s",
                            "thr", "lat", "errors"], rows)))
    from_host = {r["precision"]: r for r in raw.get("resnet50_from_host", [])}
    if from_host:
        rows = []
        for p, (s_items, r_items) in at_top.items():
            h = from_host.get(p)
            w = rep.point(f"resnet50_{p}_wire", top)
            rows.append([p, top, num(r_items), num(h and h["items_per_s"]), num(s_items),
                         num(ratio(s_items, h and h["items_per_s"]), 2), num(w and w["items"]),
                         num(ratio(w and w["items"], h and h["items_per_s"]), 2)])
        sections.append((f"ResNet-50 batch {top}: raw PyTorch from host memory",
                         "The same raw PyTorch model started from an FP32 batch in pinned host memory, as a server "
                         "must start: copied to the device, cast there, logits brought back. `server ÷ host` says "
                         "what the server costs beyond the unavoidable copies; `16-bit in` is the model with inputs "
                         "declared at its precision.",
                         table(["precision", "batch", "raw img/s (on device)", "raw img/s (from host)", "server img/s",
                                "server ÷ host", "server img/s, 16-bit in", "16-bit in ÷ host"], rows)))
    for p, (s_items, r_items) in at_top.items():
        rr = ratio(s_items, r_items)
        rep.target(f"ResNet-50 {p} batch {top}: server ÷ raw PyTorch img/s", "≥ 0.9", num(rr, 2),
                   None if rr is None else rr >= 0.9)
    if "fp16" in at_top and "fp32" in at_top:
        sr = ratio(at_top["fp16"][0], at_top["fp32"][0])
        rr = ratio(at_top["fp16"][1], at_top["fp32"][1])
        rep.target(f"fp16 ÷ fp32 img/s, server, batch {top}", "≥ 1.8", f"{num(sr, 2)} (raw PyTorch {num(rr, 2)})",
                   None if sr is None else sr >= 1.8)

    # ---- the largest batch on two instances ----
    rows = []
    for name, p in ((f"resnet50_{q}_i2", q) for q in sizes.get("resnet_precisions", [])):
        for label, model in ((f"{p}", name), (f"{p}, {p.upper()} in", f"resnet50_{p}_wire_i2")):
            two = rep.point(model, top)
            if two is None:
                continue
            one = rep.point(model.replace("_i2", ""), top)
            r, h = raw_rows.get((p, top)), from_host.get(p)
            rows.append([label, num(one and one["items"]), num(two["items"]), two["concurrency"], num(two["p50"]),
                         num(ratio(two["items"], one and one["items"]), 2), num(ratio(two["items"], h and h["items_per_s"]), 2),
                         num(ratio(two["items"], r and r["items_per_s"]), 2), two["errors"]])
            if model == name:
                rr = ratio(two["items"], r and r["items_per_s"])
                rep.target(f"ResNet-50 {p} batch {top}, two instances: server ÷ raw PyTorch img/s", "≥ 0.9",
                           num(rr, 2), None if rr is None else rr >= 0.9)
    if rows:
        sections.append((f"ResNet-50 batch {top} on two instances of one GPU",
                         "Each instance has its own stream and pinned input memory, so that one's copies and host work "
                         "overlap the other's forward; twice the requests in flight. `÷ host` and `÷ device`: against "
                         "raw PyTorch from host memory and with inputs already on the device.",
                         table(["precision", "img/s, 1 instance", "img/s, 2 instances", "conc.", "p50 ms", "2 ÷ 1",
                                "÷ host", "÷ device", "errors"], rows)))

    # ---- CUDA graphs ----
    eager = rep.point("resnet50_fp32", 1)
    graphs = rep.point("resnet50_graphs", 1)
    g_ratio = ratio(graphs and graphs["p50"], eager and eager["p50"])
    raw_eager = raw_rows.get(("fp32", 1))
    raw_graph = raw.get("cuda_graph")
    sections.append(("CUDA graphs: ResNet-50 fp32, batch 1, one request at a time",
                     "`cuda_graphs: true` against the same model without, in the same server.",
                     table(["", "server p50 ms", "server img/s", "raw PyTorch p50 ms"],
                           [["eager", num(eager and eager["p50"]), num(eager and eager["items"]),
                             num(raw_eager and raw_eager["p50_ms"])],
                            ["CUDA graphs", num(graphs and graphs["p50"]), num(graphs and graphs["items"]),
                             num(raw_graph and raw_graph["p50_ms"])],
                            ["graphs ÷ eager", num(g_ratio, 2), "", num(ratio(raw_graph and raw_graph["p50_ms"],
                                                                               raw_eager and raw_eager["p50_ms"]), 2)]])))
    rep.target("CUDA graphs: p50 ÷ eager p50, batch 1", "≤ 0.6", num(g_ratio, 2), None if g_ratio is None else g_ratio <= 0.6)

    # ---- instances ----
    ib = sizes.get("instances_batch")
    one, four = rep.point("resnet50_i1", ib), rep.point("resnet50_i4", ib)
    i_ratio = ratio(four and four["items"], one and one["items"])
    sections.append((f"Instances: one against four on one GPU",
                     f"ResNet-50 fp32, requests of batch {ib}, {sizes.get('instances_concurrency')} in flight.",
                     table(["instances", "img/s", "p50 ms", "errors"],
                           [[1, num(one and one["items"]), num(one and one["p50"]), one["errors"] if one else "—"],
                            [4, num(four and four["items"]), num(four and four["p50"]), four["errors"] if four else "—"],
                            ["4 ÷ 1", num(i_ratio, 2), "", ""]])))
    rep.target("4 instances ÷ 1 instance img/s", "≥ 1.3", num(i_ratio, 2), None if i_ratio is None else i_ratio >= 1.3)

    # ---- risk MLP ----
    rows = []
    for r in raw.get("risk", []):
        s = rep.point("risk", r["batch"])
        rows.append([r["batch"], num(r["p50_ms"], 4), num(r["items_per_s"]), num(s and s["p50"], 4), num(s and s["items"]),
                     num(ratio(s and s["items"], r["items_per_s"]), 2)])
    sections.append(("Risk MLP (256 → 1024 → 1024 → 2, fp32)", "", table(
        ["batch", "raw p50 ms", "raw rows/s", "server p50 ms", "server rows/s", "server ÷ raw"], rows)))

    # ---- AOTInductor ----
    aoti = rep.plan.get("aoti")
    rows = []
    if aoti:
        base = aoti[: -len("_aoti")]
        ts_model = "resnet50_fp32" if base == "resnet50" else "risk"
        top_aoti = rep.plan["models"][aoti]["max_batch"]
        for b in (1, top_aoti):
            a, t = rep.point(aoti, b), rep.point(ts_model, b)
            rows.append([b, num(t and t["p50"]), num(t and t["items"]), num(a and a["p50"]), num(a and a["items"]),
                         num(ratio(a and a["items"], t and t["items"]), 2), a["note"] if a and a["note"] else ""])
        state = main_server.get("models", {}).get(aoti, {})
        sections.append((f"AOTInductor package ({aoti}) against TorchScript ({ts_model})",
                         f"Compiled on this machine for {rep.device} with a dynamic batch dimension; load state: "
                         f"{state.get('state', 'not made')} {state.get('error') or ''}".rstrip(),
                         table(["batch", "TorchScript p50 ms", "TorchScript items/s", "AOTI p50 ms", "AOTI items/s",
                                "AOTI ÷ TorchScript", "note"], rows)))

    # ---- the split 3D U-Net (examples/medical-3d) ----
    unet = rep.plan.get("unet3d")
    if unet:
        spec = rep.plan["models"][unet]
        raw_unet = raw.get("unet3d") or {}
        rows = [["raw PyTorch (the file as torchlight loads it: as saved, frozen; CPU volume in, CPU logits out)", "—",
                 num(raw_unet.get("p50_ms")), num(raw_unet.get("items_per_s")), ""]]
        for c in (1, 2):
            s = rep.point(unet, 1, c)
            rows.append([f"torchlight over {rep.protocol}", c, num(s and s["p50"]), num(s and s["items"]),
                         num(ratio(raw_unet.get("p50_ms"), s and s["p50"]), 2) if c == 1 else ""])
        check = next((c for c in compare.get("rows", []) if c["model"] == unet), None)
        if check is None:
            verdict = "not compared"
        elif check.get("rel") is None:
            verdict = f"{check['status']}: {check.get('note', '')}"
        else:
            verdict = f"{check['status']}, rel {check['rel']:.2e}"
        state = main_server.get("models", {}).get(unet, {})
        devices = spec.get("devices") or ["?", "?"]
        size = spec.get("size")
        mib = f"{size ** 3 * 4 / 2**20:g} MiB FP32 in, twice that out" if size else "FP32 in and out"
        sections.append((f"3D U-Net split in two stages ({devices[0]} and {devices[1]}, kind: MODEL)",
                         f"examples/medical-3d: one {size}^3 volume per request ({mib}), {spec['precision']}, stage 1 "
                         f"on {devices[0]}, stage 2 on {devices[1]}, one instance; load state: "
                         f"{state.get('state', 'not made')} {state.get('error') or ''}; output against the unsplit model "
                         f"(same precision, on {devices[0]}): {verdict}. `raw ÷ server` = raw p50 ÷ server p50.",
                         table(["", "concurrency", "p50 ms", "volumes/s", "raw ÷ server"], rows)))

    # ---- the examples' workloads (examples/risk-scoring, examples/recommendation) ----
    ex_server = load(work / "server-examples.json") or {}
    ex_models = ex_server.get("models", {})
    ex_start = next((st[2] for st in steps if st[0] == "server examples: start"), None)

    def ex_state(model):
        m = ex_models.get(model)
        return "not made" if m is None else f"{m['state']} on {', '.join(d or '?' for d in m.get('devices', []))}" + (
            f" ({m['error']})" if m.get("error") else "")

    rows, best = [], {}
    for model in ("risk", "risk_nobatch"):
        for level in (rep.bench.get(f"example-{model}") or {}).get("results", []):
            met = level["errors"] == 0 and level.get("p99_ms") is not None and level["p99_ms"] <= 8
            rows.append([model, num(level.get("rate")), num(level.get("throughput_rps")), num(level.get("p50_ms")),
                         num(level.get("p99_ms")), num(level.get("p999_ms")), level["errors"], "yes" if met else "no"])
            if met:
                best[model] = max(best.get(model, 0), level.get("rate") or 0)
    sections.append(("Risk scoring (examples/risk-scoring): the recorded transactions, open loop",
                     f"`risk`: latency-target batching (8 ms), {ex_state('risk')}; `risk_nobatch`: every request alone, "
                     f"{ex_state('risk_nobatch')}. gRPC unary, rates rising until the p99 passes 8 ms. Highest rate "
                     f"with p99 ≤ 8 ms: risk {num(best.get('risk'))}/s, risk_nobatch {num(best.get('risk_nobatch'))}/s.",
                     table(["model", "rate/s", "answered/s", "p50 ms", "p99 ms", "p99.9 ms", "errors", "p99 ≤ 8 ms"], rows)))
    rep.target("risk scoring, latency-target batching: highest rate with p99 ≤ 8 ms", "≥ 2,000/s",
               num(best.get("risk")), None if not rows else best.get("risk", 0) >= 2000)
    rows = []
    for b in (1, 32, 256):
        r = rep.bench.get(f"example-dlrm-b{b}") or {}
        level = (r.get("results") or [None])[0]
        rows.append([b, num(level and level.get("throughput_rps")), num(level and level.get("items_per_s")),
                     num(level and level.get("p50_ms")), num(level and level.get("p99_ms")),
                     level["errors"] if level else "—"])
    rec_rows = None
    config = work / "examples" / "models" / "dlrm" / "config.yaml"
    if config.exists():
        first = config.read_text().splitlines()[0]
        rec_rows = first[2:].rstrip(":") if first.startswith("# ") else None
    sections.append(("Recommendation (examples/recommendation): ragged multi-hot ids, 4 requests in flight",
                     f"{rec_rows or 'dlrm: not made'}; {ex_state('dlrm')}; the server was ready "
                     f"{ex_start or '—'} s after its start (JVM start and every example model's load). "
                     "Ids drawn uniformly over each whole table (v2 JSON).",
                     table(["rows per request", "requests/s", "rows/s", "p50 ms", "p99 ms", "errors"], rows)))
    served = [row for row in rows if row[1] != "—"]
    rep.target("recommendation: ragged requests of 1 to 256 rows answered without errors", "yes",
               f"{len(served)} of 3 batch sizes measured",
               None if not served else all(row[5] == 0 for row in served) and len(served) == 3, cpu_meaningful=True)

    # ---- raw engine ----
    rows = []
    for name, r in rep.bench.items():
        if not name.startswith("raw-engine-") or not r:
            continue
        model = name[len("raw-engine-"):]
        p = rep.plan.get("models", {}).get(model, {}).get("precision", "fp32")
        for level in r.get("results", []):
            ref = raw_rows.get((p, level["batch_size"]))
            rows.append([model, level["batch_size"], num(level["p50_ms"]), num(level["items_per_s"]),
                         num(ref and ref["items_per_s"]), num(ratio(level["items_per_s"], ref and ref["items_per_s"]), 2)])
    sections.append(("The raw engine (torchlight bench --raw: no server, same placement)", "",
                     table(["model", "batch", "p50 ms", "items/s", "raw PyTorch items/s", "engine ÷ PyTorch"], rows)))

    # ---- where the server's time went, from its own statistics around each point ----
    rows = []
    for point in rep.plan.get("points", []):
        split = server_split(work / "stats", point)
        if split is None:
            continue
        s = rep.point(point["model"], point["batch"], point["concurrency"])
        rows.append([point["model"], point["batch"], point["concurrency"], num(s and s["p50"]),
                     num(split["in_model"]), num(split["queue"]), num(split["compute"]),
                     num(split["rows_per_run"], 3)])
    if rows:
        sections.append(("Where the server's time went (its own statistics, around each point)",
                         "Per request, means over the point (its warm-up included): `in model` = queue + run, from "
                         "arrival at the model's queue to the answer; `compute` = one engine run (a batch), copies to "
                         "and from the device included. The client's p50 minus `in model` is what HTTP or gRPC, "
                         "decoding and the hand-offs cost.",
                         table(["model", "batch", "conc.", "client p50 ms", "in model ms", "queue ms",
                                "compute ms per run", "rows per run"], rows)))

    # ---- outputs ----
    def sci(v):
        return "—" if v is None else f"{v:.2e}"

    rows = [[c["model"], c["precision"], sci(c.get("max_abs")), num(c.get("max_ref")), sci(c.get("rel")),
             c.get("note", ""), c["status"] if c["status"].startswith("pass") else f"**{c['status']}**"]
            for c in compare.get("rows", [])]
    sections.append(("Outputs next to PyTorch eager",
                     "One fixed input per model through v2 binary tensors; reference: eager PyTorch on the same device "
                     "at the same precision (fp32 without TF32). rel = ‖server − ref‖ / ‖ref‖.",
                     table(["model", "precision", "max abs Δ", "max abs ref", "rel", "limit", "verdict"], rows)))
    passed = sum(1 for c in compare.get("rows", []) if c["status"].startswith("pass"))
    total = len(compare.get("rows", []))
    rep.target("outputs within tolerance", "all", f"{passed} of {total}", None if not total else passed == total,
               cpu_meaningful=True)

    # ---- memory ----
    if memory:
        def mib(key, where=memory):
            return num(where.get(key, {}).get("mib"), 1) if where.get(key) else "—"
        first = memory.get("first") or {}
        rows = [[label, mib(key, first), mib(key)] for label, key in
                (("before loading", "before"), ("loaded, after traffic", "loaded"), ("after unloading", "after"))]
        extra = []
        for key in ("before", "loaded", "after"):
            metrics = (memory.get(key) or {}).get("metrics") or {}
            if metrics:
                extra.append(f"{key}: " + ", ".join(f"`{k}` {v / 2**20:.0f} MiB" for k, v in metrics.items()))
        sections.append((f"Memory after unloading ({memory.get('model')}, batch {memory.get('batch')})",
                         "Two cycles of load, three batches, unload. The first pays what stays for the process's "
                         "life once such a model has run (kernels CUDA loads on first use, cuDNN's and cuBLAS's "
                         "handles); the target is on the second, which shows what a load leaves behind. "
                         + "; ".join(x for x in ((memory.get("before") or {}).get("source"), memory.get("error")) if x) + "\n\n"
                         + "\n".join("- " + e for e in memory.get("steps", []) + extra),
                         table(["", "first cycle MiB", "second cycle MiB"], rows)))
        b, a = (memory.get("before") or {}).get("mib"), (memory.get("after") or {}).get("mib")
        rep.target("memory after unload ÷ before load (second cycle)", "≤ 1.05", num(ratio(a, b), 3),
                   None if a is None or b is None else memory.get("status") == "pass")
    else:
        rep.target("memory after unload ÷ before load (second cycle)", "≤ 1.05", "—", None)

    # ---- out of memory ----
    if oom:
        rows = [["batch " + str(oom.get("big_batch")) + " (cannot fit)", (oom.get("big") or {}).get("status", "—"),
                 (oom.get("big") or {}).get("answer", "")[:160].replace("|", "/")],
                ["batch 1 after it", (oom.get("small") or {}).get("status", "—"), (oom.get("small") or {}).get("answer", "")],
                ["GET /v2/health/live", oom.get("live", "—"), ""],
                [f"another model ({(oom.get('other_model') or {}).get('model')})",
                 (oom.get("other_model") or {}).get("status", "—"), ""]]
        sections.append((f"Out of memory: each row takes {oom.get('row_bytes', 0) / 2**30:.1f} GiB",
                         "; ".join(oom.get("steps", [])) + (f"; {oom['error']}" if oom.get("error") else "")
                         + (f"\n\nInstances after: `{json.dumps(oom.get('instances'))}`" if oom.get("instances") else ""),
                         table(["request", "HTTP", "answer"], rows)))
        rep.target("out of memory: the small batch after it succeeds, the server stays up", "yes",
                   f"{(oom.get('big') or {}).get('status', '—')} then {(oom.get('small') or {}).get('status', '—')}",
                   oom.get("status") == "pass", cpu_meaningful=True)
    else:
        rep.target("out of memory: the small batch after it succeeds, the server stays up", "yes", "—", None)

    # ---- the document ----
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# torchlight GPU check, {date}", ""]
    if args.partial:
        lines += ["**Partial report**: written before the last steps (memory, out of memory, the examples); the run did not finish.", ""]
    if rep.device != "cuda":
        lines += ["**CPU smoke run** (TL_CHECK_DEVICE=cpu): the flow on a CPU with small batches; "
                  "performance targets are not judged.", ""]
    bundle = facts.get("bundle", {})
    lines += [
        f"- GPU: {facts.get('nvidia_smi', '—')}",
        f"- PyTorch {facts.get('torch', '—')}, CUDA {facts.get('cuda', '—')}, cuDNN {facts.get('cudnn', '—')}; "
        f"{facts.get('cores', '?')} cores ({facts.get('cpu', '?')}), {facts.get('mem_gib', '?')} GiB, kernel {facts.get('uname', '?')}",
        f"- torchlight: {bundle.get('commit', '?')} ({bundle.get('dirty', '?')}), bundle made {bundle.get('made', '?')}, "
        f"{bundle.get('java', '')}",
        f"- engine: {main_server.get('engine') or aux_server.get('engine') or 'not loaded'}",
        f"- protocol {rep.protocol}; GPU config keys {'on' if rep.plan.get('gpu_keys', True) else 'left out'}; "
        f"whole run {args.elapsed if args.elapsed is not None else '?'} s",
        "",
        "## Targets",
        "",
        table(["what", "target", "measured", "verdict"], [list(t) for t in rep.targets]),
        "",
    ]
    load_failures = [(n, m) for srv in (main_server, aux_server, ex_server) for n, m in srv.get("models", {}).items()
                     if m.get("state") != "READY"]
    if load_failures or main_server.get("error") or aux_server.get("error") or ex_server.get("error"):
        lines += ["## Models that did not load", ""]
        for srv, name in ((main_server, "main"), (aux_server, "aux"), (ex_server, "examples")):
            if srv.get("error"):
                lines.append(f"- server {name}: {srv['error']}")
        lines += [f"- {n}: {m.get('state')}: {m.get('error')}" for n, m in load_failures] + [""]
    for title, text, body in sections:
        lines += [f"## {title}", ""]
        if text:
            lines += [text, ""]
        lines += [body, ""]
    if raw.get("errors"):
        lines += ["Raw PyTorch errors: " + "; ".join(raw["errors"]), ""]
    lines += ["## Steps", "", table(["step", "outcome", "s", "note"], steps or [["—", "no steps recorded", "", ""]]), ""]
    (out / "check.md").write_text("\n".join(lines))

    results = dict(plan=rep.plan, facts=facts, raw_pytorch=raw, bench=rep.bench, servers=dict(main=main_server, aux=aux_server),
                   compare=compare, memory=memory, oom=oom, steps=steps,
                   targets=[dict(zip(("what", "target", "measured", "verdict"), t)) for t in rep.targets])
    (out / "results.json").write_text(json.dumps(results, indent=1))
    print("\n".join(lines[: lines.index("## Targets") + 3]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
