"""The chat WebSocket and agent runs (CONTRACT sections 4, 5 and 7)."""
from __future__ import annotations

import base64
import json
import re
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from acceptance.verify import money

from platform_kit import (AGENT_EVENTS, TERMINAL, Api, check_run, claims_for, forge, is_run_end, open_session,
                          recv, usage_record, week_of_usage, ws_connect)

SUB_AGENTS = ["triage", "data_analysis", "cost_optimizer"]


def refused(running, token=None, **kw) -> int:
    """The HTTP status of a refused handshake (fails when the handshake succeeds)."""
    with pytest.raises(InvalidStatus) as exc:
        ws = ws_connect(running, token, **kw)
        ws.close()
    return exc.value.response.status_code


def closed_with(session_or_ws, timeout: float = 5) -> int:
    """Reads until the server closes the socket; returns the close code it sent."""
    ws = getattr(session_or_ws, "ws", session_or_ws)
    with pytest.raises(ConnectionClosed) as exc:
        while True:
            ws.recv(timeout=timeout)
    assert exc.value.rcvd is not None, "the server sent no close frame"
    return exc.value.rcvd.code


def only_pong(session, nonce: str = "quiet") -> None:
    """The next frame after a ping is its pong: nothing else was queued for this socket."""
    session.send("ping", nonce=nonce)
    f = session.recv(timeout=5)
    assert f["type"] == "pong" and f["data"]["nonce"] == nonce, f


def run_frames(frames, run_id):
    return [f for f in frames if f.get("run_id") == run_id]


# ---- handshake credentials ---------------------------------------------------------------
def test_bearer_header(platform, api, sessions):
    user = api.user()
    s = sessions(platform, user.access_token)
    assert s.established["data"]["user_id"] == user.id


def test_subprotocol_credential_is_selected_and_echoed(platform, api):
    user = api.user()
    entry = "jwt." + base64.urlsafe_b64encode(user.access_token.encode()).rstrip(b"=").decode()
    ws = ws_connect(platform, subprotocols=["chat.v1", entry])
    try:
        assert ws.subprotocol == entry
        assert ws.response.headers["Sec-WebSocket-Protocol"] == entry
        assert recv(ws)["data"]["user_id"] == user.id
    finally:
        ws.close()


def test_query_token(platform, api, sessions):
    user = api.user()
    s = sessions(platform, None, query=f"?token={user.access_token}")
    assert s.established["data"]["user_id"] == user.id


def test_the_alias_path(platform, api, sessions):
    user = api.user()
    s = sessions(platform, user.access_token, path="/api/v1/websocket")
    assert s.established["type"] == "connection_established"
    s.ping()


def test_ticket_is_single_use(platform, api, sessions):
    user = api.user()
    ticket = api.post(user, "/api/websocket/ticket").json()["ticket_id"]
    s = sessions(platform, None, query=f"?ticket={ticket}")
    assert s.established["data"]["user_id"] == user.id
    s.ping()
    assert refused(platform, query=f"?ticket={ticket}") == 403


def refusal_cases(api, platform):
    user = api.user()
    now = int(time.time())
    revoked = api.user()
    api.post(revoked, "/auth/logout")
    good_entry = "jwt." + base64.urlsafe_b64encode(user.access_token.encode()).rstrip(b"=").decode()
    return {
        "no credentials": {},
        "garbage bearer": {"token": "garbage"},
        "basic scheme": {"headers": {"Authorization": "Basic dXNlcjpwdw=="}},
        "expired": {"token": forge(claims_for(user, iat=now - 100, exp=now - 1))},
        "bad signature": {"token": forge(claims_for(user), secret="y" * 48)},
        "refresh token": {"token": user.refresh_token},
        "revoked": {"token": revoked.access_token},
        "bad ?token": {"query": "?token=nope"},
        "bad ticket": {"query": "?ticket=tkt_unknown"},
        "subprotocol not ascii": {"subprotocols": ["jwt.____"]},
        "subprotocol not base64": {"subprotocols": ["jwt.A"]},
        "subprotocol garbage jwt": {"subprotocols": ["jwt." + base64.urlsafe_b64encode(b"x.y.z").decode().rstrip("=")]},
        "bad bearer with a valid ?token": {"token": "garbage", "query": f"?token={user.access_token}"},
        "bad subprotocol with a valid ?token": {"subprotocols": ["jwt.AAAA"], "query": f"?token={user.access_token}"},
        "bad ?token with a valid ticket": {"query": "?token=nope&ticket="
                                           + api.post(user, "/api/websocket/ticket").json()["ticket_id"]},
        "valid subprotocol is not enough after a bad bearer": {"token": "garbage", "subprotocols": [good_entry]},
    }


