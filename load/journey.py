"""The chat journey of one load user, and the frame accounting that tells lost and duplicated frames.

Framework-free (no Locust import): the locustfile turns :class:`JourneyOutcome` into Locust
metrics; the same code runs under pytest or a plain script. The chat itself is the suite's client
library (:class:`acceptance.client.chat.ChatSession` over ``websockets.sync.client``); under Locust's
gevent monkeypatching its reader thread is a greenlet.

Frame accounting, for one run (every frame carrying its ``run_id``):

* **live**: the frames of the run that the socket which started it received, in arrival order.
* **duplicated**: live frames whose ``message_id`` the same socket had already received for the
  run (``len(live) - len(unique live ids)``). The contract delivers each frame once per socket.
* **lost** (``--verify replay``, the default): after the run ended, a second socket of the same
  user sends ``resume_run`` with a ``last_message_id`` the platform never issued; by the contract
  (section 7) it replays every frame of the run. Lost = replayed ids the live socket never got.
  **unexpected** = live ids the replay does not contain; **out of order** = the live sequence of
  first arrivals differs from the replay's order (a run's frames are published in one order).
* **incomplete agents** (always): an agent of the run whose live frames do not begin with
  ``agent_started`` and end with exactly one terminal event (``agent_completed``/``agent_error``/
  ``agent_stopped``), or a tool pair left open. This alone (``--verify lifecycle``) misses a lost
  ``agent_thinking`` frame; the replay comparison does not. Against a ``netra-2025`` target
  (``platform_dialect``) a run sends one terminal frame, the top agent's; a sub-agent (its
  ``agent_started`` names a ``parent_agent``) is incomplete when it sends a terminal frame of its own
  (CONTRACT.md N25-12). The chat opens as the suite's actors open it, handshake included (N25-4).
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Sequence

from acceptance.client import netra2025
from acceptance.client.chat import ChatSession, Credential, RunRecord
from acceptance.client.events import TERMINAL_EVENT_TYPES, Event

DEFAULT_QUESTION = "How can my team cut its AI spend without hurting quality?"
VERIFY_MODES = ("replay", "lifecycle")


@dataclass
class FrameCheck:
    live: int = 0
    duplicated: int = 0
    replayed: int | None = None
    lost: int | None = None
    unexpected: int | None = None
    out_of_order: bool = False
    incomplete_agents: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return (not self.duplicated and not self.lost and not self.unexpected and not self.out_of_order
                and not self.incomplete_agents)

    def describe(self) -> str:
        parts = [f"{self.live} live frame(s)", f"{self.duplicated} duplicated"]
        if self.replayed is not None:
            parts += [f"{self.replayed} replayed", f"{self.lost} lost", f"{self.unexpected} unexpected"]
        if self.out_of_order:
            parts.append("live order differs from the replay")
        if self.incomplete_agents:
            parts.append("incomplete lifecycle: " + ", ".join(self.incomplete_agents))
        return "; ".join(parts)


def incomplete_agents(events: Sequence[Event], one_terminal_per_run: bool = False) -> list[str]:
    """Agents of one run whose frames do not form a complete lifecycle (see the module doc);
    ``one_terminal_per_run``: the netra-2025 rule, sub-agents send no terminal frame (N25-12)."""
    by_agent: dict[str, list[Event]] = {}
    for event in events:
        if event.is_agent_event:
            by_agent.setdefault(event.agent_name or "?", []).append(event)
    bad = []
    for agent, frames in by_agent.items():
        terminals = [e for e in frames if e.type in TERMINAL_EVENT_TYPES]
        open_tools: dict[Any, int] = {}
        for e in frames:
            if e.type == "tool_executing":
                open_tools[e.execution_id] = open_tools.get(e.execution_id, 0) + 1
            elif e.type == "tool_completed":
                open_tools[e.execution_id] = open_tools.get(e.execution_id, 0) - 1
        sub_agent = one_terminal_per_run and bool(frames[0].data.get("parent_agent"))
        ends_right = (not terminals) if sub_agent else (len(terminals) == 1 and frames[-1] is terminals[0])
        if frames[0].type != "agent_started" or not ends_right or any(open_tools.values()):
            bad.append(agent)
    return bad


def compare(live: Sequence[Event], replay: Sequence[Event] | None, one_terminal_per_run: bool = False) -> FrameCheck:
    """The frame accounting of one run: ``live`` as received, ``replay`` as resumed from the start."""
    live_ids = [e.message_id for e in live]
    first_seen: list[str | None] = []
    for mid in live_ids:
        if mid not in first_seen:
            first_seen.append(mid)
    check = FrameCheck(live=len(live), duplicated=len(live_ids) - len(first_seen),
                       incomplete_agents=incomplete_agents(live, one_terminal_per_run))
    if replay is not None:
        replay_ids = [e.message_id for e in replay]
        check.replayed = len(replay_ids)
        check.lost = len(set(replay_ids) - set(first_seen))
        check.unexpected = len(set(first_seen) - set(replay_ids))
        check.out_of_order = [m for m in replay_ids if m in set(first_seen)] != [m for m in first_seen
                                                                               if m in set(replay_ids)]
    return check


@dataclass
class JourneyOutcome:
    """Timings in seconds (``None``: the stage was not reached), the terminal frame and the frame check."""

    open_s: float | None = None
    first_event_s: float | None = None
    completion_s: float | None = None
    verify_s: float | None = None
    terminal: str | None = None
    check: FrameCheck | None = None
    failed_stage: str | None = None
    error: BaseException | None = None


class ChatJourney:
    """Open the chat, ask one question, wait for the answer, account for every frame."""

    def __init__(self, ws_url: str, access_token: str, *, question: str = DEFAULT_QUESTION,
                 agent: str | None = None, first_event_timeout: float = 5.0, run_timeout: float = 60.0,
                 verify: str = "replay", client_dialect: str = "payload", open_timeout: float = 10.0,
                 platform_dialect: str = "canonical", environment: str = "development"):
        if verify not in VERIFY_MODES:
            raise ValueError(f"verify must be one of {', '.join(VERIFY_MODES)}")
        self.ws_url, self.token, self.question, self.agent = ws_url, access_token, question, agent
        self.first_event_timeout, self.run_timeout, self.verify = first_event_timeout, run_timeout, verify
        self.client_dialect, self.open_timeout = client_dialect, open_timeout
        self.platform_dialect, self.environment = platform_dialect, environment

    def _session(self) -> ChatSession:
        """A chat as the suite's actors open it, in the target's dialect (netra-2025: with its handshake)."""
        return ChatSession(self.ws_url, Credential("bearer", self.token), client_dialect=self.client_dialect,
                           open_timeout=self.open_timeout, platform_dialect=self.platform_dialect,
                           environment=self.environment, contract_checks=False)

    def run(self) -> JourneyOutcome:
        outcome = JourneyOutcome()
        sessions: list[ChatSession] = []
        stage = "open chat"
        try:
            t0 = time.monotonic()
            live = self._session()
            sessions.append(live)
            live.open()
            outcome.open_s = time.monotonic() - t0
            stage = "first event"
            started = live.start(self.question, agent=self.agent, timeout=self.first_event_timeout)
            if not isinstance(started, RunRecord):
                raise RuntimeError(f"the question was refused: error {started.data.get('code')}")
            outcome.first_event_s = started.first_event_s
            stage = "completion"
            terminal = live.wait_for_end(started, self.run_timeout)
            outcome.completion_s = terminal.received_at - started.sent_at
            outcome.terminal = terminal.type
            if terminal.type != "agent_completed":
                raise RuntimeError(f"the run ended with {terminal.type} "
                                   f"({terminal.data.get('code') or terminal.data.get('reason') or 'no code'})")
            stage = "frame check"
            t1 = time.monotonic()
            replay = None
            if self.verify == "replay":
                replay = self._replay(started, sessions)
            outcome.check = compare(started.events, replay, netra2025.one_terminal_per_run(self.platform_dialect))
            outcome.verify_s = time.monotonic() - t1
        except BaseException as exc:  # noqa: BLE001 - reported as the stage's failure (GreenletExit re-raised)
            outcome.failed_stage, outcome.error = stage, exc
            if not isinstance(exc, Exception):
                raise
        finally:
            for session in sessions:
                try:
                    session.close()
                except Exception:  # noqa: BLE001 - closing a broken socket must not hide the outcome
                    pass
        return outcome

    def _replay(self, run: RunRecord, sessions: list[ChatSession]) -> list[Event]:
        """Every frame of the finished run, replayed on a second socket from an id never issued."""
        second = self._session()
        sessions.append(second)
        second.open()
        mark = len(second.log)
        second.resume(run.run_id, f"msg_never_issued_{uuid.uuid4().hex}")
        agent = run.agent

        def replayed_terminal_or_error(events: list[Event]):
            return next((e for e in events[mark:] if e.type == "error" or (
                e.run_id == run.run_id and e.agent_name == agent and e.type in TERMINAL_EVENT_TYPES)), None)

        end = second.wait_for(replayed_terminal_or_error, self.run_timeout,
                              f"the replay of run {run.run_id} up to its end")
        if end.type == "error":
            raise RuntimeError(f"resume_run of a finished run was refused: error {end.data.get('code')}")
        return [e for e in second.log.snapshot()[mark:] if e.run_id == run.run_id]
