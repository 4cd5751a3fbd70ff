"""Money arithmetic: rounding to the currency's minor unit and exact integer minor amounts."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from salesflow.reference import minor_units

# The largest amount (exclusive) an order or one of its lines may have, in minor units: orders
# keep amounts as 64-bit integers of minor units, and the open order value of a customer is
# their sum, so a single amount stays far below 2**63 (about 9.2e18). A direct order beyond it
# is a 422; an accepted offer beyond it becomes a rejected order (``amount_too_large``).
MAX_MINOR = 10**15
_MAX_DIGITS = len(str(MAX_MINOR))  # a larger order of magnitude never fits


@cache
def _minor_unit(currency: str) -> Decimal:
    """The currency's smallest amount (``0.01``), made once per currency."""
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Commercial rounding (half up) to the currency's minor unit."""
    return amount.quantize(_minor_unit(currency), rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount as an integer count of minor units (exact sums in SQL, also on SQLite)."""
    return int(round_money(amount, currency).scaleb(minor_units(currency)))


def from_minor(value: int, currency: str) -> Decimal:
    return Decimal(value).scaleb(-minor_units(currency))


def fits(amount: Decimal, currency: str) -> bool:
    """Whether ``amount`` can be kept (``MAX_MINOR``) once rounded to minor units."""
    if not amount.is_finite():
        return False
    # orders of magnitude first: scaling ``1E+999999`` would overflow the Decimal context
    if not amount.is_zero() and amount.adjusted() + minor_units(currency) > _MAX_DIGITS:
        return False
    return abs(amount).scaleb(minor_units(currency)) < MAX_MINOR - Decimal("0.5")


def largest(currency: str) -> Decimal:
    """The largest amount that fits, for messages."""
    return from_minor(MAX_MINOR - 1, currency)
