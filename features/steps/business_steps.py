"""Agents and business value: savings, daily costs, latency, data sufficiency, and conversations
that keep their thread. Logic lives in ``acceptance.journeys.business``."""
from datetime import datetime, timezone

from behave import given, then, when

from acceptance.journeys import business
from acceptance.verify import checks


def _rows(context):
    return [dict(zip(context.table.headings, row.cells)) for row in context.table]


def _cost(context, actor):
    return checks.cost_result(context.world.actor(actor).last_run)


def _result(context, actor):
    return checks.result_of(context.world.actor(actor).last_run)


# ---- usage ----------------------------------------------------------------------------------
@given("{actor:Name}'s team has a usage history of {n:Count} records over the last four weeks")
def step_long_history(context, actor, n):
    """Uploads n one-request usage records spread over the last 28 days, in one upload."""
    context.world.actor(actor).share_usage(business.usage_history(n, datetime.now(timezone.utc)))


# ---- asking ---------------------------------------------------------------------------------
@when('{actor:Name} asks a "{name}" agent "{question}"')
def step_asks_unknown_agent(context, actor, name, question):
    """Asks an agent the platform does not offer (its name with underscores for spaces)."""
    context.world.actor(actor).start(question, agent=name.replace(" ", "_"))


@when("{actor:Name} stops it while an agent is using a tool")
def step_stops_mid_tool(context, actor):
    """Sends stop for the actor's last run once one of its tools is at work, and waits for the run's end."""
    business.stop_during_tool(context.world.actor(actor).last_run, context.target.run_timeout)


@when('{actor:Name} follows up in the same conversation with "{question}"')
def step_follows_up(context, actor, question):
    """Asks again in the thread of the actor's previous question and waits for the end."""
    business.follow_up(context.world.actor(actor), question)


# ---- savings --------------------------------------------------------------------------------
@then("{actor:Name}'s recommendations are:")
def step_recommendations_are(context, actor):
    """Compares the recommendations with a table action | model | monthly saving, in order."""
    cost = _cost(context, actor)
    business.recommendations_match(cost, _rows(context))
    checks.savings_are_honest(cost)


@then("{actor:Name} is told {pronoun} spends {amount:Money} a month")
def step_told_current_spend(context, actor, pronoun, amount):
    """The cost analysis states the current monthly spend."""
    business.current_spend(_cost(context, actor), amount)


@then("{actor:Name} is told {pronoun} can save {monthly:Money} a month, {annual:Money} a year, "
      "{share:Percent} of {possessive} spend")
def step_told_savings_figures(context, actor, pronoun, monthly, annual, share, possessive):
    """The exact monthly and annual savings and the share of the spend they represent."""
    business.savings_figures(_cost(context, actor), monthly, annual, share)


@then("{actor:Name} is offered at least one way to save")
def step_offered_a_saving(context, actor):
    """At least one recommendation and a positive monthly saving."""
    business.offers_savings(_cost(context, actor))


@then("each of {actor:Name}'s recommendations names the model, the action and what it saves a month")
def step_recommendations_actionable(context, actor):
    """Every recommendation has a model, a routing/caching/batching action, a title and a positive saving."""
    business.recommendations_are_actionable(_cost(context, actor))


@then("{actor:Name}'s promised monthly saving is the sum of the recommendations and no more than the current spend")
def step_monthly_is_sum(context, actor):
    """monthly = sum of the recommendations (± $0.01), between 0 and the current spend."""
    business.monthly_is_sum_within_spend(_cost(context, actor))


@then("{actor:Name}'s annual saving is twelve times the monthly saving")
def step_annual_is_twelve_months(context, actor):
    """annual = 12 × monthly (± $0.01)."""
    business.annual_is_twelve_months(_cost(context, actor))


@then("{actor:Name}'s percentage saved is the monthly saving's share of the current spend")
def step_percentage_is_share(context, actor):
    """percentage = 100 × monthly / current spend (± 0.01)."""
    business.percentage_is_share_of_spend(_cost(context, actor))


@then("{actor:Name}'s largest saving is recommended first")
def step_largest_first(context, actor):
    """Recommendations sorted by monthly saving, largest first."""
    business.largest_saving_first(_cost(context, actor))


