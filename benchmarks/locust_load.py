"""The Locust chat journey at 100, 300 and 500 users against the reference platform on this machine.

    python benchmarks/locust_load.py [--users 100,300,500] [--run-time 30] [--workers 2] [--pacing 0]

For each user count: a fresh reference platform (its own process, loopback, pacing ``--pacing``),
a Locust master and ``--workers`` workers (``load/run_distributed.py``), users spawned at
``--spawn-rate``, ``--run-time`` seconds of load, then up to ``--stop-timeout`` for journeys in
flight to finish. Each user signs in once (simulated OAuth), stores ten days of usage, then
repeats: open the chat, ask the supervisor a cost question, wait for the answer, replay the run on
a second socket and compare (``load/journey.py``), wait 0.5-1.5 s.

Figures: users signed in (users whose sign-in answered during the run: under saturation the
platform answers some sign-ins only after many seconds, and those users never journey), completed
runs and runs/s (journeys that reached ``agent_completed``, over the whole
run time), p50/p95/p99 of the time to first event (``agent_started``) and to completion, failures
(any Locust entry) and frames lost/duplicated (summed over the workers). Client and platform share
the machine's cores, so the figures are a floor for the platform, not its capacity.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "load")]

from run_distributed import run  # noqa: E402


def _s(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", default="100,300,500")
    parser.add_argument("--run-time", type=float, default=30)
    parser.add_argument("--spawn-rate", type=float, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pacing", default="0")
    parser.add_argument("--stop-timeout", type=float, default=60)
    args, extra = parser.parse_known_args(argv)
    load_before = os.getloadavg()[0]  # other work on the machine skews every figure
    base = Path(tempfile.mkdtemp(prefix="locust-load-"))
    results = []
    for users in [int(u) for u in args.users.split(",") if u.strip()]:
        print(f"--- {users} users", flush=True)
        results.append(run(users, args.spawn_rate, args.run_time, workers=args.workers, pacing=args.pacing,
                           out=base / f"u{users}", stop_timeout=args.stop_timeout, extra=extra))
    print()
    print(f"Locust chat journey, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()} "
          f"({os.cpu_count()} cores, Python {platform.python_version()}, load average "
          f"{load_before:.1f} before the run); master + {args.workers} workers, "
          f"platform pacing {args.pacing} ms, spawn {args.spawn_rate:g}/s, run time {args.run_time:g} s; "
          f"CSV and logs in {base}")
    print("| users | signed in | completed runs | runs/s | first event p50 / p95 / p99 s "
          "| completion p50 / p95 / p99 s | failures | frames received / replayed | lost | duplicated | exit |")
    print("|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        j = r.journey
        print(f"| {r.users} | {j.get('users_signed_in', '-')} | {j.get('runs_completed', '-')} | "
              f"{r.runs_per_second():.1f} | "
              f"{_s(r.percentile('first', '50%'))} / {_s(r.percentile('first', '95%'))} / "
              f"{_s(r.percentile('first', '99%'))} | {_s(r.percentile('completion', '50%'))} / "
              f"{_s(r.percentile('completion', '95%'))} / {_s(r.percentile('completion', '99%'))} | {r.failures} | "
              f"{j.get('frames_received', '-')} / {j.get('frames_replayed', '-')} | {j.get('frames_lost', '-')} | "
              f"{j.get('frames_duplicated', '-')} | {r.exit_code} |")
    return 0 if all(r.exit_code == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
