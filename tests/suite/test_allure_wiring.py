"""The Allure results written from the behave hooks, checked on tiny behave projects.

Each test builds a behave project in a temporary folder whose ``environment.py`` wires
reporting exactly as the real suite does (``listener.install(globals(), ...)``), runs
``python -m behave`` in a subprocess and reads the JSON files it wrote.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLWEifQ.c2lnbmF0dXJlLXBhcnQtMTIz"

ENVIRONMENT_PY = '''
import os
import re

import allure

from acceptance.verify.errors import InfrastructureFailure
from acceptance.reporting import listener

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+")


def redact(value):
    if isinstance(value, str):
        return _JWT.sub("[REDACTED-JWT]", value)
    if isinstance(value, bytes):
        return _JWT.sub("[REDACTED-JWT]", value.decode("utf-8", "replace")).encode("utf-8")
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


def before_all(context):
    if os.environ.get("FAIL_BEFORE_ALL"):
        raise InfrastructureFailure("target http://127.0.0.1:9 is unreachable")
    with allure.step("GET /health"):
        allure.attach('{"status": "ok"}', name="health response", attachment_type=allure.attachment_type.JSON)
    context.allure.record_run_outcome("Preflight: target reachable", "passed")


def after_all(context):
    if os.environ.get("FAIL_AFTER_ALL"):
        raise RuntimeError("after_all exploded")


def before_feature(context, feature):
    if os.environ.get("FAIL_BEFORE_FEATURE") == feature.name:
        raise InfrastructureFailure("feature setup could not reach the target")


def after_feature(context, feature):
    if os.environ.get("FAIL_AFTER_FEATURE") == feature.name:
        raise RuntimeError("after_feature exploded")


def before_rule(context, rule):
    if os.environ.get("FAIL_BEFORE_RULE") == rule.name:
        raise RuntimeError("before_rule exploded")


def before_scenario(context, scenario):
    allure.attach("set up " + scenario.name, name="before_scenario note", attachment_type=allure.attachment_type.TEXT)
    if "skip_me" in scenario.tags:
        scenario.skip("not ready yet")
    if "boom_before" in scenario.tags:
        raise RuntimeError("before_scenario exploded")
    if "infra_before" in scenario.tags:
        raise InfrastructureFailure("platform health check failed")


def after_scenario(context, scenario):
    if "boom_after" in scenario.tags:
        raise ValueError("after_scenario exploded")


def after_step(context, step):
    if "step hook breaks here" in step.name:
        raise RuntimeError("after_step exploded")


listener.install(
    globals(),
    results_dir=lambda context: os.environ["ALLURE_RESULTS"],
    redact=redact,
    environment={"target": "http://platform.test", "token": "JWT_PLACEHOLDER"},
    executor={"name": "local", "build_name": "build 7", "build_order": 7},
)
'''.replace("JWT_PLACEHOLDER", JWT)

STEPS_PY = '''
import threading
from pathlib import Path

import allure
from behave import step

from acceptance.verify.errors import ContractViolation, IsolationBreach

JWT = "JWT_PLACEHOLDER"


@step("a passing step")
def passing(context):
    pass


@step("a background step")
def background(context):
    context.background_ran = True


@step("a rule background step")
def rule_background(context):
    pass


@step("a step with a table")
def with_table(context):
    assert context.table is not None and len(context.table.rows) == 2


@step("a step with a docstring")
def with_docstring(context):
    assert "hello" in context.text


@step("an assertion fails")
def assertion_fails(context):
    assert 1 == 2, "expected one to equal two"


@step("the contract is violated")
def contract(context):
    raise ContractViolation("frame 3 has no 'type' field")


@step("another user's data is visible")
def isolation(context):
    raise IsolationBreach("user B received an event of user A")


@step("the suite has a bug")
def suite_bug(context):
    {}["missing"]


@step("a step hook breaks here")
def hook_breaks_after(context):
    pass


@step('the number "{n}" is positive')
def positive(context, n):
    assert int(n) > 0, f"Business outcome: {n} is not positive"


@step("attachments are added")
def attachments(context):
    allure.attach('{"token": "' + JWT + '", "n": 1}', name="writer json", attachment_type=allure.attachment_type.JSON)
    allure.attach("allure text " + JWT, name="allure text", attachment_type=allure.attachment_type.TEXT)
    with allure.step("nested allure step"):
        allure.attach("inside nested", name="nested attachment", attachment_type=allure.attachment_type.TEXT)
    allure.dynamic.label("owner", "team-chat")
    allure.dynamic.link("https://tracker.test/CHAT-1", name="CHAT-1")
    allure.dynamic.description("described at run time")
    allure.dynamic.parameter("user", "alice")
    frame_log = Path(context.config.base_dir).parent / "frames.json"
    frame_log.write_text('{"authorization": "Bearer ' + JWT + '"}', encoding="utf-8")
    allure.attach.file(str(frame_log), name="frame log", attachment_type=allure.attachment_type.JSON)
    reader = threading.Thread(target=lambda: allure.attach("frame data", name="from reader thread",
                                                           attachment_type=allure.attachment_type.TEXT))
    reader.start()
    reader.join()
'''.replace("JWT_PLACEHOLDER", JWT)

RULES_FEATURE = '''
@epic:Chat_Platform @story:Streaming_Replies
Feature: Rules and data

  Background:
    Given a background step

  Rule: Tables and docstrings are kept
    Background:
      Given a rule background step

    @critical @smoke
    Scenario: A scenario with a table and a docstring
      Given a step with a table
        | name  | role  |
        | alice | admin |
        | bob   | user  |
      And a step with a docstring
        """
        hello from the docstring
        """
      Then a passing step

    Scenario Outline: Counting <count> inside a rule
      Given the number "<count>" is positive

      Examples: Counts
        | count |
        | 3     |
'''

OUTCOMES_FEATURE = '''
@feature:Chat_Outcomes
Feature: Outcomes

  Scenario: Everything passes
    Given a passing step

  @minor
  Scenario: A plain assertion fails
    Given a passing step
    When an assertion fails
    Then a passing step

  Scenario: The contract is violated
    When the contract is violated

  Scenario: Isolation is breached
    When another user's data is visible

  Scenario: The suite has a bug
    When the suite has a bug

  Scenario: A step is undefined
    Given a passing step
    When nobody implemented this step
    Then a passing step

  @boom_before
  Scenario: The before_scenario hook fails
    Given a passing step

  @infra_before
  Scenario: The platform is unhealthy before the scenario
    Given a passing step

  @boom_after
  Scenario: The after_scenario hook fails
    Given a passing step

  Scenario: An after_step hook fails
    Given a step hook breaks here
    Then a passing step

  Scenario: Attachments land in the right test
    Given attachments are added

  @skip_me
  Scenario: Skipped on purpose by a hook
    Given a passing step

  @excluded
  Scenario: Excluded by the tag expression
    Given a passing step

  Scenario Outline: Sending <count> messages
    Given the number "<count>" is positive

    Examples: Counts
      | count | label |
      | 1     | one   |
      | -2    | minus |
'''

SECOND_FEATURE = '''
Feature: Second feature

  Scenario: First of the second feature
    Given a passing step

  Rule: A rule in the second feature
    Scenario: Second of the second feature
      Given a passing step
'''


def write_project(root: Path) -> None:
    files = {
        "features/environment.py": ENVIRONMENT_PY,
        "features/steps/steps.py": STEPS_PY,
        "features/chat/rules.feature": RULES_FEATURE,
        "features/outcomes.feature": OUTCOMES_FEATURE,
        "features/second.feature": SECOND_FEATURE,
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def run_behave(root: Path, *args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("ALLURE_RESULTS", str(root / "allure-results"))
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "behave", "--no-color", "-f", "plain", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def load_results(results_dir: Path) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(results_dir.glob("*-result.json"))]


def by_name(results: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for result in results:
        assert result["name"] not in out, f"duplicate result {result['name']!r}"
        out[result["name"]] = result
    return out


def labels(result: dict, name: str) -> list[str]:
    return [label["value"] for label in result.get("labels", []) if label["name"] == name]


def message(result: dict) -> str:
    return (result.get("statusDetails") or {}).get("message", "")


def all_attachments(item: dict) -> list[dict]:
    found = list(item.get("attachments", []))
    for step in item.get("steps", []):
        found.extend(all_attachments(step))
    return found


def read_attachment(results_dir: Path, attachment: dict) -> str:
    return (results_dir / attachment["source"]).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def main_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("behave_project")
    write_project(root)
    proc = run_behave(root, "--tags=not @excluded", "features/chat", "features/outcomes.feature")
    results_dir = root / "allure-results"
    results = load_results(results_dir)
    return root, results_dir, proc, by_name(results)


def test_run_reports_failure_and_writes_results(main_run):
    _, results_dir, proc, results = main_run
    assert proc.returncode == 1, proc.stdout + proc.stderr  # failures present
    assert "ALLURE-REPORTING-ERROR" not in proc.stderr, proc.stderr
    assert results, proc.stdout + proc.stderr


def test_allure_python_886_rule_scenarios_with_tables(main_run):
    """allure-python #886: Rule scenarios with tables and docstrings (and Rule tags, the rule in the
    name) are reported with all their steps and data."""
    _, results_dir, _, results = main_run
    result = results["A scenario with a table and a docstring"]
    assert result["status"] == "passed"
    step_names = [step["name"] for step in result["steps"]]
    assert step_names == [
        "Given a background step",
        "Given a rule background step",
        "Given a step with a table",
        "And a step with a docstring",
        "Then a passing step",
    ]
    assert all(step["status"] == "passed" for step in result["steps"])
    table_step, docstring_step = result["steps"][2], result["steps"][3]
    (table,) = table_step["attachments"]
    assert table["type"] == "text/csv"
    assert table["source"].endswith(".csv")
    assert read_attachment(results_dir, table).splitlines() == ["name,role", "alice,admin", "bob,user"]
    (docstring,) = docstring_step["attachments"]
    assert docstring["type"] == "text/plain"
    assert "hello from the docstring" in read_attachment(results_dir, docstring)
    # the rule is a label and part of the full name
    assert labels(result, "subSuite") == ["Tables and docstrings are kept"]
    assert labels(result, "rule") == ["Tables and docstrings are kept"]
    assert result["fullName"] == (
        "features/chat/rules.feature :: Tables and docstrings are kept :: A scenario with a table and a docstring"
    )
    # outline inside a rule
    assert results["Counting 3 inside a rule"]["status"] == "passed"


def test_labels_from_tags(main_run):
    _, _, _, results = main_run
    result = results["A scenario with a table and a docstring"]
    assert labels(result, "epic") == ["Chat Platform"]
    assert labels(result, "story") == ["Streaming Replies"]
    assert labels(result, "severity") == ["critical"]
    assert labels(result, "feature") == ["Rules and data"]
    assert labels(result, "tag") == ["smoke"]
    assert labels(result, "parentSuite") == ["features/chat"]
    assert labels(result, "suite") == ["Rules and data"]
    assert labels(result, "framework") == ["behave"]
    assert labels(result, "language") == ["python"]
    assert len(labels(result, "host")) == 1 and len(labels(result, "thread")) == 1

    outcome = results["A plain assertion fails"]
    assert labels(outcome, "feature") == ["Chat Outcomes"]  # @feature: overrides the name
    assert labels(outcome, "severity") == ["minor"]
    assert labels(outcome, "suite") == ["Outcomes"]
    assert labels(outcome, "parentSuite") == ["features"]
    assert labels(outcome, "subSuite") == []
    assert labels(results["Everything passes"], "severity") == ["normal"]


def test_failing_step_is_failed_with_message_and_later_steps_skipped(main_run):
    _, _, _, results = main_run
    result = results["A plain assertion fails"]
    assert result["status"] == "failed"
    assert message(result).startswith("AssertionError: expected one to equal two")
    assert "Traceback" in result["statusDetails"]["trace"]
    assert [s["status"] for s in result["steps"]] == ["passed", "failed", "skipped"]

    contract = results["The contract is violated"]
    assert contract["status"] == "failed"
    assert message(contract) == "Contract: frame 3 has no 'type' field"


def test_python_error_is_broken(main_run):
    _, _, _, results = main_run
    result = results["The suite has a bug"]
    assert result["status"] == "broken"
    assert message(result) == "KeyError: 'missing'"


def test_undefined_step_is_broken(main_run):
    _, _, _, results = main_run
    result = results["A step is undefined"]
    assert result["status"] == "broken"
    assert message(result) == "Undefined step: When nobody implemented this step"
    assert [s["name"] for s in result["steps"]] == [
        "Given a passing step",
        "When nobody implemented this step",
        "Then a passing step",
    ]
    assert [s["status"] for s in result["steps"]] == ["passed", "broken", "skipped"]


def test_allure_python_580_hook_errors_are_broken_with_their_message(main_run):
    """allure-python #580: a scenario whose hook failed is broken with the hook's message, not skipped."""
    _, _, _, results = main_run
    result = results["The before_scenario hook fails"]
    assert result["status"] == "broken"
    assert message(result) == "RuntimeError: before_scenario exploded"
    trace = result["statusDetails"]["trace"]
    assert trace.startswith("HOOK-ERROR in before_scenario\nTraceback")
    assert 'features/environment.py", line' in trace and "acceptance/reporting/" not in trace
    assert [s["status"] for s in result["steps"]] == ["skipped"]

    infra = results["The platform is unhealthy before the scenario"]
    assert infra["status"] == "broken"
    assert message(infra) == "Infrastructure: platform health check failed"


