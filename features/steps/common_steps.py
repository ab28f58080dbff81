"""The shared vocabulary: people, their usage data, asking the agents, and the answer.

Domain step files (sign_in_steps, realtime_steps, …) build on these; logic lives in ``acceptance``.
"""
from datetime import datetime, timezone

from behave import given, then, when

from acceptance.journeys import usage_data
from acceptance.verify import checks


# ---- people -------------------------------------------------------------------------------
@given("{actor:Name} has signed up")
def step_signed_up(context, actor):
    """Registers the actor with a new, unique email address and keeps the tokens."""
    context.world.actor(actor).register()


@given("{actor:Name} has signed up and opened the chat")
def step_signed_up_and_chatting(context, actor):
    """Registers the actor and opens the chat with the new access token."""
    context.world.actor(actor).register()
    context.world.actor(actor).open_chat()


# ---- usage data ---------------------------------------------------------------------------
@given("{actor:Name}'s team spends {amount:Money} a month on {model} for {task}")
def step_team_spends(context, actor, amount, model, task):
    """Stores usage that costs exactly that amount a month at list prices, spread over ten recent days."""
    context.world.actor(actor).share_spend(model, task, amount)


@given("{actor:Name}'s team used these models over the last 30 days")
def step_team_used(context, actor):
    """Stores the table's traffic (requests are totals for the period) as usage records."""
    rows = [dict(zip(context.table.headings, row.cells)) for row in context.table]
    context.world.actor(actor).share_usage(usage_data.from_rows(rows, datetime.now(timezone.utc)))


@given("{actor:Name} has not shared any usage data yet")
def step_no_usage(context, actor):
    """Checks that the actor's usage summary lists no model yet."""
    summary = context.world.actor(actor).usage_summary()
    checks.equal(summary.get("by_model"), [], f"{actor} is a new user, so her usage summary lists no models")


# ---- asking ---------------------------------------------------------------------------------
@when('{actor:Name} asks "{question}"')
def step_asks(context, actor, question):
    """Asks the default agent (the supervisor) and follows the run to its end."""
    context.world.actor(actor).ask(question)


@when('{actor:Name} asks the {agent:Agent} agent "{question}"')
def step_asks_agent(context, actor, agent, question):
    """Asks one specialist agent directly and follows the run to its end."""
    context.world.actor(actor).ask(question, agent=agent)


@when('{actor:Name} starts asking "{question}"')
def step_starts_asking(context, actor, question):
    """Asks the supervisor and returns once the run has started."""
    context.world.actor(actor).start_run(question)


# ---- the answer -----------------------------------------------------------------------------
@then("{actor:Name} sees the agents start, think, use tools and complete, in that order")
def step_sees_five_events(context, actor):
    """The last run streamed started, thinking, tool executing, tool completed and completed, in order, and is well-formed."""
    checks.streams_the_five_events(context.world.actor(actor).last_run)


@then("{actor:Name}'s answer is complete")
def step_answer_complete(context, actor):
    """The last run ends with agent_completed, well-formed, with a result of the contract's shape."""
    run = context.world.actor(actor).last_run
    run.session.wait_for_end(run, context.target.run_timeout)
    checks.streams_the_five_events(run)
    checks.result_of(run)


@then("{actor:Name} is told {pronoun} can save {amount:Money} a month")
def step_told_savings(context, actor, pronoun, amount):
    """The answer's monthly saving equals the amount, and the savings keep every honesty invariant."""
    cost = checks.cost_result(context.world.actor(actor).last_run)
    checks.savings_are_honest(cost)
    checks.money_equals(cost["potential_savings"]["monthly_amount"], amount, f"{actor}'s monthly saving",
                        cost["potential_savings"])
