"""Usage data, the pricing catalogue and WebSocket tickets (CONTRACT section 3)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Request, Response

from . import analytics, pricing
from .api import ApiError, current, field_bool, field_int, field_number, field_str, invalid, json_object
from .domain import UsageRecord
from .clock import iso, utcnow

router = APIRouter(prefix="/api")

MAX_RECORDS = 10_000
# Bounds that keep every figure finite and storable; larger values are refused, never truncated.
MAX_REQUESTS = 1_000_000_000
MAX_TOKENS = 100_000_000
MAX_LATENCY_MS = 3_600_000


def parse_timestamp(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 64:
        raise invalid("timestamp must be an ISO-8601 string")
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise invalid("timestamp must be an ISO-8601 string") from None
    if ts.tzinfo is None:
        raise invalid("timestamp must carry a time zone (e.g. Z)")
    try:
        return ts.astimezone(timezone.utc)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 has no UTC form
        raise invalid("timestamp is out of range") from None


def parse_record(raw: Any) -> UsageRecord:
    """One UsageRecord or ApiError(422) with the reason."""
    if not isinstance(raw, dict):
        raise invalid("record must be an object")
    if "timestamp" not in raw:
        raise invalid("timestamp is required")
    timestamp = parse_timestamp(raw["timestamp"])
    model = field_str(raw, "model", max_len=100)
    if model not in pricing.CATALOGUE:
        raise invalid(f"model {model!r} is not in the pricing catalogue")
    task = field_str(raw, "task", required=False, max_len=100, default=None)
    requests = field_int(raw, "requests", required=False, minimum=1, maximum=MAX_REQUESTS, default=1)
    input_tokens = field_int(raw, "input_tokens", maximum=MAX_TOKENS)
    output_tokens = field_int(raw, "output_tokens", maximum=MAX_TOKENS)
    shared = field_int(raw, "shared_prefix_tokens", required=False, maximum=MAX_TOKENS, default=0)
    if shared > input_tokens:
        raise invalid("shared_prefix_tokens must not exceed input_tokens")
    batchable = field_bool(raw, "batchable", default=False)
    latency = field_number(raw, "latency_ms", required=False, maximum=MAX_LATENCY_MS, default=None)
    return UsageRecord(timestamp=timestamp, model=model, task=task, requests=requests, input_tokens=input_tokens,
                       output_tokens=output_tokens, shared_prefix_tokens=shared, batchable=batchable,
                       latency_ms=None if latency is None else float(latency))


@router.post("/usage")
async def ingest(request: Request):
    principal = await current(request)
    body = await json_object(request)
    records = body.get("records")
    if not isinstance(records, list):
        raise invalid("records must be a list")
    if not records:
        raise invalid("records must not be empty")
    if len(records) > MAX_RECORDS:
        raise invalid(f"at most {MAX_RECORDS} records per request")
    accepted: list[UsageRecord] = []
    rejected: list[dict] = []
    for index, raw in enumerate(records):
        try:
            accepted.append(parse_record(raw))
        except ApiError as exc:
            rejected.append({"index": index, "error": exc.detail})
    if not accepted:
        raise ApiError(422, "no record is valid", "INVALID_BODY", extra={"rejected": rejected})
    await request.app.state.platform.store.usage.add(principal.user.id, accepted)
    return request.app.state.json_response({"accepted": len(accepted), "rejected": rejected}, status_code=201)


@router.get("/usage/summary")
async def summary(request: Request):
    principal = await current(request)
    now = utcnow()
    records = await request.app.state.platform.store.usage.records(principal.user.id, since=now - timedelta(days=31))
    return analytics.usage_summary(records, now)


@router.delete("/usage")
async def delete_usage(request: Request):
    principal = await current(request)
    await request.app.state.platform.store.usage.delete(principal.user.id)
    return Response(status_code=204)


@router.get("/pricing")
async def pricing_catalogue(request: Request):
    await current(request)
    return pricing.pricing_document()


@router.post("/websocket/ticket")
async def websocket_ticket(request: Request):
    principal = await current(request)
    ttl = request.app.state.platform.settings.ticket_ttl_s
    expires = utcnow() + timedelta(seconds=ttl)
    ticket_id = await request.app.state.platform.store.tickets.create(principal.user.id, expires)
    return request.app.state.json_response({"ticket_id": ticket_id, "expires_at": iso(expires), "ttl_seconds": ttl, "single_use": True},
                        status_code=201)
