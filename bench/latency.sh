#!/usr/bin/env bash
# Measures what the server adds to one request, as docs/PERFORMANCE.md reports it ("Latency: the
# hand-offs"), for one or more server jars side by side, in interleaved rounds:
#
#   bench/latency.sh                          # the jar of this checkout, 3 rounds
#   bench/latency.sh old.jar new.jar          # A/B: each round runs every jar in turn
#   LATENCY_ROUNDS=5 bench/latency.sh ...
#
# Per round and jar it starts `torchlight serve --models mlp,risk` on free ports (defaults otherwise:
# access log and metrics on), then measures
#   - overhead: the demo mlp over v2 JSON, one request at a time (concurrency 1); the server's p50 minus
#     the raw engine's p50 at batch 1 (measured once, first, with no server running);
#   - CPU per request: the demo mlp over v2 JSON at a fixed 1,000 requests/s (and GET /v2/health/live at the
#     same rate, the transport alone) and the risk model at 500/s
#     (open loop; its engine is then under half busy on a 2-core machine), from the server process's own
#     CPU time (/proc/PID/stat) over the measured 10 s, divided by the requests answered; per thread
#     (event loop, instance, other) from /proc/PID/task/*/stat; and the engine's own time per run in the
#     same window, from the server's statistics (compute_infer).
# Results: one JSON per bench run and a summary table in $LATENCY_RESULTS (default
# bench/results/latency-<date>), the table also on stdout. The models come from tools/make_bench_models.py
# (bench/models; BENCH_MODELS overrides). Run it on an otherwise idle machine.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=bench/server.sh
. "$root/bench/server.sh"
rounds=${LATENCY_ROUNDS:-3}
models=${BENCH_MODELS:-bench/models}
out=${LATENCY_RESULTS:-bench/results/latency-$(date -u +%Y-%m-%d)}
# Open-loop rates: the demo mlp at 1,000/s; the risk model where its engine is under half busy.
mlp_rate=${LATENCY_MLP_RATE:-1000}
risk_rate=${LATENCY_RISK_RATE:-500}
duration=${LATENCY_DURATION:-10s}
mkdir -p "$out"

say() { echo "latency.sh: $*" >&2; }

if [ ! -f "$models/risk/1/model.pt" ] || [ ! -d "$models/mlp" ]; then
  say "making the workload models in $models"
  "$(tools/python-env.sh)" tools/make_bench_models.py --out "$models"
