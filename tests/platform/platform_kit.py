"""Helpers for the reference platform's own tests: settings, users, tokens, sockets, samples.

The fixtures that use them are in ``conftest.py``. Everything listens on loopback. Tests wait
for behaviour by waiting for frames or responses with a deadline, never by sleeping a fixed time.
"""
from __future__ import annotations

import base64
import itertools
import json
import re
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from websockets.sync.client import ClientConnection, connect

from acceptance.client.events import normalize
from acceptance.verify import schemas
from reference_platform.config import Settings
from reference_platform.server import EmbeddedPlatform

JWT_SECRET = "platform-tests-secret-0123456789-abcdefghijklmnop"  # 49 bytes
E2E_KEY = "platform-tests-e2e-key"
PASSWORD = "correct horse battery"
TERMINAL = ("agent_completed", "agent_error", "agent_stopped")
AGENT_EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed") + TERMINAL
RECV_TIMEOUT = 10.0

_emails = itertools.count()


# ---- every response and frame these tests receive is checked against contract/ -----------------------
def check_response(response: httpx.Response) -> None:
    """httpx response hook: the response must be one the OpenAPI document declares (AssertionError if not)."""
    response.read()
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    schemas.validate_response(response.request.method, str(response.request.url), response.status_code, body,
                              response.text)


def check_frame(frame: Any) -> None:
    """A received server frame must conform to the AsyncAPI document (Compat envelopes normalised first)."""
    schemas.validate_frame(normalize(frame) if isinstance(frame, dict) and "data" not in frame else frame)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}-{next(_emails)}@example.com"


def base_env(database_url: str, **env: str) -> dict[str, str]:
    """Environment of a test platform: known secret, test-auth on, zero pacing unless overridden."""
    values = {
        "ENVIRONMENT": "development",
        "JWT_SECRET_KEY": JWT_SECRET,
        "E2E_OAUTH_SIMULATION_KEY": E2E_KEY,
        "DATABASE_URL": database_url,
        "PACING_MIN_MS": "0",
        "PACING_MAX_MS": "0",
    }
    values.update(env)
    return {k: v for k, v in values.items() if v is not None}


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@contextmanager
def platform_in(folder: Path, **env: str) -> Iterator[EmbeddedPlatform]:
    """A platform running on loopback over a fresh SQLite database in ``folder``, with ``env`` on top of
    :func:`base_env`; stopped when the block ends."""
    with EmbeddedPlatform(Settings.from_env(env=base_env(sqlite_url(folder / "platform.db"), **env))) as running:
        yield running


# ---- REST --------------------------------------------------------------------------------
@dataclass
class User:
    id: str
    email: str
    access_token: str
    refresh_token: str
    permissions: list[str]
    body: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class Api:
    """An httpx client on one platform plus quick ways to make users."""

    def __init__(self, running: EmbeddedPlatform):
        self.platform = running
        self.http = httpx.Client(base_url=running.base_url, timeout=10, event_hooks={"response": [check_response]})

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # users
    @staticmethod
    def _user(body: dict[str, Any]) -> User:
        u = body["user"]
        return User(u["id"], u["email"], body["access_token"], body["refresh_token"], list(u["permissions"]), body)

    def register(self, email: str | None = None, password: str = PASSWORD, **extra: Any) -> User:
        """A user with a password (slow: argon2); use :meth:`user` when the password does not matter."""
        r = self.http.post("/auth/register", json={"email": email or unique_email(), "password": password, **extra})
        assert r.status_code in (200, 201), r.text
        return self._user(r.json())

    def test_auth(self, **body: Any) -> httpx.Response:
        return self.http.post("/auth/e2e/test-auth", headers={"X-E2E-Bypass-Key": E2E_KEY}, json=body)

    def user(self, email: str | None = None, permissions: list[str] | None = None) -> User:
        """A new user signed in through test-auth (fast)."""
        body: dict[str, Any] = {"email": email or unique_email()}
        if permissions is not None:
            body["permissions"] = permissions
        r = self.test_auth(**body)
        assert r.status_code == 200, r.text
        return self._user(r.json())

    # resources
    def get(self, user: User, path: str, **kw) -> httpx.Response:
        return self.http.get(path, headers=user.headers, **kw)

    def post(self, user: User, path: str, **kw) -> httpx.Response:
        return self.http.post(path, headers=user.headers, **kw)

    def put(self, user: User, path: str, **kw) -> httpx.Response:
        return self.http.put(path, headers=user.headers, **kw)

    def delete(self, user: User, path: str, **kw) -> httpx.Response:
        return self.http.delete(path, headers=user.headers, **kw)

    def thread(self, user: User, **body: Any) -> dict[str, Any]:
        r = self.post(user, "/api/threads", json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def add_usage(self, user: User, records: list[dict[str, Any]]) -> dict[str, Any]:
        r = self.post(user, "/api/usage", json={"records": records})
        assert r.status_code == 201, r.text
        return r.json()

    def messages(self, user: User, thread_id: str) -> list[dict[str, Any]]:
        r = self.get(user, f"/api/threads/{thread_id}/messages", params={"limit": 100})
        assert r.status_code == 200, r.text
        return r.json()["messages"]

    def wait_for_messages(self, user: User, thread_id: str, count: int, timeout: float = 10) -> list[dict]:
        """Polls the messages endpoint until the thread holds ``count`` messages (bounded wait)."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages(user, thread_id)
            if len(messages) >= count or time.monotonic() > deadline:
                return messages
            time.sleep(0.02)


# ---- tokens ------------------------------------------------------------------------------
def claims_for(user: User, **changes: Any) -> dict[str, Any]:
    """Claims of a well-formed access token for ``user``; ``changes`` override (None removes)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": user.id, "email": user.email, "permissions": list(user.permissions), "iat": now, "exp": now + 600,
        "jti": uuid.uuid4().hex, "token_type": "access", "type": "access", "iss": "netra-auth-service",
        "aud": "netra-platform", "env": "development",
    }
    for key, value in changes.items():
        if value is None:
            claims.pop(key, None)
        else:
            claims[key] = value
    return claims


