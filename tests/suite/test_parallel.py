"""`bin/suite-parallel` (acceptance.runner.parallel): the split, the selection by location, and a run with
2 workers whose merged report says exactly what the serial run says, scenario by scenario."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from acceptance.reporting.results_folder import read_environment
from acceptance.runner import parallel
from acceptance.runner.parallel import Item

ROOT = Path(__file__).resolve().parents[2]
SELECTION = ["features/business_value", "features/sign_in", "features/health"]


# ---------------------------------------------------------------------------- the comparison
def _digest(results_dir: Path) -> dict:
    digest = parallel.report_digest(results_dir)
    for path in results_dir.glob("*-result.json"):
        for source in (a["source"] for a in json.loads(path.read_text()).get("attachments") or []):
            assert (results_dir / source).is_file(), f"{source} of {path.name} is missing"
    return digest


@pytest.fixture(scope="module")
def serial_and_parallel(tmp_path_factory):
    base = tmp_path_factory.mktemp("parallel")
    serial = base / "serial" / "allure-results"
    merged = base / "merged" / "allure-results"
    done = subprocess.run([sys.executable, "-m", "behave", "-f", "progress", "-D", f"allure_results={serial}",
                           *SELECTION], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run = subprocess.run([sys.executable, "-m", "acceptance.runner.parallel", "-j", "2", "--no-report", "-f", "progress",
                          "-D", f"allure_results={merged}", *SELECTION], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    return serial, merged, run


def test_two_workers_report_exactly_what_the_serial_run_reports(serial_and_parallel):
    serial, merged, run = serial_and_parallel
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    expected, actual = _digest(serial), _digest(merged)
    assert len(expected) > 40
    assert set(actual) == set(expected)
    assert parallel.digest_differences(expected, actual) == []
    for key in expected:
        assert actual[key] == expected[key], key


def test_the_merged_folder_is_complete_and_says_how_it_was_made(serial_and_parallel):
    serial, merged, run = serial_and_parallel
    lines = run.stdout.strip().splitlines()
    assert re.fullmatch(r"\d+ passed, 0 failed", lines[-1])
    assert int(lines[-1].split()[0]) == len(list(serial.glob("*-result.json")))
    referenced = {a["source"] for p in merged.glob("*-result.json")
                  for a in json.loads(p.read_text())["attachments"]}
    attachments = {p.name for p in merged.glob("*-attachment*")}
    assert referenced <= attachments
    assert len(attachments) >= len(list(serial.glob("*-attachment*")))
    properties = read_environment(merged)
    assert properties["parallel.workers"] == "2"
    assert json.loads((merged / "categories.json").read_text()) == json.loads((serial / "categories.json").read_text())
    assert "(2 workers)" in json.loads((merged / "executor.json").read_text())["buildName"]
    assert (merged.parent / "summary.md").read_text().count("scenarios passed, 0 failed") == 1
    for k in (1, 2):
        assert (merged.parent / "parallel" / f"worker-{k}.log").exists()
    cases = ET.parse(merged.parent / "junit.xml").getroot().findall("testsuite/testcase")
    assert len(cases) == len(list(serial.glob("*-result.json"))) and all(c.find("failure") is None for c in cases)
    assert len(json.loads((merged.parent / "durations.json").read_text())["scenarios"]) == len(cases)


# ---------------------------------------------------------------------------- the pieces
def _items(*weights: float) -> tuple[list[Item], dict]:
    items = [Item(f"f.feature:{n}", f"f.feature :: s{n}", (), n) for n in range(len(weights))]
    return items, {i.key: w for i, w in zip(items, weights)}


def test_the_split_balances_by_previous_durations_and_keeps_serial_order():
    items, durations = _items(9, 1, 1, 1, 1, 1, 1, 1, 1, 1)
    shares = parallel.split(items, 2, durations)
    assert [i.order for i in shares[0]] == [0]            # the long one alone
    assert [i.order for i in shares[1]] == list(range(1, 10))


def test_the_split_counts_scenarios_without_history():
    items, _ = _items(*[1] * 7)
    shares = parallel.split(items, 3, {})
    assert sorted(len(s) for s in shares) == [2, 2, 3]
    assert sorted(i.order for s in shares for i in s) == list(range(7))


def test_unknown_scenarios_weigh_the_median_of_known_ones():
    items, durations = _items(4, 4, 4, 0)
    del durations[items[3].key]
    shares = parallel.split(items, 2, durations)
    assert sorted(len(s) for s in shares) == [2, 2]


def test_behave_arguments_are_split_into_options_and_paths():
    options, paths, results = parallel.split_behave_args(
        ["features/health", "-f", "plain", "--tags=@critical", "-D", "allure_results=/tmp/x", "-Dpacing_ms=20-30",
         "-n", "ready", "features/a.feature:3", "--no-capture"])
    assert options == ["-f", "plain", "--tags=@critical", "-Dpacing_ms=20-30", "-n", "ready", "--no-capture"]
    assert paths == ["features/health", "features/a.feature:3"]
    assert results == "/tmp/x"
    with pytest.raises(parallel.UsageError):
        parallel.split_behave_args(["--no-such-option"])


def test_outline_rows_and_rule_scenarios_are_selected_by_their_own_line(tmp_path):
    project = tmp_path / "features"
    (project / "steps").mkdir(parents=True)
    (project / "steps" / "s.py").write_text(textwrap.dedent("""
        from behave import step
        @step('ok {x}')
        def ok(context, x):
            print("RAN", x)
    """))
    (project / "a.feature").write_text(textwrap.dedent("""\
        Feature: A
          Background:
            Given ok background

          Scenario: plain
            Given ok plain

          Rule: R1
            Background:
              Given ok rule-background
            Scenario: in rule
              Given ok in-rule

            @tagged
            Scenario Outline: row <v>
              Given ok row-<v>
              Examples:
                | v |
                | a |
                | b |
    """))
    items = parallel.discover([], [str(project)])
    assert [(i.full_name.split(" :: ", 1)[1], i.parameters) for i in items] == [
        ("plain", ()), ("R1 :: in rule", ()), ("R1 :: row <v>", (("v", "a"),)), ("R1 :: row <v>", (("v", "b"),))]
    assert [i.location.rsplit(":", 1)[1] for i in items] == ["5", "11", "19", "20"]
    assert [i.parameters for i in parallel.discover(["--tags=@tagged"], [str(project)])] == [(("v", "a"),),
                                                                                            (("v", "b"),)]
    for item in items:
        done = subprocess.run([sys.executable, "-m", "behave", "-f", "plain", "--no-capture", "-D",
                               f"allure_results={tmp_path / 'r'}", item.location], cwd=Path.cwd(),
                              capture_output=True, text=True, timeout=60)
        ran = [line.split("RAN ", 1)[1] for line in done.stdout.splitlines() if line.startswith("RAN ")]
        assert ran[-1] == {"5": "plain", "11": "in-rule", "19": "row-a", "20": "row-b"}[item.location.rsplit(":", 1)[1]]
        assert len([r for r in ran if r not in ("background", "rule-background")]) == 1, done.stdout


def test_a_scenario_a_crashed_worker_never_reported_is_added_as_broken(tmp_path):
    item = Item("features/x.feature:3", "features/x.feature :: lost one", (("who", "Alice"),), 0)
    worker = parallel.Worker(1, [item], tmp_path / "w1" / "allure-results", tmp_path / "w1.log", returncode=-9)
    worker.results.mkdir(parents=True)
    merged = parallel.merge([worker], tmp_path / "merged" / "allure-results", embedded=True)
    assert merged.added_missing == 1
    (result,) = [json.loads(p.read_text()) for p in (tmp_path / "merged" / "allure-results").glob("*-result.json")]
    assert result["status"] == "broken" and result["fullName"] == item.full_name
    assert "worker 1 exited with code -9" in result["statusDetails"]["message"]
    assert parallel.result_key(result) == item.key


def test_workers_are_forks_of_the_preloaded_runner_only_for_the_projects_own_features(tmp_path):
    def plan(*args: str) -> parallel.Plan:
        return parallel.parse_command_line(list(args))
    assert parallel.can_fork(plan("-j", "4"))
    assert parallel.can_fork(plan("features/sign_in", "features/health/health.feature:12"))
    assert not parallel.can_fork(plan("--spawn", "features/sign_in"))
    assert not parallel.can_fork(plan(str(tmp_path / "other" / "features")))   # another project's steps
