"""The one reader of an Allure results folder's result files (``*-result.json``) and categories, and a
scenario's identity across them, for everything that reads a run after it: the summary, the
parallel and shard merges, ``--rerun-failed``, mutation runs, ``junit.xml`` and ``durations.json``.

``strict=True`` where a verdict rests on the whole folder: a file that cannot be read raises.
``strict=False`` where a half-written file must not stop the work (JUnit, durations): it is left out,
and a scenario without a result is what the counts and the merge report."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

Result = dict[str, Any]
Key = tuple[str, tuple[tuple[str, str], ...]]


def result_files(folder: Path, *, strict: bool) -> Iterator[tuple[Path, Result]]:
    """Each result file of ``folder`` with its content, in file-name order."""
    for path in sorted(Path(folder).glob("*-result.json")):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            if strict:
                raise
            continue
        yield path, result


def read_results(folder: Path, *, strict: bool, latest: bool = False) -> list[Result]:
    """The results of ``folder``; with ``latest``, one per scenario: its last attempt."""
    results = [result for _, result in result_files(folder, strict=strict)]
    return latest_attempts(results) if latest else results


def result_key(result: Result) -> Key:
    """A scenario's identity: its ``fullName`` and its row parameters (excluded ones aside)."""
    params = tuple((str(p.get("name")), str(p.get("value"))) for p in result.get("parameters") or []
                   if not p.get("excluded"))
    return str(result.get("fullName", "")), params


def attempt_key(result: Result) -> tuple:
    """What makes two results attempts of one scenario: the same fullName and parameters. A result
    without a fullName is never taken for another's attempt."""
    return result_key(result) if result.get("fullName") else ("", (("#uuid", str(result.get("uuid") or id(result))),))


def latest_attempts(results: Iterable[Result]) -> list[Result]:
    """One result per scenario: the last attempt (by stop time) of each (fullName, parameters).

    A re-run (``bin/suite --rerun-failed``) leaves every attempt in the folder, as Allure's Retries
    expect; whatever counts scenarios counts the last one."""
    latest: dict[tuple, Result] = {}
    for result in results:
        key = attempt_key(result)
        if key not in latest or (result.get("stop") or 0) >= (latest[key].get("stop") or 0):
            latest[key] = result
    return list(latest.values())


def counts(results: Iterable[Result]) -> tuple[int, int, int]:
    """(passed, failed, skipped) scenarios, each counted once by its last attempt."""
    statuses = [result.get("status") for result in latest_attempts(results)]
    passed, skipped = statuses.count("passed"), statuses.count("skipped")
    return passed, len(statuses) - passed - skipped, skipped


def count_line(passed: int, failed: int, skipped: int) -> str:
    """The last line a run prints: ``N passed, N failed`` (and the skipped, if any)."""
    return f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")


def category(message: str, status: str, categories: list[dict[str, Any]], default: str = "Uncategorised") -> str:
    """The category Allure gives a failed or broken result: the first whose statuses and regex match."""
    return next((str(c["name"]) for c in categories if status in c.get("matchedStatuses", [])
                 and re.fullmatch(c.get("messageRegex", ".*"), message, re.S)), default)


def title(result: Result, *, full: bool = False) -> str:
    """A scenario's name as people read it (with ``full``, its ``fullName``), its row parameters (excluded ones
    aside) in brackets."""
    name, params = str((not full and result.get("name")) or result.get("fullName") or "?"), result_key(result)[1]
    return name + (" [" + ", ".join(f"{key}={value}" for key, value in params) + "]" if params else "")


def failure(result: Result, categories: list[dict[str, Any]]) -> tuple[str, str]:
    """A failed or broken result's category and the first line of its message (its status if it has none)."""
    message, status = (result.get("statusDetails") or {}).get("message") or "", str(result.get("status", ""))
    return category(message, status, categories), (message.strip().splitlines() or [status])[0]


def read_categories(results_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The folder's ``categories.json`` (empty when it is missing or unreadable)."""
    try:
        return json.loads((Path(results_dir) / "categories.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
