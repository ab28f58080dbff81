"""The ASGI application: one origin serving auth, REST and the WebSocket (CONTRACT section 1)."""
from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import auth, threads, usage, ws
from .agents import RunManager
from .api import ApiError, Principal, expiry
from .config import Settings
from .security import PasswordHasher, TokenRejected, TokenService
from .store import Store

log = logging.getLogger("reference_platform")

HTTP_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
              405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 422: "INVALID_BODY", 429: "TOO_MANY_REQUESTS"}


class PlatformState:
    """Everything one running platform owns; hung on ``app.state.platform``."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = Store(settings.database_url, settings.faults)
        self.tokens = TokenService(settings.jwt_secret, settings.environment,
                                   access_minutes=settings.access_token_minutes,
                                   refresh_days=settings.refresh_token_days,
                                   waived=settings.faults.waived_token_rules())
        self.passwords = PasswordHasher(settings.password_hash_profile)
        self.login_limiter = auth.LoginLimiter(settings.login_failure_limit, settings.login_failure_window_s)
        self.hub = ws.Hub()
        self.runs = RunManager(self)
        self.started_monotonic = time.monotonic()
        self.ready = False

    async def startup(self) -> None:
        await self.store.create_schema()
        self.ready = True

    async def shutdown(self) -> None:
        self.ready = False
        await self.runs.shutdown()
        await self.hub.close_all()
        await self.store.close()

    async def check_token(self, token: str, token_type: str = "access"):
        """(user, claims) for a fully valid token, else the reason as text."""
        try:
            claims = self.tokens.decode(token, token_type)
        except TokenRejected as exc:
            return exc.message
        if expiry(claims) is None:
            return "claim 'exp' is out of range"
        revoked, user = await self.store.token_subject(claims["sub"], claims["jti"])
        if revoked:
            return "token has been revoked"
        if user is None:
            return "token subject is not a known user"
        return user, claims

    async def principal(self, token: str) -> Principal | str:
        result = await self.check_token(token, "access")
        if isinstance(result, str):
            return result
        return Principal(*result)

    async def health(self) -> tuple[bool, dict[str, str]]:
        try:
            await asyncio.wait_for(self.store.ping(), timeout=2)
            return True, {"database": "ok"}
        except Exception as exc:  # any database failure makes the platform unhealthy
            log.warning("health check: database failed: %s", exc)
            return False, {"database": "failed"}

    async def health_response(self, service: str) -> JSONResponse:
        ok, checks = await self.health()
        body: dict[str, Any] = {
            "status": "healthy" if ok else "unhealthy",
            "service": service,
            "version": None if self.settings.faults.active("health_version_missing") else self.settings.version,
            "environment": self.settings.environment,
            "uptime_seconds": round(time.monotonic() - self.started_monotonic, 3),
            "checks": checks,
        }
        return JSONResponse(body, status_code=200 if ok else 503)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    state = PlatformState(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await state.startup()
        try:
            yield
        finally:
            await state.shutdown()

    app = FastAPI(title="Reference AI cost-optimization platform", version=settings.version, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.platform = state

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError):
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed"
        return JSONResponse({"detail": detail, "code": HTTP_CODES.get(exc.status_code, "ERROR")},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse({"detail": f"invalid request: {where} {first.get('msg', '')}".strip(),
                             "code": "INVALID_BODY"}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception):  # a defect: say so in the contract's shape
        log.exception("unhandled error")
        return JSONResponse({"detail": "Internal error", "code": "INTERNAL"}, status_code=500)

    @app.get("/health")
    @app.get("/api/health")
    async def health():
        return await state.health_response("backend")

    @app.get("/health/ready")
    async def ready():
        if state.ready:
            return {"status": "ready"}
        return JSONResponse({"status": "starting"}, status_code=503)

    app.include_router(auth.router)
    app.include_router(threads.router)
    app.include_router(usage.router)
    app.include_router(ws.router)
    return app
