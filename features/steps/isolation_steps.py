"""Several people at once: concurrent questions, private threads, questions and usage, fair-use limits.

Logic lives in ``acceptance.journeys.isolation``; each step is one line of business language.
"""
from behave import given, then, when

from acceptance.journeys import isolation
from acceptance.journeys.actors import ask_together
from acceptance.journeys.gherkin_types import AGENTS
from acceptance.verify.money import parse as money
from acceptance.verify.errors import SuiteFailure

FLOOD_QUESTION = "What can we save this week?"


def _rows(context):
    return [dict(zip(context.table.headings, row.cells)) for row in context.table]


def _timeout(context) -> float:
    return context.target.first_event_timeout


def _probe(context, probe):
    context.world.isolation.probe = probe


def _thread_of(context, owner):
    """The thread of ``owner`` that a step last named."""
    return context.world.actor(owner).thread


# ---- sharing usage ------------------------------------------------------------------------
@given("these people have shared their usage and opened the chat")
def step_people_shared_usage(context):
    """Each person in the table signs up, shares the usage of their rows and opens the chat."""
    for name in isolation.share_usage_rows(context.world, _rows(context)):
        context.world.actor(name).open_chat()


@given("these teams have shared their monthly spend and opened the chat")
def step_teams_shared_spend(context):
    """Each person in the table signs up, shares a month of spend on one model for one task, and opens the chat."""
    for row in _rows(context):
        person = context.world.actor(row["person"].strip())
        person.share_spend(row["model"].strip(), row["task"].strip(), row["monthly spend"])
        person.open_chat()


# ---- asking at the same moment ------------------------------------------------------------
@when("they ask these agents at the same moment")
def step_ask_agents_together(context):
    """Each person in the table asks their agent their question, all at the same moment."""
    asks = [(row["person"].strip(), row["question"], AGENTS[row["agent"].strip()]) for row in _rows(context)]
    context.world.asked_together = ask_together(context.world, asks)


@when('{people:Names} ask the {agent:Agent} agent "{question}" at the same moment')
def step_people_ask_together(context, people, agent, question):
    """Several people ask the same agent the same question at the same moment, each on their own chat."""
    context.world.asked_together = ask_together(context.world, [(p, question, agent) for p in people])


@then("each of them received the frames of their own question and of nobody else's")
def step_only_own_frames(context):
    """No frame of anybody else's run or thread reached anyone's chat, and everyone's own runs reach their end."""
    for actor in context.world.actors.values():
        isolation.expect_received_own_runs(actor, context.target.run_timeout)
    for actor in context.world.actors.values():
        isolation.expect_only_own_frames(context.world, actor)


@then("each answer describes only that person's own usage")
def step_answers_about_own_usage(context):
    """Every answer lists exactly the models and request counts its asker shared."""
    for name, run in context.world.asked_together.items():
        isolation.expect_answer_about_own_usage(context.world, name, run)


@then("each team is told the saving of their own spend")
def step_each_team_saving(context):
    """Each person's answer counts their own spend and names the saving of their table row."""
    runs = context.world.asked_together
    for row in _rows(context):
        name = row["person"].strip()
        isolation.expect_savings_of_own_spend(context.world, name, runs[name], money(row["current monthly cost"]),
                                              money(row["monthly saving"]), money(row["annual saving"]))


# ---- private threads and questions --------------------------------------------------------
@when("{actor:Name} asks the chat to show {owner:Name}'s thread")
def step_show_foreign_thread(context, actor, owner):
    """The person asks the chat for the other person's thread (and, for comparison, for a made-up one)."""
    world = context.world
    _probe(context, isolation.probe_thread_in_chat(world.actor(actor), world.actor(owner),
                                                   _thread_of(context, owner), _timeout(context)))


@when("{actor:Name} asks a question in {owner:Name}'s thread")
def step_question_in_foreign_thread(context, actor, owner):
    """The person asks a question in the other person's thread (and, for comparison, in a made-up one)."""
    world = context.world
    _probe(context, isolation.probe_question_in_thread(world.actor(actor), world.actor(owner),
                                                       _thread_of(context, owner), "What did you find?"))


@when("{actor:Name} tries to {attempt} {owner:Name}'s thread through the API")
def step_rest_on_foreign_thread(context, actor, attempt, owner):
    """The person tries to read, rename, delete or read the messages of the other person's thread."""
    world = context.world
    _probe(context, isolation.probe_thread_over_rest(world.actor(actor), world.actor(owner),
                                                     _thread_of(context, owner), attempt))


@when("{actor:Name} tries to stop {owner:Name}'s question")
def step_stop_foreign_run(context, actor, owner):
    """The person sends a stop for the other person's running question (and for a made-up one)."""
    world = context.world
    _probe(context, isolation.probe_stop(world.actor(actor), world.actor(owner), world.actor(owner).last_run,
                                         _timeout(context)))


