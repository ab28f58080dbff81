"""The library's checks accept the choices the contract leaves open, and still refuse what it fixes;
waits end as soon as the stream settles the outcome."""
from __future__ import annotations

import time
import uuid

import pytest

from acceptance.client.chat import ChatSession, Credential, RunRecord
from acceptance.client.events import EventLog
from acceptance.client.rest import Response
from acceptance.client.waiting import WaitTimeout
from acceptance.journeys import business
from acceptance.journeys.isolation import made_up_id
from acceptance.verify import checks
from acceptance.verify.errors import ContractViolation, IsolationBreach
from tests.samples import events_from, single_agent_run_frames, supervisor_run_frames


def response(path: str, status: int, body: dict) -> Response:
    import json
    return Response("GET", path, status, {}, json.dumps(body), 1.0, body)


# ---- refusals compared without what the caller sent ------------------------------------------
def test_an_echoed_id_is_no_existence_oracle():
    foreign = response("/api/threads/thread_a", 404, {"detail": "thread thread_a not found", "code": "NOT_FOUND"})
    missing = response("/api/threads/thread_b", 404, {"detail": "thread thread_b not found", "code": "NOT_FOUND"})
    checks.same_as_missing(foreign, missing, "reading a thread", ("thread_a", "thread_b"))


def test_any_other_difference_still_leaks():
    foreign = response("/api/threads/thread_a", 404, {"detail": "thread thread_a is private", "code": "NOT_FOUND"})
    missing = response("/api/threads/thread_b", 404, {"detail": "thread thread_b not found", "code": "NOT_FOUND"})
    with pytest.raises(IsolationBreach):
        checks.same_as_missing(foreign, missing, "reading a thread", ("thread_a", "thread_b"))
    with pytest.raises(IsolationBreach):  # an id field is compared too, once the echo is out
        checks.same_as_missing(response("/x/a", 404, {"detail": "gone", "owner": "user_1"}),
                               response("/x/b", 404, {"detail": "gone", "owner": "user_2"}), "x", ("a", "b"))


def test_without_echoes_reaches_nested_values_and_keys():
    assert checks.without_echoes({"m": ["run r1 unknown"], "r1": 1}, "r1") == {"m": [f"run {checks.ECHO} unknown"],
                                                                            checks.ECHO: 1}


@pytest.mark.parametrize("real", [str(uuid.uuid4()), uuid.uuid4().hex, "thread_" + "ab" * 16, "run_" + "0f" * 12])
def test_a_made_up_id_takes_the_format_of_the_real_one(real):
    made = made_up_id("thread", like=real)
    assert made != real and len(made) == len(real) and made.count("-") == real.count("-")
    assert made.split("_")[0] == real.split("_")[0] or "_" not in real


# ---- counts the contract does not fix ----------------------------------------------------------
def _run(frames) -> RunRecord:
    session = ChatSession("ws://127.0.0.1:9/ws", Credential("none"))
    session.log.extend(events_from(frames))
    first = session.log[0]
    return RunRecord(first.run_id, session, "q", 0.0, first, agent=first.agent_name, thread_id=first.thread_id)


def test_one_thinking_step_shows_progress():
    frames = single_agent_run_frames("data_analysis")
    thinking = [f for f in frames if f["type"] == "agent_thinking"]
    for extra in thinking[1:]:
        frames.remove(extra)
    business.shows_progress(_run(frames), "data_analysis")


def test_progress_that_goes_back_does_not():
    frames = single_agent_run_frames("data_analysis")
    thinking = [f for f in frames if f["type"] == "agent_thinking"]
    thinking[0]["data"]["progress_percentage"] = 99
    with pytest.raises(ContractViolation, match="went back|thinking"):
        business.shows_progress(_run(frames), "data_analysis")


# ---- early verdicts ---------------------------------------------------------------------------------
def test_a_wait_settled_by_the_stream_fails_at_once():
    log = EventLog()
    started = time.monotonic()
    with pytest.raises(WaitTimeout, match="can no longer come.*evidence here"):
        log.wait_for(lambda evs: None, 180, "the end", settled=lambda evs: "evidence here")
    assert time.monotonic() - started < 1


def test_a_terminal_frame_under_a_run_id_nobody_started_ends_the_wait_for_the_run():
    frames = supervisor_run_frames()
    body, end = frames[:-1], dict(frames[-1])
    end["run_id"] = "run_someone_else"
    run = _run(body)
    run.session.runs[run.run_id] = run
    run.session.log.extend(events_from([end]))
    started = time.monotonic()
    with pytest.raises(WaitTimeout, match="no one in this scenario started"):
        run.session.wait_for_end(run, 180)
    assert time.monotonic() - started < 1


def test_a_terminal_frame_of_another_run_the_scenario_started_does_not():
    frames = supervisor_run_frames()
    other = supervisor_run_frames(thread_id=frames[0]["thread_id"])
    run = _run(frames[:-1])
    run.session.runs[run.run_id] = run
    run.session.runs[other[0]["run_id"]] = run  # started by the scenario too
    run.session.log.extend(events_from([other[-1], frames[-1]]))
    assert run.session.wait_for_end(run, 1).run_id == run.run_id
