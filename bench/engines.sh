#!/usr/bin/env bash
# Compares engines and model formats in one run, as docs/PERFORMANCE.md reports them ("The libtorch
# engine"), in interleaved rounds so that the machine's drift hits every variant alike:
#
#   bench/engines.sh                 # 3 rounds
#   ENGINES_ROUNDS=5 bench/engines.sh
#
# Per round:
#   - for each engine in $ENGINES (default: libtorch; each is started with -Dtorchlight.engine=NAME,
#     which the builds that carried DJL read to pick it; today's build has one engine and ignores it,
#     so the DJL comparison cannot be repeated on it): the demo model's time from `./torchlight serve` to ready
#     (the launcher's class data sharing archive made by an earlier run) and the server's resident
#     memory after a second of requests; then `serve --models mlp,risk,risk_batched` measured
#     over v2 JSON: mlp at concurrency 1 (server overhead), risk unbatched at concurrency 1 and 64,
#     risk_batched at concurrency 64 with the server's CPU time per request (/proc/PID/stat); then
#     resnet50 and resnet50_batched alone, each at concurrency 1 and 8;
#   - the raw engine (no server): TorchScript against AOTInductor (risk vs risk_aoti, resnet50 vs
#     resnet50_aoti) and frozen against unfrozen TorchScript (risk vs risk_unfrozen, resnet50 vs
#     resnet50_unfrozen).
# Results: one JSON per bench run, summary.tsv (one row per measurement and round) and medians.tsv
# in $ENGINES_RESULTS (default bench/results/engines-<date>), the medians also on stdout. The models
# come from tools/make_bench_models.py (bench/models; BENCH_MODELS overrides). Run it on an otherwise
# idle machine.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds=${ENGINES_ROUNDS:-3}
read -r -a engines <<<"${ENGINES:-libtorch}"
models=${BENCH_MODELS:-bench/models}
out=${ENGINES_RESULTS:-bench/results/engines-$(date -u +%Y-%m-%d)}
duration=${ENGINES_DURATION:-10s}
resnet_duration=${ENGINES_RESNET_DURATION:-5s}
mkdir -p "$out"

say() { echo "engines.sh: $*" >&2; }

./torchlight --help >/dev/null # builds the jar when the sources are newer
py=$(tools/python-env.sh)
"$py" tools/make_bench_models.py --out "$models" >&2
tick=$(getconf CLK_TCK)
summary="$out/summary.tsv"
printf 'round\tvariant\tmeasure\tvalue\n' >"$summary"

record() { printf '%s\t%s\t%s\t%s\n' "$round" "$1" "$2" "$3" >>"$summary"; }
bench() { # bench NAME ARGS...: the load generator, writing $out/NAME.json
  local name=$1; shift
  ./torchlight bench "$@" --json "$out/$name.json" >/dev/null 2>"$out/$name.log" \
    || { say "$name failed"; tail -5 "$out/$name.log" >&2; }
}
field() { # field FILE KEY [INDEX]: a result's value of KEY in a bench JSON
  "$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][int(sys.argv[3])][sys.argv[2]])' \
    "$1" "$2" "${3:-0}" 2>/dev/null || echo nan
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

raw_bench() { # raw_bench DURATION BATCH MODEL...: the raw engine at batch 1 and BATCH, recorded for this round
  local duration=$1 batch=$2 model; shift 2
  for model; do
    bench "r$round-raw-$model" --raw --model-repository "$models" --model "$model" --batch-sizes "1,$batch" \
      --threads 1 --warmup 2s --duration "$duration"
    record raw "${model}_b1_rps" "$(field "$out/r$round-raw-$model.json" throughput_rps 0)"
    record raw "${model}_b${batch}_items_s" "$(field "$out/r$round-raw-$model.json" items_per_s 1)"
  done
}

pid=""
stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  pid=""
}
trap stop EXIT
trap 'exit 130' INT TERM

serve() { # serve ENGINE LOG MODELS...: starts the server as the README does, waits until ready; sets pid, url, ready_ms
  local engine=$1 log=$2; shift 2
  local start; start=$(date +%s%N)
  JAVA_OPTS="-Dtorchlight.engine=$engine" ./torchlight serve \
    --model-repository "$models" --models "$(IFS=,; echo "$*")" --http-port 0 --grpc-port 0 --metrics-port 0 \
    --management-port 0 --no-access-log >"$log" 2>&1 &
  pid=$!
  url=""
  for _ in $(seq 1 6000); do
    kill -0 "$pid" 2>/dev/null || { say "the server exited; the end of $log:"; tail -20 "$log" >&2; exit 1; }
    [ -z "$url" ] && url="$(grep -Eo 'on http://[0-9.]+:[0-9]+' "$log" | head -n 1 | sed 's/^on //' || true)"
    [ -n "$url" ] && curl -fs -o /dev/null "$url/v2/health/ready" && break
    sleep 0.05
  done
  ready_ms=$(( ($(date +%s%N) - start) / 1000000 ))
}

