#!/usr/bin/env bash
# Runs torchlight's image as a container and checks it serves:
#
#   tools/image/run.sh [IMAGE_TAR]      (default: image/target/torchlight-image.tar)
#
# No Docker engine: the OCI archive Jib wrote is unpacked with umoci into a runtime bundle and run
# with runc, as root (apt-get installs umoci, runc and curl when missing). The container shares the
# host's network namespace (its listeners take free ports, passed as TORCHLIGHT_*_PORT) and runs
# with a read-only root file system and a fresh tmpfs on /tmp, as under Kubernetes'
# readOnlyRootFilesystem with an emptyDir on /tmp. Checks, each with a deadline:
#   - ready (/v2/health/ready answers 200), timed from `runc run`; the JVM used the AOT cache and runs
#     generational ZGC
#   - one inference on the demo model mlp equals PyTorch's output (testdata/golden/mlp_v1.json, whose
#     model file is the demo's) within 1e-5
#   - the server runs as uid 1000; the management API refuses a call without the key (401) and
#     takes one with the key from the key file the image names (/tmp/torchlight/keys.json)
#   - metrics answer; the access log is on stdout; SIGTERM stops the container
# Prints the image's size (the archive, and unpacked) and the time to ready.
set -euo pipefail

die() { echo "run.sh: FAIL: $*" >&2; exit 1; }
say() { echo "run.sh: $*" >&2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tarball=${1:-$root/image/target/torchlight-image.tar}
[[ -f "$tarball" ]] || die "no image archive $tarball; build it with ./mvnw -Pimage package -DskipTests"
[[ $(id -u) -eq 0 ]] || die "runc needs root"
golden="$root/testdata/golden/mlp_v1.json"
cmp -s "$root/models/mlp/1/model.pt" "$root/testdata/models/mlp/1/model.pt" \
    || die "models/mlp/1/model.pt is no longer the model of $golden; remake the golden for it"

missing=()
command -v umoci >/dev/null || missing+=(umoci)
command -v runc >/dev/null || missing+=(runc)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 \
        || die "cannot install ${missing[*]}"
fi

work=$(mktemp -d /tmp/torchlight-image.XXXXXX)
id="torchlight-image-check-$$"
cleanup() {
    if runc state "$id" >/dev/null 2>&1; then
        runc kill "$id" KILL >/dev/null 2>&1 || true
        runc delete --force "$id" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
seconds() { python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.2f}")' "$1" "$2"; }

# --- unpack --------------------------------------------------------------------------------------
t=$(now)
mkdir "$work/oci"
tar -xf "$tarball" -C "$work/oci"
[[ -f "$work/oci/index.json" && -f "$work/oci/oci-layout" ]] || die "$tarball is not an OCI image layout archive"
# Jib names the image by its whole reference (torchlight:TAG); umoci takes LAYOUT:TAG, so the copy
# here is tagged with a plain name.
python3 - "$work/oci/index.json" <<'EOF'
import json, sys
path = sys.argv[1]
index = json.load(open(path))
if len(index["manifests"]) != 1:
    sys.exit("run.sh: expected one image in the archive, found %d" % len(index["manifests"]))
index["manifests"][0].setdefault("annotations", {})["org.opencontainers.image.ref.name"] = "checked"
json.dump(index, open(path, "w"))
EOF
umoci unpack --image "$work/oci:checked" "$work/bundle" >"$work/umoci.log" 2>&1 \
    || { cat "$work/umoci.log" >&2; die "umoci could not unpack the image"; }
say "unpacked in $(seconds "$t" "$(now)") s"

ports=$(python3 - <<'EOF'
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
)
read -r http grpc management metrics <<<"$ports"

# runc's configuration as umoci made it from the image (user, entrypoint, environment), changed so
# that the host can reach the listeners and nothing but /tmp is writable.
python3 - "$work/bundle/config.json" "$http" "$grpc" "$management" "$metrics" <<'EOF'
import json, sys
path, http, grpc, management, metrics = sys.argv[1:]
config = json.load(open(path))
process = config["process"]
process["terminal"] = False
process["noNewPrivileges"] = True
process["env"] += [f"TORCHLIGHT_HTTP_PORT={http}", f"TORCHLIGHT_GRPC_PORT={grpc}",
                   f"TORCHLIGHT_MANAGEMENT_PORT={management}", f"TORCHLIGHT_METRICS_PORT={metrics}"]
linux = config["linux"]
linux["namespaces"] = [ns for ns in linux["namespaces"] if ns["type"] != "network"]
config["root"]["readonly"] = True
config["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                         "options": ["nosuid", "nodev", "mode=1777", "size=256m"]})
json.dump(config, open(path, "w"), indent=2)
EOF
user=$(python3 -c 'import json,sys; u=json.load(open(sys.argv[1]))["process"]["user"]; print(u["uid"], u["gid"])' \
    "$work/bundle/config.json")
[[ "$user" == "1000 1000" ]] || die "the image runs as uid/gid $user, not 1000/1000"

# --- start, ready ----------------------------------------------------------------------------------
base="http://127.0.0.1:$http"
say "runc run (HTTP $http, gRPC $grpc, management $management, metrics $metrics)"
start=$(now)
(cd "$work/bundle" && runc run -d "$id" >"$work/container.out" 2>"$work/container.err" </dev/null) \
    || { cat "$work/container.err" >&2; die "runc run failed"; }
deadline=$((SECONDS + 60))
until curl -sf -o /dev/null "$base/v2/health/ready"; do
    if [[ $(runc state "$id" 2>/dev/null) != *'"status": "running"'* ]]; then
        cat "$work/container.err" >&2
        die "the container stopped before it was ready"
    fi
    ((SECONDS < deadline)) || { cat "$work/container.err" >&2; die "not ready within 60 s"; }
    sleep 0.02
done
ready=$(seconds "$start" "$(now)")
say "ready $ready s after runc run"

# The JVM says when it cannot use the image's AOT cache (another runtime, a changed jar), and starts slower.
if grep -q '\[aot' "$work/container.err"; then
    grep '\[aot' "$work/container.err" >&2
    die "the JVM did not use the image's AOT cache"
fi

pid=$(runc state "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[[ "$uid" == 1000 ]] || die "the server runs as uid $uid"
# The collector the image's runtime defaults to (tools/jvm.options), known by its threads' names.
grep -qsx ZDriverMajor /proc/"$pid"/task/*/comm || die "the server does not run generational ZGC"

# --- one inference against PyTorch's output ---------------------------------------------------------
python3 - "$golden" >"$work/request.json" <<'EOF'
import json, sys
golden = json.load(open(sys.argv[1]))
x = golden["inputs"][0]
print(json.dumps({"inputs": [{"name": x["name"], "datatype": "FP32", "shape": [1, 64], "data": x["data"][:64]}]}))
EOF
curl -sf --max-time 10 -H 'Content-Type: application/json' --data @"$work/request.json" \
    "$base/v2/models/mlp/infer" >"$work/answer.json" || die "the inference request failed"
python3 - "$golden" "$work/answer.json" <<'EOF' || die "the inference differs from PyTorch's"
import json, sys
golden = json.load(open(sys.argv[1]))
answer = json.load(open(sys.argv[2]))
want = golden["outputs"][0]["data"][:2]       # row 0 of PyTorch's [2, 2] output
out = answer["outputs"][0]
if out["shape"] != [1, 2] or out["datatype"] != "FP32":
    sys.exit(f"run.sh: answer {out['datatype']} {out['shape']}, expected FP32 [1, 2]")
diff = max(abs(a - b) for a, b in zip(out["data"], want))
print(f"run.sh: mlp [1, 64] -> {out['data']}, PyTorch {want}, largest difference {diff:.2e}", file=sys.stderr)
if diff > 1e-5:
    sys.exit(1)
EOF

# --- management keys, metrics -------------------------------------------------------------------------
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$management/models")
[[ "$code" == 401 ]] || die "the management API answered $code without a key, not 401"
keys="/proc/$pid/root/tmp/torchlight/keys.json"
[[ -f "$keys" ]] || die "no key file at /tmp/torchlight/keys.json in the container"
key=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["management"])' "$keys")
curl -sf -o /dev/null --max-time 5 -H "Authorization: Bearer $key" "http://127.0.0.1:$management/models" \
    || die "the management API refused the key from the key file"
curl -sf --max-time 5 -o "$work/metrics.txt" "http://127.0.0.1:$metrics/metrics" \
    || die "the metrics port did not answer"
grep -q '^torchlight_' "$work/metrics.txt" || die "no torchlight metrics on the metrics port"
grep -q '"/v2/models/mlp/infer"' "$work/container.out" || die "no access log line on stdout"
say "uid 1000, management 401 without the key and 200 with it, metrics, access log on stdout: ok"

# --- stop -----------------------------------------------------------------------------------------
runc kill "$id" TERM
deadline=$((SECONDS + 40))
until [[ $(runc state "$id" 2>/dev/null) == *'"status": "stopped"'* ]]; do
    ((SECONDS < deadline)) || die "still running 40 s after SIGTERM"
    sleep 0.05
done
runc delete "$id"
say "stopped on SIGTERM"

archive=$(stat -c %s "$tarball")
unpacked=$(du -sb "$work/bundle/rootfs" | cut -f1)
mib() { python3 -c 'import sys; print(f"{int(sys.argv[1]) / 2**20:.0f} MiB")' "$1"; }
echo "run.sh: PASS: image $(mib "$unpacked") unpacked, archive $(mib "$archive"); ready ${ready} s after runc run"
