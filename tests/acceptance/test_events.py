"""Normalisation of server frames, the event log and bounded waits."""
from __future__ import annotations

import json
import threading
import time

import pytest

from acceptance.client.events import (
    Event,
    EventLog,
    after,
    compact,
    normalize,
    of_agent,
    of_run,
    of_type,
    parse_frame,
)
from acceptance.client.waiting import Deadline, WaitTimeout, wait_until
from acceptance.verify.errors import ContractViolation, InfrastructureFailure, SuiteFailure
from tests.samples import (
    as_flat,
    as_payload,
    as_system_message,
    auth_failed_frame,
    connection_established_frame,
    error_frame,
    events_from,
    pong_frame,
    supervisor_run_frames,
)

RUN = supervisor_run_frames()
TOOL_FRAME = next(f for f in RUN if f["type"] == "tool_completed")
STARTED_SUB = next(f for f in RUN if f["type"] == "agent_started" and "parent_agent" in f["data"])


def later(delay: float, fn, *args) -> threading.Timer:
    timer = threading.Timer(delay, fn, args)
    timer.daemon = True
    timer.start()
    return timer


# --------------------------------------------------------------------------- normalize


def test_canonical_frame_normalises_to_itself():
    ev = normalize(TOOL_FRAME, 1.5)
    assert ev.dialect == "data"
    assert ev.type == "tool_completed"
    assert ev.data == TOOL_FRAME["data"]
    assert ev.message_id == TOOL_FRAME["message_id"]
    assert ev.timestamp == TOOL_FRAME["timestamp"]
    assert (ev.run_id, ev.thread_id, ev.agent_name, ev.tool_name) == (
        TOOL_FRAME["run_id"], TOOL_FRAME["thread_id"], TOOL_FRAME["agent_name"], TOOL_FRAME["tool_name"])
    assert ev.raw is TOOL_FRAME
    assert ev.received_at == 1.5
    assert ev.canonical() == TOOL_FRAME


def test_canonical_omits_absent_ids():
    frame = connection_established_frame()
    canonical = normalize(frame).canonical()
    assert canonical == frame
    assert "run_id" not in canonical and "tool_name" not in canonical


def test_received_at_defaults_to_monotonic_now():
    before = time.monotonic()
    ev = normalize(pong_frame())
    assert before <= ev.received_at <= time.monotonic()


def test_payload_dialect():
    ev = normalize(as_payload(TOOL_FRAME))
    assert ev.dialect == "payload"
    assert ev.canonical() == TOOL_FRAME


def test_flat_dialect_takes_every_non_envelope_key_as_data():
    flat = as_flat(TOOL_FRAME)
    assert "data" not in flat and flat["execution_id"] == TOOL_FRAME["data"]["execution_id"]
    ev = normalize(flat)
    assert ev.dialect == "flat"
    assert ev.data == TOOL_FRAME["data"]
    assert ev.canonical() == TOOL_FRAME


@pytest.mark.parametrize("key", ["data", "payload"])
@pytest.mark.parametrize("ids_inside", [True, False])
def test_system_message_wrapper(key, ids_inside):
    wrapped = as_system_message(TOOL_FRAME, key=key, ids_inside=ids_inside)
    assert wrapped["type"] == "system_message" and wrapped[key]["event"] == "tool_completed"
    ev = normalize(wrapped)
    assert ev.dialect == "system_message"
    assert ev.type == "tool_completed"
    assert "event" not in ev.data
    assert ev.tool_name == TOOL_FRAME["tool_name"] and ev.run_id == TOOL_FRAME["run_id"]
    assert ev.canonical()["data"]["execution_id"] == TOOL_FRAME["data"]["execution_id"]
    assert {k: v for k, v in ev.canonical().items() if k != "data"} == {
        k: v for k, v in TOOL_FRAME.items() if k != "data"}


def test_system_message_with_details_one_level_down():
    wrapped = {"type": "system_message", "message_id": "msg_1", "timestamp": "2025-01-01T00:00:00Z",
               "data": {"event": "agent_started", "run_id": "r1", "thread_id": "t1", "agent_name": "triage",
                        "payload": {"task": "classify", "parent_agent": "supervisor"}}}
    ev = normalize(wrapped)
    assert ev.type == "agent_started"
    assert ev.data["task"] == "classify" and ev.data["parent_agent"] == "supervisor"
    assert (ev.run_id, ev.thread_id, ev.agent_name) == ("r1", "t1", "triage")


def test_plain_system_message_without_event_keeps_its_type():
    ev = normalize({"type": "system_message", "data": {"text": "maintenance at noon"}})
    assert ev.type == "system_message" and ev.data == {"text": "maintenance at noon"}


def test_top_level_ids_win_over_ids_inside_details():
    frame = dict(TOOL_FRAME, data=dict(TOOL_FRAME["data"], run_id="run_inner", agent_name="someone"))
    ev = normalize(frame)
    assert ev.run_id == TOOL_FRAME["run_id"] and ev.agent_name == TOOL_FRAME["agent_name"]


