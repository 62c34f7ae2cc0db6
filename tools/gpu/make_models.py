#!/usr/bin/env python3
"""The model repository, reference outputs and measurement plan of one GPU check (check.sh).

  make_models.py --repo DIR --work DIR --device cuda|cpu [--no-gpu-keys]
      TorchScript models (the ResNet-50 and risk MLP of make_bench_models.py, same seeds), a model
      whose memory grows with its batch (the out-of-memory check), the 3D U-Net of
      examples/medical-3d split in two stages over two GPUs (cuda:0 and cuda:1, or both stages on
      cuda:0 where there is one; FP16; kind: MODEL), their config.yaml files and
      warm-up inputs, the eager PyTorch outputs for one fixed input per model and precision
      (WORK/refs/), and WORK/plan.json: the models each server loads and the points to measure.
  make_models.py --repo DIR --work DIR --device cuda|cpu --aoti
      The AOTInductor package of the same model for that device, with a dynamic batch dimension;
      separate because it is the slow step and runs beside the others.

--device cpu is the smoke mode: the same flow on a CPU, with small batches and CPU instance groups.
"""

import argparse
import copy
import json
import os
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # make_bench_models.py, one folder up as in the repository

import make_bench_models as mbm  # noqa: E402


def medical3d():
    """examples/medical-3d/make_model.py: beside this folder in the bundle (tools/medical-3d/), two
    folders up from the tools in the repository."""
    import importlib.util

    for path in (HERE.parent / "medical-3d" / "make_model.py",
                 HERE.parent.parent / "examples" / "medical-3d" / "make_model.py"):
        if path.exists():
            spec = importlib.util.spec_from_file_location("medical3d_make_model", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise FileNotFoundError("examples/medical-3d/make_model.py is not in the bundle")

IMAGE = [3, 224, 224]
RISK = [256]
INPUT_SEED = 7


def sizes(device):
    """What each mode measures. The CPU smoke mode keeps every step but shrinks batches and time:
    a 2-core machine runs a ResNet-50 image in about 0.15 s, and fp16/bf16 convolutions on a CPU
    take seconds per image, so its precision rows use the risk MLP instead."""
    if device == "cuda":
        return dict(resnet_batches=[1, 8, 32, 64], resnet_precisions=["fp32", "fp16", "bf16"],
                    risk_precisions=[], instances_batch=8, instances_concurrency=64,
                    mem_batch=32, aoti="resnet50", warmup="1s", duration="3s", raw_seconds=1.5,
                    busy_concurrency=4, unet=dict(size=128, base=16, half=True))
    # The U-Net at 32^3 and 4 channels on a CPU: a 128^3 volume takes seconds there.
    return dict(resnet_batches=[1, 2], resnet_precisions=["fp32"], risk_precisions=["fp16", "bf16"],
                instances_batch=1, instances_concurrency=4, mem_batch=2, aoti="risk",
                warmup="500ms", duration="2s", raw_seconds=0.5, busy_concurrency=2,
                unet=dict(size=32, base=4, half=False))


def yaml_list(values):
    return "[" + ", ".join(str(v) for v in values) + "]"


def config_text(name, platform, max_batch, inp, out, group, *, precision=None, gpu=None,
                warmup=None, batching=None):
    """config.yaml of one model. inp/out: (name, datatype, shape); group: (kind, count);
    gpu: the GPU settings (cuda_graphs, cudnn_benchmark, pinned_buffers) or None to leave them out;
    warmup: (file per batch size) or None for the server's default warm-up (every batch size)."""
    kind, count = group
    devices = ", devices: [0]" if kind == "GPU" else ""
    lines = [
        f"name: {name}",
        f"platform: {platform}",
        f"max_batch_size: {max_batch}",
        "inputs:",
        f"  - name: {inp[0]}",
        f"    datatype: {inp[1]}",
        f"    shape: {yaml_list(inp[2])}",
        "outputs:",
        f"  - name: {out[0]}",
        f"    datatype: {out[1]}",
        f"    shape: {yaml_list(out[2])}",
        f"instance_group: [{{kind: {kind}, count: {count}{devices}}}]",
    ]
    if batching:
        lines.append(f"dynamic_batching: {{max_queue_delay_us: {batching[0]}, "
                     f"preferred_batch_sizes: {yaml_list(batching[1])}}}")
    if precision:
        lines.append(f"precision: {precision}")
    for key, value in (gpu or {}).items():
        lines.append(f"{key}: {'true' if value else 'false'}")
    if warmup:
        lines.append("warmup:")
        for batch, file in warmup:
            lines.append(f"  - {inp[0]}: {{shape: {yaml_list([batch] + inp[2])}, file: {file}}}")
    return "\n".join(lines) + "\n"


def link(source, target):
    """target: a hard link to source (the same model file or warm-up input for many models), else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        import shutil
        shutil.copyfile(source, target)


class Hog:
    """TorchScript source of the out-of-memory model: each row of a batch takes row_bytes of the
    device's memory, so a batch that cannot fit fails inside libtorch's allocator exactly as a real
    model's activations would, while one row fits."""

    @staticmethod
    def build(torch, row_bytes):
        class HogModule(torch.nn.Module):
            def __init__(self, row_bytes: int):
                super().__init__()
                self.row_bytes = row_bytes

            def forward(self, x):
                buf = torch.empty([x.shape[0] * self.row_bytes], dtype=torch.uint8, device=x.device)
                # Depends on the buffer so that it cannot be optimized away; uint8 holds no NaN.
                return x + buf[0].to(x.dtype) * 0.0

        return torch.jit.script(HogModule(row_bytes).eval())


def row_bytes_for(torch, device):
    """Bytes per row of the out-of-memory model: one row fits, four do not. A GPU's memory is taken
    for real (cudaMalloc); a CPU allocation of that size is refused by the kernel's overcommit
    heuristic only when it exceeds RAM, so the smoke mode asks for 60% of it per row (never touched)."""
    if device == "cuda":
        return int(torch.cuda.get_device_properties(0).total_memory * 0.45)
    with open("/proc/meminfo") as f:
        total_kib = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
    return int(total_kib * 1024 * 0.6)


def save_f32(path, tensor):
    path.parent.mkdir(parents=True, exist_ok=True)
    tensor.detach().to("cpu", dtype=tensor.dtype).contiguous().numpy().tofile(path)


def make_unet(torch, dev, size, repo, work, refs):
    """The split 3D U-Net of examples/medical-3d in repo/unet3d_split: stage 1 on cuda:0, stage 2 on
    cuda:1 (on cuda:0 too where there is one GPU), FP16 on a GPU; the volume and the unsplit model's
    logits (on cuda:0, same precision, TF32 off) in refs/. None, with the reason printed, if it
    cannot be made: the other models are made all the same."""
    name = "unet3d_split"
    if dev == "cuda":
        devices = ["cuda:0", "cuda:1"] if torch.cuda.device_count() >= 2 else ["cuda:0", "cuda:0"]
    else:
        devices = ["cpu", "cpu"]
    try:
        t0 = time.monotonic()
        out = work / "unet3d"
        manifest = medical3d().make(out, size=size["size"], base=size["base"], devices=devices, half=size["half"],
                                    volumes=1, name=name, repo=repo, unsplit_file=False,
                                    log=lambda line: print(f"  {line}", flush=True))
    except Exception as e:  # noqa: BLE001  the check goes on without it
        print(f"{name}: not made: {type(e).__name__}: {e}", flush=True)
        return None
    precision = manifest["precision"]
    ref = f"unet3d_{precision}"
    check = manifest["checks"][0]
    link(out / check["volume"], refs / "unet3d.input.bin")
    link(out / check["reference"], refs / f"{ref}.output.bin")
    print(f"{name}: stages on {devices[0]} and {devices[1]}, {precision}, {size['size']}^3, "
          f"split vs unsplit in PyTorch rel {check['rel']:.2e}; {time.monotonic() - t0:.1f} s", flush=True)
    return dict(name=name, precision=precision, devices=devices, size=size["size"], ref=ref,
                max_batch_size=manifest["max_batch_size"], input=manifest["input"]["name"],
                output=manifest["output"]["name"], file=str(repo / name / "1" / "model.pt"),
                ref_entry=dict(input="unet3d.input.bin", input_shape=manifest["input"]["shape"],
                               output=f"{ref}.output.bin", output_shape=manifest["output"]["shape"],
                               precision=precision, pytorch_split_rel=check["rel"]))


def make_main(args):
    import torch

    dev = args.device
    s = sizes(dev)
    repo, work = args.repo, args.work
    files = work / "files"
    refs = work / "refs"
    files.mkdir(parents=True, exist_ok=True)
    refs.mkdir(parents=True, exist_ok=True)
    group_kind = "GPU" if dev == "cuda" else "CPU"
    gpu_keys = not args.no_gpu_keys
    t0 = time.monotonic()

    # Model files, made once on the CPU (as make_bench_models.py makes them) and linked into every
    # model folder that serves them.
    resnet = mbm.resnet50_module(torch)
    with torch.no_grad():
        torch.jit.trace(resnet, torch.rand(1, *IMAGE)).save(str(files / "resnet50.pt"))
    risk = mbm.risk_module(torch)
    torch.jit.script(risk).save(str(files / "risk.pt"))
    row_bytes = row_bytes_for(torch, dev)
    Hog.build(torch, row_bytes).save(str(files / "oom.pt"))
    print(f"model files in {time.monotonic() - t0:.1f} s", flush=True)
    unet = make_unet(torch, dev, s["unet"], repo, work, refs)

    # Warm-up inputs: random floats, one file per batch size, linked into each model's folder.
    gen = torch.Generator().manual_seed(11)
    warm = {}

    def warm_file(kind, shape, batch, datatype="FP32"):
        key = (kind, batch, datatype)
        if key not in warm:
            path = files / f"warm_{kind}_{datatype.lower()}_b{batch}.bin"
            values = torch.rand([batch] + shape, generator=gen)
            if datatype != "FP32":
                values = values.to(torch.float16 if datatype == "FP16" else torch.bfloat16)
            values.view(torch.uint8 if datatype != "FP32" else torch.float32).numpy().tofile(path)
            warm[key] = path
        return warm[key]

    models = {}
    image_io = (("image", "FP32", IMAGE), ("logits", "FP32", [1000]))
    # The 16-bit models again with inputs at their own precision: half the bytes to carry and copy.
    wire_io = {p: (("image", p.upper(), IMAGE), ("logits", "FP32", [1000])) for p in ("fp16", "bf16")}
    risk_io = (("input", "FP32", RISK), ("output", "FP32", [2]))

    def add(name, model_file, io, max_batch, count=1, warm_batches=(), precision=None, graphs=False,
            batching=None, role="bench", ref=None, platform="torchscript"):
        folder = repo / name
        if model_file is not None:
            link(model_file, folder / "1" / model_file.name.replace(model_file.stem, "model"))
        warmup = []
        kind = "image" if io[0][2] == IMAGE else ("risk" if io is risk_io else "x")
        for b in warm_batches:
            rel = f"warmup/b{b}.bin"
            link(warm_file(kind, io[0][2], b, io[0][1]), folder / rel)
            warmup.append((b, rel))
        gpu = None
        if gpu_keys and platform == "torchscript":
            gpu = {"cuda_graphs": graphs, "cudnn_benchmark": True, "pinned_buffers": True}
        (folder / "config.yaml").parent.mkdir(parents=True, exist_ok=True)
        (folder / "config.yaml").write_text(config_text(
            name, platform, max_batch, io[0], io[1], (group_kind, count),
            precision=precision if gpu_keys else None, gpu=gpu, warmup=warmup or None, batching=batching))
        models[name] = dict(role=role, precision=precision or "fp32", max_batch=max_batch, instances=count,
                            ref=ref, platform=platform, input=io[0][0], output=io[1][0], input_type=io[0][1])

    top = max(s["resnet_batches"])
    resnet_pt, risk_pt = files / "resnet50.pt", files / "risk.pt"
    for p in s["resnet_precisions"]:
        add(f"resnet50_{p}", resnet_pt, image_io, top, warm_batches=s["resnet_batches"], precision=p,
            ref=f"resnet50_{p}")
    wire_batches = sorted({1, top})
    for p in (q for q in s["resnet_precisions"] if q in wire_io):
        add(f"resnet50_{p}_wire", resnet_pt, wire_io[p], top, warm_batches=wire_batches, precision=p,
            ref=f"resnet50_{p}")
    # CUDA graphs: one graph per warmed-up batch size, so batch 1 alone.
    add("resnet50_graphs", resnet_pt, image_io, 1, warm_batches=[1], precision="fp32", graphs=True,
        ref="resnet50_fp32")
    # The largest batch on two instances: one's copies and host work overlap the other's forward.
    add("resnet50_fp32_i2", resnet_pt, image_io, top, count=2, warm_batches=[top], precision="fp32",
        ref="resnet50_fp32")
    if "fp16" in s["resnet_precisions"] and "fp16" in wire_io:
        add("resnet50_fp16_wire_i2", resnet_pt, wire_io["fp16"], top, count=2, warm_batches=[top], precision="fp16",
            ref="resnet50_fp16")
    ib = s["instances_batch"]
    add("resnet50_i1", resnet_pt, image_io, ib, count=1, warm_batches=[ib], ref="resnet50_fp32")
    add("resnet50_i4", resnet_pt, image_io, ib, count=4, warm_batches=[ib], ref="resnet50_fp32")
    add("risk", risk_pt, risk_io, 64, warm_batches=[1, 64], ref="risk_fp32")
    for p in s["risk_precisions"]:
        add(f"risk_{p}", risk_pt, risk_io, 64, warm_batches=[1, 64], precision=p, ref=f"risk_{p}")
        # Inputs at the model's precision, checked against the same reference (CPU mode: no points).
        add(f"risk_{p}_wire", risk_pt, (("input", p.upper(), RISK), risk_io[1]), 64, warm_batches=[1, 64],
            precision=p, ref=f"risk_{p}")
    add("resnet50_mem", resnet_pt, image_io, s["mem_batch"], warm_batches=[s["mem_batch"]], role="memory")
    add("oom", files / "oom.pt", (("x", "FP32", [4]), ("y", "FP32", [4])), 4, warm_batches=[1], role="oom")
    aoti = f"{s['aoti']}_aoti"
    models[aoti] = dict(role="bench", precision="fp32", max_batch=64 if s["aoti"] == "risk" else top,
                        instances=1, ref=f"{s['aoti']}_fp32", platform="aoti",
                        input=(risk_io if s["aoti"] == "risk" else image_io)[0][0],
                        output=(risk_io if s["aoti"] == "risk" else image_io)[1][0])

    if unet:
        models[unet["name"]] = dict(role="bench", precision=unet["precision"], max_batch=unet["max_batch_size"],
                                    instances=1, ref=unet["ref"], platform="torchscript", input=unet["input"],
                                    output=unet["output"], devices=unet["devices"], size=unet["size"],
                                    file=unet["file"])

    # Reference outputs: eager PyTorch on the same device, one fixed input, each precision. fp32
    # without TF32, so that an fp32 difference shows what the server computes, not cuDNN's choice.
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    g = torch.Generator().manual_seed(INPUT_SEED)
    image = torch.rand(1, *IMAGE, generator=g)
    rows = torch.rand(2, *RISK, generator=g)
    save_f32(refs / "resnet50.input.bin", image)
    save_f32(refs / "risk.input.bin", rows)
    ref_index = {unet["ref"]: unet["ref_entry"]} if unet else {}
    wanted = {m["ref"] for m in models.values() if m["ref"] and m["ref"] not in ref_index}
    with torch.inference_mode():
        for ref in sorted(wanted):
            base, p = ref.rsplit("_", 1)
            module, x = (resnet, image) if base == "resnet50" else (risk, rows)
            m = copy.deepcopy(module).to(dev, dtypes[p])
            y = m(x.to(dev, dtypes[p])).float()
            save_f32(refs / f"{ref}.output.bin", y)
            ref_index[ref] = dict(input=f"{base}.input.bin", input_shape=list(x.shape),
                                  output=f"{ref}.output.bin", output_shape=list(y.shape), precision=p)
            del m
    (refs / "refs.json").write_text(json.dumps(ref_index, indent=1))
    print(f"references {sorted(ref_index)} in {time.monotonic() - t0:.1f} s", flush=True)

    # What to measure. Batch 1 one request at a time (latency); larger batches with a few requests in
    # flight, so that the server receives the next request while the GPU computes this one.
    busy = s["busy_concurrency"]
    points = []

    def point(section, model, batch, concurrency):
        points.append(dict(id=f"{model}_b{batch}_c{concurrency}", section=section, model=model, batch=batch,
                           concurrency=concurrency, warmup=s["warmup"], duration=s["duration"]))

    for p in s["resnet_precisions"]:
        for b in s["resnet_batches"]:
            point("precision", f"resnet50_{p}", b, 1 if b == 1 else busy)
    for p in (q for q in s["resnet_precisions"] if q in wire_io):
        for b in wire_batches:
            point("wire", f"resnet50_{p}_wire", b, 1 if b == 1 else busy)
    for name in [n for n in models if n.endswith("_i2")]:
        point("two_instances", name, top, 2 * busy)
    point("graphs", "resnet50_graphs", 1, 1)
    for name in ("resnet50_i1", "resnet50_i4"):
        point("instances", name, ib, s["instances_concurrency"])
    for b in (1, 64):
        point("risk", "risk", b, 1 if b == 1 else busy)
    for b in (1, models[aoti]["max_batch"]):
        point("aoti", aoti, b, 1 if b == 1 else busy)
    if unet:
        # One volume per request, one and two in flight (the second waits for the model's one instance).
        for c in (1, 2):
            point("unet3d", unet["name"], 1, c)
    raw_engine = [dict(model="resnet50_fp32", batches=[1, top])]
    if "fp16" in s["resnet_precisions"]:
        raw_engine.append(dict(model="resnet50_fp16", batches=[top]))
    # The AOTInductor package is compiled while the main server starts; check.sh loads it later.
    main_models = [n for n, m in models.items() if m["role"] == "bench" and n != aoti]
    plan = dict(device=dev, gpu_keys=gpu_keys, sizes=s, models=models, row_bytes=row_bytes,
                unet3d=unet["name"] if unet else None,
                servers=dict(main=main_models, aux=["risk"]), aoti=aoti, memory_model="resnet50_mem",
                oom_model="oom", points=points, raw_engine=raw_engine,
                raw_warmup=s["warmup"], raw_duration=s["duration"])
    (work / "plan.json").write_text(json.dumps(plan, indent=1))
    print(f"{len(models)} models in {repo}, {len(points)} points; done in {time.monotonic() - t0:.1f} s")


def make_aoti(args):
    import warnings

    import torch

    warnings.filterwarnings("ignore", category=FutureWarning)
    plan = json.loads((args.work / "plan.json").read_text())
    name = plan["aoti"]
    spec = plan["models"][name]
    base = name[: -len("_aoti")]
    module, shape = (mbm.risk_module(torch), RISK) if base == "risk" else (mbm.resnet50_module(torch), IMAGE)
    dev = args.device
    package = args.repo / name / "1" / "model.pt2"
    package.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    print(f"{name}: compiling for {dev}, batch 1..{spec['max_batch']} ...", flush=True)
    batch = torch.export.Dim("batch", min=1, max=spec["max_batch"])
    with torch.no_grad():
        module = module.to(dev)
        program = torch.export.export(module, (torch.rand(2, *shape, device=dev),), dynamic_shapes=({0: batch},))
        tmp = package.with_name("model.tmp.pt2")
        torch._inductor.aoti_compile_and_package(program, package_path=str(tmp))
    tmp.replace(package)
    io = (("image", "FP32", IMAGE), ("logits", "FP32", [1000])) if base == "resnet50" else \
        (("input", "FP32", RISK), ("output", "FP32", [2]))
    warmup = []
    for b in sorted({1, spec["max_batch"]}):
        rel = f"warmup/b{b}.bin"
        src = args.work / "files" / f"warm_{'image' if base == 'resnet50' else 'risk'}_b{b}.bin"
        if not src.exists():
            torch.rand([b] + io[0][2]).numpy().tofile(src)
        link(src, args.repo / name / rel)
        warmup.append((b, rel))
    (args.repo / name / "config.yaml").write_text(config_text(
        name, "aoti", spec["max_batch"], io[0], io[1], ("GPU" if dev == "cuda" else "CPU", 1), warmup=warmup))
    print(f"{name}: compiled in {time.monotonic() - t0:.0f} s")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=pathlib.Path, required=True)
    parser.add_argument("--work", type=pathlib.Path, required=True)
    parser.add_argument("--device", choices=["cuda", "cpu"], required=True)
    parser.add_argument("--aoti", action="store_true", help="compile the AOTInductor package only")
    parser.add_argument("--no-gpu-keys", action="store_true",
                        help="leave precision, cuda_graphs, cudnn_benchmark and pinned_buffers out of config.yaml")
    args = parser.parse_args(argv)
    args.repo.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.aoti:
        make_aoti(args)
    else:
        make_main(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
