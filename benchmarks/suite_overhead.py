"""How much of the default suite's wall-clock is the platform's own pacing, and how much is overhead.

    python benchmarks/suite_overhead.py [behave args]       (default: the whole suite, default pacing)

Runs behave in this process (``behave.__main__.main``) against the embedded platform, with the
platform's frame pacing instrumented from outside (``RunContext._pace`` wrapped; nothing in the
platform changes). Figures:

* **wall s**: behave's whole run, platform start and preflight included (Python start-up not);
* **paced s (sum)**: the pacing floor: the sum, over every frame of every agent run, of the time
  the platform spent in its paced delay before sending it (the measured sleep, so it includes
  event-loop latency). A suite that ran its runs one after another with zero overhead would take
  this long;
* **paced s (union)**: the time during which at least one run was in a paced delay (runs that
  overlap, e.g. many users at once, count once) - the floor for this suite as written;
* **password hashing s**: time the platform spent in argon2id (registrations and sign-ins), the
  other deliberate slowness of the platform (the contract asks for slow salted hashes);
* **overhead ratio** = wall / paced (sum) (target < 1.5); also wall / paced (union) and
  wall / (paced sum + hashing).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def union_length(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total


def measure(behave_args: list[str]) -> dict:
    from behave.__main__ import main as behave_main

    from reference_platform import agents, security

    intervals: list[tuple[float, float]] = []
    hashing: list[float] = []
    runs = [0]
    original_pace, original_execute = agents.RunContext._pace, agents.RunManager._execute
    original_hash, original_verify = security.PasswordHasher.hash_password, security.PasswordHasher.verify_password

    def timed(function):
        def wrapper(*args, **kwargs):
            t0 = time.monotonic()
            try:
                return function(*args, **kwargs)
            finally:
                hashing.append(time.monotonic() - t0)
        return wrapper

    async def pace(self):
        t0 = time.monotonic()
        await original_pace(self)
        intervals.append((t0, time.monotonic()))

    async def execute(self, run):
        runs[0] += 1
        await original_execute(self, run)

    agents.RunContext._pace, agents.RunManager._execute = pace, execute
    security.PasswordHasher.hash_password = timed(original_hash)
    security.PasswordHasher.verify_password = timed(original_verify)
    results = Path(tempfile.mkdtemp(prefix="suite-overhead-")) / "allure-results"
    os.chdir(ROOT)
    try:
        started = time.monotonic()
        code = behave_main(["-f", "progress", "-D", f"allure_results={results}", *behave_args])
        wall = time.monotonic() - started
    finally:
        agents.RunContext._pace, agents.RunManager._execute = original_pace, original_execute
        security.PasswordHasher.hash_password = original_hash
        security.PasswordHasher.verify_password = original_verify
    from acceptance.runner.parallel import load_durations
    from acceptance.runner.results import counts, read_results
    passed, failed, skipped = counts(read_results(results, strict=True))
    paced_sum = sum(b - a for a, b in intervals)
    return {"exit_code": code, "wall_s": wall, "paced_sum_s": paced_sum, "paced_union_s": union_length(intervals),
            "frames": len(intervals), "runs": runs[0],
            "hashes": len(hashing), "hashing_s": sum(hashing), "scenarios": passed + failed + skipped, "passed": passed,
            "failed": failed, "scenario_s": sum(load_durations(results).values())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _, behave_args = parser.parse_known_args(argv)
    load_before = os.getloadavg()[0]  # other work on the machine skews every figure
    m = measure(behave_args)
    print()
    print(f"suite overhead, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()} "
          f"({os.cpu_count()} cores, Python {platform.python_version()}, load average "
          f"{load_before:.1f} before the run), behave {' '.join(behave_args) or '(default)'}")
    print("| scenarios | agent runs | frames | wall s | paced s (sum) | paced s (union) | password hashing s "
          "| wall / paced sum | wall / paced union | wall / (paced sum + hashing) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    def ratio(floor: float) -> str:
        return f"{m['wall_s'] / floor:.2f}x" if floor else "-"
    print(f"| {m['scenarios']} ({m['passed']} passed, {m['failed']} failed) | {m['runs']} | {m['frames']} | "
          f"{m['wall_s']:.1f} | {m['paced_sum_s']:.1f} | {m['paced_union_s']:.1f} | {m['hashing_s']:.1f} "
          f"({m['hashes']}) | {ratio(m['paced_sum_s'])} | {ratio(m['paced_union_s'])} | "
          f"{ratio(m['paced_sum_s'] + m['hashing_s'])} |")
    print(f"(sum of scenario durations in the report: {m['scenario_s']:.1f} s; target: wall / paced sum < 1.5)")
    return 0 if m["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
