"""Runs the whole default suite under each conforming variation, one at a time, then under ``all``.

Every run must be clean (zero failed, zero skipped): a red scenario under a variation is a false alarm
of the suite, since every variation keeps the contract (docs/variations.md). Prints one line per run
(with the failing scenarios, if any) and the total; exits non-zero unless every run was clean.

    .venv/bin/python benchmarks/variations_sweep.py [--only a,b] [--skip-all] [--dialect netra]

The slow variations (cold_start, slow_pacing) take a few minutes each. Timings are wall seconds on a
shared machine: noisy.
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
sys.path.insert(0, str(ROOT))

from reference_platform.variations import CATALOGUE  # noqa: E402


def run_suite(results: Path, variations: str, dialect: str = "canonical",
              extra: tuple[str, ...] = ()) -> tuple[dict[str, int], list[str], float, int]:
    """One run of the whole suite; (status counts, failing scenarios, seconds, exit code)."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "behave", "-f", "null", "--no-summary", "-D",
                           f"allure_results={results}", "-D", f"platform_dialect={dialect}",
                           "-D", f"platform_variations={variations}", *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800)
    counts = {"passed": 0, "failed": 0, "broken": 0, "skipped": 0}
    failing = []
    for path in results.glob("*-result.json"):
        data = json.loads(path.read_text())
        status = data.get("status", "broken")
        counts[status] = counts.get(status, 0) + 1
        if status in ("failed", "broken"):
            message = ((data.get("statusDetails") or {}).get("message") or "").strip().splitlines()
            failing.append(f"{data.get('name')}: {message[0][:160] if message else status}")
    return counts, failing, time.monotonic() - started, done.returncode


def clean(counts: dict[str, int], code: int) -> bool:
    return code == 0 and counts["passed"] > 0 and not (counts["failed"] or counts["broken"] or counts["skipped"])


def report(label: str, counts: dict[str, int], failing: list[str], seconds: float, code: int) -> bool:
    ok = clean(counts, code)
    print(f"{label:28s} {counts['passed']:3d} passed, {counts['failed'] + counts['broken']} failed, "
          f"{counts['skipped']} skipped in {seconds:6.1f} s -> {'clean' if ok else 'NOT CLEAN'}", flush=True)
    for line in failing[:10]:
        print(f"    {line}", flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated variations (default: every one)")
    parser.add_argument("--skip-all", action="store_true", help="leave out the run under all")
    parser.add_argument("--dialect", default="canonical", choices=("canonical", "netra"))
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",")] if args.only else list(CATALOGUE)
    if not args.skip_all:
        names.append("all")
    good = 0
    with tempfile.TemporaryDirectory(prefix="variations-sweep-") as work:
        for name in names:
            good += report(name, *run_suite(Path(work) / name, name, args.dialect))
    print(f"{good}/{len(names)} clean runs, one per variation{' and one under all' if not args.skip_all else ''} "
          f"({args.dialect} dialect)")
    return 0 if good == len(names) else 1


if __name__ == "__main__":
    sys.exit(main())
