#!/usr/bin/env bash
# The soak: torchlight for SOAK_MINUTES (default 30) under mixed load, with a hot swap every minute and a
# management call every few seconds, its memory, threads and file descriptors sampled every 10 s
# (docs/RELIABILITY.md, "Soak"):
#
#   bench/soak.sh                        # 30 minutes, results in bench/results/soak-<date>/
#   SOAK_MINUTES=3 bench/soak.sh         # a short try
#   SOAK_SCALE=2 bench/soak.sh           # twice the request rates
#
# The load, all open loop (a fixed rate: a slow server cannot slow the clients down), each its own
# `torchlight bench` process that warms up for 30 s (six JVMs starting at once on a small machine fall
# seconds behind their own schedule) and then measures for SOAK_MINUTES: v2 REST JSON and binary, gRPC unary and streaming, TorchServe's
# /predictions on the demo model, and images through the image classifier's handler. Every minute a
# new version of the demo model is written to the repository and loaded (version_policy latest 1: it
# replaces the one serving); every 5 s one management or statistics call. Pass: no load generator
# saw a failed or unanswered request (each waits --timeout for every answer), every swap and
# management call succeeded, and after the warm-up (SOAK_WARMUP_MINUTES, default 5) RSS, heap,
# direct memory, threads and file descriptors stay flat (bench/soak_report.py judges and draws them).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=bench/server.sh
. "$root/bench/server.sh"
minutes=${SOAK_MINUTES:-30}
warmup_minutes=${SOAK_WARMUP_MINUTES:-5}
scale=${SOAK_SCALE:-1}
out=${SOAK_RESULTS:-bench/results/soak-$(date -u +%Y-%m-%d)}
say() { echo "soak.sh: $(date -u +%H:%M:%S) $*" >&2; }
rm -rf "$out"
mkdir -p "$out"
./torchlight --help >/dev/null # builds the jar when the sources are newer

# --- the repository: the demo model (replaced every minute) and the image classifier -------------------
repo="$out/repo"
mkdir -p "$repo/mlp/1"
sed '/^version_policy/d' models/mlp/config.yaml >"$repo/mlp/config.yaml"
echo 'version_policy: {latest: 1}' >>"$repo/mlp/config.yaml"
cp models/mlp/1/model.pt "$repo/mlp/1/"
cp -r testdata/handlers/models/classifier "$repo/"
images="$out/images"
mkdir -p "$images"
cp testdata/images/coffee.jpg testdata/images/rocket.jpg testdata/images/camera_gray.png "$images/"

log="$out/server.log"
./torchlight serve --model-repository "$repo" --http-port 0 --grpc-port 0 --metrics-port 0 --management-port 0 \
  --key-file "$out/keys.json" --access-log off >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true' EXIT
url=$(await_server "$log" "$server")
management=$(grep -Eo 'management on http://[0-9.]+:[0-9]+' "$log" | head -n 1 | sed 's/^management on //')
grpc=$(grep -Eo 'gRPC \(KServe v2\) on [0-9.]+:[0-9]+' "$log" | head -n 1 | sed 's/.* on //')
metrics=$(grep -Eo 'metrics on http://[0-9.:]+/metrics' "$log" | head -n 1 | sed 's/^metrics on //')
key=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["management"])' "$out/keys.json")
auth=(-H "Authorization: Bearer $key")
# The inference port's responses so far (readiness polls), so that the report can check that it answered
# each request of the run exactly once.
curl -fs -o "$out/metrics-start.txt" "$metrics"
say "server $server on $url (gRPC $grpc, management $management); $minutes minutes"

