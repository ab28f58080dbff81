"""JSON Schemas (Draft 2020-12) of the contract's server frames, REST bodies and agent results.

Strict where CONTRACT.md is explicit (types, enums, required keys, ``msg_<hex>`` ids, progress
0..100, ISO-8601 UTC times); additional properties are allowed everywhere, as the contract allows
extra fields.

* :func:`validate_frame` checks one server frame: an :class:`~acceptance.events.Event` is checked
  in its canonical form (so Compat dialects are checked after normalisation); a dict is checked
  as it is, i.e. it must already be canonical.
* :func:`validate_body` checks a REST body (or an agent result) against the schema of that name.

Both raise :class:`~acceptance.errors.ContractViolation` naming the frame type or schema, the JSON
path of each error and an excerpt of the checked document.
"""
from __future__ import annotations

import copy
import json
import re
from datetime import date, datetime, timedelta
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from acceptance.errors import ContractViolation
from acceptance.events import Event

__all__ = [
    "AGENT_NAMES",
    "ERROR_CODES",
    "FRAME_TYPES",
    "BODY_SCHEMAS",
    "FRAME_SCHEMAS",
    "SCHEMA_NAMES",
    "schema",
    "validate_frame",
    "validate_body",
    "frame_errors",
    "body_errors",
]

AGENT_NAMES = ("supervisor", "triage", "cost_optimizer", "data_analysis", "performance_optimizer")
ERROR_CODES = (
    "INVALID_JSON", "UNKNOWN_MESSAGE_TYPE", "INVALID_PAYLOAD", "UNKNOWN_AGENT", "THREAD_NOT_FOUND",
    "RUN_NOT_FOUND", "FORBIDDEN", "RATE_LIMITED", "RUN_LIMIT",
)
MESSAGE_ID_PATTERN = r"^msg_[0-9a-f]+$"
UPPER_SNAKE_PATTERN = r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$"
_MAX_ERRORS = 10
_EXCERPT = 400

# --------------------------------------------------------------------------- formats

_FORMATS = FormatChecker(formats=())
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


@_FORMATS.checks("date-time", raises=(ValueError,))
def _is_utc_datetime(value: object) -> bool:
    """ISO-8601 with a date, a time and a UTC designator (``Z`` or a zero offset)."""
    if not isinstance(value, str):
        return True
    if not _DATETIME_RE.match(value):
        raise ValueError("not an ISO-8601 date-time with a time zone")
    text = value[:-1] + "+00:00" if value[-1] in "zZ" else value
    parsed = datetime.fromisoformat(text)
    if parsed.utcoffset() != timedelta(0):
        raise ValueError(f"not UTC (offset {parsed.utcoffset()})")
    return True


@_FORMATS.checks("date", raises=(ValueError,))
def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_RE.match(value):
        raise ValueError("not a YYYY-MM-DD date")
    date.fromisoformat(value)
    return True


# --------------------------------------------------------------------------- building blocks


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None, **extra: Any) -> dict:
    props = dict(required)
    props.update(optional or {})
    out = {"type": "object", "required": list(required), "properties": props}
    out.update(extra)
    return out


STR = {"type": "string"}
NONEMPTY = {"type": "string", "minLength": 1}
NUM = {"type": "number"}
NONNEG = {"type": "number", "minimum": 0}
INT = {"type": "integer"}
NONNEG_INT = {"type": "integer", "minimum": 0}
BOOL = {"type": "boolean"}
OBJ = {"type": "object"}
DATETIME = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
MONEY = {"type": "number"}
STR_LIST = {"type": "array", "items": STR}
AGENT = {"enum": list(AGENT_NAMES)}

# -- results (CONTRACT section 5 and 7)

RECOMMENDATION = _obj(
    {
        "id": NONEMPTY,
        "type": {"enum": ["model_routing", "prompt_caching", "batching"]},
        "title": NONEMPTY,
        "model": NONEMPTY,
        "monthly_savings_usd": MONEY,
        "effort": {"enum": ["low", "medium", "high"]},
        "rationale": STR,
    },
    {"target_model": {"type": ["string", "null"]}},
)
DATA_SUFFICIENCY = {"enum": ["sufficient", "partial", "insufficient"]}

