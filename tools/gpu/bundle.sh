#!/usr/bin/env bash
# Prepares what one GPU check needs on a machine with no Java and no network, in one folder:
#
#   tools/gpu/bundle.sh [DIR]        # default gpu-bundle/ at the repository root (ignored by git)
#
# DIR/jre.tar.xz     a Java runtime cut from this machine's JDK with jlink (the modules the server
#                    jar uses), so nothing has to be installed there
# DIR/torchlight.jar the server jar as built here (its CPU engine library is replaced there by one
#                    built against that machine's CUDA PyTorch)
# DIR/native/        the engine library's sources and build.sh, the same snapshot as the jar: the
#                    jar and the library must agree on the C ABI even while others edit the tree
# DIR/tools/         make_bench_models.py, examples/medical-3d/make_model.py (as tools/medical-3d/) and
#                    tools/gpu's scripts, check.sh at DIR/check.sh
# DIR/jvm.options    tools/jvm.options: the servers there run with the launcher's JVM options
#
# The jar is rebuilt first (./mvnw install -DskipTests) unless TL_BUNDLE_NO_BUILD=1. Then, on the
# device machine: bash DIR/check.sh (tools/gpu/README.md).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:-$root/gpu-bundle}
limit_mib=60

die() { echo "bundle.sh: $*" >&2; exit 1; }
say() { echo "bundle.sh: $*" >&2; }

# shellcheck source=tools/find_jdk.sh
. "$root/tools/find_jdk.sh"
find_jdk || die "no JDK 25 found (set JAVA_HOME)"
for tool in jlink jdeps; do
    [[ -x "$JAVA_HOME/bin/$tool" ]] || die "$JAVA_HOME has no bin/$tool (a JDK, not a JRE, is needed)"
done
command -v xz >/dev/null || die "xz not found"

jar="$root/server/target/torchlight.jar"
if [[ "${TL_BUNDLE_NO_BUILD:-0}" != 1 ]]; then
    say "building $jar"
    (cd "$root" && ./mvnw -o -B -q install -DskipTests) >&2 || die "the build failed"
fi
[[ -f "$jar" ]] || die "$jar is missing (build with ./mvnw install -DskipTests)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out/native" "$out/tools/gpu"

# The runtime; zip-0 leaves the modules image uncompressed so that xz, which compresses far better,
# does it once.
"$root/tools/jlink.sh" "$JAVA_HOME" "$jar" "$tmp/jre" --compress zip-0 || die "jlink failed"
tar -C "$tmp" -cf - jre | xz -T0 -6 >"$out/jre.tar.xz"

cp "$jar" "$out/torchlight.jar"
native="$root/engine-libtorch/src/main/native"
# The jar's Java side and the library built there from native/ must agree on the C ABI.
changed=$(find "$native" -maxdepth 1 -type f -newer "$jar" -printf '%f ')
[[ -z $changed ]] || say "warning: $changed changed after $jar was built; rebuild (without TL_BUNDLE_NO_BUILD) if the C ABI moved"
cp "$native/CMakeLists.txt" "$native/build.sh" "$native/test_engine.py" "$native"/*.cpp "$native"/*.h "$out/native/"
cp "$root/tools/make_bench_models.py" "$out/tools/"
mkdir -p "$out/tools/medical-3d" "$out/tools/risk-scoring" "$out/tools/recommendation"
cp "$root/examples/medical-3d/make_model.py" "$out/tools/medical-3d/"
cp "$root/examples/risk-scoring/make_model.py" "$out/tools/risk-scoring/"
cp "$root/examples/recommendation/make_model.py" "$root/examples/recommendation/client.py" "$out/tools/recommendation/"
cp "$root/tools/gpu/"*.py "$out/tools/gpu/"
cp "$root/tools/gpu/check.sh" "$out/check.sh"
cp "$root/tools/jvm.options" "$out/jvm.options" # the servers' JVM options, as the launcher's
# What the bundle was made from, for check.md.
{
    echo "commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "dirty=$(git -C "$root" status --porcelain 2>/dev/null | wc -l | tr -d ' ') changed files"
    echo "made=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "java=$("$tmp/jre/bin/java" -version 2>&1 | head -n 1)"
} >"$out/bundle.properties"

# build.sh finds the repository root four levels up from its own folder and asks it for a Python
# environment only when LIBTORCH is unset; check.sh always sets LIBTORCH, so native/ can stand alone.
printf '%-30s %8s\n' file KiB
(cd "$out" && find . -type f -printf '%P\t%s\n' | sort) | while IFS=$'\t' read -r f s; do
    printf '%-30s %8d\n' "$f" $(((s + 1023) / 1024))
done
total=$(du -sb "$out" | cut -f1)
printf '%-30s %8d  (%s MiB, limit %d MiB)\n' total $(((total + 1023) / 1024)) \
    "$(awk -v b="$total" 'BEGIN {printf "%.1f", b / 1048576}')" "$limit_mib"
((total <= limit_mib * 1024 * 1024)) || die "the bundle is larger than $limit_mib MiB"
say "ready: $out (device call: run with carry [\"$(basename "$out")\"], command: bash $(basename "$out")/check.sh)"
