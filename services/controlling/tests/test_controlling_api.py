"""Roles, input validation and poison events, through the real app and broker."""

from __future__ import annotations

import dataclasses

from controlling_testkit import History, at, company, publish
from sqlalchemy import func
from sqlmodel import select

from controlling.config import Settings
from controlling.main import SPEC, create_app
from controlling.tables import ControllingRecord, JourneyEvent
from salesflow.messaging.tables import DeadLetterRow
from salesflow.testing.helpers import bearer, eventually, running
from salesflow.testing.plugin import migrate

ANALYST = bearer("ana", ["analyst"])
ALICE = bearer("alice", ["sales_rep"], team="north")
BOB = bearer("bob", ["sales_rep"], team="south")
MARKETING = bearer("mia", ["marketing"])


async def count(app, model, *where) -> int:
    async with app.state.db.session() as session:
        stmt = select(func.count()).select_from(model)
        for condition in where:
            stmt = stmt.where(condition)
        return (await session.exec(stmt)).one()


async def test_roles_validation_and_poison_events(
    settings_for, database_url: str, broker: str, topic_prefix: str
) -> None:
    await migrate(SPEC.migrations_dir, database_url)
    app = create_app(settings_for(Settings, consumer_max_retries=1))
    history = History()
    lead = {"id": "L1", "company": company("c1"), "channel": "web", "journey": "J1"}
    history.lead("lead.created.v1", lead, 1, at(0))
    history.lead("lead.assigned.v1", lead, 2, at(1), owner="alice", team="north")
    long_team = {**lead, "id": "L3", "journey": "J3", "channel": "c" * 300}
    history.lead("lead.assigned.v1", long_team, 1, at(3), owner="carl", team="t" * 300)
    broken = history.lead("lead.created.v1", {**lead, "id": "L2", "journey": "J2"}, 1, at(2))
    broken_data = {k: v for k, v in broken.data.items() if k != "company"}
    history.events[-1] = dataclasses.replace(broken, data=broken_data)
    async with running(app) as client:
        await publish(broker, topic_prefix, history.events)

        async def settled() -> bool:
            return (
                await count(app, JourneyEvent) == 3
                and await count(app, DeadLetterRow, DeadLetterRow.consumer == "controlling") == 1
                and await count(
                    app, ControllingRecord, ControllingRecord.topic == "controlling.dlq"
                )
                == 1
            )

        await eventually(settled, timeout=30, message="events, dead letter and its record")
        funnel = (await client.get("/funnel", headers=ANALYST)).json()
        assert next(s for s in funnel["stages"] if s["stage"] == "leads")["count"] == 1
        # over-long free text (team, source channel) is clipped, not dead-lettered
        carl = (await client.get("/lead-controlling", headers=ANALYST)).json()["reps"]
        assert [r["team"] for r in carl if r["rep"] == "carl"] == ["t" * 200]

        # authentication and roles
        assert (await client.get("/funnel")).status_code == 401
        for path in ("/funnel", "/lead-controlling", "/handoffs", "/journeys/J1"):
            assert (await client.get(path, headers=MARKETING)).status_code == 403, path
        assert (await client.get("/handoffs", headers=ALICE)).status_code == 403
        assert (await client.get("/handoffs", headers=ANALYST)).status_code == 200
        assert (await client.get("/journeys/J1", headers=ALICE)).status_code == 200
        hidden = await client.get("/journeys/J1", headers=BOB)
        assert hidden.status_code == 404
        assert hidden.headers["content-type"] == "application/problem+json"
        assert (await client.get("/journeys/nope", headers=ANALYST)).status_code == 404
        bob = (await client.get("/funnel", headers=BOB)).json()
        assert next(s for s in bob["stages"] if s["stage"] == "leads")["count"] == 0

        # input validation: problems, never a 500
        bad = [
            {"from": "2026-01-01T00:00:00"},  # no timezone
            {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
            {"from": "yesterday"},
            {"to": "0.5"},  # a Unix timestamp: pydantic would take it
            # no UTC value (overflow where the bound was bound to a query: a 500)
            {"from": "0001-01-01T00:00:00+05:00"},
            {"to": "9999-12-31T23:00:00-05:00"},
            {"from": "1800-01-01T00:00:00Z"},  # outside 1900-2199
            {"country": "XX"},  # not an ISO 3166-1 code
            {"country": "de"},
            {"nace_section": "Z"},
            {"size_class": "huge"},
            {"owner": "x" * 129},
        ]
        for params in bad:
            for path in ("/funnel", "/lead-controlling"):
                response = await client.get(path, params=params, headers=ANALYST)
                assert response.status_code == 422, (path, params, response.text)
                assert response.headers["content-type"] == "application/problem+json"
        too_long = await client.get("/journeys/" + "j" * 65, headers=ANALYST)
        assert too_long.status_code == 422
