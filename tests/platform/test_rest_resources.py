"""Health, error shapes and the backend's REST resources (CONTRACT sections 1 and 3)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from acceptance.verify import money

from platform_kit import Api, open_session, usage_record, week_of_usage

CODE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")


def assert_error(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body["detail"], str) and body["detail"]
    if "code" in body:
        assert CODE.match(body["code"]), body
    return body


def parse_time(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text[:-1] + "+00:00")


# ---- health ------------------------------------------------------------------------------
@pytest.mark.parametrize("path, service", [("/health", "backend"), ("/api/health", "backend"),
                                           ("/auth/health", "auth-service")])
def test_health(api, path, service):
    r = api.http.get(path)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"status", "service", "version", "environment", "uptime_seconds", "checks"}
    assert body["status"] == "healthy" and body["service"] == service
    assert body["version"] == "1.0.0" and body["environment"] == "development"
    assert isinstance(body["uptime_seconds"], (int, float)) and body["uptime_seconds"] >= 0
    assert body["checks"] == {"database": "ok"}


def test_ready(api):
    r = api.http.get("/health/ready")
    assert r.status_code == 200 and r.json() == {"status": "ready"}


def test_health_is_503_unhealthy_when_the_database_is_down(platform_factory, tmp_path):
    running = platform_factory()
    api = Api(running)
    store = running.app.state.platform.store
    healthy_engine = store.db.engine
    # A database file whose folder does not exist: every connection attempt fails.
    store.db.engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'gone.db'}")
    try:
        for path, service in (("/health", "backend"), ("/api/health", "backend"), ("/auth/health", "auth-service")):
            r = api.http.get(path)
            assert r.status_code == 503, r.text
            body = r.json()
            assert body["status"] == "unhealthy" and body["service"] == service
            assert body["checks"] == {"database": "failed"}
    finally:
        store.db.engine = healthy_engine
    assert api.http.get("/health").status_code == 200  # and recovers with its database
    api.close()


# ---- error shapes ------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/nope", "/api/nope", "/auth/nope", "/api/threads/x/y/z"])
def test_unknown_path_is_404_json(api, path):
    assert_error(api.http.get(path), 404)


@pytest.mark.parametrize("method, path", [("DELETE", "/health"), ("GET", "/auth/login"), ("PATCH", "/api/threads"),
                                          ("PUT", "/auth/register"), ("POST", "/api/pricing")])
def test_wrong_method_is_405_json(api, method, path):
    assert_error(api.http.request(method, path), 405)


@pytest.mark.parametrize("path, allowed", [("/api/threads/x", "GET, PUT, DELETE"), ("/api/threads", "GET, POST"),
                                           ("/api/usage", "POST, DELETE"), ("/auth/login", "POST")])
def test_a_405_allows_every_method_of_the_path(api, path, allowed):
    assert api.http.patch(path).headers["allow"] == allowed


@pytest.mark.parametrize("content", [b"", b"not json", b"[1, 2]", b"42", b'"text"', b"null", b"{", b"\xff\xfe",
                                     b'{"title": NaN}', b'{"metadata": {"x": 1e400}}', b'{"title": "\\ud800"}',
                                     b"[" * 5000 + b"]" * 5000])
def test_invalid_body_is_422_json(api, user, content):
    assert_error(api.post(user, "/api/threads", content=content), 422)


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


def test_json_nested_deeper_than_64_levels_is_422(api, user):
    assert api.post(user, "/api/threads", json={"metadata": nested(63)}).status_code == 201  # body: 64 levels
    assert_error(api.post(user, "/api/threads", json={"metadata": nested(64)}), 422)
    assert_error(api.post(user, "/api/threads", content=b'{"metadata": ' + b"[" * 1500 + b"]" * 1500 + b"}"), 422)


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/threads"), ("POST", "/api/threads"), ("GET", "/api/threads/t"), ("PUT", "/api/threads/t"),
    ("DELETE", "/api/threads/t"), ("GET", "/api/threads/t/messages"), ("POST", "/api/usage"),
    ("GET", "/api/usage/summary"), ("DELETE", "/api/usage"), ("GET", "/api/pricing"),
    ("POST", "/api/websocket/ticket"), ("GET", "/auth/me"), ("POST", "/auth/logout")])
def test_every_resource_needs_a_bearer_token(api, method, path):
    assert_error(api.http.request(method, path, json={}), 401)
    assert "Bearer" in api.http.request(method, path).headers.get("WWW-Authenticate", "")


# ---- threads -----------------------------------------------------------------------------
def test_thread_crud(api, user):
    created = api.thread(user, title="Budget review", metadata={"team": "ml", "n": 3})
    assert set(created) == {"id", "object", "title", "created_at", "updated_at", "metadata", "message_count"}
    assert created["object"] == "thread" and created["title"] == "Budget review"
    assert created["metadata"] == {"team": "ml", "n": 3} and created["message_count"] == 0
    parse_time(created["created_at"])

    path = f"/api/threads/{created['id']}"
    assert api.get(user, path).json() == created

    updated = api.put(user, path, json={"title": "Renamed"})
    assert updated.status_code == 200
    assert updated.json()["title"] == "Renamed" and updated.json()["metadata"] == {"team": "ml", "n": 3}
    assert parse_time(updated.json()["updated_at"]) >= parse_time(created["updated_at"])
    meta = api.put(user, path, json={"metadata": {"k": "v"}}).json()
    assert meta["title"] == "Renamed" and meta["metadata"] == {"k": "v"}

    assert api.delete(user, path).status_code == 204
    assert_error(api.get(user, path), 404)
    assert_error(api.delete(user, path), 404)
    assert_error(api.get(user, path + "/messages"), 404)


def test_an_untitled_thread_is_new_thread(api, user):
    assert api.thread(user)["title"] == "New thread"
    assert api.thread(user, title=None)["title"] == "New thread"
    assert api.thread(user)["metadata"] == {}


@pytest.mark.parametrize("body", [{"title": ""}, {"title": 5}, {"title": "x" * 201}, {"metadata": []},
                                  {"metadata": "x"}, {"title": ["a"]}])
def test_invalid_thread_bodies_are_422(api, user, body):
    assert_error(api.post(user, "/api/threads", json=body), 422)
    thread = api.thread(user)
    assert_error(api.put(user, f"/api/threads/{thread['id']}", json=body), 422)


def test_threads_list_newest_first_with_pagination(api):
    user = api.user()
    ids = [api.thread(user, title=f"t{i}")["id"] for i in range(5)]
    page = api.get(user, "/api/threads", params={"limit": 2, "offset": 0}).json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 0
    assert [t["id"] for t in page["threads"]] == ids[::-1][:2]
    page2 = api.get(user, "/api/threads", params={"limit": 2, "offset": 2}).json()
    assert [t["id"] for t in page2["threads"]] == ids[::-1][2:4]
    last = api.get(user, "/api/threads", params={"limit": 2, "offset": 4}).json()
    assert [t["id"] for t in last["threads"]] == ids[:1]
    beyond = api.get(user, "/api/threads", params={"offset": 50}).json()
    assert beyond["threads"] == [] and beyond["total"] == 5
    default = api.get(user, "/api/threads").json()
    assert default["limit"] == 20 and default["offset"] == 0 and len(default["threads"]) == 5
    assert api.get(user, "/api/threads", params={"limit": 100}).status_code == 200


@pytest.mark.parametrize("params", [{"limit": 101}, {"limit": 0}, {"limit": -1}, {"limit": "ten"},
                                    {"offset": -1}, {"offset": "x"}, {"limit": 1000}])
def test_thread_list_limits_out_of_range_are_422_not_clamped(api, user, params):
    assert_error(api.get(user, "/api/threads", params=params), 422)
    thread = api.thread(user)
    assert_error(api.get(user, f"/api/threads/{thread['id']}/messages", params=params), 422)


def test_messages_of_a_run_oldest_first(api, platform):
    user = api.user()
    thread = api.thread(user)
    session = open_session(platform, user.access_token)
    try:
        frames = session.run("Where can I save money?", thread_id=thread["id"])
    finally:
        session.close()
    run_id = frames[0]["run_id"]
    body = api.get(user, f"/api/threads/{thread['id']}/messages").json()
    assert body["thread_id"] == thread["id"] and body["total"] == 2
    assert body["limit"] == 50 and body["offset"] == 0
    first, second = body["messages"]
    assert first["role"] == "user" and first["content"] == "Where can I save money?" and first["run_id"] == run_id
    assert second["role"] == "assistant" and second["run_id"] == run_id
    result = second["metadata"]["result"]
    assert second["content"] == result["summary"] == frames[-1]["data"]["result"]["summary"]
    assert parse_time(first["created_at"]) <= parse_time(second["created_at"])
    for m in body["messages"]:
        assert set(m) >= {"id", "role", "content", "created_at", "metadata"}
    assert api.get(user, f"/api/threads/{thread['id']}").json()["message_count"] == 2
    paged = api.get(user, f"/api/threads/{thread['id']}/messages", params={"limit": 1, "offset": 1}).json()
    assert [m["id"] for m in paged["messages"]] == [second["id"]] and paged["total"] == 2


# ---- usage -------------------------------------------------------------------------------
def test_usage_ingest_and_summary(api):
    user = api.user()
    worked = usage_record(days_ago=2, requests=100_000, input_tokens=1000, output_tokens=200)
    other = usage_record(days_ago=3, model="claude-haiku-3.5", task="chat", requests=10, input_tokens=100,
                         output_tokens=10)
    old = usage_record(days_ago=45, requests=1_000_000)  # outside the 30-day window
    body = api.add_usage(user, [worked, other, old])
    assert body == {"accepted": 3, "rejected": []}

    summary = api.get(user, "/api/usage/summary").json()
    assert summary["period_days"] == 30
    assert money.same(summary["total_cost_usd"], 450.0 + 10 * (100 * 0.80 + 10 * 4.00) / 1e6)
    assert [row["model"] for row in summary["by_model"]] == ["gpt-4o", "claude-haiku-3.5"]
    gpt = summary["by_model"][0]
    assert gpt == {"model": "gpt-4o", "requests": 100_000, "input_tokens": 100_000_000,
                   "output_tokens": 20_000_000, "cost_usd": 450.0}


def test_usage_ingest_accepts_the_valid_and_reports_the_invalid_by_index(api):
    user = api.user()
    records = [
        usage_record(),
        usage_record(model="gpt-5-imaginary"),
        usage_record(requests=0),
        usage_record(input_tokens=-1),
        usage_record(shared_prefix_tokens=2000, input_tokens=1000),
        usage_record(timestamp="2026-01-01T00:00:00"),  # no time zone
        usage_record(timestamp="yesterday"),
        usage_record(requests=1.5),
        usage_record(requests=True),
        usage_record(batchable="yes"),
        usage_record(latency_ms=-3),
        usage_record(output_tokens=10**30),
        usage_record(timestamp="0001-01-01T00:00:00+05:00"),
        "not an object",
        usage_record(batchable=True, shared_prefix_tokens=500, latency_ms=120.5, task=None),
    ]
    r = api.post(user, "/api/usage", json={"records": records})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["accepted"] == 2
    assert [item["index"] for item in body["rejected"]] == list(range(1, 14))
    assert all(isinstance(item["error"], str) and item["error"] for item in body["rejected"])


@pytest.mark.parametrize("body", [
    {"records": []},
    {"records": [usage_record(model="nope")]},
    {"records": [{}, 1, None]},
    {"records": "all"},
    {"records": {"0": usage_record()}},
    {},
])
def test_usage_ingest_with_nothing_valid_is_422(api, user, body):
    assert_error(api.post(user, "/api/usage", json=body), 422)
    assert api.get(user, "/api/usage/summary").json()["by_model"] == []


def test_usage_ingest_takes_10000_records_and_refuses_10001(api):
    user = api.user()
    record = usage_record(requests=1, input_tokens=10, output_tokens=1)
    assert_error(api.post(user, "/api/usage", json={"records": [record] * 10_001}), 422)
    assert api.get(user, "/api/usage/summary").json()["by_model"] == []
    assert api.add_usage(user, [record] * 10_000)["accepted"] == 10_000
    assert api.get(user, "/api/usage/summary").json()["by_model"][0]["requests"] == 10_000


def test_delete_usage_removes_only_the_callers_records(api):
    mine, theirs = api.user(), api.user()
    api.add_usage(mine, week_of_usage())
    api.add_usage(theirs, week_of_usage())
    before = api.get(theirs, "/api/usage/summary").json()
    assert api.delete(mine, "/api/usage").status_code == 204
    assert api.get(mine, "/api/usage/summary").json() == {"period_days": 30, "total_cost_usd": 0.0, "by_model": []}
    assert api.get(theirs, "/api/usage/summary").json() == before
    assert api.delete(mine, "/api/usage").status_code == 204  # nothing left: still 204


def test_pricing_catalogue(api, user):
    body = api.get(user, "/api/pricing").json()
    assert set(body) == {"as_of", "models"}
    rows = {m["model"]: m for m in body["models"]}
    assert set(rows) == {"gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "claude-haiku-3.5", "gemini-2.5-pro",
                         "gemini-2.5-flash"}
    assert rows["gpt-4o"] == {"model": "gpt-4o", "vendor": "openai", "tier": "premium", "input_per_mtok": 2.5,
                              "cached_input_per_mtok": 1.25, "output_per_mtok": 10.0, "batch_discount": 0.5}
    assert {m["tier"] for m in body["models"]} == {"premium", "economy"}


def test_websocket_ticket(api, user):
    r = api.post(user, "/api/websocket/ticket")
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"ticket_id", "expires_at", "ttl_seconds", "single_use"}
    assert body["ttl_seconds"] == 300 and body["single_use"] is True
    left = parse_time(body["expires_at"]) - datetime.now(timezone.utc)
    assert timedelta(seconds=290) < left <= timedelta(seconds=301)


# ---- isolation ---------------------------------------------------------------------------
MISSING = "thread_00000000000000000000000000000000"


@pytest.mark.parametrize("method, suffix, body", [("GET", "", None), ("PUT", "", {"title": "mine now"}),
                                                  ("DELETE", "", None), ("GET", "/messages", None)])
def test_another_users_thread_answers_exactly_like_a_missing_one(api, method, suffix, body):
    owner, intruder = api.user(), api.user()
    thread = api.thread(owner, title="private")
    kw = {"json": body} if body is not None else {}
    foreign = api.http.request(method, f"/api/threads/{thread['id']}{suffix}", headers=intruder.headers, **kw)
    missing = api.http.request(method, f"/api/threads/{MISSING}{suffix}", headers=intruder.headers, **kw)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content.replace(thread["id"].encode(), b"ID") == missing.content.replace(MISSING.encode(), b"ID")
    assert foreign.headers["content-type"] == missing.headers["content-type"]
    # and the thread is untouched
    assert api.get(owner, f"/api/threads/{thread['id']}").json()["title"] == "private"


def test_threads_are_listed_only_for_their_owner(api):
    owner, other = api.user(), api.user()
    api.thread(owner, title="owner's")
    assert api.get(other, "/api/threads").json() == {"threads": [], "total": 0, "limit": 20, "offset": 0}


def test_another_users_usage_never_counts_in_my_summary(api):
    me, them = api.user(), api.user()
    api.add_usage(them, week_of_usage())
    api.add_usage(me, [usage_record(model="gemini-2.5-flash", task="chat")])
    summary = api.get(me, "/api/usage/summary").json()
    assert [row["model"] for row in summary["by_model"]] == ["gemini-2.5-flash"]
    assert summary["by_model"][0]["requests"] == 1000
