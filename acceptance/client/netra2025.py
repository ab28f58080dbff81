"""The ``netra-2025`` dialect on the client side: what the suite does differently when a target is declared
with ``platform_dialect=netra-2025`` (contract/CONTRACT.md section 9, clauses N25-1..N25-13; docs/netra-2025.md).

* :func:`subprotocol_entry`: the sub-protocol credential as Netra's client offers it (N25-3).
* :data:`HANDSHAKE_TYPES`, :func:`offer_problem`: the handshake after ``connection_established`` (N25-4).
* :func:`to_canonical`: flat frames with the client's field names back in the contract's form (N25-9, N25-10),
  so that every schema and rule of the contract applies to the rest.
* :func:`one_terminal_per_run`: whether run checks expect one terminal frame per run (N25-12) instead of one
  per agent.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from acceptance.client.events import Event

NAME = "netra-2025"
HANDSHAKE_TYPES = frozenset({"handshake_response", "handshake_complete"})
HANDSHAKE_ACK = "handshake_acknowledged"
# the client's field name -> the contract's, per frame type
CLIENT_FIELDS = {"tool_completed": {"output": "results"}, "agent_error": {"error": "message"},
                 "error": {"error": "message"}}
FLAT_TYPES = frozenset({"agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed",
                        "agent_error", "agent_stopped", "error"})
ANSWER_FIELDS = ("result", "final_response", "response")


def speaks(dialect: str | None) -> bool:
    return dialect == NAME


def one_terminal_per_run(dialect: str | None) -> bool:
    """True when a run sends one terminal frame, the top agent's, and sub-agents none (N25-12)."""
    return speaks(dialect)


def subprotocol_entry(token: str, environment: str) -> str:
    """The first entry Netra's client offers: ``jwt.<env>.<raw JWT>``."""
    return f"jwt.{environment}.{token}"


def to_canonical(event: Event) -> Event:
    """The event with the client's field names (``output``, ``error``) renamed to the contract's.

    The envelope name gets the suffix `` (netra-2025)``, so that :func:`wire_problem` knows the frame came
    from a target declared to speak this dialect."""
    data = event.data
    renames = CLIENT_FIELDS.get(event.type)
    if renames and event.dialect == "flat" and any(k in data for k in renames):
        data = {}
        for key, value in event.data.items():
            target = renames.get(key, key)
            if target != key and target in event.data:  # both present: keep each under its own name
                target = key
            data[target] = value
    return dataclasses.replace(event, data=data, dialect=f"{event.dialect} ({NAME})")


def wire_problem(event: Event) -> str | None:
    """Why Netra's client could not read this frame of a netra-2025 target (N25-8..N25-13); None when it
    can, or when the frame did not come from such a target."""
    if not event.dialect.endswith(f"({NAME})") or event.type not in FLAT_TYPES:
        return None
    raw = event.raw
    nested = next((k for k in ("data", "payload") if isinstance(raw.get(k), dict)), None)
    if nested is not None:
        return (f"N25-8: {event.type} carries its details under {nested!r}; Netra's client reads them at the "
                "top level")
    if event.type == "tool_completed" and "output" not in raw:
        return "N25-9: tool_completed carries no top-level output (the client reads output, then result)"
    if event.type == "agent_completed" and not any(k in raw for k in ANSWER_FIELDS):
        return "N25-13: agent_completed carries no top-level result, final_response or response"
    if event.type in ("error", "agent_error") and not isinstance(raw.get("error"), str):
        return f"N25-10: {event.type} carries no top-level error text"
    return None


def offer_problem(offer: Any) -> str | None:
    """Why a ``handshake_response`` does not follow N25-4; None when it does."""
    if not isinstance(offer, Event) or offer.type != "handshake_response":
        return f"expected handshake_response, got {getattr(offer, 'type', offer)!r}"
    raw = offer.raw
    missing = [k for k in ("thread_id", "run_id", "request_id", "timestamp")
               if not isinstance(raw.get(k), str) or not raw.get(k)]
    if missing:
        return f"handshake_response lacks the top-level {', '.join(missing)}: {str(raw)[:300]}"
    return None