COST_OPTIMIZER_RESULT = _obj({
    "summary": STR,
    "data_sufficiency": DATA_SUFFICIENCY,
    "cost_analysis": _obj({
        "period_days": {"const": 30},
        "current_monthly_cost_usd": {"type": "number", "minimum": 0},
        "by_model": {"type": "array", "items": _obj({"model": NONEMPTY, "requests": NONNEG_INT,
                                                     "monthly_cost_usd": NONNEG})},
    }),
    "recommendations": {"type": "array", "items": RECOMMENDATION},
    "potential_savings": _obj({"monthly_amount": NONNEG, "annual_amount": NONNEG, "percentage": {
        "type": "number", "minimum": 0, "maximum": 100}}),
})

DATA_ANALYSIS_RESULT = _obj({
    "summary": STR,
    "period_days": {"type": "integer", "minimum": 1},
    "daily": {"type": "array", "items": _obj({"date": DATE, "cost_usd": NONNEG, "requests": NONNEG_INT})},
    "by_model": {"type": "array", "items": _obj({"model": NONEMPTY})},
    "anomalies": {"type": "array", "items": _obj({"date": DATE, "cost_usd": NONNEG, "baseline_usd": NONNEG})},
})

PERFORMANCE_OPTIMIZER_RESULT = _obj({
    "summary": STR,
    "latency": {"type": "array", "items": _obj({"model": NONEMPTY, "p50_ms": NONNEG, "p95_ms": NONNEG})},
    "recommendations": {"type": "array"},
})

SUPERVISOR_RESULT = _obj({
    "summary": STR,
    "data_sufficiency": DATA_SUFFICIENCY,
    "cost_optimization": COST_OPTIMIZER_RESULT,
    "data_analysis": DATA_ANALYSIS_RESULT,
})

RESULT_SCHEMAS = {
    "supervisor": SUPERVISOR_RESULT,
    "cost_optimizer": COST_OPTIMIZER_RESULT,
    "data_analysis": DATA_ANALYSIS_RESULT,
    "performance_optimizer": PERFORMANCE_OPTIMIZER_RESULT,
}

# -- REST bodies (CONTRACT sections 1-3)

USER = _obj({"id": NONEMPTY, "email": NONEMPTY, "permissions": STR_LIST},
            {"name": {"type": ["string", "null"]}})
TOKENS = _obj({
    "access_token": NONEMPTY,
    "refresh_token": NONEMPTY,
    "token_type": {"const": "Bearer"},
    "expires_in": {"type": "integer", "minimum": 1},
    "user": USER,
})
VALIDATE_VALID = _obj({"valid": {"const": True}, "user_id": NONEMPTY, "email": NONEMPTY,
                       "permissions": STR_LIST, "expires_at": DATETIME})
VALIDATE_INVALID = _obj({"valid": {"const": False}, "error": NONEMPTY})
VALIDATE = {
    "type": "object",
    "required": ["valid"],
    "properties": {"valid": BOOL},
    "if": {"properties": {"valid": {"const": True}}},
    "then": VALIDATE_VALID,
    "else": VALIDATE_INVALID,
}
ME = _obj({"user_id": NONEMPTY, "email": NONEMPTY, "name": {"type": ["string", "null"]},
           "permissions": STR_LIST, "created_at": DATETIME})
