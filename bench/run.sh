#!/usr/bin/env bash
# Reproduces the numbers in docs/PERFORMANCE.md on this machine, from the repository root:
#
#   bench/run.sh                 # the full run (about 27 minutes)
#   BENCH_QUICK=1 bench/run.sh   # every step with short runs: a smoke test, not numbers to publish
#
# It builds torchlight, makes the workload models (tools/make_bench_models.py, the project's Python environment),
# measures the raw engine, then starts `torchlight serve` on free ports once per group of models (the risk
# models together, each ResNet-50 variant alone) and measures it over HTTP (JSON and binary tensors) and
# gRPC (unary and streaming), and writes
#   bench/results/<date>-<host>/<run>.json|.csv   one file per bench run
#   bench/results/<date>-<host>/<workload>/index.html   server next to raw engine, as charts
#   bench/results/<date>-<host>.json              every run combined
#   bench/results/<date>-<host>.md                the tables for docs/PERFORMANCE.md
#
# Settings (environment): BENCH_WARMUP, BENCH_DURATION (default 2s, 10s; the fixed-rate runs warm up 15s), BENCH_RESNET_DURATION (5s),
# BENCH_START_TIMEOUT (seconds to wait for the server, 300), BENCH_RESULTS (bench/results).
# Run it on an otherwise idle machine: the server, the load generator and the raw engine share its cores.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
  warmup=${BENCH_WARMUP:-500ms}; duration=${BENCH_DURATION:-1s}; resnet_duration=${BENCH_RESNET_DURATION:-1s}
  risk_concurrency=1,8,64; risk_batches=1,64; risk_rates=2000; rate_warmup=1s
  resnet_concurrency=1,2; resnet_batches=1,2
else
  warmup=${BENCH_WARMUP:-2s}; duration=${BENCH_DURATION:-10s}; resnet_duration=${BENCH_RESNET_DURATION:-5s}
  risk_concurrency=1,2,4,8,16,32,64; risk_batches=1,8,16,32,64; risk_rates=2000,4000,6000; rate_warmup=15s
  resnet_concurrency=1,2,4,8,16; resnet_batches=1,2,4,8,16,32
fi
start_timeout=${BENCH_START_TIMEOUT:-300}
models=bench/models
work=bench/work
results=${BENCH_RESULTS:-bench/results}
run_name="$(date -u +%Y-%m-%d)-$(uname -n | cut -d. -f1)"
out="$results/$run_name"
failed=()

say() { echo "run.sh: $*" >&2; }

# --- build (the launcher rebuilds server/target/torchlight.jar when sources are newer) and models ---
say "building torchlight"
./torchlight --help >/dev/null
jar="$root/server/target/torchlight.jar"
say "making the workload models in $models"
"$(tools/python-env.sh)" tools/make_bench_models.py --out "$models"
mkdir -p "$out" "$work"

# The same JDK the launcher picks, for the tools run from the jar below.
# shellcheck source=tools/find_jdk.sh
. "$root/tools/find_jdk.sh"
find_jdk
java="$JAVA_HOME/bin/java"

# bench NAME ARGS...: one `torchlight bench` run writing $out/NAME.json and .csv; a failure is noted, not fatal,
# so that the runs that worked still make it into the tables.
bench() {
  local name=$1; shift
  say "$name: torchlight bench $*"
  if ! ./torchlight bench "$@" --warmup "${run_warmup:-$warmup}" --json "$out/$name.json" --csv "$out/$name.csv"; then
    say "$name: FAILED (partial results, if any, are in $out/$name.json)"
    failed+=("$name")
  fi
}
raw() { # raw NAME MODEL BATCH_SIZES DURATION
  bench "$1" --raw --model-repository "$models" --model "$2" --batch-sizes "$3" --threads 1 --duration "$4"
}
server() { # server NAME MODEL CONCURRENCY DURATION
  bench "$1" --url "$url" --model "$2" --protocol v2-json --concurrency "$3" --duration "$4"
  # The server's own view (batch sizes formed, queue vs compute time), for the batching tables.
  mkdir -p "$out/stats"
  curl -fs "$url/v2/models/$2/stats" >"$out/stats/$1.json" || rm -f "$out/stats/$1.json"
}
images() { # images NAME MODEL CONCURRENCY DURATION: real JPEG files to an image_classifier model
  bench "$1" --url "$url" --model "$2" --protocol torchserve --image-dir "$work/images" --concurrency "$3" --duration "$4"
  mkdir -p "$out/stats"
  curl -fs "$url/v2/models/$2/stats" >"$out/stats/$1.json" || rm -f "$out/stats/$1.json"
}
# The committed test photographs (testdata/images/README.md), the whole JPEGs only.
mkdir -p "$work/images"
cp testdata/images/rocket.jpg testdata/images/coffee.jpg "$work/images/"

# --- the raw engine first, while no server competes for the cores ---
raw overhead-raw mlp 1 "$duration"
raw risk-raw risk "$risk_batches" "$duration"
raw resnet50-raw resnet50 "$resnet_batches" "$resnet_duration"

# --- the server: one `torchlight serve` per group of models ---
# The instances of all models in one process share its cores (README, "instance_group"), so a
# heavy model that should have every core, as the raw engine has, is served on its own: the risk
# models together, then each ResNet-50 variant alone.
log="$work/server.log"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

