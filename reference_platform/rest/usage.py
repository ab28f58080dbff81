"""Usage data, the pricing catalogue and WebSocket tickets (CONTRACT section 3)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import AfterValidator, Field, PlainValidator, ValidationError, model_validator

from .. import analytics, pricing
from ..clock import iso, utcnow
from ..domain import UsageRecord
from ..validation import describe
from .bodies import Body, json_body
from .errors import invalid
from .principal import Caller

router = APIRouter(prefix="/api")

MAX_RECORDS = 10_000
# Bounds that keep every figure finite and storable; larger values are refused, never truncated.
MAX_REQUESTS = 1_000_000_000
MAX_TOKENS = 100_000_000
MAX_LATENCY_MS = 3_600_000


def parse_timestamp(value: Any) -> datetime:
    """An ISO-8601 text with a time zone, as a UTC datetime."""
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("timestamp must be an ISO-8601 string")
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("timestamp must be an ISO-8601 string") from None
    if ts.tzinfo is None:
        raise ValueError("timestamp must carry a time zone (e.g. Z)")
    try:
        return ts.astimezone(timezone.utc)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 has no UTC form
        raise ValueError("timestamp is out of range") from None


def _priced(model: str) -> str:
    if model not in pricing.CATALOGUE:
        raise ValueError(f"model {model!r} is not in the pricing catalogue")
    return model


Tokens = Annotated[int, Field(ge=0, le=MAX_TOKENS)]


class UsageRecordIn(Body):
    """One usage record as uploaded (CONTRACT REST-3.8, DET-7.7)."""

    timestamp: Annotated[datetime, PlainValidator(parse_timestamp)]
    model: Annotated[str, Field(max_length=100), AfterValidator(_priced)]
    task: Annotated[str, Field(max_length=100)] | None = None
    requests: Annotated[int, Field(ge=1, le=MAX_REQUESTS)] = 1
    input_tokens: Tokens
    output_tokens: Tokens
    shared_prefix_tokens: Tokens = 0
    batchable: bool = False
    latency_ms: Annotated[float, Field(ge=0, le=MAX_LATENCY_MS, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _shared_within_input(self) -> "UsageRecordIn":
        if self.shared_prefix_tokens > self.input_tokens:
            raise ValueError("shared_prefix_tokens must not exceed input_tokens")
        return self

    def record(self) -> UsageRecord:
        return UsageRecord(**self.model_dump())


class UsageUpload(Body):
    """The records are checked one by one: the valid ones are stored, the others reported."""

    records: Annotated[list[Any], Field(min_length=1, max_length=MAX_RECORDS)]


@router.post("/usage", status_code=201)
async def ingest(request: Request, principal: Caller, body: UsageUpload = json_body(UsageUpload)):
    accepted: list[UsageRecord] = []
    rejected: list[dict] = []
    for index, raw in enumerate(body.records):
        try:
            accepted.append(UsageRecordIn.model_validate(raw).record())
        except ValidationError as exc:
            rejected.append({"index": index, "error": describe(exc.errors(include_url=False))})
    if not accepted:
        raise invalid("no record is valid", rejected=rejected)
    await request.app.state.platform.store.usage.add(principal.user.id, accepted)
    return {"accepted": len(accepted), "rejected": rejected}


@router.get("/usage/summary")
async def summary(request: Request, principal: Caller):
    now = utcnow()
    records = await request.app.state.platform.store.usage.records(principal.user.id, since=now - timedelta(days=31))
    return analytics.usage_summary(records, now)


@router.delete("/usage")
async def delete_usage(request: Request, principal: Caller):
    await request.app.state.platform.store.usage.delete(principal.user.id)
    return Response(status_code=204)


@router.get("/pricing")
async def pricing_catalogue(principal: Caller):
    return pricing.pricing_document()


@router.post("/websocket/ticket", status_code=201)
async def websocket_ticket(request: Request, principal: Caller):
    ttl = request.app.state.platform.settings.ticket_ttl_s
    expires = utcnow() + timedelta(seconds=ttl)
    ticket_id = await request.app.state.platform.store.tickets.create(principal.user.id, expires)
    return {"ticket_id": ticket_id, "expires_at": iso(expires), "ttl_seconds": ttl, "single_use": True}