def test_ids_inside_payload_are_found():
    frame = {"type": "agent_started", "message_id": "msg_ab", "timestamp": "2025-01-01T00:00:00Z",
             "payload": {"task": "x", "run_id": "r", "thread_id": "t", "agent_name": "supervisor"}}
    ev = normalize(frame)
    assert (ev.run_id, ev.thread_id, ev.agent_name, ev.tool_name) == ("r", "t", "supervisor", None)


def test_netra_auth_failure_flat():
    ev = normalize(auth_failed_frame())
    assert ev.type == "error_message"
    assert ev.data["error_code"] == "AUTH_FAILED"


@pytest.mark.parametrize("key", ["data", "payload"])
def test_netra_auth_failure_with_details_object_and_top_level_code(key):
    frame = {"type": "error_message", "error_code": "AUTH_FAILED", key: {"message": "Authentication failed"}}
    ev = normalize(frame)
    assert ev.type == "error_message"
    assert ev.data["error_code"] == "AUTH_FAILED" and ev.data["message"] == "Authentication failed"


@pytest.mark.parametrize("key", ["data", "payload"])
def test_netra_auth_failure_code_inside_details(key):
    ev = normalize({"type": "error_message", key: {"error_code": "AUTH_FAILED"}})
    assert ev.type == "error_message" and ev.data["error_code"] == "AUTH_FAILED"


@pytest.mark.parametrize("frame", [[1, 2], "hello", 3, None, True])
def test_non_object_frame_is_a_contract_violation(frame):
    with pytest.raises(ContractViolation) as info:
        normalize(frame)
    assert str(info.value).startswith("Contract: ")
    assert "not a JSON object" in str(info.value)


@pytest.mark.parametrize("frame", [{}, {"type": 3, "data": {}}, {"type": "", "data": {}}])
def test_frame_without_type_is_a_contract_violation(frame):
    with pytest.raises(ContractViolation, match="no string 'type'"):
        normalize(frame)


def test_parse_frame_text_and_bytes():
    text = json.dumps(TOOL_FRAME)
    assert parse_frame(text, 2.0).canonical() == TOOL_FRAME
    assert parse_frame(text.encode(), 2.0).received_at == 2.0


def test_parse_frame_bad_json_names_the_text():
    with pytest.raises(ContractViolation) as info:
        parse_frame('{"type": "pong", oops', 0.0)
    assert "not valid JSON" in str(info.value) and "oops" in str(info.value)


def test_parse_frame_json_array_is_not_an_object():
    with pytest.raises(ContractViolation, match="not a JSON object"):
        parse_frame("[1, 2]", 0.0)


def test_parse_frame_long_text_is_excerpted():
    with pytest.raises(ContractViolation) as info:
        parse_frame("x" * 5000, 0.0)
    assert len(str(info.value)) < 600


@pytest.mark.parametrize("convert", [as_payload, as_flat, as_system_message,
                                     lambda f: as_system_message(f, key="payload", ids_inside=False)])
def test_every_dialect_of_a_whole_run_has_the_same_canonical_form(convert):
    for frame in RUN + [connection_established_frame(), pong_frame(), error_frame()]:
        assert normalize(convert(frame)).canonical() == normalize(frame).canonical(), frame["type"]


def test_compact_names_type_agent_tool_run_and_message_id():
    ev = normalize(TOOL_FRAME)
    line = compact(ev, 7)
    assert line.startswith("#7 tool_completed")
    for part in ("agent=" + TOOL_FRAME["agent_name"], "tool=" + TOOL_FRAME["tool_name"],
                 TOOL_FRAME["message_id"], "run=" + TOOL_FRAME["run_id"][:8]):
        assert part in line
    assert "\n" not in line


# --------------------------------------------------------------------------- filters


def test_filters_and_composition():
    events = events_from(RUN)
    other = events_from(supervisor_run_frames())
    mixed = [e for pair in zip(events, other) for e in pair]
    run_id = events[0].run_id
    assert of_run(run_id)(mixed) == events
    assert [e.type for e in of_type("agent_started")(events)] == ["agent_started"] * 4
    assert of_agent("triage")(events) == [e for e in events if e.agent_name == "triage"]
    completed = (of_run(run_id) & of_type("agent_completed"))
    assert completed.first(mixed).agent_name == "triage"
    assert completed.last(mixed).agent_name == "supervisor"
    assert completed.count(mixed) == 4
    assert after(events[2].message_id)(events) == events[3:]
    assert after(None)(events) == events
    assert after("msg_unknown")(events) == []
    assert (of_run("nope") & of_type("agent_completed")).first(mixed) is None


# --------------------------------------------------------------------------- EventLog


def test_log_append_snapshot_len():
    log = EventLog()
    events = events_from(RUN[:3])
    for ev in events:
        log.append(ev)
    assert len(log) == 3
    snap = log.snapshot()
    assert snap == events
    snap.clear()
    assert len(log) == 3  # snapshot is a copy
    assert list(log) == events


def test_wait_for_returns_first_truthy_result_when_a_later_append_satisfies_it():
    log = EventLog()
    events = events_from(RUN)
    for ev in events[:3]:
        log.append(ev)
    target = of_type("agent_completed")
    later(0.05, log.extend, events[3:])
    found = log.wait_for(target.first, timeout=5, description="the first agent_completed")
    assert isinstance(found, Event) and found.type == "agent_completed"


