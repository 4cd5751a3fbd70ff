"""Request field types that take JSON as written: no bool for an int.

FastAPI validates bodies in pydantic's lax Python mode, which would turn ``false`` into ``0``;
these types refuse what the OpenAPI schema does not allow. Times, dates, currencies, countries
and non-blank text come from ``salesflow.api.fields``, the same in every service.
"""

from __future__ import annotations

from pydantic import StrictBool, StrictInt

__all__ = ["StrictBool", "StrictInt"]
