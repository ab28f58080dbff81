"""Views a product owner reads in the report: a run's timeline (SVG), the savings table the user
saw (HTML) and the conversation (text). Pure functions of events and results."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from html import escape
from typing import Any, Sequence

from acceptance.client.events import Event
from acceptance.verify import money

TERMINALS = {"agent_completed": ("completed", "#2e7d32"), "agent_error": ("error", "#c62828"),
             "agent_stopped": ("stopped", "#ef6c00")}
LANE, LEFT, RIGHT, TOP, WIDTH = 44, 170, 24, 46, 960
LABEL_CHAR_WIDTH, LABEL_GAP = 5.2, 4  # font-size 9: a generous average glyph width, and air between labels


def label_width(text: str) -> float:
    return len(text) * LABEL_CHAR_WIDTH


def place_label(rows: list[float], x: float, text: str) -> int | None:
    """The first label row (0: above the tool bar, 1: below it) where ``text`` at ``x`` clears the labels
    already placed; ``None`` when neither does (the bar's tooltip still names the tool)."""
    for row, free_from in enumerate(rows):
        if x >= free_from:
            rows[row] = x + label_width(text) + LABEL_GAP
            return row
    return None


def _x(t: float, t0: float, span: float) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * ((t - t0) / span if span > 0 else 0.0)


def timeline_svg(events: Sequence[Event], title: str = "", started_at: float | None = None) -> str:
    """One lane per agent; the agent's span as a light bar, thinking as ticks, tool pairs as labelled
    bars, the terminal event marked; time since the request on the axis (milliseconds)."""
    agent_events = [e for e in events if e.agent_name]
    if not agent_events:
        return ""
    t0 = started_at if started_at is not None else agent_events[0].received_at
    t_end = max(e.received_at for e in agent_events)
    span = max(t_end - t0, 0.001)
    agents: list[str] = []
    for e in agent_events:
        if e.agent_name not in agents:
            agents.append(e.agent_name)
    height = TOP + LANE * len(agents) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="Helvetica, Arial, sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
           f'<text x="12" y="20" font-size="14" font-weight="bold">{escape(title or "Agent run")}</text>',
           f'<text x="12" y="36" fill="#555">{len(agent_events)} events over {span * 1000:.0f} ms '
           f'since the request</text>']
    for lane, agent in enumerate(agents):
        y = TOP + lane * LANE
        mine = [e for e in agent_events if e.agent_name == agent]
        fill = "#f5f7fa" if lane % 2 == 0 else "#ffffff"
        out.append(f'<rect x="0" y="{y}" width="{WIDTH}" height="{LANE}" fill="{fill}"/>')
        out.append(f'<text x="12" y="{y + 21}" class="lane">{escape(agent.replace("_", " "))}</text>')
        start = next((e for e in mine if e.type == "agent_started"), mine[0])
        end = next((e for e in mine if e.type in TERMINALS), mine[-1])
        x1, x2 = _x(start.received_at, t0, span), _x(end.received_at, t0, span)
        out.append(f'<rect x="{x1:.1f}" y="{y + 9}" width="{max(x2 - x1, 2):.1f}" height="16" rx="3" '
                   f'fill="#bbdefb" class="agent-span"><title>{escape(agent)}: '
                   f'{(end.received_at - start.received_at) * 1000:.0f} ms</title></rect>')
        pending: dict[Any, Event] = {}
        label_rows = [float("-inf"), float("-inf")]
        for e in mine:
            x = _x(e.received_at, t0, span)
            if e.type == "agent_thinking":
                reasoning = escape(str(e.data.get("reasoning", ""))[:120])
                out.append(f'<line x1="{x:.1f}" y1="{y + 7}" x2="{x:.1f}" y2="{y + 27}" stroke="#5c6bc0" '
                           f'stroke-width="2"><title>thinking {e.data.get("progress_percentage", "")}%: '
                           f'{reasoning}</title></line>')
            elif e.type == "tool_executing":
                pending[e.data.get("execution_id")] = e
            elif e.type == "tool_completed":
                begin = pending.pop(e.data.get("execution_id"), e)
                bx = _x(begin.received_at, t0, span)
                label = escape(e.tool_name or "tool")
                out.append(f'<rect x="{bx:.1f}" y="{y + 12}" width="{max(x - bx, 3):.1f}" height="10" '
                           f'fill="#ff8f00" class="tool-pair"><title>{label}: '
                           f'{(e.received_at - begin.received_at) * 1000:.0f} ms</title></rect>')
                row = place_label(label_rows, bx, e.tool_name or "tool")
                if row is not None:
                    out.append(f'<text x="{bx:.1f}" y="{y + (8 if row == 0 else 33)}" font-size="9" fill="#8d5100" '
                               f'class="tool-label">{label}</text>')
            elif e.type in TERMINALS:
                word, colour = TERMINALS[e.type]
                out.append(f'<circle cx="{x:.1f}" cy="{y + 17}" r="6" fill="{colour}" class="terminal">'
                           f'<title>{word}</title></circle>')
        for begin in pending.values():  # an executing tool without completion: mark it open-ended
            bx = _x(begin.received_at, t0, span)
            out.append(f'<rect x="{bx:.1f}" y="{y + 12}" width="{WIDTH - RIGHT - bx:.1f}" height="10" '
                       f'fill="none" stroke="#c62828" stroke-dasharray="3,2"><title>{escape(begin.tool_name or "")}'
                       f': no tool_completed</title></rect>')
    axis_y = TOP + LANE * len(agents) + 12
    out.append(f'<line x1="{LEFT}" y1="{axis_y}" x2="{WIDTH - RIGHT}" y2="{axis_y}" stroke="#333"/>')
    for i in range(6):
        t = span * i / 5
        x = _x(t0 + t, t0, span)
        out.append(f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 5}" stroke="#333"/>')
        out.append(f'<text x="{x:.1f}" y="{axis_y + 18}" text-anchor="middle" fill="#333">{t * 1000:.0f} ms</text>')
    out.append("</svg>")
    return "".join(out)


