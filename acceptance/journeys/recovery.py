"""Recovery and resilience journeys (CONTRACT sections 4, 5 and 7): malformed client frames, oversize
frames, a platform restart, and runs that outlive their socket.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

import parse

from acceptance.client.chat import ChatSession, RunRecord
from acceptance.client.events import Event, describe_events
from acceptance.client.waiting import wait_until
from acceptance.journeys.actors import Actor, World
from acceptance.journeys.realtime import ScenarioSetupFailure
from acceptance.journeys.state import SentFrame
from acceptance.verify import checks, money
from acceptance.verify.errors import (
    BusinessOutcomeFailure,
    ConfigurationMissing,
    ContractViolation,
    InfrastructureFailure,
)
from acceptance.verify.schemas import validate_body

ANSWERS = ("error", "pong", "agent_started", "thread_data")


def _start(payload: dict[str, Any]) -> Callable[[ChatSession], float]:
    return lambda session: session.send("start_agent", payload)


# What a buggy client or a mangled network may send, as a product owner names it.
BAD_MESSAGES: dict[str, Callable[[ChatSession], float]] = {
    "text that is not JSON": lambda s: s.send_raw("How can my team spend less? {this is not JSON"),
    "a list instead of an object": lambda s: s.send_raw(json.dumps([{"type": "ping", "payload": {"nonce": "n"}}])),
    "an unknown kind of message": lambda s: s.send("order_pizza", {"size": "large"}),
    "a question with no text": _start({"user_request": ""}),
    "a question longer than 8,000 characters": _start({"user_request": "Why? " + "x" * 7996}),
    "a question for an agent that does not exist": _start({"user_request": "How can my team spend less on AI?",
                                                           "agent": "fortune_teller"}),
    "a binary frame that is not UTF-8": lambda s: s.send_raw(b"\xff\xfe\x80 not text \xc3\x28"),
}


@parse.with_pattern("|".join(re.escape(k) for k in sorted(BAD_MESSAGES, key=len, reverse=True)))
def bad_message(text: str) -> str:
    """Gherkin type ``{case:BadMessage}``: one of the malformed messages above."""
    return text


# ---- malformed input -----------------------------------------------------------------------
def send_bad_message(actor: Actor, case: str) -> SentFrame:
    session = actor.chat
    mark = len(session.log)
    BAD_MESSAGES[case](session)
    return SentFrame(session, mark, case)


def answered_with_error(actor: Actor, sent: SentFrame, code: str) -> Event:
    """The first answer to the bad message is an ``error`` frame with ``code`` and a readable message."""
    session, mark, case = sent.chat, sent.mark, sent.what
    answer = session.first_after(mark, lambda e: e.type in ANSWERS, actor.world.config.first_event_timeout,
                                 f"the answer to {case}")
    if answer.type != "error":
        raise ContractViolation(f"{case} should be answered with the error {code}; the platform answered "
                                f"{answer.compact()}:\n{describe_events(session.log.snapshot()[mark:])}")
    checks.frames_follow_contract([answer])
    if answer.data.get("code") != code:
        raise ContractViolation(f"{case} should be answered with the error code {code}, not "
                                f"{answer.data.get('code')!r}: {answer.raw}")
    message = answer.data.get("message")
    if not isinstance(message, str) or not message.strip():
        raise ContractViolation(f"the error answering {case} should explain itself in data.message: {answer.raw}")
    if not session.is_open:
        raise ContractViolation(f"{case} must not close the connection; it closed with {session.log.closed}")
    return answer


def still_answers_questions(actor: Actor, sent: SentFrame, question: str) -> RunRecord:
    """A real question completes, and the bad message started no run of its own."""
    session, mark, case = sent.chat, sent.mark, sent.what
    run = actor.ask(question)
    checks.streams_the_five_events(run)
    checks.result_of(run)
    stray = [e for e in session.log.snapshot()[mark:] if e.run_id and e.run_id != run.run_id]
    if stray:
        raise ContractViolation(f"{case} was refused, yet frames of another run arrived:\n{describe_events(stray)}")
    return run


# ---- oversize frames --------------------------------------------------------------------------
def announced_limit(session: ChatSession) -> int:
    welcome = session.handshake.welcome if session.handshake else None
    limit = welcome.data.get("max_message_bytes") if welcome else None
    if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
        raise ContractViolation(f"connection_established should announce max_message_bytes as a positive whole "
                                f"number: {welcome.raw if welcome else 'no welcome frame'}")
    return limit


def send_oversize(actor: Actor) -> SentFrame:
    """A well-formed ping one byte over the announced limit."""
    session = actor.chat
    limit = announced_limit(session)
    empty = json.dumps({"type": "ping", "payload": {"nonce": ""}})
    frame = json.dumps({"type": "ping", "payload": {"nonce": "x" * (limit + 1 - len(empty))}})
    mark = len(session.log)
    session.send_raw(frame, record=f"<ping frame of {len(frame.encode())} bytes; limit {limit}>")
    size = len(frame.encode())
    return SentFrame(session, mark, f"a {size}-byte frame (limit {limit})", size=size, limit=limit)


def closed_as_too_big(actor: Actor, sent: SentFrame, code: int) -> None:
    session, mark, size, limit = sent.chat, sent.mark, sent.size, sent.limit
    def answer(evs: list[Event]) -> str | None:  # an answer proves the frame was processed, not refused
        first = next((e for e in evs[mark:] if e.type in ANSWERS), None)
        return f"the frame was answered with {first.compact()}" if first else None
    closed = session.log.wait_for(lambda _evs: session.log.closed, actor.world.config.first_event_timeout,
                                  f"{session.name} to close after a {size}-byte frame (limit {limit})",
                                  fail_on_close=False, settled=answer)
    answered = [e for e in session.log.snapshot()[mark:] if e.type in ANSWERS]
    if closed.code != code or answered:
        raise ContractViolation(f"a {size}-byte frame over the announced {limit}-byte limit should close the "
                                f"connection with {code} unanswered; it closed with {closed}"
                                + (f" after answering:\n{describe_events(answered)}" if answered else ""))


# ---- platform restart --------------------------------------------------------------------------
def restart_platform(world: World) -> None:
    """Restarts the embedded platform on the same port and database; old connections must close."""
    if world.platform is None:
        raise ConfigurationMissing(
            "this scenario restarts the platform, which the suite can only do with the embedded reference "
            "platform; against a remote target exclude it with --tags='not @embedded-only'")
    world.platform.restart()
    for session in world.all_chats():
        if session.ws is not None:
            session.log.wait_closed(world.config.preflight_timeout, f"{session.name} to close with the restart",
                                    category_cls=InfrastructureFailure)
    someone = next(iter(world.actors.values()))
    health = someone.api.health().expect_status(200, category=InfrastructureFailure,
                                                what="the health check after the restart")
    if not isinstance(health.body, dict) or health.body.get("status") != "healthy":
        raise InfrastructureFailure(f"the platform is not healthy after its restart: {health.evidence()}")


def conversation_survived(actor: Actor, run: RunRecord) -> None:
    """The thread is still listed and holds the question and the stored result the user saw live."""
    listing = actor.thread_page(limit=100)
    if run.thread_id not in [t["id"] for t in listing.body["threads"]]:
        raise BusinessOutcomeFailure(f"{actor.name}'s conversation {run.thread_id} is no longer listed: "
                                     f"{listing.evidence()}")
    stored = stored_answer(actor, run)
    if stored is None:
        raise BusinessOutcomeFailure(f"the answer of run {run.run_id} is no longer stored in thread {run.thread_id}")
    live = checks.result_of(run)
    kept = stored["metadata"]["result"]
    for key in ("summary", "data_sufficiency"):
        if kept.get(key) != live.get(key):
            raise BusinessOutcomeFailure(f"the stored result's {key} {kept.get(key)!r} differs from the one "
                                         f"{actor.name} saw live: {live.get(key)!r}")
    saw = (live.get("cost_optimization") or {}).get("potential_savings")
    has = (kept.get("cost_optimization") or {}).get("potential_savings")
    if saw != has:
        raise BusinessOutcomeFailure(f"the stored savings {has} differ from those {actor.name} saw live: {saw}")


def stored_answer(actor: Actor, run: RunRecord) -> dict | None:
    """The run's question and answer in its thread: the answer message, or None while it is missing."""
    page = actor.messages_page(run.thread_id, limit=None)
    messages = page.body["messages"]
    asked = next((i for i, msg in enumerate(messages) if msg["role"] == "user" and msg["content"] == run.request
                  and msg.get("run_id") in (None, run.run_id)), None)
    if asked is None:
        raise BusinessOutcomeFailure(f"{actor.name}'s question {run.request!r} is not in thread {run.thread_id}: "
                                     f"{page.evidence()}")
    answer = next((msg for msg in messages[asked + 1:] if msg["role"] == "assistant"
                   and msg.get("run_id") in (None, run.run_id)), None)
    if answer is None:
        return None
    result = answer["metadata"].get("result")
    if not isinstance(result, dict):
        raise ContractViolation(f"the stored answer should carry the run's result in metadata.result: {answer}")
    schema = checks.RESULT_SCHEMAS.get(run.agent)
    if schema:
        validate_body(schema, result)
    if answer["content"] != result.get("summary"):
        raise ContractViolation(f"the stored answer's text should be the result summary "
                                f"{result.get('summary')!r}, it is {answer['content']!r}")
    return answer