def test_error_in_after_scenario_breaks_the_scenario(main_run):
    _, _, _, results = main_run
    result = results["The after_scenario hook fails"]
    assert result["status"] == "broken"
    assert message(result) == "ValueError: after_scenario exploded"
    assert [s["status"] for s in result["steps"]] == ["passed"]


def test_error_in_after_step_breaks_the_step(main_run):
    _, _, _, results = main_run
    result = results["An after_step hook fails"]
    assert result["status"] == "broken"
    assert message(result).startswith("RuntimeError: after_step exploded")
    assert [s["status"] for s in result["steps"]] == ["broken", "skipped"]


def test_outline_rows_are_named_without_suffix_and_have_parameters(main_run):
    _, _, _, results = main_run
    assert not [name for name in results if " -- @" in name]
    one, minus = results["Sending 1 messages"], results["Sending -2 messages"]
    assert one["parameters"] == [{"name": "count", "value": "1"}, {"name": "label", "value": "one"}]
    assert minus["parameters"] == [{"name": "count", "value": "-2"}, {"name": "label", "value": "minus"}]
    assert one["status"] == "passed"
    assert minus["status"] == "failed"
    assert message(minus) == "Business outcome: -2 is not positive"
    # one test case (the outline), one history entry per row
    assert one["fullName"] == minus["fullName"] == "features/outcomes.feature :: Sending <count> messages"
    assert one["testCaseId"] == minus["testCaseId"]
    assert one["historyId"] != minus["historyId"]


