"""Reference cost rules: catalogue, window, levers, money rounding and optimizer invariants."""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceptance.verify import money
from reference_platform import analytics, pricing
from reference_platform.domain import UsageRecord
from reference_platform.pricing import (
    CATALOGUE,
    ROUTABLE_TASKS,
    cost_analysis,
    economy_model_for,
    in_window,
    optimize,
    pricing_document,
    recommendations,
    record_cost,
    round_money,
)

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=timezone.utc)


def rec(
    model: str = "gpt-4o",
    *,
    requests: int = 1,
    input_tokens: int = 0,
    output_tokens: int = 0,
    task: str | None = None,
    shared: int = 0,
    batchable: bool = False,
    age: timedelta = timedelta(days=1),
) -> UsageRecord:
    return UsageRecord(
        timestamp=NOW - age,
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        task=task,
        requests=requests,
        shared_prefix_tokens=shared,
        batchable=batchable,
    )


def by_id(records: list[UsageRecord]) -> dict[str, dict]:
    return {r["id"]: r for r in recommendations(records, NOW)}


# --------------------------------------------------------------------------- catalogue

def test_catalogue_holds_exactly_the_six_contract_models():
    rows = {
        (p.model, p.vendor, p.tier, p.input_per_mtok, p.cached_input_per_mtok,
         p.output_per_mtok, p.batch_discount)
        for p in CATALOGUE.values()
    }
    assert rows == {
        ("gpt-4o", "openai", "premium", 2.50, 1.25, 10.00, 0.5),
        ("gpt-4o-mini", "openai", "economy", 0.15, 0.075, 0.60, 0.5),
        ("claude-sonnet-4", "anthropic", "premium", 3.00, 0.30, 15.00, 0.5),
        ("claude-haiku-3.5", "anthropic", "economy", 0.80, 0.08, 4.00, 0.5),
        ("gemini-2.5-pro", "google", "premium", 1.25, 0.31, 10.00, 0.5),
        ("gemini-2.5-flash", "google", "economy", 0.30, 0.075, 2.50, 0.5),
    }
    assert all(name == price.model for name, price in CATALOGUE.items())


def test_pricing_document_lists_every_model_with_the_contract_fields():
    document = pricing_document()
    datetime.strptime(document["as_of"], "%Y-%m-%d")
    assert [m["model"] for m in document["models"]] == list(CATALOGUE)
    assert set(document["models"][0]) == {
        "model", "vendor", "tier", "input_per_mtok", "cached_input_per_mtok",
        "output_per_mtok", "batch_discount",
    }


@pytest.mark.parametrize(
    ("model", "economy"),
    [
        ("gpt-4o", "gpt-4o-mini"),
        ("claude-sonnet-4", "claude-haiku-3.5"),
        ("gemini-2.5-pro", "gemini-2.5-flash"),
        ("gpt-4o-mini", None),
        ("gemini-2.5-flash", None),
        ("no-such-model", None),
    ],
)
def test_economy_model_is_the_same_vendors_economy_model(model, economy):
    assert economy_model_for(model) == economy


def test_unknown_model_cannot_be_priced():
    with pytest.raises(ValueError, match="not in the price catalogue"):
        record_cost(rec("no-such-model", requests=1, input_tokens=1))


# --------------------------------------------------------------------------- worked example

WORKED = rec("gpt-4o", requests=100_000, input_tokens=1_000, output_tokens=200,
             task="classification")


def test_worked_example_of_the_contract():
    # 100,000 × (1,000 × 2.50 + 200 × 10.00) / 1e6 = 450.00 on gpt-4o
    # 100,000 × (1,000 × 0.15 + 200 × 0.60) / 1e6 = 27.00 on gpt-4o-mini
    assert record_cost(WORKED) == 450.0
    assert record_cost(WORKED, "gpt-4o-mini") == 27.0

    result = optimize([WORKED], NOW)
    assert result["cost_analysis"] == {
        "period_days": 30,
        "current_monthly_cost_usd": 450.0,
        "by_model": [{"model": "gpt-4o", "requests": 100_000, "monthly_cost_usd": 450.0}],
    }
    [routing] = result["recommendations"]
    assert routing["id"] == "model_routing:gpt-4o"
    assert routing["type"] == "model_routing"
    assert routing["model"] == "gpt-4o"
    assert routing["target_model"] == "gpt-4o-mini"
    assert routing["monthly_savings_usd"] == 423.0
    assert routing["effort"] == "medium"
    assert "$423.00" in routing["rationale"]
    assert result["potential_savings"] == {
        "monthly_amount": 423.0, "annual_amount": 5076.0, "percentage": 94.0,
    }
    assert "$450.00" in result["summary"] and "$423.00" in result["summary"]
    assert "$5,076.00" in result["summary"]


