#!/usr/bin/env bash
# Rebuilds testdata/images/ from scikit-image's sample photographs as Debian ships them
# (package python3-skimage, fetched with apt-get download, never installed).
# See testdata/images/README.md for the sources and licences. Pillow comes from the project's
# Python environment (tools/python-env.sh), the one the goldens made from these images use.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(tools/python-env.sh)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download python3-skimage >/dev/null 2>&1 && dpkg-deb -x python3-skimage_*.deb x)
"$py" tools/make_test_images.py "$work/x/usr/lib/python3/dist-packages/skimage/data"