def test_every_bad_credential_is_refused_with_403_and_no_frame(platform, api):
    for name, kw in refusal_cases(api, platform).items():
        assert refused(platform, **kw) == 403, name


# ---- frames ------------------------------------------------------------------------------
def test_connection_established(platform, user, sessions):
    s = sessions(platform, user.access_token)
    f = s.established
    assert f["type"] == "connection_established"
    assert re.match(r"^msg_[0-9a-f]+$", f["message_id"]) and f["timestamp"].endswith("Z")
    data = f["data"]
    assert set(data) == {"connection_id", "user_id", "server_time", "heartbeat_interval_s", "max_message_bytes"}
    assert data["user_id"] == user.id and data["heartbeat_interval_s"] == 25
    assert data["max_message_bytes"] == 65536 and data["server_time"].endswith("Z")
    other = sessions(platform, user.access_token)
    assert other.established["data"]["connection_id"] != data["connection_id"]


def test_ping_pong(platform, user, sessions):
    s = sessions(platform, user.access_token)
    for nonce in ("abc", 42, 1.5, ""):
        s.send("ping", nonce=nonce)
        f = s.recv()
        assert f["type"] == "pong" and f["data"]["nonce"] == nonce and f["data"]["server_time"].endswith("Z")
    s.send("ping")
    f = s.recv()
    assert f["type"] == "pong" and "nonce" not in f["data"]
    s.ws.send(json.dumps({"type": "ping", "nonce": "flat"}))  # Compat: flat frame
    assert s.recv()["data"]["nonce"] == "flat"
    s.ws.send(json.dumps({"type": "ping", "payload": {"nonce": "bin"}}).encode())  # binary frame, UTF-8 JSON
    assert s.recv()["data"]["nonce"] == "bin"
    s.ws.send('{"type": "ping", "payload": {"nonce": "deep", "x": ' + "[" * 62 + "]" * 62 + "}}")  # 64 levels
    assert s.recv()["data"]["nonce"] == "deep"


def test_get_thread(platform, api, sessions):
    user = api.user()
    s = sessions(platform, user.access_token)
    frames = s.run("Short question")
    s.send("get_thread", thread_id=frames[0]["thread_id"])
    f = s.recv()
    assert f["type"] == "thread_data"
    assert f["data"]["thread"]["id"] == frames[0]["thread_id"]
    assert [m["role"] for m in f["data"]["messages"]] == ["user", "assistant"]


# ---- agent runs --------------------------------------------------------------------------
def test_a_supervisor_run_follows_every_ordering_rule(platform, api, sessions):
    user = api.user()
    api.add_usage(user, week_of_usage())
    s = sessions(platform, user.access_token)
    request = "Please find every way to reduce what we spend on language models across all of our products"
    sent = time.monotonic()
    s.send("start_agent", user_request=request)
    first = s.recv()
    assert first["type"] == "agent_started" and time.monotonic() - sent < 5
    frames = [first] + run_frames(s.until(lambda f: is_run_end(f, first["run_id"], "supervisor")), first["run_id"])
    by_agent = check_run(frames, "supervisor")

    assert frames[-1]["type"] == "agent_completed"
    started = [f["agent_name"] for f in frames if f["type"] == "agent_started"]
    assert started == ["supervisor"] + SUB_AGENTS
    for agent in SUB_AGENTS:
        assert by_agent[agent][-1]["type"] == "agent_completed"
        assert all(f["data"].get("parent_agent") in (None, "supervisor") for f in by_agent[agent])
    assert first["data"]["task"] == request

    result = frames[-1]["data"]["result"]
    assert set(result) >= {"summary", "data_sufficiency", "cost_optimization", "data_analysis"}
    assert result["data_sufficiency"] == "sufficient"
    savings = result["cost_optimization"]["potential_savings"]
    recs = result["cost_optimization"]["recommendations"]
    assert recs and recs[0]["type"] == "model_routing" and recs[0]["target_model"] == "gpt-4o-mini"
    money.expect_savings(result["cost_optimization"], *money.INVARIANTS)

    thread = api.get(user, f"/api/threads/{first['thread_id']}").json()
    assert thread["title"] == request[:60]
    messages = api.messages(user, first["thread_id"])
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["metadata"]["result"] == result


