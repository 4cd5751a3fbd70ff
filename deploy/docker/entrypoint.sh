#!/bin/sh
# Entrypoint of the Salesflow image: one image, any service.
#
#   <image>                       serve $SALESFLOW_SERVICE
#   <image> leads                 serve leads (the first argument names the service)
#   <image> serve [leads]         the same, explicitly
#   <image> migrate [leads]       run the service's migrations to head, then exit (init step)
#   <image> salesflow dlq list -s leads   any other command runs as given
#
# The service listens on 0.0.0.0:$PORT (8000). `salesflow serve` runs uvicorn in this process
# (exec: it is PID 1 and gets SIGTERM): on SIGTERM it stops taking requests, finishes those in
# flight, lets the consumers finish and commit the batch in hand, and exits.
set -eu

serve() {
    service="${1:-${SALESFLOW_SERVICE:-}}"
    if [ -z "$service" ]; then
        echo "salesflow-entrypoint: name the service: SALESFLOW_SERVICE=<service> or first argument" >&2
        exit 64
    fi
    if [ "$#" -gt 0 ]; then shift; fi
    export SALESFLOW_SERVICE="$service"
    # the health check runs outside this process: tell it which service this container runs
    printf '%s\n' "$service" > "${SALESFLOW_SERVICE_FILE:-/tmp/salesflow-service}" 2>/dev/null || true
    exec salesflow serve "$service" --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" "$@"
}

case "${1:-}" in
    "") serve ;;
    serve) shift; serve "$@" ;;
    migrate)
        shift
        service="${1:-${SALESFLOW_SERVICE:-}}"
        if [ -z "$service" ]; then
            echo "salesflow-entrypoint: migrate <service> (or set SALESFLOW_SERVICE)" >&2
            exit 64
        fi
        exec salesflow migrate "$service"
        ;;
    -*) serve "${SALESFLOW_SERVICE:-}" "$@" ;;
    *)
        if command -v "$1" > /dev/null 2>&1; then
            exec "$@"
        fi
        serve "$@"
        ;;
esac
