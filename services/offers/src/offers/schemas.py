"""Request and response models of the offers API (never the table models).

Requests forbid unknown fields: prices, totals, approval and status are computed by the
service, so a client that sends them gets a 422 instead of a silently ignored field."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from offers.domain.configuration import RuleKind
from offers.domain.money import plain_notation
from offers.domain.pricing import TierMode
from salesflow.api.fields import CalendarDate, Country, Currency, Email
from salesflow.contracts.events.common import (
    Address,
    CompanySnapshot,
    Contact,
    Incoterm,
    LineKind,
    SizeClass,
    Totals,
)

Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Value = Annotated[str, Field(min_length=1, max_length=200)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=4000)]
UnitCode = Annotated[str, Field(pattern=r"^[A-Z0-9]{2,3}$", examples=["C62", "HUR"])]
# "1e2" is read as Decimal("1E+2"), which would be written back (and sent to orders) as "1E+2"
_Plain = AfterValidator(plain_notation)
Amount = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6), _Plain]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=4), _Plain]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4), _Plain]
# a decimal in a response or a stored document: plain notation however it was computed or stored
PlainDecimal = Annotated[Decimal, _Plain]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- catalog ------------------------------------------------------------------------------------


class OptionIn(Input):
    code: Code
    name: Name
    values: list[Value] = Field(
        default_factory=list, max_length=100, description="Allowed values; empty ⇒ free text"
    )
    required: StrictBool = False
    default: Value | None = None


class ConditionIn(Input):
    option: Code
    value: Value | None = Field(None, description="None ⇒ any value of the option")


class RuleIn(Input):
    kind: RuleKind
    when: ConditionIn
    then: ConditionIn
    name: Annotated[str, Field(max_length=100)] | None = None
    message: Annotated[str, Field(max_length=300)] | None = None


class ComponentIn(Input):
    sku: Sku
    quantity: Quantity


class ProductFields(Input):
    name: Name
    description: Text | None = None
    unit: UnitCode = Field(description="UN/CEFACT Recommendation 20 code")
    tax_category: Annotated[str, Field(min_length=1, max_length=40)] = "standard"
    kind: LineKind = Field(description="goods are shipped, services become implementation tasks")
    active: StrictBool = True
    options: list[OptionIn] = Field(default_factory=list, max_length=50)
    rules: list[RuleIn] = Field(default_factory=list, max_length=200)
    components: list[ComponentIn] = Field(
        default_factory=list, max_length=100, description="Non-empty ⇒ the product is a bundle"
    )
    requires_skus: list[Sku] = Field(default_factory=list, max_length=50)
    excludes_skus: list[Sku] = Field(default_factory=list, max_length=50)


class ProductIn(ProductFields):
    sku: Sku


class ProductOut(BaseModel):
    sku: str
    name: str
    description: str | None
    unit: str
    tax_category: str
    kind: LineKind
    active: bool
    options: list[OptionIn]
    rules: list[RuleIn]
    components: list[ComponentIn]
    requires_skus: list[str]
    excludes_skus: list[str]
    is_bundle: bool
    version: int
    created_at: datetime
    updated_at: datetime


class ProductPage(BaseModel):
    items: list[ProductOut]
    next_cursor: str | None = None


class ConfigurationIn(Input):
    options: list[OptionChoice] = Field(default_factory=list, max_length=50)


class ConfigurationOut(BaseModel):
    sku: str
    valid: bool
    options: dict[str, str] = Field(description="Chosen options with defaults filled in")


# --- price books --------------------------------------------------------------------------------


class TierIn(Input):
    min_quantity: Quantity
    unit_price: Amount


class PriceEntryIn(Input):
    sku: Sku
    unit_price: Amount
    option_code: Code | None = Field(None, description="Set ⇒ a surcharge per unit for the option")
    option_value: Value | None = None
    mode: TierMode = TierMode.RANGE
    tiers: list[TierIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _option_pair(self) -> PriceEntryIn:
        if (self.option_code is None) != (self.option_value is None):
            raise ValueError("option_code and option_value go together")
        if self.option_code is not None and self.tiers:
            raise ValueError("option surcharges have no tiers")
        return self


class PriceBookFields(Input):
    name: Name
    currency: Currency
    # pricing matches it against the account's size class, so any other text could never apply
    segment: SizeClass | None = Field(
        None, description="Customer segment: the account's EU size class (micro … large)"
    )
    customer_id: Annotated[str, Field(min_length=1, max_length=128)] | None = Field(
        None, description="Company id: customer-specific prices that override all others"
    )
    valid_from: CalendarDate
    valid_to: CalendarDate | None = None
    priority: StrictInt = Field(0, ge=0, le=1000)
    active: StrictBool = True
    entries: list[PriceEntryIn] = Field(default_factory=list, max_length=5000)

    @model_validator(mode="after")
    def _consistent(self) -> PriceBookFields:
        if self.segment is not None and self.customer_id is not None:
            raise ValueError("a price book is for a segment or for a customer, not both")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to lies before valid_from")
        return self


class PriceEntryOut(BaseModel):
    sku: str
    unit_price: PlainDecimal
    option_code: str | None
    option_value: str | None
    mode: TierMode
    tiers: list[TierIn]


class PriceBookOut(BaseModel):
    id: str
    name: str
    currency: str
    segment: str | None
    customer_id: str | None
    valid_from: date
    valid_to: date | None
    priority: int
    active: bool
    version: int
    entries: list[PriceEntryOut]
    created_at: datetime
    updated_at: datetime


class PriceBookPage(BaseModel):
    items: list[PriceBookOut]
    next_cursor: str | None = None


# --- offers: requests ---------------------------------------------------------------------------


class OptionChoice(Input):
    code: Code
    value: Value


class LineIn(Input):
    line_no: StrictInt | None = Field(
        None, ge=1, le=9999, description="Keep to match across revisions"
    )
    sku: Sku
    quantity: Quantity
    options: list[OptionChoice] = Field(default_factory=list, max_length=50)
    discount_percent: Percent = Field(Decimal(0), description="Manual line discount")
    requested_delivery_date: CalendarDate | None = None


class TermsIn(Input):
    payment_terms: Annotated[str, Field(max_length=200)] | None = None
    payment_days: StrictInt | None = Field(None, ge=0, le=365)
    incoterms: Incoterm | None = Field(None, description="Incoterms 2020 rule")
    incoterms_place: Annotated[str, Field(max_length=200)] | None = None
    requested_delivery_date: CalendarDate | None = None


class ContactIn(Input):
    name: Name
    email: Email | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    role: Annotated[str, Field(max_length=100)] | None = None


class AddressIn(Input):
    name: Name | None = None
    attention: Name | None = None
    street: Name
    street2: Name | None = None
    postal_code: Annotated[str, Field(max_length=20)] | None = None
    city: Name
    region: Annotated[str, Field(max_length=100)] | None = None
    country: Country


class OfferIn(Input):
    opportunity_id: Annotated[str, Field(min_length=1, max_length=128)]
    currency: Currency | None = Field(None, description="Default: the opportunity's currency")
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    discount_percent: Percent = Field(Decimal(0), description="Discount on the whole document")
    terms: TermsIn = Field(default_factory=TermsIn)
    valid_until: CalendarDate | None = Field(
        None, description="Default: today + the default validity"
    )
    notes: Text | None = None
    contact: ContactIn | None = Field(None, description="Default: the opportunity's contact")
    bill_to: AddressIn | None = None
    ship_to: AddressIn | None = None


class ReviseIn(Input):
    """Only what changes; what is left out is taken from the previous version."""

    lines: list[LineIn] | None = Field(None, min_length=1, max_length=500)
    discount_percent: Percent | None = None
    terms: TermsIn | None = None
    valid_until: CalendarDate | None = None
    notes: Text | None = None
    contact: ContactIn | None = None
    bill_to: AddressIn | None = None
    ship_to: AddressIn | None = None

    @model_validator(mode="after")
    def _something(self) -> ReviseIn:
        if not self.model_fields_set:
            raise ValueError("a revision must change something")
        return self


class DecisionIn(Input):
    decision: Literal["approve", "reject"]
    comment: Annotated[str, Field(max_length=2000)] | None = None

    @model_validator(mode="after")
    def _comment_on_reject(self) -> DecisionIn:
        if self.decision == "reject" and not (self.comment and self.comment.strip()):
            raise ValueError("a rejection needs a comment")
        return self


class SendIn(Input):
    recipient: ContactIn | None = Field(None, description="Default: the offer's contact")


class AcceptIn(Input):
    customer_po_number: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    accepted_by: Name = Field(description="Person at the customer who accepted")
    accepted_on: CalendarDate
    offer_version: StrictInt | None = Field(None, ge=1, description="Must be the latest version")
    bill_to: AddressIn | None = Field(None, description="Default: the offer's bill-to")
    ship_to: AddressIn | None = Field(None, description="Default: the offer's ship-to")


class RejectIn(Input):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    rejected_by: Name | None = Field(None, description="Person at the customer")
    offer_version: StrictInt | None = Field(None, ge=1)


# --- offers: documents and responses ------------------------------------------------------------


class LineOption(BaseModel):
    code: str
    name: str
    value: str
    surcharge: PlainDecimal = Field(description="Per unit, included in the unit price")


class LineComponent(BaseModel):
    sku: str
    name: str
    quantity: PlainDecimal
    unit: str
    kind: LineKind


class OfferLine(BaseModel):
    """A priced line, frozen in its version."""

    line_no: int
    sku: str
    name: str
    description: str | None = None
    quantity: PlainDecimal
    unit: str
    kind: LineKind
    options: list[LineOption] = Field(default_factory=list)
    components: list[LineComponent] = Field(default_factory=list)
    list_unit_price: PlainDecimal = Field(description="List price incl. option surcharges")
    unit_price: PlainDecimal = Field(description="After volume tiers (average for slab pricing)")
    tier_discount: PlainDecimal = Field(description="Amount saved by volume tiers")
    line_discount_percent: PlainDecimal
    discount_percent: PlainDecimal = Field(description="Line and document discount combined")
    discount_amount: PlainDecimal
    net: PlainDecimal
    tax_category: str
    tax_rate: PlainDecimal
    tax: PlainDecimal
    price_source: str
    requested_delivery_date: date | None = None


class OfferDocument(BaseModel):
    """Everything the customer sees in one version; stored as JSON, never re-priced."""

    offer_version: int
    currency: str
    customer: CompanySnapshot
    segment: str | None = None
    contact: Contact | None = None
    bill_to: Address | None = None
    ship_to: Address | None = None
    lines: list[OfferLine]
    discount_percent: PlainDecimal
    totals: Totals
    terms: TermsIn
    valid_until: date
    notes: str | None = None
    priced_on: date


class VersionOut(BaseModel):
    number: int
    document: OfferDocument
    changes: list[str]
    approval: str
    approval_reasons: list[str]
    requested_by: str
    decided_by: str | None
    decision_comment: str | None
    decided_at: datetime | None
    sent_by: str | None
    sent_at: datetime | None
    created_at: datetime


class OutcomeOut(BaseModel):
    outcome: str
    offer_version: int
    customer_po_number: str | None
    customer_person: str | None
    decided_on: date
    reason: str | None
    recorded_by: str | None
    recorded_at: datetime


class OfferSummary(BaseModel):
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
    net: PlainDecimal
    gross: PlainDecimal
    version: int
    correlation_id: str
    created_by: str
    created_at: datetime
    updated_at: datetime


class OfferOut(OfferSummary):
    current: VersionOut
    outcome: OutcomeOut | None = None


class OfferPage(BaseModel):
    items: list[OfferSummary]
    next_cursor: str | None = None


class VersionSummary(BaseModel):
    number: int
    approval: str
    changes: list[str]
    net: PlainDecimal
    gross: PlainDecimal
    sent_at: datetime | None
    created_at: datetime


class VersionList(BaseModel):
    items: list[VersionSummary]


ConfigurationIn.model_rebuild()
