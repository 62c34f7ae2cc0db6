#!/usr/bin/env bash
# In-process against over the network, as docs/PERFORMANCE.md reports it ("Embedded vs HTTP vs gRPC"): the
# same model (risk_batched: the risk MLP 256 -> 1024 -> 1024 -> 2 with dynamic batching) at the same closed-loop
# concurrencies, called
#   - in-process, through torchlight-embedded (examples/embedded: N application threads, infer(float[]));
#   - over HTTP, v2 JSON and v2 binary tensors, and over gRPC (unary ModelInfer), each against
#     `torchlight serve` with `torchlight bench --concurrency N` as the client (a second JVM on the same cores).
# Each round runs the embedded application, then one server for the three protocols; rounds repeat
# (interleaved) and the summary takes each measurement's median over the rounds.
#
#   bench/embedded.sh                       # 3 rounds, concurrency 1,8,64, 5 s each (about 6 minutes)
#   EMBEDDED_ROUNDS=5 EMBEDDED_DURATION=10 bench/embedded.sh
#
# Results in $EMBEDDED_RESULTS (default bench/results/embedded-<date>): per round the application's output and
# the load generator's JSON, rows.tsv (every measurement) and summary.md (the medians, as a Markdown table).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=bench/server.sh
. "$root/bench/server.sh"
rounds=${EMBEDDED_ROUNDS:-3}
concurrency=${EMBEDDED_CONCURRENCY:-1,8,64}
seconds=${EMBEDDED_DURATION:-5}
warmup=${EMBEDDED_WARMUP:-2}
model=${EMBEDDED_MODEL:-risk_batched}
models=${BENCH_MODELS:-bench/models}
out=${EMBEDDED_RESULTS:-bench/results/embedded-$(date -u +%Y-%m-%d)}
mkdir -p "$out"

say() { echo "embedded.sh: $*" >&2; }

if [ ! -f "$models/risk_batched/config.yaml" ]; then
  say "making the risk models in $models"
  "$(tools/python-env.sh)" tools/make_bench_models.py --risk-only --out "$models"
fi
./torchlight --help >/dev/null # builds the server jar when the sources are newer
# shellcheck source=tools/find_jdk.sh
. "$root/tools/find_jdk.sh"
find_jdk
jar="$root/server/target/torchlight.jar"

server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap stop_server EXIT

rows="$out/rows.tsv"
printf 'round\tpath\tconcurrency\tthroughput_rps\tp50_ms\tp99_ms\n' >"$rows"
for round in $(seq 1 "$rounds"); do
  say "round $round: in-process"
  examples/embedded/run.sh "$models" --model "$model" --concurrency "$concurrency" --seconds "$seconds" \
    --warmup-seconds "$warmup" >"$out/r$round-embedded.txt" 2>"$out/r$round-embedded.log"
  # concurrency requests throughput_rps p50_ms p90_ms p99_ms max_ms
  awk -v r="$round" '$1 ~ /^[0-9]+$/ {printf "%s\tembedded\t%s\t%s\t%s\t%s\n", r, $1, $3, $4, $6}' \
    "$out/r$round-embedded.txt" >>"$rows"

  log="$out/r$round-server.log"
  : >"$log"
  say "round $round: torchlight serve"
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$jar" serve --model-repository "$models" \
    --models "$model" --http-port 0 --grpc-port 0 --metrics-port 0 --management-port 0 >"$log" 2>&1 &
  server_pid=$!
  url=$(await_server "$log" "$server_pid")
  grpc_url="http://$(grep -Eo 'gRPC \(KServe v2\) on [0-9.]+:[0-9]+' "$log" | head -n 1 | sed 's/.* on //')"
  for protocol in v2-json v2-binary grpc; do
    target=$url; [ "$protocol" = grpc ] && target=$grpc_url
    say "round $round: $protocol"
    ./torchlight bench --url "$target" --model "$model" --protocol "$protocol" --concurrency "$concurrency" \
      --warmup "${warmup}s" --duration "${seconds}s" --json "$out/r$round-$protocol.json" >/dev/null \
      2>"$out/r$round-$protocol.log" || { say "$protocol failed"; tail -5 "$out/r$round-$protocol.log" >&2; }
    /usr/bin/python3 - "$out/r$round-$protocol.json" "$round" "$protocol" >>"$rows" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("%s\t%s\t%d\t%.0f\t%.3f\t%.3f" % (sys.argv[2], sys.argv[3], r["concurrency"], r["throughput_rps"],
                                         r["p50_ms"], r["p99_ms"]))
PY
  done
  stop_server
done

/usr/bin/python3 - "$rows" "$out/summary.md" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
paths = ["embedded", "v2-json", "v2-binary", "grpc"]
names = {"embedded": "in-process (embedded)", "v2-json": "HTTP v2 JSON", "v2-binary": "HTTP v2 binary",
         "grpc": "gRPC unary"}
levels = sorted({int(r["concurrency"]) for r in rows})
med = lambda path, c, key: statistics.median(float(r[key]) for r in rows
                                             if r["path"] == path and int(r["concurrency"]) == c)
rounds = len({r["round"] for r in rows})
lines = ["| path | concurrency | throughput (req/s) | vs in-process | p50 (ms) | p99 (ms) |",
         "| --- | ---: | ---: | ---: | ---: | ---: |"]
for c in levels:
    base = med("embedded", c, "throughput_rps")
    for p in paths:
        if not any(r["path"] == p and int(r["concurrency"]) == c for r in rows):
            continue
        t = med(p, c, "throughput_rps")
        lines.append("| %s | %d | %.0f | %.2f | %.3f | %.3f |" % (names[p], c, t, t / base, med(p, c, "p50_ms"),
                                                                  med(p, c, "p99_ms")))
lines.append("")
lines.append("Medians over %d interleaved rounds." % rounds)
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
