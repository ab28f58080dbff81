"""Checks of frames, REST bodies and agent results against the contract's machine-readable documents.

Nothing here is written by hand: every schema is read from ``contract/openapi.yaml`` (REST bodies)
and ``contract/asyncapi.yaml`` (frames and agent results), compiled once per process (Draft
2020-12, both documents in one registry so that each may ``$ref`` the other).

* :func:`validate_frame` checks one server frame: an :class:`~acceptance.client.events.Event` is checked in
  its canonical form (so Compat dialects are checked after normalisation, TOL-8.7); a dict is
  checked as it is. A frame of a type the contract does not name is tolerated (TOL-8.2): only its
  envelope is checked.
* :func:`validate_body` checks a REST body or an agent result against the schema of that name.
* :func:`validate_response` checks an HTTP response against the operation the OpenAPI document
  declares for its method, path and status.

A conforming document passes through ``jsonschema_rs`` (fast); a violation is worded by ``jsonschema``.
Every violation raises :class:`~acceptance.verify.errors.ContractViolation` whose message names the frame
or body, the clause (``x-clause`` of the innermost schema on the failing path), the JSON pointer of
the failing keyword in the document, the JSON path in the checked document, and an excerpt.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from acceptance.client.events import Event
from acceptance.verify import contract
from acceptance.verify.errors import ContractViolation

__all__ = [
    "AGENT_NAMES",
    "ERROR_CODES",
    "FRAME_TYPES",
    "CLIENT_FRAME_TYPES",
    "BODY_SCHEMAS",
    "FRAME_SCHEMAS",
    "DIALECT_FRAME_TYPES",
    "SCHEMA_NAMES",
    "Violation",
    "documents",
    "schema",
    "validate_frame",
    "validate_body",
    "validate_response",
    "frame_errors",
    "body_errors",
    "response_errors",
]

_MAX_ERRORS = 10
_EXCERPT = 400
OPENAPI_NAME, ASYNCAPI_NAME = "openapi.yaml", "asyncapi.yaml"

# --------------------------------------------------------------------------- the documents


@lru_cache(maxsize=1)
def documents() -> dict[str, dict]:
    """Both documents, parsed once: ``{"openapi.yaml": {...}, "asyncapi.yaml": {...}}``."""
    out = {}
    for path in (contract.OPENAPI, contract.ASYNCAPI):
        # JSON round trip: YAML anchors become plain copies, keys plain strings
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster
        out[path.name] = json.loads(json.dumps(yaml.load(path.read_text(encoding="utf-8"), Loader=loader)))
    return out


def _uri(doc_name: str) -> str:
    return (contract.CONTRACT_DIR / doc_name).as_uri()


@lru_cache(maxsize=1)
def _registry() -> Registry:
    return Registry().with_resources(
        (_uri(name), Resource.from_contents(doc, default_specification=DRAFT202012))
        for name, doc in documents().items())


# --------------------------------------------------------------------------- names -> document places

BODY_SCHEMAS: dict[str, str] = {
    "tokens": f"{OPENAPI_NAME}#/components/schemas/Tokens",
    "validate": f"{OPENAPI_NAME}#/components/schemas/Validate",
    "validate_valid": f"{OPENAPI_NAME}#/components/schemas/ValidateValid",
    "validate_invalid": f"{OPENAPI_NAME}#/components/schemas/ValidateInvalid",
    "me": f"{OPENAPI_NAME}#/components/schemas/Me",
    "logout": f"{OPENAPI_NAME}#/components/schemas/Logout",
    "health": f"{OPENAPI_NAME}#/components/schemas/Health",
    "ready": f"{OPENAPI_NAME}#/components/schemas/Ready",
    "error": f"{OPENAPI_NAME}#/components/schemas/Error",
    "thread": f"{OPENAPI_NAME}#/components/schemas/Thread",
    "thread_list": f"{OPENAPI_NAME}#/components/schemas/ThreadList",
    "message": f"{OPENAPI_NAME}#/components/schemas/Message",
    "messages_page": f"{OPENAPI_NAME}#/components/schemas/MessagesPage",
    "usage_ingest": f"{OPENAPI_NAME}#/components/schemas/UsageIngest",
    "usage_summary": f"{OPENAPI_NAME}#/components/schemas/UsageSummary",
    "pricing": f"{OPENAPI_NAME}#/components/schemas/Pricing",
    "websocket_ticket": f"{OPENAPI_NAME}#/components/schemas/WebsocketTicket",
    "cost_optimizer_result": f"{ASYNCAPI_NAME}#/components/schemas/CostOptimizerResult",
    "data_analysis_result": f"{ASYNCAPI_NAME}#/components/schemas/DataAnalysisResult",
    "performance_optimizer_result": f"{ASYNCAPI_NAME}#/components/schemas/PerformanceOptimizerResult",
    "supervisor_result": f"{ASYNCAPI_NAME}#/components/schemas/SupervisorResult",
}
"""Name of a REST body or agent result -> ``<document>#<JSON pointer>`` of its schema."""


