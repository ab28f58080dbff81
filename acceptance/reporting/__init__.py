"""Allure reporting of the acceptance suite: allure-behave's listener, wired into the behave hooks by
:func:`install` (see :mod:`acceptance.reporting.behave_hooks` and :mod:`acceptance.reporting.listener`)."""
from acceptance.reporting.behave_hooks import AllureHooks, install
from acceptance.reporting.results_folder import (
    CATEGORY_NAMES,
    categories,
    exception_message,
    write_categories,
    write_environment,
    write_executor,
)

__all__ = ["AllureHooks", "CATEGORY_NAMES", "categories", "exception_message", "install", "write_categories",
           "write_environment", "write_executor"]
