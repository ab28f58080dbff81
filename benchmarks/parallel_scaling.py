"""Many workers against ONE shared platform, as against a deployment: speed-up and memory per worker.

    python benchmarks/parallel_scaling.py [--workers 1,2,4,8,16] [--pacing 180-270] [behave args]

For each worker count, a fresh reference platform is started as its own process
(``python -m reference_platform``, loopback, SQLite file, light password hashing) with its frame
pacing raised so that an agent run takes about 5 s (``PACING_MIN_MS``/``PACING_MAX_MS``; about 22
frames a run). The suite then runs against it as against a deployment: ``python -m
acceptance.runner.parallel -j N --no-report -D base_url=<platform> --tags='not @embedded-only'`` with the
platform's JWT secret and bypass key in the environment, so no worker starts a platform of its own.
The first worker count (1: one behave worker, the serial baseline) gives the durations that
balance the larger counts (``--durations``), as a previous run would.

Measured per run: wall time from process start to exit (discovery, workers, merge, summary and
JUnit included), the speed-up over the first row, and the memory of each behave worker: peak
resident set size (RSS, sampled every 0.2 s with psutil; pages shared with the parent or other
workers count in every worker) and peak unique set size (USS, sampled every second: what the
worker alone adds). Workers are forks of the preloaded runner by default (``--spawn``: fresh
interpreters, to compare). Each merged report is compared
with the first row's scenario by scenario (:func:`acceptance.runner.parallel.report_digest`).

Target: >= 12x at 16 workers on a 2-core machine, every report identical to the serial one.
"""
from __future__ import annotations

import argparse
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acceptance.runner.parallel import digest_differences, report_digest  # noqa: E402
from acceptance.runner.results import counts, read_results  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_platform(pacing: str, folder: Path, secrets_env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    low, _, high = pacing.partition("-")
    port = free_port()
    env = dict(os.environ, PACING_MIN_MS=low, PACING_MAX_MS=high or low, PASSWORD_HASH_PROFILE="light",
               DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'platform.db'}", **secrets_env)
    log = open(folder / "platform.log", "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the platform
    process = subprocess.Popen([sys.executable, "-m", "reference_platform", "--port", str(port),
                                "--log-level", "warning"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, base
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"the platform exited: see {folder / 'platform.log'}") from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the platform did not listen within 30 s")


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, int, str, dict[int, tuple[int, int]]]:
    """(wall s, exit code, stdout, {worker pid: (peak RSS, peak USS)}) of one parallel run."""
    started = time.monotonic()
    out = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    parent = psutil.Process(process.pid)
    peaks: dict[int, tuple[int, int]] = {}
    samples = 0
    while process.poll() is None:
        try:
            children = parent.children()      # the workers (forked or spawned); the platform is not a child
        except psutil.Error:
            children = []
        for child in children:
            try:   # USS needs /proc/PID/smaps, which is costly: once a second
                info = child.memory_full_info() if samples % 5 == 0 else child.memory_info()
            except psutil.Error:
                continue
            rss, uss = peaks.get(child.pid, (0, 0))
            peaks[child.pid] = (max(rss, info.rss), max(uss, getattr(info, "uss", 0)))
        samples += 1
        time.sleep(0.2)
    seconds = time.monotonic() - started
    out.seek(0)
    return seconds, process.returncode, out.read(), peaks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2,4,8,16", help="worker counts, the first is the baseline")
    parser.add_argument("--pacing", default="180-270", help="platform frame delay in ms (default: ~5 s a run)")
    parser.add_argument("--spawn", action="store_true", help="workers as fresh interpreters (default: forks)")
    args, behave_args = parser.parse_known_args(argv)
    jobs = [int(n) for n in args.workers.split(",")]
    base_dir = Path(tempfile.mkdtemp(prefix="parallel-scaling-"))
    secrets_env = {"JWT_SECRET_KEY": secrets.token_urlsafe(48), "E2E_OAUTH_SIMULATION_KEY": secrets.token_urlsafe(24)}
    load_before = os.getloadavg()
    rows, baseline, expected, durations_from = [], None, None, None
    selection = behave_args or ["the default suite"]
    for n in jobs:
        folder = base_dir / f"j{n}"
        folder.mkdir()
        platform_process, base_url = start_platform(args.pacing, folder, secrets_env)
        results = folder / "allure-results"
        command = [sys.executable, "-m", "acceptance.runner.parallel", "-j", str(n), "--no-report", "-f", "progress",
                   *(["--spawn"] if args.spawn else []),
                   "-D", f"base_url={base_url}", "--tags=not @embedded-only", "-D", f"allure_results={results}",
                   *(["--durations", str(durations_from)] if durations_from else []), *behave_args]
        load = os.getloadavg()[0]
        before = os.times()
        try:
            seconds, code, output, peaks = run_measured(command, dict(os.environ, **secrets_env))
        finally:
            platform_process.terminate()
            platform_process.wait(10)
        after = os.times()
        cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
        passed, failed, _ = counts(read_results(results, strict=True))
        digest = report_digest(results)
        if baseline is None:
            baseline, expected, durations_from = seconds, digest, results
            differences = []
        else:
            differences = digest_differences(expected, digest)
        rss = sorted(p[0] for p in peaks.values())
        uss = sorted(p[1] for p in peaks.values())
        rows.append((n, seconds, code, passed, failed, rss, uss, differences, cpu, load))
        print(f"{n} worker(s): {seconds:.1f} s, exit code {code}, {passed} passed, {failed} failed, "
              f"{len(peaks)} worker process(es) seen", flush=True)
        if code != 0:
            print(output[-3000:])
        for line in differences:
            print("  difference:", line)
    mib = 1024 * 1024
    print()
    print(f"parallel scaling, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()} "
          f"({os.cpu_count()} cores, Python {platform.python_version()}, load average "
          f"{load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f} before the run); one shared platform "
          f"process, pacing {args.pacing} ms; selection: {' '.join(selection)}, --tags='not @embedded-only'; "
          f"{rows[0][3] + rows[0][4]} scenarios")
    print("| workers | load avg before | wall s | speed-up | CPU s (runner, workers, platform) | scenarios passed / "
          "failed | peak RSS per worker MiB (min-max) | peak USS per worker MiB (mean) | report identical to 1 worker |")
    print("|---:|---:|---:|---:|---:|---|---|---:|---|")
    for n, seconds, code, passed, failed, rss, uss, differences, cpu, load in rows:
        rss_text = f"{rss[0] / mib:.0f}-{rss[-1] / mib:.0f}" if rss else "-"
        uss_text = f"{sum(uss) / len(uss) / mib:.0f}" if uss else "-"
        same = "(baseline)" if n == rows[0][0] else ("yes" if not differences else f"NO ({len(differences)})")
        print(f"| {n} | {load:.1f} | {seconds:.1f} | {baseline / seconds:.2f}x | {cpu:.1f} | {passed} / {failed} | "
              f"{rss_text} | {uss_text} | {same} |")
    ok = all(row[2] == 0 and not row[7] for row in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
