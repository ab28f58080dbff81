"""Failure kinds of the suite.

Every failure the library raises names its cause in the first words of its message
(``"Contract: ..."``), which is what the Allure categories (``categories.json``) match on.
Anything else that escapes a step is, by construction, a defect of the suite itself.
"""
from __future__ import annotations

import re
from typing import Any


class SuiteFailure(AssertionError):
    """Base of every classified failure. ``category`` is the report category's name."""

    category = "Suite defect"

    def __init__(self, message: str):
        super().__init__(f"{self.category}: {message}")
        self.detail = message


class InfrastructureFailure(SuiteFailure):
    """The target cannot be reached, does not answer in time, or is unhealthy."""

    category = "Infrastructure"


class AuthenticationFailure(SuiteFailure):
    """Sign-in or token handling behaved against the contract (e.g. a valid token refused)."""

    category = "Authentication"


class ContractViolation(SuiteFailure):
    """A response or frame breaks the wire contract (shape, order, codes)."""

    category = "Contract"


class BusinessOutcomeFailure(SuiteFailure):
    """The platform answered in contract form, but the business result is wrong."""

    category = "Business outcome"


class IsolationBreach(SuiteFailure):
    """One user saw, reached or influenced another user's data or events."""

    category = "Isolation breach"


class ConfigurationMissing(InfrastructureFailure):
    """A scenario needs a setting (secret, key) that this run was not given.

    Counted as Infrastructure: the run's environment, not the platform, is incomplete."""


CATEGORY_CLASSES = (
    InfrastructureFailure,
    AuthenticationFailure,
    ContractViolation,
    BusinessOutcomeFailure,
    IsolationBreach,
)

#: Report categories, in the order Allure evaluates them (first match wins); "Suite defect" comes last.
CATEGORY_NAMES: tuple[str, ...] = tuple(cls.category for cls in CATEGORY_CLASSES)
assert all(re.fullmatch(r"[A-Za-z][A-Za-z ]*", name) for name in CATEGORY_NAMES), CATEGORY_NAMES  # no regex syntax


def categories() -> list[dict[str, Any]]:
    """Allure matches ``messageRegex`` against the whole message; "Suite defect" takes the rest."""
    return [{"name": name, "messageRegex": f"(?s){name}: .*" if name in CATEGORY_NAMES else "(?s).*",
             "matchedStatuses": ["failed", "broken"]} for name in (*CATEGORY_NAMES, SuiteFailure.category)]


def exception_message(exc: BaseException) -> str:
    """A message that starts with a category name as it is; anything else prefixed with its type
    ("KeyError: 'x'"), so it lands in "Suite defect"."""
    text = str(exc).strip()
    if isinstance(exc, SuiteFailure):
        return text or exc.category
    if any(text.startswith(f"{name}: ") for name in (*CATEGORY_NAMES, SuiteFailure.category)):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
