"""Sign-in journeys (CONTRACT sections 2, 4 and 7): accounts, sessions, simulated OAuth, and the rules
every token must pass, through the REST API and through each way of opening the chat.

Steps call these functions; each one either returns what the next step needs or raises a classified
failure that says what was expected, what happened and the evidence.
"""
from __future__ import annotations

import time
import uuid
from typing import Any

from acceptance.client.auth import FORGERIES, TokenForge, TokenPair
from acceptance.client.chat import ChatSession, Credential, Handshake, _with_query
from acceptance.client.events import Event
from acceptance.client.rest import Response
from acceptance.client.waiting import wait_until
from acceptance.journeys.actors import Actor, World
from acceptance.journeys.state import SentFrame
from acceptance.verify import checks
from acceptance.verify.errors import AuthenticationFailure, ContractViolation
from acceptance.verify.schemas import validate_body, validate_frame

STANDARD_PERMISSIONS = ["read", "write", "chat", "agent:execute"]
LOGIN_WINDOW_S = 60
NOT_A_TOKEN = "this-is-not-a-token"


# ---- the target ---------------------------------------------------------------------------------
def speaks_netra(world: World) -> bool:
    """True when the target is declared to speak a Netra dialect (``platform_dialect=netra`` or ``netra-2025``);
    only then do the contract's Compat answers (200 on sign-up, accept-then-AUTH_FAILED refusals) count."""
    return world.config.platform_dialect in ("netra", "netra-2025")


# ---- tokens bodies and refusals -----------------------------------------------------------------
def expect_tokens(response: Response, what: str) -> dict[str, Any]:
    """The body of a successful sign-up, sign-in or renewal follows the contract's tokens shape."""
    body = response.expect_json_object(ContractViolation)
    try:
        validate_body("tokens", body)
    except ContractViolation as exc:
        raise ContractViolation(f"{what}: {exc.detail}") from None
    return body


def expect_refused(response: Response, status: int, what: str, detail: str | None = None) -> dict[str, Any]:
    """``what`` was refused with ``status``, in the contract's error shape, and handed out no token."""
    if 200 <= response.status < 300:
        raise AuthenticationFailure(f"{what} should be refused with {status}, but it was accepted; "
                                    f"{response.evidence()}")
    body = checks.status_is(response, status, what, AuthenticationFailure)
    if "access_token" in body or "refresh_token" in body:
        raise AuthenticationFailure(f"{what} was refused but still handed out tokens; {response.evidence()}")
    if detail is not None and detail.lower() not in str(body.get("detail", "")).lower():
        raise ContractViolation(f"{what} should say {detail!r}; {response.evidence()}")
    return body


# ---- accounts -----------------------------------------------------------------------------------
def sign_up(actor: Actor) -> TokenPair:
    """Registers the actor; 201 with tokens (200 only from a Netra-dialect target)."""
    pair = actor.register()
    response = actor.last_response
    if response.status != 201 and not speaks_netra(actor.world):
        raise ContractViolation(f"signing {actor.name} up should answer 201 Created; {response.evidence()}")
    expect_tokens(response, f"signing {actor.name} up")
    return pair


def account_is_standard(actor: Actor) -> None:
    """The new account is the actor's (email, name) with the permissions every new user gets."""
    user = actor.tokens.user
    evidence = actor.last_response.evidence() if actor.last_response else user
    checks.equal(str(user.get("email", "")).lower(), actor.email.lower(), f"the email of {actor.name}'s new account")
    checks.equal(user.get("name"), actor.name, f"the name of {actor.name}'s new account")
    if sorted(user.get("permissions") or []) != sorted(STANDARD_PERMISSIONS):
        raise ContractViolation(f"a new user gets the permissions {STANDARD_PERMISSIONS}, {actor.name} got "
                                f"{user.get('permissions')}; {evidence}")


def sign_in(actor: Actor) -> TokenPair:
    """Signs the actor in with the right password; the answer carries a new pair of tokens."""
    before = actor.tokens
    pair = actor.sign_in()
    expect_tokens(actor.last_response, f"signing {actor.name} in")
    if before is not None and (pair.access_token == before.access_token or pair.refresh_token == before.refresh_token):
        raise AuthenticationFailure(f"signing {actor.name} in handed out the tokens of an earlier session again")
    return pair


