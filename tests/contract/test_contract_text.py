"""contract/CONTRACT.md: versioned, every testable statement with a unique, well-formed id, and the
repository pointing nowhere outside its own contract."""
import re
import subprocess
from collections import Counter

from acceptance import contract

TEXT = contract.CONTRACT_MD.read_text(encoding="utf-8")


def test_version_is_1_0():
    assert contract.version() == "1.0"


def test_clause_ids_are_unique_and_numbered_in_order():
    defined = re.findall(r"\*\*\[([A-Z]+-\d+\.\d+)\]\*\*", TEXT)
    assert [cid for cid, n in Counter(defined).items() if n > 1] == []
    by_area: dict[str, list[tuple[int, int]]] = {}
    for clause in contract.clauses():
        area, number = clause.id.split("-")
        section, item = map(int, number.split("."))
        by_area.setdefault(area, []).append((section, item))
    for area, numbers in by_area.items():
        items = [item for _, item in numbers]
        assert items == list(range(1, len(items) + 1)), f"{area}: ids not numbered 1..n: {numbers}"
        assert len({section for section, _ in numbers}) == 1, area


def test_every_reference_names_a_defined_clause():
    defined = set(contract.clause_ids())
    referenced = set(contract.ANY_CLAUSE_REF.findall(TEXT))
    assert referenced - defined == set()


def test_clause_count_and_tolerance_section():
    ids = contract.clause_ids()
    assert len(ids) >= 90
    assert {"TOL-8.1", "TOL-8.2", "TOL-8.3", "TOL-8.4", "TOL-8.5"} <= set(ids)
    text = {c.id: c.text for c in contract.clauses()}
    assert "Unknown fields" in text["TOL-8.1"] and "Unknown server frame types" in text["TOL-8.2"]


# the folder the contract came from lies outside the repository (spelt in pieces so that this file
# does not match itself)
SHARED = "shar" + "ed"
OUTSIDE = re.compile(rf"\.\./{SHARED}/|/work/{SHARED}|{SHARED}/CONTRACT\.md|{SHARED}/seeds")


def test_nothing_in_the_repository_points_outside_it():
    files = subprocess.run(["git", "ls-files"], cwd=contract.ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    offenders = []
    for name in files:
        path = contract.ROOT / name
        if path.suffix not in (".md", ".py", ".yaml", ".yml", ".feature", ".json", ".ini", ".toml", ".txt", "") \
                or not path.is_file() or name.startswith("node_modules"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if OUTSIDE.search(text):
            offenders.append(name)
    assert offenders == []
