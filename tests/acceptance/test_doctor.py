"""The doctor against the embedded platform: a healthy target, and a deliberate secret mismatch."""
import pytest

from acceptance.client import config
from acceptance.runner import doctor, embedded


@pytest.fixture(scope="module")
def target():
    platform, cfg = embedded.start(config.load({"pacing_ms": "0-0"}, env={}))
    yield cfg
    platform.stop()


def _with_secret(cfg, value, source="JWT_SECRET_KEY"):
    from dataclasses import replace
    return replace(cfg, jwt_secret=config.Secret(value, source))


def test_healthy_target_passes_every_check(target):
    diagnosis = doctor.diagnose(target, env={})
    assert diagnosis.ok, diagnosis.report()
    names = {c.name for c in diagnosis.checks}
    assert {"health", "readiness", "sign-in", "minted token", "handshake (bearer)", "handshake (subprotocol)",
            "handshake (query)", "handshake (ticket)", "dialect", "clock skew"} <= names


def test_secret_mismatch_is_diagnosed_with_its_cause(target):
    wrong = _with_secret(target, "not-the-platform-secret-" + "x" * 20)
    diagnosis = doctor.diagnose(wrong, env={})
    assert not diagnosis.ok
    failed = {c.name: c for c in diagnosis.checks if c.verdict == doctor.FAIL}
    assert set(failed) == {"minted token", "handshake (minted token)"}
    assert "minted from JWT_SECRET_KEY" in failed["handshake (minted token)"].detail
    assert "different secret" in failed["handshake (minted token)"].cause
    assert "x" * 20 not in diagnosis.report()


def test_secret_order_hint_when_the_other_variable_differs(target):
    wrong = _with_secret(target, "not-the-platform-secret-" + "x" * 20)
    env = {"JWT_SECRET_KEY": "not-the-platform-secret-" + "x" * 20, "JWT_SECRET_DEVELOPMENT": "y" * 40}
    diagnosis = doctor.diagnose(wrong, env=env)
    cause = next(c.cause for c in diagnosis.checks if c.name == "minted token")
    assert "JWT_SECRET_DEVELOPMENT" in cause and "jwt_secret_order=compat" in cause


def test_unreachable_target_fails_at_health():
    cfg = config.load({"base_url": "http://127.0.0.1:9", "preflight_timeout": "1"}, env={})
    diagnosis = doctor.diagnose(cfg, env={})
    assert [c.verdict for c in diagnosis.checks] == [doctor.FAIL]
    assert "not running" in diagnosis.checks[0].cause


def test_missing_secret_is_reported_not_failed(target):
    from dataclasses import replace
    diagnosis = doctor.diagnose(replace(target, jwt_secret=None), env={})
    check = next(c for c in diagnosis.checks if c.name == "minted token")
    assert check.verdict == doctor.NOT_CHECKED and "JWT_SECRET_KEY" in check.detail
