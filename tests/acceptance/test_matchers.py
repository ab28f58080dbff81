"""The ordering and money matchers, on a valid supervisor run and on every kind of violation."""
from __future__ import annotations

import copy

import pytest
from hamcrest import assert_that, is_not
from hamcrest.core.string_description import StringDescription

from acceptance.client.events import EventLog
from acceptance.verify.errors import BusinessOutcomeFailure, ContractViolation
from acceptance.verify.matchers import (
    contains_event_types_in_order,
    expect,
    follows_agent_lifecycle,
    has_matched_tool_pairs,
    has_monotone_progress,
    has_no_duplicate_message_ids,
    nests_sub_agents_inside,
    satisfies_savings_invariants,
    shares_one_run,
)
from tests.samples import (
    RunBuilder,
    cost_optimizer_result,
    events_from,
    new_message_id,
    single_agent_run_frames,
    stopped_supervisor_run_frames,
    supervisor_result,
    supervisor_run_frames,
)

RUN_MATCHERS = [
    follows_agent_lifecycle,
    has_matched_tool_pairs,
    shares_one_run,
    nests_sub_agents_inside,
    has_monotone_progress,
    has_no_duplicate_message_ids,
]


def mismatch(matcher, item) -> str:
    assert not matcher.matches(item), "expected a mismatch"
    description = StringDescription()
    matcher.describe_mismatch(item, description)
    return str(description)


def index_of(frames, type_, agent=None, nth=0):
    hits = [i for i, f in enumerate(frames) if f["type"] == type_ and (agent is None or f["agent_name"] == agent)]
    return hits[nth]


def without(frames, *indexes):
    return [f for i, f in enumerate(frames) if i not in indexes]


def duplicate(frame, **changes):
    out = copy.deepcopy(frame)
    out["message_id"] = new_message_id()
    out.update(changes)
    return out


@pytest.fixture
def frames():
    return supervisor_run_frames()


# --------------------------------------------------------------------------- valid runs


@pytest.mark.parametrize("factory", RUN_MATCHERS)
def test_valid_supervisor_run_passes(factory, frames):
    assert_that(events_from(frames), factory())


@pytest.mark.parametrize("factory", RUN_MATCHERS)
def test_stopped_supervisor_run_passes(factory):
    assert_that(events_from(stopped_supervisor_run_frames()), factory())


@pytest.mark.parametrize("factory", [f for f in RUN_MATCHERS if f is not nests_sub_agents_inside])
def test_single_agent_run_passes(factory):
    assert_that(events_from(single_agent_run_frames("cost_optimizer")), factory())


def test_matchers_accept_an_event_log_and_raw_frames(frames):
    assert_that(EventLog(events_from(frames)), follows_agent_lifecycle())
    assert_that(frames, has_matched_tool_pairs())


def test_matchers_reject_what_is_not_a_list_of_frames():
    assert "was not a list of frames" in mismatch(follows_agent_lifecycle(), {"type": "x"})
    assert "was not a list of frames" in mismatch(has_matched_tool_pairs(), [1, 2])


def test_describe_to_states_the_expectation():
    description = StringDescription()
    follows_agent_lifecycle().describe_to(description)
    assert "agent_started first" in str(description)


# --------------------------------------------------------------------------- lifecycle


def test_lifecycle_first_frame_not_agent_started(frames):
    i = index_of(frames, "agent_started", "triage")
    bad = without(frames, i)
    text = mismatch(follows_agent_lifecycle(), events_from(bad))
    assert "agent triage: first frame is agent_thinking, expected agent_started" in text
    assert frames[i + 1]["message_id"] in text


def test_lifecycle_no_thinking_before_the_first_tool(frames):
    i = index_of(frames, "agent_thinking", "triage")
    text = mismatch(follows_agent_lifecycle(), events_from(without(frames, i)))
    assert "agent triage: no agent_thinking before its first tool pair" in text
    assert frames[i + 1]["message_id"] in text  # the tool_executing


def test_lifecycle_missing_terminal(frames):
    i = index_of(frames, "agent_completed", "cost_optimizer")
    text = mismatch(follows_agent_lifecycle(), events_from(without(frames, i)))
    assert "agent cost_optimizer: no terminal frame" in text
    assert frames[i - 1]["message_id"] in text


