"""Price catalogue and cost engine of the reference platform.

Implements the reference cost rules of CONTRACT.md section 6 with the money details of
section 7. Everything here is a pure function of the records and a reference time ``now``.

Costs are computed exactly with :class:`~decimal.Decimal` (catalogue prices are finite decimal
fractions, token counts are integers), so the $1.00 threshold and the rounding to cents never
depend on binary floating point. Returned money values are floats rounded half-up to cents.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Any, Literal, ParamSpec, TypeVar

from .domain import UsageRecord
from .faults import Faults

Tier = Literal["premium", "economy"]
Sufficiency = Literal["sufficient", "partial", "insufficient"]

PRICING_AS_OF = "2026-11-01"
PERIOD_DAYS = 30
"""Length of the analysis window; the window's cost is reported as the monthly cost."""
MIN_DAYS_FOR_SUFFICIENT = 7
"""Distinct UTC days with records needed for ``data_sufficiency == "sufficient"``."""
MIN_SAVING_USD = Decimal("1.00")
"""A recommendation is made only when its unrounded monthly saving reaches this amount."""

ROUTABLE_TASKS: frozenset[str] = frozenset({"classification", "extraction", "routing", "tagging"})
"""Tasks an economy model handles as well as a premium one (matched exactly, lower case)."""

LEVERS: tuple[str, ...] = ("model_routing", "prompt_caching", "batching")
"""The optimisation levers, in the order they are applied (and break ties in sorting)."""

EFFORT: dict[str, str] = {"model_routing": "medium", "prompt_caching": "low", "batching": "medium"}


@dataclass(frozen=True)
class ModelPrice:
    """List prices of one model, in USD per one million tokens."""

    model: str
    vendor: str
    tier: Tier
    input_per_mtok: float
    cached_input_per_mtok: float
    output_per_mtok: float
    batch_discount: float


CATALOGUE: dict[str, ModelPrice] = {
    price.model: price
    for price in (
        ModelPrice("gpt-4o", "openai", "premium", 2.50, 1.25, 10.00, 0.5),
        ModelPrice("gpt-4o-mini", "openai", "economy", 0.15, 0.075, 0.60, 0.5),
        ModelPrice("claude-sonnet-4", "anthropic", "premium", 3.00, 0.30, 15.00, 0.5),
        ModelPrice("claude-haiku-3.5", "anthropic", "economy", 0.80, 0.08, 4.00, 0.5),
        ModelPrice("gemini-2.5-pro", "google", "premium", 1.25, 0.31, 10.00, 0.5),
        ModelPrice("gemini-2.5-flash", "google", "economy", 0.30, 0.075, 2.50, 0.5),
    )
}


# --------------------------------------------------------------------------- exact arithmetic

_EXACT = Context(prec=80)
_CENT = Decimal("0.01")
_MTOK = Decimal(1_000_000)

P = ParamSpec("P")
R = TypeVar("R")


