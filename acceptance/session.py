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

from . import __version__, config as target_config, embedded, preflight
from .actors import World
from .errors import InfrastructureFailure
from .redaction import Redactor
from .reporting import evidence
from .rest import HttpClient

ROOT = Path(__file__).resolve().parent.parent
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
        context.platform, cfg = embedded.start(cfg)
        say(f"Target: embedded reference platform at {cfg.base_url} (dialect {cfg.platform_dialect}"
            + (f", faults {cfg.platform_faults}" if cfg.platform_faults else "") + ")")
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
        evidence.attach_scenario_evidence(getattr(context, "allure", None), world)


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
    ``junit.xml`` for CI and ``durations.json`` (what balances ``--shard`` and parallel runs)."""
    from . import junit, shards
    from .reporting import summary
    junit.write(Path(results))
    shards.write_durations_file(Path(results), Path(results).parent / "durations.json")
    path = summary.write(Path(results))
    if getattr(context, "aborted", False):
        return  # the run stopped before any scenario; its one message was already said
    text = path.read_text(encoding="utf-8")
    say("\n" + text.split("## Slowest journeys")[0].rstrip() + f"\n\n(summary: {path})")


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
