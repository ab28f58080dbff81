"""Usage data as the business states it, turned into the contract's usage records.

Feature files speak in spend ("Alice's team spends $450 a month on gpt-4o for classification")
or in tables of traffic; this module turns both into ``POST /api/usage`` records.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterable, Mapping

from acceptance.verify import money
from acceptance.verify.errors import SuiteFailure

DEFAULT_DAYS = 10  # spread traffic over this many recent days (enough for "sufficient" data)
DEFAULT_INPUT, DEFAULT_OUTPUT = 1000, 200


class BadExample(SuiteFailure):
    """A feature file states usage the suite cannot turn into records (a suite-side mistake)."""


def count(text: Any) -> int:
    try:
        return int(str(text).replace(",", "").replace("_", "").strip())
    except ValueError:
        raise BadExample(f"{text!r} is not a whole number") from None


def yes(text: Any) -> bool:
    value = str(text).strip().lower()
    if value in ("yes", "true", "y"):
        return True
    if value in ("no", "false", "n", ""):
        return False
    raise BadExample(f"{text!r} is not yes or no")


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def spread(now: datetime, total_requests: int, days: int, **fields: Any) -> list[dict[str, Any]]:
    """``total_requests`` split over ``days`` recent days (one record a day, remainder on the first)."""
    if not 1 <= days <= 29:
        raise BadExample(f"usage can be spread over 1..29 days, not {days}")
    if total_requests < days:
        days = max(1, total_requests)
    share, remainder = divmod(total_requests, days)
    records = []
    for day in range(days):
        requests = share + (remainder if day == 0 else 0)
        records.append({"timestamp": iso(now - timedelta(days=day + 1, hours=1)), "requests": requests, **fields})
    return records


def per_request_cost(pricing: Mapping[str, Any], model: str, input_tokens: int, output_tokens: int) -> Decimal:
    row = next((m for m in pricing.get("models", []) if m.get("model") == model), None)
    if row is None:
        raise BadExample(f"{model!r} is not in the platform's pricing catalogue")
    return money.token_cost(input_tokens, output_tokens, row["input_per_mtok"], row["output_per_mtok"])


def spend(pricing: Mapping[str, Any], now: datetime, model: str, task: str | None, monthly_usd: str | Decimal,
          days: int = DEFAULT_DAYS, input_tokens: int = DEFAULT_INPUT, output_tokens: int = DEFAULT_OUTPUT,
          **extra: Any) -> list[dict[str, Any]]:
    """Records whose cost over the last 30 days is exactly ``monthly_usd`` at list prices."""
    amount = money.parse(monthly_usd)
    unit = per_request_cost(pricing, model, input_tokens, output_tokens)
    requests = amount / unit
    if requests != requests.to_integral_value() or requests <= 0:
        raise BadExample(f"${amount} a month on {model} is not a whole number of {input_tokens}/{output_tokens}-token "
                         f"requests (each costs ${unit}); pick another amount or give the traffic as a table")
    fields: dict[str, Any] = {"model": model, "input_tokens": input_tokens, "output_tokens": output_tokens, **extra}
    if task:
        fields["task"] = task
    return spread(now, int(requests), days, **fields)


COLUMNS = {
    "model": ("model", str), "task": ("task", str), "requests": ("requests", count),
    "input tokens": ("input_tokens", count), "output tokens": ("output_tokens", count),
    "shared prefix tokens": ("shared_prefix_tokens", count), "batchable": ("batchable", yes),
    "latency ms": ("latency_ms", float),
}


def from_rows(rows: Iterable[Mapping[str, str]], now: datetime) -> list[dict[str, Any]]:
    """Rows of a Gherkin table (``model | task | requests | input tokens | output tokens`` and the optional
    ``shared prefix tokens``, ``batchable``, ``latency ms``, ``days`` (spread, default 10) or
    ``days ago`` (one record that day)) as usage records. ``requests`` are totals for the period."""
    records: list[dict[str, Any]] = []
    for row in rows:
        fields: dict[str, Any] = {}
        for heading, value in row.items():
            key = heading.strip().lower()
            if key in ("days", "days ago", "requests"):
                continue
            if key not in COLUMNS:
                raise BadExample(f"unknown usage column {heading!r}; known: {', '.join(COLUMNS)}, days, days ago")
            name, convert = COLUMNS[key]
            if str(value).strip() not in ("", "-"):
                fields[name] = convert(value)
        lowered = {k.strip().lower(): v for k, v in row.items()}
        total = count(lowered.get("requests", "1"))
        if "days ago" in lowered:
            ago = count(lowered["days ago"])
            records.append({"timestamp": iso(now - timedelta(days=ago, hours=1)), "requests": total, **fields})
        else:
            records.extend(spread(now, total, count(lowered.get("days", DEFAULT_DAYS)), **fields))
    return records
