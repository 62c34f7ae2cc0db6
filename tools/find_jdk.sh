# Sourced by ./torchlight, ./test.sh and .ci/run: sets JAVA_HOME to a JDK >= 25, trying
# $JAVA_HOME first, then the JDKs under /usr/lib/jvm, newest first. Returns 1 when there is none.

java_major() { # the major version of the JDK whose java binary is $1, or 0
  # The JDK's release file says it without starting a JVM (half a second on a small machine).
  local release; release="$(dirname "$1")/../release"
  if [ -f "$release" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release" | head -n 1
    return 0
  fi
  "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}' \
    | cut -d. -f1 || echo 0
}

find_jdk() {
  local candidates=() home major
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for home in $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -Vr); do candidates+=("${home%/}"); done
  for home in "${candidates[@]}"; do
    if [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ]; then
      major="$(java_major "$home/bin/java")"
      if [ "${major:-0}" -ge 25 ] 2>/dev/null; then
        JAVA_HOME="$home"; export JAVA_HOME; return 0
      fi
    fi
  done
  echo "torchlight: no JDK 25 or newer found (looked at \$JAVA_HOME and /usr/lib/jvm/*); install one, e.g. Temurin 25" >&2
  return 1
}
