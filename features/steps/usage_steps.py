"""What a team spends on AI: usage data given to the platform."""
from datetime import datetime, timezone

from behave import given

from acceptance import usage_data


def _pricing(context):
    world = context.world
    if "pricing" not in world.notes:
        actor = next(iter(world.actors.values()))
        world.notes["pricing"] = actor.api.pricing().expect_status(200, what="the pricing catalogue").body
    return world.notes["pricing"]


@given("{actor}'s team spends ${amount} a month on {model} for {task}")
def step_team_spends(context, actor, amount, model, task):
    person = context.world.actor(actor).ensure_account()
    records = usage_data.spend(_pricing(context), datetime.now(timezone.utc), model, task, amount)
    person.api.add_usage(records).expect_status(201, what=f"storing {actor}'s usage")
