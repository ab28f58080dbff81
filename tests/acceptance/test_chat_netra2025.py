"""The client library in the netra-2025 dialect (docs/netra-2025.md): field names, one terminal per run,
and the chat handshake against the embedded platform in that dialect."""
import pytest
from hamcrest import assert_that, is_not

from acceptance.client import config, netra2025
from acceptance.client.chat import ChatSession, Credential
from acceptance.client.events import normalize
from acceptance.runner import embedded
from acceptance.verify import matchers as m
from acceptance.verify.errors import ContractViolation, SuiteFailure
from acceptance.verify.schemas import validate_frame
from tests.samples import as_flat, error_frame, events_from, supervisor_run_frames

SUB_AGENTS_TERMINAL = ("agent_completed", "agent_error", "agent_stopped")


def netra2025_run() -> list[dict]:
    """A supervisor run as netra-2025 sends it: flat frames, client field names, one terminal frame."""
    frames = supervisor_run_frames()
    frames = [f for f in frames if not (f["type"] in SUB_AGENTS_TERMINAL and f["agent_name"] != "supervisor")]
    wire = []
    for f in frames:
        flat = as_flat(f)
        if f["type"] == "tool_completed":
            flat["output"] = flat.pop("results")
        wire.append(flat)
    return wire


def canonical_events(frames):
    return [netra2025.to_canonical(e) for e in events_from(frames)]


def test_client_field_names_are_read_back_into_the_contracts_form():
    events = canonical_events(netra2025_run())
    tools = [e for e in events if e.type == "tool_completed"]
    assert tools and all("results" in e.data and "output" not in e.data for e in tools)
    for event in events:
        validate_frame(event)
    wire = as_flat(error_frame("RUN_LIMIT", "at most 5 runs"))
    wire["error"] = wire.pop("message")
    error = netra2025.to_canonical(normalize(wire))
    assert error.data["message"] == "at most 5 runs" and error.data["code"] == "RUN_LIMIT"
    validate_frame(error)


def test_what_the_client_could_not_read_fails_the_contract_checks():
    from acceptance.verify import checks
    good = canonical_events(netra2025_run())
    checks.frames_follow_contract(good)
    assert all(netra2025.wire_problem(e) is None for e in good)
    nested = netra2025.to_canonical(normalize(supervisor_run_frames()[-1]))  # agent_completed under data
    assert nested.data["result"] and "N25-8" in netra2025.wire_problem(nested)
    with pytest.raises(ContractViolation, match="N25-8"):
        checks.frames_follow_contract([nested])
    tool = next(f for f in netra2025_run() if f["type"] == "tool_completed")
    tool["results"] = tool.pop("output")
    assert "N25-9" in netra2025.wire_problem(netra2025.to_canonical(normalize(tool)))
    answer = netra2025_run()[-1]
    answer.pop("result")
    assert "N25-13" in netra2025.wire_problem(netra2025.to_canonical(normalize(answer)))
    error = as_flat(error_frame("RUN_LIMIT", "at most 5 runs"))
    assert "N25-10" in netra2025.wire_problem(netra2025.to_canonical(normalize(error)))
    assert netra2025.wire_problem(normalize(error)) is None  # not from a netra-2025 target: not judged here


def test_one_terminal_per_run_accepts_netra_2025_runs_and_the_per_agent_rule_does_not():
    events = canonical_events(netra2025_run())
    assert_that(events, m.follows_agent_lifecycle(one_terminal_per_run=True))
    assert_that(events, m.nests_sub_agents_inside("supervisor"))
    assert_that(events, is_not(m.follows_agent_lifecycle()))


def test_a_sub_agent_terminal_frame_fails_in_netra_2025():
    events = events_from(supervisor_run_frames())  # every sub-agent completes: the canonical form
    with pytest.raises(AssertionError, match="sub-agent .* terminal frame"):
        assert_that(events, m.follows_agent_lifecycle(one_terminal_per_run=True))


