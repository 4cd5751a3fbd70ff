"""Exact money amounts: 4 decimal places stored, shown with at least the currency's minor unit
(JPY 0, EUR 2, BHD 3)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Protocol

PLACES = Decimal("0.0001")
CENT = Decimal("0.01")


def exact(value: Decimal) -> Decimal:
    """Round to the 4 places every amount is stored with (banker's rounding)."""
    return Decimal(value).quantize(PLACES, rounding=ROUND_HALF_EVEN)


def trim(value: Decimal) -> Decimal:
    """``123.4500`` → ``123.45``, ``100`` → ``100.00``, ``1.2345`` stays."""
    two = value.quantize(CENT, rounding=ROUND_HALF_EVEN)
    return two if two == value else value.normalize()


# ISO 4217 currencies whose minor unit is not 2 (list one, 2025); the same table as offers'
# (a shared helper would be better: wished for).
_MINOR_UNITS: dict[str, int] = {
    code: places
    for codes, places in (
        ("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF", 0),
        ("BHD IQD JOD KWD LYD OMR TND", 3),
        ("CLF UYW", 4),
    )
    for code in codes.split()
}


def minor_units(currency: str) -> int:
    """Decimal places of ``currency``'s minor unit; 2 for any code not listed as different."""
    return _MINOR_UNITS.get(currency, 2)


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
