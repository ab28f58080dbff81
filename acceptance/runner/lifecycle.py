"""The life of one suite run, independent of behave's API details: what ``environment.py`` calls.

``start`` resolves the target (starting the embedded platform unless ``base_url`` is given), runs
the preflight, and keeps what every scenario shares; ``begin_scenario``/``end_scenario`` give each
scenario its own world and attach its evidence; ``finish`` stops what ``start`` started.
"""
from __future__ import annotations

import os
import platform as host_platform
import sys
import time
from pathlib import Path
from typing import Any

from acceptance import ROOT, __version__
from acceptance.client import config as target_config
from acceptance.client.redaction import Redactor
from acceptance.client.rest import HttpClient
from acceptance.journeys.actors import World
from acceptance.reporting import evidence
from acceptance.runner import embedded, preflight
from acceptance.verify.errors import ContractViolation, InfrastructureFailure

_redactor = Redactor()


def results_dir(context) -> Path:
    return Path(context.config.userdata.get("allure_results", ROOT / "reports" / "allure-results"))


def redact(value: Any) -> Any:
    return _redactor.redact(value)


def say(message: str) -> None:
    print(message, file=sys.__stderr__ or sys.stderr, flush=True)


def start(context) -> None:
    context.run_started = time.monotonic()
    try:
        cfg = target_config.load(context.config.userdata)
    except target_config.ConfigError as exc:
        stop_run(context, str(InfrastructureFailure(f"configuration: {exc}")))
        return
    context.redactor = _redactor
    context.platform = None
    if cfg.embedded:
        try:
            context.platform, cfg = embedded.start(cfg)
        except ValueError as exc:  # an unknown fault or variation name, refused by the platform
            stop_run(context, str(InfrastructureFailure(f"configuration: {exc}")))
            return
        say(f"Target: embedded reference platform at {cfg.base_url} (dialect {cfg.platform_dialect}"
            + (f", faults {cfg.platform_faults}" if cfg.platform_faults else "")
            + (f", variations {cfg.platform_variations}" if cfg.platform_variations else "") + ")")
    else:
        say(f"Target: {cfg.base_url} (WebSocket {cfg.ws_url}, auth {cfg.auth_url})")
    for secret in (cfg.jwt_secret, cfg.bypass_key):
        if secret is not None:
            _redactor.add_secret(secret.value)
    context.target = cfg
    context.embedded_target = context.platform is not None
    context.http = HttpClient(timeout=cfg.request_timeout)
    try:
        context.preflight = preflight.check(cfg, context.http)
    except InfrastructureFailure as exc:
        stop_run(context, str(exc))
        return
    say(f"Preflight: {context.preflight.message}")
    if cfg.contract_checks:
        from acceptance.verify import schemas
        schemas.compile_all()  # once per run; every response and frame from now on is checked
        context.http.contract_checks = True


def stop_run(context, message: str) -> None:
    """Stops the whole run before any scenario: one message, a broken result in the report, exit 1."""
    writer = getattr(context, "allure", None)
    if writer is not None:
        writer.record_run_outcome("Preflight: the target is reachable and healthy", "broken", message)
    finish(context)
    context.abort(reason=f"RUN STOPPED. {message}")


def begin_scenario(context, scenario) -> None:
    context.world = World(context.target, context.http, _redactor, platform=context.platform)


def end_scenario(context, scenario) -> None:
    world = getattr(context, "world", None)
    if world is None:
        return
    try:
        world.teardown()
    finally:
        evidence.attach_scenario_evidence(world, redact)
    unreported_violation(world, scenario)


def unreported_violation(world, scenario) -> None:
    """A response or frame broke the contract but no step failed on it (it came after the last wait,
    or a step caught it): the scenario fails with it now."""
    if not world.transcript.violations or str(getattr(scenario, "status", "")).endswith("failed"):
        return
    first = world.transcript.violations[0]
    more = len(world.transcript.violations) - 1
    raise ContractViolation(first.detail + (f"\n  (and {more} more response(s) or frame(s) broke the contract; "
                                            f"see the transcript)" if more else ""))


def finish(context) -> None:
    http = getattr(context, "http", None)
    if http is not None:
        http.close()
        context.http = None
    platform = getattr(context, "platform", None)
    if platform is not None:
        platform.stop()
        context.platform = None


def finished(context, results: Path) -> None:
    """After the last result is written: the one-page summary, printed and saved beside the results,
    ``junit.xml`` for CI and ``durations.json`` (what balances ``--shard`` and parallel runs). The report's
    copy of the summary is attached by the report build (``summary.attach``), for the whole folder."""
    from acceptance.reporting import summary
    from acceptance.runner.parallel import write_run_files
    path = write_run_files(Path(results))
    if getattr(context, "aborted", False):
        return  # the run stopped before any scenario; its one message was already said
    _write_clause_coverage(path.parent)
    say("\n" + summary.headline(path))


def _write_clause_coverage(folder: Path) -> None:
    """reports/clause-coverage.md beside the summary: every clause with the scenarios that check it."""
    from acceptance.runner import coverage
    try:
        (folder / "clause-coverage.md").write_text(coverage.measure().markdown(), encoding="utf-8")
    except (OSError, ValueError) as exc:
        say(f"clause coverage not written: {exc}")


def _clause_coverage_environment() -> dict[str, str]:
    from acceptance.runner import coverage
    from acceptance.verify import contract
    try:
        cov = coverage.measure()
    except (OSError, ValueError) as exc:
        return {"contract.coverage": f"not measured ({exc})"}
    return {"contract.version": contract.version(),
            "contract.clauses": str(len(cov.clauses)),
            "contract.coverage": f"{cov.percent:.0f} % ({cov.by_scenario} by scenarios, "
                                 f"{len(cov.clauses) - cov.by_scenario - len(cov.uncovered)} elsewhere with a reason; "
                                 f"see reports/clause-coverage.md)",
            "contract.uncovered": ", ".join(cov.uncovered) or "none"}


def report_environment(context) -> dict[str, str]:
    cfg = getattr(context, "target", None)
    pre = getattr(context, "preflight", None)
    env = {"suite.version": __version__, "python": sys.version.split()[0], "host": host_platform.node()}
    if cfg is not None:
        embedded_target = getattr(context, "embedded_target", False)
        env.update({"target": cfg.base_url or "embedded", "target.kind": "embedded" if embedded_target else "remote",
                    "client.dialect": cfg.client_dialect})
        env["platform.dialect"] = cfg.platform_dialect
    if pre is not None:
        env.update({"platform.version": pre.version or "unknown", "platform.environment": pre.environment or ""})
    if not getattr(context, "aborted", False):
        env.update(_clause_coverage_environment())
    commit = os.environ.get("GIT_COMMIT") or _git_commit()
    if commit:
        env["suite.commit"] = commit
    return env


def report_executor(context) -> dict[str, Any]:
    return {"name": os.environ.get("CI") and "CI" or "local", "build_name": f"suite {__version__}",
            "build_order": int(time.time())}


def _git_commit() -> str | None:
    head = ROOT / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            return (ROOT / ".git" / ref[5:]).read_text().strip()[:12]
        return ref[:12]
    except OSError:
        return None