def test_excluded_scenarios_are_absent_and_skipped_ones_are_skipped(main_run):
    _, _, _, results = main_run
    assert "Excluded by the tag expression" not in results
    skipped = results["Skipped on purpose by a hook"]
    assert skipped["status"] == "skipped"
    assert message(skipped) == "not ready yet"
    assert [s["status"] for s in skipped["steps"]] == ["skipped"]
    assert [r["name"] for r in results.values() if r["status"] == "skipped"] == [skipped["name"]]


def test_attachments_land_in_the_right_test(main_run):
    _, results_dir, _, results = main_run
    result = results["Attachments land in the right test"]
    assert result["status"] == "passed"
    (step,) = result["steps"]
    by_attachment = {a["name"]: a for a in step["attachments"]}
    assert set(by_attachment) == {"writer json", "allure text", "frame log", "from reader thread"}
    assert by_attachment["frame log"]["type"] == "application/json"
    assert json.loads(read_attachment(results_dir, by_attachment["frame log"])) == {
        "authorization": "Bearer [REDACTED-JWT]"
    }
    assert by_attachment["writer json"]["type"] == "application/json"
    assert by_attachment["writer json"]["source"].endswith(".json")
    written_json = json.loads(read_attachment(results_dir, by_attachment["writer json"]))
    assert written_json == {"token": "[REDACTED-JWT]", "n": 1}
    assert read_attachment(results_dir, by_attachment["allure text"]) == "allure text [REDACTED-JWT]"
    (nested,) = step["steps"]
    assert nested["name"] == "nested allure step" and nested["status"] == "passed"
    assert [a["name"] for a in nested["attachments"]] == ["nested attachment"]
    # attached in before_scenario: on the test itself
    assert [a["name"] for a in result["attachments"]] == ["before_scenario note"]
    # nothing attached to other tests
    others = [a for name, r in results.items() if name != result["name"] for a in all_attachments(r)]
    assert not {a["name"] for a in others} & {"writer json", "allure text", "from reader thread"}


