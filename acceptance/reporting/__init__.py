"""Allure reporting of the acceptance suite, written from the behave hooks.

``features/environment.py`` wires it with :func:`install`; see
:mod:`acceptance.reporting.behave_hooks`.
"""
from acceptance.reporting.allure_writer import (
    CATEGORY_NAMES,
    AllureBehaveWriter,
    categories,
    exception_message,
    write_categories,
    write_environment,
    write_executor,
)
from acceptance.reporting.behave_hooks import AllureHooks, current_writer, install

__all__ = [
    "AllureBehaveWriter",
    "AllureHooks",
    "CATEGORY_NAMES",
    "categories",
    "current_writer",
    "exception_message",
    "install",
    "write_categories",
    "write_environment",
    "write_executor",
]
