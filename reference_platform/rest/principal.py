"""The bearer user of a request: who is calling, from a fully validated access token."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import Depends, Request

from ..storage import User
from .errors import unauthorized


@dataclass(frozen=True)
class Principal:
    user: User
    claims: dict[str, Any]


def expiry(claims: dict[str, Any]) -> datetime | None:
    """The ``exp`` claim as a UTC datetime; None when no datetime can hold it (e.g. 10**30)."""
    try:
        return datetime.fromtimestamp(claims["exp"], timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def bearer_token(request_headers) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None without the header, "" when malformed."""
    header = request_headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    return token.strip()


async def current(request: Request) -> Principal:
    """The signed-in caller (the dependency of every route that needs one): the bearer access token
    validated fully (signature, claims, type, revocation, user); 401 otherwise."""
    token = bearer_token(request.headers)
    if token is None:
        raise unauthorized("Not authenticated: an Authorization: Bearer access token is required")
    if token == "":
        raise unauthorized("Malformed Authorization header", "INVALID_TOKEN")
    principal = await request.app.state.platform.principal(token)
    if isinstance(principal, str):
        raise unauthorized(principal, "INVALID_TOKEN")
    return principal


Caller = Annotated[Principal, Depends(current)]
"""A route parameter of this type is the signed-in caller (401 without one)."""
