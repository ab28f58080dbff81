"""Hooks of the suite: pick the target (embedded platform by default), check it is there, give each
scenario a fresh world of actors, attach the evidence, clean up. Logic lives in ``acceptance``."""
from __future__ import annotations

from behave import register_type

from acceptance import gherkin_types, session as run_session
from acceptance.reporting import behave_hooks

gherkin_types.register(register_type)


def before_all(context):
    run_session.start(context)


def before_scenario(context, scenario):
    run_session.begin_scenario(context, scenario)


def after_scenario(context, scenario):
    run_session.end_scenario(context, scenario)


def after_all(context):
    run_session.finish(context)


behave_hooks.install(globals(), results_dir=run_session.results_dir, redact=run_session.redact,
                     environment=run_session.report_environment, executor=run_session.report_executor,
                     finished=run_session.finished)
