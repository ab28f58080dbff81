"""Schemas of frames, REST bodies and results: good documents pass, bad ones fail readably."""
from __future__ import annotations

import copy

import pytest
from jsonschema import Draft202012Validator

from acceptance.client.events import normalize
from acceptance.verify.errors import ContractViolation
from acceptance.verify.schemas import (
    BODY_SCHEMAS,
    FRAME_SCHEMAS,
    SCHEMA_NAMES,
    body_errors,
    frame_errors,
    schema,
    validate_body,
    validate_frame,
)
from tests.samples import (
    as_flat,
    as_payload,
    as_system_message,
    auth_failed_frame,
    connection_established_frame,
    error_frame,
    heartbeat_frame,
    pong_frame,
    rest_samples,
    single_agent_run_frames,
    stopped_supervisor_run_frames,
    supervisor_run_frames,
    thread_data_frame,
)

FRAME_TYPES = ["connection_established", "heartbeat", "pong", "agent_started", "agent_thinking",
               "tool_executing", "tool_completed", "agent_completed", "agent_error", "agent_stopped",
               "error", "thread_data", "error_message"]
BODY_NAMES = ["tokens", "validate", "me", "health", "ready", "error", "thread", "thread_list", "messages_page",
              "usage_ingest", "usage_summary", "pricing", "websocket_ticket", "cost_optimizer_result",
              "data_analysis_result", "performance_optimizer_result", "supervisor_result"]


def all_good_frames():
    frames = supervisor_run_frames() + stopped_supervisor_run_frames()[-1:]
    for agent in ("cost_optimizer", "data_analysis", "performance_optimizer", "triage"):
        frames += single_agent_run_frames(agent)
    from tests.samples import RunBuilder
    b = RunBuilder()
    frames.append(b.error("cost_optimizer"))
    return frames + [connection_established_frame(), heartbeat_frame(), pong_frame(), pong_frame(None),
                     error_frame(), error_frame("RATE_LIMITED", "slow down", retry_after_s=3.5), thread_data_frame()]


def violation(fn, *args) -> str:
    with pytest.raises(ContractViolation) as info:
        fn(*args)
    text = str(info.value)
    assert text.startswith("Contract: ")
    return text


def agent_frame(type_="agent_thinking"):
    return copy.deepcopy(next(f for f in supervisor_run_frames() if f["type"] == type_))


# --------------------------------------------------------------------------- the catalogue


def test_every_contract_frame_type_and_body_has_a_schema():
    assert set(FRAME_TYPES) <= set(FRAME_SCHEMAS)
    assert set(BODY_NAMES) <= set(BODY_SCHEMAS)
    assert set(SCHEMA_NAMES) == {f"frame:{t}" for t in FRAME_SCHEMAS} | set(BODY_SCHEMAS)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schemas_are_valid_draft_2020_12(name):
    Draft202012Validator.check_schema(schema(name))


def test_schema_returns_a_copy_and_unknown_names_fail():
    s = schema("tokens")
    s["required"].clear()
    assert schema("tokens")["required"]
    with pytest.raises(KeyError):
        schema("nope")


# --------------------------------------------------------------------------- good frames


@pytest.mark.parametrize("frame", all_good_frames(), ids=lambda f: f["type"])
def test_good_frames_pass_as_dicts_and_as_events(frame):
    validate_frame(frame)
    validate_frame(normalize(frame))
    assert frame_errors(frame) == []


@pytest.mark.parametrize("convert", [as_payload, as_flat, as_system_message])
def test_compat_dialects_pass_after_normalisation(convert):
    for frame in supervisor_run_frames():
        validate_frame(normalize(convert(frame)))


def test_compat_dialect_fails_as_a_raw_dict():
    frame = as_payload(agent_frame())
    assert "'data' is a required property" in violation(validate_frame, frame)


def test_netra_auth_failure_passes():
    validate_frame(normalize(auth_failed_frame()))
    validate_frame(normalize({"type": "error_message", "payload": {"error_code": "AUTH_FAILED"}}))


def test_timestamps_with_zero_offsets_pass():
    for ts in ("2025-01-15T12:00:00Z", "2025-01-15T12:00:00.123456+00:00", "2025-01-15T12:00:00-00:00"):
        validate_frame(dict(heartbeat_frame(), timestamp=ts))


# --------------------------------------------------------------------------- bad frames


def test_agent_frame_missing_ids():
    frame = agent_frame()
    del frame["run_id"], frame["agent_name"]
    text = violation(validate_frame, frame)
    assert "agent_thinking frame " + frame["message_id"] + " breaks the contract (WS-4.5; asyncapi.yaml#/" in text
    assert "2 error(s)" in text
    assert "$: 'agent_name' is a required property" in text and "$: 'run_id' is a required property" in text
    assert frame["message_id"] in text  # the excerpt


