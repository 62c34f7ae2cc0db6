#!/usr/bin/env bash
# Heap bytes the server allocates per request (docs/PERFORMANCE.md, "Allocation per request"): the demo
# model (mlp, no batching) one request at a time over each protocol, on one server:
#
#   bench/alloc.sh                                   # v2-json v2-binary grpc, 3 rounds of 10 s (about 3 minutes)
#   ALLOC_PROTOCOLS="grpc grpc-stream" ALLOC_DURATION=20s ALLOC_ROUNDS=5 bench/alloc.sh
#
# Per protocol, a warm-up run; then rounds over the protocols in turn, each a JFR recording
# (settings=profile, every allocation sample) around one measured run. The
# recording's per-thread allocation totals (jdk.ThreadAllocationStatistics, taken when it starts and
# when it stops) give what every server thread allocated in between, which over the requests answered
# is the bytes per request: a count, not a time, so it is steady on a noisy machine. An idle window of
# the same length is recorded too (what the server allocates with no load, in bytes/s). JFR's and the
# attach mechanism's own threads are left out. The recordings stay in the results folder; the heaviest
# allocation sites of each (jdk.ObjectAllocationSample by weight, by the first frames of their stacks)
# are in r<round>-<protocol>-sites.txt. summary.tsv has one line per run, medians.tsv the median
# and range over the rounds per protocol; all in bench/results/alloc-<date>-<time>/ (ALLOC_RESULTS to
# choose).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=bench/server.sh
. "$root/bench/server.sh"
protocols=${ALLOC_PROTOCOLS:-"v2-json v2-binary grpc"}
warmup=${ALLOC_WARMUP:-10s}
duration=${ALLOC_DURATION:-10s}
rounds=${ALLOC_ROUNDS:-3}
out=${ALLOC_RESULTS:-bench/results/alloc-$(date -u +%Y-%m-%d-%H%M)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
say() { echo "alloc.sh: $*" >&2; }
./torchlight --help >/dev/null # builds the jar when the sources are newer
. "$root/tools/find_jdk.sh"
find_jdk

log="$out/server.log"
./torchlight serve --models mlp --http-port 0 --grpc-port 0 --metrics-port 0 --management-port 0 \
  --access-log off >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
url=$(await_server "$log" "$pid")
grpc_url="http://$(grep -Eo 'gRPC \(KServe v2\) on [0-9.]+:[0-9]+' "$log" | head -n 1 | sed 's/.* on //')"

# record NAME COMMAND...: runs COMMAND inside a JFR recording of the server, written to $out/NAME.jfr
record() {
  local name=$1
  shift
  "$JAVA_HOME/bin/jcmd" "$pid" JFR.start name=alloc settings=profile allocation-profiling=maximum filename="$out/$name.jfr" >/dev/null
  "$@"
  "$JAVA_HOME/bin/jcmd" "$pid" JFR.stop name=alloc >/dev/null
}

# window NAME: the bytes the server's threads allocated during recording NAME, and the window's seconds
window() {
  "$JAVA_HOME/bin/jfr" print --json --events jdk.ThreadAllocationStatistics "$out/$1.jfr" | /usr/bin/python3 -c '
import json, sys
from datetime import datetime
seen = {}
for e in json.load(sys.stdin)["recording"]["events"]:
    v = e["values"]
    t = v["thread"]
    name = t["javaName"] or t["osName"] or ""
    if name.startswith(("JFR ", "Attach Listener", "RMI ")):
        continue
    seen.setdefault((t["javaThreadId"], name), []).append(
        (datetime.fromisoformat(v["startTime"]).timestamp(), v["allocated"]))
times = [when for samples in seen.values() for when, _ in samples]
begin, end = min(times), max(times)
total = 0
for samples in seen.values():
    if len(samples) > 1:
        total += samples[-1][1] - samples[0][1]
    elif samples[0][0] > begin:
        total += samples[0][1]  # a thread started in the window: all of its bytes count
print(total, end - begin)
'
}

# sites NAME: the heaviest allocation sites of recording NAME, by their top three frames
sites() {
  "$JAVA_HOME/bin/jfr" print --json --events jdk.ObjectAllocationSample --stack-depth 6 "$out/$1.jfr" \
    | /usr/bin/python3 -c '
import collections, json, sys
events = json.load(sys.stdin)["recording"]["events"]
by_site, total, threads = collections.Counter(), 0, set()
for e in events:
    v = e["values"]
    # The first sample of a thread weighs all it allocated since the one before, outside the recording.
    thread = (v.get("eventThread") or {}).get("javaThreadId")
    if thread not in threads:
        threads.add(thread)
        continue
    frames = (v.get("stackTrace") or {}).get("frames") or []
    site = " < ".join("%s.%s" % (f["method"]["type"]["name"].rsplit(".", 1)[-1], f["method"]["name"]) for f in frames[:3])
    cls = (v.get("objectClass") or {}).get("name", "?")
    by_site[(cls, site)] += v["weight"]
    total += v["weight"]
print("share\tclass\tsite (top three frames)")
for (cls, site), w in by_site.most_common(25):
    print("%.1f%%\t%s\t%s" % (100.0 * w / max(total, 1), cls, site))
' >"$out/$1-sites.txt"
}

printf 'round\tprotocol\trequests\treq_per_s\tbytes_per_request\tidle_bytes_per_s\n' >"$out/summary.tsv"
say "idle window ($duration)"
record idle sleep "${duration%s}"
read -r idle_bytes idle_seconds < <(window idle)
idle_rate=$(/usr/bin/python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) / max(float(sys.argv[2]), 1e-9)))" \
  "$idle_bytes" "$idle_seconds")
