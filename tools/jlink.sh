#!/usr/bin/env bash
# Links a Java runtime for the server jar, the one module list every runtime torchlight ships uses:
#
#   tools/jlink.sh JDK JAR OUT [jlink options...]     e.g. --compress zip-0, --generate-cds-archive
#
# The modules are what jdeps finds in the jar plus those it cannot see, reached by reflection or
# service loading: elliptic-curve TLS for --tls-cert, Unsafe for Netty, zip file systems, extra
# charsets, and the management beans the JVM metrics read. Progress goes to stderr.
set -euo pipefail

die() { echo "jlink.sh: $*" >&2; exit 1; }
(($# >= 3)) || die "usage: tools/jlink.sh JDK JAR OUT [jlink options...]"
jdk=$1 jar=$2 out=$3
shift 3

modules=$("$jdk/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 25 "$jar" 2>/dev/null) \
    || die "jdeps failed on $jar"
modules=$(tr , '\n' <<<"$modules,jdk.crypto.ec,jdk.unsupported,jdk.zipfs,jdk.charsets,jdk.management" \
    | sort -u | paste -sd, -)
echo "jlink.sh: $modules" >&2
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages "$@" \
    --output "$out" >&2 || die "jlink failed"
"$out/bin/java" -version >/dev/null 2>&1 || die "the linked runtime in $out does not start"
