"""Plain-data offers for the hot paths (create, send, accept): their rows are read and written
with Core statements, without the ORM's identity map, hydration and unit-of-work flushes."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, bindparam, insert, update
from sqlalchemy import select as core_select
from sqlmodel.ext.asyncio.session import AsyncSession

from offers.tables import OfferRow, OfferVersionRow, OpportunityRow, OutcomeRow

OFFERS = OfferRow.__table__
VERSIONS = OfferVersionRow.__table__
OUTCOMES = OutcomeRow.__table__
OPPORTUNITIES = OpportunityRow.__table__

# built once: statement construction and cache keys cost more than running them
_OFFER_FOR_UPDATE = (
    core_select(OFFERS).where(OFFERS.c.id == bindparam("offer_id")).with_for_update()
)
_VERSION = core_select(VERSIONS).where(
    VERSIONS.c.offer_id == bindparam("offer_id"), VERSIONS.c.number == bindparam("number")
)
_OPPORTUNITY = core_select(OPPORTUNITIES).where(
    OPPORTUNITIES.c.opportunity_id == bindparam("opportunity_id")
)
# the current version and the stage of the offer's opportunity (None if unknown) at once
_VERSION_AND_OPPORTUNITY_STAGE = (
    core_select(VERSIONS, OPPORTUNITIES.c.stage.label("opportunity_stage"))
    .select_from(
        VERSIONS.outerjoin(
            OPPORTUNITIES, OPPORTUNITIES.c.opportunity_id == bindparam("opportunity_id")
        )
    )
    .where(VERSIONS.c.offer_id == bindparam("offer_id"), VERSIONS.c.number == bindparam("number"))
)
# INSERT/UPDATE take their columns from the parameters (keys other than the where-clause's)
_INSERT_OFFER = insert(OFFERS)
_INSERT_VERSION = insert(VERSIONS)
_INSERT_OUTCOME = insert(OUTCOMES)
_UPDATE_OFFER = update(OFFERS).where(OFFERS.c.id == bindparam("key_id"))
_UPDATE_VERSION = update(VERSIONS).where(
    VERSIONS.c.offer_id == bindparam("key_offer_id"), VERSIONS.c.number == bindparam("key_number")
)


@dataclass(slots=True)
class OfferState:
    """The columns of one ``offers`` row (same names as ``OfferRow``)."""

    id: str
    status: str
    approval: str
    owner: str
    team: str | None
    opportunity_id: str
    account_id: str | None
    customer_name: str
    currency: str
    offer_version: int
    sent_version: int | None
    valid_until: date
    net: Decimal
    gross: Decimal
    correlation_id: str
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Row) -> OfferState:
        return cls(**row._mapping)

    def values(self, *names: str) -> dict[str, Any]:
        """The named columns (all of them if none is named) for an INSERT or UPDATE."""
        return {name: getattr(self, name) for name in names or _OFFER_COLUMNS}


_OFFER_COLUMNS = tuple(f.name for f in fields(OfferState))
AnyOffer = OfferRow | OfferState  # what event and answer builders read an offer's fields from


async def lock_offer(session: AsyncSession, offer_id: str) -> OfferState | None:
    """The offer, locked for a change (``FOR UPDATE``; SQLite serialises writers anyway)."""
    row = (await session.exec(_OFFER_FOR_UPDATE, params={"offer_id": offer_id})).first()
    return OfferState.of(row) if row is not None else None


async def insert_offer(session: AsyncSession, offer: OfferState) -> None:
    await session.exec(_INSERT_OFFER, params=offer.values())


async def update_offer(session: AsyncSession, offer: OfferState, *names: str) -> None:
    """Write the named columns of ``offer`` back to its row."""
    await session.exec(_UPDATE_OFFER, params={**offer.values(*names), "key_id": offer.id})


async def version_row(session: AsyncSession, offer_id: str, number: int) -> Row | None:
    params = {"offer_id": offer_id, "number": number}
    return (await session.exec(_VERSION, params=params)).first()


async def version_with_opportunity_stage(session: AsyncSession, offer: AnyOffer) -> Row | None:
    """The offer's current version with an extra column ``opportunity_stage``."""
    params = {
        "offer_id": offer.id,
        "number": offer.offer_version,
        "opportunity_id": offer.opportunity_id,
    }
    return (await session.exec(_VERSION_AND_OPPORTUNITY_STAGE, params=params)).first()


async def insert_version(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.exec(_INSERT_VERSION, params=values)


async def update_version(
    session: AsyncSession, offer_id: str, number: int, values: dict[str, Any]
) -> None:
    params = {**values, "key_offer_id": offer_id, "key_number": number}
    await session.exec(_UPDATE_VERSION, params=params)


async def insert_outcome(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.exec(_INSERT_OUTCOME, params=values)


async def opportunity_row(session: AsyncSession, opportunity_id: str) -> Row | None:
    params = {"opportunity_id": opportunity_id}
    return (await session.exec(_OPPORTUNITY, params=params)).first()
