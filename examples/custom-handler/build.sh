#!/usr/bin/env bash
# Builds the example handler jar and a ready model directory:
#   examples/custom-handler/build.sh [OUT_DIR]   (default: examples/custom-handler/target/repository)
# Then: ./torchlight serve --model-repository OUT_DIR --allow-custom-handlers
#       curl -H 'Content-Type: text/csv' --data-binary @row.csv http://127.0.0.1:8080/predictions/scoring
# Compiles against the torchlight jar (built by the launcher or ./mvnw package if missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$here/target/repository}"
. "$root/tools/find_jdk.sh"
find_jdk
jar="$root/server/target/torchlight.jar"
[ -f "$jar" ] || (cd "$root" && ./mvnw -B -q -DskipTests package)
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
"$JAVA_HOME/bin/javac" --release 21 -cp "$jar" -d "$build/classes" $(find "$here/src" -name '*.java')
mkdir -p "$out/scoring"
"$JAVA_HOME/bin/jar" --create --file "$out/scoring/handler.jar" -C "$build/classes" .
cp "$here/model/config.yaml" "$here/model/classes.txt" "$out/scoring/"
cp -r "$root/testdata/models/mlp/1" "$out/scoring/"
echo "model directory: $out/scoring"
