"""Server frames as events, and the log a WebSocket reader appends them to.

:func:`normalize` turns every server envelope of the contract (CONTRACT.md section 4) into one
:class:`Event` with the canonical shape ``{type, message_id, timestamp, data}`` plus the top-level
``run_id``, ``thread_id``, ``agent_name`` and ``tool_name``:

* ``"data"``: canonical, details under ``data``;
* ``"payload"``: Compat, details under ``payload``;
* ``"flat"``: Compat, details at the top level (every key but the envelope keys);
* ``"system_message"``: Compat, ``{type:"system_message", data|payload:{event:<type>, ...}}``.

``run_id``, ``thread_id``, ``agent_name`` and ``tool_name`` (and ``message_id``, ``timestamp``) are
taken from the top level first, then from the details. In the Compat dialects ``payload`` and
``system_message`` such envelope keys found among the details are moved out of ``data``; a
canonical ``data`` object is kept exactly as received.

:class:`EventLog` is the thread-safe, append-only list of one connection's events; waits on it
wake on every append and on the close of the socket.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from acceptance.client.waiting import Deadline, WaitTimeout, category_of
from acceptance.verify.errors import ContractViolation

T = TypeVar("T")

__all__ = [
    "ENVELOPE_KEYS",
    "ID_KEYS",
    "AGENT_EVENT_TYPES",
    "TOOL_EVENT_TYPES",
    "TERMINAL_EVENT_TYPES",
    "CONTROL_EVENT_TYPES",
    "Event",
    "CloseInfo",
    "EventLog",
    "EventFilter",
    "normalize",
    "parse_frame",
    "compact",
    "describe_events",
    "of_run",
    "of_type",
    "of_agent",
    "after",
]

ID_KEYS = ("run_id", "thread_id", "agent_name", "tool_name")
ENVELOPE_KEYS = ("type", "message_id", "timestamp") + ID_KEYS

TERMINAL_EVENT_TYPES = frozenset({"agent_completed", "agent_error", "agent_stopped"})
TOOL_EVENT_TYPES = frozenset({"tool_executing", "tool_completed"})
AGENT_EVENT_TYPES = frozenset({"agent_started", "agent_thinking"}) | TOOL_EVENT_TYPES | TERMINAL_EVENT_TYPES
CONTROL_EVENT_TYPES = frozenset({"connection_established", "heartbeat", "pong"})

_WRAPPER_TYPE = "system_message"
_EXCERPT = 300


def _excerpt(text: str, limit: int = _EXCERPT) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _dump(obj: Any) -> str:
    try:
        return json.dumps(obj, ensure_ascii=False, default=repr, sort_keys=False)
    except (TypeError, ValueError):
        return repr(obj)


@dataclass(frozen=True)
class Event:
    """One server frame, normalised. ``raw`` keeps the frame exactly as received."""

    type: str
    data: dict
    message_id: str | None
    timestamp: str | None
    run_id: str | None
    thread_id: str | None
    agent_name: str | None
    tool_name: str | None
    raw: dict = field(repr=False, compare=False)
    received_at: float = field(compare=False)
    dialect: str = "data"

    def canonical(self) -> dict:
        """The frame in canonical form (what a contract-conforming server sends)."""
        out: dict[str, Any] = {
            "type": self.type,
            "message_id": self.message_id,
            "timestamp": self.timestamp,
            "data": self.data,
        }
        for key in ID_KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @property
    def execution_id(self) -> Any:
        return self.data.get("execution_id")

    @property
    def is_agent_event(self) -> bool:
        return self.type in AGENT_EVENT_TYPES

    @property
    def is_terminal(self) -> bool:
        return self.type in TERMINAL_EVENT_TYPES

    def compact(self) -> str:
        return compact(self)


def _short(value: Any, keep: int = 12) -> str:
    text = str(value)
    return text if len(text) <= keep else text[:keep] + "…"


def compact(event: Event, index: int | None = None) -> str:
    """One line naming a frame: position, type, agent, tool, execution, run, message id."""
    parts = []
    if index is not None:
        parts.append(f"#{index}")
    parts.append(event.type)
    if event.agent_name is not None:
        parts.append(f"agent={event.agent_name}")
    if event.tool_name is not None:
        parts.append(f"tool={event.tool_name}")
    if event.type in TOOL_EVENT_TYPES and "execution_id" in event.data:
        parts.append(f"exec={_short(event.data.get('execution_id'), 24)}")
    if event.type == "agent_thinking" and "progress_percentage" in event.data:
        parts.append(f"progress={event.data.get('progress_percentage')}")
    if event.type in ("error", "error_message", "agent_error"):
        code = event.data.get("code", event.data.get("error_code"))
        if code is not None:
            parts.append(f"code={code}")
    if event.run_id is not None:
        parts.append(f"run={_short(event.run_id)}")
    parts.append(f"id={event.message_id}")
    return " ".join(parts)


def describe_events(events: Sequence[Event], limit: int = 15, indexed: bool = True, start: int = 0) -> str:
    """The last ``limit`` events, one compact line each (with their arrival index)."""
    events = list(events)
    if not events:
        return "  (no frames)"
    shown = events[-limit:] if limit else events
    first = len(events) - len(shown)
    lines = []
    if first:
        lines.append(f"  ... {first} earlier frame(s) not shown")
    for i, ev in enumerate(shown, start=start + first):
        lines.append("  " + compact(ev, i if indexed else None))
    return "\n".join(lines)


# --------------------------------------------------------------------------- normalisation


def _pick(key: str, *sources: dict | None) -> Any:
    for src in sources:
        if isinstance(src, dict) and src.get(key) is not None:
            return src[key]
    return None


def normalize(frame: Any, received_at: float | None = None) -> Event:
    """Turn a parsed server frame, in any dialect of the contract, into an :class:`Event`.

    Raises :class:`ContractViolation` when the frame is not a JSON object or has no string ``type``.
    """
    if received_at is None:
        received_at = time.monotonic()
    if not isinstance(frame, dict):
        raise ContractViolation(
            f"server frame is not a JSON object but {type(frame).__name__}: {_excerpt(_dump(frame))}"
        )
    outer_type = frame.get("type")
    if not isinstance(outer_type, str) or not outer_type:
        raise ContractViolation(f"server frame has no string 'type': {_excerpt(_dump(frame))}")

    outer_rest = {k: v for k, v in frame.items() if k not in ENVELOPE_KEYS}
    inner: dict | None = None  # where details and misplaced ids may sit

    if outer_type == _WRAPPER_TYPE:
        if isinstance(frame.get("data"), dict):
            body = dict(frame["data"])
        elif isinstance(frame.get("payload"), dict):
            body = dict(frame["payload"])
        else:
            body = {k: v for k, v in outer_rest.items() if k not in ("data", "payload")}
        event_type = body.pop("event", None)
        if isinstance(event_type, str) and event_type:
            ev_type = event_type
            # {event, data|payload:{...}} (and possibly ids): details one level further down
            leftover = [k for k in body if k not in ENVELOPE_KEYS]
            if len(leftover) == 1 and leftover[0] in ("data", "payload") and isinstance(body[leftover[0]], dict):
                nested = dict(body[leftover[0]])
                for key in ENVELOPE_KEYS:
                    if key in body and key not in nested:
                        nested[key] = body[key]
                body = nested
        else:
            ev_type = outer_type  # a plain system message
        data = body
        inner = body
        dialect = "system_message"
    elif isinstance(frame.get("data"), dict):
        data = dict(frame["data"])
        inner = data
        dialect = "data"
    elif isinstance(frame.get("payload"), dict):
        data = dict(frame["payload"])
        inner = data
        dialect = "payload"
    else:
        data = dict(outer_rest)
        dialect = "flat"

    if dialect != "system_message":
        ev_type = outer_type
        if dialect != "flat" and ev_type == "error_message":
            # Netra's auth failure carries error_code & co. at the top level next to data/payload
            for key, value in outer_rest.items():
                if key not in ("data", "payload"):
                    data.setdefault(key, value)

    def ident(key: str) -> Any:  # top level first, then among the details
        return _pick(key, frame, inner)

    ids = {key: ident(key) for key in ENVELOPE_KEYS[1:]}
    if dialect in ("payload", "system_message"):
        # in Compat dialects, envelope keys found among the details belong to the envelope
        data = {k: v for k, v in data.items() if k not in ENVELOPE_KEYS}

    return Event(
        type=ev_type,
        data=data,
        message_id=ids["message_id"],
        timestamp=ids["timestamp"],
        run_id=ids["run_id"],
        thread_id=ids["thread_id"],
        agent_name=ids["agent_name"],
        tool_name=ids["tool_name"],
        raw=frame,
        received_at=received_at,
        dialect=dialect,
    )


def parse_frame(text: str | bytes, received_at: float | None = None) -> Event:
    """Decode one WebSocket text frame and normalise it; bad JSON is a :class:`ContractViolation`."""
    if received_at is None:
        received_at = time.monotonic()
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContractViolation(f"server frame is not UTF-8 ({exc}): {_excerpt(repr(bytes(text)))}") from None
    try:
        frame = json.loads(text)
    except (json.JSONDecodeError, ValueError) as exc:
        raise ContractViolation(f"server frame is not valid JSON ({exc}): {_excerpt(text)!r}") from None
    return normalize(frame, received_at)


# --------------------------------------------------------------------------- filters


class EventFilter:
    """A named function from a list of events to a sub-list; filters compose with ``&``.

    ``(of_run(r) & of_type("agent_completed")).first`` is a ready-made predicate for
    :meth:`EventLog.wait_for`.
    """

    def __init__(self, fn: Callable[[list[Event]], list[Event]], name: str):
        self._fn = fn
        self.name = name

    def __call__(self, events: Iterable[Event]) -> list[Event]:
        return self._fn(list(events))

    def __and__(self, other: "EventFilter") -> "EventFilter":
        return EventFilter(lambda evs: other(self(evs)), f"{self.name} & {other.name}")

    def first(self, events: Iterable[Event]) -> Event | None:
        selected = self(events)
        return selected[0] if selected else None

    def last(self, events: Iterable[Event]) -> Event | None:
        selected = self(events)
        return selected[-1] if selected else None

    def count(self, events: Iterable[Event]) -> int:
        return len(self(events))

    def __repr__(self) -> str:
        return f"<{self.name}>"


def of_run(run_id: str | None) -> EventFilter:
    """Events of that run."""
    return EventFilter(lambda evs: [e for e in evs if e.run_id == run_id], f"run {run_id}")


def of_type(*types: str) -> EventFilter:
    """Events of any of these types."""
    wanted = frozenset(types)
    return EventFilter(lambda evs: [e for e in evs if e.type in wanted], "type " + "|".join(types))


def of_agent(agent_name: str) -> EventFilter:
    """Events of that agent."""
    return EventFilter(lambda evs: [e for e in evs if e.agent_name == agent_name], f"agent {agent_name}")


def after(message_id: str | None) -> EventFilter:
    """Events that arrived after the (first) one with that message id.

    ``after(None)`` keeps every event; an id that is not among the events keeps none.
    """

    def select(evs: list[Event]) -> list[Event]:
        if message_id is None:
            return evs
        for i, ev in enumerate(evs):
            if ev.message_id == message_id:
                return evs[i + 1:]
        return []

    return EventFilter(select, f"after {message_id}")


# --------------------------------------------------------------------------- the log


@dataclass(frozen=True)
class CloseInfo:
    code: int | None
    reason: str
    at: float  # time.monotonic()

    def __str__(self) -> str:
        return f"code {self.code}" + (f" ({self.reason})" if self.reason else "")


class EventLog:
    """Thread-safe append-only list of the events of one connection."""

    def __init__(self, events: Iterable[Event] = ()):
        self._events: list[Event] = list(events)
        self._cond = threading.Condition(threading.RLock())
        self._closed: CloseInfo | None = None
        self._violations: list[ContractViolation] = []

    # -- writing (the reader thread)
    def add_violation(self, violation: ContractViolation) -> None:
        """A received frame broke the contract: every wait on this log fails with it from now on."""
        with self._cond:
            self._violations.append(violation)
            self._cond.notify_all()

    @property
    def violations(self) -> list[ContractViolation]:
        with self._cond:
            return list(self._violations)

    def append(self, event: Event) -> None:
        with self._cond:
            self._events.append(event)
            self._cond.notify_all()

    def extend(self, events: Iterable[Event]) -> None:
        with self._cond:
            self._events.extend(events)
            self._cond.notify_all()

    def mark_closed(self, code: int | None, reason: str = "") -> None:
        """Record that the socket closed; waits wake up. The first close wins."""
        with self._cond:
            if self._closed is None:
                self._closed = CloseInfo(code, reason or "", time.monotonic())
            self._cond.notify_all()

    # -- reading
    @property
    def closed(self) -> CloseInfo | None:
        with self._cond:
            return self._closed

    @property
    def is_closed(self) -> bool:
        return self.closed is not None

    def snapshot(self) -> list[Event]:
        with self._cond:
            return list(self._events)

    def __len__(self) -> int:
        with self._cond:
            return len(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.snapshot())

    def __getitem__(self, index):
        return self.snapshot()[index]

    def describe(self, limit: int = 15) -> str:
        events = self.snapshot()
        head = f"{len(events)} frame(s) received"
        closed = self.closed
        if closed is not None:
            head += f"; socket closed with {closed}"
        return head + ("; last ones:\n" if events else "") + (describe_events(events, limit) if events else "")

    def wait_for(
        self,
        predicate: Callable[[list[Event]], T | None | bool],
        timeout: float,
        description: str,
        *,
        category_cls: type | str = "Contract",
        fail_on_close: bool = True,
        settled: Callable[[list[Event]], str | None] | None = None,
    ) -> T:
        """Return the first truthy result of ``predicate(snapshot)``, re-evaluated on every append.

        Raises :class:`WaitTimeout` after ``timeout`` seconds. Once the socket is closed no frame can
        arrive any more, so a predicate still false then fails at once, naming the close code; a
        predicate about the close itself reads :attr:`closed` and becomes true (pass
        ``fail_on_close=False`` to keep waiting until the timeout regardless). ``settled(snapshot)``
        names the evidence, once the frames prove that the awaited outcome can no longer come (a
        terminal frame of another run in its place, say): the wait then fails at once with it.
        """
        deadline = Deadline(timeout)
        with self._cond:
            while True:
                if self._violations:  # a frame broke the contract: that is the verdict
                    raise self._violations[0]
                result = predicate(list(self._events))
                if result:
                    return result  # type: ignore[return-value]
                evidence = settled(list(self._events)) if settled is not None else None
                if evidence:
                    raise WaitTimeout(
                        f"{description} can no longer come, after {deadline.elapsed():.2f}s of {timeout:g}s: "
                        f"{evidence}; {self.describe()}",
                        category=category_of(category_cls),
                    )
                if fail_on_close and self._closed is not None:
                    raise WaitTimeout(
                        f"socket closed with {self._closed} while waiting for {description} "
                        f"(waited {deadline.elapsed():.2f}s of {timeout:g}s); {self.describe()}",
                        category=category_of(category_cls),
                    )
                remaining = deadline.remaining()
                if remaining <= 0:
                    raise WaitTimeout(
                        f"timed out after {timeout:g}s waiting for {description}; {self.describe()}",
                        category=category_of(category_cls),
                    )
                self._cond.wait(remaining)

    def wait_closed(self, timeout: float, description: str = "the socket to close",
                    category_cls: type | str = "Contract") -> CloseInfo:
        """Wait until :meth:`mark_closed` was called; returns the close code and reason."""
        return self.wait_for(lambda _evs: self._closed, timeout, description,
                             category_cls=category_cls, fail_on_close=False)
