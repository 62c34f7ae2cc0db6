#!/usr/bin/env bash
# Builds torchlight's engine library:  build.sh OUT_DIR
#
# Writes OUT_DIR/libtorchlight_engine.so and OUT_DIR/libtorch.properties (libtorch.dir: the lib
# directory the library was linked against and finds at run time through its RPATH;
# libtorch.version), building in OUT_DIR/build. Incremental: a second run with nothing changed
# only checks.
#
# Which libtorch:
#   LIBTORCH=<dir>  a libtorch directory holding include/, lib/ and share/cmake/Torch: an unpacked
#                   libtorch archive (e.g. a CUDA build from pytorch.org), or the torch package
#                   directory of a PyTorch installation (python -c 'import torch,os;
#                   print(os.path.dirname(torch.__file__))'). A CUDA libtorch also needs the CUDA
#                   toolkit where CMake finds it (nvcc on PATH or CUDA_HOME/CUDAToolkit_ROOT).
#   unset           the project's Python environment (tools/python-env.sh) and its
#                   torch.utils.cmake_prefix_path: the PyTorch CPU wheel.
# Changing the libtorch rebuilds from scratch. The build fails if the library would load any
# libc10/libtorch* from elsewhere than the chosen libtorch's lib directory.
set -euo pipefail

die() { echo "build.sh: $*" >&2; exit 1; }

[[ $# -eq 1 && -n "$1" ]] || die "usage: build.sh OUT_DIR"
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$src/../../../.." && pwd)
mkdir -p "$1" || die "cannot create $1"
out=$(cd "$1" && pwd)
build="$out/build"
log="$out/build.log"

command -v cmake >/dev/null || die "cmake not found on PATH"

if [[ -n "${LIBTORCH:-}" ]]; then
    [[ -d "$LIBTORCH" ]] || die "LIBTORCH=$LIBTORCH is not a directory"
    libtorch=$(cd "$LIBTORCH" && pwd -P)
else
    py=$("$root/tools/python-env.sh") || die "tools/python-env.sh could not provide a Python environment with torch"
    # torch.utils.cmake_prefix_path is <torch package>/share/cmake; found without importing torch
    # (python-env.sh has just checked that it imports).
    find_torch='import importlib.util as u, os; print(os.path.dirname(u.find_spec("torch").origin))'
    prefix="$("$py" -c "$find_torch")/share/cmake" \
        || die "$py has no torch package"
    [[ -d "$prefix" ]] || die "torch.utils.cmake_prefix_path ($prefix) is not a directory"
    libtorch=$(cd "$prefix/../.." && pwd -P)
fi
[[ -f "$libtorch/share/cmake/Torch/TorchConfig.cmake" ]] \
    || die "$libtorch is no libtorch: share/cmake/Torch/TorchConfig.cmake is missing"
libdir="$libtorch/lib"

# The version from libtorch's headers (2.x keeps it in torch/headeronly/version.h, older ones in
# torch/csrc/api/include/torch/version.h).
version=""
for header in "$libtorch/include/torch/headeronly/version.h" \
              "$libtorch/include/torch/csrc/api/include/torch/version.h"; do
    if [[ -f "$header" ]]; then
        major=$(sed -n 's/^#define TORCH_VERSION_MAJOR \([0-9]*\).*/\1/p' "$header")
        minor=$(sed -n 's/^#define TORCH_VERSION_MINOR \([0-9]*\).*/\1/p' "$header")
        patch=$(sed -n 's/^#define TORCH_VERSION_PATCH \([0-9]*\).*/\1/p' "$header")
        if [[ -n "$major" && -n "$minor" && -n "$patch" ]]; then
            version="$major.$minor.$patch"
            break
        fi
    fi
done
[[ -n "$version" ]] || die "cannot read the libtorch version from the headers in $libtorch/include"

# Configure only for a new build directory or another libtorch; cmake --build reconfigures by
# itself when CMakeLists.txt changes.
: >"$log"
stamp="$build/libtorch-root"
if [[ ! -f "$build/CMakeCache.txt" || ! -f "$stamp" || "$(cat "$stamp")" != "$libtorch" ]]; then
    rm -rf "$build"
    mkdir -p "$build"
    echo "build.sh: configuring against libtorch $version in $libtorch" >&2
    if ! cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLIBTORCH_ROOT="$libtorch" >>"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "CMake could not configure the build (log: $log)"
    fi
    echo "$libtorch" >"$stamp"
fi
if ! cmake --build "$build" -j2 >>"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "the build failed (log: $log)"
fi

built="$build/libtorchlight_engine.so"
[[ -f "$built" ]] || die "the build produced no $built"

# Every libc10*/libtorch* the library resolves must come from the chosen libtorch's lib directory.
ldd_out=$(ldd "$built" 2>&1) || die "ldd failed on $built: $ldd_out"
missing=$(awk '/=> not found/ {print $1}' <<<"$ldd_out" | tr '\n' ' ')
[[ -z "$missing" ]] || die "libtorchlight_engine.so has unresolved libraries: $missing"
found=0
while read -r name path; do
    dir=$(cd "$(dirname "$path")" && pwd -P)
    [[ "$dir" == "$libdir" ]] || die "libtorchlight_engine.so loads $name from $path, not from $libdir"
    found=$((found + 1))
done < <(awk '$1 ~ /^lib(c10|torch)/ && $2 == "=>" {print $1, $3}' <<<"$ldd_out")
((found > 0)) || die "libtorchlight_engine.so resolves no libc10/libtorch library at all"

if ! cmp -s "$built" "$out/libtorchlight_engine.so"; then
    cp -f "$built" "$out/libtorchlight_engine.so"
fi

properties=$(printf 'libtorch.dir=%s\nlibtorch.version=%s\n' "$libdir" "$version")
if [[ ! -f "$out/libtorch.properties" || "$(cat "$out/libtorch.properties")" != "$properties" ]]; then
    printf '%s\n' "$properties" >"$out/libtorch.properties"
fi

echo "build.sh: $out/libtorchlight_engine.so (libtorch $version, $found libraries from $libdir)" >&2
