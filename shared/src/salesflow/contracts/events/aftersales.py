"""Events of the after-sales service (phase 8): topic ``aftersales.account.v1``, key
``account_id`` (ticket and follow-up events too, so that they stay in order per account).

``account.onboarded`` lets leads recognise existing customers; ``followup.identified`` lets
opportunities open an opportunity for an existing customer without calling back.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field

from salesflow.contracts.catalog import TopicSpec, register_event, register_topic
from salesflow.contracts.events.common import (
    CompanySnapshot,
    Contact,
    Id,
    Quantity,
    UserId,
    ValueObject,
    Version,
)
from salesflow.contracts.types import Money, Payload, UtcDateTime

TOPIC = register_topic(
    TopicSpec(
        name="aftersales.account.v1",
        producer="aftersales",
        partitions=6,
        description="Customer accounts, their tickets and follow-up business. Key: account_id.",
        consumers=("opportunities", "leads", "controlling"),
    )
)


class Asset(ValueObject):
    """One installed-base item."""

    asset_id: Id
    sku: str = Field(min_length=1, description="Product SKU")
    description: str | None = None
    serial_number: str | None = Field(None, description="Serial number, if serialised")
    quantity: Quantity = Field(description="1 for serialised items")
    order_id: Id = Field(description="Order it was delivered with")
    delivered_on: date
    warranty_end: date | None = Field(None, description="Last day of warranty")
    kind: Literal["goods", "contract"] = Field(
        "goods", description="Delivered goods, or a service contract (from a service line)"
    )
    contract_end: date | None = Field(None, description="Last day of a service contract")
    line_no: int | None = Field(None, ge=1, description="Order line it was delivered with")


@register_event(
    "account.onboarded.v1", TOPIC, "A customer got its account with the first delivery."
)
class AccountOnboarded(Payload):
    account_id: Id
    version: Version
    company: CompanySnapshot
    owner: UserId | None = Field(None, description="Account owner (the deal's owner)")
    team: str | None = None
    order_id: Id = Field(description="First delivered order")
    order_number: str = Field(min_length=1)
    fulfillment_id: Id
    installed_base: list[Asset] = Field(default_factory=list)


Severity = Literal["P1", "P2", "P3", "P4"]


class TicketStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class TicketEvent(Payload):
    """Fields common to ticket events; ``version`` is the ticket's."""

    ticket_id: Id
    version: Version
    account_id: Id
    status: TicketStatus = Field(description="Ticket status after this event")
    severity: Severity
    owner: UserId | None = Field(None, description="Account owner")
    asset_id: Id | None = None
    serial_number: str | None = None
    opened_at: UtcDateTime


@register_event("ticket.opened.v1", TOPIC, "A service ticket was opened.")
class TicketOpened(TicketEvent):
    channel: str = Field(description="Where it came in", examples=["phone", "email", "portal"])
    summary: str = Field(min_length=1)
    description: str | None = None
    opened_by: str = Field(description="User id, or the integration's name")
    first_response_due: UtcDateTime = Field(description="SLA target for first response")
    resolution_due: UtcDateTime = Field(description="SLA target for resolution")
    warranty: Literal["in_warranty", "out_of_warranty", "unknown"] = "unknown"
    warranty_end: date | None = Field(None, description="Last day of the asset's warranty")


@register_event("ticket.resolved.v1", TOPIC, "A service ticket was resolved.")
class TicketResolved(TicketEvent):
    resolution: str = Field(min_length=1)
    resolved_by: UserId
    resolved_at: UtcDateTime
    first_response_breached: bool = False
    resolution_breached: bool = False
    business_minutes_to_resolve: int | None = Field(
        None, ge=0, description="Resolution time in business minutes, SLA pauses excluded"
    )


class FollowupKind(StrEnum):
    UPSELL = "upsell"
    CROSS_SELL = "cross_sell"
    RENEWAL = "renewal"


@register_event(
    "followup.identified.v1",
    TOPIC,
    "New business with an existing customer: opportunities opens an opportunity.",
)
class FollowupIdentified(Payload):
    followup_id: Id
    account_id: Id
    account: CompanySnapshot
    contact: Contact | None = None
    owner: UserId = Field(description="Account owner, owner of the new opportunity")
    team: str | None = None
    kind: FollowupKind
    description: str = Field(min_length=1)
    estimated_value: Money
    expected_close_date: date | None = None
    due_date: date | None = Field(None, description="For renewals: contract or warranty end")
    asset_ids: list[Id] = Field(default_factory=list, description="Installed-base items concerned")
    ticket_id: Id | None = Field(None, description="Ticket that revealed it, if any")
    identified_by: UserId | None = Field(None, description="User; none if raised automatically")
    previous_correlation_ids: list[str] = Field(
        default_factory=list, description="Earlier journeys of this account, newest first"
    )
