"""JWT bearer auth (HS256 by default, RS256 via JWKS), roles and ownership per DESIGN.md §4."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import jwt
from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from salesflow.api.errors import Problem
from salesflow.settings import ServiceSettings

MAX_SUB = 128  # the contracts' UserId
bearer_scheme = HTTPBearer(auto_error=False, description="JWT with sub, roles, team, aud=salesflow")


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[str]
    team: str | None = None

    def has(self, *roles: str) -> bool:
        return "admin" in self.roles or bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def can_see(
        self, owner: str | None, team: str | None, *, readers: tuple[str, ...] = ()
    ) -> bool:
        """Owners see their own, managers their team's, admins and ``readers`` everything."""
        if self.is_admin or self.roles.intersection(readers):
            return True
        if owner is not None and owner == self.sub:
            return True
        return "sales_manager" in self.roles and team is not None and team == self.team

    def can_change(self, owner: str | None, team: str | None) -> bool:
        return self.can_see(owner, team)


def issue_token(
    settings: ServiceSettings | None = None,
    *,
    sub: str,
    roles: list[str],
    team: str | None = None,
    ttl_s: int = 8 * 3600,
    secret: str | None = None,
    audience: str = "salesflow",
) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": sub,
        "roles": roles,
        "aud": settings.jwt_audience if settings else audience,
        "iat": now,
        "exp": now + ttl_s,
    }
    if team:
        claims["team"] = team
    key = secret or (settings.jwt_secret if settings else None)
    if not key:
        raise ValueError("no signing secret")
    return jwt.encode(claims, key, algorithm="HS256")


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=300)


_VERIFIED: dict[tuple[str, ...], tuple[Principal, float]] = {}
_VERIFIED_MAX = 4096


def verify(token: str, settings: ServiceSettings) -> Principal:
    """The token's principal. A token verified before (same keys, audience) is answered from a
    small cache until it expires: clients send the same token with every request, and decoding
    it again costs more than many a request's own work."""
    cache_key = (
        token,
        settings.jwks_url or settings.jwt_secret,
        settings.jwt_audience,
        *settings.jwt_algorithms,
    )
    hit = _VERIFIED.get(cache_key)
    if hit is not None:
        principal, expires = hit
        if time.time() < expires:
            return principal
        del _VERIFIED[cache_key]
    principal, expires = _decode(token, settings)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        del _VERIFIED[next(iter(_VERIFIED))]  # the oldest entry
    _VERIFIED[cache_key] = (principal, expires)
    return principal


def _decode(token: str, settings: ServiceSettings) -> tuple[Principal, float]:
    """Verify signature and claims; the principal and the time until which it may be reused."""
    try:
        if settings.jwks_url:
            key = _jwks_client(settings.jwks_url).get_signing_key_from_jwt(token).key
            algorithms = ["RS256"]
        else:
            key = settings.jwt_secret
            algorithms = settings.jwt_algorithms
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=settings.jwt_audience,
            options={"require": ["sub", "exp", "aud"]},
            leeway=10,
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized("token expired") from None
    except (jwt.PyJWTError, ValueError) as exc:
        raise _unauthorized(f"invalid token: {exc}") from None
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise _unauthorized("claim 'roles' must be a list of strings")
    sub = claims["sub"]
    team = claims.get("team")
    if not isinstance(sub, str) or (team is not None and not isinstance(team, str)):
        raise _unauthorized("claims 'sub' and 'team' must be strings")
    if not sub.strip():  # ownership is by sub: an empty one would own what nobody owns
        raise _unauthorized("claim 'sub' must not be empty")
    if len(sub) > MAX_SUB:  # it is stored as owner, actor … and travels as a UserId
        raise _unauthorized(f"claim 'sub' must not be longer than {MAX_SUB} characters")
    # reuse only within the leeway-free lifetime: a cached token must expire no later than one
    # decoded afresh would
    return Principal(sub=sub, roles=frozenset(roles), team=team), float(claims["exp"])


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="salesflow"'})


async def current_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer_scheme)
) -> Principal:
    if credentials is None:
        raise _unauthorized("missing bearer token")
    settings: ServiceSettings = request.app.state.settings
    return verify(credentials.credentials, settings)


def require(*roles: str) -> Callable[..., object]:
    """Dependency: an authenticated principal holding one of ``roles`` (admin always passes)."""

    async def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Security(bearer_scheme),
    ) -> Principal:
        principal = await current_principal(request, credentials)
        if roles and not principal.has(*roles):
            raise Problem(403, f"requires one of the roles: {', '.join(roles)}")
        return principal

    dependency.__name__ = f"require_{'_'.join(roles) or 'any'}"
    return dependency
