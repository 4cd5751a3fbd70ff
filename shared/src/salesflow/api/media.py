"""JSON bodies must be declared JSON: a route that takes a JSON body answers a request whose
body comes with another Content-Type, or with none, with 415 before anything runs.

Installed by ``salesflow.service.build_app`` as a dependency of the whole app, so it covers every
route of every service, including routers included later, without a list of paths. Routes that
read their body themselves (the leads CSV import streams ``request.stream()``) have no body field
and are left alone, as are form and file bodies and bodies declared with another media type
(``Body(media_type=...)``)."""

from __future__ import annotations

import email.message

from fastapi import Request
from fastapi import params as fastapi_params
from fastapi.routing import APIRoute

from salesflow.api.errors import Problem

JSON = "application/json"


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or ``application/*+json``, parameters (charset …) allowed; parsed
    the way FastAPI parses it before it decodes a body as JSON."""
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


def takes_json_body(route: object) -> bool:
    """Whether ``route`` has a body field that FastAPI decodes as JSON."""
    if not isinstance(route, APIRoute) or route.body_field is None:
        return False
    info = route.body_field.field_info
    if isinstance(info, fastapi_params.Form):  # File is a Form too
        return False
    media_type = getattr(info, "media_type", JSON) or JSON
    return is_json_media_type(media_type)


async def require_json_content_type(request: Request) -> None:
    """App-wide dependency: 415 for a body not declared JSON on a route that takes JSON.

    It runs before the route's other dependencies and its endpoint, so nothing is written
    (FastAPI would otherwise hand the raw bytes to validation: a misleading 422, and a model that
    accepted text would take the body undeclared)."""
    if not takes_json_body(request.scope.get("route")):
        return
    # the route's body field made FastAPI read the body already: this is its cached copy
    if not await request.body():
        return  # no body, nothing to declare (an optional body left out)
    content_type = request.headers.get("content-type", "").strip()
    if not content_type:
        raise Problem(415, f"a request body needs Content-Type: {JSON}")
    if not is_json_media_type(content_type):
        raise Problem(
            415,
            f"Content-Type {content_type[:100]!r} is not accepted here; send {JSON} "
            "(or application/*+json)",
        )