def test_a_latency_question_brings_in_the_performance_optimizer(platform, api, sessions):
    user = api.user()
    api.add_usage(user, [usage_record(days_ago=d + 0.5, latency_ms=100 if d % 5 else 900, task="chat")
                         for d in range(10)])
    s = sessions(platform, user.access_token)
    frames = s.run("Why is our p95 latency so slow?")
    check_run(frames)
    started = [f["agent_name"] for f in frames if f["type"] == "agent_started"]
    assert started == ["supervisor"] + SUB_AGENTS + ["performance_optimizer"]
    assert "performance" in frames[-1]["data"]["result"]


def test_user_message_runs_the_supervisor(platform, api, sessions):
    user = api.user()
    s = sessions(platform, user.access_token)
    s.send("user_message", content="hello, what can I save?")
    first = s.recv()
    assert first["type"] == "agent_started" and first["agent_name"] == "supervisor"
    frames = [first] + run_frames(s.until(lambda f: is_run_end(f, first["run_id"], "supervisor")), first["run_id"])
    check_run(frames)
    assert api.messages(user, first["thread_id"])[0]["content"] == "hello, what can I save?"


def test_a_run_in_an_existing_thread(platform, api, sessions):
    user = api.user()
    thread = api.thread(user, title="ongoing")
    s = sessions(platform, user.access_token)
    frames = s.run("again", thread_id=thread["id"])
    assert {f["thread_id"] for f in frames} == {thread["id"]}
    frames = s.run("and again", thread_id=thread["id"])
    assert [m["content"] for m in api.messages(user, thread["id"]) if m["role"] == "user"] == ["again", "and again"]
    assert api.get(user, f"/api/threads/{thread['id']}").json()["title"] == "ongoing"


@pytest.mark.parametrize("agent, keys", [
    ("cost_optimizer", {"summary", "data_sufficiency", "cost_analysis", "recommendations", "potential_savings"}),
    ("data_analysis", {"summary", "period_days", "daily", "by_model", "anomalies"}),
    ("performance_optimizer", {"summary", "latency", "recommendations"}),
    ("triage", {"summary"}),
])
def test_direct_agents_complete_without_a_parent(platform, api, sessions, agent, keys):
    user = api.user()
    api.add_usage(user, week_of_usage())
    s = sessions(platform, user.access_token)
    frames = s.run("Look at my usage", agent=agent)
    check_run(frames, agent)
    assert {f["agent_name"] for f in frames} == {agent}
    assert all("parent_agent" not in f["data"] for f in frames)
    assert frames[-1]["type"] == "agent_completed"
    assert set(frames[-1]["data"]["result"]) >= keys
    messages = api.wait_for_messages(user, frames[0]["thread_id"], 2)
    assert messages[1]["metadata"]["result"] == frames[-1]["data"]["result"]


def test_with_no_usage_the_data_is_insufficient_and_the_run_still_completes(platform, api, sessions):
    user = api.user()
    s = sessions(platform, user.access_token)
    frames = s.run("Cut my costs")
    check_run(frames)
    assert frames[-1]["type"] == "agent_completed"
    result = frames[-1]["data"]["result"]
    assert result["data_sufficiency"] == "insufficient"
    assert result["cost_optimization"]["data_sufficiency"] == "insufficient"
    assert result["cost_optimization"]["recommendations"] == []
    assert result["cost_optimization"]["potential_savings"]["monthly_amount"] == 0
    assert result["data_analysis"]["daily"] == [] and result["data_analysis"]["anomalies"] == []