LOGOUT = _obj({"status": {"const": "success"}})
HEALTH = _obj(
    {
        "status": {"enum": ["healthy", "unhealthy"]},
        "service": NONEMPTY,
        "version": STR,
        "environment": STR,
        "uptime_seconds": NONNEG,
        "checks": _obj({"database": STR}, additionalProperties=STR),
    },
    **{
        "if": {"properties": {"status": {"const": "healthy"}}},
        "then": {"properties": {"checks": {"additionalProperties": {"const": "ok"},
                                           "properties": {"database": {"const": "ok"}}}}},
        "else": {"properties": {"checks": {"not": {"additionalProperties": {"const": "ok"}}}}},
    },
)
READY = _obj({"status": {"const": "ready"}})
ERROR_BODY = _obj({"detail": STR}, {"code": {"type": "string", "pattern": UPPER_SNAKE_PATTERN}})
THREAD = _obj({
    "id": NONEMPTY,
    "object": {"const": "thread"},
    "title": STR,
    "created_at": DATETIME,
    "updated_at": DATETIME,
    "metadata": OBJ,
    "message_count": NONNEG_INT,
})
THREAD_LIST = _obj({
    "threads": {"type": "array", "items": THREAD},
    "total": NONNEG_INT,
    "limit": {"type": "integer", "minimum": 1, "maximum": 100},
    "offset": NONNEG_INT,
})
MESSAGE = _obj(
    {"id": NONEMPTY, "role": {"enum": ["user", "assistant"]}, "content": STR, "created_at": DATETIME,
     "metadata": OBJ},
    {"run_id": {"type": ["string", "null"]}},
)
MESSAGES_PAGE = _obj({
    "thread_id": NONEMPTY,
    "messages": {"type": "array", "items": MESSAGE},
    "total": NONNEG_INT,
    "limit": {"type": "integer", "minimum": 1},
    "offset": NONNEG_INT,
})
USAGE_INGEST = _obj({
    "accepted": NONNEG_INT,
    "rejected": {"type": "array", "items": _obj({"index": NONNEG_INT, "error": STR})},
})
USAGE_SUMMARY = _obj({
    "period_days": {"const": 30},
    "total_cost_usd": NONNEG,
    "by_model": {"type": "array", "items": _obj({
        "model": NONEMPTY, "requests": NONNEG_INT, "input_tokens": NONNEG_INT, "output_tokens": NONNEG_INT,
        "cost_usd": NONNEG})},
})
PRICING = _obj({
    "as_of": NONEMPTY,
    "models": {"type": "array", "items": _obj({
        "model": NONEMPTY, "vendor": NONEMPTY, "tier": {"enum": ["premium", "economy"]},
        "input_per_mtok": NONNEG, "cached_input_per_mtok": NONNEG, "output_per_mtok": NONNEG,
        "batch_discount": {"type": "number", "minimum": 0, "maximum": 1}})},
})
WEBSOCKET_TICKET = _obj({"ticket_id": NONEMPTY, "expires_at": DATETIME, "ttl_seconds": {"const": 300},
                         "single_use": {"const": True}})

BODY_SCHEMAS: dict[str, dict] = {
    "tokens": TOKENS,
    "validate": VALIDATE,
    "validate_valid": VALIDATE_VALID,
    "validate_invalid": VALIDATE_INVALID,
    "me": ME,
    "logout": LOGOUT,
    "health": HEALTH,
    "ready": READY,
    "error": ERROR_BODY,
    "thread": THREAD,
    "thread_list": THREAD_LIST,
    "message": MESSAGE,
    "messages_page": MESSAGES_PAGE,
    "usage_ingest": USAGE_INGEST,
    "usage_summary": USAGE_SUMMARY,
    "pricing": PRICING,
    "websocket_ticket": WEBSOCKET_TICKET,
    "cost_optimizer_result": COST_OPTIMIZER_RESULT,
    "data_analysis_result": DATA_ANALYSIS_RESULT,
    "performance_optimizer_result": PERFORMANCE_OPTIMIZER_RESULT,
    "supervisor_result": SUPERVISOR_RESULT,
}

# -- server frames (CONTRACT sections 4, 5)


