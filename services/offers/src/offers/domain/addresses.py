"""What makes a bill-to or ship-to address complete enough for an order.

The orders service rejects an order whose address lacks street, city or (outside the countries
without postal codes) the postal code. Offers checks the same when the addresses are given, so
the customer's acceptance fails with a 422 here instead of turning into a rejected order after
the opportunity is already won (one rule for both: ``missing_for_order``).
"""

from __future__ import annotations

from collections.abc import Collection

from salesflow.contracts.events.common import Address, missing_for_order


def address_problems(
    addresses: dict[str, Address | None], no_postal_code: Collection[str]
) -> list[str]:
    """One sentence per incomplete address of ``addresses`` (role → address; None is skipped)."""
    problems = []
    for role, address in addresses.items():
        if address is None:
            continue
        missing = missing_for_order(address, no_postal_code)
        if missing:
            problems.append(f"the {role} address lacks {', '.join(missing)}")
    return problems