def _pointer(doc: Any, pointer: str) -> Any:
    node = doc
    for token in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def _server_and_client_messages() -> tuple[dict[str, str], dict[str, str]]:
    doc = documents()[ASYNCAPI_NAME]
    server: dict[str, str] = {}
    client: dict[str, str] = {}
    channel_messages = doc["channels"]["chat"]["messages"]
    for operation in doc["operations"].values():
        target = server if operation["action"] == "send" else client
        refs = list(operation["messages"]) + list((operation.get("reply") or {}).get("messages", []))
        for i, ref in enumerate(refs):
            if operation["action"] == "receive" and i >= len(operation["messages"]):
                target = server  # a reply to a client frame is a server frame
            key = ref["$ref"].rsplit("/", 1)[-1]
            message_ref = channel_messages[key]["$ref"]  # "#/components/messages/<name>"
            message = _pointer(doc, message_ref[1:])
            if message.get("x-dialect"):
                # a Compat dialect's own frames (netra-2025's handshake, N25-4): checked by that dialect's
                # client code (acceptance.client.netra2025); from any other target they are frames of a type the
                # contract does not name (TOL-8.2), envelope only
                DIALECT_FRAME_TYPES.setdefault(message["x-dialect"], set()).add(message["name"])
                continue
            target[message["name"]] = f"{ASYNCAPI_NAME}{message['payload']['$ref']}"
    return server, client


DIALECT_FRAME_TYPES: dict[str, set[str]] = {}
"""Dialect name -> the frame types only that Compat dialect has (``x-dialect`` in asyncapi.yaml)."""


FRAME_SCHEMAS, CLIENT_FRAME_SCHEMAS = _server_and_client_messages()
"""Server (and client) frame type -> ``<document>#<JSON pointer>`` of its payload schema."""
FRAME_TYPES = tuple(FRAME_SCHEMAS)
CLIENT_FRAME_TYPES = tuple(CLIENT_FRAME_SCHEMAS)
ENVELOPE = f"{ASYNCAPI_NAME}#/components/schemas/Envelope"

SCHEMA_NAMES: tuple[str, ...] = tuple(f"frame:{t}" for t in FRAME_SCHEMAS) + tuple(BODY_SCHEMAS)


def _place(name: str) -> str:
    if name.startswith("frame:") and name[6:] in FRAME_SCHEMAS:
        return FRAME_SCHEMAS[name[6:]]
    if name == "frame:*":
        return ENVELOPE
    if name in BODY_SCHEMAS:
        return BODY_SCHEMAS[name]
    raise KeyError(f"no schema {name!r}; known: {', '.join(SCHEMA_NAMES)}")


def _resolve_place(place: str) -> Any:
    doc_name, pointer = place.split("#", 1)
    return _pointer(documents()[doc_name], pointer)


def schema(name: str) -> dict:
    """The schema called ``name`` (a REST/result name, or ``frame:<type>``) as written in its document."""
    return json.loads(json.dumps(_resolve_place(_place(name))))




def _enum(schema_name: str) -> tuple:
    return tuple(documents()[ASYNCAPI_NAME]["components"]["schemas"][schema_name]["enum"])


AGENT_NAMES = _enum("AgentName")
ERROR_CODES = _enum("ErrorCode")

# --------------------------------------------------------------------------- formats (TOL-8.4)

_FORMATS = FormatChecker(formats=())
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$")