# --------------------------------------------------------------------------- each lever alone

def test_routing_alone_on_the_other_vendors():
    records = [
        # claude-sonnet-4: 10,000 × (500 × 3.00 + 100 × 15.00) / 1e6 = 30.00
        # claude-haiku-3.5: 10,000 × (500 × 0.80 + 100 × 4.00) / 1e6 = 8.00 → saves 22.00
        rec("claude-sonnet-4", requests=10_000, input_tokens=500, output_tokens=100,
            task="tagging"),
        # gemini-2.5-pro: 20,000 × (1,000 × 1.25 + 100 × 10.00) / 1e6 = 45.00
        # gemini-2.5-flash: 20,000 × (1,000 × 0.30 + 100 × 2.50) / 1e6 = 11.00 → saves 34.00
        rec("gemini-2.5-pro", requests=20_000, input_tokens=1_000, output_tokens=100,
            task="extraction"),
    ]
    recs = recommendations(records, NOW)
    assert [(r["id"], r["target_model"], r["monthly_savings_usd"]) for r in recs] == [
        ("model_routing:gemini-2.5-pro", "gemini-2.5-flash", 34.0),
        ("model_routing:claude-sonnet-4", "claude-haiku-3.5", 22.0),
    ]


@pytest.mark.parametrize("task", [None, "summarization", "chat", "Classification"])
def test_only_the_four_routable_tasks_are_routed(task):
    record = rec("gpt-4o", requests=100_000, input_tokens=1_000, output_tokens=200, task=task)
    assert recommendations([record], NOW) == []
    assert ROUTABLE_TASKS == {"classification", "extraction", "routing", "tagging"}


def test_economy_models_are_never_routed():
    record = rec("gpt-4o-mini", requests=1_000_000, input_tokens=1_000, task="routing")
    assert recommendations([record], NOW) == []


def test_caching_alone():
    # cost: 10,000 × (2,000 × 2.50 + 100 × 10.00) / 1e6 = 60.00
    # caching: 10,000 × 1,500 shared × (2.50 − 1.25) / 1e6 = 18.75
    record = rec("gpt-4o", requests=10_000, input_tokens=2_000, output_tokens=100,
                 shared=1_500, task="chat")
    [caching] = recommendations([record], NOW)
    assert caching["id"] == "prompt_caching:gpt-4o"
    assert caching["model"] == "gpt-4o"
    assert "target_model" not in caching
    assert caching["monthly_savings_usd"] == 18.75
    assert caching["effort"] == "low"
    assert optimize([record], NOW)["potential_savings"] == {
        # 18.75 × 12 = 225.00; 100 × 18.75 / 60.00 = 31.25 %
        "monthly_amount": 18.75, "annual_amount": 225.0, "percentage": 31.25,
    }


def test_batching_alone():
    # cost: 4,000 × (1,000 × 3.00 + 500 × 15.00) / 1e6 = 42.00; batching saves 42.00 × 0.5 = 21.00
    record = rec("claude-sonnet-4", requests=4_000, input_tokens=1_000, output_tokens=500,
                 batchable=True)
    [batching] = recommendations([record], NOW)
    assert batching["id"] == "batching:claude-sonnet-4"
    assert batching["monthly_savings_usd"] == 21.0
    assert batching["effort"] == "medium"
    assert "target_model" not in batching


def test_all_three_levers_on_one_model_apply_in_order_on_the_economy_model():
    record = rec("gpt-4o", requests=100_000, input_tokens=1_000, output_tokens=200,
                 shared=800, batchable=True, task="classification")
    # routing:  450.00 on gpt-4o − 27.00 on gpt-4o-mini = 423.00
    # caching on gpt-4o-mini: 100,000 × 800 × (0.15 − 0.075) / 1e6 = 6.00 → 21.00 left
    #   (priced on gpt-4o it would have been 100,000 × 800 × 1.25 / 1e6 = 100.00)
    # batching on gpt-4o-mini: 21.00 × 0.5 = 10.50
    # total 439.50 a month, 5,274.00 a year, 100 × 439.50 / 450.00 = 97.666… → 97.67 %
    result = optimize([record], NOW)
    assert [(r["id"], r["monthly_savings_usd"]) for r in result["recommendations"]] == [
        ("model_routing:gpt-4o", 423.0),
        ("batching:gpt-4o-mini", 10.5),
        ("prompt_caching:gpt-4o-mini", 6.0),
    ]
    assert result["potential_savings"] == {
        "monthly_amount": 439.5, "annual_amount": 5274.0, "percentage": 97.67,
    }