def forge(claims: dict[str, Any], secret: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():  # HS512 with a 49-byte key is the point of one test
        warnings.simplefilter("ignore")
        return jwt.encode(claims, secret, algorithm=algorithm)


def unsigned(claims: dict[str, Any]) -> str:
    """An ``alg: none`` token (no signature)."""
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def decode(token: str) -> dict[str, Any]:
    return jwt.decode(token, JWT_SECRET, algorithms=["HS256"], audience="netra-platform",
                      issuer="netra-auth-service")


# ---- WebSocket ---------------------------------------------------------------------------
def ws_connect(running: EmbeddedPlatform, token: str | None = None, *, headers: dict[str, str] | None = None,
               query: str = "", subprotocols: list[str] | None = None, path: str = "/ws") -> ClientConnection:
    url = f"ws://{running.host}:{running.port}{path}{query}"
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    return connect(url, additional_headers=all_headers, subprotocols=subprotocols, open_timeout=5,
                   close_timeout=2, max_size=None, max_queue=None, legacy=True)


def recv(ws: ClientConnection, timeout: float = RECV_TIMEOUT) -> dict[str, Any]:
    frame = json.loads(ws.recv(timeout=timeout))
    check_frame(frame)
    return frame


def send(ws: ClientConnection, type_: str, **payload: Any) -> None:
    ws.send(json.dumps({"type": type_, "payload": payload}))


def recv_until(ws: ClientConnection, predicate: Callable[[dict], bool], timeout: float = RECV_TIMEOUT) -> list[dict]:
    """Frames received up to and including the first one matching ``predicate`` (heartbeats skipped)."""
    deadline = time.monotonic() + timeout
    frames = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no matching frame within {timeout} s; got {[f['type'] for f in frames]}")
        f = recv(ws, timeout=left)
        if f["type"] == "heartbeat":
            continue
        frames.append(f)
        if predicate(f):
            return frames


def is_run_end(f: dict, run_id: str | None = None, agent: str | None = None) -> bool:
    """The terminal frame of a run's top agent (the one without ``parent_agent``)."""
    if f["type"] not in TERMINAL or (run_id is not None and f.get("run_id") != run_id):
        return False
    return agent is None or f.get("agent_name") == agent


class Session:
    """One open socket whose connection_established frame has been read."""

    def __init__(self, ws: ClientConnection, established: dict[str, Any]):
        self.ws, self.established = ws, established

    def send(self, type_: str, **payload: Any) -> None:
        send(self.ws, type_, **payload)

    def recv(self, timeout: float = RECV_TIMEOUT) -> dict[str, Any]:
        while True:
            f = recv(self.ws, timeout)
            if f["type"] != "heartbeat":
                return f

    def until(self, predicate: Callable[[dict], bool], timeout: float = RECV_TIMEOUT) -> list[dict]:
        return recv_until(self.ws, predicate, timeout)

    def error(self, timeout: float = RECV_TIMEOUT) -> dict[str, Any]:
        f = self.recv(timeout)
        assert f["type"] == "error", f
        return f["data"]

    def start(self, request: str = "How can I cut my AI costs?", **payload: Any) -> dict[str, Any]:
        """Sends start_agent and returns the run's agent_started frame."""
        self.send("start_agent", user_request=request, **payload)
        f = self.recv()
        assert f["type"] == "agent_started", f
        return f

    def run(self, request: str = "How can I cut my AI costs?", timeout: float = RECV_TIMEOUT,
            **payload: Any) -> list[dict]:
        """Starts a run and returns all its frames up to its top agent's terminal frame."""
        first = self.start(request, **payload)
        agent = first["agent_name"]
        rest = self.until(lambda f: is_run_end(f, first["run_id"], agent), timeout)
        return [first] + [f for f in rest if f.get("run_id") == first["run_id"]]

    def ping(self, nonce: str = "n") -> None:
        self.send("ping", nonce=nonce)
        frames = self.until(lambda f: f["type"] == "pong")
        assert frames[-1]["data"]["nonce"] == nonce

    def close(self) -> None:
        self.ws.close()


def open_session(running: EmbeddedPlatform, token: str, **kw: Any) -> Session:
    ws = ws_connect(running, token, **kw)
    established = recv(ws)
    assert established["type"] in ("connection_established", "system_message"), established
    return Session(ws, established)


# ---- usage samples -----------------------------------------------------------------------
def usage_record(days_ago: float = 1, **fields: Any) -> dict[str, Any]:
    from datetime import datetime, timedelta, timezone
    ts = datetime.now(timezone.utc) - timedelta(days=days_ago)
    record = {"timestamp": ts.isoformat().replace("+00:00", "Z"), "model": "gpt-4o", "task": "classification",
              "requests": 1000, "input_tokens": 1000, "output_tokens": 200}
    record.update(fields)
    return record


def week_of_usage() -> list[dict[str, Any]]:
    """Ten days of routable gpt-4o traffic: sufficient data with a clear routing saving."""
    return [usage_record(days_ago=d + 0.5) for d in range(10)]


# ---- the run checker ---------------------------------------------------------------------
MESSAGE_ID = re.compile(r"^msg_[0-9a-f]+$")


def check_run(frames: list[dict[str, Any]], top: str = "supervisor") -> dict[str, list[dict]]:
    """Asserts the ordering rules of CONTRACT sections 5 and 7 on one complete run's frames.

    Returns the frames grouped by agent. ``frames`` must be canonical (details under ``data``).
    """
    assert frames, "no frames"
    run_ids = {f["run_id"] for f in frames}
    thread_ids = {f["thread_id"] for f in frames}
    assert len(run_ids) == 1 and len(thread_ids) == 1, (run_ids, thread_ids)
    ids = [f["message_id"] for f in frames]
    assert len(set(ids)) == len(ids), "a message_id repeats"
    for f in frames:
        assert f["type"] in AGENT_EVENTS, f
        assert MESSAGE_ID.match(f["message_id"]) and f["timestamp"].endswith("Z") and isinstance(f["data"], dict)
        assert isinstance(f["agent_name"], str)
        assert ("tool_name" in f) == f["type"].startswith("tool_"), f

    by_agent: dict[str, list[dict]] = {}
    for f in frames:
        by_agent.setdefault(f["agent_name"], []).append(f)
    assert frames[0]["type"] == "agent_started" and frames[0]["agent_name"] == top
    assert "parent_agent" not in frames[0]["data"]

    for agent, own in by_agent.items():
        types = [f["type"] for f in own]
        assert types[0] == "agent_started", (agent, types)
        terminals = [t for t in types if t in TERMINAL]
        if agent == top:
            assert len(terminals) == 1 and types[-1] in TERMINAL, (agent, types)
        else:  # a sub-agent cut short by a stop gets no terminal frame of its own
            assert len(terminals) <= 1 and (not terminals or types[-1] in TERMINAL), (agent, types)
            assert own[0]["data"].get("parent_agent") == top, own[0]
        assert types.count("agent_started") == 1
        if "tool_executing" in types:
            assert "agent_thinking" in types[:types.index("tool_executing")], (agent, types)
        open_tool = None
        for f in own:
            if f["type"] == "tool_executing":
                assert open_tool is None, "tool pairs overlap"
                open_tool = f
                assert isinstance(f["data"]["parameters"], dict)
            elif f["type"] == "tool_completed":
                assert open_tool is not None, "tool_completed without tool_executing"
                assert f["data"]["execution_id"] == open_tool["data"]["execution_id"]
                assert f["tool_name"] == open_tool["tool_name"]
                assert isinstance(f["data"]["success"], bool) and f["data"]["duration_ms"] >= 0
                assert "results" in f["data"]
                open_tool = None
            elif f["type"] == "agent_thinking":
                assert isinstance(f["data"]["reasoning"], str) and f["data"]["reasoning"].strip()
                assert isinstance(f["data"]["step_number"], int)
        assert open_tool is None, f"{agent}: a tool pair was split"

    # nesting: each sub-agent's frames lie inside its own started..terminal and inside the top pair
    top_start = 0
    top_end = max(i for i, f in enumerate(frames) if f["agent_name"] == top)
    assert top_end == len(frames) - 1
    spans = []
    for agent in by_agent:
        if agent == top:
            continue
        positions = [i for i, f in enumerate(frames) if f["agent_name"] == agent]
        assert top_start < positions[0] and positions[-1] < top_end
        spans.append((positions[0], positions[-1], agent))
        inside = frames[positions[0]:positions[-1] + 1]
        assert {f["agent_name"] for f in inside} == {agent}, f"{agent} interleaves with another agent"
    spans.sort()
    for (_, end, _), (start, _, _) in zip(spans, spans[1:]):
        assert end < start

    progress = [f["data"]["progress_percentage"] for f in frames if f["type"] == "agent_thinking"]
    assert all(0 <= p <= 100 for p in progress)
    assert progress == sorted(progress), progress

    last = frames[-1]
    if last["type"] == "agent_completed":
        assert last["data"]["status"] == "completed" and last["data"]["duration_ms"] >= 0
        assert isinstance(last["data"]["result"], dict)
    return by_agent
