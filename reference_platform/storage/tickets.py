"""WebSocket tickets: single-use, short-lived credentials for the handshake."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import aware, utcnow
from ..ids import new_id
from .database import Base, Database


class TicketRow(Base):
    __tablename__ = "ws_tickets"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class Tickets:
    def __init__(self, db: Database):
        self.db = db

    async def create(self, user_id: str, expires_at: datetime) -> str:
        ticket_id = new_id("tkt")
        async with self.db.writing() as s:
            s.add(TicketRow(id=ticket_id, user_id=user_id, expires_at=expires_at))
            await s.commit()
        return ticket_id

    async def redeem(self, ticket_id: str) -> str | None:
        """Returns the ticket's user id once; None when unknown, used or expired."""
        async with self.db.writing() as s:
            row = await s.get(TicketRow, ticket_id)
            if row is None or row.used or aware(row.expires_at) <= utcnow():
                return None
            row.used = True
            await s.commit()
            return row.user_id
