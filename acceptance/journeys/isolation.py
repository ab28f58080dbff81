"""Several people on the platform at once, and what one of them may never see or reach of another.

CONTRACT section 3 (a foreign resource answers exactly as a missing one), section 4 (a run's frames
go only to its owner's connections; ``THREAD_NOT_FOUND`` and ``RUN_NOT_FOUND`` also for another
user's thread or run; ``RATE_LIMITED`` and ``RUN_LIMIT`` per user) and section 7 (refused starts do
not count toward the rate).

Every check names the people involved and quotes the frames or responses that prove the failure.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Mapping

from acceptance.client.chat import ChatSession, RunRecord, new_starts
from acceptance.client.events import Event
from acceptance.client.rest import Response
from acceptance.client.waiting import Deadline, WaitTimeout
from acceptance.journeys import usage_data
from acceptance.journeys.actors import Actor, World
from acceptance.journeys.state import ModelUsage
from acceptance.verify import checks, money
from acceptance.verify.errors import (
    BusinessOutcomeFailure,
    ContractViolation,
    InfrastructureFailure,
    IsolationBreach,
    SuiteFailure,
)

# ---- usage each person shared ---------------------------------------------------------------
def share_usage_rows(world: World, rows: Iterable[Mapping[str, str]], person_column: str = "person") -> list[str]:
    """Rows of ``person | model | task | requests | …`` (the columns of :func:`usage_data.from_rows`):
    each person signs up and shares their rows. Returns the people in table order."""
    now = datetime.now(timezone.utc)
    by_person: dict[str, list[Mapping[str, str]]] = {}
    for row in rows:
        by_person.setdefault(row[person_column].strip(), []).append(
            {k: v for k, v in row.items() if k != person_column})
    for name, own_rows in by_person.items():
        world.actor(name).share_usage(usage_data.from_rows(own_rows, now))
    return list(by_person)


def shared_by(world: World, name: str) -> dict[str, ModelUsage]:
    """What the person shared, by model (nothing for someone the scenario never named)."""
    person = world.actors.get(name)
    return person.usage if person is not None else {}


def owner_of_model(world: World, model: str, besides: str) -> str | None:
    for name, actor in world.actors.items():
        if name != besides and model in actor.usage:
            return name
    return None


# ---- whose frames are these -----------------------------------------------------------------
def own_runs(actor: Actor) -> dict[str, RunRecord]:
    """Every run the actor started, on any of their sockets."""
    runs = {run.run_id: run for run in actor.runs}
    for chat in actor.chats:
        runs.update(chat.runs)
    return runs


def own_threads(actor: Actor) -> set[str]:
    threads = {run.thread_id for run in own_runs(actor).values() if run.thread_id}
    return threads | set(actor.threads.values())


def _owners(world: World) -> tuple[dict[str, str], dict[str, str]]:
    run_owner, thread_owner = {}, {}
    for name, actor in world.actors.items():
        for run_id in own_runs(actor):
            run_owner[run_id] = name
        for thread_id in own_threads(actor):
            thread_owner[thread_id] = name
    return run_owner, thread_owner


def foreign_frames(world: World, actor: Actor) -> list[tuple[str, Event, str]]:
    """(socket, frame, whose) for every agent frame on the actor's sockets of a run the actor did not
    start, and every thread_data frame of a thread that is not theirs. Error frames are not counted:
    they echo the ids the actor sent."""
    runs, threads = own_runs(actor), own_threads(actor)
    run_owner, thread_owner = _owners(world)
    found = []
    for session in actor.chats:
        for event in session.log.snapshot():
            if event.is_agent_event:
                if event.run_id not in runs:
                    found.append((session.name, event, run_owner.get(event.run_id, "someone else")))
                elif event.thread_id is not None and threads and event.thread_id not in threads:
                    found.append((session.name, event, thread_owner.get(event.thread_id, "someone else")))
            elif event.type == "thread_data":
                thread = event.data.get("thread") if isinstance(event.data.get("thread"), dict) else {}
                if thread.get("id") not in threads:
                    found.append((session.name, event, thread_owner.get(thread.get("id"), "someone else")))
    return found


def expect_only_own_frames(world: World, actor: Actor) -> None:
    """No frame of another person's run or thread reached any of the actor's sockets."""
    found = foreign_frames(world, actor)
    if found:
        whose = sorted({owner for _, _, owner in found})
        lines = "\n".join(f"  on {socket}: {event.compact()} (thread={event.thread_id}, belongs to {owner})"
                          for socket, event, owner in found[:15])
        more = f"\n  ... and {len(found) - 15} more" if len(found) > 15 else ""
        raise IsolationBreach(
            f"{actor.name}'s chat received {len(found)} frame(s) of runs or threads {actor.name} never started "
            f"(they belong to {', '.join(whose)}); {actor.name}'s own runs are "
            f"{', '.join(own_runs(actor)) or 'none'}:\n{lines}{more}")


def expect_received_own_runs(actor: Actor, timeout: float) -> None:
    """Each of the actor's runs reaches its end on the socket that started it."""
    for run in own_runs(actor).values():
        run.session.wait_for_end(run, timeout)


