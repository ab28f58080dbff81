"""Money and the savings rules (acceptance.verify.money): reading amounts, the one tolerance, each
invariant holding and broken, the recommendation types and amounts written for people."""
from __future__ import annotations

from decimal import Decimal

import pytest

from acceptance.verify import money
from acceptance.verify.errors import BusinessOutcomeFailure, ContractViolation, SuiteFailure
from acceptance.verify.schemas import documents
from tests.samples import cost_optimizer_result


def result(**changes) -> dict:
    """The sample cost optimisation (current $450.00; $423.00 + $13.50 = $436.50, $5,238.00 a year, 97 %)
    with ``section__field`` set to a value."""
    cost = cost_optimizer_result()
    for path, value in changes.items():
        target, *keys = [cost, *path.split("__")]
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[keys[-1]] = value
    return cost


# --------------------------------------------------------------------------- reading amounts

@pytest.mark.parametrize("text, expected", [
    ("$450", "450"), ("$1,234.50", "1234.50"), ("$0.05", "0.05"), ("450", "450"), (" $12 ", "12"),
    (Decimal("423.5"), "423.5"), (423, "423"),
])
def test_parse_reads_the_amounts_feature_files_state(text, expected):
    assert money.parse(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["about $400", "$", "", "NaN", "$Infinity", None])
def test_parse_refuses_what_is_not_an_amount_as_a_suite_defect(text):
    with pytest.raises(money.NotAnAmount, match=r"^Suite defect: .* is not an amount of dollars$") as info:
        money.parse(text)
    assert isinstance(info.value, SuiteFailure)


@pytest.mark.parametrize("value, expected", [
    (423, "423"), (423.5, "423.5"), (423.50, "423.50"), (0.1, "0.1"), (1e-05, "0.00001"), (Decimal("2.675"), "2.675"),
])
def test_amount_reads_any_json_number_as_the_decimal_it_spells(value, expected):
    assert money.amount(value) == Decimal(expected)  # TOL-8.5: 423, 423.5 and 423.50 are amounts
    assert money.is_amount(value)


@pytest.mark.parametrize("value", ["423.50", "$423", True, False, None, float("nan"), float("inf"), [], {}])
def test_amount_is_none_for_anything_but_a_number(value):
    assert money.amount(value) is None and not money.is_amount(value)


# --------------------------------------------------------------------------- the one tolerance

def test_the_one_tolerance_is_a_cent():
    assert money.CENT == Decimal("0.01")


@pytest.mark.parametrize("actual, expected", [
    (423, Decimal("423.00")), (423.0, Decimal("423")), (423.01, Decimal("423")), (422.99, Decimal("423")),
    (0.1 + 0.2, Decimal("0.30")),
])
def test_amounts_within_a_cent_are_the_same(actual, expected):
    assert money.same(actual, expected)


@pytest.mark.parametrize("actual, expected", [
    (423.02, Decimal("423")), (422.98, Decimal("423")), ("423", Decimal("423")), (None, Decimal("0")),
    (True, Decimal("1")),
])
def test_amounts_further_apart_or_not_numbers_differ(actual, expected):
    assert not money.same(actual, expected)


def test_exceeds_allows_the_same_cent():
    assert not money.exceeds(450.01, Decimal("450"))
    assert money.exceeds(450.02, Decimal("450"))
    assert not money.exceeds("999", Decimal("450"))


# --------------------------------------------------------------------------- amounts for people

@pytest.mark.parametrize("value, text", [
    (1234.5, "$1,234.50"), (423, "$423.00"), (Decimal("1.005"), "$1.01"), (0, "$0.00"), (Decimal("5238"), "$5,238.00"),
])
def test_usd_writes_dollars_and_cents(value, text):
    assert money.usd(value) == text


def test_usd_shows_a_non_number_as_it_came():
    assert money.usd("n/a") == "'n/a'"
    assert money.usd(None, otherwise=str) == "None"


def test_cents_round_half_up():
    assert money.cents(Decimal("0.125")) == Decimal("0.13")
    assert str(money.cents(Decimal("436.5"))) == "436.50"


def test_token_cost_is_the_list_price_of_a_request():
    # COST-6.6: 1,000 input and 200 output tokens on gpt-4o, $2.50 and $10.00 per 1M tokens
    assert money.token_cost(1000, 200, 2.5, 10.0) == Decimal("0.0045")


# --------------------------------------------------------------------------- recommendation types

def test_recommendation_types_are_the_contracts():
    recommendation = documents()["asyncapi.yaml"]["components"]["schemas"]["Recommendation"]  # RUN-5.12
    assert tuple(recommendation["properties"]["type"]["enum"]) == money.RECOMMENDATION_TYPES


def test_every_lever_has_words_for_features_and_for_the_report():
    for lever in money.LEVERS:
        assert lever.action and lever.headline and lever.words == lever.type.replace("_", " ")


