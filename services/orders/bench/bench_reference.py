"""``uvicorn bench_reference:create_app --factory``: the same-run reference of the orders bench —
a plain FastAPI + SQLModel insert endpoint, the kind the issue compares with (~430 requests/s
measured here when it was filed).

``POST /orders`` validates a body of the benchmark order's shape, inserts one row in its own
session and transaction (SQLModel over aiosqlite, a WAL file at ``BENCH_REFERENCE_DB``) and
answers 201. No auth, no pricing, no outbox, no broker: what any FastAPI + SQLModel service pays
per request on this machine before it does anything of its own."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from decimal import Decimal

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlmodel import JSON, Column, Field, SQLModel


class Line(BaseModel):
    sku: str
    quantity: Decimal


class OrderIn(BaseModel):
    customer_id: str
    customer_po_number: str | None = None
    lines: list[Line]


class ReferenceOrder(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    customer_id: str
    customer_po_number: str | None = None
    lines: list[dict[str, str]] = Field(sa_column=Column(JSON))


def create_app() -> FastAPI:
    engine = create_async_engine(f"sqlite+aiosqlite:///{os.environ['BENCH_REFERENCE_DB']}")

    @event.listens_for(engine.sync_engine, "connect")
    def _wal(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    sessions = async_sessionmaker(engine, expire_on_commit=False)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/orders", status_code=201)
    async def create(body: OrderIn) -> dict[str, object]:
        row = ReferenceOrder(
            customer_id=body.customer_id,
            customer_po_number=body.customer_po_number,
            lines=[{"sku": ln.sku, "quantity": str(ln.quantity)} for ln in body.lines],
        )
        async with sessions() as session:
            session.add(row)
            await session.commit()
        return {"id": str(row.id), "status": "confirmed"}

    return app
