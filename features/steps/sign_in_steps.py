"""Sign-in, sessions, simulated OAuth and the chat handshake. Logic lives in ``acceptance.journeys.sign_in``."""
import uuid

from behave import given, then, when

from acceptance.journeys import sign_in as journey
from acceptance.journeys.gherkin_types import CREDENTIAL_FORMS
from acceptance.journeys.state import Device, ExpiringChat, HeldToken


def _stranger(context):
    """Someone without an account: only a transport for the requests of an outsider."""
    return context.world.actor("Stranger")


# ---- accounts ---------------------------------------------------------------------------------
@when("{actor:Name} signs up with {pronoun} email and a password")
def step_signs_up(context, actor, pronoun):
    """Registers a new account and checks the tokens answer."""
    journey.sign_up(context.world.actor(actor))


@then("{actor:Name}'s account is created with the standard permissions")
def step_account_standard(context, actor):
    """The new account carries the actor's email and name and the permissions of every new user."""
    journey.account_is_standard(context.world.actor(actor))


@when("{actor:Name} signs in with {pronoun} email and password")
def step_signs_in(context, actor, pronoun):
    """Signs in with the right password; a new pair of tokens comes back."""
    journey.sign_in(context.world.actor(actor))


@then("the platform knows {actor:Name} by {pronoun} email and name")
def step_platform_knows(context, actor, pronoun):
    """The auth service names the signed-in account (who am I)."""
    journey.platform_knows(context.world.actor(actor))


@when("{actor:Name} tries to sign up with {owner:Name}'s email")
def step_sign_up_taken(context, actor, owner):
    """Tries to register a second account on someone else's email."""
    world = context.world
    world.response = world.actor(actor).attempt_sign_up(world.actor(owner).email)


@then("{actor:Name}'s sign-up is refused because the email is already registered")
def step_sign_up_refused(context, actor):
    """The sign-up answers 409 and hands out no tokens."""
    journey.expect_refused(context.world.response, 409, f"{actor}'s sign-up with an email already in use")


@then("{actor:Name} can still sign in with {pronoun} own password")
def step_can_still_sign_in(context, actor, pronoun):
    """Signing in with the account's own password still works."""
    journey.sign_in(context.world.actor(actor))


@then("{actor:Name}'s password does not open {owner:Name}'s account")
def step_password_does_not_open(context, actor, owner):
    """The intruder's password is refused for the owner's email."""
    world = context.world
    intruder, victim = world.actor(actor), world.actor(owner)
    response = intruder.attempt_sign_in(victim.email, intruder.password)
    journey.invalid_credentials(response, f"signing in to {owner}'s account with {actor}'s password")


@when("someone signs in with {actor:Name}'s email and a wrong password")
def step_wrong_password(context, actor):
    """One sign-in attempt with the actor's email and a wrong password."""
    person = context.world.actor(actor)
    context.world.response = person.attempt_sign_in(person.email, journey.wrong_password(person))


@when("someone signs in with an email nobody has registered")
def step_unknown_email(context):
    """One sign-in attempt for an email without an account."""
    context.world.response = _stranger(context).attempt_sign_in(journey.unknown_email(), "a-password-123")


@then("the sign-in is refused as invalid credentials")
def step_refused_invalid_credentials(context):
    """401 'Invalid credentials', no tokens."""
    journey.invalid_credentials(context.world.response)


@when("someone tries {n:Count} wrong passwords for {actor:Name}'s email")
def step_tries_wrong_passwords(context, n, actor):
    """Several sign-in attempts with wrong passwords, one after the other."""
    context.world.sign_in.attempts = journey.wrong_passwords(context.world.actor(actor), n)


@then("every one of those attempts is refused as invalid credentials")
def step_each_attempt_refused(context):
    """Each wrong password was answered 401 'Invalid credentials'."""
    for i, response in enumerate(context.world.sign_in.attempts, 1):
        journey.invalid_credentials(response, f"wrong password number {i}")


@when("{actor:Name} tries to sign in with {pronoun} right password")
def step_tries_right_password(context, actor, pronoun):
    """A sign-in attempt with the right password, whatever the answer."""
    context.world.response = context.world.actor(actor).attempt_sign_in()


@then("{actor:Name} is told to try again later")
def step_try_again_later(context, actor):
    """429 in the error shape, no tokens."""
    journey.try_again_later(context.world.response, f"{actor}'s sign-in after five wrong passwords")


@then("the answer says how many seconds to wait, at most a minute")
def step_retry_after(context):
    """Retry-After holds whole seconds between 1 and 60."""
    journey.retry_after_seconds(context.world.response)


