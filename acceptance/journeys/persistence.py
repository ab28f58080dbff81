"""What the platform keeps: threads, their titles and pages, and every question and answer in them.

CONTRACT section 3 (threads and messages), section 5 (a run stores its user message and its final
assistant message, the result summary with the result in ``metadata.result``) and section 7
(titles, newest first). A stored answer must be the one the chat showed.
"""
from __future__ import annotations

import math
import time
from typing import Any, Callable, Iterable

from acceptance.client.chat import ChatSession, RunRecord, new_starts
from acceptance.client.events import Event, describe_events
from acceptance.client.rest import Response
from acceptance.client.waiting import WaitTimeout, wait_until
from acceptance.journeys.actors import Actor, World
from acceptance.journeys.isolation import made_up_id
from acceptance.verify import checks
from acceptance.verify.errors import BusinessOutcomeFailure, ContractViolation, SuiteFailure
from acceptance.verify.schemas import validate_body


# ---- threads --------------------------------------------------------------------------------
def focus(actor: Actor, thread_id: str) -> None:
    """Makes this the thread that "that thread" (and "<actor>'s thread") refers to in the following steps."""
    actor.thread = thread_id
    actor.world.persistence.focus = actor


def focused(world: World) -> tuple[Actor, str]:
    """The person whose thread a step last named, and that thread."""
    person = world.persistence.focus
    if person is None or person.thread is None:
        raise SuiteFailure("no step has named a thread yet")
    return person, person.thread


def thread_page(actor: Actor, limit: int, offset: int) -> dict[str, Any]:
    response = actor.thread_page(limit, offset)
    body = response.body
    if (body["limit"], body["offset"]) != (limit, offset):
        raise ContractViolation(f"a thread page must echo the limit and offset asked for ({limit}, {offset}); "
                                f"{response.evidence()}")
    return body


def all_threads(actor: Actor) -> list[dict[str, Any]]:
    return thread_page(actor, 100, 0)["threads"]


def read_pages(actor: Actor, size: int) -> list[dict[str, Any]]:
    """Every page of the actor's threads, ``size`` at a time, until the total is covered."""
    pages = [thread_page(actor, size, 0)]
    total = pages[0]["total"]
    for number in range(1, math.ceil(total / size)):
        pages.append(thread_page(actor, size, number * size))
    return pages


def expect_pages(actor: Actor, pages: list[dict[str, Any]], expected: list[list[str]], total: int) -> None:
    """Pages hold the expected titles in order (newest first), and each says the right total."""
    shown = [[t.get("title") for t in page["threads"]] for page in pages]
    totals = [page["total"] for page in pages]
    if any(t != total for t in totals):
        raise BusinessOutcomeFailure(f"every page of {actor.name}'s threads should say {total} in total; they say "
                                     f"{totals}")
    if shown != expected:
        raise BusinessOutcomeFailure(f"{actor.name}'s threads, {len(expected[0])} per page, newest first, should read "
                                     f"{expected}; the pages read {shown}")


def rename_thread(actor: Actor, thread_id: str, title: str) -> dict[str, Any]:
    response = actor.rename_thread(thread_id, title)
    thread = response.expect_json_object()
    validate_body("thread", thread)
    if thread.get("title") != title:
        raise BusinessOutcomeFailure(f"renaming a thread to {title!r} answered with title {thread.get('title')!r}; "
                                     f"{response.evidence()}")
    return thread


def expect_title(actor: Actor, thread_id: str, title: str, why: str) -> None:
    thread = actor.read_thread(thread_id)
    if thread["title"] != title:
        raise BusinessOutcomeFailure(f"{why}, the thread should be titled {title!r}; it is titled "
                                     f"{thread['title']!r} ({thread})")


def _error_shape(response: Response, sent: str):
    """Status and body, without what the request itself sent (the thread id, echoed or not)."""
    body = response.body if isinstance(response.body, (dict, list)) else response.text
    return response.status, checks.without_echoes(body, sent)


def expect_not_listed(actor: Actor, thread_id: str) -> None:
    listed = [t for t in all_threads(actor) if t.get("id") == thread_id]
    if listed:
        raise ContractViolation(f"{actor.name} deleted thread {thread_id}, but the thread list still shows it: "
                                f"{listed[0]}")


def expect_gone(actor: Actor, thread_id: str) -> None:
    """Reading a deleted thread or its messages answers exactly like reading a thread that never existed."""
    missing_id = made_up_id("thread", like=thread_id)
    for what, call in (("reading the deleted thread", lambda tid: actor.api.get_thread(tid)),
                       ("reading the deleted thread's messages", lambda tid: actor.api.messages(tid))):
        deleted, missing = call(thread_id), call(missing_id)
        if _error_shape(deleted, thread_id) != _error_shape(missing, missing_id):
            raise ContractViolation(f"{what} should answer exactly like a thread that never existed:\n"
                                    f"  deleted: {deleted.evidence()}\n  missing: {missing.evidence()}")
        checks.status_is(deleted, 404, what)


