"""Random and malformed input: the platform answers with a contract status or frame, never a 500
and never a dropped connection (CONTRACT sections 1, 3 and 4)."""
from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import InvalidStatus

from platform_kit import AGENT_EVENTS, E2E_KEY, open_session, usage_record, ws_connect

CODE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
WS_CODES = {"INVALID_JSON", "UNKNOWN_MESSAGE_TYPE", "INVALID_PAYLOAD", "UNKNOWN_AGENT", "THREAD_NOT_FOUND",
            "RUN_NOT_FOUND", "FORBIDDEN", "RATE_LIMITED", "RUN_LIMIT"}
CLIENT_TYPES = ["ping", "start_agent", "user_message", "stop_agent", "resume_run", "get_thread"]
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                database=None, derandomize=True)


def fuzz(examples: int) -> settings:
    """Bounded example counts keep the folder fast; derandomized and without an example database,
    every run tries the same examples."""
    return settings(FUZZ, max_examples=examples)

# ---- strategies --------------------------------------------------------------------------
huge_ints = st.sampled_from([10**30, -(10**30), 2**31, 2**31 - 1, 2**63, -1, 0, 10**4300 // 10**4000])
scalars = st.one_of(st.none(), st.booleans(), st.integers(), huge_ints,
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
nasty = st.one_of(
    json_values,
    st.sampled_from(["", " ", "x" * 400, "gpt-5", "GPT-4O", "2026-13-45T99:99:99Z", "0001-01-01T00:00:00+05:00",
                     "9999-12-31T23:59:59-05:00", "2026-01-01T00:00:00", "2026-01-01", "not a time", 1.5, -0.0,
                     True, False, [], {}, [1, 2], {"nested": {"deeper": [None]}}]),
)


def deep(depth: int, leaf: str = "1") -> str:
    """JSON text nesting objects and arrays ``depth`` levels deep (built as text: no recursion)."""
    opens = "".join('[' if i % 2 else '{"k": ' for i in range(depth))
    closes = "".join(']' if i % 2 else '}' for i in reversed(range(depth)))
    return opens + leaf + closes


def with_raw(template: dict[str, Any], key: str, raw: str) -> bytes:
    """The template as JSON with ``key`` set to the raw JSON text ``raw``."""
    rest = json.dumps({k: v for k, v in template.items() if k != key})
    return (rest[:-1] + (", " if len(rest) > 2 else "") + json.dumps(key) + ": " + raw + "}").encode()


def mutated(template: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The template with each field kept, dropped or replaced, plus unknown fields."""
    def field(value: Any) -> st.SearchStrategy:
        return st.one_of(st.just(value), st.just(_DROP), nasty)

    return st.fixed_dictionaries({k: field(v) for k, v in template.items()}, optional={
        "unexpected": nasty, "__proto__": nasty}).map(lambda d: {k: v for k, v in d.items() if v is not _DROP})


_DROP = object()


def bodies(template: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """Request bodies: mutated templates, random JSON, raw bytes and hand-picked malformations."""
    nested = st.builds(with_raw, st.just(template), st.sampled_from(["metadata", "title", *template]),
                       st.integers(1, 5000).map(deep))
    return st.one_of(
        st.one_of(mutated(template), json_values).map(lambda v: json.dumps(v).encode()),
        nested,
        st.integers(1, 100_000).map(lambda n: deep(n).encode()),
        st.binary(max_size=64),
        st.sampled_from([
            b"", b"{", b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}',
            b'{"a": 1e400}', b'{"title": "\\ud800"}', b'{"email": "\\udfff@example.com", "password": "12345678"}',
            b"\xff\xfe\xfd", b'{"title": "caf\xe9"}', b"\x00", "{\"title\": \"\u2028\"}".encode(),
        ]),
    )


# ---- REST --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fuzz_user(api):
    return api.user()


@pytest.fixture(scope="module")
def fuzz_thread(api, fuzz_user):
    return api.thread(fuzz_user)["id"]


def check_response(r, allowed: set[int]) -> None:
    assert r.status_code != 500, r.text
    assert r.status_code in allowed, (r.status_code, r.text)
    if r.status_code == 204:
        return
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    if r.status_code >= 400:
        assert isinstance(body, dict) and isinstance(body.get("detail"), str), body
        if "code" in body:
            assert isinstance(body["code"], str) and CODE.match(body["code"]), body


ENDPOINTS = {
    "register": ("POST", "/auth/register", {"email": "fuzz@example.com", "password": "password-1", "name": "F"},
                 {200, 201, 409, 422}, False, 40),
    "login": ("POST", "/auth/login", {"email": "fuzz@example.com", "password": "password-1"},
              {200, 401, 422, 429}, False, 80),
    "refresh": ("POST", "/auth/refresh", {"refresh_token": "x.y.z"}, {200, 401, 422}, False, 80),
    "validate": ("POST", "/auth/validate", {"token": "x.y.z", "token_type": "access"}, {200, 422}, False, 80),
    "test-auth": ("POST", "/auth/e2e/test-auth", {"email": "fuzz-ta@example.com", "name": "T",
                                                   "permissions": ["read"]}, {200, 422}, False, 80),
    "create thread": ("POST", "/api/threads", {"title": "t", "metadata": {"a": 1}}, {201, 422}, True, 100),
    "update thread": ("PUT", "/api/threads/{thread}", {"title": "t", "metadata": {"a": 1}}, {200, 422}, True, 100),
    "usage": ("POST", "/api/usage", {"records": [usage_record()]}, {201, 422}, True, 60),
}


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_rest_bodies_always_get_a_contract_answer(api, fuzz_user, fuzz_thread, name):
    method, path, template, allowed, authed, examples = ENDPOINTS[name]
    headers = {"Content-Type": "application/json"}
    if authed:
        headers.update(fuzz_user.headers)
    if name == "test-auth":
        headers["X-E2E-Bypass-Key"] = E2E_KEY
    url = path.format(thread=fuzz_thread)

    @fuzz(examples)
    @given(body=bodies(template))
    def check(body: bytes) -> None:
        check_response(api.http.request(method, url, content=body, headers=headers), allowed)

    check()


usage_fields = st.fixed_dictionaries({}, optional={
    "timestamp": nasty, "model": st.one_of(nasty, st.sampled_from(["gpt-4o", "claude-sonnet-4", "gemini-2.5-flash"])),
    "task": nasty, "requests": st.one_of(nasty, huge_ints), "input_tokens": st.one_of(nasty, huge_ints),
    "output_tokens": st.one_of(nasty, huge_ints), "shared_prefix_tokens": st.one_of(nasty, huge_ints),
    "batchable": nasty, "latency_ms": st.one_of(nasty, huge_ints, st.floats(allow_nan=False, allow_infinity=False)),
})


def test_usage_records_field_by_field(api, fuzz_user):
    @fuzz(150)
    @given(changes=usage_fields, keep_valid=st.booleans())
    def check(changes: dict[str, Any], keep_valid: bool) -> None:
        record = {**usage_record(), **changes}
        records = [record, usage_record()] if keep_valid else [record]
        body = json.dumps({"records": records}).encode()
        r = api.http.post("/api/usage", content=body, headers=fuzz_user.headers)
        check_response(r, {201, 422})
        if keep_valid:  # the valid companion record is always accepted
            assert r.status_code == 201 and r.json()["accepted"] >= 1
            assert all(item["index"] == 0 for item in r.json()["rejected"])

    check()
    summary = api.get(fuzz_user, "/api/usage/summary")
    check_response(summary, {200})


@pytest.mark.parametrize("path", ["/api/threads", "/api/threads/{thread}/messages"])
def test_query_parameters(api, fuzz_user, fuzz_thread, path):
    @fuzz(60)
    @given(limit=st.one_of(st.text(max_size=12), st.integers().map(str), huge_ints.map(str)),
           offset=st.one_of(st.text(max_size=12), st.integers().map(str)))
    def check(limit: str, offset: str) -> None:
        r = api.http.get(path.format(thread=fuzz_thread), params={"limit": limit, "offset": offset},
                         headers=fuzz_user.headers)
        check_response(r, {200, 422})

    check()


# ---- WebSocket ---------------------------------------------------------------------------
def ws_frames(thread_id: str) -> st.SearchStrategy[str | bytes]:
    payload_fields = st.fixed_dictionaries({}, optional={
        "user_request": st.one_of(nasty, st.text(min_size=1, max_size=60)),
        "content": st.one_of(nasty, st.text(min_size=1, max_size=60)),
        "agent": st.one_of(nasty, st.sampled_from(["supervisor", "triage", "cost_optimizer", "nope"])),
        "thread_id": st.one_of(nasty, st.just(thread_id)),
        "context": nasty, "run_id": nasty, "last_message_id": nasty, "nonce": nasty,
    })
    kinds = st.one_of(st.sampled_from(CLIENT_TYPES), nasty)
    structured = st.one_of(
        st.builds(lambda t, p: {"type": t, "payload": p}, kinds, st.one_of(payload_fields, nasty)),
        st.builds(lambda t, p: {"type": t, **p}, kinds, payload_fields),  # Compat: flat
        json_values,
    )
    nested = st.integers(1, 14_000).map(lambda n: '{"type": "ping", "payload": {"nonce": "n", "deep": %s}}' % deep(n))
    text = st.one_of(structured.map(json.dumps), nested, st.text(max_size=80))
    return st.one_of(
        text,
        text.map(str.encode),  # binary frames holding UTF-8
        st.binary(max_size=80),  # binary frames, mostly not UTF-8
        st.sampled_from([
            '{"type": "ping", "payload": {"nonce": NaN}}', '{"type": "ping", "payload": {"nonce": 1e999}}',
            '{"type": "start_agent", "payload": {"user_request": "\\udc00"}}',
            b"\xc3\x28", b"\xed\xa0\x80", b"\xf0\x28\x8c\xbc", "\x00", "", b"",
        ]),
    )


def check_frame(f: dict[str, Any]) -> None:
    assert isinstance(f, dict) and isinstance(f.get("type"), str), f
    assert re.match(r"^msg_[0-9a-f]+$", f["message_id"]), f
    assert isinstance(f["data"], dict), f
    if f["type"] == "error":
        assert f["data"]["code"] in WS_CODES, f
        assert isinstance(f["data"]["message"], str)
    else:
        assert f["type"] in {"pong", "thread_data", "heartbeat", *AGENT_EVENTS}, f


def test_random_frames_on_one_long_lived_connection(platform, api):
    user = api.user()
    thread_id = api.thread(user)["id"]
    session = open_session(platform, user.access_token)
    answered = {"errors": 0, "answers": 0}
    try:
        @fuzz(300)
        @given(frame=ws_frames(thread_id))
        def check(frame: str | bytes) -> None:
            session.ws.send(frame)
            nonce = uuid.uuid4().hex
            session.send("ping", nonce=nonce)
            frames = session.until(lambda f: f["type"] == "pong" and f["data"].get("nonce") == nonce)
            for f in frames:
                check_frame(f)
                answered["errors" if f["type"] == "error" else "answers"] += 1

        check()
        session.ping("final")
        assert answered["errors"] > 50 and answered["answers"] > 50, answered
    finally:
        session.close()
    assert api.get(user, "/auth/me").status_code == 200


def test_random_credentials_are_refused_with_403(platform, api):
    @fuzz(40)
    @given(token=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=300),
           form=st.sampled_from(["bearer", "query", "subprotocol"]))
    def check(token: str, form: str) -> None:
        kw: dict[str, Any] = {
            "bearer": {"token": token},
            "query": {"query": "?token=" + quote(token)},
            "subprotocol": {"subprotocols": ["jwt." + base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")]},
        }[form]
        with pytest.raises(InvalidStatus) as exc:
            ws_connect(platform, **kw).close()
        assert exc.value.response.status_code == 403

    check()
    assert api.user().id  # and the platform still serves a normal sign-in afterwards
