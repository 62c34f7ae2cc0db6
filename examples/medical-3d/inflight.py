#!/usr/bin/env python3
"""What a server holds per volume in flight: sends N volumes at once over REST binary tensors and
samples the server's resident memory meanwhile (bench.sh runs it on a fresh server per N).

  inflight.py --url URL --dir DIR --pid PID --n N --out FILE.json

The model has one instance, so the first volume computes while the other N - 1 wait; until the
first answer comes back the server holds the N request bodies and the one forward pass's working
set, and nothing else has happened yet (no reply built, no garbage from finished requests). The
peak resident memory in that window, across N, grows by what the server holds per waiting volume.
The peak over the whole run adds the replies (the logits on the heap and their copy for the
socket). Standard library only; the resident memory comes from /proc/PID/status every 20 ms.
"""

import argparse
import http.client
import json
import pathlib
import sys
import threading
import time
import urllib.parse

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import client  # noqa: E402


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
    for t in threads:
        t.join()
    stop.set()
    sampler.join()

    first = min((a["answered"] for a in answers if a), default=None)
    before_first = [kib for t, kib in samples if first is not None and t < first]
    result = dict(n=args.n, idle_kib=idle, peak_before_first_answer_kib=max(before_first, default=None),
                  peak_kib=max((kib for _, kib in samples), default=None), first_answer_s=first,
                  answers=answers, errors=errors, samples=len(samples))
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    mib = lambda kib: "—" if kib is None else f"{kib / 1024:.0f} MiB"  # noqa: E731
    print(f"{args.n} in flight: idle {mib(idle)}, peak before the first answer "
          f"({'none' if first is None else f'{first:.1f} s'}) "
          f"{mib(result['peak_before_first_answer_kib'])}, peak {mib(result['peak_kib'])}"
          + (f"; errors: {errors}" if errors else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