for round in $(seq 1 "$rounds"); do
  for engine in "${engines[@]}"; do
    tag="r$round-$engine"
    say "round $round, engine $engine"
    serve "$engine" "$out/$tag-demo-server.log" mlp
    record "$engine" demo_ready_ms "$ready_ms"
    bench "$tag-demo" --url "$url" --model mlp --concurrency 1 --warmup 0s --duration 1s
    record "$engine" demo_rss_mib "$(( $(rss_kib "$pid") / 1024 ))"
    stop

    serve "$engine" "$out/$tag-risk-server.log" mlp risk risk_batched
    bench "$tag-mlp-c1" --url "$url" --model mlp --concurrency 1 --warmup 5s --duration "$duration"
    record "$engine" mlp_c1_p50_ms "$(field "$out/$tag-mlp-c1.json" p50_ms)"
    bench "$tag-risk" --url "$url" --model risk --concurrency 1,64 --warmup 2s --duration "$duration"
    record "$engine" risk_c1_rps "$(field "$out/$tag-risk.json" throughput_rps 0)"
    record "$engine" risk_c64_rps "$(field "$out/$tag-risk.json" throughput_rps 1)"
    bench "$tag-risk-batched-warm" --url "$url" --model risk_batched --concurrency 64 --warmup 0s --duration 3s
    before=$(cpu_ticks "$pid")
    bench "$tag-risk-batched" --url "$url" --model risk_batched --concurrency 64 --warmup 0s --duration "$duration"
    after=$(cpu_ticks "$pid")
    n=$(field "$out/$tag-risk-batched.json" requests)
    record "$engine" risk_batched_c64_rps "$(field "$out/$tag-risk-batched.json" throughput_rps)"
    record "$engine" risk_batched_c64_cpu_us "$(awk -v t=$((after - before)) -v n="$n" -v k="$tick" \
      'BEGIN {printf "%.1f", t / k / n * 1e6}')"
    stop

    for model in resnet50 resnet50_batched; do
      serve "$engine" "$out/$tag-$model-server.log" "$model"
      bench "$tag-$model" --url "$url" --model "$model" --concurrency 1,8 --warmup 2s --duration "$resnet_duration"
      record "$engine" "${model}_c1_rps" "$(field "$out/$tag-$model.json" throughput_rps 0)"
      record "$engine" "${model}_c8_rps" "$(field "$out/$tag-$model.json" throughput_rps 1)"
      stop
    done
  done

  # The raw engine: formats and freezing, same batch sizes, one thread as in bench/run.sh.
  raw_bench "$duration" 64 risk risk_aoti risk_unfrozen
  raw_bench "$resnet_duration" 8 resnet50 resnet50_aoti resnet50_unfrozen
done

# Medians per variant and measure over the rounds, and each round's ratios (second engine over the first;
# AOTInductor and unfrozen TorchScript over frozen TorchScript, the default), since the rounds drift together.
"$py" - "$summary" "${engines[@]}" >"$out/medians.tsv" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
engines = sys.argv[2:]
values, by_round = {}, {}
for r in rows:
    try:
        v = float(r["value"])
    except ValueError:
        continue
    values.setdefault((r["measure"], r["variant"]), []).append(v)
    by_round[(r["round"], r["measure"], r["variant"])] = v
med = lambda vs: statistics.median(vs) if vs else float("nan")
print("measure\tvariant\tmedian\trounds")
for (measure, variant), vs in sorted(values.items()):
    print(f"{measure}\t{variant}\t{med(vs):.4g}\t{' '.join(f'{v:.4g}' for v in vs)}")
rounds = sorted({r["round"] for r in rows})
def ratios(num, den):
    out = []
    for rd in rounds:
        a, b = by_round.get((rd,) + num), by_round.get((rd,) + den)
        if a is not None and b:
            out.append(a / b)
    return out
if len(engines) == 2:
    for measure in sorted({m for (m, v) in values if v == engines[1]}):
        rs = ratios((measure, engines[1]), (measure, engines[0]))
        if rs:
            print(f"{measure}\t{engines[1]}/{engines[0]}\t{med(rs):.3f}\t{' '.join(f'{x:.3f}' for x in rs)}")
for measure in sorted({m for (m, v) in values if v == "raw"}):
    for kind in ("_aoti", "_unfrozen"):
        if kind in measure:
            base = measure.replace(kind, "")
            rs = ratios((measure, "raw"), (base, "raw"))
            if rs:
                print(f"{measure}\traw{kind}/frozen\t{med(rs):.3f}\t{' '.join(f'{x:.3f}' for x in rs)}")
EOF
column -t -s $'\t' "$out/medians.tsv"
