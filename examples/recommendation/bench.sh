#!/usr/bin/env bash
# The recommendation example's benchmark, one command (README.md has the numbers it gave):
#
#   examples/recommendation/bench.sh                 # 20M rows (5.1 GB), batch sizes 1..256
#   examples/recommendation/bench.sh --rows 2000000 --duration 5s --batches 1,32
#
# 1. Builds the model with make_model.py into WORK/repo unless one of --rows rows is there.
# 2. Load: starts `torchlight serve` on it (the config's 2 instances) and samples the server's
#    memory (/proc/PID/status) every 0.2 s until it is ready: when the weights were read, load time
#    (start to ready), peak RSS (VmHWM) against the file's size, and the same server's peak with a
#    tiny model of the same shape, the JVM's own share.
# 3. Throughput and latency: `torchlight bench` in a closed loop of --concurrency clients sending
#    one request body of B rows (client.py --write-request: ids per table of random length, drawn
#    uniformly from the whole table), for each B of --batches.
# 4. Another instance: scales the model from 2 instances to 3 through the management API and
#    reads the server's RSS just before and after; then scales to 1 and measures step 3 again.
# Writes WORK/results.md (a table) and the raw results beside it. --clean deletes the model after.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rows=20000000
batches=1,8,32,128,256
concurrency=4
duration=20s
warmup=5s
work="$here/work"
clean=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --clean) clean=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

# shellcheck source=../../bench/server.sh
. "$root/bench/server.sh"
py=$("$root/tools/python-env.sh")
mkdir -p "$work"
repo="$work/repo"
tiny="$work/tiny"
results="$work/results.md"
pid=""
stop_server() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  fi
  pid=""
}
trap stop_server EXIT

built_rows() { sed -n 's/^# Written by .* for \([0-9]*\) rows.*/\1/p' "$1/dlrm/config.yaml" 2>/dev/null || true; }
if [ "$(built_rows "$repo")" != "$rows" ] || [ ! -f "$repo/dlrm/1/model.pt" ]; then
  rm -rf "$repo"
  "$py" "$here/make_model.py" --rows "$rows" --repository "$repo"
else
  "$py" "$here/make_model.py" --rows "$rows" --repository "$repo" --config-only # the current config
fi
if [ "$(built_rows "$tiny")" != 8000 ] || ! grep -q "count: 2" "$tiny/dlrm/config.yaml"; then
  rm -rf "$tiny"
  "$py" "$here/make_model.py" --rows 8000 --repository "$tiny" 2>/dev/null
fi
file_bytes=$(stat -c %s "$repo/dlrm/1/model.pt")

kib() { awk -v key="$2:" '$1 == key {print $2}' "/proc/$1/status"; }

# start_server REPO LOG [KIB]: starts the server in the background (pid in $pid), samples its RSS
# until it is ready; sets url, load_ms, peak_kib, and weights_ms: when the RSS first reached KIB
# (0 when KIB is not given).
start_server() {
  local log=$2 threshold=${3:-0} started rss
  started=$(date +%s%N)
  weights_ms=0
  "$root/torchlight" serve --model-repository "$1" --http-port 0 --grpc-port 0 --management-port 0 \
    --metrics-port 0 --access-log off --disable-token-auth >"$log" 2>&1 &
  pid=$!
  url=""
  for _ in $(seq 1 6000); do
    url="$(grep -Eo 'on http://[0-9.]+:[0-9]+' "$log" | head -n 1 | sed 's/^on //' || true)"
    if [ -n "$url" ] && curl -fs -o /dev/null "$url/v2/health/ready"; then
      break
    fi
    kill -0 "$pid" 2>/dev/null || { echo "bench.sh: the server exited:" >&2; tail -n 20 "$log" >&2; exit 1; }
    rss=$(kib "$pid" VmRSS || echo 0)
    if [ "$threshold" -gt 0 ] && [ "$weights_ms" = 0 ] && [ "${rss:-0}" -ge "$threshold" ]; then
      weights_ms=$(( ($(date +%s%N) - started) / 1000000 ))
    fi
    url=""
    sleep 0.2
  done
  [ -n "$url" ] || { echo "bench.sh: the server was not ready in 20 minutes: $log" >&2; exit 1; }
  load_ms=$(( ($(date +%s%N) - started) / 1000000 ))
  peak_kib=$(kib "$pid" VmHWM)
}

