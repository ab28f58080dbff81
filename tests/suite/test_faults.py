"""The fault catalogue: complete, documented, and impossible to switch on by accident."""
from pathlib import Path

import pytest

from acceptance.runner.mutants import CI_SUBSET, EXPECTATIONS
from reference_platform.config import Settings
from reference_platform.faults import CATALOGUE, FaultConfigError, Faults

ROOT = Path(__file__).resolve().parents[2]


def test_catalogue_has_at_least_25_faults_each_with_an_expectation():
    assert len(CATALOGUE) >= 25
    assert set(EXPECTATIONS) == set(CATALOGUE)
    assert set(CI_SUBSET) <= set(CATALOGUE)


def test_every_fault_is_documented_in_one_line():
    doc = (ROOT / "docs" / "faults.md").read_text()
    for name, description in CATALOGUE.items():
        line = next((l for l in doc.splitlines() if l.startswith(f"| `{name}` |")), None)
        assert line and description in line and EXPECTATIONS[name][1] in line, name


def test_every_fault_has_a_seam_in_the_platform():
    from reference_platform.faults import WAIVED_TOKEN_RULES
    source = "".join(p.read_text() for p in (ROOT / "reference_platform").rglob("*.py") if p.name != "faults.py")
    assert [n for n in CATALOGUE if f'"{n}"' not in source and n not in WAIVED_TOKEN_RULES] == []


def test_faults_are_off_unless_named():
    settings = Settings.from_env(env={})
    assert not settings.faults and all(not settings.faults.active(n) for n in CATALOGUE)


def test_unknown_fault_names_are_refused_at_start_up():
    with pytest.raises(FaultConfigError, match="unknown fault"):
        Settings.from_env(env={"PLATFORM_FAULTS": "savings_total_misses_on"})


def test_faults_are_refused_in_production():
    with pytest.raises(FaultConfigError, match="production"):
        Faults.from_env({"PLATFORM_FAULTS": "stop_ignored", "ENVIRONMENT": "production"})


def test_asking_for_an_uncatalogued_fault_is_a_programming_error():
    with pytest.raises(KeyError):
        Faults.none().active("no_such_fault")
