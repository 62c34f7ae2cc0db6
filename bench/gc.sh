#!/usr/bin/env bash
# Garbage collection in the tail: the demo model at a fixed 1,000 requests/s (open loop, v2 JSON), the
# server under each collector in turn, interleaved rounds (docs/PERFORMANCE.md, "Garbage collection"):
#
#   bench/gc.sh                      # G1 against generational ZGC, 3 rounds (about 3 minutes)
#   GC_ROUNDS=5 GC_RATE=2000 bench/gc.sh
#   GC_VARIANTS="g1:-XX:+UseG1GC zgc:-XX:+UseZGC zgc-256m:-XX:+UseZGC,-Xmx256m" bench/gc.sh
#                                    # name:JAVA_OPTS pairs (',' for spaces), after tools/jvm.options
#   GC_VARIANTS="floor: zgc:-XX:+UseZGC" bench/gc.sh
#                                    # "floor" runs bench/floor/floor_server.c instead of the server:
#                                    # canned answers, no work; the latency this machine and the load
#                                    # generator add by themselves
#   GC_PIN=1 bench/gc.sh             # the server on CPU 0 and the load generator on CPU 1 (taskset),
#                                    # so that they do not take each other's core
#   GC_QUIET=3:30 bench/gc.sh        # first wait for a quiet machine: probe the floor (10 s + 10 s) up
#                                    # to 30 times, a minute apart, until its p99.9 is at most 3 ms; the
#                                    # probes go to quiet.tsv, and the rounds run after the last probe
#                                    # either way (a shared host's noise decides many a tail here)
#   GC_SCHED=1 bench/gc.sh           # also record the scheduler (perf sched, needs perf and root) in
#                                    # each measured window: how often the server's and the load
#                                    # generator's threads waited over 1 ms for a CPU once woken, and
#                                    # what held that CPU meanwhile (bench/sched_delays.py; nothing, i.e.
#                                    # a halted virtual CPU; the same process; the other; the kernel):
#                                    # sched.tsv
#
# Per round and variant it starts `./torchlight serve` on the demo model with those JVM options, every
# safepoint logged (-Xlog:safepoint, the stop-the-world pauses of any collector) and every collection
# (-Xlog:gc), benches it for GC_DURATION after GC_WARMUP (one load generator run), and records
# p50/p99/p99.9/max latency of the measured part, the longest and the summed safepoint pauses of the
# whole run (and the longest time threads were held once stopped, without the time to stop them), the
# collections in it and the most heap any of them left in use (the live set, an upper bound), and the
# server's CPU time per request, for the whole run and for its steady state (from a second after the
# warm-up), with how much its resident size grew in that steady state (new memory touched: page
# faults, docs/PERFORMANCE.md "Page faults, not the collector"). Results and summary.tsv / medians.tsv go to
# bench/results/gc-<date>-<time>/ (GC_RESULTS to choose).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=bench/server.sh
. "$root/bench/server.sh"
rounds=${GC_ROUNDS:-3}
rate=${GC_RATE:-1000}
warmup=${GC_WARMUP:-10s}
duration=${GC_DURATION:-10s}
variants=${GC_VARIANTS:-"g1:-XX:+UseG1GC zgc:-XX:+UseZGC"}
out=${GC_RESULTS:-bench/results/gc-$(date -u +%Y-%m-%d-%H%M)}
mkdir -p "$out"
say() { echo "gc.sh: $*" >&2; }
./torchlight --help >/dev/null # builds the jar when the sources are newer
on_server=() on_generator=()
if [ "${GC_PIN:-0}" = 1 ]; then
  on_server=(taskset -c 0) on_generator=(taskset -c 1)
fi
if [[ " $variants" == *" floor:"* || -n ${GC_QUIET:-} ]]; then
  cc -O2 -o "$out/floor_server" bench/floor/floor_server.c
fi

