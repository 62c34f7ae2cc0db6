"""The training run behind the image's AOT cache (tools/image/rootfs.sh):

    python3 aot_training.py MODELS_DIR JAVA [JVM_OPTION...] -jar JAR

Starts `JAVA ... serve` on free loopback ports over MODELS_DIR, waits until it is ready, sends one
inference to each model, and stops it with SIGTERM; the JVM, started with -XX:AOTCacheOutput,
writes the cache of everything start-up loaded and linked as it exits. Standard library only.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

READY_SECONDS = 120
EXIT_SECONDS = 180  # the JVM assembles the cache after the server has stopped


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def get(url):
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)


def infer(base, model):
    """One request of zeros (or empty strings) shaped after the model's metadata."""
    meta = get(f"{base}/v2/models/{model}")
    inputs = []
    for tensor in meta["inputs"]:
        shape = [1 if d < 0 else d for d in tensor["shape"]]
        count = 1
        for d in shape:
            count *= d
        value = "" if tensor["datatype"] == "BYTES" else (False if tensor["datatype"] == "BOOL" else 0)
        inputs.append({"name": tensor["name"], "datatype": tensor["datatype"], "shape": shape,
                       "data": [value] * count})
    body = json.dumps({"inputs": inputs}).encode()
    request = urllib.request.Request(f"{base}/v2/models/{model}/infer", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=30).read()
    except urllib.error.HTTPError as e:  # a model these inputs do not suit still trained the path
        print(f"aot_training.py: {model}: {e.code}", file=sys.stderr)


def main():
    models, command = sys.argv[1], sys.argv[2:]
    http, grpc, management, metrics = free_ports(4)
    server = subprocess.Popen(command + [
        "serve", "--model-repository", models, "--host", "127.0.0.1", "--http-port", str(http),
        "--grpc-port", str(grpc), "--management-port", str(management), "--metrics-port", str(metrics),
        "--no-access-log"])
    base = f"http://127.0.0.1:{http}"
    try:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            if server.poll() is not None:
                sys.exit(f"aot_training.py: the server exited ({server.returncode}) before it was ready")
            try:
                urllib.request.urlopen(f"{base}/v2/health/ready", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    sys.exit(f"aot_training.py: not ready within {READY_SECONDS} s")
                time.sleep(0.1)
        for model in sorted(os.listdir(models)):
            if os.path.isfile(os.path.join(models, model, "config.yaml")):
                infer(base, model)
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=EXIT_SECONDS)
        if code not in (0, 128 + signal.SIGTERM, -signal.SIGTERM):
            sys.exit(f"aot_training.py: the server exited with {code}")
    finally:
        if server.poll() is None:
            server.kill()


if __name__ == "__main__":
    main()
