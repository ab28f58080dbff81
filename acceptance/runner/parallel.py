"""Runs the acceptance suite across N worker processes and merges their Allure results into one.

    bin/suite-parallel -j 2 [behave args]        (or: python -m acceptance.runner.parallel -j 2 [behave args])

1. **Discover** the scenarios behave would run with the given arguments (paths, ``file:line``,
   ``--tags``, ``-n``, ``-i``/``-e``, ``default_tags`` of behave.ini), in process, with behave's own
   parser and selection (``Scenario.should_run``). Each scenario is one item with its location
   (``file:line``; outline rows and scenarios inside ``Rule:`` have their own line) and its report
   identity (the Allure ``fullName`` and row parameters, as the writer computes them).
2. **Split** the items over the workers, longest expected first onto the least loaded worker. The
   expected duration of a scenario is its duration in the previous results (the merged results
   folder before it is cleaned, or ``--durations DIR``); scenarios never seen count as the median
   known duration, and with no history at all every scenario counts the same.
3. **Run** each worker as its own ``python -m behave`` process: the caller's behave options, its
   own results folder (``-D allure_results=``) and its share of the locations. Each worker starts
   its own embedded platform (the default target), so ``@embedded-only`` scenarios that restart
   the platform only ever restart their own worker's; with ``-D base_url=`` every worker targets
   that deployment. Worker output goes to ``<results>/../parallel/worker-K.log``.
4. **Merge** into ONE results folder (cleaned first): every result, attachment and container file
   of every worker; ``categories.json``, ``environment.properties`` (with ``parallel.workers``) and
   ``executor.json`` written once; a scheduled scenario a crashed worker never reported is added
   as a broken result naming the worker, so nothing silently disappears from the report. Then
   ``summary.md`` is regenerated and the HTML report built (as ``bin/suite`` does, when the Allure
   CLI is installed).

With ``--shard K/N`` only the K-th of N deterministic, duration-balanced shares of the
selection runs (see :mod:`acceptance.runner.shards`); ``python -m acceptance merge DIR...`` merges the
shards' folders. Every run also writes ``junit.xml`` and ``durations.json`` beside the results.

Exit code: 0 when every worker exited 0, else 1 (2 for a usage error). The last line printed is
``N passed, N failed`` (scenarios).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from acceptance import ROOT
from acceptance.runner.results import count_line, counts, read_results, result_files, result_key

DEFAULT_RESULTS = Path("reports") / "allure-results"
ONCE_FILES = ("categories.json", "environment.properties", "executor.json", "shard.json")
#: behave options after which plain behave is run once instead (nothing to parallelise).
PASS_THROUGH = ("-d", "--dry-run", "-h", "--help", "--version", "--steps-catalog", "--lang-list", "--lang-help",
                "--tags-help")


class UsageError(ValueError):
    """The command line cannot be run; the message says why."""


# --------------------------------------------------------------------------- command line
@dataclass
class Plan:
    jobs: int
    behave_args: list[str]            # as given, minus paths and allure_results
    paths: list[str]
    results: Path
    durations_from: Path | None
    report: bool
    shard: tuple[int, int] | None = None
    spawn: bool = False               # fresh interpreters instead of forks of a preloaded parent


#: argparse actions that take no value (behave's flags, and argparse's own -h/--help)
FLAG_ACTIONS = ("store_true", "store_false", "store_const", "count", "help", "version")


def behave_option_table() -> dict[str, bool]:
    """Every option string of behave's command line (``behave.configuration.OPTIONS``) and whether it
    takes a value."""
    from behave.configuration import OPTIONS
    takes_value = {"-h": False, "--help": False}
    for option_strings, keywords in OPTIONS:
        for option in option_strings:
            takes_value[option] = keywords.get("action") not in FLAG_ACTIONS and keywords.get("nargs") != "?"
    return takes_value


def split_behave_args(args: Sequence[str]) -> tuple[list[str], list[str], str | None]:
    """(options, paths, allure_results) of a behave command line.

    Options keep their order and values; ``-D allure_results=...`` is taken out (the workers get
    their own), positional arguments are the paths."""
    takes_value = behave_option_table()
    options: list[str] = []
    paths: list[str] = []
    results: str | None = None
    i = 0
    args = list(args)
    while i < len(args):
        token = args[i]
        if token == "--":
            paths.extend(args[i + 1:])
            break
        if not token.startswith("-") or token == "-":
            paths.append(token)
            i += 1
            continue
        name, eq, inline = token.partition("=") if token.startswith("--") else (token[:2], "", token[2:])
        value: str | None = inline if (eq or inline) else None
        if name not in takes_value:
            raise UsageError(f"unknown behave option {name!r} (see `behave --help`)")
        needs_value = takes_value[name]
        group = [token]
        if needs_value and value is None:
            if i + 1 >= len(args):
                raise UsageError(f"behave option {name} needs a value")
            value = args[i + 1]
            group.append(value)
        elif not needs_value and not token.startswith("--") and inline:
            raise UsageError(f"combined short options like {token!r} are not supported; write them apart")
        i += len(group)
        if name in ("-D", "--define") and value is not None and value.split("=", 1)[0].strip() == "allure_results":
            results = value.split("=", 1)[1] if "=" in value else ""
            continue
        options.extend(group)
    return options, paths, results


def parse_command_line(argv: Sequence[str]) -> Plan:
    own = argparse.ArgumentParser(
        prog="bin/suite-parallel", add_help=False, allow_abbrev=False,
        description="Run the acceptance suite in N worker processes; any other argument goes to behave.")
    own.add_argument("-j", "--jobs", type=int, default=2, help="worker processes (default 2)")
    own.add_argument("--durations", type=Path, default=None,
                     help="an Allure results folder or a durations.json whose durations balance the split "
                          "(default: the previous merged results; with --shard: features/durations.json)")
    own.add_argument("--shard", default=None, metavar="K/N",
                     help="run only the K-th of N deterministic, duration-balanced shares of the selection")
    own.add_argument("--no-report", action="store_true", help="do not build the HTML report")
    own.add_argument("--spawn", action="store_true",
                     help="start each worker as a fresh interpreter instead of a fork of this preloaded process")
    own.add_argument("--parallel-help", action="store_true", help="this help (--help is behave's)")
    known, rest = own.parse_known_args(list(argv))
    if known.parallel_help:
        own.print_help()
        raise SystemExit(0)
    if known.jobs < 1:
        raise UsageError("-j needs at least 1 worker")
    options, paths, results = split_behave_args(rest)
    results_dir = Path(results) if results else DEFAULT_RESULTS
    from acceptance.runner.shards import parse_shard
    shard = parse_shard(known.shard) if known.shard is not None else None
    return Plan(known.jobs, options, paths, results_dir, known.durations, not known.no_report, shard, known.spawn)


# --------------------------------------------------------------------------- discovery
@dataclass(frozen=True)
class Item:
    """One scenario (or outline row) to run."""

    location: str                      # file:line behave selects it by
    full_name: str                     # the Allure fullName the writer gives it
    parameters: tuple[tuple[str, str], ...]
    order: int                         # position in the serial run

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.full_name, self.parameters


def discover(behave_options: Sequence[str], paths: Sequence[str]) -> list[Item]:
    """The scenarios plain ``behave <options> <paths>`` would run, in its order."""
    from behave.configuration import Configuration
    from behave.runner_util import collect_feature_locations, parse_features

    from acceptance.runner.scenarios import full_name, row_items

    config = Configuration(command_args=list(behave_options) + list(paths), load_config=True)
    wanted = config.paths or ["features"]
    locations = [loc for loc in collect_feature_locations(wanted) if not config.exclude(loc.filename)]
    items: list[Item] = []
    for feature in parse_features(locations, language=config.lang):
        for scenario in feature.walk_scenarios():
            if not scenario.should_run(config):
                continue
            items.append(Item(f"{scenario.filename}:{scenario.line}", full_name(scenario),
                              tuple(row_items(scenario)), len(items)))
    return items


def load_durations(results_dir: Path | None) -> dict[tuple, float]:
    """Seconds per scenario key from an Allure results folder or a ``durations.json`` (empty when
    there is none)."""
    out: dict[tuple, float] = {}
    if results_dir is not None and results_dir.is_file():
        from acceptance.runner.shards import read_durations_file
        return read_durations_file(results_dir)
    if results_dir is None or not results_dir.is_dir():
        return out
    for result in read_results(results_dir, strict=False):
        try:
            seconds = (result["stop"] - result["start"]) / 1000
        except (KeyError, TypeError):
            continue
        if seconds >= 0:
            out[result_key(result)] = seconds
    return out


def split(items: Sequence[Item], jobs: int, durations: dict[tuple, float]) -> list[list[Item]]:
    """Longest expected first, each onto the least loaded worker; each share in serial order."""
    known = [durations[i.key] for i in items if i.key in durations]
    default = statistics.median(known) if known else 1.0
    weight = {i.key: durations.get(i.key, default) for i in items}
    shares: list[list[Item]] = [[] for _ in range(max(1, min(jobs, len(items))))]
    loads = [0.0] * len(shares)
    for item in sorted(items, key=lambda i: (-weight[i.key], i.order)):
        k = min(range(len(shares)), key=lambda j: (loads[j], j))
        shares[k].append(item)
        loads[k] += weight[item.key]
    return [sorted(share, key=lambda i: i.order) for share in shares]


# --------------------------------------------------------------------------- running
@dataclass
class Worker:
    index: int
    items: list[Item]
    results: Path
    log: Path
    process: subprocess.Popen | None = None
    started: float = 0.0
    ended: float | None = None
    returncode: int | None = None
    log_file: Any = field(default=None, repr=False)
    lost_reason: str | None = None     # why its unreported scenarios are missing (default: it crashed)

    @property
    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started


def _worker_args(plan: Plan, worker: Worker) -> list[str]:
    return [*plan.behave_args, "-D", f"allure_results={worker.results}", *[item.location for item in worker.items]]


def _worker_command(plan: Plan, worker: Worker) -> list[str]:
    return [sys.executable, "-m", "behave", *_worker_args(plan, worker)]


# ---------------------------------------------------------------- light workers: forks of a preloaded parent
# A fresh behave process spends about a second of CPU before its first scenario: the interpreter,
# behave, the client library, and registering ~190 step definitions (a regex each, every one checked
# against the others). With 16 workers that second is paid 16 times at once. On POSIX the runner
# instead loads all of it ONCE (features/environment.py's imports and the step definitions, as
# behave loads them) and forks each worker from itself: the worker then runs behave's own main
# with its arguments, skipping only the step loading it inherited. Memory pages are shared
# copy-on-write. `--spawn` (or a selection outside features/) uses fresh interpreters.
_PRELOADED: list[bool] = []


def can_fork(plan: Plan) -> bool:
    if plan.spawn or not hasattr(os, "fork"):
        return False
    features = (ROOT / "features").resolve()
    for path in plan.paths or ["features"]:
        target = (ROOT / path.rsplit(":", 1)[0] if re.search(r":\d+$", path) else ROOT / path).resolve()
        if target != features and features not in target.parents:
            return False
    return True


def preload_workers() -> None:
    """Loads, in this process, what every behave worker of this project loads first."""
    if _PRELOADED:
        return
    import behave.__main__  # noqa: F401 - imported for the forks
    from behave.runner_util import exec_file, load_step_modules
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec_file(str(ROOT / "features" / "environment.py"), {})   # the parameter types and the library
        load_step_modules([str(ROOT / "features" / "steps")])       # into behave's global step registry
    finally:
        os.chdir(cwd)
    _PRELOADED.append(True)


class ForkedProcess:
    """The part of ``subprocess.Popen`` the runner uses, for a forked worker."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout)
            time.sleep(0.05)
        return self.returncode

    def terminate(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGTERM)

    def kill(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)