start_server() { # start_server MODEL[,MODEL...]: serves them on free ports; sets url and grpc_url
  say "starting torchlight serve --models $1 (log: $log)"
  ./torchlight serve --model-repository "$models" --models "$1" --http-port 0 --grpc-port 0 >"$log" 2>&1 &
  server_pid=$!
  local deadline=$((SECONDS + start_timeout))
  url=""
  until [ -n "$url" ] && curl -fs -o /dev/null "$url/v2/health/ready"; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      say "the server exited before it was ready; the end of its log:"; tail -n 30 "$log" >&2; exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "the server was not ready within ${start_timeout}s; the end of its log:"; tail -n 30 "$log" >&2; exit 1
    fi
    if [ -z "$url" ]; then
      # "... on http://127.0.0.1:PORT" once the listener is bound.
      url="$(grep -Eo 'on http://[0-9.]+:[0-9]+' "$log" | head -n 1 | sed 's/^on //' || true)"
    fi
    sleep 0.5
  done
  # "gRPC (KServe v2) on 127.0.0.1:PORT": gRPC is plaintext HTTP/2, so the bench takes it as an http:// URL.
  grpc_url="http://$(grep -Eo 'gRPC \(KServe v2\) on [0-9.]+:[0-9]+' "$log" | head -n 1 | sed 's/.* on //')"
  say "server ready at $url (gRPC $grpc_url)"
}
protocol() { # protocol NAME MODEL PROTOCOL CONCURRENCY DURATION: the same model over another wire protocol
  local target=$url
  case $3 in grpc*) target=$grpc_url ;; esac
  bench "$1" --url "$target" --model "$2" --protocol "$3" --concurrency "$4" --duration "$5"
  mkdir -p "$out/stats"
  curl -fs "$url/v2/models/$2/stats" >"$out/stats/$1.json" || rm -f "$out/stats/$1.json"
}

start_server mlp,risk,risk_batched
server overhead-server mlp 1 "$duration"
# Dynamic batching off and on for the same model file, in the same server run.
server risk-server risk "$risk_concurrency" "$duration"
server risk-batched-server risk_batched "$risk_concurrency" "$duration"
# The same workload over binary REST and gRPC (unary and streaming), next to JSON (above) and raw.
for p in v2-binary grpc grpc-stream; do
  protocol "risk-$p-server" risk "$p" "$risk_concurrency" "$duration"
done
# Open loop at fixed offered rates: each protocol's latency at the same throughput. A longer warm-up:
# on 2 cores the load generator's JIT needs about 20 s to settle (gRPC's client code most), and an
# open loop that falls behind while compiling measures its own backlog, not the server.
for p in v2-json v2-binary grpc; do
  infix="-$p"; [ "$p" = v2-json ] && infix=""
  target=$url; [ "$p" = grpc ] && target=$grpc_url
  run_warmup=$rate_warmup bench "risk-rate$infix-server" --url "$target" --model risk --protocol "$p" \
    --rate "$risk_rates" --connections 64 --duration "$duration"
done
stop_server

# ResNet-50, one image per request, every protocol: without batching, then with it.
start_server resnet50
server resnet50-server resnet50 "$resnet_concurrency" "$resnet_duration"
for p in v2-binary grpc grpc-stream; do
  protocol "resnet50-$p-server" resnet50 "$p" "$resnet_concurrency" "$resnet_duration"
done
stop_server
start_server resnet50_batched
server resnet50-batched-server resnet50_batched "$resnet_concurrency" "$resnet_duration"
for p in v2-binary grpc grpc-stream; do
  protocol "resnet50-batched-$p-server" resnet50_batched "$p" "$resnet_concurrency" "$resnet_duration"
done
stop_server

# ResNet-50 with JPEG requests: decoding and preprocessing in the server, next to the tensor runs.
start_server resnet50_jpeg
images resnet50-jpeg-server resnet50_jpeg "$resnet_concurrency" "$resnet_duration"
stop_server

# --- combine: reports, the combined JSON and the markdown tables ---
for workload in overhead risk resnet50 risk-batched resnet50-batched resnet50-jpeg; do
  files=()
  base="${workload%-batched}"; base="${base%-jpeg}"
  for f in "$out/$workload-server.json" "$out/$base-raw.json"; do [ -f "$f" ] && files+=("$f"); done
  if [ "${#files[@]}" -gt 0 ]; then
    "$java" -cp "$jar" dev.torchlight.bench.report.HtmlReport "$out/$workload" "${files[@]}" >&2
  fi
done
for workload in risk resnet50 resnet50-batched; do
  files=()
  base="${workload%-batched}"
  for f in "$out/$workload-server.json" "$out/$workload"-{v2-binary,grpc,grpc-stream}-server.json "$out/$base-raw.json"; do
    [ -f "$f" ] && files+=("$f")
  done
  if [ "${#files[@]}" -gt 0 ]; then
    "$java" -cp "$jar" dev.torchlight.bench.report.HtmlReport "$out/$workload-protocols" "${files[@]}" >&2
  fi
done
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit (with uncommitted changes)"; fi
command="bench/run.sh"
[ "${BENCH_QUICK:-0}" = 1 ] && command="BENCH_QUICK=1 $command"
"$java" -cp "$jar" dev.torchlight.bench.output.PerformanceTables "$out" --commit "$commit" --command "$command" >&2

if [ "${#failed[@]}" -gt 0 ]; then
  say "these runs failed: ${failed[*]}"
  exit 1
fi
say "done: $results/$run_name.md"
