"""What each scenario leaves in the report: for every agent run a timeline (SVG), for runs that gave
savings the table the user saw (HTML), the conversation (text), and the HTTP exchanges and
WebSocket transcript (JSON). Attached with ``allure.attach``; the results folder's file logger redacts
every attachment before writing it (the JSON evidence is redacted as data first, too)."""
from __future__ import annotations

import json
from typing import Any, Callable

import allure
from allure_commons.types import AttachmentType

from .visuals import answer_text, conversation_text, savings_table_html, timeline_svg

SAVINGS_LABEL = "savings_monthly_usd"


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _runs(world) -> list[tuple[str, Any]]:
    """(who, run) for each run the scenario's actors saw, once each, in order."""
    runs: dict[str, tuple[str, Any]] = {}
    for actor in world.actors.values():
        for session in actor.sessions:
            for run in session.runs.values():
                runs.setdefault(run.run_id, (actor.name, run))
    return list(runs.values())


def _cost_of(run) -> dict | None:
    terminal = run.terminal
    if terminal is None or terminal.type != "agent_completed":
        return None
    result = terminal.data.get("result")
    if not isinstance(result, dict):
        return None
    cost = result.get("cost_optimization") if run.agent == "supervisor" else result
    if isinstance(cost, dict) and isinstance(cost.get("potential_savings"), dict):
        return cost
    return None


def attach_scenario_evidence(reporting, world, redact: Callable[[Any], Any] = lambda value: value) -> None:
    """Attach a scenario's evidence to the running Allure test (``reporting`` is ``None`` when the run
    reports nothing, e.g. a dry run)."""
    if reporting is None:
        return
    turns, savings = [], 0.0
    for who, run in _runs(world):
        events = run.events
        short = run.run_id[-8:]
        svg = timeline_svg(events, f"{who}: {run.agent.replace('_', ' ')} run …{short}", started_at=run.sent_at)
        if svg:
            allure.attach(svg, f"Timeline: {who}, {run.agent} run …{short}", AttachmentType.SVG)
        cost = _cost_of(run)
        if cost is not None:
            allure.attach(savings_table_html(cost, who), f"Savings shown to {who} (run …{short})", AttachmentType.HTML)
            amount = cost["potential_savings"].get("monthly_amount")
            if isinstance(amount, (int, float)):
                savings += float(amount)
        turns.append((who, run.request or "(a run started elsewhere)", answer_text(run.terminal)))
    if turns:
        allure.attach(conversation_text(turns), "Conversation", AttachmentType.TEXT)
    if savings:
        allure.dynamic.label(SAVINGS_LABEL, f"{savings:.2f}")
    http, ws = world.transcript.snapshot()
    if http:
        allure.attach(_json(redact(http)), "HTTP exchanges", AttachmentType.JSON)
    if ws:
        allure.attach(_json(redact(ws)), "WebSocket transcript", AttachmentType.JSON)
