"""PyHamcrest matchers for the ordering and money rules of the contract (sections 5 and 7).

Event matchers take the frames of one run (a list of :class:`~acceptance.client.events.Event`, an
:class:`~acceptance.client.events.EventLog`, or raw frame dicts, which are normalised first). Every
mismatch states what was expected, what happened, and the offending frames, one compact line each
with their arrival index and message id.

:func:`expect` runs a matcher and raises the failure as one of the classes of
:mod:`acceptance.verify.errors`, so that the report puts it in the right category.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from hamcrest import assert_that
from hamcrest.core.base_matcher import BaseMatcher
from hamcrest.core.description import Description
from hamcrest.core.matcher import Matcher

from acceptance.client.events import (
    AGENT_EVENT_TYPES,
    CONTROL_EVENT_TYPES,
    TERMINAL_EVENT_TYPES,
    Event,
    compact,
    normalize,
)
from acceptance.verify import money
from acceptance.verify.errors import ContractViolation, SuiteFailure

__all__ = [
    "follows_agent_lifecycle",
    "has_matched_tool_pairs",
    "shares_one_run",
    "nests_sub_agents_inside",
    "has_monotone_progress",
    "contains_event_types_in_order",
    "has_no_duplicate_message_ids",
    "satisfies_savings_invariants",
    "expect",
]

_EVIDENCE_LIMIT = 12
_TERMINALS = "agent_completed | agent_error | agent_stopped"


@dataclass
class _Problem:
    text: str
    evidence: list[tuple[int, Event]] = field(default_factory=list)


def _as_events(item: Any) -> list[Event] | None:
    if hasattr(item, "snapshot") and callable(item.snapshot):
        item = item.snapshot()
    if isinstance(item, (str, bytes, dict)) or not isinstance(item, Iterable):
        return None
    out = []
    for element in item:
        if isinstance(element, Event):
            out.append(element)
        elif isinstance(element, dict):
            try:
                out.append(normalize(element, 0.0))
            except SuiteFailure:
                return None
        else:
            return None
    return out


class _ProblemMatcher(BaseMatcher):
    """Matches when :meth:`_problems` finds nothing; the mismatch lists every problem."""

    expectation = ""

    def _subject(self, item: Any) -> tuple[Any, str | None]:
        events = _as_events(item)
        if events is None:
            return None, f"was not a list of frames but {type(item).__name__}: {str(item)[:200]}"
        return events, None

    def _problems(self, subject: Any) -> list[_Problem]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _matches(self, item: Any) -> bool:
        subject, error = self._subject(item)
        return error is None and not self._problems(subject)

    def describe_to(self, description: Description) -> None:
        description.append_text(self.expectation)

    def describe_mismatch(self, item: Any, mismatch_description: Description) -> None:
        subject, error = self._subject(item)
        if error is not None:
            mismatch_description.append_text(error)
            return
        problems = self._problems(subject)
        size = f" in {len(subject)} frame(s)" if isinstance(subject, list) else ""
        lines = [f"{len(problems)} violation(s){size}:"]
        for problem in problems:
            lines.append(f"  - {problem.text}")
            shown = problem.evidence[:_EVIDENCE_LIMIT]
            for index, event in shown:
                lines.append(f"      {compact(event, index)}")
            if len(problem.evidence) > len(shown):
                lines.append(f"      ... and {len(problem.evidence) - len(shown)} more frame(s)")
        mismatch_description.append_text("\n".join(lines))


def _agent_frames(events: Sequence[Event]) -> tuple[dict[str, list[tuple[int, Event]]], list[tuple[int, Event]]]:
    """Agent events grouped by agent (in order of first appearance), and agent events without a name."""
    groups: dict[str, list[tuple[int, Event]]] = {}
    nameless = []
    for i, ev in enumerate(events):
        if ev.type not in AGENT_EVENT_TYPES:
            continue
        if not ev.agent_name:
            nameless.append((i, ev))
            continue
        groups.setdefault(ev.agent_name, []).append((i, ev))
    return groups, nameless


# --------------------------------------------------------------------------- lifecycle


class _AgentLifecycle(_ProblemMatcher):
    expectation = (
        "per agent of the run: agent_started first, at least one agent_thinking before the first tool "
        f"pair, exactly one terminal frame ({_TERMINALS}) and it is the agent's last frame "
        "(a sub-agent cut short by a stopped run may have none)"
    )
    per_run_expectation = (
        "per agent of the run: agent_started first, at least one agent_thinking before the first tool "
        f"pair; one terminal frame for the whole run ({_TERMINALS}), the top agent's, as the run's last "
        "frame, and none from sub-agents (netra-2025)"
    )

    def __init__(self, one_terminal_per_run: bool = False):
        self.per_run = one_terminal_per_run
        if one_terminal_per_run:
            self.expectation = self.per_run_expectation

    def _problems(self, events: list[Event]) -> list[_Problem]:
        groups, nameless = _agent_frames(events)
        problems = []
        if nameless:
            problems.append(_Problem("agent frame(s) without agent_name", nameless))
        if not groups:
            if not nameless:
                problems.append(_Problem("no agent frames at all"))
            return problems
        stoppers = {ev.agent_name for _, ev in (x for g in groups.values() for x in g) if ev.type == "agent_stopped"}
        for agent, frames in groups.items():
            first_index, first = frames[0]
            if first.type != "agent_started":
                problems.append(_Problem(
                    f"agent {agent}: first frame is {first.type}, expected agent_started", [frames[0]]))
            starts = [f for f in frames if f[1].type == "agent_started"]
            if len(starts) > 1:
                problems.append(_Problem(f"agent {agent}: agent_started sent {len(starts)} times, expected once", starts))
            first_tool = next((f for f in frames if f[1].type in ("tool_executing", "tool_completed")), None)
            if first_tool is not None:
                thinking_before = [f for f in frames if f[1].type == "agent_thinking" and f[0] < first_tool[0]]
                if not thinking_before:
                    problems.append(_Problem(
                        f"agent {agent}: no agent_thinking before its first tool pair", [frames[0], first_tool]))
            terminals = [f for f in frames if f[1].type in TERMINAL_EVENT_TYPES]
            if self.per_run:
                problems.extend(self._per_run_problems(agent, frames, terminals, events))
                continue
            if not terminals:
                if not (stoppers - {agent}):
                    problems.append(_Problem(
                        f"agent {agent}: no terminal frame ({_TERMINALS}); its last frame is", [frames[-1]]))
                continue
            if len(terminals) > 1:
                problems.append(_Problem(
                    f"agent {agent}: {len(terminals)} terminal frames, expected exactly one", terminals))
            after = [f for f in frames if f[0] > terminals[0][0]]
            if after:
                problems.append(_Problem(
                    f"agent {agent}: {len(after)} frame(s) after its terminal {terminals[0][1].type}",
                    [terminals[0]] + after))
        return problems


    @staticmethod
    def _per_run_problems(agent: str, frames: list[tuple[int, Event]], terminals: list[tuple[int, Event]],
                          events: list[Event]) -> list[_Problem]:
        started = next((f for f in frames if f[1].type == "agent_started"), None)
        if started is not None and started[1].data.get("parent_agent"):
            if terminals:
                return [_Problem(f"sub-agent {agent} sent {len(terminals)} terminal frame(s) of its own; in this "
                                 f"dialect a run sends one terminal frame, the top agent's", terminals)]
            return []
        if not terminals:
            return [_Problem(f"agent {agent}: no terminal frame ({_TERMINALS}) for the run; its last frame is",
                             [frames[-1]])]
        problems = []
        if len(terminals) > 1:
            problems.append(_Problem(f"agent {agent}: {len(terminals)} terminal frames, expected exactly one",
                                     terminals))
        after = [(i, ev) for i, ev in enumerate(events) if i > terminals[0][0] and ev.type in AGENT_EVENT_TYPES]
        if after:
            problems.append(_Problem(f"{len(after)} agent frame(s) after the run's terminal {terminals[0][1].type}",
                                     [terminals[0]] + after))
        return problems


def follows_agent_lifecycle(one_terminal_per_run: bool = False) -> Matcher:
    """The contract's lifecycle per agent; ``one_terminal_per_run`` for netra-2025 (N25-12)."""
    return _AgentLifecycle(one_terminal_per_run)


