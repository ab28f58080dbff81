"""CONTRACT.md section 8: what a client must tolerate. The suite's checks (schemas read from contract/,
matchers) accept every choice the contract leaves open."""
from __future__ import annotations

import copy
import uuid

import pytest
from hamcrest import assert_that

from acceptance.client.events import normalize
from acceptance.verify.matchers import follows_agent_lifecycle, has_matched_tool_pairs, has_monotone_progress
from acceptance.verify.schemas import validate_body, validate_frame
from tests.samples import (
    RunBuilder,
    as_flat,
    as_payload,
    as_system_message,
    events_from,
    rest_samples,
    single_agent_run_frames,
    supervisor_run_frames,
)


def test_tol_8_1_unknown_fields_everywhere_are_accepted():
    for frame in supervisor_run_frames():
        frame = copy.deepcopy(frame)
        frame["trace_id"] = "t-1"
        frame["data"]["x_vendor"] = {"nested": [1, 2]}
        validate_frame(frame)
    for name, body in rest_samples().items():
        if isinstance(body, dict):
            validate_body(name, dict(body, x_extra=True))


def test_tol_8_2_unknown_frame_types_are_tolerated():
    validate_frame({"type": "thread_created", "message_id": "msg_ab12", "timestamp": "2026-01-01T00:00:00Z",
                    "data": {"thread_id": str(uuid.uuid4())}})
    validate_frame(normalize({"type": "presence", "message_id": "msg_ab13", "timestamp": "2026-01-01T00:00:00Z",
                              "payload": {}}))


def test_tol_8_3_ids_in_any_form_are_accepted():
    for frame in single_agent_run_frames("cost_optimizer"):
        frame = copy.deepcopy(frame)
        frame["run_id"], frame["thread_id"] = str(uuid.uuid4()), "42"
        if "execution_id" in frame["data"]:
            frame["data"]["execution_id"] = str(uuid.uuid4())
        validate_frame(frame)
    thread = dict(rest_samples()["thread"], id=str(uuid.uuid4()))
    validate_body("thread", thread)


@pytest.mark.parametrize("stamp", ["2026-01-01T12:00:00Z", "2026-01-01T12:00:00.5Z", "2026-01-01T12:00:00.123456789Z",
                                   "2026-01-01T12:00:00+00:00", "2026-01-01T12:00:00.000+00:00",
                                   "2026-01-01T12:00:00-00:00"])
def test_tol_8_4_timestamps_in_any_utc_form_are_accepted(stamp):
    frame = copy.deepcopy(supervisor_run_frames()[0])
    frame["timestamp"] = stamp
    validate_frame(frame)
    validate_body("thread", dict(rest_samples()["thread"], created_at=stamp, updated_at=stamp))


def test_tol_8_5_money_as_any_json_number_is_accepted():
    body = rest_samples()["cost_optimizer_result"]
    body["cost_analysis"]["current_monthly_cost_usd"] = 450
    body["potential_savings"]["monthly_amount"] = 423
    body["potential_savings"]["annual_amount"] = 5076.0
    body["potential_savings"]["percentage"] = 94
    validate_body("cost_optimizer_result", body)
    summary = rest_samples()["usage_summary"]
    summary["total_cost_usd"] = 423.5
    validate_body("usage_summary", summary)


def test_tol_8_6_counts_the_contract_does_not_fix_are_free():
    b = RunBuilder()
    frames = [b.started("cost_optimizer", task="one thought, no tools"),
              b.thinking("cost_optimizer", "Looking at the spend.", 70)]
    frames.append(b.completed("cost_optimizer", result=rest_samples()["cost_optimizer_result"]))
    events = events_from(frames)
    for frame in frames:
        validate_frame(frame)
    assert_that(events, follows_agent_lifecycle())
    assert_that(events, has_matched_tool_pairs())
    assert_that(events, has_monotone_progress())


@pytest.mark.parametrize("convert", [as_payload, as_flat, as_system_message])
def test_tol_8_7_compat_envelopes_are_checked_after_normalisation(convert):
    for frame in supervisor_run_frames():
        validate_frame(normalize(convert(frame)))
