#!/usr/bin/env bash
# One GPU check of torchlight, in one call on a machine with a GPU, python3 with a CUDA PyTorch,
# nvcc and CMake, but no Java and no network. Runs from the bundle tools/gpu/bundle.sh makes
# (this file is copied to gpu-bundle/check.sh); tools/gpu/README.md says how to call it.
#
#   bash gpu-bundle/check.sh                              # on the GPU machine; results in $OUT
#   TL_CHECK_DEVICE=cpu OUT=/tmp/gpucheck bash gpu-bundle/check.sh   # the same flow on a CPU (smoke test)
#
# Steps: unpack the Java runtime; build the engine library against this machine's PyTorch (in the
# background); make the models (make_models.py, the split 3D U-Net of examples/medical-3d among
# them; the AOTInductor package in the background); raw
# PyTorch eager (raw_pytorch.py); the raw engine in-process (torchlight bench --raw); one server
# with the measured models, driven by torchlight bench, and its outputs compared with PyTorch's; a
# second server for memory after unloading and recovery from out of memory; a third with the
# workloads of examples/risk-scoring and examples/recommendation, made by their own make_model.py on
# this device (risk: an open-loop rate ladder replaying the recorded transactions; recommendation:
# ragged multi-hot requests at several batch sizes); the report.
# Every step has its own time limit, cut to what is left of TL_CHECK_BUDGET; a step that fails or
# runs out of time is recorded and the rest go on, so a partial run still reports.
#
# $OUT gets at most 7 files: check.md (the report), check.log (this script's output), build.log,
# models.log, server.log (the servers' log tails), raw.json (raw PyTorch), results.json (every
# measurement and verdict).
#
# Environment: OUT (default /tmp/gpucheck), TL_CHECK_DEVICE (cuda, or cpu for the smoke test),
# TL_CHECK_WORK (scratch, default /tmp/tl-check, emptied first), TL_CHECK_BUDGET (seconds for the
# steps; the report comes after: default 490 on CUDA, 1200 on the CPU), TL_CHECK_PROTOCOL (v2-binary
# or grpc), TL_CHECK_PYTHON (default python3; in the CPU mode the repository's .venv when there),
# TL_CHECK_NO_GPU_KEYS=1 (leave precision/cuda_graphs/cudnn_benchmark/pinned_buffers out of the
# check's own models' configs, for a server that does not know them yet; the examples' models are
# written by the examples' own scripts, with the keys whatever this says).
# TL_CHECK_PARTS (default main,engine-tests,aux,examples: the main server's measurements with raw
# PyTorch, the raw engine and the AOTInductor package; the engine library's own tests; the memory and
# out-of-memory server; the examples' server), TL_CHECK_ENGINE_TEST_ARGS (arguments for test_engine.py
# after the library, e.g. -k patterns), TL_CHECK_SKIP_CUDA_AOTI_TEST=0 (also run its CUDA AOTInductor case).
set -uo pipefail   # not -e: a failed step is recorded, and the check goes on

B=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEVICE=${TL_CHECK_DEVICE:-cuda}
OUT=${OUT:-/tmp/gpucheck}
W=${TL_CHECK_WORK:-/tmp/tl-check}
PROTOCOL=${TL_CHECK_PROTOCOL:-v2-binary}
if [[ $DEVICE == cuda ]]; then BUDGET=${TL_CHECK_BUDGET:-490}; else BUDGET=${TL_CHECK_BUDGET:-1200}; fi
if [[ -n ${TL_CHECK_PYTHON:-} ]]; then
    PY=$TL_CHECK_PYTHON
elif [[ $DEVICE == cpu && -x $B/../.venv/bin/python ]]; then
    PY=$B/../.venv/bin/python
else
    PY=python3
fi
[[ $DEVICE == cuda || $DEVICE == cpu ]] || { echo "check.sh: TL_CHECK_DEVICE must be cuda or cpu" >&2; exit 2; }
PARTS=${TL_CHECK_PARTS:-main,engine-tests,aux,examples}
want() { [[ ",$PARTS," == *",$1,"* ]]; }