# ---- answers computed from one's own data ---------------------------------------------------
def usage_rows_in_answer(run: RunRecord) -> list[tuple[str, dict[str, Any]]]:
    """(where, row) for every per-model row of usage an agent's result reports."""
    result = checks.result_of(run)
    tables: list[tuple[str, Any]] = []
    if run.agent == "supervisor":
        cost = result.get("cost_optimization") or {}
        tables += [("cost_optimization.cost_analysis.by_model", (cost.get("cost_analysis") or {}).get("by_model")),
                   ("data_analysis.by_model", (result.get("data_analysis") or {}).get("by_model"))]
    elif run.agent == "cost_optimizer":
        tables.append(("cost_analysis.by_model", (result.get("cost_analysis") or {}).get("by_model")))
    elif run.agent == "data_analysis":
        tables.append(("by_model", result.get("by_model")))
    elif run.agent == "performance_optimizer":
        tables.append(("latency", result.get("latency")))
    rows = []
    for where, table in tables:
        if not isinstance(table, list):
            raise ContractViolation(f"the {run.agent} result has no list at {where}: {str(result)[:400]}")
        rows += [(where, row) for row in table if isinstance(row, dict)]
    if not tables:
        raise ContractViolation(f"the {run.agent} agent reports no usage per model, so its answer cannot be "
                                f"checked against the person's data")
    return rows


def expect_answer_about_own_usage(world: World, name: str, run: RunRecord) -> None:
    """The answer lists exactly the models the person shared, with their request counts (and, for
    latency, their p50): another person's usage in it is a breach of isolation."""
    shared = shared_by(world, name)
    if not shared:
        raise BusinessOutcomeFailure(f"the scenario never said what usage {name} shared")
    rows = usage_rows_in_answer(run)
    evidence = "; ".join(f"{where}: {row}" for where, row in rows)[:900]
    foreign = sorted({row.get("model") for _, row in rows if row.get("model") not in shared}, key=str)
    if foreign:
        owners = ", ".join(f"{m} ({owner_of_model(world, m, name) or 'nobody here'})" for m in foreign)
        raise IsolationBreach(f"{name}'s {run.agent} answer reports usage of models {name} never used: {owners}; "
                              f"evidence: {evidence}")
    for where in sorted({w for w, _ in rows}):
        listed = {row.get("model") for w, row in rows if w == where}
        missing = sorted(set(shared) - listed)
        if missing:
            raise BusinessOutcomeFailure(f"{name}'s {run.agent} answer leaves out {name}'s own usage of "
                                         f"{', '.join(missing)} at {where}; evidence: {evidence}")
    for where, row in rows:
        own = shared[row["model"]]
        if "requests" in row and row["requests"] != own.requests:
            category = IsolationBreach if isinstance(row["requests"], int) and row["requests"] > own.requests \
                else BusinessOutcomeFailure
            raise category(f"{name}'s {run.agent} answer counts {row['requests']!r} requests on {row['model']} at "
                           f"{where}, but {name} sent {own.requests:,}; evidence: {evidence}")
        if "p50_ms" in row and len(own.latencies) == 1:
            latency = next(iter(own.latencies))
            if not isinstance(row["p50_ms"], (int, float)) or abs(row["p50_ms"] - latency) > 0.5:
                raise BusinessOutcomeFailure(
                    f"every request {name} sent on {row['model']} took {latency:g} ms, but the answer gives a "
                    f"median of {row['p50_ms']!r} ms; evidence: {evidence}")


def expect_advice_on_own_spend(world: World, name: str, run: RunRecord, current: Decimal,
                               models: set[str]) -> dict[str, Any]:
    """The cost optimisation of the person's run counts their spend only: their models, their total.
    Returns the cost optimisation result."""
    cost = checks.cost_result(run)
    analysis = cost.get("cost_analysis") or {}
    _counts_only_own(world, name, f"{name}'s savings analysis", analysis, analysis.get("current_monthly_cost_usd"),
                     current, models)
    return cost


