"""Storage: SQLAlchemy 2 (async) on SQLite by default (WAL), any async URL otherwise.

Every query that touches a user's resource is scoped by ``user_id``: a foreign id is
indistinguishable from a missing one at this layer already.
"""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, delete, event,
                        func, select, update)
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .domain import UsageRecord


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(300), nullable=True)
    permissions: Mapped[list] = mapped_column(JSON)
    oauth_simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginRow(Base):
    """One sign-in (a session id in the tokens); logout revokes its refresh tokens."""

    __tablename__ = "logins"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class RefreshTokenRow(Base):
    __tablename__ = "refresh_tokens"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    login_id: Mapped[str] = mapped_column(String(64), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class RevokedTokenRow(Base):
    __tablename__ = "revoked_tokens"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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


class TicketRow(Base):
    __tablename__ = "ws_tickets"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used: Mapped[bool] = mapped_column(Boolean, default=False)


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    permissions: list[str]
    created_at: datetime
    oauth_simulated: bool
    password_hash: str | None

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "name": self.name, "permissions": list(self.permissions)}


def _user(row: UserRow) -> User:
    return User(row.id, row.email, row.name, list(row.permissions), _aware(row.created_at),
                bool(row.oauth_simulated), row.password_hash)


class EmailTaken(Exception):
    pass