# ---- stop --------------------------------------------------------------------------------
def test_stop_ends_the_run_with_one_agent_stopped(paced_platform, paced_api, sessions):
    api = paced_api
    user = api.user()
    s = sessions(paced_platform, user.access_token)
    first = s.start("stop me")
    run_id = first["run_id"]
    before = s.until(lambda f: f["type"] == "tool_executing" and f["agent_name"] == "data_analysis")
    s.send("stop_agent", run_id=run_id)
    after = s.until(lambda f: f["type"] in TERMINAL and f["agent_name"] == "supervisor")
    frames = [first] + run_frames(before + after, run_id)
    assert all(f["type"] != "error" for f in before + after)
    check_run(frames)
    terminals = [f for f in frames if f["type"] in TERMINAL]
    assert [f["type"] for f in terminals].count("agent_stopped") == 1
    assert terminals[-1]["type"] == "agent_stopped" and terminals[-1]["agent_name"] == "supervisor"
    assert terminals[-1]["data"] == {"reason": "user_requested"}
    assert all(f["type"] == "agent_completed" and f["agent_name"] != "supervisor" for f in terminals[:-1])
    assert "cost_optimizer" not in {f["agent_name"] for f in frames}  # stopped well before the end
    assert frames[-1] is terminals[-1]
    # a stopped run stores no assistant message, and nothing more arrives
    messages = api.messages(user, first["thread_id"])
    assert [m["role"] for m in messages] == ["user"]
    only_pong(s)
    # stopping it again (it has ended) does nothing
    s.send("stop_agent", run_id=run_id)
    only_pong(s)


def test_stopping_a_finished_run_does_nothing(platform, api, sessions):
    user = api.user()
    s = sessions(platform, user.access_token)
    frames = s.run("quick")
    s.send("stop_agent", run_id=frames[0]["run_id"])
    only_pong(s)
    assert len(api.messages(user, frames[0]["thread_id"])) == 2


def test_stopping_another_users_run_is_run_not_found(paced_platform, paced_api, sessions):
    owner, other = paced_api.user(), paced_api.user()
    mine = sessions(paced_platform, owner.access_token)
    theirs = sessions(paced_platform, other.access_token)
    first = mine.start("mine")
    theirs.send("stop_agent", run_id=first["run_id"])
    assert theirs.error()["code"] == "RUN_NOT_FOUND"
    frames = [first] + run_frames(mine.until(lambda f: is_run_end(f, first["run_id"], "supervisor")), first["run_id"])
    assert frames[-1]["type"] == "agent_completed"
    only_pong(theirs)  # and none of the owner's frames reached the other user


# ---- delivery and resume -----------------------------------------------------------------
def test_resume_on_a_second_connection_replays_then_continues_live(paced_platform, paced_api, sessions):
    user = paced_api.user()
    a = sessions(paced_platform, user.access_token)
    first = a.start("resume me")
    run_id = first["run_id"]
    seen = [first] + run_frames(a.until(lambda f: f["type"] == "tool_completed"), run_id)
    last_seen = seen[-1]["message_id"]

    b = sessions(paced_platform, user.access_token)  # opened after the run started
    only_pong(b, "before-resume")
    b.send("resume_run", run_id=run_id, last_message_id=last_seen)
    b_frames = run_frames(b.until(lambda f: is_run_end(f, run_id, "supervisor")), run_id)
    a_frames = seen + run_frames(a.until(lambda f: is_run_end(f, run_id, "supervisor")), run_id)

    check_run(a_frames)
    a_ids = [f["message_id"] for f in a_frames]
    assert [f["message_id"] for f in b_frames] == a_ids[a_ids.index(last_seen) + 1:]
    assert b_frames == a_frames[a_ids.index(last_seen) + 1:]
    only_pong(b, "after")
    only_pong(a, "after")