def test_tool_frame_needs_tool_name():
    frame = agent_frame("tool_completed")
    del frame["tool_name"]
    assert "'tool_name' is a required property" in violation(validate_frame, frame)


@pytest.mark.parametrize("change, path, words", [
    ({"message_id": "msg_XYZ"}, "$.message_id", "does not match"),
    ({"message_id": "12"}, "$.message_id", "does not match"),
    ({"timestamp": "2025-01-15 noon"}, "$.timestamp", "is not a 'date-time'"),
    ({"timestamp": "2025-01-15T12:00:00"}, "$.timestamp", "is not a 'date-time'"),
    ({"timestamp": "2025-01-15T12:00:00+02:00"}, "$.timestamp", "does not match"),
    ({"timestamp": 1736942400}, "$.timestamp", "is not of type 'string'"),
    ({"agent_name": "helper"}, "$.agent_name", "is not one of"),
    ({"run_id": ""}, "$.run_id", "should be non-empty"),
])
def test_bad_envelope(change, path, words):
    frame = agent_frame()
    frame.update(change)
    text = violation(validate_frame, frame)
    assert f"{path}: " in text and words in text


@pytest.mark.parametrize("type_, change, path, words", [
    ("agent_thinking", {"progress_percentage": 101}, "$.data.progress_percentage", "greater than the maximum"),
    ("agent_thinking", {"progress_percentage": -1}, "$.data.progress_percentage", "less than the minimum"),
    ("agent_thinking", {"progress_percentage": "50"}, "$.data.progress_percentage", "is not of type 'number'"),
    ("agent_thinking", {"reasoning": ""}, "$.data.reasoning", "should be non-empty"),
    ("agent_thinking", {"reasoning": "   "}, "$.data.reasoning", "does not match"),
    ("agent_thinking", {"step_number": 1.5}, "$.data.step_number", "is not of type 'integer'"),
    ("agent_started", {"parent_agent": "boss"}, "$.data.parent_agent", "is not one of"),
    ("tool_executing", {"parameters": "x=1"}, "$.data.parameters", "is not of type 'object'"),
    ("tool_completed", {"success": "yes"}, "$.data.success", "is not of type 'boolean'"),
    ("tool_completed", {"duration_ms": -3}, "$.data.duration_ms", "less than the minimum"),
    ("agent_completed", {"status": "done"}, "$.data.status", "'completed' was expected"),
])
def test_bad_agent_data(type_, change, path, words):
    frame = agent_frame(type_)
    frame["data"].update(change)
    text = violation(validate_frame, frame)
    assert f"{type_} frame {frame['message_id']} breaks the contract (" in text
    assert f"{path}: " in text and words in text


def test_agent_stopped_reason_is_fixed():
    frame = stopped_supervisor_run_frames()[-1]
    frame["data"]["reason"] = "timeout"
    assert "$.data.reason: 'user_requested' was expected" in violation(validate_frame, frame)


def test_agent_error_needs_its_fields():
    from tests.samples import RunBuilder
    frame = RunBuilder().error("triage")
    del frame["data"]["recoverable"]
    assert "$.data: 'recoverable' is a required property" in violation(validate_frame, frame)


def test_agent_completed_result_is_checked_by_agent():
    frame = supervisor_run_frames()[-1]
    frame["data"]["result"]["cost_optimization"]["potential_savings"]["percentage"] = 140
    text = violation(validate_frame, frame)
    assert "$.data.result.cost_optimization.potential_savings.percentage: " in text


def test_agent_completed_of_data_analysis_with_a_bad_date():
    frame = single_agent_run_frames("data_analysis")[-1]
    frame["data"]["result"]["daily"][0]["date"] = "15/01/2025"
    assert "$.data.result.daily[0].date: '15/01/2025' is not a 'date'" in violation(validate_frame, frame)


@pytest.mark.parametrize("data, words", [
    ({"code": "TEAPOT", "message": "x"}, "$.data.code: 'TEAPOT' is not one of"),
    ({"code": "RATE_LIMITED", "message": "x"}, "$.data: 'retry_after_s' is a required property"),
    ({"message": "x"}, "$.data: 'code' is a required property"),
])
def test_bad_error_frames(data, words):
    frame = error_frame()
    frame["data"] = data
    assert words in violation(validate_frame, frame)


def test_connection_established_needs_its_fields():
    frame = connection_established_frame()
    frame["data"]["heartbeat_interval_s"] = 0
    del frame["data"]["max_message_bytes"]
    text = violation(validate_frame, frame)
    assert "$.data.heartbeat_interval_s: 0 is less than or equal to the minimum of 0" in text
    assert "$.data: 'max_message_bytes' is a required property" in text


