"""Usage analytics: summary totals, data sufficiency, daily costs and anomalies, latency."""
from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_platform.analytics import (
    data_analysis,
    data_sufficiency,
    performance,
    usage_summary,
    weighted_percentile,
)
from reference_platform.domain import UsageRecord

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=timezone.utc)


def rec(
    model: str = "gpt-4o",
    *,
    requests: int = 1,
    input_tokens: int = 0,
    output_tokens: int = 0,
    at: datetime | None = None,
    age: timedelta = timedelta(hours=1),
    latency_ms: float | None = None,
) -> UsageRecord:
    return UsageRecord(
        timestamp=at or NOW - age,
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        requests=requests,
        latency_ms=latency_ms,
    )


def dollars_on(day: int, amount: int) -> UsageRecord:
    """``amount`` dollars of gpt-4o output on 2026-11-``day`` (100 requests × 1,000 tokens = $1)."""
    return rec(requests=100 * amount, output_tokens=1_000,
               at=datetime(2026, 11, day, 9, 0, tzinfo=timezone.utc))


# --------------------------------------------------------------------------- usage summary

def test_usage_summary_reports_token_totals_sorted_by_cost():
    records = [
        # gpt-4o: 100 × (1,000 × 2.50 + 200 × 10.00) / 1e6 = 0.45
        rec("gpt-4o", requests=100, input_tokens=1_000, output_tokens=200),
        # gpt-4o: 50 × (400 × 2.50 + 100 × 10.00) / 1e6 = 0.10
        rec("gpt-4o", requests=50, input_tokens=400, output_tokens=100, age=timedelta(days=3)),
        # claude-sonnet-4: 1,000 × (1,000 × 3.00 + 100 × 15.00) / 1e6 = 4.50
        rec("claude-sonnet-4", requests=1_000, input_tokens=1_000, output_tokens=100),
        # outside the window
        rec("gpt-4o", requests=9, input_tokens=9, output_tokens=9, age=timedelta(days=40)),
    ]
    assert usage_summary(records, NOW) == {
        "period_days": 30,
        "total_cost_usd": 5.05,
        "by_model": [
            {"model": "claude-sonnet-4", "requests": 1_000, "input_tokens": 1_000_000,
             "output_tokens": 100_000, "cost_usd": 4.5},
            # 100 × 1,000 + 50 × 400 = 120,000 input; 100 × 200 + 50 × 100 = 25,000 output
            {"model": "gpt-4o", "requests": 150, "input_tokens": 120_000,
             "output_tokens": 25_000, "cost_usd": 0.55},
        ],
    }


def test_usage_summary_without_records():
    assert usage_summary([], NOW) == {"period_days": 30, "total_cost_usd": 0.0, "by_model": []}


# --------------------------------------------------------------------------- sufficiency

def _on_days(count: int, per_day: int = 1) -> list[UsageRecord]:
    return [rec(age=timedelta(days=d, hours=h)) for d in range(count) for h in range(per_day)]


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([], "insufficient"),
        ([rec(age=timedelta(days=31))], "insufficient"),
        (_on_days(1), "partial"),
        (_on_days(6, per_day=5), "partial"),
        (_on_days(7), "sufficient"),
        (_on_days(30), "sufficient"),
    ],
    ids=["none", "only-old", "one-day", "six-days", "seven-days", "thirty-days"],
)
def test_data_sufficiency_thresholds(records, expected):
    assert data_sufficiency(records, NOW) == expected


def test_sufficiency_counts_utc_days():
    eastern = timezone(timedelta(hours=-5))
    # 20:00 and 22:00 in New York on one local day fall on two UTC days (01:00 and 03:00 next day)
    local = [rec(at=datetime(2026, 11, 10, hour, tzinfo=eastern)) for hour in (18, 20, 22)]
    days = {r["date"] for r in data_analysis(local, NOW)["daily"]}
    assert days == {"2026-11-10", "2026-11-11"}


# --------------------------------------------------------------------------- daily costs