case $W in /* ) [[ $W != / ]] ;; *) false ;; esac || { echo "check.sh: TL_CHECK_WORK must be an absolute path other than /" >&2; exit 2; }
rm -rf "$W"
mkdir -p "$W/bench" "$W/probe" "$W/logs" "$OUT"
rm -f "$OUT"/{check.md,check.log,build.log,models.log,server.log,raw.json,results.json}
exec > >(tee -a "$OUT/check.log") 2>&1
tee_pid=$!
export PYTHONUNBUFFERED=1

T0=$SECONDS
say() { printf '[%4ds] %s\n' $((SECONDS - T0)) "$*"; }
left() { echo $((BUDGET - (SECONDS - T0))); }
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >>"$W/steps.tsv"; }

# step [--log FILE] NAME LIMIT CMD...: CMD under `timeout`, the limit cut to the budget left, its
# output appended to FILE when given; records the outcome in $W/steps.tsv.
step() {
    local log="" name limit l t rc status
    if [[ $1 == --log ]]; then log=$2; shift 2; fi
    name=$1 limit=$2
    shift 2
    l=$(left)
    if ((l < 5)); then
        say "-- $name: skipped, the time budget is spent"
        record "$name" skipped 0 "time budget spent"
        return 1
    fi
    ((limit > l)) && limit=$l
    say "-- $name (limit ${limit}s)"
    t=$SECONDS
    if [[ -n $log ]]; then
        timeout -k 5 "$limit" "$@" >>"$log" 2>&1
    else
        timeout -k 5 "$limit" "$@"
    fi
    rc=$?
    case $rc in
        0) status=ok ;;
        124 | 137) status="timed out after ${limit}s" ;;
        *) status="failed (exit $rc)" ;;
    esac
    say "-- $name: $status in $((SECONDS - t))s"
    record "$name" "$status" $((SECONDS - t))
    return $rc
}
# Python and bash functions under `timeout` need a process of their own.
export -f say left record
export T0 BUDGET W

say "torchlight GPU check: device $DEVICE, bundle $B, work $W, out $OUT, budget ${BUDGET}s, python $PY"
[[ -f $B/bundle.properties ]] && cat "$B/bundle.properties"

# ---- the plan and the machine -------------------------------------------------------------------
JAVA=$W/jre/bin/java
unpack() {
    # tar needs the xz program for .tar.xz; Python's tarfile does not.
    if command -v xz >/dev/null; then
        tar -C "$W" -xJf "$B/jre.tar.xz"
    else
        "$PY" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$B/jre.tar.xz" "$W"
    fi && "$W/jre/bin/java" -version
}
export -f unpack
export B PY
step "unpack the Java runtime" 60 bash -c unpack

torch_dir=$("$PY" -c 'import importlib.util as u, os; print(os.path.dirname(u.find_spec("torch").origin))' 2>/dev/null)
say "torch: $torch_dir"

# The engine library: built against this machine's PyTorch, with a CUDA toolkit where Torch's CMake
# package finds it (FindCUDA through CUDA_HOME/CUDA_PATH and nvcc on PATH, enable_language(CUDA)
# through CUDACXX). Toolkits are tried in turn (at most two) until one builds.
cuda_roots=()
if [[ $DEVICE == cuda ]]; then
    nvcc_path=$(command -v nvcc || true)
    for c in "${CUDA_HOME:-}" /usr/local/cuda "${nvcc_path:+$(dirname "$(dirname "$nvcc_path")")}" /usr/local/cuda-1*; do
        [[ -n $c && -x $c/bin/nvcc && -f $c/include/cuda_runtime.h ]] || continue
        c=$(cd "$c" && pwd -P)
        [[ " ${cuda_roots[*]} " == *" $c "* ]] || cuda_roots+=("$c")
    done
    ((${#cuda_roots[@]})) || cuda_roots=(/usr/local/cuda)
fi
# The CUDA libraries PyTorch's wheel loads (its nvidia/*/lib) come first on the library path, so that
# the engine's own references to cudart and friends resolve to the copies libtorch_cuda uses.
nvlibs=$(ls -d "$torch_dir"/../nvidia/*/lib "$torch_dir"/../nvidia/cu*/lib 2>/dev/null | sort -u | tr '\n' ':')
build_engine() {
    local root rc=1 ld
    {
        echo "torch: $torch_dir"
        cmake --version | head -n 1
        for root in "${@:-none}"; do
            ld=${LD_LIBRARY_PATH:-}
            if [[ $root != none ]]; then
                export CUDA_HOME=$root CUDA_PATH=$root CUDACXX=$root/bin/nvcc PATH=$root/bin:$PATH
                # The H200 (sm_90): Torch skips detecting it, CMake compiles its CUDA check for it.
                export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0} CUDAARCHS=${CUDAARCHS:-90}
                ld="${nvlibs}$root/lib64:$root/lib${ld:+:$ld}"
                echo "==== CUDA toolkit $root: $("$CUDACXX" --version | tail -n 1)"
                echo "LD_LIBRARY_PATH=$ld"
            fi
            rm -rf "$W/engine"
            LD_LIBRARY_PATH=$ld LIBTORCH=$torch_dir bash "$B/native/build.sh" "$W/engine"
            rc=$?
            echo "---- build.sh's own log ($W/engine/build.log), exit $rc"
            cat "$W/engine/build.log" 2>/dev/null
            if ((rc == 0)); then
                echo "$ld" >"$W/engine/ld_library_path"
                break
            fi
        done
        exit $rc
    } >"$OUT/build.log" 2>&1
}
export -f build_engine
export torch_dir DEVICE OUT nvlibs
step "build the engine library" 300 bash -c 'build_engine "$@"' build "${cuda_roots[@]:0:2}" &
build_pid=$!

