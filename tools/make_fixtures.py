#!/usr/bin/python3
"""Builds the TorchScript fixture models and their golden reference outputs.

Writes models/mlp (the demo model), testdata/models/* and testdata/golden/*.json,
then checks that every model reloads and reproduces its golden exactly; `--check`
only checks. Needs Debian's python3-torch; run it through tools/make_fixtures.sh.
"""
import io
import json
import os
import pathlib
import shutil
import sys
from typing import Tuple

# TorchScript writes a module's constants in set order, which follows string
# hashing; a fixed hash seed keeps the .pt bytes identical from run to run.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable, *sys.argv])

import torch
from torch import Tensor, nn

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODELS = ROOT / "testdata" / "models"
GOLDEN = ROOT / "testdata" / "golden"
UNSUPPORTED_DIR = ROOT / "testdata" / "unsupported"  # same layout: <model>/..., golden/
GOLDEN_BATCH = 2  # batch size used in every golden of a batched model
INPUT_SEED = 1234  # golden inputs; independent of the weight seeds

DTYPES = {"BOOL": torch.bool, "UINT8": torch.uint8, "INT8": torch.int8,
          "INT16": torch.int16, "INT32": torch.int32, "INT64": torch.int64,
          "FP16": torch.float16, "BF16": torch.bfloat16,
          "FP32": torch.float32, "FP64": torch.float64}