def expect_savings_of_own_spend(world: World, name: str, run: RunRecord, current: Decimal, monthly: Decimal,
                                annual: Decimal | None = None) -> None:
    """The cost optimisation of the person's run is about their spend only, with the expected amounts."""
    models = set(shared_by(world, name))
    cost = expect_advice_on_own_spend(world, name, run, current, models)
    checks.savings_are_honest(cost)
    savings = cost["potential_savings"]
    checks.money_equals(savings.get("monthly_amount"), monthly, f"{name}'s monthly saving", savings)
    if annual is not None:
        checks.money_equals(savings.get("annual_amount"), annual, f"{name}'s annual saving", savings)


def expect_summary_of_own_usage(world: World, actor: Actor, total: Decimal, models: set[str]) -> None:
    """The usage summary counts the actor's records only: their total and their models."""
    summary = actor.usage_summary()
    _counts_only_own(world, actor.name, f"{actor.name}'s usage summary", summary, summary.get("total_cost_usd"),
                     total, models)


def _counts_only_own(world: World, name: str, what: str, body: dict[str, Any], amount: Any, own_total: Decimal,
                     models: set[str]) -> None:
    """``body`` (with ``by_model`` rows and the monthly ``amount``) counts only the person's own usage: a
    foreign model or a larger total is an isolation breach; a missing model of their own or another
    total is a wrong business outcome."""
    listed = {row.get("model") for row in body.get("by_model") or [] if isinstance(row, dict)}
    foreign = sorted(listed - models, key=str)
    if foreign:
        owners = ", ".join(f"{m} ({owner_of_model(world, m, name) or 'nobody here'})" for m in foreign)
        raise IsolationBreach(f"{what} includes models {name} never used: {owners}; evidence: {body}")
    if money.exceeds(amount, own_total):
        raise IsolationBreach(f"{what} says {amount!r} a month, more than the {money.usd(own_total)} {name} spent: "
                              f"someone else's usage was counted; evidence: {body}")
    checks.money_equals(amount, own_total, f"the monthly total of {what}", body)
    if listed != models:
        raise BusinessOutcomeFailure(f"{what} should cover {', '.join(sorted(models))}; it covers "
                                     f"{', '.join(sorted(map(str, listed))) or 'nothing'}; evidence: {body}")


# ---- probing another person's thread and run over the chat ----------------------------------
def made_up_id(prefix: str, like: str | None = None) -> str:
    """An id that never existed, in the format of ``like`` (a real id) when given: a UUID for a UUID,
    else ``<prefix>_<hex>`` as long as ``like``, so that no answer can differ by the format alone."""
    if like is not None:
        try:
            uuid.UUID(like)
            return str(uuid.uuid4()) if "-" in like else uuid.uuid4().hex
        except ValueError:
            head, sep, tail = like.rpartition("_")
            if sep and tail and all(c in "0123456789abcdef" for c in tail.lower()):
                return f"{head}_{uuid.uuid4().hex * (len(tail) // 32 + 1)}"[:len(like)]
    return f"{prefix}_{uuid.uuid4().hex}"


def _control_answer(session: ChatSession, type_: str, run_id: str, timeout: float) -> Event | None:
    """Sends ``stop_agent``/``resume_run`` for a run; returns the error that refused it, or the first
    frame of that run the socket received instead; None when nothing answered within ``timeout``."""
    mark = len(session.log)
    session.stop(run_id) if type_ == "stop_agent" else session.resume(run_id, None)
    try:
        return session.first_after(mark, lambda e: e.type == "error" or (e.is_agent_event and e.run_id == run_id),
                                   timeout, f"the answer to {type_} for run {run_id}")
    except WaitTimeout:
        return None


def _unanswered(intruder: Actor, owner: Actor, type_: str, run: RunRecord, timeout: float) -> SuiteFailure:
    """What to report when the platform said nothing to a control frame on another person's run."""
    try:
        end = run.session.wait_for_end(run, timeout)
    except WaitTimeout:
        end = None
    if end is not None and end.type == "agent_stopped":
        return IsolationBreach(f"{intruder.name} sent {type_} for {owner.name}'s run {run.run_id}; the platform did "
                               f"not refuse it and {owner.name}'s run was stopped: {end.compact()}")
    return ContractViolation(f"{intruder.name} sent {type_} for {owner.name}'s run {run.run_id} and got no answer "
                             f"within {timeout:g} s; it should be refused with RUN_NOT_FOUND")