# --------------------------------------------------------------------------- tool pairs


class _ToolPairs(_ProblemMatcher):
    expectation = (
        "every tool_executing followed later by exactly one tool_completed of the same agent with the "
        "same data.execution_id and tool_name, no tool_completed without its tool_executing, and no "
        "terminal frame (agent_stopped included) while a tool pair is open"
    )

    def _problems(self, events: list[Event]) -> list[_Problem]:
        problems: list[_Problem] = []
        executions: dict[Any, tuple[int, Event]] = {}
        open_pairs: dict[Any, tuple[int, Event]] = {}
        reported_open: set = set()
        for i, ev in enumerate(events):
            if ev.type in ("tool_executing", "tool_completed"):
                eid = ev.data.get("execution_id")
                if eid is None or eid == "":
                    problems.append(_Problem(f"{ev.type} without data.execution_id", [(i, ev)]))
                    continue
                try:
                    hash(eid)
                except TypeError:
                    problems.append(_Problem(f"{ev.type} with a non-scalar execution_id", [(i, ev)]))
                    continue
                if ev.type == "tool_executing":
                    if eid in executions:
                        problems.append(_Problem(
                            f"execution_id {eid} started twice", [executions[eid], (i, ev)]))
                        continue
                    executions[eid] = (i, ev)
                    open_pairs[eid] = (i, ev)
                    continue
                if eid not in executions:
                    problems.append(_Problem(
                        f"tool_completed for execution_id {eid} without an earlier tool_executing", [(i, ev)]))
                    continue
                if eid not in open_pairs:
                    problems.append(_Problem(
                        f"execution_id {eid} completed more than once", [executions[eid], (i, ev)]))
                    continue
                start = open_pairs.pop(eid)
                if start[1].tool_name != ev.tool_name:
                    problems.append(_Problem(
                        f"execution_id {eid}: tool_name {start[1].tool_name!r} at execution but "
                        f"{ev.tool_name!r} at completion", [start, (i, ev)]))
                if start[1].agent_name != ev.agent_name:
                    problems.append(_Problem(
                        f"execution_id {eid}: executed by agent {start[1].agent_name!r} but completed by "
                        f"{ev.agent_name!r}", [start, (i, ev)]))
            elif ev.type in TERMINAL_EVENT_TYPES:
                if ev.type == "agent_stopped":
                    split = [(eid, f) for eid, f in open_pairs.items() if eid not in reported_open]
                    what = "agent_stopped split open tool pair(s)"
                else:
                    split = [(eid, f) for eid, f in open_pairs.items()
                             if f[1].agent_name == ev.agent_name and eid not in reported_open]
                    what = f"agent {ev.agent_name} sent {ev.type} while its tool pair(s) were open"
                if split:
                    reported_open.update(eid for eid, _ in split)
                    problems.append(_Problem(what, [f for _, f in split] + [(i, ev)]))
        never = [f for eid, f in open_pairs.items() if eid not in reported_open]
        if never:
            problems.append(_Problem(f"{len(never)} tool_executing frame(s) never completed", never))
        return problems


