"""The netra-2025 dialect of the platform: the protocol of Netra's published client (docs/netra-2025.md)."""
from __future__ import annotations

import base64
import json

import pytest

from platform_kit import AGENT_EVENTS, RECV_TIMEOUT, Api, check_run, platform_in, ws_connect
from reference_platform import netra2025
from test_ws import closed_with

FLAT_TYPES = set(AGENT_EVENTS) | {"error"}


def recv(ws, timeout: float = RECV_TIMEOUT) -> dict:
    """One frame exactly as this dialect puts it on the wire (its canonical form is checked by check_run)."""
    return json.loads(ws.recv(timeout=timeout))


@pytest.fixture(scope="module")
def netra_platform(tmp_path_factory):
    with platform_in(tmp_path_factory.mktemp("netra2025"), PLATFORM_DIALECT="netra-2025") as running:
        yield running


@pytest.fixture(scope="module")
def napi(netra_platform):
    with Api(netra_platform) as client:
        yield client


def unflatten(f: dict) -> dict:
    """A flat netra-2025 frame back in canonical form (output -> results, error -> message)."""
    envelope = ("type", "message_id", "timestamp", "run_id", "thread_id", "agent_name", "tool_name")
    back = {v: k for k, v in netra2025.RENAMED.get(f["type"], {}).items()}
    return {**{k: f[k] for k in envelope if k in f},
            "data": {back.get(k, k): v for k, v in f.items() if k not in envelope}}


def handshake(ws) -> tuple[dict, dict]:
    """connection_established, then handshake_response; answers it and reads handshake_complete."""
    welcome, offer = recv(ws), recv(ws)
    assert welcome["type"] == "connection_established" and isinstance(welcome["data"]["user_id"], str)
    assert offer["type"] == "handshake_response"
    for key in ("thread_id", "run_id", "request_id", "timestamp"):
        assert isinstance(offer[key], str) and offer[key], (key, offer)
    ws.send(json.dumps({"type": "handshake_acknowledged", "thread_id": offer["thread_id"], "timestamp": "now"}))
    done = recv(ws)
    assert done["type"] == "handshake_complete" and done["thread_id"] == offer["thread_id"]
    return welcome, offer


@pytest.mark.parametrize("form", ["jwt.development.{t}", "jwt-auth.development.{t}", "bearer.development.{t}",
                                  "staging-auth.{t}", "jwt.{t}", "jwt-auth.{t}", "bearer.{t}", "jwt.{b64}"])
def test_every_subprotocol_form_of_the_client_opens_the_chat_and_is_echoed(napi, netra_platform, form):
    token = napi.user().access_token
    entry = form.format(t=token, b64=base64.urlsafe_b64encode(token.encode()).rstrip(b"=").decode())
    with ws_connect(netra_platform, subprotocols=["unrelated", entry]) as ws:
        assert ws.subprotocol == entry
        handshake(ws)


def test_the_client_offers_all_its_forms_at_once_and_the_first_is_selected(napi, netra_platform):
    token = napi.user().access_token
    entries = [f"jwt.development.{token}", f"jwt-auth.development.{token}", f"bearer.development.{token}",
               f"staging-auth.{token}", f"jwt.{token}", f"jwt-auth.{token}", f"bearer.{token}"]
    with ws_connect(netra_platform, subprotocols=entries) as ws:
        assert ws.subprotocol == entries[0]


@pytest.mark.parametrize("entries", [["jwt.development.not-a-jwt"], ["bearer.garbage"], []])
def test_unreadable_or_missing_credentials_are_refused_like_netra(netra_platform, entries):
    with ws_connect(netra_platform, subprotocols=entries or None) as ws:
        failure = recv(ws)
        assert failure["type"] == "error_message" and failure["error_code"] == "AUTH_FAILED"
        assert closed_with(ws) == 1008


def test_a_user_message_as_the_client_sends_it_runs_in_the_offered_thread(napi, netra_platform):
    user = napi.user()
    assert napi.http.get("/api/threads", headers=user.headers).json()["total"] == 0
    with ws_connect(netra_platform, user.access_token) as ws:
        _, offer = handshake(ws)
        assert napi.http.get("/api/threads", headers=user.headers).json()["total"] == 0  # created by its first run
        ws.send(json.dumps({"type": "user_message", "payload": {
            "content": "What does our AI spend look like?", "run_id": "cli_20251031_120000_4242",
            "thread_id": offer["thread_id"], "timestamp": "2025-10-31T12:00:00", "client_environment": None}}))
        frames = []
        while not frames or frames[-1]["type"] not in ("agent_completed", "agent_error", "agent_stopped"):
            frames.append(recv(ws))
        assert all(f["type"] in FLAT_TYPES and "data" not in f and "payload" not in f for f in frames)
        assert {f["run_id"] for f in frames} == {offer["run_id"]}
        assert {f["thread_id"] for f in frames} == {offer["thread_id"]}
        terminals = [f for f in frames if f["type"] == "agent_completed"]
        assert [t["agent_name"] for t in terminals] == ["supervisor"]  # one terminal frame per run
        started = [f["agent_name"] for f in frames if f["type"] == "agent_started"]
        assert started[0] == "supervisor" and len(started) > 1  # one agent_started per agent
        assert isinstance(frames[-1]["result"], dict) and frames[-1]["result"]["summary"]
        tools = [f for f in frames if f["type"] == "tool_completed"]
        assert tools and all("output" in f and "results" not in f for f in tools)
        check_run([unflatten(f) for f in frames])
        thread = napi.http.get(f"/api/threads/{offer['thread_id']}", headers=user.headers).json()
        assert thread["title"] == "What does our AI spend look like?"

        ws.send(json.dumps({"type": "user_message", "payload": {"content": "And now?",
                                                                 "thread_id": offer["thread_id"]}}))
        second = recv(ws)
        assert second["type"] == "agent_started" and second["run_id"] != offer["run_id"]  # the offer is used up
        assert second["thread_id"] == offer["thread_id"]


