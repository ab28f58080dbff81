"""`python -m acceptance doctor`: is this target ready for the suite, and if not, why?

Each check prints a verdict (PASS, WARN, FAIL, or NOT CHECKED when a setting is missing) and, for
anything but PASS, the likely cause. The exit code is 1 when any check failed.
"""
from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable

from acceptance.client.auth import AuthClient, TokenForge
from acceptance.client.chat import CREDENTIAL_FORMS, ChatSession, Credential
from acceptance.client.config import TargetConfig, resolve_secret
from acceptance.client.events import Event
from acceptance.client.rest import HttpClient, PlatformApi
from acceptance.verify.errors import SuiteFailure

PASS, WARN, FAIL, NOT_CHECKED = "PASS", "WARN", "FAIL", "NOT CHECKED"
SKEW_WARN_S = 30
DIALECTS = {"canonical": "canonical (details under data)",
            "netra": "Netra Compat, September 2025 (welcome wrapped in system_message, details under payload)",
            "netra-2025": "Netra 2025, the protocol of Netra's published client (handshake_response after "
                          "connection_established, flat frames; docs/netra-2025.md)"}


@dataclass
class Check:
    name: str
    verdict: str
    detail: str
    cause: str = ""

    def line(self) -> str:
        text = f"[{self.verdict:^11}] {self.name}: {self.detail}"
        if self.cause:
            text += f"\n               likely cause: {self.cause}"
        return text


@dataclass
class Diagnosis:
    target: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.verdict != FAIL for c in self.checks)

    def add(self, *args, **kwargs) -> Check:
        check = Check(*args, **kwargs)
        self.checks.append(check)
        return check

    def report(self) -> str:
        lines = [f"Doctor for {self.target}"] + [c.line() for c in self.checks]
        failed = [c.name for c in self.checks if c.verdict == FAIL]
        lines.append("Verdict: " + ("ready for the suite" if not failed else f"NOT ready ({', '.join(failed)} failed)"))
        return "\n".join(lines)


def _secret_hint(cfg: TargetConfig, env) -> str:
    source = cfg.jwt_secret.source if cfg.jwt_secret else "nothing"
    other_order = "compat" if cfg.jwt_secret_order == "current" else "current"
    alternative = resolve_secret(env, cfg.environment, other_order)
    hint = (f"the token was minted from {source} but the platform signs with a different secret "
            f"(or expects other issuer/audience claims)")
    if alternative and cfg.jwt_secret and alternative.value != cfg.jwt_secret.value:
        hint += (f"; {alternative.source} holds another value: deployments before 2025-09-16 read "
                 f"JWT_SECRET_<ENVIRONMENT> first — try -D jwt_secret_order={other_order}")
    return hint


