#!/usr/bin/env bash
# Regenerates the fixture models and goldens (see tools/make_fixtures.py) with the project's
# Python environment (tools/python-env.sh creates it if it is missing).
#
#   tools/make_fixtures.sh          # regenerate, then verify
#   tools/make_fixtures.sh --check  # only verify the existing files
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(tools/python-env.sh)
exec "$py" tools/make_fixtures.py "$@"