def test_one_recommendation_per_lever_and_model_summed_over_records():
    # two batchable gpt-4o records: 100 × 1,000 × 10.00 / 1e6 = 1.00 and 2.00 → 3.00 × 0.5 = 1.50
    records = [
        rec("gpt-4o", requests=100, output_tokens=1_000, batchable=True),
        rec("gpt-4o", requests=200, output_tokens=1_000, batchable=True, age=timedelta(days=2)),
    ]
    [batching] = recommendations(records, NOW)
    assert batching["monthly_savings_usd"] == 1.5


def test_routed_traffic_joins_the_economy_models_own_traffic():
    records = [
        # routed: 10,000 × 1,000 shared on gpt-4o-mini × 0.075 / 1e6 = 0.75
        rec("gpt-4o", requests=10_000, input_tokens=1_000, shared=1_000, task="tagging"),
        # native gpt-4o-mini traffic: the same saving again, 0.75 → 1.50 together
        rec("gpt-4o-mini", requests=10_000, input_tokens=1_000, shared=1_000),
    ]
    found = by_id(records)
    assert found["prompt_caching:gpt-4o-mini"]["monthly_savings_usd"] == 1.5
    assert "prompt_caching:gpt-4o" not in found


# --------------------------------------------------------------------------- threshold, money

def test_threshold_applies_to_the_unrounded_saving():
    # 999 × 200 × 10.00 / 1e6 = 1.998 → batching saves 0.999 (which would round to 1.00)
    below = rec("gpt-4o", requests=999, output_tokens=200, batchable=True)
    # 200 × 1,000 × 10.00 / 1e6 = 2.00 → batching saves exactly 1.00
    at = rec("gpt-4o", requests=200, output_tokens=1_000, batchable=True)
    assert recommendations([below], NOW) == []
    result = optimize([below], NOW)
    assert result["potential_savings"]["monthly_amount"] == 0.0
    [batching] = recommendations([at], NOW)
    assert batching["monthly_savings_usd"] == 1.0


def test_savings_round_half_up_to_cents():
    # 201 × 1,000 × 10.00 / 1e6 = 2.01 → batching saves 1.005 → 1.01 (half up, not half even)
    record = rec("gpt-4o", requests=201, output_tokens=1_000, batchable=True)
    [batching] = recommendations([record], NOW)
    assert batching["monthly_savings_usd"] == 1.01


@pytest.mark.parametrize(
    ("value", "rounded"),
    [(Decimal("0.125"), 0.13), (2.675, 2.68), (1.005, 1.01), (Decimal("-0.125"), -0.13),
     (0.004999, 0.0), (3, 3.0)],
)
def test_round_money_is_half_up(value, rounded):
    assert round_money(value) == rounded


# --------------------------------------------------------------------------- window

def test_window_keeps_records_up_to_thirty_days_old():
    records = [
        rec(requests=1, output_tokens=1_000_000, age=timedelta(days=30)),  # 10.00, in
        rec(requests=2, output_tokens=1_000_000, age=timedelta(days=31)),  # 20.00, out
        rec(requests=4, output_tokens=1_000_000, age=timedelta(days=30, seconds=1)),  # out
        rec(requests=8, output_tokens=1_000_000, age=timedelta(0)),  # 80.00, in (now)
        rec(requests=16, output_tokens=1_000_000, age=timedelta(seconds=-1)),  # future, out
    ]
    assert [r.requests for r in in_window(records, NOW)] == [1, 8]
    assert cost_analysis(records, NOW)["current_monthly_cost_usd"] == 90.0


def test_window_accepts_other_timezones_and_naive_utc():
    eastern = timezone(timedelta(hours=-5))
    inside = UsageRecord(NOW.astimezone(eastern) - timedelta(days=29), "gpt-4o", 1, 1)
    naive = UsageRecord(NOW.replace(tzinfo=None) - timedelta(days=31), "gpt-4o", 1, 1)
    assert in_window([inside, naive], NOW) == [inside]


