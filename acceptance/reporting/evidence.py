"""What each scenario leaves in the report: for every agent run a timeline (SVG), for runs that gave
savings the table the user saw (HTML), the conversation (text), and the HTTP exchanges and
WebSocket transcript (JSON). The writer redacts every attachment before writing it."""
from __future__ import annotations

from typing import Any

import allure

from .visuals import conversation_text, savings_table_html, timeline_svg

SAVINGS_LABEL = "savings_monthly_usd"


def _runs(world) -> list[tuple[str, Any]]:
    seen, runs = set(), []
    for actor in world.actors.values():
        for session in actor.sessions:
            for run in session.runs.values():
                if run.run_id not in seen:
                    seen.add(run.run_id)
                    runs.append((actor.name, run))
    return runs


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


def attach_scenario_evidence(writer, world) -> None:
    if writer is None:
        return
    turns, savings = [], 0.0
    for who, run in _runs(world):
        events = run.events
        short = run.run_id[-8:]
        svg = timeline_svg(events, f"{who}: {run.agent.replace('_', ' ')} run …{short}", started_at=run.sent_at)
        if svg:
            writer.attach_svg(f"Timeline: {who}, {run.agent} run …{short}", svg)
        cost = _cost_of(run)
        if cost is not None:
            writer.attach_html(f"Savings shown to {who} (run …{short})", savings_table_html(cost, who))
            amount = cost["potential_savings"].get("monthly_amount")
            if isinstance(amount, (int, float)):
                savings += float(amount)
        terminal = run.terminal
        if terminal is None:
            answer = "(no answer: the run had not ended)"
        elif terminal.type == "agent_completed":
            result = terminal.data.get("result")
            answer = str(result.get("summary", "")) if isinstance(result, dict) else ""
        else:
            answer = f"({terminal.type.replace('_', ' ')}: {terminal.data.get('message') or terminal.data.get('reason', '')})"
        turns.append((who, run.request or "(a run started elsewhere)", answer))
    if turns:
        writer.attach_text("Conversation", conversation_text(turns))
    if savings:
        allure.dynamic.label(SAVINGS_LABEL, f"{savings:.2f}")
    http, ws = world.transcript.snapshot()
    if http:
        writer.attach_json("HTTP exchanges", http)
    if ws:
        writer.attach_json("WebSocket transcript", ws)
