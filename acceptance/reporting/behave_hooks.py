"""Wiring allure-behave's listener into ``features/environment.py`` (hooks mode).

At the end of ``environment.py``::

    behave_hooks.install(globals(), results_dir=..., redact=..., environment=..., executor=...)

:func:`install` wraps the suite's hooks (and adds the missing ones). Unlike
``allure_behave.hooks.allure_report``, which calls the listener *before* each hook of the suite:

* the listener starts a scenario or step before the suite's ``before_*`` code and stops it *after*
  the suite's ``after_*`` code, so the evidence attached in ``after_scenario`` lands in the scenario;
* an exception of a suite hook is given to the listener and re-raised unchanged (behave handles it
  as usual), so the scenario, feature or run it broke is reported broken with its message;
* the listener gets the run's own configuration (``context.config``), and the results folder is
  cleaned when the run starts (allure-behave never cleans it); a ``--dry-run`` writes nothing;
* everything written passes through ``redact``; results, categories, environment and executor
  files are standard Allure results, so merging parallel workers only copies files.

During the run ``context.allure`` is this object (``record_run_outcome`` writes a result that is no
scenario, e.g. a stopped preflight); code without a context uses ``allure.attach``/``allure.step``.
A reporting problem never fails a test: it is printed to stderr and the run goes on.
"""
from __future__ import annotations

import functools
import os
import sys
import traceback
from pathlib import Path
from typing import Any, Callable, Mapping, MutableMapping

import allure_commons

from . import results_folder
from .listener import RedactingFileLogger, SuiteListener, trace_of

HOOK_NAMES = ("before_all", "after_all", "before_feature", "after_feature", "before_rule", "after_rule",
              "before_scenario", "after_scenario", "before_step", "after_step")


def _report_problem(action: str) -> None:
    stream = sys.__stderr__ or sys.stderr
    print(f"ALLURE-REPORTING-ERROR in {action} (the run goes on):", file=stream)
    traceback.print_exc(file=stream)


