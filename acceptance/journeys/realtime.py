"""Realtime journeys (CONTRACT sections 4, 5 and 7): the live stream of a run, its timing, keep-alive,
ordering across questions, resuming after a dropped connection, several devices, many users at once.

Steps call these functions; each check states what was expected, what happened and the frames that
show it, and fails in the category that names the cause.
"""
from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Sequence

from acceptance.client.chat import TOP_TERMINALS, ChatSession, Credential, RunRecord
from acceptance.client.events import CONTROL_EVENT_TYPES, Event, describe_events
from acceptance.client.waiting import wait_until
from acceptance.journeys.actors import Actor, World
from acceptance.journeys.usage_data import BadExample, iso
from acceptance.verify import checks, matchers as m
from acceptance.verify.errors import (
    CATEGORY_CLASSES,
    BusinessOutcomeFailure,
    ContractViolation,
    IsolationBreach,
    SuiteFailure,
)
from acceptance.verify.schemas import validate_body

SUPERVISOR = "supervisor"
LONG_HISTORY_MODEL, LONG_HISTORY_TASK = "gpt-4o-mini", "summarization"
CROWD_NAMES = ("Ava", "Ben", "Cleo", "Dan", "Eve", "Finn", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lena", "Milo",
               "Nora", "Omar", "Pia", "Quin", "Rosa", "Sami", "Tess", "Uma", "Vik", "Wren", "Xena", "Yara", "Zoe")


class ScenarioSetupFailure(SuiteFailure):
    """The scenario could not bring about the situation it is about (not a verdict on the platform)."""


# ---- frames of a run ----------------------------------------------------------------------
def frames_of(session: ChatSession, run_id: str) -> list[Event]:
    return [e for e in session.log.snapshot() if e.run_id == run_id]


def _top_terminal(events: Iterable[Event], run_id: str, agent: str) -> Event | None:
    return next((e for e in events if e.run_id == run_id and e.type in TOP_TERMINALS and e.agent_name == agent), None)


def wait_for_run_end(session: ChatSession, run_id: str, timeout: float, agent: str = SUPERVISOR) -> Event:
    """The run's terminal frame on this socket; an ``error`` frame about the run fails at once."""
    def outcome(evs: list[Event]):
        for e in evs:
            if e.type == "error" and e.data.get("run_id") == run_id:
                return e
        return _top_terminal(evs, run_id, agent)

    end = session.wait_for(outcome, timeout, f"the end of run {run_id} ({agent}'s terminal frame)")
    if end.type == "error":
        raise ContractViolation(f"{session.name} was refused the frames of run {run_id}: {end.compact()}")
    return end


def _ids(events: Sequence[Event]) -> list[str | None]:
    return [e.message_id for e in events]


# ---- one run's stream -----------------------------------------------------------------------
def _agent_frames_since(run: RunRecord) -> list[Event]:
    return [e for e in run.session.log.snapshot() if e.is_agent_event and e.received_at >= run.sent_at]


def attributed_to_one_run(run: RunRecord) -> None:
    """Every agent frame the socket received after the question carries the run's id and thread."""
    frames = _agent_frames_since(run)
    stray = [e for e in frames if e.run_id != run.run_id]
    if stray:
        raise ContractViolation(
            f"only run {run.run_id} was asked on {run.session.name}, yet {len(stray)} agent frame(s) carry "
            f"another run id or none:\n{describe_events(stray)}")
    m.expect(frames, m.shares_one_run(run.run_id, run.thread_id))


def tools_are_paired(run: RunRecord) -> None:
    m.expect(run.events, m.has_matched_tool_pairs())
    if not any(e.type == "tool_executing" for e in run.events):
        raise ContractViolation(f"run {run.run_id} used no tool at all:\n{describe_events(run.events)}")


def specialists_nest_inside_supervisor(run: RunRecord) -> None:
    events = run.events
    specialists = sorted({e.agent_name for e in events if e.agent_name and e.agent_name != SUPERVISOR})
    if run.agent != SUPERVISOR or not specialists:
        raise ContractViolation(
            f"a cost question to the supervisor should hand work to specialists inside the same run; run "
            f"{run.run_id} of {run.agent or 'an unnamed agent'} shows specialists {specialists or 'none'}:\n"
            f"{describe_events(events)}")
    m.expect(events, m.nests_sub_agents_inside(SUPERVISOR))


