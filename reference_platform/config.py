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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from . import __version__
from .faults import Faults
from .variations import Variations
from .security import SecretError, SecretMissing, resolve_jwt_secret

DIALECTS = ("canonical", "netra", "netra-2025")


class ConfigError(ValueError):
    """A setting has a value the platform cannot run with."""


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    jwt_secret: str = ""
    jwt_secret_source: str = "generated"
    access_token_minutes: float = 15
    refresh_token_days: float = 7
    e2e_key: str | None = None
    database_url: str = ""
    pacing_min_ms: float = 10
    pacing_max_ms: float = 30
    heartbeat_interval_s: float = 25
    max_message_bytes: int = 65536
    run_rate_limit: int = 20
    run_rate_window_s: float = 10
    run_concurrency_limit: int = 5
    login_failure_limit: int = 5
    login_failure_window_s: float = 60
    ticket_ttl_s: int = 300
    faults: Faults = field(default_factory=Faults.none)
    variations: Variations = field(default_factory=Variations.none)
    dialect: str = "canonical"
    password_hash_profile: str = "owasp"
    version: str = __version__

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> "Settings":
        env = dict(os.environ if env is None else env)
        environment = env.get("ENVIRONMENT", "development") or "development"
        try:
            resolved = resolve_jwt_secret(env)
            secret, source = resolved.value, resolved.source_variable
        except SecretMissing:
            secret, source = secrets.token_urlsafe(48), "generated"
        except SecretError as exc:  # e.g. too short: refuse to start, naming the variable
            raise ConfigError(str(exc)) from None
        values = dict(
            environment=environment,
            jwt_secret=secret,
            jwt_secret_source=source,
            access_token_minutes=_whole(_num(env, "ACCESS_TOKEN_MINUTES", 15)),
            refresh_token_days=_whole(_num(env, "REFRESH_TOKEN_DAYS", 7)),
            e2e_key=env.get("E2E_OAUTH_SIMULATION_KEY") or None,
            database_url=env.get("DATABASE_URL") or default_database_url(),
            pacing_min_ms=_num(env, "PACING_MIN_MS", 10),
            pacing_max_ms=_num(env, "PACING_MAX_MS", 30),
            heartbeat_interval_s=_num(env, "HEARTBEAT_INTERVAL_S", 25),
            max_message_bytes=int(_num(env, "MAX_MESSAGE_BYTES", 65536)),
            run_rate_limit=int(_num(env, "RUN_RATE_LIMIT", 20)),
            run_rate_window_s=_num(env, "RUN_RATE_WINDOW_S", 10),
            run_concurrency_limit=int(_num(env, "RUN_CONCURRENCY_LIMIT", 5)),
            login_failure_limit=int(_num(env, "LOGIN_FAILURE_LIMIT", 5)),
            login_failure_window_s=_num(env, "LOGIN_FAILURE_WINDOW_S", 60),
            ticket_ttl_s=int(_num(env, "TICKET_TTL_S", 300)),
            faults=Faults.from_env(env),
            variations=Variations.from_env(env),
            dialect=env.get("PLATFORM_DIALECT", "canonical") or "canonical",
            password_hash_profile=env.get("PASSWORD_HASH_PROFILE", "owasp") or "owasp",
        )
        values.update(overrides)
        settings = cls(**values)
        settings.check()
        return settings

    def with_(self, **changes) -> "Settings":
        settings = replace(self, **changes)
        settings.check()
        return settings

    def check(self) -> None:
        if len(self.jwt_secret.encode()) < 32:
            raise ConfigError("the JWT secret must be at least 32 bytes")
        if self.dialect not in DIALECTS:
            raise ConfigError(f"PLATFORM_DIALECT must be one of {', '.join(DIALECTS)}, not {self.dialect!r}")
        if self.password_hash_profile not in ("owasp", "light"):
            raise ConfigError("PASSWORD_HASH_PROFILE must be 'owasp' or 'light'")
        if self.pacing_min_ms < 0 or self.pacing_max_ms < self.pacing_min_ms:
            raise ConfigError("pacing needs 0 <= PACING_MIN_MS <= PACING_MAX_MS")


def default_database_url() -> str:
    """A SQLite file in a fresh temporary directory."""
    folder = Path(tempfile.mkdtemp(prefix="reference-platform-"))
    return f"sqlite+aiosqlite:///{folder / 'platform.db'}"


def _num(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from exc


def _whole(value: float) -> float:
    """A whole number as an int (so token lifetimes of "15" minutes give int ``exp`` claims)."""
    return int(value) if float(value).is_integer() else value
