"""Allure results written from behave hooks.

allure-behave's formatter is not used: in formatter mode it drops scenarios inside
``Rule:``, reports hook errors as message-less "skipped", ignores ``allure.dynamic.*``
and never cleans its results folder. This writer is driven from the behave hooks instead
(see :mod:`acceptance.reporting.behave_hooks`) and builds the results from behave's own
model, so every outcome behave knows about ends up in the report:

* scenarios inside ``Rule:`` (with background steps, tables and docstrings);
* outline rows named without behave's `` -- @1.2 Examples`` suffix, row values as parameters;
* failed (assertions, including :class:`acceptance.errors.SuiteFailure`), broken (other
  exceptions, undefined steps, hook errors) and skipped (only what behave skipped on
  purpose - scenarios not selected by tags or name never reach the hooks, so are absent);
* errors in ``before_*``/``after_*`` hooks, whether reported explicitly through
  :meth:`AllureBehaveWriter.hook_failed` or found on the model (``hook_failed``,
  ``exception``, ``error_message``, ``Status.hook_error``).

A scenario's result is completed ("settled") at the next event the writer sees (next
scenario, end of feature, end of run), not inside ``after_scenario``: behave records an
``after_scenario``/``after_tag`` hook error or a context-cleanup error on the scenario only
after the hook returned, and those must still change the result.

Library code reports into the current test through the ordinary allure API
(``allure.attach``, ``allure.step``, ``allure.dynamic.*``): the writer registers an
``allure_commons`` plugin for the duration of the run.

Everything written that comes from run time (attachments, status messages and traces,
parameters, dynamic titles/descriptions) passes through the ``redact`` callable first.
"""
from __future__ import annotations

import copy
import csv
import io
import json
import mimetypes
import os
import re
import shutil
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Callable, Iterable, Mapping

import allure_commons
from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import (
    Attachment,
    Label,
    Link,
    Parameter,
    Status,
    StatusDetails,
    TestResult,
    TestStepResult,
)
from allure_commons.types import AttachmentType, LabelType, ParameterMode, Severity
from allure_commons.utils import host_tag, md5, now, thread_tag, uuid4
from allure_commons.mapping import parse_tag
import behave

from acceptance.errors import CATEGORY_CLASSES, SuiteFailure

__all__ = [
    "AllureBehaveWriter",
    "CATEGORY_NAMES",
    "categories",
    "exception_message",
    "write_categories",
    "write_environment",
    "write_executor",
]

Redactor = Callable[[Any], Any]

#: Report categories, in the order Allure evaluates them (first match wins).
CATEGORY_NAMES: tuple[str, ...] = tuple(cls.category for cls in CATEGORY_CLASSES)
# The names go into the regexes verbatim; keep them free of regex syntax.
assert all(re.fullmatch(r"[A-Za-z][A-Za-z ]*", name) for name in CATEGORY_NAMES), CATEGORY_NAMES
SUITE_DEFECT = SuiteFailure.category

_SEVERITIES = {s.value for s in Severity}
_TEXT_MIME_EXACT = {
    "application/json",
    "application/xml",
    "application/yaml",
    "application/x-yaml",
    "application/x-ndjson",
    "application/javascript",
    "image/svg+xml",
}
_HOOK_ERROR_LINE = re.compile(r"^HOOK-ERROR in (?P<hook>\w+)(?:\(tag=[^)]*\))?: ?", re.M)
_REDACTION_FAILED = "[content withheld: redaction failed]"


# --------------------------------------------------------------------------------------
# Stand-alone result-folder files
# --------------------------------------------------------------------------------------
def categories() -> list[dict[str, Any]]:
    """The Allure categories of the suite, in evaluation order.

    Allure matches ``messageRegex`` against the whole status message (Java
    ``Pattern.matches``, i.e. a full match), so each pattern covers the rest of the
    message with ``(?s).*``. "Suite defect" is last and catches everything else: plain
    assertion errors and Python errors in the suite itself."""
    statuses = [Status.FAILED, Status.BROKEN]
    result = [
        {
            "name": name,
            "messageRegex": f"(?s){name}: .*",
            "matchedStatuses": list(statuses),
        }
        for name in CATEGORY_NAMES
    ]
    result.append({"name": SUITE_DEFECT, "messageRegex": "(?s).*", "matchedStatuses": list(statuses)})
    return result


def write_categories(results_dir: str | os.PathLike) -> Path:
    """Write ``categories.json`` into ``results_dir``; returns its path."""
    path = Path(results_dir) / "categories.json"
    _write_text_atomic(path, json.dumps(categories(), indent=2, ensure_ascii=False) + "\n")
    return path


def _escape_property(text: str, *, key: bool) -> str:
    out = []
    for index, char in enumerate(text):
        if char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif char in "=:#!" and (key or index == 0):
            out.append("\\" + char)
        elif char == " " and (key or index == 0):
            out.append("\\ ")
        elif ord(char) > 0x7E or ord(char) < 0x20:
            out.append("\\u%04x" % ord(char) if ord(char) <= 0xFFFF else char)
        else:
            out.append(char)
    return "".join(out)


def write_environment(
    results_dir: str | os.PathLike,
    mapping: Mapping[str, Any],
    *,
    redact: Redactor | None = None,
) -> Path:
    """Write ``environment.properties`` (Java properties format) from ``mapping``.

    ``None`` values are left out; other values are written with ``str()``, after
    ``redact`` when given."""
    lines = []
    for key, value in mapping.items():
        if value is None:
            continue
        text = str(value)
        if redact is not None:
            text = _apply_redact(redact, text)
        lines.append(f"{_escape_property(str(key), key=True)}={_escape_property(text, key=False)}")
    path = Path(results_dir) / "environment.properties"
    _write_text_atomic(path, "\n".join(lines) + ("\n" if lines else ""))
    return path


def write_executor(
    results_dir: str | os.PathLike,
    name: str,
    build_name: str,
    build_order: int | str,
    report_url: str | None = None,
    *,
    executor_type: str | None = None,
    build_url: str | None = None,
    report_name: str | None = None,
) -> Path:
    """Write ``executor.json`` (who ran the suite; Allure uses ``buildOrder`` to order
    the history/trend)."""
    data: dict[str, Any] = {"name": name, "buildName": build_name}
    try:
        data["buildOrder"] = int(build_order)
    except (TypeError, ValueError):
        data["buildOrder"] = build_order
    for key, value in (
        ("type", executor_type),
        ("buildUrl", build_url),
        ("reportUrl", report_url),
        ("reportName", report_name),
    ):
        if value is not None:
            data[key] = value
    path = Path(results_dir) / "executor.json"
    _write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def _write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------
