"""Named actors (Alice, Bob, …) with their own credentials, chats and runs, and the per-scenario
world that owns them. Steps talk to actors; actors talk to the platform through the library.

``Actor`` holds the platform's protocol actions as one person performs them: signing up, in and
out, renewing, tickets, opening chats, starting runs, threads, messages and usage over REST.
The journeys (:mod:`acceptance.journeys`) hold what the domains check on top of them. Everything a
scenario keeps between steps is a declared field (:mod:`acceptance.journeys.state`).
"""
from __future__ import annotations

import secrets
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping, TypeVar

from acceptance.client.auth import AuthClient, TokenForge, TokenPair
from acceptance.client.chat import ChatSession, Credential, Handshake, RunRecord
from acceptance.client.config import TargetConfig
from acceptance.client.events import Event
from acceptance.client.redaction import Redactor
from acceptance.client.rest import HttpClient, PlatformApi, Response, Transcript
from acceptance.client.waiting import WaitTimeout
from acceptance.journeys import usage_data
from acceptance.journeys.state import (
    Device,
    IsolationState,
    ModelUsage,
    PersistenceState,
    PlatformHandle,
    RealtimeState,
    SentFrame,
    SignInState,
    StartAttempt,
)
from acceptance.verify.errors import CATEGORY_CLASSES, AuthenticationFailure, ContractViolation, SuiteFailure
from acceptance.verify.schemas import validate_body

T = TypeVar("T")