def test_allure_python_776_dynamic_labels_and_parameters(main_run):
    """allure-python #776: ``allure.dynamic.label`` and ``allure.dynamic.parameter`` reach the result."""
    _, _, _, results = main_run
    result = results["Attachments land in the right test"]
    assert labels(result, "owner") == ["team-chat"]
    assert {"type": "link", "url": "https://tracker.test/CHAT-1", "name": "CHAT-1"} in result["links"]
    assert result["description"] == "described at run time"
    assert {"name": "user", "value": "alice"} in result["parameters"]


def test_redaction_applies_to_every_attachment(main_run):
    _, results_dir, _, _ = main_run
    for path in results_dir.iterdir():
        if path.is_file():
            assert JWT not in path.read_text(encoding="utf-8", errors="replace"), path.name


def test_category_regexes_classify_messages(main_run):
    _, results_dir, _, results = main_run
    categories = json.loads((results_dir / "categories.json").read_text(encoding="utf-8"))
    assert [c["name"] for c in categories] == [
        "Infrastructure",
        "Authentication",
        "Contract",
        "Business outcome",
        "Isolation breach",
        "Suite defect",
    ]
    for category in categories:
        assert sorted(category["matchedStatuses"]) == ["broken", "failed"]

    def category_of(result: dict) -> str | None:
        # Allure: first category whose status and (full-match) messageRegex match
        for category in categories:
            if result["status"] in category["matchedStatuses"] and re.fullmatch(
                category["messageRegex"], message(result)
            ):
                return category["name"]
        return None

    assert category_of(results["The contract is violated"]) == "Contract"
    assert category_of(results["Isolation is breached"]) == "Isolation breach"
    assert category_of(results["The platform is unhealthy before the scenario"]) == "Infrastructure"
    assert category_of(results["Sending -2 messages"]) == "Business outcome"
    assert category_of(results["A plain assertion fails"]) == "Suite defect"
    assert category_of(results["The suite has a bug"]) == "Suite defect"
    assert category_of(results["Everything passes"]) is None
    assert all(category_of(r) for r in results.values() if r["status"] in ("failed", "broken"))


