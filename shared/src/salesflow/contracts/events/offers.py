"""Events of the offers service (phases 4-5): topic ``offers.offer.v1``, key ``offer_id``.

``offer_version`` is the offer's document version (v1, v2 … after revisions); ``version`` is the
aggregate version that grows with every change and is what consumers compare for staleness.
``offer.accepted`` carries the complete priced contract: orders builds the order from it alone.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from salesflow.contracts.catalog import TopicSpec, register_event, register_topic
from salesflow.contracts.events.common import (
    Address,
    CompanySnapshot,
    Contact,
    Id,
    LineKind,
    Percent,
    PricedLine,
    Quantity,
    Terms,
    Totals,
    UnitCode,
    UserId,
    ValueObject,
    Version,
)
from salesflow.contracts.types import CurrencyCode, Payload

TOPIC = register_topic(
    TopicSpec(
        name="offers.offer.v1",
        producer="offers",
        partitions=6,
        description="Offers from creation through approval, sending and revisions to acceptance, "
        "rejection or expiry. Key: offer_id.",
        consumers=("opportunities", "orders", "controlling"),
    )
)


class OfferStatus(StrEnum):
    DRAFT = "draft"
    APPROVAL_PENDING = "approval_pending"
    APPROVED = "approved"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"


class OfferEvent(Payload):
    """Fields common to every offer event."""

    offer_id: Id
    offer_version: int = Field(ge=1, description="Offer document version (v1, v2 …)")
    version: Version
    status: OfferStatus = Field(description="Status after this event")
    opportunity_id: Id
    account_id: Id | None = Field(None, description="After-sales account id (existing customer)")
    owner: UserId
    team: str | None = Field(None, description="Team of the owner")
    currency: CurrencyCode
    totals: Totals = Field(description="Totals of this offer version")
    valid_until: date = Field(description="Last day the offer can be accepted")


class BundleComponent(ValueObject):
    """A component of a bundle line: the line is priced as one, but delivered as its parts
    (goods become shipments, services implementation tasks)."""

    line_no: int = Field(ge=1, description="The bundle's line in `lines`")
    sku: str = Field(min_length=1, description="Component SKU")
    name: str = Field(min_length=1, description="Component name")
    quantity: Quantity = Field(description="Quantity for the whole line (bundle qty × per bundle)")
    unit: UnitCode
    kind: LineKind


class OfferContent(OfferEvent):
    """An offer event that carries the whole offer document."""

    customer: CompanySnapshot
    contact: Contact | None = Field(None, description="Addressee at the customer")
    lines: list[PricedLine] = Field(min_length=1)
    terms: Terms
    notes: str | None = Field(None, description="Free text printed on the offer")
    bundle_components: list[BundleComponent] = Field(
        default_factory=list, description="Components of the bundle lines, by line number"
    )
    discount_percent: Percent | None = Field(
        None, description="Document-level discount, already included in each line's discount"
    )


@register_event("offer.created.v1", TOPIC, "A priced offer (version 1) was created.")
class OfferCreated(OfferContent):
    created_by: UserId


@register_event(
    "offer.approval_requested.v1", TOPIC, "A discount above the rep's limit needs approval."
)
class OfferApprovalRequested(OfferEvent):
    requested_by: UserId
    reasons: list[str] = Field(min_length=1, description="Every approval rule that was hit")
    max_discount_percent: Percent = Field(description="Largest discount on the offer")
    required_role: str = Field("sales_manager", description="Role that may approve")


@register_event("offer.approved.v1", TOPIC, "A manager approved the offer's discounts.")
class OfferApproved(OfferEvent):
    approved_by: UserId
    comment: str | None = None


@register_event("offer.sent.v1", TOPIC, "The offer was sent to the customer.")
class OfferSent(OfferEvent):
    sent_by: UserId
    recipient: Contact | None = Field(None, description="Who it was sent to")


@register_event("offer.revised.v1", TOPIC, "A new offer version was created in negotiation.")
class OfferRevised(OfferContent):
    previous_offer_version: int = Field(ge=1)
    changes: list[str] = Field(default_factory=list, description="What changed, human-readable")
    approval_required: bool = Field(False, description="The revision needs approval again")
    revised_by: UserId


@register_event(
    "offer.accepted.v1",
    TOPIC,
    "The customer accepted the latest sent version: the complete priced contract.",
)
class OfferAccepted(OfferContent):
    bill_to: Address = Field(description="Billing address")
    ship_to: Address = Field(description="Delivery address")
    customer_po_number: str | None = Field(None, description="Customer's purchase order number")
    accepted_by: str = Field(min_length=1, description="Person at the customer who accepted")
    accepted_on: date = Field(description="Date of acceptance")
    recorded_by: UserId = Field(description="User who recorded the acceptance")


@register_event("offer.rejected.v1", TOPIC, "The customer rejected the offer.")
class OfferRejected(OfferEvent):
    reason: str = Field(min_length=1)
    rejected_by: str | None = Field(None, description="Person at the customer")
    recorded_by: UserId


@register_event("offer.expired.v1", TOPIC, "The offer passed its validity date unaccepted.")
class OfferExpired(OfferEvent):
    pass
