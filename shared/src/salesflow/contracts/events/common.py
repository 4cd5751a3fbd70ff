"""Value objects shared by several event payloads.

They are snapshots, not references: a consumer finds everything it needs inside the event and
never calls the producer back. Like payloads, value objects ignore unknown fields so that a
producer may add fields inside a topic version.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from salesflow.contracts.types import CountryCode, Money, PlainDecimal

Id = Annotated[str, Field(min_length=1, max_length=128)]
"""An aggregate or entity id as the owning service issues it (opaque string)."""

UserId = Annotated[str, Field(min_length=1, max_length=128, description="User id (JWT `sub`)")]
_UNSIGNED_DECIMAL = {"pattern": r"^\d+(\.\d+)?([eE][+-]?\d+)?$"}  # JSON form of the value
Quantity = Annotated[
    PlainDecimal,
    Field(
        gt=0,
        description='Quantity > 0 as a decimal string, e.g. "2" or "12.5"',
        json_schema_extra=_UNSIGNED_DECIMAL,
    ),
]
Percent = Annotated[
    PlainDecimal,
    Field(
        ge=0,
        le=100,
        description="Percent (0-100) as a decimal string",
        json_schema_extra=_UNSIGNED_DECIMAL,
    ),
]
UnitCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z0-9]{2,3}$",
        description="Unit of measure, UN/CEFACT Recommendation 20 code (C62 piece, HUR hour, …)",
        examples=["C62", "HUR", "KGM"],
    ),
]
PIECE_UNITS = frozenset({"C62", "H87", "EA", "SET", "PR", "NPR", "XPK"})
"""Unit codes counted in whole pieces (UN/CEFACT Rec. 20): a fractional quantity of one is an
error, at intake (orders) and on delivery (fulfillment) alike."""
NaceCode = Annotated[
    str,
    Field(
        pattern=r"^([A-V]|\d{2}(\.\d{1,2})?)$",
        description="NACE Rev. 2 / 2.1 code at any level (section letter, 62, 62.0, 62.01)",
        examples=["J", "62.01"],
    ),
]
NaceSection = Annotated[
    str, Field(pattern=r"^[A-V]$", description="NACE section letter (level 1)", examples=["J"])
]
Version = Annotated[
    int,
    Field(
        ge=1,
        description="Version of the aggregate after this change; consumers drop stale versions",
    ),
]


class ValueObject(BaseModel):
    """Base of nested value objects: immutable, unknown fields ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class SizeClass(StrEnum):
    """EU enterprise size class (Recommendation 2003/361/EC, by staff headcount)."""

    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class LineKind(StrEnum):
    """Physical goods become shipments; services become implementation tasks."""

    GOODS = "goods"
    SERVICE = "service"


class Incoterm(StrEnum):
    """Incoterms 2020 rule."""

    EXW = "EXW"
    FCA = "FCA"
    CPT = "CPT"
    CIP = "CIP"
    DAP = "DAP"
    DPU = "DPU"
    DDP = "DDP"
    FAS = "FAS"
    FOB = "FOB"
    CFR = "CFR"
    CIF = "CIF"


class Address(ValueObject):
    """A postal address (billing, shipping or site)."""

    name: str | None = Field(None, description="Addressee: company or person")
    attention: str | None = Field(None, description="Contact person or department (c/o, attn.)")
    street: str = Field(min_length=1, description="Street and house number")
    street2: str | None = Field(None, description="Additional address line")
    postal_code: str | None = Field(None, description="Postal code")
    city: str = Field(min_length=1, description="City")
    region: str | None = Field(None, description="Region or state (NUTS code where known)")
    country: CountryCode


def missing_for_order(address: Address, no_postal_code: Collection[str]) -> list[str]:
    """The parts an order needs that ``address`` lacks (empty: complete): street, city and,
    outside the countries ``no_postal_code``, the postal code. Orders rejects an order with an
    incomplete bill-to or ship-to; offers refuses to accept with one."""
    missing = [name for name in ("street", "city") if not (getattr(address, name) or "").strip()]
    if address.country not in no_postal_code and not (address.postal_code or "").strip():
        missing.append("postal_code")
    return missing