def test_recommendation_problems():
    good = cost_optimizer_result()["recommendations"][0]
    assert money.recommendation_problems(good, "1") == []
    bad = dict(good, model="", type="discount", title=" ", monthly_savings_usd=0)
    assert money.recommendation_problems(bad, "1") == [
        "1: model is '', expected a model name",
        "1: type is 'discount', expected one of model_routing, prompt_caching, batching",
        "1: title is ' ', expected a non-empty text",
        "1: monthly_savings_usd is 0, expected positive",
    ]
    assert money.recommendation_problems("x", "1") == ["1 is 'x', not an object"]
    assert money.recommendation_problems(dict(good, model=" "), "2") == ["2: model is ' ', expected a model name"]


# --------------------------------------------------------------------------- the invariants (RUN-5.13)

def test_a_valid_result_keeps_every_invariant():
    assert money.savings_problems(result()) == []
    money.expect_savings(result(), *money.INVARIANTS)


def test_figures_are_read_as_decimals():
    figures = money.Savings.of(result())
    assert (figures.monthly, figures.annual, figures.percentage, figures.current) == (
        Decimal("436.5"), Decimal("5238.0"), Decimal("97.0"), Decimal("450.0"))
    assert figures.amounts == (Decimal("423.0"), Decimal("13.5"))


HOLDING = {  # invariant -> a result that keeps it only thanks to the cent of tolerance, or by rule
    "sum": result(potential_savings__monthly_amount=436.51, potential_savings__annual_amount=5238.12),
    "spend": result(cost_analysis__current_monthly_cost_usd=436.49, potential_savings__percentage=100),
    "annual": result(potential_savings__annual_amount=5238.01),
    "percentage": result(cost_analysis__current_monthly_cost_usd=0, potential_savings__percentage=0),
    "order": result(recommendations__1__monthly_savings_usd=423.0, potential_savings__monthly_amount=846.0),
}
BROKEN = {  # invariant -> (a result that breaks it, the start of the failure)
    "sum": (result(potential_savings__monthly_amount=436.52),
            "Business outcome: monthly_amount 436.52 is not the sum of the recommendations' savings "
            "423.00 + 13.50 = 436.50"),
    "spend": (result(cost_analysis__current_monthly_cost_usd=436.48),
              "Business outcome: monthly_amount 436.50 exceeds current_monthly_cost_usd 436.48"),
    "annual": (result(potential_savings__annual_amount=4365.0),
               "Business outcome: annual_amount 4365.00 is not 12 × 436.50 = 5238.00"),
    "percentage": (result(potential_savings__percentage=97.02),
                   "Business outcome: percentage 97.02 is not 100 × 436.50 / 450.00 = 97.00"),
    "order": (result(recommendations__0__monthly_savings_usd=10.0, potential_savings__monthly_amount=23.5),
              "Business outcome: recommendations not sorted by saving: [0] saves 10.00 but [1] saves 13.50"),
}


@pytest.mark.parametrize("invariant", list(money.INVARIANTS))
def test_each_invariant_holds(invariant):
    money.expect_savings(HOLDING[invariant], invariant)


@pytest.mark.parametrize("invariant", list(money.INVARIANTS))
def test_each_invariant_fails_as_a_business_outcome_with_the_evidence(invariant):
    cost, message = BROKEN[invariant]
    with pytest.raises(BusinessOutcomeFailure) as info:
        money.expect_savings(cost, invariant, evidence="the evidence")
    assert str(info.value).startswith(message)
    assert str(info.value).endswith("; the evidence")
    assert message.removeprefix("Business outcome: ") in money.savings_problems(cost)


def test_a_negative_monthly_saving_breaks_the_spend_invariant():
    cost = result(recommendations=[], potential_savings__monthly_amount=-5.0)
    with pytest.raises(BusinessOutcomeFailure, match=r"^Business outcome: monthly_amount -5.00 is negative"):
        money.expect_savings(cost, "spend")


def test_a_missing_figure_is_a_contract_violation():
    with pytest.raises(ContractViolation, match=r"^Contract: the cost optimisation carries no number for "
                                                r"potential_savings.annual_amount; the evidence$"):
        money.expect_savings(result(potential_savings__annual_amount="5238"), "annual", evidence="the evidence")
    with pytest.raises(ContractViolation, match=r"recommendations\[\]\.monthly_savings_usd"):
        money.expect_savings(result(recommendations__1__monthly_savings_usd=None), "order")


def test_savings_problems_list_every_broken_rule_and_the_shape():
    problems = money.savings_problems(result(potential_savings__annual_amount=1.0, potential_savings__percentage=1.0))
    assert problems == ["annual_amount 1.00 is not 12 × 436.50 = 5238.00",
                        "percentage 1.0 is not 100 × 436.50 / 450.00 = 97.00"]
    assert money.savings_problems({"recommendations": None}) == [
        "potential_savings is None, not an object", "cost_analysis is None, not an object",
        "recommendations is None, not a list", "potential_savings.monthly_amount is None, not a number",
        "potential_savings.annual_amount is None, not a number", "potential_savings.percentage is None, not a number",
        "cost_analysis.current_monthly_cost_usd is None, not a number"]
    assert money.savings_problems([]) == ["was not a result object but list: []"]
