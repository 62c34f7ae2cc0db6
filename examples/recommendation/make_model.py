#!/usr/bin/env python3
"""Builds the recommendation example's model and its config into a model repository.

A DLRM-style ranking model (Naumov et al., 2019) whose embedding tables dwarf its dense part:
eight nn.EmbeddingBag tables (sum pooling over a variable number of ids per row), a bottom
MLP over 13 dense features, pairwise dot-product interaction of the nine 64-d vectors, a top
MLP and a sigmoid: one click probability per row. Weights are random (uniform, as DLRM
initialises them); the shapes are those of a production model.

    py=$(tools/python-env.sh)
    $py examples/recommendation/make_model.py --repository /tmp/recsys    # 20M rows, 5.1 GB
    $py examples/recommendation/make_model.py --rows 2000 --repository /tmp/tiny
    $py examples/recommendation/make_model.py --rows 1000000000 --dtype fp16 --device gpu ...

--rows is the total over the tables, split by TABLE_SHARES (skewed, as real id spaces are).
The file is built without a second copy in memory: each table is allocated empty and
initialised in place, and torch.jit.save writes each table from where it lies, so building
needs about the file's size in RAM. The config written beside the model declares every id
input's value_range from its table's real size, so the two always agree.
"""
import argparse
import math
import pathlib
import sys
import time
from typing import List

import torch
from torch import Tensor, nn

TABLES = 8
# The tables' shares of --rows, largest first: a few huge id spaces (users, items) and a
# long tail of small ones (categories, devices), as in the Criteo and production datasets.
TABLE_SHARES = [0.40, 0.25, 0.15, 0.10, 0.05, 0.03, 0.015, 0.005]
DIM = 64
DENSE = 13  # Criteo's dense feature count
BOTTOM = [512, 256, DIM]
TOP = [512, 256, 1]
MAX_BATCH = 256
DEFAULT_ROWS = 20_000_000
DTYPES = {"fp32": torch.float32, "fp16": torch.float16}


def table_rows(total: int) -> List[int]:
    rows = [max(1, int(total * share)) for share in TABLE_SHARES]
    rows[0] += total - sum(rows)  # the rounding remainder goes to the largest table
    return rows