fi
./torchlight --help >/dev/null # builds the jar when the sources are newer
jars=("$@")
[ ${#jars[@]} -eq 0 ] && jars=("$root/server/target/torchlight.jar")
# shellcheck source=tools/find_jdk.sh
. "$root/tools/find_jdk.sh"
find_jdk
java="$JAVA_HOME/bin/java"
tick=$(getconf CLK_TCK)

bench() { # bench NAME ARGS...: the load generator of this checkout, writing $out/NAME.json
  local name=$1; shift
  ./torchlight bench "$@" --json "$out/$name.json" >/dev/null 2>"$out/$name.log" \
    || { say "$name failed"; tail -5 "$out/$name.log" >&2; }
}
field() { # field FILE KEY: the first result's value of KEY in a bench JSON
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0][sys.argv[2]])' "$1" "$2"
}
cpu_ticks() { # total utime+stime of a process, in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}
thread_ticks() { # per thread name (digits folded): utime+stime, in clock ticks
  for t in /proc/"$1"/task/*; do
    name=$(tr -d '\n' <"$t/comm" | tr ' ' '_' | sed 's/[0-9]\+/N/g')
    echo "$name $(awk '{print $14 + $15}' "$t/stat")"
  done | awk '{sum[$1] += $NF} END {for (n in sum) print n, sum[n]}' | sort
}

say "raw engine, batch 1, one thread (no server running)"
bench raw-mlp --raw --model-repository "$models" --model mlp --batch-sizes 1 --threads 1 --warmup 2s --duration "$duration"
bench raw-risk --raw --model-repository "$models" --model risk --batch-sizes 1 --threads 1 --warmup 2s --duration "$duration"
raw_mlp=$(field "$out/raw-mlp.json" p50_ms)
raw_risk=$(field "$out/raw-risk.json" p50_ms)

summary="$out/summary.tsv"
printf 'round\tjar\thealth_c1_p50_ms\tmlp_c1_p50_ms\toverhead_us\tin_server_us(queue,compute)\thealth_rate_cpu_us\tmlp_rate_cpu_us\tmlp_compute_us\trisk_rate_cpu_us\trisk_compute_us\trisk_p50_ms\tmlp_threads_us\n' >"$summary"
for round in $(seq 1 "$rounds"); do
  for i in "${!jars[@]}"; do
    jar=${jars[$i]}
    tag="r$round-j$i"
    log="$out/$tag-server.log"
    say "round $round, jar $i: $jar"
    "$java" --enable-native-access=ALL-UNNAMED -jar "$jar" serve \
      --model-repository "$models" --models mlp,risk --http-port 0 --grpc-port 0 --metrics-port 0 \
      --management-port 0 --access-log "$out/$tag-access.log" >"$log" 2>&1 &
    pid=$!
    url=$(await_server "$log" "$pid")
    bench "$tag-health-c1" --url "$url" --protocol health --concurrency 1 --warmup 2s --duration "$duration"
    bench "$tag-mlp-c1" --url "$url" --model mlp --concurrency 1 --warmup 5s --duration "$duration"
    # The server's own view of those requests (access log): arrival to reply written, and its parts.
    grep '"path":"/v2/models/mlp/infer"' "$out/$tag-access.log" | tail -n "$(field "$out/$tag-mlp-c1.json" requests)" \
      | /usr/bin/python3 -c 'import json,sys,statistics as s
rows=[json.loads(l) for l in sys.stdin]
med=lambda k: s.median(r[k] for r in rows)
print("%.0f\t%.0f\t%.0f" % (med("duration_us"), med("queue_us"), med("compute_us")))' >"$out/$tag-mlp-c1-server"
    for model in risk mlp health; do
      rate=$mlp_rate; [ "$model" = risk ] && rate=$risk_rate
      protocol=v2-json; [ "$model" = health ] && protocol=health
      bench "$tag-$model-warm" --url "$url" --model "$model" --protocol "$protocol" --rate "$rate" --warmup 15s \
        --duration 2s
      before=$(cpu_ticks "$pid"); thread_ticks "$pid" >"$out/$tag-$model-threads-before"
      stats_before=$(curl -fs "$url/v2/models/$model/stats" || echo null)
      bench "$tag-$model-rate" --url "$url" --model "$model" --protocol "$protocol" --rate "$rate" --warmup 0s \
        --duration "$duration"
      after=$(cpu_ticks "$pid"); thread_ticks "$pid" >"$out/$tag-$model-threads-after"
      stats_after=$(curl -fs "$url/v2/models/$model/stats" || echo null)
      # The engine's own time per run in that window, from the server's statistics.
      /usr/bin/python3 -c 'import json,sys
c=lambda t: json.loads(t)["model_stats"][0]["inference_stats"]["compute_infer"] if t != "null" else None
a,b=c(sys.argv[1]),c(sys.argv[2])
print("%.0f" % ((b["ns"]-a["ns"])/max(1,b["count"]-a["count"])/1000) if a else "-")' "$stats_before" "$stats_after" \
        >"$out/$tag-$model-compute"
      n=$(field "$out/$tag-$model-rate.json" requests)
      echo "$(( (after - before) ))" >"$out/$tag-$model-ticks"
      echo "$n" >"$out/$tag-$model-count"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -f "$out/$tag-access.log" # tens of MB; its numbers are in $tag-mlp-c1-server
    c1=$(field "$out/$tag-mlp-c1.json" p50_ms)
    health=$(field "$out/$tag-health-c1.json" p50_ms)
    inserver=$(awk -F'\t' '{printf "%s(%s,%s)", $1, $2, $3}' "$out/$tag-mlp-c1-server")
    risk_n=$(cat "$out/$tag-risk-count"); mlp_n=$(cat "$out/$tag-mlp-count")
    risk_cpu=$(awk -v t="$(cat "$out/$tag-risk-ticks")" -v n="$risk_n" -v k="$tick" 'BEGIN {printf "%.1f", t / k / n * 1e6}')
    mlp_cpu=$(awk -v t="$(cat "$out/$tag-mlp-ticks")" -v n="$mlp_n" -v k="$tick" 'BEGIN {printf "%.1f", t / k / n * 1e6}')
    health_n=$(cat "$out/$tag-health-count")
    health_cpu=$(awk -v t="$(cat "$out/$tag-health-ticks")" -v n="$health_n" -v k="$tick" 'BEGIN {printf "%.1f", t / k / n * 1e6}')
    threads=$(join "$out/$tag-mlp-threads-before" "$out/$tag-mlp-threads-after" \
      | awk -v n="$mlp_n" -v k="$tick" '{d = ($3 - $2) / k / n * 1e6; if (d >= 0.5) printf "%s=%.0f ", $1, d}')
    risk_p50=$(field "$out/$tag-risk-rate.json" p50_ms)
    overhead=$(awk -v a="$c1" -v b="$raw_mlp" 'BEGIN {printf "%.0f", (a - b) * 1000}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$jar" "$health" "$c1" "$overhead" \
      "$inserver" "$health_cpu" "$mlp_cpu" "$(cat "$out/$tag-mlp-compute")" "$risk_cpu" "$(cat "$out/$tag-risk-compute")" "$risk_p50" "$threads" \
      >>"$summary"
  done
done
echo "raw engine p50 at batch 1: mlp $raw_mlp ms, risk $raw_risk ms"
column -t -s $'\t' "$summary"
