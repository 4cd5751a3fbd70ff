#!/usr/bin/env python3
"""Container health check: GET http://127.0.0.1:$PORT<path> (default /healthz) must answer 200,
and /healthz must name the service this container was started for (SALESFLOW_SERVICE, or the
name the entrypoint wrote to /tmp/salesflow-service). Exit 0 healthy, 1 not.

    salesflow-healthcheck            # liveness (the image's HEALTHCHECK)
    salesflow-healthcheck /readyz    # readiness: database and broker (docker compose)
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request


def expected_service() -> str | None:
    name = os.environ.get("SALESFLOW_SERVICE")
    if name:
        return name
    try:
        path = os.environ.get("SALESFLOW_SERVICE_FILE", "/tmp/salesflow-service")
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def check(path: str = "/healthz", port: str | None = None, timeout: float = 3.0) -> str | None:
    """None when healthy, else the reason."""
    url = f"http://127.0.0.1:{port or os.environ.get('PORT', '8000')}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        return f"{url} answered {exc.code}: {exc.read()[:300]!r}"
    except (OSError, ValueError) as exc:
        return f"{url} unreachable: {exc}"
    if path == "/healthz":
        service = expected_service()
        try:
            named = json.loads(body).get("service")
        except (ValueError, AttributeError):
            return f"{url} answered no JSON: {body[:200]!r}"
        if service and named != service:
            return f"{url} is {named!r}, expected {service!r}"
    return None


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/healthz"
    problem = check(path)
    if problem:
        sys.stderr.write(problem + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