def test_records_outside_the_window_never_reach_a_recommendation():
    old = rec("gpt-4o", requests=100_000, input_tokens=1_000, output_tokens=200,
              task="classification", age=timedelta(days=31))
    result = optimize([old], NOW)
    assert result["data_sufficiency"] == "insufficient"
    assert result["recommendations"] == []


# --------------------------------------------------------------------------- result shape

def test_no_usage_gives_an_insufficient_zero_result():
    result = optimize([], NOW)
    assert result["data_sufficiency"] == "insufficient"
    assert result["recommendations"] == []
    assert result["cost_analysis"] == {
        "period_days": 30, "current_monthly_cost_usd": 0.0, "by_model": [],
    }
    assert result["potential_savings"] == {
        "monthly_amount": 0.0, "annual_amount": 0.0, "percentage": 0.0,
    }
    assert "not enough usage data" in result["summary"].lower()


def test_spend_without_savings_says_there_is_nothing_to_recommend():
    record = rec("gpt-4o-mini", requests=1_000, input_tokens=1_000)  # 0.15, nothing to save
    result = optimize([record], NOW)
    assert result["recommendations"] == []
    assert "$0.15" in result["summary"]
    assert "nothing to recommend" in result["summary"]


def test_by_model_rows_sorted_by_cost_then_name():
    records = [
        rec("gpt-4o-mini", requests=1, output_tokens=1_000_000),  # 0.60
        rec("gpt-4o", requests=3, output_tokens=100_000),  # 3.00
        rec("gemini-2.5-flash", requests=1, input_tokens=2_000_000),  # 0.60
    ]
    rows = cost_analysis(records, NOW)["by_model"]
    assert [(r["model"], r["monthly_cost_usd"]) for r in rows] == [
        ("gpt-4o", 3.0), ("gemini-2.5-flash", 0.6), ("gpt-4o-mini", 0.6),
    ]


def test_equal_savings_sort_routing_then_caching_then_batching():
    records = [
        # batching on claude-sonnet-4: 1,000 × 400 × 15.00 / 1e6 = 6.00 → saves 3.00
        rec("claude-sonnet-4", requests=1_000, output_tokens=400, batchable=True),
        # caching on gpt-4o: 1,000 × 2,400 × 1.25 / 1e6 = 3.00
        rec("gpt-4o", requests=1_000, input_tokens=2_400, shared=2_400),
        # routing on gemini-2.5-pro: 1,000 × 3,000 × (1.25 − 0.30) / 1e6 = 2.85,
        # plus 1,000 × 20 × (10.00 − 2.50) / 1e6 = 0.15 → 3.00
        rec("gemini-2.5-pro", requests=1_000, input_tokens=3_000, output_tokens=20,
            task="routing"),
    ]
    assert [r["id"] for r in recommendations(records, NOW)] == [
        "model_routing:gemini-2.5-pro",
        "prompt_caching:gpt-4o",
        "batching:claude-sonnet-4",
    ]
    assert {r["monthly_savings_usd"] for r in recommendations(records, NOW)} == {3.0}


def test_optimizer_uses_the_shared_sufficiency_rule():
    assert pricing.data_sufficiency is analytics.data_sufficiency
    records = [rec(requests=1, output_tokens=1, age=timedelta(days=d)) for d in range(3)]
    assert optimize(records, NOW)["data_sufficiency"] == "partial"


# --------------------------------------------------------------------------- properties

TASKS = st.sampled_from([None, "chat", "summarization", *sorted(ROUTABLE_TASKS)])


@st.composite
def usage_records(draw) -> UsageRecord:
    input_tokens = draw(st.integers(0, 100_000))
    return UsageRecord(
        timestamp=NOW - timedelta(seconds=draw(st.integers(-2 * 86_400, 35 * 86_400))),
        model=draw(st.sampled_from(sorted(CATALOGUE))),
        input_tokens=input_tokens,
        output_tokens=draw(st.integers(0, 20_000)),
        task=draw(TASKS),
        requests=draw(st.integers(1, 1_000_000)),
        shared_prefix_tokens=draw(st.integers(0, input_tokens)),
        batchable=draw(st.booleans()),
    )


RECORD_LISTS = st.lists(usage_records(), max_size=25)


def _cents(value: Fraction) -> Decimal:
    return money.cents(Decimal(value.numerator) / Decimal(value.denominator))


