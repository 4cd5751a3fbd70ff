#!/usr/bin/env python3
"""Wait until a service's database schema is at the head of the migrations in this image.

    salesflow-wait-migrated <service> [--timeout 600] [--interval 2]

Kubernetes runs it as the init container of every pod, so a pod starts only after the
migration Job (``salesflow migrate <service>``) has brought the schema up to the code it runs;
without it, consumers would meet missing tables and dead-letter events. Exit 0 when current,
1 on timeout. The database URL comes from the service's settings
(``SALESFLOW_<SERVICE>_DATABASE_URL``), exactly as the service reads it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TextIO

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine


def head_revisions(migrations_dir: Path) -> set[str]:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    return set(ScriptDirectory.from_config(config).get_heads())


async def current_revisions(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            heads = await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_heads()
            )
            return set(heads)
    finally:
        await engine.dispose()


def say(message: str, stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    out.write(message + "\n")
    out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("service")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between looks")
    args = parser.parse_args(argv)

    from salesflow import registry

    module = registry.load(args.service)
    assert module.spec.migrations_dir is not None
    wanted = head_revisions(module.spec.migrations_dir)
    url = module.settings_cls().database_url
    deadline = time.monotonic() + args.timeout
    last = ""
    while True:
        try:
            current = asyncio.run(current_revisions(url))
            status = f"database at {sorted(current) or 'no revision'}, code at {sorted(wanted)}"
            if current == wanted:
                say(f"{args.service}: schema current ({sorted(wanted)})")
                return 0
        except Exception as exc:  # database not reachable yet: keep waiting
            status = f"database not reachable: {type(exc).__name__}: {exc}"
        if status != last:
            say(f"{args.service}: waiting for migrations: {status}")
            last = status
        if time.monotonic() >= deadline:
            say(f"{args.service}: gave up after {args.timeout:.0f}s: {status}", sys.stderr)
            return 1
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
