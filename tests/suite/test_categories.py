"""Every report category is reached by its own kind of failure, raised by the real library."""
import re

import pytest

from acceptance.client import config
from acceptance.client.chat import Credential
from acceptance.client.redaction import Redactor
from acceptance.client.rest import HttpClient, Response
from acceptance.journeys.actors import World
from acceptance.verify.errors import categories, exception_message
from acceptance.runner import embedded
from acceptance.verify import checks, schemas
from acceptance.verify.errors import AuthenticationFailure


def category_of(exc: BaseException, status: str) -> str:
    """The Allure category a result with this exception lands in (first match wins, as in Allure)."""
    message = exception_message(exc)
    for category in categories():
        if status in category.get("matchedStatuses", []) and re.fullmatch(category["messageRegex"], message):
            return category["name"]
    return "uncategorised"


@pytest.fixture(scope="module")
def world():
    platform, cfg = embedded.start(config.load({"pacing_ms": "0-0"}, env={}))
    http = HttpClient(timeout=5)
    yield World(cfg, http, Redactor(), platform=platform)
    http.close()
    platform.stop()


def _raised(fn):
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001 - the point is to classify whatever was raised
        return exc
    raise AssertionError("expected a failure")


def test_unreachable_target_is_infrastructure():
    http = HttpClient(timeout=1)
    exc = _raised(lambda: http.request("GET", "http://127.0.0.1:9/health"))
    assert category_of(exc, "broken") == "Infrastructure"


def test_refused_valid_session_is_authentication(world):
    alice = world.actor("Alice").ensure_account()
    forged = world.forge().forge("bad_signature", alice.user_id, alice.email)
    exc = _raised(lambda: alice.new_chat(Credential("bearer", forged)).open())
    assert isinstance(exc, AuthenticationFailure)
    assert category_of(exc, "failed") == "Authentication"


def test_malformed_frame_is_contract():
    exc = _raised(lambda: schemas.validate_frame({"type": "agent_started", "message_id": "nope", "data": {}}))
    assert category_of(exc, "failed") == "Contract"


def test_wrong_savings_is_business_outcome():
    exc = _raised(lambda: checks.money_equals(400.0, "423.00", "the monthly saving", {}))
    assert category_of(exc, "failed") == "Business outcome"


def test_probeable_foreign_resource_is_isolation_breach():
    foreign = Response("GET", "/api/threads/x", 403, {}, '{"detail":"Forbidden"}', 1.0, {"detail": "Forbidden"})
    missing = Response("GET", "/api/threads/y", 404, {}, '{"detail":"Thread not found"}', 1.0,
                       {"detail": "Thread not found"})
    exc = _raised(lambda: checks.same_as_missing(foreign, missing, "reading a thread"))
    assert category_of(exc, "failed") == "Isolation breach"


@pytest.mark.parametrize("status", ["failed", "broken"])
def test_anything_else_is_a_suite_defect(status):
    exc = _raised(lambda: {}["missing key"]) if status == "broken" else _raised(lambda: _plain_assert())
    assert category_of(exc, status) == "Suite defect"


def _plain_assert():
    assert 1 == 2, "a bare assert in a step"


def test_missing_setting_names_it_and_is_infrastructure():
    cfg = config.load({"base_url": "https://x.example"}, env={})
    exc = _raised(cfg.require_jwt_secret)
    assert "JWT_SECRET_KEY" in str(exc) and category_of(exc, "failed") == "Infrastructure"