@given("{actor:Name} has mistyped {pronoun} password {n:Count} times")
def step_has_mistyped(context, actor, pronoun, n):
    """Wrong passwords, each refused as invalid credentials."""
    for i, response in enumerate(journey.wrong_passwords(context.world.actor(actor), n), 1):
        journey.invalid_credentials(response, f"wrong password number {i}")


@given("{actor:Name} has then signed in with {pronoun} right password")
def step_has_signed_in_right(context, actor, pronoun):
    """A successful sign-in."""
    journey.sign_in(context.world.actor(actor))


@when("{actor:Name} mistypes {pronoun} password once more")
def step_mistypes_once_more(context, actor, pronoun):
    """One more wrong password, refused as invalid credentials (not as 'try later')."""
    journey.invalid_credentials(journey.wrong_passwords(context.world.actor(actor), 1)[0],
                                "a wrong password after a successful sign-in")


# ---- sessions ---------------------------------------------------------------------------------
@when("{actor:Name} renews {pronoun} session")
def step_renews(context, actor, pronoun):
    """Trades the refresh token for a new pair."""
    journey.renew(context.world.actor(actor))


@then("{actor:Name} holds a new pair of tokens for the same account")
def step_new_pair(context, actor):
    """Both tokens differ from the previous pair, and name the same user."""
    journey.holds_new_pair(context.world.actor(actor))


@then("{actor:Name}'s new session lists {pronoun} conversations")
def step_new_session_lists(context, actor, pronoun):
    """The renewed access token works for the API."""
    person = context.world.actor(actor)
    journey.api_works(person, person.access_token, f"listing {actor}'s conversations with the renewed token")


@then("renewing with {actor:Name}'s previous renewal token is refused")
def step_old_refresh_refused(context, actor):
    """A spent refresh token answers 401."""
    person = context.world.actor(actor)
    journey.renewal_refused(person, person.previous_tokens[-1].refresh_token,
                            f"renewing with {actor}'s already used renewal token")


@given("{actor:Name} has signed in on two devices, a {first:w} and a {second:w}")
def step_two_devices(context, actor, first, second):
    """Two separate sign-ins of the same account, one per device."""
    person = context.world.actor(actor).ensure_account()
    person.devices.update({first: Device(tokens=journey.sign_in(person)), second: Device(tokens=journey.sign_in(person))})


@when("{actor:Name} signs out on the {device:w}")
def step_signs_out(context, actor, device):
    """Signs out with that device's access token."""
    person = context.world.actor(actor)
    person.sign_out(person.devices[device].tokens.access_token, f"{actor} signing out on the {device}")


@then("the {device:w}'s access token no longer lists {actor:Name}'s conversations")
def step_device_api_refused(context, device, actor):
    """The signed-out access token is refused by the API."""
    person = context.world.actor(actor)
    journey.api_refuses(person, person.devices[device].tokens.access_token,
                        f"listing {actor}'s conversations with the {device}'s signed-out token")


@then("the {device:w}'s access token no longer opens {actor:Name}'s chat")
def step_device_chat_refused(context, device, actor):
    """The signed-out access token is refused at the chat handshake."""
    person = context.world.actor(actor)
    handshake = journey.attempt_chat(person, "bearer", person.devices[device].tokens.access_token)
    journey.expect_chat_refused(context.world, handshake, f"opening the chat with the {device}'s signed-out token")


@then("the {device:w}'s renewal token no longer renews {actor:Name}'s session")
def step_device_refresh_refused(context, device, actor):
    """The refresh token of the signed-out sign-in answers 401."""
    person = context.world.actor(actor)
    journey.renewal_refused(person, person.devices[device].tokens.refresh_token,
                            f"renewing with the {device}'s renewal token after signing out")


@then("{actor:Name}'s session on the {device:w} still works")
def step_device_still_works(context, actor, device):
    """The other sign-in's tokens still work for the API and for renewal."""
    person = context.world.actor(actor)
    journey.session_still_works(person, person.devices[device].tokens, f"on the {device}")


@given("{actor:Name} has opened the chat with a token that expires in {n:Count} seconds")
def step_chat_with_expiring_token(context, actor, n):
    """Opens the chat with a short-lived token minted from the target's secret."""
    person = context.world.actor(actor)
    token = person.mint(lifetime_s=n)
    context.world.sign_in.expiring = ExpiringChat(person.open_chat("bearer", token=token), token)


@when("that token's expiry time has passed")
def step_expiry_passed(context):
    """Waits, bounded, for the token's own expiry instant."""
    journey.wait_for_expiry(context.world.sign_in.expiring.token)