def _frame(type_: str, data: dict, *, agent: bool = False, tool: bool = False, extra_all_of: list | None = None,
           message_id: dict | None = None, timestamp: dict | None = None, required_envelope: bool = True) -> dict:
    props: dict[str, Any] = {
        "type": {"const": type_},
        "message_id": message_id or {"type": "string", "pattern": MESSAGE_ID_PATTERN},
        "timestamp": timestamp or DATETIME,
        "data": data,
    }
    required = ["type", "message_id", "timestamp", "data"] if required_envelope else ["type", "data"]
    if agent:
        props.update(run_id=NONEMPTY, thread_id=NONEMPTY, agent_name=AGENT)
        required += ["run_id", "thread_id", "agent_name"]
    else:
        props.update(run_id=NONEMPTY, thread_id=NONEMPTY)
    if tool:
        props["tool_name"] = NONEMPTY
        required.append("tool_name")
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{type_} frame",
        "type": "object",
        "required": required,
        "properties": props,
    }
    if extra_all_of:
        out["allOf"] = extra_all_of
    return out


def _result_by_agent() -> list[dict]:
    return [
        {"if": {"required": ["agent_name"], "properties": {"agent_name": {"const": agent}}},
         "then": {"properties": {"data": {"properties": {"result": schema_}}}}}
        for agent, schema_ in RESULT_SCHEMAS.items()
    ]


FRAME_SCHEMAS: dict[str, dict] = {
    "connection_established": _frame("connection_established", _obj({
        "connection_id": NONEMPTY,
        "user_id": NONEMPTY,
        "server_time": DATETIME,
        "heartbeat_interval_s": {"type": "number", "exclusiveMinimum": 0},
        "max_message_bytes": {"type": "integer", "minimum": 1},
    })),
    "heartbeat": _frame("heartbeat", OBJ),
    "pong": _frame("pong", _obj({"server_time": DATETIME})),
    "agent_started": _frame("agent_started", _obj({"task": STR}, {"parent_agent": AGENT}), agent=True),
    "agent_thinking": _frame("agent_thinking", _obj({
        "reasoning": {"type": "string", "minLength": 1, "pattern": r"\S"},
        "step_number": NONNEG_INT,
        "progress_percentage": {"type": "number", "minimum": 0, "maximum": 100},
    }), agent=True),
    "tool_executing": _frame("tool_executing", _obj({"execution_id": NONEMPTY, "parameters": OBJ}),
                             agent=True, tool=True),
    "tool_completed": _frame("tool_completed", _obj({
        "execution_id": NONEMPTY, "success": BOOL, "duration_ms": NONNEG, "results": {},
    }), agent=True, tool=True),
    "agent_completed": _frame("agent_completed", _obj({
        "status": {"const": "completed"}, "duration_ms": NONNEG, "result": OBJ,
    }), agent=True, extra_all_of=_result_by_agent()),
    "agent_error": _frame("agent_error", _obj({"code": NONEMPTY, "message": STR, "recoverable": BOOL}), agent=True),
    "agent_stopped": _frame("agent_stopped", _obj({"reason": {"const": "user_requested"}}), agent=True),
    "error": _frame("error", _obj(
        {"code": {"enum": list(ERROR_CODES)}, "message": STR},
        {"retry_after_s": {"type": "number", "minimum": 0}},
        **{"if": {"properties": {"code": {"const": "RATE_LIMITED"}}},
           "then": {"required": ["retry_after_s"]}},
    )),
    "thread_data": _frame("thread_data", _obj({"thread": THREAD, "messages": {"type": "array", "items": MESSAGE}})),
    # Compat: Netra's refusal after accept; its ids and time are not guaranteed
    "error_message": _frame("error_message", _obj({"error_code": NONEMPTY}),
                            message_id={"type": ["string", "null"]},
                            timestamp={"type": ["string", "number", "null"]},
                            required_envelope=False),
}
FRAME_TYPES = tuple(FRAME_SCHEMAS)

SCHEMA_NAMES: tuple[str, ...] = tuple(f"frame:{t}" for t in FRAME_SCHEMAS) + tuple(BODY_SCHEMAS)

for _s in BODY_SCHEMAS.values():
    _s.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")

_VALIDATORS: dict[str, Draft202012Validator] = {}