def test_a_late_connection_gets_nothing_until_it_resumes_then_everything(paced_platform, paced_api, sessions):
    user = paced_api.user()
    a = sessions(paced_platform, user.access_token)
    first = a.start("late joiner")
    run_id = first["run_id"]
    late = sessions(paced_platform, user.access_token)
    a_frames = [first] + run_frames(a.until(lambda f: is_run_end(f, run_id, "supervisor")), run_id)
    only_pong(late, "nothing-yet")

    late.send("resume_run", run_id=run_id, last_message_id="msg_unknown")
    replay = run_frames(late.until(lambda f: is_run_end(f, run_id, "supervisor")), run_id)
    assert replay == a_frames
    only_pong(late, "no-duplicates")

    late.send("resume_run", run_id=run_id, last_message_id=a_frames[-1]["message_id"])
    only_pong(late, "nothing-after-the-end")


def test_every_connection_open_at_run_start_gets_every_frame(paced_platform, paced_api, sessions):
    user, stranger = paced_api.user(), paced_api.user()
    a = sessions(paced_platform, user.access_token)
    b = sessions(paced_platform, user.access_token)
    outsider = sessions(paced_platform, stranger.access_token)
    first = a.start("fan out")
    run_id = first["run_id"]
    a_frames = [first] + run_frames(a.until(lambda f: is_run_end(f, run_id, "supervisor")), run_id)
    b_frames = run_frames(b.until(lambda f: is_run_end(f, run_id, "supervisor")), run_id)
    assert a_frames == b_frames
    check_run(a_frames)
    only_pong(outsider)


def test_a_run_keeps_going_when_its_socket_closes(paced_platform, paced_api):
    user = paced_api.user()
    s = open_session(paced_platform, user.access_token)
    first = s.start("finish without me")
    s.close()
    messages = paced_api.wait_for_messages(user, first["thread_id"], 2, timeout=15)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["run_id"] == first["run_id"]
    assert messages[1]["content"] == messages[1]["metadata"]["result"]["summary"]


def test_resume_of_an_unknown_or_foreign_run_is_run_not_found(platform, api, sessions):
    owner, other = api.user(), api.user()
    frames = sessions(platform, owner.access_token).run("private run")
    s = sessions(platform, other.access_token)
    for run_id in (frames[0]["run_id"], "run_unknown"):
        s.send("resume_run", run_id=run_id, last_message_id="msg_x")
        assert s.error()["code"] == "RUN_NOT_FOUND"
    only_pong(s)


