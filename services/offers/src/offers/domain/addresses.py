"""What makes a bill-to or ship-to address complete enough for an order.

The orders service rejects an order whose address lacks street, city or (outside the countries
without postal codes) the postal code. Offers checks the same when the addresses are given, so
the customer's acceptance fails with a 422 here instead of turning into a rejected order after
the opportunity is already won. The rule is mirrored, not imported: the services share no code.
"""

from __future__ import annotations

from collections.abc import Collection

from salesflow.contracts.events.common import Address

# The same list as the orders service's default ``countries_without_postal_code``.
COUNTRIES_WITHOUT_POSTAL_CODE: tuple[str, ...] = (
    "AE", "AG", "AO", "BF", "BI", "BJ", "BO", "BS", "BW", "BZ", "CD", "CF", "CG", "CI",
    "CK", "CM", "DJ", "DM", "ER", "FJ", "GA", "GD", "GH", "GM", "GQ", "GY", "HK", "KI",
    "KM", "KN", "KP", "LC", "ML", "MO", "MR", "MW", "NR", "NU", "QA", "RW", "SB", "SC",
    "SL", "SR", "ST", "SY", "TF", "TG", "TK", "TL", "TO", "TV", "UG", "VU", "YE", "ZW",
)  # fmt: skip


def missing_parts(address: Address, no_postal_code: Collection[str]) -> list[str]:
    """The parts an order needs that ``address`` lacks (empty: complete)."""
    missing = [name for name in ("street", "city") if not (getattr(address, name) or "").strip()]
    if address.country not in no_postal_code and not (address.postal_code or "").strip():
        missing.append("postal_code")
    return missing


def address_problems(
    addresses: dict[str, Address | None], no_postal_code: Collection[str]
) -> list[str]:
    """One sentence per incomplete address of ``addresses`` (role → address; None is skipped)."""
    problems = []
    for role, address in addresses.items():
        if address is None:
            continue
        missing = missing_parts(address, no_postal_code)
        if missing:
            problems.append(f"the {role} address lacks {', '.join(missing)}")
    return problems
