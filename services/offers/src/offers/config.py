"""Settings of the offers service (env prefix ``SALESFLOW_OFFERS_``)."""

from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from salesflow.reference import COUNTRIES_WITHOUT_POSTAL_CODE
from salesflow.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "offers"
    default_port: ClassVar[int] = 8103

    # letterhead of the offer document
    company_name: str = "Salesflow Demo GmbH"
    company_address: list[str] = ["Musterstraße 1", "80331 München", "Germany"]
    company_contact: str | None = "sales@salesflow.example · +49 89 1234560"
    company_vat_id: str | None = "DE123456789"
    company_register: str | None = "Amtsgericht München HRB 000000"
    company_bank: str | None = "IBAN DE00 0000 0000 0000 0000 00 · BIC XXXXDEXXXXX"
    document_font: str | None = Field(
        None,
        description="TrueType font file for documents; default DejaVu Sans if installed, "
        '"helvetica" for the PDF core font (Latin-1 only)',
    )

    # pricing
    tax_rates: dict[str, Decimal] = {
        "standard": Decimal("19"),
        "reduced": Decimal("7"),
        "zero": Decimal("0"),
        "exempt": Decimal("0"),
    }
    # the most a role may discount (line or document, in percent) without approval
    discount_limits: dict[str, Decimal] = {
        "sales_rep": Decimal("10"),
        "sales_manager": Decimal("20"),
        "admin": Decimal("100"),
    }

    # offer lifecycle
    default_validity_days: int = 30
    max_validity_days: int = 365
    business_timezone: str = "UTC"  # the day an offer's validity ends is a day in this zone
    expiry_interval_s: float = 60.0
    max_lines: int = 500

    # Countries whose addresses are complete without a postal code. Keep it equal to the orders
    # service's setting of the same name: an address orders would refuse is refused at accept.
    countries_without_postal_code: list[str] = list(COUNTRIES_WITHOUT_POSTAL_CODE)
