"""Several people on the platform at once, and what one of them may never see or reach of another.

CONTRACT section 3 (a foreign resource answers exactly as a missing one), section 4 (a run's frames
go only to its owner's connections; ``THREAD_NOT_FOUND`` and ``RUN_NOT_FOUND`` also for another
user's thread or run; ``RATE_LIMITED`` and ``RUN_LIMIT`` per user) and section 7 (refused starts do
not count toward the rate).

Every check names the people involved and quotes the frames or responses that prove the failure.
"""
from __future__ import annotations

import concurrent.futures
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping, TypeVar

from acceptance.client.chat import ChatSession, RunRecord
from acceptance.client.events import Event
from acceptance.client.rest import Response
from acceptance.client.waiting import Deadline, WaitTimeout
from acceptance.journeys import usage_data
from acceptance.journeys.actors import Actor, World
from acceptance.verify import checks, money
from acceptance.verify.errors import (
    BusinessOutcomeFailure,
    ContractViolation,
    InfrastructureFailure,
    IsolationBreach,
    SuiteFailure,
)
from acceptance.verify.schemas import validate_body

T = TypeVar("T")


# ---- doing things at the same moment --------------------------------------------------------
def together(jobs: Mapping[str, Callable[[], T]], timeout: float) -> dict[str, T]:
    """Runs every job in its own thread, all released at once by a barrier; returns their results by
    name. The first failure (in the jobs' order) is raised once every job has ended; each job's own
    waits are bounded, and ``timeout`` bounds the whole."""
    if not jobs:
        return {}
    barrier = threading.Barrier(len(jobs))

    def released(job: Callable[[], T]) -> T:
        barrier.wait(timeout)
        return job()

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="together")
    try:
        futures = {name: pool.submit(released, job) for name, job in jobs.items()}
        done, pending = concurrent.futures.wait(futures.values(), timeout=timeout)
        if pending:
            late = [name for name, f in futures.items() if f in pending]
            raise WaitTimeout(f"{', '.join(late)} did not finish within {timeout:g} s while acting at the same "
                              f"moment as {', '.join(n for n in futures if n not in late) or 'nobody'}")
        results: dict[str, T] = {}
        for name, future in futures.items():
            error = future.exception()
            if error is not None:
                raise error
            results[name] = future.result()
        return results
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def ask_together(world: World, asks: Iterable[tuple[str, str, str | None]]) -> dict[str, RunRecord]:
    """Each (person, question, agent) asks at the same moment on their own open chat; every run is
    followed to its end. Returns the runs by person."""
    asks = list(asks)
    people = {name: world.actor(name) for name, _, _ in asks}
    for person in people.values():
        person.chat  # opened before the barrier, so that only the questions race
    cfg = world.config
    jobs = {name: (lambda p=people[name], q=question, a=agent: p.ask(q, agent=a)) for name, question, agent in asks}
    return together(jobs, cfg.first_event_timeout + cfg.run_timeout + 10)


# ---- usage each person shared ---------------------------------------------------------------
def pricing(world: World) -> dict[str, Any]:
    if "pricing" not in world.notes:
        someone = next(iter(world.actors.values())).ensure_account()
        world.notes["pricing"] = someone.api.pricing().expect_status(200, what="the pricing catalogue").body
    return world.notes["pricing"]


def _remember_usage(world: World, name: str, records: list[dict[str, Any]]) -> None:
    shared = world.notes.setdefault("usage_of", {}).setdefault(name, {})
    for record in records:
        row = shared.setdefault(record["model"], {"requests": 0, "latencies": set()})
        row["requests"] += record.get("requests", 1)
        if record.get("latency_ms") is not None:
            row["latencies"].add(float(record["latency_ms"]))


def _store_usage(world: World, name: str, records: list[dict[str, Any]]) -> None:
    person = world.actor(name).ensure_account()
    response = person.api.add_usage(records).expect_status(201, what=f"storing {name}'s usage")
    if response.expect_json_object().get("rejected"):
        raise ContractViolation(f"the platform rejected usage records the contract allows: {response.evidence()}")
    _remember_usage(world, name, records)


def share_usage_rows(world: World, rows: Iterable[Mapping[str, str]], person_column: str = "person") -> list[str]:
    """Rows of ``person | model | task | requests | …`` (the columns of :func:`usage_data.from_rows`):
    each person signs up and shares their rows. Returns the people in table order."""
    now = datetime.now(timezone.utc)
    by_person: dict[str, list[Mapping[str, str]]] = {}
    for row in rows:
        by_person.setdefault(row[person_column].strip(), []).append(
            {k: v for k, v in row.items() if k != person_column})
    for name, own_rows in by_person.items():
        world.actor(name).ensure_account()
        _store_usage(world, name, usage_data.from_rows(own_rows, now))
    return list(by_person)


