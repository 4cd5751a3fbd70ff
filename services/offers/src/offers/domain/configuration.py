"""Product configuration rules: options with allowed values, ``requires``/``excludes`` rules
between option choices, bundles, and product-level rules between the lines of one offer.

Validation never stops at the first problem: it returns every violated rule, each named, so
that a sales rep can fix a configuration in one go.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class RuleKind(StrEnum):
    REQUIRES = "requires"
    EXCLUDES = "excludes"


@dataclass(frozen=True)
class OptionDef:
    """An option or attribute of a product. ``values`` empty ⇒ free text (an attribute such as
    an engraving); otherwise the value must be one of them."""

    code: str
    name: str
    values: tuple[str, ...] = ()
    required: bool = False
    default: str | None = None


@dataclass(frozen=True)
class Condition:
    """An option chosen (any value when ``value`` is None) or chosen with one value."""

    option: str
    value: str | None = None

    def holds(self, chosen: Mapping[str, str]) -> bool:
        return self.option in chosen and (self.value is None or chosen[self.option] == self.value)

    def __str__(self) -> str:
        return self.option if self.value is None else f"{self.option}={self.value}"


@dataclass(frozen=True)
class Rule:
    """``when`` requires (or excludes) ``then``."""

    kind: RuleKind
    when: Condition
    then: Condition
    name: str = ""
    message: str | None = None

    @property
    def label(self) -> str:
        return self.name or f"{self.when} {self.kind.value} {self.then}"


@dataclass(frozen=True)
class Component:
    sku: str
    quantity: Decimal


@dataclass(frozen=True)
class ProductDef:
    sku: str
    name: str
    kind: str
    active: bool = True
    options: tuple[OptionDef, ...] = ()
    rules: tuple[Rule, ...] = ()
    components: tuple[Component, ...] = ()
    requires_skus: tuple[str, ...] = ()
    excludes_skus: tuple[str, ...] = ()

    @property
    def is_bundle(self) -> bool:
        return bool(self.components)


@dataclass(frozen=True)
class Violation:
    """One broken rule; ``rule`` is a stable machine-readable name, ``message`` for people."""

    rule: str
    message: str
    line_no: int | None = None
    sku: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "message": self.message,
            "line_no": self.line_no,
            "sku": self.sku,
        }


@dataclass(frozen=True)
class LineRequest:
    line_no: int
    sku: str
    options: tuple[tuple[str, str], ...] = ()


@dataclass
class ConfiguredLine:
    line_no: int
    product: ProductDef
    options: dict[str, str] = field(default_factory=dict)  # chosen + defaults, in product order


MAX_FREE_TEXT = 200


def configure_line(
    product: ProductDef, line: LineRequest
) -> tuple[ConfiguredLine, list[Violation]]:
    """Check one line's options against its product; defaults fill unchosen options."""
    violations: list[Violation] = []

    def fail(rule: str, message: str) -> None:
        violations.append(Violation(rule, message, line.line_no, product.sku))

    if not product.active:
        fail("product_inactive", f"product {product.sku} is not active")
    defs = {o.code: o for o in product.options}
    chosen: dict[str, str] = {}
    seen: set[str] = set()  # every option given, valid value or not: a repeat is a duplicate
    for code, value in line.options:
        option = defs.get(code)
        if option is None:
            fail("unknown_option", f"{product.sku} has no option {code!r}")
            continue
        if code in seen:
            fail("duplicate_option", f"option {code!r} chosen more than once")
            continue
        seen.add(code)
        if option.values and value not in option.values:
            allowed = ", ".join(option.values)
            fail("value_not_allowed", f"{code}={value!r} is not allowed (allowed: {allowed})")
            continue
        if not option.values and not (0 < len(value) <= MAX_FREE_TEXT):
            fail("value_not_allowed", f"{code} needs a text of 1 to {MAX_FREE_TEXT} characters")
            continue
        chosen[code] = value
    for option in product.options:
        if option.code not in chosen and option.default is not None:
            chosen[option.code] = option.default
    for option in product.options:
        if option.required and option.code not in chosen:
            fail("option_required", f"option {option.code!r} ({option.name}) must be chosen")
    for rule in product.rules:
        if not rule.when.holds(chosen):
            continue
        if rule.kind is RuleKind.REQUIRES and not rule.then.holds(chosen):
            fail(
                f"requires:{rule.label}",
                rule.message or f"{rule.when} requires {rule.then}",
            )
        if rule.kind is RuleKind.EXCLUDES and rule.then.holds(chosen):
            fail(
                f"excludes:{rule.label}",
                rule.message or f"{rule.when} excludes {rule.then}",
            )
    ordered = {o.code: chosen[o.code] for o in product.options if o.code in chosen}
    return ConfiguredLine(line.line_no, product, ordered), violations


