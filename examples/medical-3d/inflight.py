#!/usr/bin/env python3
"""What a server holds per volume in flight: sends N volumes at once over REST binary tensors and
samples the server's resident memory meanwhile (bench.sh runs it on a fresh server per N).

  inflight.py --url URL --dir DIR --pid PID --n N --out FILE.json [--metrics URL/metrics --jcmd JCMD]

The model has one instance, so the first volume computes while the other N - 1 wait; until the
first answer comes back the server holds the N request bodies and the one forward pass's working
set, and nothing else has happened yet (no reply built, no garbage from finished requests). The
peak resident memory in that window, across N, grows by what the server holds per waiting volume.
The peak over the whole run adds the replies (the logits on the heap and their copy for the
socket). Standard library only; the resident memory comes from /proc/PID/status every 20 ms.

With --metrics and --jcmd it also says where the memory is: the JVM's live heap, after a full
collection (jcmd PID GC.run) once idle and again once the server holds all N requests (its
torchlight_inflight_requests reaches N, before the first answer), and the request-body bytes the
HTTP listener holds then (torchlight_http_inflight_body_bytes). The heap in use between collections
is no measure: it holds garbage of any age.
"""

import argparse
import http.client
import json
import pathlib
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import client  # noqa: E402


def metric(url, prefix):
    """The value of the first line of a Prometheus text page that starts with prefix; None if none."""
    with urllib.request.urlopen(url, timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(prefix):
                return float(line.rpartition(" ")[2])
    return None


def live_heap(jcmd, pid, metrics):
    """Bytes of heap in use right after a full collection."""
    subprocess.run([jcmd, str(pid), "GC.run"], check=True, capture_output=True, timeout=120)
    return metric(metrics, 'jvm_memory_used_bytes{area="heap"}')


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--dir", type=pathlib.Path, required=True, help="what make_model.py wrote")
    parser.add_argument("--pid", type=int, required=True, help="the server's process")
    parser.add_argument("--n", type=int, required=True, help="volumes sent at once")
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--metrics", help="the server's metrics URL, e.g. http://127.0.0.1:8082/metrics")
    parser.add_argument("--jcmd", help="the JDK's jcmd, for the live heap (with --metrics)")
    args = parser.parse_args(argv)
    manifest = json.loads((args.dir / "manifest.json").read_text())
    volume = (args.dir / manifest["checks"][0]["volume"]).read_bytes()
    url = urllib.parse.urlsplit(args.url)

    samples = []  # (seconds since start, KiB)
    stop = threading.Event()
    t0 = time.monotonic()

    def sample():
        while not stop.is_set():
            samples.append((time.monotonic() - t0, rss_kib(args.pid)))
            time.sleep(0.02)

    idle = rss_kib(args.pid)
    accounting = bool(args.metrics and args.jcmd)
    held = {}
    if accounting:
        held["idle_live_heap_bytes"] = live_heap(args.jcmd, args.pid, args.metrics)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    answers = [None] * args.n
    errors = []
    start = threading.Barrier(args.n)

    def send(i):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=3600)
        try:
            conn.connect()
            start.wait()
            _, raw, seconds = client.infer(conn, manifest["name"], manifest["input"]["name"],
                                           manifest["input"]["shape"], volume)
            answers[i] = dict(answered=time.monotonic() - t0, seconds=seconds, bytes=len(raw))
        except Exception as e:  # noqa: BLE001  reported in the result
            errors.append(f"volume {i}: {type(e).__name__}: {e}")
        finally:
            conn.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(args.n)]
    for t in threads:
        t.start()
    if accounting:
        # Once all N are routed (one computing, the others queued), before any answer.
        requests = f'torchlight_inflight_requests{{model="{manifest["name"]}"'
        deadline = time.monotonic() + 600
        while (metric(args.metrics, requests) or 0) < args.n and time.monotonic() < deadline \
                and not any(answers) and not errors:
            time.sleep(0.05)
        if not any(answers):
            held["bodies_bytes"] = metric(args.metrics, "torchlight_http_inflight_body_bytes")
            held["live_heap_bytes"] = live_heap(args.jcmd, args.pid, args.metrics)
            held["taken_before_first_answer"] = not any(answers)
    for t in threads:
        t.join()
    stop.set()
    sampler.join()

    first = min((a["answered"] for a in answers if a), default=None)
    before_first = [kib for t, kib in samples if first is not None and t < first]
    result = dict(n=args.n, idle_kib=idle, peak_before_first_answer_kib=max(before_first, default=None),
                  peak_kib=max((kib for _, kib in samples), default=None), first_answer_s=first,
                  answers=answers, errors=errors, samples=len(samples))
    result.update(held)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    mib = lambda kib: "—" if kib is None else f"{kib / 1024:.0f} MiB"  # noqa: E731
    live = ""
    if held.get("live_heap_bytes") is not None and held.get("idle_live_heap_bytes") is not None:
        live = (f"; live heap +{(held['live_heap_bytes'] - held['idle_live_heap_bytes']) / 2**20:.1f} MiB, "
                f"bodies held {held.get('bodies_bytes', 0) / 2**20:.1f} MiB")
    print(f"{args.n} in flight: idle {mib(idle)}, peak before the first answer "
          f"({'none' if first is None else f'{first:.1f} s'}) "
          f"{mib(result['peak_before_first_answer_kib'])}, peak {mib(result['peak_kib'])}{live}"
          + (f"; errors: {errors}" if errors else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
