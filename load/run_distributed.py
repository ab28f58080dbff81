"""A bounded Locust run of the chat journey, distributed over a master and workers on this machine.

    python load/run_distributed.py --users 300 --spawn-rate 50 --run-time 30          # master + 2 workers
    python load/run_distributed.py --workers 0 --users 20 --run-time 10               # one local process
    python load/run_distributed.py --host http://127.0.0.1:8000 --users 50            # a platform you run

Without ``--host`` it starts the reference platform (``python -m reference_platform`` on a free
loopback port, pacing ``--pacing``, a bypass key generated for this run); then a Locust master
(``--master --expect-workers N``, bound to 127.0.0.1) and N workers, all headless, for
``--run-time`` seconds plus ``--stop-timeout`` for journeys in flight to finish. It collects
Locust's CSV statistics and the journey report in ``--out`` (default ``reports/load``), prints the
figures, and stops everything it started, also when interrupted (every child also dies with this
process). Exit code: Locust's master's (1 on any failure or lost/duplicated frame).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [p for p in (str(ROOT), str(HERE)) if p not in sys.path]

from embedded_target import EmbeddedTarget, _die_with_parent, free_port  # noqa: E402

LOCUSTFILE = HERE / "locustfile.py"
WS_NAMES = {"open": "open chat", "first": "first event (agent_started)", "completion": "completion (agent_completed)",
            "check": "frame check"}


@dataclass
class LoadResult:
    exit_code: int
    users: int
    workers: int
    run_time: float
    wall_s: float
    out: Path
    stats: dict[str, dict[str, str]] = field(default_factory=dict)    # CSV rows by entry name
    journey: dict[str, int] = field(default_factory=dict)

    def row(self, key: str) -> dict[str, str]:
        return self.stats.get(WS_NAMES.get(key, key), {})

    @property
    def completed_runs(self) -> int:
        return int(self.row("completion").get("Request Count", 0) or 0)

    @property
    def failures(self) -> int:
        return int(self.stats.get("Aggregated", {}).get("Failure Count", 0) or 0)

    def runs_per_second(self) -> float:
        """Runs that ended with agent_completed, per second of the test."""
        row = self.row("completion")
        count, failed = int(row.get("Request Count", 0) or 0), int(row.get("Failure Count", 0) or 0)
        return float(row.get("Requests/s", 0) or 0) * (count - failed) / count if count else 0.0

    def percentile(self, key: str, pct: str) -> float | None:
        value = self.row(key).get(pct)
        return float(value) / 1000 if value not in (None, "", "N/A") else None

    def table(self) -> str:
        lines = [f"users {self.users}, workers {self.workers or 'none (local)'}, run time {self.run_time:g} s "
                 f"(wall {self.wall_s:.1f} s), exit code {self.exit_code}",
                 f"{'entry':<30} {'count':>7} {'fail':>5} {'per s':>7} {'p50 s':>7} {'p95 s':>7} {'p99 s':>7}"]
        for name, row in self.stats.items():
            def p(col):
                v = row.get(col)
                return f"{float(v) / 1000:7.3f}" if v not in (None, "", "N/A") else f"{'-':>7}"
            lines.append(f"{(row.get('Type', '') + ' ' + name).strip()[:30]:<30} {row.get('Request Count', ''):>7} "
                         f"{row.get('Failure Count', ''):>5} {float(row.get('Requests/s') or 0):7.1f} {p('50%')} "
                         f"{p('95%')} {p('99%')}")
        lines.append("journeys: " + ", ".join(f"{k} {v}" for k, v in self.journey.items() if k != "by_worker"))
        for worker, counts in (self.journey.get("by_worker") or {}).items():
            lines.append(f"  {worker}: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
        return "\n".join(lines)


def _spawn(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    handle = open(log, "w", encoding="utf-8")  # noqa: SIM115 - the child owns it; closed when we exit
    try:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    finally:
        handle.close()


def _stop(process: subprocess.Popen | None, grace: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _take_loglevel(args: list[str]) -> tuple[list[str], str]:
    """Locust's ``--loglevel``/``-L`` out of the extra arguments (it applies to master and workers)."""
    level = "WARNING"
    for flag in ("--loglevel", "-L"):
        while flag in args[:-1]:
            index = args.index(flag)
            level = args[index + 1]
            del args[index:index + 2]
    return args, level