def oracle(records: list[UsageRecord]) -> tuple[Fraction, dict[str, Fraction]]:
    """Independent statement of section 6 in exact fractions: total cost, saving per id."""
    total = Fraction(0)
    savings: dict[str, Fraction] = defaultdict(Fraction)

    def cost(r: UsageRecord, model: str) -> Fraction:
        p = CATALOGUE[model]
        return r.requests * (
            r.input_tokens * Fraction(str(p.input_per_mtok))
            + r.output_tokens * Fraction(str(p.output_per_mtok))
        ) / 1_000_000

    for r in records:
        if not NOW - timedelta(days=30) <= r.timestamp <= NOW:
            continue
        model, left = r.model, cost(r, r.model)
        total += left
        if CATALOGUE[model].tier == "premium" and r.task in ROUTABLE_TASKS:
            target = next(p.model for p in CATALOGUE.values()
                          if p.vendor == CATALOGUE[model].vendor and p.tier == "economy")
            savings[f"model_routing:{model}"] += left - cost(r, target)
            model, left = target, cost(r, target)
        p = CATALOGUE[model]
        cached = r.requests * r.shared_prefix_tokens * (
            Fraction(str(p.input_per_mtok)) - Fraction(str(p.cached_input_per_mtok))
        ) / 1_000_000
        savings[f"prompt_caching:{model}"] += cached
        left -= cached
        if r.batchable:
            savings[f"batching:{model}"] += left * Fraction(str(p.batch_discount))
    return total, savings


@settings(max_examples=200, deadline=None)
@given(RECORD_LISTS)
def test_recommendations_match_an_independent_statement_of_the_rules(records):
    total, savings = oracle(records)
    result = optimize(records, NOW)
    assert result["cost_analysis"]["current_monthly_cost_usd"] == float(_cents(total))
    expected = {key: float(_cents(value)) for key, value in savings.items() if value >= 1}
    assert {r["id"]: r["monthly_savings_usd"] for r in result["recommendations"]} == expected


def _has_cents_only(value: float) -> bool:
    return money.cents(value) == money.amount(value)


@settings(max_examples=200, deadline=None)
@given(RECORD_LISTS)
def test_optimizer_invariants(records):
    result = optimize(records, NOW)
    current = result["cost_analysis"]["current_monthly_cost_usd"]
    recs = result["recommendations"]
    savings = result["potential_savings"]
    monthly = savings["monthly_amount"]

    money.expect_savings(result, *money.INVARIANTS)  # RUN-5.13, as the suite checks any platform
    assert money.amount(monthly) == sum(money.amount(r["monthly_savings_usd"]) for r in recs)  # DET-7.6: exact
    assert 0 <= monthly <= current
    assert savings["annual_amount"] == round_money(Decimal(str(monthly)) * 12)
    if current > 0:
        assert savings["percentage"] == pytest.approx(100 * monthly / current, abs=0.0051)
    else:
        assert savings["percentage"] == 0
    assert 0 <= savings["percentage"] <= 100

    amounts = [r["monthly_savings_usd"] for r in recs]
    assert amounts == sorted(amounts, reverse=True)
    assert all(amount >= 1.0 for amount in amounts)
    assert len({r["id"] for r in recs}) == len(recs)
    assert len({(r["type"], r["model"]) for r in recs}) == len(recs)
    for r in recs:
        assert r["id"] == f"{r['type']}:{r['model']}"
        assert r["effort"] in {"low", "medium", "high"}
        assert r["title"] and r["rationale"]
        if r["type"] == "model_routing":
            assert r["target_model"] == economy_model_for(r["model"])
        else:
            assert "target_model" not in r

    amounts_usd = [current, *amounts, *savings.values()]
    amounts_usd += [row["monthly_cost_usd"] for row in result["cost_analysis"]["by_model"]]
    assert all(_has_cents_only(value) for value in amounts_usd)
    costs = [row["monthly_cost_usd"] for row in result["cost_analysis"]["by_model"]]
    assert costs == sorted(costs, reverse=True)
    assert sum(costs) == pytest.approx(current, abs=0.005 * len(costs) + 1e-9)


@settings(max_examples=50, deadline=None)
@given(RECORD_LISTS, st.randoms(use_true_random=False))
def test_record_order_does_not_matter(records, rng: random.Random):
    shuffled = list(records)
    rng.shuffle(shuffled)
    assert optimize(shuffled, NOW) == optimize(records, NOW)