def test_environment_executor_and_run_outcome_files(main_run):
    _, results_dir, _, results = main_run
    properties = (results_dir / "environment.properties").read_text(encoding="utf-8")
    assert "target=http\\://platform.test" in properties or "target=http://platform.test" in properties
    assert JWT not in properties and "[REDACTED-JWT]" in properties
    executor = json.loads((results_dir / "executor.json").read_text(encoding="utf-8"))
    assert executor["name"] == "local"
    assert executor["buildName"] == "build 7"
    assert executor["buildOrder"] == 7


def test_allure_python_764_before_all_steps_and_attachments_are_reported(main_run):
    """allure-python #764: a step and an attachment made in before_all, outside any scenario, belong to
    the run-level result written there (the preflight)."""
    _, _, _, results = main_run
    preflight = results["Preflight: target reachable"]
    assert preflight["status"] == "passed"
    assert labels(preflight, "suite") == ["Run"]
    # a step and an attachment made in before_all, outside any test, belong to it
    (health,) = preflight["steps"]
    assert health["name"] == "GET /health"
    assert [a["name"] for a in health["attachments"]] == ["health response"]


def test_ids_are_stable_across_runs(main_run, tmp_path):
    root, _, _, first = main_run
    results_dir = tmp_path / "second-run"
    run_behave(root, "--tags=not @excluded", "features/chat", "features/outcomes.feature",
               ALLURE_RESULTS=str(results_dir))
    second = by_name(load_results(results_dir))
    assert set(second) == set(first)
    for name, result in first.items():
        for key in ("fullName", "historyId", "testCaseId"):
            assert second[name][key] == result[key], (name, key)


