"""The once-per-run files of an Allure results folder (categories, environment, executor), cleaning
the folder (allure-behave never does), and the status message of an exception, which the categories
classify."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Callable, Mapping

from acceptance.errors import CATEGORY_CLASSES, SuiteFailure

#: Report categories, in the order Allure evaluates them (first match wins).
CATEGORY_NAMES: tuple[str, ...] = tuple(cls.category for cls in CATEGORY_CLASSES)
assert all(re.fullmatch(r"[A-Za-z][A-Za-z ]*", name) for name in CATEGORY_NAMES), CATEGORY_NAMES  # no regex syntax
SUITE_DEFECT = SuiteFailure.category


def categories() -> list[dict[str, Any]]:
    """Allure matches ``messageRegex`` against the whole message, so each pattern ends in ``.*``;
    "Suite defect" comes last and takes the rest (bare asserts, Python errors of the suite)."""
    statuses = ["failed", "broken"]
    return ([{"name": name, "messageRegex": f"(?s){name}: .*", "matchedStatuses": statuses} for name in CATEGORY_NAMES]
            + [{"name": SUITE_DEFECT, "messageRegex": "(?s).*", "matchedStatuses": statuses}])


def exception_message(exc: BaseException) -> str:
    """Suite failures and texts that start with a category name ("Contract: ...") as they are;
    anything else prefixed with its type ("KeyError: 'x'"), so it lands in "Suite defect"."""
    text = str(exc).strip()
    if isinstance(exc, SuiteFailure):
        return text or exc.category
    if any(text.startswith(f"{name}: ") for name in (*CATEGORY_NAMES, SUITE_DEFECT)):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def clean(results_dir: Path) -> None:
    """Empty a results folder (create it if needed); refuses folders that hold more than results."""
    resolved = results_dir.resolve()
    cwd = Path.cwd().resolve()
    if resolved in {Path(resolved.anchor), Path.home().resolve(), cwd, *cwd.parents}:
        raise ValueError(f"refusing to clean {resolved}: not a dedicated results folder")
    if resolved.exists() and not resolved.is_dir():
        raise ValueError(f"results path {resolved} exists and is not a folder")
    if resolved.exists():
        shutil.rmtree(resolved)
    resolved.mkdir(parents=True)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_categories(results_dir: str | os.PathLike) -> Path:
    return _write(Path(results_dir) / "categories.json", json.dumps(categories(), indent=2) + "\n")


def write_environment(results_dir: str | os.PathLike, mapping: Mapping[str, Any],
                      *, redact: Callable[[str], str] | None = None) -> Path:
    """``environment.properties`` (keys are plain names; values escaped as Java properties); ``None``
    values left out."""
    def value(text: str) -> str:
        text = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        return "\\" + text if text[:1] in (" ", "=", ":", "#", "!") else text
    lines = [f"{k}={value(redact(str(v)) if redact else str(v))}" for k, v in mapping.items() if v is not None]
    return _write(Path(results_dir) / "environment.properties", "\n".join(lines) + ("\n" if lines else ""))


def write_executor(results_dir: str | os.PathLike, name: str, build_name: str, build_order: int | str,
                   report_url: str | None = None, *, executor_type: str | None = None,
                   build_url: str | None = None, report_name: str | None = None) -> Path:
    """``executor.json``: who ran the suite; ``buildOrder`` orders the history."""
    order = int(build_order) if str(build_order).isdigit() else build_order
    data = {"name": name, "buildName": build_name, "buildOrder": order, "type": executor_type,
            "buildUrl": build_url, "reportUrl": report_url, "reportName": report_name}
    return _write(Path(results_dir) / "executor.json",
                  json.dumps({k: v for k, v in data.items() if v is not None}, indent=2, ensure_ascii=False) + "\n")
