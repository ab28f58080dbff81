"""Usage records: what the agents analyse."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, delete, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import aware
from ..domain import UsageRecord
from .database import Base, Database


class UsageRow(Base):
    __tablename__ = "usage_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    model: Mapped[str] = mapped_column(String(100))
    task: Mapped[str | None] = mapped_column(String(100), nullable=True)
    requests: Mapped[int] = mapped_column(Integer)
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    shared_prefix_tokens: Mapped[int] = mapped_column(Integer)
    batchable: Mapped[bool] = mapped_column(Boolean)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)


FIELDS = ("timestamp", "model", "task", "requests", "input_tokens", "output_tokens", "shared_prefix_tokens",
          "batchable", "latency_ms")


def _fields(source: UsageRecord | UsageRow) -> dict:
    return {name: getattr(source, name) for name in FIELDS}


class UsageStore:
    def __init__(self, db: Database):
        self.db = db

    async def add(self, user_id: str, records: Iterable[UsageRecord]) -> int:
        # one bulk INSERT (executemany): an upload of 10,000 records stays well under a second
        rows = [{"user_id": user_id, **_fields(r)} for r in records]
        if not rows:
            return 0
        async with self.db.writing() as s:
            await s.execute(insert(UsageRow), rows)
            await s.commit()
        return len(rows)

    async def records(self, user_id: str | None, since: datetime | None = None) -> list[UsageRecord]:
        """The user's records (every user's when ``user_id`` is None: operator use only)."""
        query = select(UsageRow)
        if user_id is not None:
            query = query.where(UsageRow.user_id == user_id)
        if since is not None:
            query = query.where(UsageRow.timestamp >= since)
        async with self.db.session() as s:
            rows = (await s.scalars(query.order_by(UsageRow.timestamp, UsageRow.id))).all()
        return [UsageRecord(**{**_fields(r), "timestamp": aware(r.timestamp)}) for r in rows]

    async def delete(self, user_id: str) -> int:
        async with self.db.writing() as s:
            result = await s.execute(delete(UsageRow).where(UsageRow.user_id == user_id))
            await s.commit()
            return result.rowcount or 0
