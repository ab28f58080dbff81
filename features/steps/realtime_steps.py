"""Realtime updates: the live stream of a run, keep-alive, ordering, reconnection, devices, crowds."""
from behave import given, then, when

from acceptance.journeys import realtime


# ---- setting the scene ------------------------------------------------------------------------
@given("{actor:Name}'s team has a long usage history of {n:Count} records")
def step_long_usage_history(context, actor, n):
    """Stores many small usage records, so that the data analysis has a lot to get through."""
    realtime.long_usage_history(context.world.actor(actor), n)


@given("{actor:Name} has the chat open on {pronoun:w} {first:w} and {pronoun2:w} {second:w}")
def step_chat_on_devices(context, actor, pronoun, first, pronoun2, second):
    """Opens one chat connection on each of two devices ("her laptop and her phone")."""
    realtime.open_on_devices(context.world.actor(actor), [first, second])


@given("{n:Count} people have signed up and opened the chat")
def step_crowd_signed_up(context, n):
    """Signs up that many people at the same time, each with an open chat."""
    realtime.crowd_signs_up(context.world, n)


# ---- asking -------------------------------------------------------------------------------------
@when('{actor:Name} asks "{question}" on {pronoun:w} {device:w}')
def step_asks_on_device(context, actor, question, pronoun, device):
    """Asks on one device and follows the run there to its end."""
    realtime.ask_on(context.world.actor(actor), device, question)


@when('{actor:Name} starts asking "{question}" on {pronoun:w} {device:w}')
def step_starts_on_device(context, actor, question, pronoun, device):
    """Asks on one device and returns as soon as the run has started."""
    realtime.start_on(context.world.actor(actor), device, question)


@when("{actor:Name} asks these questions one after another in one conversation")
def step_asks_in_sequence(context, actor):
    """Asks each question of the table after the previous answer, all in one thread."""
    questions = [row["question"] for row in context.table]
    context.world.realtime.sequence = realtime.ask_in_sequence(context.world.actor(actor), questions)


@when('they all ask "{question}" at the same moment')
def step_crowd_asks(context, question):
    """Every person of the crowd asks at once and follows the run to its end."""
    realtime.crowd_asks(context.world, question)


@when("{actor:Name} checks that the connection is alive")
def step_sends_keepalive(context, actor):
    """Sends a keep-alive ping carrying a fresh token."""
    context.world.sent = realtime.send_keepalive(context.world.actor(actor))


# ---- dropping and resuming -----------------------------------------------------------------------
@when("{actor:Name}'s {device:w} loses its connection while the data analysis is under way")
def step_device_drops(context, actor, device):
    """Closes the device's socket once the data analysis has reported progress, keeping what arrived."""
    realtime.drop_once(context.world.actor(actor), device, realtime.data_analysis_under_way,
                       "the data analysis to report progress")


@when("{actor:Name}'s {device:w} reconnects and resumes the run from the last update it received")
def step_device_resumes(context, actor, device):
    """Opens a new socket for the device and resumes the run after its last frame."""
    realtime.reconnect_and_resume(context.world.actor(actor), device)


# ---- what the user sees ----------------------------------------------------------------------------
@then("every update of {actor:Name}'s answer belongs to one run and one conversation")
def step_one_run(context, actor):
    """All agent frames after the question carry the run's id and thread id."""
    realtime.attributed_to_one_run(context.world.actor(actor).last_run)


@then("every tool {actor:Name} sees starting is reported finished by the same agent and tool")
def step_tool_pairs(context, actor):
    """Every tool_executing has its tool_completed: same execution id, tool and agent."""
    realtime.tools_are_paired(context.world.actor(actor).last_run)


@then("{actor:Name} sees the specialists' work nested inside the supervisor's")
def step_nesting(context, actor):
    """Sub-agents name the supervisor as parent and start and end inside its run."""
    realtime.specialists_nest_inside_supervisor(context.world.actor(actor).last_run)


@then("the progress {actor:Name} sees never goes backwards")
def step_progress(context, actor):
    """progress_percentage stays within 0..100 and never decreases across the run."""
    realtime.progress_never_decreases(context.world.actor(actor).last_run)


@then("every agent {actor:Name} sees thinks before it uses its first tool")
def step_thinks_first(context, actor):
    """Per agent: started first, thinking before the first tool pair, one terminal frame last."""
    realtime.thinks_before_tools(context.world.actor(actor).last_run)


@then("every message {actor:Name} received follows the platform's message format")
def step_schema(context, actor):
    """Every frame on every connection of the actor is valid against the schema of its type."""
    realtime.every_frame_follows_schema(context.world.actor(actor))


@then("{actor:Name} saw the agents start within {n:Count} seconds of asking")
def step_first_event(context, actor, n):
    """agent_started arrived within that many seconds of the question."""
    realtime.first_event_within(context.world.actor(actor).last_run, n)


@then("the platform answers {actor:Name}'s check with the same token")
def step_keepalive_answered(context, actor):
    """The pong echoes the ping's nonce."""
    realtime.keepalive_answered(context.world.sent, context.target.first_event_timeout)


@then("{actor:Name}'s answers arrive in the order {pronoun:w} asked, never mixed together")
def step_in_order(context, actor, pronoun):
    """Each run's frames form one block of the connection's log, blocks in the order asked."""
    realtime.runs_do_not_interleave(context.world.realtime.sequence)


@then("the conversation history lists {actor:Name}'s questions, each followed by its answer")
def step_history_in_order(context, actor):
    """The thread's messages are question, answer, question, answer … in the order asked."""
    realtime.history_lists(context.world.actor(actor), context.world.realtime.sequence,
                           context.target.request_timeout)


@then("{actor:Name}'s {device:w} shows the same updates as {pronoun:w} {other:w}, in the same order")
def step_same_on_devices(context, actor, device, pronoun, other):
    """Both devices received the run's frames identically."""
    realtime.same_frames_on(context.world.actor(actor), device, other)


@then("the updates {actor:Name}'s {device:w} received before and after the drop are exactly "
      "those {pronoun:w} {other:w} received, with none lost or repeated")
def step_whole_run_across_drop(context, actor, device, pronoun, other):
    """Frames before the drop plus frames after resuming equal the other device's frames."""
    realtime.whole_run_across_drop(context.world.actor(actor), device, other)


@then("replaying the whole run later gives {actor:Name} exactly the updates {pronoun:w} {device:w} received")
def step_replay(context, actor, pronoun, device):
    """A new socket resuming from an unknown message id receives every frame of the run again."""
    realtime.replay_matches(context.world.actor(actor), device)


@then("every one of them receives a complete answer")
def step_crowd_complete(context):
    """Every person's run streamed the five events and completed with a result."""
    realtime.crowd_answers_complete(context.world)


@then("nobody receives updates of anybody else's run")
def step_crowd_isolated(context):
    """No connection received a frame of another person's run."""
    realtime.crowd_sees_only_own_runs(context.world)
