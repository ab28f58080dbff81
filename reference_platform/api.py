"""Shared pieces of the REST layer: the error shape, strict body parsing, the bearer user."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from fastapi import Request

from .security import TokenRejected
from .storage import User


class ApiError(Exception):
    """An error answered as ``{detail, code}`` (CONTRACT section 1)."""

    def __init__(self, status: int, detail: str, code: str | None = None, headers: dict[str, str] | None = None,
                 extra: dict[str, Any] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.code, self.headers, self.extra = status, detail, code, headers or {}, extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"detail": self.detail}
        if self.code:
            body["code"] = self.code
        body.update(self.extra)
        return body


def invalid(detail: str) -> ApiError:
    return ApiError(422, detail, "INVALID_BODY")


def unauthorized(detail: str = "Not authenticated", code: str = "UNAUTHORIZED") -> ApiError:
    return ApiError(401, detail, code, headers={"WWW-Authenticate": "Bearer"})


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found", "NOT_FOUND")


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or 422: not UTF-8, not JSON, not an object."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid("request body is not valid UTF-8") from None
    try:
        body = strict_json(text)
    except ValueError:
        raise invalid("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid("request body must be a JSON object")
    return body


MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a request body or a WebSocket frame."""


def strict_json(text: str) -> Any:
    """``json.loads`` that refuses what is not interoperable JSON, with ValueError.

    Refused: ``NaN``/``Infinity``, numbers too large for a finite float (``1e400``), nesting
    deeper than :data:`MAX_JSON_DEPTH` (deeper values could be parsed but not stored or sent
    back), and ``\\u`` escapes of lone surrogates (no UTF-8 form: the same).
    """
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and _depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    if "\\u" in text:  # only an escape can produce a surrogate from UTF-8 text
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("JSON string holds a lone surrogate") from None
    return value


def _depth(value: Any) -> int:
    """Nesting depth of arrays and objects (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


# ---- field checks: each returns the value or raises a readable 422 -----------------------
MISSING = object()


def _given(body: dict, key: str, required: bool) -> Any:
    """The value of ``key``, or MISSING when it is absent (or null and optional); 422 when required."""
    value = body.get(key, MISSING)
    if value is MISSING or (value is None and not required):
        if required:
            raise invalid(f"{key} is required")
        return MISSING
    return value


def field_str(body: dict, key: str, *, required: bool = True, min_len: int = 0, max_len: int = 10_000,
              default: Any = None) -> Any:
    value = _given(body, key, required)
    if value is MISSING:
        return default
    if not isinstance(value, str):
        raise invalid(f"{key} must be a string")
    if not (min_len <= len(value) <= max_len):
        raise invalid(f"{key} must be {min_len}..{max_len} characters long")
    return value


def field_int(body: dict, key: str, *, required: bool = True, minimum: int = 0, maximum: int = 2**31,
              default: Any = None) -> Any:
    value = _given(body, key, required)
    if value is MISSING:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{key} must be an integer")
    if not (minimum <= value <= maximum):
        raise invalid(f"{key} must be between {minimum} and {maximum}")
    return value


def field_number(body: dict, key: str, *, required: bool = True, minimum: float = 0, maximum: float = 1e12,
                 default: Any = None) -> Any:
    value = _given(body, key, required)
    if value is MISSING:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise invalid(f"{key} must be a number")
    if not (minimum <= value <= maximum):
        raise invalid(f"{key} must be between {minimum} and {maximum}")
    return value


def field_bool(body: dict, key: str, *, default: bool = False) -> bool:
    value = _given(body, key, required=False)
    if value is MISSING:
        return default
    if not isinstance(value, bool):
        raise invalid(f"{key} must be true or false")
    return value


def field_object(body: dict, key: str, *, default: Any = None, max_bytes: int = 16_384) -> Any:
    value = _given(body, key, required=False)
    if value is MISSING:
        return default
    if not isinstance(value, dict):
        raise invalid(f"{key} must be an object")
    if len(json.dumps(value)) > max_bytes:
        raise invalid(f"{key} is larger than {max_bytes} bytes")
    return value


def query_int(request: Request, key: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.query_params.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"{key} must be an integer") from None
    if not (minimum <= value <= maximum):
        raise invalid(f"{key} must be between {minimum} and {maximum}")
    return value


def expiry(claims: dict[str, Any]) -> datetime | None:
    """The ``exp`` claim as a UTC datetime; None when no datetime can hold it (e.g. 10**30)."""
    try:
        return datetime.fromtimestamp(claims["exp"], timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


@dataclass(frozen=True)
class Principal:
    user: User
    claims: dict[str, Any]


def bearer_token(request_headers) -> str | None:
    header = request_headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    return token.strip()


async def authenticate(state, token: str | None) -> Principal:
    """Validates an access token fully (signature, claims, type, revocation, user). 401 otherwise."""
    if token is None:
        raise unauthorized("Not authenticated: an Authorization: Bearer access token is required")
    if token == "":
        raise unauthorized("Malformed Authorization header", "INVALID_TOKEN")
    principal = await state.principal(token)
    if isinstance(principal, str):
        raise unauthorized(principal, "INVALID_TOKEN")
    return principal


async def current(request: Request) -> Principal:
    return await authenticate(request.app.state.platform, bearer_token(request.headers))


__all__ = ["ApiError", "TokenRejected", "Principal", "current", "authenticate", "json_object", "strict_json",
           "expiry", "invalid", "not_found", "unauthorized", "field_str", "field_int", "field_number", "field_bool",
           "field_object", "query_int", "bearer_token"]
