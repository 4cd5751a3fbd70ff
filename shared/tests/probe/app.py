"""A minimal service built on the platform library, used to test the messaging guarantees with a
real broker and a real database: ``POST /items`` writes an item and its event in one
transaction; a consumer of the same topic records each event it handles."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func
from sqlmodel import Field, SQLModel, select

from salesflow.api.errors import Problem
from salesflow.auth import Principal, require
from salesflow.contracts.catalog import TopicSpec, register_event, register_topic
from salesflow.contracts.types import Payload
from salesflow.messaging.handlers import HandlerContext, emit
from salesflow.service import ConsumerSpec, ServiceSpec, build_app
from salesflow.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"
TOPIC = register_topic(TopicSpec("probe.item.v1", "probe", 4, "test-only topic"))
POISON_FILE_ENV = "PROBE_POISON_FILE"  # while this file exists, items named "poison*" fail


@register_event("probe_item.created.v1", TOPIC, "test-only event")
class ItemCreated(Payload):
    item_id: int
    name: str
    seq: int = 0


class ProbeSettings(ServiceSettings):
    service: ClassVar[str] = "probe"
    poison_file: str = ""


class ProbeItem(SQLModel, table=True):
    __tablename__ = "probe_items"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    key: str
    seq: int = 0


class ProbeReceived(SQLModel, table=True):
    __tablename__ = "probe_received"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(index=True)
    event_id: str


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    key: str = "k"
    seq: int = 0
    fail_after_outbox: bool = False


router = APIRouter()


@router.post("/items", status_code=201)
async def create_item(
    body: ItemIn, request: Request, principal: Principal = Depends(require("admin"))
) -> dict:
    db = request.app.state.db
    settings = request.app.state.settings
    async with db.session() as session, session.begin():
        item = ProbeItem(name=body.name, key=body.key, seq=body.seq)
        session.add(item)
        await session.flush()
        emit(
            session,
            settings,
            "probe_item.created.v1",
            body.key,
            ItemCreated(item_id=item.id, name=body.name, seq=body.seq),
        )
        if body.fail_after_outbox:
            raise Problem(409, "business rule failed after the event was staged")
    return {"id": item.id}


@router.get("/received")
async def received(request: Request, principal: Principal = Depends(require("admin"))) -> dict:
    async with request.app.state.db.session() as session:
        rows = (await session.exec(select(ProbeReceived.item_id))).all()
        items = (await session.exec(select(func.count()).select_from(ProbeItem))).one()
    return {"item_ids": list(rows), "items": items}


async def on_item_created(ctx: HandlerContext) -> None:
    payload = ctx.payload()
    poison = ctx.settings.poison_file or os.environ.get(POISON_FILE_ENV, "")
    if payload.name.startswith("poison") and poison and Path(poison).exists():  # noqa: ASYNC240 - test double
        raise RuntimeError(f"cannot digest {payload.name}")
    ctx.session.add(ProbeReceived(item_id=payload.item_id, event_id=ctx.event.id))


SPEC = ServiceSpec(
    name="probe",
    title="Probe",
    description="test service",
    routers=[router],
    produces=[TOPIC.name],
    consumers=[
        ConsumerSpec(
            name="probe",
            topics=[TOPIC.name],
            handlers={"probe_item.created.v1": on_item_created},
        )
    ],
    migrations_dir=MIGRATIONS,
)


def create_app(settings: ProbeSettings | None = None):
    return build_app(SPEC, settings or ProbeSettings())
