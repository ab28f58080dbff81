"""JUnit XML from the Allure results, for CI systems that read JUnit (all of them).

Written after every run (serial ``behave``/``bin/suite``, ``bin/suite-parallel``, a shard, a
``merge``, a ``--rerun-failed``) from the result files alone, beside the results folder
(``reports/junit.xml``). The layout follows the common JUnit schema (Ant/Jenkins/GitLab/GitHub):

* one ``<testsuite>`` per feature file (``name`` the feature's path), one ``<testcase>`` per
  scenario or outline row (``classname`` the feature path with dots, ``name`` the scenario title
  with its row parameters, ``time`` in seconds, ``file`` the feature file);
* a failed scenario has ``<failure>``, a broken one (an error outside an assertion) ``<error>``:
  ``type`` is the report category (Infrastructure, Authentication, Contract, Business outcome,
  Isolation breach, Suite defect, matched with the run's ``categories.json``) and ``message``
  starts with it (``"Contract: ..."``); the element's text is the whole message and trace;
* a skipped scenario has ``<skipped>``; the run-level stop (target down) is a test case too;
* a scenario with several attempts (``--rerun-failed``) is one test case, its last attempt; when it
  passed after failing it carries ``<system-out>flaky: ...</system-out>`` naming the earlier result.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from acceptance.runner.results import attempt_key, category, latest_attempts, read_categories, read_results, title

SUITE_DEFECT = "Suite defect"


def _clean(text: str) -> str:
    """XML 1.0 cannot hold most control characters."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "?", text)


def _feature(result: dict[str, Any]) -> str:
    full_name = str(result.get("fullName") or "")
    return full_name.split(" :: ", 1)[0] if " :: " in full_name else (full_name.split("::", 1)[0] or "run")


def _seconds(result: dict[str, Any]) -> float:
    start, stop = result.get("start"), result.get("stop")
    return max(0.0, (stop - start) / 1000) if isinstance(start, (int, float)) and isinstance(stop, (int, float)) else 0.0


def build(results_dir: Path) -> ET.ElementTree:
    results_dir = Path(results_dir)
    all_results = read_results(results_dir, strict=False)
    attempts: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for result in all_results:
        attempts[attempt_key(result)].append(result)
    categories = read_categories(results_dir)
    by_feature: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in latest_attempts(all_results):
        by_feature[_feature(result)].append(result)
    root = ET.Element("testsuites", name="acceptance suite")
    totals = defaultdict(float)
    for feature in sorted(by_feature):
        results = sorted(by_feature[feature], key=lambda r: (r.get("start") or 0, title(r)))
        suite = ET.SubElement(root, "testsuite", name=feature)
        counts = defaultdict(float)
        for result in results:
            status = str(result.get("status") or "unknown")
            case = ET.SubElement(suite, "testcase", classname=feature.removesuffix(".feature").replace("/", "."),
                                 name=_clean(title(result)), time=f"{_seconds(result):.3f}")
            if feature.endswith(".feature"):
                case.set("file", feature)
            details = result.get("statusDetails") or {}
            message = str(details.get("message") or "").strip()
            trace = str(details.get("trace") or "").strip()
            if status in ("failed", "broken"):
                cat = category(message, status, categories, default=SUITE_DEFECT)
                head = message.splitlines()[0] if message else f"the scenario is {status} without a message"
                if not head.startswith(f"{cat}:"):
                    head = f"{cat}: {head}"
                element = ET.SubElement(case, "failure" if status == "failed" else "error",
                                        message=_clean(head[:1000]), type=cat)
                element.text = _clean("\n\n".join(part for part in (message, trace) if part))
                counts["failures" if status == "failed" else "errors"] += 1
            elif status == "skipped":
                ET.SubElement(case, "skipped", message=_clean(message.splitlines()[0] if message else "skipped"))
                counts["skipped"] += 1
            elif status != "passed":
                ET.SubElement(case, "error", message=f"{SUITE_DEFECT}: status {status}", type=SUITE_DEFECT)
                counts["errors"] += 1
            earlier = [r for r in attempts[attempt_key(result)] if r is not result]
            if earlier:
                before = ", ".join(str(r.get("status")) for r in sorted(earlier, key=lambda r: r.get("stop") or 0))
                note = (f"flaky: passed on attempt {len(earlier) + 1} after {before}" if status == "passed"
                        else f"attempt {len(earlier) + 1}; earlier attempts: {before}")
                ET.SubElement(case, "system-out").text = note
            counts["tests"] += 1
            counts["time"] += _seconds(result)
        starts = [r["start"] for r in results if isinstance(r.get("start"), (int, float))]
        if starts:
            suite.set("timestamp", datetime.fromtimestamp(min(starts) / 1000, timezone.utc)
                      .strftime("%Y-%m-%dT%H:%M:%S"))
        for name in ("tests", "failures", "errors", "skipped"):
            suite.set(name, str(int(counts[name])))
            totals[name] += counts[name]
        suite.set("time", f"{counts['time']:.3f}")
        totals["time"] += counts["time"]
    for name in ("tests", "failures", "errors", "skipped"):
        root.set(name, str(int(totals[name])))
    root.set("time", f"{totals['time']:.3f}")
    ET.indent(root)
    return ET.ElementTree(root)


def write(results_dir: Path, target: Path | None = None) -> Path:
    """``junit.xml`` beside the results folder (or ``target``); returns its path."""
    results_dir = Path(results_dir)
    target = Path(target) if target is not None else results_dir.parent / "junit.xml"
    build(results_dir).write(target, encoding="utf-8", xml_declaration=True)
    return target
