#!/usr/bin/env bash
# Assembles the file trees of torchlight's container image:
#
#   rootfs.sh --jdk JDK_HOME [--libtorch[=]DIR] OUT_DIR
#
# The image starts from nothing (Jib's base "scratch"), so everything the server loads is put here,
# one tree per image layer, each copied by Jib to the image's root:
#
#   OUT_DIR/runtime   /opt/java (a Java runtime cut from JDK_HOME with jlink, the server's JVM options
#                     from tools/jvm.options as its defaults), the system libraries
#                     the JVM, libtorch and the engine link (glibc, libstdc++, libgcc_s: what ldd
#                     names) in /lib/x86_64-linux-gnu and the loader in /lib64, /etc/passwd and group (user
#                     torchlight, uid and gid 1000), /etc/nsswitch.conf, /tmp
#   OUT_DIR/libtorch  /opt/torchlight/lib: the libtorch libraries the engine library links
#   OUT_DIR/app       /opt/torchlight/torchlight.jar with its AOT cache torchlight.aot, and in
#                     /opt/torchlight/lib the engine library with a libtorch.properties naming
#                     /opt/torchlight/lib
#   OUT_DIR/models    /models: the demo model repository (models/ of this project)
#
# Ordered from the least to the most often changed, so a new build of the server ships one small
# layer. The libraries are copied from where this machine's loader finds them (ldd), so the image
# carries the glibc the JVM and libtorch were checked against here; every library is a plain file
# named by its soname (no links) and the engine finds libtorch beside itself ($ORIGIN in its RPATH).
#
# The server jar and the engine library come from this build (server/target/torchlight.jar,
# engine-libtorch/target/native). With --libtorch DIR (a libtorch directory, e.g. a CUDA archive
# from pytorch.org, as for LIBTORCH= in docs/ENGINE.md) the engine library is built against DIR
# into OUT_DIR/../engine instead; the jar's own CPU library is then left unused. A CUDA libtorch
# brings every library of the directories its libraries come from, since cuDNN and cuBLAS open
# parts of themselves at run time, which ldd cannot see.
set -euo pipefail

die() { echo "rootfs.sh: $*" >&2; exit 1; }
say() { echo "rootfs.sh: $*" >&2; }

jdk="" libtorch=""
while (($#)); do
    case "$1" in
        --jdk) jdk=${2-}; shift 2 || die "--jdk needs a directory" ;;
        --libtorch) libtorch=${2-}; shift 2 || die "--libtorch needs a directory" ;;
        --libtorch=*) libtorch=${1#--libtorch=}; shift ;;  # empty: the build's own engine library
        -*) die "unknown option $1" ;;
        *) break ;;
    esac