def diagnose(cfg: TargetConfig, env=None, out: Callable[[str], None] | None = None) -> Diagnosis:
    import os
    env = dict(os.environ if env is None else env)
    diag = Diagnosis(cfg.base_url or "?")
    emit = out or (lambda _line: None)

    def record(*args, **kwargs) -> Check:
        check = diag.add(*args, **kwargs)
        emit(check.line())
        return check

    http = HttpClient(timeout=cfg.preflight_timeout)
    api = PlatformApi(http, cfg.base_url, lambda: None)
    try:
        # 1. health and readiness
        try:
            health = api.health()
            body = health.body if isinstance(health.body, dict) else {}
            if health.status == 200 and body.get("status") == "healthy":
                record("health", PASS, f"healthy, version {body.get('version')}, environment {body.get('environment')}")
            else:
                record("health", FAIL, f"GET /health answered {health.status}: {health.text[:200]}",
                       "a dependency of the platform is down (see its checks)" if health.status == 503
                       else "base_url may not point at the platform's backend")
        except SuiteFailure as exc:
            record("health", FAIL, exc.detail, "the platform is not running, or base_url/port is wrong, "
                                               "or a firewall drops the traffic")
            return diag
        try:
            ready = api.ready()
            record("readiness", PASS if ready.status == 200 else FAIL, f"GET /health/ready answered {ready.status}",
                   "" if ready.status == 200 else "the platform has not finished starting")
        except SuiteFailure as exc:
            record("readiness", FAIL, exc.detail, "the platform stopped answering")

        # 2. sign-in with a throwaway account
        auth = AuthClient(http, cfg.auth_url)
        email, password = f"doctor.{uuid.uuid4().hex[:10]}@example.test", secrets.token_urlsafe(16)
        token = user_id = None
        try:
            reg = auth.register(email, password, "Doctor")
            if reg.status in (200, 201) and isinstance(reg.body, dict):
                login = auth.login(email, password)
                if login.status == 200:
                    token, user_id = login.body["access_token"], login.body["user"]["id"]
                    record("sign-in", PASS, f"registered and signed in a throwaway account via {cfg.auth_url}")
                else:
                    record("sign-in", FAIL, f"login answered {login.status}", "the auth service rejects fresh accounts")
            else:
                record("sign-in", FAIL, f"register answered {reg.status}: {reg.text[:200]}",
                       "registration is closed on this target, or auth_url points elsewhere")
        except SuiteFailure as exc:
            record("sign-in", FAIL, exc.detail, "the auth service is unreachable: check auth_url")

        # 3. a token minted from the configured secret
        minted = None
        if cfg.jwt_secret is None:
            record("minted token", NOT_CHECKED, "no JWT_SECRET_KEY / JWT_SECRET_<ENVIRONMENT> in the environment",
                   "scenarios tagged @needs-jwt-secret will fail until it is set (or exclude them)")
        elif user_id is not None:
            minted = TokenForge(cfg.jwt_secret.value, cfg.environment).mint(user_id, email)
            me = auth.me(minted)
            if me.status == 200:
                record("minted token", PASS, f"a token minted from {cfg.jwt_secret.source} is accepted")
            else:
                record("minted token", FAIL, f"a token minted from {cfg.jwt_secret.source} is refused "
                                             f"({me.status})", _secret_hint(cfg, env))

        # 4. the dialect, the WebSocket handshake with every credential form, and clock skew
        if token is not None:
            detected, welcome = _detect_dialect(cfg, token)
            dialect = detected if detected in DIALECTS else cfg.platform_dialect
            for form in CREDENTIAL_FORMS:
                value = token
                if form == "ticket":
                    ticket = PlatformApi(http, cfg.base_url, lambda: token).ws_ticket()
                    if ticket.status != 201:
                        record("handshake (ticket)", FAIL, f"ticket request answered {ticket.status}",
                               "the platform does not issue WebSocket tickets")
                        continue
                    value = ticket.body["ticket_id"]
                session = ChatSession(cfg.ws_url, Credential(form, value), open_timeout=cfg.preflight_timeout,
                                      platform_dialect=dialect, environment=cfg.environment)
                try:
                    outcome = session.attempt(cfg.preflight_timeout)
                    if outcome.accepted:
                        welcome = welcome or outcome.welcome
                        record(f"handshake ({form})", PASS, outcome.describe())
                    else:
                        record(f"handshake ({form})", FAIL, outcome.describe(),
                               "the platform refuses a token its own auth service issued: the backend and the auth "
                               "service disagree on the secret or claims" if form == "bearer"
                               else f"the platform does not support the {form} credential form")
                except SuiteFailure as exc:
                    record(f"handshake ({form})", FAIL, exc.detail, "check ws_url (scheme ws/wss and path)")
                finally:
                    session.close()
            if minted is not None:
                session = ChatSession(cfg.ws_url, Credential("bearer", minted), open_timeout=cfg.preflight_timeout,
                                      platform_dialect=dialect, environment=cfg.environment)
                try:
                    outcome = session.attempt(cfg.preflight_timeout)
                    record("handshake (minted token)", PASS if outcome.accepted else FAIL,
                           f"with a token minted from {cfg.jwt_secret.source}: {outcome.describe()}",
                           "" if outcome.accepted else _secret_hint(cfg, env))
                except SuiteFailure as exc:
                    record("handshake (minted token)", FAIL, exc.detail)
                finally:
                    session.close()
            if welcome is not None:
                if detected not in DIALECTS:
                    record("dialect", PASS, f"welcome in the {welcome.dialect} envelope (normalised whatever the "
                                            f"setting)")
                elif detected == cfg.platform_dialect:
                    record("dialect", PASS, f"{DIALECTS[detected]}; the suite is set for it "
                                            f"(-D platform_dialect={detected})")
                else:
                    record("dialect", FAIL, f"the target speaks {DIALECTS[detected]}; the suite is set for "
                                            f"{cfg.platform_dialect}",
                           f"select the target's dialect with -D platform_dialect={detected} "
                           f"(or PLATFORM_DIALECT={detected})")
                server_time = welcome.data.get("server_time")
                _skew(record, server_time, health.headers.get("date"))
    finally:
        http.close()
    return diag


def _detect_dialect(cfg: TargetConfig, token: str) -> tuple[str | None, Event | None]:
    """(dialect, welcome) of the target, from one socket that reads everything the server sends before the
    pong of a ping: netra-2025 offers handshake_response first; netra wraps its welcome."""
    session = ChatSession(cfg.ws_url, Credential("bearer", token), open_timeout=cfg.preflight_timeout)
    try:
        outcome = session.attempt(cfg.preflight_timeout)
        if not outcome.accepted:
            return None, None
        try:
            session.ping(f"doctor-{uuid.uuid4().hex[:8]}", cfg.preflight_timeout)
        except SuiteFailure:
            pass  # what arrived so far still tells the dialect
        welcome = outcome.welcome
        if any(e.type == "handshake_response" for e in session.log.snapshot()):
            return "netra-2025", welcome
        if welcome.dialect in ("system_message", "payload"):
            return "netra", welcome
        return ("canonical" if welcome.dialect == "data" else welcome.dialect), welcome
    except SuiteFailure:
        return None, None
    finally:
        session.close()


def _skew(record, server_time: str | None, date_header: str | None) -> None:
    try:
        if server_time:
            server = datetime.fromisoformat(server_time.replace("Z", "+00:00"))
        elif date_header:
            server = parsedate_to_datetime(date_header)
        else:
            record("clock skew", NOT_CHECKED, "the platform reported no time")
            return
    except (ValueError, TypeError):
        record("clock skew", WARN, f"unreadable server time {server_time or date_header!r}")
        return
    skew = (datetime.now(timezone.utc) - server).total_seconds()
    if abs(skew) <= SKEW_WARN_S:
        record("clock skew", PASS, f"{skew:+.1f} s against the server")
    else:
        record("clock skew", WARN, f"{skew:+.1f} s against the server",
               "tokens minted here may be refused as 'issued in the future' (the contract allows 60 s): sync clocks")
