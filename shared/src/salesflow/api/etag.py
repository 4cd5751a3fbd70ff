"""Optimistic concurrency for mutable resources: ``ETag`` out, ``If-Match`` in."""

from __future__ import annotations

from fastapi import Request, Response

from salesflow.api.errors import Problem


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