# GC_QUIET=BOUND_MS:TRIES: the floor's p99.9 in short probes until one is at most BOUND_MS.
if [[ -n ${GC_QUIET:-} ]]; then
  bound=${GC_QUIET%%:*} tries=${GC_QUIET#*:}
  printf 'probe\ttime\tp999_ms\n' >"$out/quiet.tsv"
  for probe in $(seq 1 "$tries"); do
    "$out/floor_server" >"$out/quiet-server.log" 2>&1 &
    pid=$!
    url=$(await_server "$out/quiet-server.log" "$pid")
    ./torchlight bench --url "$url" --model mlp --rate "$rate" --warmup 10s --duration 10s \
      --json "$out/quiet.json" >/dev/null 2>&1 || true
    kill "$pid"; wait "$pid" 2>/dev/null || true
    p999=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["p999_ms"])' \
      "$out/quiet.json" 2>/dev/null || echo 999)
    printf '%s\t%s\t%s\n' "$probe" "$(date -u +%H:%M:%S)" "$p999" >>"$out/quiet.tsv"
    if /usr/bin/python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' "$p999" "$bound"; then
      say "quiet: the floor's p99.9 was $p999 ms (probe $probe)"
      break
    fi
    say "not quiet: the floor's p99.9 was $p999 ms (probe $probe of $tries)"
    ((probe < tries)) && sleep 60
  done
  rm -f "$out/quiet.json" "$out/quiet-server.log"
fi
tick=$(getconf CLK_TCK)
# seconds TIME: a duration as the load generator takes it (20s, 2m), in whole seconds.
seconds() {
  case $1 in
    *ms) echo 0 ;;
    *s) echo "${1%s}" ;;
    *m) echo $((${1%m} * 60)) ;;
    *) echo "$1" ;;
  esac
}
if [ "${GC_SCHED:-0}" = 1 ]; then
  command -v perf >/dev/null || { say "GC_SCHED=1 needs perf (Debian: linux-perf)"; exit 1; }
  /usr/bin/python3 bench/sched_delays.py --header >"$out/sched.tsv"
fi
printf 'round\tvariant\treq_per_s\tp50_ms\tp99_ms\tp999_ms\tmax_ms\tpause_max_ms\tpause_at_max_ms\tpause_total_ms\tpauses\tcollections\theap_after_max_mb\tcpu_us_per_req\tsteady_cpu_us_per_req\tsteady_rss_growth_mb\n' \
  >"$out/summary.tsv"

