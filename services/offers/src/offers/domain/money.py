"""Currencies and rounding: ISO 4217 minor units, commercial rounding (half up)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

# ISO 4217 (list one, 2025): codes whose minor unit is not 2.
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_TWO = """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP
    BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK
    LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK
    NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
    STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER
    ZAR ZMW ZWG"""
_MINOR_UNITS: dict[str, int] = {
    code: places
    for codes, places in ((_ZERO, 0), (_THREE, 3), (_FOUR, 4))
    for code in codes.split()
}
_TWO_DECIMALS = frozenset(_TWO.split())
CURRENCIES = frozenset(_MINOR_UNITS) | _TWO_DECIMALS

PRICE_EXTRA_DIGITS = 4
"""Unit prices keep this many digits beyond the minor unit (averages of slab pricing)."""


class UnknownCurrency(ValueError):
    pass


def minor_units(currency: str) -> int:
    """Decimal places of ``currency``'s minor unit (JPY 0, EUR 2, BHD 3)."""
    if currency in _MINOR_UNITS:
        return _MINOR_UNITS[currency]
    if currency in _TWO_DECIMALS:
        return 2
    raise UnknownCurrency(f"{currency!r} is not an active ISO 4217 currency")


def is_currency(code: str) -> bool:
    return code in CURRENCIES


def plain_notation(value: Decimal) -> Decimal:
    """``value`` unchanged, but never with a positive exponent: ``Decimal("1e2")`` and
    ``Decimal("185000").normalize()`` are written "1E+2" and "1.85E+5", which clients and the
    orders service must not receive for a decimal string. Scale and trailing zeros are kept
    otherwise (100.00 stays 100.00)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return value.quantize(Decimal(1))
    return value


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
