"""Optimistic concurrency for mutable resources: ``ETag`` out, ``If-Match`` in."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from salesflow.api.errors import Problem


def _if_match(required: bool, when: str) -> dict[str, Any]:
    return {
        "parameters": [
            {
                "name": "If-Match",
                "in": "header",
                "required": required,
                "schema": {"type": "string"},
                "description": f"The ETag you last read ({when}); 412 when the resource changed "
                "since.",
            }
        ]
    }


# ``openapi_extra`` of the routes that check If-Match: clients see the header in the document
IF_MATCH_REQUIRED = _if_match(True, "required: 428 without it")
IF_MATCH_OPTIONAL = _if_match(False, "optional; checked when sent")
IF_MATCH_TO_REPLACE = _if_match(False, "required to replace an existing one: 428 without it")


def etag(version: int | str) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int | str) -> None:
    response.headers["ETag"] = etag(version)


def require_if_match(request: Request, version: int | str) -> None:
    """428 without ``If-Match``, 412 when it names another version."""
    header = request.headers.get("If-Match")
    if not header:
        raise Problem(428, "send If-Match with the ETag you last read")
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    if "*" not in candidates and etag(version) not in candidates:
        raise Problem(412, "the resource changed since you read it; fetch it again")