def test_lifecycle_missing_terminal_of_the_stopped_top_level_agent():
    frames = stopped_supervisor_run_frames()
    text = mismatch(follows_agent_lifecycle(), events_from(frames[:-1]))
    assert "agent supervisor: no terminal frame" in text
    assert "agent data_analysis: no terminal frame" in text


def test_lifecycle_two_terminals(frames):
    i = index_of(frames, "agent_completed", "triage")
    extra = duplicate(frames[i], type="agent_error", data={"code": "X", "message": "late", "recoverable": False})
    bad = frames[: i + 1] + [extra] + frames[i + 1:]
    text = mismatch(follows_agent_lifecycle(), events_from(bad))
    assert "agent triage: 2 terminal frames, expected exactly one" in text
    assert extra["message_id"] in text and frames[i]["message_id"] in text


def test_lifecycle_frame_after_terminal(frames):
    i = index_of(frames, "agent_completed", "data_analysis")
    late = duplicate(frames[i - 2])  # a thinking/tool frame of data_analysis, once more after its end
    bad = frames[: i + 1] + [late] + frames[i + 1:]
    text = mismatch(follows_agent_lifecycle(), events_from(bad))
    assert "agent data_analysis: 1 frame(s) after its terminal agent_completed" in text
    assert late["message_id"] in text


def test_lifecycle_started_twice(frames):
    i = index_of(frames, "agent_started", "cost_optimizer")
    again = duplicate(frames[i])
    bad = frames[: i + 1] + [again] + frames[i + 1:]
    text = mismatch(follows_agent_lifecycle(), events_from(bad))
    assert "agent cost_optimizer: agent_started sent 2 times" in text


def test_lifecycle_agent_frame_without_agent_name(frames):
    bad = copy.deepcopy(frames)
    del bad[3]["agent_name"]
    text = mismatch(follows_agent_lifecycle(), events_from(bad))
    assert "agent frame(s) without agent_name" in text and bad[3]["message_id"] in text


def test_lifecycle_no_agent_frames():
    assert "no agent frames at all" in mismatch(follows_agent_lifecycle(), [])


# --------------------------------------------------------------------------- tool pairs


def test_tool_completion_without_execution(frames):
    i = index_of(frames, "tool_executing", "cost_optimizer")
    text = mismatch(has_matched_tool_pairs(), events_from(without(frames, i)))
    assert f"tool_completed for execution_id {frames[i]['data']['execution_id']} without an earlier tool_executing" in text
    assert frames[i + 1]["message_id"] in text


def test_tool_execution_never_completed(frames):
    i = index_of(frames, "tool_completed", "data_analysis", nth=1)
    bad = without(frames, i)
    text = mismatch(has_matched_tool_pairs(), events_from(bad))
    assert "agent data_analysis sent agent_completed while its tool pair(s) were open" in text
    assert frames[i - 1]["message_id"] in text


def test_tool_execution_never_completed_at_the_end():
    b = RunBuilder()
    b.started("triage", "x")
    b.thinking("triage", "y", 10)
    b.frame("tool_executing", "triage", {"execution_id": "e1", "parameters": {}}, "classify")
    text = mismatch(has_matched_tool_pairs(), events_from(b.frames))
    assert "1 tool_executing frame(s) never completed" in text and b.frames[-1]["message_id"] in text


def test_tool_name_differs_between_execution_and_completion(frames):
    bad = copy.deepcopy(frames)
    i = index_of(bad, "tool_completed", "triage")
    bad[i]["tool_name"] = "something_else"
    text = mismatch(has_matched_tool_pairs(), events_from(bad))
    assert "tool_name 'classify_request' at execution but 'something_else' at completion" in text
    assert bad[i]["message_id"] in text and bad[i - 1]["message_id"] in text


def test_tool_completed_by_another_agent(frames):
    bad = copy.deepcopy(frames)
    i = index_of(bad, "tool_completed", "triage")
    bad[i]["agent_name"] = "supervisor"
    text = mismatch(has_matched_tool_pairs(), events_from(bad))
    assert "executed by agent 'triage' but completed by 'supervisor'" in text


def test_tool_completed_twice(frames):
    i = index_of(frames, "tool_completed", "triage")
    bad = frames[: i + 1] + [duplicate(frames[i])] + frames[i + 1:]
    text = mismatch(has_matched_tool_pairs(), events_from(bad))
    assert "completed more than once" in text