# ---- the history of a thread ----------------------------------------------------------------
def messages_of(actor: Actor, thread_id: str) -> list[dict[str, Any]]:
    """The thread's messages; the page names the thread and counts what it lists."""
    response = actor.messages_page(thread_id)
    body = response.body
    if body["thread_id"] != thread_id:
        raise ContractViolation(f"the messages of thread {thread_id} came back for thread {body['thread_id']}; "
                                f"{response.evidence()}")
    if body["total"] != len(body["messages"]) and body["total"] <= 100:
        raise ContractViolation(f"the messages page says total {body['total']} but lists {len(body['messages'])}; "
                                f"{response.evidence()}")
    return body["messages"]


def _brief(messages: list[dict[str, Any]]) -> str:
    return "; ".join(f"{m.get('role')} {str(m.get('content'))[:50]!r} run={m.get('run_id')}" for m in messages) \
        or "no messages"


def wait_for_history(actor: Actor, thread_id: str, holds: Callable[[list[dict]], bool], description: str,
                     timeout: float | None = None) -> list[dict[str, Any]]:
    """The thread's messages once ``holds`` them. A finished run's messages may land a moment after its
    terminal frame (clean-up the contract allows): waited for at most the settle timeout."""
    timeout = actor.world.config.settle_timeout if timeout is None else timeout
    latest: list[list[dict]] = [[]]

    def check():
        latest[0] = messages_of(actor, thread_id)
        return latest[0] if holds(latest[0]) else None
    try:
        return wait_until(check, timeout, description, interval=0.05, category_cls=BusinessOutcomeFailure)
    except WaitTimeout:
        raise BusinessOutcomeFailure(f"{actor.name}'s thread {thread_id} should hold {description} within "
                                     f"{timeout:g} s of the answer; it holds: {_brief(latest[0])}") from None


def _answer_of(messages: list[dict[str, Any]], run: RunRecord) -> dict[str, Any] | None:
    answers = [m for m in messages if m.get("role") == "assistant"]
    tagged = [m for m in answers if m.get("run_id") == run.run_id]
    if tagged:
        return tagged[0]
    untagged = [m for m in answers if not m.get("run_id")]
    return untagged[-1] if len(untagged) == 1 else None


def _question_of(messages: list[dict[str, Any]], run: RunRecord) -> dict[str, Any] | None:
    questions = [m for m in messages if m.get("role") == "user" and m.get("content") == run.request]
    tagged = [m for m in questions if m.get("run_id") in (None, run.run_id)]
    return tagged[0] if tagged else None


def expect_run_in_history(actor: Actor, run: RunRecord, messages: list[dict[str, Any]]) -> None:
    """The question and the answer of a completed run are in the history, as the chat showed them."""
    result = checks.result_of(run)
    question, answer = _question_of(messages, run), _answer_of(messages, run)
    if question is None:
        raise BusinessOutcomeFailure(f"{actor.name}'s question {run.request!r} is not in the history of thread "
                                     f"{run.thread_id}: {_brief(messages)}")
    if answer is None:
        raise BusinessOutcomeFailure(f"the answer to {actor.name}'s question (run {run.run_id}) is not in the history "
                                     f"of thread {run.thread_id}: {_brief(messages)}")
    if messages.index(question) > messages.index(answer):
        raise ContractViolation(f"messages are listed oldest first, but the answer precedes its question: "
                                f"{_brief(messages)}")
    stored = answer.get("metadata", {}).get("result")
    if stored != result:
        differing = sorted(k for k in set(result) | set(stored or {}) if (stored or {}).get(k) != result.get(k)) \
            if isinstance(stored, dict) else ["(no result object)"]
        raise BusinessOutcomeFailure(f"the stored answer's metadata.result differs from the result the chat showed "
                                     f"in {', '.join(differing)}:\n  chat:   {str(result)[:400]}\n"
                                     f"  stored: {str(stored)[:400]}")
    if answer.get("content") != result.get("summary"):
        raise BusinessOutcomeFailure(f"the stored answer should read the result's summary {result.get('summary')!r}, "
                                     f"it reads {answer.get('content')!r}")


def expect_chat_shows_same_history(actor: Actor, thread_id: str, messages: list[dict[str, Any]],
                                   timeout: float) -> None:
    """Asking the chat for the thread gives the same messages as the API."""
    event = actor.chat.get_thread(thread_id, timeout)
    checks.frames_follow_contract([event])
    if event.type != "thread_data":
        raise ContractViolation(f"{actor.name} asked the chat for her own thread {thread_id} and was refused: "
                                f"{event.compact()} {event.data}")
    shown = event.data.get("messages")
    key = lambda m: (m.get("id"), m.get("role"), m.get("content"), m.get("run_id"))  # noqa: E731
    if [key(m) for m in shown] != [key(m) for m in messages]:
        raise BusinessOutcomeFailure(f"the chat shows thread {thread_id} differently from the API:\n  chat: "
                                     f"{_brief(shown)}\n  API:  {_brief(messages)}")
    stored = {m.get("id"): m.get("metadata") for m in messages}
    for m in shown:
        if m.get("metadata") != stored.get(m.get("id")):
            raise BusinessOutcomeFailure(f"message {m.get('id')} carries different metadata in the chat and in the "
                                         f"API:\n  chat: {str(m.get('metadata'))[:300]}\n  API:  "
                                         f"{str(stored.get(m.get('id')))[:300]}")


