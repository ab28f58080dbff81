"""Auth service routes (CONTRACT section 2): register, login, refresh, logout, validate, me, test-auth."""
from __future__ import annotations

import asyncio
import hmac
import math
import re
import time
import uuid
from collections import deque
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import AfterValidator, Field

from ..clock import iso
from ..security import TokenRejected
from ..storage import EmailTaken, User
from .bodies import Body, json_body, parse, read_body
from .errors import ApiError, unauthorized
from .principal import Caller, expiry

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


def _address(email: str) -> str:
    if not EMAIL.match(email.strip()):
        raise ValueError("email is not a valid address")
    return email.strip().lower()


EmailAddress = Annotated[str, Field(max_length=320), AfterValidator(_address)]
Name = Annotated[str, Field(max_length=200)]


class Registration(Body):
    email: EmailAddress
    password: Annotated[str, Field(min_length=8, max_length=1024)]
    name: Name | None = None


class Credentials(Body):
    email: Annotated[str, Field(max_length=320), AfterValidator(lambda email: email.strip().lower())]
    password: Annotated[str, Field(max_length=1024)]


class RefreshRequest(Body):
    refresh_token: Annotated[str, Field(max_length=8192)]


class ValidateRequest(Body):
    token: Annotated[str, Field(max_length=16_384)]
    token_type: Literal["access", "refresh"] = "access"


class SimulatedSignIn(Body):
    email: EmailAddress | None = None
    name: Name | None = None
    permissions: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=32)] | None = None


@router.post("/register", status_code=201)
async def register(request: Request, response: Response, body: Registration = json_body(Registration)):
    state = request.app.state.platform
    email, password = body.email, body.password
    name = body.name or email.split("@")[0]
    password_hash = await asyncio.to_thread(state.passwords.hash_password, password)
    try:
        user = await state.store.accounts.create_user(email, name, password_hash, DEFAULT_PERMISSIONS)
    except EmailTaken:
        raise ApiError(409, "Email already registered", "EMAIL_TAKEN") from None
    if state.settings.dialect in ("netra", "netra-2025"):
        response.status_code = 200
    return await issue_tokens(state, user)


@router.post("/login")
async def login(request: Request, body: Credentials = json_body(Credentials)):
    state = request.app.state.platform
    email, password = body.email, body.password
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
async def refresh(request: Request, body: RefreshRequest = json_body(RefreshRequest)):
    state = request.app.state.platform
    try:
        claims = state.tokens.decode(body.refresh_token, "refresh")
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
async def logout(request: Request, principal: Caller):
    state = request.app.state.platform
    claims = principal.claims
    access_jti = None if state.settings.faults.active("logout_keeps_access_token") else claims["jti"]
    await state.store.accounts.revoke_login(claims.get("sid") or "", access_jti, expiry(claims))
    return {"status": "success"}


@router.post("/validate")
async def validate(request: Request, body: ValidateRequest = json_body(ValidateRequest)):
    state = request.app.state.platform
    result = await state.check_token(body.token, body.token_type)
    if isinstance(result, str):
        return {"valid": False, "error": result}
    user, claims = result
    return {"valid": True, "user_id": user.id, "email": user.email, "permissions": list(claims["permissions"]),
            "expires_at": iso(expiry(claims))}


@router.get("/me")
async def me(principal: Caller):
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
    if not hmac.compare_digest(given.encode(), settings.e2e_key.get_secret_value().encode()):
        raise unauthorized("Missing or wrong X-E2E-Bypass-Key", "INVALID_BYPASS_KEY")
    # the body is read after the checks of the key (DET-7.10); it may be empty
    body = await read_body(SimulatedSignIn, request) if await request.body() else parse(SimulatedSignIn, {})
    name, permissions = body.name, body.permissions
    email = body.email or f"oauth-{uuid.uuid4().hex[:12]}@example.test"
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
