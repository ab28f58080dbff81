"""What each scenario leaves in the report: its HTTP exchanges and WebSocket transcript (redacted)."""
from __future__ import annotations

from typing import Any


def attach_scenario_evidence(writer, world) -> None:
    if writer is None:
        return
    http, ws = world.transcript.snapshot()
    if http:
        writer.attach_json("HTTP exchanges", http)
    if ws:
        writer.attach_json("WebSocket transcript", ws)
