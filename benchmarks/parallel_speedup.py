"""Speed-up of ``bin/suite-parallel`` over a serial run, on a suite that waits on the platform.

    python benchmarks/parallel_speedup.py [--pacing 36-54] [--jobs 2] [behave args, e.g. features/sign_in]

The embedded platform's frame pacing is raised (``-D pacing_ms=``) so that an agent run takes about
a second, as against a real deployment where runs take 30-120 s and the suite mostly waits. Then:

1. a serial run (``python -m behave``), timed from process start to exit;
2. a parallel run with ``--jobs`` workers, balanced by the serial run's durations
   (``--durations``), timed the same way (discovery, workers, merge and summary included; the
   HTML report is not built in either run);
3. the same parallel run balanced by scenario counts only (no history), unless ``--no-counts``.

Each parallel report is compared with the serial one scenario by scenario
(:func:`acceptance.runner.parallel.report_digest`: same scenarios, statuses, labels, steps and
attachment names). Target: speed-up >= 1.8x with 2 workers and identical report content.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acceptance.runner.parallel import digest_differences, report_digest  # noqa: E402
from acceptance.runner.results import counts, read_results  # noqa: E402


def timed(command: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    return time.monotonic() - started, done


def agent_runs(results: Path) -> int:
    return sum(len(re.findall(r'"Timeline: ', p.read_text(encoding="utf-8"))) for p in results.glob("*-result.json"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pacing", default="36-54", help="platform frame delay in ms (default 36-54: ~1 s a run)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-counts", action="store_true", help="skip the run balanced by scenario counts")
    args, behave_args = parser.parse_known_args(argv)
    load_before = os.getloadavg()[0]  # other work on the machine skews every figure
    base = Path(tempfile.mkdtemp(prefix="parallel-speedup-"))
    common = ["-f", "progress", "-D", f"pacing_ms={args.pacing}", *behave_args]

    serial = base / "serial" / "allure-results"
    serial_s, done = timed([sys.executable, "-m", "behave", *common, "-D", f"allure_results={serial}"])
    print(f"serial: {serial_s:.1f} s, exit code {done.returncode}", flush=True)
    expected = report_digest(serial)
    passed, failed, _ = counts(read_results(serial, strict=True))

    rows = []
    modes = [("previous durations", ["--durations", str(serial)])]
    if not args.no_counts:
        modes.append(("scenario counts", ["--durations", str(base / "none")]))
    for label, extra in modes:
        merged = base / label.replace(" ", "-") / "allure-results"
        seconds, run = timed([sys.executable, "-m", "acceptance.runner.parallel", "-j", str(args.jobs), "--no-report",
                              *extra, *common, "-D", f"allure_results={merged}"])
        workers = re.findall(r"worker (\d+): (\d+) scenario\(s\) in ([\d.]+) s", run.stdout)
        differences = digest_differences(expected, report_digest(merged))
        rows.append((label, seconds, run.returncode, workers, differences))
        print(f"{args.jobs} workers, balanced by {label}: {seconds:.1f} s, exit code {run.returncode}", flush=True)
        for line in differences:
            print("  difference:", line)

    print()
    print(f"parallel speed-up, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()} "
          f"({os.cpu_count()} cores, Python {platform.python_version()}, load average "
          f"{load_before:.1f} before the run); pacing {args.pacing} ms; "
          f"selection: {' '.join(behave_args) or 'the default suite'}; {passed + failed} scenarios "
          f"({passed} passed, {failed} failed), {agent_runs(serial)} agent runs")
    print("| run | balanced by | wall s | worker s | speed-up | report identical to serial |")
    print("|---|---|---:|---|---:|---|")
    print(f"| serial (behave) | - | {serial_s:.1f} | - | 1.00x | - |")
    for label, seconds, code, workers, differences in rows:
        shares = " / ".join(f"{float(s):.1f} ({n})" for _, n, s in sorted(workers))
        print(f"| {args.jobs} workers | {label} | {seconds:.1f} | {shares} | {serial_s / seconds:.2f}x | "
              f"{'yes' if not differences else f'NO ({len(differences)} difference(s))'} |")
    ok = done.returncode == 0 and all(code == 0 and not diff for _, _, code, _, diff in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
