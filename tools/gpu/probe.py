#!/usr/bin/env python3
"""Talks to a running torchlight server for check.sh; the standard library only (no numpy, no
requests), so that it runs under any python3.

  probe.py facts   --plan P --out F                   machine facts (nvidia-smi, torch, CPU)
  probe.py wait    --log L --pid N --timeout S --out F   waits for start-up; ports and model states
  probe.py load    --server F --model M --out F          loads a model into the running server
  probe.py compare --server F --plan P --refs DIR --out F  outputs next to eager PyTorch's
  probe.py memory  --server F --plan P --refs DIR --pid N --out F   memory before load, loaded, unloaded
  probe.py oom     --server F --plan P --refs DIR --out F   a batch that cannot fit, then one that can

Every command writes its JSON result even when what it checks fails; the exit status is 0 when it
could do its work (the verdict is in the JSON), 1 when it could not.
"""

import argparse
import array
import json
import math
import os
import pathlib
import re
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request


def write(path, obj):
    pathlib.Path(path).write_text(json.dumps(obj, indent=1))


def http(method, url, body=None, headers=None, timeout=30):
    """(status, headers, body bytes); HTTP errors are answers, not exceptions."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def to_16_bits(fp32, datatype):
    """FP32 bytes as FP16 (IEEE half, as torch.Tensor.half rounds) or BF16 (round to nearest even)."""
    count = len(fp32) // 4
    values = struct.unpack(f"<{count}f", fp32)
    if datatype == "FP16":
        return struct.pack(f"<{count}e", *values)
    out = bytearray()
    for bits in struct.unpack(f"<{count}I", fp32):
        out += struct.pack("<H", ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) & 0xFFFF)
    return bytes(out)


def infer_binary(base, model, input_name, shape, data, output_name, timeout=60, datatype="FP32"):
    """One v2 binary-tensor request (data in datatype, FP32 out as raw bytes): (status, floats or error text)."""
    header = json.dumps({
        "inputs": [{"name": input_name, "datatype": datatype, "shape": shape,
                    "parameters": {"binary_data_size": len(data)}}],
        "outputs": [{"name": output_name, "parameters": {"binary_data": True}}],
    }).encode()
    status, headers, body = http("POST", f"{base}/v2/models/{model}/infer", header + data, {
        "Content-Type": "application/octet-stream",
        "Inference-Header-Content-Length": str(len(header))}, timeout=timeout)
    if status != 200:
        return status, body.decode(errors="replace")[:500]
    n = int({k.lower(): v for k, v in headers.items()}.get("inference-header-content-length", len(body)))
    meta = json.loads(body[:n])
    out = meta["outputs"][0]
    values = array.array("f")
    if "data" in out:
        values.extend(out["data"])
    else:
        values.frombytes(body[n:n + out["parameters"]["binary_data_size"]])
    if sys.byteorder != "little":
        values.byteswap()
    return status, values


def read_f32(path):
    values = array.array("f")
    values.frombytes(pathlib.Path(path).read_bytes())
    return values


# ---- facts ------------------------------------------------------------------------------------

def cmd_facts(args):
    plan = json.loads(pathlib.Path(args.plan).read_text())
    facts = dict(device=plan["device"], uname=os.uname().release, cores=os.cpu_count())
    try:
        with open("/proc/cpuinfo") as f:
            facts["cpu"] = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), None)
        with open("/proc/meminfo") as f:
            facts["mem_gib"] = round(int(next(line.split()[1] for line in f if line.startswith("MemTotal"))) / 2**20, 1)
    except OSError:
        pass
    try:
        q = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,memory.used,"
                            "clocks.max.sm,power.limit,pstate", "--format=csv,noheader"],
                           capture_output=True, text=True, timeout=20)
        facts["nvidia_smi"] = q.stdout.strip() or q.stderr.strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        facts["nvidia_smi"] = f"unavailable: {e}"
    try:
        py = ("import json, torch; print(json.dumps(dict(torch=torch.__version__, cuda=torch.version.cuda,"
              " cudnn=torch.backends.cudnn.version(), gpus=torch.cuda.device_count(),"
              " gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)))")
        q = subprocess.run([sys.executable, "-c", py], capture_output=True, text=True, timeout=120)
        facts.update(json.loads(q.stdout.strip().splitlines()[-1]))
    except Exception as e:  # noqa: BLE001  facts are best effort
        facts["torch_error"] = str(e)
    bundle = pathlib.Path(args.bundle) / "bundle.properties" if args.bundle else None
    if bundle and bundle.exists():
        facts["bundle"] = dict(line.split("=", 1) for line in bundle.read_text().splitlines() if "=" in line)
    write(args.out, facts)
    return 0


# ---- wait -------------------------------------------------------------------------------------

SERVING = re.compile(r"torchlight serving .* on (http://[0-9.]+:[0-9]+) \(management on (http://[0-9.]+:[0-9]+)")
GRPC = re.compile(r"gRPC \(KServe v2\) on ([0-9.]+:[0-9]+)")
METRICS = re.compile(r"metrics on (http://[0-9.]+:[0-9]+)/metrics")
ENGINE = re.compile(r"engine library .*")


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie has exited too
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def health(base):
    status, _, body = http("GET", f"{base}/health/detail", timeout=10)
    detail = json.loads(body)
    return {m["name"]: m for m in detail.get("models", [])}


def cmd_wait(args):
    deadline = time.monotonic() + args.timeout
    result = dict(ok=False, http=None, grpc=None, management=None, metrics=None, engine=None, models={})
    while time.monotonic() < deadline:
        text = pathlib.Path(args.log).read_text(errors="replace") if os.path.exists(args.log) else ""
        if m := ENGINE.search(text):
            result["engine"] = m.group(0)
        if m := SERVING.search(text):
            result["http"], result["management"] = m.group(1), m.group(2)
            if g := GRPC.search(text):
                result["grpc"] = "http://" + g.group(1)
            if g := METRICS.search(text):
                result["metrics"] = g.group(1) + "/metrics"
            try:
                models = health(result["http"])
                result["models"] = {n: dict(state=m["state"], error=m.get("error"),
                                            devices=[i.get("device") for i in m.get("instances", [])])
                                    for n, m in models.items()}
                if not any(m["state"] == "LOADING" for m in models.values()):
                    result["ok"] = True
                    break
            except (OSError, ValueError):
                pass
        if not alive(args.pid):
            result["error"] = "the server exited during start-up"
            break
        time.sleep(0.5)
    else:
        result["error"] = f"not up within {args.timeout} s"
    write(args.out, result)
    for name, m in sorted(result["models"].items()):
        print(f"  {name}: {m['state']} {m['devices']} {m['error'] or ''}")
    return 0 if result["ok"] else 1


# ---- load -------------------------------------------------------------------------------------

def cmd_load(args):
    """Loads a model into a running server (the repository extension) and records every model's
    state in the server's file again."""
    server = json.loads(pathlib.Path(args.server).read_text())
    t = time.monotonic()
    status, _, body = http("POST", f"{server['management']}/v2/repository/models/{args.model}/load", b"", timeout=300)
    result = dict(model=args.model, status=status, seconds=time.monotonic() - t,
                  answer=body[:500].decode(errors="replace"))
    try:
        server["models"] = {n: dict(state=m["state"], error=m.get("error"),
                                    devices=[i.get("device") for i in m.get("instances", [])])
                            for n, m in health(server["http"]).items()}
        write(args.server, server)
    except (OSError, ValueError) as e:
        result["health_error"] = str(e)
    write(args.out, result)
    print(f"  load {args.model}: HTTP {status} in {result['seconds']:.1f} s {result['answer'][:300]}")
    return 0 if status == 200 else 1


