"""Currencies and rounding: ISO 4217 minor units, commercial rounding (half up)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from salesflow import reference

PRICE_EXTRA_DIGITS = 4
"""Unit prices keep this many digits beyond the minor unit (averages of slab pricing)."""

MAX_MINOR = 10**15
"""Amounts (a line's net or gross, an offer's totals) must stay below this many minor units:
the orders service keeps them as 64-bit integers of minor units and refuses an order with a
line or total at or above this bound (``orders.domain.money.MAX_MINOR``), so an accepted offer
that reached it could never become an order."""


class UnknownCurrency(ValueError):
    pass


def minor_units(currency: str) -> int:
    """Decimal places of ``currency``'s minor unit (JPY 0, EUR 2, BHD 3); prices are never
    rounded for a code that is no currency."""
    if currency not in reference.currencies():
        raise UnknownCurrency(f"{currency!r} is not an active ISO 4217 currency")
    return reference.minor_units(currency)


def plain_notation(value: Decimal) -> Decimal:
    """``value`` unchanged, but never with a positive exponent: ``Decimal("1e2")`` and
    ``Decimal("185000").normalize()`` are written "1E+2" and "1.85E+5", which clients and the
    orders service must not receive for a decimal string. Scale and trailing zeros are kept
    otherwise (100.00 stays 100.00)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return value.quantize(Decimal(1))
    return value


def fits(amount: Decimal, currency: str) -> bool:
    """Whether ``amount`` (rounded to the minor unit) stays below ``MAX_MINOR`` minor units."""
    return abs(amount).scaleb(minor_units(currency)) < MAX_MINOR


def largest(currency: str) -> Decimal:
    """The largest amount that fits, for messages (9999999999999.99 for EUR)."""
    return Decimal(MAX_MINOR - 1).scaleb(-minor_units(currency))


@lru_cache(maxsize=16)
def _exponent(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half up (commercial rounding)."""
    return amount.quantize(_minor_exponent(currency), rounding=ROUND_HALF_UP)


@lru_cache(maxsize=256)
def _minor_exponent(currency: str) -> Decimal:
    return _exponent(minor_units(currency))


def round_price(amount: Decimal, currency: str) -> Decimal:
    """Round a unit price to the minor unit plus PRICE_EXTRA_DIGITS places, written with as
    few places as it needs but never fewer than the minor unit (10.00, 10.333, 0.0417)."""
    minor = minor_units(currency)
    rounded = amount.quantize(_exponent(minor + PRICE_EXTRA_DIGITS), rounding=ROUND_HALF_UP)
    short = rounded.quantize(_exponent(minor))
    if rounded == short:
        return short
    return rounded.normalize()


def has_minor_precision(amount: Decimal, currency: str) -> bool:
    """True if ``amount`` needs no more places than the currency's minor unit."""
    return amount == amount.quantize(_exponent(minor_units(currency)))


def allocate(total: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """Split ``total`` (already rounded) over ``weights`` in minor units, largest remainder
    first, so that the parts add up to ``total`` exactly: no cent is lost or invented."""
    if not weights:
        return []
    unit = _exponent(minor_units(currency))
    units_total = int((total / unit).to_integral_value())
    weight_sum = sum(weights, Decimal(0))
    if weight_sum == 0:
        shares = [Decimal(units_total) / len(weights)] * len(weights)
    else:
        shares = [Decimal(units_total) * w / weight_sum for w in weights]
    floors = [int(s.to_integral_value(rounding="ROUND_FLOOR")) for s in shares]
    left = units_total - sum(floors)
    # biggest remainders get the leftover units; ties go to the earlier part (stable)
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(n) * unit for n in floors]
