"""contract/CONTRACT.md: versioned, every testable statement with a unique, well-formed id, and the
repository pointing nowhere outside its own contract."""
import re
import subprocess
from collections import Counter

from acceptance.verify import contract

TEXT = contract.CONTRACT_MD.read_text(encoding="utf-8")


def test_version_is_1_1():
    assert contract.version() == "1.1"
    assert "- 1.1:" in TEXT[TEXT.index("## Changes"):]


def test_clause_ids_are_unique_and_numbered_in_order():
    defined = re.findall(r"\*\*\[([A-Z][A-Z0-9]*-[\d.]+)\]\*\*", TEXT)
    assert defined == contract.CLAUSE_ID.findall(TEXT)  # every bold id has one of the two forms
    assert [cid for cid, n in Counter(defined).items() if n > 1] == []
    by_area: dict[str, list[tuple[int, int]]] = {}
    for clause in contract.clauses():
        area, number = clause.id.split("-")
        if "." in number:
            section, item = map(int, number.split("."))
        else:  # a Compat dialect's clause: <prefix>-<n>, all in section 9
            assert clause.section.startswith("9. Compat"), clause
            section, item = 9, int(number)
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


def test_the_netra_2025_dialect_is_in_the_contract_and_only_there():
    ids = contract.clause_ids()
    assert [i for i in ids if i.startswith("N25-")] == [f"N25-{n}" for n in range(1, 14)]
    guide = (contract.ROOT / "docs" / "netra-2025.md").read_text(encoding="utf-8")
    # the guide points at the clauses; it restates none of them as its own rule
    assert not re.search(r"^- \*\*N25-\d+\*\*", guide, re.MULTILINE)
    assert "contract/CONTRACT.md" in guide


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