@when("{actor:Name} sends a ping on that chat")
def step_ping_expired(context, actor):
    """Sends one client frame on the open socket."""
    world = context.world
    world.sent = world.actor(actor).send_ping(world.sign_in.expiring.chat, "after-expiry")


@then("that chat is closed as a policy violation without an answer")
def step_closed_1008(context):
    """The socket closes with 1008 and answers nothing."""
    sent = context.world.sent
    journey.closed_for_policy(context.world.actor(sent.chat.actor), sent)


# ---- simulated OAuth --------------------------------------------------------------------------
@when("{actor:Name} signs in through simulated OAuth with the right key")
def step_simulated_sign_in(context, actor):
    """Signs in through POST /auth/e2e/test-auth with the configured bypass key."""
    person = context.world.actor(actor)
    journey.simulated_sign_in(person)
    context.world.response = person.last_response


@then("{actor:Name}'s account is marked as simulated and has the standard permissions")
def step_marked_simulated(context, actor):
    """The answer marks the user oauth_simulated, with the permissions of a new user."""
    journey.marked_simulated(context.world.response)
    journey.account_is_standard(context.world.actor(actor))


@then("{actor:Name}'s session works for the API and the chat")
def step_session_works(context, actor):
    """The access token lists conversations and opens a chat that greets its owner."""
    person = context.world.actor(actor)
    journey.api_works(person, person.access_token, f"listing {actor}'s conversations")
    journey.chat_greets(person, person.open_chat("bearer"))


@then("{actor:Name} is signed in to the account {pronoun} signed up with")
def step_same_account(context, actor, pronoun):
    """The simulated sign-in names the user id of the existing account."""
    journey.same_account_as_before(context.world.actor(actor))


@when("someone tries simulated OAuth as {actor:Name} with a wrong key")
def step_simulated_wrong_key(context, actor):
    """A simulated sign-in with a key that is not the target's."""
    context.world.response = context.world.actor(actor).attempt_simulated_sign_in(
        journey.wrong_bypass_key(context.world))


@when("someone tries simulated OAuth as {actor:Name} with no key at all")
def step_simulated_no_key(context, actor):
    """A simulated sign-in without the X-E2E-Bypass-Key header."""
    context.world.response = context.world.actor(actor).attempt_simulated_sign_in(None)


@then("the simulated sign-in is refused as unauthorised")
def step_simulated_refused(context):
    """401, no tokens."""
    journey.expect_refused(context.world.response, 401, "a simulated sign-in without the right key")


@given("{actor:Name} has signed in through simulated OAuth with only the permissions {permissions}")
def step_simulated_with_permissions(context, actor, permissions):
    """A simulated sign-in granting exactly the listed permissions ('read and chat')."""
    journey.simulated_sign_in(context.world.actor(actor), journey.permissions_from(permissions))


@when('{actor:Name} tries to ask "{question}"')
def step_tries_to_ask(context, actor, question):
    """Asks for a run; the answer may be a run or a refusal."""
    context.world.actor(actor).start(question)


@then("{actor:Name} is told {pronoun} is not allowed to start agents")
def step_forbidden(context, actor, pronoun):
    """The chat answers an error frame with code FORBIDDEN and starts no run."""
    journey.refused_as_forbidden(context.world.actor(actor))


@then("{actor:Name}'s chat is still open")
def step_chat_still_open(context, actor):
    """The same socket is open and answers a ping."""
    person = context.world.actor(actor)
    journey.still_open(person, person.chats[-1])


# ---- opening the chat -------------------------------------------------------------------------
@given("{actor:Name} has opened the chat with {form:Credential}")
def step_has_opened_chat(context, actor, form):
    """Opens the chat presenting the session in that form."""
    context.world.actor(actor).open_chat(form)


@when("{actor:Name} opens the chat with {form:Credential}")
def step_opens_chat(context, actor, form):
    """Opens the chat presenting the session in that form (a ticket is requested first)."""
    context.world.actor(actor).open_chat(form)


@then("{actor:Name}'s chat is open and greets {pronoun} as {reflexive}")
def step_chat_greets(context, actor, pronoun, reflexive):
    """The welcome frame names the actor and the socket answers a ping."""
    person = context.world.actor(actor)
    journey.chat_greets(person, person.chats[-1])


@then("the platform selects the sub-protocol entry that carried {actor:Name}'s token")
def step_subprotocol_echoed(context, actor):
    """The handshake answer selects exactly the client's jwt.<token> entry."""
    person = context.world.actor(actor)
    journey.subprotocol_echoed(person, person.chats[-1])


