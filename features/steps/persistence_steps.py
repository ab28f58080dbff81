"""Threads and their history: coming back later, several windows, titles, pages, renaming, deleting.

Logic lives in ``acceptance.journeys.persistence``; each step is one line of business language.
The thread a scenario talks about ("that thread", "the thread") is the last one a step named.
"""
import re

from behave import given, then, when

from acceptance.journeys import isolation, persistence
from acceptance.verify import checks
from acceptance.verify.errors import ContractViolation


def _focus(context, actor, thread_id: str) -> None:
    persistence.focus(context.world.actor(actor), thread_id)


def _focused(context):
    return persistence.focused(context.world)


# ---- threads with a history ---------------------------------------------------------------
@given('{actor:Name} has a thread started by the question "{question}"')
def step_thread_started_by_question(context, actor, question):
    """The person asks a question in a new thread and gets the answer; the thread is kept as it is now."""
    person = context.world.actor(actor)
    run = person.ask(question)
    person.threads[question] = run.thread_id
    messages = persistence.wait_for_history(person, run.thread_id, lambda ms: len(ms) >= 2,
                                            "the question and its answer")
    persistence.expect_run_in_history(person, run, messages)
    _focus(context, actor, run.thread_id)
    person.snapshots[run.thread_id] = isolation.thread_snapshot(person, run.thread_id)


@given('{actor:Name} has an empty thread titled "{title}"')
def step_empty_thread(context, actor, title):
    """The person creates a thread with that title and no messages yet."""
    thread = context.world.actor(actor).create_thread(title)
    _focus(context, actor, thread["id"])


@given("{actor:Name} has created threads titled {titles}, in that order")
def step_created_threads(context, actor, titles):
    """The person creates one thread per quoted title, one after the other."""
    person = context.world.actor(actor)
    for title in re.findall(r'"([^"]+)"', titles):
        person.create_thread(title)


@when("{actor:Name} creates a thread without a title")
def step_untitled_thread(context, actor):
    """The person creates a thread without giving it a title."""
    thread = context.world.actor(actor).create_thread()
    _focus(context, actor, thread["id"])


# ---- coming back later --------------------------------------------------------------------
@when("{actor:Name} closes the chat and signs out")
def step_close_and_sign_out(context, actor):
    """The person closes every chat window and signs out."""
    person = context.world.actor(actor)
    person.close_chats()
    person.sign_out()


@when("{actor:Name} signs in again with {pronoun} password and opens the chat")
def step_sign_in_again(context, actor, pronoun):
    """The person signs in with their password (a new login) and opens the chat."""
    person = context.world.actor(actor)
    person.sign_in()
    person.open_chat()


@then("{actor:Name} finds the thread of {pronoun} question in {pronoun2} thread list")
def step_finds_thread(context, actor, pronoun, pronoun2):
    """The thread of the person's last question is in their thread list."""
    person = context.world.actor(actor)
    thread_id = person.last_run.thread_id
    listed = [t["id"] for t in persistence.all_threads(person)]
    if thread_id not in listed:
        raise ContractViolation(f"{actor}'s thread {thread_id} (of her question {person.last_run.request!r}) is not "
                                f"in her thread list, which holds {listed}")
    _focus(context, actor, thread_id)


@then("the thread holds {pronoun} question and the answer, with the same result the chat showed")
def step_history_holds_run(context, pronoun):
    """The thread's history holds the question and the answer whose stored result is the one the chat showed."""
    person, thread_id = _focused(context)
    messages = persistence.wait_for_history(person, thread_id, lambda ms: len(ms) >= 2, "the question and its answer")
    persistence.expect_run_in_history(person, person.last_run, messages)


@then("the chat shows {pronoun} the same history of that thread")
def step_chat_shows_history(context, pronoun):
    """Asking the chat for the thread gives the same messages as the thread's history."""
    person, thread_id = _focused(context)
    persistence.expect_chat_shows_same_history(person, thread_id, persistence.messages_of(person, thread_id),
                                               context.target.first_event_timeout)


# ---- several windows ----------------------------------------------------------------------
@given("{actor:Name} has the chat open in {n:Count} windows")
def step_windows(context, actor, n):
    """The person has that many chat connections open at once."""
    persistence.open_windows(context.world.actor(actor), n)


@when('{actor:Name} asks "{first}" in one window and "{second}" in the other, in that thread at the same moment')
def step_ask_in_two_windows(context, actor, first, second):
    """Each window sends its question into the thread at the same moment; every window follows both runs."""
    person, thread_id = _focused(context)
    state = context.world.persistence
    state.questions = [first, second]
    state.windows = persistence.ask_in_windows(
        person, thread_id, [first, second], context.target.first_event_timeout + 5, context.target.run_timeout)


