"""Settings of the aftersales service (env prefix ``SALESFLOW_AFTERSALES_``; dict and list
fields take JSON, e.g. ``SALESFLOW_AFTERSALES_WARRANTY_MONTHS='{"LATHE-*": 36}'``)."""

from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import ClassVar

from pydantic import BaseModel, Field, model_validator

from aftersales.domain.calendar import BusinessCalendar
from aftersales.domain.installed_base import ProductTerms
from aftersales.domain.sla import SlaPolicy, SlaTarget
from salesflow.settings import ServiceSettings


class SlaTargetSetting(BaseModel):
    first_response_minutes: int = Field(gt=0)
    resolution_minutes: int = Field(gt=0)


DEFAULT_SLA = {  # business minutes
    "P1": SlaTargetSetting(first_response_minutes=60, resolution_minutes=8 * 60),
    "P2": SlaTargetSetting(first_response_minutes=4 * 60, resolution_minutes=3 * 8 * 60),
    "P3": SlaTargetSetting(first_response_minutes=8 * 60, resolution_minutes=5 * 8 * 60),
    "P4": SlaTargetSetting(first_response_minutes=2 * 8 * 60, resolution_minutes=10 * 8 * 60),
}


@lru_cache(maxsize=32)
def _calendar(
    timezone: str, workdays: tuple[int, ...], start: str, end: str, holidays: tuple[date, ...]
) -> BusinessCalendar:
    """Calendars are immutable and asked for on every event: build each one once."""
    return BusinessCalendar.of(
        timezone=timezone, workdays=workdays, start=start, end=end, holidays=holidays
    )


class Settings(ServiceSettings):
    service: ClassVar[str] = "aftersales"
    default_port: ClassVar[int] = 8106

    # installed base: months per SKU or SKU pattern ("LATHE-*")
    default_warranty_months: int = Field(24, ge=0)
    warranty_months: dict[str, int] = {}
    contract_months: dict[str, int] = {}  # service SKUs that are contracts, with their term

    # SLA: targets per severity, counted in business hours of this calendar
    sla_targets: dict[str, SlaTargetSetting] = DEFAULT_SLA
    business_timezone: str = "Europe/Berlin"
    business_days: list[int] = [0, 1, 2, 3, 4]  # Monday = 0
    business_hours_start: str = "08:00"
    business_hours_end: str = "17:00"
    holidays: list[date] = []
    sla_scan_interval_s: float = Field(60.0, gt=0)

    # renewals and follow-ups
    renewal_notice_days: int = Field(90, ge=0)
    renewal_scan_interval_s: float = Field(3600.0, gt=0)
    warranty_extension_rate: Decimal = Field(Decimal("0.08"), ge=0)
    default_currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    fallback_owner: str = "sales-desk"  # owner of follow-ups for accounts without an owner

    health_window_days: int = Field(180, gt=0)  # SLA breaches count this long

    @model_validator(mode="after")
    def _rules_are_valid(self) -> "Settings":
        self.sla_policy()  # fail at start, not on the first ticket
        return self

    def calendar(self) -> BusinessCalendar:
        return _calendar(
            self.business_timezone,
            tuple(self.business_days),
            self.business_hours_start,
            self.business_hours_end,
            tuple(self.holidays),
        )

    def sla_policy(self) -> SlaPolicy:
        return SlaPolicy(
            calendar=self.calendar(),
            targets={
                sev: SlaTarget(t.first_response_minutes, t.resolution_minutes)
                for sev, t in self.sla_targets.items()
            },
        )

    def product_terms(self) -> ProductTerms:
        return ProductTerms(
            default_warranty_months=self.default_warranty_months,
            warranty_months=self.warranty_months,
            contract_months=self.contract_months,
        )
