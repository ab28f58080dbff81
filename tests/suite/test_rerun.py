"""`bin/suite --rerun-failed`: only the scenarios that failed run again; both attempts stay in the
report under one historyId (Allure's Retries); a scenario that passed only on the re-run is flaky;
the exit code stays 1 unless --flaky-ok.

The first attempt fails deterministically: the platform runs with the fault `health_version_missing`
(its health answers lack the version); the re-run has no fault."""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _behave(results: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "behave", "-f", "progress", "-D", f"allure_results={results}", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def _rerun(results: Path, *args: str, command=("bin/suite", "--rerun-failed")) -> subprocess.CompletedProcess:
    return subprocess.run([*command, "--no-report", "-f", "progress", "-D", f"allure_results={results}", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)


def _attempts(results: Path) -> dict[str, list[dict]]:
    by_history = defaultdict(list)
    for path in results.glob("*-result.json"):
        result = json.loads(path.read_text())
        by_history[result["historyId"]].append(result)
    for attempts in by_history.values():
        attempts.sort(key=lambda r: r["stop"])
    return by_history


def test_a_scenario_that_passes_only_on_the_rerun_shows_both_attempts_and_is_flaky(tmp_path):
    results = tmp_path / "allure-results"
    first = _behave(results, "-D", "platform_faults=health_version_missing", "features/health")
    assert first.returncode == 1
    before = _attempts(results)
    assert sorted(a[0]["status"] for a in before.values()) == ["failed", "failed", "failed", "passed"]

    rerun = _rerun(results)
    out = rerun.stdout + rerun.stderr
    assert rerun.returncode == 1, out[-3000:]          # flaky is a finding, not a pass
    assert "3 scenario(s) failed in the last run" in out
    assert rerun.stdout.strip().splitlines()[-1] == "4 passed, 0 failed"
    assert "--flaky-ok" in rerun.stderr
    after = _attempts(results)
    assert set(after) == set(before)                   # same historyIds: the attempts are retries
    for history_id, attempts in after.items():
        if before[history_id][0]["status"] == "passed":
            assert len(attempts) == 1                  # only the failed ones ran again
            continue
        assert [a["status"] for a in attempts] == ["failed", "passed"]
        assert attempts[0]["testCaseId"] == attempts[1]["testCaseId"]
        assert attempts[0]["parameters"] == attempts[1]["parameters"]
        assert attempts[1]["statusDetails"]["flaky"] is True
        assert not (attempts[0].get("statusDetails") or {}).get("flaky")
    sources = {a["source"] for path in results.glob("*-result.json") for a in json.loads(path.read_text())["attachments"]}
    assert all((results / s).is_file() for s in sources)
    assert "4 scenarios passed, 0 failed" in (tmp_path / "summary.md").read_text()
    cases = ET.parse(tmp_path / "junit.xml").getroot().findall("testsuite/testcase")
    assert len(cases) == 4 and all(c.find("failure") is None for c in cases)
    assert sum(1 for c in cases if (c.findtext("system-out") or "").startswith("flaky: ")) == 3

    # what Allure itself makes of it: 3 scenarios with retries, 3 flaky, 4 in all
    from acceptance.reporting import html_report
    built = html_report.build(results=results, output=tmp_path / "html", history=tmp_path / "history.jsonl")
    stats = json.loads((built.index.parent / "summary.json").read_text())["stats"]
    assert (stats["total"], stats["passed"], stats["retries"], stats["flaky"]) == (4, 4, 3, 3)

    again = _rerun(results)                            # nothing failed any more
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to re-run" in again.stdout


def test_flaky_ok_accepts_a_pass_on_the_rerun(tmp_path):
    results = tmp_path / "allure-results"
    assert _behave(results, "-D", "platform_faults=health_version_missing", "features/health").returncode == 1
    rerun = _rerun(results, "--flaky-ok", command=(sys.executable, "-m", "acceptance", "rerun"))
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]


def test_a_scenario_that_fails_again_keeps_the_run_failed(tmp_path):
    results = tmp_path / "allure-results"
    assert _behave(results, "-D", "platform_faults=health_version_missing", "features/health").returncode == 1
    rerun = _rerun(results, "--flaky-ok", "-D", "platform_faults=health_version_missing")
    assert rerun.returncode == 1
    assert rerun.stdout.strip().splitlines()[-1] == "1 passed, 3 failed"
    assert all(len(a) == 2 and a[-1]["status"] == "failed" and not a[-1]["statusDetails"].get("flaky")
               for a in _attempts(results).values() if a[0]["status"] == "failed")
    failures = ET.parse(tmp_path / "junit.xml").getroot().findall("testsuite/testcase/failure")
    assert len(failures) == 3 and all(f.get("type") == "Contract" for f in failures)
