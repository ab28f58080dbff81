"""Storage, one repository per bounded context over one shared database.

``Storage(url)`` opens the database and gives ``accounts`` (users, sign-ins, tokens), ``tickets``
(WebSocket tickets), ``threads`` (threads and messages) and ``usage`` (usage records).
"""
from __future__ import annotations

from ..faults import Faults
from .accounts import Accounts, EmailTaken, User
from .database import Database
from .threads import Threads
from .tickets import Tickets
from .usage import UsageStore

__all__ = ["Storage", "EmailTaken", "User"]


class Storage:
    def __init__(self, url: str, faults: Faults | None = None, uuid_ids: bool = False):
        self.db = Database(url)
        self.accounts = Accounts(self.db, faults or Faults.none())
        self.tickets = Tickets(self.db)
        self.threads = Threads(self.db, uuid_ids)
        self.usage = UsageStore(self.db)

    async def create_schema(self) -> None:
        await self.db.create_schema()

    async def ping(self) -> None:
        await self.db.ping()

    async def close(self) -> None:
        await self.threads.group.close()
        await self.db.close()