def progress_never_decreases(run: RunRecord) -> None:
    events = run.events
    if not any(e.type == "agent_thinking" for e in events):
        raise ContractViolation(f"run {run.run_id} reported no progress at all:\n{describe_events(events)}")
    m.expect(events, m.has_monotone_progress())


def thinks_before_tools(run: RunRecord) -> None:
    events = run.events
    m.expect(events, checks.lifecycle(run.session))
    first_tool = next((i for i, e in enumerate(events) if e.type == "tool_executing"), None)
    if first_tool is not None and not any(e.type == "agent_thinking" for e in events[:first_tool]):
        raise ContractViolation(f"run {run.run_id} used a tool before any agent_thinking:\n"
                                f"{describe_events(events[:first_tool + 1])}")


def every_frame_follows_schema(actor: Actor) -> None:
    frames = [e for session in actor.sessions for e in session.log.snapshot()]
    if not frames:
        raise ContractViolation(f"{actor.name} received no frame at all on {len(actor.sessions)} connection(s)")
    checks.frames_follow_contract(frames)


def first_event_within(run: RunRecord, seconds: float) -> None:
    took = run.first_event_s
    if took > seconds:
        raise ContractViolation(f"agent_started of run {run.run_id} arrived {took:.2f} s after the question; the "
                                f"service level is {seconds:g} s: {run.started.compact()}")


# ---- keep-alive -----------------------------------------------------------------------------
def send_keepalive(session: ChatSession) -> dict[str, Any]:
    nonce = "keepalive-" + secrets.token_hex(6)
    mark = len(session.log)
    session.send("ping", {"nonce": nonce})
    return {"nonce": nonce, "mark": mark, "session": session}


def keepalive_answered(sent: dict[str, Any], timeout: float) -> Event:
    """The first pong after the ping must echo its nonce and follow the pong schema."""
    session, mark, nonce = sent["session"], sent["mark"], sent["nonce"]
    pong = session.wait_for(lambda evs: next((e for e in evs[mark:] if e.type in ("pong", "error")), None),
                            timeout, f"a pong for the ping with nonce {nonce!r}")
    if pong.type != "pong":
        raise ContractViolation(f"a ping with nonce {nonce!r} was answered with {pong.compact()}")
    checks.frames_follow_contract([pong])
    if pong.data.get("nonce") != nonce:
        raise ContractViolation(f"the pong should echo nonce {nonce!r}, it carries {pong.data.get('nonce')!r}: "
                                f"{pong.raw}")
    return pong


def check_alive(session: ChatSession, timeout: float) -> Event:
    return keepalive_answered(send_keepalive(session), timeout)


# ---- several questions in one conversation ---------------------------------------------------
def ask_in_sequence(actor: Actor, questions: Sequence[str]) -> list[RunRecord]:
    """Each question after the previous answer, all in the thread the first one created."""
    runs: list[RunRecord] = []
    for question in questions:
        runs.append(actor.ask(question, thread_id=runs[0].thread_id if runs else None))
    return runs


def runs_do_not_interleave(runs: Sequence[RunRecord]) -> None:
    """Each run's frames form one contiguous block of the connection's log, blocks in the order asked."""
    session = runs[0].session
    log = [e for e in session.log.snapshot() if e.type not in CONTROL_EVENT_TYPES and (e.run_id or e.is_agent_event)]
    blocks: list[str | None] = []
    for e in log:
        if not blocks or blocks[-1] != e.run_id:
            blocks.append(e.run_id)
    asked = [r.run_id for r in runs]
    if blocks != asked:
        raise ContractViolation(
            f"the runs should arrive one after another in the order asked ({', '.join(asked)}); the connection's "
            f"frames form the blocks {blocks}:\n{describe_events(log, limit=0)}")
    for run in runs:
        checks.streams_the_five_events(run)
    threads = {r.thread_id for r in runs}
    if len(threads) != 1:
        raise ContractViolation(f"questions asked in one conversation ran in threads {sorted(map(str, threads))}")