def share_spend(world: World, name: str, model: str, task: str | None, monthly: str | Decimal) -> None:
    """The person's team spends ``monthly`` dollars a month on ``model`` for ``task`` (list prices)."""
    world.actor(name).ensure_account()
    records = usage_data.spend(pricing(world), datetime.now(timezone.utc), model, task, monthly)
    _store_usage(world, name, records)


def owner_of_model(world: World, model: str, besides: str) -> str | None:
    for name, shared in world.notes.get("usage_of", {}).items():
        if name != besides and model in shared:
            return name
    return None


# ---- whose frames are these -----------------------------------------------------------------
def own_runs(actor: Actor) -> dict[str, RunRecord]:
    """Every run the actor started, on any of their sockets."""
    runs = {run.run_id: run for run in actor.runs}
    for session in actor.sessions:
        runs.update(session.runs)
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
    for session in actor.sessions:
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
    shared = world.notes.get("usage_of", {}).get(name)
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
        if "requests" in row and row["requests"] != own["requests"]:
            category = IsolationBreach if isinstance(row["requests"], int) and row["requests"] > own["requests"] \
                else BusinessOutcomeFailure
            raise category(f"{name}'s {run.agent} answer counts {row['requests']!r} requests on {row['model']} at "
                           f"{where}, but {name} sent {own['requests']:,}; evidence: {evidence}")
        if "p50_ms" in row and len(own["latencies"]) == 1:
            latency = next(iter(own["latencies"]))
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
    models = set(world.notes.get("usage_of", {}).get(name, {}))
    cost = expect_advice_on_own_spend(world, name, run, current, models)
    checks.savings_are_honest(cost)
    savings = cost["potential_savings"]
    checks.money_equals(savings.get("monthly_amount"), monthly, f"{name}'s monthly saving", savings)
    if annual is not None:
        checks.money_equals(savings.get("annual_amount"), annual, f"{name}'s annual saving", savings)


def usage_summary_of(actor: Actor) -> dict[str, Any]:
    response = actor.api.usage_summary().expect_status(200, what=f"{actor.name}'s usage summary")
    body = response.expect_json_object()
    validate_body("usage_summary", body)
    return body


def expect_summary_of_own_usage(world: World, actor: Actor, total: Decimal, models: set[str]) -> None:
    """The usage summary counts the actor's records only: their total and their models."""
    summary = usage_summary_of(actor)
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


def _answer_after(session: ChatSession, mark: int, accept: Callable[[Event], bool], timeout: float,
                  description: str) -> Event:
    return session.wait_for(lambda evs: next((e for e in evs[mark:] if accept(e)), None), timeout, description)


def show_thread(session: ChatSession, thread_id: str, timeout: float) -> Event:
    """Asks the chat for a thread; returns its thread_data or the error that refused it."""
    mark = len(session.log)
    session.send("get_thread", {"thread_id": thread_id})

    def answer(e: Event) -> bool:
        if e.type == "error":
            return True
        thread = e.data.get("thread") if e.type == "thread_data" else None
        return isinstance(thread, dict) and thread.get("id") == thread_id
    return _answer_after(session, mark, answer, timeout, f"thread_data or an error for get_thread {thread_id}")


