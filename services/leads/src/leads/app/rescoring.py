"""Time passes: decay lowers engagement, a new model version changes every score, and leads
waiting in the fallback queue may find a rep with capacity again."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import select

from leads.app import leads as cases
from leads.app.configs import scoring_model
from leads.tables import CompanyRow, LeadRow, TouchpointRow
from salesflow.contracts.events.leads import LeadStatus
from salesflow.db import Database
from salesflow.settings import ServiceSettings


@dataclass
class RescoreRun:
    examined: int = 0
    changed: int = 0


async def rescore_open_leads(
    db: Database,
    settings: ServiceSettings,
    now: datetime,
    *,
    batch: int = 500,
    min_delta: Decimal = Decimal(1),
) -> RescoreRun:
    """Rescore every open lead in batches (one transaction each). Decay alone emits lead.scored
    only from ``min_delta`` points on; a model change always does."""
    run = RescoreRun()
    after = ""
    while True:
        async with db.session() as session, session.begin():
            model = await scoring_model(session)
            # a batch of leads with their companies and all their touchpoints: three queries,
            # not three per lead
            pairs = (
                await session.exec(
                    select(LeadRow, CompanyRow)
                    .join(CompanyRow, CompanyRow.id == LeadRow.company_id)  # type: ignore[arg-type]
                    .where(LeadRow.open_company_id.is_not(None), LeadRow.id > after)  # type: ignore[union-attr]
                    .order_by(LeadRow.id)
                    .limit(batch)
                )
            ).all()
            if not pairs:
                return run
            touches: dict[int, list[Any]] = defaultdict(list)
            found = await session.execute(
                select(
                    TouchpointRow.company_id, TouchpointRow.kind, TouchpointRow.occurred_at
                ).where(
                    TouchpointRow.company_id.in_({c.id for _, c in pairs})  # type: ignore[union-attr]
                )
            )
            for touch in found.all():
                touches[touch.company_id].append(touch)
            for lead, company in pairs:
                trigger = "model_change" if lead.scoring_model_version != model.version else "decay"
                run.examined += 1
                if await cases.rescore(
                    session,
                    settings,
                    lead,
                    company,
                    now,
                    trigger=trigger,
                    min_delta=min_delta,
                    touches=touches[company.id],  # type: ignore[index]
                ):
                    run.changed += 1
            after = pairs[-1][0].id


async def route_queued(db: Database, settings: ServiceSettings, now: datetime) -> int:
    """Give queued MQLs to reps who have capacity again (oldest first)."""
    routed = 0
    async with db.session() as session, session.begin():
        queued = (
            await session.exec(
                select(LeadRow)
                .where(
                    LeadRow.status == LeadStatus.MQL.value,
                    LeadRow.owner.is_(None),
                    LeadRow.queue.is_not(None),
                )
                .order_by(LeadRow.mql_at, LeadRow.id)
                .limit(500)
            )
        ).all()
        for lead in queued:
            company = await session.get(CompanyRow, lead.company_id)
            assert company is not None
            done = await cases.route_lead(
                session, settings, lead, company, now, only_if_assigned=True
            )
            routed += done.owner is not None
    return routed
