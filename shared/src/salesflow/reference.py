"""ISO code lists every service checks input against, from ``pycountry`` (Debian's iso-codes).

Loaded on first use and kept: a set lookup per value afterwards.
"""

from __future__ import annotations

from functools import cache

# ISO 4217 also lists codes that are no money one can invoice in: precious metals (XAU, XAG,
# XPD, XPT), bond-market and accounting units (XBA–XBD, XDR, XSU, XUA), testing (XTS) and "no
# currency" (XXX).
NOT_MONEY = frozenset(
    {"XAG", "XAU", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA", "XTS", "XXX"}
)


@cache
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes."""
    import pycountry

    return frozenset(c.alpha_2 for c in pycountry.countries)


@cache
def currencies() -> frozenset[str]:
    """ISO 4217 codes of currencies (without the metals, units of account and test codes)."""
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.currencies) - NOT_MONEY


# ISO 4217 list one (2025): the currencies whose minor unit is not 2 decimal places.
_MINOR_UNITS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}


def minor_units(currency: str) -> int:
    """Decimal places of ``currency``'s minor unit (JPY 0, EUR 2, BHD 3); 2 for every currency
    ISO 4217 does not list otherwise."""
    return _MINOR_UNITS.get(currency, 2)


# Countries whose addresses have no postal code (UPU): an address there is complete without one.
COUNTRIES_WITHOUT_POSTAL_CODE: tuple[str, ...] = (
    "AE", "AG", "AO", "BF", "BI", "BJ", "BO", "BS", "BW", "BZ", "CD", "CF", "CG", "CI",
    "CK", "CM", "DJ", "DM", "ER", "FJ", "GA", "GD", "GH", "GM", "GQ", "GY", "HK", "KI",
    "KM", "KN", "KP", "LC", "ML", "MO", "MR", "MW", "NR", "NU", "QA", "RW", "SB", "SC",
    "SL", "SR", "ST", "SY", "TF", "TG", "TK", "TL", "TO", "TV", "UG", "VU", "YE", "ZW",
)  # fmt: skip