def has_matched_tool_pairs() -> Matcher:
    return _ToolPairs()


# --------------------------------------------------------------------------- one run


class _OneRun(_ProblemMatcher):
    def __init__(self, run_id: str | None, thread_id: str | None):
        self.run_id = run_id
        self.thread_id = thread_id
        wanted = []
        if run_id is not None:
            wanted.append(f"run_id {run_id}")
        if thread_id is not None:
            wanted.append(f"thread_id {thread_id}")
        self.expectation = "every frame of the run carries the same run_id and thread_id" + (
            f" ({', '.join(wanted)})" if wanted else "")

    def _problems(self, events: list[Event]) -> list[_Problem]:
        frames = [(i, ev) for i, ev in enumerate(events) if ev.type not in CONTROL_EVENT_TYPES]
        if not frames:
            return [_Problem("no run frames at all")]
        problems = []
        for key, given in (("run_id", self.run_id), ("thread_id", self.thread_id)):
            expected = given if given is not None else getattr(frames[0][1], key)
            source = "the given one" if given is not None else f"that of the first frame #{frames[0][0]}"
            if expected is None:
                problems.append(_Problem(f"frames without {key} (first frame #{frames[0][0]})",
                                         [f for f in frames if getattr(f[1], key) is None]))
                continue
            odd = [f for f in frames if getattr(f[1], key) != expected]
            if odd:
                seen = sorted({str(getattr(f[1], key)) for f in odd})
                problems.append(_Problem(
                    f"{len(odd)} frame(s) carry {key} {', '.join(seen)} instead of {expected} ({source})", odd))
        return problems


