"""Threads and their messages. Every query is scoped by ``user_id``: a foreign id is
indistinguishable from a missing one at this layer already.

Messages (the writes every agent run makes) use group commit, so a burst of runs costs a few
commits instead of several each.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, delete, func, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import iso, utcnow
from ..ids import new_id
from .database import Base, Database
from .group_commit import GroupCommit


class ThreadRow(Base):
    __tablename__ = "threads"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    meta: Mapped[dict] = mapped_column("metadata", JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MessageRow(Base):
    __tablename__ = "messages"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    thread_id: Mapped[str] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    meta: Mapped[dict] = mapped_column("metadata", JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class NewMessage:
    """A message waiting for the next group commit; ``thread_id`` None means "in a new thread"."""

    user_id: str
    thread_id: str | None
    title: str | None
    role: str
    content: str
    run_id: str | None
    metadata: dict
    new_thread_id: str | None = None  # the id a new thread gets (an id offered beforehand), else a fresh one


def thread_body(row: ThreadRow, message_count: int) -> dict:
    return {"id": row.id, "object": "thread", "title": row.title, "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at), "metadata": row.meta or {}, "message_count": message_count}


def message_body(row: MessageRow) -> dict:
    body = {"id": row.id, "role": row.role, "content": row.content, "created_at": iso(row.created_at),
            "metadata": row.meta or {}}
    if row.run_id:
        body["run_id"] = row.run_id
    return body


class Threads:
    def __init__(self, db: Database, uuid_ids: bool = False):
        self.db = db
        self.uuid_ids = uuid_ids  # the uuid_ids variation: threads get plain UUIDs
        self.group = GroupCommit(db.write_lock, lambda batch: self._transaction(batch))

    def _new_thread_id(self) -> str:
        return new_id("thread", self.uuid_ids)

    async def create(self, user_id: str, title: str, metadata: dict, thread_id: str | None = None) -> dict:
        now = utcnow()
        row = ThreadRow(id=thread_id or self._new_thread_id(), user_id=user_id, title=title, meta=metadata,
                        created_at=now, updated_at=now)
        async with self.db.writing() as s:
            s.add(row)
            await s.commit()
        return thread_body(row, 0)

    async def owner(self, thread_id: str) -> str | None:
        """Who owns a thread, whoever asks (for checks that must not leak it)."""
        async with self.db.session() as s:
            return await s.scalar(select(ThreadRow.user_id).where(ThreadRow.id == thread_id))

    async def get(self, user_id: str, thread_id: str) -> dict | None:
        async with self.db.session() as s:
            row = await s.scalar(select(ThreadRow).where(ThreadRow.id == thread_id, ThreadRow.user_id == user_id))
            if row is None:
                return None
            count = await s.scalar(select(func.count()).select_from(MessageRow).where(MessageRow.thread_id == row.id))
            return thread_body(row, count or 0)

    async def page(self, user_id: str, limit: int, offset: int) -> tuple[list[dict], int]:
        async with self.db.session() as s:
            total = await s.scalar(select(func.count()).select_from(ThreadRow).where(ThreadRow.user_id == user_id))
            counts = (select(MessageRow.thread_id, func.count().label("n")).group_by(MessageRow.thread_id)
                      .subquery())
            rows = (await s.execute(
                select(ThreadRow, func.coalesce(counts.c.n, 0))
                .outerjoin(counts, counts.c.thread_id == ThreadRow.id)
                .where(ThreadRow.user_id == user_id)
                .order_by(ThreadRow.created_at.desc(), ThreadRow.seq.desc())
                .limit(limit).offset(offset))).all()
            return [thread_body(r, n) for r, n in rows], total or 0

    async def update(self, user_id: str, thread_id: str, title: str | None, metadata: dict | None) -> dict | None:
        async with self.db.writing() as s:
            row = await s.scalar(select(ThreadRow).where(ThreadRow.id == thread_id, ThreadRow.user_id == user_id))
            if row is None:
                return None
            if title is not None:
                row.title = title
            if metadata is not None:
                row.meta = metadata
            row.updated_at = utcnow()
            await s.commit()
        return await self.get(user_id, thread_id)

    async def delete(self, user_id: str, thread_id: str) -> bool:
        async with self.db.writing() as s:
            row = await s.scalar(select(ThreadRow).where(ThreadRow.id == thread_id, ThreadRow.user_id == user_id))
            if row is None:
                return False
            await s.execute(delete(MessageRow).where(MessageRow.thread_id == thread_id))
            await s.delete(row)
            await s.commit()
            return True

    async def messages(self, user_id: str, thread_id: str, limit: int, offset: int) -> tuple[list[dict], int] | None:
        async with self.db.session() as s:
            owned = await s.scalar(select(ThreadRow.id).where(ThreadRow.id == thread_id, ThreadRow.user_id == user_id))
            if owned is None:
                return None
            total = await s.scalar(select(func.count()).select_from(MessageRow).where(MessageRow.thread_id == thread_id))
            rows = (await s.scalars(select(MessageRow).where(MessageRow.thread_id == thread_id)
                                    .order_by(MessageRow.seq).limit(limit).offset(offset))).all()
            return [message_body(r) for r in rows], total or 0

    async def add_message(self, user_id: str, thread_id: str, role: str, content: str,
                          run_id: str | None = None, metadata: dict | None = None) -> dict | None:
        """Appends a message to the user's thread; None when the thread is not theirs (or gone)."""
        stored = await self.group.submit(NewMessage(user_id, thread_id, None, role, content, run_id, metadata or {}))
        return stored and stored[1]

    async def begin_run(self, user_id: str, thread_id: str | None, title: str, request: str, run_id: str,
                        metadata: dict, new_thread_id: str | None = None) -> tuple[str, dict] | None:
        """Stores a run's user message, in a new thread titled ``title`` when ``thread_id`` is None.

        Returns (thread id, message), or None when ``thread_id`` is not the user's thread.
        """
        return await self.group.submit(NewMessage(user_id, thread_id, title, "user", request, run_id, metadata,
                                                  new_thread_id))

    async def _transaction(self, messages: list[NewMessage]) -> list[tuple[str, dict] | None]:
        """Stores a batch of messages (and the new threads they start) in one transaction."""
        now = utcnow()
        named = sorted({m.thread_id for m in messages if m.thread_id is not None})
        threads, rows, results = [], [], []
        async with self.db.write_session() as s:
            owners: dict[str, str] = {}
            for chunk in range(0, len(named), 500):
                owners.update((await s.execute(select(ThreadRow.id, ThreadRow.user_id)
                                               .where(ThreadRow.id.in_(named[chunk:chunk + 500])))).all())
            touched = set()
            for m in messages:
                if m.thread_id is None:
                    thread_id = m.new_thread_id or self._new_thread_id()
                    threads.append({"id": thread_id, "user_id": m.user_id, "title": m.title, "meta": {},
                                    "created_at": now, "updated_at": now})
                elif owners.get(m.thread_id) == m.user_id:
                    thread_id = m.thread_id
                    touched.add(thread_id)
                else:
                    results.append(None)
                    continue
                row = {"id": new_id("message"), "thread_id": thread_id, "role": m.role, "content": m.content,
                       "run_id": m.run_id, "meta": m.metadata, "created_at": now}
                rows.append(row)
                results.append((thread_id, message_body(MessageRow(**row))))
            if threads:  # new threads before the messages that refer to them
                await s.execute(insert(ThreadRow), threads)
            if rows:
                await s.execute(insert(MessageRow), rows)
            if touched:
                await s.execute(update(ThreadRow).where(ThreadRow.id.in_(sorted(touched))).values(updated_at=now)
                                .execution_options(synchronize_session=False))
            await s.commit()
        return results