def schema(name: str) -> dict:
    """A copy of the schema called ``name`` (a REST/result name, or ``frame:<type>``)."""
    return copy.deepcopy(_lookup(name))


def _lookup(name: str) -> dict:
    if name.startswith("frame:") and name[6:] in FRAME_SCHEMAS:
        return FRAME_SCHEMAS[name[6:]]
    if name in BODY_SCHEMAS:
        return BODY_SCHEMAS[name]
    raise KeyError(f"no schema {name!r}; known: {', '.join(SCHEMA_NAMES)}")


def _validator(name: str) -> Draft202012Validator:
    v = _VALIDATORS.get(name)
    if v is None:
        s = _lookup(name)
        Draft202012Validator.check_schema(s)
        v = _VALIDATORS[name] = Draft202012Validator(s, format_checker=_FORMATS)
    return v


def _excerpt(doc: Any) -> str:
    from acceptance.redaction import REDACTOR  # late: redaction has no dependency on this module

    try:
        text = json.dumps(REDACTOR.redact(doc), ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        text = repr(doc)
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 3] + "..."


def _leaf_errors(error) -> list:
    """For if/then, allOf, anyOf, oneOf: the underlying errors (closest to the cause)."""
    if error.context:
        best = {}
        for sub in error.context:
            best.setdefault(tuple(sub.absolute_path), sub)
        leaves = []
        for sub in best.values():
            leaves.extend(_leaf_errors(sub))
        return leaves
    return [error]


def _errors(name: str, doc: Any) -> list[str]:
    errors = sorted(_validator(name).iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    out = []
    for error in errors:
        for leaf in _leaf_errors(error):
            message = leaf.message if len(leaf.message) <= 200 else leaf.message[:197] + "..."
            out.append(f"{leaf.json_path}: {message}")
    # de-duplicate, keep order
    return list(dict.fromkeys(out))


def frame_errors(frame: Event | dict) -> list[str]:
    """The schema errors of a frame (``[]`` when it conforms), each ``<json path>: <message>``."""
    doc = frame.canonical() if isinstance(frame, Event) else frame
    if not isinstance(doc, dict):
        return [f"$: frame is not an object but {type(doc).__name__}"]
    ftype = doc.get("type")
    if ftype not in FRAME_SCHEMAS:
        return [f"$.type: unknown server frame type {ftype!r}"]
    return _errors(f"frame:{ftype}", doc)


def body_errors(schema_name: str, body: Any) -> list[str]:
    return _errors(schema_name, body)


def _raise(what: str, errors: list[str], doc: Any) -> None:
    shown = errors[:_MAX_ERRORS]
    more = f"\n  ... and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
    raise ContractViolation(
        f"{what} breaks its schema ({len(errors)} error(s)):\n  "
        + "\n  ".join(shown) + more + f"\n  {what}: {_excerpt(doc)}"
    )


def validate_frame(event_or_dict: Event | dict, *, allow_unknown: bool = False) -> None:
    """Check one server frame against the schema of its type; raises :class:`ContractViolation`.

    An unknown type is a violation unless ``allow_unknown``.
    """
    doc = event_or_dict.canonical() if isinstance(event_or_dict, Event) else event_or_dict
    ftype = doc.get("type") if isinstance(doc, dict) else None
    if allow_unknown and isinstance(doc, dict) and ftype not in FRAME_SCHEMAS:
        return
    errors = frame_errors(event_or_dict)
    if errors:
        label = f"{ftype} frame" if isinstance(ftype, str) else "server frame"
        if isinstance(event_or_dict, Event) and event_or_dict.dialect != "data":
            label += f" (received in {event_or_dict.dialect} form)"
        _raise(label, errors, doc)


def validate_body(schema_name: str, body: Any) -> None:
    """Check a REST body or an agent result against the named schema; raises :class:`ContractViolation`."""
    errors = body_errors(schema_name, body)
    if errors:
        _raise(f"{schema_name} body", errors, body)
