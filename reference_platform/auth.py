"""Auth service routes (CONTRACT section 2): register, login, refresh, logout, validate, me, test-auth."""
from __future__ import annotations

import asyncio
import hmac
import math
import re
import time
from collections import deque
from typing import Any

from fastapi import APIRouter, Request

from .api import ApiError, Principal, current, expiry, field_str, invalid, json_object, unauthorized
from .security import TokenRejected
from .clock import iso
from .storage import EmailTaken, User

router = APIRouter(prefix="/auth")

DEFAULT_PERMISSIONS = ["read", "write", "chat", "agent:execute"]
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class LoginLimiter:
    """After ``limit`` failures for one email within ``window`` seconds, every attempt gets 429
    until the oldest failure is ``window`` seconds old; a successful login clears the count."""

    def __init__(self, limit: int, window: float, clock=time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self.failures: dict[str, deque[float]] = {}  # only emails with failures inside the window

    def _recent(self, email: str) -> deque[float]:
        now, q = self.clock(), self.failures.get(email, deque())
        while q and now - q[0] >= self.window:
            q.popleft()
        if not q:
            self.failures.pop(email, None)
        return q

    def retry_after(self, email: str) -> int | None:
        q = self._recent(email)
        if len(q) < self.limit:
            return None
        return max(1, math.ceil(q[0] + self.window - self.clock()))

    def failed(self, email: str) -> None:
        q = self._recent(email)
        q.append(self.clock())
        self.failures[email] = q

    def succeeded(self, email: str) -> None:
        self.failures.pop(email, None)


async def issue_tokens(state, user: User) -> dict[str, Any]:
    login_id = await state.store.accounts.create_login(user.id)
    access, refresh = state.tokens.issue_pair(user.id, user.email, user.permissions, login_id)
    await state.store.accounts.add_refresh_token(refresh.jti, user.id, login_id, refresh.expires_at)
    return tokens_body(state, user, access, refresh)


def tokens_body(state, user: User, access, refresh, **user_extra) -> dict[str, Any]:
    return {
        "access_token": access.token,
        "refresh_token": refresh.token,
        "token_type": "Bearer",
        "expires_in": int(state.settings.access_token_minutes * 60),
        "user": {**user.public(), **user_extra},
    }


def _email(body: dict) -> str:
    email = field_str(body, "email", max_len=320).strip()
    if not EMAIL.match(email):
        raise invalid("email is not a valid address")
    return email.lower()


@router.post("/register")
async def register(request: Request):
    state = request.app.state.platform
    body = await json_object(request)
    email = _email(body)
    password = field_str(body, "password", min_len=8, max_len=1024)
    name = field_str(body, "name", required=False, max_len=200, default=None) or email.split("@")[0]
    password_hash = await asyncio.to_thread(state.passwords.hash_password, password)
    try:
        user = await state.store.accounts.create_user(email, name, password_hash, DEFAULT_PERMISSIONS)
    except EmailTaken:
        raise ApiError(409, "Email already registered", "EMAIL_TAKEN") from None
    status = 200 if state.settings.dialect in ("netra", "netra-2025") else 201
    return request.app.state.json_response(await issue_tokens(state, user), status_code=status)


@router.post("/login")
async def login(request: Request):
    state = request.app.state.platform
    body = await json_object(request)
    email = field_str(body, "email", max_len=320).strip().lower()
    password = field_str(body, "password", max_len=1024)
    retry = None if state.settings.faults.active("login_rate_limit_off") else state.login_limiter.retry_after(email)
    if retry is not None:
        raise ApiError(429, "Too many failed sign-in attempts; try again later", "TOO_MANY_ATTEMPTS",
                       headers={"Retry-After": str(retry)}, extra={"retry_after_s": retry})
    user = await state.store.accounts.user_by_email(email)
    ok = bool(user and user.password_hash) and await asyncio.to_thread(
        state.passwords.verify_password, user.password_hash, password)
    if not ok:
        state.login_limiter.failed(email)
        raise unauthorized("Invalid credentials", "INVALID_CREDENTIALS")
    state.login_limiter.succeeded(email)
    return await issue_tokens(state, user)


@router.post("/refresh")
async def refresh(request: Request):
    state = request.app.state.platform
    body = await json_object(request)
    token = field_str(body, "refresh_token", max_len=8192)
    try:
        claims = state.tokens.decode(token, "refresh")
    except TokenRejected as exc:
        raise unauthorized(f"Invalid refresh token: {exc.message}", "INVALID_TOKEN") from None
    row = await state.store.accounts.use_refresh_token(claims["jti"])
    if row is None:
        raise unauthorized("Refresh token is unknown, expired, revoked or already used", "INVALID_TOKEN")
    user = await state.store.accounts.user_by_id(row.user_id)
    if user is None:
        raise unauthorized("Account no longer exists", "INVALID_TOKEN")
    access, new_refresh = state.tokens.issue_pair(user.id, user.email, user.permissions, row.login_id)
    await state.store.accounts.add_refresh_token(new_refresh.jti, user.id, row.login_id, new_refresh.expires_at)
    return tokens_body(state, user, access, new_refresh)


@router.post("/logout")
async def logout(request: Request):
    state = request.app.state.platform
    principal: Principal = await current(request)
    claims = principal.claims
    access_jti = None if state.settings.faults.active("logout_keeps_access_token") else claims["jti"]
    await state.store.accounts.revoke_login(claims.get("sid") or "", access_jti, expiry(claims))
    return {"status": "success"}


@router.post("/validate")
async def validate(request: Request):
    state = request.app.state.platform
    body = await json_object(request)
    token = field_str(body, "token", max_len=16_384)
    token_type = field_str(body, "token_type", required=False, default="access")
    if token_type not in ("access", "refresh"):
        raise invalid("token_type must be 'access' or 'refresh'")
    result = await state.check_token(token, token_type)
    if isinstance(result, str):
        return {"valid": False, "error": result}
    user, claims = result
    return {"valid": True, "user_id": user.id, "email": user.email, "permissions": list(claims["permissions"]),
            "expires_at": iso(expiry(claims))}


@router.get("/me")
async def me(request: Request):
    principal: Principal = await current(request)
    u = principal.user
    return {"user_id": u.id, "email": u.email, "name": u.name, "permissions": list(u.permissions),
            "created_at": iso(u.created_at)}


@router.post("/e2e/test-auth")
async def e2e_test_auth(request: Request):
    state = request.app.state.platform
    settings = state.settings
    if settings.environment == "production":
        raise ApiError(403, "Simulated sign-in is disabled in production", "FORBIDDEN")
    if not settings.e2e_key:
        raise ApiError(503, "Simulated sign-in is not configured (E2E_OAUTH_SIMULATION_KEY unset)", "NOT_CONFIGURED")
    given = request.headers.get("x-e2e-bypass-key", "")
    if not hmac.compare_digest(given.encode(), settings.e2e_key.encode()):
        raise unauthorized("Missing or wrong X-E2E-Bypass-Key", "INVALID_BYPASS_KEY")
    body = await json_object(request) if await request.body() else {}
    email = _email(body) if body.get("email") is not None else None
    name = field_str(body, "name", required=False, max_len=200, default=None)
    permissions = body.get("permissions")
    if permissions is not None and (not isinstance(permissions, list) or len(permissions) > 32
                                    or not all(isinstance(p, str) and 0 < len(p) <= 64 for p in permissions)):
        raise invalid("permissions must be a list of non-empty strings")
    import uuid
    email = email or f"oauth-{uuid.uuid4().hex[:12]}@example.test"
    user = await state.store.accounts.user_by_email(email)
    if user is None:
        try:
            user = await state.store.accounts.create_user(email, name or email.split("@")[0], None,
                                                 DEFAULT_PERMISSIONS if permissions is None else permissions,
                                                 oauth_simulated=True)
        except EmailTaken:
            user = await state.store.accounts.user_by_email(email)
    body = await issue_tokens(state, user)
    body["user"]["oauth_simulated"] = True
    return body


@router.get("/health")
async def auth_health(request: Request):
    return await request.app.state.platform.health_response("auth-service")
