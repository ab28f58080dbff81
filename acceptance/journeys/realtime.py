"""Realtime journeys (CONTRACT sections 4, 5 and 7): the live stream of a run, its timing, keep-alive,
ordering across questions, resuming after a dropped connection, several devices, many users at once.

Steps call these functions; each check states what was expected, what happened and the frames that
show it, and fails in the category that names the cause.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Sequence

from acceptance.client.chat import TOP_TERMINALS, ChatSession, RunRecord
from acceptance.client.events import CONTROL_EVENT_TYPES, Event, describe_events
from acceptance.client.waiting import wait_until
from acceptance.journeys.actors import Actor, World, ask_together, fail_with_all, together
from acceptance.journeys.state import Device, SentFrame
from acceptance.journeys.usage_data import BadExample, iso
from acceptance.verify import checks, matchers as m
from acceptance.verify.errors import BusinessOutcomeFailure, ContractViolation, IsolationBreach, SuiteFailure

SUPERVISOR = "supervisor"
LONG_HISTORY_MODEL, LONG_HISTORY_TASK = "gpt-4o-mini", "summarization"
CROWD_NAMES = ("Ava", "Ben", "Cleo", "Dan", "Eve", "Finn", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lena", "Milo",
               "Nora", "Omar", "Pia", "Quin", "Rosa", "Sami", "Tess", "Uma", "Vik", "Wren", "Xena", "Yara", "Zoe")


class ScenarioSetupFailure(SuiteFailure):
    """The scenario could not bring about the situation it is about (not a verdict on the platform)."""


# ---- frames of a run ----------------------------------------------------------------------
def _top_terminal(events: Iterable[Event], run_id: str, agent: str) -> Event | None:
    return next((e for e in events if e.run_id == run_id and e.type in TOP_TERMINALS and e.agent_name == agent), None)


def wait_for_run_end(session: ChatSession, run_id: str, timeout: float, agent: str = SUPERVISOR) -> Event:
    """The run's terminal frame on this socket; an ``error`` frame about the run fails at once."""
    end = session.follow(run_id, agent, timeout)
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
    frames = [e for chat in actor.chats for e in chat.log.snapshot()]
    if not frames:
        raise ContractViolation(f"{actor.name} received no frame at all on {len(actor.chats)} connection(s)")
    checks.frames_follow_contract(frames)


def first_event_within(run: RunRecord, seconds: float) -> None:
    took = run.first_event_s
    if took > seconds:
        raise ContractViolation(f"agent_started of run {run.run_id} arrived {took:.2f} s after the question; the "
                                f"service level is {seconds:g} s: {run.started.compact()}")


# ---- keep-alive -----------------------------------------------------------------------------
def send_keepalive(actor: Actor) -> SentFrame:
    """A keep-alive ping on the actor's chat, for :func:`keepalive_answered`."""
    return actor.send_ping(actor.chat, "keepalive")


def keepalive_answered(sent: SentFrame, timeout: float) -> Event:
    """The first pong after the ping must echo its nonce and follow the pong schema."""
    session, nonce = sent.chat, sent.nonce
    pong = session.first_after(sent.mark, lambda e: e.type in ("pong", "error"), timeout,
                               f"a pong for {sent.what}")
    if pong.type != "pong":
        raise ContractViolation(f"a ping with nonce {nonce!r} was answered with {pong.compact()}")
    checks.frames_follow_contract([pong])
    if pong.data.get("nonce") != nonce:
        raise ContractViolation(f"the pong should echo nonce {nonce!r}, it carries {pong.data.get('nonce')!r}: "
                                f"{pong.raw}")
    return pong


def check_alive(actor: Actor, timeout: float) -> Event:
    return keepalive_answered(send_keepalive(actor), timeout)


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
        messages = actor.messages_page(thread_id, limit=None).body["messages"]
        return messages if len(messages) >= len(expected) else None

    messages = wait_until(page, timeout, f"{len(expected)} messages in thread {thread_id}", interval=0.05)
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
    actor.share_usage([{"timestamp": iso(now - timedelta(days=1 + i % 10, minutes=i % 720)),
                        "model": LONG_HISTORY_MODEL, "task": LONG_HISTORY_TASK, "input_tokens": 400,
                        "output_tokens": 80} for i in range(records)])


# ---- devices: several sockets of one person -----------------------------------------------------
def open_on_devices(actor: Actor, names: Sequence[str]) -> None:
    for name in names:
        actor.devices[name] = Device(chat=actor.open_chat())


def device(actor: Actor, name: str) -> Device:
    found = actor.devices.get(name)
    if found is None or found.chat is None:
        raise BadExample(f"{actor.name} has no {name} in this scenario; open it first "
                         f"('{actor.name} has the chat open on her {name} and her …')")
    return found