# --- the load -------------------------------------------------------------------------------------------
rate() { echo $(( $1 * scale )); }
load() { # name, then the bench arguments
  local name=$1; shift
  # A generator that cannot even read the model's metadata (its connect starved on a busy machine)
  # tries again, up to three times; one that got going runs its whole course once.
  (for _ in 1 2 3; do
     ./torchlight bench --warmup 30s --duration "${minutes}m" --timeout 10s --json "$out/load-$name.json" "$@" \
       >"$out/load-$name.out" 2>&1 && exit 0
     grep -q 'cannot read the metadata' "$out/load-$name.out" || exit 1
     sleep 5
   done; exit 1) &
  sleep 3 # one JVM starting at a time: six at once starve each other's connects on a small machine
}
load v2-json        --url "$url" --model mlp --protocol v2-json --rate "$(rate 100)"
load v2-binary      --url "$url" --model mlp --protocol v2-binary --rate "$(rate 100)"
load grpc           --url "http://$grpc" --model mlp --protocol grpc --rate "$(rate 100)"
load grpc-stream    --url "http://$grpc" --model mlp --protocol grpc-stream --rate "$(rate 100)"
load torchserve     --url "$url" --model mlp --protocol torchserve --rate "$(rate 50)"
load images         --url "$url" --model classifier --protocol torchserve --image-dir "$images" --rate "$(rate 5)"

# --- swaps, management calls and samples, on one clock ---------------------------------------------------
printf 'seconds\trss_bytes\theap_bytes\theap_committed_bytes\tdirect_bytes\tthreads\tfds\n' >"$out/samples.tsv"
printf 'seconds\tversion\tstatus\n' >"$out/swaps.tsv"
printf 'seconds\tcall\tstatus\n' >"$out/management.tsv"
metric() { awk -v m="$1" 'index($0, m) == 1 { printf "%.0f", $NF; exit }' "$out/metrics.txt"; }
sample() {
  local rss threads fds
  rss=$(awk '/^VmRSS:/ { printf "%.0f", $2 * 1024 }' "/proc/$server/status")
  threads=$(awk '/^Threads:/ { print $2 }' "/proc/$server/status")
  fds=$(find "/proc/$server/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  curl -fs -o "$out/metrics.txt" "$metrics" || : >"$out/metrics.txt"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$rss" "$(metric 'jvm_memory_used_bytes{area="heap"}')" \
    "$(metric 'jvm_memory_committed_bytes{area="heap"}')" \
    "$(metric 'jvm_buffer_pool_used_bytes{pool="direct"}')" "$threads" "$fds" >>"$out/samples.tsv"
}
calls=("GET $management/models" "GET $management/models/mlp" "POST $management/v2/repository/index"
       "GET $url/v2/models/mlp/stats" "GET $url/v2/models/classifier" "GET $url/v2/health/ready")
version=1
start=$(date +%s)
end=$((start + 30 + minutes * 60)) # the generators warm up for 30 s first
tick=0
while (( $(date +%s) < end )); do
  now=$(( $(date +%s) - start ))
  (( tick % 2 == 0 )) && sample "$now"
  if (( tick > 0 && tick % 12 == 0 )); then
    version=$((version + 1))
    mkdir -p "$repo/mlp/$version"
    cp models/mlp/1/model.pt "$repo/mlp/$version/"
    status=$(curl -s -o "$out/swap-last.json" -w '%{http_code}' -X POST "${auth[@]}" \
      "$management/v2/repository/models/mlp/load" || echo 000)
    printf '%s\t%s\t%s\n' "$now" "$version" "$status" >>"$out/swaps.tsv"
    [[ $status == 200 ]] || say "swap to version $version answered $status: $(cat "$out/swap-last.json")"
    rm -rf "$repo/mlp/$((version - 1))"
  else
    read -r method call <<<"${calls[$((tick % ${#calls[@]}))]}"
    status=$(curl -s -o /dev/null -w '%{http_code}' -X "$method" "${auth[@]}" "$call" || echo 000)
    printf '%s\t%s %s\t%s\n' "$now" "$method" "${call#http://}" "$status" >>"$out/management.tsv"
  fi
  tick=$((tick + 1))
  sleep 5
done
sample "$(( $(date +%s) - start ))"

say "waiting for the load generators"
for job in $(jobs -p); do
  [[ $job == "$server" ]] || wait "$job" || say "a load generator exited with an error (see $out/load-*.out)"
done
curl -fs -o "$out/metrics-end.txt" "$metrics" || true
kill "$server"; wait "$server" 2>/dev/null || true
trap - EXIT
/usr/bin/python3 bench/soak_report.py "$out" "$warmup_minutes"