def test_results_folder_is_cleaned_between_runs(tmp_path):
    write_project(tmp_path)
    results_dir = tmp_path / "allure-results"
    run_behave(tmp_path, "features/second.feature")
    names_run_1 = {p.name for p in results_dir.iterdir()}
    assert any(name.endswith("-result.json") for name in names_run_1)
    (results_dir / "stale-file-from-run-1.txt").write_text("old", encoding="utf-8")
    (results_dir / "history").mkdir()
    run_behave(tmp_path, "features/second.feature")
    names_run_2 = {p.name for p in results_dir.iterdir()}
    assert "stale-file-from-run-1.txt" not in names_run_2
    assert "history" not in names_run_2
    assert not (names_run_1 & {n for n in names_run_2 if n.endswith("-result.json")})
    results = by_name(load_results(results_dir))
    assert set(results) == {
        "Preflight: target reachable",
        "First of the second feature",
        "Second of the second feature",
    }


def test_dry_run_writes_nothing_and_does_not_crash(tmp_path):
    write_project(tmp_path)
    results_dir = tmp_path / "allure-results"
    results_dir.mkdir()
    (results_dir / "from-an-earlier-run.txt").write_text("kept", encoding="utf-8")
    proc = run_behave(tmp_path, "--dry-run")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "ALLURE-REPORTING-ERROR" not in proc.stderr
    assert [p.name for p in results_dir.iterdir()] == ["from-an-earlier-run.txt"]


def test_allure_python_899_before_feature_error_breaks_every_scenario(tmp_path):
    """allure-python #899: the scenarios of a feature whose before_feature hook failed are in the report."""
    write_project(tmp_path)
    proc = run_behave(tmp_path, "features/second.feature", "features/chat",
                      FAIL_BEFORE_FEATURE="Second feature")
    assert proc.returncode == 1
    results = by_name(load_results(tmp_path / "allure-results"))
    for name in ("First of the second feature", "Second of the second feature"):
        assert results[name]["status"] == "broken", name
        assert message(results[name]) == "Infrastructure: feature setup could not reach the target"
        assert results[name]["statusDetails"]["trace"].startswith("HOOK-ERROR in before_feature")
    # the other feature is unaffected
    assert results["A scenario with a table and a docstring"]["status"] == "passed"


def test_error_in_before_rule_breaks_the_scenarios_of_the_rule(tmp_path):
    write_project(tmp_path)
    proc = run_behave(tmp_path, "features/second.feature", FAIL_BEFORE_RULE="A rule in the second feature")
    assert proc.returncode == 1
    results = by_name(load_results(tmp_path / "allure-results"))
    assert results["First of the second feature"]["status"] == "passed"
    in_rule = results["Second of the second feature"]
    assert in_rule["status"] == "broken"
    assert message(in_rule) == "RuntimeError: before_rule exploded"
    assert labels(in_rule, "subSuite") == ["A rule in the second feature"]