@dataclass
class Probe:
    """One attempt on another person's resource, and the same attempt on one that never existed."""

    what: str
    foreign: Any
    missing: Any
    intruder: str
    owner: str
    expected_code: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    sent: tuple[str, str] = ("", "")  # the id the caller sent in the foreign attempt, and in the made-up one


def probe_thread_in_chat(intruder: Actor, owner: Actor, thread_id: str, timeout: float) -> Probe:
    session, made_up = intruder.chat, made_up_id("thread", like=thread_id)
    return Probe(f"{intruder.name} asking the chat to show {owner.name}'s thread",
                 session.get_thread(thread_id, timeout), session.get_thread(made_up, timeout), intruder.name, owner.name, "THREAD_NOT_FOUND",
                 sent=(thread_id, made_up))


def probe_question_in_thread(intruder: Actor, owner: Actor, thread_id: str, question: str) -> Probe:
    made_up = made_up_id("thread", like=thread_id)
    foreign = intruder.start(question, thread_id=thread_id)
    missing = intruder.start(question, thread_id=made_up)
    return Probe(f"{intruder.name} asking a question in {owner.name}'s thread", foreign, missing, intruder.name,
                 owner.name, "THREAD_NOT_FOUND", sent=(thread_id, made_up))


def _probe_control(intruder: Actor, owner: Actor, run: RunRecord, type_: str, what: str, timeout: float) -> Probe:
    session = intruder.chat
    foreign = _control_answer(session, type_, run.run_id, timeout)
    if foreign is None:
        raise _unanswered(intruder, owner, type_, run, timeout)
    made_up = made_up_id("run", like=run.run_id)
    missing = _control_answer(session, type_, made_up, timeout)
    if missing is None:
        raise ContractViolation(f"{intruder.name} sent {type_} for a run that never existed and got no answer within "
                                f"{timeout:g} s; it should be refused with RUN_NOT_FOUND")
    return Probe(what, foreign, missing, intruder.name, owner.name, "RUN_NOT_FOUND", sent=(run.run_id, made_up))


def probe_stop(intruder: Actor, owner: Actor, run: RunRecord, timeout: float) -> Probe:
    return _probe_control(intruder, owner, run, "stop_agent", f"{intruder.name} stopping {owner.name}'s question",
                          timeout)


def probe_follow(intruder: Actor, owner: Actor, run: RunRecord, timeout: float) -> Probe:
    return _probe_control(intruder, owner, run, "resume_run",
                          f"{intruder.name} following {owner.name}'s question from its beginning", timeout)


def _describe(outcome: Any) -> str:
    if isinstance(outcome, RunRecord):
        return f"a run was started: {outcome.started.compact()} (thread={outcome.thread_id})"
    if isinstance(outcome, Event):
        return f"{outcome.compact()} data={ {k: v for k, v in outcome.data.items()} }"
    if isinstance(outcome, Response):
        return outcome.evidence()
    return repr(outcome)


def expect_answered_as_missing(probe: Probe) -> None:
    """The attempt on the other person's resource was refused exactly as the one on a made-up id."""
    foreign, missing = probe.foreign, probe.missing
    if isinstance(foreign, Response) or isinstance(missing, Response):
        checks.same_as_missing(foreign, missing, probe.what, probe.sent)
        checks.status_is(foreign, 404, probe.what)
        return
    if not (isinstance(foreign, Event) and foreign.type == "error"):
        raise IsolationBreach(f"{probe.what} should be refused as if it did not exist, but {_describe(foreign)}")
    if not (isinstance(missing, Event) and missing.type == "error"):
        raise ContractViolation(f"the same attempt on an id that never existed should be refused, but "
                                f"{_describe(missing)}")
    checks.frames_follow_contract([foreign, missing])

    # what the caller sent itself (the id, echoed in the message or a field) reveals nothing: take it out
    if checks.without_echoes(foreign.data, probe.sent[0]) != checks.without_echoes(missing.data, probe.sent[1]):
        raise IsolationBreach(f"{probe.what} is answered differently from the same attempt on an id that never "
                              f"existed, so {probe.owner}'s resource can be probed:\n  {probe.owner}'s: "
                              f"{_describe(foreign)}\n  made-up: {_describe(missing)}")
    if probe.expected_code and foreign.data.get("code") != probe.expected_code:
        raise ContractViolation(f"{probe.what} should be refused with {probe.expected_code}; got {_describe(foreign)}")


