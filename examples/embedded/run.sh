#!/usr/bin/env bash
# Runs the embedded example (README.md): builds it with the modules it needs when its class path is
# missing, then scores the risk model in REPOSITORY. Arguments go to RiskScoring.
#   examples/embedded/run.sh bench/models [--model risk_batched] [--concurrency 1,8,64] [--seconds 5]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/examples/embedded"
# shellcheck source=tools/find_jdk.sh
. "$root/tools/find_jdk.sh"
find_jdk
if [ ! -f "$here/target/classpath.txt" ] || [ -n "$(find "$here/src" -newer "$here/target/classpath.txt" -print -quit)" ]; then
  echo "run.sh: building examples/embedded ..." >&2
  (cd "$root" && ./mvnw -B -q -DskipTests -pl examples/embedded -am package) >&2
fi
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
  -cp "$here/target/classes:$(cat "$here/target/classpath.txt")" com.example.risk.RiskScoring "$@"