def exception_message(exc: BaseException) -> str:
    """The status message for an exception.

    Suite failures already start with their category ("Contract: ..."), so their ``str``
    is used as is, as is any other exception whose text starts with a category name
    (``assert ok, "Business outcome: ..."``). Anything else is prefixed with its type
    name ("KeyError: 'x'") and so falls into "Suite defect"."""
    text = str(exc).strip()
    if isinstance(exc, SuiteFailure):
        return text or exc.category
    if any(text.startswith(f"{name}: ") for name in (*CATEGORY_NAMES, SUITE_DEFECT)):
        return text
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def _status_of(exc: BaseException | None) -> str:
    if exc is None:
        return Status.PASSED
    return Status.FAILED if isinstance(exc, AssertionError) else Status.BROKEN


# Frames of these folders are left out at the top of traces: behave's step/hook calling
# and our hook wrappers tell the reader nothing.
_PLUMBING_DIRS = tuple(str(Path(path).resolve().parent) + os.sep for path in (__file__, behave.__file__))


def _is_plumbing(filename: str) -> bool:
    try:
        return str(Path(filename).resolve()).startswith(_PLUMBING_DIRS)
    except (OSError, ValueError):
        return False


def _format_trace(exc: BaseException | None, tb: Any = None) -> str | None:
    """Formatted traceback (with chained causes); the leading frames of behave and of
    this package (hook wrappers, step matchers) are left out."""
    if exc is None:
        return None
    tb = tb if tb is not None else exc.__traceback__
    first = tb
    while first is not None and _is_plumbing(first.tb_frame.f_code.co_filename):
        first = first.tb_next
    if first is not None:
        tb = first
    try:
        return "".join(traceback.format_exception(type(exc), exc, tb)).rstrip()
    except Exception:  # noqa: BLE001 - a broken __str__ must not break reporting
        return None


def _apply_redact(redact: Redactor, value: Any) -> Any:
    """Run ``redact``; keep the value's kind (str/bytes). Fails closed."""
    try:
        result = redact(value)
    except Exception:  # noqa: BLE001
        return _REDACTION_FAILED.encode() if isinstance(value, (bytes, bytearray)) else _REDACTION_FAILED
    if isinstance(value, str) and not isinstance(result, str):
        return str(result)
    if isinstance(value, (bytes, bytearray)) and not isinstance(result, (bytes, bytearray)):
        return str(result).encode("utf-8")
    return result


def _is_text_mime(mime: str | None) -> bool:
    if not mime:
        return False
    mime = mime.split(";", 1)[0].strip().lower()
    return (
        mime.startswith("text/")
        or mime in _TEXT_MIME_EXACT
        or mime.endswith("+json")
        or mime.endswith("+xml")
    )


def _resolve_type(attachment_type: Any, extension: str | None, body: Any) -> tuple[str | None, str]:
    if isinstance(attachment_type, AttachmentType):
        return attachment_type.mime_type, extension or attachment_type.extension
    if isinstance(attachment_type, str) and attachment_type:
        ext = extension or (mimetypes.guess_extension(attachment_type) or ".attach").lstrip(".")
        return attachment_type, ext
    if extension:
        mime, _ = mimetypes.guess_type(f"x.{extension}")
        return mime, extension
    if isinstance(body, str):
        return AttachmentType.TEXT.mime_type, AttachmentType.TEXT.extension
    return "application/octet-stream", "attach"


def _step_table_csv(step: Any) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(step.table.headings)
    writer.writerows(row.cells for row in step.table.rows)
    return buffer.getvalue()


def _docstring_type(text: Any) -> tuple[str, str]:
    content_type = (getattr(text, "content_type", "") or "").lower()
    if content_type in ("json", "application/json"):
        return AttachmentType.JSON.mime_type, AttachmentType.JSON.extension
    if content_type in ("xml", "application/xml"):
        return AttachmentType.XML.mime_type, AttachmentType.XML.extension
    if content_type in ("yaml", "yml", "application/yaml"):
        return AttachmentType.YAML.mime_type, AttachmentType.YAML.extension
    return AttachmentType.TEXT.mime_type, AttachmentType.TEXT.extension


def _behave_status_name(status: Any) -> str:
    return getattr(status, "name", None) or str(status)


def _relative_path(filename: str | None) -> str:
    if not filename or filename == "<string>":
        return filename or ""
    path = Path(filename)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            pass
    return PurePath(path).as_posix()


def _parse_hook_errors(error_message: str | None) -> list[tuple[str, str]]:
    """Split behave's ``error_message`` ("HOOK-ERROR in before_scenario: ...",
    possibly several joined by newlines) into ``(hook_name, text)`` pairs."""
    if not error_message:
        return []
    matches = list(_HOOK_ERROR_LINE.finditer(error_message))
    out = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(error_message)
        out.append((match.group("hook"), error_message[match.end():end].strip()))
    return out


@dataclass
class _HookError:
    hook: str
    message: str
    trace: str | None
    exc: BaseException | None = None

    @property
    def is_before(self) -> bool:
        return self.hook.startswith("before_")


@dataclass
class _ScenarioRecord:
    scenario: Any
    result: TestResult
    # id(behave step) -> its result, for the steps started at the top level of the test.
    step_results: dict[int, TestStepResult] = field(default_factory=dict)
    hook_errors: list[_HookError] = field(default_factory=list)
    # id(behave step) -> errors of before_step/after_step reported for it.
    step_errors: dict[int, list[_HookError]] = field(default_factory=dict)
    stopped: bool = False


@dataclass
class _ContainerRecord:
    entity: Any  # behave Feature or Rule
    kind: str  # "feature" | "rule"
    hook_errors: list[_HookError] = field(default_factory=list)
    reported: set[int] = field(default_factory=set)  # id(_HookError) already written
    stopped: bool = False


@dataclass
class _Frame:
    """An open executable on a thread's stack: a behave step or an ``allure.step``."""

    key: Any  # id(behave step) or the allure step uuid
    result: TestStepResult
    behave_step: Any = None