# ---- compare ----------------------------------------------------------------------------------

def thresholds(precision):
    """(relative-error limit, what it is). fp32 is compared with PyTorch's fp32 without TF32."""
    return (1e-4, "rel ≤ 1e-4") if precision == "fp32" else (1e-2, "rel ≤ 1e-2")


def cmd_compare(args):
    server = json.loads(pathlib.Path(args.server).read_text())
    plan = json.loads(pathlib.Path(args.plan).read_text())
    refs_dir = pathlib.Path(args.refs)
    refs = json.loads((refs_dir / "refs.json").read_text())
    rows = []
    for name, spec in plan["models"].items():
        if not spec.get("ref") or name not in server.get("models", {}):
            continue
        ref = refs[spec["ref"]]
        row = dict(model=name, precision=spec["precision"], ref=spec["ref"])
        if server["models"][name]["state"] != "READY":
            row.update(status="fail", note=f"not loaded: {server['models'][name]['error']}")
            rows.append(row)
            continue
        data = pathlib.Path(refs_dir / ref["input"]).read_bytes()
        datatype = spec.get("input_type", "FP32")
        if datatype != "FP32":
            data = to_16_bits(data, datatype)
        try:
            status, out = infer_binary(server["http"], name, spec["input"], ref["input_shape"], data, spec["output"],
                                       datatype=datatype)
        except OSError as e:
            status, out = None, str(e)
        if status != 200:
            row.update(status="fail", note=f"HTTP {status}: {out}")
            rows.append(row)
            continue
        expected = read_f32(refs_dir / ref["output"])
        if len(out) != len(expected):
            row.update(status="fail", note=f"{len(out)} values, expected {len(expected)}")
            rows.append(row)
            continue
        diff = [a - b for a, b in zip(out, expected)]
        max_abs = max(abs(d) for d in diff)
        norm_ref = math.sqrt(sum(b * b for b in expected)) or 1.0
        rel = math.sqrt(sum(d * d for d in diff)) / norm_ref
        finite = all(math.isfinite(v) for v in out)
        limit, what = thresholds(spec["precision"])
        status_word = "pass" if finite and rel <= limit else "fail"
        note = what
        # cuDNN runs fp32 convolutions in TF32 unless told not to (PyTorch's default too): an error of
        # that size says so rather than that the server computes something else.
        if status_word == "fail" and finite and spec["precision"] == "fp32" and plan["device"] == "cuda" and rel <= 5e-3:
            status_word, note = "pass (TF32)", f"{what}; TF32-sized (≤ 5e-3): convolutions ran in TF32"
        row.update(status=status_word, note=note, max_abs=max_abs, max_ref=max(abs(b) for b in expected),
                   rel=rel, finite=finite)
        rows.append(row)
        print(f"  {name}: {status_word} rel {rel:.2e} max|Δ| {max_abs:.2e}")
    write(args.out, dict(rows=rows))
    return 0


