"""``python -m acceptance fuzz``: property-based fuzzing of a target's REST API from contract/openapi.yaml.

Runs Schemathesis (its CLI, so every one of its phases and checks is the maintained one) against the
embedded reference platform by default, or against ``--base-url`` when ``--allow-remote`` says so.
Auth is the contract's sign-up and sign-in (``acceptance/runner/fuzz_hooks.py``). Checks: server errors,
responses that break the contract (status, content type, headers, body schema), ignored auth,
accepted invalid data, rejected valid data, use of a resource after its deletion (stateful phase,
over the OpenAPI links), and the others Schemathesis has. Results are Allure result files written
into the suite's results folder (beside the journeys) and a JUnit file.

Against a deployment every run is bounded: a request budget (a hard cap enforced before each call), a
rate limit and a time budget, all with conservative defaults.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from acceptance.verify.contract import OPENAPI, ROOT

EMBEDDED = {"max_examples": 10, "max_requests": 20000, "rate_limit": None, "max_time": None}
REMOTE = {"max_examples": 5, "max_requests": 600, "rate_limit": "5/s", "max_time": 300}
CHECKS = "all"
# positive_data_acceptance: the contract has rules JSON Schema cannot state (shared_prefix_tokens <=
# input_tokens, a batch whose every record is invalid is 422), so a schema-valid request may rightly be
# refused.
EXCLUDED_CHECKS = "positive_data_acceptance"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m acceptance fuzz",
                                description="fuzz a target's REST API from contract/openapi.yaml (Schemathesis)")
    p.add_argument("--base-url", help="the target (default: PLATFORM_BASE_URL, else the embedded platform)")
    p.add_argument("--auth-url", help="the auth service (default: PLATFORM_AUTH_URL, else base_url)")
    p.add_argument("--allow-remote", action="store_true",
                   help="required to fuzz a deployment: the fuzzer creates accounts, threads and usage there")
    p.add_argument("--max-examples", type=int, help="test cases per operation and phase "
                                                   f"(default {EMBEDDED['max_examples']}, remote {REMOTE['max_examples']})")
    p.add_argument("--max-requests", type=int, help="hard cap on requests (default "
                                                   f"{EMBEDDED['max_requests']}, remote {REMOTE['max_requests']})")
    p.add_argument("--rate-limit", help=f"e.g. 5/s (default: none embedded, {REMOTE['rate_limit']} remote)")
    p.add_argument("--max-time", type=int, help="time budget in seconds (default "
                                               f"{EMBEDDED['max_time']}, remote {REMOTE['max_time']})")
    p.add_argument("--faults", default="", help="embedded platform only: faults of docs/faults.md to switch on")
    p.add_argument("--results", type=Path, default=ROOT / "reports" / "allure-results",
                   help="Allure results folder (default reports/allure-results, beside the journeys)")
    p.add_argument("--junit", type=Path, default=ROOT / "reports" / "fuzz" / "junit.xml")
    p.add_argument("--seed", type=int, default=11, help="Hypothesis seed (default 11: repeatable runs)")
    p.add_argument("--workers", default="1")
    p.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    return p


def schemathesis_command(args, base_url: str, limits: dict) -> list[str]:
    cli = Path(sys.executable).parent / "schemathesis"
    command = [str(cli), "run", str(OPENAPI), "--url", base_url, "--checks", CHECKS,
               "--exclude-checks", EXCLUDED_CHECKS, "--max-examples", str(limits["max_examples"]),
               "--phases", args.phases, "--workers", str(args.workers), "--seed", str(args.seed),
               "--generation-database", "none", "--request-timeout", "10", "--continue-on-failure",
               "--report", "allure,junit", "--report-allure-path", str(args.results),
               "--report-junit-path", str(args.junit), "--no-color"]
    if limits["rate_limit"]:
        command += ["--rate-limit", limits["rate_limit"]]
    if limits["max_time"]:
        command += ["--max-time", str(limits["max_time"])]
    return command


def junit_counts(path: Path) -> tuple[int, int, int]:
    """(test cases, failures, errors) of Schemathesis' JUnit file."""
    root = ET.parse(path).getroot()
    cases = list(root.iter("testcase"))
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    return len(cases), failures, errors


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    userdata = {k: v for k, v in (("base_url", args.base_url), ("auth_url", args.auth_url),
                                  ("platform_faults", args.faults), ("pacing_ms", "0")) if v}
    from acceptance.runner.embedded import open_target
    platform, cfg = open_target(userdata, "fuzz")
    if cfg is None:
        return 2
    if platform is not None:
        limits = dict(EMBEDDED)
        print(f"fuzz: embedded reference platform at {cfg.base_url}"
              + (f" with faults {cfg.platform_faults}" if cfg.platform_faults else ""))
    else:
        if args.faults:
            print("fuzz: --faults applies to the embedded platform only", file=sys.stderr)
            return 2
        if not (args.allow_remote or os.environ.get("ACCEPTANCE_FUZZ_ALLOW_REMOTE") == "1"):
            print(f"fuzz: {cfg.base_url} is a deployment; fuzzing creates accounts and data there. "
                  f"Say --allow-remote to do it (bounded: {REMOTE['max_requests']} requests at "
                  f"{REMOTE['rate_limit']} by default).", file=sys.stderr)
            return 2
        limits = dict(REMOTE)
    for key in ("max_examples", "max_requests", "rate_limit", "max_time"):
        if getattr(args, key) is not None:
            limits[key] = getattr(args, key)
    args.results.mkdir(parents=True, exist_ok=True)
    args.junit.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SCHEMATHESIS_HOOKS="acceptance.runner.fuzz_hooks", ACCEPTANCE_FUZZ_AUTH_URL=cfg.auth_url,
               ACCEPTANCE_FUZZ_MAX_REQUESTS=str(limits["max_requests"]),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    if cfg.bypass_key is not None:
        env["ACCEPTANCE_FUZZ_BYPASS_KEY"] = cfg.bypass_key.value
    print(f"fuzz: {cfg.base_url}: up to {limits['max_examples']} cases per operation and phase, at most "
          f"{limits['max_requests']} requests" + (f" at {limits['rate_limit']}" if limits["rate_limit"] else "")
          + (f", {limits['max_time']} s" if limits["max_time"] else "") + f"; Allure results in {args.results}")
    started = time.monotonic()
    try:
        done = subprocess.run(schemathesis_command(args, cfg.base_url, limits), cwd=ROOT, env=env)
    finally:
        if platform is not None:
            platform.stop()
    elapsed = time.monotonic() - started
    if args.junit.exists():
        cases, failures, errors = junit_counts(args.junit)
        print(f"fuzz: {cases} operations fuzzed, {failures} with failures, {errors} with errors "
              f"({elapsed:.0f} s); JUnit {args.junit}")
    return done.returncode
