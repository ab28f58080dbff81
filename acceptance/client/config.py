"""Where the suite points, and with which secrets.

Settings come from behave's ``-D name=value`` first, then from the environment, then defaults:

| setting (-D) | environment | default |
|---|---|---|
| `base_url` | `PLATFORM_BASE_URL` | none: start the embedded reference platform |
| `ws_url` | `PLATFORM_WS_URL` | base_url with ws/wss scheme and path `/ws` |
| `auth_url` | `PLATFORM_AUTH_URL` | base_url |
| `environment` | `PLATFORM_ENVIRONMENT` | `development` (names `JWT_SECRET_<ENVIRONMENT>`) |
| `jwt_secret_order` | `PLATFORM_JWT_SECRET_ORDER` | `current` (`compat`: deployments before 2025-09-16) |
| `first_event_timeout` | `PLATFORM_FIRST_EVENT_TIMEOUT_S` | `5` (the contract's service level) |
| `run_timeout` | `PLATFORM_RUN_TIMEOUT_S` | `30` embedded, `180` remote |
| `request_timeout` | `PLATFORM_REQUEST_TIMEOUT_S` | `10` |
| `preflight_timeout` | `PLATFORM_PREFLIGHT_TIMEOUT_S` | `5` |
| `client_dialect` | `PLATFORM_CLIENT_DIALECT` | `payload` (client frames `{type, payload}`; `flat` for old builds) |
| `pacing_ms` | `PLATFORM_PACING_MS` | `3-8` (embedded platform only: frame delay range) |
| `platform_dialect` | `PLATFORM_DIALECT` | `canonical`: the dialect the target speaks (the embedded platform is started in it; for a deployment, `netra` lets the Compat forms count, e.g. a refusal by accept + AUTH_FAILED + 1008; `netra-2025`: the protocol of Netra's published client, docs/netra-2025.md) |
| `platform_faults` | `PLATFORM_FAULTS` | none (embedded platform only) |
| `platform_variations` | `PLATFORM_VARIATIONS` | none (embedded platform only): conforming variations, or `all` (docs/variations.md) |
| `settle_timeout` | `PLATFORM_SETTLE_TIMEOUT_S` | `2`: bound on clean-up the contract lets follow a terminal frame (a run slot freed, the answer stored) |
| `contract_checks` | `PLATFORM_CONTRACT_CHECKS` | `on`: every REST response and WebSocket frame is checked against `contract/` (`off` only to measure the cost) |

Secrets are read from the environment only, never from ``-D`` and never printed:
`JWT_SECRET_KEY` then `JWT_SECRET_<ENVIRONMENT>` (the contract's order; `compat` reverses it), and
`E2E_OAUTH_SIMULATION_KEY`. Against the embedded platform the suite generates both.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlsplit, urlunsplit

from acceptance.verify.errors import ConfigurationMissing

SECRET_SETTINGS = ("jwt_secret", "jwt_secret_key", "bypass_key", "e2e_oauth_simulation_key")


class ConfigError(ValueError):
    """A setting is malformed; the message names it."""


@dataclass(frozen=True)
class Secret:
    """A secret value that never shows itself in repr, str or logs."""

    value: str = field(repr=False)
    source: str

    def __str__(self) -> str:
        return f"<secret from {self.source}>"


@dataclass(frozen=True)
class TargetConfig:
    base_url: str | None
    ws_url: str | None
    auth_url: str | None
    environment: str = "development"
    jwt_secret: Secret | None = None
    bypass_key: Secret | None = None
    jwt_secret_order: str = "current"
    first_event_timeout: float = 5.0
    run_timeout: float = 30.0
    request_timeout: float = 10.0
    preflight_timeout: float = 5.0
    client_dialect: str = "payload"
    pacing_ms: tuple[float, float] = (3.0, 8.0)
    platform_dialect: str = "canonical"
    platform_faults: str = ""
    platform_variations: str = ""
    settle_timeout: float = 2.0
    contract_checks: bool = True

    @property
    def embedded(self) -> bool:
        """True when the suite starts its own platform (no base_url given)."""
        return self.base_url is None

    def with_target(self, base_url: str, ws_url: str | None = None, auth_url: str | None = None,
                    jwt_secret: Secret | None = None, bypass_key: Secret | None = None) -> "TargetConfig":
        from dataclasses import replace
        return replace(self, base_url=base_url.rstrip("/"), ws_url=ws_url or derive_ws_url(base_url),
                       auth_url=(auth_url or base_url).rstrip("/"), jwt_secret=jwt_secret or self.jwt_secret,
                       bypass_key=bypass_key or self.bypass_key)

    def require_jwt_secret(self) -> Secret:
        if self.jwt_secret is None:
            env = self.environment.upper()
            raise ConfigurationMissing(
                f"this scenario forges tokens and needs the target's signing secret: set JWT_SECRET_KEY "
                f"(or JWT_SECRET_{env}) in the environment, or exclude it with --tags='not @needs-jwt-secret'")
        return self.jwt_secret

    def require_bypass_key(self) -> Secret:
        if self.bypass_key is None:
            raise ConfigurationMissing(
                "this scenario signs in through simulated OAuth and needs E2E_OAUTH_SIMULATION_KEY in the "
                "environment, or exclude it with --tags='not @needs-bypass-key'")
        return self.bypass_key

    def describe(self) -> dict[str, str]:
        """Safe to print: no secret values."""
        return {
            "target": self.base_url or "embedded reference platform",
            "ws_url": self.ws_url or "",
            "auth_url": self.auth_url or "",
            "environment": self.environment,
            "jwt_secret": str(self.jwt_secret) if self.jwt_secret else "not set",
            "bypass_key": str(self.bypass_key) if self.bypass_key else "not set",
        }


def derive_ws_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme)
    if scheme is None:
        raise ConfigError(f"base_url must start with http:// or https://, not {base_url!r}")
    return urlunsplit((scheme, parts.netloc, "/ws", "", ""))


def resolve_secret(env: Mapping[str, str], environment: str, order: str = "current") -> Secret | None:
    """The JWT secret in the contract's order (or the pre-2025-09-16 ``compat`` order)."""
    names = ["JWT_SECRET_KEY", f"JWT_SECRET_{environment.upper()}"]
    if order == "compat":
        names.reverse()
    for name in names:
        if env.get(name):
            return Secret(env[name], name)
    return None


