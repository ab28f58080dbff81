"""allure-behave's listener (hooks mode), patched where the suite needs it, and its wiring into
``features/environment.py``: at its end, ``listener.install(globals(), results_dir=..., redact=...,
environment=..., executor=..., finished=...)``. Each patch names the upstream issue it works around, is pinned by
``tests/suite/test_allure_wiring.py::test_allure_python_<issue>_*`` and has a ready upstream patch in
``docs/upstream/``. Only behave's public model is read.

Unlike ``allure_behave.hooks.allure_report``, a scenario or step starts before the suite's ``before_*``
hook and stops after its ``after_*`` hook (so what ``after_scenario`` attaches lands in the scenario); a
suite hook's exception is reported broken with its message and re-raised unchanged; the results folder is
cleaned per run (a ``--dry-run`` writes nothing); every file written passes through ``redact``. During
the run ``context.allure`` is the :class:`SuiteListener` object. A reporting problem never fails a test: it goes
to stderr."""
from __future__ import annotations

import functools
import json
import os
import sys
import traceback
from pathlib import Path, PurePath
from typing import Any, Callable, MutableMapping

import allure_commons
import attr
import behave
from allure_behave.listener import AllureListener
from allure_commons import hookimpl
from allure_commons.logger import AllureFileLogger
from allure_commons.mapping import parse_tag
from allure_commons.model2 import Label, Link, Parameter, Status, StatusDetails, TestResult
from allure_commons.types import AttachmentType, LabelType, Severity
from allure_commons.utils import host_tag, md5, now, thread_tag, uuid4

from acceptance.reporting import results_folder
from acceptance.runner.scenarios import feature_path, full_name, outline_row, row_items, rule_of, title
from acceptance.verify.errors import exception_message

HookErrors = list[tuple[str, BaseException]]
SEVERITIES = {s.value for s in Severity}
_PLUMBING = tuple(os.path.dirname(p) + os.sep for p in (__file__, behave.__file__))  # as frames name them


class RedactingFileLogger(AllureFileLogger):
    """allure-commons' file logger; every file passes through ``redact`` first (a failure withholds it)."""

    def __init__(self, report_dir: Path, redact: Callable[[Any], Any]):
        super().__init__(report_dir)
        self.report_dir, self.redact = Path(report_dir).absolute(), redact

    def _write(self, file_name: str, data: Any) -> None:
        """Every file's one way out, through ``redact``: text and UTF-8 bytes redacted (other bytes, an image,
        as they are), a result redacted as data, field by field, before it is serialised (masking the serialised
        text could cut across the JSON quoting: a token cut short in a message swallowed the text after it)."""
        try:
            data = self.redact(data)
            data = json.dumps(data, ensure_ascii=False) if isinstance(data, dict) else data
        except Exception:  # noqa: BLE001 - fail closed
            data = "[content withheld: redaction failed]"
        results_folder.write_file(self.report_dir / file_name, data)

    def _item(self, item: Any) -> None:
        self._write(item.file_pattern.format(prefix=uuid4()), attr.asdict(item, filter=lambda _, v: v or v is False))

    report_result = hookimpl(lambda self, result: self._item(result))
    report_container = hookimpl(lambda self, container: self._item(container))
    report_globals = hookimpl(lambda self, globals_item: self._item(globals_item))
    report_attached_data = hookimpl(lambda self, body, file_name: self._write(file_name, body))
    report_attached_file = hookimpl(lambda self, source, file_name: self._write(file_name, Path(source).read_bytes()))


