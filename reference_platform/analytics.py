"""Usage analytics of the reference platform: summary, daily costs and anomalies, latency.

Pure functions of the records and a reference time ``now``, each linear in the number of
records (plus sorting the at most 31 days of the window, and latencies per model). The window,
costs and money rounding are those of :mod:`reference_platform.pricing`.
"""
from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .domain import UsageRecord
from .pricing import (
    PERIOD_DAYS,
    Sufficiency,
    data_sufficiency,
    exact,
    in_window,
    record_cost_exact,
    round_money,
    usd,
    utc_date,
)

__all__ = [
    "ANOMALY_FACTOR",
    "TAIL_FACTOR",
    "data_analysis",
    "data_sufficiency",
    "performance",
    "usage_summary",
    "weighted_percentile",
]

ANOMALY_FACTOR = 2
"""A day is an anomaly when its cost exceeds this multiple of the median day."""
TAIL_FACTOR = 2
"""A model needs attention when its p95 latency exceeds this multiple of its p50."""
TREND_TOLERANCE = 0.10
"""Relative change between the halves of the period below which the trend counts as steady."""

_NOT_ENOUGH = "Not enough usage data"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


# --------------------------------------------------------------------------- usage by model

@dataclass
class _ModelUsage:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = Decimal(0)


@exact
def _by_model(window: Sequence[UsageRecord]) -> tuple[list[dict[str, Any]], Decimal]:
    """Rows ``{model, requests, input_tokens, output_tokens, cost_usd}`` (token totals), sorted
    by cost, largest first (ties by model name), and the exact total cost."""
    usage: dict[str, _ModelUsage] = {}
    for record in window:
        row = usage.setdefault(record.model, _ModelUsage())
        row.requests += record.requests
        row.input_tokens += record.requests * record.input_tokens
        row.output_tokens += record.requests * record.output_tokens
        row.cost += record_cost_exact(record)
    models = sorted(usage, key=lambda model: (-usage[model].cost, model))
    rows = [
        {
            "model": model,
            "requests": usage[model].requests,
            "input_tokens": usage[model].input_tokens,
            "output_tokens": usage[model].output_tokens,
            "cost_usd": round_money(usage[model].cost),
        }
        for model in models
    ]
    return rows, sum((row.cost for row in usage.values()), Decimal(0))


def usage_summary(records: Iterable[UsageRecord], now: datetime) -> dict[str, Any]:
    """Body of ``GET /api/usage/summary``: ``{period_days, total_cost_usd, by_model}``."""
    rows, total = _by_model(in_window(records, now))
    return {"period_days": PERIOD_DAYS, "total_cost_usd": round_money(total), "by_model": rows}


# --------------------------------------------------------------------------- daily costs

def _trend(costs: Sequence[Decimal]) -> str:
    """Compare the mean daily cost of the later half of the days with the earlier half."""
    half = len(costs) // 2
    if half == 0:
        return "a single day gives no trend yet"
    early = float(sum(costs[:half], Decimal(0))) / half
    late = float(sum(costs[-half:], Decimal(0))) / half
    if early == 0:
        return "daily cost is rising" if late > 0 else "daily cost is steady"
    change = (late - early) / early
    if change > TREND_TOLERANCE:
        return f"daily cost is rising ({change:+.0%} from the first to the second half)"
    if change < -TREND_TOLERANCE:
        return f"daily cost is falling ({change:+.0%} from the first to the second half)"
    return "daily cost is steady"


def _anomaly_text(anomalies: list[dict[str, Any]], baseline: Decimal) -> str:
    typical = f"a typical {usd(baseline)} a day"
    if not anomalies:
        return f"no day stands out against {typical}."
    if len(anomalies) == 1:
        day = anomalies[0]
        return (
            f"1 day stands out: {day['date']} cost {usd(day['cost_usd'])} against {typical}."
        )
    listed = ", ".join(f"{day['date']} ({usd(day['cost_usd'])})" for day in anomalies)
    return f"{len(anomalies)} days stand out: {listed}, against {typical}."