def start_on(actor: Actor, name: str, question: str) -> RunRecord:
    return actor.start_run(question, device(actor, name).chat)


def ask_on(actor: Actor, name: str, question: str) -> RunRecord:
    return actor.ask(question, device(actor, name).chat)


def same_frames_on(actor: Actor, name: str, reference: str) -> None:
    """The run shows up on device ``name`` exactly as on ``reference``: same frames, ids and order."""
    run = actor.last_run
    timeout = actor.world.config.run_timeout
    ours, theirs = device(actor, name).chat, device(actor, reference).chat
    wait_for_run_end(ours, run.run_id, timeout, run.agent)
    wait_for_run_end(theirs, run.run_id, timeout, run.agent)
    mine, other = ours.frames_of(run.run_id), theirs.frames_of(run.run_id)
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
    run, dropping = actor.last_run, device(actor, name)
    session = dropping.chat
    session.wait_for(lambda evs: any(e.run_id == run.run_id and under_way(e) for e in evs),
                     actor.world.config.run_timeout, what)
    session.close()
    before = session.frames_of(run.run_id)
    if _top_terminal(before, run.run_id, run.agent) is not None:
        raise ScenarioSetupFailure(f"run {run.run_id} had already ended when {actor.name}'s {name} dropped, so the "
                                   f"drop interrupted nothing; give the run more usage to analyse")
    dropping.before_drop = before


def _dropped(actor: Actor, name: str) -> Device:
    dropped = device(actor, name)
    if not dropped.before_drop:
        raise BadExample(f"{actor.name}'s {name} has not lost its connection in this scenario")
    return dropped


def data_analysis_under_way(event: Event) -> bool:
    return event.agent_name == "data_analysis" and event.type == "agent_thinking"


def reconnect_and_resume(actor: Actor, name: str) -> None:
    """A new socket for the device that resumes the run after the last frame it had received."""
    run, dropped = actor.last_run, _dropped(actor, name)
    session = dropped.chat = actor.open_chat()
    session.resume(run.run_id, dropped.before_drop[-1].message_id)
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
    run, dropped = actor.last_run, _dropped(actor, name)
    before, after = dropped.before_drop, dropped.chat.frames_of(run.run_id)
    stayed = device(actor, reference).chat
    wait_for_run_end(stayed, run.run_id, actor.world.config.run_timeout, run.agent)
    _reconcile(f"the frames {actor.name}'s {name} received before ({len(before)}) and after ({len(after)}) the drop",
               list(before) + after, stayed.frames_of(run.run_id), f"the {reference} received while connected",
               f"; #0..#{len(before) - 1} before the drop, the rest after it")
    combined = list(before) + after
    checks.frames_follow_contract(combined)
    m.expect(combined, checks.lifecycle(stayed))
    m.expect(combined, m.has_matched_tool_pairs())


def replay_matches(actor: Actor, name: str) -> None:
    """A socket resuming the finished run with an id it never saw gets every frame of the run again."""
    run = actor.last_run
    reference = device(actor, name).chat.frames_of(run.run_id)
    session = actor.open_chat()
    session.resume(run.run_id, "msg_" + secrets.token_hex(16))
    # the run is over: its stored frames are due at once, not at the pace of a live run
    wait_for_run_end(session, run.run_id, actor.world.config.first_event_timeout, run.agent)
    _reconcile(f"replaying run {run.run_id} from an unknown message id", session.frames_of(run.run_id),
               reference, f"{actor.name}'s {name} received")


# ---- many people at once -------------------------------------------------------------------------
def crowd_signs_up(world: World, count: int) -> list[Actor]:
    if not 2 <= count <= len(CROWD_NAMES):
        raise BadExample(f"a crowd has 2..{len(CROWD_NAMES)} people, not {count}")
    people = [world.actor(name) for name in CROWD_NAMES[:count]]
    cfg = world.config
    together({p.name: p.open_chat for p in people}, cfg.request_timeout + cfg.preflight_timeout,
             "to sign up and open the chat")
    world.realtime.crowd = people
    return people


def crowd_asks(world: World, question: str) -> None:
    world.asked_together = ask_together(world, [(p.name, question, None) for p in world.realtime.crowd])


def crowd_answers_complete(world: World) -> None:
    failures: dict[str, BaseException] = {}
    for name, run in world.asked_together.items():
        try:
            checks.streams_the_five_events(run)
            checks.result_of(run)
        except SuiteFailure as exc:
            failures[name] = exc
    fail_with_all(failures, len(world.asked_together), "to receive a complete, well-formed answer")


def crowd_sees_only_own_runs(world: World) -> None:
    runs = world.asked_together
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