def tag_labels(tags: list[str], feature: str) -> tuple[list[Label], list[Link]]:
    """Labels and links of a scenario's tags: ``@epic:``/``@story:``/``@feature:`` (``_`` as spaces; no
    ``@feature:``, the feature's name), severity tags in any case (the last one; none, normal); the rest as
    allure-commons maps them (``@allure.*`` labels and links, any other tag a ``tag`` label)."""
    def parse(tag: str, kind: str, value: str) -> Label | Link:
        if value and kind.lower() in ("epic", "story", "feature"):
            return Label(kind.lower(), value.replace("_", " ").strip())
        return parse_tag(tag.lower() if tag.lower() in SEVERITIES else tag)
    parsed = [parse(tag, *tag.partition(":")[::2]) for tag in tags]
    labels = [x for x in parsed if isinstance(x, Label)]
    features = [x for x in labels if x.name == LabelType.FEATURE] or [Label(LabelType.FEATURE, feature)]
    severity = [Label(LabelType.SEVERITY, Severity.NORMAL.value)] + [x for x in labels if x.name == LabelType.SEVERITY]
    return features + [x for x in labels if x.name not in (LabelType.FEATURE, LabelType.SEVERITY)] + severity[-1:], [
        x for x in parsed if isinstance(x, Link)]


def common_labels() -> list[Label]:
    return [Label(LabelType.FRAMEWORK, "behave"), Label(LabelType.LANGUAGE, "python"),
            Label(LabelType.HOST, host_tag()), Label(LabelType.THREAD, thread_tag())]


def new_result(scenario: Any, uuid: str) -> TestResult:
    """allure-python #886: allure-behave's scenario result plus the rule (name, title path, ``subSuite``)
    and its tags; outline rows named without behave's `` -- @1.2``."""
    name, items, rule, row = full_name(scenario), row_items(scenario), rule_of(scenario), outline_row(scenario)
    result = TestResult(uuid=uuid, name=title(scenario), fullName=name, start=now(), testCaseId=md5(name),
                        historyId=md5(name, *[f"{k}={v}" for k, v in items]))
    result.description = "\n".join(scenario.description or (scenario.parent.description if row else [])) or None
    result.parameters = [Parameter(name=k, value=v) for k, v in items]
    path = feature_path(scenario)
    folder, feature = PurePath(path).parent.as_posix(), scenario.feature.name or PurePath(path).name
    result.titlePath = [p for p in PurePath(folder).parts if p != "."] + [feature] + ([rule.name] if rule else [])
    labels, result.links = tag_labels([str(t) for t in dict.fromkeys([*scenario.inherited_tags, *scenario.tags])],
                                      feature)
    suites = ([(LabelType.PARENT_SUITE, folder)] if folder != "." else []) + [(LabelType.SUITE, feature)]
    suites += [(LabelType.SUB_SUITE, rule.name), ("rule", rule.name)] if rule else []
    result.labels = labels + [Label(name, value) for name, value in suites] + common_labels()
    return result