class CompanySnapshot(ValueObject):
    """A company as known at the time of the event (firmographics used for segmentation)."""

    company_id: Id = Field(description="Company id in the leads service's universe")
    name: str = Field(min_length=1, description="Legal or trading name")
    country: CountryCode
    region: str | None = Field(None, description="NUTS region code", examples=["DE21"])
    postal_code: str | None = Field(None, description="Postal code")
    city: str | None = Field(None, description="City")
    nace: NaceCode | None = Field(None, description="Most specific NACE code known")
    nace_section: NaceSection | None = Field(
        None, description="NACE section of `nace`, so consumers need no NACE table"
    )
    employees: int | None = Field(None, ge=0, description="Staff headcount")
    size_class: SizeClass | None = Field(None, description="EU size class derived from staff")
    duns: str | None = Field(None, pattern=r"^\d{9}$", description="D-U-N-S number")
    vat_id: str | None = Field(
        None, description="VAT identification number", examples=["DE123456789"]
    )
    website: str | None = Field(None, description="Website URL")


class Contact(ValueObject):
    """A person at the customer."""

    name: str = Field(min_length=1, description="Full name")
    email: str | None = Field(None, description="E-mail address")
    phone: str | None = Field(None, description="Phone number (E.164 preferred)")
    role: str | None = Field(None, description="Job title or buying role", examples=["CFO"])


class NeedsAnalysis(ValueObject):
    """BANT needs analysis recorded at qualification."""

    budget: Money | None = Field(None, description="Budget the customer named")
    authority: str | None = Field(None, description="Who decides and how")
    need: str | None = Field(None, description="The problem to solve")
    timeline: str | None = Field(None, description="When the customer wants to decide or start")


class SelectedOption(ValueObject):
    """A configured option or attribute of a product line."""

    code: str = Field(min_length=1, description="Option or attribute code")
    value: str = Field(description="Chosen value")
    name: str | None = Field(None, description="Human-readable label")


class PricedLine(ValueObject):
    """A line with frozen prices: what the customer was offered or agreed to."""

    line_no: int = Field(ge=1, description="Line number, stable across revisions")
    sku: str = Field(min_length=1, description="Product SKU")
    name: str = Field(min_length=1, description="Product name")
    description: str | None = Field(None, description="Line text shown on documents")
    quantity: Quantity
    unit: UnitCode
    kind: LineKind
    options: list[SelectedOption] = Field(default_factory=list, description="Configuration")
    unit_price: Money = Field(description="Unit price after tier/customer pricing, net of tax")
    discount_percent: Percent = Field(Decimal(0), description="Line discount in percent")
    net: Money = Field(description="Line net amount after discount, rounded to minor unit")
    tax_rate: Percent = Field(description='VAT rate in percent, e.g. "19"')
    tax: Money = Field(description="VAT of this line")
    requested_delivery_date: date | None = Field(
        None, description="Line-specific requested date, overrides the document's"
    )


class TaxAmount(ValueObject):
    """Tax subtotal for one VAT rate."""

    rate: Percent = Field(description="VAT rate in percent")
    net: Money = Field(description="Taxable net amount at this rate")
    tax: Money = Field(description="Tax at this rate")


class Totals(ValueObject):
    """Document totals; `net + tax = gross`, `tax` is the sum of `tax_by_rate`."""

    net: Money
    tax: Money
    gross: Money
    tax_by_rate: list[TaxAmount] = Field(default_factory=list, description="Tax per VAT rate")


class Terms(ValueObject):
    """Commercial terms of an offer or order."""

    payment_terms: str | None = Field(None, description="Payment terms", examples=["30 days net"])
    payment_days: int | None = Field(None, ge=0, description="Days until payment is due")
    incoterms: Incoterm | None = Field(None, description="Incoterms 2020 rule")
    incoterms_place: str | None = Field(None, description="Named place of the Incoterms rule")
    requested_delivery_date: date | None = Field(None, description="Requested delivery date")


class SourceRef(ValueObject):
    """Where an order or opportunity came from."""

    offer_id: Id | None = None
    offer_version: int | None = Field(None, ge=1, description="Offer version (v1, v2 …)")
    opportunity_id: Id | None = None


class DeliveredLine(ValueObject):
    """Quantities delivered of one order line, with the serial numbers of the units."""

    line_no: int = Field(ge=1, description="Order line number")
    sku: str = Field(min_length=1, description="Product SKU")
    quantity: Quantity
    serial_numbers: list[str] = Field(default_factory=list, description="Serials of the units")


class ProofOfDelivery(ValueObject):
    """Evidence that the consignee received the goods."""

    signed_by: str | None = Field(None, description="Name of the person who signed")
    received_at: date | None = Field(None, description="Date of receipt")
    document_url: str | None = Field(None, description="Link to the signed POD document")
    reference: str | None = Field(None, description="POD number in the carrier's system")
