"""allure-behave's listener (hooks mode) with the few patches this suite needs.

Each patch says which upstream issue it works around; a meta-test named after that issue
(``tests/suite/test_allure_wiring.py::test_allure_python_<issue>_...``) pins it, so it can go once
allure-behave fixes the issue. Ready patches for upstream are in ``docs/upstream/``.

Only behave's public model is read: ``status``, ``exception``, ``error_message``, ``tags``,
``inherited_tags``, ``parent``, ``all_steps``, ``skip_reason``, ``captured``, outlines' ``examples``
and ``scenarios``.
"""
from __future__ import annotations

import json
import os
import traceback
from pathlib import Path, PurePath
from typing import Any, Callable

import attr
import behave
from allure_behave.listener import AllureListener
from allure_commons import hookimpl
from allure_commons.logger import AllureFileLogger
from allure_commons.mapping import parse_tag
from allure_commons.model2 import Label, Link, Parameter, Status, StatusDetails, TestResult, TestStepResult
from allure_commons.types import AttachmentType, LabelType, Severity
from allure_commons.utils import host_tag, md5, now, thread_tag, uuid4

from .results_folder import exception_message

Redact = Callable[[Any], Any]
SEVERITIES = {s.value for s in Severity}
SKIPPED_STATES = {"skipped", "untested", "untested_pending", "untested_undefined", "executing"}
_PLUMBING = tuple(str(Path(p).resolve().parent) + os.sep for p in (__file__, behave.__file__))


# ----------------------------------------------------------------------------- redaction
class RedactingFileLogger(AllureFileLogger):
    """allure-commons' file logger, with every result, container, globals file and attachment passed
    through ``redact`` (a text function) before it is written. A redaction failure withholds the text."""

    def __init__(self, report_dir: Path, redact: Redact | None = None):
        super().__init__(report_dir, clean=False)
        self.report_dir = Path(report_dir).absolute()
        self.redact = redact or (lambda text: text)

    def _safe(self, text: str) -> str:
        try:
            return str(self.redact(text))
        except Exception:  # noqa: BLE001 - fail closed
            return "[content withheld: redaction failed]"

    def _write(self, item: Any) -> None:
        data = attr.asdict(item, filter=lambda _, v: v or v is False)
        name = item.file_pattern.format(prefix=uuid4())
        tmp = self.report_dir / f"{name}.tmp"
        tmp.write_text(self._safe(json.dumps(data, ensure_ascii=False)), encoding="utf-8")
        os.replace(tmp, self.report_dir / name)

    @hookimpl
    def report_result(self, result):
        self._write(result)

    @hookimpl
    def report_container(self, container):
        self._write(container)

    @hookimpl
    def report_globals(self, globals_item):
        self._write(globals_item)

    @hookimpl
    def report_attached_data(self, body, file_name):
        if isinstance(body, (bytes, bytearray)):
            try:
                body = bytes(body).decode("utf-8")
            except UnicodeDecodeError:
                body = bytes(body)
        data = self._safe(body).encode("utf-8") if isinstance(body, str) else body
        tmp = self.report_dir / f"{file_name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.report_dir / file_name)

    @hookimpl
    def report_attached_file(self, source, file_name):
        self.report_attached_data(Path(source).read_bytes(), file_name)


# ----------------------------------------------------------------------------- identity
def outline_row(scenario: Any) -> Any:
    """The Examples row an outline scenario was built from (``None`` for a plain scenario), found
    through the outline's public ``examples`` and ``scenarios``."""
    outline = scenario.parent if getattr(scenario.parent, "type", None) == "scenario_outline" else None
    if outline is None:
        return None
    rows = [row for examples in outline.examples for row in (examples.table or [])]
    for built, row in zip(outline.scenarios, rows):
        if built is scenario:
            return row
    return None


def row_items(scenario: Any) -> list[tuple[str, str]]:
    row = outline_row(scenario)
    return [(str(h), str(c)) for h, c in zip(row.headings, row.cells)] if row is not None else []


def rule_of(scenario: Any) -> Any:
    node = scenario.parent
    while node is not None and getattr(node, "type", None) != "rule":
        node = getattr(node, "parent", None)
    return node