# ---- memory -----------------------------------------------------------------------------------

def metric_values(url, names):
    if not url:
        return {}
    try:
        status, _, body = http("GET", url, timeout=10)
    except OSError:
        return {}
    values = {}
    for line in body.decode(errors="replace").splitlines():
        for name in names:
            if line.startswith(name) and (line[len(name)] in "{ "):
                try:
                    values[line.rsplit(" ", 1)[0]] = float(line.rsplit(" ", 1)[1])
                except ValueError:
                    pass
    return values


def memory_now(device, pid, metrics):
    """Device memory in MiB (nvidia-smi, all processes) on CUDA, else the server's resident memory."""
    reading = dict(metrics=metric_values(metrics, ("torchlight_gpu_allocator_reserved_bytes",
                                                   "torchlight_gpu_allocator_allocated_bytes",
                                                   "torchlight_gpu_memory_used_bytes")))
    if device == "cuda":
        q = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", "0"],
                           capture_output=True, text=True, timeout=20)
        reading.update(source="nvidia-smi memory.used", mib=float(q.stdout.strip().splitlines()[0]))
    else:
        with open(f"/proc/{pid}/status") as f:
            kib = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        reading.update(source="server VmRSS", mib=kib / 1024)
    return reading


def memory_cycle(args, server, device, name, spec, steps):
    """Loads the model, runs three batches, unloads it: the memory before, loaded and after (MiB)."""
    batch = spec["max_batch"]
    time.sleep(1)
    before = memory_now(device, args.pid, server.get("metrics"))
    t = time.monotonic()
    status, _, body = http("POST", f"{server['management']}/v2/repository/models/{name}/load", b"", timeout=300)
    steps.append(f"load: HTTP {status} in {time.monotonic() - t:.1f} s {body[:300].decode(errors='replace')}")
    if status != 200:
        raise RuntimeError(f"{name} did not load (HTTP {status})")
    image = pathlib.Path(args.refs, "resnet50.input.bin").read_bytes()
    for _ in range(3):
        s, out = infer_binary(server["http"], name, spec["input"], [batch, 3, 224, 224], image * batch, spec["output"])
        steps.append(f"infer batch {batch}: HTTP {s}" + ("" if s == 200 else f" {out}"))
    loaded = memory_now(device, args.pid, server.get("metrics"))
    t = time.monotonic()
    status, _, body = http("POST", f"{server['management']}/v2/repository/models/{name}/unload", b"", timeout=120)
    steps.append(f"unload: HTTP {status} in {time.monotonic() - t:.1f} s {body[:300].decode(errors='replace')}")
    # Draining and releasing may finish just after the answer: the lowest of a few readings.
    readings = []
    for _ in range(4):
        time.sleep(1)
        readings.append(memory_now(device, args.pid, server.get("metrics")))
    return before, loaded, min(readings, key=lambda r: r["mib"])


