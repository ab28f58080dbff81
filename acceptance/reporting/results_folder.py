"""The once-per-run files of an Allure results folder (categories, environment, executor; the environment
read back too) and cleaning the folder (allure-behave never does)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Mapping

import javaproperties

from acceptance import ROOT
from acceptance.verify.errors import categories


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
    """``environment.properties`` (Java properties, UTF-8 as Allure reads them); ``None`` values left out."""
    values = {key: redact(str(value)) for key, value in mapping.items() if value is not None}
    write_file(Path(results_dir) / "environment.properties",
               javaproperties.dumps(values, timestamp=False, sort_keys=False, ensure_ascii=False))


def read_environment(results_dir: str | os.PathLike) -> dict[str, str]:
    """``environment.properties`` read back (empty when missing)."""
    path = Path(results_dir) / "environment.properties"
    return javaproperties.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def write_executor(results_dir: str | os.PathLike, name: str, build_name: str, build_order: int) -> None:
    """``executor.json``: who ran the suite; ``buildOrder`` orders the history."""
    write_file(Path(results_dir) / "executor.json", json.dumps(
        {"name": name, "buildName": build_name, "buildOrder": build_order}, indent=2, ensure_ascii=False) + "\n")