def _usd(value: Any) -> str:
    return escape(money.usd(value, otherwise=str))


def _action(kind: Any) -> str:
    lever = money.LEVER.get(kind)
    return lever.headline if lever else str(kind)


def savings_table_html(cost: dict[str, Any], who: str = "") -> str:
    """The savings the user was shown: one row per recommendation, then the totals in one row.

    Compact on purpose: Allure shows an HTML attachment in an iframe of the browser's default height
    (150 px) and the page's width, so the heading, the table and its totals fit there for up to three
    recommendations, and the table wraps instead of running off to the right."""
    recs = cost.get("recommendations") or []
    potential = cost.get("potential_savings") or {}
    current = (cost.get("cost_analysis") or {}).get("current_monthly_cost_usd")
    rows = "".join(
        f"<tr><td>{escape(str(r.get('title', '')))}</td><td>{escape(str(r.get('model', '')))}"
        + (f" → {escape(str(r['target_model']))}" if r.get("target_model") else "")
        + f"</td><td>{escape(_action(r.get('type')))}</td>"
        f"<td class='money'>{_usd(r.get('monthly_savings_usd'))}</td></tr>" for r in recs)
    if not rows:
        rows = "<tr><td colspan='4'><em>No recommendation: " + escape(str(cost.get("summary", ""))) + "</em></td></tr>"
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Savings</title><style>"
            "html,body{margin:0;padding:0}body{font:11px/1.25 Helvetica,Arial,sans-serif;color:#222;padding:3px}"
            "p{margin:0 0 4px}table{border-collapse:collapse;width:100%}"
            "th,td{border:1px solid #ccc;padding:1px 5px;overflow-wrap:anywhere}"
            "td:nth-child(2),td:nth-child(3){white-space:nowrap}"
            "th{background:#eef2f7;text-align:left}td.money{text-align:right;white-space:nowrap;"
            "font-variant-numeric:tabular-nums}tfoot td{font-weight:bold;background:#f7f9fb}</style></head><body>"
            f"<p><strong>Savings {('shown to ' + escape(who)) if who else 'shown'}</strong> · current AI spend "
            f"<strong>{_usd(current)}</strong> a month · data: {escape(str(cost.get('data_sufficiency', '')))}</p>"
            "<table id='savings'><thead><tr><th>Recommendation</th><th>Model</th><th>Action</th>"
            "<th>Monthly saving</th></tr></thead><tbody>" + rows + "</tbody><tfoot>"
            f"<tr><td colspan='3'>Total a month · a year {_usd(potential.get('annual_amount'))} · "
            f"{escape(str(potential.get('percentage', '')))} % of current spend</td>"
            f"<td class='money'>{_usd(potential.get('monthly_amount'))}</td></tr>"
            "</tfoot></table></body></html>")


