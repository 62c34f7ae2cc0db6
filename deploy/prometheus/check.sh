#!/usr/bin/env bash
# Checks the alerting rules with promtool: syntax (promtool check rules), one unit test file per
# alert (tests/<alert>.yml, promtool test rules), and that no alert lacks its test file.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v promtool >/dev/null 2>&1; then
    echo "deploy/prometheus/check.sh: promtool not found (Debian: apt-get install prometheus)" >&2
    exit 1
fi
promtool check rules alerts.yml
missing=0
for alert in $(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\).*/\1/p' alerts.yml); do
    if [ ! -f "tests/$alert.yml" ]; then
        echo "deploy/prometheus/check.sh: alert $alert has no unit test tests/$alert.yml" >&2
        missing=1
    fi
done
[ "$missing" = 0 ]
promtool test rules tests/*.yml
