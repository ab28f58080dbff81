"""JUnit XML (`acceptance.runner.junit`): one test case per scenario, the report category in every failure
message, re-run attempts folded into one test case; and a real run writes it."""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from acceptance.reporting.results_folder import write_categories
from acceptance.runner import junit

ROOT = Path(__file__).resolve().parents[2]


def _result(folder: Path, n: int, name: str, status: str, message: str = "", *, params=(), start=1000, flaky=False):
    result = {"uuid": f"u{n}", "name": name, "fullName": f"features/x/a.feature :: {name}", "status": status,
              "statusDetails": {"message": message, "trace": "Traceback ..."} if message else {},
              "parameters": [{"name": k, "value": v} for k, v in params], "start": start, "stop": start + 1500}
    if flaky:
        result["statusDetails"]["flaky"] = True
    (folder / f"u{n}-result.json").write_text(json.dumps(result))


def test_every_scenario_is_one_test_case_with_its_category_in_the_failure_message(tmp_path):
    results = tmp_path / "allure-results"
    results.mkdir()
    write_categories(results)
    _result(results, 1, "passes", "passed")
    _result(results, 2, "breaks the contract", "failed", "Contract: frame agent_started lacks run_id\nmore")
    _result(results, 3, "a bare assert", "failed", "assert 1 == 2")
    _result(results, 4, "target gone", "broken", "Infrastructure: the platform did not answer in 10 s")
    _result(results, 5, "leaks", "failed", "Isolation breach: Bob saw Alice's thread")
    _result(results, 6, "wrong total", "failed", "Business outcome: total $40 != $45")
    _result(results, 7, "token refused", "failed", "Authentication: a valid token was refused")
    _result(results, 8, "row", "passed", params=[("who", "Alice")])
    _result(results, 9, "row", "failed", "Contract: x", params=[("who", "Bob")])
    # a scenario re-run: two attempts, one test case, marked flaky
    _result(results, 10, "flaky one", "failed", "Contract: late frame", start=1000)
    _result(results, 11, "flaky one", "passed", start=5000, flaky=True)
    path = junit.write(results)
    assert path == tmp_path / "junit.xml"
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "10"
    assert (root.get("failures"), root.get("errors"), root.get("skipped")) == ("6", "1", "0")
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "features/x/a.feature" and suite.get("tests") == "10"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"passes", "breaks the contract", "a bare assert", "target gone", "leaks", "wrong total",
                          "token refused", "row [who=Alice]", "row [who=Bob]", "flaky one"}
    assert cases["passes"].get("classname") == "features.x.a" and cases["passes"].get("time") == "1.500"
    expected = {"breaks the contract": "Contract", "a bare assert": "Suite defect", "leaks": "Isolation breach",
                "wrong total": "Business outcome", "token refused": "Authentication", "row [who=Bob]": "Contract"}
    for name, category in expected.items():
        (failure,) = cases[name].findall("failure")
        assert failure.get("type") == category
        assert failure.get("message").startswith(f"{category}: "), failure.get("message")
        assert "Traceback" in failure.text
    assert cases["a bare assert"].find("failure").get("message") == "Suite defect: assert 1 == 2"
    (error,) = cases["target gone"].findall("error")
    assert error.get("type") == "Infrastructure" and error.get("message").startswith("Infrastructure: ")
    flaky = cases["flaky one"]
    assert flaky.find("failure") is None and flaky.find("error") is None
    assert flaky.find("system-out").text == "flaky: passed on attempt 2 after failed"


def test_a_serial_run_writes_junit_xml_beside_its_results(tmp_path):
    results = tmp_path / "allure-results"
    done = subprocess.run([sys.executable, "-m", "behave", "-f", "progress", "-D", f"allure_results={results}",
                           "-D", "platform_faults=health_version_missing", "features/health"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    root = ET.parse(tmp_path / "junit.xml").getroot()
    cases = root.findall("testsuite/testcase")
    assert len(cases) == len(list(results.glob("*-result.json"))) == 4
    failures = [c.find("failure") for c in cases if c.find("failure") is not None]
    assert len(failures) == 3
    assert all(f.get("type") == "Contract" and f.get("message").startswith("Contract: ") for f in failures)
