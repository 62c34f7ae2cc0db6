#!/usr/bin/env python3
"""Builds the fixture models (TorchScript and AOTInductor) and their golden reference outputs.

Writes models/mlp (the demo model), testdata/models/*, testdata/golden/*.json and the
broken packages of testdata/bad/, then checks that every model reloads and reproduces
its golden exactly; `--check` only checks. Needs the project's Python environment
(PyTorch 2.13, tools/python-env.sh); run it through tools/make_fixtures.sh.

AOTInductor packages (model.pt2) hold a shared library compiled on this machine. They
are compiled for the baseline x86-64 ISA without vector kernels, so they run on any
x86-64 Linux CPU, and from a fresh, fixed inductor cache directory, so two runs here
give identical bytes. Elsewhere (another checkout path, compiler or Python) the bytes
differ, so a package is only replaced when the fresh compile computes different
outputs than the committed one; `--check` runs the packages, it never compares bytes.
"""
import io
import json
import logging
import os
import pathlib
import platform
import shutil
import sys
import tempfile
import time
import warnings
from typing import Tuple

# TorchScript writes a module's constants in set order, which follows string
# hashing; a fixed hash seed keeps the .pt bytes identical from run to run.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable, *sys.argv])

# Inductor writes its cache directory's path into the generated sources and the
# shared library of a package: a fixed path (emptied around every compile, so
# nothing is reused from an earlier run) keeps the package bytes reproducible.
INDUCTOR_CACHE = "/tmp/torchlight-fixtures-inductor"
os.environ["TORCHINDUCTOR_CACHE_DIR"] = INDUCTOR_CACHE

import torch
from torch import Tensor, nn

# PyTorch's own deprecation notices (TorchScript, pytree internals) are not ours to fix.
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=FutureWarning)
# The loader warns that a package's CPU ISA (none: scalar kernels) is not this CPU's.
logging.getLogger("torch.export.pt2_archive._package").setLevel(logging.ERROR)

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODELS = ROOT / "testdata" / "models"
GOLDEN = ROOT / "testdata" / "golden"
BAD = ROOT / "testdata" / "bad"  # files a loader must refuse, one model.pt2 per folder
GOLDEN_BATCH = 2  # batch size used in every golden of a batched TorchScript model
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


class RaggedBag(nn.Module):
    """Bags of different lengths in one batch: the ids of every row concatenated, with the
    offsets the server makes (BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO: where each row's ids
    start, then their total), which is what include_last_offset=True takes."""

    def __init__(self):
        super().__init__()
        self.bag = nn.EmbeddingBag(RAGGED_ROWS, 8, mode="sum", include_last_offset=True)

    def forward(self, ids: Tensor, offsets: Tensor) -> Tensor:
        return self.bag(ids, offsets)