# ---- errors ------------------------------------------------------------------------------
def error_cases(thread_of_other: str) -> list[tuple[str | bytes, str]]:
    big = "x" * 8001
    return [
        ("not json", "INVALID_JSON"),
        ("{", "INVALID_JSON"),
        ("[1, 2]", "INVALID_JSON"),
        ("42", "INVALID_JSON"),
        ('"ping"', "INVALID_JSON"),
        ("null", "INVALID_JSON"),
        ('{"type": "ping", "payload": {"nonce": NaN}}', "INVALID_JSON"),
        ('{"type": "ping", "payload": {"nonce": 1e400}}', "INVALID_JSON"),
        ('{"type": "ping", "payload": {"nonce": "\\ud800"}}', "INVALID_JSON"),
        (b"\xff\xfe\x00garbage", "INVALID_JSON"),
        ("[" * 100_00 + "]" * 100_00, "INVALID_JSON"),
        ('{"type": "ping", "payload": {"nonce": "n", "deep": ' + "[" * 63 + "]" * 63 + "}}", "INVALID_JSON"),
        ('{"type": "launch_missiles", "payload": 5}', "UNKNOWN_MESSAGE_TYPE"),
        ('{"type": "launch_missiles"}', "UNKNOWN_MESSAGE_TYPE"),
        ('{"payload": {}}', "UNKNOWN_MESSAGE_TYPE"),
        ('{"type": 5, "payload": "x"}', "UNKNOWN_MESSAGE_TYPE"),
        ('{"type": ["ping"]}', "UNKNOWN_MESSAGE_TYPE"),
        ('{"type": "PING"}', "UNKNOWN_MESSAGE_TYPE"),
        ('{"type": "start_agent", "payload": "go"}', "INVALID_PAYLOAD"),
        ('{"type": "start_agent", "payload": {}}', "INVALID_PAYLOAD"),
        ('{"type": "start_agent", "payload": {"user_request": ""}}', "INVALID_PAYLOAD"),
        ('{"type": "start_agent", "payload": {"user_request": "   "}}', "INVALID_PAYLOAD"),
        ('{"type": "start_agent", "payload": {"user_request": 5}}', "INVALID_PAYLOAD"),
        (json.dumps({"type": "start_agent", "payload": {"user_request": big}}), "INVALID_PAYLOAD"),
        ('{"type": "start_agent", "payload": {"user_request": "hi", "thread_id": 5}}', "INVALID_PAYLOAD"),
        ('{"type": "start_agent", "payload": {"user_request": "hi", "context": []}}', "INVALID_PAYLOAD"),
        ('{"type": "start_agent", "payload": {"user_request": "hi", "agent": 5}}', "INVALID_PAYLOAD"),
        ('{"type": "start_agent", "payload": {"user_request": "hi", "agent": false}}', "INVALID_PAYLOAD"),
        ('{"type": "user_message", "payload": {}}', "INVALID_PAYLOAD"),
        ('{"type": "stop_agent", "payload": {}}', "INVALID_PAYLOAD"),
        ('{"type": "stop_agent", "payload": {"run_id": 7}}', "INVALID_PAYLOAD"),
        ('{"type": "resume_run", "payload": {"last_message_id": "m"}}', "INVALID_PAYLOAD"),
        ('{"type": "resume_run", "payload": {"run_id": "r", "last_message_id": 3}}', "INVALID_PAYLOAD"),
        ('{"type": "get_thread", "payload": {}}', "INVALID_PAYLOAD"),
        ('{"type": "ping", "payload": {"nonce": [1]}}', "INVALID_PAYLOAD"),
        ('{"type": "ping", "payload": {"nonce": true}}', "INVALID_PAYLOAD"),
        ('{"type": "start_agent", "payload": {"user_request": "hi", "agent": "cfo"}}', "UNKNOWN_AGENT"),
        ('{"type": "start_agent", "payload": {"user_request": "hi", "agent": ""}}', "UNKNOWN_AGENT"),
        ('{"type": "start_agent", "payload": {"user_request": "hi", "thread_id": "thread_missing"}}',
         "THREAD_NOT_FOUND"),
        (json.dumps({"type": "start_agent", "payload": {"user_request": "hi", "thread_id": thread_of_other}}),
         "THREAD_NOT_FOUND"),
        (json.dumps({"type": "user_message", "payload": {"content": "hi", "thread_id": thread_of_other}}),
         "THREAD_NOT_FOUND"),
        (json.dumps({"type": "get_thread", "payload": {"thread_id": thread_of_other}}), "THREAD_NOT_FOUND"),
        ('{"type": "stop_agent", "payload": {"run_id": "run_nope"}}', "RUN_NOT_FOUND"),
        ('{"type": "resume_run", "payload": {"run_id": "run_nope", "last_message_id": "m"}}', "RUN_NOT_FOUND"),
    ]


def test_every_error_code_keeps_the_connection_open(platform, api, sessions):
    user, other = api.user(), api.user()
    foreign = api.thread(other)["id"]
    s = sessions(platform, user.access_token)
    for i, (text, code) in enumerate(error_cases(foreign)):
        s.ws.send(text)
        f = s.recv()
        assert f["type"] == "error", (text[:80], f)
        assert f["data"]["code"] == code, (text[:80], f["data"])
        assert isinstance(f["data"]["message"], str) and f["data"]["message"]
        assert re.match(r"^msg_[0-9a-f]+$", f["message_id"])
        only_pong(s, f"after-{i}")
    assert api.get(user, "/api/threads").json()["total"] == 0  # no refused start made a thread


