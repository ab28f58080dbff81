"""The database every repository shares: SQLAlchemy 2 (async), SQLite in WAL mode by default.

Writes are serialised per process (one lock, one connection of their own), so SQLite never
reports "locked" and a crowd of readers waiting for the shared pool can never hold up a write.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """The tables of every bounded context."""


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Database:
    def __init__(self, url: str):
        self.url = url
        kwargs: dict[str, Any] = {}
        sqlite = url.startswith("sqlite")
        if sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        # An in-memory SQLite database exists once per engine, so there the engines are one.
        in_memory = sqlite and make_url(url).database in (None, "", ":memory:")
        self.write_engine: AsyncEngine = self.engine if in_memory else create_async_engine(
            url, pool_size=1, max_overflow=0, **kwargs)
        if sqlite:
            for engine in (self.engine,) if in_memory else (self.engine, self.write_engine):
                event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        self.session = async_sessionmaker(self.engine, expire_on_commit=False)
        self.write_session = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self.write_lock = asyncio.Lock()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A session for one write, holding the write lock (callers commit)."""
        async with self.write_lock, self.write_session() as session:
            yield session

    async def create_schema(self) -> None:
        async with self.write_engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def close(self) -> None:
        await self.write_engine.dispose()
        await self.engine.dispose()
