#!/usr/bin/env python3
"""Scores rows of the recommendation example through torchlight's v2 REST API.

Each row carries 13 dense features and, for each of the 8 tables, a list of ids (multi-hot)
whose length differs from request to request; the server batches such requests together
(allow_ragged_batch) and makes each table's offsets itself. Only the standard library is
needed to send requests; --check also needs PyTorch (tools/python-env.sh).

    client.py --url http://127.0.0.1:8080 --repository /tmp/recsys          # score, show a 400
    client.py --url ... --repository /tmp/tiny --check --requests 64        # compare with PyTorch
    client.py --repository /tmp/recsys --write-request req.json --batch 32  # a body for torchlight bench

--repository is the model repository make_model.py wrote: the client reads each table's size
from the model's config.yaml (its value_range), so that its ids are valid.
"""
import argparse
import concurrent.futures
import json
import pathlib
import random
import re
import sys
import urllib.error
import urllib.request

DENSE = 13
# Mean ids per row and table: long histories for the big id spaces, one id for the small ones.
POOLING = [20, 10, 5, 3, 2, 1, 1, 1]


def table_sizes(config: pathlib.Path):
    """Each ids_t input's table size, from its value_range [0, rows - 1]."""
    text = config.read_text()
    sizes = [int(hi) + 1 for _, hi in re.findall(r"value_range: \[(\d+), (\d+)\]", text)]
    if len(sizes) != len(POOLING):
        sys.exit(f"{config}: expected {len(POOLING)} id inputs with a value_range, found {len(sizes)}")
    return sizes


def make_request(rng: random.Random, sizes, rows: int):
    """A v2 request of `rows` rows: dense [rows, 13]; ids_t [rows, length_t], the length drawn
    per request (the rows of one request share it; other requests differ)."""
    inputs = [{"name": "dense", "datatype": "FP32", "shape": [rows, DENSE],
               "data": [round(rng.gauss(0, 1), 4) for _ in range(rows * DENSE)]}]
    for t, (size, mean) in enumerate(zip(sizes, POOLING)):
        length = rng.randint(1, 2 * mean - 1)
        inputs.append({"name": f"ids_{t}", "datatype": "INT64", "shape": [rows, length],
                       "data": [rng.randrange(size) for _ in range(rows * length)]})
    return {"inputs": inputs}


def post(url: str, body: dict):
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def reference(module, request):
    """What PyTorch gives the request alone: each table's ids flat, offsets 0, m, 2m, ..."""
    import torch
    tensors = {i["name"]: torch.tensor(i["data"]).reshape(i["shape"]) for i in request["inputs"]}
    dense = tensors["dense"].float()
    ids, offsets = [], []
    for t in range(len(POOLING)):
        x = tensors[f"ids_{t}"].long()
        rows, length = x.shape
        ids.append(x.flatten())
        offsets.append(torch.arange(0, rows * length + 1, length, dtype=torch.int64))
    with torch.no_grad():
        return module(dense, *ids, *offsets).flatten().tolist()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--model", default="dlrm")
    parser.add_argument("--repository", type=pathlib.Path, required=True)
    parser.add_argument("--requests", type=int, default=8, help="requests to send, concurrently")
    parser.add_argument("--batch", type=int, default=1, help="rows per request")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--check", action="store_true",
                        help="compare every answer with PyTorch running the model file (small models)")
    parser.add_argument("--write-request", type=pathlib.Path, metavar="FILE",
                        help="only write one request body of --batch rows (for torchlight bench --input-file)")
    args = parser.parse_args()
    sizes = table_sizes(args.repository / args.model / "config.yaml")
    rng = random.Random(args.seed)

    if args.write_request:
        args.write_request.write_text(json.dumps(make_request(rng, sizes, args.batch)))
        print(f"wrote {args.write_request}: one request of {args.batch} row(s)")
        return 0

    url = f"{args.url}/v2/models/{args.model}/infer"
    requests = [make_request(rng, sizes, args.batch) for _ in range(args.requests)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(16, len(requests))) as pool:
        answers = list(pool.map(lambda r: post(url, r), requests))
    failures = 0
    module = None
    if args.check:
        import torch
        module = torch.jit.load(str(args.repository / args.model / "1" / "model.pt"))
    for i, (request, (status, body)) in enumerate(zip(requests, answers)):
        lengths = [next(x["shape"][1] for x in request["inputs"] if x["name"] == f"ids_{t}")
                   for t in range(len(POOLING))]
        if status != 200:
            print(f"request {i}: HTTP {status}: {body}")
            failures += 1
            continue
        scores = body["outputs"][0]["data"]
        line = f"request {i}: ids per row {lengths} -> scores {[round(s, 4) for s in scores[:4]]}"
        if module is not None:
            want = reference(module, request)
            worst = max(abs(a - b) for a, b in zip(scores, want))
            ok = len(scores) == len(want) and worst <= 1e-5
            failures += not ok
            line += f"; PyTorch alone: {'same' if ok else 'DIFFERENT'} (max difference {worst:.1e})"
        print(line)

    # An id one past the end of table 0: refused before it reaches the engine.
    bad = make_request(rng, sizes, 1)
    bad["inputs"][1]["data"][-1] = sizes[0]
    status, body = post(url, bad)
    print(f"an id one past table 0's {sizes[0]} rows: HTTP {status}: {body.get('error')}")
    failures += status != 400
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
