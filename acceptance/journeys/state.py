"""What a scenario holds between its steps, declared: nothing is kept under string keys.

``World`` (one per scenario) and ``Actor`` (one per person) in :mod:`acceptance.journeys.actors` hold
these records in named fields; the fields of each domain's steps are grouped here (``world.sign_in``,
``world.realtime``, ``world.isolation``, ``world.persistence``). Every class is a ``slots`` dataclass,
so a misspelt field fails at once with an ``AttributeError`` that names it, and
``tests/acceptance/test_scenario_state.py`` checks every field the steps and journeys read or write.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from acceptance.client.auth import TokenPair
from acceptance.client.chat import ChatSession, Handshake, RunRecord
from acceptance.client.events import Event
from acceptance.client.rest import Response

if TYPE_CHECKING:
    from acceptance.journeys.actors import Actor
    from acceptance.journeys.isolation import Burst, Flood, Probe


class PlatformHandle(Protocol):
    """The embedded platform a run started (``reference_platform.server.EmbeddedPlatform``)."""

    def restart(self) -> None: ...

    def stop(self) -> None: ...


# ---- kept per person (fields of Actor) ------------------------------------------------------------
@dataclass(slots=True)
class Device:
    """One of a person's devices ("her laptop"), as the steps name it."""

    tokens: TokenPair | None = None          # its own sign-in (sessions.feature)
    chat: ChatSession | None = None          # its chat connection (reconnection.feature)
    before_drop: list[Event] | None = None   # the run's frames it had received when its connection dropped


@dataclass(slots=True)
class ModelUsage:
    """What a person shared of one model: requests, and each latency measured (ms)."""

    requests: int = 0
    latencies: set[float] = field(default_factory=set)


@dataclass(slots=True)
class StartAttempt:
    """A request to start a run, and how the platform answered it: a run, or the error frame refusing it."""

    chat: ChatSession
    request: str
    agent: str | None
    outcome: RunRecord | Event

    @property
    def refused(self) -> bool:
        return not isinstance(self.outcome, RunRecord)


# ---- kept per scenario (fields of World) ----------------------------------------------------------
@dataclass(slots=True)
class SentFrame:
    """A frame a step sent by hand on a connection, for the steps that check what answered it."""

    chat: ChatSession
    mark: int                # how many frames the connection had received before it was sent
    what: str                # as the checks name it: "text that is not JSON", "a 65537-byte ping", …
    nonce: str | None = None  # the nonce of a ping
    size: int = 0            # its size in bytes, when that is the point (an oversize frame) …
    limit: int = 0           # … and the size limit the platform announced


@dataclass(slots=True)
class HeldToken:
    """A token someone holds and presents (token_rules.feature)."""

    token: str
    presenter: str  # whose connection presents it (its owner, or "Stranger")
    what: str       # how the checks name it: "a token for Alice with a wrong signature"


@dataclass(slots=True)
class ExpiringChat:
    """A chat opened with a short-lived token, and that token."""

    chat: ChatSession
    token: str


@dataclass(slots=True)
class SignInState:
    """``world.sign_in``: sign-in attempts and what the handshake and token steps hold."""

    attempts: list[Response] = field(default_factory=list)  # several sign-in attempts in a row
    held: HeldToken | None = None
    expiring: ExpiringChat | None = None
    ticket: str | None = None          # a chat ticket asked for
    handshake: Handshake | None = None  # the last handshake someone attempted


@dataclass(slots=True)
class RealtimeState:
    """``world.realtime``: the crowd, and questions asked one after another."""

    crowd: list[Actor] = field(default_factory=list)
    sequence: list[RunRecord] = field(default_factory=list)


@dataclass(slots=True)
class IsolationState:
    """``world.isolation``: an attempt on another person's resource, and one person's flood of questions."""

    probe: Probe | None = None
    burst: Burst | None = None
    flood: Flood | None = None


@dataclass(slots=True)
class PersistenceState:
    """``world.persistence``: which thread "that thread" is, and what several windows or pages showed."""

    focus: Actor | None = None  # whose thread "that thread" is: ``focus.thread``
    windows: dict[str, list[RunRecord]] = field(default_factory=dict)  # the runs each chat window saw
    questions: list[str] = field(default_factory=list)  # the questions asked in those windows
    pages: list[dict] = field(default_factory=list)     # the thread pages a person read …
    reader: Actor | None = None                          # … and who read them