def cmd_memory(args):
    server = json.loads(pathlib.Path(args.server).read_text())
    plan = json.loads(pathlib.Path(args.plan).read_text())
    name = plan["memory_model"]
    spec = plan["models"][name]
    device = plan["device"]
    result = dict(model=name, batch=spec["max_batch"], device=device, steps=[])
    try:
        # The first cycle pays what stays for the process's life once a kind of model has run: kernels
        # CUDA loads lazily on first use, cuDNN's and cuBLAS's handles. The second shows what a load
        # leaves behind, which is what the target is about; both are reported.
        first = memory_cycle(args, server, device, name, spec, result["steps"])
        result["first"] = dict(zip(("before", "loaded", "after"), first))
        second = memory_cycle(args, server, device, name, spec, result["steps"])
        result["before"], result["loaded"], result["after"] = second
        before, loaded, after = (r["mib"] for r in second)
        result["held_mib"] = loaded - before
        result["left_mib"] = after - before
        result["first_left_mib"] = first[2]["mib"] - first[0]["mib"]
        ok = after <= before * 1.05
        if device == "cuda":
            result["status"] = "pass" if ok and loaded > before else ("fail" if not ok else "fail (nothing was loaded)")
        else:
            result["status"] = "info (CPU: resident memory, not the GPU's)"
    except Exception as e:  # noqa: BLE001  the verdict is the JSON
        result["status"] = "fail"
        result["error"] = f"{type(e).__name__}: {e}"
    write(args.out, result)
    print(f"  memory: {result.get('status')} {json.dumps({k: result.get(k, {}).get('mib') for k in ('before', 'loaded', 'after')})}"
          f" first cycle left {result.get('first_left_mib')} MiB")
    return 0


# ---- out of memory ----------------------------------------------------------------------------

