"""Which scenario is which, from behave's public model (``parent``, ``filename``, outlines' ``examples`` and
``scenarios``): for discovery, shards, re-runs and the listener that names the results. A result file's side
of the same identity is :func:`acceptance.runner.results.result_key`: ``fullName`` plus the row parameters."""
from __future__ import annotations

from pathlib import Path, PurePath
from typing import Any


def outline_row(scenario: Any) -> Any:
    """The Examples row an outline scenario was built from (``None`` for a plain scenario)."""
    outline = scenario.parent
    if getattr(outline, "type", None) != "scenario_outline":
        return None
    rows = [row for examples in outline.examples for row in (examples.table or [])]
    return next((row for built, row in zip(outline.scenarios, rows) if built is scenario), None)


def row_items(scenario: Any) -> list[tuple[str, str]]:
    row = outline_row(scenario)
    return [(str(h), str(c)) for h, c in zip(row.headings, row.cells)] if row is not None else []


def rule_of(scenario: Any) -> Any:
    node = scenario.parent
    while node is not None and getattr(node, "type", None) != "rule":
        node = getattr(node, "parent", None)
    return node


def feature_path(scenario: Any) -> str:
    path = Path(scenario.filename or "")
    if path.is_absolute() and path.is_relative_to(Path.cwd()):
        path = path.relative_to(Path.cwd())
    return PurePath(path).as_posix()


def full_name(scenario: Any) -> str:
    """``<feature file> :: [<rule> ::] <scenario>``; outline rows share the outline's name."""
    rule, row = rule_of(scenario), outline_row(scenario)
    name = scenario.parent.name if row is not None else scenario.name or scenario.keyword
    return " :: ".join([feature_path(scenario) or scenario.feature.name] + ([rule.name] if rule else []) + [name])


def title(scenario: Any) -> str:
    """The scenario's name; an outline row's without behave's `` -- @1.2`` suffix (its values are parameters)."""
    if outline_row(scenario) is not None:
        return scenario.name.rsplit(" -- @", 1)[0]
    return scenario.name or scenario.keyword