def history_lists(actor: Actor, runs: Sequence[RunRecord], timeout: float) -> None:
    """The thread's messages are the questions and their answers, in the order asked."""
    expected = []
    for run in runs:
        expected += [("user", run.request, run.run_id), ("assistant", checks.result_of(run)["summary"], run.run_id)]
    thread_id = runs[0].thread_id

    def page():
        response = actor.api.messages(thread_id).expect_status(200, what=f"{actor.name}'s conversation history")
        return response if len(response.body.get("messages", [])) >= len(expected) else None

    response = wait_until(page, timeout, f"{len(expected)} messages in thread {thread_id}", interval=0.05)
    validate_body("messages_page", response.body)
    messages = response.body["messages"]
    # run_id is optional on a message; when present it must name the run that produced it
    got = [(msg["role"], msg["content"], msg.get("run_id") or want[2]) for msg, want in zip(messages, expected)]
    if len(messages) != len(expected) or got != expected:
        shown = "\n".join(f"  {i}. {msg['role']}: {msg['content'][:70]!r} (run {msg.get('run_id')})"
                          for i, msg in enumerate(messages))
        want = "\n".join(f"  {i}. {role}: {content[:70]!r} (run {run_id})"
                         for i, (role, content, run_id) in enumerate(expected))
        raise BusinessOutcomeFailure(f"the conversation history should list the questions and answers in order:\n"
                                     f"{want}\nit lists:\n{shown}")


# ---- usage for a long run ----------------------------------------------------------------------
def long_usage_history(actor: Actor, records: int) -> None:
    """``records`` small usage records spread over the last ten days (one request each)."""
    if not 1 <= records <= 10_000:
        raise BadExample(f"a usage history is sent in one request of at most 10,000 records, not {records:,}")
    now = datetime.now(timezone.utc)
    rows = [{"timestamp": iso(now - timedelta(days=1 + i % 10, minutes=i % 720)), "model": LONG_HISTORY_MODEL,
             "task": LONG_HISTORY_TASK, "input_tokens": 400, "output_tokens": 80} for i in range(records)]
    response = actor.ensure_account().api.add_usage(rows).expect_status(201, what=f"storing {actor.name}'s usage")
    if response.body.get("accepted") != records:
        raise ContractViolation(f"all {records:,} usage records are valid, yet {response.evidence()}")


# ---- devices: several sockets of one person -----------------------------------------------------
def _devices(world: World) -> dict[tuple[str, str], ChatSession]:
    return world.notes.setdefault("devices", {})


def open_on_devices(actor: Actor, names: Sequence[str]) -> None:
    actor.ensure_account()
    for name in names:
        _devices(actor.world)[(actor.name, name)] = actor.new_session(Credential("bearer", actor.access_token)).open()


def device(actor: Actor, name: str) -> ChatSession:
    try:
        return _devices(actor.world)[(actor.name, name)]
    except KeyError:
        raise BadExample(f"{actor.name} has no {name} in this scenario; open it first "
                         f"('{actor.name} has the chat open on her {name} and her …')") from None


def start_on(actor: Actor, name: str, question: str) -> RunRecord:
    session = device(actor, name)
    outcome = session.start(question, timeout=actor.world.config.first_event_timeout + 5)
    if not isinstance(outcome, RunRecord):
        raise ContractViolation(f"{actor.name}'s question on the {name} was refused: {outcome.compact()}")
    actor.runs.append(outcome)
    return outcome


def ask_on(actor: Actor, name: str, question: str) -> RunRecord:
    run = start_on(actor, name, question)
    run.session.wait_for_end(run, actor.world.config.run_timeout)
    return run


def same_frames_on(actor: Actor, name: str, reference: str) -> None:
    """The run shows up on device ``name`` exactly as on ``reference``: same frames, ids and order."""
    run = actor.last_run
    timeout = actor.world.config.run_timeout
    ours, theirs = device(actor, name), device(actor, reference)
    wait_for_run_end(ours, run.run_id, timeout, run.agent)
    wait_for_run_end(theirs, run.run_id, timeout, run.agent)
    mine, other = frames_of(ours, run.run_id), frames_of(theirs, run.run_id)
    if [e.canonical() for e in mine] != [e.canonical() for e in other]:
        raise ContractViolation(
            f"both of {actor.name}'s devices were open when run {run.run_id} started, so both should receive the "
            f"same frames in the same order.\n  {name} ({len(mine)} frames):\n{describe_events(mine, limit=0)}\n"
            f"  {reference} ({len(other)} frames):\n{describe_events(other, limit=0)}")
    checks.frames_follow_contract(mine)
    m.expect(mine, checks.lifecycle(ours))


