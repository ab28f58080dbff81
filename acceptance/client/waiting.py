"""Bounded waiting.

Every wait of the suite has a hard upper bound measured on ``time.monotonic()``. A wait that runs
out raises :class:`WaitTimeout`, whose message starts with a report category (``"Contract: "`` by
default) like every other classified failure (see :mod:`acceptance.verify.errors`).
"""
from __future__ import annotations

import time
from typing import Callable, TypeVar

from acceptance.verify.errors import ContractViolation, SuiteFailure

T = TypeVar("T")

__all__ = ["WaitTimeout", "Deadline", "wait_until", "category_of"]


def category_of(category_cls: type | str | None) -> str:
    """The report category named by a failure class of :mod:`acceptance.verify.errors` (or a plain name)."""
    if category_cls is None:
        return ContractViolation.category
    if isinstance(category_cls, str):
        return category_cls
    return getattr(category_cls, "category", ContractViolation.category)


class WaitTimeout(SuiteFailure):
    """Something awaited did not happen within its bound.

    ``category`` defaults to ``"Contract"`` (a platform that does not send what the contract
    promises in time breaks the contract); the caller may name another one, either as a name or as
    one of the classes of :mod:`acceptance.verify.errors` (``category=InfrastructureFailure``).
    """

    def __init__(self, message: str, category: type | str | None = None):
        self._category = category_of(category)
        super().__init__(message)

    @property  # type: ignore[override]
    def category(self) -> str:
        return self._category

    @category.setter
    def category(self, value: type | str) -> None:
        """Re-categorise the failure; the message prefix follows."""
        self._category = category_of(value)
        self.args = (f"{self._category}: {self.detail}",)


class Deadline:
    """A fixed point in monotonic time, ``timeout`` seconds after creation."""

    def __init__(self, timeout: float):
        if timeout < 0:
            raise ValueError(f"timeout must be >= 0, got {timeout!r}")
        self.timeout = float(timeout)
        self.started_at = time.monotonic()
        self.at = self.started_at + self.timeout

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def elapsed(self) -> float:
        return time.monotonic() - self.started_at

    def __repr__(self) -> str:
        return f"Deadline(timeout={self.timeout:g}s, remaining={self.remaining():.3f}s)"


def _excerpt(value: object, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def wait_until(
    fn: Callable[[], T | None | bool],
    timeout: float,
    description: str,
    interval: float = 0.02,
    category_cls: type | str = ContractViolation,
) -> T:
    """Poll ``fn`` until it returns something truthy and return that; at most ``timeout`` seconds.

    ``fn`` is called at least once, and once more at the deadline. Exceptions of ``fn`` propagate.
    On timeout raises :class:`WaitTimeout` in the category of ``category_cls``, naming what was
    awaited, the bound and the last value ``fn`` returned.
    """
    deadline = Deadline(timeout)
    interval = max(0.001, float(interval))
    attempts = 0
    while True:
        result = fn()
        attempts += 1
        if result:
            return result  # type: ignore[return-value]
        remaining = deadline.remaining()
        if remaining <= 0:
            raise WaitTimeout(
                f"timed out after {timeout:g}s waiting for {description} "
                f"({attempts} checks; last value {_excerpt(result)})",
                category=category_cls,
            )
        time.sleep(min(interval, remaining))