done
[[ $# -eq 1 && -n "$1" ]] || die "usage: rootfs.sh --jdk JDK_HOME [--libtorch DIR] OUT_DIR"
[[ -n "$jdk" ]] || die "--jdk JDK_HOME is required"
for tool in jlink jdeps java; do
    [[ -x "$jdk/bin/$tool" ]] || die "$jdk has no bin/$tool (a JDK is needed)"
done
for tool in ldd readelf strip; do
    command -v "$tool" >/dev/null || die "$tool not found on PATH"
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
jar="$root/server/target/torchlight.jar"
[[ -f "$jar" ]] || die "$jar is missing; build the server first (./mvnw -Pimage package builds both)"

# --- the engine library and the libtorch it was built against -------------------------------------
if [[ -n "$libtorch" ]]; then
    [[ -d "$libtorch" ]] || die "--libtorch $libtorch is not a directory"
    engine_dir="$out/../engine"
    say "building the engine library against $libtorch"
    LIBTORCH="$libtorch" bash "$root/engine-libtorch/src/main/native/build.sh" "$engine_dir"
else
    engine_dir="$root/engine-libtorch/target/native"
fi
engine="$engine_dir/libtorchlight_engine.so"
[[ -f "$engine" && -f "$engine_dir/libtorch.properties" ]] \
    || die "no engine library in $engine_dir; build engine-libtorch first"
libtorch_lib=$(sed -n 's/^libtorch\.dir=//p' "$engine_dir/libtorch.properties")
libtorch_version=$(sed -n 's/^libtorch\.version=//p' "$engine_dir/libtorch.properties")
[[ -d "$libtorch_lib" ]] || die "the engine library's libtorch ($libtorch_lib) is gone; rebuild it"
# The image puts libtorch beside the engine library, where only $ORIGIN in its search path finds it.
readelf -d "$engine" | grep -E 'R(UN)?PATH' | grep -q '\$ORIGIN' \
    || die "$engine does not search its own directory (\$ORIGIN) for libtorch"

rm -rf "$out/runtime" "$out/libtorch" "$out/app" "$out/models" "$out/aot-training.log"
mkdir -p "$out/runtime" "$out/libtorch/opt/torchlight/lib" "$out/app/opt/torchlight/lib" "$out/models"
syslib="$out/runtime/lib/x86_64-linux-gnu"
mkdir -p "$syslib" "$out/runtime/lib64"

# --- the Java runtime ------------------------------------------------------------------------------
# --add-options: the server's JVM options (tools/jvm.options, which the launcher uses too) become the
# runtime's defaults, read before any other option, so that JDK_JAVA_OPTIONS, JAVA_TOOL_OPTIONS or the
# command override each; and the AOT training run below runs with them as every later start does.
# --generate-cds-archive: the JDK's class data sharing archive for these modules (made under those
# options, so for ZGC), which a start without the AOT cache maps instead of parsing the core classes.
jvm_options=$(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$root/tools/jvm.options" | paste -sd' ' -)
say "JVM options: $jvm_options"
"$root/tools/jlink.sh" "$jdk" "$jar" "$out/runtime/opt/java" --add-options="$jvm_options" --generate-cds-archive \
    || die "jlink failed"
flags=$("$out/runtime/opt/java/bin/java" -XX:+PrintFlagsFinal -version 2>/dev/null)
for option in $jvm_options; do
    name=${option#-XX:}; name=${name#[+-]}; name=${name%%=*}
    grep -Eq " $name +=.*\{jimage\}" <<<"$flags" || die "the linked runtime does not default to $option"
done
# jlink links the notices that modules share; the image takes plain files.
cp -rL "$out/runtime/opt/java/legal" "$out/runtime/opt/java/legal.files"
rm -rf "$out/runtime/opt/java/legal"
mv "$out/runtime/opt/java/legal.files" "$out/runtime/opt/java/legal"

# --- libraries -------------------------------------------------------------------------------------
# ldd of a file: "soname path" for every library it resolves; fails on any it cannot. The JVM's
# libraries find libjvm.so only because the JVM has loaded it, so ldd is told where it is.
resolve() {
    local listing
    listing=$(LD_LIBRARY_PATH="$out/runtime/opt/java/lib/server" ldd "$1" 2>&1) || die "ldd failed on $1: $listing"
    if grep -q 'not found' <<<"$listing"; then
        die "$1 needs libraries this machine lacks: $(awk '/not found/ {print $1}' <<<"$listing" | paste -sd' ' -)"
    fi
    awk '$2 == "=>" && $3 ~ /^\// {print $1, $3} $1 ~ /^\// && $1 ~ /ld-linux/ {print "LOADER", $1}' <<<"$listing"
}

is_system() { [[ "$1" == /lib/* || "$1" == /lib64/* || "$1" == /usr/lib/* || "$1" == /usr/lib64/* ]]; }

declare -A system_libs=() torch_dirs=()
loader=""
add_deps() { # add_deps FILE: records every library FILE needs; libtorch's go to the libtorch layer
    local name path
    while read -r name path; do
        if [[ "$name" == LOADER ]]; then
            loader=$path
        elif [[ "$path" == "$out"/* ]]; then
            continue  # the Java runtime's own
        elif is_system "$path"; then
            system_libs[$name]=$path
        else
            cp -L "$path" "$out/libtorch/opt/torchlight/lib/$name"
            torch_dirs[$(dirname "$(readlink -f "$path")")]=1
        fi
    done < <(resolve "$1")
}

say "libtorch $libtorch_version from $libtorch_lib"
add_deps "$engine"
if [[ -f "$out/libtorch/opt/torchlight/lib/libtorch_cuda.so" ]]; then
    for dir in "${!torch_dirs[@]}"; do
        say "CUDA libtorch: all libraries of $dir"
        for lib in "$dir"/*.so "$dir"/*.so.*; do
            [[ -f "$lib" ]] || continue
            case "${lib##*/}" in
                libtorch_python.so|libshm*|*test*) continue ;;  # Python bindings and test libraries
            esac
            cp -L -n "$lib" "$out/libtorch/opt/torchlight/lib/"
            add_deps "$lib"
        done
    done
fi
for lib in "$out/libtorch/opt/torchlight/lib"/*; do
    add_deps "$lib"
done
# The wheel's libraries keep their full symbol tables (90 MB of libtorch_cpu.so), read only by
# debuggers and profilers; what the loader and libtorch's own messages use (.dynsym) stays.
for lib in "$out/libtorch/opt/torchlight/lib"/*; do
    strip --strip-unneeded "$lib"
done

# The JVM and its native libraries, except those for a display or sound card (never loaded: the
# image decoders run headless).
while IFS= read -r -d '' lib; do
    case "${lib##*/}" in
        libawt_xawt.so|libjawt.so|libsplashscreen.so|libjsound.so) continue ;;
    esac
    add_deps "$lib"
done < <(find "$out/runtime/opt/java" -type f \( -name '*.so' -o -path '*/bin/*' \) -print0)

[[ -n "$loader" ]] || die "ldd named no dynamic loader"
cp -L "$loader" "$out/runtime/lib64/ld-linux-x86-64.so.2"
for name in "${!system_libs[@]}"; do
    cp -L "${system_libs[$name]}" "$syslib/$name"
done
# glibc also opens libgcc_s by itself, to unwind threads that exit or are cancelled.
[[ -f "$syslib/libgcc_s.so.1" ]] || die "no libgcc_s.so.1 among the libraries ldd named"

# --- the server, the engine, the demo models -------------------------------------------------------
cp "$jar" "$out/app/opt/torchlight/torchlight.jar"
cp "$engine" "$out/app/opt/torchlight/lib/libtorchlight_engine.so"
printf 'libtorch.dir=/opt/torchlight/lib\nlibtorch.version=%s\n' "$libtorch_version" \
    >"$out/app/opt/torchlight/lib/libtorch.properties"
cp -r "$root/models" "$out/models/models"

# --- the AOT cache ---------------------------------------------------------------------------------
# A training run of the image's own runtime and jar (start, one request per model, stop) leaves an
# AOT cache (JEP 483, 514, 515) of the classes start-up loads, already parsed and linked; starts that
# map it reach ready about a second sooner. The JVM uses it only with the same runtime and a jar of
# the same size and time, hence the jar's time is set here to the one Jib gives every file
# (1970-01-01T00:00:01Z), and only under the collector it was made with: the runtime's own options
# (ZGC) apply to this run as to the image's starts. Where it does not match (another jar, another
# collector) the JVM says so and starts without it.
command -v python3 >/dev/null || die "python3 not found on PATH (the AOT training run needs it)"
touch -d @1 "$out/app/opt/torchlight/torchlight.jar"
say "AOT training run"
python3 "$root/tools/image/aot_training.py" "$out/models/models" \
    "$out/runtime/opt/java/bin/java" -XX:AOTCacheOutput="$out/app/opt/torchlight/torchlight.aot" \
    -Xlog:aot=warning,cds=warning -XX:-UsePerfData -Dtorchlight.engine.library="$engine" \
    -jar "$out/app/opt/torchlight/torchlight.jar" >"$out/aot-training.log" 2>&1 \
    || { tail -n 30 "$out/aot-training.log" >&2; die "the AOT training run failed (log: $out/aot-training.log)"; }
[[ -s "$out/app/opt/torchlight/torchlight.aot" ]] \
    || { tail -n 30 "$out/aot-training.log" >&2; die "the training run wrote no AOT cache"; }

# --- /etc, /tmp -------------------------------------------------------------------------------------
mkdir -p "$out/runtime/etc" "$out/runtime/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\ntorchlight:x:1000:1000:torchlight:/tmp:/sbin/nologin\n' \
    >"$out/runtime/etc/passwd"
printf 'root:x:0:\ntorchlight:x:1000:\n' >"$out/runtime/etc/group"
# glibc's defaults without this file would ask DNS before /etc/hosts.
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$out/runtime/etc/nsswitch.conf"

# Jib keeps the files' contents and sets their times itself; the permissions it is told (pom.xml).
say "$(du -sh "$out/runtime" | cut -f1) runtime, $(du -sh "$out/libtorch" | cut -f1) libtorch," \
    "$(du -sh "$out/app" | cut -f1) server, $(du -sh "$out/models" | cut -f1) models"
