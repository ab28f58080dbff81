"""Command line of the suite's library.

  python -m acceptance doctor [--base-url URL] [--ws-url URL] [--auth-url URL] [--platform-dialect D]
  python -m acceptance report [--results DIR] [--output DIR] [--history FILE]
                                         build reports/html/index.html from reports/allure-results;
                                         exit 3 when a @critical scenario failed (the quality gate)
  python -m acceptance mutants [--faults a,b | --ci-subset] [--jobs 2]
                                         prove the suite kills each fault of the reference platform
  python -m acceptance fuzz [--base-url URL --allow-remote] [--max-requests N] [--rate-limit 5/s]
                                         fuzz the REST API from contract/openapi.yaml (Schemathesis)
  python -m acceptance coverage [--markdown FILE]
                                         every clause of contract/CONTRACT.md with the scenarios that check it
  python -m acceptance merge DIR... [-o reports/allure-results]
                                         merge result folders of several machines (shards) into one report
  python -m acceptance junit [DIR]       write junit.xml beside an Allure results folder
  python -m acceptance rerun [--flaky-ok] [behave args]
                                         run again only the scenarios that failed in the last run
"""
from __future__ import annotations

import argparse
import sys

from acceptance.client import config as target_config


def _doctor(args) -> int:
    from acceptance.runner.doctor import diagnose
    userdata = {k: v for k, v in (("base_url", args.base_url), ("ws_url", args.ws_url), ("auth_url", args.auth_url),
                                  ("jwt_secret_order", args.jwt_secret_order),
                                  ("platform_dialect", args.platform_dialect)) if v}
    from acceptance.runner.embedded import open_target
    platform, cfg = open_target(userdata, "doctor")
    if cfg is None:
        return 2
    if platform is not None:
        print(f"(no --base-url: checking the embedded reference platform at {cfg.base_url})")
    try:
        print(f"Doctor for {cfg.base_url} (WebSocket {cfg.ws_url}, auth {cfg.auth_url})")
        diagnosis = diagnose(cfg, out=print)
        print(diagnosis.report().splitlines()[-1])
        return 0 if diagnosis.ok else 1
    finally:
        if platform is not None:
            platform.stop()


def _report(args) -> int:
    from pathlib import Path

    from acceptance.reporting.html_report import ReportBuildError, build
    try:
        chosen = {name: Path(path) for name in ("results", "output", "history") if (path := getattr(args, name))}
        built = build(**chosen)  # the rest as build's defaults
    except ReportBuildError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 1
    print(f"Report: {built.index} (analytics tags stripped: {built.removed_analytics_tags})")
    if built.gate_failures:
        print("report: QUALITY GATE FAILED: these @critical scenarios failed or broke: "
              + "; ".join(built.gate_failures), file=sys.stderr)
        return 3
    print("Quality gate passed: no @critical scenario failed.")
    return 0


def _junit(args) -> int:
    from pathlib import Path

    from acceptance.runner.junit import write
    results = Path(args.results)
    if not results.is_dir():
        print(f"junit: {results} is not a results folder", file=sys.stderr)
        return 2
    print(f"JUnit: {write(results)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["fuzz"]:
        from acceptance.runner.fuzz import main as fuzz_main
        return fuzz_main(argv[1:])
    if argv[:1] == ["coverage"]:
        from acceptance.runner.coverage import main as coverage_main
        return coverage_main(argv[1:])
    if argv[:1] == ["mutants"]:
        from acceptance.runner.mutants import main as mutants_main
        return mutants_main(argv[1:])
    if argv[:1] == ["merge"]:
        from acceptance.runner.shards import merge_main
        return merge_main(argv[1:])
    if argv[:1] == ["rerun"]:
        from acceptance.runner.rerun import main as rerun_main
        return rerun_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m acceptance")
    sub = parser.add_subparsers(dest="command", required=True)
    doctor = sub.add_parser("doctor", help="check that a target is ready for the suite, and say why not")
    doctor.add_argument("--base-url", help="the platform's HTTP origin (default: PLATFORM_BASE_URL, else embedded)")
    doctor.add_argument("--ws-url")
    doctor.add_argument("--auth-url")
    doctor.add_argument("--jwt-secret-order", choices=("current", "compat"))
    doctor.add_argument("--platform-dialect", choices=target_config.PLATFORM_DIALECTS,
                        help="the dialect the suite will be set for (default: PLATFORM_DIALECT, else canonical)")
    doctor.set_defaults(run=_doctor)
    report = sub.add_parser("report", help="build the single-file HTML report from the last run")
    report.add_argument("--results", help="the Allure results folder (default: reports/allure-results)")
    report.add_argument("--output", help="the report's folder (default: reports/html)")
    report.add_argument("--history", help="the history file kept across runs (default: reports/history.jsonl)")
    report.set_defaults(run=_report)
    sub.add_parser("mutants", help="prove the suite kills each fault of the reference platform (see --help)")
    sub.add_parser("fuzz", help="fuzz a target's REST API from contract/openapi.yaml (see --help)")
    sub.add_parser("coverage", help="every clause of contract/CONTRACT.md with the scenarios that check it")
    sub.add_parser("merge", help="merge result folders of several machines into one report (see --help)")
    sub.add_parser("rerun", help="run again only the scenarios that failed in the last run (see --help)")
    junit = sub.add_parser("junit", help="write junit.xml beside an Allure results folder")
    junit.add_argument("results", nargs="?", default="reports/allure-results")
    junit.set_defaults(run=_junit)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
