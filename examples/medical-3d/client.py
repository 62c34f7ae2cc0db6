#!/usr/bin/env python3
"""Sends CT volumes to torchlight as binary tensors over REST and checks the logits against the
unsplit model's reference outputs; the standard library only.

  python3 examples/medical-3d/client.py                       # the volumes in examples/medical-3d/work
  python3 examples/medical-3d/client.py --url http://127.0.0.1:8080 --dir DIR --tolerance 1e-4

One request per volume: a JSON header naming the input's shape and byte size, then the volume's
raw little-endian FP32 bytes (Content-Type application/octet-stream, the header's length in
Inference-Header-Content-Length); the logits come back the same way (binary_data_output). Prints
each volume's time, its relative error ||server - reference|| / ||reference||, the largest
absolute difference and the foreground fraction; exits 1 if any error exceeds --tolerance.
"""

import argparse
import array
import http.client
import json
import math
import pathlib
import sys
import time
import urllib.parse

HERE = pathlib.Path(__file__).resolve().parent


def infer(conn, model, name, shape, data):
    """One binary-tensor request: (header JSON, output bytes, seconds)."""
    header = json.dumps({
        "inputs": [{"name": name, "datatype": "FP32", "shape": shape,
                    "parameters": {"binary_data_size": len(data)}}],
        "parameters": {"binary_data_output": True},
    }).encode()
    t = time.perf_counter()
    conn.request("POST", f"/v2/models/{model}/infer", body=header + data, headers={
        "Content-Type": "application/octet-stream",
        "Inference-Header-Content-Length": str(len(header)),
    })
    response = conn.getresponse()
    body = response.read()
    seconds = time.perf_counter() - t
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {body[:500].decode(errors='replace')}")
    n = int(response.getheader("Inference-Header-Content-Length"))
    reply = json.loads(body[:n])
    out = reply["outputs"][0]
    size = out["parameters"]["binary_data_size"]
    if n + size != len(body):
        raise RuntimeError(f"the reply has {len(body) - n} bytes after its header, its header says {size}")
    return reply, body[n:], seconds


def floats(raw):
    values = array.array("f")
    values.frombytes(raw)
    if sys.byteorder != "little":
        values.byteswap()
    return values


def compare(got, expected):
    """(relative L2 error, largest |difference|, foreground fraction of the 2-class logits)."""
    diff2 = ref2 = max_abs = 0.0
    for a, b in zip(got, expected):
        d = a - b
        diff2 += d * d
        ref2 += b * b
        max_abs = max(max_abs, abs(d))
    half = len(got) // 2  # [1, 2, D, H, W]: class 0's logits, then class 1's
    foreground = sum(1 for i in range(half) if got[half + i] > got[i]) / max(half, 1)
    return math.sqrt(diff2) / (math.sqrt(ref2) or 1.0), max_abs, foreground


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--dir", type=pathlib.Path, default=HERE / "work",
                        help="what make_model.py wrote (manifest.json, volume<i>.bin, reference<i>.bin)")
    parser.add_argument("--model", help="default: the manifest's name")
    parser.add_argument("--tolerance", type=float, help="largest relative error (default 1e-4; fp16 models 1e-2)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per request")
    args = parser.parse_args(argv)
    manifest = json.loads((args.dir / "manifest.json").read_text())
    model = args.model or manifest["name"]
    tolerance = args.tolerance or (1e-2 if manifest["precision"] == "fp16" else 1e-4)
    url = urllib.parse.urlsplit(args.url)
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=args.timeout)
    worst = 0.0
    for check in manifest["checks"]:
        data = (args.dir / check["volume"]).read_bytes()
        reply, raw, seconds = infer(conn, model, manifest["input"]["name"], manifest["input"]["shape"], data)
        out = reply["outputs"][0]
        if out["shape"] != manifest["output"]["shape"] or out["datatype"] != "FP32":
            raise RuntimeError(f"output {out['name']}: {out['datatype']} {out['shape']}, expected FP32 "
                               f"{manifest['output']['shape']}")
        rel, max_abs, foreground = compare(floats(raw), floats((args.dir / check["reference"]).read_bytes()))
        worst = max(worst, rel if math.isfinite(rel) else math.inf)
        print(f"{check['volume']}: {len(data) / 2**20:.1f} MiB in, {len(raw) / 2**20:.1f} MiB out, {seconds:.2f} s; "
              f"rel {rel:.2e}, max |diff| {max_abs:.2e}, foreground {foreground:.1%}")
    ok = worst <= tolerance
    print(f"{'ok' if ok else 'FAILED'}: largest relative error {worst:.2e} (tolerance {tolerance:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