class AllureHooks:
    def __init__(self, results_dir: Any, *, redact: Callable[[Any], Any] | None = None,
                 environment: Mapping[str, Any] | Callable[[Any], Mapping[str, Any]] | None = None,
                 executor: Mapping[str, Any] | Callable[[Any], Mapping[str, Any] | None] | None = None,
                 clean: bool = True, context_attr: str = "allure",
                 finished: Callable[[Any, Path], None] | None = None):
        self.results_dir_setting, self.redact, self.environment = results_dir, redact, environment
        self.executor, self.clean, self.context_attr, self.finished = executor, clean, context_attr, finished
        self.results_dir: Path | None = None
        self.listener: SuiteListener | None = None
        self.plugins: list[Any] = []
        self.setup_uuid: str | None = None  # the open "Run setup" result during before_all

    def _guard(self, action: str, func: Callable[..., Any], *args: Any) -> None:
        if self.listener is None:
            return
        try:
            func(*args)
        except Exception:  # noqa: BLE001 - reporting must not change test outcomes
            _report_problem(action)

    @staticmethod
    def _resolve(value: Any, context: Any) -> Any:
        return value(context) if callable(value) else value

    def _redact_text(self, text: Any) -> Any:
        return self.redact(text) if self.redact is not None else text

    # ------------------------------------------------------------------ run
    def before_all(self, context: Any) -> None:
        self.results_dir = Path(os.fspath(self._resolve(self.results_dir_setting, context))).absolute()
        if self.clean:
            results_folder.clean(self.results_dir)
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.listener = SuiteListener(context.config)
        self.plugins = [RedactingFileLogger(self.results_dir, self._redact_text), self.listener]
        for plugin in self.plugins:
            allure_commons.plugin_manager.register(plugin)
        setattr(context, self.context_attr, self)
        self.setup_uuid = self.listener.open_run_result()

    def record_run_outcome(self, name: str, status: str, message: str | None = None, trace: str | None = None,
                           labels: Mapping[str, Any] | None = None) -> None:
        """A result that is no scenario ("Preflight: the target is reachable", broken, "Infrastructure: ...");
        made during ``before_all``, it carries what was attached there."""
        uuid, self.setup_uuid = self.setup_uuid, None
        self._guard("record_run_outcome", self.listener.close_run_result, uuid, name, status, message, trace,
                    dict(labels or {}))

    def _after_before_all(self, context: Any) -> None:
        if self.setup_uuid is not None:
            self.listener.logger.drop_test(self.setup_uuid)  # nothing to report about the setup
            self.setup_uuid = None

    def after_all(self, context: Any) -> None:
        if self.listener is None:
            return
        try:
            results_folder.write_categories(self.results_dir)
            environment = self._resolve(self.environment, context)
            if environment is not None:
                results_folder.write_environment(self.results_dir, environment, redact=self._redact_text)
            executor = self._resolve(self.executor, context)
            if executor is not None:
                results_folder.write_executor(self.results_dir, **executor)
            if self.finished is not None:
                self.finished(context, self.results_dir)
        except Exception:  # noqa: BLE001 - a summary problem must not change the run's outcome
            _report_problem("after_all")
        finally:
            for plugin in self.plugins:
                if allure_commons.plugin_manager.is_registered(plugin):
                    allure_commons.plugin_manager.unregister(plugin)
            self.listener = None

    def hook_failed(self, hook: str, target: Any, exc: BaseException) -> None:
        listener = self.listener
        if listener is None:
            return
        kind = getattr(target, "type", None)
        if hook == "before_all":
            self.record_run_outcome("Run setup (before_all)", "broken", results_folder.exception_message(exc),
                                    trace_of(exc, hook))
        elif hook == "after_all":
            self.record_run_outcome("Run teardown (after_all)", "broken", results_folder.exception_message(exc),
                                    trace_of(exc, hook))
        elif kind in ("feature", "rule") and hook.startswith("before_"):
            self._guard(hook, listener.break_scenarios, target.walk_scenarios(), hook, exc)
        elif kind in ("feature", "rule"):
            feature = target if kind == "feature" else target.feature
            labels = {"fullName": f"{target.filename} :: {hook}", "feature": feature.name, "suite": feature.name}
            if kind == "rule":
                labels["subSuite"] = target.name
            self._guard(hook, listener.close_run_result, None, f"{target.name} ({hook})", "broken",
                        results_folder.exception_message(exc), trace_of(exc, hook), labels)
        elif kind == "step":
            listener.step_errors.setdefault(id(target), []).append((hook, exc))
        else:
            listener.scenario_errors.append((hook, exc))

    # ------------------------------------------------------------------ model entities
    def _listener_call(self, action: str, method: str, *args: Any) -> None:
        if self.listener is not None:
            self._guard(action, getattr(self.listener, method), *args)

    def before_feature(self, context: Any, feature: Any) -> None:
        self._listener_call("before_feature", "start_file")

    def after_feature(self, context: Any, feature: Any) -> None:
        self._listener_call("after_feature", "stop_feature")

    def before_scenario(self, context: Any, scenario: Any) -> None:
        if self.listener is not None and id(scenario) not in self.listener.reported:
            self._listener_call("before_scenario", "start_scenario", scenario)

    def after_scenario(self, context: Any, scenario: Any) -> None:
        self._listener_call("after_scenario", "stop_scenario", scenario)

    def before_step(self, context: Any, step: Any) -> None:
        self._listener_call("before_step", "start_behave_step", step)

    def after_step(self, context: Any, step: Any) -> None:
        self._listener_call("after_step", "stop_behave_step", step)

    # ------------------------------------------------------------------ wrapping
    def wrap_hook(self, name: str, user_hook: Callable[..., Any] | None) -> Callable[..., Any]:
        """The hook behave should call for ``name``: ours around the suite's."""
        ours_before = getattr(self, name, None) if name.startswith("before_") else None
        ours_after = self._after_before_all if name == "before_all" else getattr(self, name, None)
        ours_after = ours_after if name.startswith("after_") or name == "before_all" else None

        def hook(context: Any, *args: Any) -> None:
            if ours_before is not None:
                ours_before(context, *args)
            try:
                if user_hook is not None:
                    user_hook(context, *args)
            except BaseException as exc:
                self.hook_failed(name, args[0] if args else None, exc)
                raise
            finally:
                if ours_after is not None:
                    ours_after(context, *args)

        if user_hook is not None:
            functools.update_wrapper(hook, user_hook)
        hook.__name__ = name
        hook.__allure_wrapped__ = True  # type: ignore[attr-defined]
        return hook

    def wrap(self, namespace: MutableMapping[str, Any]) -> "AllureHooks":
        for name in HOOK_NAMES:
            if not getattr(namespace.get(name), "__allure_wrapped__", False):
                namespace[name] = self.wrap_hook(name, namespace.get(name))
        return self


def install(namespace: MutableMapping[str, Any], results_dir: Any, **options: Any) -> AllureHooks:
    """Wire Allure reporting into an ``environment.py``: call it at the end of the file with
    ``globals()``, after the suite's own hooks; ``options`` are those of :class:`AllureHooks`."""
    return AllureHooks(results_dir, **options).wrap(namespace)