@_FORMATS.checks("date-time", raises=(ValueError,))
def _is_datetime(value: object) -> bool:
    """ISO-8601 with a date, a time and a time zone (the documents' ``pattern`` asks for UTC)."""
    if not isinstance(value, str):
        return True
    if not _DATETIME_RE.match(value):
        raise ValueError("not an ISO-8601 date-time with a time zone")
    text = value[:-1] + "+00:00" if value[-1] in "zZ" else value
    if re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    datetime.fromisoformat(text.replace("t", "T"))
    return True


@_FORMATS.checks("date", raises=(ValueError,))
def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_RE.match(value):
        raise ValueError("not a YYYY-MM-DD date")
    date.fromisoformat(value)
    return True


# --------------------------------------------------------------------------- compiled validators

_VALIDATORS: dict[str, Draft202012Validator] = {}
_FAST: dict[str, Any] = {}

try:  # the Rust validator answers "conforms?" ~50x faster; jsonschema explains a violation
    import jsonschema_rs
except ImportError:  # pragma: no cover - pinned in requirements.txt
    jsonschema_rs = None


def _format_fn(check):
    def fn(value) -> bool:
        try:
            return bool(check(value))
        except ValueError:
            return False
    return fn


@lru_cache(maxsize=1)
def _fast_registry():
    return jsonschema_rs.Registry([(_uri(name), doc) for name, doc in documents().items()])


def _fast(place: str):
    """The compiled Rust validator of a place (``None`` without jsonschema_rs): same documents, same
    formats; used only to pass conforming documents quickly, never to word a violation."""
    if jsonschema_rs is None:
        return None
    v = _FAST.get(place)
    if v is None:
        doc_name, pointer = place.split("#", 1)
        v = _FAST[place] = jsonschema_rs.Draft202012Validator(
            {"$ref": _uri(doc_name) + "#" + pointer}, registry=_fast_registry(), validate_formats=True,
            formats={"date-time": _format_fn(_is_datetime), "date": _format_fn(_is_date)})
    return v


def _validator(place: str) -> Draft202012Validator:
    v = _VALIDATORS.get(place)
    if v is None:
        doc_name, pointer = place.split("#", 1)
        v = _VALIDATORS[place] = Draft202012Validator({"$ref": _uri(doc_name) + "#" + pointer},
                                                      registry=_registry(), format_checker=_FORMATS)
    return v


def compile_all() -> int:
    """Compiles every validator now (the suite calls it once at start-up); returns how many."""
    for place in set(FRAME_SCHEMAS.values()) | set(BODY_SCHEMAS.values()) | {ENVELOPE} | {
            p for op in _operations() for p in op.responses.values() if p}:
        _validator(place)
        _fast(place)
    return len(_VALIDATORS)


@dataclass(frozen=True)
class Violation:
    """One failing keyword: where in the checked document, where in the contract, which clause."""

    path: str       # JSON path in the checked document, e.g. $.data.progress_percentage
    message: str    # jsonschema's sentence
    pointer: str    # <document>#<JSON pointer> of the failing keyword
    clause: str     # innermost x-clause on the way there ("" when none)

    def __str__(self) -> str:
        clause = f"[{self.clause}] " if self.clause else ""
        return f"{self.path}: {self.message} ({clause}{self.pointer})"


def _walk(place: str, schema_path) -> tuple[str, str]:
    """Follows a validator's schema path through ``$ref`` s (which jsonschema leaves out of the
    path); returns (``<document>#<JSON pointer>`` of the failing keyword, innermost ``x-clause``)."""
    doc_name, pointer = place.split("#", 1)
    docs = documents()
    node = _pointer(docs[doc_name], pointer)
    tokens = [t for t in pointer.split("/") if t]
    clause = node.get("x-clause", "") if isinstance(node, dict) else ""
    for element in schema_path:
        key = str(element)
        hops = 0
        while isinstance(node, dict) and key not in node and "$ref" in node and hops < 20:
            target_doc, _, target_pointer = node["$ref"].partition("#")
            if target_doc:
                doc_name = target_doc.rsplit("/", 1)[-1]
            tokens = [t for t in target_pointer.split("/") if t]
            node = _pointer(docs[doc_name], target_pointer)
            hops += 1
            if isinstance(node, dict) and node.get("x-clause"):
                clause = node["x-clause"]
        try:
            node = node[int(element)] if isinstance(node, list) else node[key]
        except (KeyError, IndexError, TypeError, ValueError):
            tokens.append(key)
            break
        tokens.append(key.replace("~", "~0").replace("/", "~1"))
        if isinstance(node, dict) and node.get("x-clause"):
            clause = node["x-clause"]
    return f"{doc_name}#/{'/'.join(tokens)}", clause


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