def fork_worker(args: list[str], log_file) -> ForkedProcess:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return ForkedProcess(pid)
    code = 70
    try:  # the worker: behave's main with the worker's arguments, output to its log
        os.chdir(ROOT)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log_file.fileno(), 1)
        os.dup2(log_file.fileno(), 2)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        from behave import runner
        from behave.__main__ import main as behave_main
        runner.Runner.load_step_definitions = lambda self, extra_step_paths=None: None  # preloaded
        sys.argv = ["behave", *args]
        code = behave_main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - a worker must never return into the parent's code
        import traceback
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code if isinstance(code, int) else 1)


def _say(message: str) -> None:
    print(message, flush=True)


def run_workers(plan: Plan, shares: list[list[Item]], work_dir: Path) -> list[Worker]:
    if work_dir.exists():
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True)
    workers = [Worker(k + 1, share, (work_dir / f"worker-{k + 1}" / "allure-results").absolute(),
                      work_dir / f"worker-{k + 1}.log") for k, share in enumerate(shares)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    forked = can_fork(plan)
    if forked:
        preload_workers()
    try:
        for worker in workers:
            worker.results.parent.mkdir(parents=True, exist_ok=True)
            worker.log_file = open(worker.log, "w", encoding="utf-8")  # noqa: SIM115 - closed below
            worker.started = time.monotonic()
            if forked:
                worker.process = fork_worker(_worker_args(plan, worker), worker.log_file)
            else:
                worker.process = subprocess.Popen(_worker_command(plan, worker), cwd=ROOT, env=env,
                                                  stdout=worker.log_file, stderr=subprocess.STDOUT,
                                                  stdin=subprocess.DEVNULL)
        running = list(workers)
        while running:
            for worker in list(running):
                code = worker.process.poll()
                if code is None:
                    continue
                worker.ended, worker.returncode = time.monotonic(), code
                running.remove(worker)
                _say(f"worker {worker.index}: {len(worker.items)} scenario(s) in {worker.seconds:.1f} s, exit code "
                     f"{code} (log {worker.log})")
                if code != 0:
                    _say(_tail(worker.log, 25))
            if running:
                time.sleep(0.1)
    finally:
        for worker in workers:
            if worker.process is not None and worker.process.poll() is None:
                worker.process.terminate()
                try:
                    worker.process.wait(10)
                except subprocess.TimeoutExpired:
                    worker.process.kill()
                    worker.process.wait()
            if worker.log_file is not None:
                worker.log_file.close()
    return workers


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    | " + line for line in text[-lines:])


# --------------------------------------------------------------------------- merging
def _attachment_sources(node: dict[str, Any]) -> Iterable[str]:
    for attachment in node.get("attachments") or []:
        if attachment.get("source"):
            yield attachment["source"]
    for step in node.get("steps") or []:
        yield from _attachment_sources(step)


@dataclass
class Merged:
    results: list[dict[str, Any]]
    added_missing: int


def merge(workers: Sequence[Worker], target: Path, *, embedded: bool, unit: str = "workers",
          properties: dict[str, str | None] | None = None) -> Merged:
    """Every worker's results into ``target`` (cleaned first); the once-per-run files written once.

    ``unit``/``properties`` name what was merged (``workers`` of one machine, or ``shards``)."""
    from acceptance.reporting.results_folder import (clean, read_environment, write_categories, write_environment,
                                                     write_executor)
    from acceptance.reporting.summary import FILES as REPORT_SUMMARY  # a built report's; the merged one's is new

    clean(target)
    merged: list[dict[str, Any]] = []
    run_level_seen: set[tuple[str, str]] = set()
    missing_added = 0
    environment: dict[str, str] = {}
    executor: dict[str, Any] = {}
    for worker in workers:
        folder = worker.results
        files = sorted(folder.iterdir()) if folder.is_dir() else []
        dropped: set[str] = set()
        reported: set[tuple] = set()
        worker_stopped_run = False
        for path, result in result_files(folder, strict=True):
            name = str(result.get("fullName", ""))
            if name.startswith("run::"):
                worker_stopped_run = True
                identity = (name, str((result.get("statusDetails") or {}).get("message", "")))
                if identity in run_level_seen:   # the same preflight stop, once per worker: report it once
                    dropped.add(path.name)
                    dropped.update(_attachment_sources(result))
                    continue
                run_level_seen.add(identity)
            reported.add(result_key(result))
            merged.append(result)
        for path in files:
            if path.name in ONCE_FILES or path.name in REPORT_SUMMARY or path.name in dropped:
                continue
            destination = target / path.name
            if destination.exists():
                raise RuntimeError(f"two workers wrote {path.name}; results would be lost")
            if path.is_dir():
                shutil.copytree(path, destination)
            else:
                shutil.copy2(path, destination)
        if not environment:
            environment = read_environment(folder)
        if not executor and (folder / "executor.json").exists():
            executor = json.loads((folder / "executor.json").read_text(encoding="utf-8"))
        if worker_stopped_run:
            continue
        for item in worker.items:
            if item.key not in reported:
                result = _missing_result(item, worker)
                (target / f"{result['uuid']}-result.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
                merged.append(result)
                missing_added += 1
    write_categories(target)
    if unit == "workers":
        environment["parallel.workers"] = str(len(workers))
    for key, value in (properties or {}).items():   # None removes a property
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    if embedded and "target" in environment:
        environment["target"] = "embedded (one reference platform per worker)"
    write_environment(target, environment)
    build_name = re.sub(r" \(\d+ workers\)$", "", str(executor.get("buildName", "suite")))
    write_executor(target, name=executor.get("name", "local"),
                   build_name=f"{build_name} ({len(workers)} {unit})",
                   build_order=executor.get("buildOrder", int(time.time())))
    return Merged(merged, missing_added)


def _missing_result(item: Item, worker: Worker) -> dict[str, Any]:
    now = int(time.time() * 1000)
    feature = item.full_name.split(" :: ", 1)[0]
    folder = str(Path(feature).parent)
    title = item.full_name.rsplit(" :: ", 1)[-1]
    labels = [{"name": "suite", "value": Path(feature).name}, {"name": "framework", "value": "behave"}]
    if folder not in ("", "."):
        labels.append({"name": "parentSuite", "value": folder})
    return {
        "uuid": str(uuid.uuid4()), "name": title, "fullName": item.full_name, "status": "broken",
        "historyId": uuid.uuid5(uuid.NAMESPACE_URL, repr(item.key)).hex,
        "statusDetails": {"message": worker.lost_reason or (
            f"Parallel worker {worker.index} exited with code {worker.returncode} before "
            f"this scenario ({item.location}) reported a result; see {worker.log}")},
        "parameters": [{"name": k, "value": v} for k, v in item.parameters],
        "labels": labels, "steps": [], "attachments": [], "start": now, "stop": now,
    }


# --------------------------------------------------------------------------- comparing reports
_RUN_ID_IN_NAME = re.compile(r"…[0-9a-f]{8}\b")


def _attachment_names(node: dict[str, Any]) -> list[str]:
    names = [_RUN_ID_IN_NAME.sub("…<run>", a.get("name", "")) for a in node.get("attachments") or []]
    for step in node.get("steps") or []:
        names += _attachment_names(step)
    return names


def _step_digest(node: dict[str, Any]) -> list:
    return [(s.get("name"), s.get("status"), _step_digest(s)) for s in node.get("steps") or []]


def report_digest(results_dir: Path) -> dict[tuple, dict[str, Any]]:
    """What a reader of the report sees per scenario, keyed by (fullName, parameters), minus what
    differs between any two runs: host and thread labels, attachment bytes, and the run id that
    attachment names end with ("Timeline: Alice, supervisor run …1a2b3c4d")."""
    out: dict[tuple, dict[str, Any]] = {}
    for result in read_results(results_dir, strict=True):
        key = result_key(result)
        if key in out:
            raise ValueError(f"two results for {key} in {results_dir}")
        labels = sorted((label["name"], label["value"]) for label in result.get("labels", [])
                        if label["name"] not in ("host", "thread"))
        out[key] = {"status": result.get("status"), "labels": labels, "steps": _step_digest(result),
                    "attachments": sorted(Counter(_attachment_names(result)).items())}
    return out


def digest_differences(expected: dict, actual: dict, limit: int = 10) -> list[str]:
    """Readable differences between two :func:`report_digest` results (empty: identical)."""
    out = [f"only in the first: {k}" for k in expected.keys() - actual.keys()]
    out += [f"only in the second: {k}" for k in actual.keys() - expected.keys()]
    for key in expected.keys() & actual.keys():
        for part in ("status", "labels", "steps", "attachments"):
            if expected[key][part] != actual[key][part]:
                out.append(f"{key}: {part} differ: {expected[key][part]!r} != {actual[key][part]!r}")
    return out[:limit]


# --------------------------------------------------------------------------- main
def write_run_files(results: Path) -> Path:
    """What every run leaves beside its results: ``junit.xml``, ``durations.json`` and ``summary.md``
    (its path returned)."""
    from acceptance.reporting import summary
    from acceptance.runner import junit, shards
    junit.write(results)
    shards.write_durations_file(results, results.parent / "durations.json")
    return summary.write(results)


def _is_embedded(behave_options: Sequence[str]) -> bool:
    from behave.configuration import Configuration
    userdata = Configuration(command_args=list(behave_options) + ["features"], load_config=True).userdata
    return not (userdata.get("base_url") or os.environ.get("PLATFORM_BASE_URL"))


def build_html_report(results: Path) -> None:
    from acceptance.reporting import html_report
    try:
        html_report.allure_cli()
    except html_report.ReportBuildError:
        _say("(the Allure CLI is not installed: run bin/setup; the HTML report was not built)")
        return
    try:
        built = html_report.build(results=results.absolute(), output=(results.parent / "html").absolute(),
                                  history=(results.parent / "history.jsonl").absolute())
    except html_report.ReportBuildError as exc:
        _say(f"report: {exc}")
        return
    _say(f"Report: {built.index}")
    if built.gate_failures:
        _say("report: QUALITY GATE FAILED: these @critical scenarios failed or broke: " + "; ".join(built.gate_failures))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.chdir(ROOT)  # as bin/suite: feature paths and report names are relative to the project
    try:
        plan = parse_command_line(argv)
        if any(a.split("=", 1)[0] in PASS_THROUGH for a in plan.behave_args):  # nothing to run in parallel
            return subprocess.call([sys.executable, "-m", "behave", *plan.behave_args, *plan.paths])
        items = discover(plan.behave_args, plan.paths)
    except UsageError as exc:
        print(f"suite-parallel: {exc}", file=sys.stderr)
        return 2
    if not items:
        print("suite-parallel: no scenario is selected by these arguments", file=sys.stderr)
        print("0 passed, 0 failed")
        return 1
    started = time.monotonic()
    results = plan.results
    shard_plan = None
    if plan.shard is not None:
        from acceptance.runner import shards
        shard_plan = shards.plan(items, plan.shard[1], plan.durations_from)
        items = shard_plan.shares[plan.shard[0] - 1]
        _say(f"suite-parallel: shard {plan.shard[0]}/{plan.shard[1]}: {len(items)} of {shard_plan.total} "
             f"scenario(s), balanced by {shard_plan.basis} (plan {shard_plan.fingerprint[:12]})")
    durations = load_durations(plan.durations_from or results)
    shares = split(items, plan.jobs, durations)
    basis = "previous durations" if durations else "scenario counts"
    _say(f"suite-parallel: {len(items)} scenario(s) over {len(shares)} worker(s), balanced by {basis}: "
         + ", ".join(str(len(s)) for s in shares))
    workers = run_workers(plan, shares, results.parent / "parallel")
    merged = merge(workers, results, embedded=_is_embedded(plan.behave_args),
                   properties={"shard": f"{plan.shard[0]}/{plan.shard[1]}"} if plan.shard else None)
    if shard_plan is not None:
        shard_plan.write_manifest(results, plan.shard[0])
    from acceptance.reporting.summary import headline
    _say("\n" + headline(write_run_files(results)))
    if merged.added_missing:
        _say(f"{merged.added_missing} scenario(s) never reported by a crashed worker were added as broken")
    if plan.report:
        build_html_report(results)
    passed, failed, skipped = counts(merged.results)
    worst = max((w.returncode or 0) for w in workers)
    _say(f"Suite finished in {time.monotonic() - started:.1f} s with {len(workers)} workers "
         f"(exit codes {', '.join(str(w.returncode) for w in workers)}).")
    print(count_line(passed, failed, skipped), flush=True)
    return 0 if worst == 0 and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
