"""What each scenario leaves in the report: per agent run a timeline (SVG) and, when it gave savings, the
table the user saw (HTML); the conversation (text); the HTTP exchanges and WebSocket transcript (JSON,
redacted as data; the results folder's file logger redacts every attachment again)."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Callable

import allure
from allure_commons.types import AttachmentType

from acceptance.reporting.visuals import answer_text, conversation_text, savings_table_html, timeline_svg
from acceptance.verify import money
from acceptance.verify.errors import ContractViolation

SAVINGS_LABEL = "savings_monthly_usd"


def _cost_of(run) -> dict | None:
    try:
        cost = money.cost_part(run.result, run.agent)
    except ContractViolation:  # the run gave no result
        return None
    return cost if isinstance(cost, dict) and isinstance(cost.get("potential_savings"), dict) else None


def attach_scenario_evidence(world, redact: Callable[[Any], Any] = lambda value: value) -> None:
    """Attach a scenario's evidence to the running Allure test (with no reporting registered, to nothing)."""
    turns, savings = [], Decimal(0)
    for who, run in world.runs_seen().values():
        short = run.run_id[-8:]
        svg = timeline_svg(run.events, f"{who}: {run.agent.replace('_', ' ')} run …{short}", started_at=run.sent_at)
        if svg:
            allure.attach(svg, f"Timeline: {who}, {run.agent} run …{short}", AttachmentType.SVG)
        if (cost := _cost_of(run)) is not None:
            allure.attach(savings_table_html(cost, who), f"Savings shown to {who} (run …{short})", AttachmentType.HTML)
            savings += money.Savings.of(cost).monthly or 0
        turns.append((who, run.request or "(a run started elsewhere)", answer_text(run.terminal)))
    if turns:
        allure.attach(conversation_text(turns), "Conversation", AttachmentType.TEXT)
    if savings:
        allure.dynamic.label(SAVINGS_LABEL, str(money.cents(savings)))
    for name, records in zip(("HTTP exchanges", "WebSocket transcript"), world.transcript.snapshot()):
        if records:
            allure.attach(json.dumps(redact(records), indent=2, ensure_ascii=False, default=str), name,
                          AttachmentType.JSON)