# ---- several windows writing to one thread --------------------------------------------------
def open_windows(actor: Actor, count: int) -> list[ChatSession]:
    actor.ensure_account()
    return [actor.open_chat() for _ in range(count)]


def ask_in_windows(actor: Actor, thread_id: str, questions: list[str], timeout: float,
                   run_timeout: float) -> dict[str, list[RunRecord]]:
    """Each open window sends one of the questions into the thread at once; every window follows
    every resulting run to its end (all of a user's open windows receive all of their runs).
    Returns the runs as each window saw them, by window name."""
    windows = [s for s in actor.chats if s.is_open][:len(questions)]
    if len(windows) < len(questions):
        raise ContractViolation(f"{actor.name} has {len(windows)} open chat windows, {len(questions)} are needed")
    marks = {w.name: (len(w.log), set(w.runs)) for w in windows}
    sent_at = time.monotonic()
    for window, question in zip(windows, questions):
        window.send_start(question, thread_id=thread_id)
    seen: dict[str, list[RunRecord]] = {}
    for window in windows:
        mark, known = marks[window.name]

        def new_runs(evs: list[Event], mark=mark, known=known):
            errors = [e for e in evs[mark:] if e.type == "error"]
            if errors:
                return errors
            starts = new_starts(evs[mark:], known)
            return starts if len(starts) >= len(questions) else None

        found = window.wait_for(new_runs, timeout, f"the start of all {len(questions)} questions asked at once in {actor.name}'s windows (every open window of a "
                                f"user receives every run of theirs)")
        if found[0].type == "error":
            raise ContractViolation(f"{actor.name}'s question in her own thread was refused on {window.name}: "
                                    f"{found[0].compact()} {found[0].data}")
        seen[window.name] = [window.adopt(started, "", sent_at) for started in found]
    actor.runs.extend(seen[windows[0].name])
    for records in seen.values():
        for run in records:
            run.session.wait_for_end(run, run_timeout)
    return seen


def expect_every_window_saw_every_answer(actor: Actor, seen: dict[str, list[RunRecord]], thread_id: str) -> None:
    run_sets = {name: {r.run_id for r in runs} for name, runs in seen.items()}
    first = next(iter(run_sets.values()))
    if any(ids != first for ids in run_sets.values()):
        raise ContractViolation(f"every open window of {actor.name} must receive every run of hers; the windows saw "
                                f"{run_sets}")
    for runs in seen.values():
        for run in runs:
            checks.streams_the_five_events(run)
            if run.thread_id != thread_id:
                raise ContractViolation(f"a question asked in thread {thread_id} ran in thread {run.thread_id}:\n"
                                        f"{describe_events(run.events)}")


def expect_history_of_questions(actor: Actor, thread_id: str, questions: list[str], runs: list[RunRecord]) -> None:
    """Every question and every answer is in the thread once, each answer after its own question."""
    n = len(questions)
    messages = wait_for_history(
        actor, thread_id, lambda ms: sum(m.get("role") == "assistant" for m in ms) >= n,
        f"{n} questions and {n} answers")
    asked = sorted(m.get("content") for m in messages if m.get("role") == "user")
    answers = [m for m in messages if m.get("role") == "assistant"]
    if asked != sorted(questions) or len(answers) != n or len(messages) != 2 * n:
        raise BusinessOutcomeFailure(f"thread {thread_id} should hold the {n} questions {questions} and {n} answers, "
                                     f"nothing lost and nothing twice; it holds: {_brief(messages)}")
    results = {run.run_id: checks.result_of(run) for run in runs}
    for run_id, result in results.items():
        tagged = [m for m in messages if m.get("run_id") == run_id]
        if not tagged:
            continue  # run ids on messages are optional
        roles = [m.get("role") for m in tagged]
        if roles != ["user", "assistant"]:
            raise BusinessOutcomeFailure(f"run {run_id} should leave its question, then its answer, in the thread; "
                                         f"its messages are {roles}: {_brief(messages)}")
        if tagged[1].get("metadata", {}).get("result") != result:
            raise BusinessOutcomeFailure(f"the stored answer of run {run_id} differs from the result the chat showed: "
                                         f"{str(tagged[1].get('metadata'))[:400]}")
    thread = actor.read_thread(thread_id)
    if thread["message_count"] != 2 * n:
        raise BusinessOutcomeFailure(f"thread {thread_id} should count {2 * n} messages, it says "
                                     f"{thread['message_count']}")


def titles(threads: Iterable[dict[str, Any]]) -> list[str]:
    return [t.get("title") for t in threads]
