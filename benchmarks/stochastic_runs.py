"""Runs the default suite N times in a row against a platform under the ``stochastic`` variation.

Each run draws other thinking counts, tool order, sub-agent order and pacing jitter per agent run
(docs/variations.md), as a real platform's agents answer differently every time; every run must be
clean. Prints one line per run and the total; exits non-zero unless all were clean.

    .venv/bin/python benchmarks/stochastic_runs.py --runs 20
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from variations_sweep import report, run_suite  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    good = 0
    with tempfile.TemporaryDirectory(prefix="stochastic-runs-") as work:
        for i in range(1, args.runs + 1):
            good += report(f"stochastic run {i:2d}", *run_suite(Path(work) / f"run{i}", "stochastic"))
    print(f"{good}/{args.runs} clean runs in a row under the stochastic variation")
    return 0 if good == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
