"""Every response and frame is checked: a violation fails the wait (or the request) at once, as a
Contract failure naming the clause and the place in the document; unknown frame types pass."""
from __future__ import annotations

import http.server
import json
import threading
from types import SimpleNamespace

import pytest
from websockets.sync.server import serve

from acceptance.client.chat import ChatSession, Credential
from acceptance.client.rest import HttpClient, Transcript
from acceptance.runner import lifecycle
from acceptance.verify.errors import ContractViolation
from tests.samples import connection_established_frame, supervisor_run_frames


@pytest.fixture
def ws_server():
    """A loopback WebSocket that greets and then sends the frames the test queued."""
    frames: list[dict] = []

    def handler(ws):
        ws.send(json.dumps(connection_established_frame()))
        ws.recv(timeout=5)  # the client's ping starts the show
        for f in frames:
            ws.send(json.dumps(f))
        try:
            ws.recv(timeout=5)
        except Exception:  # noqa: BLE001 - the client closes
            pass

    with serve(handler, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}/ws", frames
        server.shutdown()


def _session(url: str) -> ChatSession:
    return ChatSession(url, Credential("bearer", "t"), transcript=Transcript(), contract_checks=True).open()


def test_a_bad_frame_fails_the_next_wait_naming_clause_and_pointer(ws_server):
    url, frames = ws_server
    bad = dict(next(f for f in supervisor_run_frames() if f["type"] == "agent_thinking"))
    bad["data"] = dict(bad["data"], progress_percentage=150)
    frames += [{"type": "thread_created", "message_id": "msg_a1", "timestamp": "2026-01-01T00:00:00Z",
                "data": {}}, bad]
    chat = _session(url)
    try:
        chat.send("ping", {"nonce": "go"})
        with pytest.raises(ContractViolation) as info:
            chat.wait_for(lambda evs: None, 5, "anything")
        text = str(info.value)
        assert text.startswith("Contract: agent_thinking frame " + bad["message_id"])
        assert "(RUN-5.5; asyncapi.yaml#/components/schemas/AgentThinkingFrame/allOf/1/properties/data/properties/" \
               "progress_percentage/maximum)" in text
        assert "$.data.progress_percentage: 150 is greater than the maximum of 100" in text
        assert len(chat.transcript.violations) == 1  # the unknown thread_created frame was tolerated
    finally:
        chat.close()


def test_a_violation_no_step_failed_on_fails_the_scenario_at_its_end():
    world = SimpleNamespace(transcript=Transcript())
    lifecycle.unreported_violation(world, SimpleNamespace(status="Status.passed"))  # nothing: fine
    world.transcript.add_violation(ContractViolation("pong frame msg_1 breaks the contract (WS-4.10; ...)"))
    with pytest.raises(ContractViolation, match=r"^Contract: pong frame msg_1 breaks the contract \(WS-4.10"):
        lifecycle.unreported_violation(world, SimpleNamespace(status="Status.passed"))
    lifecycle.unreported_violation(world, SimpleNamespace(status="Status.failed"))  # already failed: once is enough


@pytest.fixture
def http_server():
    bodies: dict[str, tuple[int, str]] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status, body = bodies[self.path]
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", bodies
    server.shutdown()
    server.server_close()


def test_a_bad_response_fails_the_request_naming_operation_clause_and_pointer(http_server):
    base, bodies = http_server
    bodies["/health"] = (200, json.dumps({"status": "healthy", "service": "backend", "environment": "dev",
                                          "uptime_seconds": 1, "checks": {"database": "ok"}, "extra": 1}))
    bodies["/api/pricing"] = (200, json.dumps({"as_of": "2026-01-01", "models": []}))
    http = HttpClient(timeout=5, contract_checks=True)
    transcript = Transcript()
    try:
        http.request("GET", base + "/api/pricing", transcript=transcript)  # conforms
        with pytest.raises(ContractViolation) as info:
            http.request("GET", base + "/health", transcript=transcript)
        text = str(info.value)
        assert text.startswith("Contract: GET /health (health) answered 200 breaks the contract (SVC-1.2; "
                               "openapi.yaml#/components/schemas/Health/required)")
        assert "$: 'version' is a required property" in text
        assert len(transcript.violations) == 1
    finally:
        http.close()