def test_tool_executing_twice_with_one_id(frames):
    i = index_of(frames, "tool_executing", "triage")
    bad = frames[: i + 1] + [duplicate(frames[i])] + frames[i + 1:]
    assert "started twice" in mismatch(has_matched_tool_pairs(), events_from(bad))


def test_tool_frame_without_execution_id(frames):
    bad = copy.deepcopy(frames)
    i = index_of(bad, "tool_executing", "triage")
    del bad[i]["data"]["execution_id"]
    text = mismatch(has_matched_tool_pairs(), events_from(bad))
    assert "tool_executing without data.execution_id" in text


def test_stop_splitting_a_tool_pair():
    b = RunBuilder()
    b.started("supervisor", "x")
    b.thinking("supervisor", "y", 10)
    executing, completed = b.tool("supervisor", "query_usage", {}, {})
    b.frames.remove(completed)
    stop = b.stopped("supervisor")
    b.frames.append(completed)
    text = mismatch(has_matched_tool_pairs(), events_from(b.frames))
    assert "agent_stopped split open tool pair(s)" in text
    assert executing["message_id"] in text and stop["message_id"] in text


# --------------------------------------------------------------------------- one run


def test_one_run_other_run_id(frames):
    bad = copy.deepcopy(frames)
    bad[7]["run_id"] = "run_intruder"
    text = mismatch(shares_one_run(), events_from(bad))
    assert f"1 frame(s) carry run_id run_intruder instead of {frames[0]['run_id']}" in text
    assert bad[7]["message_id"] in text


def test_one_run_given_ids(frames):
    assert_that(events_from(frames), shares_one_run(frames[0]["run_id"], frames[0]["thread_id"]))
    text = mismatch(shares_one_run(run_id="run_other", thread_id=frames[0]["thread_id"]), events_from(frames))
    assert f"{len(frames)} frame(s) carry run_id {frames[0]['run_id']} instead of run_other (the given one)" in text


def test_one_run_missing_thread_id(frames):
    bad = copy.deepcopy(frames)
    del bad[4]["thread_id"]
    text = mismatch(shares_one_run(), events_from(bad))
    assert "carry thread_id None instead of" in text and bad[4]["message_id"] in text


def test_one_run_empty():
    assert "no run frames at all" in mismatch(shares_one_run(), [])


# --------------------------------------------------------------------------- nesting


def test_nesting_wrong_parent_agent(frames):
    bad = copy.deepcopy(frames)
    i = index_of(bad, "agent_started", "data_analysis")
    bad[i]["data"]["parent_agent"] = "triage"
    text = mismatch(nests_sub_agents_inside(), events_from(bad))
    assert "sub-agent data_analysis: agent_started carries parent_agent 'triage', expected 'supervisor'" in text
    assert bad[i]["message_id"] in text


def test_nesting_sub_agent_outside_the_parent(frames):
    start = index_of(frames, "agent_started", "cost_optimizer")
    end = index_of(frames, "agent_completed", "cost_optimizer")
    block = frames[start:end + 1]
    bad = [f for f in frames if f not in block] + block  # cost_optimizer after the supervisor's end
    text = mismatch(nests_sub_agents_inside(), events_from(bad))
    assert "sub-agent cost_optimizer spans" in text and "not strictly inside supervisor's" in text
    assert frames[-1]["message_id"] in text  # the supervisor's agent_completed as evidence


def test_nesting_interleaved_sub_agents():
    b = RunBuilder()
    b.started("supervisor", "x")
    b.thinking("supervisor", "plan", 5)
    b.started("data_analysis", "a", parent="supervisor")
    b.thinking("data_analysis", "a1", 10)
    b.started("cost_optimizer", "b", parent="supervisor")
    b.thinking("cost_optimizer", "b1", 20)
    b.completed("data_analysis", {})
    b.completed("cost_optimizer", {})
    b.completed("supervisor", {})
    text = mismatch(nests_sub_agents_inside(), events_from(b.frames))
    assert "sub-agents data_analysis (#2..#6) and cost_optimizer (#4..#7) interleave" in text
    assert b.frames[4]["message_id"] in text


def test_nesting_sub_agent_frame_outside_its_own_pair(frames):
    i = index_of(frames, "agent_completed", "triage")
    late = duplicate(frames[i - 1])
    bad = frames[: i + 1] + [late] + frames[i + 1:]
    text = mismatch(nests_sub_agents_inside(), events_from(bad))
    assert "sub-agent triage: 1 frame(s) outside its own agent_started..terminal" in text


