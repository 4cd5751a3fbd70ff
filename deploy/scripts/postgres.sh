#!/usr/bin/env bash
# Make a local PostgreSQL server available for Salesflow tests, CI and development:
#
#   * installs Debian's `postgresql` when no server binary exists (apt-get; needs root or sudo),
#   * picks the cluster that already serves the port, or else the `main` cluster of the newest
#     installed major version (created with pg_createcluster when missing),
#   * makes it listen on 127.0.0.1:$PORT and accept password logins from 127.0.0.1,
#   * starts it with pg_ctlcluster (restarts/reloads only when a setting changed),
#   * waits for pg_isready, creates/updates the role salesflow/salesflow (LOGIN SUPERUSER
#     CREATEDB) and checks a real password login over TCP.
#
# Idempotent: run it as often as you like. Prints the SQLAlchemy URL at the end:
#   postgresql+asyncpg://salesflow:salesflow@127.0.0.1:5432/postgres
#
# Environment (all optional):
#   SALESFLOW_PG_PORT     port on 127.0.0.1 (default 5432)
#   SALESFLOW_PG_CLUSTER  cluster name to use/create when none serves the port (default main)
#   SALESFLOW_PG_TIMEOUT  seconds to wait for the server (default 60)
set -euo pipefail

PORT="${SALESFLOW_PG_PORT:-5432}"
CLUSTER="${SALESFLOW_PG_CLUSTER:-main}"
TIMEOUT="${SALESFLOW_PG_TIMEOUT:-60}"
ROLE=salesflow
PASSWORD=salesflow
HBA_MARK="# salesflow: password logins from 127.0.0.1"

log() { printf '[postgres.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    die "run as root (or install sudo): installing and configuring PostgreSQL needs it"
fi
as_root() { "${SUDO[@]}" "$@"; }
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres -- "$@"; fi
}

