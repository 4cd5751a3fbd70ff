#!/usr/bin/env bash
# Tools the deployment tests (tests/deploy) use to check the files without a Docker engine or a
# cluster, installed into <repo>/.cache/deploy-tools/bin (nothing system-wide, no daemon
# started):
#
#   nginx      Debian's nginx binary, unpacked from its .deb (`apt-get download` + dpkg-deb -x:
#              no post-install script starts a server): `nginx -t` and a routing test of
#              deploy/gateway/salesflow.conf.
#   kustomize  `kustomize` or `kubectl kustomize` when on PATH (a wrapper is written); otherwise
#              built from its Go module (sigs.k8s.io/kustomize/kustomize/v5) with `go install`.
#   compose-check  deploy/tools/compose-check built with `go build` (Go modules from the Go
#              module proxy): loads docker-compose.yml with compose-go, the library behind
#              `docker compose config` (schema, interpolation, consistency). Needs go.
#   kafka      Apache Kafka's command-line tools (org.apache.kafka:kafka-tools from Maven
#              Central, the version of deploy/kafka/pom.xml) behind kafka/bin/kafka-topics.sh
#              and kafka-configs.sh, as in the apache/kafka image: the compose topic-init
#              script runs with them against a local broker. Needs java and mvn.
#
#   deploy/scripts/deploy-tools.sh      # idempotent; prints what it found or installed
#
# Environment: KUSTOMIZE_VERSION (default v5.5.0) for the Go build; SALESFLOW_DEPLOY_TOOLS
# overrides the target folder. The tests skip (with this script's name in the reason) what
# is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="${SALESFLOW_DEPLOY_TOOLS:-$ROOT/.cache/deploy-tools}"
BIN="$TOOLS/bin"
KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.5.0}"
mkdir -p "$BIN"

log() { printf '[deploy-tools.sh] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- nginx
if [ -x "$BIN/nginx" ] && "$BIN/nginx" -v > /dev/null 2>&1; then
    log "nginx: $("$BIN/nginx" -v 2>&1)"
elif command -v apt-get > /dev/null 2>&1 && command -v dpkg-deb > /dev/null 2>&1; then
    work="$(mktemp -d)"
    chmod 0755 "$work" # apt's sandbox user must be able to write the download there
    trap 'rm -rf "$work"' EXIT
    if ! (cd "$work" && apt-get download nginx > /dev/null 2>&1); then
        log "nginx: apt-get download failed; refreshing the package lists once"
        if [ "$(id -u)" -eq 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
        (cd "$work" && apt-get download nginx > /dev/null)
    fi
    dpkg-deb -x "$work"/nginx_*.deb "$work/root"
    install -m 0755 "$work/root/usr/sbin/nginx" "$BIN/nginx"
    log "nginx: installed $("$BIN/nginx" -v 2>&1) into $BIN"
else
    log "nginx: not installed (no apt-get/dpkg-deb on this machine); the gateway tests skip"
fi

# ---------------------------------------------------------------- kustomize
wrapper() { # write $BIN/kustomize running "$@" followed by the arguments
    printf '#!/bin/sh\nexec %s "$@"\n' "$*" > "$BIN/kustomize"
    chmod 0755 "$BIN/kustomize"
}
if [ -x "$BIN/kustomize" ] && "$BIN/kustomize" version > /dev/null 2>&1; then
    log "kustomize: $("$BIN/kustomize" version 2>&1 | head -n 1)"
elif command -v kustomize > /dev/null 2>&1; then
    wrapper "$(command -v kustomize)"
    log "kustomize: using $(command -v kustomize)"
elif command -v kubectl > /dev/null 2>&1 && kubectl kustomize --help > /dev/null 2>&1; then
    # `kubectl kustomize DIR` == `kustomize build DIR`
    printf '#!/bin/sh\nif [ "$1" = build ]; then shift; exec %s kustomize "$@"; fi\nif [ "$1" = version ]; then exec %s version --client; fi\necho "kustomize wrapper: only build and version" >&2; exit 2\n' \
        "$(command -v kubectl)" "$(command -v kubectl)" > "$BIN/kustomize"
    chmod 0755 "$BIN/kustomize"
    log "kustomize: using kubectl kustomize ($(command -v kubectl))"
elif command -v go > /dev/null 2>&1; then
    log "kustomize: building sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION with go install"
    GOBIN="$BIN" GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
    log "kustomize: $("$BIN/kustomize" version 2>&1 | head -n 1)"
else
    log "kustomize: not installed (no kustomize, kubectl or go here); the render tests skip"
fi

# ---------------------------------------------------------------- kafka command-line tools
KAFKA_VERSION="$(sed -n 's:.*<kafka\.version>[[:space:]]*\([^<[:space:]]*\)[[:space:]]*</kafka\.version>.*:\1:p' \
    "$ROOT/deploy/kafka/pom.xml" | head -n 1)"
KAFKA_TOOLS="$TOOLS/kafka"
if [ -f "$KAFKA_TOOLS/libs/kafka-tools-$KAFKA_VERSION.jar" ] && [ -x "$KAFKA_TOOLS/bin/kafka-topics.sh" ]; then
    log "kafka tools: $KAFKA_VERSION in $KAFKA_TOOLS"
elif command -v mvn > /dev/null 2>&1 && command -v java > /dev/null 2>&1; then
    pom="$(mktemp -d)"
    cat > "$pom/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>salesflow.deploy</groupId><artifactId>kafka-tools</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
    rm -rf "$KAFKA_TOOLS/libs.tmp"
    mvn -q -B -f "$pom/pom.xml" dependency:copy-dependencies -DoutputDirectory="$KAFKA_TOOLS/libs.tmp"
    rm -rf "$pom" "$KAFKA_TOOLS/libs"
    mv "$KAFKA_TOOLS/libs.tmp" "$KAFKA_TOOLS/libs"
    mkdir -p "$KAFKA_TOOLS/bin"
    for tool in "kafka-topics.sh TopicCommand" "kafka-configs.sh ConfigCommand"; do
        set -- $tool
        printf '#!/bin/sh\n# like bin/%s of the Kafka distribution\nexec java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "%s/libs/*" org.apache.kafka.tools.%s "$@"\n' \
            "$1" "$KAFKA_TOOLS" "$2" > "$KAFKA_TOOLS/bin/$1"
        chmod 0755 "$KAFKA_TOOLS/bin/$1"
    done
    log "kafka tools: installed $KAFKA_VERSION into $KAFKA_TOOLS"
else
    log "kafka tools: not installed (needs java and mvn); the topic-init test skips"
fi

# ---------------------------------------------------------------- compose-check (compose-go)
CHECK_SRC="$ROOT/deploy/tools/compose-check"
stamp="$(cat "$CHECK_SRC/go.mod" "$CHECK_SRC/go.sum" "$CHECK_SRC/main.go" | sha256sum | cut -c1-16)"
if [ -x "$BIN/compose-check" ] && [ "$(cat "$BIN/.compose-check.stamp" 2>/dev/null)" = "$stamp" ]; then
    log "compose-check: built"
elif command -v go > /dev/null 2>&1; then
    log "compose-check: building with $(go version | cut -d' ' -f3)"
    (cd "$CHECK_SRC" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go build -o "$BIN/compose-check" .)
    printf '%s\n' "$stamp" > "$BIN/.compose-check.stamp"
    log "compose-check: built into $BIN"
else
    log "compose-check: not built (no go here); the compose loader test skips"
fi
