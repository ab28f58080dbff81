"""Sign-up, sign-in and sessions."""
from behave import given, then, when

from acceptance.chat import Credential


@given("{actor} has signed up")
def step_signed_up(context, actor):
    context.world.actor(actor).register()


@when("someone opens the chat as {actor} with a token carrying {forgery}")
def step_open_chat_with_forgery(context, actor, forgery):
    from acceptance.auth import FORGERIES
    person = context.world.actor(actor).ensure_account()
    token = context.world.forge().forge(FORGERIES[forgery], person.user_id, person.email)
    session = person.new_session(Credential("bearer", token))
    context.world.notes["handshake"] = session.attempt(context.target.preflight_timeout)


@then("the chat connection is refused before any message is exchanged")
def step_chat_refused(context):
    from acceptance.errors import AuthenticationFailure
    handshake = context.world.notes["handshake"]
    if handshake.accepted:
        raise AuthenticationFailure(f"the platform accepted a connection it should have refused: {handshake.describe()}")
    if handshake.status is not None and handshake.status != 403:
        raise AuthenticationFailure(f"a refused handshake must answer HTTP 403; {handshake.describe()}")
