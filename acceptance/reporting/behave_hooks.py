"""Wiring of :class:`AllureBehaveWriter` into ``features/environment.py``.

At the end of ``environment.py``::

    from acceptance.reporting import behave_hooks

    behave_hooks.install(globals(), results_dir="reports/allure-results", redact=redact)

:func:`install` wraps the hooks defined above it (and adds the missing ones) so that

* the writer starts a feature/rule/scenario/step *before* the suite's own ``before_*``
  code runs, and stops it *after* the suite's ``after_*`` code ran - whatever the suite
  attaches or logs in its hooks lands in the right test;
* an exception raised by the suite's hook is given to the writer (``hook_failed``) and
  then re-raised unchanged, so behave still handles it as usual (a ``before_all`` error
  aborts the run; any hook error makes the run fail);
* the writer is created in ``before_all`` - a ``--dry-run`` (behave runs no hooks then)
  neither cleans nor writes the results folder.

During the run the writer is ``context.allure`` (and :func:`current_writer` for code that
has no context); library code can also use ``allure.attach``/``allure.step``/
``allure.dynamic.*``.

A reporting problem never fails a test: it is printed to stderr and the run goes on.
"""
from __future__ import annotations

import functools
import os
import sys
import traceback
from pathlib import Path
from typing import Any, Callable, Mapping, MutableMapping

from acceptance.reporting.allure_writer import AllureBehaveWriter, Redactor

__all__ = ["AllureHooks", "HOOK_NAMES", "current_writer", "install"]

#: The hooks the writer takes part in, in no particular order.
HOOK_NAMES = (
    "before_all",
    "after_all",
    "before_feature",
    "after_feature",
    "before_rule",
    "after_rule",
    "before_scenario",
    "after_scenario",
    "before_step",
    "after_step",
)

_active: "AllureHooks | None" = None


def current_writer() -> AllureBehaveWriter | None:
    """The writer of the running test run (``None`` outside a run or in a dry run)."""
    return _active.writer if _active is not None else None


def _report_problem(action: str) -> None:
    stream = sys.__stderr__ or sys.stderr
    print(f"ALLURE-REPORTING-ERROR in {action} (the run goes on):", file=stream)
    traceback.print_exc(file=stream)