def test_nesting_without_the_parent():
    text = mismatch(nests_sub_agents_inside(), events_from(single_agent_run_frames("cost_optimizer")))
    assert "no frames of the parent agent supervisor" in text


def test_nesting_other_parent_name():
    b = RunBuilder()
    b.started("triage", "x")
    b.thinking("triage", "y", 10)
    b.started("cost_optimizer", "z", parent="triage")
    b.thinking("cost_optimizer", "w", 20)
    b.completed("cost_optimizer", {})
    b.completed("triage", {})
    assert_that(events_from(b.frames), nests_sub_agents_inside("triage"))


# --------------------------------------------------------------------------- progress


def thinking_indexes(frames):
    return [i for i, f in enumerate(frames) if f["type"] == "agent_thinking"]


def test_progress_decreasing(frames):
    bad = copy.deepcopy(frames)
    i, j = thinking_indexes(bad)[3:5]
    bad[j]["data"]["progress_percentage"] = 1
    text = mismatch(has_monotone_progress(), events_from(bad))
    assert f"progress decreased from {bad[i]['data']['progress_percentage']} to 1" in text
    assert bad[i]["message_id"] in text and bad[j]["message_id"] in text


def test_progress_out_of_range(frames):
    bad = copy.deepcopy(frames)
    j = thinking_indexes(bad)[-1]
    bad[j]["data"]["progress_percentage"] = 140
    text = mismatch(has_monotone_progress(), events_from(bad))
    assert "progress_percentage 140 outside 0..100" in text and bad[j]["message_id"] in text


@pytest.mark.parametrize("value", [None, "50", True])
def test_progress_not_a_number(frames, value):
    bad = copy.deepcopy(frames)
    j = thinking_indexes(bad)[0]
    bad[j]["data"]["progress_percentage"] = value
    assert f"progress_percentage is {value!r}, not a number" in mismatch(has_monotone_progress(), events_from(bad))


# --------------------------------------------------------------------------- types in order


