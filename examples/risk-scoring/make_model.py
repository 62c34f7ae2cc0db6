#!/usr/bin/env python3
"""Makes the risk-scoring example: the model repository, a recorded transaction stream, PyTorch's
reference outputs and the INT8 agreement figures.

  "$(tools/python-env.sh)" examples/risk-scoring/make_model.py            # into examples/risk-scoring/work/
  "$(tools/python-env.sh)" examples/risk-scoring/make_model.py --device gpu   # the same, GPU configs

The model scores a card transaction: 8 categorical features (ids into nn.Embedding tables) and 256
dense features (amounts, counts over time windows, times since events, flags, upstream scores),
standardised and clipped by a fitted scaler inside the model, then an MLP 352 -> 1024 -> 512 -> 256 -> 1 and a
sigmoid: the probability that the transaction is fraudulent, [B, 1]. Weights are random from fixed
seeds; the last layer is calibrated so that about 7% of transactions score above 0.5.

It writes, under --out:
  models/risk/          FP32 TorchScript, dynamic_batching {latency_target_ms: 8}
  models/risk_nobatch/  the same model file, no dynamic batching (every request runs alone)
  models/risk_int8/     nn.Linear layers dynamically quantized to INT8 (CPU only), latency target 8 ms
  stream.jsonl          the recorded stream: one Open Inference Protocol v2 request body per line
                        ({"id": ..., "inputs": [categorical INT64 [1, 8], dense FP32 [1, 256]]}),
                        what `torchlight bench --replay` sends
  reference.json        PyTorch's probabilities for every transaction: fp32, int8 (one transaction
                        per call, as served without batching) and int8_batched (64 per call)
  agreement.json        INT8 against FP32: max and mean absolute difference, decisions that flip at
                        0.5; also printed

--tiny makes the small variant the integration test uses (examples/risk-scoring/testdata/, committed):
the same inputs and outputs, small tables and layers, 32 transactions. Everything is deterministic:
the same command writes the same bytes.
"""

import argparse
import io
import json
import os
import pathlib
import sys
import time
import warnings

# TorchScript writes a module's constants in set order, which follows string hashing: a fixed hash
# seed keeps the model files identical from run to run.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable, *sys.argv])

import numpy as np
import torch
from torch import nn

HERE = pathlib.Path(__file__).resolve().parent

# (name, rows of its embedding table, embedding width). Ids are indices the feature pipeline
# assigns: high-cardinality keys (merchants, card BINs) are hashed into buckets, the rest are
# vocabularies. An id outside [0, rows) makes nn.Embedding throw.
CATEGORICAL = [
    ("merchant", 50_000, 32),
    ("mcc", 1_000, 16),          # merchant category code
    ("country", 250, 8),
    ("currency", 180, 8),
    ("card_bin", 20_000, 16),    # issuer BIN bucket
    ("device_type", 8, 4),
    ("channel", 6, 4),           # POS, e-commerce, ATM, MOTO, contactless, recurring
    ("hour_of_week", 168, 8),
]
DENSE = 256
HIDDEN = [1024, 512, 256]
TINY_ROWS = 64  # --tiny: table rows at most
TINY_HIDDEN = [32, 16]
THRESHOLD = 0.5
MAX_BATCH = 64
LATENCY_TARGET_MS = 8

SEED_WEIGHTS = 20261203
SEED_CALIBRATION = 1
SEED_STREAM = 2
SEED_FEATURES = 3


