"""Hooks of the suite: pick the target (embedded platform by default), check it is there, give each
scenario a fresh world of actors, attach the evidence, clean up. Logic lives in ``acceptance``."""
from __future__ import annotations

from behave import register_type

from acceptance.journeys import gherkin_types
from acceptance.reporting import listener
from acceptance.runner import lifecycle

gherkin_types.register(register_type)


def before_all(context):
    lifecycle.start(context)


def before_scenario(context, scenario):
    lifecycle.begin_scenario(context, scenario)


def after_scenario(context, scenario):
    lifecycle.end_scenario(context, scenario)


def after_all(context):
    lifecycle.finish(context)


listener.install(globals(), results_dir=lifecycle.results_dir, redact=lifecycle.redact,
                 environment=lifecycle.report_environment, executor=lifecycle.report_executor,
                 finished=lifecycle.finished)
