"""Clause coverage: every testable clause is named by a scenario or excused with a reason and a test,
every scenario names what it checks, and the table in docs/ is the one the command prints."""
from __future__ import annotations

from acceptance.__main__ import main
from acceptance.runner import coverage
from acceptance.verify import contract

DOC = contract.ROOT / "docs" / "clause-coverage.md"


def test_every_clause_is_covered():
    cov = coverage.measure()
    assert cov.uncovered == [] and cov.unknown_tags == [] and cov.missing_tests == [] and cov.excused_but_named == []
    assert cov.ok and cov.percent == 100.0


def test_every_scenario_names_the_clauses_it_checks():
    named = {str(ref) for refs in coverage.scenarios_by_clause()[0].values() for ref in refs}
    from behave.parser import parse_file
    every = set()
    for path in sorted(coverage.FEATURES.rglob("*.feature")):
        for scenario in parse_file(str(path)).walk_scenarios(with_outlines=True):
            if " -- @" not in scenario.name:
                every.add(str(coverage.ScenarioRef(str(path.relative_to(contract.ROOT)), scenario.line, scenario.name)))
    assert every - named == set()


def test_a_tag_naming_no_clause_and_a_missing_test_are_reported(tmp_path, monkeypatch):
    feature = tmp_path / "x.feature"
    feature.write_text("Feature: x\n  @clause:WS-9.9 @clause:WS-4.3\n  Scenario: y\n    Given z\n")
    found, unknown = coverage.scenarios_by_clause(tmp_path)
    assert [cid for cid, _ in unknown] == ["WS-9.9"] and [r.line for r in found["WS-4.3"]] == [3]
    assert not coverage._test_exists("tests/platform/test_ws.py::test_that_does_not_exist")
    assert coverage._test_exists("tests/platform/test_ws.py::test_heartbeats_arrive_when_idle")


def test_the_command_prints_every_clause(capsys):
    assert main(["coverage"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Contract {contract.version()}: {len(contract.clause_ids())} clauses;")
    for cid in contract.clause_ids():
        assert f"\n{cid} " in out
    assert "Uncovered: none" in out


def test_the_table_in_the_docs_is_current():
    assert DOC.read_text(encoding="utf-8") == coverage.measure().markdown(), (
        "regenerate it: python -m acceptance coverage --markdown docs/clause-coverage.md")
