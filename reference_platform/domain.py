"""Plain domain types shared by the platform's storage, engines and agents."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class UsageRecord:
    """One usage record as stored (CONTRACT.md section 3). Token counts are per request."""

    timestamp: datetime  # timezone-aware, UTC
    model: str
    input_tokens: int
    output_tokens: int
    task: str | None = None
    requests: int = 1
    shared_prefix_tokens: int = 0
    batchable: bool = False
    latency_ms: float | None = None