def title(scenario: Any) -> str:
    """The scenario's name without behave's outline suffix (`` -- @1.2 Examples``)."""
    name = scenario.name or scenario.keyword
    return name.rsplit(" -- @", 1)[0] if outline_row(scenario) is not None else name


def feature_path(scenario: Any) -> str:
    path = Path(scenario.filename or "")
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            pass
    return PurePath(path).as_posix()


def full_name(scenario: Any) -> str:
    """``<feature file> :: [<rule> ::] <scenario>``; outline rows share the outline's name."""
    rule = rule_of(scenario)
    parts = [feature_path(scenario) or scenario.feature.name] + ([rule.name or rule.keyword] if rule else [])
    row_owner = scenario.parent if outline_row(scenario) is not None else scenario
    return " :: ".join(parts + [row_owner.name if row_owner is not scenario else title(scenario)])


def tag_labels(tags: list[str]) -> tuple[list[Label], list[Link], list[str], str]:
    labels, links, features, severity = [], [], [], Severity.NORMAL.value
    for tag in tags:
        prefix, sep, value = tag.partition(":")
        if tag.lower() in SEVERITIES:
            severity = tag.lower()
        elif sep and prefix.lower() in ("epic", "story", "feature") and value:
            readable = value.replace("_", " ").strip()
            features.append(readable) if prefix.lower() == "feature" else labels.append(Label(prefix.lower(), readable))
        elif tag.lower().startswith("allure."):
            parsed = parse_tag(tag)
            if isinstance(parsed, Link):
                links.append(parsed)
            elif parsed.name == LabelType.SEVERITY:
                severity = str(getattr(parsed.value, "value", parsed.value))
            elif parsed.name == LabelType.FEATURE:
                features.append(str(parsed.value))
            else:
                labels.append(Label(parsed.name, str(parsed.value)))
        else:
            labels.append(Label(LabelType.TAG, tag))
    return labels, links, features, severity


def common_labels() -> list[Label]:
    return [Label(LabelType.FRAMEWORK, "behave"), Label(LabelType.LANGUAGE, "python"),
            Label(LabelType.HOST, host_tag()), Label(LabelType.THREAD, thread_tag())]


def new_result(scenario: Any) -> TestResult:
    """What allure-behave's ``start_scenario`` builds, with the suite's names and labels: the rule
    in the name, the title path and ``subSuite``; Rule tags inherited; ``@epic:``/``@story:`` tags."""
    name, items, rule = full_name(scenario), row_items(scenario), rule_of(scenario)
    result = TestResult(uuid=uuid4(), name=title(scenario), fullName=name, start=now())
    result.testCaseId = md5(name)
    result.historyId = md5(name, *[f"{k}={v}" for k, v in items])
    description = scenario.description or (scenario.parent.description if outline_row(scenario) else [])
    result.description = "\n".join(description) or None
    result.parameters = [Parameter(name=k, value=v) for k, v in items]
    path = feature_path(scenario)
    folder = PurePath(path).parent.as_posix() if path else ""
    feature = scenario.feature.name or PurePath(path).name
    result.titlePath = [p for p in PurePath(folder).parts if p not in ("", ".")] + [feature]
    tags = list(dict.fromkeys([*scenario.inherited_tags, *scenario.tags]))
    labels, links, features, severity = tag_labels([str(t) for t in tags])
    result.labels += [Label(LabelType.FEATURE, f) for f in features or [feature]] + labels
    result.labels.append(Label(LabelType.SEVERITY, severity))
    if folder not in ("", "."):
        result.labels.append(Label(LabelType.PARENT_SUITE, folder))
    result.labels.append(Label(LabelType.SUITE, feature))
    if rule is not None:
        result.titlePath.append(rule.name or rule.keyword)
        result.labels += [Label(LabelType.SUB_SUITE, rule.name or rule.keyword), Label("rule", rule.name)]
    result.labels += common_labels()
    result.links += links
    return result