def test_errors_carry_their_text_as_error_and_a_wrong_acknowledgement_is_refused(napi, netra_platform):
    with ws_connect(netra_platform, napi.user().access_token) as ws:
        recv(ws), recv(ws)
        ws.send(json.dumps({"type": "handshake_acknowledged", "thread_id": "thread_someone_elses"}))
        wrong = recv(ws)
        assert wrong["type"] == "error" and wrong["code"] == "INVALID_PAYLOAD" and isinstance(wrong["error"], str)
        assert "message" not in wrong and "data" not in wrong
        ws.send("nope")
        assert recv(ws)["code"] == "INVALID_JSON"
        ws.send(json.dumps({"type": "user_message", "payload": {"content": "hi", "thread_id": "thread_unknown"}}))
        assert recv(ws)["code"] == "THREAD_NOT_FOUND"
        ws.send(json.dumps({"type": "ping", "payload": {"nonce": "n"}}))
        pong = recv(ws)
        # frames the client does not read keep the contract's form
        assert pong["type"] == "pong" and pong["data"]["nonce"] == "n"


def test_the_permissions_netras_client_asks_for_in_simulated_sign_in_may_start_agents(napi, netra_platform):
    token = napi.user(permissions=["read", "write", "test"]).access_token
    with ws_connect(netra_platform, token) as ws:
        recv(ws), recv(ws)
        ws.send(json.dumps({"type": "user_message", "payload": {"content": "hello"}}))
        assert recv(ws)["type"] == "agent_started"
    with ws_connect(netra_platform, napi.user(permissions=["read", "chat"]).access_token) as reader:
        recv(reader), recv(reader)
        reader.send(json.dumps({"type": "user_message", "payload": {"content": "hello"}}))
        assert recv(reader)["code"] == "FORBIDDEN"


# --------------------------------------------------------------------------- the dialect's open choices
# (conforming variations, docs/variations.md; CONTRACT.md N25-3, N25-6, N25-7)

@pytest.fixture(scope="module")
def varied_platform(tmp_path_factory):
    names = "subprotocol_echo_last,offered_thread_created_early,offered_run_id_unused,client_run_id_adopted,uuid_ids"
    with platform_in(tmp_path_factory.mktemp("netra2025-varied"), PLATFORM_DIALECT="netra-2025",
                     PLATFORM_VARIATIONS=names) as running:
        yield running


@pytest.fixture(scope="module")
def vapi(varied_platform):
    with Api(varied_platform) as client:
        yield client


def test_a_varied_platform_echoes_the_last_readable_entry_of_the_clients_offer(vapi, varied_platform):
    token = vapi.user().access_token
    entries = [f"jwt.development.{token}", f"bearer.{token}", "unrelated"]
    with ws_connect(varied_platform, subprotocols=entries) as ws:
        assert ws.subprotocol == entries[1]
        handshake(ws)


def test_a_varied_platform_creates_the_offered_thread_early_and_adopts_the_clients_run_id(vapi, varied_platform):
    user = vapi.user()
    with ws_connect(varied_platform, user.access_token) as ws:
        _, offer = handshake(ws)
        for key in ("thread_id", "run_id", "request_id"):  # uuid_ids: the handshake's ids are plain UUIDs too
            assert len(offer[key]) == 36 and offer[key].count("-") == 4, offer
        thread = vapi.http.get(f"/api/threads/{offer['thread_id']}", headers=user.headers).json()
        assert thread["title"] == "New thread" and thread["message_count"] == 0  # created with the handshake
        label = "cli_20251031_120000_4242"
        ws.send(json.dumps({"type": "user_message", "payload": {
            "content": "What does our AI spend look like?", "run_id": label, "thread_id": offer["thread_id"],
            "timestamp": "2025-10-31T12:00:00", "client_environment": None}}))
        frames = [recv(ws)]
        while frames[-1]["type"] not in ("agent_completed", "agent_error", "agent_stopped"):
            frames.append(recv(ws))
        assert {f["run_id"] for f in frames} == {label}  # client_run_id_adopted
        assert {f["thread_id"] for f in frames} == {offer["thread_id"]}
        check_run([unflatten(f) for f in frames])
        # the same label again is not adopted twice; without client_run_id_adopted's label, the offered run
        # id is not used either (offered_run_id_unused)
        ws.send(json.dumps({"type": "user_message", "payload": {"content": "And now?", "run_id": label,
                                                                 "thread_id": offer["thread_id"]}}))
        second = recv(ws)
        assert second["type"] == "agent_started" and second["run_id"] not in (label, offer["run_id"])


def test_a_varied_platform_gives_the_first_run_in_the_offered_thread_a_new_id(vapi, varied_platform):
    user = vapi.user()
    with ws_connect(varied_platform, user.access_token) as ws:
        _, offer = handshake(ws)
        ws.send(json.dumps({"type": "start_agent", "payload": {"user_request": "hello",
                                                                "thread_id": offer["thread_id"]}}))
        first = recv(ws)
        assert first["type"] == "agent_started" and first["thread_id"] == offer["thread_id"]
        assert first["run_id"] != offer["run_id"]
