"""Money and the savings rules of the contract, in one place and in ``Decimal``.

Everything the suite does with dollars goes through here: reading an amount a feature file states
("$450", "$1,234.50"), reading an amount a platform sent (any JSON number, TOL-8.5), comparing two
amounts, the savings invariants every honest optimizer keeps (RUN-5.13), the recommendation types
(RUN-5.12) and writing an amount for people ("$1,234.50").

**The one tolerance.** Two amounts are the same when they differ by at most :data:`CENT`, one cent.
The contract states one tolerance for money, RUN-5.13's "sum of the recommendations' savings
(± 0.01)", and TOL-8.5 says a client "compares amounts to the cent". A conforming platform sends
amounts with 2 decimals but may round at another step than the reference platform does (the sum of
rounded savings, or the rounded sum; 12 × the rounded or the unrounded monthly figure), which moves
a figure by at most a cent; one cent is therefore what every comparison allows, the invariants and
the exact amounts a feature file names alike (docs/contract-decisions.md, "Money"). Amounts are
compared as ``Decimal`` of the number as sent (``Decimal(str(423.5))``), so no binary float error
adds to it. A percentage is compared with the same tolerance, in points.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable, Mapping

from acceptance.verify.errors import BusinessOutcomeFailure, ContractViolation, SuiteFailure

CENT = Decimal("0.01")
"""The one tolerance with which amounts (and percentages, in points) are compared; see the module's text."""


# =========================================================================== reading and writing amounts

class NotAnAmount(SuiteFailure):
    """A feature file states an amount of dollars the suite cannot read (a suite-side mistake)."""