# ---- data sufficiency -----------------------------------------------------------------------
@then("{actor:Name}'s advice is marked as based on {coverage} data")
def step_sufficiency(context, actor, coverage):
    """The cost optimisation rates the data sufficient, partial or insufficient."""
    business.sufficiency_is(context.world.actor(actor).last_run, coverage)


@then("{actor:Name} is told there is not enough usage data for advice yet")
def step_not_enough_data(context, actor):
    """Data rated insufficient, the summary says so, and nothing is recommended or promised."""
    business.not_enough_data(context.world.actor(actor).last_run)


# ---- daily usage ----------------------------------------------------------------------------
@then("{actor:Name}'s daily usage reads:")
def step_daily_usage(context, actor):
    """The data analysis lists exactly the days of the table (days ago | requests, optionally cost)."""
    business.daily_usage_matches(context.world, _result(context, actor), _rows(context))


@then("{actor:Name}'s analysis flags only the day {n:Count} days ago as unusual")
def step_only_day_flagged(context, actor, n):
    """That day, and no other, costs more than twice the median day and is flagged against that baseline."""
    business.only_day_flagged(context.world, _result(context, actor), n)


@then("{actor:Name}'s unusual day {n:Count} days ago cost {cost:Money} against a typical {baseline:Money}")
def step_anomaly_amounts(context, actor, n, cost, baseline):
    """The flagged day's cost and the median day's cost it was compared with."""
    anomaly = business.only_day_flagged(context.world, _result(context, actor), n)
    business.anomaly_amounts(anomaly, cost, baseline)


@then("{actor:Name}'s analysis accounts for every one of the {n:Count} requests")
def step_counts_every_request(context, actor, n):
    """The daily requests add up to the requests the team made."""
    business.counts_every_request(_result(context, actor), n)


@then("{actor:Name} sees the progress of the analysis, never going back, before it completes")
def step_shows_progress(context, actor):
    """The data analysis agent thinks before its first tool and its progress never decreases (no count fixed)."""
    run = context.world.actor(actor).last_run
    checks.run_is_well_formed(run)
    business.shows_progress(run, "data_analysis")


# ---- latency --------------------------------------------------------------------------------
@then("{actor:Name} sees the latency of each model:")
def step_latency(context, actor):
    """Latency per model, a table model | p50 ms | p95 ms."""
    business.latency_matches(_result(context, actor), _rows(context))


@then("{actor:Name} is advised to act on the latency of {model} only")
def step_latency_advice(context, actor, model):
    """Exactly one model, this one, gets a latency recommendation."""
    business.latency_advice_for(_result(context, actor), [model])


# ---- specialists ----------------------------------------------------------------------------
@then("{actor:Name} is answered by the {agent:Agent} agent with {shape}")
def step_answer_shape(context, actor, agent, shape):
    """The last run was answered by that agent with the result the contract gives it."""
    business.answer_has_shape(context.world.actor(actor).last_run, agent, shape)


# ---- refusals -------------------------------------------------------------------------------
@then("{actor:Name} is told there is no such agent")
def step_no_such_agent(context, actor):
    """The request was refused with UNKNOWN_AGENT and no run started."""
    business.refused_as_unknown_agent(context.world.actor(actor))


@then("{actor:Name} is still talking over the chat connection that refused the unknown agent")
def step_same_connection(context, actor):
    """The refusal and the next answer came over one connection, which is still open."""
    business.same_connection(context.world.actor(actor))


# ---- stopping and conversations -------------------------------------------------------------
@then("{actor:Name}'s agents stop: the supervisor reports the stop once and no tool is left half-done")
def step_stopped_cleanly(context, actor):
    """One agent_stopped from the supervisor as the run's last frame; every tool pair completed."""
    business.stopped_cleanly(context.world.actor(actor).last_run, "supervisor")


@then("no answer is saved for {actor:Name}'s stopped question")
def step_no_answer_saved(context, actor):
    """The stopped run's thread holds no assistant message for it."""
    person = context.world.actor(actor)
    business.no_answer_stored(person, person.last_run)


@then("{actor:Name}'s conversation history reads:")
def step_history_reads(context, actor):
    """One thread holding each question (| question | answered |) and, when answered, its answer; over REST
    and over the chat."""
    business.history_reads(context.world.actor(actor), _rows(context), context.target.request_timeout)
