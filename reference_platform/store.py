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

import sqlalchemy
from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, delete, event,
                        func, insert, select, update)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .domain import UsageRecord
from .faults import Faults


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id(prefix: str, plain_uuid: bool = False) -> str:
    return str(uuid.uuid4()) if plain_uuid else f"{prefix}_{uuid.uuid4().hex}"


def iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _settle(future: asyncio.Future, result: Any = None, exception: BaseException | None = None) -> None:
    """Resolves a waiter's future unless the waiter gave up (was cancelled) meanwhile."""
    if future.done():
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)


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


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class EmailTaken(Exception):
    pass


@dataclass(frozen=True)
class _NewMessage:
    """A message waiting for the next group commit; ``thread_id`` None means "in a new thread"."""

    user_id: str
    thread_id: str | None
    title: str | None
    role: str
    content: str
    run_id: str | None
    metadata: dict
    new_thread_id: str | None = None  # the id a new thread gets (an id offered beforehand), else a fresh one


class Store:
    """Async data access. Writes are serialised per process so SQLite never reports 'locked'.

    Messages (the writes every agent run makes) use group commit: those queued while a commit is
    under way are committed together by the next one, in a few statements whatever their number,
    so a burst of runs costs a few commits instead of several each.
    """

    def __init__(self, url: str, faults: Faults | None = None, uuid_ids: bool = False):
        self.uuid_ids = uuid_ids  # the uuid_ids variation: threads get plain UUIDs
        self.url = url
        self.faults = faults or Faults.none()
        kwargs: dict[str, Any] = {}
        sqlite = url.startswith("sqlite")
        if sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        # Writes run one at a time (under ``_write``), so one connection of their own serves them,
        # and a crowd of readers waiting for the shared pool can never hold up a write. An
        # in-memory SQLite database exists once per engine, so there the engines are one.
        in_memory = sqlite and make_url(url).database in (None, "", ":memory:")
        self.write_engine: AsyncEngine = self.engine if in_memory else create_async_engine(
            url, pool_size=1, max_overflow=0, **kwargs)
        if sqlite:
            for engine in (self.engine,) if in_memory else (self.engine, self.write_engine):
                event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        self.session = async_sessionmaker(self.engine, expire_on_commit=False)
        self.write_session = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._write = asyncio.Lock()
        self._pending: list[tuple[_NewMessage, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None

    async def create_schema(self) -> None:
        async with self.write_engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self.write_engine.dispose()
        await self.engine.dispose()

    # ---- users and logins -------------------------------------------------------------
    async def create_user(self, email: str, name: str, password_hash: str | None, permissions: list[str],
                          oauth_simulated: bool = False) -> User:
        row = UserRow(id=uuid.uuid4().hex, email=email.lower(), name=name, password_hash=password_hash,
                      permissions=list(permissions), oauth_simulated=oauth_simulated, created_at=utcnow())
        async with self._write, self.write_session() as s:
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
        async with self._write, self.write_session() as s:
            s.add(LoginRow(id=login_id, user_id=user_id, created_at=utcnow()))
            await s.commit()
        return login_id

    async def add_refresh_token(self, jti: str, user_id: str, login_id: str, expires_at: datetime) -> None:
        async with self._write, self.write_session() as s:
            s.add(RefreshTokenRow(jti=jti, user_id=user_id, login_id=login_id, expires_at=expires_at))
            await s.commit()

    async def use_refresh_token(self, jti: str) -> RefreshTokenRow | None:
        """Marks a refresh token used; returns it when it was valid (known, unused, login not revoked)."""
        async with self._write, self.write_session() as s:
            row = await s.get(RefreshTokenRow, jti)
            if row is None or row.used:
                return None
            login = await s.get(LoginRow, row.login_id)
            if login is None or login.revoked or _aware(row.expires_at) <= utcnow():
                return None
            if not self.faults.active("refresh_token_reusable"):
                row.used = True
            await s.commit()
            return row

    async def revoke_login(self, login_id: str, access_jti: str | None, access_expires: datetime) -> None:
        async with self._write, self.write_session() as s:
            await s.execute(update(LoginRow).where(LoginRow.id == login_id).values(revoked=True))
            await s.execute(update(RefreshTokenRow).where(RefreshTokenRow.login_id == login_id).values(used=True))
            if access_jti is not None and not await s.get(RevokedTokenRow, access_jti):
                s.add(RevokedTokenRow(jti=access_jti, expires_at=access_expires))
            await s.commit()

    async def is_revoked(self, jti: str) -> bool:
        async with self.session() as s:
            return await s.get(RevokedTokenRow, jti) is not None

    async def token_subject(self, user_id: str, jti: str) -> tuple[bool, User | None]:
        """(whether ``jti`` is revoked, the user or None), in one session: the check of every request."""
        async with self.session() as s:
            revoked = await s.get(RevokedTokenRow, jti) is not None
            row = None if revoked else await s.get(UserRow, user_id)
            return revoked, (_user(row) if row else None)

    # ---- tickets ----------------------------------------------------------------------
    async def create_ticket(self, user_id: str, expires_at: datetime) -> str:
        ticket_id = new_id("tkt")
        async with self._write, self.write_session() as s:
            s.add(TicketRow(id=ticket_id, user_id=user_id, expires_at=expires_at))
            await s.commit()
        return ticket_id

    async def redeem_ticket(self, ticket_id: str) -> str | None:
        """Returns the ticket's user id once; None when unknown, used or expired."""
        async with self._write, self.write_session() as s:
            row = await s.get(TicketRow, ticket_id)
            if row is None or row.used or _aware(row.expires_at) <= utcnow():
                return None
            row.used = True
            await s.commit()
            return row.user_id

    # ---- threads and messages ---------------------------------------------------------
    async def create_thread(self, user_id: str, title: str, metadata: dict, thread_id: str | None = None) -> dict:
        now = utcnow()
        row = ThreadRow(id=thread_id or new_id("thread", self.uuid_ids), user_id=user_id, title=title, meta=metadata,
                        created_at=now, updated_at=now)
        async with self._write, self.write_session() as s:
            s.add(row)
            await s.commit()
        return self._thread(row, 0)

    async def thread_owner(self, thread_id: str) -> str | None:
        """Who owns a thread, whoever asks (for checks that must not leak it)."""
        async with self.session() as s:
            return await s.scalar(select(ThreadRow.user_id).where(ThreadRow.id == thread_id))

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
        async with self._write, self.write_session() as s:
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
        async with self._write, self.write_session() as s:
            row = await s.scalar(select(ThreadRow).where(ThreadRow.id == thread_id, ThreadRow.user_id == user_id))
            if row is None:
                return False
            await s.execute(delete(MessageRow).where(MessageRow.thread_id == thread_id))
            await s.delete(row)
            await s.commit()
            return True

    async def add_message(self, user_id: str, thread_id: str, role: str, content: str,
                          run_id: str | None = None, metadata: dict | None = None) -> dict | None:
        """Appends a message to the user's thread; None when the thread is not theirs (or gone)."""
        stored = await self._grouped(_NewMessage(user_id, thread_id, None, role, content, run_id, metadata or {}))
        return stored and stored[1]

    async def begin_run(self, user_id: str, thread_id: str | None, title: str, request: str, run_id: str,
                        metadata: dict, new_thread_id: str | None = None) -> tuple[str, dict] | None:
        """Stores a run's user message, in a new thread titled ``title`` when ``thread_id`` is None.

        Returns (thread id, message), or None when ``thread_id`` is not the user's thread.
        """
        return await self._grouped(_NewMessage(user_id, thread_id, title, "user", request, run_id, metadata,
                                               new_thread_id))

    async def _grouped(self, message: _NewMessage) -> tuple[str, dict] | None:
        """Queues ``message`` for the next group commit and waits for it.

        One flusher task at a time commits everything queued, batch after batch, under the write
        lock; every waiter of a batch is woken at once. If a batch fails, its messages are retried
        one by one, so one bad write never fails another.
        """
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending.append((message, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        batch: list[tuple[_NewMessage, asyncio.Future]] = []
        try:
            async with self._write:
                while self._pending:
                    batch, self._pending = self._pending, []
                    await self._commit(batch)
        finally:
            for _, future in batch:  # cancelled part-way (shutdown): release the waiters
                if not future.done():
                    future.cancel()

    async def _commit(self, batch: list[tuple[_NewMessage, asyncio.Future]]) -> None:
        try:
            results = await self._transaction([message for message, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exception=exc)
                return
            for message, future in batch:
                try:
                    _settle(future, (await self._transaction([message]))[0])
                except Exception as single:
                    _settle(future, exception=single)
            return
        for (_, future), result in zip(batch, results):
            _settle(future, result)

    async def _transaction(self, messages: list[_NewMessage]) -> list[tuple[str, dict] | None]:
        now = utcnow()
        named = sorted({m.thread_id for m in messages if m.thread_id is not None})
        threads, rows, results = [], [], []
        async with self.write_session() as s:
            owners: dict[str, str] = {}
            for chunk in range(0, len(named), 500):
                owners.update((await s.execute(select(ThreadRow.id, ThreadRow.user_id)
                                               .where(ThreadRow.id.in_(named[chunk:chunk + 500])))).all())
            touched = set()
            for m in messages:
                if m.thread_id is None:
                    thread_id = m.new_thread_id or new_id("thread", self.uuid_ids)
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
                results.append((thread_id, self._message(MessageRow(**row))))
            if threads:  # new threads before the messages that refer to them
                await s.execute(insert(ThreadRow), threads)
            if rows:
                await s.execute(insert(MessageRow), rows)
            if touched:
                await s.execute(update(ThreadRow).where(ThreadRow.id.in_(sorted(touched))).values(updated_at=now)
                                .execution_options(synchronize_session=False))
            await s.commit()
        return results

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
        # one bulk INSERT (executemany): an upload of 10,000 records stays well under a second
        rows = [dict(user_id=user_id, timestamp=r.timestamp, model=r.model, task=r.task, requests=r.requests,
                     input_tokens=r.input_tokens, output_tokens=r.output_tokens,
                     shared_prefix_tokens=r.shared_prefix_tokens, batchable=r.batchable,
                     latency_ms=r.latency_ms) for r in records]
        if not rows:
            return 0
        async with self._write, self.write_session() as s:
            await s.execute(sqlalchemy.insert(UsageRow), rows)
            await s.commit()
        return len(rows)

    async def usage(self, user_id: str | None, since: datetime | None = None) -> list[UsageRecord]:
        """The user's records (every user's when ``user_id`` is None: operator use only)."""
        query = select(UsageRow)
        if user_id is not None:
            query = query.where(UsageRow.user_id == user_id)
        if since is not None:
            query = query.where(UsageRow.timestamp >= since)
        async with self.session() as s:
            rows = (await s.scalars(query.order_by(UsageRow.timestamp, UsageRow.id))).all()
        return [UsageRecord(timestamp=_aware(r.timestamp), model=r.model, task=r.task, requests=r.requests,
                            input_tokens=r.input_tokens, output_tokens=r.output_tokens,
                            shared_prefix_tokens=r.shared_prefix_tokens, batchable=r.batchable,
                            latency_ms=r.latency_ms) for r in rows]

    async def delete_usage(self, user_id: str) -> int:
        async with self._write, self.write_session() as s:
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