class _AllurePlugin:
    """``allure_commons`` hook implementations routing the allure API into the writer.

    Kept apart from the writer because the writer's own ``start_step``/``stop_step``
    take behave steps while the hookspecs of the same names take allure step data."""

    def __init__(self, writer: "AllureBehaveWriter"):
        self._writer = writer

    @allure_commons.hookimpl
    def attach_data(self, body, name, attachment_type, extension):
        self._writer._attach(body, name, attachment_type, extension)

    @allure_commons.hookimpl
    def attach_file(self, source, name, attachment_type, extension):
        self._writer._attach_file(source, name, attachment_type, extension)

    @allure_commons.hookimpl
    def start_step(self, uuid, title, params):
        self._writer._start_allure_step(uuid, title, params)

    @allure_commons.hookimpl
    def stop_step(self, uuid, exc_type, exc_val, exc_tb):
        self._writer._stop_allure_step(uuid, exc_val, exc_tb)

    @allure_commons.hookimpl
    def add_title(self, test_title):
        self._writer._dynamic("title", test_title)

    @allure_commons.hookimpl
    def add_description(self, test_description):
        self._writer._dynamic("description", test_description)

    @allure_commons.hookimpl
    def add_description_html(self, test_description_html):
        self._writer._dynamic("descriptionHtml", test_description_html)

    @allure_commons.hookimpl
    def add_label(self, label_type, labels):
        self._writer._dynamic_labels(label_type, labels)

    @allure_commons.hookimpl
    def add_link(self, url, link_type, name):
        self._writer._dynamic_link(url, link_type, name)

    @allure_commons.hookimpl
    def add_parameter(self, name, value, excluded, mode):
        self._writer._dynamic_parameter(name, value, excluded, mode)


