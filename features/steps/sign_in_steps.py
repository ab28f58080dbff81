"""Sign-in, sessions and the chat handshake."""
from behave import then, when

from acceptance.auth import FORGERIES
from acceptance.chat import Credential
from acceptance.errors import AuthenticationFailure


@when("someone opens the chat as {actor:Name} with a token carrying {forgery}")
def step_open_chat_with_forgery(context, actor, forgery):
    person = context.world.actor(actor).ensure_account()
    token = context.world.forge().forge(FORGERIES[forgery], person.user_id, person.email)
    context.world.notes["handshake"] = person.new_session(Credential("bearer", token)).attempt(
        context.target.preflight_timeout)


@then("the chat connection is refused before any message is exchanged")
def step_chat_refused(context):
    handshake = context.world.notes["handshake"]
    if handshake.accepted:
        raise AuthenticationFailure(f"the platform accepted a connection it should have refused: {handshake.describe()}")
    if handshake.status is not None and handshake.status != 403:
        raise AuthenticationFailure(f"a refused handshake must answer HTTP 403; {handshake.describe()}")
