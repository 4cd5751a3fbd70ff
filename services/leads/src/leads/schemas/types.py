"""Request field types that take JSON as written: no bool for an int, no blank text.

FastAPI validates bodies in pydantic's lax Python mode, which would turn ``false`` into ``0``;
these types refuse what the OpenAPI schema does not allow. Times, dates, currencies and countries
come from ``salesflow.api.fields``, the same in every service.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StrictBool, StrictInt, StringConstraints

__all__ = ["NonBlank", "StrictBool", "StrictInt"]

# Text that must say something: "   " names no one and says nothing, yet would travel on to
# opportunities. Surrounding whitespace is dropped, then at least one character must remain
# (length bounds added where used, ``Annotated[NonBlank, Field(max_length=200)]``, count the
# stripped text). NUL is no text either: PostgreSQL refuses it in text columns. Constraints
# only, no validator function, so that a ``Field`` around it keeps pydantic's plain messages.
NonBlank = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, pattern=r"^[^\x00]*$")
]