newest_server_version() {
    # Highest major version with a server binary, e.g. 15 or 17; empty when none.
    local d
    for d in /usr/lib/postgresql/*/bin/postgres; do
        if [ -x "$d" ]; then basename "$(dirname "$(dirname "$d")")"; fi
    done | sort -V | tail -n 1
}

# ---------------------------------------------------------------- 1. server binaries
VERSION="$(newest_server_version)"
if [ -z "$VERSION" ] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
    log "no PostgreSQL server found: installing Debian's postgresql"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
    VERSION="$(newest_server_version)"
    [ -n "$VERSION" ] || die "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/postgres"
fi

# ---------------------------------------------------------------- 2. which cluster
# pg_lsclusters -h: "ver cluster port status owner datadir logfile"
EXISTING="$(pg_lsclusters -h | awk -v p="$PORT" '$3 == p { print $1, $2; exit }')"
if [ -n "$EXISTING" ]; then
    read -r VERSION CLUSTER <<<"$EXISTING"
    log "using cluster $VERSION/$CLUSTER (configured for port $PORT)"
elif pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c { f = 1 } END { exit !f }'; then
    log "using cluster $VERSION/$CLUSTER, moving it to port $PORT"
    as_root pg_conftool "$VERSION" "$CLUSTER" set port "$PORT"
else
    log "creating cluster $VERSION/$CLUSTER on port $PORT"
    as_root pg_createcluster "$VERSION" "$CLUSTER" --port "$PORT" >/dev/null
fi

CONF_DIR="/etc/postgresql/$VERSION/$CLUSTER"
HBA="$(as_root pg_conftool -s "$VERSION" "$CLUSTER" show hba_file 2>/dev/null || true)"
HBA="${HBA:-$CONF_DIR/pg_hba.conf}"
HBA="${HBA//\'/}"
NEED_RESTART=0
NEED_RELOAD=0

# ---------------------------------------------------------------- 3. listen + port + auth
LISTEN="$(as_root pg_conftool -s "$VERSION" "$CLUSTER" show listen_addresses 2>/dev/null || true)"
LISTEN="${LISTEN//\'/}"
case ",${LISTEN// /}," in
    *,\*,* | *,127.0.0.1,* | *,localhost,* | *,0.0.0.0,*) ;;
    ,,) ;; # unset: the default 'localhost' includes 127.0.0.1
    *)
        log "listen_addresses was '$LISTEN': adding 127.0.0.1"
        as_root pg_conftool "$VERSION" "$CLUSTER" set listen_addresses "127.0.0.1,${LISTEN// /}"
        NEED_RESTART=1
        ;;
esac

if [ "$VERSION" -ge 14 ] 2>/dev/null; then AUTH=scram-sha-256; else AUTH=md5; fi
if ! as_root grep -qF "$HBA_MARK" "$HBA"; then
    log "allowing password logins from 127.0.0.1 in $HBA"
    # First matching line wins: put ours before every other rule.
    tmp="$(mktemp)"
    {
        echo "$HBA_MARK"
        printf 'host    all    all    127.0.0.1/32    %s\n' "$AUTH"
        as_root cat "$HBA"
    } >"$tmp"
    as_root cp "$tmp" "$HBA"
    rm -f "$tmp"
    NEED_RELOAD=1
fi

# ---------------------------------------------------------------- 4. start
status() { pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c { print $4 }'; }
RUNNING_PORT="$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c { print $3 }')"
if [[ "$(status)" == online* ]]; then
    # A server still running old binaries after a package upgrade (its postinst could not
    # restart it, e.g. under policy-rc.d) fails to load its own libraries: restart it.
    running="$(as_postgres psql -XAtq -p "$PORT" -d postgres -c 'SHOW server_version' 2>/dev/null |
        awk '{ print $1 }' || true)"
    installed="$("/usr/lib/postgresql/$VERSION/bin/postgres" --version | awk '{ print $3 }')"
    if [ -n "$running" ] && [ "$running" != "$installed" ]; then
        log "server runs $running but the installed binaries are $installed"
        NEED_RESTART=1
    fi
    if [ "$NEED_RESTART" -eq 1 ] || ! pg_isready -q -h 127.0.0.1 -p "$PORT"; then
        log "restarting $VERSION/$CLUSTER to apply its settings"
        as_root pg_ctlcluster "$VERSION" "$CLUSTER" restart
    elif [ "$NEED_RELOAD" -eq 1 ]; then
        as_root pg_ctlcluster "$VERSION" "$CLUSTER" reload
    fi
else
    log "starting $VERSION/$CLUSTER (port $RUNNING_PORT)"
    if ! as_root pg_ctlcluster "$VERSION" "$CLUSTER" start; then
        log "pg_ctlcluster start failed; last lines of the server log:"
        as_root tail -n 30 "/var/log/postgresql/postgresql-$VERSION-$CLUSTER.log" >&2 || true
        die "could not start PostgreSQL $VERSION/$CLUSTER (is port $PORT used by another program?)"
    fi
fi

deadline=$((SECONDS + TIMEOUT))
until pg_isready -q -h 127.0.0.1 -p "$PORT"; do
    [ "$SECONDS" -lt "$deadline" ] || die "PostgreSQL not ready on 127.0.0.1:$PORT after ${TIMEOUT}s"
    sleep 0.5
done

# ---------------------------------------------------------------- 5. role
# Plain SQL and \gexec, no PL/pgSQL: create the role, or reset it to the expected state.
as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres <<SQL
SELECT CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE')
            THEN 'ALTER' ELSE 'CREATE' END
       || ' ROLE $ROLE LOGIN SUPERUSER CREATEDB PASSWORD ''$PASSWORD'''
\gexec
SQL

# A real password login over TCP, as the services will do it.
if ! PGPASSWORD="$PASSWORD" PGCONNECT_TIMEOUT=5 psql -X -qAt -h 127.0.0.1 -p "$PORT" \
    -U "$ROLE" -d postgres -c 'SELECT 1' >/dev/null; then
    die "password login as $ROLE on 127.0.0.1:$PORT failed (check $HBA)"
fi

SERVER_VERSION="$(PGPASSWORD="$PASSWORD" psql -X -qAt -h 127.0.0.1 -p "$PORT" -U "$ROLE" \
    -d postgres -c 'SHOW server_version')"
log "PostgreSQL $SERVER_VERSION (cluster $VERSION/$CLUSTER) ready on 127.0.0.1:$PORT"
echo "postgresql+asyncpg://$ROLE:$PASSWORD@127.0.0.1:$PORT/postgres"
