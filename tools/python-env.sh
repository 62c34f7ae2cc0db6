#!/usr/bin/env bash
# Ensures the project-local Python environment (<repo>/.venv) with PyTorch, numpy and Pillow, and prints
# its python's path on stdout (the only line there; progress goes to stderr):
#
#   py=$(tools/python-env.sh)
#
# Idempotent: creates the environment only if it is missing and installs only if an import fails.
# pip uses the machine's own configuration (indexes, wheel directories, constraints).
# torchvision is left out: the only torchvision 0.28.0 wheel these indexes hold is a CUDA build,
# which cannot be imported beside the CPU torch wheel (its operators need libtorch_cuda).
# Pillow is pinned because it decodes the photos behind the image goldens (testdata/handlers/golden,
# tools/make_image_fixtures.py): its bundled libjpeg-turbo decides the JPEG pixels.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"
py="$venv/bin/python"
packages=(torch==2.13.0 numpy pillow==12.3.0)

if [[ ! -x "$py" ]]; then
    echo "python-env: creating $venv" >&2
    python3 -m venv "$venv" >&2
fi
if ! "$py" -c 'import torch, numpy, PIL' >/dev/null 2>&1; then
    echo "python-env: installing ${packages[*]}" >&2
    # --retries 0: where the default index is unreachable (an offline machine with local wheel
    # directories), pip moves on to the other sources at once instead of retrying it per package.
    "$py" -m pip install --quiet --retries 0 "${packages[@]}" >&2
    "$py" -c 'import torch, numpy, PIL' >&2 \
        || { echo "python-env: torch, numpy or PIL still does not import" >&2; exit 1; }
fi
echo "$py"
