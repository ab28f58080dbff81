"""The chat over the WebSocket: handshake with any credential form, a reader thread that buffers
every frame into an :class:`~acceptance.client.events.EventLog`, and agent runs followed to their end.

One synchronous implementation (``websockets.sync.client``) serves behave steps, pytest and
Locust (under gevent the reader thread becomes a greenlet). Every wait is bounded.
"""
from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from acceptance.client import netra2025
from acceptance.client.events import Event, EventLog, parse_frame
from acceptance.client.rest import Transcript
from acceptance.verify import schemas
from acceptance.verify.errors import AuthenticationFailure, ContractViolation, InfrastructureFailure

CREDENTIAL_FORMS = ("bearer", "subprotocol", "query", "ticket")
TOP_TERMINALS = ("agent_completed", "agent_error", "agent_stopped")
_counter = itertools.count(1)


@dataclass(frozen=True)
class Credential:
    """How a socket presents its identity at the handshake (CONTRACT section 4)."""

    form: str  # bearer | subprotocol | query | ticket | none
    value: str | None = None

    def __post_init__(self):
        if self.form not in CREDENTIAL_FORMS + ("none",):
            raise ValueError(f"unknown credential form {self.form!r}; use one of {', '.join(CREDENTIAL_FORMS)}")


@dataclass
class Handshake:
    """What happened when a socket tried to open."""

    accepted: bool
    status: int | None = None          # HTTP status of a refused handshake
    close_code: int | None = None      # Compat refusal: accept, AUTH_FAILED, close 1008
    subprotocol: str | None = None
    welcome: Event | None = None
    detail: str = ""
    offer: Event | None = None         # netra-2025: the server's handshake_response (N25-4)

    def describe(self) -> str:
        if self.accepted:
            return "the handshake was accepted" + (" (its sub-protocol entry echoed back)" if self.subprotocol else "")
        if self.status is not None:
            return f"the handshake was refused with HTTP {self.status}"
        return f"the socket was accepted, then refused with {self.detail} and close code {self.close_code}"


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = (parts.query + "&" if parts.query else "") + urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def is_new_start(event: Event, known: set[str]) -> bool:
    """``event`` announces a new top-level run: an ``agent_started`` of a run not in ``known`` and of no parent agent."""
    return (event.type == "agent_started" and bool(event.run_id) and event.run_id not in known
            and not event.data.get("parent_agent"))


def new_starts(events: list[Event], known: set[str]) -> list[Event]:
    """The ``agent_started`` frame of each new top-level run among ``events``, once per run, in order."""
    starts: dict[str, Event] = {}
    for e in events:
        if is_new_start(e, known):
            starts.setdefault(e.run_id, e)
    return list(starts.values())


@dataclass
class RunRecord:
    """One agent run as seen from one socket."""

    run_id: str
    session: "ChatSession"
    request: str
    sent_at: float
    started: Event
    agent: str = ""
    thread_id: str | None = None

    @property
    def events(self) -> list[Event]:
        return self.session.frames_of(self.run_id)

    @property
    def terminal(self) -> Event | None:
        return next((e for e in self.events if e.type in TOP_TERMINALS and e.agent_name == self.agent), None)

    @property
    def first_event_s(self) -> float:
        return self.started.received_at - self.sent_at

    @property
    def result(self) -> dict[str, Any]:
        terminal = self.terminal
        if terminal is None or terminal.type != "agent_completed":
            raise ContractViolation(f"run {self.run_id} has no completed result; its last frame is "
                                    f"{terminal.compact() if terminal else 'none yet'}")
        result = terminal.data.get("result")
        if not isinstance(result, dict):
            raise ContractViolation(f"agent_completed of run {self.run_id} carries no result object: "
                                    f"{terminal.compact()}")
        return result