def exact(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` under a decimal context wide enough for every cost to stay exact."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext(_EXACT):
            return function(*args, **kwargs)

    return wrapper


def _dec(value: float | int) -> Decimal:
    return Decimal(value) if isinstance(value, int) else Decimal(str(value))


@dataclass(frozen=True)
class _Rates:
    input: Decimal
    cached_input: Decimal
    output: Decimal
    batch_discount: Decimal


_RATES: dict[str, _Rates] = {
    name: _Rates(
        _dec(p.input_per_mtok),
        _dec(p.cached_input_per_mtok),
        _dec(p.output_per_mtok),
        _dec(p.batch_discount),
    )
    for name, p in CATALOGUE.items()
}


def _rates(model: str) -> _Rates:
    try:
        return _RATES[model]
    except KeyError:
        raise ValueError(f"model {model!r} is not in the price catalogue") from None


def _fault(faults: Faults | None, name: str) -> bool:
    return faults is not None and faults.active(name)


def _misprinted_rates(model: str) -> _Rates:
    """The fault ``catalogue_price_wrong``: gpt-4o-mini's output price misread as $0.06 (not $0.60)."""
    rates = _rates(model)
    if model == "gpt-4o-mini":
        return _Rates(rates.input, rates.cached_input, _dec(0.06), rates.batch_discount)
    return rates


def round_money(value: Decimal | float | int) -> float:
    """Round an amount of USD to cents, half up, as a float."""
    amount = value if isinstance(value, Decimal) else _dec(value)
    return float(_cents(amount))


def _cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP, context=_EXACT)


def usd(value: Decimal | float) -> str:
    """Format an amount as ``$1,234.56`` (rounded half up to cents)."""
    return f"${round_money(value):,.2f}"


# --------------------------------------------------------------------------- catalogue queries

def pricing_document() -> dict[str, Any]:
    """Body of ``GET /api/pricing``: ``{as_of, models:[...]}`` in catalogue order."""
    return {"as_of": PRICING_AS_OF, "models": [asdict(price) for price in CATALOGUE.values()]}


def economy_model_for(model: str) -> str | None:
    """The same vendor's economy model for a premium catalogue model, else ``None``."""
    price = CATALOGUE.get(model)
    if price is None or price.tier != "premium":
        return None
    for candidate in CATALOGUE.values():
        if candidate.vendor == price.vendor and candidate.tier == "economy":
            return candidate.model
    return None


# --------------------------------------------------------------------------- window

def to_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def utc_date(moment: datetime) -> date:
    """The UTC calendar day of ``moment``."""
    return to_utc(moment).date()


def in_window(
    records: Iterable[UsageRecord], now: datetime, days: int = PERIOD_DAYS
) -> list[UsageRecord]:
    """Records of the analysis window: ``now - days <= timestamp <= now``.

    A record exactly ``days`` old is inside. Records stamped after ``now`` are left out: usage
    cannot come from the future, and keeping them would make a result depend on clock skew.
    """
    end = to_utc(now)
    start = end - timedelta(days=days)
    return [record for record in records if start <= to_utc(record.timestamp) <= end]


def data_sufficiency(records: Iterable[UsageRecord], now: datetime) -> Sufficiency:
    """``insufficient`` with no records in the window, ``partial`` with records on fewer than
    seven distinct UTC days, else ``sufficient`` (CONTRACT.md section 7)."""
    days = {utc_date(record.timestamp) for record in in_window(records, now)}
    if not days:
        return "insufficient"
    return "partial" if len(days) < MIN_DAYS_FOR_SUFFICIENT else "sufficient"


# --------------------------------------------------------------------------- costs

def _cost(record: UsageRecord, rates: _Rates) -> Decimal:
    per_request = record.input_tokens * rates.input + record.output_tokens * rates.output
    return record.requests * per_request / _MTOK


@exact
def record_cost_exact(record: UsageRecord, model: str | None = None) -> Decimal:
    """Exact cost of ``record`` in USD, priced on ``model`` (default: the record's own model)."""
    return _cost(record, _rates(model or record.model))


def record_cost(record: UsageRecord, model: str | None = None) -> float:
    """requests × (input_tokens × input + output_tokens × output) / 1e6, unrounded."""
    return float(record_cost_exact(record, model))


def _sorted_by_cost(costs: dict[str, Decimal]) -> list[str]:
    return sorted(costs, key=lambda model: (-costs[model], model))


@exact
def _cost_analysis(window: Sequence[UsageRecord]) -> tuple[dict[str, Any], Decimal]:
    requests: dict[str, int] = {}
    costs: dict[str, Decimal] = {}
    for record in window:
        requests[record.model] = requests.get(record.model, 0) + record.requests
        cost = _cost(record, _rates(record.model))
        costs[record.model] = costs.get(record.model, Decimal(0)) + cost
    total = sum(costs.values(), Decimal(0))
    rows = [
        {"model": m, "requests": requests[m], "monthly_cost_usd": round_money(costs[m])}
        for m in _sorted_by_cost(costs)
    ]
    return {
        "period_days": PERIOD_DAYS,
        "current_monthly_cost_usd": round_money(total),
        "by_model": rows,
    }, total


def cost_analysis(records: Iterable[UsageRecord], now: datetime) -> dict[str, Any]:
    """``{period_days, current_monthly_cost_usd, by_model:[{model, requests, monthly_cost_usd}]}``
    over the window; rows by cost, largest first (ties by model name)."""
    return _cost_analysis(in_window(records, now))[0]


# --------------------------------------------------------------------------- levers

@dataclass
class _Finding:
    """What one lever saves on one model's traffic, accumulated over records."""

    lever: str
    model: str
    target_model: str | None = None
    requests: int = 0
    before: Decimal = Decimal(0)  # cost of the affected traffic before this lever
    saving: Decimal = Decimal(0)
    cached_tokens: int = 0
    tasks: set[str] = field(default_factory=set)

    def add(self, record: UsageRecord, before: Decimal, saving: Decimal) -> None:
        self.requests += record.requests
        self.before += before
        self.saving += saving


@exact
def _findings(window: Sequence[UsageRecord], faults: Faults | None = None) -> list[_Finding]:
    """Apply the three levers in order to every record; one finding per (lever, model)."""
    rates_of = _rates
    if _fault(faults, "catalogue_price_wrong"):
        rates_of = _misprinted_rates
    found: dict[tuple[str, str], _Finding] = {}

    def finding(lever: str, model: str) -> _Finding:
        key = (lever, model)
        if key not in found:
            found[key] = _Finding(lever, model)
        return found[key]

    for record in window:
        model = record.model
        cost = _cost(record, rates_of(model))

        target = economy_model_for(model) if record.task in ROUTABLE_TASKS else None
        if target is not None:
            after = _cost(record, rates_of(target))
            if _fault(faults, "savings_ignore_new_cost"):
                after = Decimal(0)
            routing = finding("model_routing", model)
            routing.target_model = target
            routing.tasks.add(str(record.task))
            routing.add(record, cost, cost - after)
            cost, model = after, target

        rates = rates_of(model)
        prefix = min(max(record.shared_prefix_tokens, 0), record.input_tokens)
        if prefix > 0:
            saving = record.requests * prefix * (rates.input - rates.cached_input) / _MTOK
            caching = finding("prompt_caching", model)
            caching.cached_tokens += record.requests * prefix
            caching.add(record, cost, saving)
            cost -= saving

        if record.batchable:
            finding("batching", model).add(record, cost, cost * rates.batch_discount)

    return list(found.values())


def _rate_text(value: float) -> str:
    amount = _dec(value)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        return f"${amount:.2f}"
    return f"${amount}"


def _join(words: Iterable[str]) -> str:
    items = sorted(words)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _recommendation(f: _Finding) -> dict[str, Any]:
    saving = _cents(f.saving)
    after = f.before - f.saving
    price = CATALOGUE[f.model]
    if f.lever == "model_routing":
        tasks = _join(f.tasks)
        title = f"Route {tasks} requests from {f.model} to {f.target_model}"
        rationale = (
            f"{f.requests:,} {tasks} requests on {f.model} cost {usd(f.before)} a month; "
            f"{f.target_model} handles such tasks for {usd(after)}, "
            f"saving {usd(saving)} a month."
        )
    elif f.lever == "prompt_caching":
        title = f"Cache shared prompt prefixes on {f.model}"
        rationale = (
            f"{f.requests:,} requests on {f.model} repeat a shared prompt prefix "
            f"({f.cached_tokens:,} tokens a month); billing it at the cached rate of "
            f"{_rate_text(price.cached_input_per_mtok)} instead of "
            f"{_rate_text(price.input_per_mtok)} per million tokens "
            f"saves {usd(saving)} a month."
        )
    else:
        title = f"Send batchable requests on {f.model} through the batch API"
        rationale = (
            f"{f.requests:,} batchable requests on {f.model} cost {usd(f.before)} a month; "
            f"the batch API bills them {price.batch_discount:.0%} less, "
            f"saving {usd(saving)} a month."
        )
    result: dict[str, Any] = {
        "id": f"{f.lever}:{f.model}",
        "type": f.lever,
        "title": title,
        "model": f.model,
    }
    if f.lever == "model_routing":
        result["target_model"] = f.target_model
    result.update(
        monthly_savings_usd=float(saving), effort=EFFORT[f.lever], rationale=rationale
    )
    return result


@exact
def _recommendations(window: Sequence[UsageRecord], faults: Faults | None = None) -> list[dict[str, Any]]:
    kept = [f for f in _findings(window, faults) if f.saving >= MIN_SAVING_USD]
    kept.sort(key=lambda f: (-_cents(f.saving), LEVERS.index(f.lever), f.model),
              reverse=_fault(faults, "savings_unsorted"))
    return [_recommendation(f) for f in kept]


def recommendations(records: Iterable[UsageRecord], now: datetime) -> list[dict[str, Any]]:
    """Recommendations of the reference cost rules over the window.

    The levers apply in order (routing, caching, batching), each to the cost left by the one
    before, on the model the traffic runs on after routing. One recommendation per (lever,
    model) whose unrounded saving is at least $1.00, sorted by rounded saving, largest first;
    ties go routing, caching, batching, then by model name.
    """
    return _recommendations(in_window(records, now))


# --------------------------------------------------------------------------- optimizer result

def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _summary(
    sufficiency: Sufficiency, days: int, current: Decimal, monthly: Decimal,
    annual: Decimal, percentage: Decimal, count: int,
) -> str:
    if sufficiency == "insufficient":
        return (
            f"Not enough usage data: there are no usage records in the last {PERIOD_DAYS} days, "
            "so there is no spend to analyse and nothing to recommend yet."
        )
    text = f"Your AI spend is {usd(current)} a month"
    if sufficiency == "partial":
        text += f" (based on only {_plural(days, 'day')} of usage, so treat it as an estimate)"
    if count == 0:
        return text + (
            f". No change would save at least {usd(MIN_SAVING_USD)} a month, "
            "so there is nothing to recommend."
        )
    return text + (
        f". Acting on {_plural(count, 'recommendation')} saves {usd(monthly)} a month "
        f"({usd(annual)} a year, {percentage:.2f}% of the spend)."
    )


@exact
def optimize(records: Iterable[UsageRecord], now: datetime, faults: Faults | None = None) -> dict[str, Any]:
    """The ``cost_optimizer`` result of CONTRACT.md section 5 over the window."""
    window = in_window(records, now)
    sufficiency = data_sufficiency(window, now)
    analysis, _ = _cost_analysis(window)
    recs = _recommendations(window, faults)

    current = _dec(analysis["current_monthly_cost_usd"])
    counted = recs[:-1] if _fault(faults, "savings_total_misses_one") else recs
    monthly = sum((_dec(r["monthly_savings_usd"]) for r in counted), Decimal(0))
    annual = _cents(monthly * (10 if _fault(faults, "savings_annual_wrong") else 12))
    percentage = (
        _cents(100 * monthly / current)
        if current > 0 else Decimal(0)
    )
    days = len({utc_date(record.timestamp) for record in window})
    return {
        "summary": _summary(sufficiency, days, current, monthly, annual, percentage, len(recs)),
        "data_sufficiency": sufficiency,
        "cost_analysis": analysis,
        "recommendations": recs,
        "potential_savings": {
            "monthly_amount": round_money(monthly),
            "annual_amount": round_money(annual),
            "percentage": float(percentage),
        },
    }