class Store:
    """Async data access. Writes are serialised per process so SQLite never reports 'locked'."""

    def __init__(self, url: str):
        self.url = url
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if url.startswith("sqlite"):
            @event.listens_for(self.engine.sync_engine, "connect")
            def _pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by every test
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()
        self.session = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write = asyncio.Lock()

    async def create_schema(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def close(self) -> None:
        await self.engine.dispose()

    # ---- users and logins -------------------------------------------------------------
    async def create_user(self, email: str, name: str, password_hash: str | None, permissions: list[str],
                          oauth_simulated: bool = False) -> User:
        row = UserRow(id=uuid.uuid4().hex, email=email.lower(), name=name, password_hash=password_hash,
                      permissions=list(permissions), oauth_simulated=oauth_simulated, created_at=utcnow())
        async with self._write, self.session() as s:
            if await s.scalar(select(UserRow.id).where(UserRow.email == row.email)):
                raise EmailTaken(email)
            s.add(row)
            await s.commit()
        return _user(row)

    async def user_by_email(self, email: str) -> User | None:
        async with self.session() as s:
            row = await s.scalar(select(UserRow).where(UserRow.email == email.lower()))
            return _user(row) if row else None

    async def user_by_id(self, user_id: str) -> User | None:
        async with self.session() as s:
            row = await s.get(UserRow, user_id)
            return _user(row) if row else None

    async def create_login(self, user_id: str) -> str:
        login_id = uuid.uuid4().hex
        async with self._write, self.session() as s:
            s.add(LoginRow(id=login_id, user_id=user_id, created_at=utcnow()))
            await s.commit()
        return login_id

    async def add_refresh_token(self, jti: str, user_id: str, login_id: str, expires_at: datetime) -> None:
        async with self._write, self.session() as s:
            s.add(RefreshTokenRow(jti=jti, user_id=user_id, login_id=login_id, expires_at=expires_at))
            await s.commit()

    async def use_refresh_token(self, jti: str) -> RefreshTokenRow | None:
        """Marks a refresh token used; returns it when it was valid (known, unused, login not revoked)."""
        async with self._write, self.session() as s:
            row = await s.get(RefreshTokenRow, jti)
            if row is None or row.used:
                return None
            login = await s.get(LoginRow, row.login_id)
            if login is None or login.revoked or _aware(row.expires_at) <= utcnow():
                return None
            row.used = True
            await s.commit()
            return row

    async def revoke_login(self, login_id: str, access_jti: str, access_expires: datetime) -> None:
        async with self._write, self.session() as s:
            await s.execute(update(LoginRow).where(LoginRow.id == login_id).values(revoked=True))
            await s.execute(update(RefreshTokenRow).where(RefreshTokenRow.login_id == login_id).values(used=True))
            if not await s.get(RevokedTokenRow, access_jti):
                s.add(RevokedTokenRow(jti=access_jti, expires_at=access_expires))
            await s.commit()

    async def is_revoked(self, jti: str) -> bool:
        async with self.session() as s:
            return await s.get(RevokedTokenRow, jti) is not None

    # ---- tickets ----------------------------------------------------------------------
    async def create_ticket(self, user_id: str, expires_at: datetime) -> str:
        ticket_id = new_id("tkt")
        async with self._write, self.session() as s:
            s.add(TicketRow(id=ticket_id, user_id=user_id, expires_at=expires_at))
            await s.commit()
        return ticket_id

    async def redeem_ticket(self, ticket_id: str) -> str | None:
        """Returns the ticket's user id once; None when unknown, used or expired."""
        async with self._write, self.session() as s:
            row = await s.get(TicketRow, ticket_id)
            if row is None or row.used or _aware(row.expires_at) <= utcnow():
                return None
            row.used = True
            await s.commit()
            return row.user_id

    # ---- threads and messages ---------------------------------------------------------
    async def create_thread(self, user_id: str, title: str, metadata: dict) -> dict:
        now = utcnow()
        row = ThreadRow(id=new_id("thread"), user_id=user_id, title=title, meta=metadata,
                        created_at=now, updated_at=now)
        async with self._write, self.session() as s:
            s.add(row)
            await s.commit()
        return self._thread(row, 0)

    async def get_thread(self, user_id: str, thread_id: str) -> dict | None:
        async with self.session() as s:
            row = await s.scalar(select(ThreadRow).where(ThreadRow.id == thread_id, ThreadRow.user_id == user_id))
            if row is None:
                return None
            count = await s.scalar(select(func.count()).select_from(MessageRow).where(MessageRow.thread_id == row.id))
            return self._thread(row, count or 0)

    async def list_threads(self, user_id: str, limit: int, offset: int) -> tuple[list[dict], int]:
        async with self.session() as s:
            total = await s.scalar(select(func.count()).select_from(ThreadRow).where(ThreadRow.user_id == user_id))
            counts = (select(MessageRow.thread_id, func.count().label("n")).group_by(MessageRow.thread_id)
                      .subquery())
            rows = (await s.execute(
                select(ThreadRow, func.coalesce(counts.c.n, 0))
                .outerjoin(counts, counts.c.thread_id == ThreadRow.id)
                .where(ThreadRow.user_id == user_id)
                .order_by(ThreadRow.created_at.desc(), ThreadRow.seq.desc())
                .limit(limit).offset(offset))).all()
            return [self._thread(r, n) for r, n in rows], total or 0

    async def update_thread(self, user_id: str, thread_id: str, title: str | None, metadata: dict | None) -> dict | None:
        async with self._write, self.session() as s:
            row = await s.scalar(select(ThreadRow).where(ThreadRow.id == thread_id, ThreadRow.user_id == user_id))
            if row is None:
                return None
            if title is not None:
                row.title = title
            if metadata is not None:
                row.meta = metadata
            row.updated_at = utcnow()
            await s.commit()
        return await self.get_thread(user_id, thread_id)

    async def delete_thread(self, user_id: str, thread_id: str) -> bool:
        async with self._write, self.session() as s:
            row = await s.scalar(select(ThreadRow).where(ThreadRow.id == thread_id, ThreadRow.user_id == user_id))
            if row is None:
                return False
            await s.execute(delete(MessageRow).where(MessageRow.thread_id == thread_id))
            await s.delete(row)
            await s.commit()
            return True

    async def add_message(self, user_id: str, thread_id: str, role: str, content: str,
                          run_id: str | None = None, metadata: dict | None = None) -> dict | None:
        now = utcnow()
        async with self._write, self.session() as s:
            thread = await s.scalar(select(ThreadRow).where(ThreadRow.id == thread_id, ThreadRow.user_id == user_id))
            if thread is None:
                return None
            row = MessageRow(id=new_id("message"), thread_id=thread_id, role=role, content=content,
                             run_id=run_id, meta=metadata or {}, created_at=now)
            s.add(row)
            thread.updated_at = now
            await s.commit()
        return self._message(row)

    async def list_messages(self, user_id: str, thread_id: str, limit: int, offset: int) -> tuple[list[dict], int] | None:
        async with self.session() as s:
            owned = await s.scalar(select(ThreadRow.id).where(ThreadRow.id == thread_id, ThreadRow.user_id == user_id))
            if owned is None:
                return None
            total = await s.scalar(select(func.count()).select_from(MessageRow).where(MessageRow.thread_id == thread_id))
            rows = (await s.scalars(select(MessageRow).where(MessageRow.thread_id == thread_id)
                                    .order_by(MessageRow.seq).limit(limit).offset(offset))).all()
            return [self._message(r) for r in rows], total or 0

    # ---- usage ------------------------------------------------------------------------
    async def add_usage(self, user_id: str, records: Iterable[UsageRecord]) -> int:
        rows = [UsageRow(user_id=user_id, timestamp=r.timestamp, model=r.model, task=r.task, requests=r.requests,
                         input_tokens=r.input_tokens, output_tokens=r.output_tokens,
                         shared_prefix_tokens=r.shared_prefix_tokens, batchable=r.batchable,
                         latency_ms=r.latency_ms) for r in records]
        async with self._write, self.session() as s:
            s.add_all(rows)
            await s.commit()
        return len(rows)

    async def usage(self, user_id: str, since: datetime | None = None) -> list[UsageRecord]:
        query = select(UsageRow).where(UsageRow.user_id == user_id)
        if since is not None:
            query = query.where(UsageRow.timestamp >= since)
        async with self.session() as s:
            rows = (await s.scalars(query.order_by(UsageRow.timestamp, UsageRow.id))).all()
        return [UsageRecord(timestamp=_aware(r.timestamp), model=r.model, task=r.task, requests=r.requests,
                            input_tokens=r.input_tokens, output_tokens=r.output_tokens,
                            shared_prefix_tokens=r.shared_prefix_tokens, batchable=r.batchable,
                            latency_ms=r.latency_ms) for r in rows]

    async def delete_usage(self, user_id: str) -> int:
        async with self._write, self.session() as s:
            result = await s.execute(delete(UsageRow).where(UsageRow.user_id == user_id))
            await s.commit()
            return result.rowcount or 0

    # ---- shapes -----------------------------------------------------------------------
    @staticmethod
    def _thread(row: ThreadRow, message_count: int) -> dict:
        return {"id": row.id, "object": "thread", "title": row.title, "created_at": iso(row.created_at),
                "updated_at": iso(row.updated_at), "metadata": row.meta or {}, "message_count": message_count}

    @staticmethod
    def _message(row: MessageRow) -> dict:
        body = {"id": row.id, "role": row.role, "content": row.content, "created_at": iso(row.created_at),
                "metadata": row.meta or {}}
        if row.run_id:
            body["run_id"] = row.run_id
        return body