def mlp(sizes: List[int], last_activation: bool) -> nn.Sequential:
    layers: List[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2 or last_activation:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class DLRM(nn.Module):
    """forward(dense, ids_0..ids_7, offsets_0..offsets_7) -> score [batch, 1].

    ids_t holds the ids of every row of the batch concatenated (a ragged input) and
    offsets_t where each row's ids start, then their total ([batch + 1], what the server
    makes as BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO)."""

    def __init__(self, rows: List[int], dtype: torch.dtype):
        super().__init__()
        tables = []
        for n in rows:
            # Allocated empty and filled in place: no second copy of a multi-gigabyte table.
            weight = torch.empty(n, DIM, dtype=dtype)
            bound = 1.0 / math.sqrt(n)
            weight.uniform_(-bound, bound)
            tables.append(nn.EmbeddingBag(n, DIM, mode="sum", include_last_offset=True, _weight=weight))
        self.tables = nn.ModuleList(tables)
        self.bottom = mlp([DENSE] + BOTTOM, last_activation=True)
        vectors = len(rows) + 1
        pairs = vectors * (vectors - 1) // 2
        self.top = mlp([DIM + pairs] + TOP, last_activation=False)
        li, lj = torch.tril_indices(vectors, vectors, offset=-1)
        self.register_buffer("li", li, persistent=True)
        self.register_buffer("lj", lj, persistent=True)

    def forward(self, dense: Tensor,
                ids_0: Tensor, ids_1: Tensor, ids_2: Tensor, ids_3: Tensor,
                ids_4: Tensor, ids_5: Tensor, ids_6: Tensor, ids_7: Tensor,
                offsets_0: Tensor, offsets_1: Tensor, offsets_2: Tensor, offsets_3: Tensor,
                offsets_4: Tensor, offsets_5: Tensor, offsets_6: Tensor, offsets_7: Tensor) -> Tensor:
        ids = [ids_0, ids_1, ids_2, ids_3, ids_4, ids_5, ids_6, ids_7]
        offsets = [offsets_0, offsets_1, offsets_2, offsets_3, offsets_4, offsets_5, offsets_6, offsets_7]
        x = self.bottom(dense)
        vectors = [x]
        for t, table in enumerate(self.tables):
            # FP16 tables (the GPU configuration) pool in FP16; the dense part computes in FP32.
            vectors.append(table(ids[t], offsets[t]).float())
        stacked = torch.stack(vectors, dim=1)  # [batch, 9, 64]
        dots = torch.bmm(stacked, stacked.transpose(1, 2))  # [batch, 9, 9]
        pairs = dots[:, self.li, self.lj]  # the 36 distinct pairs
        return torch.sigmoid(self.top(torch.cat([x, pairs], dim=1)))


def config_yaml(name: str, rows: List[int], device: str, dtype: str) -> str:
    lines = [
        f"# Written by examples/recommendation/make_model.py for {sum(rows)} rows ({dtype} tables, {device}):",
        "# each id input's value_range is its table's size, so an id beyond a table is a 400, never an",
        "# engine failure.",
        f"name: {name}",
        "platform: torchscript",
        f"max_batch_size: {MAX_BATCH}",
        "inputs:",
        "  - name: dense",
        "    datatype: FP32",
        f"    shape: [{DENSE}]",
    ]
    for t, n in enumerate(rows):
        lines += [f"  - name: ids_{t}", "    datatype: INT64", "    shape: [-1]",
                  "    allow_ragged_batch: true", f"    value_range: [0, {n - 1}]"]
    lines += ["outputs:", "  - name: score", "    datatype: FP32", "    shape: [1]", "batch_inputs:"]
    for t in range(len(rows)):
        lines += [f"  - name: offsets_{t}", "    kind: BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO",
                  f"    source_input: ids_{t}", "    datatype: INT64"]
    lines += [
        "dynamic_batching:",
        "  max_queue_delay_us: 1000",
        "  preferred_batch_sizes: [32, 128, 256]",
    ]
    if device == "cpu":
        lines += [
            "# Two instances (one intra-op thread each on 2 cores) share one copy of the weights;",
            "# the README compares one instance with two.",
            "instance_group:",
            "  - count: 2",
            "    kind: CPU",
        ]
    else:
        lines += [
            "# One instance per GPU: each GPU instance holds its own copy of the tables.",
            "instance_group:",
            "  - count: 1",
            "    kind: GPU",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repository", type=pathlib.Path, required=True,
                        help="model repository to write <name>/config.yaml and <name>/1/model.pt into")
    parser.add_argument("--name", default="dlrm")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS,
                        help=f"embedding rows over all {TABLES} tables (default {DEFAULT_ROWS})")
    parser.add_argument("--dtype", choices=sorted(DTYPES),
                        help="the tables' datatype (default fp32 on the CPU, fp16 on a GPU)")
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu", help="where the instance runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--config-only", action="store_true", help="write config.yaml alone, no model")
    args = parser.parse_args()
    if args.rows < TABLES:
        parser.error(f"--rows must be at least {TABLES} (one per table)")
    args.dtype = args.dtype or ("fp16" if args.device == "gpu" else "fp32")

    rows = table_rows(args.rows)
    model_dir = args.repository / args.name
    if args.config_only:
        model_dir.mkdir(parents=True, exist_ok=True)
        (model_dir / "config.yaml").write_text(config_yaml(args.name, rows, args.device, args.dtype))
        return 0
    torch.manual_seed(args.seed)
    dtype = DTYPES[args.dtype]
    size = args.rows * DIM * dtype.itemsize
    print(f"building {args.name}: {TABLES} tables of {rows} rows x {DIM} {args.dtype} "
          f"= {size / 1e9:.2f} GB", file=sys.stderr)
    started = time.monotonic()
    with torch.no_grad():
        model = DLRM(rows, dtype).eval()
    scripted = torch.jit.script(model)
    built = time.monotonic()

    version = model_dir / "1"
    version.mkdir(parents=True, exist_ok=True)
    pt = version / "model.pt"
    torch.jit.save(scripted, str(pt))
    (model_dir / "config.yaml").write_text(config_yaml(args.name, rows, args.device, args.dtype))
    print(f"wrote {pt} ({pt.stat().st_size / 1e9:.2f} GB; built in {built - started:.0f} s, "
          f"saved in {time.monotonic() - built:.0f} s) and {model_dir / 'config.yaml'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