echo "bench.sh: the JVM's share: the server with a tiny model (8000 rows)" >&2
start_server "$tiny" "$work/server-tiny.log"
base_kib=$peak_kib
base_ms=$load_ms
stop_server

echo "bench.sh: loading $(( file_bytes / 1000000 )) MB" >&2
# The weights are read once the RSS holds the JVM's share and 98% of the file.
start_server "$repo" "$work/server.log" $(( base_kib + file_bytes / 1024 / 50 * 49 ))
echo "bench.sh: ready after $load_ms ms, peak RSS $(( peak_kib / 1024 )) MiB" >&2
management="$(grep -Eo 'management on http://[0-9.]+:[0-9]+' "$work/server.log" | head -n 1 | sed 's/^management on //')"

IFS=, read -r -a sizes <<<"$batches"
# measure INSTANCES: step 3 for every batch size, appending rows to rows_table.
rows_table=""
measure() {
  local b body
  for b in "${sizes[@]}"; do
    body="$work/request-$b.json"
    [ -f "$body" ] || "$py" "$here/client.py" --repository "$repo" --write-request "$body" --batch "$b" >/dev/null
    echo "bench.sh: $1 instance(s), batch $b, concurrency $concurrency" >&2
    "$root/torchlight" bench --url "$url" --model dlrm --input-file "$body" --batch "$b" \
      --concurrency "$concurrency" --warmup "$warmup" --duration "$duration" --json "$work/bench-$1-$b.json" >&2
    rows_table+=$("$py" - "$work/bench-$1-$b.json" "$b" "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
b = int(sys.argv[2])
print(f"| {sys.argv[3]} | {b} | {r['throughput_rps']:.0f} | {r['throughput_rps'] * b:.0f} | {r['p50_ms']:.2f} | "
      f"{r['p99_ms']:.2f} | {r['errors']} |")
PY
)$'\n'
  done
}
# scale N: runs the model on N instances; sets scale_ms.
scale() {
  local started
  started=$(date +%s%N)
  curl -fs -X PUT "$management/models/dlrm?min_worker=$1&synchronous=true" >/dev/null
  scale_ms=$(( ($(date +%s%N) - started) / 1000000 ))
}
rm -f "$work"/request-*.json
measure 2

echo "bench.sh: scaling from 2 instances to 3" >&2
two_kib=$(kib "$pid" VmRSS)
scale 3
three_kib=$(kib "$pid" VmRSS)
three_ms=$scale_ms
echo "bench.sh: scaling to 1 instance" >&2
scale 1
measure 1
stop_server

mib() { echo $(( $1 / 1024 )); }
{
  echo "## Recommendation example: $(date -u +%Y-%m-%d), $(nproc) cores, $rows rows"
  echo
  echo "| load | |"
  echo "|---|---|"
  echo "| model file | $(( file_bytes / 1048576 )) MiB |"
  echo "| weights read (start to RSS = the JVM's share + 98% of the file) | $(( weights_ms / 1000 )).$(( weights_ms % 1000 / 100 )) s |"
  echo "| load time (start to ready, warm-up of batch sizes 1..256 included) | $(( load_ms / 1000 )).$(( load_ms % 1000 / 100 )) s |"
  echo "| server peak RSS while loading 2 instances (VmHWM) | $(mib "$peak_kib") MiB |"
  echo "| the same server with a tiny model (the JVM's share) | $(mib "$base_kib") MiB, ready in $(( base_ms / 1000 )).$(( base_ms % 1000 / 100 )) s |"
  echo "| peak RSS less the JVM's share, over the file size | $(awk -v p="$peak_kib" -v b="$base_kib" -v f="$file_bytes" 'BEGIN {printf "%.2f", (p - b) * 1024 / f}') |"
  echo "| a third instance (scaled from 2 in $(( three_ms / 1000 )).$(( three_ms % 1000 / 100 )) s): RSS before, after | $(mib "$two_kib") MiB, $(mib "$three_kib") MiB (+$(( (three_kib - two_kib) / 1024 )) MiB) |"
  echo
  echo "Closed loop of $concurrency clients, v2 JSON, $duration per batch size:"
  echo
  echo "| instances | rows per request | requests/s | rows/s | p50 ms | p99 ms | errors |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s' "$rows_table"
} >"$results"
cat "$results"
if [ "$clean" = 1 ]; then
  rm -rf "$repo"
fi
