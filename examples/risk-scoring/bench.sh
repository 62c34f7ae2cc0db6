#!/usr/bin/env bash
# The risk-scoring benchmark: the highest rate of transactions per second at which the p99 stays within
# the objective (8 ms), replaying the recorded stream open loop, for
#   risk          FP32, latency-target batching (dynamic_batching: {latency_target_ms: 8})
#   risk_nobatch  FP32, every request alone
#   risk_int8     INT8 (dynamic quantization), latency-target batching
#   raw           the engine in-process, no server (bench --raw on the same rows, batch 1..64): the limit
#
#   examples/risk-scoring/bench.sh                    # 3 interleaved rounds (about 10 minutes)
#   RISK_QUICK=1 examples/risk-scoring/bench.sh       # 1 round (about 4 minutes): a check of the set-up
#
# Each model is served by its own `torchlight serve` (as a service would run it), all started once; each
# round benches them in a rotated order, over gRPC (unary), then the batched model over REST (v2 JSON)
# too, each run a rising --rate ladder that stops at the first rate above the objective or with errors
# (--stop-above-p99). A rate passes when its median p99 over the rounds is within the objective with no
# errors (a rate a round did not reach counts as a miss). Results go to
# examples/risk-scoring/results/<date>/: every run's JSON, rows.tsv (every level of every run) and
# summary.md (the table for the README), printed at the end.
#
# Environment: RISK_ROUNDS (3), RISK_RATES (500,1000,2000,3000,4000,...,24000), RISK_FIRST_WARMUP (15s, the first
# rate of each run), RISK_WARMUP (1s, every other rate), RISK_DURATION (2s),
# RISK_OBJECTIVE_MS (8), RISK_PROTOCOLS (grpc: every model; v2-json: the batched one too), RISK_WORK (the
# example's work/ folder, made by make_model.py when missing), RISK_RESULTS (the results folder).
# Run it on an otherwise idle machine: the servers, the load generator and the raw engine share the cores.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
# shellcheck source=bench/server.sh
. "$root/bench/server.sh"

# The first level of each run warms up for 15 s: a fresh load generator and the server's request path
# need that long to compile on 2 cores (with 5 s, 500/s still ran seconds behind), and an open loop that
# falls behind meanwhile measures its own backlog. The later levels need only a second each.
rounds=${RISK_ROUNDS:-3}; first_warmup=${RISK_FIRST_WARMUP:-15s}; warmup=${RISK_WARMUP:-1s}; duration=${RISK_DURATION:-2s}
rates=${RISK_RATES:-500,1000,2000,3000,4000,6000,8000,12000,16000,24000}
[ "${RISK_QUICK:-0}" = 1 ] && rounds=${RISK_ROUNDS:-1}
raw_batches=1,4,16,64
objective=${RISK_OBJECTIVE_MS:-8}
work=${RISK_WORK:-$here/work}
out=${RISK_RESULTS:-$here/results/$(date -u +%Y-%m-%d)}
models=(risk risk_nobatch risk_int8)

say() { echo "bench.sh: $*" >&2; }

if [ ! -f "$work/stream.jsonl" ] || [ ! -f "$work/models/risk_int8/1/model.pt" ]; then
  say "making the model and the recorded stream in $work"
  "$(tools/python-env.sh)" "$here/make_model.py" --out "$work"
fi
./torchlight --help >/dev/null # builds the jar when the sources are newer
mkdir -p "$out"
stream="$work/stream.jsonl"

# --- one server per model, on free ports, for the whole run ---
declare -A url grpc pid
stop_servers() {
  for m in "${!pid[@]}"; do kill "${pid[$m]}" 2>/dev/null || true; done
  for m in "${!pid[@]}"; do wait "${pid[$m]}" 2>/dev/null || true; done
  rm -f "$out"/access-*.log
}
trap stop_servers EXIT
trap 'exit 130' INT TERM
for m in "${models[@]}"; do
  log="$out/server-$m.log"
  ./torchlight serve --model-repository "$work/models" --models "$m" --http-port 0 --grpc-port 0 \
    --metrics-port 0 --management-port 0 --access-log "$out/access-$m.log" >"$log" 2>&1 &
  pid[$m]=$!
  url[$m]=$(await_server "$log" "${pid[$m]}")
  # "gRPC (KServe v2) on 127.0.0.1:PORT": plaintext HTTP/2, which the bench takes as an http:// URL.
  grpc[$m]="http://$(grep -Eo 'gRPC \(KServe v2\) on [0-9.]+:[0-9]+' "$log" | head -n 1 | sed 's/.* on //')"
  say "$m: ${url[$m]} (gRPC ${grpc[$m]}, pid ${pid[$m]})"
done

# run NAME ARGS...: one torchlight bench run into $out/NAME.json; a failure is noted, not fatal.
run() {
  local name=$1; shift
  say "$name"
  ./torchlight bench "$@" --json "$out/$name.json" >/dev/null 2>"$out/$name.log" \
    || say "$name: torchlight bench failed (see $out/$name.log)"
}
# What each round runs: "model protocol" for the servers, "raw model" for the engine alone.
runs=()
for p in ${RISK_PROTOCOLS:-grpc v2-json}; do
  for m in "${models[@]}"; do
    # By default REST runs for the batched model only: the protocol's cost, not every variant again.
    if [ -n "${RISK_PROTOCOLS:-}" ] || [ "$p" = grpc ] || [ "$m" = risk ]; then
      runs+=("$m $p")
    fi
  done
done
runs+=("raw risk" "raw risk_int8")

for round in $(seq 1 "$rounds"); do
  n=${#runs[@]}
  for i in $(seq 0 $((n - 1))); do
    read -r a b <<<"${runs[$(((i + round - 1) % n))]}"
    if [ "$a" = raw ]; then
      # The engine's time per call is steady: a second of warm-up and two measured per batch size.
      run "r$round-raw-$b" --raw --model-repository "$work/models" --model "$b" --batch-sizes "$raw_batches" \
        --threads 1 --replay "$stream" --warmup 1s --duration 2s
    else
      target=${url[$a]}
      case $b in grpc*) target=${grpc[$a]} ;; esac
      run "r$round-$a-$b" --url "$target" --model "$a" --protocol "$b" --replay "$stream" --rate "$rates" \
        --stop-above-p99 "$objective" --first-warmup "$first_warmup" --warmup "$warmup" --duration "$duration"
    fi
  done
done
for m in "${models[@]}"; do
  curl -fs "${url[$m]}/v2/models/$m/stats" >"$out/stats-$m.json" || true
done

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit (with uncommitted changes)"
cpu="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
command="examples/risk-scoring/bench.sh"
[ "${RISK_QUICK:-0}" = 1 ] && command="RISK_QUICK=1 $command"
/usr/bin/python3 "$here/summarize.py" "$out" --objective "$objective" --rates "$rates" --rounds "$rounds" \
  --commit "$commit" --cpu "$cpu" --cores "$(nproc)" --command "$command" --agreement "$work/agreement.json"
say "done: $out/summary.md"
