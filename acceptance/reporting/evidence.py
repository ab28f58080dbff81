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
        result = run.result
    except ContractViolation:  # the run gave no result
        return None
    cost = money.cost_part(result, run.agent)
    return cost if isinstance(cost, dict) and isinstance(cost.get("potential_savings"), dict) else None


def attach_scenario_evidence(reporting, world, redact: Callable[[Any], Any] = lambda value: value) -> None:
    """Attach a scenario's evidence to the running Allure test (``reporting`` is ``None`` in a dry run)."""
    if reporting is None:
        return
    runs: dict[str, tuple[str, Any]] = {}  # (who, run) for each run the actors saw, once, in order
    for session in world.all_chats():
        for run in session.runs.values():
            runs.setdefault(run.run_id, (session.actor, run))
    turns, savings = [], Decimal(0)
    for who, run in runs.values():
        short = run.run_id[-8:]
        svg = timeline_svg(run.events, f"{who}: {run.agent.replace('_', ' ')} run …{short}", started_at=run.sent_at)
        if svg:
            allure.attach(svg, f"Timeline: {who}, {run.agent} run …{short}", AttachmentType.SVG)
        if (cost := _cost_of(run)) is not None:
            allure.attach(savings_table_html(cost, who), f"Savings shown to {who} (run …{short})", AttachmentType.HTML)
            amount = cost["potential_savings"].get("monthly_amount")
            savings += money.amount(amount) or 0
        turns.append((who, run.request or "(a run started elsewhere)", answer_text(run.terminal)))
    if turns:
        allure.attach(conversation_text(turns), "Conversation", AttachmentType.TEXT)
    if savings:
        allure.dynamic.label(SAVINGS_LABEL, str(money.cents(savings)))
    for name, records in zip(("HTTP exchanges", "WebSocket transcript"), world.transcript.snapshot()):
        if records:
            allure.attach(json.dumps(redact(records), indent=2, ensure_ascii=False, default=str), name,
                          AttachmentType.JSON)