# ---- runs outliving their socket ------------------------------------------------------------------
def close_mid_run(actor: Actor) -> None:
    run = actor.last_run
    run.session.close()
    if run.terminal is not None:
        raise ScenarioSetupFailure(f"run {run.run_id} had already ended when {actor.name} closed the chat, so the "
                                   f"close interrupted nothing")


def answer_stored_later(actor: Actor) -> None:
    run, cfg = actor.last_run, actor.world.config
    # The run goes on without a socket. Follow it on a new one (resume_run) until it ends, so that a run
    # that failed, or a platform that never answers, is seen at once rather than after the run timeout;
    # then its answer may take the settle timeout to land in the history.
    follower = actor.open_chat()
    follower.resume(run.run_id, None)
    end = follower.follow(run.run_id, run.agent, cfg.run_timeout)
    if end.type != "agent_completed":
        raise ContractViolation(f"run {run.run_id} should complete after its socket closed; following it with "
                                f"resume_run gave {end.compact()} {str(end.data)[:300]}")
    answer = wait_until(lambda: stored_answer(actor, run), cfg.settle_timeout,
                        f"the answer of run {run.run_id} in {actor.name}'s conversation history within "
                        f"{cfg.settle_timeout:g} s of its end", interval=0.05)
    result = answer["metadata"]["result"]
    cost = money.cost_part(result, run.agent)
    if not isinstance(cost, dict):
        raise ContractViolation(f"the stored result carries no cost optimisation: {str(result)[:400]}")
    checks.savings_are_honest(cost)


def still_answers_after_reconnect(actor: Actor, question: str) -> RunRecord:
    """A new connection (the old ones are gone) completes a new question."""
    session = actor.open_chat()
    run = actor.ask(question)
    if run.session is not session:
        raise ScenarioSetupFailure(f"{actor.name}'s question went to {run.session.name}, not the new connection "
                                   f"{session.name}")
    checks.streams_the_five_events(run)
    checks.result_of(run)
    return run