@when("{actor:Name} tries to follow {owner:Name}'s question from its beginning")
def step_follow_foreign_run(context, actor, owner):
    """The person asks to resume the other person's question from its first frame (and a made-up one's)."""
    world = context.world
    _probe(context, isolation.probe_follow(world.actor(actor), world.actor(owner), world.actor(owner).last_run,
                                           _timeout(context)))


@then("{actor:Name} is told it does not exist, exactly as if it had never existed")
def step_answered_as_missing(context, actor):
    """The attempt was refused exactly like the same attempt on something that never existed."""
    probe = context.world.isolation.probe
    if probe.intruder != actor:
        raise SuiteFailure(f"the last attempt was made by {probe.intruder}, not {actor}")
    isolation.expect_answered_as_missing(probe)


@then("{actor:Name}'s chat received nothing of {owner:Name}'s {what}")
def step_nothing_of_others(context, actor, owner, what):
    """No frame of a run or thread the person did not start reached any of their chat windows."""
    isolation.expect_only_own_frames(context.world, context.world.actor(actor))


@then("{owner:Name}'s thread is unchanged")
def step_thread_unchanged(context, owner):
    """The owner still reads their thread with the same title, details and messages as before."""
    person = context.world.actor(owner)
    isolation.expect_thread_unchanged(person, person.thread, person.snapshots[person.thread])


# ---- private usage ------------------------------------------------------------------------
@then("{actor:Name}'s usage summary shows {amount:Money} a month, all of it on {model}")
def step_summary_of_own_usage(context, actor, amount, model):
    """The person's usage summary totals exactly their own spend, on their own model only."""
    isolation.expect_summary_of_own_usage(context.world, context.world.actor(actor), amount, {model})


@then("{actor:Name}'s advice counts {amount:Money} a month of spend, all of it on {model}")
def step_advice_on_own_spend(context, actor, amount, model):
    """The person's cost advice is based on exactly their own spend, on their own model only."""
    person = context.world.actor(actor)
    isolation.expect_advice_on_own_spend(context.world, actor, person.last_run, amount, {model})


# ---- fair-use limits ----------------------------------------------------------------------
@when('{actor:Name} sends {n:Count} questions at once while {other:Name} asks "{question}"')
def step_burst_while_other_asks(context, actor, n, other, question):
    """One person sends many questions back-to-back; right after, another person asks one question."""
    world = context.world
    burst = isolation.send_burst(world.actor(actor), n, FLOOD_QUESTION)
    world.actor(other).start_run(question)
    world.isolation.burst = isolation.collect_burst(burst, context.target.first_event_timeout + 5)


@then("{n:Count} of {actor:Name}'s questions run and the {nth:d}th is refused because {pronoun} already has "
      "{limit:Count} running")
def step_run_limit(context, n, actor, nth, pronoun, limit):
    """Of the questions sent at once, only as many as the run limit run; the next one is refused with RUN_LIMIT."""
    if n != limit or nth != n + 1:
        raise SuiteFailure(f"the step says {n} run, the {nth}th is refused and the limit is {limit}: inconsistent")
    isolation.expect_run_limit(context.world.isolation.burst, limit, nth)


@then("{actor:Name} was not held up: {pronoun} agents started within {seconds:Count} seconds")
def step_not_held_up(context, actor, pronoun, seconds):
    """The person's question got its first agent frame within the service level despite the other's flood."""
    person = context.world.actor(actor)
    isolation.expect_not_held_up(person, person.last_run, seconds, "another person was flooding the platform")


@when("{actor:Name} stops {pronoun} questions and sends new ones, {at_once:Count} at a time, until {total:Count} "
      "have started within {window:Count} seconds")
def step_keep_starting(context, actor, pronoun, at_once, total, window):
    """The person keeps starting questions (stopping the running ones) until the given number were admitted."""
    state = context.world.isolation
    state.flood = isolation.start_flood(state.burst, window)
    isolation.keep_starting(state.flood, total, at_once, FLOOD_QUESTION, context.target.first_event_timeout + 5,
                            context.target.settle_timeout)


@when("{actor:Name} sends one more question")
def step_one_more(context, actor):
    """The person starts one more question right away."""
    context.world.actor(actor).start(FLOOD_QUESTION)


@then("{actor:Name} is told {pronoun} started too many questions in a short time, and when {pronoun2} may try again")
def step_rate_limited(context, actor, pronoun, pronoun2):
    """The extra question is refused with RATE_LIMITED and a time after which to retry."""
    isolation.expect_rate_limited(context.world.isolation.flood)