# ---- models, then the AOTInductor package beside the raw measurements --------------------------
gpu_keys=()
[[ ${TL_CHECK_NO_GPU_KEYS:-0} == 1 ]] && gpu_keys=(--no-gpu-keys)
step --log "$OUT/models.log" "make the models" 180 "$PY" "$B/tools/gpu/make_models.py" --repo "$W/models" \
    --work "$W" --device "$DEVICE" "${gpu_keys[@]}"
models_ok=$?
tail -n 5 "$OUT/models.log"
aoti_pid=""
if ((models_ok == 0)); then
    # The AOTInductor compile is the slowest step (minutes): it runs beside the raw measurements, the
    # raw engine and the first server points, and its model is loaded into the running server when
    # its points come (last).
    want main && (
        # Half the cores for Inductor's compile workers, so that the measurements keep some.
        export TORCHINDUCTOR_COMPILE_THREADS=$(($(nproc) / 2 > 0 ? $(nproc) / 2 : 1))
        # Its limit ends it before the memory measurements, which it would disturb.
        step --log "$OUT/models.log" "compile the AOTInductor package" 240 "$PY" "$B/tools/gpu/make_models.py" \
            --repo "$W/models" --work "$W" --device "$DEVICE" --aoti
    ) &
    want main && aoti_pid=$!
    # The examples' models, by their own scripts, on the CPU's spare cores meanwhile.
    ex_device=cpu rec_rows=200000 risk_tx=2000
    [[ $DEVICE == cuda ]] && ex_device=gpu rec_rows=${TL_CHECK_REC_ROWS:-20000000} risk_tx=8000
    (
        step --log "$OUT/models.log" "make the risk-scoring example" 120 "$PY" "$B/tools/risk-scoring/make_model.py" \
            --out "$W/examples" --device "$ex_device" --transactions "$risk_tx" &&
        step --log "$OUT/models.log" "make the recommendation example" 240 "$PY" "$B/tools/recommendation/make_model.py" \
            --repository "$W/examples/models" --rows "$rec_rows" --device "$ex_device"
    ) &
    examples_pid=$!
    step "facts" 60 "$PY" "$B/tools/gpu/probe.py" facts --plan "$W/plan.json" --bundle "$B" --out "$W/facts.json" &
    facts_pid=$!
    want main && step "raw PyTorch eager" 150 "$PY" "$B/tools/gpu/raw_pytorch.py" --plan "$W/plan.json" --json "$OUT/raw.json"
    wait "$facts_pid"