def platform_knows(actor: Actor) -> None:
    """``/auth/me`` with the actor's access token names the actor's own account."""
    response = actor.auth.me(actor.access_token).expect_status(200, category=AuthenticationFailure,
                                                               what=f"asking who {actor.name} is")
    validate_body("me", response.body)
    me = response.body
    checks.equal(me["user_id"], actor.user_id, f"the user id the platform gives {actor.name}", AuthenticationFailure)
    checks.equal(me["email"].lower(), actor.email.lower(), f"the email the platform knows {actor.name} by",
                 AuthenticationFailure)
    checks.equal(me["name"], actor.name, f"the name the platform knows {actor.name} by")


def wrong_password(actor: Actor) -> str:
    return actor.password + "-wrong"


def unknown_email() -> str:
    return f"nobody.{uuid.uuid4().hex[:10]}@example.test"


def wrong_passwords(actor: Actor, n: int) -> list[Response]:
    """``n`` sign-in attempts for the actor's email with a wrong password."""
    return [actor.attempt_sign_in(actor.email, wrong_password(actor)) for _ in range(n)]


def invalid_credentials(response: Response, what: str = "the sign-in") -> None:
    expect_refused(response, 401, what, detail="Invalid credentials")


def try_again_later(response: Response, what: str) -> None:
    """429 in the contract's error shape, with tokens withheld."""
    expect_refused(response, 429, what)


def retry_after_seconds(response: Response, limit: int = LOGIN_WINDOW_S) -> int:
    """The ``Retry-After`` header of a 429: whole seconds, at least 1 and at most ``limit``."""
    raw = {k.lower(): v for k, v in response.headers.items()}.get("retry-after")
    if raw is None:
        raise ContractViolation(f"a 'try again later' answer must say when, in a Retry-After header; "
                                f"headers {response.headers}; {response.evidence()}")
    try:
        seconds = int(raw.strip())
    except ValueError:
        raise ContractViolation(f"Retry-After should be a number of seconds, not {raw!r}; "
                                f"{response.evidence()}") from None
    if not 1 <= seconds <= limit:
        raise ContractViolation(f"Retry-After should be between 1 and {limit} seconds (the failures are counted "
                                f"over {limit} s), got {seconds}; {response.evidence()}")
    return seconds


# ---- sessions -----------------------------------------------------------------------------------
def renew(actor: Actor) -> TokenPair:
    pair = actor.refresh()
    expect_tokens(actor.last_response, f"renewing {actor.name}'s session")
    return pair


def holds_new_pair(actor: Actor) -> None:
    """The actor's current tokens differ from the previous pair and belong to the same account."""
    if not actor.previous_tokens:
        raise ContractViolation(f"{actor.name} has renewed no session yet")
    pair, before = actor.tokens, actor.previous_tokens[-1]
    if pair.access_token == before.access_token or pair.refresh_token == before.refresh_token:
        raise AuthenticationFailure(f"renewing {actor.name}'s session must give a new pair of tokens; it gave back "
                                    f"{'the same access token' if pair.access_token == before.access_token else 'the same refresh token'}")
    checks.equal(str(pair.user.get("id")), str(before.user.get("id")),
                 f"the account of {actor.name}'s renewed session", AuthenticationFailure)
    checks.equal(TokenForge.peek(pair.access_token).get("sub"), str(before.user.get("id")),
                 f"the subject of {actor.name}'s renewed access token", AuthenticationFailure)


def renewal_refused(actor: Actor, refresh_token: str, what: str) -> None:
    expect_refused(actor.attempt_renewal(refresh_token), 401, what)


def session_still_works(actor: Actor, tokens: TokenPair, where: str) -> None:
    """A sign-in's access token still lists conversations and its refresh token still renews it."""
    api_works(actor, tokens.access_token, f"listing {actor.name}'s conversations {where}")
    response = actor.attempt_renewal(tokens.refresh_token)
    response.expect_status(200, category=AuthenticationFailure, what=f"renewing {actor.name}'s session {where}")
    expect_tokens(response, f"renewing {actor.name}'s session {where}")