def test_wait_for_is_woken_by_appends_one_by_one():
    log = EventLog()
    events = events_from(RUN)

    def feed():
        for ev in events:
            log.append(ev)
            time.sleep(0.002)

    threading.Thread(target=feed, daemon=True).start()
    n = log.wait_for(lambda evs: len(evs) if len(evs) >= len(events) else None, 5, "all frames")
    assert n == len(events)


def test_wait_for_already_true_returns_at_once():
    log = EventLog(events_from(RUN))
    assert log.wait_for(lambda evs: True, 0, "anything") is True


def test_wait_for_times_out_with_description_and_the_last_frames():
    log = EventLog(events_from(RUN))
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as info:
        log.wait_for(of_type("agent_stopped").first, 0.2, "agent_stopped of the run")
    elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 3
    message = str(info.value)
    assert message.startswith("Contract: timed out after 0.2s waiting for agent_stopped of the run")
    assert f"{len(RUN)} frame(s) received" in message
    lines = [line for line in message.splitlines() if line.strip().startswith("#")]
    assert len(lines) == 15
    assert RUN[-1]["message_id"] in lines[-1] and "agent_completed agent=supervisor" in lines[-1]
    assert RUN[0]["message_id"] not in message
    assert isinstance(info.value, AssertionError) and isinstance(info.value, SuiteFailure)


def test_wait_for_timeout_can_carry_another_category():
    log = EventLog()
    with pytest.raises(WaitTimeout) as info:
        log.wait_for(lambda evs: None, 0.05, "connection_established", category_cls=InfrastructureFailure)
    assert str(info.value).startswith("Infrastructure: ")
    assert info.value.category == "Infrastructure"
    assert "(no frames)" not in str(info.value) and "0 frame(s) received" in str(info.value)


def test_close_wakes_a_wait_that_can_no_longer_succeed():
    log = EventLog(events_from(RUN[:2]))
    later(0.05, log.mark_closed, 1008, "policy violation")
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as info:
        log.wait_for(of_type("agent_completed").first, 10, "agent_completed")
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert "socket closed with code 1008 (policy violation)" in message
    assert "agent_completed" in message
    assert log.closed.code == 1008 and log.closed.reason == "policy violation"


def test_wait_about_the_close_itself_succeeds():
    log = EventLog()
    later(0.05, log.mark_closed, 1009, "message too big")
    info = log.wait_for(lambda evs: log.closed, 5, "the close")
    assert info.code == 1009
    assert log.wait_closed(0).code == 1009


def test_wait_closed_times_out_when_the_socket_stays_open():
    log = EventLog()
    with pytest.raises(WaitTimeout, match="the socket to close"):
        log.wait_closed(0.05)


def test_frames_arriving_before_the_close_still_satisfy_a_wait():
    log = EventLog()
    events = events_from(RUN)
    log.extend(events)
    log.mark_closed(1000)
    assert log.wait_for(of_type("agent_completed").last, 1, "the last agent_completed") is events[-1]


def test_first_close_wins():
    log = EventLog()
    log.mark_closed(1000, "bye")
    log.mark_closed(1006)
    assert log.closed.code == 1000 and str(log.closed) == "code 1000 (bye)"


def test_fail_on_close_false_keeps_waiting_until_timeout():
    log = EventLog()
    log.mark_closed(1000)
    started = time.monotonic()
    with pytest.raises(WaitTimeout, match="timed out"):
        log.wait_for(lambda evs: None, 0.1, "nothing", fail_on_close=False)
    assert time.monotonic() - started >= 0.1


# --------------------------------------------------------------------------- waiting


def test_wait_until_returns_the_value():
    box = []
    later(0.05, box.append, "ready")
    assert wait_until(lambda: box and box[0], 5, "the box") == "ready"


def test_wait_until_times_out_with_the_category_and_last_value():
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as info:
        wait_until(lambda: [], 0.1, "a non-empty list", category_cls=InfrastructureFailure)
    assert time.monotonic() - started >= 0.1
    message = str(info.value)
    assert message.startswith("Infrastructure: timed out after 0.1s waiting for a non-empty list")
    assert "last value []" in message


def test_wait_until_default_category_is_contract():
    with pytest.raises(WaitTimeout, match=r"^Contract: "):
        wait_until(lambda: False, 0, "never")


def test_wait_timeout_category_can_be_a_name():
    assert str(WaitTimeout("x", category="Business outcome")) == "Business outcome: x"
    assert str(WaitTimeout("x")) == "Contract: x"
    err = WaitTimeout("no heartbeat")
    err.category = InfrastructureFailure
    assert err.category == "Infrastructure" and str(err) == "Infrastructure: no heartbeat"
    assert err.detail == "no heartbeat"


def test_deadline():
    d = Deadline(10)
    assert 9 < d.remaining() <= 10 and not d.expired()
    zero = Deadline(0)
    assert zero.expired() and zero.remaining() == 0
    with pytest.raises(ValueError):
        Deadline(-1)
