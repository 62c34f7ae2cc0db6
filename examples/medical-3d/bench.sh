#!/usr/bin/env bash
# Measures the split 3D U-Net served by torchlight, on this machine, in one command:
#
#   examples/medical-3d/bench.sh                    # about 25 minutes on an idle 2-core machine
#   MED3D_REPEATS=1 MED3D_DURATION=30s examples/medical-3d/bench.sh     # a quick look
#
# 1. Makes the model (make_model.py, 128^3, both stages on the CPU) unless examples/medical-3d/work
#    holds one, and builds the jar when the sources are newer.
# 2. Starts `torchlight serve` on the example's repository (free ports) and checks its answers
#    against the unsplit model's references over REST binary (client.py) and gRPC (GrpcClient.java).
# 3. Throughput and latency per volume: `torchlight bench` over REST binary tensors (v2-binary) and
#    gRPC raw contents at concurrency 1 and 2, closed loop, no warm-up window (the server warmed up
#    at load), MED3D_DURATION per point (default 60s; the requests sent in it are all waited for),
#    and the raw engine (`torchlight bench --raw`: the same model in-process, no server; warm-up
#    MED3D_RAW_WARMUP, default 30s, about two volumes), in MED3D_REPEATS interleaved rounds (default
#    3), each round in a rotated order; the server's CPU seconds per volume from /proc/PID/stat over
#    each point.
# 4. The server's memory per in-flight volume: for each N in MED3D_MEMORY_LEVELS (default 1 2 4), a
#    fresh server, its resident memory once idle after warm-up, then inflight.py sends N volumes at
#    once over REST binary and samples the server's resident memory every 20 ms. One instance
#    computes one volume at a time, so until the first answer the server holds N request bodies and
#    one forward pass's working set (the same for every N), and has built no reply yet: the slope of
#    that window's peak over N is the extra memory per in-flight volume. Where it goes: the JVM's
#    live heap after a full collection (jcmd GC.run) once idle and once all N are held, and the body
#    bytes the HTTP listener counts then (metrics). MED3D_MEMORY_REPEATS rounds (default 2), levels
#    rotated.
# 5. results.md (medians, every run) and the raw JSON in MED3D_RESULTS (default
#    examples/medical-3d/work/bench-<UTC time>); the table on stdout.
#
# Other settings: MED3D_PARTS (which of verify, perf and memory to run; default all three),
# MED3D_WORK (the model, default examples/medical-3d/work), JAVA_OPTS (the JVMs' options, after
# -XX:+UseZGC).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
# shellcheck source=bench/server.sh
. "$root/bench/server.sh"
# shellcheck source=tools/find_jdk.sh
. "$root/tools/find_jdk.sh"
find_jdk

work=${MED3D_WORK:-$here/work}
out=${MED3D_RESULTS:-$work/bench-$(date -u +%Y%m%dT%H%M%SZ)}
repeats=${MED3D_REPEATS:-3}
duration=${MED3D_DURATION:-60s}
raw_warmup=${MED3D_RAW_WARMUP:-30s}
mem_levels=(${MED3D_MEMORY_LEVELS:-1 2 4})
mem_repeats=${MED3D_MEMORY_REPEATS:-2}
parts=" ${MED3D_PARTS:-verify perf memory} "
mkdir -p "$out"
say() { echo "bench.sh: $*" >&2; }

py=$(tools/python-env.sh)
if [ ! -f "$work/manifest.json" ]; then
  say "making the model in $work (a few minutes)"
  "$py" "$here/make_model.py" --out "$work"