# ---- dropping and resuming ---------------------------------------------------------------------
def drop_once(actor: Actor, name: str, under_way: Callable[[Event], bool], what: str) -> None:
    """Waits until the device saw ``under_way``, then closes its socket; keeps what it received."""
    run, session = actor.last_run, device(actor, name)
    session.wait_for(lambda evs: any(e.run_id == run.run_id and under_way(e) for e in evs),
                     actor.world.config.run_timeout, what)
    session.close()
    before = frames_of(session, run.run_id)
    if _top_terminal(before, run.run_id, run.agent) is not None:
        raise ScenarioSetupFailure(f"run {run.run_id} had already ended when {actor.name}'s {name} dropped, so the "
                                   f"drop interrupted nothing; give the run more usage to analyse")
    actor.world.notes[("dropped", actor.name, name)] = before


def data_analysis_under_way(event: Event) -> bool:
    return event.agent_name == "data_analysis" and event.type == "agent_thinking"


def reconnect_and_resume(actor: Actor, name: str) -> None:
    """A new socket for the device that resumes the run after the last frame it had received."""
    run = actor.last_run
    before = actor.world.notes[("dropped", actor.name, name)]
    session = actor.new_session(Credential("bearer", actor.access_token)).open()
    _devices(actor.world)[(actor.name, name)] = session
    session.resume(run.run_id, before[-1].message_id)
    wait_for_run_end(session, run.run_id, actor.world.config.run_timeout, run.agent)


def _reconcile(label: str, got: Sequence[Event], reference: Sequence[Event], reference_label: str,
               note: str = "") -> None:
    seen: dict[str | None, int] = {}
    for e in got:
        seen[e.message_id] = seen.get(e.message_id, 0) + 1
    repeated = [e for e in got if seen[e.message_id] > 1]
    reference_ids = set(_ids(reference))
    lost = [e for e in reference if e.message_id not in seen]
    extra = [e for e in got if e.message_id not in reference_ids]
    if repeated or lost or extra or _ids(got) != _ids(reference):
        parts = [f"{label} should be exactly the {len(reference)} frames {reference_label}, in order;"]
        if lost:
            parts.append(f"{len(lost)} lost:\n{describe_events(lost, limit=0, indexed=False)}")
        if repeated:
            parts.append(f"{len(repeated)} repeated:\n{describe_events(repeated, limit=0, indexed=False)}")
        if extra:
            parts.append(f"{len(extra)} unknown to the reference:\n{describe_events(extra, limit=0, indexed=False)}")
        if not (lost or repeated or extra):
            parts.append("the same frames arrived in another order")
        parts.append(f"received ({len(got)}{note}):\n{describe_events(got, limit=0)}")
        raise ContractViolation("\n".join(parts))


def whole_run_across_drop(actor: Actor, name: str, reference: str) -> None:
    """Before + after the drop = what the device that stayed connected received: none lost, none twice."""
    run = actor.last_run
    before = actor.world.notes[("dropped", actor.name, name)]
    after = frames_of(device(actor, name), run.run_id)
    stayed = device(actor, reference)
    wait_for_run_end(stayed, run.run_id, actor.world.config.run_timeout, run.agent)
    _reconcile(f"the frames {actor.name}'s {name} received before ({len(before)}) and after ({len(after)}) the drop",
               list(before) + after, frames_of(stayed, run.run_id), f"the {reference} received while connected",
               f"; #0..#{len(before) - 1} before the drop, the rest after it")
    combined = list(before) + after
    checks.frames_follow_contract(combined)
    m.expect(combined, checks.lifecycle(stayed))
    m.expect(combined, m.has_matched_tool_pairs())