class AllureHooks:
    """The writer's side of each behave hook.

    Each method does only the reporting part; :meth:`wrap` (or :func:`install`) combines
    them with the suite's own hooks in the right order. The methods can also be called by
    hand from hand-written hooks: call ``before_*`` first and ``after_*`` last in the
    hook, and report exceptions of the suite's code with :meth:`hook_failed`.

    :param results_dir: the Allure results folder, or a callable ``(context) -> path``
        (evaluated in ``before_all``, e.g. to read ``context.config.userdata``).
    :param redact: see :class:`AllureBehaveWriter`.
    :param environment: mapping (or ``(context) -> mapping``, evaluated at the end of
        the run) for ``environment.properties``.
    :param executor: keyword arguments of :func:`write_executor` (or a callable
        returning them), evaluated at the end of the run.
    :param clean: clean the results folder when the run starts.
    :param context_attr: name of the context attribute holding the writer.
    """

    def __init__(
        self,
        results_dir: Any,
        *,
        redact: Redactor | None = None,
        environment: Mapping[str, Any] | Callable[[Any], Mapping[str, Any]] | None = None,
        executor: Mapping[str, Any] | Callable[[Any], Mapping[str, Any] | None] | None = None,
        clean: bool = True,
        context_attr: str = "allure",
        finished: Callable[[Any, Path], None] | None = None,
    ):
        self.results_dir = results_dir
        self.redact = redact
        self.environment = environment
        self.executor = executor
        self.clean = clean
        self.context_attr = context_attr
        self.finished = finished
        self.writer: AllureBehaveWriter | None = None

    # ------------------------------------------------------------------ helpers
    def _call(self, action: str, func: Callable[..., Any], *args: Any) -> None:
        if self.writer is None:
            return
        try:
            func(*args)
        except Exception:  # noqa: BLE001 - reporting must not change test outcomes
            _report_problem(action)

    @staticmethod
    def _resolve(value: Any, context: Any) -> Any:
        return value(context) if callable(value) else value

    # ------------------------------------------------------------------ run
    def before_all(self, context: Any) -> None:
        global _active
        results_dir = Path(os.fspath(self._resolve(self.results_dir, context)))
        self.writer = AllureBehaveWriter(results_dir, clean=self.clean, redact=self.redact)
        self.writer.start_run(config=getattr(context, "config", None))
        setattr(context, self.context_attr, self.writer)
        _active = self

    def after_all(self, context: Any) -> None:
        global _active
        writer = self.writer
        if writer is None:
            return
        try:
            environment = self._resolve(self.environment, context)
            executor = self._resolve(self.executor, context)
            if environment is not None:
                writer.set_environment(environment)
            if executor is not None:
                writer.set_executor(executor)
        except Exception:  # noqa: BLE001
            _report_problem("after_all (environment/executor)")
        self._call("after_all", writer.stop_run)
        if self.finished is not None:
            try:
                self.finished(context, writer.results_dir)
            except Exception:  # noqa: BLE001 - a summary problem must not change the run's outcome
                _report_problem("after_all (finished)")
        if _active is self:
            _active = None

    def hook_failed(self, hook_name: str, target: Any, exc: BaseException) -> None:
        if self.writer is not None:
            self._call(hook_name, self.writer.hook_failed, hook_name, target, exc)

    # ------------------------------------------------------------------ model entities
    def before_feature(self, context: Any, feature: Any) -> None:
        if self.writer is not None:
            self._call("before_feature", self.writer.start_feature, feature)

    def after_feature(self, context: Any, feature: Any) -> None:
        if self.writer is not None:
            self._call("after_feature", self.writer.stop_feature, feature)

    def before_rule(self, context: Any, rule: Any) -> None:
        if self.writer is not None:
            self._call("before_rule", self.writer.start_rule, rule)

    def after_rule(self, context: Any, rule: Any) -> None:
        if self.writer is not None:
            self._call("after_rule", self.writer.stop_rule, rule)

    def before_scenario(self, context: Any, scenario: Any) -> None:
        if self.writer is not None:
            self._call("before_scenario", self.writer.start_scenario, scenario)

    def after_scenario(self, context: Any, scenario: Any) -> None:
        if self.writer is not None:
            self._call("after_scenario", self.writer.stop_scenario, scenario)

    def before_step(self, context: Any, step: Any) -> None:
        if self.writer is not None:
            self._call("before_step", self.writer.start_step, step)

    def after_step(self, context: Any, step: Any) -> None:
        if self.writer is not None:
            self._call("after_step", self.writer.stop_step, step)

    # ------------------------------------------------------------------ wrapping
    def wrap_hook(self, name: str, user_hook: Callable[..., Any] | None) -> Callable[..., Any]:
        """The hook behave should call for ``name``: ours around the suite's."""
        ours_before = getattr(self, name) if name.startswith("before_") else None
        ours_after = getattr(self, name) if name.startswith("after_") else None

        def hook(context: Any, *args: Any) -> None:
            if ours_before is not None:
                ours_before(context, *args)
            try:
                if user_hook is not None:
                    user_hook(context, *args)
            except BaseException as exc:
                target = args[0] if args else None
                self.hook_failed(name, target, exc)
                raise
            finally:
                if ours_after is not None:
                    ours_after(context, *args)

        if user_hook is not None:
            functools.update_wrapper(hook, user_hook)
        else:
            hook.__name__ = name
        hook.__allure_wrapped__ = True  # type: ignore[attr-defined]
        return hook

    def wrap(self, namespace: MutableMapping[str, Any]) -> "AllureHooks":
        """Wrap the hooks of an ``environment.py`` namespace (``globals()``) in place."""
        for name in HOOK_NAMES:
            user_hook = namespace.get(name)
            if getattr(user_hook, "__allure_wrapped__", False):
                continue
            namespace[name] = self.wrap_hook(name, user_hook)
        return self


def install(
    namespace: MutableMapping[str, Any],
    results_dir: Any,
    *,
    redact: Redactor | None = None,
    environment: Mapping[str, Any] | Callable[[Any], Mapping[str, Any]] | None = None,
    executor: Mapping[str, Any] | Callable[[Any], Mapping[str, Any] | None] | None = None,
    clean: bool = True,
    context_attr: str = "allure",
    finished: Callable[[Any, Path], None] | None = None,
) -> AllureHooks:
    """Wire Allure reporting into an ``environment.py``: call it at the end of the file
    with ``globals()``, after the suite's own hooks are defined."""
    hooks = AllureHooks(
        results_dir,
        redact=redact,
        environment=environment,
        executor=executor,
        clean=clean,
        context_attr=context_attr,
        finished=finished,
    )
    return hooks.wrap(namespace)