@then("both windows show both answers complete")
def step_both_windows_complete(context):
    """Every window received every run of the person, complete and well formed."""
    person, thread_id = _focused(context)
    persistence.expect_every_window_saw_every_answer(person, context.world.persistence.windows, thread_id)


@then("the thread holds both questions and both answers, each answer after its own question")
def step_thread_holds_both(context):
    """The history holds each question and each answer once, every answer after its own question."""
    person, thread_id = _focused(context)
    state = context.world.persistence
    persistence.expect_history_of_questions(person, thread_id, state.questions, next(iter(state.windows.values())))


# ---- listing, titles, renaming ------------------------------------------------------------
@when("{actor:Name} lists {pronoun} threads {n:Count} at a time")
def step_list_pages(context, actor, pronoun, n):
    """The person reads their thread list page by page, n threads per page."""
    state, person = context.world.persistence, context.world.actor(actor)
    state.reader, state.pages = person, persistence.read_pages(person, n)


@then("{pronoun} sees these pages, each saying {pronoun2} has {total:Count} threads in total")
def step_pages(context, pronoun, pronoun2, total):
    """Each page lists the titles of the table (newest first) and the total number of threads."""
    state = context.world.persistence
    expected = [[t.strip() for t in row["titles"].split(",")] for row in context.table]
    persistence.expect_pages(state.reader, state.pages, expected, total)


@when('{actor:Name} renames "{old}" to "{new}"')
def step_rename(context, actor, old, new):
    """The person gives one of their threads a new title."""
    person = context.world.actor(actor)
    persistence.rename_thread(person, person.threads[old], new)
    _focus(context, actor, person.threads[old])


@then('{pronoun} thread list shows "{new}" in place of "{old}"')
def step_list_shows_new_title(context, pronoun, new, old):
    """The renamed thread keeps its place in the list under its new title; the old title is gone."""
    person, thread_id = _focused(context)
    threads = persistence.all_threads(person)
    mine = [t for t in threads if t["id"] == thread_id]
    titles = persistence.titles(threads)
    if not mine or mine[0]["title"] != new or old in titles:
        raise ContractViolation(f"after renaming {old!r} to {new!r}, {person.name}'s thread list should show the new "
                                f"title for thread {thread_id} and the old one nowhere; it shows {titles}")


@then('the renamed thread, read on its own, is titled "{title}"')
def step_renamed_read_alone(context, title):
    """Reading the renamed thread by its id gives the new title."""
    person, thread_id = _focused(context)
    persistence.expect_title(person, thread_id, title, "after the rename")


@then('that thread is titled "{title}" in {pronoun} thread list and when read on its own')
def step_thread_titled(context, title, pronoun):
    """The thread carries that title both in the list and when read by its id."""
    person, thread_id = _focused(context)
    listed = [t for t in persistence.all_threads(person) if t["id"] == thread_id]
    if not listed or listed[0]["title"] != title:
        raise ContractViolation(f"{person.name}'s thread list should show thread {thread_id} titled {title!r}; it "
                                f"shows {listed[0] if listed else 'no such thread'}")
    persistence.expect_title(person, thread_id, title, "read on its own")


@then('the thread of {actor:Name}\'s question is titled "{title}"')
def step_question_thread_title(context, actor, title):
    """The thread a question created is titled with the question's first 60 characters."""
    person = context.world.actor(actor)
    persistence.expect_title(person, person.last_run.thread_id, title,
                             f"created by the question {person.last_run.request!r}")


# ---- deleting -----------------------------------------------------------------------------
@when("{actor:Name} deletes that thread")
def step_delete(context, actor):
    """The person deletes the thread."""
    person, thread_id = _focused(context)
    person.delete_thread(thread_id)


@then("that thread is no longer in {pronoun} thread list")
def step_not_listed(context, pronoun):
    """The deleted thread is not in the person's thread list."""
    person, thread_id = _focused(context)
    persistence.expect_not_listed(person, thread_id)


@then("reading that thread or its messages answers exactly as for a thread that never existed")
def step_deleted_like_missing(context):
    """Reading the deleted thread or its messages answers exactly like a made-up thread id."""
    person, thread_id = _focused(context)
    persistence.expect_gone(person, thread_id)


@then("asking a question in that thread is refused because the thread does not exist")
def step_ask_in_deleted(context):
    """A question sent into the deleted thread is refused with THREAD_NOT_FOUND."""
    person, thread_id = _focused(context)
    outcome = person.start("Is anything left here?", thread_id=thread_id)
    checks.start_refused(outcome, "THREAD_NOT_FOUND", f"{person.name}'s question in her deleted thread")
