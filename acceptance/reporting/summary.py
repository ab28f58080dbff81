"""`reports/summary.md`, the one page for people who will not open the report, built from the Allure
results alone (so merged parallel runs too); rendered by :func:`.visuals.summary_markdown`."""
from __future__ import annotations

import json
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from acceptance.reporting.evidence import SAVINGS_LABEL
from acceptance.reporting.results_folder import read_environment, write_file
from acceptance.reporting.visuals import markdown_as_text, summary_markdown
from acceptance.runner.results import failure, read_categories, read_results, title
from acceptance.verify import money

TITLE = "Business summary"
#: the report build's global attachment (its record and its text); a run writes none, a merge copies none
FILES = ("business-summary-globals.json", "business-summary-attachment.txt")


def build(results_dir: Path) -> str:
    """The summary in Markdown: passed/failed per epic, failures (title, epic, first line of the cause) by
    category, the savings shown in passing scenarios, the slowest scenarios."""
    categories = read_categories(results_dir)
    by_epic: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    failures: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    savings, savings_scenarios, durations = Decimal(0), 0, []
    for r in read_results(results_dir, strict=True, latest=True):
        labels: dict[str, list[str]] = defaultdict(list)
        for label in r.get("labels", []):
            labels[label.get("name", "")].append(str(label.get("value", "")))
        epic = (labels.get("epic") or labels.get("suite") or ["(no epic)"])[0]
        ok = r.get("status") == "passed"
        by_epic[epic][0 if ok else 1] += 1
        name = title(r)
        if not ok:
            cat, line = failure(r, categories)
            failures[cat].append((name, epic, line[:300]))
        elif labels.get(SAVINGS_LABEL):
            savings += sum(money.parse(v) for v in labels[SAVINGS_LABEL])
            savings_scenarios += 1
        if r.get("start") is not None and r.get("stop") is not None:
            durations.append(((r["stop"] - r["start"]) / 1000, name, epic))
    order = [c["name"] for c in categories] + ["Uncategorised"]
    return summary_markdown(read_environment(results_dir), dict(by_epic),
                            {c: failures[c] for c in order if failures.get(c)}, savings, savings_scenarios,
                            sorted(durations, reverse=True)[:5])


def write(results_dir: Path) -> Path:
    target = results_dir.parent / "summary.md"
    target.write_text(build(results_dir), encoding="utf-8")
    return target


def headline(path: Path, *more: str) -> str:
    """The written summary without its slowest journeys, as a run prints it, and where it (and ``more``) is."""
    text = path.read_text(encoding="utf-8").split("## Slowest journeys")[0].rstrip()
    return text + f"\n\n(summary: {'; '.join([str(path), *more])})"


def attach(results_dir: Path) -> None:
    """The summary of the whole folder as its one global attachment, in plain text (Allure 3 shows text in
    full on the first page); made by each report build, it replaces the one an earlier build made."""
    globals_file, source = FILES
    write_file(results_dir / source, markdown_as_text(build(results_dir)))
    attachment = {"name": TITLE, "source": source, "type": "text/plain", "timestamp": int(time.time() * 1000)}
    write_file(results_dir / globals_file, json.dumps({"attachments": [attachment]}))
