"""Recovery and resilience: bad messages, oversize messages, restarts, runs that outlive their socket."""
from behave import register_type, then, when

from acceptance.journeys import realtime, recovery

register_type(BadMessage=recovery.bad_message)


# ---- what goes wrong ------------------------------------------------------------------------------
@when("{actor:Name}'s app sends {case:BadMessage}")
def step_sends_bad_message(context, actor, case):
    """Sends one kind of malformed message on the actor's connection."""
    context.world.sent = recovery.send_bad_message(context.world.actor(actor), case)


@when("{actor:Name}'s app sends a message larger than the size limit the platform announced")
def step_sends_oversize(context, actor):
    """Sends a well-formed frame one byte over the announced max_message_bytes."""
    context.world.sent = recovery.send_oversize(context.world.actor(actor))


@when("{actor:Name} closes the chat before the answer arrives")
def step_closes_mid_run(context, actor):
    """Closes the socket of the actor's running question."""
    recovery.close_mid_run(context.world.actor(actor))


@when("the platform restarts")
def step_platform_restarts(context):
    """Restarts the embedded platform on the same port and database (fails against a remote target)."""
    recovery.restart_platform(context.world)


# ---- how the platform copes -------------------------------------------------------------------------
@then("the platform answers {actor:Name} with the error {code:w}")
def step_answers_error(context, actor, code):
    """The bad message is answered with an error frame carrying that code; the connection stays open."""
    recovery.answered_with_error(context.world.actor(actor), context.world.sent, code)


@then("{actor:Name}'s connection still answers a keep-alive check")
def step_still_alive(context, actor):
    """A ping on the same connection is still answered with its nonce."""
    realtime.check_alive(context.world.actor(actor), context.target.first_event_timeout)


@then('{actor:Name} can still ask "{question}" and get a complete answer')
def step_still_answers(context, actor, question):
    """A real question on the same connection completes, and no stray run was started."""
    recovery.still_answers_questions(context.world.actor(actor), context.world.sent, question)


@then("the platform closes {actor:Name}'s connection with code {code:d}")
def step_closed_with(context, actor, code):
    """The connection closes with that WebSocket close code, the frame unanswered."""
    recovery.closed_as_too_big(context.world.actor(actor), context.world.sent, code)


@then("{actor:Name} can sign in again with {pronoun:w} password")
def step_signs_in_again(context, actor, pronoun):
    """Logs in with the actor's email and password."""
    context.world.actor(actor).sign_in()


@then("{actor:Name}'s conversation is still listed with {pronoun:w} question and the stored answer")
def step_conversation_survived(context, actor, pronoun):
    """The thread is listed and holds the question and the result seen live."""
    person = context.world.actor(actor)
    recovery.conversation_survived(person, person.runs[0])


@then('{actor:Name} reconnects and gets a complete answer to "{question}"')
def step_reconnects_and_asks(context, actor, question):
    """Opens a new connection and completes a new question on it."""
    recovery.still_answers_after_reconnect(context.world.actor(actor), question)


@then("the answer is stored in {actor:Name}'s conversation history shortly afterwards")
def step_answer_stored(context, actor):
    """The run's answer appears in its thread (bounded wait), with honest savings."""
    recovery.answer_stored_later(context.world.actor(actor))
