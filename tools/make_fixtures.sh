#!/usr/bin/env bash
# Regenerates the TorchScript fixtures and goldens (see tools/make_fixtures.py).
# Installs Debian's PyTorch first if the system Python lacks it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update
    $sudo apt-get install -y python3-torch
fi
exec /usr/bin/python3 tools/make_fixtures.py "$@"