# ----------------------------------------------------------------------------- outcomes
def trace_of(exc: BaseException | None, hook: str | None = None) -> str | None:
    """The traceback without behave's and this package's frames at the top."""
    if exc is None:
        return None
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_PLUMBING):
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__)).rstrip()
    return f"HOOK-ERROR in {hook}\n{text}" if hook else text


def details(exc: BaseException, hook: str | None = None, also: list[tuple[str, BaseException]] = ()) -> StatusDetails:
    message = exception_message(exc)
    if also:
        message += "\n\nAlso:\n" + "\n".join(f"HOOK-ERROR in {h}: {exception_message(e)}" for h, e in also)
    return StatusDetails(message=message, trace=trace_of(exc, hook))


def status_of(exc: BaseException) -> str:
    return Status.FAILED if isinstance(exc, AssertionError) else Status.BROKEN


def step_outcome(step: Any, hook_errors: list[tuple[str, BaseException]] = ()) -> tuple[str, StatusDetails | None]:
    state = step.status.name
    own = step.exception if not any(step.exception is e for _, e in hook_errors) else None
    if own is not None:
        return status_of(own), details(own, also=list(hook_errors))
    if hook_errors:
        (hook, exc), *others = hook_errors
        return Status.BROKEN, details(exc, hook, others)
    if state == "passed":
        return Status.PASSED, None
    if state in SKIPPED_STATES:
        return Status.SKIPPED, None
    if state == "undefined":
        return Status.BROKEN, StatusDetails(message=f"Undefined step: {step.keyword} {step.name}")
    return Status.BROKEN, StatusDetails(message=(step.error_message or f"Step {state}").strip())


