"""Combines pytest's JUnit XML and the suite's Allure results into the closing CI line."""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project's own packages


def pytest_counts(path: Path) -> tuple[int, int, int]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return tests - failed - skipped, failed, skipped


def allure_counts(folder: Path) -> tuple[int, int, int]:
    from acceptance.runner.results import counts, read_results
    return counts(read_results(folder, strict=True))


def main(argv: list[str]) -> int:
    passed = failed = skipped = 0
    for kind, path in zip(argv[0::2], argv[1::2]):
        p = Path(path)
        if kind == "checks":  # "passed:failed" of CI's own checks (dry-run, report)
            ok, bad = (int(x) for x in path.split(":"))
            counts = (ok, bad, 0)
        elif kind == "pytest":
            counts = pytest_counts(p) if p.exists() else (0, 1, 0)
        else:
            counts = allure_counts(p) if p.is_dir() else (0, 1, 0)
        print(f"  {kind:<22} {counts[0]} passed, {counts[1]} failed, {counts[2]} skipped  ({path})")
        passed, failed, skipped = passed + counts[0], failed + counts[1], skipped + counts[2]
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 0 if failed == 0 and skipped == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