def _violations(place: str, doc: Any) -> list[Violation]:
    fast = _fast(place)
    if fast is not None and fast.is_valid(doc):
        return []
    errors = sorted(_validator(place).iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    out: dict[tuple, Violation] = {}
    for error in errors:
        for leaf in _leaf_errors(error):
            message = leaf.message if len(leaf.message) <= 200 else leaf.message[:197] + "..."
            pointer, clause = _walk(place, leaf.absolute_schema_path)
            v = Violation(leaf.json_path, message, pointer, clause)
            out.setdefault((v.path, v.message), v)
    return list(out.values())


def _excerpt(doc: Any) -> str:
    from acceptance.client.redaction import REDACTOR  # late: redaction has no dependency on this module

    try:
        text = json.dumps(REDACTOR.redact(doc), ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        text = repr(doc)
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 3] + "..."


def _raise(what: str, violations: list[Violation], doc: Any) -> None:
    raise violation_error(what, violations, doc)


def violation_error(what: str, violations: list[Violation], doc: Any) -> ContractViolation:
    """The failure naming ``what``, the clauses, the place in the document and each error."""
    shown = violations[:_MAX_ERRORS]
    more = f"\n  ... and {len(violations) - len(shown)} more" if len(violations) > len(shown) else ""
    clauses = ", ".join(dict.fromkeys(v.clause for v in violations if v.clause)) or "no clause id"
    first = violations[0]
    return ContractViolation(
        f"{what} breaks the contract ({clauses}; {first.pointer}), {len(violations)} error(s):\n  "
        + "\n  ".join(map(str, shown)) + more + f"\n  {what}: {_excerpt(doc)}"
    )


# --------------------------------------------------------------------------- frames


def _frame_doc(frame: Event | dict) -> Any:
    return frame.canonical() if isinstance(frame, Event) else frame


def frame_violations(frame: Event | dict) -> list[Violation]:
    doc = _frame_doc(frame)
    if not isinstance(doc, dict):
        return [Violation("$", f"frame is not an object but {type(doc).__name__}", ENVELOPE, "WS-4.4")]
    ftype = doc.get("type")
    place = FRAME_SCHEMAS.get(ftype) if isinstance(ftype, str) else None
    return _violations(place or ENVELOPE, doc)  # an unknown type: its envelope only (TOL-8.2)


def frame_errors(frame: Event | dict) -> list[str]:
    """The violations of a frame (``[]`` when it conforms), each ``<json path>: <message> (...)``."""
    return [str(v) for v in frame_violations(frame)]


def frame_label(frame: Event | dict) -> str:
    doc = _frame_doc(frame)
    ftype = doc.get("type") if isinstance(doc, dict) else None
    label = f"{ftype} frame" if isinstance(ftype, str) else "server frame"
    if isinstance(ftype, str) and ftype not in FRAME_SCHEMAS:
        label = f"{ftype} frame (a type the contract does not name, TOL-8.2)"
    if isinstance(frame, Event) and frame.dialect != "data":
        label += f" (received in {frame.dialect} form)"
    if isinstance(doc, dict) and doc.get("message_id"):
        label += f" {doc['message_id']}"
    return label


def validate_frame(event_or_dict: Event | dict) -> None:
    """Check one server frame against the contract; raises :class:`ContractViolation`.

    A type the contract does not name is tolerated (TOL-8.2): only its envelope is checked."""
    violations = frame_violations(event_or_dict)
    if violations:
        _raise(frame_label(event_or_dict), violations, _frame_doc(event_or_dict))


# --------------------------------------------------------------------------- bodies


def body_errors(schema_name: str, body: Any) -> list[str]:
    return [str(v) for v in _violations(_place(schema_name), body)]


def validate_body(schema_name: str, body: Any) -> None:
    """Check a REST body or an agent result against the named schema; raises :class:`ContractViolation`."""
    violations = _violations(_place(schema_name), body)
    if violations:
        _raise(f"{schema_name} body", violations, body)


# --------------------------------------------------------------------------- HTTP responses


@dataclass(frozen=True)
class _Operation:
    template: str
    regex: re.Pattern
    method: str
    operation_id: str
    responses: dict  # status -> schema place or None (no body)
    pointer: str


@lru_cache(maxsize=1)
def _operations() -> tuple[_Operation, ...]:
    doc = documents()[OPENAPI_NAME]
    ops = []
    for template, item in doc["paths"].items():
        regex = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "/?$")
        for method, op in item.items():
            if method not in ("get", "post", "put", "delete", "patch"):
                continue
            responses = {}
            for status, response in op.get("responses", {}).items():
                if "$ref" in response:
                    response = _pointer(doc, response["$ref"][1:])
                media = (response.get("content") or {}).get("application/json")
                if media is None:
                    responses[status] = None
                    continue
                schema_ = media["schema"]
                if "$ref" in schema_:
                    responses[status] = OPENAPI_NAME + schema_["$ref"]
                else:
                    escaped = template.replace("~", "~0").replace("/", "~1")
                    responses[status] = (f"{OPENAPI_NAME}#/paths/{escaped}/{method}/responses/{status}"
                                         f"/content/application~1json/schema")
            escaped = template.replace("~", "~0").replace("/", "~1")
            ops.append(_Operation(template, regex, method.upper(), op["operationId"], responses,
                                  f"{OPENAPI_NAME}#/paths/{escaped}/{method}"))
    # literal paths before templated ones (/api/usage/summary before /api/threads/{id})
    ops.sort(key=lambda o: o.template.count("{"))
    return tuple(ops)


