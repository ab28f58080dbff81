"""Checks that steps call: each states what was expected, what happened and the evidence, and
fails in the report category that names the cause."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable

from hamcrest import equal_to

from acceptance.client import netra2025
from acceptance.client.chat import ChatSession, RunRecord
from acceptance.client.events import Event, describe_events
from acceptance.client.rest import Response
from acceptance.verify import matchers as m
from acceptance.verify import money
from acceptance.verify.errors import BusinessOutcomeFailure, ContractViolation, IsolationBreach
from acceptance.verify.schemas import validate_body, validate_frame

FIVE_EVENTS = ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"]
RESULT_SCHEMAS = {"supervisor": "supervisor_result", "cost_optimizer": "cost_optimizer_result",
                  "data_analysis": "data_analysis_result", "performance_optimizer": "performance_optimizer_result"}


def frames_follow_contract(events: Iterable[Event]) -> None:
    """Every frame of a type the contract names follows its schema; a frame of another type (a notice,
    say) needs only the envelope, whatever ids it carries (TOL-8.2)."""
    for event in events:
        validate_frame(event)
        problem = netra2025.wire_problem(event)
        if problem is not None:
            raise ContractViolation(f"{problem}: {event.compact()} {str(event.raw)[:300]}")


def lifecycle(session: ChatSession):
    """The lifecycle matcher for frames received on ``session``: per agent, or per run in netra-2025 (N25-12)."""
    return m.follows_agent_lifecycle(netra2025.one_terminal_per_run(session.platform_dialect))


def run_is_well_formed(run: RunRecord) -> list[Event]:
    """Every frame valid; one run id and thread; per-agent lifecycle; tool pairs; nesting; progress."""
    events = run.events
    frames_follow_contract(events)
    m.expect(events, m.shares_one_run(run.run_id, run.thread_id))
    m.expect(events, m.has_no_duplicate_message_ids())
    m.expect(events, lifecycle(run.session))
    m.expect(events, m.has_matched_tool_pairs())
    m.expect(events, m.has_monotone_progress())
    if run.agent == "supervisor":
        m.expect(events, m.nests_sub_agents_inside("supervisor"))
    return events


def streams_the_five_events(run: RunRecord) -> None:
    events = run_is_well_formed(run)
    m.expect(events, m.contains_event_types_in_order(FIVE_EVENTS))
    terminal = run.terminal
    if terminal is None or terminal.type != "agent_completed":
        raise ContractViolation(f"run {run.run_id} should complete; it ended with "
                                f"{terminal.compact() if terminal else 'nothing'}:\n{describe_events(events)}")


def result_of(run: RunRecord) -> dict[str, Any]:
    result = run.result
    schema = RESULT_SCHEMAS.get(run.agent)
    if schema:
        validate_body(schema, result)
    return result


def cost_result(run: RunRecord) -> dict[str, Any]:
    """The cost_optimizer result of a run (the supervisor nests it under ``cost_optimization``)."""
    result = result_of(run)
    cost = money.cost_part(result, run.agent)
    if not isinstance(cost, dict):
        raise ContractViolation(f"the {run.agent} result carries no cost optimisation: {str(result)[:400]}")
    validate_body("cost_optimizer_result", cost)
    return cost


def money_equals(actual: Any, expected: Decimal | str, what: str, evidence: Any,
                 category=BusinessOutcomeFailure) -> None:
    """``actual`` is the amount ``expected`` (a ``Decimal`` or a feature file's "$1,234.50") to the cent."""
    expected = money.parse(expected)
    if not money.same(actual, expected):
        raise category(f"{what} should be {money.usd(expected)}, but the platform said {actual!r}; evidence: "
                       f"{str(evidence)[:800]}")


def start_refused(outcome: RunRecord | Event, code: str, what: str, started_category=ContractViolation) -> Event:
    """The one check of a refused start: answered by an ``error`` frame with ``code`` that follows the contract
    (and no run began); a started run fails as ``started_category``."""
    if isinstance(outcome, RunRecord):
        raise started_category(f"{what} should be refused with {code}, yet the platform started run "
                               f"{outcome.run_id}: {outcome.started.compact()} (thread={outcome.thread_id})")
    frames_follow_contract([outcome])
    if outcome.data.get("code") != code:
        raise ContractViolation(f"{what} should be refused with {code}, got {outcome.compact()} "
                                f"{str(outcome.data)[:300]}")
    return outcome


def savings_are_honest(cost: dict[str, Any]) -> None:
    m.expect(cost, m.satisfies_savings_invariants(), BusinessOutcomeFailure)


def status_is(response: Response, expected: int, what: str, category=ContractViolation) -> dict | None:
    if response.status != expected:
        raise category(f"{what} should answer {expected}; {response.evidence()}")
    if expected >= 400:
        validate_body("error", response.body)
    return response.body


ECHO = "<what the caller sent>"


def without_echoes(value: Any, *sent: str) -> Any:
    """``value`` with every occurrence of a string the caller sent replaced by one placeholder.

    A platform may echo what a request carried (an id in a message, a field, a path) in its answer;
    that reveals nothing, so two answers are compared only after taking it out (CONTRACT section 3:
    "another user's resource answers exactly as a missing one").
    """
    sent = tuple(sorted((s for s in sent if s), key=len, reverse=True))
    if isinstance(value, str):
        for s in sent:
            value = value.replace(s, ECHO)
        return value
    if isinstance(value, dict):
        return {without_echoes(k, *sent): without_echoes(v, *sent) for k, v in value.items()}
    if isinstance(value, list):
        return [without_echoes(v, *sent) for v in value]
    return value


def same_as_missing(foreign: Response, missing: Response, what: str, sent: tuple[str, str] = ("", "")) -> None:
    """A foreign resource must answer exactly like a missing one, so ids cannot be probed; what each
    request itself sent (``sent``: the foreign id and the made-up id) is taken out of both answers first."""
    def shape(r: Response, echo: str):
        body = r.body if isinstance(r.body, (dict, list)) else r.text
        return r.status, without_echoes(body, echo)
    if shape(foreign, sent[0]) != shape(missing, sent[1]):
        raise IsolationBreach(f"{what}: another user's resource answers differently from a missing one, so its "
                              f"existence leaks.\n  foreign: {foreign.evidence()}\n  missing: {missing.evidence()}")


def equal(actual: Any, expected: Any, what: str, category=ContractViolation) -> None:
    m.expect(actual, equal_to(expected), category, what)
