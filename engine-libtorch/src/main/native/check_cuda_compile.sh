#!/usr/bin/env bash
# Compiles the engine's CUDA code path without a GPU or a CUDA libtorch:  check_cuda_compile.sh
#
# torchlight_engine.cpp keeps its CUDA parts under TL_WITH_CUDA, which CMake defines only against a
# CUDA libtorch. This checks those parts on a machine that has neither: it takes the CUDA runtime's
# headers from NVIDIA's pip wheels (nvidia-cuda-runtime, -crt, -cccl, through the project
# environment's pip; cached in engine-libtorch/target/cuda-headers), and the c10/cuda and ATen/cuda
# headers that the PyTorch CPU wheel ships as well, and runs the compiler with -fsyntax-only. Nothing
# links (the CPU wheel has no libtorch_cuda); a GPU host builds and runs the real thing.
#
#   LIBTORCH=<dir>          the libtorch whose headers to use (default: the project environment's)
#   CUDA_HEADERS=<dir>      a CUDA include directory to use instead of the wheels' (e.g. /usr/local/cuda/include)
#   CXX=<compiler>          default g++
#
# Exit status 3: the CUDA headers could not be had (no CUDA_HEADERS, and pip could not download the
# wheels), so nothing was checked; any other non-zero status is a failure.
set -euo pipefail

die() { echo "check_cuda_compile.sh: $*" >&2; exit 1; }

src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$src/../../../.." && pwd)
cache="$root/engine-libtorch/target/cuda-headers"
cxx=${CXX:-g++}
command -v "$cxx" >/dev/null || die "$cxx not found"

py=""
if [[ -z "${LIBTORCH:-}" || -z "${CUDA_HEADERS:-}" ]]; then
    py=$("$root/tools/python-env.sh") || die "tools/python-env.sh could not provide a Python environment"
fi

if [[ -n "${LIBTORCH:-}" ]]; then
    libtorch=$(cd "$LIBTORCH" && pwd -P)
else
    find_torch='import importlib.util as u, os; print(os.path.dirname(u.find_spec("torch").origin))'
    libtorch=$("$py" -c "$find_torch") || die "$py has no torch package"
fi
[[ -f "$libtorch/include/c10/cuda/CUDAStream.h" && -f "$libtorch/include/ATen/cuda/CUDAGraph.h" ]] \
    || die "$libtorch/include lacks the c10/cuda and ATen/cuda headers"

if [[ -n "${CUDA_HEADERS:-}" ]]; then
    cuda_include=$(cd "$CUDA_HEADERS" && pwd -P)
else
    cuda_include="$cache/nvidia/cu13/include"
    if [[ ! -f "$cuda_include/cuda_runtime_api.h" || ! -f "$cuda_include/crt/host_defines.h" ]]; then
        echo "check_cuda_compile.sh: fetching the CUDA runtime headers into $cache" >&2
        wheels="$cache/wheels"
        rm -rf "$cache"
        mkdir -p "$wheels"
        "$py" -m pip download --quiet --retries 0 --no-deps -d "$wheels" nvidia-cuda-runtime nvidia-cuda-crt nvidia-cuda-cccl \
            || { echo "check_cuda_compile.sh: pip could not download the nvidia-cuda-runtime, -crt and -cccl wheels;" \
                      "the CUDA path is not checked here" >&2; exit 3; }
        command -v unzip >/dev/null && unzipper=(unzip -q -o) || unzipper=()
        for wheel in "$wheels"/*.whl; do
            if ((${#unzipper[@]})); then
                "${unzipper[@]}" "$wheel" -d "$cache"
            else
                "$py" -m zipfile -e "$wheel" "$cache"
            fi
        done
    fi
    [[ -f "$cuda_include/cuda_runtime_api.h" ]] \
        || die "no cuda_runtime_api.h in $cuda_include (the wheels' layout may have changed; set CUDA_HEADERS)"
fi
# The cccl wheel keeps cub/thrust/libcu++ one level down.
extra=()
[[ -d "$cuda_include/cccl" ]] && extra+=(-isystem "$cuda_include/cccl")

# As CMake compiles the library (C++20, which libtorch's headers need from 2.10 on), plus the CUDA
# switch and the CUDA headers. TORCH_API_INCLUDE_EXTENSION_H is not needed: no extension headers.
"$cxx" -std=c++20 -fsyntax-only -Wall -Wno-unused-parameter \
    -DTL_WITH_CUDA=1 -DUSE_CUDA -DC10_CUDA_NO_CMAKE_CONFIGURE_FILE \
    -I "$src" \
    -isystem "$libtorch/include" \
    -isystem "$libtorch/include/torch/csrc/api/include" \
    -isystem "$cuda_include" "${extra[@]}" \
    "$src/torchlight_engine.cpp"
echo "check_cuda_compile.sh: the CUDA path of torchlight_engine.cpp compiles (libtorch headers from $libtorch," \
     "CUDA headers from $cuda_include)" >&2
