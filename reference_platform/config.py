"""Settings of the reference platform, read from the environment with documented defaults.

| variable | default | meaning |
|---|---|---|
| `ENVIRONMENT` | `development` | reported by health, put in the `env` claim; `production` disables test-auth |
| `JWT_SECRET_KEY` / `JWT_SECRET_<ENVIRONMENT>` | generated per process | HS256 secret (>= 32 bytes), in that order |
| `ACCESS_TOKEN_MINUTES` | `15` | access token lifetime |
| `REFRESH_TOKEN_DAYS` | `7` | refresh token lifetime |
| `E2E_OAUTH_SIMULATION_KEY` | unset | enables `POST /auth/e2e/test-auth` with `X-E2E-Bypass-Key` |
| `DATABASE_URL` | SQLite file in a new temporary directory | SQLAlchemy async URL |
| `PACING_MIN_MS` / `PACING_MAX_MS` | `10` / `30` | delay with jitter between the frames of a run |
| `HEARTBEAT_INTERVAL_S` | `25` | idle heartbeat period |
| `MAX_MESSAGE_BYTES` | `65536` | largest client frame; larger closes with 1009 |
| `RUN_RATE_LIMIT` / `RUN_RATE_WINDOW_S` | `20` / `10` | runs started per user per window |
| `RUN_CONCURRENCY_LIMIT` | `5` | runs of one user at once |
| `LOGIN_FAILURE_LIMIT` / `LOGIN_FAILURE_WINDOW_S` | `5` / `60` | failed logins per email before 429 |
| `TICKET_TTL_S` | `300` | WebSocket ticket lifetime |
| `PLATFORM_FAULTS` | empty | named regressions to switch on (see `faults.py`) |
| `PLATFORM_VARIATIONS` | empty | conforming variations to switch on, or `all` (see `variations.py`) |
| `PLATFORM_VARIATIONS_SEED` | random | seed of the `stochastic` variation's draws |
| `PLATFORM_DIALECT` | `canonical` | `canonical`, `netra` (the deployed Compat variant) or `netra-2025` (the protocol of Netra's published client, docs/netra-2025.md) |
| `PASSWORD_HASH_PROFILE` | `owasp` | argon2id cost: `owasp` (m=19 MiB, t=2) or `light` (m=1 MiB, t=1; throwaway test platforms only) |
"""
from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError,
                      model_validator)

from . import __version__
from .faults import Faults
from .security import SecretError, SecretMissing, resolve_jwt_secret
from .validation import describe
from .variations import Variations


class ConfigError(ValueError):
    """A setting has a value the platform cannot run with."""


def default_database_url() -> str:
    """A SQLite file in a fresh temporary directory."""
    folder = Path(tempfile.mkdtemp(prefix="reference-platform-"))
    return f"sqlite+aiosqlite:///{folder / 'platform.db'}"


def _whole(value: Any) -> int | float:
    """A number, whole ones as int (so token lifetimes of "15" minutes give int ``exp`` claims)."""
    number = float(value)
    return int(number) if number.is_integer() else number


def _env(name: str, default: Any = None, **kwargs: Any) -> Any:
    """A setting read from the environment variable ``name``."""
    return Field(default, validation_alias=name, **kwargs)


Whole = Annotated[int | float, BeforeValidator(_whole)]
Count = Annotated[int, BeforeValidator(lambda value: int(float(value)))]


class Settings(BaseModel):
    """Validated, immutable settings: ``from_env`` reads them, ``with_`` changes some."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, validate_by_name=True, extra="ignore")

    environment: str = _env("ENVIRONMENT", "development")
    jwt_secret: SecretStr = SecretStr("")
    jwt_secret_source: str = "generated"
    access_token_minutes: Whole = _env("ACCESS_TOKEN_MINUTES", 15)
    refresh_token_days: Whole = _env("REFRESH_TOKEN_DAYS", 7)
    e2e_key: SecretStr | None = _env("E2E_OAUTH_SIMULATION_KEY")
    database_url: str = Field(default_factory=default_database_url, validation_alias="DATABASE_URL")
    pacing_min_ms: float = _env("PACING_MIN_MS", 10)
    pacing_max_ms: float = _env("PACING_MAX_MS", 30)
    heartbeat_interval_s: float = _env("HEARTBEAT_INTERVAL_S", 25)
    max_message_bytes: Count = _env("MAX_MESSAGE_BYTES", 65536)
    run_rate_limit: Count = _env("RUN_RATE_LIMIT", 20)
    run_rate_window_s: float = _env("RUN_RATE_WINDOW_S", 10)
    run_concurrency_limit: Count = _env("RUN_CONCURRENCY_LIMIT", 5)
    login_failure_limit: Count = _env("LOGIN_FAILURE_LIMIT", 5)
    login_failure_window_s: float = _env("LOGIN_FAILURE_WINDOW_S", 60)
    ticket_ttl_s: Count = _env("TICKET_TTL_S", 300)
    faults: Faults = Field(default_factory=Faults.none)
    variations: Variations = Field(default_factory=Variations.none)
    dialect: Literal["canonical", "netra", "netra-2025"] = _env("PLATFORM_DIALECT", "canonical")
    password_hash_profile: Literal["owasp", "light"] = _env("PASSWORD_HASH_PROFILE", "owasp")
    version: str = __version__

    @model_validator(mode="after")
    def _runnable(self) -> "Settings":
        if len(self.jwt_secret.get_secret_value().encode()) < 32:
            raise ValueError("the JWT secret must be at least 32 bytes")
        if self.pacing_min_ms < 0 or self.pacing_max_ms < self.pacing_min_ms:
            raise ValueError("pacing needs 0 <= PACING_MIN_MS <= PACING_MAX_MS")
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """The settings of the environment variables in ``env`` (``os.environ`` by default); an empty
        variable counts as unset. The JWT secret, faults and variations each come from several."""
        env = {k: v for k, v in (os.environ if env is None else env).items() if v != "" and k.isupper()}
        try:
            resolved = resolve_jwt_secret(env)
            secret, source = resolved.value, resolved.source_variable
        except SecretMissing:
            secret, source = secrets.token_urlsafe(48), "generated"
        except SecretError as exc:  # e.g. too short: refuse to start, naming the variable
            raise ConfigError(str(exc)) from None
        return cls._checked({**env, "jwt_secret": secret, "jwt_secret_source": source,
                             "faults": Faults.from_env(env), "variations": Variations.from_env(env), **overrides})

    def with_(self, **changes) -> "Settings":
        return self._checked({**dict(self), **changes})

    @classmethod
    def _checked(cls, values: dict[str, Any]) -> "Settings":
        try:
            return cls.model_validate(values)
        except ValidationError as exc:  # the message names the variable, never its value
            raise ConfigError(describe(exc.errors(include_url=False), nameless="settings")) from None
