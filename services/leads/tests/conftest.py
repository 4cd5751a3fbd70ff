"""Fixtures of the leads service tests: a migrated database and the running app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlmodel import select

from leads.config import Settings
from leads.main import SPEC, create_app
from salesflow.messaging.tables import OutboxRow
from salesflow.testing.helpers import bearer, running
from salesflow.testing.plugin import migrate

MARKETING = bearer("mia", ["marketing"])
ADMIN = bearer("root", ["admin"])


@pytest.fixture
async def leads_settings(settings_for: Callable[..., Settings], database_url: str) -> Settings:
    await migrate(SPEC.migrations_dir, database_url)
    return settings_for(Settings, import_batch_rows=50, materialize_batch_rows=50)


@pytest.fixture
async def client(leads_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(leads_settings)
    async with running(app) as c:
        c.app = app  # type: ignore[attr-defined]
        yield c


@pytest.fixture
def outbox(client: httpx.AsyncClient) -> Callable[..., Any]:
    """``await outbox(type=None)``: staged events as (type, key, headers, payload), in order;
    without a type only the lead events (``leads.lead.v1``), not the universe's counts."""

    async def read(type_: str | None = None) -> list[tuple[str, str, dict, dict]]:
        db = client.app.state.db  # type: ignore[attr-defined]
        stmt = select(OutboxRow).order_by(OutboxRow.id)
        if type_:
            stmt = stmt.where(OutboxRow.type == type_)
        else:
            stmt = stmt.where(OutboxRow.type.startswith("lead."))
        async with db.session() as session:
            rows = (await session.exec(stmt)).all()
        return [(r.type, r.key, r.headers, json.loads(r.payload)) for r in rows]

    return read