def test_daily_costs_list_days_with_records_in_order():
    records = [dollars_on(12, 3), dollars_on(3, 2), dollars_on(12, 1), dollars_on(7, 4)]
    result = data_analysis(records, NOW)
    assert result["daily"] == [
        {"date": "2026-11-03", "cost_usd": 2.0, "requests": 200},
        {"date": "2026-11-07", "cost_usd": 4.0, "requests": 400},
        {"date": "2026-11-12", "cost_usd": 4.0, "requests": 400},
    ]
    assert result["period_days"] == 30
    assert result["data_sufficiency"] == "partial"
    assert result["by_model"] == usage_summary(records, NOW)["by_model"]


def test_a_day_above_twice_the_median_is_an_anomaly():
    # daily costs 10, 10, 10, 10, 25: median 10, 25 > 2 × 10
    records = [dollars_on(day, 10) for day in (1, 2, 3, 4)] + [dollars_on(5, 25)]
    result = data_analysis(records, NOW)
    assert result["anomalies"] == [{"date": "2026-11-05", "cost_usd": 25.0, "baseline_usd": 10.0}]
    summary = result["summary"]
    assert "5 days" in summary and "$65.00" in summary
    assert "2026-11-05" in summary and "$25.00" in summary and "$10.00" in summary


def test_a_day_at_exactly_twice_the_median_is_not_an_anomaly():
    records = [dollars_on(day, 10) for day in (1, 2, 3, 4)] + [dollars_on(5, 20)]
    result = data_analysis(records, NOW)
    assert result["anomalies"] == []
    assert "no day stands out" in result["summary"]


def test_median_of_an_even_number_of_days_is_the_mean_of_the_middle_two():
    # daily costs 10, 10, 30, 50: median (10 + 30) / 2 = 20; only 50 > 40
    records = [dollars_on(1, 10), dollars_on(2, 10), dollars_on(3, 30), dollars_on(4, 50)]
    anomalies = data_analysis(records, NOW)["anomalies"]
    assert anomalies == [{"date": "2026-11-04", "cost_usd": 50.0, "baseline_usd": 20.0}]


def test_summary_names_the_trend():
    rising = [dollars_on(day, cost) for day, cost in ((1, 10), (2, 10), (3, 15), (4, 15))]
    falling = [dollars_on(day, cost) for day, cost in ((1, 15), (2, 15), (3, 10), (4, 10))]
    steady = [dollars_on(day, 10) for day in (1, 2, 3, 4)]
    assert "rising" in data_analysis(rising, NOW)["summary"]
    assert "falling" in data_analysis(falling, NOW)["summary"]
    assert "steady" in data_analysis(steady, NOW)["summary"]


def test_data_analysis_without_records():
    result = data_analysis([rec(age=timedelta(days=45))], NOW)
    assert result["data_sufficiency"] == "insufficient"
    assert result["daily"] == result["by_model"] == result["anomalies"] == []
    assert "not enough usage data" in result["summary"].lower()