fi
./torchlight --help >/dev/null # builds the jar when the sources are newer
# A copy of the jar, so that a rebuild while this runs (sources edited meanwhile) changes nothing here;
# the JVM flags are the launcher's.
jar="$out/torchlight.jar"
cp "$root/server/target/torchlight.jar" "$jar"
# shellcheck disable=SC2206 # JAVA_OPTS is a list of options
tl=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseZGC ${JAVA_OPTS:-} -jar "$jar")
model=$("$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))["name"])' "$work/manifest.json")

server_pid=""
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap stop_server EXIT

serve() { # serve NAME: a fresh server on free ports; sets server_pid, http_url, grpc_url, metrics_url
  local log="$out/server-$1.log"
  "${tl[@]}" serve --model-repository "$work/repo" --http-port 0 --grpc-port 0 --metrics-port 0 \
    --management-port 0 --access-log off >"$log" 2>&1 &
  server_pid=$!
  http_url=$(await_server "$log" "$server_pid")
  grpc_url="http://$(grep -Eo 'gRPC \(KServe v2\) on [0-9.]+:[0-9]+' "$log" | head -n 1 | sed 's/.* on //')"
  metrics_url=$(grep -Eo 'metrics on http://[0-9.]+:[0-9]+' "$log" | head -n 1 | sed 's/^metrics on //')
}
cpu_seconds() { # utime + stime of the server
  awk -v tick="$(getconf CLK_TCK)" '{ print ($14 + $15) / tick }' "/proc/$server_pid/stat"
}

bench() { # bench NAME PROTOCOL CONCURRENCY DURATION: torchlight bench into $out/NAME.json, CPU seconds beside it
  local name=$1 protocol=$2 c=$3 d=$4 url=$http_url before after
  if [ "$protocol" = raw ]; then # in-process, while the server idles
    "${tl[@]}" bench --raw --model-repository "$work/repo" --model "$model" --batch-sizes 1 --threads "$c" \
      --warmup "$raw_warmup" --duration "$d" --json "$out/$name.json" >"$out/$name.log" 2>&1 \
      || { say "$name failed:"; tail -n 5 "$out/$name.log" >&2; }
    return 0
  fi
  [ "$protocol" = grpc ] && url=$grpc_url
  before=$(cpu_seconds)
  "${tl[@]}" bench --url "$url" --model "$model" --protocol "$protocol" --concurrency "$c" --warmup 0 \
    --duration "$d" --timeout 15m --json "$out/$name.json" >"$out/$name.log" 2>&1 \
    || { say "$name failed:"; tail -n 5 "$out/$name.log" >&2; }
  after=$(cpu_seconds)
  echo "{\"server_cpu_s\": $(awk -v a="$after" -v b="$before" 'BEGIN { print a - b }')}" >"$out/$name.cpu.json"
}

if [[ $parts == *" verify "* || $parts == *" perf "* ]]; then
  serve main
  say "server at $http_url, gRPC at $grpc_url"
fi

# ---- correctness first ---------------------------------------------------------------------------
if [[ $parts == *" verify "* ]]; then
  say "checking its answers against the unsplit model's"
  "$py" "$here/client.py" --url "$http_url" --dir "$work" | tee "$out/verify-rest.txt"
  "$JAVA_HOME/bin/java" -cp "$jar" "$here/GrpcClient.java" --target "${grpc_url#http://}" --dir "$work" \
    2> >(grep -v '^WARNING' >&2) | tee "$out/verify-grpc.txt"
fi

# ---- throughput and latency ----------------------------------------------------------------------
points=("raw 1" "v2-binary 1" "grpc 1" "v2-binary 2" "grpc 2")
[[ $parts == *" perf "* ]] || repeats=0
for ((r = 1; r <= repeats; r++)); do
  for ((i = 0; i < ${#points[@]}; i++)); do
    read -r protocol c <<<"${points[$(((i + r - 1) % ${#points[@]}))]}"
    say "round $r: $protocol, concurrency $c, $duration"
    bench "perf-r$r-$protocol-c$c" "$protocol" "$c" "$duration"
  done
done
stop_server

# ---- memory per in-flight volume -----------------------------------------------------------------
[[ $parts == *" memory "* ]] || mem_repeats=0
for ((r = 1; r <= mem_repeats; r++)); do
  for ((i = 0; i < ${#mem_levels[@]}; i++)); do
    n=${mem_levels[$(((i + r - 1) % ${#mem_levels[@]}))]}
    serve "mem-r$r-n$n"
    sleep 5 # the last warm-up answer and start-up work settle
    say "memory round $r: $n volumes at once"
    "$py" "$here/inflight.py" --url "$http_url" --dir "$work" --pid "$server_pid" --n "$n" \
      ${metrics_url:+--metrics "$metrics_url/metrics" --jcmd "$JAVA_HOME/bin/jcmd"} --out "$out/mem-r$r-n$n.json" | tee -a "$out/memory.txt" \
      || say "memory round $r, $n in flight: failed"
    stop_server
  done
done

"$py" "$here/bench_report.py" "$out" --manifest "$work/manifest.json" | tee "$out/results.md"
say "results in $out"
