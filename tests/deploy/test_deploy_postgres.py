"""deploy/postgres: the init script the postgres image runs on an empty volume, run the same way
(as the postgres user, over the local socket) on a throwaway PostgreSQL cluster: one database
and one user per service, each user confined to its own database, and a second run is harmless."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from deploy_support import DEPLOY

from salesflow import registry
from salesflow.testing.helpers import free_port

pytestmark = pytest.mark.slow
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else None


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[int, Path]]:
    """A private PostgreSQL server on a free port (initdb + pg_ctl as the postgres user)."""
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("no PostgreSQL server binaries (deploy/scripts/postgres.sh installs them)")
    if os.geteuid() != 0 or not os.access(RUNUSER, os.X_OK):
        pytest.skip("needs root to run initdb as the postgres user")
    base = Path(tempfile.mkdtemp(prefix="sf-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    shutil.chown(base, "postgres")
    shutil.chown(sock, "postgres")
    base.chmod(0o755)

    def as_postgres(*cmd: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [RUNUSER, "-u", "postgres", "--", *cmd],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )

    port = free_port()
    done = as_postgres(
        initdb, "-D", str(data), "-U", "postgres", "--auth-local=trust",
        "--auth-host=scram-sha-256", "--no-sync",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    options = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    done = as_postgres(
        pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"
    )
    assert done.returncode == 0, done.stderr + (base / "log").read_text()
    try:
        yield port, sock
    finally:
        as_postgres(pg_ctl, "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


def _run_init(port: int, sock: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": f"{Path(_bin('psql')).parent}:/usr/bin:/bin",
        "POSTGRES_USER": "postgres",
        "POSTGRES_DB": "postgres",
        "PGHOST": str(sock),
        "PGPORT": str(port),
        **{f"{s.upper()}_DB_PASSWORD": f"pw-{s}" for s in registry.SERVICES},
    }
    # a copy beside the cluster, run from there: the postgres user may not be able to read
    # the checkout
    scripts = sock.parent / "initdb.d"
    if not scripts.exists():
        shutil.copytree(DEPLOY / "postgres", scripts)
        for path in [scripts, *scripts.iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    return subprocess.run(
        [RUNUSER, "-u", "postgres", "--", "bash", str(scripts / "10-salesflow.sh")],
        cwd=scripts,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _connect(port: int, user: str, database: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        host="127.0.0.1", port=port, user=user, password=f"pw-{user}", database=database
    )


def test_init_script_creates_one_confined_database_per_service(cluster) -> None:
    port, sock = cluster
    first = _run_init(port, sock)
    assert first.returncode == 0, first.stderr
    services = registry.SERVICES

    async def check() -> None:
        for name in services:
            conn = await _connect(port, name, name)
            try:
                owner = await conn.fetchval(
                    "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", name
                )
                assert owner == name
                assert not await conn.fetchval(
                    "SELECT rolsuper FROM pg_roles WHERE rolname = $1", name
                )
                await conn.execute("CREATE TABLE deploy_probe (id int)")  # PG 15+: owner only
                await conn.execute("DROP TABLE deploy_probe")
            finally:
                await conn.close()
        other = services[(services.index("orders") + 1) % len(services)]
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await _connect(port, "orders", other)
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(
                host="127.0.0.1", port=port, user="orders", password="wrong", database="orders"
            )

    asyncio.run(check())
    again = _run_init(port, sock)
    assert again.returncode == 0, again.stderr  # idempotent: re-run after adding a service


def test_a_service_migrates_as_its_own_user(cluster) -> None:
    """The privileges suffice for real migrations (controlling's, to head)."""
    port, sock = cluster
    assert _run_init(port, sock).returncode == 0
    from salesflow.migrations import upgrade

    module = registry.load("controlling")
    url = f"postgresql+asyncpg://controlling:pw-controlling@127.0.0.1:{port}/controlling"
    upgrade(module.spec.migrations_dir, url)

    async def tables() -> set[str]:
        conn = await _connect(port, "controlling", "controlling")
        try:
            rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            return {r["tablename"] for r in rows}
        finally:
            await conn.close()

    assert {"outbox", "inbox", "dead_letters", "alembic_version"} <= asyncio.run(tables())
