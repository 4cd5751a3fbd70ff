"""Settings of the orders service (env prefix ``SALESFLOW_ORDERS_``)."""

from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from salesflow.reference import COUNTRIES_WITHOUT_POSTAL_CODE
from salesflow.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "orders"
    default_port: ClassVar[int] = 8104

    # Order numbers: ``<prefix>-<year>-<000123>``; the year is taken in this time zone.
    order_number_prefix: str = Field("SO", pattern=r"^[A-Z]{1,8}$")
    order_number_digits: int = Field(6, ge=4, le=12)
    order_number_timezone: str = "UTC"

    # Credit limit on the open order value (gross) of a customer, used when the customer has no
    # limit of its own. None = no limit.
    default_credit_limit: Decimal | None = None
    default_credit_currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")

    # Direct intake without an explicit currency prices in this one.
    default_currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")

    # Countries whose addresses have no postal code (an address there is complete without one).
    countries_without_postal_code: list[str] = list(COUNTRIES_WITHOUT_POSTAL_CODE)

    # Group commit of concurrent POST /orders: requests arriving together share one
    # transaction (see orders.batching); half the CPU per order under load. Off = one
    # transaction per request (the platform's run_idempotent).
    intake_group_commit: bool = True
    intake_batch_max: int = Field(128, ge=1, le=1000)