def same_account_as_before(actor: Actor) -> None:
    """The latest sign-in reached the account of the one before it."""
    checks.equal(str(actor.tokens.user.get("id")), str(actor.previous_tokens[-1].user.get("id")),
                 f"the account {actor.name} reached", AuthenticationFailure)


def subprotocol_echoed(actor: Actor, chat: ChatSession) -> None:
    checks.equal(chat.handshake.subprotocol, chat.subprotocol_entry(actor.access_token),
                 "the sub-protocol the platform selected")


def api_works(actor: Actor, token: str, what: str) -> None:
    response = actor.list_threads_with(token)
    response.expect_status(200, category=AuthenticationFailure, what=what)
    validate_body("thread_list", response.body)


def api_refuses(actor: Actor, token: str | None, what: str) -> None:
    """The backend answers 401 in the contract's error shape (CONTRACT section 3)."""
    api_refusal(actor.list_threads_with(token), what)


def api_refusal(response: Response, what: str) -> None:
    if 200 <= response.status < 300:
        raise AuthenticationFailure(f"{what}: the platform listed conversations for a token it must refuse; "
                                    f"{response.evidence()}")
    checks.status_is(response, 401, what, AuthenticationFailure)


def auth_service_says_invalid(actor: Actor, token: str, what: str) -> None:
    """``/auth/validate`` answers 200 ``{valid:false, error}`` for a token the platform must not honour."""
    response = actor.auth.validate(token, "access").expect_status(200, what=f"validating {what}")
    validate_body("validate", response.body)
    if response.body.get("valid") is not False:
        raise AuthenticationFailure(f"the auth service declared {what} valid; {response.evidence()}")


def wait_for_expiry(token: str, margin_s: float = 0.5) -> float:
    """Waits (bounded) until the token's own ``exp`` instant has passed; returns that instant."""
    exp = float(TokenForge.peek(token)["exp"])
    wait_until(lambda: time.time() > exp + margin_s, max(0.0, exp - time.time()) + margin_s + 1.0,
               "the token's expiry instant", interval=0.05)
    return exp