def shares_one_run(run_id: str | None = None, thread_id: str | None = None) -> Matcher:
    return _OneRun(run_id, thread_id)


# --------------------------------------------------------------------------- nesting


class _Nesting(_ProblemMatcher):
    def __init__(self, parent: str):
        self.parent = parent
        self.expectation = (
            f"every sub-agent started with data.parent_agent {parent!r}, its frames between its own "
            f"agent_started and terminal frame, strictly inside {parent}'s agent_started..terminal, "
            "and sub-agents not interleaving with each other"
        )

    def _problems(self, events: list[Event]) -> list[_Problem]:
        groups, _ = _agent_frames(events)
        parent_frames = groups.get(self.parent)
        if not parent_frames:
            return [_Problem(f"no frames of the parent agent {self.parent}",
                             [x for g in groups.values() for x in g][:_EVIDENCE_LIMIT])]
        problems = []
        p_start = next((f for f in parent_frames if f[1].type == "agent_started"), None)
        p_end = next((f for f in parent_frames if f[1].type in TERMINAL_EVENT_TYPES), None)
        if p_start is None:
            problems.append(_Problem(f"parent {self.parent} has no agent_started", parent_frames[:1]))
        if p_end is None:
            problems.append(_Problem(f"parent {self.parent} has no terminal frame ({_TERMINALS}); its last frame is",
                                     parent_frames[-1:]))
        lo = p_start[0] if p_start else -1
        hi = p_end[0] if p_end else len(events)
        spans = []
        for agent, frames in groups.items():
            if agent == self.parent:
                continue
            start = next((f for f in frames if f[1].type == "agent_started"), None)
            end = next((f for f in frames if f[1].type in TERMINAL_EVENT_TYPES), None)
            if start is None:
                problems.append(_Problem(f"sub-agent {agent} has no agent_started", frames[:1]))
            elif start[1].data.get("parent_agent") != self.parent:
                problems.append(_Problem(
                    f"sub-agent {agent}: agent_started carries parent_agent "
                    f"{start[1].data.get('parent_agent')!r}, expected {self.parent!r}", [start]))
            first = start if start is not None else frames[0]
            last = end if end is not None else frames[-1]
            outside = [f for f in frames if f[0] < first[0] or f[0] > last[0]]
            if outside:
                problems.append(_Problem(
                    f"sub-agent {agent}: {len(outside)} frame(s) outside its own agent_started..terminal",
                    [first, last] + outside))
            if not (lo < first[0] and last[0] < hi):
                bounds = [f for f in (p_start, p_end) if f is not None]
                problems.append(_Problem(
                    f"sub-agent {agent} spans #{first[0]}..#{last[0]}, not strictly inside "
                    f"{self.parent}'s #{lo if p_start else '?'}..#{hi if p_end else '?'}",
                    sorted(bounds + [first, last], key=lambda f: f[0])))
            spans.append((first[0], last[0], agent, first, last))
        spans.sort(key=lambda s: s[0])
        for (s1, e1, a1, f1, l1), (s2, e2, a2, f2, l2) in zip(spans, spans[1:]):
            if s2 <= e1:
                problems.append(_Problem(
                    f"sub-agents {a1} (#{s1}..#{e1}) and {a2} (#{s2}..#{e2}) interleave",
                    sorted([f1, l1, f2, l2], key=lambda f: f[0])))
        return problems


def nests_sub_agents_inside(parent: str = "supervisor") -> Matcher:
    return _Nesting(parent)


# --------------------------------------------------------------------------- progress


class _MonotoneProgress(_ProblemMatcher):
    expectation = "agent_thinking progress_percentage a number within 0..100, never decreasing across the run"

    def _problems(self, events: list[Event]) -> list[_Problem]:
        problems = []
        previous: tuple[int, Event] | None = None
        for i, ev in enumerate(events):
            if ev.type != "agent_thinking":
                continue
            value = ev.data.get("progress_percentage")
            if not money.is_amount(value):
                problems.append(_Problem(f"progress_percentage is {value!r}, not a number", [(i, ev)]))
                continue
            if not 0 <= value <= 100:
                problems.append(_Problem(f"progress_percentage {value} outside 0..100", [(i, ev)]))
            if previous is not None and value < previous[1].data["progress_percentage"]:
                problems.append(_Problem(
                    f"progress decreased from {previous[1].data['progress_percentage']} to {value}",
                    [previous, (i, ev)]))
            previous = (i, ev)
        return problems


