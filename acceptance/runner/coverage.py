"""Clause coverage: which scenarios check which clause of contract/CONTRACT.md.

Scenarios name the clauses they check with ``@clause:<id>`` tags (on the scenario, the outline or the
feature). Clauses that no scenario names are listed in ``features/clauses_covered_elsewhere.yaml``
with the reason and the tests that cover them instead. ``python -m acceptance coverage`` prints the
table and exits 1 when a clause is neither named nor excused, when a tag names no clause, or when an
excuse names a test that does not exist.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from acceptance.verify import contract

FEATURES = contract.ROOT / "features"
ELSEWHERE = FEATURES / "clauses_covered_elsewhere.yaml"
TAG = re.compile(r"^clause:(.+)$")


@dataclass(frozen=True)
class ScenarioRef:
    feature: str   # path relative to the repository
    line: int
    name: str

    def __str__(self) -> str:
        return f"{self.feature}:{self.line} {self.name}"


@dataclass
class Coverage:
    clauses: list[contract.Clause]
    scenarios: dict[str, list[ScenarioRef]] = field(default_factory=dict)
    elsewhere: dict[str, dict] = field(default_factory=dict)
    unknown_tags: list[tuple[str, ScenarioRef]] = field(default_factory=list)
    missing_tests: list[tuple[str, str]] = field(default_factory=list)
    excused_but_named: list[str] = field(default_factory=list)

    @property
    def uncovered(self) -> list[str]:
        return [c.id for c in self.clauses if not self.scenarios.get(c.id) and c.id not in self.elsewhere]

    @property
    def by_scenario(self) -> int:
        return sum(1 for c in self.clauses if self.scenarios.get(c.id))

    @property
    def ok(self) -> bool:
        return not (self.uncovered or self.unknown_tags or self.missing_tests or self.excused_but_named)

    @property
    def percent(self) -> float:
        covered = len(self.clauses) - len(self.uncovered)
        return 100.0 * covered / len(self.clauses) if self.clauses else 100.0

    def headline(self) -> str:
        return (f"Contract {contract.version()}: {len(self.clauses)} clauses; {self.by_scenario} checked by scenarios, "
                f"{len([c for c in self.clauses if c.id in self.elsewhere and not self.scenarios.get(c.id)])} "
                f"covered elsewhere with a reason, {len(self.uncovered)} uncovered ({self.percent:.0f} % covered)")

    def rows(self) -> list[tuple[str, str, str]]:
        """(clause id, clause text, how it is covered) for every clause, in the order of the text."""
        out = []
        for clause in self.clauses:
            refs = self.scenarios.get(clause.id, [])
            if refs:
                how = "; ".join(f"{r.name} ({r.feature}:{r.line})" for r in refs)
            elif clause.id in self.elsewhere:
                entry = self.elsewhere[clause.id]
                how = "elsewhere: " + ", ".join(entry.get("tests", [])) + " - " + " ".join(str(entry["reason"]).split())
            else:
                how = "UNCOVERED"
            out.append((clause.id, clause.text, how))
        return out

    def text(self) -> str:
        lines = [self.headline(), ""]
        for cid, text, how in self.rows():
            lines.append(f"{cid:<9} {text[:70]}")
            for part in how.split("; ") if not how.startswith("elsewhere") else [how]:
                lines.append(f"          - {part}")
        lines.append("")
        lines.append("Uncovered: " + (", ".join(self.uncovered) or "none"))
        for tag, ref in self.unknown_tags:
            lines.append(f"Unknown clause in a tag: @clause:{tag} at {ref}")
        for cid, test in self.missing_tests:
            lines.append(f"{cid}: the test {test} does not exist")
        for cid in self.excused_but_named:
            lines.append(f"{cid}: named by a scenario and also listed in {ELSEWHERE.name}; keep one")
        return "\n".join(lines)

    def markdown(self) -> str:
        lines = [f"# Contract clause coverage", "", self.headline() + ".", "",
                 "| clause | statement | checked by |", "|---|---|---|"]
        for cid, text, how in self.rows():
            cell = how.replace("|", "\\|")
            lines.append(f"| {cid} | {text.replace('|', '/')[:90]} | {cell} |")
        return "\n".join(lines) + "\n"


def scenarios_by_clause(features_dir: Path = FEATURES) -> tuple[dict[str, list[ScenarioRef]], list[tuple[str, ScenarioRef]]]:
    from behave.parser import parse_file

    known = set(contract.clause_ids())
    found: dict[str, list[ScenarioRef]] = {}
    unknown: list[tuple[str, ScenarioRef]] = []
    for path in sorted(features_dir.rglob("*.feature")):
        feature = parse_file(str(path))
        rel = str(path.relative_to(contract.ROOT)) if path.is_relative_to(contract.ROOT) else str(path)
        for scenario in feature.walk_scenarios(with_outlines=True):
            if type(scenario).__name__ == "Scenario" and getattr(scenario, "_row", None) is not None:
                continue  # an outline's generated rows: the outline counts once
            if " -- @" in scenario.name:
                continue
            ref = ScenarioRef(rel, scenario.line, scenario.name)
            for tag in sorted(scenario.effective_tags):
                match = TAG.match(tag)
                if not match:
                    continue
                cid = match.group(1)
                if cid not in known:
                    unknown.append((cid, ref))
                else:
                    found.setdefault(cid, []).append(ref)
    return found, unknown


def _test_exists(reference: str) -> bool:
    path, _, name = reference.partition("::")
    file = contract.ROOT / path
    if not file.is_file():
        return False
    return not name or re.search(rf"^def {re.escape(name)}\(", file.read_text(encoding="utf-8"), re.MULTILINE) is not None


def measure() -> Coverage:
    scenarios, unknown = scenarios_by_clause()
    elsewhere = yaml.safe_load(ELSEWHERE.read_text(encoding="utf-8")) if ELSEWHERE.exists() else {}
    cov = Coverage(list(contract.clauses()), scenarios, elsewhere or {}, unknown)
    known = set(contract.clause_ids())
    for cid, entry in cov.elsewhere.items():
        if cid not in known:
            cov.unknown_tags.append((cid, ScenarioRef(str(ELSEWHERE.relative_to(contract.ROOT)), 0, "")))
        if not entry.get("reason") or not entry.get("tests"):
            cov.missing_tests.append((cid, "(a reason and at least one test are required)"))
        for test in entry.get("tests", []):
            if not _test_exists(test):
                cov.missing_tests.append((cid, test))
        if scenarios.get(cid):
            cov.excused_but_named.append(cid)
    return cov


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m acceptance coverage",
                                     description="every clause of contract/CONTRACT.md with the scenarios that check it")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown to FILE")
    args = parser.parse_args(argv)
    cov = measure()
    print(cov.text())
    if args.markdown:
        Path(args.markdown).write_text(cov.markdown(), encoding="utf-8")
    return 0 if cov.ok else 1
