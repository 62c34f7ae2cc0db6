#!/usr/bin/env bash
# Latency-target batching against every fixed setting and against AIMD, on the risk model, in one run
# (docs/PERFORMANCE.md, "Batching towards a latency target"):
#
#   bench/batching.sh                    # 3 interleaved rounds (about 30 minutes)
#   BATCHING_ROUNDS=1 BATCHING_DURATION=1s bench/batching.sh   # a quick check of the set-up
#
# It serves the risk model (MLP 256 -> 1024 -> 1024 -> 2, one intra-op thread) once per batching
# setting, all in one server: no batching; max_queue_delay_us 0, 100, 500, 1000, 5000, each without and
# with preferred_batch_sizes [8, 16, 32, 64]; latency_target_ms (BATCHING_TARGET_MS, default 10) with
# the learned policy; and the same target with latency_policy: aimd. Per round, for each load, it
# benches every setting in turn (the order rotates each round): v2 JSON closed loops at concurrency 1, 8
# and 64 (each with the server's CPU time per request, from /proc/PID/stat) and an open-loop ramp
# (2000, 5000, 8000 req/s). Results and summary.tsv / medians.tsv (medians over the rounds) go to
# bench/results/batching-<date>/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=bench/server.sh
. "$root/bench/server.sh"
rounds=${BATCHING_ROUNDS:-3}
duration=${BATCHING_DURATION:-3s}
warmup=${BATCHING_WARMUP:-1s}
target_ms=${BATCHING_TARGET_MS:-10}
rates=${BATCHING_RATES:-2000,5000,8000}
models=${BENCH_MODELS:-bench/models}
out=${BATCHING_RESULTS:-bench/results/batching-$(date -u +%Y-%m-%d)}
repo="$out/models"
mkdir -p "$out"

say() { echo "batching.sh: $*" >&2; }

if [ ! -f "$models/risk/1/model.pt" ]; then
  say "making the workload models in $models"
  "$(tools/python-env.sh)" tools/make_bench_models.py --out "$models"
fi
./torchlight --help >/dev/null # builds the jar when the sources are newer
# shellcheck source=tools/find_jdk.sh
. "$root/tools/find_jdk.sh"
find_jdk
java="$JAVA_HOME/bin/java"

# setting NAME BATCHING: the risk model under another name, with its dynamic_batching (empty: none).
settings=()
setting() {
  local name=$1 batching=$2
  mkdir -p "$repo/$name/1"
  ln -f "$models/risk/1/model.pt" "$repo/$name/1/model.pt" 2>/dev/null || cp "$models/risk/1/model.pt" "$repo/$name/1/model.pt"
  sed "s/^name: risk$/name: $name/" "$models/risk/config.yaml" >"$repo/$name/config.yaml"
  echo "intra_op_threads: 1" >>"$repo/$name/config.yaml"
  [ -n "$batching" ] && echo "dynamic_batching: $batching" >>"$repo/$name/config.yaml"
  settings+=("$name")
}
rm -rf "$repo"
setting none ""
for d in 0 100 500 1000 5000; do
  setting "d$d" "{max_queue_delay_us: $d}"
  setting "d${d}_pref" "{max_queue_delay_us: $d, preferred_batch_sizes: [8, 16, 32, 64]}"
done
setting target "{latency_target_ms: $target_ms}"
setting aimd "{latency_target_ms: $target_ms, latency_policy: aimd}"
names=$(IFS=,; echo "${settings[*]}")

log="$out/server.log"
"$java" --enable-native-access=ALL-UNNAMED -jar server/target/torchlight.jar serve \
  --model-repository "$repo" --models "$names" --http-port 0 --grpc-port 0 --metrics-port 0 \
  --management-port 0 >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$repo"' EXIT
url=$(await_server "$log" "$pid")
say "serving ${#settings[@]} settings at $url (pid $pid)"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
tick=$(getconf CLK_TCK)
printf 'round\tsetting\tload\treq_per_s\tp50_ms\tp99_ms\terrors\tcpu_us_per_req\n' >"$out/summary.tsv"

