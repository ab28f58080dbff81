"""Runs the default suite (embedded platform, every scenario) N times in a row and counts.

The clean run must be green every time: zero failed, zero skipped, zero undefined. Prints one line
per run and the total, and exits non-zero if any run was not clean.

    .venv/bin/python benchmarks/clean_repeat.py --runs 10 [--dialect netra|netra-2025]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def once(results: Path, dialect: str) -> tuple[dict[str, int], float, int]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "behave", "-f", "null", "--no-summary", "-D",
                           f"allure_results={results}", "-D", f"platform_dialect={dialect}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    counts = {"passed": 0, "failed": 0, "broken": 0, "skipped": 0}
    for path in results.glob("*-result.json"):
        status = json.loads(path.read_text()).get("status", "broken")
        counts[status] = counts.get(status, 0) + 1
    return counts, time.monotonic() - started, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--dialect", default="canonical", choices=("canonical", "netra", "netra-2025"))
    args = parser.parse_args()
    clean = 0
    with tempfile.TemporaryDirectory(prefix="clean-repeat-") as work:
        for i in range(1, args.runs + 1):
            counts, seconds, code = once(Path(work) / f"run{i}", args.dialect)
            ok = code == 0 and counts["passed"] > 0 and not (counts["failed"] or counts["broken"] or counts["skipped"])
            clean += ok
            print(f"run {i:2d}: {counts['passed']} passed, {counts['failed'] + counts['broken']} failed, "
                  f"{counts['skipped']} skipped in {seconds:.1f} s -> {'clean' if ok else 'NOT CLEAN'}", flush=True)
    print(f"{clean}/{args.runs} clean runs in a row ({args.dialect} dialect)")
    return 0 if clean == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
