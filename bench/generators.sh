#!/usr/bin/env bash
# The load generator judged by itself: two builds of `torchlight bench` (OLD.jar, NEW.jar) each load
# the do-nothing floor server (bench/floor/floor_server.c) at a fixed rate in interleaved rounds, so
# that what one generator adds to the measured latency, and its own CPU per request, can be compared
# on the same machine in the same hour (docs/PERFORMANCE.md, "Waiting for a CPU"):
#
#   bench/generators.sh old.jar new.jar
#   GEN_ROUNDS=5 GEN_RATE=2000 GEN_WARMUP=20 GEN_DURATION=20 bench/generators.sh old.jar new.jar
#   GEN_SCHED=1 bench/generators.sh old.jar new.jar   # also perf sched (root): sched.tsv, as bench/gc.sh's
#
# Per round and jar: p50/p99/p99.9/max (from the generator's JSON) and the generator's CPU per request
# over its measured window (from /proc). Results, summary.tsv and medians.tsv go to
# bench/results/generator-<date>-<time>/ (GEN_RESULTS to choose).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -eq 2 ] || { echo "usage: bench/generators.sh OLD.jar NEW.jar" >&2; exit 2; }
old=$(realpath "$1") new=$(realpath "$2")
cd "$root"
# shellcheck source=bench/server.sh
. "$root/bench/server.sh"
# shellcheck source=tools/find_jdk.sh
. "$root/tools/find_jdk.sh"
find_jdk
rounds=${GEN_ROUNDS:-3} rate=${GEN_RATE:-1000} warmup=${GEN_WARMUP:-20} duration=${GEN_DURATION:-20}
out=${GEN_RESULTS:-bench/results/generator-$(date -u +%Y-%m-%d-%H%M)}
mkdir -p "$out"
cc -O2 -o "$out/floor_server" bench/floor/floor_server.c
# The launcher's JVM options, as `./torchlight bench` would run either jar.
mapfile -t opts < <(grep -v '^#' tools/jvm.options | grep -v '^$')
tick=$(getconf CLK_TCK)
printf 'round\tgenerator\tp50_ms\tp99_ms\tp999_ms\tmax_ms\tcpu_us_per_req\n' >"$out/summary.tsv"
if [ "${GEN_SCHED:-0}" = 1 ]; then
  /usr/bin/python3 bench/sched_delays.py --header >"$out/sched.tsv"
fi
for round in $(seq 1 "$rounds"); do
  for name in old new; do
    jar=$old
    [ "$name" = new ] && jar=$new
    "$out/floor_server" >"$out/floor.log" 2>&1 &
    floor=$!
    url=$(await_server "$out/floor.log" "$floor")
    "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED "${opts[@]}" -jar "$jar" bench --url "$url" --model mlp \
      --rate "$rate" --warmup "${warmup}s" --duration "${duration}s" --json "$out/r$round-$name.json" \
      >/dev/null 2>"$out/r$round-$name.log" &
    generator=$!
    # The generator's CPU over its measured window, a second in from each end.
    sleep $((warmup + 1))
    before=$(awk '{print $14 + $15}' "/proc/$generator/stat")
    if [ "${GEN_SCHED:-0}" = 1 ]; then
      perf sched record -a -o "$out/sched.data" -- sleep $((duration - 2)) >/dev/null 2>&1
    else
      sleep $((duration - 2))
    fi
    after=$(awk '{print $14 + $15}' "/proc/$generator/stat")
    wait "$generator" || echo "generators.sh: r$round-$name failed" >&2
    if [ "${GEN_SCHED:-0}" = 1 ]; then
      /usr/bin/python3 bench/sched_delays.py "$out/sched.data" "$round" "$name" server="$floor" generator="$generator" \
        >>"$out/sched.tsv" || echo "generators.sh: r$round-$name: no scheduler record" >&2
      rm -f "$out/sched.data" "$out/sched.data.old"
    fi
    kill "$floor"; wait "$floor" 2>/dev/null || true
    /usr/bin/python3 - "$out/r$round-$name.json" "$round" "$name" "$((after - before))" "$tick" "$((duration - 2))" "$rate" \
      >>"$out/summary.tsv" <<'PY'
import json, sys
path, rnd, name, ticks, tick, seconds, rate = sys.argv[1:]
r = json.load(open(path))["results"][0]
cpu = int(ticks) / int(tick) * 1e6 / (int(seconds) * float(rate))
print("\t".join([rnd, name] + ["%.3f" % r[k] for k in ("p50_ms", "p99_ms", "p999_ms", "max_ms")] + ["%.0f" % cpu]))
PY
  done
done
rm -f "$out/floor.log"
/usr/bin/python3 - "$out" <<'PY' | tee "$out/medians.tsv"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/summary.tsv"), delimiter="\t"))
cols = ["p50_ms", "p99_ms", "p999_ms", "max_ms", "cpu_us_per_req"]
print("generator\t" + "\t".join(cols))
for name in ("old", "new"):
    rs = [r for r in rows if r["generator"] == name]
    print(name + "\t" + "\t".join("%.3f" % statistics.median(float(r[c]) for r in rs) for c in cols))
PY
