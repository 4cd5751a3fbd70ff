#!/usr/bin/env bash
# Fetch Apache Kafka's broker jars (deploy/kafka/pom.xml) into the cache that
# salesflow.broker.start_kafka() uses, so CI can prefetch them before the tests:
#
#   deploy/scripts/kafka-jars.sh [CACHE_DIR]     # default: <repo>/.cache/kafka  -> CACHE_DIR/libs
#
# Runs `mvn -q -f deploy/kafka/pom.xml dependency:copy-dependencies -DoutputDirectory=...` only
# when CACHE_DIR/libs is missing or was fetched for another pom (its sha256 is kept in
# libs/.pom.sha256, exactly as salesflow.broker.fetch_kafka_jars() does), into a fresh folder
# that is then swapped in, under a lock: never a half-filled or mixed-version classpath.
#
# Environment: SALESFLOW_KAFKA_POM overrides the pom path. FORCE=1 fetches again regardless.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
POM="${SALESFLOW_KAFKA_POM:-$ROOT/deploy/kafka/pom.xml}"
CACHE="${1:-$ROOT/.cache/kafka}"
LIBS="$CACHE/libs"
MARKER=".pom.sha256"

log() { printf '[kafka-jars.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ -f "$POM" ] || die "no pom at $POM"
POM="$(cd "$(dirname "$POM")" && pwd)/$(basename "$POM")"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"
LIBS="$CACHE/libs"
DIGEST="$(sha256sum "$POM" | awk '{ print $1 }')"
VERSION="$(sed -n 's:.*<kafka\.version>[[:space:]]*\([^<[:space:]]*\)[[:space:]]*</kafka\.version>.*:\1:p' "$POM" | head -n 1)"

up_to_date() { [ "${FORCE:-0}" != 1 ] && [ -f "$LIBS/$MARKER" ] && [ "$(cat "$LIBS/$MARKER")" = "$DIGEST" ]; }

if up_to_date; then
    log "Kafka $VERSION jars already in $LIBS"
    exit 0
fi

if ! command -v mvn >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || die "Maven (mvn) is not installed: apt-get install -y maven"
    log "Maven not found: installing Debian's maven"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y maven
fi

exec 9>"$CACHE/.lock"
flock 9
if up_to_date; then # another process fetched them while we waited for the lock
    log "Kafka $VERSION jars already in $LIBS"
    exit 0
fi

TMP="$CACHE/libs.tmp-$$"
OLD="$CACHE/libs.old-$$"
rm -rf "$TMP"
trap 'rm -rf "$TMP" "$OLD"' EXIT
log "fetching Kafka $VERSION jars with Maven into $LIBS"
start=$SECONDS
mvn -q -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$TMP"
printf '%s\n' "$DIGEST" >"$TMP/$MARKER"
if [ -e "$LIBS" ]; then mv "$LIBS" "$OLD"; fi
mv "$TMP" "$LIBS"
log "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars ($(du -sh "$LIBS" | cut -f1)) in $((SECONDS - start)) s"
