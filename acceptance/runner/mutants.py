"""`python -m acceptance mutants`: does the suite catch each regression, and in the right category?

For every fault of the reference platform's catalogue (``reference_platform/faults.py``), the runner
starts the suite with the embedded platform carrying that one fault (``-D platform_faults=NAME``),
restricted to the journeys expected to catch it, and reads the Allure results: the fault is
*killed* when at least one scenario fails, and killed *as expected* when one of the failures lands
in the expected report category. A baseline run of the same journeys without any fault comes first:
if it is not green, no kill would mean anything.

With ``--variations all`` (or a list of names) every run, the baseline included, is made against a
platform that also carries those conforming variations (``reference_platform/variations.py``): no
fault may hide behind a choice the contract leaves open.

It prints a table (fault, killed, by which scenario, category, seconds) and the kill rate, and exits
non-zero below 100 %.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from acceptance import ROOT
from acceptance.runner.results import failure, read_categories, read_results, title

AUTH, CONTRACT, BUSINESS, ISOLATION = "Authentication", "Contract", "Business outcome", "Isolation breach"

# fault -> (the category its failure must land in, the journeys (tag expression) expected to catch it)
EXPECTATIONS: dict[str, tuple[str, str]] = {
    "jwt_signature_unchecked": (AUTH, "@story:Forged_tokens"),
    "jwt_alg_none_accepted": (AUTH, "@story:Forged_tokens"),
    "jwt_expiry_unchecked": (AUTH, "@story:Forged_tokens"),
    "jwt_future_iat_accepted": (AUTH, "@story:Forged_tokens"),
    "jwt_issuer_unchecked": (AUTH, "@story:Forged_tokens"),
    "jwt_audience_unchecked": (AUTH, "@story:Forged_tokens"),
    "jwt_token_type_unchecked": (AUTH, "@story:Token_rules"),
    "refresh_token_reusable": (AUTH, "@story:Renewal"),
    "logout_keeps_access_token": (AUTH, "@story:Sign_out"),
    "login_rate_limit_off": (AUTH, "@story:Password_guessing"),
    "events_out_of_order": (CONTRACT, "@story:Event_stream"),
    "tool_completed_missing": (CONTRACT, "@story:Event_stream"),
    "run_id_drift": (CONTRACT, "@story:Event_stream"),
    "tool_execution_id_mismatch": (CONTRACT, "@story:Event_stream"),
    "sub_agent_not_nested": (CONTRACT, "@story:Event_stream"),
    "progress_regresses": (CONTRACT, "@story:Event_stream"),
    "frames_duplicated": (CONTRACT, "@story:Event_stream"),
    "first_event_slow": (CONTRACT, "@story:First_response_time"),
    "chat_thread_unscoped": (ISOLATION, "@story:Private_threads"),
    "rest_thread_unscoped": (ISOLATION, "@story:Private_threads"),
    "events_broadcast": (ISOLATION, "@story:Different_agents_at_once"),
    "usage_unscoped": (ISOLATION, "@story:Private_usage"),
    "foreign_thread_403": (ISOLATION, "@story:Private_threads"),
    "savings_total_misses_one": (BUSINESS, "@story:Savings_journey"),
    "savings_annual_wrong": (BUSINESS, "@story:Reference_savings"),
    "savings_unsorted": (BUSINESS, "@story:Savings_journey"),
    "catalogue_price_wrong": (BUSINESS, "@story:Savings_journey"),
    "savings_ignore_new_cost": (BUSINESS, "@story:Savings_journey"),
    "assistant_message_not_stored": (BUSINESS, "@story:Coming_back_later"),
    "stop_ignored": (CONTRACT, "@story:Stop_and_resume"),
    "resume_skips_frame": (CONTRACT, "@story:Resume_after_drop"),
    "invalid_json_closes_socket": (CONTRACT, "@story:Malformed_messages"),
    "oversize_frames_accepted": (CONTRACT, "@story:Oversize_messages"),
    "run_limit_off": (CONTRACT, "@story:Fair_use_limits"),
    "health_version_missing": (CONTRACT, "@story:Health"),
}

# A representative subset for CI: one or more per area, chosen to run fast.
CI_SUBSET = ("jwt_alg_none_accepted", "jwt_expiry_unchecked", "refresh_token_reusable", "tool_completed_missing",
             "sub_agent_not_nested", "chat_thread_unscoped", "events_broadcast", "savings_total_misses_one",
             "catalogue_price_wrong", "stop_ignored", "invalid_json_closes_socket", "health_version_missing")


@dataclass
class Outcome:
    fault: str
    expected: str
    killed: bool = False
    as_expected: bool = False
    scenario: str = ""
    category: str = ""
    seconds: float = 0.0
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (scenario, category, message)
    error: str = ""
    output: str = ""  # the end of behave's output, shown when the fault was not killed as expected


KEPT = ROOT / "reports" / "mutants"  # results of the faults a run did not kill as expected


def failures_in(results: Path) -> list[tuple[str, str, str]]:
    """(scenario, category, first line of the message) of each failed or broken result of the folder."""
    categories = read_categories(results)
    out = []
    for data in read_results(results, strict=True):
        if data.get("status") in ("failed", "broken"):
            cat, line = failure(data, categories)
            out.append((title(data), cat, line[:200]))
    return out


def run_suite(results: Path, tags: str, fault: str | None, extra: list[str], timeout: float) -> tuple[int, str]:
    command = [sys.executable, "-m", "behave", "-f", "null", "--no-summary", "-D", f"allure_results={results}",
               "--tags", tags, *extra]
    if fault:
        command += ["-D", f"platform_faults={fault}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATFORM_")}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    return done.returncode, (done.stdout + done.stderr)[-2000:]


def mutate(fault: str, work: Path, extra: list[str], timeout: float) -> Outcome:
    expected, tags = EXPECTATIONS[fault]
    outcome = Outcome(fault, expected)
    started = time.monotonic()
    results = work / fault
    try:
        code, output = run_suite(results, tags, fault, extra, timeout)
    except subprocess.TimeoutExpired:
        outcome.error = f"the suite did not finish within {timeout:g} s"
        outcome.seconds = time.monotonic() - started
        return outcome
    outcome.seconds, outcome.output = time.monotonic() - started, output
    outcome.failures = failures_in(results)
    outcome.killed = bool(outcome.failures) and code != 0
    matching = [f for f in outcome.failures if f[1] == expected]
    outcome.as_expected = outcome.killed and bool(matching)
    first = (matching or outcome.failures or [("", "", "")])[0]
    outcome.scenario, outcome.category = first[0], first[1]
    if not outcome.failures and code != 0:
        outcome.error = output.strip().splitlines()[-1] if output.strip() else f"behave exited {code}"
    return outcome


def table(outcomes: list[Outcome]) -> str:
    rows = [("fault", "killed", "category (expected)", "by scenario", "s")]
    for o in outcomes:
        killed = "yes" if o.as_expected else ("WRONG CATEGORY" if o.killed else "NO")
        category = o.category + ("" if o.category == o.expected else f" ({o.expected})") if o.category else f"- ({o.expected})"
        rows.append((o.fault, killed, category, (o.scenario or o.error or "-")[:70], f"{o.seconds:.1f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acceptance mutants", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faults", help="comma-separated fault names (default: the whole catalogue)")
    parser.add_argument("--ci-subset", action="store_true", help="the representative subset CI runs")
    parser.add_argument("--jobs", type=int, default=2, help="faults tried at once (default 2)")
    parser.add_argument("--timeout", type=float, default=180, help="seconds per suite run (default 180)")
    parser.add_argument("--pacing-ms", default="1-3", help="embedded platform pacing (default 1-3)")
    parser.add_argument("--keep", help="keep the Allure results of every run under this folder")
    parser.add_argument("--variations", default="",
                        help="conforming platform variations to switch on in every run, e.g. all (docs/variations.md)")
    args = parser.parse_args(argv)
    from reference_platform.faults import CATALOGUE
    missing = sorted(set(CATALOGUE) - set(EXPECTATIONS))
    if missing:
        print(f"mutants: faults without an expectation: {', '.join(missing)}", file=sys.stderr)
        return 2
    faults = list(CATALOGUE) if not (args.faults or args.ci_subset) else (
        list(CI_SUBSET) if args.ci_subset else [f.strip() for f in args.faults.split(",") if f.strip()])
    unknown = [f for f in faults if f not in CATALOGUE]
    if unknown:
        print(f"mutants: unknown fault(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    extra = ["-D", f"pacing_ms={args.pacing_ms}"]
    if args.variations:
        from reference_platform.variations import VariationConfigError, Variations
        try:
            Variations.parse(args.variations)
        except VariationConfigError as exc:
            print(f"mutants: {exc}", file=sys.stderr)
            return 2
        extra += ["-D", f"platform_variations={args.variations}"]
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="mutants-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        union = " or ".join(sorted({EXPECTATIONS[f][1] for f in faults}))
        print(f"Baseline: the selected journeys without any fault ({union})"
              + (f", platform variations: {args.variations}" if args.variations else ""), flush=True)
        code, output = run_suite(work / "baseline", union, None, extra, args.timeout)
        baseline_failures = failures_in(work / "baseline")
        if code != 0 or baseline_failures:
            print("mutants: the baseline is not green, so no kill would mean anything:", file=sys.stderr)
            for name, category, message in baseline_failures[:10]:
                print(f"  {name}: {category}: {message}", file=sys.stderr)
            if not baseline_failures:
                print(output, file=sys.stderr)
            return 2
        print(f"Trying {len(faults)} fault(s), {args.jobs} at a time…", flush=True)
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            outcomes = list(pool.map(lambda f: mutate(f, work, extra, args.timeout), faults))
        for o in outcomes:
            if not o.as_expected:  # the evidence of a miss outlives the temporary folder
                kept = KEPT / o.fault
                shutil.rmtree(kept, ignore_errors=True)
                shutil.copytree(work / o.fault, kept, dirs_exist_ok=True)
                print(f"--- {o.fault} was not killed as expected; its results are in {kept}; behave said:\n"
                      + "\n".join(o.output.strip().splitlines()[-15:]), file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(table(outcomes))
    killed = sum(o.as_expected for o in outcomes)
    rate = 100.0 * killed / len(outcomes) if outcomes else 0.0
    print(f"\nKill rate: {killed}/{len(outcomes)} = {rate:.1f} % killed in the expected category "
          f"({time.monotonic() - started:.0f} s)")
    return 0 if killed == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
