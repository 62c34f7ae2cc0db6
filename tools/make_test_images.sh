#!/usr/bin/env bash
# Rebuilds testdata/images/ from scikit-image's sample photographs as Debian ships them
# (package python3-skimage, fetched with apt-get download, never installed).
# See testdata/images/README.md for the sources and licences.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download python3-skimage >/dev/null 2>&1 && dpkg-deb -x python3-skimage_*.deb x)
exec /usr/bin/python3 tools/make_test_images.py "$work/x/usr/lib/python3/dist-packages/skimage/data"
