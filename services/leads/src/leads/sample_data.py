"""Generated company lists for benchmarks, demos and tests (deterministic for a seed).

NACE codes are drawn from the shipped classification, countries from ISO 3166; the rest is
made up and marked as such (``example-…`` domains, ``Sample`` names).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from leads.reference import nace_table

HEADER = (
    "name,country,region,postal_code,city,nace,employees,annual_revenue,currency,"
    "duns,vat_id,website,source\n"
)
COUNTRIES = ("DE", "AT", "CH", "FR", "NL", "BE", "IT", "ES", "PL", "SE")
CITIES = ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta")


def company_rows(n: int, *, seed: int = 7, start: int = 0) -> Iterator[str]:
    """``n`` CSV lines (no header) of distinct companies numbered from ``start``."""
    rng = random.Random(seed)
    classes = sorted(c.code for c in nace_table("2.1").codes.values() if c.level == 4)
    for i in range(start, start + n):
        country = COUNTRIES[i % len(COUNTRIES)]
        nuts = "EL" if country == "GR" else country
        employees = int(rng.paretovariate(1.2) * 3)
        revenue = employees * rng.randint(50_000, 300_000)
        yield (
            f"Sample {i} GmbH,{country},{nuts}{i % 9 + 1}{i % 7 + 1},{10000 + i % 89999},"
            f"{CITIES[i % len(CITIES)]},{classes[rng.randrange(len(classes))]},{employees},"
            f"{revenue}.00,EUR,{100000000 + i:09d},{country}{700000000 + i},"
            f"https://www.example-{i}.com,bench\n"
        )


def company_csv(n: int, *, seed: int = 7, chunk_rows: int = 5000) -> Iterator[bytes]:
    """A whole file in chunks of bytes, header first."""
    yield HEADER.encode()
    lines: list[str] = []
    for line in company_rows(n, seed=seed):
        lines.append(line)
        if len(lines) >= chunk_rows:
            yield "".join(lines).encode()
            lines = []
    if lines:
        yield "".join(lines).encode()
