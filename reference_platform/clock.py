"""The platform's clock: aware UTC datetimes, and their wire form (ISO 8601 ending in ``Z``)."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(moment: datetime) -> datetime:
    """``moment`` with UTC attached when it has no time zone (SQLite gives naive datetimes back)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    return aware(moment).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