class ChatSession:
    """One WebSocket connection of one actor."""

    def __init__(self, ws_url: str, credential: Credential, *, transcript: Transcript | None = None,
                 actor: str = "", client_dialect: str = "payload", open_timeout: float = 5.0,
                 on_frame: Callable[[Event], None] | None = None, contract_checks: bool = False,
                 platform_dialect: str = "canonical", environment: str = "development"):
        self.ws_url, self.credential, self.transcript, self.actor = ws_url, credential, transcript, actor
        self.client_dialect, self.open_timeout, self.on_frame = client_dialect, open_timeout, on_frame
        self.platform_dialect, self.environment = platform_dialect, environment
        #: check every received frame against contract/asyncapi.yaml; a violation fails every later wait
        self.contract_checks = contract_checks
        self.name = f"{actor or 'socket'}#{next(_counter)}"
        self.log = EventLog()
        self.handshake_log = EventLog()  # netra-2025: the handshake frames, kept apart from the run frames
        self.ws: ClientConnection | None = None
        self.handshake: Handshake | None = None
        self.runs: dict[str, RunRecord] = {}
        # every run id the scenario's actors started (set by Actor.new_chat); by default this socket's
        self.known_runs: Callable[[], set[str]] = lambda: set(self.runs)
        self._reader: threading.Thread | None = None

    # ---- opening ----------------------------------------------------------------------
    def _connect_args(self) -> tuple[str, dict[str, Any]]:
        url, kwargs = self.ws_url, {"open_timeout": self.open_timeout, "close_timeout": 2, "legacy": True,
                                    "max_size": 2**24, "ping_interval": None}
        form, value = self.credential.form, self.credential.value or ""
        if form == "bearer":
            kwargs["additional_headers"] = {"Authorization": f"Bearer {value}"}
        elif form == "subprotocol":
            kwargs["subprotocols"] = [self.subprotocol_entry(value)]
        elif form == "query":
            url = _with_query(url, token=value)
        elif form == "ticket":
            url = _with_query(url, ticket=value)
        return url, kwargs

    def subprotocol_entry(self, token: str) -> str:
        """The sub-protocol entry carrying ``token`` in the target's dialect."""
        if netra2025.speaks(self.platform_dialect):
            return netra2025.subprotocol_entry(token, self.environment)
        return "jwt." + base64.urlsafe_b64encode(token.encode()).rstrip(b"=").decode("ascii")

    def attempt(self, welcome_timeout: float = 5.0) -> Handshake:
        """Tries to open the socket and reports what happened; never raises for a refusal."""
        url, kwargs = self._connect_args()
        try:
            self.ws = connect(url, **kwargs)
        except InvalidStatus as exc:
            self.handshake = Handshake(False, status=exc.response.status_code)
            self._record("handshake", {"status": exc.response.status_code})
            return self.handshake
        except (InvalidHandshake, ValueError) as exc:
            raise ContractViolation(f"the WebSocket handshake with {self.ws_url} failed: {exc}") from exc
        except TimeoutError as exc:
            raise InfrastructureFailure(f"the WebSocket at {self.ws_url} did not complete its handshake within "
                                        f"{self.open_timeout:g} s") from exc
        except OSError as exc:
            raise InfrastructureFailure(f"the WebSocket at {self.ws_url} could not be reached: {exc}") from exc
        self._reader = threading.Thread(target=self._read, name=f"ws-reader-{self.name}", daemon=True)
        self._reader.start()
        first = self.log.wait_for(lambda evs: evs[0] if evs else None, welcome_timeout,
                                  "the first frame after the handshake", fail_on_close=True)
        if first.type == "error_message" and first.data.get("error_code") == "AUTH_FAILED":
            closed = self.log.wait_closed(welcome_timeout, "the close that follows AUTH_FAILED")
            self.handshake = Handshake(False, close_code=closed.code, detail="AUTH_FAILED")
            if closed.code != 1008:
                raise ContractViolation(f"after AUTH_FAILED the socket must close with 1008, it closed with "
                                        f"{closed}")
            return self.handshake
        if first.type != "connection_established":
            raise ContractViolation(f"the first frame after the handshake must be connection_established, got "
                                    f"{first.compact()}")
        offer = self._netra2025_handshake(welcome_timeout) if netra2025.speaks(self.platform_dialect) else None
        self.handshake = Handshake(True, subprotocol=self.ws.subprotocol, welcome=first, offer=offer)
        return self.handshake

    def _netra2025_handshake(self, timeout: float) -> Event:
        """handshake_response → handshake_acknowledged → handshake_complete, as Netra's client does (N25-4)."""
        offer = self.handshake_log.wait_for(
            lambda evs: next((e for e in evs if e.type == "handshake_response"), None), timeout,
            f"handshake_response after connection_established on {self.name} (netra-2025)")
        problem = netra2025.offer_problem(offer)
        if problem is not None:
            raise ContractViolation(problem)
        thread_id = offer.raw["thread_id"]
        ack = {"type": netra2025.HANDSHAKE_ACK, "thread_id": thread_id,
               "timestamp": datetime.now(timezone.utc).isoformat()}
        self._record("sent", ack)
        try:
            self.ws.send(json.dumps(ack))
        except ConnectionClosed as exc:
            raise ContractViolation(f"{self.name} was closed before the handshake was acknowledged ({exc})") from exc
        done = self.handshake_log.wait_for(
            lambda evs: next((e for e in evs if e.type == "handshake_complete"), None), timeout,
            f"handshake_complete after handshake_acknowledged on {self.name} (netra-2025)")
        if done.raw.get("thread_id") not in (None, thread_id):
            raise ContractViolation(f"handshake_complete names thread {done.raw.get('thread_id')!r}, the offer was "
                                    f"{thread_id!r}")
        return offer

    def open(self) -> "ChatSession":
        """Opens the socket; a refusal of valid credentials is an Authentication failure."""
        outcome = self.attempt(self.open_timeout)
        if not outcome.accepted:
            raise AuthenticationFailure(f"{self.actor or 'the user'} could not open the chat with a "
                                        f"{self.credential.form} credential: {outcome.describe()}")
        return self

    def _read(self) -> None:
        assert self.ws is not None
        try:
            for message in self.ws:
                received = time.monotonic()
                violation = None
                try:
                    event = parse_frame(message, received)
                except ContractViolation as exc:
                    event = Event("<unparseable>", {"error": exc.detail}, None, None, None, None, None, None,
                                  {"text": str(message)[:500]}, received, "invalid")
                    violation = exc
                else:
                    if netra2025.speaks(self.platform_dialect):
                        event = netra2025.to_canonical(event)  # the client's field names back to the contract's
                    if self.contract_checks:
                        violation = schemas.frame_violation(event)
                self._record("received", event.raw)
                if self.contract_checks and violation is not None:
                    if self.transcript is not None:
                        self.transcript.add_violation(violation)
                    self.log.add_violation(violation)
                if netra2025.speaks(self.platform_dialect) and event.type in netra2025.HANDSHAKE_TYPES:
                    self.handshake_log.append(event)
                    continue
                self.log.append(event)
                if self.on_frame is not None:
                    self.on_frame(event)
        except ConnectionClosed:
            pass
        finally:
            code = self.ws.close_code
            self._record("closed", {"code": code, "reason": self.ws.close_reason})
            self.log.mark_closed(code, self.ws.close_reason or "")
            self.handshake_log.mark_closed(code, self.ws.close_reason or "")

    def _record(self, direction: str, frame: Any) -> None:
        if self.transcript is not None:
            self.transcript.add_ws({"actor": self.actor, "connection": self.name, "direction": direction,
                                    "frame": frame})

    # ---- sending ----------------------------------------------------------------------
    def _require_open(self) -> ClientConnection:
        if self.ws is None or self.handshake is None or not self.handshake.accepted:
            raise ContractViolation(f"{self.name} is not open")
        return self.ws

    def send(self, type_: str, payload: dict[str, Any] | None = None) -> float:
        """Sends a client frame in the configured dialect; returns the monotonic send time."""
        payload = payload or {}
        frame = {"type": type_, "payload": payload} if self.client_dialect == "payload" else {"type": type_, **payload}
        return self.send_raw(json.dumps(frame), record=frame)

    def send_raw(self, data: str | bytes, record: Any = None) -> float:
        ws = self._require_open()
        self._record("sent", record if record is not None else (data if isinstance(data, str)
                                                                else f"<{len(data)} bytes>"))
        sent = time.monotonic()
        try:
            ws.send(data)
        except ConnectionClosed as exc:
            raise ContractViolation(f"{self.name} was closed by the platform before a frame could be sent "
                                    f"({exc})") from exc
        return sent

    # ---- waiting ----------------------------------------------------------------------
    def wait_for(self, predicate, timeout: float, description: str, **kwargs):
        return self.log.wait_for(predicate, timeout, f"{description} on {self.name}", **kwargs)

    def first_after(self, mark: int, accept: Callable[[Event], bool], timeout: float, description: str) -> Event:
        """The first frame after the first ``mark`` frames of the log that ``accept`` takes."""
        return self.wait_for(lambda evs: next((e for e in evs[mark:] if accept(e)), None), timeout, description)

    def next_of_type(self, type_: str, after_index: int, timeout: float, where: Callable[[Event], bool] = lambda e: True,
                     description: str | None = None) -> Event:
        return self.first_after(after_index, lambda e: e.type == type_ and where(e), timeout,
                                description or f"a {type_} frame")

    def frames_of(self, run_id: str) -> list[Event]:
        """Every frame of run ``run_id`` this socket received, in order."""
        return [e for e in self.log.snapshot() if e.run_id == run_id]

    def ping(self, nonce: str, timeout: float) -> Event:
        mark = len(self.log)
        self.send("ping", {"nonce": nonce})
        return self.next_of_type("pong", mark, timeout, lambda e: e.data.get("nonce") == nonce,
                                 f"a pong echoing nonce {nonce!r}")

    def send_start(self, request: str, *, agent: str | None = None, thread_id: str | None = None,
                   context: dict | None = None, via: str = "start_agent") -> float:
        """Sends the request that starts a run (``start_agent``, or ``user_message``); returns the send time."""
        if via == "user_message":
            payload: dict[str, Any] = {"content": request}
        else:
            payload = {"user_request": request}
            if agent is not None:
                payload["agent"] = agent
            if context is not None:
                payload["context"] = context
        if thread_id is not None:
            payload["thread_id"] = thread_id
        return self.send(via, payload)

    def adopt(self, started: Event, request: str, sent_at: float) -> RunRecord:
        """The record of the run that ``started`` (its ``agent_started``) announced, kept as one of this socket's."""
        record = RunRecord(started.run_id, self, request, sent_at, started, agent=started.agent_name or "",
                           thread_id=started.thread_id)
        self.runs[record.run_id] = record
        return record

    def start(self, request: str, *, agent: str | None = None, thread_id: str | None = None,
              context: dict | None = None, timeout: float = 5.0, via: str = "start_agent") -> RunRecord | Event:
        """Starts a run; returns its record once ``agent_started`` arrives, or the ``error`` frame that
        refused it. A platform that answers neither within ``timeout`` breaks the contract."""
        mark = len(self.log)
        known = set(self.runs)
        sent = self.send_start(request, agent=agent, thread_id=thread_id, context=context, via=via)
        first = self.first_after(mark, lambda e: e.type == "error" or is_new_start(e, known), timeout,
                                 f"agent_started or an error after {via} {request[:40]!r}")
        if first.type == "error":
            return first
        return self.adopt(first, request, sent)

    def wait_for_end(self, run: RunRecord, timeout: float) -> Event:
        """The run's terminal frame. The wait ends early, failing, once the stream proves it cannot come:
        the socket closed, or the run's agent ended a run of its thread that nobody in the scenario started
        (its terminal frame carried another run id)."""
        return self.wait_for(lambda evs: run.terminal, timeout,
                             f"the end of run {run.run_id} ({run.agent}: agent_completed, agent_error or "
                             f"agent_stopped)", settled=lambda evs: self._foreign_end(run, evs))

    def _foreign_end(self, run: RunRecord, events: list[Event]) -> str | None:
        known = None
        for e in events:
            if (e.type in TOP_TERMINALS and e.agent_name == run.agent and e.run_id != run.run_id
                    and e.thread_id == run.thread_id and not e.data.get("parent_agent")):
                known = self.known_runs() if known is None else known
                if e.run_id not in known:
                    return (f"{e.compact()} ended the {run.agent} agent's run in thread {run.thread_id} under run id "
                            f"{e.run_id!r}, which no one in this scenario started (expected {run.run_id!r})")
        return None

    def follow(self, run_id: str, agent: str, timeout: float) -> Event:
        """The terminal frame of run ``run_id`` of ``agent`` on this socket (one it did not start: a resumed
        or replayed run), or the first ``error`` frame about that run (naming it, or naming no run)."""
        def outcome(evs: list[Event]) -> Event | None:
            for e in evs:
                if e.type == "error" and e.data.get("run_id") in (None, run_id):
                    return e
            return next((e for e in evs if e.run_id == run_id and e.type in TOP_TERMINALS and e.agent_name == agent),
                        None)
        return self.wait_for(outcome, timeout, f"the end of run {run_id} ({agent}'s terminal frame)")

    def resume(self, run_id: str, last_message_id: str | None) -> float:
        return self.send("resume_run", {"run_id": run_id, "last_message_id": last_message_id})

    def stop(self, run_id: str) -> float:
        return self.send("stop_agent", {"run_id": run_id})

    def get_thread(self, thread_id: str, timeout: float) -> Event:
        """Asks the chat for a thread: its ``thread_data``, or the ``error`` that refused it."""
        mark = len(self.log)
        self.send("get_thread", {"thread_id": thread_id})

        def answer(e: Event) -> bool:
            thread = e.data.get("thread") if e.type == "thread_data" else None
            return e.type == "error" or (isinstance(thread, dict) and thread.get("id") == thread_id)
        return self.first_after(mark, answer, timeout, f"thread_data or an error for get_thread {thread_id}")

    # ---- closing ----------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.ws is not None and self.log.closed is None and bool(self.handshake and self.handshake.accepted)

    def stop_unfinished_runs(self) -> None:
        for run in self.runs.values():
            if run.terminal is None and self.is_open:
                try:
                    self.stop(run.run_id)
                except ContractViolation:
                    return

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
        if self._reader is not None:
            self._reader.join(timeout=3)
