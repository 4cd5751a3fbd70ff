"""Exact money amounts: 4 decimal places stored, shown with at least the currency's minor unit
(JPY 0, EUR 2, BHD 3)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Protocol

from salesflow.reference import minor_units

PLACES = Decimal("0.0001")
CENT = Decimal("0.01")


def exact(value: Decimal) -> Decimal:
    """Round to the 4 places every amount is stored with (banker's rounding)."""
    return Decimal(value).quantize(PLACES, rounding=ROUND_HALF_EVEN)


def trim(value: Decimal) -> Decimal:
    """``123.4500`` → ``123.45``, ``100`` → ``100.00``, ``1.2345`` stays."""
    two = value.quantize(CENT, rounding=ROUND_HALF_EVEN)
    return two if two == value else value.normalize()


def shown(value: Decimal, currency: str) -> Decimal:
    """``value`` written with the currency's minor unit, more places only if it has them:
    ``3002.00`` JPY → ``3002``, ``100`` EUR → ``100.00``, ``1.5`` BHD → ``1.500``,
    ``1.2345`` EUR stays."""
    short = value.quantize(Decimal(1).scaleb(-minor_units(currency)))
    return short if short == value else value.normalize()


def normalized(value: Decimal) -> Decimal:
    """The form an amount has after a round trip through the database."""
    return trim(exact(value))


class Priced(Protocol):
    @property
    def currency(self) -> str: ...


def deal_currency(*known: Priced | None, default: str) -> str:
    """The deal's currency: that of the first amount known (estimate, then budget), else the
    configured default."""
    for money in known:
        if money is not None:
            return money.currency
    return default