for round in $(seq 1 "$rounds"); do
  for variant in $variants; do
    name=${variant%%:*}
    opts=${variant#*:}
    opts=${opts//,/ }
    tag="r$round-$name"
    log="$out/$tag-server.log"
    say "round $round: $name ($opts)"
    if [ "$name" = floor ]; then
      : >"$out/$tag-safepoints.log"
      : >"$out/$tag-gc.log"
      "${on_server[@]}" "$out/floor_server" >"$log" 2>&1 &
    else
      JAVA_OPTS="$opts -Xlog:safepoint:file=$out/$tag-safepoints.log:uptimenanos -Xlog:gc:file=$out/$tag-gc.log:uptimenanos" \
        "${on_server[@]}" ./torchlight serve --models mlp --http-port 0 --grpc-port 0 --metrics-port 0 \
        --management-port 0 --access-log off >"$log" 2>&1 &
    fi
    pid=$!
    url=$(await_server "$log" "$pid")
    # The load generator's run in the server's uptime (/proc/uptime minus the process's start), which
    # is what the safepoint log stamps, so that only pauses during the run count (not start-up's).
    started=$(awk '{print $22}' "/proc/$pid/stat")
    start_up=$(awk '{print $1}' /proc/uptime)
    before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    # The steady state: the server's CPU and resident size from a second after the warm-up ends.
    ( sleep "$warmup"; sleep 1
      echo "$(awk '{print $1}' /proc/uptime) $(awk '{print $14 + $15}' "/proc/$pid/stat") $(awk '/VmRSS/ {print $2}' "/proc/$pid/status")" \
        >"$out/$tag-steady" ) &
    sampler=$!
    if [ "${GC_SCHED:-0}" = 1 ]; then
      # The measured window, a second in from each end.
      ( sleep "$warmup"; sleep 1
        perf sched record -a -o "$out/$tag-sched.data" -- sleep "$(($(seconds "$duration") - 2))" \
          >/dev/null 2>"$out/$tag-sched.log" ) &
      recorder=$!
    fi
    # One load generator warms up (its own JIT and the server's) and then measures; the pauses counted
    # are those of the whole run, warm-up included.
    "${on_generator[@]}" ./torchlight bench --url "$url" --model mlp --rate "$rate" --warmup "$warmup" --duration "$duration" \
      --json "$out/$tag.json" >/dev/null 2>"$out/$tag-bench.log" &
    generator=$!
    wait "$generator" || say "$tag bench failed"
    if [ "${GC_SCHED:-0}" = 1 ]; then
      wait "$recorder" || true
      /usr/bin/python3 bench/sched_delays.py "$out/$tag-sched.data" "$round" "$name" \
        server="$pid" generator="$generator" >>"$out/sched.tsv" || say "$tag: no scheduler record"
      rm -f "$out/$tag-sched.data" "$out/$tag-sched.data.old"
    fi
    after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    end_up=$(awk '{print $1}' /proc/uptime)
    rss_end=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    wait "$sampler" || true
    read -r steady_up steady_cpu steady_rss <"$out/$tag-steady" || true
    steady_up=${steady_up:-$end_up} steady_cpu=${steady_cpu:-$after} steady_rss=${steady_rss:-$rss_end}
    kill "$pid"; wait "$pid" 2>/dev/null || true
    /usr/bin/python3 - "$out/$tag.json" "$out/$tag-safepoints.log" "$round" "$name" "$((after - before))" "$tick" \
      "$start_up" "$end_up" "$started" "$out/$tag-gc.log" "$steady_up" "$((after - steady_cpu))" "$((rss_end - steady_rss))" \
      >>"$out/summary.tsv" <<'PY'
import json, re, sys
path, safepoints, rnd, name, ticks, tick, start_up, end_up, started, gc, steady_up, steady_ticks, rss_growth = sys.argv[1:]
r = json.load(open(path))["results"][0]
# Safepoint lines are stamped with the JVM's uptime in ns.
lo = (float(start_up) - int(started) / int(tick)) * 1e9
hi = (float(end_up) - int(started) / int(tick)) * 1e9
# Total: what the application waited; At safepoint: the part the VM's operation itself took, once every
# thread had stopped (the rest is threads reaching the safepoint, long when the cores are overcommitted).
window, held = [], []
for line in open(safepoints):
    m = re.search(r"\[(\d+)ns\].*At safepoint: (\d+) ns.*Total: (\d+) ns", line)
    if m and lo <= int(m.group(1)) <= hi:
        held.append(int(m.group(2)))
        window.append(int(m.group(3)))
# Collections ending in the window, as -Xlog:gc sums each up: "... 54M(21%)->20M(8%) ..." (ZGC) or
# "... 24M->5M(256M) ..." (G1); what is left after one is at most the live set plus what came since.
after = []
for line in open(gc):
    m = re.search(r"\[(\d+)ns\].*?(\d+)M(?:\(\d+%\))?->(\d+)M", line)
    if m and lo <= int(m.group(1)) <= hi:
        after.append(int(m.group(3)))
cpu = int(ticks) / int(tick) * 1e6 / max(r["requests"], 1)
# Steady: the CPU from the sample after the warm-up to the end, over the requests of that time.
steady_s = max(float(end_up) - float(steady_up), 1e-9)
steady = int(steady_ticks) / int(tick) * 1e6 / max(r["throughput_rps"] * steady_s, 1)
print("%s\t%s\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%d\t%d\t%.0f\t%.0f\t%.1f" % (rnd, name,
      r["throughput_rps"], r["p50_ms"], r["p99_ms"], r["p999_ms"], r["max_ms"], max(window, default=0) / 1e6,
      max(held, default=0) / 1e6, sum(window) / 1e6, len(window), len(after), max(after, default=0), cpu, steady,
      int(rss_growth) / 1024))
PY
  done
done
/usr/bin/python3 - "$out" <<'PY' | tee "$out/medians.tsv"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/summary.tsv"), delimiter="\t"))
cols = ["req_per_s", "p50_ms", "p99_ms", "p999_ms", "max_ms", "pause_max_ms", "pause_at_max_ms", "pause_total_ms",
        "collections", "heap_after_max_mb", "cpu_us_per_req", "steady_cpu_us_per_req", "steady_rss_growth_mb"]
print("variant\t" + "\t".join(cols))
for name in dict.fromkeys(r["variant"] for r in rows):
    rs = [r for r in rows if r["variant"] == name]
    print(name + "\t" + "\t".join("%.3f" % statistics.median(float(r[c]) for r in rs) for c in cols))
PY