def test_a_token_without_agent_execute_is_forbidden_before_payload_checks(platform, api, sessions):
    reader = api.user(permissions=["read", "chat"])
    s = sessions(platform, reader.access_token)
    for type_, payload in (("start_agent", {"user_request": "go"}), ("user_message", {"content": "go"}),
                           ("start_agent", {}), ("start_agent", {"user_request": "go", "agent": "nope"})):
        s.send(type_, **payload)
        assert s.error()["code"] == "FORBIDDEN"
    only_pong(s)
    s.send("get_thread", thread_id="thread_missing")
    assert s.error()["code"] == "THREAD_NOT_FOUND"


def test_the_21st_start_within_10_s_is_rate_limited(platform, api, sessions):
    user = api.user()
    s = sessions(platform, user.access_token)
    t0 = time.monotonic()
    for i in range(20):
        s.run(f"run {i}", agent="triage")
    assert time.monotonic() - t0 < 9, "too slow to test a 10 s window"
    s.send("start_agent", user_request="one too many")
    data = s.error()
    assert data["code"] == "RATE_LIMITED"
    assert 0 < data["retry_after_s"] <= 10
    only_pong(s)


def test_refused_starts_do_not_count_toward_the_rate(platform_factory):
    running = platform_factory(RUN_RATE_LIMIT="3", RUN_RATE_WINDOW_S="60", RUN_CONCURRENCY_LIMIT="1",
                               PACING_MIN_MS="10", PACING_MAX_MS="15")
    api = Api(running)
    user = api.user()
    s = open_session(running, user.access_token)
    try:
        for payload, code in (({}, "INVALID_PAYLOAD"), ({"user_request": "x", "agent": "x"}, "UNKNOWN_AGENT"),
                              ({"user_request": "x", "thread_id": "thread_x"}, "THREAD_NOT_FOUND")):
            for _ in range(3):
                s.send("start_agent", **payload)
                assert s.error()["code"] == code
        first = s.start("one")
        for _ in range(3):
            s.send("start_agent", user_request="while one runs")
        # the refusals interleave with the running run's frames; read both until the run has ended
        seen: list[dict] = []
        s.until(lambda f: seen.append(f) or (sum(x["type"] == "error" for x in seen) == 3
                                            and any(is_run_end(x, first["run_id"], "supervisor") for x in seen)))
        assert [x["data"]["code"] for x in seen if x["type"] == "error"] == ["RUN_LIMIT"] * 3
        for request in ("two", "three"):
            s.run(request)
        s.send("start_agent", user_request="four")
        assert s.error()["code"] == "RATE_LIMITED"
    finally:
        s.close()
        api.close()


def test_the_sixth_concurrent_run_is_refused_with_run_limit(paced_platform, paced_api, sessions):
    user = paced_api.user()
    s = sessions(paced_platform, user.access_token)
    for i in range(6):
        s.send("start_agent", user_request=f"concurrent {i}")
    frames = s.until(lambda f: f["type"] == "error")
    assert frames[-1]["data"]["code"] == "RUN_LIMIT" and frames[-1]["data"]["limit"] == 5
    started = set()
    ended = set()

    def all_ended(f):
        if f["type"] == "agent_started" and f["agent_name"] == "supervisor":
            started.add(f["run_id"])
        if is_run_end(f, agent="supervisor"):
            ended.add(f["run_id"])
        return len(ended) == 5

    for f in frames:
        all_ended(f)
    s.until(all_ended, timeout=20)
    assert started == ended and len(started) == 5
    assert paced_api.get(user, "/api/threads").json()["total"] == 5


def test_run_limit_holds_for_starts_from_several_sockets_at_once(paced_platform, paced_api, sessions):
    user = paced_api.user()
    socks = [sessions(paced_platform, user.access_token) for _ in range(8)]
    for i, s in enumerate(socks):
        s.send("start_agent", user_request=f"race {i}")
    for i, s in enumerate(socks):
        s.send("ping", nonce=f"after-start-{i}")
    errors, ended = [], set()

    def note_end(f) -> bool:
        if is_run_end(f, agent="supervisor"):
            ended.add(f["run_id"])
        return len(ended) == 5

    for i, s in enumerate(socks):
        for f in s.until(lambda f, i=i: f["type"] == "pong" and f["data"]["nonce"] == f"after-start-{i}"):
            if f["type"] == "error":
                errors.append(f["data"]["code"])
            if i == 0:
                note_end(f)
    assert errors == ["RUN_LIMIT"] * 3
    if len(ended) < 5:
        socks[0].until(note_end, timeout=20)
    assert paced_api.get(user, "/api/threads").json()["total"] == 5


