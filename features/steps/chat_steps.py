"""Asking the agents, and what the chat shows while they work."""
from behave import then, when

from acceptance import checks


@when('{actor} asks "{question}"')
def step_asks(context, actor, question):
    context.world.actor(actor).ask(question)


@then("{actor} sees the agents start, think, use tools and complete, in that order")
def step_sees_five_events(context, actor):
    checks.streams_the_five_events(context.world.actor(actor).last_run)


@then("{actor} is told {pronoun} can save ${amount} a month")
def step_told_savings(context, actor, pronoun, amount):
    run = context.world.actor(actor).last_run
    cost = checks.cost_result(run)
    checks.savings_are_honest(cost)
    checks.money_equals(cost["potential_savings"]["monthly_amount"], amount, "the monthly saving", cost["potential_savings"])