def amount(value: Any) -> Decimal | None:
    """A JSON number as the ``Decimal`` it spells (TOL-8.5: ``423``, ``423.5`` and ``423.50`` alike);
    ``None`` for anything else: text, ``true``, ``null``, NaN or infinity."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return number if number.is_finite() else None


def is_amount(value: Any) -> bool:
    """``value`` is a JSON number (money or another amount, TOL-8.5)."""
    return amount(value) is not None


def parse(text: Any) -> Decimal:
    """An amount of dollars as a feature file states it: ``$450``, ``$1,234.50``, ``450`` (or a ``Decimal``)."""
    try:
        number = Decimal(str(text).replace("$", "").replace(",", "").strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise NotAnAmount(f"{text!r} is not an amount of dollars")
    return number


def same(actual: Any, expected: Any) -> bool:
    """``actual`` (what a platform sent) is the amount ``expected``, to the cent; never for a non-number."""
    a, b = amount(actual), amount(expected)
    return a is not None and b is not None and abs(a - b) <= CENT


def exceeds(actual: Any, limit: Any) -> bool:
    """``actual`` (what a platform sent) is an amount more than a cent above ``limit``."""
    a, b = amount(actual), amount(limit)
    return a is not None and b is not None and a - b > CENT


def cents(value: Any) -> Decimal:
    """The amount rounded half up to cents."""
    return parse(value).quantize(CENT, rounding=ROUND_HALF_UP)


def usd(value: Any, otherwise: Callable[[Any], str] = repr) -> str:
    """An amount for people, ``$1,234.50``; anything that is not a number is shown by ``otherwise``."""
    number = amount(value)
    return otherwise(value) if number is None else f"${cents(number):,.2f}"


def token_cost(input_tokens: int, output_tokens: int, input_per_mtok: Any, output_per_mtok: Any) -> Decimal:
    """The list price of one request (COST-6.2): tokens × price per million tokens."""
    return (Decimal(input_tokens) * parse(input_per_mtok) + Decimal(output_tokens) * parse(output_per_mtok)) \
        / Decimal(1_000_000)


# =========================================================================== recommendation types

@dataclass(frozen=True)
class Lever:
    """A recommendation type (RUN-5.12), how a feature file names its action, and how the report does."""

    type: str
    action: str
    headline: str

    @property
    def words(self) -> str:
        return self.type.replace("_", " ")


LEVERS = (  # COST-6.3, in the order the reference rules apply them
    Lever("model_routing", "route to {target}", "Route to a cheaper model"),
    Lever("prompt_caching", "cache prompt prefixes", "Cache the shared prompt prefix"),
    Lever("batching", "batch requests", "Batch requests that can wait"),
)
LEVER = {lever.type: lever for lever in LEVERS}
RECOMMENDATION_TYPES = tuple(LEVER)
"""``recommendations[].type`` of RUN-5.12 (``asyncapi.yaml#/components/schemas/Recommendation``)."""


def recommendation_problems(rec: Any, label: str) -> list[str]:
    """What keeps one recommendation from being one (RUN-5.12): a model, a known type, a title, a
    positive saving. ``label`` names it in the messages."""
    if not isinstance(rec, dict):
        return [f"{label} is {rec!r}, not an object"]
    problems = []
    if not isinstance(rec.get("model"), str) or not rec["model"].strip():
        problems.append(f"{label}: model is {rec.get('model')!r}, expected a model name")
    if rec.get("type") not in RECOMMENDATION_TYPES:
        problems.append(f"{label}: type is {rec.get('type')!r}, expected one of {', '.join(RECOMMENDATION_TYPES)}")
    if not isinstance(rec.get("title"), str) or not rec.get("title", "").strip():
        problems.append(f"{label}: title is {rec.get('title')!r}, expected a non-empty text")
    saving = amount(rec.get("monthly_savings_usd"))
    if saving is None:
        problems.append(f"{label}: monthly_savings_usd is {rec.get('monthly_savings_usd')!r}, not a number")
    elif saving <= 0:
        problems.append(f"{label}: monthly_savings_usd is {rec['monthly_savings_usd']}, expected positive")
    return problems


# =========================================================================== the savings invariants

INVARIANTS_TEXT = (
    f"monthly_amount = sum of the recommendations' monthly_savings_usd (±{CENT}), 0 ≤ monthly_amount ≤ "
    f"current_monthly_cost_usd, annual_amount = 12 × monthly_amount (±{CENT}), percentage = 100 × monthly / "
    f"current (±{CENT}; 0 when current is 0), recommendations sorted by saving (largest first)"
)
FIGURES = {"monthly": "potential_savings.monthly_amount", "annual": "potential_savings.annual_amount",
           "percentage": "potential_savings.percentage", "current": "cost_analysis.current_monthly_cost_usd",
           "amounts": "recommendations[].monthly_savings_usd"}


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class Savings:
    """The figures of a cost optimisation (RUN-5.12) as ``Decimal``; ``None`` where no number was sent."""

    monthly: Decimal | None
    annual: Decimal | None
    percentage: Decimal | None
    current: Decimal | None
    amounts: tuple[Decimal | None, ...]  # each recommendation's monthly_savings_usd, in order

    @classmethod
    def of(cls, cost: Mapping[str, Any]) -> "Savings":
        potential = _object(cost.get("potential_savings"))
        return cls(amount(potential.get("monthly_amount")), amount(potential.get("annual_amount")),
                   amount(potential.get("percentage")),
                   amount(_object(cost.get("cost_analysis")).get("current_monthly_cost_usd")),
                   tuple(amount(r.get("monthly_savings_usd")) if isinstance(r, dict) else None
                         for r in _list(cost.get("recommendations"))))

    def missing(self, *figures: str) -> list[str]:
        """Which of the figures (``monthly``, ``annual``, ``percentage``, ``current``, ``amounts``) are not numbers."""
        return [FIGURES[name] for name in figures
                if (None in self.amounts if name == "amounts" else getattr(self, name) is None)]

    @classmethod
    def require(cls, cost: Mapping[str, Any], *figures: str, evidence: str = "") -> "Savings":
        """The figures of ``cost``; a ``Contract`` failure when one of ``figures`` is not a number."""
        found = cls.of(cost)
        missing = found.missing(*figures)
        if missing:
            raise ContractViolation(f"the cost optimisation carries no number for {', '.join(missing)}"
                                    + (f"; {evidence}" if evidence else ""))
        return found

    def sum_problems(self) -> list[str]:
        """monthly = sum of the recommendations' savings (± a cent)."""
        if self.monthly is None or None in self.amounts:
            return []
        total = sum(self.amounts, Decimal(0))
        if abs(self.monthly - total) <= CENT:
            return []
        parts = " + ".join(f"{a:.2f}" for a in self.amounts) or "0 (no recommendations)"
        return [f"monthly_amount {self.monthly:.2f} is not the sum of the recommendations' savings "
                f"{parts} = {total:.2f}"]

    def spend_problems(self) -> list[str]:
        """0 ≤ monthly ≤ current spend (+ a cent)."""
        problems = []
        if self.monthly is not None and self.monthly < 0:
            problems.append(f"monthly_amount {self.monthly:.2f} is negative")
        if exceeds(self.monthly, self.current):
            problems.append(f"monthly_amount {self.monthly:.2f} exceeds current_monthly_cost_usd {self.current:.2f}")
        return problems

    def annual_problems(self) -> list[str]:
        """annual = 12 × monthly (± a cent)."""
        if self.monthly is None or self.annual is None or abs(self.annual - 12 * self.monthly) <= CENT:
            return []
        return [f"annual_amount {self.annual:.2f} is not 12 × {self.monthly:.2f} = {12 * self.monthly:.2f}"]

    def percentage_problems(self) -> list[str]:
        """percentage = 100 × monthly / current (± a hundredth of a point; 0 when nothing is spent)."""
        if self.monthly is None or self.percentage is None or self.current is None:
            return []
        expected = Decimal(0) if self.current == 0 else 100 * self.monthly / self.current
        if abs(self.percentage - expected) <= CENT:
            return []
        formula = "0 (current cost is 0)" if self.current == 0 else f"100 × {self.monthly:.2f} / {self.current:.2f}"
        return [f"percentage {self.percentage} is not {formula} = {expected:.2f}"]

    def order_problems(self) -> list[str]:
        """Recommendations sorted by saving, largest first."""
        return [f"recommendations not sorted by saving: [{n}] saves {a:.2f} but [{n + 1}] saves {b:.2f}"
                for n, (a, b) in enumerate(zip(self.amounts, self.amounts[1:]))
                if a is not None and b is not None and b > a]


INVARIANTS: dict[str, tuple[tuple[str, ...], Callable[[Savings], list[str]]]] = {
    # name -> (the figures it reads, the check)
    "order": (("amounts",), Savings.order_problems),
    "sum": (("monthly", "amounts"), Savings.sum_problems),
    "spend": (("monthly", "current"), Savings.spend_problems),
    "annual": (("monthly", "annual"), Savings.annual_problems),
    "percentage": (("monthly", "percentage", "current"), Savings.percentage_problems),
}


def cost_part(result: Any, agent: str) -> Any:
    """The cost optimisation in an agent's result: the supervisor nests it under ``cost_optimization`` (RUN-5.12)."""
    return result.get("cost_optimization") if agent == "supervisor" and isinstance(result, dict) else result


def savings_problems(cost: Any) -> list[str]:
    """Every way a cost optimizer result (RUN-5.12) breaks its shape or the invariants of RUN-5.13."""
    if not isinstance(cost, dict):
        return [f"was not a result object but {type(cost).__name__}: {str(cost)[:200]}"]
    problems = []
    for key, kind in (("potential_savings", dict), ("cost_analysis", dict), ("recommendations", list)):
        if not isinstance(cost.get(key), kind):
            problems.append(f"{key} is {cost.get(key)!r}, not {'a list' if kind is list else 'an object'}")
    figures = Savings.of(cost)
    for field in figures.missing("monthly", "annual", "percentage", "current"):
        section, _, key = field.partition(".")
        problems.append(f"{field} is {_object(cost.get(section)).get(key)!r}, not a number")
    for n, rec in enumerate(_list(cost.get("recommendations"))):
        label = f"recommendations[{n}]" + (f" ({rec.get('type')} on {rec.get('model')})" if isinstance(rec, dict) else "")
        problems += recommendation_problems(rec, label)
    return problems + [p for _, check in INVARIANTS.values() for p in check(figures)]


def expect_savings(cost: Mapping[str, Any], *invariants: str, evidence: str = "") -> None:
    """The named invariants (of :data:`INVARIANTS`) hold for ``cost``, else a ``Business outcome`` failure
    listing each broken one; a figure they read that is not a number is a ``Contract`` failure."""
    figures = Savings.require(cost, *dict.fromkeys(f for name in invariants for f in INVARIANTS[name][0]),
                              evidence=evidence)
    problems = [p for name in invariants for p in INVARIANTS[name][1](figures)]
    if problems:
        raise BusinessOutcomeFailure("; ".join(problems) + (f"; {evidence}" if evidence else ""))