@exact
def data_analysis(records: Iterable[UsageRecord], now: datetime) -> dict[str, Any]:
    """The ``data_analysis`` agent result: daily costs, usage by model and anomalous days.

    ``daily`` lists only days (UTC) with records, oldest first. The baseline is the median daily
    cost over those days; a day costing more than twice the baseline is an anomaly.
    """
    window = in_window(records, now)
    sufficiency: Sufficiency = data_sufficiency(window, now)
    by_model, total = _by_model(window)

    day_cost: dict[date, Decimal] = {}
    day_requests: dict[date, int] = {}
    for record in window:
        day = utc_date(record.timestamp)
        day_cost[day] = day_cost.get(day, Decimal(0)) + record_cost_exact(record)
        day_requests[day] = day_requests.get(day, 0) + record.requests
    days = sorted(day_cost)
    daily = [
        {"date": day.isoformat(), "cost_usd": round_money(day_cost[day]),
         "requests": day_requests[day]}
        for day in days
    ]

    anomalies: list[dict[str, Any]] = []
    if days:
        baseline: Decimal = statistics.median(day_cost[day] for day in days)
        anomalies = [
            {"date": day.isoformat(), "cost_usd": round_money(day_cost[day]),
             "baseline_usd": round_money(baseline)}
            for day in days
            if day_cost[day] > ANOMALY_FACTOR * baseline
        ]
        summary = (
            f"Analysed {_plural(len(days), 'day')} of usage costing {usd(total)}; "
            f"{_trend([day_cost[day] for day in days])}; "
            f"{_anomaly_text(anomalies, baseline)}"
        )
    else:
        summary = (
            f"{_NOT_ENOUGH}: there are no usage records in the last {PERIOD_DAYS} days, "
            "so there are no daily costs or anomalies to report yet."
        )
    return {
        "summary": summary,
        "period_days": PERIOD_DAYS,
        "data_sufficiency": sufficiency,
        "daily": daily,
        "by_model": by_model,
        "anomalies": anomalies,
    }


# --------------------------------------------------------------------------- latency

def weighted_percentile(samples: Sequence[tuple[float, int]], percent: float) -> float:
    """Weighted nearest-rank percentile of ``(value, weight)`` samples.

    The smallest value whose cumulative weight, in ascending order of value, reaches
    ``percent``/100 of the total weight. ``samples`` must hold a positive total weight.
    """
    ordered = sorted(samples)
    total = sum(weight for _, weight in ordered)
    if total <= 0:
        raise ValueError("weighted_percentile needs a positive total weight")
    threshold = Decimal(str(percent)) * total / 100
    cumulative = 0
    for value, weight in ordered:
        cumulative += weight
        if cumulative >= threshold:
            return value
    return ordered[-1][0]


def _ms(value: float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _ms_text(value: float) -> str:
    return f"{_ms(value):,.1f} ms"


def _latency_recommendation(model: str, p50: float, p95: float) -> dict[str, Any]:
    ratio = f"{p95 / p50:.1f} times" if p50 > 0 else "far above"
    return {
        "id": f"latency:{model}",
        "type": "latency",
        "title": f"Cut the latency tail on {model}",
        "model": model,
        "rationale": (
            f"On {model} the p95 latency is {_ms_text(p95)}, {ratio} its p50 of "
            f"{_ms_text(p50)}: one request in twenty waits much longer than usual. Look for "
            "oversized prompts or outputs, stream responses, and set a timeout with a retry."
        ),
        "p50_ms": _ms(p50),
        "p95_ms": _ms(p95),
    }


@exact
def performance(records: Iterable[UsageRecord], now: datetime) -> dict[str, Any]:
    """The ``performance_optimizer`` result: ``{summary, latency, recommendations}``.

    Per model, over the window's records that carry ``latency_ms``, p50 and p95 weighted by
    ``requests``. Latency rows are sorted by model name; a model whose p95 exceeds twice its p50
    gets a recommendation, the widest tail (p95/p50) first, ties by model name.
    """
    samples: dict[str, list[tuple[float, int]]] = {}
    for record in in_window(records, now):
        if record.latency_ms is not None and record.requests > 0:
            samples.setdefault(record.model, []).append((record.latency_ms, record.requests))

    latency: list[dict[str, Any]] = []
    tails: list[tuple[float, str, float, float]] = []
    for model in sorted(samples):
        p50 = weighted_percentile(samples[model], 50)
        p95 = weighted_percentile(samples[model], 95)
        latency.append({"model": model, "p50_ms": _ms(p50), "p95_ms": _ms(p95)})
        if p95 > TAIL_FACTOR * p50:
            tails.append((p95 / p50 if p50 > 0 else float("inf"), model, p50, p95))
    tails.sort(key=lambda tail: (-tail[0], tail[1]))
    recs = [_latency_recommendation(model, p50, p95) for _, model, p50, p95 in tails]

    if not samples:
        summary = (
            f"{_NOT_ENOUGH}: no request in the last {PERIOD_DAYS} days carries a latency "
            "measurement, so there is nothing to tune yet."
        )
    else:
        measured = sum(weight for rows in samples.values() for _, weight in rows)
        summary = (
            f"Measured latency on {_plural(len(samples), 'model')} across "
            f"{_plural(measured, 'request')}; "
        )
        if recs:
            names = ", ".join(rec["model"] for rec in recs)
            summary += (
                f"{_plural(len(recs), 'model')} {'has' if len(recs) == 1 else 'have'} a long "
                f"tail (p95 more than twice p50): {names}."
            )
        else:
            summary += "every model keeps its p95 within twice its p50, so no action is needed."
    return {"summary": summary, "latency": latency, "recommendations": recs}