def test_data_analysis_is_linear_enough_for_large_data_sets():
    records = [rec(requests=1 + i % 7, input_tokens=i % 997, output_tokens=i % 89,
                   age=timedelta(minutes=i % 40_000)) for i in range(50_000)]
    started = time.perf_counter()
    result = data_analysis(records, NOW)
    assert time.perf_counter() - started < 5
    assert len(result["daily"]) == 29  # 2026-10-18 .. 2026-11-15


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 15), st.integers(1, 500)), max_size=40))
def test_daily_costs_add_up_and_anomalies_follow_the_rule(entries):
    records = [dollars_on(day, amount) for day, amount in entries]
    result = data_analysis(records, NOW)
    daily = result["daily"]
    assert [d["date"] for d in daily] == sorted({d["date"] for d in daily})
    assert sum(d["cost_usd"] for d in daily) == pytest.approx(sum(a for _, a in entries))
    assert sum(d["requests"] for d in daily) == sum(100 * a for _, a in entries)
    costs = sorted(d["cost_usd"] for d in daily)
    if costs:
        median = (costs[(len(costs) - 1) // 2] + costs[len(costs) // 2]) / 2
        expected = [d["date"] for d in daily if d["cost_usd"] > 2 * median]
        assert [a["date"] for a in result["anomalies"]] == expected
        assert all(a["baseline_usd"] == median for a in result["anomalies"])


# --------------------------------------------------------------------------- latency

def test_weighted_percentile_follows_request_weights():
    # 1 request at 100 ms, 99 at 200 ms: the median request took 200 ms
    assert weighted_percentile([(100.0, 1), (200.0, 99)], 50) == 200.0
    # 90 requests at 100 ms, 10 at 1,000 ms: 90 < 95, so p95 = 1,000 ms
    assert weighted_percentile([(1000.0, 10), (100.0, 90)], 95) == 1000.0
    # cumulative weight reaching the threshold exactly picks that value: 50 ≥ 50 % of 100
    assert weighted_percentile([(100.0, 50), (300.0, 50)], 50) == 100.0
    assert weighted_percentile([(7.0, 3)], 0) == 7.0
    with pytest.raises(ValueError):
        weighted_percentile([], 50)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5_000).map(float), st.integers(1, 20)), min_size=1,
             max_size=30),
    st.sampled_from([1, 50, 90, 95, 99, 100]),
)
def test_weighted_percentile_equals_nearest_rank_of_the_expanded_list(samples, percent):
    expanded = sorted(value for value, weight in samples for _ in range(weight))
    rank = max(1, math.ceil(percent / 100 * len(expanded)))
    assert weighted_percentile(samples, percent) == expanded[rank - 1]


def test_performance_recommends_action_for_a_long_tail():
    records = [
        # gpt-4o: 90 requests at 100 ms, 10 at 1,000 ms → p50 100, p95 1,000 > 2 × 100
        rec("gpt-4o", requests=90, latency_ms=100.0),
        rec("gpt-4o", requests=10, latency_ms=1000.0),
        # claude-sonnet-4: 50 at 100 ms, 50 at 200 ms → p50 100, p95 200 = 2 × 100: no action
        rec("claude-sonnet-4", requests=50, latency_ms=100.0),
        rec("claude-sonnet-4", requests=50, latency_ms=200.0),
        # gemini: rounding to one decimal, half up; a record without latency is ignored
        rec("gemini-2.5-flash", requests=3, latency_ms=123.45),
        rec("gemini-2.5-flash", requests=1_000),
        # outside the window
        rec("gpt-4o-mini", requests=5, latency_ms=1.0, age=timedelta(days=31)),
    ]
    result = performance(records, NOW)
    assert result["latency"] == [
        {"model": "claude-sonnet-4", "p50_ms": 100.0, "p95_ms": 200.0},
        {"model": "gemini-2.5-flash", "p50_ms": 123.5, "p95_ms": 123.5},
        {"model": "gpt-4o", "p50_ms": 100.0, "p95_ms": 1000.0},
    ]
    [action] = result["recommendations"]
    assert action["id"] == "latency:gpt-4o"
    assert action["type"] == "latency"
    assert (action["model"], action["p50_ms"], action["p95_ms"]) == ("gpt-4o", 100.0, 1000.0)
    assert "1,000.0 ms" in action["rationale"] and action["title"]
    assert "gpt-4o" in result["summary"]


def test_latency_recommendations_put_the_widest_tail_first():
    records = [
        rec("claude-sonnet-4", requests=90, latency_ms=100.0),
        rec("claude-sonnet-4", requests=10, latency_ms=300.0),  # 3×
        rec("gpt-4o", requests=90, latency_ms=100.0),
        rec("gpt-4o", requests=10, latency_ms=900.0),  # 9×
    ]
    ids = [r["id"] for r in performance(records, NOW)["recommendations"]]
    assert ids == ["latency:gpt-4o", "latency:claude-sonnet-4"]


def test_performance_without_latency_data():
    result = performance([rec(requests=10)], NOW)
    assert result["latency"] == [] and result["recommendations"] == []
    assert "not enough usage data" in result["summary"].lower()