def read_stats(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def run(users: int, spawn_rate: float, run_time: float, *, workers: int = 2, host: str | None = None,
        pacing: str = "0", out: Path = ROOT / "reports" / "load", stop_timeout: float = 30,
        extra: list[str] | None = None, quiet: bool = False, platform_dialect: str = "canonical") -> LoadResult:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("stats*.csv"):
        old.unlink()
    journey_report = out / "journey.json"
    journey_report.unlink(missing_ok=True)
    target = None
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    processes: list[subprocess.Popen] = []
    started = time.monotonic()
    say = (lambda *_: None) if quiet else (lambda m: print(m, flush=True))
    try:
        if host is None:
            target = EmbeddedTarget(pacing=pacing, log=out / "platform.log",
                                    extra_env={"PLATFORM_DIALECT": platform_dialect}).start()
            host = target.base_url
            env["E2E_OAUTH_SIMULATION_KEY"] = target.bypass_key
            say(f"reference platform at {host} (pacing {pacing} ms, log {out / 'platform.log'})")
        common = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
        extra, loglevel = _take_loglevel(list(extra or []))
        run_args = ["--headless", "-u", str(users), "-r", f"{spawn_rate:g}", "-t", f"{run_time:g}s",
                    "--stop-timeout", f"{stop_timeout:g}", "--host", host, "--csv", str(out / "stats"),
                    "--journey-report", str(journey_report), "--only-summary", "--loglevel", loglevel,
                    "--platform-dialect", platform_dialect, *extra]
        if workers:
            port = free_port()
            master = _spawn(common + ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                                      "--expect-workers", str(workers), "--expect-workers-max-wait", "60", *run_args],
                            out / "master.log", env)
            processes.append(master)
            for k in range(workers):
                processes.append(_spawn(common + ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port),
                                                  "--loglevel", loglevel], out / f"worker-{k + 1}.log", env))
            say(f"locust master on 127.0.0.1:{port} with {workers} worker(s): {users} users for {run_time:g} s")
        else:
            master = _spawn(common + run_args, out / "master.log", env)
            processes.append(master)
            say(f"locust (one local process): {users} users for {run_time:g} s")
        bound = run_time + stop_timeout + 120
        try:
            code = master.wait(bound)
        except subprocess.TimeoutExpired:
            say(f"the Locust master did not end within {bound:g} s; stopping it")
            _stop(master)
            code = 124
        for worker in processes[1:]:
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                _stop(worker)
    finally:
        for process in processes:
            _stop(process)
        if target is not None:
            target.stop()
    journey = json.loads(journey_report.read_text()) if journey_report.exists() else {}
    result = LoadResult(code, users, workers, run_time, time.monotonic() - started, out,
                        read_stats(out / "stats_stats.csv"), journey)
    say(result.table())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", "-u", type=int, default=20)
    parser.add_argument("--spawn-rate", "-r", type=float, default=10)
    parser.add_argument("--run-time", "-t", type=float, default=10, help="seconds")
    parser.add_argument("--workers", type=int, default=2, help="Locust workers (0: one local process)")
    parser.add_argument("--host", default=None, help="a target you own (default: start the reference platform)")
    parser.add_argument("--pacing", default="0", help="the started platform's frame delay, ms: '0' or '3-8'")
    parser.add_argument("--stop-timeout", type=float, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "load")
    parser.add_argument("--platform-dialect", choices=("canonical", "netra", "netra-2025"), default="canonical",
                        help="the dialect the target speaks (the started platform is started in it)")
    args, extra = parser.parse_known_args(argv)
    result = run(args.users, args.spawn_rate, args.run_time, workers=args.workers, host=args.host,
                 pacing=args.pacing, out=args.out, stop_timeout=args.stop_timeout, extra=extra,
                 platform_dialect=args.platform_dialect)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