# ---- probing another person's thread over REST ----------------------------------------------
REST_ATTEMPTS = {
    "read": lambda api, tid: api.get_thread(tid),
    "rename": lambda api, tid: api.rename_thread(tid, "Taken over"),
    "read the messages of": lambda api, tid: api.messages(tid),
    "delete": lambda api, tid: api.delete_thread(tid),
}


def probe_thread_over_rest(intruder: Actor, owner: Actor, thread_id: str, attempt: str) -> Probe:
    if attempt not in REST_ATTEMPTS:
        raise ValueError(f"unknown attempt {attempt!r}; known: {', '.join(REST_ATTEMPTS)}")
    call, made_up = REST_ATTEMPTS[attempt], made_up_id("thread", like=thread_id)
    return Probe(f"{intruder.name} trying to {attempt} {owner.name}'s thread through the API",
                 call(intruder.api, thread_id), call(intruder.api, made_up), intruder.name, owner.name,
                 sent=(thread_id, made_up))


def thread_snapshot(owner: Actor, thread_id: str) -> dict[str, Any]:
    """The thread and its messages as its owner reads them."""
    return {"thread": owner.read_thread(thread_id), "messages": owner.messages(thread_id)}


def expect_thread_unchanged(owner: Actor, thread_id: str, before: dict[str, Any]) -> None:
    try:
        after = thread_snapshot(owner, thread_id)
    except ContractViolation as exc:
        raise IsolationBreach(f"{owner.name} can no longer read their own thread {thread_id} after another "
                              f"person's attempts on it: {exc.detail}") from None
    if after != before:
        changed = [k for k in ("title", "metadata", "message_count", "updated_at")
                   if after["thread"].get(k) != before["thread"].get(k)]
        if after["messages"] != before["messages"]:
            changed.append("messages")
        raise IsolationBreach(f"{owner.name}'s thread {thread_id} changed after another person's attempts on it "
                              f"({', '.join(changed) or 'details'}):\n  before: {str(before)[:500]}\n"
                              f"  after:  {str(after)[:500]}")


# ---- a flood of questions from one person ---------------------------------------------------
@dataclass
class Burst:
    """Start requests sent back-to-back on one socket, and what answered them."""

    actor: Actor
    session: ChatSession
    question: str
    agent: str | None
    count: int
    mark: int
    known: set[str]
    sent_at: float
    runs: list[RunRecord] = field(default_factory=list)
    refusals: list[Event] = field(default_factory=list)

    def describe(self) -> str:
        lines = [f"  run {r.run_id} started ({r.started.compact()})" for r in self.runs]
        lines += [f"  refused: {e.compact()} data={e.data}" for e in self.refusals]
        return "\n".join(lines) or "  (nothing)"


def send_burst(actor: Actor, count: int, question: str, agent: str | None = None) -> Burst:
    """Sends ``count`` start requests at once (the platform reads a socket's frames in order)."""
    session = actor.chat
    mark, known = len(session.log), set(session.runs)
    sent = time.monotonic()
    for _ in range(count):
        session.send_start(question, agent=agent or None)
    return Burst(actor, session, question, agent, count, mark, known, sent)


def collect_burst(burst: Burst, timeout: float) -> Burst:
    """Waits until every start request of the burst was answered by a new run or an error."""
    session, known = burst.session, burst.known

    def outcomes(evs: list[Event]):
        starts = new_starts(evs[burst.mark:], known)
        errors = [e for e in evs[burst.mark:] if e.type == "error"]
        return (starts, errors) if len(starts) + len(errors) >= burst.count else None

    starts, errors = session.wait_for(outcomes, timeout, f"answers to {burst.count} start requests sent at once")
    for started in starts:
        record = session.adopt(started, burst.question, burst.sent_at)
        burst.actor.runs.append(record)
        burst.runs.append(record)
    burst.refusals.extend(errors)
    return burst