def has_monotone_progress() -> Matcher:
    return _MonotoneProgress()


# --------------------------------------------------------------------------- order of types


class _TypesInOrder(_ProblemMatcher):
    def __init__(self, types: Sequence[str]):
        self.types = list(types)
        self.expectation = "frames whose types contain " + " → ".join(self.types) + " in this order"

    def _problems(self, events: list[Event]) -> list[_Problem]:
        found: list[tuple[int, Event]] = []
        position = 0
        for wanted in self.types:
            hit = next(((i, events[i]) for i in range(position, len(events)) if events[i].type == wanted), None)
            if hit is None:
                if found:
                    got = ", ".join(f"{ev.type} (#{i})" for i, ev in found)
                    text = f"found {got} in order, but no {wanted} after #{found[-1][0]}; the frames after it are"
                    rest = list(enumerate(events))[found[-1][0] + 1:]
                else:
                    text = f"no {wanted} at all; the frames are"
                    rest = list(enumerate(events))
                if not rest:
                    text += " none"
                return [_Problem(text, rest)]
            found.append(hit)
            position = hit[0] + 1
        return []


def contains_event_types_in_order(types: Sequence[str]) -> Matcher:
    return _TypesInOrder(types)


# --------------------------------------------------------------------------- unique ids


class _UniqueIds(_ProblemMatcher):
    expectation = "no two frames with the same message_id"

    def _problems(self, events: list[Event]) -> list[_Problem]:
        seen: dict[Any, list[tuple[int, Event]]] = {}
        for i, ev in enumerate(events):
            if ev.message_id is not None:
                seen.setdefault(ev.message_id, []).append((i, ev))
        return [_Problem(f"message_id {mid} on {len(frames)} frames", frames)
                for mid, frames in seen.items() if len(frames) > 1]


def has_no_duplicate_message_ids() -> Matcher:
    return _UniqueIds()


# --------------------------------------------------------------------------- savings


class _SavingsInvariants(_ProblemMatcher):
    expectation = (
        f"a cost_optimizer result keeping the savings invariants: {money.INVARIANTS_TEXT}, each with a model, "
        f"a type in {'|'.join(money.RECOMMENDATION_TYPES)}, a title and a positive monthly_savings_usd"
    )

    def _subject(self, item: Any) -> tuple[Any, str | None]:
        if not isinstance(item, dict):
            return None, f"was not a result object but {type(item).__name__}: {str(item)[:200]}"
        if "potential_savings" not in item and isinstance(item.get("cost_optimization"), dict):
            item = item["cost_optimization"]  # a supervisor result
        return item, None

    def _problems(self, result: dict) -> list[_Problem]:
        return [_Problem(p) for p in money.savings_problems(result)]

    def describe_mismatch(self, item: Any, mismatch_description: Description) -> None:
        super().describe_mismatch(item, mismatch_description)
        result, error = self._subject(item)
        if error is not None:
            return
        analysis = result.get("cost_analysis")
        current = analysis.get("current_monthly_cost_usd") if isinstance(analysis, dict) else None
        recs = result.get("recommendations")
        listing = "; ".join(
            f"{r.get('type')}/{r.get('model')}={r.get('monthly_savings_usd')}" if isinstance(r, dict) else repr(r)
            for r in recs) if isinstance(recs, list) else repr(recs)
        mismatch_description.append_text(
            f"\n  evidence: current_monthly_cost_usd={current!r}, "
            f"potential_savings={result.get('potential_savings')!r}, recommendations=[{listing}]")


def satisfies_savings_invariants() -> Matcher:
    return _SavingsInvariants()


# --------------------------------------------------------------------------- expect


def expect(actual: Any, matcher: Matcher, category_cls: type[SuiteFailure] = ContractViolation,
           reason: str = "") -> None:
    """``assert_that(actual, matcher, reason)``, failing as ``category_cls`` (a class of acceptance.verify.errors)."""
    try:
        assert_that(actual, matcher, reason)
    except SuiteFailure:
        raise
    except AssertionError as exc:
        raise category_cls(str(exc).strip()) from None