# ---- socket limits -----------------------------------------------------------------------
def test_a_frame_of_max_message_bytes_is_answered(platform, user, sessions):
    s = sessions(platform, user.access_token)
    head = '{"type": "ping", "payload": {"nonce": "big", "pad": "'
    text = head + "x" * (65536 - len(head) - 3) + '"}}'
    assert len(text.encode()) == 65536
    s.ws.send(text)
    assert s.recv()["type"] == "pong"


@pytest.mark.parametrize("size", [65537, 3 * 65536, 2 * 1024 * 1024])
def test_a_frame_over_max_message_bytes_closes_with_1009(platform, user, sessions, size):
    s = sessions(platform, user.access_token)
    s.ws.send("x" * size)
    assert closed_with(s) == 1009


def test_a_token_that_expires_while_connected_closes_at_the_next_frame(platform, api):
    user = api.user()
    now = int(time.time())
    token = forge(claims_for(user, iat=now, exp=now + 2))
    s = open_session(platform, token)
    try:
        s.ping()
        time.sleep(max(0.0, now + 2 - time.time()) + 0.05)  # wait on the clock: the token's exp passes
        s.send("ping", nonce="too late")
        assert closed_with(s) == 1008
    finally:
        s.close()


def test_heartbeats_arrive_when_idle(platform_factory):
    running = platform_factory(HEARTBEAT_INTERVAL_S="0.5")
    api = Api(running)
    user = api.user()
    ws = ws_connect(running, user.access_token)
    try:
        established = recv(ws)
        assert established["data"]["heartbeat_interval_s"] == 0.5
        t0 = time.monotonic()
        beats = [recv(ws, timeout=3), recv(ws, timeout=3)]
        assert [b["type"] for b in beats] == ["heartbeat", "heartbeat"]
        assert time.monotonic() - t0 >= 0.8
        for b in beats:
            assert re.match(r"^msg_[0-9a-f]+$", b["message_id"]) and b["timestamp"].endswith("Z")
    finally:
        ws.close()
        api.close()


# ---- the netra dialect -------------------------------------------------------------------
def test_netra_dialect(platform_factory):
    running = platform_factory(PLATFORM_DIALECT="netra")
    api = Api(running)
    try:
        r = api.http.post("/auth/register", json={"email": "netra@example.com", "password": "password-1"})
        assert r.status_code == 200
        token = r.json()["access_token"]

        ws = ws_connect(running, token)
        try:
            welcome = recv(ws)
            assert welcome["type"] == "system_message"
            assert welcome["data"]["event"] == "connection_established"
            assert welcome["data"]["user_id"] == r.json()["user"]["id"]
            ws.send(json.dumps({"type": "ping", "payload": {"nonce": "n"}}))
            pong = recv(ws)
            assert pong["type"] == "pong" and pong["payload"]["nonce"] == "n" and "data" not in pong
            ws.send(json.dumps({"type": "start_agent", "payload": {"user_request": "netra run"}}))
            frames = []
            while not (frames and is_run_end(frames[-1], agent="supervisor")):
                frames.append(recv(ws))
            assert all("data" not in f and isinstance(f["payload"], dict) for f in frames)
            assert {f["type"] for f in frames} <= set(AGENT_EVENTS)
            check_run([{**{k: v for k, v in f.items() if k != "payload"}, "data": f["payload"]} for f in frames])
            ws.send("nope")
            err = recv(ws)
            assert err["type"] == "error" and err["payload"]["code"] == "INVALID_JSON"
        finally:
            ws.close()

        bad = ws_connect(running, "garbage")  # accepted first in this dialect
        try:
            failure = recv(bad)
            assert failure["type"] == "error_message" and failure["error_code"] == "AUTH_FAILED"
            assert closed_with(bad) == 1008
        finally:
            bad.close()
    finally:
        api.close()
