#!/usr/bin/env bash
# Runs every test (unit and integration) with a JDK >= 25, whatever the default java is.
# Extra arguments go to Maven, e.g. ./test.sh -pl core
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/find_jdk.sh
. "$root/tools/find_jdk.sh"
find_jdk
cd "$root"
exec ./mvnw -B verify "$@"
