"""The doctor names the dialect a target speaks and the -D setting that selects it (docs/netra-2025.md)."""
from dataclasses import replace

import pytest

from acceptance.client import config
from acceptance.runner import doctor, embedded


@pytest.fixture(scope="module")
def netra_2025():
    platform, cfg = embedded.start(config.load({"pacing_ms": "0-0", "platform_dialect": "netra-2025"}, env={}))
    yield cfg
    platform.stop()


def _dialect_check(diagnosis) -> doctor.Check:
    return next(c for c in diagnosis.checks if c.name == "dialect")


def test_a_netra_2025_target_declared_as_such_passes_every_check(netra_2025):
    diagnosis = doctor.diagnose(netra_2025, env={})
    assert diagnosis.ok, diagnosis.report()
    check = _dialect_check(diagnosis)
    assert "Netra 2025" in check.detail and "-D platform_dialect=netra-2025" in check.detail
    forms = {c.name: c.verdict for c in diagnosis.checks if c.name.startswith("handshake")}
    assert set(forms.values()) == {doctor.PASS} and len(forms) == 5, forms


def test_a_netra_2025_target_the_suite_is_not_set_for_is_named_with_its_setting(netra_2025):
    diagnosis = doctor.diagnose(replace(netra_2025, platform_dialect="canonical"), env={})
    failed = [c for c in diagnosis.checks if c.verdict == doctor.FAIL]
    assert [c.name for c in failed] == ["dialect"], diagnosis.report()
    assert "Netra 2025" in failed[0].detail and "set for canonical" in failed[0].detail
    assert "-D platform_dialect=netra-2025" in failed[0].cause and "PLATFORM_DIALECT=netra-2025" in failed[0].cause


def test_a_canonical_target_declared_netra_2025_is_named_canonical():
    platform, cfg = embedded.start(config.load({"pacing_ms": "0-0"}, env={}))
    try:
        diagnosis = doctor.diagnose(replace(cfg, platform_dialect="netra-2025"), env={})
    finally:
        platform.stop()
    check = _dialect_check(diagnosis)
    assert check.verdict == doctor.FAIL and "-D platform_dialect=canonical" in check.cause, diagnosis.report()


def test_a_netra_target_is_named_with_its_setting_too():
    platform, cfg = embedded.start(config.load({"pacing_ms": "0-0", "platform_dialect": "netra"}, env={}))
    try:
        declared = doctor.diagnose(cfg, env={})
        undeclared = doctor.diagnose(replace(cfg, platform_dialect="canonical"), env={})
    finally:
        platform.stop()
    assert declared.ok and "September 2025" in _dialect_check(declared).detail, declared.report()
    assert "-D platform_dialect=netra" in _dialect_check(undeclared).cause, undeclared.report()