def expect_run_limit(burst: Burst, running: int, refused_nth: int) -> None:
    """The first ``running`` starts ran and the rest were refused with RUN_LIMIT."""
    name = burst.actor.name
    extra = burst.count - running
    if len(burst.runs) > running:
        raise ContractViolation(f"{name} sent {burst.count} questions at once and {len(burst.runs)} of them run; at "
                                f"most {running} may run at once (RUN_LIMIT):\n{burst.describe()}")
    codes = [e.data.get("code") for e in burst.refusals]
    if len(burst.runs) != running or codes != ["RUN_LIMIT"] * extra:
        raise ContractViolation(f"{name} sent {burst.count} questions at once: {running} should run and the "
                                f"{refused_nth}th be refused with RUN_LIMIT; instead:\n{burst.describe()}")
    checks.frames_follow_contract(burst.refusals)


def stop_and_wait(actor: Actor, runs: Iterable[RunRecord], timeout: float) -> None:
    """Stops the runs that have not ended yet and waits for each to end (stopped or completed)."""
    runs = [r for r in runs if r.terminal is None]
    for run in runs:
        run.session.stop(run.run_id)
    for run in runs:
        run.session.wait_for_end(run, timeout)


@dataclass
class Flood:
    """One person's questions started one burst after another within a window of ``window_s`` seconds."""

    actor: Actor
    first_admitted_at: float
    admitted: int
    active: list[RunRecord]
    window_s: float


def start_flood(burst: Burst, window_s: float) -> Flood:
    first = min((r.started.received_at for r in burst.runs), default=burst.sent_at)
    return Flood(burst.actor, min(first, burst.sent_at), len(burst.runs), list(burst.runs), window_s)


def keep_starting(flood: Flood, total: int, at_once: int, question: str, timeout: float,
                  settle_s: float = 2.0) -> None:
    """Stops the running questions and starts new ones, ``at_once`` at a time, until ``total`` have
    started; every one of them must be admitted (refused starts do not count toward the rate).

    The contract does not promise that a run's slot is free the instant its terminal frame arrives: a
    platform may release it a moment later. So a start refused with RUN_LIMIT after every run ended is
    tried again, for at most ``settle_s``; still refused then, or refused with any other code, it fails."""
    actor, window_s = flood.actor, flood.window_s
    while flood.admitted < total:
        stop_and_wait(actor, flood.active, timeout)
        ended_at = Deadline(settle_s)
        n = min(at_once, total - flood.admitted)
        flood.active = []
        while n:
            burst = collect_burst(send_burst(actor, n, question), timeout)
            flood.admitted += len(burst.runs)
            flood.active += burst.runs
            codes = {e.data.get("code") for e in burst.refusals}
            if burst.refusals and (codes != {"RUN_LIMIT"} or ended_at.expired()):
                raise ContractViolation(
                    f"{actor.name} had {flood.admitted - len(burst.runs)} questions started in the last {window_s:g} s "
                    f"and none running for {ended_at.elapsed():.2f} s, so {n} more may start (the rate counts "
                    f"admitted starts only, at most {total}; a run's slot may take up to {settle_s:g} s to be freed "
                    f"after its end); instead:\n{burst.describe()}")
            n = len(burst.refusals)
            if n:
                time.sleep(min(0.05, ended_at.remaining()))  # bounded poll for the slot to be freed
    elapsed = time.monotonic() - flood.first_admitted_at
    if elapsed >= window_s * 0.9:
        raise InfrastructureFailure(f"starting {total} questions took {elapsed:.1f} s, too close to the "
                                    f"{window_s:g} s window to check the rate limit")


def expect_rate_limited(flood: Flood) -> None:
    """The flooding person's last question, one more than the rate admits within the window, was refused with
    RATE_LIMITED, saying when to retry."""
    actor, window_s, count = flood.actor, flood.window_s, flood.admitted
    outcome = checks.start_refused(actor.last_attempt.outcome, "RATE_LIMITED",
                                   f"{actor.name}'s question number {count + 1} within {window_s:g} s (more than "
                                   f"{count} in {window_s:g} s)")
    retry = outcome.data.get("retry_after_s")
    if not isinstance(retry, (int, float)) or isinstance(retry, bool) or not 0 < retry <= window_s:
        raise ContractViolation(f"a RATE_LIMITED refusal must say when to retry: retry_after_s should be a number "
                                f"of seconds within (0, {window_s:g}], got {retry!r}; {_describe(outcome)}")


def expect_not_held_up(actor: Actor, run: RunRecord, within_s: float, others: str) -> None:
    if run.first_event_s > within_s:
        raise IsolationBreach(f"{actor.name}'s agents started {run.first_event_s:.2f} s after the question, while "
                              f"{others}; the contract promises {within_s:g} s to every user")

