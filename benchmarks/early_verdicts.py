"""How long does the suite take to fail on each fault, against its clean run?

For every fault of the catalogue, runs the journeys expected to catch it twice with the run timeout
set as for a deployment (``-D run_timeout=180``): once against the clean embedded platform, once with
the fault switched on. A verdict the stream has already given must not wait for a timeout, so no
fault may make its run take more than 2x the same journeys' clean run (wall seconds, process start and report included; the scenarios' own
seconds from the Allure results are shown beside them). Prints a Markdown table
(the one in docs/mutation.md) and exits non-zero when a fault exceeds the ratio or is not killed.

    .venv/bin/python benchmarks/early_verdicts.py [--faults a,b] [--jobs 2] [--variations all]

Timings are wall-clock seconds on a shared machine: noisy, compare ratios rather than seconds.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acceptance.runner.mutants import EXPECTATIONS, failures_in, run_suite  # noqa: E402

MAX_RATIO = 2.0


def scenario_seconds(results: Path) -> float:
    """The scenarios' own time (Allure start..stop of each), without process start and report writing."""
    total = 0.0
    for path in results.glob("*-result.json"):
        data = json.loads(path.read_text())
        if data.get("start") and data.get("stop"):
            total += (data["stop"] - data["start"]) / 1000
    return total


def timed(results: Path, tags: str, fault: str | None, extra: list[str], timeout: float) -> tuple[float, int, list]:
    started = time.monotonic()
    code, _ = run_suite(results, tags, fault, extra, timeout)
    return time.monotonic() - started, code, failures_in(results)


def measure(fault: str, work: Path, extra: list[str], timeout: float) -> tuple:
    _, tags = EXPECTATIONS[fault]
    clean_s, clean_code, clean_failures = timed(work / f"{fault}-clean", tags, None, extra, timeout)
    if clean_code != 0 or clean_failures:
        raise SystemExit(f"early_verdicts: the clean run of {tags} failed: {clean_failures[:3]}")
    fault_s, code, failures = timed(work / fault, tags, fault, extra, timeout)
    return (fault, clean_s, fault_s, bool(failures) and code != 0, scenario_seconds(work / f"{fault}-clean"),
            scenario_seconds(work / fault))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faults", help="comma-separated fault names (default: the whole catalogue)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--run-timeout", type=float, default=180, help="the suite's run timeout (default 180)")
    parser.add_argument("--variations", default="", help="platform variations to switch on (e.g. all)")
    args = parser.parse_args(argv)
    faults = [f.strip() for f in args.faults.split(",")] if args.faults else list(EXPECTATIONS)
    extra = ["-D", "pacing_ms=1-3", "-D", f"run_timeout={args.run_timeout:g}"]
    if args.variations:
        extra += ["-D", f"platform_variations={args.variations}"]
    work = Path(tempfile.mkdtemp(prefix="early-verdicts-"))
    # a behave run must never be cut off before the suite's own bound: allow two run timeouts and change
    limit = 2 * args.run_timeout + 120
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(pool.map(lambda f: measure(f, work, extra, limit), faults))
    print(f"Run timeout {args.run_timeout:g} s, variations: {args.variations or 'none'}; wall seconds of the "
          f"fault's journeys, clean and with the fault (noisy: shared machine).\n")
    print("| fault | journeys | clean s | fault s | ratio | scenarios clean s | scenarios fault s | killed |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    worst, bad = 0.0, []
    for fault, clean_s, fault_s, killed, clean_sc, fault_sc in rows:
        ratio = fault_s / clean_s if clean_s else float("inf")
        worst = max(worst, ratio)
        if ratio > MAX_RATIO or not killed:
            bad.append(fault)
        print(f"| `{fault}` | `{EXPECTATIONS[fault][1]}` | {clean_s:.1f} | {fault_s:.1f} | {ratio:.2f} | "
              f"{clean_sc:.2f} | {fault_sc:.2f} | {'yes' if killed else 'NO'} |")
    print(f"\nWorst ratio {worst:.2f} (limit {MAX_RATIO:g}); over the limit or not killed: {', '.join(bad) or 'none'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
