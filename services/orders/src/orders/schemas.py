"""Request and response models of the orders API (never the table models)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from orders.domain.money import minor_units
from salesflow.api.fields import CalendarDate, Country, Currency
from salesflow.contracts.events.common import (
    Address,
    CompanySnapshot,
    Contact,
    Incoterm,
    LineKind,
    PricedLine,
    Terms,
    Totals,
)
from salesflow.contracts.types import Money

Unit = Annotated[str, Field(pattern=r"^[A-Z0-9]{2,3}$", description="UN/CEFACT Rec. 20 code")]
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"
SKU_MAX_LENGTH = 64
Sku = Annotated[str, Field(min_length=1, max_length=SKU_MAX_LENGTH, pattern=SKU_PATTERN)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]
Rate = Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)]
Text = Annotated[str, Field(min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests -------------------------------------------------------------------------------


class AddressIn(Strict):
    name: str | None = Field(None, max_length=200)
    attention: str | None = Field(None, max_length=200)
    street: Text
    street2: str | None = Field(None, max_length=200)
    postal_code: str | None = Field(None, max_length=20)
    city: Text
    region: str | None = Field(None, max_length=20)
    country: Country

    def value(self) -> Address:
        return Address.model_validate(self.model_dump())


class ContactIn(Strict):
    name: Text
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    role: str | None = Field(None, max_length=100)

    def value(self) -> Contact:
        return Contact.model_validate(self.model_dump())


class OptionIn(Strict):
    code: Annotated[str, Field(min_length=1, max_length=64)]
    value: Annotated[str, Field(max_length=200)]
    name: str | None = Field(None, max_length=200)


class OrderLineIn(Strict):
    """A line of a direct order. Without ``unit_price`` the line is priced from the price list;
    ``unit_price``, ``discount_percent`` and ``tax_rate`` are explicitly agreed prices, which
    only the order desk may enter."""

    sku: Sku
    quantity: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=4)]
    unit: Unit | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=1000)
    kind: LineKind | None = None
    options: list[OptionIn] = Field(default_factory=list, max_length=50)
    unit_price: Amount | None = None
    discount_percent: Rate | None = None
    tax_rate: Rate | None = None
    requested_delivery_date: CalendarDate | None = None

    @property
    def has_agreed_price(self) -> bool:
        return any(v is not None for v in (self.unit_price, self.discount_percent, self.tax_rate))


class OrderIn(Strict):
    """A direct order of an existing customer (order desk, web shop or EDI gateway)."""

    customer_id: Annotated[str, Field(min_length=1, max_length=128)]
    channel: Literal["order_desk", "web_shop", "edi"] | None = Field(
        None, description="Default: order_desk for the order desk, web_shop for integrations"
    )
    currency: Currency | None = Field(None, description="Default: the service's currency")
    customer_po_number: str | None = Field(None, max_length=100)
    bill_to: AddressIn | None = Field(None, description="Default: the customer's")
    ship_to: AddressIn | None = Field(None, description="Default: the customer's")
    delivery_contact: ContactIn | None = None
    requested_delivery_date: CalendarDate | None = None
    incoterms: Incoterm | None = None
    incoterms_place: str | None = Field(None, max_length=100)
    payment_terms: str | None = Field(None, max_length=200)
    payment_days: StrictInt | None = Field(None, ge=0, le=365)
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)


class CancelIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class CompanyIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=300)]
    country: Country
    region: str | None = Field(None, max_length=20)
    postal_code: str | None = Field(None, max_length=20)
    city: str | None = Field(None, max_length=100)
    nace: str | None = Field(None, pattern=r"^([A-V]|\d{2}(\.\d{1,2})?)$")
    vat_id: str | None = Field(None, max_length=20)
    duns: str | None = Field(None, pattern=r"^\d{9}$")
    website: str | None = Field(None, max_length=300)


class MoneyIn(Strict):
    amount: Amount
    currency: Currency

    @model_validator(mode="after")
    def _whole_minor_units(self) -> MoneyIn:
        # stored as minor units: a finer amount would be rounded silently (a limit even upwards)
        if self.amount != self.amount.quantize(Decimal(1).scaleb(-minor_units(self.currency))):
            raise ValueError(
                f"{self.currency} amounts have at most {minor_units(self.currency)} decimals"
            )
        return self


class CustomerIn(Strict):
    """Master data of an existing customer, as the order desk keeps it."""

    company: CompanyIn
    account_id: str | None = Field(None, max_length=128)
    owner: str | None = Field(None, max_length=200)
    team: str | None = Field(None, max_length=100)
    bill_to: AddressIn | None = None
    ship_to: AddressIn | None = None
    delivery_contact: ContactIn | None = None
    credit_limit: MoneyIn | None = Field(
        None, description="Limit on the open order value (gross); null: the service default"
    )


class PriceIn(Strict):
    currency: Currency
    name: Text
    description: str | None = Field(None, max_length=1000)
    unit: Unit
    kind: LineKind
    unit_price: Amount
    tax_rate: Rate
    active: StrictBool = True


# --- responses ------------------------------------------------------------------------------


class ReasonOut(BaseModel):
    code: str
    message: str
    line_no: int | None = None


class StatusChangeOut(BaseModel):
    status: str
    previous_status: str | None
    at: datetime
    source: str
    event_id: str | None
    actor: str | None
    note: str | None


class OrderOut(BaseModel):
    """An order in lists."""

    id: str
    order_number: str
    status: str
    channel: str
    customer_id: str
    customer_name: str
    currency: str
    net: Money
    gross: Money
    owner: str | None
    team: str | None
    offer_id: str | None
    offer_version: int | None
    requested_delivery_date: date | None
    correlation_id: str
    version: int
    created_at: datetime
    updated_at: datetime


class ContractOut(BaseModel):
    """The accepted offer the order was made from, as accepted."""

    offer_id: str
    offer_version: int
    opportunity_id: str | None
    accepted_by: str | None
    accepted_on: date | None
    event_id: str | None
    snapshot: dict


class OrderDetail(OrderOut):
    customer: CompanySnapshot
    account_id: str | None
    created_by: str | None
    bill_to: Address | None
    ship_to: Address | None
    delivery_contact: Contact | None
    customer_po_number: str | None
    terms: Terms
    lines: list[PricedLine]
    totals: Totals
    rejection_reasons: list[ReasonOut]
    cancel_reason: str | None
    cancelled_by: str | None
    fulfillment_id: str | None
    dispatched_at: datetime | None
    completed_at: datetime | None
    contract: ContractOut | None
    history: list[StatusChangeOut]


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None = None


class CustomerOut(BaseModel):
    customer_id: str
    name: str
    company: CompanySnapshot
    account_id: str | None
    owner: str | None
    team: str | None
    bill_to: Address | None
    ship_to: Address | None
    delivery_contact: Contact | None
    credit_limit: Money | None = Field(description="Own limit; null: the service default applies")
    effective_credit_limit: Money | None
    open_order_value: Money | None = Field(description="Gross, in the limit's currency")
    source: str
    version: int
    updated_at: datetime


class CustomerPage(BaseModel):
    items: list[CustomerOut]
    next_cursor: str | None = None


class PriceOut(BaseModel):
    sku: str
    currency: str
    name: str
    description: str | None
    unit: str
    kind: LineKind
    unit_price: Decimal
    tax_rate: Decimal
    active: bool
    version: int
    updated_at: datetime


class PricePage(BaseModel):
    items: list[PriceOut]
    next_cursor: str | None = None