def test_a_run_without_its_terminal_or_with_frames_after_it_fails():
    events = canonical_events(netra2025_run())
    with pytest.raises(AssertionError, match="no terminal frame"):
        assert_that(events[:-1], m.follows_agent_lifecycle(one_terminal_per_run=True))
    late = [e for e in events if e.agent_name == "cost_optimizer"][-1]
    with pytest.raises(AssertionError, match="after the run's terminal"):
        assert_that(events + [late], m.follows_agent_lifecycle(one_terminal_per_run=True))


def test_handshake_offer_needs_its_top_level_ids():
    offer = normalize({"type": "handshake_response", "thread_id": "thread_1", "run_id": "run_1",
                       "request_id": "req_1", "timestamp": "2025-10-31T12:00:00Z"})
    assert netra2025.offer_problem(offer) is None
    missing = normalize({"type": "handshake_response", "data": {"thread_id": "thread_1"}})
    assert "thread_id" in netra2025.offer_problem(missing)


@pytest.fixture(scope="module")
def target():
    platform, cfg = embedded.start(config.load({"pacing_ms": "0-0", "platform_dialect": "netra-2025"}, env={}))
    yield cfg
    platform.stop()


def _token(cfg) -> str:
    import uuid

    import httpx
    r = httpx.post(f"{cfg.auth_url}/auth/register", json={"email": f"n25.{uuid.uuid4().hex[:8]}@example.test",
                                                          "password": "password-123"}, timeout=10)
    return r.json()["access_token"]


@pytest.mark.parametrize("form", ["bearer", "subprotocol", "query"])
def test_the_chat_opens_only_after_the_handshake_and_keeps_its_frames_apart(target, form):
    token = _token(target)
    session = ChatSession(target.ws_url, Credential(form, token), platform_dialect="netra-2025",
                          environment=target.environment)
    try:
        handshake = session.open().handshake
        assert handshake.offer is not None and handshake.offer.raw["thread_id"].startswith("thread_")
        if form == "subprotocol":
            assert handshake.subprotocol == f"jwt.development.{token}"
        assert [e.type for e in session.handshake_log] == ["handshake_response", "handshake_complete"]
        assert [e.type for e in session.log] == ["connection_established"]
        run = session.start("How can we spend less?", thread_id=handshake.offer.raw["thread_id"])
        assert run.run_id == handshake.offer.raw["run_id"]
        session.wait_for_end(run, 30)
        assert run.terminal.type == "agent_completed" and run.result["summary"]
    finally:
        session.close()


def test_a_target_without_the_handshake_fails_as_a_contract_violation():
    platform, cfg = embedded.start(config.load({"pacing_ms": "0-0"}, env={}))
    try:
        session = ChatSession(cfg.ws_url, Credential("bearer", _token(cfg)), platform_dialect="netra-2025")
        with pytest.raises(SuiteFailure, match="handshake_response") as failure:
            session.attempt(1.0)
        assert failure.value.category == "Contract"
        session.close()
    finally:
        platform.stop()


def test_empty_threads_the_handshake_offered_are_not_conversations_but_used_ones_are():
    """N25-6: a platform may create the offered thread with the handshake (offered_thread_created_early).
    A check of the user's conversations passes over such a thread while it is empty, and only then."""
    from acceptance.client.redaction import Redactor
    from acceptance.client.rest import HttpClient
    from acceptance.journeys.actors import World
    from acceptance.journeys.business import one_conversation
    platform, cfg = embedded.start(config.load({"pacing_ms": "0-0", "platform_dialect": "netra-2025",
                                                "platform_variations": "offered_thread_created_early"}, env={}))
    world = World(cfg, HttpClient(), Redactor())
    try:
        alice = world.actor("Alice")
        alice.ensure_account()
        alice.ask("How can my team spend less on AI?")
        session = alice.chat
        session.wait_for_end(alice.last_run, 30)
        offered = session.handshake.offer.raw["thread_id"]
        assert offered != alice.last_run.thread_id and alice.offered_thread_ids() == {offered}
        assert one_conversation(alice) == alice.last_run.thread_id
        used = session.start("And in the offered thread?", thread_id=offered)
        session.wait_for_end(used, 30)
        with pytest.raises(ContractViolation, match="exactly the one conversation"):
            one_conversation(alice)
    finally:
        world.teardown()
        platform.stop()
