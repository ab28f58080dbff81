"""Named actors (Alice, Bob, …) with their own credentials, sockets and runs, and the per-scenario
world that owns them. Steps talk to actors; actors talk to the platform through the library.
"""
from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from acceptance.client.auth import AuthClient, TokenForge, TokenPair
from acceptance.client.chat import ChatSession, Credential, RunRecord
from acceptance.client.config import TargetConfig
from acceptance.client.events import Event
from acceptance.client.redaction import Redactor
from acceptance.client.rest import HttpClient, PlatformApi, Response, Transcript
from acceptance.verify.errors import AuthenticationFailure, ContractViolation


class Actor:
    """A person using the platform. Each owns a unique account, tokens, sockets and runs."""

    def __init__(self, world: "World", name: str):
        self.world, self.name = world, name
        self.email = f"{name.lower()}.{uuid.uuid4().hex[:10]}@example.test"
        self.password = "pw-" + secrets.token_urlsafe(12)
        world.redactor.add_secret(self.password)
        self.tokens: TokenPair | None = None
        self.previous_tokens: list[TokenPair] = []
        self.user_id: str | None = None
        cfg = world.config
        self.auth = AuthClient(world.http, cfg.auth_url, world.transcript, name)
        self.api = PlatformApi(world.http, cfg.base_url, lambda: self.access_token, world.transcript, name)
        self.sessions: list[ChatSession] = []
        self.runs: list[RunRecord] = []
        self.last_response: Response | None = None
        self.threads: dict[str, str] = {}

    # ---- identity ---------------------------------------------------------------------
    @property
    def access_token(self) -> str | None:
        return self.tokens.access_token if self.tokens else None

    def _take_tokens(self, response: Response, *statuses: int, what: str) -> TokenPair:
        response.expect_status(*statuses, category=AuthenticationFailure, what=what)
        body = response.expect_json_object(AuthenticationFailure)
        try:
            pair = TokenPair.from_body(body)
        except (KeyError, TypeError, ValueError) as exc:
            raise ContractViolation(f"{what} answered without the contract's token fields ({exc}); "
                                    f"{response.evidence()}") from exc
        if self.tokens is not None:
            self.previous_tokens.append(self.tokens)
        self.tokens = pair
        self.user_id = str(pair.user.get("id"))
        return pair

    def register(self) -> TokenPair:
        response = self.auth.register(self.email, self.password, self.name)
        self.last_response = response
        return self._take_tokens(response, 201, 200, what=f"registering {self.name}")

    def sign_in(self) -> TokenPair:
        response = self.auth.login(self.email, self.password)
        self.last_response = response
        return self._take_tokens(response, 200, what=f"signing {self.name} in")

    def sign_in_with_bypass(self, permissions: list[str] | None = None) -> TokenPair:
        key = self.world.config.require_bypass_key()
        response = self.auth.test_auth(key.value, email=self.email, name=self.name, permissions=permissions)
        self.last_response = response
        return self._take_tokens(response, 200, what=f"simulated sign-in of {self.name}")

    def refresh(self) -> TokenPair:
        assert self.tokens is not None, f"{self.name} has no refresh token yet"
        response = self.auth.refresh(self.tokens.refresh_token)
        self.last_response = response
        return self._take_tokens(response, 200, what=f"refreshing {self.name}'s session")

    def ensure_account(self) -> "Actor":
        if self.tokens is None:
            self.register()
        return self

    def mint(self, **kwargs: Any) -> str:
        """A valid access token for this actor, minted from the target's secret."""
        self.ensure_account()
        return self.world.forge().mint(self.user_id, self.email, **kwargs)

    # ---- chat -------------------------------------------------------------------------
    def new_session(self, credential: Credential | None = None) -> ChatSession:
        cfg = self.world.config
        session = ChatSession(cfg.ws_url, credential or Credential("bearer", self.access_token),
                              transcript=self.world.transcript, actor=self.name,
                              client_dialect=cfg.client_dialect, open_timeout=cfg.preflight_timeout,
                              contract_checks=cfg.contract_checks,
                              platform_dialect=cfg.platform_dialect, environment=cfg.environment)
        session.known_runs = self.world.started_run_ids
        self.sessions.append(session)
        return session

    def open_chat(self, form: str = "bearer", token: str | None = None) -> ChatSession:
        self.ensure_account()
        if form == "ticket":
            response = self.api.ws_ticket().expect_status(201, what=f"{self.name}'s chat ticket request")
            value = response.expect_json_object()["ticket_id"]
        else:
            value = token or self.access_token
        return self.new_session(Credential(form, value)).open()

    def offered_thread_ids(self) -> set[str]:
        """The threads the handshakes of this actor's chats offered (netra-2025, N25-4); empty otherwise.

        Whether an offered thread exists before a run uses it is the platform's choice (N25-6), so a
        check of the actor's thread list may meet them, empty."""
        offered = set()
        for session in self.sessions:
            offer = session.handshake.offer if session.handshake is not None else None
            if offer is not None and isinstance(offer.raw.get("thread_id"), str):
                offered.add(offer.raw["thread_id"])
        return offered

    @property
    def chat(self) -> ChatSession:
        """The actor's most recent open socket (opened on first use)."""
        for session in reversed(self.sessions):
            if session.is_open:
                return session
        return self.open_chat()

    def start(self, request: str, **kwargs: Any) -> RunRecord | Event:
        outcome = self.chat.start(request, timeout=self.world.config.first_event_timeout + 5, **kwargs)
        if isinstance(outcome, RunRecord):
            self.runs.append(outcome)
        return outcome

    def start_run(self, request: str, **kwargs: Any) -> RunRecord:
        outcome = self.start(request, **kwargs)
        if not isinstance(outcome, RunRecord):
            raise ContractViolation(f"{self.name}'s request {request[:60]!r} was refused: {outcome.compact()}")
        return outcome

    def ask(self, request: str, **kwargs: Any) -> RunRecord:
        """Starts a run and follows it to its end."""
        run = self.start_run(request, **kwargs)
        run.session.wait_for_end(run, self.world.config.run_timeout)
        return run

    @property
    def last_run(self) -> RunRecord:
        if not self.runs:
            raise ContractViolation(f"{self.name} has not started any run yet")
        return self.runs[-1]

    def teardown(self) -> None:
        for session in self.sessions:
            session.stop_unfinished_runs()
        for session in self.sessions:
            session.close()


@dataclass
class World:
    """Everything one scenario owns. Hung on behave's ``context.world``; torn down after it."""

    config: TargetConfig
    http: HttpClient
    redactor: Redactor
    transcript: Transcript = field(default_factory=Transcript)
    actors: dict[str, Actor] = field(default_factory=dict)
    platform: Any = None  # the embedded platform handle, when the suite started one
    notes: dict[str, Any] = field(default_factory=dict)

    def actor(self, name: str) -> Actor:
        if name not in self.actors:
            self.actors[name] = Actor(self, name)
        return self.actors[name]

    def forge(self) -> TokenForge:
        secret = self.config.require_jwt_secret()
        return TokenForge(secret.value, self.config.environment)

    def all_sessions(self) -> list[ChatSession]:
        return [s for a in self.actors.values() for s in a.sessions]

    def started_run_ids(self) -> set[str]:
        """The ids of every run an actor of this scenario started, on any of their connections."""
        return {run_id for session in self.all_sessions() for run_id in session.runs}

    def teardown(self) -> None:
        for actor in self.actors.values():
            actor.teardown()
