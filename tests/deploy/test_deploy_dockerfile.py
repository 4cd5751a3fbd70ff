"""deploy/Dockerfile and .dockerignore, checked statically (no Docker engine here), and the image's
own scripts (entrypoint, health check, migration wait) run for real against a real service."""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from deploy_support import DEPLOY, ROOT, ServiceUnderTest, start_via_entrypoint, tool

from salesflow import registry

DOCKERFILE = DEPLOY / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        word, _, rest = current.partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    assert not current, "dangling line continuation"
    return out


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for ins in instructions(DOCKERFILE.read_text()):
        if ins[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


def _arg_default(name: str) -> str:
    for word, rest in instructions(DOCKERFILE.read_text()):
        if word == "ARG" and rest.startswith(f"{name}="):
            return rest.split("=", 1)[1].strip('"')
    raise AssertionError(f"no ARG {name}")


def test_multi_stage_on_python_311_slim() -> None:
    builder, runtime = stages()
    assert builder[0][1].endswith("AS builder") and runtime[0][1].endswith("AS runtime")
    assert _arg_default("PYTHON_IMAGE").startswith("python:3.11-slim")
    assert builder[0][1].startswith("${PYTHON_IMAGE}") and runtime[0][1].startswith(
        "${PYTHON_IMAGE}"
    )
    copies_from_builder = [r for w, r in runtime if w == "COPY" and "--from=builder" in r]
    assert any("/opt/venv" in r for r in copies_from_builder)
    assert not any(w == "RUN" and "pip install" in r for w, r in runtime), "installs in builder"


def test_builder_installs_every_service_with_the_lock() -> None:
    builder = stages()[0]
    assert _arg_default("SERVICES").split() == list(registry.SERVICES)
    copied = {r.split()[0] for w, r in builder if w == "COPY"}
    for name in registry.SERVICES:
        assert f"services/{name}/pyproject.toml" in copied, name
    assert "shared/pyproject.toml" in copied and "requirements.lock" in copied
    install = next(r for w, r in builder if w == "RUN" and "pip install" in r)
    assert "pip install -c requirements.lock $editables" in install
    assert "-e services/$s" in install and '"-e shared"' in install
    # hatchling writes an editable install's .pth only for a package folder holding a file
    assert 'touch "services/$s/src/$s/__init__.py"' in install
    assert "touch shared/src/salesflow/__init__.py" in install


def test_runtime_runs_as_a_non_root_user_with_a_health_check() -> None:
    runtime = stages()[-1]
    users = [r for w, r in runtime if w == "USER"]
    assert users, "USER in the final stage"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0, "numeric, so Kubernetes can verify runAsNonRoot"
    assert gid.isdigit() and int(gid) != 0
    (healthcheck,) = [r for w, r in runtime if w == "HEALTHCHECK"]
    assert "--interval=" in healthcheck and "--timeout=" in healthcheck
    assert healthcheck.split("CMD", 1)[1].strip() == '["salesflow-healthcheck", "/healthz"]'
    (entrypoint,) = [r for w, r in runtime if w == "ENTRYPOINT"]
    assert entrypoint == '["salesflow-entrypoint"]'
    exposed = [r for w, r in runtime if w == "EXPOSE"]
    assert exposed == ["8000"]
    env = " ".join(r for w, r in runtime if w == "ENV")
    assert "PORT=8000" in env and "PYTHONUNBUFFERED=1" in env


def test_every_script_the_image_runs_is_copied_in() -> None:
    runtime = stages()[-1]
    copies = {}
    for word, rest in runtime:
        if word == "COPY" and "--from" not in rest:
            *_, src, dest = shlex.split(rest)
            copies[Path(dest).name] = src
    assert copies == {
        "salesflow-entrypoint": "deploy/docker/entrypoint.sh",
        "salesflow-healthcheck": "deploy/docker/healthcheck.py",
        "salesflow-wait-migrated": "deploy/docker/wait_migrated.py",
    }
    for src in copies.values():
        assert (ROOT / src).is_file()


def test_offer_documents_get_their_unicode_font() -> None:
    source = (ROOT / "services/offers/src/offers/document.py").read_text()
    assert "/usr/share/fonts/truetype/dejavu" in source
    runtime = " ".join(r for w, r in stages()[-1] if w == "RUN")
    assert "fonts-dejavu-core" in runtime  # Debian installs DejaVuSans.ttf there


def _ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore semantics for one file: the last matching pattern wins; a pattern matching
    a parent folder matches the file."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        regex = re.escape(body).replace(r"\*\*", "\0").replace(r"\*", "[^/]*").replace("\0", ".*")
        regex = regex.replace(r"\?", "[^/]")
        parts = path.split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(re.fullmatch(regex, c) for c in candidates):
            ignored = not negate
    return ignored


def test_dockerignore_sends_the_code_and_migrations_only() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    needed = ["requirements.lock", "shared/pyproject.toml", "deploy/docker/entrypoint.sh"]
    for name in registry.SERVICES:
        base = ROOT / "services" / name
        needed.append(f"services/{name}/pyproject.toml")
        needed += [p.relative_to(ROOT).as_posix() for p in (base / "migrations").rglob("*.py")]
        needed += [
            p.relative_to(ROOT).as_posix()
            for p in (base / "src").rglob("*.py")
            if "__pycache__" not in p.parts
        ]
    needed += [p.relative_to(ROOT).as_posix() for p in (ROOT / "shared/src").rglob("*.py")]
    missing = [p for p in needed if _ignored(p, patterns)]
    assert not missing, f"left out of the build context: {missing[:5]}"
    for unwanted in (
        ".venv/bin/python",
        ".data/leads.db",
        ".git/config",
        "services/leads/tests/test_x.py",
        "shared/tests/test_messaging.py",
        "services/orders/bench/bench_orders.py",
        "shared/src/salesflow/__pycache__/db.cpython-311.pyc",
        "docs/asyncapi.yaml",
    ):
        assert _ignored(unwanted, patterns), unwanted


def test_hadolint_when_available() -> None:
    hadolint = tool("hadolint")
    if hadolint is None:
        pytest.skip(
            "hadolint is not installable from the registries this machine reaches (it is a "
            "Haskell binary published on GitHub releases only); the checks above stand in"
        )
    done = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# -- the image's scripts, run for real ---------------------------------------------------------


@pytest.mark.slow
def test_entrypoint_serves_the_service_named_by_the_first_argument(
    controlling_service: ServiceUnderTest,
) -> None:
    body = httpx.get(f"{controlling_service.url}/healthz").json()
    assert body == {"status": "ok", "service": "controlling"}
    service_file = Path(controlling_service.env["SALESFLOW_SERVICE_FILE"])
    assert service_file.read_text().strip() == "controlling"


def _healthcheck(svc: ServiceUnderTest, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(DEPLOY / "docker/healthcheck.py"), *args],
        env={**svc.env, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.slow
def test_health_check_passes_for_its_service_and_fails_otherwise(
    controlling_service: ServiceUnderTest,
) -> None:
    assert _healthcheck(controlling_service).returncode == 0
    wrong = _healthcheck(controlling_service, SALESFLOW_SERVICE="leads")
    assert wrong.returncode == 1 and "expected 'leads'" in wrong.stderr
    # no broker is reachable: not ready, though alive
    ready = _healthcheck(controlling_service, "/readyz")
    assert ready.returncode == 1 and "503" in ready.stderr
    down = _healthcheck(controlling_service, PORT="1")
    assert down.returncode == 1 and "unreachable" in down.stderr


@pytest.mark.slow
def test_sigterm_reaches_the_service_as_pid_of_the_entrypoint(tmp_path: Path) -> None:
    """The entrypoint execs (no shell in between to swallow the signal): SIGTERM reaches uvicorn,
    which shuts down (lifespan: consumers commit, relay stops) and then re-raises the signal,
    so the exit status is -SIGTERM (143 in Docker) after a graceful stop."""
    svc = start_via_entrypoint(tmp_path, "controlling", "serve", "controlling")
    cmdline = Path(f"/proc/{svc.proc.pid}/cmdline").read_bytes().split(b"\0")
    assert any(part.endswith(b"salesflow") for part in cmdline), cmdline  # not sh any more
    svc.proc.send_signal(signal.SIGTERM)
    assert svc.proc.wait(30) in (0, -signal.SIGTERM), svc.tail()


@pytest.mark.slow
def test_entrypoint_rejects_an_unknown_service(tmp_path: Path) -> None:
    done = subprocess.run(
        ["sh", str(DEPLOY / "docker/entrypoint.sh"), "no-such-service"],
        env={
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "SALESFLOW_SERVICE_FILE": str(tmp_path / "svc"),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "unknown service" in done.stdout + done.stderr
    none = subprocess.run(
        ["sh", str(DEPLOY / "docker/entrypoint.sh")],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert none.returncode == 64 and "name the service" in none.stderr


def _wait_migrated(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(DEPLOY / "docker/wait_migrated.py"), "controlling", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow
def test_migration_wait_passes_only_at_head(tmp_path: Path) -> None:
    fresh = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "SALESFLOW_CONTROLLING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}",
    }
    waiting = _wait_migrated(fresh, "--timeout", "0.5", "--interval", "0.1")
    assert waiting.returncode == 1
    assert "waiting for migrations: database at no revision" in waiting.stdout
    migrated = subprocess.run(
        ["sh", str(DEPLOY / "docker/entrypoint.sh"), "migrate", "controlling"],
        env=fresh,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stderr
    done = _wait_migrated(fresh, "--timeout", "5")
    assert done.returncode == 0 and "schema current" in done.stdout