def _control_answer(session: ChatSession, type_: str, run_id: str, timeout: float) -> Event | None:
    """Sends ``stop_agent``/``resume_run`` for a run; returns the error that refused it, or the first
    frame of that run the socket received instead; None when nothing answered within ``timeout``."""
    mark = len(session.log)
    payload = {"run_id": run_id} if type_ == "stop_agent" else {"run_id": run_id, "last_message_id": None}
    session.send(type_, payload)
    try:
        return _answer_after(session, mark, lambda e: e.type == "error" or (e.is_agent_event and e.run_id == run_id),
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
    return Probe(f"{intruder.name} asking the chat to show {owner.name}'s thread", show_thread(session, thread_id, timeout),
                 show_thread(session, made_up, timeout), intruder.name, owner.name, "THREAD_NOT_FOUND",
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


def expect_refused(outcome: RunRecord | Event, code: str, what: str) -> None:
    """A start request was refused with ``code`` (and no run began)."""
    if isinstance(outcome, RunRecord):
        raise ContractViolation(f"{what} should be refused with {code}, but {_describe(outcome)}")
    checks.frames_follow_contract([outcome])
    if outcome.data.get("code") != code:
        raise ContractViolation(f"{what} should be refused with {code}; got {_describe(outcome)}")


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
    thread = owner.api.get_thread(thread_id).expect_status(200, what=f"{owner.name} reading their own thread")
    validate_body("thread", thread.body)
    messages = owner.api.messages(thread_id, limit=100).expect_status(
        200, what=f"{owner.name} reading the messages of their own thread")
    return {"thread": thread.expect_json_object(), "messages": messages.expect_json_object().get("messages")}


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
    payload: dict[str, Any] = {"user_request": question}
    if agent:
        payload["agent"] = agent
    sent = time.monotonic()
    for _ in range(count):
        session.send("start_agent", payload)
    return Burst(actor, session, question, agent, count, mark, known, sent)


def _is_new_top_start(event: Event, known: set[str]) -> bool:
    return (event.type == "agent_started" and bool(event.run_id) and event.run_id not in known
            and not event.data.get("parent_agent"))


def collect_burst(burst: Burst, timeout: float) -> Burst:
    """Waits until every start request of the burst was answered by a new run or an error."""
    session, known = burst.session, burst.known

    def outcomes(evs: list[Event]):
        after = evs[burst.mark:]
        starts, seen = [], set()
        for e in after:
            if _is_new_top_start(e, known) and e.run_id not in seen:
                seen.add(e.run_id)
                starts.append(e)
        errors = [e for e in after if e.type == "error"]
        return (starts, errors) if len(starts) + len(errors) >= burst.count else None

    starts, errors = session.wait_for(outcomes, timeout, f"answers to {burst.count} start requests sent at once")
    for started in starts:
        record = RunRecord(started.run_id, session, burst.question, burst.sent_at, started,
                           agent=started.agent_name or "", thread_id=started.thread_id)
        session.runs[record.run_id] = record
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
        run.session.send("stop_agent", {"run_id": run.run_id})
    for run in runs:
        run.session.wait_for_end(run, timeout)


@dataclass
class Flood:
    actor: Actor
    first_admitted_at: float
    admitted: int
    active: list[RunRecord]


def start_flood(burst: Burst) -> Flood:
    first = min((r.started.received_at for r in burst.runs), default=burst.sent_at)
    return Flood(burst.actor, min(first, burst.sent_at), len(burst.runs), list(burst.runs))


def keep_starting(flood: Flood, total: int, at_once: int, window_s: float, question: str, timeout: float,
                  settle_s: float = 2.0) -> None:
    """Stops the running questions and starts new ones, ``at_once`` at a time, until ``total`` have
    started; every one of them must be admitted (refused starts do not count toward the rate).

    The contract does not promise that a run's slot is free the instant its terminal frame arrives: a
    platform may release it a moment later. So a start refused with RUN_LIMIT after every run ended is
    tried again, for at most ``settle_s``; still refused then, or refused with any other code, it fails."""
    actor = flood.actor
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


def expect_rate_limited(actor: Actor, outcome: RunRecord | Event, window_s: float, count: int) -> None:
    if isinstance(outcome, RunRecord):
        raise ContractViolation(f"{actor.name}'s question number {count + 1} within {window_s:g} s was started "
                                f"({outcome.started.compact()}); more than {count} in {window_s:g} s must be refused "
                                f"with RATE_LIMITED")
    checks.frames_follow_contract([outcome])
    if outcome.data.get("code") != "RATE_LIMITED":
        raise ContractViolation(f"{actor.name}'s question number {count + 1} within {window_s:g} s should be refused "
                                f"with RATE_LIMITED; got {_describe(outcome)}")
    retry = outcome.data.get("retry_after_s")
    if not isinstance(retry, (int, float)) or isinstance(retry, bool) or not 0 < retry <= window_s:
        raise ContractViolation(f"a RATE_LIMITED refusal must say when to retry: retry_after_s should be a number "
                                f"of seconds within (0, {window_s:g}], got {retry!r}; {_describe(outcome)}")


def expect_not_held_up(actor: Actor, run: RunRecord, within_s: float, others: str) -> None:
    if run.first_event_s > within_s:
        raise IsolationBreach(f"{actor.name}'s agents started {run.first_event_s:.2f} s after the question, while "
                              f"{others}; the contract promises {within_s:g} s to every user")