class SuiteListener(AllureListener):
    """:class:`allure_behave.listener.AllureListener` with the suite's patches; driven by
    :mod:`acceptance.reporting.behave_hooks`."""

    def __init__(self, behave_config: Any):
        super().__init__(behave_config)
        self.started_steps: set[int] = set()
        self.step_errors: dict[int, list[tuple[str, BaseException]]] = {}
        self.scenario_errors: list[tuple[str, BaseException]] = []
        self.reported: set[int] = set()  # scenarios already written (e.g. broken by a before_feature error)

    # -- names, labels and Rule tags (see new_result)
    def start_scenario(self, scenario: Any) -> None:
        self.current_scenario_uuid = uuid4()
        self.group_context.enter()
        self.started_steps.clear()
        self.step_errors.clear()
        self.scenario_errors = []
        result = new_result(scenario)
        result.uuid = self.current_scenario_uuid
        self.logger.schedule_test(self.current_scenario_uuid, result)

    def start_behave_step(self, step: Any) -> None:
        self.started_steps.add(id(step))
        super().start_behave_step(step)

    def stop_behave_step(self, step: Any) -> None:
        status, status_details = step_outcome(step, self.step_errors.get(id(step), []))
        self.logger.stop_step(self.current_step_uuid, stop=now(), status=status, statusDetails=status_details)

    # -- allure-python #580 / #899: hook errors make the scenario broken with their message, and the
    #    steps behave never ran are listed as skipped
    def stop_scenario(self, scenario: Any) -> None:
        if self.current_scenario_uuid is None or id(scenario) in self.reported:
            return
        self.reported.add(id(scenario))
        first = None
        for step in scenario.all_steps:
            if id(step) not in self.started_steps:
                self.start_behave_step(step)
                self.stop_behave_step(step)
        result = self.logger.get_test(self.current_scenario_uuid)
        for step_result in result.steps:
            if first is None and step_result.status in (Status.FAILED, Status.BROKEN):
                first = (step_result.status, step_result.statusDetails)
        before = [(h, e) for h, e in self.scenario_errors if h.startswith("before_")]
        after = [(h, e) for h, e in self.scenario_errors if not h.startswith("before_")]
        state = scenario.status.name
        if before:
            (hook, exc), *others = before + after
            result.status, result.statusDetails = Status.BROKEN, details(exc, hook, others)
        elif first is not None:
            result.status, result.statusDetails = first
            if after:
                extra = "\n".join(f"HOOK-ERROR in {h}: {exception_message(e)}" for h, e in after)
                result.statusDetails = StatusDetails(message=f"{first[1].message}\n\nAlso:\n{extra}",
                                                     trace=first[1].trace)
        elif after:
            (hook, exc), *others = after
            result.status, result.statusDetails = Status.BROKEN, details(exc, hook, others)
        elif scenario.hook_failed or state in ("failed", "error", "hook_error", "cleanup_error"):
            message = (scenario.error_message or f"Scenario {state.replace('_', ' ')}").strip()
            result.status, result.statusDetails = Status.BROKEN, StatusDetails(message=message)
        elif state == "skipped":
            reason = scenario.skip_reason
            result.status, result.statusDetails = Status.SKIPPED, StatusDetails(message=reason) if reason else None
        elif state == "untested":
            result.status = Status.SKIPPED
            result.statusDetails = StatusDetails(message="Not executed (the run was aborted)")
        else:
            result.status = Status.PASSED
        if result.status != Status.PASSED:
            self.attach_captured_output(scenario)
        result.stop = now()
        self.logger.close_test(self.current_scenario_uuid)
        self.group_context.append_test(self.current_scenario_uuid)
        self.group_context.exit()
        self.current_scenario_uuid = self.current_step_uuid = None

    def attach_captured_output(self, scenario: Any) -> None:
        captured = getattr(scenario, "captured", None)
        try:
            output = captured.make_output() if captured is not None and captured.has_output() else ""
        except Exception:  # noqa: BLE001 - a capture problem must not hide the result
            output = ""
        if output:
            self.logger.attach_data(uuid4(), output, name="Captured output", attachment_type=AttachmentType.TEXT)

    def break_scenarios(self, scenarios: list[Any], hook: str, exc: BaseException) -> None:
        """allure-python #899: a ``before_feature``/``before_rule`` error leaves the feature's scenarios
        out of the report; here each one that would have run is written, broken with the hook's message."""
        for scenario in scenarios:
            if id(scenario) in self.reported or not scenario.should_run(self.behave_config):
                continue
            self.start_scenario(scenario)
            self.scenario_errors = [(hook, exc)]
            self.stop_scenario(scenario)

    # -- allure-python #776: allure.dynamic.title/label/parameter reach the result
    @hookimpl
    def add_title(self, test_title):
        result = self.logger.get_test(None)
        if result is not None:
            result.name = str(test_title)

    @hookimpl
    def add_label(self, label_type, labels):
        result = self.logger.get_test(None)
        if result is not None:
            for value in labels:
                label = Label(str(label_type), str(getattr(value, "value", value)))
                if label not in result.labels:
                    result.labels.append(label)

    @hookimpl
    def add_parameter(self, name, value, excluded, mode):
        result = self.logger.get_test(None)
        if result is not None:
            result.parameters = [p for p in result.parameters or [] if p.name != name]
            result.parameters.append(Parameter(name=str(name), value=value if isinstance(value, str) else repr(value),
                                               excluded=excluded, mode=getattr(mode, "value", mode)))

    # -- allure-python #764: results that are no scenario (preflight, run and feature hook errors), with
    #    what was attached before them in before_all
    def open_run_result(self) -> str:
        uuid = uuid4()
        self.logger.schedule_test(uuid, TestResult(uuid=uuid, name="Run setup", fullName="run::setup", start=now()))
        return uuid

    def close_run_result(self, uuid: str | None, name: str, status: str, message: str | None = None,
                         trace: str | None = None, labels: dict[str, Any] | None = None) -> None:
        uuid = uuid or self.open_run_result()
        result = self.logger.get_test(uuid)
        result.name, result.fullName = name, "run::" + name if not (labels or {}).get("fullName") else labels["fullName"]
        result.historyId = result.testCaseId = md5(result.fullName)
        result.status = status
        if message is not None or trace is not None or status in (Status.FAILED, Status.BROKEN):
            result.statusDetails = StatusDetails(message=message or f"{name}: {status}", trace=trace)
        for key, values in {"suite": "Run", **{k: v for k, v in (labels or {}).items() if k != "fullName"}}.items():
            result.labels += [Label(key, str(v)) for v in (values if isinstance(values, (list, tuple)) else [values])]
        result.labels += common_labels()
        result.stop = now()
        self.logger.close_test(uuid)
