"""The once-per-run files of an Allure results folder (categories, environment, executor; the environment
read back too), cleaning the folder (allure-behave never does), and the status message the categories classify."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Callable, Mapping

from acceptance.verify.errors import CATEGORY_CLASSES, SuiteFailure

ROOT = Path(__file__).resolve().parents[2]
#: Report categories, in the order Allure evaluates them (first match wins); "Suite defect" comes last.
CATEGORY_NAMES: tuple[str, ...] = tuple(cls.category for cls in CATEGORY_CLASSES)
assert all(re.fullmatch(r"[A-Za-z][A-Za-z ]*", name) for name in CATEGORY_NAMES), CATEGORY_NAMES  # no regex syntax


def categories() -> list[dict[str, Any]]:
    """Allure matches ``messageRegex`` against the whole message; "Suite defect" takes the rest."""
    return [{"name": name, "messageRegex": f"(?s){name}: .*" if name in CATEGORY_NAMES else "(?s).*",
             "matchedStatuses": ["failed", "broken"]} for name in (*CATEGORY_NAMES, SuiteFailure.category)]


def exception_message(exc: BaseException) -> str:
    """A message that starts with a category name as it is; anything else prefixed with its type
    ("KeyError: 'x'"), so it lands in "Suite defect"."""
    text = str(exc).strip()
    if isinstance(exc, SuiteFailure):
        return text or exc.category
    if any(text.startswith(f"{name}: ") for name in (*CATEGORY_NAMES, SuiteFailure.category)):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def clean(results_dir: Path) -> None:
    """Empty a results folder (create it if needed); refuses folders that hold more than results."""
    resolved, cwd = Path(results_dir).resolve(), Path.cwd().resolve()
    if resolved in {Path(resolved.anchor), Path.home().resolve(), cwd, *cwd.parents, ROOT}:
        raise ValueError(f"refusing to clean {resolved}: not a dedicated results folder")
    if resolved.exists() and not resolved.is_dir():
        raise ValueError(f"results path {resolved} exists and is not a folder")
    if resolved.exists():
        shutil.rmtree(resolved)
    resolved.mkdir(parents=True)


def write_file(path: Path, data: str | bytes) -> None:
    """Atomically: a reader of the folder never sees a file half written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    os.replace(temporary, path)


def write_categories(results_dir: str | os.PathLike) -> None:
    write_file(Path(results_dir) / "categories.json", json.dumps(categories(), indent=2) + "\n")


def write_environment(results_dir: str | os.PathLike, mapping: Mapping[str, Any],
                      *, redact: Callable[[str], str] = str) -> None:
    """``environment.properties``: values escaped as Java properties; ``None`` values left out."""
    def value(text: str) -> str:
        text = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        return "\\" + text if text[:1] in (" ", "=", ":", "#", "!") else text
    lines = [f"{k}={value(redact(str(v)))}" for k, v in mapping.items() if v is not None]
    write_file(Path(results_dir) / "environment.properties", "".join(line + "\n" for line in lines))


def read_environment(results_dir: str | os.PathLike) -> dict[str, str]:
    """``environment.properties`` as :func:`write_environment` wrote it, escapes undone (empty when missing)."""
    path = Path(results_dir) / "environment.properties"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    pairs = (re.match(r"((?:\\.|[^\\=:])*)[=:]?(.*)", line).groups() for line in lines
             if line.strip() and not line.lstrip().startswith(("#", "!")))
    return {_unescape(key).strip(): _unescape(value) for key, value in pairs}


def _unescape(text: str) -> str:
    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", lambda m: chr(int(m[1][1:], 16)) if len(m[1]) == 5
                  else {"n": "\n", "r": "\r", "t": "\t"}.get(m[1], m[1]), text)


def write_executor(results_dir: str | os.PathLike, name: str, build_name: str, build_order: int | str) -> None:
    """``executor.json``: who ran the suite; ``buildOrder`` orders the history."""
    order = int(build_order) if str(build_order).isdigit() else build_order
    write_file(Path(results_dir) / "executor.json", json.dumps(
        {"name": name, "buildName": build_name, "buildOrder": order}, indent=2, ensure_ascii=False) + "\n")
