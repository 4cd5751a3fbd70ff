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
