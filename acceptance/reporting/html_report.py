"""The HTML report: Allure 3 (pinned in package.json) as ``allurerc.mjs`` configures it (single file,
epic > feature > story, quality gate, trends across the runs in ``reports/history.jsonl``), the business
summary as the run's global attachment; ``bin/allure-report.mjs`` strips the analytics tag of Allure's pages."""
from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from acceptance import ROOT
from acceptance.reporting import summary


class ReportBuildError(RuntimeError):
    """The report could not be built (no results, Allure missing or failing)."""


@dataclass(frozen=True)
class BuiltReport:
    index: Path
    removed_analytics_tags: int
    #: the scenarios that failed the quality gate, as bin/allure-report.mjs names them (empty: the gate passed)
    gate_failures: list[str] = field(default_factory=list)


def allure_cli() -> list[str]:
    if (ROOT / "node_modules" / "@allurereport" / "core").exists() and shutil.which("node"):
        return ["node", str(ROOT / "bin" / "allure-report.mjs")]
    raise ReportBuildError(f"the Allure 3 CLI is not installed: run `npm ci` (package.json pins it) in {ROOT}")


def build(results: Path = ROOT / "reports" / "allure-results", output: Path = ROOT / "reports" / "html",
          history: Path = ROOT / "reports" / "history.jsonl") -> BuiltReport:
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise ReportBuildError(f"no Allure results in {results}: run the suite first (`behave`)")
    if output.exists():
        shutil.rmtree(output)
    summary.attach(results)
    command = allure_cli() + [str(results.absolute()), str(output.absolute()), str(history.absolute())]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    index = output / "index.html"
    if done.returncode not in (0, 3) or not index.exists():
        raise ReportBuildError(f"allure awesome failed ({done.returncode}): {done.stderr[-2000:] or done.stdout[-2000:]}")
    outcome = json.loads(done.stdout.splitlines()[-1])  # the script's last line
    gate_failures = outcome["gateFailures"] or ["(see the Quality Gates tab of the report)"]
    return BuiltReport(index, outcome["removedAnalyticsTags"], gate_failures if done.returncode == 3 else [])