@dataclass(slots=True, eq=False)
class Actor:
    """A person using the platform. Each owns a unique account, tokens, chats and runs."""

    world: World = field(repr=False)
    name: str
    email: str = field(init=False)
    password: str = field(init=False, repr=False)
    auth: AuthClient = field(init=False, repr=False)
    api: PlatformApi = field(init=False, repr=False)
    tokens: TokenPair | None = field(default=None, init=False, repr=False)
    previous_tokens: list[TokenPair] = field(default_factory=list, init=False, repr=False)
    user_id: str | None = field(default=None, init=False)
    last_response: Response | None = field(default=None, init=False, repr=False)  # of the last auth request
    chats: list[ChatSession] = field(default_factory=list, init=False, repr=False)  # every connection opened
    runs: list[RunRecord] = field(default_factory=list, init=False, repr=False)     # every run started
    attempts: list[StartAttempt] = field(default_factory=list, init=False, repr=False)  # every start asked for
    threads: dict[str, str] = field(default_factory=dict, init=False, repr=False)  # title -> id, of threads named
    thread: str | None = field(default=None, init=False, repr=False)  # the thread a step last named as theirs
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict, init=False, repr=False)  # thread id -> as read
    devices: dict[str, Device] = field(default_factory=dict, init=False, repr=False)  # "laptop" -> its sign-in, chat
    usage: dict[str, ModelUsage] = field(default_factory=dict, init=False, repr=False)  # model -> what they shared

    def __post_init__(self) -> None:
        world, name = self.world, self.name
        self.email = f"{name.lower()}.{uuid.uuid4().hex[:10]}@example.test"
        self.password = "pw-" + secrets.token_urlsafe(12)
        world.redactor.add_secret(self.password)
        cfg = world.config
        self.auth = AuthClient(world.http, cfg.auth_url, world.transcript, name)
        self.api = PlatformApi(world.http, cfg.base_url, lambda: self.access_token, world.transcript, name)

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

    def _answered(self, response: Response) -> Response:
        self.last_response = response
        return response

    # attempts: the answer, whatever it is (kept as last_response)
    def attempt_sign_up(self, email: str | None = None) -> Response:
        return self._answered(self.auth.register(email or self.email, self.password, self.name))

    def attempt_sign_in(self, email: str | None = None, password: str | None = None) -> Response:
        return self._answered(self.auth.login(email or self.email, password or self.password))

    def attempt_renewal(self, refresh_token: str) -> Response:
        return self._answered(self.auth.refresh(refresh_token))

    def attempt_simulated_sign_in(self, key: str | None, permissions: list[str] | None = None) -> Response:
        self.world.config.require_bypass_key()  # the target must have simulation switched on for a refusal to count
        return self._answered(self.auth.test_auth(key, email=self.email, name=self.name, permissions=permissions))

    # actions: the tokens, or a failure
    def register(self) -> TokenPair:
        return self._take_tokens(self.attempt_sign_up(), 201, 200, what=f"registering {self.name}")

    def sign_in(self) -> TokenPair:
        return self._take_tokens(self.attempt_sign_in(), 200, what=f"signing {self.name} in")

    def sign_in_with_bypass(self, permissions: list[str] | None = None) -> TokenPair:
        key = self.world.config.require_bypass_key()
        return self._take_tokens(self.attempt_simulated_sign_in(key.value, permissions), 200,
                                 what=f"simulated sign-in of {self.name}")

    def refresh(self) -> TokenPair:
        assert self.tokens is not None, f"{self.name} has no refresh token yet"
        return self._take_tokens(self.attempt_renewal(self.tokens.refresh_token), 200,
                                 what=f"refreshing {self.name}'s session")

    def sign_out(self, access_token: str | None = None, what: str | None = None) -> None:
        """Signs out the sign-in of ``access_token`` (by default the current one)."""
        response = self._answered(self.auth.logout(access_token or self.access_token))
        response.expect_status(200, category=AuthenticationFailure, what=what or f"signing {self.name} out")
        validate_body("logout", response.body)

    def ensure_account(self) -> Actor:
        if self.tokens is None:
            self.register()
        return self

    def mint(self, **kwargs: Any) -> str:
        """A valid access token for this actor, minted from the target's secret."""
        self.ensure_account()
        return self.world.forge().mint(self.user_id, self.email, **kwargs)

    # ---- chat -------------------------------------------------------------------------
    def new_chat(self, credential: Credential | None = None, cls: type[ChatSession] = ChatSession,
                 **extra: Any) -> ChatSession:
        """A connection of this actor, not opened yet; the world closes it after the scenario."""
        cfg = self.world.config
        chat = cls(cfg.ws_url, credential or Credential("bearer", self.access_token),
                   transcript=self.world.transcript, actor=self.name, client_dialect=cfg.client_dialect,
                   open_timeout=cfg.preflight_timeout, contract_checks=cfg.contract_checks,
                   platform_dialect=cfg.platform_dialect, environment=cfg.environment, **extra)
        chat.known_runs = self.world.started_run_ids
        self.chats.append(chat)
        return chat

    def chat_ticket(self) -> str:
        """A one-time chat ticket, asked for over REST."""
        self.ensure_account()
        response = self.api.ws_ticket().expect_status(201, category=AuthenticationFailure,
                                                      what=f"{self.name}'s chat ticket request")
        validate_body("websocket_ticket", response.body)
        return response.body["ticket_id"]

    def open_chat(self, form: str = "bearer", token: str | None = None) -> ChatSession:
        """Opens a chat presenting ``token`` (by default the access token, or a new ticket) in ``form``."""
        self.ensure_account()
        value = token or (self.chat_ticket() if form == "ticket" else self.access_token)
        return self.new_chat(Credential(form, value)).open()

    def attempt_chat(self, credential: Credential, cls: type[ChatSession] = ChatSession, **extra: Any) -> Handshake:
        """Tries to open a chat with ``credential``; reports what happened (a refusal is not a failure)."""
        return self.new_chat(credential, cls, **extra).attempt(self.world.config.preflight_timeout)

    def close_chats(self) -> None:
        for chat in self.chats:
            chat.close()

    def offered_thread_ids(self) -> set[str]:
        """The threads the handshakes of this actor's chats offered (netra-2025, N25-4); empty otherwise.

        Whether an offered thread exists before a run uses it is the platform's choice (N25-6), so a
        check of the actor's thread list may meet them, empty."""
        offered = set()
        for chat in self.chats:
            offer = chat.handshake.offer if chat.handshake is not None else None
            if offer is not None and isinstance(offer.raw.get("thread_id"), str):
                offered.add(offer.raw["thread_id"])
        return offered

    @property
    def chat(self) -> ChatSession:
        """The actor's most recent open connection (opened on first use)."""
        for chat in reversed(self.chats):
            if chat.is_open:
                return chat
        return self.open_chat()

    def start(self, request: str, on: ChatSession | None = None, **kwargs: Any) -> RunRecord | Event:
        """Asks for a run on ``on`` (by default the actor's chat): its record, or the error frame that refused it."""
        chat = on or self.chat
        outcome = chat.start(request, timeout=self.world.config.first_event_timeout + 5, **kwargs)
        self.attempts.append(StartAttempt(chat, request, kwargs.get("agent"), outcome))
        if isinstance(outcome, RunRecord):
            self.runs.append(outcome)
        return outcome

    def start_run(self, request: str, on: ChatSession | None = None, **kwargs: Any) -> RunRecord:
        outcome = self.start(request, on, **kwargs)
        if not isinstance(outcome, RunRecord):
            raise ContractViolation(f"{self.name}'s request {request[:60]!r} was refused: {outcome.compact()}")
        return outcome

    def ask(self, request: str, on: ChatSession | None = None, **kwargs: Any) -> RunRecord:
        """Starts a run and follows it to its end."""
        run = self.start_run(request, on, **kwargs)
        run.session.wait_for_end(run, self.world.config.run_timeout)
        return run

    @property
    def last_run(self) -> RunRecord:
        if not self.runs:
            raise ContractViolation(f"{self.name} has not started any run yet")
        return self.runs[-1]

    @property
    def last_attempt(self) -> StartAttempt:
        if not self.attempts:
            raise SuiteFailure(f"{self.name} has not asked for any run yet")
        return self.attempts[-1]

    def send_ping(self, chat: ChatSession, prefix: str) -> SentFrame:
        """Sends a ping with a fresh nonce (``<prefix>-<hex>``) on ``chat``, for a later check of its answer."""
        nonce = f"{prefix}-{secrets.token_hex(6)}"
        mark = len(chat.log)
        chat.send("ping", {"nonce": nonce})
        return SentFrame(chat, mark, f"the ping with nonce {nonce!r}", nonce=nonce)

    # ---- threads, messages and usage over REST ------------------------------------------
    def list_threads_with(self, token: str | None) -> Response:
        """Lists conversations with exactly this token (or none), whoever it belongs to."""
        return self.api.call("GET", "/api/threads", token=token)

    def create_thread(self, title: str | None = None) -> dict[str, Any]:
        response = self.api.create_thread(title).expect_status(201, what=f"{self.name} creating a thread")
        thread = response.expect_json_object()
        validate_body("thread", thread)
        self.threads[title if title is not None else f"untitled {len(self.threads) + 1}"] = thread["id"]
        return thread

    def read_thread(self, thread_id: str) -> dict[str, Any]:
        response = self.api.get_thread(thread_id).expect_status(200, what=f"{self.name} reading thread {thread_id}")
        thread = response.expect_json_object()
        validate_body("thread", thread)
        return thread

    def rename_thread(self, thread_id: str, title: str) -> Response:
        return self.api.rename_thread(thread_id, title).expect_status(200, what=f"{self.name} renaming a thread")

    def delete_thread(self, thread_id: str) -> None:
        self.api.delete_thread(thread_id).expect_status(204, what=f"{self.name} deleting thread {thread_id}")

    def thread_page(self, limit: int | None = None, offset: int | None = None) -> Response:
        """A page of the actor's threads (a ``thread_list`` body)."""
        response = self.api.list_threads(limit=limit, offset=offset).expect_status(
            200, what=f"{self.name} listing threads (limit {limit}, offset {offset})")
        validate_body("thread_list", response.expect_json_object())
        return response

    def messages_page(self, thread_id: str, limit: int | None = 100) -> Response:
        """A page of a thread's messages, oldest first (a ``messages_page`` body)."""
        response = self.api.messages(thread_id, limit=limit).expect_status(
            200, what=f"{self.name} reading the messages of thread {thread_id}")
        validate_body("messages_page", response.expect_json_object())
        return response

    def messages(self, thread_id: str) -> list[dict[str, Any]]:
        return self.messages_page(thread_id).body["messages"]

    def share_usage(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Stores usage records; the platform must accept every one of them (they follow the contract)."""
        response = self.ensure_account().api.add_usage(records).expect_status(201, what=f"storing {self.name}'s usage")
        body = response.expect_json_object()
        if body.get("rejected") or body.get("accepted") != len(records):
            raise ContractViolation(f"all {len(records):,} usage records follow the contract, yet the platform did "
                                    f"not accept them all: {response.evidence()}")
        for record in records:
            row = self.usage.setdefault(record["model"], ModelUsage())
            row.requests += record.get("requests", 1)
            if record.get("latency_ms") is not None:
                row.latencies.add(float(record["latency_ms"]))
        return body

    def share_spend(self, model: str, task: str | None, monthly: str | Decimal) -> dict[str, Any]:
        """The actor's team spends ``monthly`` dollars a month on ``model`` for ``task`` (list prices)."""
        self.ensure_account()
        return self.share_usage(usage_data.spend(self.world.pricing(), datetime.now(timezone.utc), model, task,
                                                 monthly))

    def usage_summary(self) -> dict[str, Any]:
        response = self.ensure_account().api.usage_summary().expect_status(200, what=f"{self.name}'s usage summary")
        body = response.expect_json_object()
        validate_body("usage_summary", body)
        return body

    def teardown(self) -> None:
        for chat in self.chats:
            chat.stop_unfinished_runs()
        self.close_chats()


@dataclass(slots=True)
class World:
    """Everything one scenario owns. Hung on behave's ``context.world``; torn down after it.

    Every field is declared (a ``slots`` dataclass): what a step keeps for a later one has its named
    home here, in a domain's group (:mod:`acceptance.journeys.state`) or on the ``Actor`` it belongs to."""

    config: TargetConfig
    http: HttpClient
    redactor: Redactor
    transcript: Transcript = field(default_factory=Transcript)
    actors: dict[str, Actor] = field(default_factory=dict)
    platform: PlatformHandle | None = None  # the embedded platform, when the suite started one
    price_list: dict[str, Any] | None = None  # the pricing catalogue, fetched once (see ``pricing``)
    response: Response | None = None  # the answer to a request a later step checks (an attempt, a health check)
    sent: SentFrame | None = None     # a frame a step sent by hand, whose answer a later step checks
    asked_together: dict[str, RunRecord] = field(default_factory=dict)  # by person: runs asked at one moment
    sign_in: SignInState = field(default_factory=SignInState)
    realtime: RealtimeState = field(default_factory=RealtimeState)
    isolation: IsolationState = field(default_factory=IsolationState)
    persistence: PersistenceState = field(default_factory=PersistenceState)

    def actor(self, name: str) -> Actor:
        if name not in self.actors:
            self.actors[name] = Actor(self, name)
        return self.actors[name]

    def forge(self) -> TokenForge:
        secret = self.config.require_jwt_secret()
        return TokenForge(secret.value, self.config.environment)

    def pricing(self) -> dict[str, Any]:
        """The platform's pricing catalogue, asked for once per scenario by its first actor."""
        if self.price_list is None:
            someone = next(iter(self.actors.values())).ensure_account()
            self.price_list = someone.api.pricing().expect_status(200, what="the pricing catalogue").body
        return self.price_list

    def all_chats(self) -> list[ChatSession]:
        return [chat for actor in self.actors.values() for chat in actor.chats]

    def runs_seen(self) -> dict[str, tuple[str, RunRecord]]:
        """Every run an actor of this scenario started or followed, on any of their connections, once and in
        order: its id and who saw it first."""
        runs: dict[str, tuple[str, RunRecord]] = {}
        for chat in self.all_chats():
            for run_id, run in chat.runs.items():
                runs.setdefault(run_id, (chat.actor, run))
        return runs

    def started_run_ids(self) -> set[str]:
        """The ids of every run an actor of this scenario started, on any of their connections."""
        return set(self.runs_seen())

    def teardown(self) -> None:
        for actor in self.actors.values():
            actor.teardown()


# ---- several people at the same moment ------------------------------------------------------------
def _category_class(failure: BaseException) -> type[SuiteFailure]:
    """The failure class of ``failure``'s report category; a failure that names none is a suite defect."""
    category = getattr(failure, "category", SuiteFailure.category)
    return next((c for c in CATEGORY_CLASSES if c.category == category), SuiteFailure)


def fail_with_all(failures: Mapping[str, BaseException], of: int, what: str) -> None:
    """Reports every failure at once, in the category of the first (by its name's order of the mapping)."""
    if failures:
        first = next(iter(failures.values()))
        listing = "\n".join(f"  {name}: {str(exc)[:600]}" for name, exc in failures.items())
        raise _category_class(first)(f"{len(failures)} of {of} failed {what}:\n{listing}") from first


def together(jobs: Mapping[str, Callable[[], T]], timeout: float, what: str) -> dict[str, T]:
    """Runs every job in its own thread, all released at once by a barrier, and returns their results by
    name once every job has ended. ``timeout`` bounds the whole (each job's own waits are bounded too).

    Failures: every job's failure is reported, one line each (a job still running at the timeout fails
    with a :class:`WaitTimeout`); the failure raised names the category of the first failing job, in the
    jobs' order, and a failure that names no category (a Python error) stays a suite defect."""
    if not jobs:
        return {}
    barrier = threading.Barrier(len(jobs))

    def released(job: Callable[[], T]) -> T:
        barrier.wait(timeout)
        return job()

    pool = ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="together")
    try:
        futures = {name: pool.submit(released, job) for name, job in jobs.items()}
        wait(futures.values(), timeout=timeout)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    results: dict[str, T] = {}
    failures: dict[str, BaseException] = {}
    for name, future in futures.items():
        if not future.done():
            failures[name] = WaitTimeout(f"{name} did not finish within {timeout:g} s while acting at the same "
                                         f"moment as the others")
        elif future.exception() is not None:
            failures[name] = future.exception()
        else:
            results[name] = future.result()
    fail_with_all(failures, len(jobs), what)
    return results


def ask_together(world: World, asks: Iterable[tuple[str, str, str | None]]) -> dict[str, RunRecord]:
    """Each (person, question, agent) asks at the same moment on their own open chat; every run is
    followed to its end. Returns the runs by person."""
    asks = list(asks)
    people = {name: world.actor(name) for name, _, _ in asks}
    for person in people.values():
        person.chat  # opened before the barrier, so that only the questions race
    cfg = world.config
    jobs = {name: (lambda p=people[name], q=question, a=agent: p.ask(q, agent=a)) for name, question, agent in asks}
    return together(jobs, cfg.first_event_timeout + cfg.run_timeout + 10, "to get an answer to their question")
