"""Pydantic's validation errors as one readable sentence (for 422 bodies and settings errors)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_SOURCES = ("body", "query", "path")  # where FastAPI says a value came from: not part of its name


def describe(errors: Sequence[dict[str, Any]], nameless: str = "") -> str:
    """The first error: ``<name> is required``, our own validator's reason, or ``<name>: <message>``.
    Never the value itself (it may be a secret)."""
    if not errors:
        return "invalid value"
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part not in _SOURCES) or nameless
    if first.get("type") == "missing":
        return f"{where} is required"
    if first.get("type") == "value_error":  # our own validators word their reason themselves
        return str(first.get("ctx", {}).get("error", first.get("msg", "")))
    return f"{where}: {first.get('msg', '')}" if where else str(first.get("msg", ""))
