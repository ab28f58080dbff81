"""The ASGI application: one origin serving auth, REST and the WebSocket (CONTRACT section 1)."""
from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from . import ws
from .agents import RunManager
from .config import Settings
from .rest import auth, errors, threads, usage
from .rest.principal import Principal, expiry
from .security import PasswordHasher, TokenRejected, TokenService
from .storage import Storage
from .variations import Variations, plain_money

log = logging.getLogger("reference_platform")


class PlatformState:
    """Everything one running platform owns; hung on ``app.state.platform``."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = Storage(settings.database_url, settings.faults, uuid_ids=settings.variations.active("uuid_ids"))
        self.tokens = TokenService(settings.jwt_secret.get_secret_value(), settings.environment,
                                   access_minutes=settings.access_token_minutes,
                                   refresh_days=settings.refresh_token_days,
                                   waived=settings.faults.waived_token_rules())
        self.passwords = PasswordHasher(settings.password_hash_profile)
        self.login_limiter = auth.LoginLimiter(settings.login_failure_limit, settings.login_failure_window_s)
        self.hub = ws.Hub()
        self.runs = RunManager(settings, self.store, self.hub)
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
        revoked, user = await self.store.accounts.token_subject(claims["sub"], claims["jti"])
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
        return varying_json(self.settings.variations)(body, status_code=200 if ok else 503)


def varying_json(variations: Variations) -> type[JSONResponse]:
    """The response class: plain JSON, or JSON after the body variations that are switched on."""
    if not (variations.active("extra_body_fields") or variations.active("money_plain_numbers")):
        return JSONResponse

    class VaryingJSONResponse(JSONResponse):
        def render(self, content: Any) -> bytes:
            if variations.active("money_plain_numbers"):
                content = plain_money(content)
            if variations.active("extra_body_fields") and isinstance(content, dict):
                content = {**content, "x_served_by": "reference-platform"}
            return super().render(content)

    return VaryingJSONResponse


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

    variations = settings.variations
    JSON = varying_json(variations)
    app = FastAPI(title="Reference AI cost-optimization platform", version=settings.version, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None, default_response_class=JSON)
    app.state.platform = state
    errors.install(app, variations, JSON)

    @app.get("/health")
    @app.get("/api/health")
    async def health():
        return await state.health_response("backend")

    @app.get("/health/ready")
    async def ready():
        if state.ready:
            return {"status": "ready"}
        return JSONResponse({"status": "starting"}, status_code=503)

    app.include_router(auth.router, default_response_class=JSON)
    app.include_router(threads.router, default_response_class=JSON)
    app.include_router(usage.router, default_response_class=JSON)
    app.include_router(ws.router)
    return app
