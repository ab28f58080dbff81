"""Wires allure-behave's listener into ``features/environment.py`` (hooks mode): at its end,
``behave_hooks.install(globals(), results_dir=..., redact=..., environment=..., executor=..., finished=...)``.
Unlike ``allure_behave.hooks.allure_report``, a scenario or step starts before the suite's ``before_*``
hook and stops after its ``after_*`` hook (so what ``after_scenario`` attaches lands in the scenario); a
suite hook's exception is reported broken with its message and re-raised unchanged; the results folder is
cleaned per run (a ``--dry-run`` writes nothing); every file written passes through ``redact``. During
the run ``context.allure`` is this object. A reporting problem never fails a test: it goes to stderr."""
from __future__ import annotations

import functools
import os
import sys
import traceback
from pathlib import Path
from typing import Any, Callable, MutableMapping

import allure_commons

from acceptance.reporting import results_folder
from acceptance.reporting.listener import RedactingFileLogger, SuiteListener, trace_of
from acceptance.verify.errors import exception_message

HOOK_NAMES = ("before_all", "after_all", "before_feature", "after_feature", "before_rule", "after_rule",
              "before_scenario", "after_scenario", "before_step", "after_step")
#: the listener's part of each hook, given the hook's arguments
LISTENER_CALLS: dict[str, Callable[..., None]] = {
    "before_feature": lambda self, feature: self.start_file(), "after_feature": lambda self, feature: self.stop_feature(),
    "before_scenario": SuiteListener.start_scenario, "after_scenario": SuiteListener.stop_scenario,
    "before_step": SuiteListener.start_behave_step, "after_step": SuiteListener.stop_behave_step}
Option = Any  # a value, or a function of behave's context that gives it


class AllureHooks(SuiteListener):
    """The listener and the suite's hooks around it, one object; the listener's state is made in ``before_all``,
    with the run's behave configuration. Reporting is on while ``plugins`` are registered."""

    def __init__(self, results_dir: Option, *, redact: Callable[[Any], Any] = str, environment: Option = None,
                 executor: Option = None, finished: Callable[[Any, Path], None] | None = None):
        self.options = dict(results_dir=results_dir, environment=environment, executor=executor)
        self.redact, self.finished, self.plugins = redact, finished, []

    def _guarded(self, action: str, func: Callable[..., Any], *args: Any) -> None:
        if self.plugins:
            try:
                func(*args)
            except Exception:  # noqa: BLE001 - reporting must not change test outcomes
                print(f"ALLURE-REPORTING-ERROR in {action} (the run goes on):", file=sys.__stderr__ or sys.stderr)
                traceback.print_exc(file=sys.__stderr__ or sys.stderr)

    def _option(self, name: str, context: Any) -> Any:
        value = self.options[name]
        return value(context) if callable(value) else value

    def before_all(self, context: Any) -> None:
        self.results_dir = Path(os.fspath(self._option("results_dir", context))).absolute()
        results_folder.clean(self.results_dir)
        super().__init__(context.config)
        self.plugins = [RedactingFileLogger(self.results_dir, self.redact), self]
        for plugin in self.plugins:
            allure_commons.plugin_manager.register(plugin)
        context.allure = self
        self.open_run_result()

    def record_run_outcome(self, *args: Any) -> None:
        """A result that is no scenario (a stopped preflight); made in ``before_all``, it has its attachments."""
        self._guarded("record_run_outcome", super().record_run_outcome, *args)

    def after_all(self, context: Any) -> None:
        try:
            self._guarded("after_all", self._write_run_files, context)
        finally:
            for plugin in self.plugins:
                if allure_commons.plugin_manager.is_registered(plugin):
                    allure_commons.plugin_manager.unregister(plugin)
            self.plugins = []

    def _write_run_files(self, context: Any) -> None:
        results_folder.write_categories(self.results_dir)
        if (environment := self._option("environment", context)) is not None:
            results_folder.write_environment(self.results_dir, environment, redact=self.redact)
        if (executor := self._option("executor", context)) is not None:
            results_folder.write_executor(self.results_dir, **executor)
        if self.finished is not None:
            self.finished(context, self.results_dir)

    def hook_failed(self, hook: str, target: Any, exc: BaseException) -> None:
        kind = getattr(target, "type", None)
        if not self.plugins:
            return
        if hook in ("before_all", "after_all"):
            phase = "setup" if hook == "before_all" else "teardown"
            self.record_run_outcome(f"Run {phase} ({hook})", "broken", exception_message(exc), trace_of(exc, hook))
        elif kind in ("feature", "rule") and hook.startswith("before_"):
            self._guarded(hook, self.break_scenarios, target.walk_scenarios(), hook, exc)
        elif kind in ("feature", "rule"):
            feature = target if kind == "feature" else target.feature
            labels = {"fullName": f"{target.filename} :: {hook}", "feature": feature.name, "suite": feature.name,
                      **({"subSuite": target.name} if kind == "rule" else {})}
            self.record_run_outcome(f"{target.name} ({hook})", "broken", exception_message(exc), trace_of(exc, hook),
                                    labels)
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
                    self._guarded(name, self.drop_setup_result)

        if user_hook is not None:
            functools.update_wrapper(hook, user_hook)
        hook.__name__, hook.__allure_wrapped__ = name, True  # type: ignore[attr-defined]
        return hook

    def _ours(self, name: str, context: Any, args: tuple) -> None:
        if name in ("before_all", "after_all"):
            getattr(self, name)(context)
        elif name in LISTENER_CALLS:
            self._guarded(name, LISTENER_CALLS[name], self, *args)


def install(namespace: MutableMapping[str, Any], results_dir: Option, **options: Any) -> AllureHooks:
    """Wraps the hooks of an ``environment.py`` (its ``globals()``); ``options`` are :class:`AllureHooks`'."""
    hooks = AllureHooks(results_dir, **options)
    for name in HOOK_NAMES:
        if not getattr(namespace.get(name), "__allure_wrapped__", False):
            namespace[name] = hooks.wrap_hook(name, namespace.get(name))
    return hooks