say "idle: $idle_rate bytes/s"
for protocol in $protocols; do
  target=$url
  [[ $protocol == grpc* ]] && target=$grpc_url
  say "$protocol: warm-up $warmup"
  ./torchlight bench --url "$target" --model mlp --protocol "$protocol" --concurrency 1 --warmup 0s \
    --duration "$warmup" >/dev/null 2>"$out/$protocol-warmup.log"
done
for round in $(seq 1 "$rounds"); do
  for protocol in $protocols; do
    target=$url
    [[ $protocol == grpc* ]] && target=$grpc_url
    tag="r$round-$protocol"
    say "round $round: $protocol, $duration"
    record "$tag" ./torchlight bench --url "$target" --model mlp --protocol "$protocol" --concurrency 1 \
      --warmup 0s --duration "$duration" --json "$out/$tag.json" >/dev/null 2>"$out/$tag-bench.log"
    read -r bytes seconds < <(window "$tag")
    sites "$tag"
    /usr/bin/python3 - "$out/$tag.json" "$round" "$protocol" "$bytes" "$seconds" "$idle_rate" \
      >>"$out/summary.tsv" <<'PY'
import json, sys
path, rnd, protocol, allocated, seconds, idle = sys.argv[1:]
r = json.load(open(path))["results"][0]
# the idle allocation of the window, which any run pays, is taken out
per_request = (float(allocated) - float(idle) * float(seconds)) / max(r["requests"], 1)
print("%s\t%s\t%d\t%.0f\t%.0f\t%s" % (rnd, protocol, r["requests"], r["throughput_rps"], per_request, idle))
PY
  done
done
/usr/bin/python3 - "$out" <<'PY' | tee "$out/medians.tsv"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/summary.tsv"), delimiter="\t"))
print("protocol\tbytes_per_request\trange\treq_per_s")
for name in dict.fromkeys(r["protocol"] for r in rows):
    b = [float(r["bytes_per_request"]) for r in rows if r["protocol"] == name]
    q = [float(r["req_per_s"]) for r in rows if r["protocol"] == name]
    print("%s\t%.0f\t%.0f-%.0f\t%.0f" % (name, statistics.median(b), min(b), max(b), statistics.median(q)))
PY