# --------------------------------------------------------------------------------------
# The writer
# --------------------------------------------------------------------------------------
class AllureBehaveWriter:
    """Writes Allure results for a behave run; fed from the behave hooks.

    :param results_dir: the Allure results folder. With ``clean`` (default) its whole
        content is removed first: results of an earlier run must not leak into this one
        (keep Allure history elsewhere).
    :param redact: applied to every attachment, status message/trace, parameter value
        and dynamic title/description before it is written. Default: identity.
    :param environment: written to ``environment.properties`` at :meth:`stop_run`.
    :param executor: keyword arguments of :func:`write_executor`, written at
        :meth:`stop_run`.
    :param with_categories: write ``categories.json`` at :meth:`stop_run`.
    :param config: behave's configuration (``context.config``); used to tell which
        scenarios of a feature would have run when a ``before_feature``/``before_rule``
        hook failed. Can also be passed to :meth:`start_run`.
    """

    def __init__(
        self,
        results_dir: str | os.PathLike,
        *,
        clean: bool = True,
        redact: Redactor | None = None,
        environment: Mapping[str, Any] | None = None,
        executor: Mapping[str, Any] | None = None,
        with_categories: bool = True,
        config: Any = None,
    ):
        self.results_dir = Path(results_dir).absolute()
        if clean:
            self._clean(self.results_dir)
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self._logger = AllureFileLogger(self.results_dir, clean=False)
        self._redact_fn: Redactor = redact or (lambda value: value)
        self._environment = dict(environment) if environment else None
        self._executor = dict(executor) if executor else None
        self._with_categories = with_categories
        self._config = config

        self._lock = threading.RLock()
        self._plugin: _AllurePlugin | None = None
        self._plugin_name = f"acceptance-allure-writer-{uuid4()}"
        self._main_thread = threading.get_ident()
        self._running = False
        self._stopped = False

        self._current: _ScenarioRecord | None = None
        self._pending: _ScenarioRecord | None = None
        self._containers: dict[int, _ContainerRecord] = {}
        self._started_scenarios: set[int] = set()
        self._stacks: dict[int, list[_Frame]] = {}
        # attachments/steps made outside any test, given to the next run-level result
        self._orphans: list[Attachment] = []
        self._orphan_files: list[str] = []
        self._orphan_steps: list[TestStepResult] = []
        self.written: list[TestResult] = []  # results written so far (for inspection)

    # ---------------------------------------------------------------- folder handling
    @staticmethod
    def _clean(results_dir: Path) -> None:
        resolved = results_dir.resolve()
        cwd = Path.cwd().resolve()
        protected = {Path(resolved.anchor), Path.home().resolve(), cwd, *cwd.parents}
        if resolved in protected:
            raise ValueError(f"refusing to clean {resolved}: not a dedicated results folder")
        if not resolved.exists():
            return
        if not resolved.is_dir():
            raise ValueError(f"results path {resolved} exists and is not a folder")
        for entry in resolved.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def set_environment(self, mapping: Mapping[str, Any] | None) -> None:
        """What :meth:`stop_run` writes to ``environment.properties`` (``None``: no file)."""
        with self._lock:
            self._environment = dict(mapping) if mapping is not None else None

    def set_executor(self, executor: Mapping[str, Any] | None) -> None:
        """Keyword arguments of :func:`write_executor` for :meth:`stop_run`."""
        with self._lock:
            self._executor = dict(executor) if executor is not None else None

    # ---------------------------------------------------------------- run
    def start_run(self, config: Any = None) -> None:
        with self._lock:
            if config is not None:
                self._config = config
            if self._running:
                return
            self._running = True
            self._stopped = False
            self._plugin = _AllurePlugin(self)
            allure_commons.plugin_manager.register(self._plugin, name=self._plugin_name)

    def stop_run(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            try:
                self._settle(final=True)
                if self._with_categories:
                    write_categories(self.results_dir)
                if self._environment is not None:
                    write_environment(self.results_dir, self._environment, redact=self._redact_fn)
                if self._executor is not None:
                    write_executor(self.results_dir, **self._executor)
                self._drop_orphans()
            finally:
                self._running = False
                if self._plugin is not None:
                    if allure_commons.plugin_manager.has_plugin(self._plugin_name):
                        allure_commons.plugin_manager.unregister(name=self._plugin_name)
                    self._plugin = None

    # ---------------------------------------------------------------- features / rules
    def start_feature(self, feature: Any) -> None:
        with self._lock:
            self._settle(final=True)
            self._container(feature, "feature")

    def stop_feature(self, feature: Any) -> None:
        with self._lock:
            self._settle(final=False)
            record = self._container(feature, "feature")
            record.stopped = True
            self._settle_container(record)

    def start_rule(self, rule: Any) -> None:
        with self._lock:
            self._settle(final=False)
            self._container(rule, "rule")

    def stop_rule(self, rule: Any) -> None:
        with self._lock:
            self._settle(final=False)
            record = self._container(rule, "rule")
            record.stopped = True
            self._settle_container(record)

    def _container(self, entity: Any, kind: str) -> _ContainerRecord:
        record = self._containers.get(id(entity))
        if record is None or record.entity is not entity:
            record = _ContainerRecord(entity=entity, kind=kind)
            self._containers[id(entity)] = record
        return record

    # ---------------------------------------------------------------- scenarios
    def start_scenario(self, scenario: Any) -> None:
        with self._lock:
            if self._current is not None and self._current.scenario is scenario:
                return
            self._settle(final=False)
            if self._current is not None:  # never stopped: close it now
                self._current.stopped = True
                self._finalize(self._current)
                self._current = None
            result = self._new_result(scenario)
            self._current = _ScenarioRecord(scenario=scenario, result=result)
            self._started_scenarios.add(id(scenario))
            self._stacks.clear()

    def stop_scenario(self, scenario: Any) -> None:
        with self._lock:
            record = self._record_for(scenario)
            if record is None:
                return
            self._close_frames(self._main_thread, None)
            self._stacks.clear()
            record.result.stop = now()
            record.stopped = True
            if record is self._current:
                if self._pending is not None:
                    self._finalize(self._pending)
                self._pending = record
                self._current = None

    def _record_for(self, scenario: Any) -> _ScenarioRecord | None:
        for record in (self._current, self._pending):
            if record is not None and record.scenario is scenario:
                return record
        return None

    def _settle(self, *, final: bool) -> None:
        """Complete what can be completed now.

        The stopped scenario is finalized; stopped features/rules are checked for hook
        errors behave recorded after their ``after_*`` hook returned. ``final`` (a new
        feature starts, or the run ends): everything still open is completed too."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._finalize(pending)
        if final and self._current is not None:
            current, self._current = self._current, None
            current.stopped = True
            current.result.stop = current.result.stop or now()
            self._finalize(current)
        for record in list(self._containers.values()):
            if final:
                record.stopped = True
            if record.stopped:
                self._settle_container(record)
        if final:
            self._containers.clear()

    # ---------------------------------------------------------------- steps
    def start_step(self, step: Any) -> None:
        with self._lock:
            record = self._current
            if record is None:
                return
            stack = self._stacks.setdefault(self._main_thread, [])
            step_result = TestStepResult(name=self._step_name(step), start=now())
            self._attach_step_data(step, step_result)
            if stack:
                stack[-1].result.steps.append(step_result)
            else:
                record.result.steps.append(step_result)
                record.step_results[id(step)] = step_result
            stack.append(_Frame(key=id(step), result=step_result, behave_step=step))

    def stop_step(self, step: Any) -> None:
        with self._lock:
            frame = self._close_frames(self._main_thread, id(step))
            if frame is None:
                return
            status, details = self._step_outcome(step)
            frame.result.status = status
            frame.result.statusDetails = details
            frame.result.stop = now()

    def _close_frames(self, thread: int, key: Any) -> _Frame | None:
        """Pop frames down to (and including) ``key``; ``None`` pops all."""
        stack = self._stacks.get(thread) or []
        if key is not None and not any(frame.key == key for frame in stack):
            return None
        while stack:
            frame = stack.pop()
            if frame.key == key:
                return frame
            if frame.result.stop is None:  # left open by the code under test
                frame.result.stop = now()
                frame.result.status = frame.result.status or Status.BROKEN
                if frame.result.statusDetails is None:
                    frame.result.statusDetails = StatusDetails(message="Step was not closed")
        return None

    # ---------------------------------------------------------------- hook errors
    def hook_failed(self, hook_name: str, target: Any, exc: BaseException) -> None:
        """Record an exception raised in a behave hook.

        ``target`` is what the hook ran for: a scenario, a step, a feature or rule, or
        ``None`` for ``before_all``/``after_all`` (then a separate broken result is
        written for the run). Errors behave itself stored on the model are found anyway;
        reporting them here as well is harmless (duplicates are merged)."""
        with self._lock:
            if any(e.exc is exc for e in self._known_hook_errors()):
                return
            error = _HookError(
                hook=hook_name,
                message=exception_message(exc),
                trace=_format_trace(exc),
                exc=exc,
            )
            kind = getattr(target, "type", None)
            if target is None:
                self._write_run_hook_error(error)
            elif kind == "step":
                record = self._current or self._pending
                if record is not None:
                    record.step_errors.setdefault(id(target), []).append(error)
            elif kind in ("feature", "rule"):
                self._container(target, kind).hook_errors.append(error)
            else:  # scenario (or anything else scenario-like)
                record = self._record_for(target)
                if record is None and kind == "scenario":
                    self.start_scenario(target)
                    record = self._current
                if record is not None:
                    record.hook_errors.append(error)

    def _known_hook_errors(self) -> list[_HookError]:
        known = [e for c in self._containers.values() for e in c.hook_errors]
        for record in (self._current, self._pending):
            if record is not None:
                known.extend(record.hook_errors)
                known.extend(e for errors in record.step_errors.values() for e in errors)
        return known

    def _write_run_hook_error(self, error: _HookError) -> None:
        phase = "setup" if error.is_before else "teardown"
        self.record_run_outcome(
            f"Run {phase} ({error.hook})",
            Status.BROKEN,
            error.message,
            self._hook_trace(error),
        )

    @staticmethod
    def _hook_trace(error: _HookError) -> str:
        head = f"HOOK-ERROR in {error.hook}"
        return f"{head}\n{error.trace}" if error.trace else head

    # ---------------------------------------------------------------- synthetic results
    def record_run_outcome(
        self,
        name: str,
        status: str,
        message: str | None = None,
        trace: str | None = None,
        labels: Mapping[str, Any] | None = None,
    ) -> TestResult:
        """Write a result that is not a scenario, e.g. a preflight check
        ("Preflight: target reachable", broken, "Infrastructure: ...")."""
        with self._lock:
            full_name = f"run::{name}"
            result = TestResult(uuid=uuid4(), name=name, fullName=full_name, start=now())
            result.historyId = md5(full_name)
            result.testCaseId = md5(full_name)
            result.status = status
            if message is not None or trace is not None or status in (Status.FAILED, Status.BROKEN):
                result.statusDetails = StatusDetails(
                    message=self._redact_text(message or f"{name}: {status}"),
                    trace=self._redact_text(trace) if trace else None,
                )
            given = dict(labels or {})
            given.setdefault(LabelType.SUITE, "Run")
            for label_name, value in given.items():
                values = value if isinstance(value, (list, tuple, set)) else [value]
                for item in values:
                    result.labels.append(Label(name=label_name, value=str(item)))
            result.labels.extend(self._common_labels())
            result.attachments.extend(self._orphans)
            result.steps.extend(self._orphan_steps)
            self._orphans = []
            self._orphan_files = []
            self._orphan_steps = []
            result.stop = now()
            self._report(result)
            return result

    # ---------------------------------------------------------------- attachments
    def attach_json(self, name: str, obj: Any) -> None:
        redacted = self._redact_value(obj)
        text = json.dumps(redacted, indent=2, ensure_ascii=False, default=str)
        self._attach(text, name, AttachmentType.JSON, None)

    def attach_text(self, name: str, text: str) -> None:
        self._attach(str(text), name, AttachmentType.TEXT, None)

    def attach_svg(self, name: str, svg_text: str) -> None:
        self._attach(svg_text, name, AttachmentType.SVG, None)

    def attach_html(self, name: str, html: str) -> None:
        self._attach(html, name, AttachmentType.HTML, None)

    def attach_png(self, name: str, data: bytes) -> None:
        self._attach(bytes(data), name, AttachmentType.PNG, None)

    def _attach(self, body: Any, name: str | None, attachment_type: Any, extension: str | None) -> None:
        mime, ext = _resolve_type(attachment_type, extension, body)
        if isinstance(body, (bytes, bytearray)):
            body = bytes(body)
            if _is_text_mime(mime):
                try:
                    body = self._redact_text(body.decode("utf-8")).encode("utf-8")
                except UnicodeDecodeError:
                    body = _apply_redact(self._redact_fn, body)
            else:
                body = _apply_redact(self._redact_fn, body)
        else:
            body = self._redact_text(body if isinstance(body, str) else str(body))
        file_name = f"{uuid4()}-attachment.{ext}"
        with self._lock:
            self._logger.report_attached_data(body=body, file_name=file_name)
            attachment = Attachment(name=name, source=file_name, type=mime)
            target = self._attachment_target()
            if target is None:
                self._orphans.append(attachment)
                self._orphan_files.append(file_name)
            else:
                target.attachments.append(attachment)

    def _attach_file(self, source: Any, name: str | None, attachment_type: Any, extension: str | None) -> None:
        path = Path(source)
        if extension is None and attachment_type is None and path.suffix:
            extension = path.suffix.lstrip(".")
        data = path.read_bytes()
        mime, _ = _resolve_type(attachment_type, extension, data)
        self._attach(data, name or path.name, mime if attachment_type is None else attachment_type, extension)

    def _attachment_target(self) -> Any:
        thread = threading.get_ident()
        for key in (thread, self._main_thread):
            stack = self._stacks.get(key)
            if stack:
                return stack[-1].result
        record = self._current or self._pending
        return record.result if record is not None else None

    def _attach_step_data(self, step: Any, step_result: TestStepResult) -> None:
        """Data tables as CSV and docstrings as text, on the step they belong to."""
        items = []
        if getattr(step, "table", None) is not None:
            items.append(("Data table", _step_table_csv(step), AttachmentType.CSV.mime_type, "csv"))
        if getattr(step, "text", None) is not None:
            mime, ext = _docstring_type(step.text)
            items.append(("Docstring", str(step.text), mime, ext))
        for name, text, mime, ext in items:
            file_name = f"{uuid4()}-attachment.{ext}"
            self._logger.report_attached_data(body=self._redact_text(text), file_name=file_name)
            step_result.attachments.append(Attachment(name=name, source=file_name, type=mime))

    def _drop_orphans(self) -> None:
        for file_name in self._orphan_files:
            try:
                (self.results_dir / file_name).unlink()
            except OSError:
                pass
        self._orphans = []
        self._orphan_files = []
        self._orphan_steps = []

    # ---------------------------------------------------------------- allure API plugin
    def _start_allure_step(self, uuid: str, title: str, params: Mapping[str, Any] | None) -> None:
        with self._lock:
            thread = threading.get_ident()
            parameters = [
                Parameter(name=str(k), value=self._redact_text(str(v))) for k, v in (params or {}).items()
            ]
            step_result = TestStepResult(name=self._redact_text(str(title)), start=now(), parameters=parameters)
            parent = self._attachment_target()
            frame = _Frame(key=uuid, result=step_result)
            if parent is not None:
                parent.steps.append(step_result)
            else:  # outside any test (e.g. a preflight in before_all)
                self._orphan_steps.append(step_result)
            self._stacks.setdefault(thread, []).append(frame)

    def _stop_allure_step(self, uuid: str, exc: BaseException | None, tb: Any) -> None:
        with self._lock:
            thread = threading.get_ident()
            frame = self._close_frames(thread, uuid)
            if frame is None:
                return
            frame.result.stop = now()
            frame.result.status = _status_of(exc)
            if exc is not None:
                frame.result.statusDetails = StatusDetails(
                    message=self._redact_text(exception_message(exc)),
                    trace=self._redact_text(_format_trace(exc, tb)),
                )

    def _dynamic_result(self) -> TestResult | None:
        record = self._current or self._pending
        return record.result if record is not None else None

    def _dynamic(self, attribute: str, value: Any) -> None:
        with self._lock:
            result = self._dynamic_result()
            if result is not None and value is not None:
                setattr(result, attribute, self._redact_text(str(value)))

    def _dynamic_labels(self, label_type: Any, labels: Iterable[Any]) -> None:
        with self._lock:
            result = self._dynamic_result()
            if result is None:
                return
            name = str(label_type)
            values = [getattr(v, "value", v) for v in labels]
            if name in (LabelType.SEVERITY, LabelType.HOST, LabelType.THREAD):
                result.labels = [label for label in result.labels if label.name != name]
                values = values[-1:]
            for value in values:
                label = Label(name=name, value=str(value))
                if label not in result.labels:
                    result.labels.append(label)

    def _dynamic_link(self, url: str, link_type: str, name: str | None) -> None:
        with self._lock:
            result = self._dynamic_result()
            if result is None:
                return
            if any(link.url == url for link in result.links):
                return
            result.links.append(Link(type=link_type, url=url, name=name or url))

    def _dynamic_parameter(self, name: str, value: Any, excluded: Any, mode: Any) -> None:
        with self._lock:
            result = self._dynamic_result()
            if result is None:
                return
            if isinstance(mode, ParameterMode):
                mode = mode.value
            text = self._redact_text(value if isinstance(value, str) else repr(value))
            result.parameters = [p for p in result.parameters if p.name != name]
            result.parameters.append(Parameter(name=str(name), value=text, excluded=excluded, mode=mode))

    # ---------------------------------------------------------------- redaction
    def _redact_text(self, text: str | None) -> str | None:
        if text is None:
            return None
        return _apply_redact(self._redact_fn, str(text))

    def _redact_value(self, value: Any) -> Any:
        try:
            return self._redact_fn(value)
        except Exception:  # noqa: BLE001
            return _REDACTION_FAILED

    # ---------------------------------------------------------------- building results
    @staticmethod
    def _step_name(step: Any) -> str:
        return f"{step.keyword} {step.name}".strip()

    @staticmethod
    def _ancestry(scenario: Any) -> list[Any]:
        """[feature, rule?, outline?, scenario]; top first."""
        chain = [scenario]
        node = getattr(scenario, "parent", None)
        while node is not None and node not in chain:
            chain.append(node)
            node = getattr(node, "parent", None)
        feature = getattr(scenario, "feature", None)
        if feature is not None and feature not in chain:
            chain.append(feature)
        return list(reversed(chain))

    @classmethod
    def _rule_of(cls, scenario: Any) -> Any:
        for node in cls._ancestry(scenario):
            if getattr(node, "type", None) == "rule":
                return node
        return None

    @staticmethod
    def _outline_of(scenario: Any) -> Any:
        parent = getattr(scenario, "parent", None)
        if getattr(scenario, "_row", None) is not None and getattr(parent, "type", None) == "scenario_outline":
            return parent
        return None

    @classmethod
    def scenario_title(cls, scenario: Any) -> str:
        """Scenario name without behave's outline suffix (`` -- @1.2 Examples``)."""
        name = scenario.name or scenario.keyword
        row = getattr(scenario, "_row", None)
        if row is not None:
            marker = f" -- @{getattr(row, 'id', '')}"
            index = name.rfind(marker) if getattr(row, "id", None) else -1
            if index < 0:
                index = name.rfind(" -- @")
            if index >= 0:
                name = name[:index]
        return name

    @classmethod
    def full_name(cls, scenario: Any) -> str:
        """``<feature file> :: [<rule> ::] <scenario>``; for an outline row the outline's
        (unrendered) name, so all rows share it and differ by their parameters."""
        parts = [_relative_path(scenario.filename) or scenario.feature.name]
        rule = cls._rule_of(scenario)
        if rule is not None:
            parts.append(rule.name or rule.keyword)
        outline = cls._outline_of(scenario)
        if outline is not None:
            parts.append(outline.name or outline.keyword)
        else:
            parts.append(cls.scenario_title(scenario))
        return " :: ".join(parts)

    @staticmethod
    def _row_items(scenario: Any) -> list[tuple[str, str]]:
        row = getattr(scenario, "_row", None)
        if row is None:
            return []
        return [(str(h), str(c)) for h, c in zip(row.headings, row.cells)]

    def _ordered_tags(self, scenario: Any) -> list[str]:
        seen: dict[str, None] = {}
        for node in self._ancestry(scenario):
            for tag in getattr(node, "tags", None) or []:
                seen.setdefault(str(tag), None)
        return list(seen)

    @staticmethod
    def _common_labels() -> list[Label]:
        return [
            Label(name=LabelType.FRAMEWORK, value="behave"),
            Label(name=LabelType.LANGUAGE, value="python"),
            Label(name=LabelType.HOST, value=host_tag()),
            Label(name=LabelType.THREAD, value=thread_tag()),
        ]

    def _tag_labels_and_links(self, tags: Iterable[str]) -> tuple[list[Label], list[Link], list[str], str]:
        labels: list[Label] = []
        links: list[Link] = []
        features: list[str] = []
        severity = Severity.NORMAL.value
        for tag in tags:
            lowered = tag.lower()
            prefix, sep, value = tag.partition(":")
            prefix_l = prefix.lower()
            if lowered in _SEVERITIES:
                severity = lowered
            elif sep and prefix_l == "severity" and value.lower() in _SEVERITIES:
                severity = value.lower()
            elif sep and prefix_l in ("epic", "story", "feature") and value:
                readable = value.replace("_", " ").strip()
                if prefix_l == "feature":
                    features.append(readable)
                else:
                    labels.append(Label(name=prefix_l, value=readable))
            elif lowered.startswith("allure."):
                parsed = parse_tag(tag)
                if isinstance(parsed, Link):
                    links.append(parsed)
                elif isinstance(parsed, Label):
                    if parsed.name == LabelType.SEVERITY:
                        severity = str(getattr(parsed.value, "value", parsed.value))
                    elif parsed.name == LabelType.FEATURE:
                        features.append(str(parsed.value))
                    else:
                        labels.append(Label(name=parsed.name, value=str(parsed.value)))
            else:
                labels.append(Label(name=LabelType.TAG, value=tag))
        return labels, links, features, severity

    def _new_result(self, scenario: Any) -> TestResult:
        feature = scenario.feature
        rule = self._rule_of(scenario)
        title = self.scenario_title(scenario)
        full_name = self.full_name(scenario)
        row_items = self._row_items(scenario)

        result = TestResult(uuid=uuid4(), name=title, fullName=full_name, start=now())
        result.testCaseId = md5(full_name)
        result.historyId = md5(full_name, *[f"{k}={v}" for k, v in row_items])
        description = "\n".join(getattr(scenario, "description", None) or [])
        if not description:
            outline = self._outline_of(scenario)
            description = "\n".join(getattr(outline, "description", None) or []) if outline else ""
        result.description = description or None
        result.parameters = [Parameter(name=k, value=self._redact_text(v)) for k, v in row_items]

        feature_path = _relative_path(scenario.filename)
        folder = PurePath(feature_path).parent.as_posix() if feature_path else ""
        feature_name = feature.name or (PurePath(feature_path).name if feature_path else feature.keyword)
        result.titlePath = [p for p in PurePath(folder).parts if p not in ("", ".")] + [feature_name]
        if rule is not None:
            result.titlePath.append(rule.name or rule.keyword)

        labels, links, features, severity = self._tag_labels_and_links(self._ordered_tags(scenario))
        for name in features or [feature_name]:
            result.labels.append(Label(name=LabelType.FEATURE, value=name))
        result.labels.extend(labels)
        result.labels.append(Label(name=LabelType.SEVERITY, value=severity))
        if folder and folder != ".":
            result.labels.append(Label(name=LabelType.PARENT_SUITE, value=folder))
        result.labels.append(Label(name=LabelType.SUITE, value=feature_name))
        if rule is not None:
            rule_name = rule.name or rule.keyword
            result.labels.append(Label(name=LabelType.SUB_SUITE, value=rule_name))
            result.labels.append(Label(name="rule", value=rule_name))
        result.labels.extend(self._common_labels())
        result.links.extend(links)
        return result

    # ---------------------------------------------------------------- outcomes
    def _exc_details(self, exc: BaseException, tb: Any = None, *, extra: str = "") -> StatusDetails:
        message = exception_message(exc)
        if extra:
            message += "\n\nAlso:\n" + extra
        return StatusDetails(
            message=self._redact_text(message),
            trace=self._redact_text(_format_trace(exc, tb)),
        )

    def _step_outcome(self, step: Any, errors: list[_HookError] | None = None) -> tuple[str, StatusDetails | None]:
        """Allure status of a behave step from the model, plus the ``before_step``/
        ``after_step`` errors reported for it (``errors``)."""
        status = _behave_status_name(step.status)
        exc = getattr(step, "exception", None)
        tb = getattr(step, "exc_traceback", None)
        errors = errors or []
        if status in ("passed", "pending_warn") and not errors:
            return Status.PASSED, None
        if status in ("skipped", "untested", "untested_pending", "untested_undefined", "executing") and not errors:
            return Status.SKIPPED, None
        if status == "undefined":
            snippet = None
            try:
                from behave.runner_util import make_undefined_step_snippet

                snippet = make_undefined_step_snippet(copy.copy(step))
            except Exception:  # noqa: BLE001
                pass
            trace = (
                f"No step definition matches this step. A definition could look like:\n\n{snippet}"
                if snippet
                else None
            )
            return Status.BROKEN, StatusDetails(
                message=self._redact_text(f"Undefined step: {self._step_name(step)}"),
                trace=self._redact_text(trace),
            )
        if status == "hook_error" or errors:
            # Which exception is the hook's? behave keeps only the first exception on
            # the step and may overwrite error_message with the step's own error.
            hook_excs = [e.exc for e in errors if e.exc is not None]
            step_raised = exc is not None and not any(exc is h for h in hook_excs)
            if errors and step_raised:
                # the step itself failed, and a step hook failed as well
                extra = "\n".join(f"HOOK-ERROR in {e.hook}: {e.message}" for e in errors)
                return _status_of(exc), self._exc_details(exc, tb, extra=extra)
            if errors:
                return Status.BROKEN, self._hook_details(errors[0], errors[1:])
            parsed = _parse_hook_errors(getattr(step, "error_message", None))
            own_text = (getattr(step, "error_message", None) or "").strip()
            if exc is not None and own_text and not parsed:
                # error_message holds the step's own error: the exception is the step's
                return _status_of(exc), self._exc_details(
                    exc, tb, extra="HOOK-ERROR in after_step (see the behave output)"
                )
            hook = parsed[0][0] if parsed else "before_step/after_step"
            if exc is not None:
                error = _HookError(hook, exception_message(exc), _format_trace(exc, tb), exc)
            else:
                text = parsed[0][1] if parsed else "Step hook error (see the behave output)"
                error = _HookError(hook, text.splitlines()[0] if text else hook, text or None)
            return Status.BROKEN, self._hook_details(error, [])
        # failed / error / pending / anything else non-passing
        if exc is not None:
            state = Status.FAILED if status == "failed" and isinstance(exc, AssertionError) else Status.BROKEN
            return state, self._exc_details(exc, tb)
        message = (getattr(step, "error_message", None) or f"Step {status}").strip()
        return (Status.FAILED if status == "failed" else Status.BROKEN), StatusDetails(
            message=self._redact_text(message)
        )

    def _model_hook_errors(self, entity: Any, known: list[_HookError]) -> list[_HookError]:
        """Hook errors behave stored on a scenario/feature/rule that were not reported
        explicitly (same hook name already known -> skipped)."""
        if not getattr(entity, "hook_failed", False):
            return []
        known_hooks = {error.hook for error in known}
        known_excs = [error.exc for error in known if error.exc is not None]
        exc = getattr(entity, "exception", None)
        found = []
        for index, (hook, text) in enumerate(_parse_hook_errors(getattr(entity, "error_message", None))):
            if hook in known_hooks:
                continue
            if index == 0 and exc is not None and not any(exc is k for k in known_excs):
                tb = getattr(entity, "exc_traceback", None)
                found.append(_HookError(hook, exception_message(exc), _format_trace(exc, tb), exc))
            else:
                found.append(_HookError(hook, text.splitlines()[0] if text else f"Error in {hook}", text or None))
        if not found and not known and exc is not None and not any(exc is k for k in known_excs):
            found.append(_HookError("hook", exception_message(exc), _format_trace(exc, None), exc))
        return found

    def _finalize(self, record: _ScenarioRecord) -> None:
        scenario = record.scenario
        result = record.result

        # Steps: top-level behave steps get their final state from the model (an
        # after_step error turns a passed step into hook_error after our stop_step);
        # steps behave never started (after a failure, undefined ones, or after a
        # before_scenario error) are added, in order.
        all_steps = list(getattr(scenario, "all_steps", []) or [])
        missing: list[TestStepResult] = []
        last_started = -1
        first_problem: tuple[str, StatusDetails | None] | None = None
        for step in all_steps:
            status, details = self._step_outcome(step, record.step_errors.get(id(step)))
            step_result = record.step_results.get(id(step))
            if step_result is None:
                step_result = TestStepResult(name=self._step_name(step))
                self._attach_step_data(step, step_result)
                missing.append(step_result)
            else:
                last_started = max(last_started, result.steps.index(step_result))
                step_result.stop = step_result.stop or now()
            step_result.status = status
            step_result.statusDetails = details
            if first_problem is None and status in (Status.FAILED, Status.BROKEN):
                first_problem = (status, details)
        insert_at = last_started + 1 if last_started >= 0 else len(result.steps)
        result.steps[insert_at:insert_at] = missing

        errors = record.hook_errors + self._model_hook_errors(scenario, record.hook_errors)
        before = [e for e in errors if e.is_before]
        after = [e for e in errors if not e.is_before]

        behave_status = _behave_status_name(getattr(scenario, "status", "untested"))
        details: StatusDetails | None = None
        if before:
            status = Status.BROKEN
            details = self._hook_details(before[0], before[1:] + after)
        elif first_problem is not None:
            status, details = first_problem
            if after:
                extra = "\n".join(f"HOOK-ERROR in {e.hook}: {e.message}" for e in after)
                details = StatusDetails(
                    message=((details.message if details else "") or "") + "\n\nAlso:\n" + self._redact_text(extra),
                    trace=details.trace if details else None,
                )
        elif after:
            status = Status.BROKEN
            details = self._hook_details(after[0], after[1:])
        elif behave_status == "cleanup_error":
            status = Status.BROKEN
            details = StatusDetails(
                message="Cleanup error: a context cleanup function raised (see the behave output)"
            )
        elif behave_status == "skipped":
            status = Status.SKIPPED
            reason = getattr(scenario, "skip_reason", None)
            details = StatusDetails(message=self._redact_text(reason)) if reason else None
        elif behave_status == "untested":
            status = Status.SKIPPED
            details = StatusDetails(message="Not executed (the run was aborted)")
        elif behave_status in ("failed", "error", "hook_error"):
            # the model says it failed, but no step or hook told why
            status = Status.FAILED if behave_status == "failed" else Status.BROKEN
            text = getattr(scenario, "error_message", None) or f"Scenario {behave_status}"
            details = StatusDetails(message=self._redact_text(text))
        else:
            status = Status.PASSED

        result.status = status
        result.statusDetails = details
        if status != Status.PASSED:
            self._attach_captured(scenario, result)
        result.stop = result.stop or now()
        self._report(result)

    def _hook_details(self, first: _HookError, others: list[_HookError]) -> StatusDetails:
        message = first.message
        if others:
            message += "\n\nAlso:\n" + "\n".join(f"HOOK-ERROR in {e.hook}: {e.message}" for e in others)
        return StatusDetails(message=self._redact_text(message), trace=self._redact_text(self._hook_trace(first)))

    def _attach_captured(self, scenario: Any, result: TestResult) -> None:
        captured = getattr(scenario, "captured", None)
        try:
            output = captured.make_output() if captured is not None and captured.has_output() else ""
        except Exception:  # noqa: BLE001
            output = ""
        if output:
            file_name = f"{uuid4()}-attachment.txt"
            self._logger.report_attached_data(body=self._redact_text(output), file_name=file_name)
            result.attachments.append(
                Attachment(name="Captured output", source=file_name, type=AttachmentType.TEXT.mime_type)
            )

    def _settle_container(self, record: _ContainerRecord) -> None:
        """Write what a feature/rule hook error means for the report:
        a ``before_*`` error -> every scenario of it that would have run, broken with the
        message; an ``after_*`` error -> one broken "<name> (after_feature)" result."""
        entity = record.entity
        errors = record.hook_errors + self._model_hook_errors(entity, record.hook_errors)
        for error in errors:
            if error.hook == "hook":  # unknown phase: decide by whether anything ran
                error.hook = "after_" + record.kind if self._any_started(entity) else "before_" + record.kind
        record.hook_errors = [e for e in errors]
        for error in record.hook_errors:
            if id(error) in record.reported:
                continue
            if error.is_before:
                if not record.stopped:
                    continue  # scenarios may still be started; decide at stop
                record.reported.add(id(error))
                for scenario in self._runnable_scenarios(entity):
                    if id(scenario) in self._started_scenarios:
                        continue
                    self._started_scenarios.add(id(scenario))
                    result = self._new_result(scenario)
                    for step in getattr(scenario, "all_steps", []) or []:
                        step_result = TestStepResult(name=self._step_name(step), status=Status.SKIPPED)
                        self._attach_step_data(step, step_result)
                        result.steps.append(step_result)
                    result.status = Status.BROKEN
                    result.statusDetails = self._hook_details(error, [])
                    result.stop = now()
                    self._report(result)
            else:
                if not record.stopped:
                    continue
                record.reported.add(id(error))
                self._write_container_teardown_error(record, error)

    def _any_started(self, entity: Any) -> bool:
        try:
            return any(id(s) in self._started_scenarios for s in entity.walk_scenarios())
        except Exception:  # noqa: BLE001
            return False

    def _runnable_scenarios(self, entity: Any) -> list[Any]:
        try:
            scenarios = entity.walk_scenarios()
        except Exception:  # noqa: BLE001
            return []
        out = []
        for scenario in scenarios:
            try:
                runnable = scenario.should_run(self._config) if self._config is not None else scenario.should_run()
            except Exception:  # noqa: BLE001
                runnable = True
            if runnable:
                out.append(scenario)
        return out

    def _write_container_teardown_error(self, record: _ContainerRecord, error: _HookError) -> None:
        entity = record.entity
        feature = entity if record.kind == "feature" else getattr(entity, "feature", None)
        feature_path = _relative_path(getattr(entity, "filename", None))
        feature_name = getattr(feature, "name", "") or feature_path
        entity_name = getattr(entity, "name", "") or getattr(entity, "keyword", record.kind)
        name = f"{entity_name} ({error.hook})"
        parts = [feature_path or feature_name]
        if record.kind == "rule":
            parts.append(entity_name)
        parts.append(error.hook)
        full_name = " :: ".join(parts)
        result = TestResult(uuid=uuid4(), name=name, fullName=full_name, start=now())
        result.historyId = md5(full_name)
        result.testCaseId = md5(full_name)
        result.status = Status.BROKEN
        result.statusDetails = self._hook_details(error, [])
        folder = PurePath(feature_path).parent.as_posix() if feature_path else ""
        result.labels.append(Label(name=LabelType.FEATURE, value=feature_name))
        if folder and folder != ".":
            result.labels.append(Label(name=LabelType.PARENT_SUITE, value=folder))
        result.labels.append(Label(name=LabelType.SUITE, value=feature_name))
        if record.kind == "rule":
            result.labels.append(Label(name=LabelType.SUB_SUITE, value=entity_name))
        result.labels.extend(self._common_labels())
        result.stop = now()
        self._report(result)

    def _report(self, result: TestResult) -> None:
        self._logger.report_result(result)
        self.written.append(result)