class NoBatch(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.sum(0) * 2 + 1


class DTypes(nn.Module):
    # Every op below scripts and runs on CPU for its dtype and keeps the input dtype
    # (Python scalars do not promote a tensor's type).
    def forward(self, x_bool: Tensor, x_uint8: Tensor, x_int8: Tensor, x_int32: Tensor,
                x_int64: Tensor, x_fp16: Tensor, x_fp32: Tensor,
                x_fp64: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
        return (torch.logical_not(x_bool), x_uint8 + 1, x_int8 - 1, x_int32 * 3,
                x_int64 * 4, x_fp16 * 2, x_fp32 * 0.5, x_fp64 * 0.25)


class DTypes16(nn.Module):
    # INT16 and BF16, apart from DTypes so that an engine without them can be tested
    # on the other types.
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
# Golden inputs needing a concrete size for a -1 dimension or a narrower value range.
VARIABLE_DIMS = {("embedding_bag", "ids"): [5]}
VALUE_RANGES = {("embedding_bag", "ids"): (0, 100)}  # rows of the embedding table; its config
# declares no value_range, so that an id beyond it is the fixtures' engine error

# The ragged fixture: requests of one or more rows whose id lists differ in length share a
# batch (allow_ragged_batch), the model taking the ids concatenated plus their offsets. Its
# golden (testdata/golden/ragged/) holds requests as a client sends them, each with the
# outputs PyTorch gives it alone: its rows' ids as [rows, length], each row one bag.
RAGGED = "ragged_bag"
RAGGED_ROWS = 100
RAGGED_MAX_BATCH = 8
RAGGED_REQUESTS = [(1, 3), (1, 1), (2, 4), (1, 7), (3, 2), (1, 5)]  # (rows, ids per row)
RAGGED_CONFIG = f"""name: {RAGGED}
platform: torchscript
max_batch_size: {RAGGED_MAX_BATCH}
inputs:
  - name: ids
    datatype: INT64
    shape: [-1]
    allow_ragged_batch: true
    value_range: [0, {RAGGED_ROWS - 1}]
outputs:
  - name: embedding
    datatype: FP32
    shape: [8]
batch_inputs:
  - name: offsets
    kind: BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO
    source_input: ids
    datatype: INT64
"""

# AOTInductor packages: name -> (TorchScript fixture, version) whose module, weights,
# tensors and max_batch_size it has; only the config's name and platform differ.
AOTI_FIXTURES = {"mlp_aoti": ("mlp", 1), "two_io_aoti": ("two_io", 1)}
AOTI_EXAMPLE_BATCH = 2  # the batch size torch.export traces with
AOTI_GOLDEN_BATCH = 3  # another one in the goldens: the batch dimension is dynamic
AOTI_TOLERANCE = 1e-5  # largest difference from the TorchScript model's outputs
AOTI_OPTIONS = {
    "cpp.march": "x86-64",  # not -march=native: the package runs on any x86-64 CPU
    "cpp.vec_isa_ok": False,  # scalar kernels, whatever vector ISA this CPU has
    "aot_inductor.enable_line_tables": False,  # line tables: a package 3.5 times as large
    "aot_inductor.precompile_headers": False,  # kept in a per-user directory otherwise
}
# Derived from the mlp_aoti package: (folder under testdata/bad, how).
BAD_PACKAGES = {"cuda_pt2": "its metadata claims a CUDA package",
                "truncated_pt2": "the first half of its bytes",
                "not_a_package": "a text file"}
NOT_A_PACKAGE = b"This is not an AOTInductor package: a model.pt2 is a zip archive.\n"


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


def config_yaml(name, max_batch, inputs, outputs, platform_key="torchscript"):
    # Hand-written so the layout matches the documented format key for key.
    lines = [f"name: {name}", f"platform: {platform_key}", f"max_batch_size: {max_batch}"]
    for section, specs in (("inputs", inputs), ("outputs", outputs)):
        lines.append(f"{section}:")
        for tname, dtype, shape in specs:
            lines += [f"  - name: {tname}", f"    datatype: {dtype}",
                      f"    shape: [{', '.join(map(str, shape))}]"]
    return "\n".join(lines) + "\n"


def golden_inputs(model, max_batch, inputs, batch=GOLDEN_BATCH):
    gen = torch.Generator().manual_seed(INPUT_SEED)
    tensors = []
    for tname, dtype, shape in inputs:
        shape = VARIABLE_DIMS.get((model, tname), shape)
        shape = ([batch] if max_batch > 0 else []) + list(shape)
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
    return list(out) if isinstance(out, (tuple, list)) else [out]


def dump_golden(path, doc):
    # One tensor per line: readable diffs without one number per line.
    def tensors(key):
        return ",\n".join("  " + json.dumps(t) for t in doc[key])
    path.write_text(f'{{"model": {json.dumps(doc["model"])}, "version": {doc["version"]},\n'
                    f' "inputs": [\n{tensors("inputs")}\n ],\n'
                    f' "outputs": [\n{tensors("outputs")}\n ]}}\n')


def golden_path(model, version, versions):
    return GOLDEN / (f"{model}_v{version}.json" if len(versions) > 1 else f"{model}.json")


def check_outputs(model, outputs, outs):
    assert len(outs) == len(outputs), model
    for (n, d, _), t in zip(outputs, outs):
        assert t.dtype == DTYPES[d], f"{model}.{n}: {t.dtype} is not {d}"
        assert not t.is_floating_point() or bool(t.isfinite().all()), f"{model}.{n}"


def write_golden(model, version, versions, inputs, outputs, ins, outs):
    doc = {"model": model, "version": version,
           "inputs": [tensor_json(n, d, t) for (n, d, _), t in zip(inputs, ins)],
           "outputs": [tensor_json(n, d, t) for (n, d, _), t in zip(outputs, outs)]}
    dump_golden(golden_path(model, version, versions), doc)


def generate_torchscript():
    for model, (cls, max_batch, inputs, outputs, versions) in FIXTURES.items():
        model_dir = MODELS / model
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
            check_outputs(model, outputs, outs)
            write_golden(model, version, versions, inputs, outputs, ins, outs)
    generate_ragged()
    # The demo model is the test fixture's version 1, byte for byte.
    demo = ROOT / "models" / "mlp"
    (demo / "1").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MODELS / "mlp" / "config.yaml", demo / "config.yaml")
    shutil.copyfile(MODELS / "mlp" / "1" / "model.pt", demo / "1" / "model.pt")


def ragged_golden_path():
    return GOLDEN / "ragged" / f"{RAGGED}.json"


def ragged_requests():
    """The golden's requests: ids of shape [rows, length] from a fixed seed."""
    gen = torch.Generator().manual_seed(INPUT_SEED)
    return [torch.randint(0, RAGGED_ROWS, (rows, length), generator=gen, dtype=torch.int64)
            for rows, length in RAGGED_REQUESTS]


def ragged_alone(module, ids):
    """What the model gives one request alone: its rows' ids flat, offsets 0, m, 2m, ..."""
    rows, length = ids.shape
    offsets = torch.arange(0, rows * length + 1, length, dtype=torch.int64)
    return run(module, [ids.flatten(), offsets])[0]


def ragged_together(module, requests):
    """All requests in one batch, as the server gathers them; the rows in request order."""
    ids = torch.cat([r.flatten() for r in requests])
    lengths = torch.tensor([r.shape[1] for r in requests for _ in range(r.shape[0])])
    offsets = torch.cat([torch.zeros(1, dtype=torch.int64), lengths.cumsum(0)])
    return run(module, [ids, offsets])[0]


def generate_ragged():
    model_dir = MODELS / RAGGED
    (model_dir / "1").mkdir(parents=True, exist_ok=True)
    (model_dir / "config.yaml").write_text(RAGGED_CONFIG)
    torch.manual_seed(0)
    pt = model_dir / "1" / "model.pt"
    save_without_debug_info(torch.jit.script(RaggedBag().eval()), pt)
    loaded = torch.jit.load(str(pt))
    requests = ragged_requests()
    doc = {"model": RAGGED, "version": 1, "requests": [
        {"inputs": [tensor_json("ids", "INT64", ids)],
         "outputs": [tensor_json("embedding", "FP32", ragged_alone(loaded, ids))]} for ids in requests]}
    ragged_golden_path().parent.mkdir(parents=True, exist_ok=True)
    lines = ",\n".join("  " + json.dumps(r) for r in doc["requests"])
    ragged_golden_path().write_text(f'{{"model": "{RAGGED}", "version": 1, "requests": [\n{lines}\n]}}\n')


def check_ragged():
    doc = json.loads(ragged_golden_path().read_text())
    module = torch.jit.load(str(MODELS / RAGGED / "1" / "model.pt"))
    requests = [tensor_from_json(r["inputs"][0]) for r in doc["requests"]]
    wanted = [tensor_from_json(r["outputs"][0]) for r in doc["requests"]]
    failures = 0
    for i, (ids, want) in enumerate(zip(requests, wanted)):
        failures += report(torch.equal(ragged_alone(module, ids), want), f"{RAGGED} request {i} alone")
    together = ragged_together(module, requests)
    failures += report(torch.allclose(together, torch.cat(wanted), rtol=0, atol=1e-6),
                       f"{RAGGED}: all requests in one batch give each its answer alone")
    return failures


# --- AOTInductor ---

def aoti_supported():
    # A package holds a Linux x86-64 shared library.
    return sys.platform == "linux" and platform.machine() == "x86_64"


def aoti_probes(name):
    """Inputs a package must run: the golden's batch size and both ends of its range."""
    source, _ = AOTI_FIXTURES[name]
    _, max_batch, inputs, _, _ = FIXTURES[source]
    return [golden_inputs(source, max_batch, inputs, batch)
            for batch in (AOTI_GOLDEN_BATCH, 1, max_batch)]


def compile_aoti(name, path):
    """Exports the source fixture's module with a dynamic batch dimension and compiles it
    into an AOTInductor package at path (whose file name becomes the archive's folder)."""
    source, version = AOTI_FIXTURES[name]
    cls, max_batch, inputs, _, versions = FIXTURES[source]
    torch.manual_seed(versions[version])  # the TorchScript version's weights
    module = cls().eval()
    example = tuple(golden_inputs(source, max_batch, inputs, AOTI_EXAMPLE_BATCH))
    batch = torch.export.Dim("batch", min=1, max=max_batch)
    program = torch.export.export(module, example, dynamic_shapes=tuple({0: batch} for _ in example))
    shutil.rmtree(INDUCTOR_CACHE, ignore_errors=True)
    try:
        with torch._inductor.config.patch(AOTI_OPTIONS):
            torch._inductor.aoti_compile_and_package(program, package_path=str(path))
    finally:
        shutil.rmtree(INDUCTOR_CACHE, ignore_errors=True)


def load_package(path):
    return torch._inductor.aoti_load_package(str(path))


def same_outputs(a, b, probes):
    try:
        pa, pb = load_package(a), load_package(b)
        return all(len(x) == len(y) and all(torch.equal(s, t) for s, t in zip(x, y))
                   for x, y in ((run(pa, p), run(pb, p)) for p in probes))
    except Exception:  # a missing or broken package
        return False


def write_package(name, path):
    """Compiles the package; replaces the one at path only if the fresh one differs in
    bytes and in its outputs."""
    with tempfile.TemporaryDirectory(prefix="torchlight-aoti-") as tmp:
        fresh = pathlib.Path(tmp) / path.name
        started = time.monotonic()
        compile_aoti(name, fresh)
        took = time.monotonic() - started
        size = fresh.stat().st_size
        if path.is_file() and path.read_bytes() == fresh.read_bytes():
            verdict = "unchanged"
        elif path.is_file() and same_outputs(path, fresh, aoti_probes(name)):
            verdict = "kept: the fresh compile differs in bytes, not in outputs"
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(fresh, path)
            verdict = "written"
    print(f"{path.relative_to(ROOT)}: compiled in {took:.1f} s, {size} bytes, {verdict}")


def verify_aoti(name, package):
    """Returns (golden inputs, package outputs) after checking every probe against the
    TorchScript model the package was made from."""
    source, version = AOTI_FIXTURES[name]
    _, _, _, outputs, versions = FIXTURES[source]
    scripted = torch.jit.load(str(MODELS / source / str(version) / "model.pt"))
    result = None
    for probe in aoti_probes(name):
        outs, want = run(package, probe), run(scripted, probe)
        check_outputs(name, outputs, outs)
        for (n, _, _), t, w in zip(outputs, outs, want):
            diff = (t.double() - w.double()).abs().max().item()
            assert diff <= AOTI_TOLERANCE, f"{name}.{n} batch {t.shape[0]}: differs by {diff}"
        result = result or (probe, outs)
    return result


def bad_packages(package):
    """The files of testdata/bad, derived from the mlp_aoti package: {folder: bytes}."""
    data = package.read_bytes()
    with tempfile.TemporaryDirectory(prefix="torchlight-bad-") as tmp:
        # Rewritten record by record with PyTorch's zip writer: the layout stays a
        # package's (rewriting an unchanged package gives back its exact bytes).
        cuda = pathlib.Path(tmp) / package.name
        reader = torch._C.PyTorchFileReader(str(package))
        writer = torch._C.PyTorchFileWriter(str(cuda))
        writer.set_min_version(int(reader.get_record(".data/version")))
        replaced = 0
        for record in reader.get_all_records():
            if record in (".data/version", ".data/serialization_id", "byteorder"):
                continue  # the writer emits these itself
            content = reader.get_record(record)
            if record.endswith("_metadata.json"):
                key = b'"AOTI_DEVICE_KEY": "cpu"'
                replaced += content.count(key)
                content = content.replace(key, b'"AOTI_DEVICE_KEY": "cuda"')
            writer.write_record(record, content, len(content))
        writer.write_end_of_file()
        assert replaced, f"{package}: no AOTI_DEVICE_KEY in its metadata"
        return {"cuda_pt2": cuda.read_bytes(), "truncated_pt2": data[:len(data) // 2],
                "not_a_package": NOT_A_PACKAGE}


def generate_aoti():
    if not aoti_supported():
        sys.exit("AOTInductor fixtures are Linux x86-64 packages: run this on such a machine")
    for name, (source, _) in AOTI_FIXTURES.items():
        _, max_batch, inputs, outputs, _ = FIXTURES[source]
        model_dir = MODELS / name
        model_dir.mkdir(parents=True, exist_ok=True)
        (model_dir / "config.yaml").write_text(
            config_yaml(name, max_batch, inputs, outputs, platform_key="aoti"))
        package = model_dir / "1" / "model.pt2"
        write_package(name, package)
        # Goldens come from the package itself, loaded as the server will load it.
        ins, outs = verify_aoti(name, load_package(package))
        write_golden(name, 1, {1: None}, inputs, outputs, ins, outs)
    for folder, data in bad_packages(MODELS / "mlp_aoti" / "1" / "model.pt2").items():
        (BAD / folder).mkdir(parents=True, exist_ok=True)
        (BAD / folder / "model.pt2").write_bytes(data)


def generate():
    GOLDEN.mkdir(parents=True, exist_ok=True)
    generate_torchscript()
    generate_aoti()


def report(ok, what):
    print(f"{'ok  ' if ok else 'FAIL'} {what}")
    return not ok


def compare_golden(label, doc, outs):
    failures = report(len(outs) == len(doc["outputs"]), f"{label}: {len(outs)} outputs")
    for j, t in zip(doc["outputs"], outs):
        failures += report(torch.equal(t, tensor_from_json(j)), f"{label} {j['name']}")
    return failures


def check():
    failures = 0
    for model, (_, _, _, _, versions) in FIXTURES.items():
        for version in versions:
            doc = json.loads(golden_path(model, version, versions).read_text())
            module = torch.jit.load(str(MODELS / model / str(version) / "model.pt"))
            outs = run(module, [tensor_from_json(j) for j in doc["inputs"]])
            failures += compare_golden(f"{model} v{version}", doc, outs)
    failures += check_ragged()
    for f in ("config.yaml", "1/model.pt"):
        same = (ROOT / "models/mlp" / f).read_bytes() == (MODELS / "mlp" / f).read_bytes()
        failures += report(same, f"models/mlp/{f} equals testdata/models/mlp/{f}")
    if not aoti_supported():
        print("skip AOTInductor packages: they run on Linux x86-64 only")
        return failures
    for name in AOTI_FIXTURES:
        doc = json.loads(golden_path(name, 1, {1: None}).read_text())
        try:
            package = load_package(MODELS / name / "1" / "model.pt2")
        except Exception as e:
            failures += report(False, f"{name}: {e}")
            continue
        outs = run(package, [tensor_from_json(j) for j in doc["inputs"]])
        failures += compare_golden(f"{name} v1", doc, outs)
        try:
            verify_aoti(name, package)
            failures += report(True, f"{name}: batch sizes {AOTI_GOLDEN_BATCH}, 1 and max within "
                                     f"{AOTI_TOLERANCE} of TorchScript")
        except AssertionError as e:
            failures += report(False, f"{name}: {e}")
    for folder, data in bad_packages(MODELS / "mlp_aoti" / "1" / "model.pt2").items():
        path = BAD / folder / "model.pt2"
        same = path.is_file() and path.read_bytes() == data
        failures += report(same, f"testdata/bad/{folder}/model.pt2: {BAD_PACKAGES[folder]}")
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