# Integer golden inputs stay small enough that no fixture op can overflow.
INT_RANGES = {"UINT8": (0, 255), "INT8": (-100, 100)}  # others: [-1000, 1000)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, input: Tensor) -> Tensor:
        return self.fc2(torch.relu(self.fc1(input)))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, image: Tensor) -> Tensor:
        x = self.pool(torch.relu(self.conv1(image)))
        x = self.gap(torch.relu(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


class TwoIO(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Linear(4, 4, bias=False)

    def forward(self, a: Tensor, b: Tensor) -> Tuple[Tensor, Tensor]:
        return a + self.w(b), (a * b).sum(-1, keepdim=True)


class EmbeddingBagModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.bag = nn.EmbeddingBag(100, 8, mode="mean")

    def forward(self, ids: Tensor) -> Tensor:
        # A 2-D [batch, n] input makes every row one bag, so no offsets are needed.
        return self.bag(ids)


class NoBatch(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.sum(0) * 2 + 1


class DTypes(nn.Module):
    # Every op below scripts and runs on CPU in PyTorch 1.13 for its dtype and keeps
    # the input dtype (Python scalars do not promote a tensor's type).
    def forward(self, x_bool: Tensor, x_uint8: Tensor, x_int8: Tensor, x_int32: Tensor,
                x_int64: Tensor, x_fp16: Tensor, x_fp32: Tensor,
                x_fp64: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
        return (torch.logical_not(x_bool), x_uint8 + 1, x_int8 - 1, x_int32 * 3,
                x_int64 * 4, x_fp16 * 2, x_fp32 * 0.5, x_fp64 * 0.25)


class DTypes16(nn.Module):
    # INT16 and BF16: valid TorchScript, but the engine's JNI layer has no such
    # tensor types, so the server must refuse this model with a clear message.
    def forward(self, x_int16: Tensor, x_bf16: Tensor) -> Tuple[Tensor, Tensor]:
        return x_int16 * 2, x_bf16 + 1


DTYPE_NAMES = ["bool", "uint8", "int8", "int32", "int64", "fp16", "fp32", "fp64"]
DTYPE16_NAMES = ["int16", "bf16"]

# name -> (module class, max_batch_size, inputs, outputs, {version: weight seed}).
# Tensor specs are (name, datatype, shape without batch dimension).
FIXTURES = {
    "mlp": (MLP, 64, [("input", "FP32", [64])], [("output", "FP32", [2])], {1: 0, 2: 1}),
    "cnn": (CNN, 16, [("image", "FP32", [3, 32, 32])], [("logits", "FP32", [10])], {1: 0}),
    "two_io": (TwoIO, 8, [("a", "FP32", [4]), ("b", "FP32", [4])],
               [("sum", "FP32", [4]), ("prod", "FP32", [1])], {1: 0}),
    "embedding_bag": (EmbeddingBagModel, 8, [("ids", "INT64", [-1])],
                      [("embedding", "FP32", [8])], {1: 0}),
    "no_batch": (NoBatch, 0, [("x", "FP32", [2, 3])], [("y", "FP32", [3])], {1: 0}),
    "dtypes": (DTypes, 4, [("x_" + n, n.upper(), [3]) for n in DTYPE_NAMES],
               [("y_" + n, n.upper(), [3]) for n in DTYPE_NAMES], {1: 0}),
    "dtypes16": (DTypes16, 4, [("x_" + n, n.upper(), [3]) for n in DTYPE16_NAMES],
                 [("y_" + n, n.upper(), [3]) for n in DTYPE16_NAMES], {1: 0}),
}
# Models the server cannot run today; kept apart so the served fixtures all load.
UNSUPPORTED = {"dtypes16"}
# Golden inputs needing a concrete size for a -1 dimension or a narrower value range.
VARIABLE_DIMS = {("embedding_bag", "ids"): [5]}
VALUE_RANGES = {("embedding_bag", "ids"): (0, 100)}  # rows of the embedding table


def save_without_debug_info(module, path):
    # The *.debug_pkl records hold source ranges with absolute paths of this script
    # and of the torch install; dropping them keeps the bytes independent of the
    # machine. The archive is rewritten with PyTorch's own zip writer so its layout
    # stays what every libtorch reader expects.
    buf = io.BytesIO()
    torch.jit.save(module, buf)
    reader = torch._C.PyTorchFileReader(io.BytesIO(buf.getvalue()))
    records = {n: reader.get_record(n) for n in reader.get_all_records()
               if not n.endswith(".debug_pkl")}
    writer = torch._C.PyTorchFileWriter(str(path))
    writer.set_min_version(int(records.pop("version")))  # the writer emits "version" itself
    for name, data in records.items():
        writer.write_record(name, data, len(data))
    writer.write_end_of_file()


def config_yaml(name, max_batch, inputs, outputs):
    # Hand-written so the layout matches the documented format key for key.
    lines = [f"name: {name}", "platform: torchscript", f"max_batch_size: {max_batch}"]
    for section, specs in (("inputs", inputs), ("outputs", outputs)):
        lines.append(f"{section}:")
        for tname, dtype, shape in specs:
            lines += [f"  - name: {tname}", f"    datatype: {dtype}",
                      f"    shape: [{', '.join(map(str, shape))}]"]
    return "\n".join(lines) + "\n"


def golden_inputs(model, max_batch, inputs):
    gen = torch.Generator().manual_seed(INPUT_SEED)
    tensors = []
    for tname, dtype, shape in inputs:
        shape = VARIABLE_DIMS.get((model, tname), shape)
        shape = ([GOLDEN_BATCH] if max_batch > 0 else []) + list(shape)
        torch_dtype = DTYPES[dtype]
        if dtype == "BOOL":
            t = torch.randint(0, 2, shape, generator=gen).bool()
        elif torch_dtype.is_floating_point:
            # FP64 is drawn at full precision so a silent FP32 round trip would show;
            # FP16/BF16 are rounded from FP32, so their values are exactly representable.
            draw = torch.float64 if dtype == "FP64" else torch.float32
            t = torch.randn(shape, generator=gen, dtype=draw).to(torch_dtype)
        else:
            low, high = VALUE_RANGES.get((model, tname), INT_RANGES.get(dtype, (-1000, 1000)))
            t = torch.randint(low, high, shape, generator=gen, dtype=torch_dtype)
        tensors.append(t)
    return tensors


def tensor_json(name, dtype, t):
    # FP16/BF16 widen exactly to float; json writes repr(float), which round-trips.
    values = t.float() if dtype in ("FP16", "BF16") else t
    return {"name": name, "datatype": dtype, "shape": list(t.shape),
            "data": values.flatten().tolist()}


def tensor_from_json(j):
    return torch.tensor(j["data"], dtype=DTYPES[j["datatype"]]).reshape(j["shape"])


def run(module, tensors):
    with torch.no_grad():
        out = module(*tensors)
    return list(out) if isinstance(out, tuple) else [out]


def dump_golden(path, doc):
    # One tensor per line: readable diffs without one number per line.
    def tensors(key):
        return ",\n".join("  " + json.dumps(t) for t in doc[key])
    path.write_text(f'{{"model": {json.dumps(doc["model"])}, "version": {doc["version"]},\n'
                    f' "inputs": [\n{tensors("inputs")}\n ],\n'
                    f' "outputs": [\n{tensors("outputs")}\n ]}}\n')


def golden_path(model, version, versions):
    golden = UNSUPPORTED_DIR / "golden" if model in UNSUPPORTED else GOLDEN
    return golden / (f"{model}_v{version}.json" if len(versions) > 1 else f"{model}.json")


def model_dir_of(model):
    return (UNSUPPORTED_DIR if model in UNSUPPORTED else MODELS) / model


def generate():
    GOLDEN.mkdir(parents=True, exist_ok=True)
    (UNSUPPORTED_DIR / "golden").mkdir(parents=True, exist_ok=True)
    for model, (cls, max_batch, inputs, outputs, versions) in FIXTURES.items():
        model_dir = model_dir_of(model)
        model_dir.mkdir(parents=True, exist_ok=True)
        (model_dir / "config.yaml").write_text(config_yaml(model, max_batch, inputs, outputs))
        for version, seed in versions.items():
            torch.manual_seed(seed)
            pt = model_dir / str(version) / "model.pt"
            pt.parent.mkdir(exist_ok=True)
            save_without_debug_info(torch.jit.script(cls().eval()), pt)
            # Goldens come from the reloaded file, i.e. what the server will run.
            loaded = torch.jit.load(str(pt))
            ins = golden_inputs(model, max_batch, inputs)
            outs = run(loaded, ins)
            assert len(outs) == len(outputs), model
            for (n, d, _), t in zip(outputs, outs):
                assert t.dtype == DTYPES[d], f"{model}.{n}: {t.dtype} is not {d}"
                assert not t.is_floating_point() or bool(t.isfinite().all()), f"{model}.{n}"
            doc = {"model": model, "version": version,
                   "inputs": [tensor_json(n, d, t) for (n, d, _), t in zip(inputs, ins)],
                   "outputs": [tensor_json(n, d, t) for (n, d, _), t in zip(outputs, outs)]}
            dump_golden(golden_path(model, version, versions), doc)
    # The demo model is the test fixture's version 1, byte for byte.
    demo = ROOT / "models" / "mlp"
    (demo / "1").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MODELS / "mlp" / "config.yaml", demo / "config.yaml")
    shutil.copyfile(MODELS / "mlp" / "1" / "model.pt", demo / "1" / "model.pt")


def check():
    failures = 0
    for model, (_, _, _, _, versions) in FIXTURES.items():
        for version in versions:
            doc = json.loads(golden_path(model, version, versions).read_text())
            module = torch.jit.load(str(model_dir_of(model) / str(version) / "model.pt"))
            outs = run(module, [tensor_from_json(j) for j in doc["inputs"]])
            failures += len(outs) != len(doc["outputs"])
            for j, t in zip(doc["outputs"], outs):
                ok = torch.equal(t, tensor_from_json(j))
                failures += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {model} v{version} {j['name']}")
    for f in ("config.yaml", "1/model.pt"):
        same = (ROOT / "models/mlp" / f).read_bytes() == (MODELS / "mlp" / f).read_bytes()
        failures += not same
        print(f"{'ok  ' if same else 'FAIL'} models/mlp/{f} equals testdata/models/mlp/{f}")
    return failures


if __name__ == "__main__":
    # Single-threaded, deterministic kernels: reruns give identical numbers.
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if sys.argv[1:] not in ([], ["--check"]):
        sys.exit("usage: make_fixtures.py [--check]")
    if not sys.argv[1:]:
        generate()
    sys.exit(1 if check() else 0)
