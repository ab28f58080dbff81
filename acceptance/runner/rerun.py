"""Honest re-runs: ``bin/suite --rerun-failed`` (``python -m acceptance rerun``).

1. Reads the last run's results (``reports/allure-results``, or ``-D allure_results=DIR``): every
   scenario whose last attempt failed or is broken.
2. Finds each one's location (``file:line``) with the parallel runner's discovery, and runs only
   those, with the given behave options (``-D`` settings, ``-f``, ...), into
   ``<results>/../rerun/allure-results``.
3. Adds the new attempts to the last run's folder, beside the first ones. Each attempt keeps the
   scenario's ``historyId``/``testCaseId``, so Allure shows the earlier attempts under the
   scenario's **Retries**; a scenario that passed only on the re-run is marked **flaky**
   (``statusDetails.flaky``). ``summary.md``, ``junit.xml`` and the HTML report are rebuilt and
   count each scenario once, by its last attempt.

Exit code: 1 while any scenario still fails, and also when one passed only on a re-run (a flaky
scenario is a finding, not a pass) unless ``--flaky-ok``; 0 when nothing failed in the last run.
The last line printed is ``N passed, N failed``.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

from acceptance.runner import parallel
from acceptance.runner.parallel import ONCE_FILES, ROOT, UsageError
from acceptance.runner.results import count_line, counts, read_results, result_key, title

FAILED = ("failed", "broken")


def failed_in(results_dir: Path) -> list[dict[str, Any]]:
    """The last attempt of every scenario of the folder that failed or is broken."""
    return [r for r in read_results(results_dir, strict=True, latest=True) if r.get("status") in FAILED]


def fold_in(attempt_dir: Path, results_dir: Path, retried: set[tuple]) -> tuple[list[str], list[str]]:
    """Copies a re-run's files into the last run's folder; returns (flaky, still failing) titles."""
    flaky, failing = [], []
    for path in sorted(attempt_dir.iterdir()):
        if path.name in ONCE_FILES:
            continue
        destination = results_dir / path.name
        if destination.exists():
            raise RuntimeError(f"{path.name} exists in both attempts; nothing was overwritten")
        if path.name.endswith("-result.json"):
            result = json.loads(path.read_text(encoding="utf-8"))
            name = title(result, full=True)
            if result_key(result) in retried:
                if result.get("status") == "passed":
                    details = result.setdefault("statusDetails", {}) or {}
                    details["flaky"] = True
                    details.setdefault("message", "Flaky: failed in the previous attempt, passed on this re-run")
                    result["statusDetails"] = details
                    flaky.append(name)
                elif result.get("status") in FAILED:
                    failing.append(name)
            destination.write_text(json.dumps(result, indent=1), encoding="utf-8")
        elif path.is_dir():
            shutil.copytree(path, destination)
        else:
            shutil.copy2(path, destination)
    return flaky, failing


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bin/suite --rerun-failed", add_help=False, allow_abbrev=False,
        description="Run again only the scenarios that failed in the last run; every other argument goes to behave.")
    parser.add_argument("--rerun-failed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--flaky-ok", action="store_true",
                        help="exit 0 when every failed scenario passed on the re-run (default: 1, they are flaky)")
    parser.add_argument("--no-report", action="store_true", help="do not build the HTML report")
    parser.add_argument("--rerun-help", action="store_true", help="this help")
    known, rest = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    if known.rerun_help:
        parser.print_help()
        return 0
    try:
        options, paths, results = parallel.split_behave_args(rest)
        if paths:
            raise UsageError(f"a re-run runs the scenarios that failed in the last run; drop the paths {paths}")
        results_dir = (ROOT / (results or parallel.DEFAULT_RESULTS)).absolute()
        if not any(results_dir.glob("*-result.json")):
            raise UsageError(f"{results_dir} holds no results of a last run")
        failed = failed_in(results_dir)
        if any(str(r.get("fullName", "")).startswith("run::") for r in failed):
            raise UsageError("the last run stopped before its scenarios (see its summary): run the whole suite again")
        wanted = {result_key(r) for r in failed}
        items = [i for i in parallel.discover(options, []) if i.key in wanted] if wanted else []
        unknown = wanted - {i.key for i in items}
        if unknown:
            raise UsageError("these failed scenarios are no longer selected by the features and options given: "
                             + "; ".join(sorted(f"{name} {list(params) or ''}".strip() for name, params in unknown)))
    except UsageError as exc:
        print(f"rerun: {exc}", file=sys.stderr)
        return 2
    if not items:
        print("rerun: no scenario failed in the last run; nothing to re-run")
        print(count_line(*counts(read_results(results_dir, strict=True))))
        return 0
    attempt_dir = results_dir.parent / "rerun" / "allure-results"
    print(f"rerun: {len(items)} scenario(s) failed in the last run; running them again", flush=True)
    for item in items:
        params = ", ".join(f"{k}={v}" for k, v in item.parameters)
        print(f"  {item.location}  {item.full_name}" + (f" [{params}]" if params else ""), flush=True)
    behave = subprocess.run([sys.executable, "-m", "behave", *options, "-D", f"allure_results={attempt_dir}",
                             *[i.location for i in items]], cwd=ROOT)
    if not any(attempt_dir.glob("*-result.json")):
        print(f"rerun: the re-run wrote no results (behave exit code {behave.returncode})", file=sys.stderr)
        print(f"0 passed, {len(items)} failed")
        return 1
    flaky, failing = fold_in(attempt_dir, results_dir, wanted)
    summary_path = parallel.write_run_files(results_dir)
    if not known.no_report:
        parallel.build_html_report(results_dir)
    print(f"\nrerun: {len(flaky)} passed on the re-run and are marked flaky, {len(failing)} failed again "
          f"(summary: {summary_path})")
    for name in flaky:
        print(f"  flaky: {name}")
    for name in failing:
        print(f"  failed again: {name}")
    passed, failed_count, skipped = counts(read_results(results_dir, strict=True))
    print(count_line(passed, failed_count, skipped), flush=True)
    if failed_count or behave.returncode not in (0, 1):
        return 1
    if flaky and not known.flaky_ok:
        print("rerun: exit code 1: flaky scenarios are findings (pass --flaky-ok to accept them)", file=sys.stderr)
        return 1
    return 0