def test_unknown_frame_type_is_tolerated_but_needs_the_envelope():
    frame = {"type": "thread_created", "message_id": "msg_1", "timestamp": "2025-01-01T00:00:00Z",
             "data": {"thread_id": "t-1"}, "extra": True}
    validate_frame(frame)  # TOL-8.2
    del frame["message_id"]
    text = violation(validate_frame, frame)
    assert "a type the contract does not name, TOL-8.2" in text
    assert "'message_id' is a required property ([WS-4.4] asyncapi.yaml#/components/schemas/Envelope/required)" in text


def test_compat_origin_is_named():
    frame = as_payload(agent_frame())
    frame["payload"]["progress_percentage"] = 200
    text = violation(validate_frame, normalize(frame))
    assert "agent_thinking frame (received in payload form)" in text and "breaks the contract (RUN-5.5;" in text


def test_additional_properties_are_allowed():
    frame = agent_frame()
    frame["trace_id"] = "abc"
    frame["data"]["confidence"] = 0.8
    validate_frame(frame)


# --------------------------------------------------------------------------- bodies


@pytest.mark.parametrize("name, body", list(rest_samples().items()), ids=lambda x: x if isinstance(x, str) else "")
def test_good_bodies_pass(name, body):
    validate_body(name, body)
    assert body_errors(name, body) == []


def test_validate_accepts_both_forms():
    samples = rest_samples()
    validate_body("validate", samples["validate"])
    validate_body("validate", samples["validate_invalid"])
    text = violation(validate_body, "validate", {"valid": False})
    assert "$: 'error' is a required property" in text
    text = violation(validate_body, "validate", {"valid": True, "error": "x"})
    assert "'user_id' is a required property" in text


@pytest.mark.parametrize("name, change, words", [
    ("tokens", {"token_type": "bearer"}, "$.token_type: 'Bearer' was expected"),
    ("tokens", {"expires_in": "900"}, "$.expires_in: '900' is not of type 'integer'"),
    ("error", {"code": "not_found"}, "$.code: 'not_found' does not match"),
    ("error", {"detail": [{"loc": ["body"], "msg": "x"}]}, "$.detail: "),
    ("thread", {"object": "chat"}, "$.object: 'thread' was expected"),
    ("thread_list", {"limit": 101}, "$.limit: 101 is greater than the maximum of 100"),
    ("websocket_ticket", {"ttl_seconds": 60}, "$.ttl_seconds: 300 was expected"),
    ("websocket_ticket", {"single_use": False}, "$.single_use: True was expected"),
    ("ready", {"status": "starting"}, "$.status: 'ready' was expected"),
    ("usage_summary", {"period_days": 7}, "$.period_days: 30 was expected"),
    ("me", {"created_at": "yesterday"}, "$.created_at: 'yesterday' is not a 'date-time'"),
    ("health", {"checks": {"database": "down"}}, "$.checks.database: 'ok' was expected"),
])
def test_bad_bodies(name, change, words):
    body = rest_samples()[name]
    body.update(change)
    text = violation(validate_body, name, body)
    assert text.startswith(f"Contract: {name} body breaks the contract (")
    assert words in text


def test_unhealthy_health_passes():
    body = rest_samples()["health"]
    body.update(status="unhealthy", checks={"database": "unreachable"})
    validate_body("health", body)


def test_nested_body_errors_have_paths():
    body = rest_samples()["messages_page"]
    body["messages"][1]["role"] = "system"
    body["messages"][0]["metadata"] = None
    text = violation(validate_body, "messages_page", body)
    assert "$.messages[0].metadata: None is not of type 'object'" in text
    assert "$.messages[1].role: 'system' is not one of ['user', 'assistant']" in text


def test_supervisor_result_requires_both_parts_and_allows_more():
    body = rest_samples()["supervisor_result"]
    body["extra"] = {"anything": 1}
    validate_body("supervisor_result", body)
    del body["data_analysis"]
    assert "$: 'data_analysis' is a required property" in violation(validate_body, "supervisor_result", body)


def test_cost_result_recommendation_type_enum():
    body = rest_samples()["cost_optimizer_result"]
    body["recommendations"][0]["type"] = "discount"
    assert "$.recommendations[0].type: 'discount' is not one of" in violation(
        validate_body, "cost_optimizer_result", body)


def test_excerpt_is_redacted_and_bounded():
    body = rest_samples()["tokens"]
    jwt = body["access_token"]
    body["token_type"] = "jwt"
    body["user"]["bio"] = "x" * 5000
    text = violation(validate_body, "tokens", body)
    assert jwt not in text and "<redacted:jwt>" in text
    assert len(text) < 1500


def test_unknown_body_schema_is_a_suite_error():
    with pytest.raises(KeyError):
        validate_body("nope", {})