def configure_offer(
    products: Mapping[str, ProductDef], lines: Sequence[LineRequest]
) -> tuple[list[ConfiguredLine], list[Violation]]:
    """Configure every line and check the product-level rules across the lines."""
    configured: list[ConfiguredLine] = []
    violations: list[Violation] = []
    for line in lines:
        product = products.get(line.sku)
        if product is None:
            violations.append(
                Violation("unknown_sku", f"no product {line.sku!r}", line.line_no, line.sku)
            )
            continue
        done, problems = configure_line(product, line)
        configured.append(done)
        violations.extend(problems)
    skus = {c.product.sku for c in configured}
    for c in configured:
        for needed in c.product.requires_skus:
            if needed not in skus:
                violations.append(
                    Violation(
                        f"product_requires:{c.product.sku}->{needed}",
                        f"{c.product.sku} can only be offered together with {needed}",
                        c.line_no,
                        c.product.sku,
                    )
                )
        for banned in c.product.excludes_skus:
            if banned in skus:
                violations.append(
                    Violation(
                        f"product_excludes:{c.product.sku}->{banned}",
                        f"{c.product.sku} cannot be offered together with {banned}",
                        c.line_no,
                        c.product.sku,
                    )
                )
    return configured, violations


def definition_problems(
    product: ProductDef, known: Mapping[str, ProductDef], part_of: Collection[str] = ()
) -> list[Violation]:
    """Why a product definition is inconsistent (empty if fine). ``known`` holds the other
    products, to check bundle components and product rules; ``part_of`` the bundles that
    list the product as a component (it cannot become a bundle itself then)."""
    problems: list[Violation] = []

    def fail(rule: str, message: str) -> None:
        problems.append(Violation(rule, message, None, product.sku))

    codes = [o.code for o in product.options]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        fail("duplicate_option", f"option {code!r} is defined more than once")
    defs = {o.code: o for o in product.options}
    for option in product.options:
        if len(set(option.values)) != len(option.values):
            fail("duplicate_value", f"option {option.code!r} lists a value twice")
        if option.default is not None and option.values and option.default not in option.values:
            fail("default_not_allowed", f"default of {option.code!r} is not an allowed value")
    for rule in product.rules:
        for cond in (rule.when, rule.then):
            option = defs.get(cond.option)
            if option is None:
                fail("rule_unknown_option", f"rule {rule.label!r} names unknown option")
            elif cond.value is not None and option.values and cond.value not in option.values:
                fail("rule_unknown_value", f"rule {rule.label!r}: {cond} is not an allowed value")
    seen: set[str] = set()
    for component in product.components:
        other = known.get(component.sku)
        if component.sku == product.sku:
            fail("bundle_self", "a bundle cannot contain itself")
        elif other is None:
            fail("bundle_unknown_component", f"component {component.sku!r} does not exist")
        elif other.is_bundle:
            fail("bundle_nested", f"component {component.sku!r} is itself a bundle")
        if component.sku in seen:
            fail("bundle_duplicate_component", f"component {component.sku!r} listed twice")
        seen.add(component.sku)
        if component.quantity <= 0:
            fail("bundle_quantity", f"component {component.sku!r} needs a positive quantity")
    containers = sorted(set(part_of) - {product.sku})
    if product.is_bundle and containers:
        fail(
            "bundle_nested",
            f"{product.sku!r} is a component of {', '.join(map(repr, containers))} "
            "and cannot be a bundle itself",
        )
    if product.sku in product.requires_skus:
        # meaningless (every offer with it contains it), and as confusing as excluding itself
        fail("requires_self", "a product cannot require itself")
    for sku in product.requires_skus:
        if sku not in known and sku != product.sku:
            fail("requires_unknown_product", f"required product {sku!r} does not exist")
    for sku in product.excludes_skus:
        if sku not in known and sku != product.sku:
            fail("excludes_unknown_product", f"excluded product {sku!r} does not exist")
    if product.sku in product.excludes_skus:
        # it could never be offered: every offer with it would violate its own exclusion
        fail("excludes_self", "a product cannot exclude itself")
    if set(product.requires_skus) & set(product.excludes_skus):
        fail("requires_and_excludes", "a product cannot both require and exclude the same SKU")
    return problems