@given("{actor:Name} has asked for a chat ticket")
def step_has_ticket(context, actor):
    """Requests a one-time chat ticket over REST."""
    context.world.sign_in.ticket = context.world.actor(actor).chat_ticket()


@when("{actor:Name} opens the chat with that ticket")
def step_opens_with_ticket(context, actor):
    """Opens the chat with the ticket requested before."""
    context.world.actor(actor).open_chat("ticket", context.world.sign_in.ticket)


@when("someone opens the chat with the same ticket again")
def step_reuses_ticket(context):
    """A second handshake with an already redeemed ticket."""
    context.world.sign_in.handshake = journey.attempt_chat(_stranger(context), "ticket", context.world.sign_in.ticket)


@when("someone opens the chat with a ticket that was never issued")
def step_unknown_ticket(context):
    """A handshake with a made-up ticket id."""
    context.world.sign_in.handshake = journey.attempt_chat(_stranger(context), "ticket", f"tkt_{uuid.uuid4().hex}")


@when("someone opens the chat with a bad authorization header and {actor:Name}'s valid token in the address")
def step_bad_header_good_query(context, actor):
    """A handshake whose Authorization header is invalid while ?token= holds a valid token."""
    person = context.world.actor(actor).ensure_account()
    context.world.sign_in.handshake = journey.attempt_chat_with_header_and_address(person, journey.NOT_A_TOKEN,
                                                                                   person.access_token)


@when("someone opens the chat without any credential")
def step_no_credential(context):
    """A handshake that presents nothing."""
    context.world.sign_in.handshake = journey.attempt_chat(_stranger(context), "none", None)


@then("the chat connection is refused before any message is exchanged")
def step_chat_refused(context):
    """HTTP 403 at the handshake (or, from a Netra-dialect target, AUTH_FAILED and close 1008)."""
    journey.expect_chat_refused(context.world, context.world.sign_in.handshake, "the chat handshake")


# ---- token rules ------------------------------------------------------------------------------
@given("someone has made a token for {actor:Name} with {flaw:Forgery}")
def step_forged_token(context, actor, flaw):
    """A token for the actor, valid but for exactly one flaw, made with the target's secret."""
    _hold(context, journey.forged(context.world.actor(actor), flaw), actor,
          f"a token for {actor} with {journey.forgery_name(flaw)}")


@given("someone holds {actor:Name}'s renewal token in place of an access token")
def step_holds_refresh(context, actor):
    """The actor's genuine refresh token, to be used as an access token."""
    _hold(context, context.world.actor(actor).ensure_account().tokens.refresh_token, actor,
          f"{actor}'s renewal token used as an access token")


@given("someone holds an access token {actor:Name} has signed out of")
def step_holds_revoked(context, actor):
    """The actor's access token after signing out with it."""
    _hold(context, journey.signed_out_token(context.world.actor(actor)), actor,
          f"an access token {actor} has signed out of")


@given("someone holds a string that is not a token")
def step_holds_garbage(context):
    """Text that is no JWT at all."""
    _hold(context, journey.NOT_A_TOKEN, "Stranger", "a string that is not a token")


def _hold(context, token, owner, description):
    context.world.sign_in.held = HeldToken(token, owner, description)


def _held(context):
    """The token someone holds, and the person whose connection presents it."""
    held = context.world.sign_in.held
    return held, context.world.actor(held.presenter)


@then("listing conversations with that token is refused as not signed in")
def step_api_refuses_token(context):
    """GET /api/threads with the token answers 401."""
    held, presenter = _held(context)
    journey.api_refuses(presenter, held.token, f"listing conversations with {held.what}")


@then("the auth service declares that token invalid")
def step_validate_invalid(context):
    """POST /auth/validate answers valid: false."""
    held, presenter = _held(context)
    journey.auth_service_says_invalid(presenter, held.token, held.what)


@then("opening the chat with that token is refused whichever way it is presented:")
def step_chat_refuses_token(context):
    """Each credential form of the table is refused at the handshake."""
    forms = {row["credential form"]: CREDENTIAL_FORMS[row["credential form"]] for row in context.table}
    held, presenter = _held(context)
    journey.chat_refuses_every_form(presenter, held.token, forms, held.what)


@when("someone lists conversations without any token")
def step_list_without_token(context):
    """GET /api/threads without an Authorization header."""
    context.world.response = _stranger(context).list_threads_with(None)


@then("that request is refused as not signed in")
def step_request_refused(context):
    """401 in the contract's error shape."""
    journey.api_refusal(context.world.response, "listing conversations without a token")
