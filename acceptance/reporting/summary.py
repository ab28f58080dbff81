"""`reports/summary.md`: the one page for people who will not open the report.

Built from the Allure results alone (so it works for merged parallel runs too): passed and failed
per journey (epic), failures grouped by category with the first line of each cause, the savings
the business scenarios demonstrated, and the slowest journeys.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .evidence import SAVINGS_LABEL

PASSED = "passed"


def _labels(result: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for label in result.get("labels", []):
        out[label.get("name", "")].append(str(label.get("value", "")))
    return out


def _category(message: str, status: str, categories: list[dict[str, Any]]) -> str:
    for category in categories:
        if status in category.get("matchedStatuses", []) and re.fullmatch(category.get("messageRegex", ".*"),
                                                                          message, re.S):
            return category["name"]
    return "Uncategorised"


def _properties(path: Path) -> dict[str, str]:
    props = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if "=" in line and not line.startswith("#"):
                key, _, value = line.partition("=")
                props[key.strip()] = value.strip().replace("\\:", ":").replace("\\=", "=")
    return props


def load_results(results_dir: Path) -> list[dict[str, Any]]:
    """One result per scenario: its last attempt (a re-run leaves every attempt in the folder)."""
    from acceptance.parallel import latest_attempts
    return latest_attempts(json.loads(p.read_text(encoding="utf-8")) for p in sorted(results_dir.glob("*-result.json")))


def build(results_dir: Path) -> str:
    results = load_results(results_dir)
    categories_file = results_dir / "categories.json"
    categories = json.loads(categories_file.read_text()) if categories_file.exists() else []
    env = _properties(results_dir / "environment.properties")
    by_epic: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    failures: dict[str, list[str]] = defaultdict(list)
    savings, savings_scenarios = 0.0, 0
    durations = []
    for r in results:
        labels = _labels(r)
        epic = (labels.get("epic") or labels.get("suite") or ["(no epic)"])[0]
        ok = r.get("status") == PASSED
        by_epic[epic][0 if ok else 1] += 1
        name = r.get("name", "?")
        params = ", ".join(f"{p.get('name')}={p.get('value')}" for p in r.get("parameters", []) or [])
        title = f"{name} [{params}]" if params else name
        if not ok:
            message = (r.get("statusDetails") or {}).get("message") or r.get("status", "")
            category = _category(message, r.get("status", ""), categories)
            first = message.strip().splitlines()[0] if message.strip() else r.get("status", "")
            failures[category].append(f"- **{title}** ({epic}): {first[:300]}")
        elif labels.get(SAVINGS_LABEL):
            savings += sum(float(v) for v in labels[SAVINGS_LABEL])
            savings_scenarios += 1
        if r.get("start") is not None and r.get("stop") is not None:
            durations.append(((r["stop"] - r["start"]) / 1000, title, epic))
    passed = sum(v[0] for v in by_epic.values())
    failed = sum(v[1] for v in by_epic.values())
    lines = ["# Acceptance run summary", "",
             f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · target: {env.get('target', 'unknown')}"
             f" · platform {env.get('platform.version', '?')} · suite {env.get('suite.version', '?')}"
             + (f" ({env['suite.commit']})" if env.get("suite.commit") else ""), "",
             f"**{'PASSED' if failed == 0 and passed else 'FAILED'}**: {passed} scenarios passed, {failed} failed.", "",
             "## Journeys", "", "| journey | passed | failed |", "|---|---:|---:|"]
    for epic in sorted(by_epic):
        ok, bad = by_epic[epic]
        lines.append(f"| {epic} | {ok} | {bad} |")
    lines += ["", "## Failures by category", ""]
    if failures:
        for category in [c["name"] for c in categories] + ["Uncategorised"]:
            if failures.get(category):
                lines += [f"### {category} ({len(failures[category])})", ""] + failures[category] + [""]
    else:
        lines += ["None.", ""]
    lines += ["## Business value demonstrated", "",
              f"${savings:,.2f} a month of savings shown to users in {savings_scenarios} passing scenario(s)"
              if savings_scenarios else "No passing scenario showed savings.", "",
              "## Slowest journeys", "", "| seconds | scenario | journey |", "|---:|---|---|"]
    for seconds, title, epic in sorted(durations, reverse=True)[:5]:
        lines.append(f"| {seconds:.2f} | {title} | {epic} |")
    return "\n".join(lines) + "\n"


def write(results_dir: Path, target: Path | None = None) -> Path:
    target = target or results_dir.parent / "summary.md"
    target.write_text(build(results_dir), encoding="utf-8")
    return target