def test_types_in_order_passes_as_a_subsequence(frames):
    assert_that(events_from(frames), contains_event_types_in_order(
        ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"]))
    assert_that(events_from(frames), contains_event_types_in_order([]))


def test_types_in_order_missing_type(frames):
    text = mismatch(contains_event_types_in_order(["agent_started", "agent_stopped"]), events_from(frames))
    assert "found agent_started (#0) in order, but no agent_stopped after #0" in text


def test_types_in_order_wrong_order():
    frames = stopped_supervisor_run_frames()
    text = mismatch(contains_event_types_in_order(["agent_stopped", "tool_executing"]), events_from(frames))
    assert f"no tool_executing after #{len(frames) - 1}" in text
    assert "the frames after it are none" in text


def test_types_in_order_first_type_absent():
    text = mismatch(contains_event_types_in_order(["pong"]), events_from(supervisor_run_frames()[:2]))
    assert "no pong at all" in text and "#1 agent_thinking" in text


def test_types_in_order_description():
    description = StringDescription()
    contains_event_types_in_order(["a", "b"]).describe_to(description)
    assert str(description) == "frames whose types contain a → b in this order"


# --------------------------------------------------------------------------- duplicate ids


def test_duplicate_message_ids(frames):
    bad = copy.deepcopy(frames)
    bad[9]["message_id"] = bad[2]["message_id"]
    text = mismatch(has_no_duplicate_message_ids(), events_from(bad))
    assert f"message_id {bad[2]['message_id']} on 2 frames" in text
    assert "#2 " in text and "#9 " in text


# --------------------------------------------------------------------------- savings


def test_savings_valid_results_pass():
    assert_that(cost_optimizer_result(), satisfies_savings_invariants())
    assert_that(supervisor_result(), satisfies_savings_invariants())


def test_savings_with_no_recommendations_and_zero_cost_pass():
    result = cost_optimizer_result()
    result["recommendations"] = []
    result["cost_analysis"]["current_monthly_cost_usd"] = 0
    result["potential_savings"] = {"monthly_amount": 0, "annual_amount": 0, "percentage": 0}
    assert_that(result, satisfies_savings_invariants())


def test_savings_cent_tolerance():
    result = cost_optimizer_result()
    result["potential_savings"]["monthly_amount"] = 436.51
    result["potential_savings"]["annual_amount"] = 5238.12
    result["potential_savings"]["percentage"] = 97.0
    assert_that(result, satisfies_savings_invariants())


def broken(**changes):
    result = cost_optimizer_result()
    for path, value in changes.items():
        target = result
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[keys[-1]] = value
    return result


@pytest.mark.parametrize("result, expected", [
    (broken(potential_savings__monthly_amount=400.0, potential_savings__annual_amount=4800.0,
            potential_savings__percentage=88.89),
     "monthly_amount 400.00 is not the sum of the recommendations' savings 423.00 + 13.50 = 436.50"),
    (broken(potential_savings__annual_amount=5000.0), "annual_amount 5000.00 is not 12 × 436.50 = 5238.00"),
    (broken(potential_savings__percentage=50), "percentage 50 is not 100 × 436.50 / 450.00 = 97.00"),
    (broken(cost_analysis__current_monthly_cost_usd=100.0, potential_savings__percentage=436.5),
     "monthly_amount 436.50 exceeds current_monthly_cost_usd 100.00"),
    (broken(cost_analysis__current_monthly_cost_usd=0), "percentage 97.0 is not 0 (current cost is 0) = 0.00"),
    (broken(recommendations__0__monthly_savings_usd=10.0, potential_savings__monthly_amount=23.5,
            potential_savings__annual_amount=282.0, potential_savings__percentage=5.22),
     "recommendations not sorted by saving: [0] saves 10.00 but [1] saves 13.50"),
    (broken(recommendations__1__model=""), "recommendations[1] (batching on ): model is '', expected a model name"),
    (broken(recommendations__1__type="discount"), "type is 'discount', expected one of model_routing, prompt_caching, batching"),
    (broken(recommendations__0__title=" "), "recommendations[0] (model_routing on gpt-4o): title is ' ', expected a non-empty text"),
    (broken(recommendations__1__monthly_savings_usd=-13.5, potential_savings__monthly_amount=409.5,
            potential_savings__annual_amount=4914.0, potential_savings__percentage=91.0),
     "monthly_savings_usd is -13.5, expected positive"),
    (broken(recommendations__1__monthly_savings_usd="13.50"), "monthly_savings_usd is '13.50', not a number"),
    (broken(potential_savings__monthly_amount=None), "potential_savings.monthly_amount is None, not a number"),
    (broken(recommendations=None), "recommendations is None, not a list"),
])
def test_savings_violations(result, expected):
    text = mismatch(satisfies_savings_invariants(), result)
    assert expected in text
    assert "evidence: current_monthly_cost_usd=" in text


def test_savings_negative_monthly():
    result = broken(recommendations=[], potential_savings__monthly_amount=-5.0,
                    potential_savings__annual_amount=-60.0, potential_savings__percentage=-1.11)
    text = mismatch(satisfies_savings_invariants(), result)
    assert "monthly_amount -5.00 is negative" in text
    assert "is not the sum of the recommendations' savings 0 (no recommendations) = 0.00" in text


def test_savings_lists_every_broken_invariant():
    result = broken(potential_savings__annual_amount=1.0, potential_savings__percentage=1.0)
    text = mismatch(satisfies_savings_invariants(), result)
    assert "2 violation(s):" in text and "annual_amount" in text and "percentage 1.0" in text


def test_savings_rejects_non_dicts():
    assert "was not a result object but list" in mismatch(satisfies_savings_invariants(), [])


# --------------------------------------------------------------------------- expect


def test_expect_passes_silently(frames):
    expect(events_from(frames), follows_agent_lifecycle(), ContractViolation)


def test_expect_raises_the_category_class_with_reason_and_mismatch():
    result = broken(potential_savings__annual_amount=1.0)
    with pytest.raises(BusinessOutcomeFailure) as info:
        expect(result, satisfies_savings_invariants(), BusinessOutcomeFailure, "savings of run r1")
    message = str(info.value)
    assert message.startswith("Business outcome: savings of run r1")
    assert "Expected: a cost_optimizer result keeping the savings invariants" in message
    assert "annual_amount 1.00 is not 12 × 436.50" in message


def test_expect_works_with_plain_hamcrest_matchers():
    with pytest.raises(ContractViolation, match=r"^Contract: "):
        expect(3, is_not(3), ContractViolation)
