"""Server frames in canonical form (CONTRACT section 4), before any dialect renders them."""
from __future__ import annotations

from typing import Any

from .clock import iso, utcnow
from .ids import new_id


def message_id() -> str:
    return new_id("msg")


def frame(type_: str, data: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    """A server frame in canonical form."""
    out: dict[str, Any] = {"type": type_, "message_id": message_id(), "timestamp": iso(utcnow()), "data": data}
    out.update({k: v for k, v in envelope.items() if v is not None})
    return out


def error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return frame("error", {"code": code, "message": message, **extra})