def answer_text(terminal: Event | None) -> str:
    """What the user was answered: the summary of a completed run, else how the run ended."""
    if terminal is None:
        return "(no answer: the run had not ended)"
    if terminal.type == "agent_completed":
        result = terminal.data.get("result")
        return str(result.get("summary", "")) if isinstance(result, dict) else ""
    return f"({terminal.type.replace('_', ' ')}: {terminal.data.get('message') or terminal.data.get('reason', '')})"


def conversation_text(turns: Sequence[tuple[str, str, str]]) -> str:
    """``(who, request, answer)`` turns as a readable transcript."""
    lines = []
    for who, request, answer in turns:
        lines.append(f"{who}: {request}")
        lines.append(f"Assistant: {answer}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def markdown_as_text(markdown: str) -> str:
    """The summary's Markdown as plain text: headings underlined, tables in aligned columns, no ``**``."""
    out: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))] if table else []
        out.extend("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table)
        table.clear()
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [c.strip().replace("**", "") for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-:") for c in cells):
                table.append(cells)
            continue
        flush()
        level = len(line) - len(line.lstrip("#"))
        text = line.lstrip("#").strip().replace("**", "")
        out.extend([text, ("=" if level == 1 else "-") * len(text)] if level else [text])
    flush()
    return "\n".join(out) + "\n"


def summary_markdown(environment: dict[str, str], by_epic: dict[str, list[int]],
                     failures: dict[str, list[tuple[str, str, str]]], savings: Decimal, savings_scenarios: int,
                     slowest: list[tuple[float, str, str]]) -> str:
    """The run's summary (``reports/summary.md``): verdict, savings, journeys, failures, slowest."""
    passed, failed = sum(v[0] for v in by_epic.values()), sum(v[1] for v in by_epic.values())
    env = environment
    lines = ["# Acceptance run summary", "",
             f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · target: {env.get('target', 'unknown')}"
             f" · platform {env.get('platform.version', '?')} · suite {env.get('suite.version', '?')}"
             + (f" ({env['suite.commit']})" if env.get("suite.commit") else ""), "",
             f"**{'PASSED' if failed == 0 and passed else 'FAILED'}**: {passed} scenarios passed, {failed} failed.", "",
             "## Business value demonstrated", "",
             f"{money.usd(savings)} a month of savings shown to users in {savings_scenarios} passing scenario(s)"
             if savings_scenarios else "No passing scenario showed savings.", "",
             "## Journeys", "", "| journey | passed | failed |", "|---|---:|---:|"]
    lines += [f"| {epic} | {ok} | {bad} |" for epic, (ok, bad) in sorted(by_epic.items())]
    lines += ["", "## Failures by category", ""] + ([] if failures else ["None.", ""])
    for category, items in failures.items():
        lines += [f"### {category} ({len(items)})", ""] + [f"- **{t}** ({e}): {why}" for t, e, why in items] + [""]
    lines += ["## Slowest journeys", "", "| seconds | scenario | journey |", "|---:|---|---|"]
    lines += [f"| {seconds:.2f} | {title} | {epic} |" for seconds, title, epic in slowest]
    return "\n".join(lines) + "\n"