# ---- the chat handshake -------------------------------------------------------------------------
class _HeaderAndAddressSession(ChatSession):
    """A socket presenting an authorization header and, in the address, a second token."""

    def __init__(self, *args, address_token: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.address_token = address_token

    def _connect_args(self):
        url, kwargs = super()._connect_args()
        return _with_query(url, token=self.address_token), kwargs


def attempt_chat(actor: Actor, form: str, value: str | None) -> Handshake:
    return actor.attempt_chat(Credential(form, value))


def attempt_chat_with_header_and_address(actor: Actor, header_token: str, address_token: str) -> Handshake:
    return actor.attempt_chat(Credential("bearer", header_token), _HeaderAndAddressSession,
                              address_token=address_token)


def refusal_problem(world: World, handshake: Handshake) -> str | None:
    """Why this handshake is not a refusal the contract allows; None when it is one.

    A refusal is HTTP 403 with no frame, or (Compat, only from a Netra-dialect target) accept, then
    AUTH_FAILED, then close 1008 (``ChatSession.attempt`` already insists on 1008 after AUTH_FAILED)."""
    if handshake.accepted:
        return f"the platform let the chat open: {handshake.describe()}"
    if handshake.status is not None:
        return None if handshake.status == 403 else f"a refusal must answer HTTP 403; {handshake.describe()}"
    if speaks_netra(world):
        return None
    return (f"{handshake.describe()}: that Compat refusal counts only from a target declared to speak the "
            f"Netra dialect; this one must answer the handshake with HTTP 403")


def expect_chat_refused(world: World, handshake: Handshake, what: str) -> None:
    problem = refusal_problem(world, handshake)
    if problem is not None:
        raise AuthenticationFailure(f"{what}: {problem}")


def chat_refuses_every_form(actor: Actor, token: str, forms: dict[str, str], what: str) -> None:
    """Presents the token through each form (label -> form); fails listing every form that let it in."""
    problems = []
    for label, form in forms.items():
        problem = refusal_problem(actor.world, attempt_chat(actor, form, token))
        if problem is not None:
            problems.append(f"through {label}: {problem}")
    if problems:
        raise AuthenticationFailure(f"{what} must be refused whichever way it is presented; "
                                    + "; ".join(problems))


def chat_greets(actor: Actor, chat: ChatSession) -> None:
    """The socket is open, its welcome names the actor, and it answers a ping."""
    welcome = chat.handshake.welcome
    validate_frame(welcome)
    checks.equal(welcome.data.get("user_id"), actor.user_id,
                 f"the user id in the welcome of {actor.name}'s chat", AuthenticationFailure)
    still_open(actor, chat)


def still_open(actor: Actor, chat: ChatSession) -> Event:
    if not chat.is_open:
        raise ContractViolation(f"{actor.name}'s chat should be open; {chat.log.describe()}")
    pong = chat.ping(f"still-there-{uuid.uuid4().hex[:8]}", actor.world.config.first_event_timeout)
    validate_frame(pong)
    return pong


def closed_for_policy(actor: Actor, sent: SentFrame) -> None:
    """After a ping sent on an expired token: no answer to it, and close code 1008."""
    chat = sent.chat

    def answer_or_close(events: list[Event]):
        pong = next((e for e in events if e.type == "pong" and e.data.get("nonce") == sent.nonce), None)
        return pong or chat.log.closed
    outcome = chat.log.wait_for(answer_or_close, actor.world.config.first_event_timeout,
                                   f"{actor.name}'s chat to close after its token expired",
                                   category_cls=AuthenticationFailure, fail_on_close=False)
    if isinstance(outcome, Event):
        raise AuthenticationFailure(f"the platform answered a frame sent after {actor.name}'s token expired "
                                    f"instead of closing the chat: {outcome.compact()}")
    if outcome.code != 1008:
        raise AuthenticationFailure(f"a chat whose token expired must close with 1008 (policy violation), it "
                                    f"closed with {outcome}; {chat.log.describe()}")


# ---- simulated OAuth ----------------------------------------------------------------------------
def simulated_sign_in(actor: Actor, permissions: list[str] | None = None) -> TokenPair:
    pair = actor.sign_in_with_bypass(permissions)
    expect_tokens(actor.last_response, f"simulated sign-in of {actor.name}")
    marked_simulated(actor.last_response)
    if permissions is not None and sorted(pair.user.get("permissions") or []) != sorted(permissions):
        raise AuthenticationFailure(f"{actor.name} asked for the permissions {permissions} and got "
                                    f"{pair.user.get('permissions')}; {actor.last_response.evidence()}")
    return pair


def marked_simulated(response: Response) -> None:
    """The tokens answer of a simulated sign-in marks its user with ``oauth_simulated: true``."""
    user = response.body.get("user") if isinstance(response.body, dict) else None
    if not isinstance(user, dict) or user.get("oauth_simulated") is not True:
        raise ContractViolation(f"a simulated sign-in must mark the user with oauth_simulated: true; "
                                f"{response.evidence()}")


def wrong_bypass_key(world: World) -> str:
    return world.config.require_bypass_key().value + "-wrong"


def permissions_from(text: str) -> list[str]:
    """'read and chat' / 'read, chat and write' -> ['read', 'chat', ...]."""
    return [p.strip() for p in text.replace(" and ", ",").split(",") if p.strip()]


def refused_as_forbidden(actor: Actor) -> Event:
    """The actor's last start of a run was refused with FORBIDDEN; a started run is an authorisation breach."""
    return checks.start_refused(actor.last_attempt.outcome, "FORBIDDEN",
                                f"{actor.name}'s start of an agent without agent:execute",
                                started_category=AuthenticationFailure)


# ---- tokens someone might present ---------------------------------------------------------------
def forgery_name(kind: str) -> str:
    """The business name of a forgery kind ('bad_signature' -> 'a wrong signature')."""
    return next((name for name, value in FORGERIES.items() if value == kind), kind)


def forged(actor: Actor, kind: str) -> str:
    actor.ensure_account()
    return actor.world.forge().forge(kind, actor.user_id, actor.email)


def signed_out_token(actor: Actor) -> str:
    actor.ensure_account()
    token = actor.access_token
    actor.sign_out(token)
    return token
