"""Request field types that take JSON as written: no bool for an int, no number for a time.

FastAPI validates bodies in pydantic's lax Python mode, which would turn ``false`` into ``0`` and
``0`` into 1970-01-01; these types refuse what the OpenAPI schema does not allow.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, StrictBool, StrictInt


def _iso_text(value: Any) -> Any:
    if isinstance(value, str | datetime | date):
        return value
    raise ValueError("expected an ISO 8601 string")


JsonDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_text)]
JsonDate = Annotated[date, BeforeValidator(_iso_text)]

__all__ = ["JsonDate", "JsonDateTime", "StrictBool", "StrictInt"]