def _pick(userdata: Mapping[str, str], env: Mapping[str, str], key: str, env_key: str, default=None):
    value = userdata.get(key)
    if value not in (None, ""):
        return value
    value = env.get(env_key)
    return value if value not in (None, "") else default


def _float(name: str, raw) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive")
    return value


def _pacing(raw: str) -> tuple[float, float]:
    low, _, high = str(raw).partition("-")
    try:
        lo, hi = float(low), float(high or low)
    except ValueError:
        raise ConfigError(f"pacing_ms must look like '3-8', not {raw!r}") from None
    if lo < 0 or hi < lo:
        raise ConfigError("pacing_ms needs 0 <= low <= high")
    return lo, hi


PLATFORM_DIALECTS = ("canonical", "netra", "netra-2025")


def _dialect(value: str) -> str:
    if value not in PLATFORM_DIALECTS:
        raise ConfigError(f"platform_dialect must be 'canonical', 'netra' or 'netra-2025', not {value!r}")
    return value


def _switch(name: str, value: str) -> bool:
    if str(value).lower() in ("on", "true", "1", "yes"):
        return True
    if str(value).lower() in ("off", "false", "0", "no"):
        return False
    raise ConfigError(f"{name} must be 'on' or 'off', not {value!r}")


def load(userdata: Mapping[str, str] | None = None, env: Mapping[str, str] | None = None) -> TargetConfig:
    userdata = dict(userdata or {})
    env = dict(os.environ if env is None else env)
    for key in SECRET_SETTINGS:
        if key in userdata:
            raise ConfigError(f"-D {key}=... is refused: secrets come from the environment only "
                              f"(JWT_SECRET_KEY, JWT_SECRET_<ENVIRONMENT>, E2E_OAUTH_SIMULATION_KEY)")
    base_url = _pick(userdata, env, "base_url", "PLATFORM_BASE_URL")
    environment = _pick(userdata, env, "environment", "PLATFORM_ENVIRONMENT",
                        env.get("ENVIRONMENT") or "development")
    order = _pick(userdata, env, "jwt_secret_order", "PLATFORM_JWT_SECRET_ORDER", "current")
    if order not in ("current", "compat"):
        raise ConfigError("jwt_secret_order must be 'current' or 'compat'")
    client_dialect = _pick(userdata, env, "client_dialect", "PLATFORM_CLIENT_DIALECT", "payload")
    if client_dialect not in ("payload", "flat"):
        raise ConfigError("client_dialect must be 'payload' or 'flat'")
    bypass = env.get("E2E_OAUTH_SIMULATION_KEY")
    ws_url = _pick(userdata, env, "ws_url", "PLATFORM_WS_URL")
    auth_url = _pick(userdata, env, "auth_url", "PLATFORM_AUTH_URL")
    if base_url is None and (ws_url or auth_url):
        raise ConfigError("ws_url/auth_url need base_url too (without base_url the embedded platform is used)")
    if base_url is not None:
        base_url = base_url.rstrip("/")
        ws_url = ws_url or derive_ws_url(base_url)
        auth_url = (auth_url or base_url).rstrip("/")
    return TargetConfig(
        base_url=base_url,
        ws_url=ws_url,
        auth_url=auth_url,
        environment=environment,
        jwt_secret=resolve_secret(env, environment, order),
        bypass_key=Secret(bypass, "E2E_OAUTH_SIMULATION_KEY") if bypass else None,
        jwt_secret_order=order,
        first_event_timeout=_float("first_event_timeout",
                                   _pick(userdata, env, "first_event_timeout", "PLATFORM_FIRST_EVENT_TIMEOUT_S", 5)),
        run_timeout=_float("run_timeout", _pick(userdata, env, "run_timeout", "PLATFORM_RUN_TIMEOUT_S",
                                                30 if base_url is None else 180)),
        request_timeout=_float("request_timeout",
                               _pick(userdata, env, "request_timeout", "PLATFORM_REQUEST_TIMEOUT_S", 10)),
        preflight_timeout=_float("preflight_timeout",
                                 _pick(userdata, env, "preflight_timeout", "PLATFORM_PREFLIGHT_TIMEOUT_S", 5)),
        client_dialect=client_dialect,
        pacing_ms=_pacing(_pick(userdata, env, "pacing_ms", "PLATFORM_PACING_MS", "3-8")),
        platform_dialect=_dialect(_pick(userdata, env, "platform_dialect", "PLATFORM_DIALECT", "canonical")),
        platform_faults=_pick(userdata, env, "platform_faults", "PLATFORM_FAULTS", ""),
        platform_variations=_pick(userdata, env, "platform_variations", "PLATFORM_VARIATIONS", ""),
        settle_timeout=_float("settle_timeout", _pick(userdata, env, "settle_timeout", "PLATFORM_SETTLE_TIMEOUT_S", 2)),
        contract_checks=_switch("contract_checks", _pick(userdata, env, "contract_checks", "PLATFORM_CONTRACT_CHECKS",
                                                         "on")),
    )
