#!/usr/bin/env python3
"""Raw PyTorch eager, the baseline torchlight's GPU numbers are read against (check.sh).

  raw_pytorch.py --plan WORK/plan.json --json OUT.json

ResNet-50 (make_bench_models.py's, same seed) at each precision and batch size of the plan, and the
risk MLP at batch 1 and 64: per-call latency (p50, p90) and items/s, each call synchronized
(torch.cuda.synchronize), after a warm-up that also lets cuDNN pick its algorithms
(cudnn.benchmark on), under torch.inference_mode. Inputs are already on the device: these numbers
exclude the host-to-device copies a server has to make. At the largest batch, ResNet-50 also from
host memory, as a server must start: an FP32 batch in pinned memory copied to the device, cast
there, and the logits brought back (resnet50_from_host). On CUDA also ResNet-50 fp32 batch 1 replayed
from a CUDA graph (torch.cuda.CUDAGraph), the floor for the server's cuda_graphs setting. And the
split 3D U-Net (examples/medical-3d) as the server runs it: its TorchScript file loaded as saved (its
stages on their devices), frozen and optimized for inference, one FP32 volume handed over on the CPU,
the logits brought back to the CPU.
"""

import argparse
import copy
import json
import pathlib
import statistics
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import make_bench_models as mbm  # noqa: E402


def measure(torch, fn, device, seconds, min_iters=5, warmup_seconds=None):
    """Per-call latencies (ms) of fn() over about `seconds`, after a warm-up of at least 3 calls."""
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    warmup_seconds = seconds / 2 if warmup_seconds is None else warmup_seconds
    start = time.perf_counter()
    n = 0
    while n < 3 or time.perf_counter() - start < warmup_seconds:
        fn()
        sync()
        n += 1
    times = []
    start = time.perf_counter()
    while len(times) < min_iters or time.perf_counter() - start < seconds:
        t = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t) * 1000)
    return times


def summary(times, batch):
    times_sorted = sorted(times)
    total_s = sum(times) / 1000
    return dict(batch=batch, iters=len(times), p50_ms=statistics.median(times),
                p90_ms=times_sorted[min(len(times) - 1, int(0.9 * len(times)))],
                items_per_s=batch * len(times) / total_s)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plan", type=pathlib.Path, required=True)
    parser.add_argument("--json", type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    plan = json.loads(args.plan.read_text())
    s = plan["sizes"]
    device = plan["device"]
    seconds = s["raw_seconds"]

    import torch

    torch.backends.cudnn.benchmark = True
    dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    result = dict(device=device, torch=torch.__version__, cuda=torch.version.cuda,
                  cudnn=torch.backends.cudnn.version() if device == "cuda" else None,
                  tf32_cudnn=torch.backends.cudnn.allow_tf32, tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
                  seconds_per_point=seconds, resnet50=[], resnet50_from_host=[], risk=[], cuda_graph=None,
                  unet3d=None, errors=[])
    if device == "cuda":
        result["gpu"] = torch.cuda.get_device_name(0)

    def save():
        args.json.write_text(json.dumps(result, indent=1))

    resnet = mbm.resnet50_module(torch)
    with torch.inference_mode():
        for p in s["resnet_precisions"]:
            try:
                m = copy.deepcopy(resnet).to(device, dtypes[p])
                for b in s["resnet_batches"]:
                    x = torch.rand(b, 3, 224, 224, device=device, dtype=dtypes[p])
                    row = summary(measure(torch, lambda: m(x), device, seconds), b)
                    row["precision"] = p
                    result["resnet50"].append(row)
                    print(f"resnet50 {p} b{b}: p50 {row['p50_ms']:.3f} ms, {row['items_per_s']:.1f} img/s", flush=True)
                    save()
                b = max(s["resnet_batches"])
                host = torch.rand(b, 3, 224, 224).pin_memory() if device == "cuda" else torch.rand(b, 3, 224, 224)
                row = summary(measure(torch, lambda: m(host.to(device, non_blocking=True).to(dtypes[p])).float().cpu(),
                                      device, seconds), b)
                row["precision"] = p
                result["resnet50_from_host"].append(row)
                print(f"resnet50 {p} b{b} from host memory: p50 {row['p50_ms']:.3f} ms, "
                      f"{row['items_per_s']:.1f} img/s", flush=True)
                save()
                del m
            except Exception as e:  # one precision failing must not lose the others
                result["errors"].append(f"resnet50 {p}: {type(e).__name__}: {e}")
                print(result["errors"][-1], flush=True)
        risk = mbm.risk_module(torch).to(device)
        for b in (1, 64):
            x = torch.rand(b, 256, device=device)
            row = summary(measure(torch, lambda: risk(x), device, seconds), b)
            row["precision"] = "fp32"
            result["risk"].append(row)
            print(f"risk b{b}: p50 {row['p50_ms']:.4f} ms, {row['items_per_s']:.0f} rows/s", flush=True)
        save()

    unet = plan.get("unet3d")
    if unet:
        try:
            result["unet3d"] = split_unet(torch, plan["models"][unet], device, seconds)
            print(f"{unet} b1: p50 {result['unet3d']['p50_ms']:.1f} ms, {result['unet3d']['items_per_s']:.2f} volumes/s",
                  flush=True)
        except Exception as e:
            result["errors"].append(f"{unet}: {type(e).__name__}: {e}")
            print(result["errors"][-1], flush=True)
        save()

    if device == "cuda":
        try:
            result["cuda_graph"] = cuda_graph(torch, resnet, seconds)
            print(f"resnet50 fp32 b1 CUDA graph: p50 {result['cuda_graph']['p50_ms']:.3f} ms", flush=True)
        except Exception as e:
            result["errors"].append(f"CUDA graph: {type(e).__name__}: {e}")
            print(result["errors"][-1], flush=True)
    save()
    return 0


def split_unet(torch, spec, device, seconds):
    """The split U-Net's file as torchlight loads it: as saved (each stage on its device), frozen and
    optimized for inference (the default freeze: true); a CPU volume in, CPU logits out, every
    device synchronized after each call."""
    model = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.load(spec["file"]).eval()))
    size = spec["size"]
    x = torch.rand(1, 1, size, size, size)
    sync = (lambda: [torch.cuda.synchronize(d) for d in sorted(set(spec["devices"]))]) if device == "cuda" \
        else (lambda: None)

    def run():
        model(x).to("cpu")
        sync()

    with torch.inference_mode():
        row = summary(measure(torch, run, "cpu", seconds, min_iters=3), 1)
    row.update(precision=spec["precision"], devices=spec["devices"], size=size)
    return row


def cuda_graph(torch, resnet, seconds):
    """ResNet-50 fp32 batch 1 captured once and replayed: PyTorch's recipe (warm-up on a side stream,
    then capture with static input and output tensors)."""
    m = copy.deepcopy(resnet).to("cuda")
    static_x = torch.rand(1, 3, 224, 224, device="cuda")
    with torch.inference_mode():
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                m(static_x)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_y = m(static_x)
        # The replay must compute what eager computes.
        static_x.copy_(torch.rand(1, 3, 224, 224, device="cuda"))
        graph.replay()
        torch.cuda.synchronize()
        err = ((static_y - m(static_x)).norm() / m(static_x).norm()).item()
        row = summary(measure(torch, graph.replay, "cuda", seconds), 1)
    row.update(precision="fp32", replay_vs_eager_rel_error=err)
    return row


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
