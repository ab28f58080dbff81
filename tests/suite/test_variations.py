"""The variation catalogue: documented with the clause that allows each, switchable by name, refused
when unknown, and off by default (the default platform is unchanged)."""
import json
import re
from pathlib import Path

import pytest

from acceptance.client import config
from acceptance.runner import embedded
from acceptance.runner.mutants import main as mutants_main
from reference_platform.config import Settings
from reference_platform.variations import CATALOGUE, SLOW, VariationConfigError, Variations, plain_money

ROOT = Path(__file__).resolve().parents[2]


def test_catalogue_has_at_least_20_variations_and_a_stochastic_one():
    assert len(CATALOGUE) >= 20
    assert "stochastic" in CATALOGUE


def test_every_variation_is_documented_with_the_clause_that_allows_it():
    doc = (ROOT / "docs" / "variations.md").read_text()
    for name, description in CATALOGUE.items():
        line = next((l for l in doc.splitlines() if l.startswith(f"| `{name}` |")), None)
        assert line, f"{name} is not in docs/variations.md"
        assert description in line, name
        assert re.search(r"§\s?\d|[A-Z]+-\d", line), f"{name}: no contract clause named"


def test_every_variation_has_a_seam_in_the_platform():
    source = "".join(p.read_text() for p in (ROOT / "reference_platform").rglob("*.py") if p.name != "variations.py")
    seams = source + (ROOT / "reference_platform" / "variations.py").read_text().split("class VariationConfigError")[1]
    assert [n for n in CATALOGUE if f'"{n}"' not in seams] == []


def test_variations_are_off_unless_named():
    settings = Settings.from_env(env={})
    assert not settings.variations and all(not settings.variations.active(n) for n in CATALOGUE)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_each_variation_is_switched_on_by_name(name):
    assert Settings.from_env(env={"PLATFORM_VARIATIONS": name}).variations.names == {name}
    assert config.load({"platform_variations": name}, env={}).platform_variations == name
    assert config.load({}, env={"PLATFORM_VARIATIONS": name}).platform_variations == name


def test_all_switches_on_every_variation_but_the_slow_ones():
    names = Variations.parse("all").names
    assert names == set(CATALOGUE) - set(SLOW)
    assert Variations.parse("all,cold_start").names == set(CATALOGUE) - {"slow_pacing"}


def test_unknown_variation_names_are_refused_at_start_up():
    with pytest.raises(VariationConfigError, match="unknown variation"):
        Settings.from_env(env={"PLATFORM_VARIATIONS": "uuid_idz"})
    with pytest.raises(KeyError):
        Variations.none().active("no_such_variation")


def test_the_mutation_runner_refuses_unknown_variations(capsys):
    assert mutants_main(["--faults", "stop_ignored", "--variations", "no_such"]) == 2
    assert "unknown variation" in capsys.readouterr().err


def test_stochastic_draws_differ_between_runs_and_repeat_with_a_seed():
    a = Variations.parse("stochastic", seed=7)
    b = Variations.parse("stochastic", seed=7)
    draws = [a.draw() for _ in range(20)]
    assert draws == [b.draw() for _ in range(20)]
    assert len(set(draws)) > 1
    assert Variations.none().draw() is None


def test_pacing_precedence_is_defined():
    assert Variations.parse("slow_pacing,fast_pacing").pacing(3, 8) == (1, 3)
    assert Variations.parse("slow_pacing").pacing(3, 8) == (60, 120)
    assert Variations.none().pacing(3, 8) == (3, 8)


def test_plain_money_drops_trailing_zeros_only():
    assert json.dumps(plain_money({"a": 423.0, "b": [423.5, 1]})) == '{"a": 423, "b": [423.5, 1]}'


def test_a_varied_platform_speaks_the_variations():
    platform, cfg = embedded.start(config.load({"pacing_ms": "0-0", "platform_variations": "heartbeat_1s,uuid_ids,"
                                                                     "timestamps_offset,extra_frame_fields"}, env={}))
    try:
        from acceptance.client.redaction import Redactor
        from acceptance.client.rest import HttpClient
        from acceptance.journeys.actors import World
        world = World(cfg, HttpClient(), Redactor())
        alice = world.actor("Alice")
        alice.ensure_account()
        session = alice.open_chat()
        welcome = session.handshake.welcome
        assert welcome.data["heartbeat_interval_s"] == 1
        assert welcome.raw["timestamp"].endswith("+00:00") and welcome.raw["x_server"] == "reference-platform"
        run = session.start("How can my team spend less on AI?")
        assert re.fullmatch(r"[0-9a-f-]{36}", run.run_id)
        session.wait_for_end(run, 30)
        world.teardown()
    finally:
        platform.stop()


def test_the_embedded_platform_carries_no_variation_unless_named():
    platform, _ = embedded.start(config.load({"pacing_ms": "0-0"}, env={}))
    try:
        assert not platform.settings.variations
    finally:
        platform.stop()