# run ROUND SETTING LOAD ARGS...: one bench run, a summary line per level
run() {
  local round=$1 name=$2 load=$3; shift 3
  local json="$out/r$round-$name-$load.json" before after
  before=$(cpu_ticks)
  ./torchlight bench --url "$url" --model "$name" --warmup "$warmup" --duration "$duration" "$@" --json "$json" \
    >/dev/null 2>"$out/r$round-$name-$load.log" || { say "$name $load failed"; return 0; }
  after=$(cpu_ticks)
  /usr/bin/python3 - "$json" "$round" "$name" "$load" "$((after - before))" "$tick" >>"$out/summary.tsv" <<'PY'
import json, sys
path, rnd, name, load, ticks, tick = sys.argv[1:]
results = json.load(open(path))["results"]
answered = sum(r["requests"] for r in results)
# CPU over warm-up and measurement, per request measured: comparable across settings, not absolute.
cpu = int(ticks) / int(tick) * 1e6 / max(answered, 1) if len(results) == 1 else float("nan")
for r in results:
    level = load if r["rate"] is None else "rate%d" % r["rate"]
    print("%s\t%s\t%s\t%.0f\t%.3f\t%.3f\t%d\t%.0f" % (rnd, name, level, r["throughput_rps"], r["p50_ms"],
                                                    r["p99_ms"], r["errors"], cpu))
PY
}

for round in $(seq 1 "$rounds"); do
  n=${#settings[@]}
  order=()
  for i in $(seq 0 $((n - 1))); do order+=("${settings[$(((i + round) % n))]}"); done
  for load in c1 c8 c64 ramp; do
    say "round $round: $load"
    for name in "${order[@]}"; do
      case $load in
        ramp) run "$round" "$name" "$load" --rate "$rates" ;;
        *) run "$round" "$name" "$load" --concurrency "${load#c}" ;;
      esac
    done
  done
done
curl -fs "$url/v2/models/target/stats" >"$out/target-stats.json" || true
curl -fs "$url/v2/models/aimd/stats" >"$out/aimd-stats.json" || true

/usr/bin/python3 - "$out" "$target_ms" <<'PY' | tee "$out/medians.tsv"
import csv, statistics, sys
out, target = sys.argv[1], float(sys.argv[2])
rows = list(csv.DictReader(open(out + "/summary.tsv"), delimiter="\t"))
cell = {}
for r in rows:
    cell.setdefault((r["load"], r["setting"]), []).append(r)
med = lambda rs, k: statistics.median(float(r[k]) for r in rs)
loads = sorted({r["load"] for r in rows}, key=lambda l: (l.startswith("rate"), int(l.lstrip("crate"))))
print("load\tsetting\treq_per_s\tp50_ms\tp99_ms\tcpu_us_per_req\terrors\tmeets_target")
for load in loads:
    for (l, name), rs in sorted(cell.items()):
        if l == load:
            p99 = med(rs, "p99_ms")
            print("%s\t%s\t%.0f\t%.3f\t%.3f\t%.0f\t%d\t%s" % (load, name, med(rs, "req_per_s"), med(rs, "p50_ms"), p99,
                  med(rs, "cpu_us_per_req"), sum(int(r["errors"]) for r in rs), "yes" if p99 <= target else "no"))
print()
print("load\tbest_fixed\tbest_fixed_req_per_s\ttarget/best\taimd/best\ttarget_p99_ms\taimd_p99_ms\ttarget_p50/none_p50")
for load in loads:
    fixed = {n: rs for (l, n), rs in cell.items() if l == load and n.startswith("d")}
    ok = {n: rs for n, rs in fixed.items() if med(rs, "p99_ms") <= target} or fixed
    best = max(ok, key=lambda n: med(ok[n], "req_per_s"))
    b = med(ok[best], "req_per_s")
    t, a, none = cell.get((load, "target")), cell.get((load, "aimd")), cell.get((load, "none"))
    if not (t and a and none):
        continue
    # Ratios of the medians over the rounds.
    print("%s\t%s\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f" % (load, best, b, med(t, "req_per_s") / b,
          med(a, "req_per_s") / b, med(t, "p99_ms"), med(a, "p99_ms"), med(t, "p50_ms") / med(none, "p50_ms")))
PY