else
    say "no models: only the build and the facts can run"
fi

say "waiting for the engine build"
wait "$build_pid"
engine=$W/engine/libtorchlight_engine.so
if [[ -f $engine ]]; then
    say "engine library: $engine ($(cat "$W/engine/libtorch.properties" | tr '\n' ' '))"
else
    say "no engine library was built (see build.log): the server steps will fail"
fi
ENGINE_LD=$(cat "$W/engine/ld_library_path" 2>/dev/null || echo "${LD_LIBRARY_PATH:-}")
# Fixed heaps: the JVM's default is a quarter of MemTotal, which a microVM may report low at start,
# and batch-64 image requests are 38.5 MB each.
# The servers run with the options the launcher and the image use (tools/jvm.options: generational
# ZGC and its settings), so that their tails are the product's; the load generator keeps the JVM's.
server_options=()
if [[ -f $B/jvm.options ]]; then
    while read -r option; do
        [[ -z $option || $option == \#* ]] || server_options+=("$option")
    done <"$B/jvm.options"
fi
JAVA_RUN=(env "LD_LIBRARY_PATH=$ENGINE_LD" "$JAVA" "${server_options[@]}" -Xmx16g "-Dtorchlight.engine.library=$engine")
BENCH_RUN=("$JAVA" -Xmx4g)
JAR=$B/torchlight.jar

# fetch URL FILE: the body of a GET into FILE (Python's: the GPU machine may have no curl); never fails.
fetch() {
    "$PY" -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1], timeout=5).read())' \
        "$1" "$2" 2>/dev/null || true
}
plan() { "$PY" -c "import json, sys; plan = json.load(open('$W/plan.json')); $1" 2>/dev/null; }
# A model folder is served only when its files are there (a failed compile leaves none).
present() {
    local m out=()
    for m in ${1//,/ }; do
        compgen -G "$W/models/$m/1/model.pt*" >/dev/null && [[ -f $W/models/$m/config.yaml ]] && out+=("$m")
    done
    local IFS=,
    echo "${out[*]}"
}

# ---- the raw engine in-process (no server), on the placement the config asks for ---------------
if [[ -f $W/plan.json ]] && want main; then
    while read -r model batches; do
        [[ -n $model ]] || continue
        (cd "$W" && step --log "$W/logs/bench.log" "raw engine $model b$batches" 90 "${JAVA_RUN[@]}" -jar "$JAR" \
            bench --raw --model-repository "$W/models" --model "$model" --batch-sizes "$batches" --threads 1 \
            --warmup "$(plan 'print(plan["raw_warmup"])')" --duration "$(plan 'print(plan["raw_duration"])')" \
            --json "$W/bench/raw-engine-$model.json")
        tail -n 3 "$W/logs/bench.log"
    done < <(plan 'print("\n".join(r["model"] + " " + ",".join(map(str, r["batches"])) for r in plan["raw_engine"]))')
fi

# The report from whatever is there so far: written after each phase too, so that a run stopped
# from outside still leaves one.
write_report() {
    local log
    : >"$OUT/server.log"
    for log in "$W"/logs/server-*.log; do
        [[ -f $log ]] || continue
        {
            echo "==== $(basename "$log"): warnings and errors"
            grep -E '\[(WARN|ERROR)\]' "$log" | head -n 100
            echo "==== $(basename "$log"): last 150 lines"
            tail -n 150 "$log"
        } >>"$OUT/server.log"
    done
    [[ -f $W/logs/bench.log ]] && { echo "==== bench.log: last 60 lines"; tail -n 60 "$W/logs/bench.log"; } >>"$OUT/server.log"
    # A JVM that died in native code leaves its crash report in its working directory.
    for log in "$W"/hs_err_pid*.log; do
        [[ -f $log ]] || continue
        { echo "==== $(basename "$log"): first 120 lines"; head -n 120 "$log"; } >>"$OUT/server.log"
    done
    timeout 60 "$PY" "$B/tools/gpu/report.py" --work "$W" --out "$OUT" --protocol "$PROTOCOL" \
        --elapsed $((SECONDS - T0)) ${1:+--partial} >"$W/logs/report.out" 2>&1 || say "report.py failed: $(tail -n 5 "$W/logs/report.out")"
    [[ -n ${1:-} ]] || cat "$W/logs/report.out"
}

# ---- servers ------------------------------------------------------------------------------------
server_pid=""
stop_server() {
    [[ -n $server_pid ]] || return 0
    kill "$server_pid" 2>/dev/null
    for _ in $(seq 40); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=""
}
trap stop_server EXIT

serve() { # serve NAME MODELS LIMIT [REPOSITORY]: starts a server on free ports; $W/server-NAME.json says where
    local log=$W/logs/server-$1.log repo=${4:-$W/models}
    if (($(left) < 15)); then
        say "-- server $1: skipped, the time budget is spent"
        record "server $1: start" skipped 0 "time budget spent"
        return 1
    fi
    say "starting server '$1' with $2"
    # In-flight bytes for 64 requests of 8 images (308 MB) at once: the default (256 MiB) sheds some of
    # the instance measurement's requests with 503 and a closed connection.
    (cd "$W" && exec "${JAVA_RUN[@]}" -jar "$JAR" serve --model-repository "$repo" --models "$2" \
        --http-port 0 --grpc-port 0 --metrics-port 0 --management-port 0 --disable-token-auth \
        --max-inflight-bytes 2g --access-log off) >"$log" 2>&1 &
    server_pid=$!
    step "server $1: start" "$3" "$PY" "$B/tools/gpu/probe.py" wait --log "$log" --pid "$server_pid" \
        --timeout "$3" --out "$W/server-$1.json"
}
ready() { "$PY" -c 'import json, sys; print(",".join(n for n, m in json.load(open(sys.argv[1]))["models"].items() if m["state"] == "READY"))' "$1" 2>/dev/null; }
field() { "$PY" -c "import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]) or '')" "$1" "$2" 2>/dev/null; }

main_models=$(present "$(plan 'print(",".join(plan["servers"]["main"]))')")
if [[ -n $main_models ]] && want main; then
    serve main "$main_models" 240
    http_url=$(field "$W/server-main.json" http)
    grpc_url=$(field "$W/server-main.json" grpc)
    if [[ -n $http_url ]]; then
        url=$http_url
        ready_models=$(ready "$W/server-main.json")
        [[ $PROTOCOL == grpc* ]] && url=$grpc_url
        aoti=$(plan 'print(plan["aoti"])')
        points=$(plan 'print("\n".join(" ".join(str(p[k]) for k in ("id", "model", "batch", "concurrency", "warmup", "duration")) for p in plan["points"]))')
        bench_point() { # id model batch concurrency warmup duration
            if [[ ",$ready_models," != *",$2,"* ]]; then
                say "-- bench $1: skipped, $2 is not loaded"
                record "bench $1" skipped 0 "$2 not loaded"
                return
            fi
            # The server's own statistics around the point: where its time went (queue, engine, the rest).
            mkdir -p "$W/stats"
            fetch "$http_url/v2/models/$2/stats" "$W/stats/$1.before.json"
            step --log "$W/logs/bench.log" "bench $1" 60 "${BENCH_RUN[@]}" -jar "$JAR" bench --url "$url" --model "$2" \
                --protocol "$PROTOCOL" --batch "$3" --concurrency "$4" --warmup "$5" --duration "$6" \
                --json "$W/bench/$1.json"
            fetch "$http_url/v2/models/$2/stats" "$W/stats/$1.after.json"
            tail -n 2 "$W/logs/bench.log"
        }
        while read -r id model batch conc warm dur; do
            [[ -n $id && $model != "$aoti" ]] && bench_point "$id" "$model" "$batch" "$conc" "$warm" "$dur"
        done <<<"$points"
        step "compare outputs with PyTorch" 90 "$PY" "$B/tools/gpu/probe.py" compare --server "$W/server-main.json" \
            --plan "$W/plan.json" --refs "$W/refs" --out "$W/probe/compare.json"
        # The package last, loaded into the running server once compiled: whatever it does to the server
        # cannot cost the measurements above.
        if [[ -n $aoti_pid ]]; then
            say "waiting for the AOTInductor package"
            wait "$aoti_pid"
            aoti_pid=""
            tail -n 2 "$OUT/models.log"
        fi
        if [[ -n $(present "$aoti") ]]; then
            # PyTorch alone, then torchlight's engine library from Python (no JVM), then the server: the
            # three tell a fault of the package, of the engine's use of it and of the JVM apart.
            step --log "$OUT/models.log" "run $aoti in PyTorch" 90 "$PY" "$B/tools/gpu/probe.py" package \
                --plan "$W/plan.json" --repo "$W/models" --via pytorch
            step --log "$OUT/models.log" "run $aoti through the engine library, no JVM" 90 \
                env "LD_LIBRARY_PATH=$ENGINE_LD" "$PY" "$B/tools/gpu/probe.py" package --plan "$W/plan.json" \
                --repo "$W/models" --via engine --native "$B/native" --library "$engine"
            tail -n 4 "$OUT/models.log"
            step "server main: load $aoti" 180 "$PY" "$B/tools/gpu/probe.py" load --server "$W/server-main.json" \
                --model "$aoti" --out "$W/probe/load-$aoti.json"
            ready_models=$(ready "$W/server-main.json")
        fi
        while read -r id model batch conc warm dur; do
            [[ -n $id && $model == "$aoti" ]] && bench_point "$id" "$model" "$batch" "$conc" "$warm" "$dur"
        done <<<"$points"
    fi
    stop_server
    write_report partial
fi

# ---- the engine library's own tests (test_engine.py, through its C ABI) on this device -----------
# Its CUDA cases (every GPU setting, captures beside other threads' work, streams, memory, faults)
# run where there is a GPU; after the main server, before the memory and example servers (which
# have passed before), so that the budget cannot cut it. The repository travels beside the bundle
# with its testdata/; a bundle alone skips this.
self_test=$B/../engine-libtorch/src/main/native/test_engine.py
if ! want engine-tests; then
    :
elif [[ -f $self_test && -f $engine ]]; then
    # Their CUDA AOTInductor case (about 110 s) only when asked: the main server's steps run a CUDA
    # package in PyTorch, through the engine library and in the server already.
    step --log "$OUT/build.log" "the engine library's own tests" 210 env "LD_LIBRARY_PATH=$ENGINE_LD" \
        "TL_TEST_SKIP_CUDA_AOTI=${TL_CHECK_SKIP_CUDA_AOTI_TEST:-1}" \
        "$PY" "$self_test" "$engine" ${TL_CHECK_ENGINE_TEST_ARGS:-}
    grep -E "^(Ran|OK|FAILED)" "$OUT/build.log" | tail -n 2
else
    record "the engine library's own tests" skipped 0 "no repository beside the bundle, or no library"
fi

# Nothing else may hold GPU memory while it is measured: the compile, if still running, ends first.
[[ -n $aoti_pid ]] && wait "$aoti_pid"
aoti_pid=""
aux_models=$(present "$(plan 'print(",".join(plan["servers"]["aux"]))')")
if [[ -n $aux_models ]] && want aux; then
    serve aux "$aux_models" 120
    if [[ -n $(field "$W/server-aux.json" http) ]]; then
        step "memory after unload" 150 "$PY" "$B/tools/gpu/probe.py" memory --server "$W/server-aux.json" \
            --plan "$W/plan.json" --refs "$W/refs" --pid "$server_pid" --out "$W/probe/memory.json"
        step "out-of-memory recovery" 150 "$PY" "$B/tools/gpu/probe.py" oom --server "$W/server-aux.json" \
            --plan "$W/plan.json" --refs "$W/refs" --out "$W/probe/oom.json"
    fi
    stop_server
fi

# ---- the examples' workloads ------------------------------------------------------------------
# Risk scoring: the latency-target model and the same model unbatched, each an open-loop ladder of
# rates replaying the recorded transactions over gRPC, stopping above the 8 ms objective.
# Recommendation: the DLRM-style model (fp16 tables on a GPU), ragged multi-hot requests of 1, 32 and
# 256 rows, 4 in flight.
[[ -n ${examples_pid:-} ]] && wait "$examples_pid"
ex_repo=$W/examples/models
ex_models=()
for m in risk risk_nobatch dlrm; do
    [[ -f $ex_repo/$m/config.yaml && -f $ex_repo/$m/1/model.pt ]] && ex_models+=("$m")
done
if ! want examples; then
    :
elif ((${#ex_models[@]})); then
    serve examples "$(IFS=,; echo "${ex_models[*]}")" 180 "$ex_repo"
    ex_http=$(field "$W/server-examples.json" http)
    ex_grpc=$(field "$W/server-examples.json" grpc)
    ex_ready=$(ready "$W/server-examples.json")
    if [[ $DEVICE == cuda ]]; then
        risk_rates=1000,2000,4000,8000,16000 first_warm=5s ex_warm=1s ex_dur=2s
    else
        risk_rates=200,500,1000 first_warm=3s ex_warm=500ms ex_dur=1s
    fi
    for m in risk risk_nobatch; do
        [[ -n $ex_grpc && ",$ex_ready," == *",$m,"* ]] || { record "example $m" skipped 0 "not loaded"; continue; }
        step --log "$W/logs/bench.log" "example $m: rate ladder" 75 "${BENCH_RUN[@]}" -jar "$JAR" bench --url "$ex_grpc" \
            --model "$m" --protocol grpc --replay "$W/examples/stream.jsonl" --rate "$risk_rates" \
            --stop-above-p99 8 --first-warmup "$first_warm" --warmup "$ex_warm" --duration "$ex_dur" \
            --json "$W/bench/example-$m.json"
        tail -n 3 "$W/logs/bench.log"
    done
    if [[ -n $ex_http && ",$ex_ready," == *",dlrm,"* ]]; then
        for b in 1 32 256; do
            body=$W/examples/request-$b.json
            "$PY" "$B/tools/recommendation/client.py" --repository "$ex_repo" --write-request "$body" --batch "$b" >/dev/null \
                || { record "example dlrm b$b" "failed (no request body)" 0; continue; }
            step --log "$W/logs/bench.log" "example dlrm b$b" 30 "${BENCH_RUN[@]}" -jar "$JAR" bench --url "$ex_http" \
                --model dlrm --input-file "$body" --batch "$b" --concurrency 4 --warmup "$ex_warm" --duration "$ex_dur" \
                --json "$W/bench/example-dlrm-b$b.json"
            tail -n 2 "$W/logs/bench.log"
        done
    else
        record "example dlrm" skipped 0 "not loaded"
    fi
    stop_server
else
    say "-- the examples: no models were made (see models.log)"
    record "the examples" skipped 0 "no models"
fi

# ---- report (outside the budget: it must always be written) ------------------------------------
say "writing the report"
write_report
ls -la "$OUT"
say "done in $((SECONDS - T0))s"
# The last lines reach check.log only once tee has read them: close its input and let it finish.
exec >&- 2>&-
wait "$tee_pid" 2>/dev/null || sleep 1