def test_error_in_after_feature_is_a_broken_result(tmp_path):
    write_project(tmp_path)
    proc = run_behave(tmp_path, "features/second.feature", FAIL_AFTER_FEATURE="Second feature")
    assert proc.returncode == 1
    results = by_name(load_results(tmp_path / "allure-results"))
    assert results["First of the second feature"]["status"] == "passed"
    teardown = results["Second feature (after_feature)"]
    assert teardown["status"] == "broken"
    assert message(teardown) == "RuntimeError: after_feature exploded"
    assert labels(teardown, "suite") == ["Second feature"]


def test_error_in_before_all_aborts_the_run_and_is_reported(tmp_path):
    write_project(tmp_path)
    proc = run_behave(tmp_path, "features/second.feature", FAIL_BEFORE_ALL="1")
    assert proc.returncode == 1  # behave aborts the run: no feature runs
    results_dir = tmp_path / "allure-results"
    results = by_name(load_results(results_dir))
    assert set(results) == {"Run setup (before_all)"}
    setup = results["Run setup (before_all)"]
    assert setup["status"] == "broken"
    assert message(setup) == "Infrastructure: target http://127.0.0.1:9 is unreachable"
    assert (results_dir / "categories.json").exists()


def test_error_in_after_all_is_reported(tmp_path):
    write_project(tmp_path)
    proc = run_behave(tmp_path, "features/second.feature", FAIL_AFTER_ALL="1")
    assert proc.returncode == 1
    results = by_name(load_results(tmp_path / "allure-results"))
    assert results["Run teardown (after_all)"]["status"] == "broken"
    assert message(results["Run teardown (after_all)"]) == "RuntimeError: after_all exploded"
    assert results["First of the second feature"]["status"] == "passed"


def test_hook_errors_behave_keeps_on_the_model_are_reported(tmp_path):
    """A ``before_tag`` hook is not wrapped by ``install``: its error is read from behave's public model
    (``hook_failed``, ``error_message``)."""
    write_project(tmp_path)
    environment = tmp_path / "features/environment.py"
    environment.write_text(environment.read_text(encoding="utf-8").replace("listener.install(", """
def before_tag(context, tag):
    if tag == "tag_boom":
        raise RuntimeError("before_tag exploded")


listener.install(""", 1), encoding="utf-8")
    feature = tmp_path / "features/tagged.feature"
    feature.write_text("Feature: Tagged\n\n  @tag_boom\n  Scenario: A tag hook fails\n    Given a passing step\n",
                       encoding="utf-8")
    proc = run_behave(tmp_path, "features/tagged.feature")
    assert proc.returncode == 1
    result = by_name(load_results(tmp_path / "allure-results"))["A tag hook fails"]
    assert result["status"] == "broken", result
    assert "before_tag exploded" in message(result)


def test_allure_behave_hooks_after_scenario_attachments_land_in_the_scenario(tmp_path):
    """``allure_behave.hooks`` closes a scenario before the suite's ``after_scenario`` runs (see
    docs/upstream/allure-behave-hooks-after-hooks-run-first.patch): the evidence attached there, as the
    suite attaches every timeline and transcript, must land in the scenario."""
    write_project(tmp_path)
    environment = tmp_path / "features/environment.py"
    environment.write_text(environment.read_text(encoding="utf-8").replace(
        '''    if "boom_after" in scenario.tags:''',
        '''    allure.attach("after " + scenario.name, name="after_scenario evidence",
                  attachment_type=allure.attachment_type.TEXT)
    if "boom_after" in scenario.tags:''', 1), encoding="utf-8")
    proc = run_behave(tmp_path, "features/second.feature")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = by_name(load_results(tmp_path / "allure-results"))
    for name in ("First of the second feature", "Second of the second feature"):
        (evidence,) = [a for a in results[name]["attachments"] if a["name"] == "after_scenario evidence"]
        assert read_attachment(tmp_path / "allure-results", evidence) == "after " + name