def trace_of(exc: BaseException, hook: str | None = None) -> str:
    """The traceback without behave's and this package's frames at the top."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_PLUMBING):
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__)).rstrip()
    return f"HOOK-ERROR in {hook}\n{text}" if hook else text


def also(message: str, errors: HookErrors) -> str:
    extra = "\n".join(f"HOOK-ERROR in {h}: {exception_message(e)}" for h, e in errors)
    return f"{message}\n\nAlso:\n{extra}" if errors else message


def details(exc: BaseException, hook: str | None = None, errors: HookErrors = ()) -> StatusDetails:
    return StatusDetails(message=also(exception_message(exc), errors), trace=trace_of(exc, hook))


def step_outcome(step: Any, hook_errors: HookErrors) -> tuple[str, StatusDetails | None]:
    """The step's status; its message starts with the report category (allure-behave's with a module path)."""
    state, own = step.status.name, step.exception
    if own is not None and not any(own is e for _, e in hook_errors):
        return Status.FAILED if isinstance(own, AssertionError) else Status.BROKEN, details(own, None, hook_errors)
    if hook_errors:
        return Status.BROKEN, details(hook_errors[0][1], hook_errors[0][0], hook_errors[1:])
    if state in ("passed", "skipped", "executing") or state.startswith("untested"):
        return (Status.PASSED, None) if state == "passed" else (Status.SKIPPED, None)
    if state == "undefined":
        return Status.BROKEN, StatusDetails(message=f"Undefined step: {step.keyword} {step.name}")
    return Status.BROKEN, StatusDetails(message=(step.error_message or f"Step {state}").strip())


HOOK_NAMES = [f"{when}_{of}" for of in ("all", "feature", "rule", "scenario", "step") for when in ("before", "after")]
Option = Any  # a value, or a function of behave's context that gives it


def guarded(method: Callable[..., None]) -> Callable[..., None]:
    """Reporting only while the plugins are registered; a reporting problem goes to stderr, never fails a test."""
    @functools.wraps(method)
    def call(self: SuiteListener, *args: Any, **kwargs: Any) -> None:
        if self.plugins:
            try:
                method(self, *args, **kwargs)
            except Exception:  # noqa: BLE001 - reporting must not change test outcomes
                print(f"ALLURE-REPORTING-ERROR in {method.__name__} (the run goes on):",
                      file=sys.__stderr__ or sys.stderr)
                traceback.print_exc(file=sys.__stderr__ or sys.stderr)
    return call


class SuiteListener(AllureListener):
    """allure-behave's listener with the suite's patches and the suite's hooks around it, one object: the
    listener's state is made in ``before_all``, with the run's behave configuration."""

    def __init__(self, results_dir: Option, *, redact: Callable[[Any], Any] = lambda data: data,
                 environment: Option = None, executor: Option = None,
                 finished: Callable[[Any, Path], None] | None = None):
        self.options = dict(results_dir=results_dir, environment=environment, executor=executor)
        self.redact, self.finished, self.plugins = redact, finished, []

    def _option(self, name: str, context: Any) -> Any:
        value = self.options[name]
        return value(context) if callable(value) else value

    def before_all(self, context: Any) -> None:
        self.results_dir = Path(os.fspath(self._option("results_dir", context))).absolute()
        results_folder.clean(self.results_dir)
        super().__init__(context.config)
        self.reported: set[int] = set()  # scenarios written already
        self.started_steps, self.step_errors, self.scenario_errors = set(), {}, []
        self.plugins = [RedactingFileLogger(self.results_dir, self.redact), self]
        for plugin in self.plugins:
            allure_commons.plugin_manager.register(plugin)
        context.allure = self
        self.open_run_result()

    @guarded
    def after_all(self, context: Any) -> None:
        try:
            results_folder.write_categories(self.results_dir)
            if (environment := self._option("environment", context)) is not None:
                results_folder.write_environment(self.results_dir, environment, redact=self.redact)
            if (executor := self._option("executor", context)) is not None:
                results_folder.write_executor(self.results_dir, **executor)
            if self.finished is not None:
                self.finished(context, self.results_dir)
        finally:
            for plugin in self.plugins:
                if allure_commons.plugin_manager.is_registered(plugin):
                    allure_commons.plugin_manager.unregister(plugin)
            self.plugins = []

    def start_scenario(self, scenario: Any) -> None:
        if id(scenario) in self.reported:
            return  # broken already, with its feature's or rule's hook error (allure-python #899)
        self.current_scenario_uuid = uuid4()
        self.group_context.enter()
        self.started_steps, self.step_errors, self.scenario_errors = set(), {}, []
        self.logger.schedule_test(self.current_scenario_uuid, new_result(scenario, self.current_scenario_uuid))

    def start_behave_step(self, step: Any) -> None:
        self.started_steps.add(id(step))
        super().start_behave_step(step)

    def stop_behave_step(self, step: Any) -> None:
        status, status_details = step_outcome(step, self.step_errors.get(id(step), []))
        self.logger.stop_step(self.current_step_uuid, stop=now(), status=status, statusDetails=status_details)

    def stop_scenario(self, scenario: Any) -> None:
        """allure-python #580: a hook error breaks the scenario with its message (not skipped); the steps
        behave never ran are listed, skipped."""
        if self.current_scenario_uuid is None or id(scenario) in self.reported:
            return
        self.reported.add(id(scenario))
        for step in scenario.all_steps:
            if id(step) not in self.started_steps:
                self.start_behave_step(step)
                self.stop_behave_step(step)
        result = self.logger.get_test(self.current_scenario_uuid)
        first = next((step for step in result.steps if step.status in (Status.FAILED, Status.BROKEN)), None)
        errors = sorted(self.scenario_errors, key=lambda error: not error[0].startswith("before_"))
        state = scenario.status.name
        if errors and (first is None or errors[0][0].startswith("before_")):
            result.status, result.statusDetails = Status.BROKEN, details(errors[0][1], errors[0][0], errors[1:])
        elif first is not None:
            result.status, result.statusDetails = first.status, StatusDetails(
                message=also(first.statusDetails.message, errors), trace=first.statusDetails.trace)
        elif scenario.hook_failed or state in ("failed", "error", "hook_error", "cleanup_error"):
            message = (scenario.error_message or f"Scenario {state.replace('_', ' ')}").strip()
            result.status, result.statusDetails = Status.BROKEN, StatusDetails(message=message)
        elif state in ("skipped", "untested"):
            reason = scenario.skip_reason if state == "skipped" else "Not executed (the run was aborted)"
            result.status, result.statusDetails = Status.SKIPPED, StatusDetails(message=reason) if reason else None
        else:
            result.status = Status.PASSED
        captured = getattr(scenario, "captured", None)
        if result.status != Status.PASSED and captured is not None and captured.has_output():
            self.logger.attach_data(uuid4(), captured.make_output(), name="Captured output",
                                    attachment_type=AttachmentType.TEXT)
        result.stop = now()
        self.logger.close_test(self.current_scenario_uuid)
        self.group_context.append_test(self.current_scenario_uuid)
        self.group_context.exit()
        self.current_scenario_uuid = self.current_step_uuid = None

    def break_scenarios(self, scenarios: list[Any], hook: str, exc: BaseException) -> None:
        """allure-python #899: the scenarios of a feature or rule whose ``before_*`` hook failed are written,
        broken with its message (not left out)."""
        for scenario in scenarios:
            if id(scenario) not in self.reported and scenario.should_run(self.behave_config):
                self.start_scenario(scenario)
                self.scenario_errors = [(hook, exc)]
                self.stop_scenario(scenario)

    # allure-python #776: allure.dynamic.title/label/parameter reach the result
    @hookimpl
    def add_title(self, test_title):
        if (result := self.logger.get_test(None)) is not None:
            result.name = str(test_title)

    @hookimpl
    def add_label(self, label_type, labels):
        if (result := self.logger.get_test(None)) is not None:
            new = [Label(str(label_type), str(getattr(v, "value", v))) for v in labels]
            result.labels += [label for label in new if label not in result.labels]

    @hookimpl
    def add_parameter(self, name, value, excluded, mode):
        if (result := self.logger.get_test(None)) is not None:
            value = value if isinstance(value, str) else repr(value)
            result.parameters = [p for p in result.parameters if p.name != name] + [
                Parameter(name=str(name), value=value, excluded=excluded, mode=getattr(mode, "value", mode))]

    def open_run_result(self) -> None:
        """allure-python #764: what ``before_all`` attaches is held in a result until :meth:`record_run_outcome`
        closes it or :meth:`drop_setup_result` drops it."""
        self.setup_uuid = uuid4()
        self.logger.schedule_test(self.setup_uuid, TestResult(uuid=self.setup_uuid, name="Run setup", start=now()))

    @guarded
    def drop_setup_result(self) -> None:
        if self.setup_uuid is not None:
            self.logger.drop_test(self.setup_uuid)  # nothing to report about the setup
        self.setup_uuid = None

    @guarded
    def record_run_outcome(self, name: str, status: str, message: str | None = None, trace: str | None = None,
                           full_name: str | None = None, **labels: str) -> None:
        """A result that is no scenario: the run's preflight or setup (the open one), a feature's teardown."""
        if self.setup_uuid is None:
            self.open_run_result()
        uuid, self.setup_uuid = self.setup_uuid, None
        result = self.logger.get_test(uuid)
        result.name, result.fullName, result.status = name, full_name or f"run::{name}", status
        result.historyId = result.testCaseId = md5(result.fullName)
        if message is not None or trace is not None or status in (Status.FAILED, Status.BROKEN):
            result.statusDetails = StatusDetails(message=message or f"{name}: {status}", trace=trace)
        result.labels += [Label(key, value) for key, value in {"suite": "Run", **labels}.items()] + common_labels()
        result.stop = now()
        self.logger.close_test(uuid)

    @guarded
    def hook_failed(self, hook: str, target: Any, exc: BaseException) -> None:
        """A suite hook's exception goes to its step, its scenario, the scenarios it stopped, or a result of its own."""
        kind = getattr(target, "type", None)
        if hook in ("before_all", "after_all"):
            phase = "setup" if hook == "before_all" else "teardown"
            self.record_run_outcome(f"Run {phase} ({hook})", "broken", exception_message(exc), trace_of(exc, hook))
        elif kind in ("feature", "rule") and hook.startswith("before_"):
            self.break_scenarios(target.walk_scenarios(), hook, exc)
        elif kind in ("feature", "rule"):
            feature = target if kind == "feature" else target.feature
            self.record_run_outcome(f"{target.name} ({hook})", "broken", exception_message(exc), trace_of(exc, hook),
                                    f"{target.filename} :: {hook}", feature=feature.name, suite=feature.name,
                                    **({"subSuite": target.name} if kind == "rule" else {}))
        elif kind == "step":
            self.step_errors.setdefault(id(target), []).append((hook, exc))
        else:
            self.scenario_errors.append((hook, exc))

    def wrap_hook(self, name: str, user_hook: Callable[..., Any] | None) -> Callable[..., Any]:
        """The hook behave should call for ``name``: ours around the suite's (before its ``before_*`` code,
        after its ``after_*`` code)."""
        def hook(context: Any, *args: Any) -> None:
            if name.startswith("before_"):
                self._ours(name, context, args)
            try:
                if user_hook is not None:
                    user_hook(context, *args)
            except BaseException as exc:
                self.hook_failed(name, args[0] if args else None, exc)
                raise
            finally:
                if name.startswith("after_"):
                    self._ours(name, context, args)
                elif name == "before_all":
                    self.drop_setup_result()

        if user_hook is not None:
            functools.update_wrapper(hook, user_hook)
        hook.__name__, hook.__allure_wrapped__ = name, True  # type: ignore[attr-defined]
        return hook

    def _ours(self, name: str, context: Any, args: tuple) -> None:
        if name in ("before_all", "after_all"):
            getattr(self, name)(context)
        elif name in LISTENER_CALLS:
            guarded(LISTENER_CALLS[name])(self, *args)


#: the listener's part of each hook, given the hook's arguments
LISTENER_CALLS: dict[str, Callable[..., None]] = {
    "before_feature": lambda self, feature: self.start_file(), "after_feature": lambda self, feature: self.stop_feature(),
    "before_scenario": SuiteListener.start_scenario, "after_scenario": SuiteListener.stop_scenario,
    "before_step": SuiteListener.start_behave_step, "after_step": SuiteListener.stop_behave_step}


def install(namespace: MutableMapping[str, Any], results_dir: Option, **options: Any) -> SuiteListener:
    """Wraps the hooks of an ``environment.py`` (its ``globals()``); ``options`` are :class:`SuiteListener`'s."""
    hooks = SuiteListener(results_dir, **options)
    for name in HOOK_NAMES:
        if not getattr(namespace.get(name), "__allure_wrapped__", False):
            namespace[name] = hooks.wrap_hook(name, namespace.get(name))
    return hooks