def find_operation(method: str, url: str) -> _Operation | None:
    path = urlsplit(url).path or "/"
    for op in _operations():
        if op.method == method.upper() and op.regex.match(path):
            return op
    return None


def response_violations(method: str, url: str, status: int, body: Any, text: str = "") -> tuple[str, list[Violation]]:
    """What the contract says of this response: ``(label, violations)``."""
    op = find_operation(method, url)
    path = urlsplit(url).path
    label = f"{method} {path} answered {status}"
    error_place = BODY_SCHEMAS["error"]
    if op is None:
        if status >= 400:  # an unknown path or method still answers with an error body (SVC-1.5, SVC-1.6)
            return label, _json_body_violations(error_place, body, text)
        return label, []
    label = f"{method} {path} ({op.operation_id}) answered {status}"
    key = str(status)
    if key not in op.responses:
        if status >= 400:
            return label, _json_body_violations(error_place, body, text)
        return label, [Violation("$", f"status {status} is not a response the contract declares for "
                                      f"{op.operation_id} (declared: {', '.join(op.responses)})",
                                 f"{op.pointer}/responses", _op_clause(op))]
    place = op.responses[key]
    if place is None:
        return label, []
    return label, _json_body_violations(place, body, text)


def _op_clause(op: _Operation) -> str:
    return _resolve_place(op.pointer).get("x-clause", "")


def _json_body_violations(place: str, body: Any, text: str) -> list[Violation]:
    if body is None:
        return [Violation("$", f"the body is not JSON: {text[:120]!r}", place, "SVC-1.5")]
    return _violations(place, body)


def response_violation(method: str, url: str, status: int, body: Any, text: str = "") -> ContractViolation | None:
    """The failure for a response that breaks the contract, else ``None``."""
    label, violations = response_violations(method, url, status, body, text)
    return violation_error(label, violations, body if body is not None else text[:200]) if violations else None


def frame_violation(frame: Event | dict) -> ContractViolation | None:
    """The failure for a server frame that breaks the contract, else ``None`` (unknown types: TOL-8.2)."""
    violations = frame_violations(frame)
    return violation_error(frame_label(frame), violations, _frame_doc(frame)) if violations else None


def response_errors(method: str, url: str, status: int, body: Any, text: str = "") -> list[str]:
    return [str(v) for v in response_violations(method, url, status, body, text)[1]]


def validate_response(method: str, url: str, status: int, body: Any, text: str = "") -> None:
    """Check an HTTP response against the operation the OpenAPI document declares for it."""
    label, violations = response_violations(method, url, status, body, text)
    if violations:
        _raise(label, violations, body if body is not None else text[:200])
