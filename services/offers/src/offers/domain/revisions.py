"""What changed between two versions of an offer, in words a sales rep and a customer read.

Works on the JSON form of the offer document (``model_dump(mode="json")``) so that it stays
free of the storage and API models."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

TERMS = {
    "payment_terms": "payment terms",
    "payment_days": "payment days",
    "incoterms": "Incoterms",
    "incoterms_place": "Incoterms place",
    "requested_delivery_date": "requested delivery date",
}
LINE_FIELDS = {
    "sku": "SKU",
    "quantity": "quantity",
    "line_discount_percent": "discount %",
    "unit_price": "unit price",
    "net": "net",
    "tax_rate": "VAT %",
    "requested_delivery_date": "requested delivery date",
}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        try:
            return Decimal(a) == Decimal(b)
        except InvalidOperation:
            return a == b
    return a == b


MONEY_FIELDS = {"unit_price", "net"}


def _show(value: Any, money: bool = False) -> str:
    """Quantities and percents without trailing zeros; money amounts as written (38.00)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str) and not money:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        return format(number.normalize(), "f") if number == number.to_integral() else value
    return str(value)


def _options(line: Mapping[str, Any]) -> dict[str, str]:
    return {o["code"]: o["value"] for o in line.get("options", [])}


def _address(value: Mapping[str, Any] | None) -> str:
    if not value:
        return "–"
    parts = [value.get("name"), value.get("street"), value.get("postal_code"), value.get("city")]
    return ", ".join(p for p in [*parts, value.get("country")] if p)


def describe_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    changes: list[str] = []
    old_lines = {line["line_no"]: line for line in old.get("lines", [])}
    new_lines = {line["line_no"]: line for line in new.get("lines", [])}
    for no in sorted(old_lines.keys() - new_lines.keys()):
        line = old_lines[no]
        changes.append(f"line {no} removed ({line['sku']})")
    for no in sorted(new_lines.keys() - old_lines.keys()):
        line = new_lines[no]
        changes.append(f"line {no} added: {_show(line['quantity'])} × {line['sku']}")
    for no in sorted(old_lines.keys() & new_lines.keys()):
        before, after = old_lines[no], new_lines[no]
        for key, label in LINE_FIELDS.items():
            if not _same(before.get(key), after.get(key)):
                money = key in MONEY_FIELDS
                changes.append(
                    f"line {no} {label} {_show(before.get(key), money)} -> "
                    f"{_show(after.get(key), money)}"
                )
        was, now = _options(before), _options(after)
        for code in sorted(was.keys() | now.keys()):
            if was.get(code) != now.get(code):
                changes.append(
                    f"line {no} option {code} {_show(was.get(code))} -> {_show(now.get(code))}"
                )
    if not _same(old.get("discount_percent"), new.get("discount_percent")):
        changes.append(
            f"document discount {_show(old.get('discount_percent'))}% -> "
            f"{_show(new.get('discount_percent'))}%"
        )
    old_terms, new_terms = old.get("terms") or {}, new.get("terms") or {}
    for key, label in TERMS.items():
        if old_terms.get(key) != new_terms.get(key):
            changes.append(f"{label} {_show(old_terms.get(key))} -> {_show(new_terms.get(key))}")
    for key, label in (
        ("valid_until", "valid until"),
        ("notes", "notes"),
        ("currency", "currency"),
    ):
        if old.get(key) != new.get(key):
            changes.append(f"{label} {_show(old.get(key))} -> {_show(new.get(key))}")
    for key, label in (("bill_to", "bill-to"), ("ship_to", "ship-to")):
        if old.get(key) != new.get(key):
            changes.append(f"{label} {_address(old.get(key))} -> {_address(new.get(key))}")
    if (old.get("contact") or {}).get("name") != (new.get("contact") or {}).get("name"):
        before = (old.get("contact") or {}).get("name")
        after = (new.get("contact") or {}).get("name")
        changes.append(f"contact {_show(before)} -> {_show(after)}")
    old_totals, new_totals = old.get("totals") or {}, new.get("totals") or {}
    for key in ("net", "gross"):
        a = (old_totals.get(key) or {}).get("amount")
        b = (new_totals.get(key) or {}).get("amount")
        if not _same(a, b):
            changes.append(
                f"total {key} {_show(a, True)} -> {_show(b, True)} {new.get('currency', '')}".strip()
            )
    return changes