def replay_matches(actor: Actor, name: str) -> None:
    """A socket resuming the finished run with an id it never saw gets every frame of the run again."""
    run = actor.last_run
    reference = frames_of(device(actor, name), run.run_id)
    session = actor.new_session(Credential("bearer", actor.access_token)).open()
    session.resume(run.run_id, "msg_" + secrets.token_hex(16))
    # the run is over: its stored frames are due at once, not at the pace of a live run
    wait_for_run_end(session, run.run_id, actor.world.config.first_event_timeout, run.agent)
    _reconcile(f"replaying run {run.run_id} from an unknown message id", frames_of(session, run.run_id),
               reference, f"{actor.name}'s {name} received")


# ---- many people at once -------------------------------------------------------------------------
def _category_class(exc: BaseException) -> type[SuiteFailure]:
    category = getattr(exc, "category", None)
    return next((c for c in CATEGORY_CLASSES if c.category == category), ContractViolation)


def _all_or_fail(results: dict[str, Any], what: str) -> None:
    failures = {name: r for name, r in results.items() if isinstance(r, BaseException)}
    if failures:
        first = next(iter(failures.values()))
        listing = "\n".join(f"  {name}: {str(exc)[:600]}" for name, exc in failures.items())
        raise _category_class(first)(f"{len(failures)} of {len(results)} people failed {what}:\n{listing}")


def _in_parallel(people: Sequence[Actor], fn: Callable[[Actor], Any], timeout: float, what: str) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with ThreadPoolExecutor(max_workers=len(people), thread_name_prefix="crowd") as pool:
        futures = {p.name: pool.submit(fn, p) for p in people}
        for name, future in futures.items():
            try:
                results[name] = future.result(timeout=timeout)
            except Exception as exc:  # collected: every person's outcome is reported
                results[name] = exc
    _all_or_fail(results, what)
    return results


def crowd_signs_up(world: World, count: int) -> list[Actor]:
    if not 2 <= count <= len(CROWD_NAMES):
        raise BadExample(f"a crowd has 2..{len(CROWD_NAMES)} people, not {count}")
    people = [world.actor(name) for name in CROWD_NAMES[:count]]
    cfg = world.config
    _in_parallel(people, lambda p: p.open_chat(), cfg.request_timeout + cfg.preflight_timeout,
                 "to sign up and open the chat")
    world.notes["crowd"] = people
    return people


def crowd_asks(world: World, question: str) -> None:
    people: list[Actor] = world.notes["crowd"]
    barrier = threading.Barrier(len(people), timeout=world.config.request_timeout)
    cfg = world.config

    def ask(person: Actor) -> RunRecord:
        barrier.wait()
        return person.ask(question)

    world.notes["crowd_runs"] = _in_parallel(people, ask, cfg.first_event_timeout + 5 + cfg.run_timeout,
                                             f"to get an answer to {question!r}")


def crowd_answers_complete(world: World) -> None:
    results: dict[str, Any] = {}
    for name, run in world.notes["crowd_runs"].items():
        try:
            checks.streams_the_five_events(run)
            results[name] = checks.result_of(run)
        except SuiteFailure as exc:
            results[name] = exc
    _all_or_fail(results, "to receive a complete, well-formed answer")


def crowd_sees_only_own_runs(world: World) -> None:
    runs: dict[str, RunRecord] = world.notes["crowd_runs"]
    owners = {run.run_id: name for name, run in runs.items()}
    if len(owners) != len(runs):
        raise IsolationBreach(f"{len(runs)} people asking got only {len(owners)} distinct runs: "
                              f"{ {n: r.run_id for n, r in runs.items()} }")
    breaches = []
    for name, run in runs.items():
        foreign = [e for e in run.session.log.snapshot() if e.run_id and e.run_id != run.run_id]
        if foreign:
            whose = sorted({owners.get(e.run_id, "an unknown run") for e in foreign})
            breaches.append(f"  {name} received {len(foreign)} frame(s) of {', '.join(whose)}:\n"
                            f"{describe_events(foreign, limit=5)}")
    if breaches:
        raise IsolationBreach("a run's frames must reach only its owner's connections:\n" + "\n".join(breaches))