def cmd_oom(args):
    server = json.loads(pathlib.Path(args.server).read_text())
    plan = json.loads(pathlib.Path(args.plan).read_text())
    name = plan["oom_model"]
    spec = plan["models"][name]
    big = spec["max_batch"]
    result = dict(model=name, row_bytes=plan["row_bytes"], big_batch=big, steps=[])
    try:
        t = time.monotonic()
        status, _, body = http("POST", f"{server['management']}/v2/repository/models/{name}/load", b"", timeout=300)
        result["load"] = status
        result["steps"].append(f"load: HTTP {status} in {time.monotonic() - t:.1f} s {body[:300].decode(errors='replace')}")
        if status != 200:
            raise RuntimeError(f"{name} did not load (HTTP {status})")

        def send(rows):
            data = array.array("f", [1.0] * (rows * 4)).tobytes()
            t0 = time.monotonic()
            s, out = infer_binary(server["http"], name, spec["input"], [rows, 4], data, spec["output"], timeout=120)
            return s, (out if s != 200 else f"{len(out)} values"), time.monotonic() - t0

        s, out, dt = send(big)
        result["big"] = dict(status=s, answer=str(out)[:400], seconds=dt)
        s, out, dt = send(1)
        result["small"] = dict(status=s, answer=str(out)[:400], seconds=dt)
        s2, _, _ = http("GET", f"{server['http']}/v2/health/live", timeout=10)
        result["live"] = s2
        aux = plan["servers"]["aux"][0]
        aux_spec = plan["models"][aux]
        rows = pathlib.Path(args.refs, "risk.input.bin").read_bytes()
        s3, _ = infer_binary(server["http"], aux, aux_spec["input"], [2, 256], rows, aux_spec["output"])
        result["other_model"] = dict(model=aux, status=s3)
        try:
            result["instances"] = health(server["http"]).get(name, {}).get("instances")
        except (OSError, ValueError):
            pass
        ok = result["small"]["status"] == 200 and s2 == 200 and s3 == 200 and result["big"]["status"] != 200
        result["status"] = "pass" if ok else "fail"
        # Give the memory back for whatever runs next.
        http("POST", f"{server['management']}/v2/repository/models/{name}/unload", b"", timeout=120)
    except Exception as e:  # noqa: BLE001
        result["status"] = "fail"
        result["error"] = f"{type(e).__name__}: {e}"
    write(args.out, result)
    print(f"  oom: {result['status']} big {result.get('big', {}).get('status')} small {result.get('small', {}).get('status')}")
    return 0


# ---- the AOTInductor package outside the server ---------------------------------------------------

def cmd_package(args):
    """Runs the plan's package at batch 1 and 64 by PyTorch's own loader, or through torchlight's
    engine library from this process (ctypes, no JVM): with the server's load, the three tell a fault
    of the package, of the engine's use of it and of the JVM apart."""
    import torch

    plan = json.loads(pathlib.Path(args.plan).read_text())
    name, device = plan["aoti"], plan["device"]
    path = pathlib.Path(args.repo, name, "1", "model.pt2")
    if args.via == "pytorch":
        package = torch._inductor.aoti_load_package(str(path))
        run = lambda x: package(x.to(device))  # noqa: E731
    else:
        sys.path.insert(0, args.native)
        import test_engine as te
        te.LIB = te.bind(args.library)
        package = te.Model(str(path), fmt=te.TL_AOTI, device=te.TL_CUDA if device == "cuda" else te.TL_CPU,
                           index=0 if device == "cuda" else -1, pinned_buffers=1)
        run = lambda x: package.run([x])[0][1]  # noqa: E731
    for batch in (1, 64):
        shape = (batch, 3, 224, 224) if name.startswith("resnet") else (batch, 256)
        print(f"{name} by {args.via}: batch {batch} -> {tuple(run(torch.rand(shape)).shape)}", flush=True)
    return 0


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("facts")
    p.add_argument("--plan", required=True)
    p.add_argument("--bundle")
    p.add_argument("--out", required=True)
    p = sub.add_parser("wait")
    p.add_argument("--log", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--timeout", type=float, required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("load")
    p.add_argument("--server", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("package")
    p.add_argument("--plan", required=True)
    p.add_argument("--repo", required=True)
    p.add_argument("--via", choices=["pytorch", "engine"], required=True)
    p.add_argument("--native", help="--via engine: the folder of test_engine.py")
    p.add_argument("--library", help="--via engine: libtorchlight_engine.so")
    for name in ("compare", "memory", "oom"):
        p = sub.add_parser(name)
        p.add_argument("--server", required=True)
        p.add_argument("--plan", required=True)
        p.add_argument("--refs", required=True)
        p.add_argument("--pid", type=int)
        p.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    commands = dict(facts=cmd_facts, wait=cmd_wait, load=cmd_load, package=cmd_package, compare=cmd_compare,
                    memory=cmd_memory, oom=cmd_oom)
    return commands[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