class RiskModel(nn.Module):
    """Embeddings of the categorical ids and the scaled dense features, concatenated, through an MLP."""

    def __init__(self, tables, hidden):
        super().__init__()
        self.embeddings = nn.ModuleList([nn.Embedding(rows, width) for rows, width in tables])
        self.register_buffer("dense_mean", torch.zeros(DENSE))
        self.register_buffer("dense_inv_std", torch.ones(DENSE))
        layers = []
        width = sum(w for _, w in tables) + DENSE
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)

    def forward(self, categorical: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logit(categorical, dense))

    @torch.jit.export
    def logit(self, categorical: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        parts = [table(categorical[:, i]) for i, table in enumerate(self.embeddings)]
        # Standardised, and clipped at 5 deviations as a fitted scaler usually is: amounts and
        # times since events have long tails.
        parts.append(torch.clamp((dense - self.dense_mean) * self.dense_inv_std, -5.0, 5.0))
        return self.mlp(torch.cat(parts, dim=1))


def tables(tiny):
    return [(min(rows, TINY_ROWS) if tiny else rows, width) for _, rows, width in CATEGORICAL]


def popular(rng, rows, exponent, n):
    """Ids 0..rows-1 drawn with Zipf-like popularity: a few merchants or countries carry most traffic."""
    weights = 1.0 / np.arange(1, rows + 1) ** exponent
    return rng.choice(rows, size=n, p=weights / weights.sum())


def transactions(rng, n, tiny):
    """n transactions: categorical ids [n, 8] (int64) and dense features [n, 256] as the JSON text
    carries them (6 significant digits) and as float32."""
    rows = [r for r, _ in tables(tiny)]
    categorical = np.stack([
        popular(rng, rows[0], 1.1, n),
        popular(rng, rows[1], 1.3, n),
        popular(rng, rows[2], 1.8, n),
        popular(rng, rows[3], 2.0, n),
        popular(rng, rows[4], 0.9, n),
        rng.choice(rows[5], size=n, p=np.array([40, 25, 15, 8, 5, 4, 2, 1])[:rows[5]] / 100),
        rng.choice(rows[6], size=n, p=np.array([35, 40, 5, 3, 12, 5])[:rows[6]] / 100),
        rng.integers(0, rows[7], size=n),
    ], axis=1).astype(np.int64)
    amount = rng.lognormal(3.6, 1.3, n)  # median about 37 in the card's currency
    counts = rng.poisson(np.geomspace(0.5, 60, 40), size=(n, 40))  # card/merchant/device x 1 h .. 30 d
    sums = counts * rng.lognormal(3.6, 1.0, (n, 40))
    since = rng.exponential(np.geomspace(60, 2.6e6, 32), size=(n, 32))  # seconds since events
    flags = (rng.random((n, 32)) < np.linspace(0.02, 0.9, 32)).astype(np.float64)  # 3-D Secure, CVV match, ...
    population = np.random.default_rng(SEED_FEATURES)  # each score's own mean and spread, fixed
    scores = rng.normal(population.normal(0, 2, 110), population.uniform(0.5, 3, 110), (n, 110))  # upstream aggregates
    dense = np.concatenate([amount[:, None], np.log1p(amount)[:, None], counts, sums, since, flags, scores], axis=1)
    assert dense.shape[1] == DENSE
    text = [[f"{v:.6g}" for v in row] for row in dense]
    values = np.array(text, dtype=np.float64).astype(np.float32)  # exactly what a server parses
    return categorical, text, values


def build(tiny):
    torch.manual_seed(SEED_WEIGHTS)
    model = RiskModel(tables(tiny), TINY_HIDDEN if tiny else HIDDEN).eval()
    # The scaler and the calibration are fitted on transactions of their own, not the recorded stream.
    categorical, _, dense = transactions(np.random.default_rng(SEED_CALIBRATION), 4096, tiny)
    model.dense_mean.copy_(torch.from_numpy(dense.mean(axis=0)))
    model.dense_inv_std.copy_(torch.from_numpy(1.0 / np.maximum(dense.std(axis=0), 1e-6)))
    last = model.mlp[-1]
    with torch.no_grad():
        logits = model.logit(torch.from_numpy(categorical), torch.from_numpy(dense))
        scale = 2.0 / logits.std().item()
        last.weight.mul_(scale)
        last.bias.copy_((last.bias - logits.mean().item()) * scale - 3.0)  # logits about N(-3, 2^2)
    return model


def quantized(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecation notice pointing at torchao
        return torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8).eval()


def save(module, path):
    """torch.jit.save without the debug records, which hold this script's absolute path: the same
    bytes on every machine."""
    buf = io.BytesIO()
    torch.jit.save(module, buf)
    reader = torch._C.PyTorchFileReader(io.BytesIO(buf.getvalue()))
    records = {n: reader.get_record(n) for n in reader.get_all_records() if not n.endswith(".debug_pkl")}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    writer = torch._C.PyTorchFileWriter(str(tmp))
    writer.set_min_version(int(records.pop("version")))
    for name, data in records.items():
        writer.write_record(name, data, len(data))
    writer.write_end_of_file()
    del writer
    tmp.replace(path)  # a run killed half-way never leaves a truncated model.pt


def config(name, device, batching, int8, tiny):
    names = ", ".join(n for n, _, _ in CATEGORICAL)
    ranges = ", ".join(f"[0, {r - 1}]" for r, _ in tables(tiny))
    lines = [
        f"name: {name}",
        "platform: torchscript",
        f"max_batch_size: {MAX_BATCH}",
        "inputs:",
        f"  - name: categorical   # ids, in this order: {names}",
        "    datatype: INT64",
        "    shape: [8]",
        "    # Each column's table rows: an id outside its table is refused with 400 before it is queued.",
        f"    value_range: [{ranges}]",
        "  - name: dense         # raw features; the model scales them",
        "    datatype: FP32",
        f"    shape: [{DENSE}]",
        "outputs:",
        "  - name: probability   # of fraud; decline at >= 0.5",
        "    datatype: FP32",
        "    shape: [1]",
    ]
    if batching:
        lines += ["dynamic_batching:", f"  latency_target_ms: {LATENCY_TARGET_MS}"]
    if device == "gpu" and not int8:
        # On a GPU: two instances (each with its own CUDA stream), bfloat16, and CUDA graphs, which take
        # the kernel launches out of a small MLP's time; the batcher learns the GPU's costs. Not fp16:
        # inputs are cast at the boundary, and raw features (seconds since an event, sums) pass 65504.
        lines += ["instance_group:", "  - kind: GPU", "    count: 2", "precision: bf16", "cuda_graphs: true"]
    else:
        # One instance with one intra-op thread: on 2 cores the other one parses and writes requests.
        lines += ["intra_op_threads: 1"]
    return "\n".join(lines) + "\n"


def write_repository(out, model, int8_model, device, tiny):
    repo = out / "models"
    fp32 = torch.jit.script(model)
    int8 = torch.jit.script(int8_model)
    for name, module, batching, is_int8 in [("risk", fp32, True, False), ("risk_nobatch", fp32, False, False),
                                           ("risk_int8", int8, True, True)]:
        save(module, repo / name / "1" / "model.pt")
        (repo / name / "config.yaml").write_text(config(name, device, batching, is_int8, tiny))
    return fp32, int8


def write_stream(path, categorical, text):
    with open(path.with_suffix(".tmp"), "w") as f:
        for i, (ids, row) in enumerate(zip(categorical, text)):
            f.write('{"id":"txn-%06d","inputs":[{"name":"categorical","datatype":"INT64","shape":[1,8],"data":[%s]},'
                    '{"name":"dense","datatype":"FP32","shape":[1,%d],"data":[%s]}]}\n'
                    % (i, ",".join(str(int(v)) for v in ids), DENSE, ",".join(row)))
    path.with_suffix(".tmp").replace(path)


def score(module, categorical, dense, batch):
    out = []
    with torch.no_grad():
        for start in range(0, len(categorical), batch):
            out.append(module(torch.from_numpy(categorical[start:start + batch]),
                              torch.from_numpy(dense[start:start + batch])).reshape(-1))
    return torch.cat(out).numpy().astype(np.float64)


def agreement(fp32, int8, int8_batched):
    def compare(a, b):
        flips = int(np.count_nonzero((a >= THRESHOLD) != (b >= THRESHOLD)))
        return {"max_abs_diff": float(np.max(np.abs(a - b))), "mean_abs_diff": float(np.mean(np.abs(a - b))),
                "flipped_decisions": flips, "flipped_share": flips / len(a)}

    return {
        "transactions": len(fp32),
        "threshold": THRESHOLD,
        "fp32_declined_share": float(np.mean(fp32 >= THRESHOLD)),
        "int8_declined_share": float(np.mean(int8 >= THRESHOLD)),
        "int8_vs_fp32": compare(int8, fp32),
        # Dynamic quantization scales each batch's activations by that batch's range: a transaction's
        # INT8 score depends a little on the transactions it is batched with.
        "int8_batch64_vs_int8_batch1": compare(int8_batched, int8),
        "int8_batch64_vs_fp32": compare(int8_batched, fp32),
    }


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, help="where to write (default: work/, or testdata/ with --tiny)")
    parser.add_argument("--transactions", type=int, help="transactions in the recorded stream (default 20000; 32 with --tiny)")
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu",
                        help="gpu: configs for GPU instances at precision bf16 with CUDA graphs (the INT8 model, "
                             "whose quantized kernels are CPU only, stays on the CPU)")
    parser.add_argument("--tiny", action="store_true", help="the small variant of the integration test")
    args = parser.parse_args(argv)
    out = args.out or HERE / ("testdata" if args.tiny else "work")
    n = args.transactions or (32 if args.tiny else 20_000)
    if n < 1:
        parser.error("--transactions must be at least 1")
    torch.set_num_threads(1)  # the same arithmetic as one serving instance with one intra-op thread
    start = time.monotonic()

    model = build(args.tiny)
    int8_model = quantized(model)
    fp32, int8 = write_repository(out, model, int8_model, args.device, args.tiny)
    categorical, text, dense = transactions(np.random.default_rng(SEED_STREAM), n, args.tiny)
    write_stream(out / "stream.jsonl", categorical, text)

    # The saved files, loaded back, are what the server runs.
    fp32 = torch.jit.load(str(out / "models" / "risk" / "1" / "model.pt"))
    int8 = torch.jit.load(str(out / "models" / "risk_int8" / "1" / "model.pt"))
    p_fp32 = score(fp32, categorical, dense, 256)
    p_int8 = score(int8, categorical, dense, 1)
    p_int8_batched = score(int8, categorical, dense, MAX_BATCH)
    # Shortest round-tripping decimals of the float32 results.
    as_list = lambda p: [float(np.format_float_positional(np.float32(v), unique=True, trim="-")) for v in p]
    reference = {"threshold": THRESHOLD, "fp32": as_list(p_fp32), "int8": as_list(p_int8),
                 "int8_batched": as_list(p_int8_batched)}
    (out / "reference.json").write_text(json.dumps(reference, separators=(",", ":")) + "\n")
    stats = agreement(p_fp32, p_int8, p_int8_batched)
    (out / "agreement.json").write_text(json.dumps(stats, indent=2) + "\n")

    size = lambda name: (out / "models" / name / "1" / "model.pt").stat().st_size / 2**20
    print(f"models in {out / 'models'}: risk {size('risk'):.1f} MiB (FP32), risk_int8 {size('risk_int8'):.1f} MiB; "
          f"{n} transactions in {out / 'stream.jsonl'} ({(out / 'stream.jsonl').stat().st_size / 2**20:.1f} MiB)")
    a = stats["int8_vs_fp32"]
    b = stats["int8_batch64_vs_int8_batch1"]
    print(f"declined at >= {THRESHOLD}: FP32 {stats['fp32_declined_share']:.2%}, INT8 {stats['int8_declined_share']:.2%}")
    print(f"INT8 vs FP32: max |diff| {a['max_abs_diff']:.2e}, mean {a['mean_abs_diff']:.2e}, "
          f"{a['flipped_decisions']} of {n} decisions flip ({a['flipped_share']:.3%})")
    print(f"INT8 batched by 64 vs one at a time: max |diff| {b['max_abs_diff']:.2e}, "
          f"{b['flipped_decisions']} decisions flip")
    print(f"written in {time.monotonic() - start:.0f} s: {out / 'reference.json'}, {out / 'agreement.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
