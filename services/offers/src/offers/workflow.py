"""Offer use cases: each runs inside one transaction and stages its events in the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from offers.clock import Clock
from offers.config import Settings
from offers.domain import lifecycle
from offers.domain.approval import approval_reasons, approval_refusal, discount_limit
from offers.domain.lifecycle import Approval, NotAllowed
from offers.domain.money import round_money
from offers.domain.pricing import plain
from offers.domain.revisions import describe_changes
from offers.events import stage_event
from offers.quoting import (
    DocumentDraft,
    address_of,
    check_addresses,
    check_amounts,
    check_validity,
    contact_of,
    price_draft,
)
from offers.schemas import (
    AcceptIn,
    DecisionIn,
    LineIn,
    OfferDocument,
    OfferIn,
    OfferOut,
    OfferSummary,
    OptionChoice,
    OutcomeOut,
    RejectIn,
    ReviseIn,
    SendIn,
    VersionOut,
)
from offers.state import (
    AnyOffer,
    OfferState,
    insert_offer,
    insert_outcome,
    insert_version,
    lock_offer,
    opportunity_row,
    update_offer,
    update_version,
    version_row,
    version_with_opportunity_stage,
)
from offers.tables import OfferRow, OfferVersionRow, OutcomeRow
from salesflow.api.errors import Problem, conflict, not_found
from salesflow.auth import Principal
from salesflow.contracts.events import offers as ev
from salesflow.contracts.events.common import Contact
from salesflow.contracts.events.offers import OfferStatus

READERS_SEE_ALL = ("analyst",)


# --- loading and answering ----------------------------------------------------------------------


async def load_offer(
    session: AsyncSession, offer_id: str, principal: Principal, *, lock: bool = False
) -> OfferRow:
    """The offer if the principal may see it (404 otherwise, also for others' offers).
    ``lock`` loads it for a change: then only owner, team manager and admin get it."""
    stmt = select(OfferRow).where(OfferRow.id == offer_id)
    if lock:
        stmt = stmt.with_for_update()
    offer = (await session.exec(stmt)).first()
    readers = () if lock else READERS_SEE_ALL
    if offer is None or not principal.can_see(offer.owner, offer.team, readers=readers):
        raise not_found("offer")
    return offer


async def lock_offer_state(
    session: AsyncSession, offer_id: str, principal: Principal
) -> OfferState:
    """``load_offer(lock=True)`` as plain data, for the Core-written hot paths."""
    offer = await lock_offer(session, offer_id)
    if offer is None or not principal.can_see(offer.owner, offer.team):
        raise not_found("offer")
    return offer


async def current_version(session: AsyncSession, offer: AnyOffer) -> Row:
    row = await version_row(session, offer.id, offer.offer_version)
    if row is None:
        raise not_found("offer version")
    return row


async def load_version(session: AsyncSession, offer_id: str, number: int) -> OfferVersionRow:
    row = await session.get(OfferVersionRow, (offer_id, number))
    if row is None:
        raise not_found("offer version")
    return row


def document_of(row: OfferVersionRow | Row) -> OfferDocument:
    return OfferDocument.model_validate_json(row.document)


def summary_fields(offer: AnyOffer) -> dict[str, Any]:
    """The fields of ``OfferSummary``: the offer's columns, totals rounded to the currency."""
    data = {name: getattr(offer, name) for name in OfferSummary.model_fields}
    data["net"] = round_money(Decimal(offer.net), offer.currency)
    data["gross"] = round_money(Decimal(offer.gross), offer.currency)
    return data


def summary(offer: AnyOffer) -> OfferSummary:
    return OfferSummary.model_validate(summary_fields(offer))


def version_out(row: OfferVersionRow | Row, doc: OfferDocument | None = None) -> VersionOut:
    """``doc``: the row's document if the caller parsed it already."""
    return VersionOut(
        number=row.number,
        document=doc or document_of(row),
        changes=row.changes,
        approval=row.approval,
        approval_reasons=row.approval_reasons,
        requested_by=row.requested_by,
        decided_by=row.decided_by,
        decision_comment=row.decision_comment,
        decided_at=row.decided_at,
        sent_by=row.sent_by,
        sent_at=row.sent_at,
        created_at=row.created_at,
    )


def version_answer(columns: dict[str, Any], doc: OfferDocument) -> VersionOut:
    """A version from its columns as just written, with its parsed document."""
    return VersionOut.model_validate({**columns, "document": doc})


def answer(
    offer: AnyOffer, current: VersionOut, outcome: OutcomeRow | dict[str, Any] | None
) -> OfferOut:
    """The offer as the API shows it, from what the caller holds (no re-reading)."""
    if outcome is None:
        outcome_out = None
    elif isinstance(outcome, dict):
        outcome_out = OutcomeOut.model_validate(outcome)
    else:
        outcome_out = OutcomeOut.model_validate(outcome, from_attributes=True)
    return OfferOut(**summary_fields(offer), current=current, outcome=outcome_out)


async def offer_out(session: AsyncSession, offer: OfferRow) -> OfferOut:
    current = await load_version(session, offer.id, offer.offer_version)
    outcome = await session.get(OutcomeRow, offer.id)
    return answer(offer, version_out(current), outcome)


@contextmanager
def _allowed() -> Iterator[None]:
    """A lifecycle refusal is an invalid state transition: HTTP 409."""
    try:
        yield
    except NotAllowed as exc:
        raise conflict(str(exc)) from None


async def open_opportunity_of(session: AsyncSession, offer: AnyOffer) -> Row:
    """The offer's opportunity, which must still be open for the offer to move on (409)."""
    opportunity = await opportunity_row(session, offer.opportunity_id)
    _check_open_opportunity(opportunity.stage if opportunity else None)
    return opportunity


def _check_open_opportunity(stage: str | None) -> None:
    if stage is None:  # cannot happen: the offer was created from it
        raise conflict("the offer's opportunity is unknown")
    if stage in lifecycle.CLOSED_OPPORTUNITY_STAGES:
        raise conflict(f"the opportunity is {stage}")


async def current_version_of_open_offer(session: AsyncSession, offer: AnyOffer) -> Row:
    """``open_opportunity_of`` and then ``current_version``, in one round trip."""
    row = await version_with_opportunity_stage(session, offer)
    if row is None:  # cannot happen (written with the offer): let the single steps say why
        await open_opportunity_of(session, offer)
        return await current_version(session, offer)
    _check_open_opportunity(row.opportunity_stage)
    return row


# --- create and revise --------------------------------------------------------------------------


async def create_offer(
    session: AsyncSession, settings: Settings, clock: Clock, principal: Principal, body: OfferIn
) -> OfferOut:
    opportunity = await opportunity_row(session, body.opportunity_id)
    if opportunity is None or not principal.can_see(opportunity.owner, opportunity.team):
        raise not_found("opportunity")
    if opportunity.stage in lifecycle.CLOSED_OPPORTUNITY_STAGES:
        raise conflict(f"the opportunity is {opportunity.stage}; offers need an open one")
    today = clock.today()
    valid_until = body.valid_until or today + timedelta(days=settings.default_validity_days)
    check_validity(valid_until, today, settings)
    check_addresses(settings, bill_to=address_of(body.bill_to), ship_to=address_of(body.ship_to))
    draft = DocumentDraft(
        currency=body.currency or opportunity.currency,
        lines=body.lines,
        discount_percent=body.discount_percent,
        terms=body.terms,
        valid_until=valid_until,
        notes=body.notes,
        contact=contact_of(body.contact)
        or (_contact_from(opportunity.contact) if opportunity.contact else None),
        bill_to=address_of(body.bill_to),
        ship_to=address_of(body.ship_to),
    )
    doc = await price_draft(
        session, settings, opportunity=opportunity, draft=draft, number=1, today=today
    )
    reasons = approval_reasons_for(doc, principal, settings)
    status, approval = lifecycle.status_after_pricing(bool(reasons))
    now = clock.now()
    offer = OfferState(
        id=str(uuid.uuid4()),
        status=status,
        approval=approval,
        owner=opportunity.owner,
        team=opportunity.team,
        opportunity_id=opportunity.opportunity_id,
        account_id=opportunity.account_id,
        customer_name=doc.customer.name[:300],
        currency=doc.currency,
        offer_version=1,
        sent_version=None,
        valid_until=doc.valid_until,
        net=doc.totals.net.amount,
        gross=doc.totals.gross.amount,
        correlation_id=opportunity.correlation_id,
        version=1,
        created_by=principal.sub,
        created_at=now,
        updated_at=now,
    )
    version = _new_version(offer.id, 1, doc, [], approval, reasons, principal.sub, now)
    stage_event(
        session,
        settings,
        offer,
        doc,
        "offer.created.v1",
        ev.OfferCreated,
        content=True,
        bump=False,
        created_by=principal.sub,
    )
    if reasons:
        _request_approval(session, settings, offer, doc, principal, reasons)
    # written after staging the events: they bump the offer's version
    await insert_offer(session, offer)
    await insert_version(session, version)
    return answer(offer, version_answer(version, doc), None)


def _new_version(
    offer_id: str,
    number: int,
    doc: OfferDocument,
    changes: list[str],
    approval: str,
    reasons: list[str],
    requested_by: str,
    now: datetime,
) -> dict[str, Any]:
    """The columns of a new ``offers_versions`` row: not yet decided on, not yet sent."""
    return {
        "offer_id": offer_id,
        "number": number,
        "document": doc.model_dump_json(),
        "changes": changes,
        "approval": approval,
        "approval_reasons": reasons,
        "requested_by": requested_by,
        "decided_by": None,
        "decision_comment": None,
        "decided_at": None,
        "sent_by": None,
        "sent_at": None,
        "created_at": now,
    }


def _contact_from(data: dict) -> Contact:
    return Contact.model_validate(data)


def approval_reasons_for(doc: OfferDocument, principal: Principal, settings: Settings) -> list[str]:
    limit = discount_limit(principal.roles, settings.discount_limits)
    lines = [(line.line_no, line.discount_percent) for line in doc.lines]
    return approval_reasons(doc.discount_percent, lines, limit)


def _request_approval(
    session: AsyncSession,
    settings: Settings,
    offer: AnyOffer,
    doc: OfferDocument,
    principal: Principal,
    reasons: list[str],
) -> None:
    max_discount = max([doc.discount_percent, *(line.discount_percent for line in doc.lines)])
    stage_event(
        session,
        settings,
        offer,
        doc,
        "offer.approval_requested.v1",
        ev.OfferApprovalRequested,
        requested_by=principal.sub,
        reasons=reasons,
        max_discount_percent=plain(max_discount),
    )


async def revise_offer(
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    principal: Principal,
    offer_id: str,
    body: ReviseIn,
) -> OfferOut:
    offer = await load_offer(session, offer_id, principal, lock=True)
    with _allowed():
        lifecycle.check_open(offer.status, "revise")
    previous_row = await load_version(session, offer.id, offer.offer_version)
    previous = document_of(previous_row)
    opportunity = await open_opportunity_of(session, offer)
    today = clock.today()
    fields = body.model_fields_set
    valid_until = (
        body.valid_until if "valid_until" in fields and body.valid_until else previous.valid_until
    )
    check_validity(valid_until, today, settings)
    # only the addresses sent: an older version's address is checked when the offer is accepted
    check_addresses(settings, bill_to=address_of(body.bill_to), ship_to=address_of(body.ship_to))
    lines = body.lines if body.lines is not None else _lines_of(previous)
    draft = DocumentDraft(
        currency=previous.currency,
        lines=lines,
        discount_percent=body.discount_percent
        if body.discount_percent is not None
        else previous.discount_percent,
        terms=body.terms if body.terms is not None else previous.terms,
        valid_until=valid_until,
        notes=body.notes if "notes" in fields else previous.notes,
        contact=contact_of(body.contact) if body.contact is not None else previous.contact,
        bill_to=address_of(body.bill_to) if body.bill_to is not None else previous.bill_to,
        ship_to=address_of(body.ship_to) if body.ship_to is not None else previous.ship_to,
    )
    number = offer.offer_version + 1
    taken = max((line.line_no for line in previous.lines), default=0)
    doc = await price_draft(
        session,
        settings,
        opportunity=opportunity,
        draft=draft,
        number=number,
        today=today,
        taken_before=taken,
    )
    changes = describe_changes(previous.model_dump(mode="json"), doc.model_dump(mode="json"))
    if not changes:
        raise Problem(422, "the revision changes nothing")
    reasons = approval_reasons_for(doc, principal, settings)
    status, approval = lifecycle.status_after_pricing(bool(reasons))
    now = clock.now()
    session.add(
        OfferVersionRow(
            offer_id=offer.id,
            number=number,
            document=doc.model_dump_json(),
            changes=changes,
            approval=approval,
            approval_reasons=reasons,
            requested_by=principal.sub,
            created_at=now,
        )
    )
    offer.status, offer.approval = status, approval
    offer.offer_version = number
    offer.valid_until = doc.valid_until
    offer.net, offer.gross = doc.totals.net.amount, doc.totals.gross.amount
    offer.updated_at = now
    stage_event(
        session,
        settings,
        offer,
        doc,
        "offer.revised.v1",
        ev.OfferRevised,
        content=True,
        previous_offer_version=number - 1,
        changes=changes,
        approval_required=bool(reasons),
        revised_by=principal.sub,
    )
    if reasons:
        _request_approval(session, settings, offer, doc, principal, reasons)
    session.add(offer)
    await session.flush()
    return await offer_out(session, offer)


def _lines_of(doc: OfferDocument) -> list[LineIn]:
    return [
        LineIn(
            line_no=line.line_no,
            sku=line.sku,
            quantity=line.quantity,
            options=[OptionChoice(code=o.code, value=o.value) for o in line.options],
            discount_percent=line.line_discount_percent,
            requested_delivery_date=line.requested_delivery_date,
        )
        for line in doc.lines
    ]


# --- approval, sending --------------------------------------------------------------------------


async def decide(
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    principal: Principal,
    offer_id: str,
    body: DecisionIn,
) -> OfferOut:
    offer = await load_offer(session, offer_id, principal, lock=True)
    version = await load_version(session, offer.id, offer.offer_version)
    refusal = approval_refusal(principal.sub, principal.roles, offer.owner, version.requested_by)
    if refusal:
        raise Problem(403, refusal)
    with _allowed():
        lifecycle.check_decide(offer.status)
    now = clock.now()
    version.decided_by, version.decision_comment, version.decided_at = (
        principal.sub,
        body.comment,
        now,
    )
    offer.updated_at = now
    if body.decision == "approve":
        version.approval = offer.approval = Approval.APPROVED
        offer.status = OfferStatus.APPROVED
        stage_event(
            session,
            settings,
            offer,
            document_of(version),
            "offer.approved.v1",
            ev.OfferApproved,
            approved_by=principal.sub,
            comment=body.comment,
        )
    else:
        # no event type for a refused approval in the catalog: the offer goes back to draft
        # and cannot be sent until revised; the decision is kept on the version
        version.approval = offer.approval = Approval.REJECTED
        offer.status = OfferStatus.DRAFT
        offer.version += 1
    session.add(version)
    session.add(offer)
    await session.flush()
    return await offer_out(session, offer)


async def send_offer(
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    principal: Principal,
    offer_id: str,
    body: SendIn,
) -> OfferOut:
    offer = await lock_offer_state(session, offer_id, principal)
    today = clock.today()
    with _allowed():
        lifecycle.check_send(offer.status, offer.approval, offer.valid_until, today)
    version = await current_version_of_open_offer(session, offer)
    doc = document_of(version)
    now = clock.now()
    sent = {"sent_by": principal.sub, "sent_at": now}
    offer.status = OfferStatus.SENT
    offer.sent_version = offer.offer_version
    offer.updated_at = now
    recipient = contact_of(body.recipient) or doc.contact
    stage_event(
        session,
        settings,
        offer,
        doc,
        "offer.sent.v1",
        ev.OfferSent,
        sent_by=principal.sub,
        recipient=recipient,
    )
    await update_version(session, offer.id, version.number, sent)
    await update_offer(session, offer, "status", "sent_version", "updated_at", "version")
    # an open offer has no outcome yet
    return answer(offer, version_answer({**version._mapping, **sent}, doc), None)


# --- the customer's answer and expiry -----------------------------------------------------------


async def _record_outcome(session: AsyncSession, outcome: OutcomeRow) -> None:
    session.add(outcome)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent answer won the race
        raise conflict("the offer was already answered") from None


async def accept_offer(
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    principal: Principal,
    offer_id: str,
    body: AcceptIn,
) -> OfferOut:
    offer = await lock_offer_state(session, offer_id, principal)
    today = clock.today()
    with _allowed():
        lifecycle.check_customer_answer(
            offer.status,
            offer.valid_until,
            today,
            latest=offer.offer_version,
            requested=body.offer_version,
            action="accept",
        )
    # the opportunity must not be won by another offer nor lost meanwhile
    version = await current_version_of_open_offer(session, offer)
    if body.accepted_on > today:
        raise Problem(422, f"accepted_on {body.accepted_on} lies in the future")
    if body.accepted_on > offer.valid_until:
        raise conflict(f"accepted on {body.accepted_on}, after the validity ({offer.valid_until})")
    doc = document_of(version)
    # what the acceptance sends wins over the offer's; then ship-to and bill-to stand in for
    # each other (README), whichever of the two came from the request
    bill_to = address_of(body.bill_to) or doc.bill_to
    ship_to = address_of(body.ship_to) or doc.ship_to
    bill_to, ship_to = bill_to or ship_to, ship_to or bill_to
    if ship_to is None or bill_to is None:
        raise Problem(
            422, "the offer has no bill-to or ship-to address: send them with the acceptance"
        )
    check_addresses(settings, bill_to=bill_to, ship_to=ship_to)
    check_amounts(doc)
    now = clock.now()
    outcome = {
        "offer_id": offer.id,
        "outcome": "accepted",
        "offer_version": offer.offer_version,
        "customer_po_number": body.customer_po_number,
        "customer_person": body.accepted_by,
        "decided_on": body.accepted_on,
        "reason": None,
        "bill_to": bill_to.model_dump(mode="json"),
        "ship_to": ship_to.model_dump(mode="json"),
        "recorded_by": principal.sub,
        "recorded_at": now,
    }
    try:
        await insert_outcome(session, outcome)
    except IntegrityError:  # a concurrent answer won the race
        raise conflict("the offer was already answered") from None
    offer.status = OfferStatus.ACCEPTED
    offer.updated_at = now
    stage_event(
        session,
        settings,
        offer,
        doc,
        "offer.accepted.v1",
        ev.OfferAccepted,
        content=True,
        bill_to=bill_to,
        ship_to=ship_to,
        customer_po_number=body.customer_po_number,
        accepted_by=body.accepted_by,
        accepted_on=body.accepted_on,
        recorded_by=principal.sub,
    )
    await update_offer(session, offer, "status", "updated_at", "version")
    return answer(offer, version_out(version, doc), outcome)


async def reject_offer(
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    principal: Principal,
    offer_id: str,
    body: RejectIn,
) -> OfferOut:
    offer = await load_offer(session, offer_id, principal, lock=True)
    today = clock.today()
    with _allowed():
        lifecycle.check_customer_answer(
            offer.status,
            offer.valid_until,
            today,
            latest=offer.offer_version,
            requested=body.offer_version,
            action="reject",
        )
    now = clock.now()
    await _record_outcome(
        session,
        OutcomeRow(
            offer_id=offer.id,
            outcome="rejected",
            offer_version=offer.offer_version,
            customer_person=body.rejected_by,
            decided_on=today,
            reason=body.reason,
            recorded_by=principal.sub,
            recorded_at=now,
        ),
    )
    offer.status = OfferStatus.REJECTED
    offer.updated_at = now
    doc = document_of(await load_version(session, offer.id, offer.offer_version))
    stage_event(
        session,
        settings,
        offer,
        doc,
        "offer.rejected.v1",
        ev.OfferRejected,
        reason=body.reason,
        rejected_by=body.rejected_by,
        recorded_by=principal.sub,
    )
    session.add(offer)
    await session.flush()
    return await offer_out(session, offer)


async def expire_one(
    session: AsyncSession, settings: Settings, clock: Clock, offer_id: str
) -> bool:
    """Expire one offer if it is still open and past its validity (re-checked under lock)."""
    offer = (
        await session.exec(select(OfferRow).where(OfferRow.id == offer_id).with_for_update())
    ).first()
    today = clock.today()
    if offer is None or not lifecycle.is_expired(offer.status, offer.valid_until, today):
        return False
    now = clock.now()
    await _record_outcome(
        session,
        OutcomeRow(
            offer_id=offer.id,
            outcome="expired",
            offer_version=offer.offer_version,
            decided_on=today,
            reason=f"valid until {offer.valid_until}",
            recorded_at=now,
        ),
    )
    offer.status = OfferStatus.EXPIRED
    offer.updated_at = now
    doc = document_of(await load_version(session, offer.id, offer.offer_version))
    stage_event(session, settings, offer, doc, "offer.expired.v1", ev.OfferExpired)
    session.add(offer)
    return True


async def due_for_expiry(session: AsyncSession, clock: Clock, limit: int = 200) -> list[str]:
    stmt = (
        select(OfferRow.id)
        .where(OfferRow.status.in_(list(lifecycle.OPEN)), OfferRow.valid_until < clock.today())
        .order_by(OfferRow.valid_until, OfferRow.id)
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())
