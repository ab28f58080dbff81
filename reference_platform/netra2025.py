"""The ``netra-2025`` dialect: the WebSocket protocol Netra's published command-line client speaks
(``netra-zen`` 1.4.2, ``scripts/agent_cli.py``). Where that client and the contract disagree, this
dialect follows the client; ``contract/CONTRACT.md`` section 9 (N25-1..N25-13) lists every difference.

* Credentials: the sub-protocol entries ``jwt.<env>.<JWT>``, ``jwt-auth.<env>.<JWT>``,
  ``bearer.<env>.<JWT>``, ``staging-auth.<JWT>`` and the same without ``<env>`` (the raw JWT, not
  base64url); the contract's ``jwt.<base64url(JWT)>`` still counts. The server selects and echoes
  the first entry it can read (the last one under the ``subprotocol_echo_last`` variation).
* Handshake: after ``connection_established`` the server offers ``handshake_response`` (top-level
  ``thread_id``, ``run_id``, ``request_id``, ``timestamp``); the client answers
  ``handshake_acknowledged`` with that ``thread_id``, and the server confirms ``handshake_complete``.
  The offered thread is created when the first message names it; the first run in it carries the
  offered run id. The variations ``offered_thread_created_early``, ``offered_run_id_unused`` and
  ``client_run_id_adopted`` make the other conforming choices (CONTRACT.md N25-6, N25-7).
* Frames of agent runs and errors are flat (details at the top level, where the client reads them),
  tool output is ``output`` and an error's text is ``error``. Other frames keep the contract's form.
* A run sends one terminal frame, its own; sub-agents send ``agent_started`` but no terminal frame.
"""
from __future__ import annotations

import base64
import binascii
from typing import Any

from .ids import new_id

NAME = "netra-2025"
PREFIXES = ("jwt-auth.", "bearer.", "staging-auth.", "jwt.")
FLAT_TYPES = frozenset({"agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed",
                        "agent_error", "agent_stopped", "error"})
RENAMED = {"tool_completed": {"results": "output"}, "agent_error": {"message": "error"},
           "error": {"message": "error"}}
HANDSHAKE_ACK = "handshake_acknowledged"


def _looks_like_jwt(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 3 and all(parts[:2])


def subprotocol_token(entries: list[str], last: bool = False) -> tuple[str | None, str | None]:
    """(entry, jwt) of the first entry carrying a credential (the last one with ``last``, the
    ``subprotocol_echo_last`` variation: which readable entry is selected is the server's choice, N25-3);
    (None, None) when none does.

    An entry that has a known prefix but no readable token gives (entry, "") (malformed credentials)
    when no entry is readable.
    """
    malformed: str | None = None
    for entry in (reversed(entries) if last else entries):
        prefix = next((p for p in PREFIXES if entry.startswith(p)), None)
        if prefix is None:
            continue
        rest = entry[len(prefix):]
        if _looks_like_jwt(rest):
            return entry, rest
        head, _, tail = rest.partition(".")
        if prefix != "staging-auth." and head and _looks_like_jwt(tail):
            return entry, tail  # <env>.<JWT>; the env is not compared (as the claim is not)
        if prefix == "jwt." and rest and "." not in rest:
            try:  # the contract's form: base64url of the JWT
                token = base64.urlsafe_b64decode(rest + "=" * (-len(rest) % 4)).decode("ascii")
            except (binascii.Error, ValueError):
                token = ""
            if _looks_like_jwt(token):
                return entry, token
        malformed = malformed or entry
    return (malformed, "") if malformed else (None, None)


def render(canonical: dict[str, Any]) -> dict[str, Any]:
    """The frame as this dialect puts it on the wire."""
    if canonical["type"] not in FLAT_TYPES:
        return canonical
    out = {k: v for k, v in canonical.items() if k != "data"}
    renamed = RENAMED.get(canonical["type"], {})
    for key, value in canonical["data"].items():
        out.setdefault(renamed.get(key, key), value)
    return out


class Offer:
    """What the handshake offers one connection: a thread id and the id of its first run there."""

    def __init__(self, plain_uuids: bool = False):
        # the offered thread and run are a thread and a run like any other: their ids take the same form
        # (plain UUIDs under the uuid_ids variation)
        self.thread_id = new_id("thread", plain_uuids)
        self.run_id: str | None = new_id("run", plain_uuids, digits=24)
        self.request_id = new_id("req", plain_uuids, digits=16)
        self.acknowledged = False
        self.thread_created = False

    def response(self, timestamp: str) -> dict[str, Any]:
        return {"type": "handshake_response", "thread_id": self.thread_id, "run_id": self.run_id,
                "request_id": self.request_id, "timestamp": timestamp, "message": "Handshake complete"}

    def take_run_id(self, thread_id: Any) -> str | None:
        """The offered run id for the first run in the offered thread; None otherwise."""
        if thread_id != self.thread_id or self.run_id is None:
            return None
        run_id, self.run_id = self.run_id, None
        return run_id
