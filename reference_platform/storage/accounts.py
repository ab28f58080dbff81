"""Accounts: users, their sign-ins (logins), refresh tokens and revoked access tokens."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import aware, utcnow
from ..faults import Faults
from .database import Base, Database


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
    return User(row.id, row.email, row.name, list(row.permissions), aware(row.created_at),
                bool(row.oauth_simulated), row.password_hash)


class EmailTaken(Exception):
    pass


class Accounts:
    def __init__(self, db: Database, faults: Faults):
        self.db, self.faults = db, faults

    async def create_user(self, email: str, name: str, password_hash: str | None, permissions: list[str],
                          oauth_simulated: bool = False) -> User:
        row = UserRow(id=uuid.uuid4().hex, email=email.lower(), name=name, password_hash=password_hash,
                      permissions=list(permissions), oauth_simulated=oauth_simulated, created_at=utcnow())
        async with self.db.writing() as s:
            if await s.scalar(select(UserRow.id).where(UserRow.email == row.email)):
                raise EmailTaken(email)
            s.add(row)
            await s.commit()
        return _user(row)

    async def user_by_email(self, email: str) -> User | None:
        async with self.db.session() as s:
            row = await s.scalar(select(UserRow).where(UserRow.email == email.lower()))
            return _user(row) if row else None

    async def user_by_id(self, user_id: str) -> User | None:
        async with self.db.session() as s:
            row = await s.get(UserRow, user_id)
            return _user(row) if row else None

    async def create_login(self, user_id: str) -> str:
        login_id = uuid.uuid4().hex
        async with self.db.writing() as s:
            s.add(LoginRow(id=login_id, user_id=user_id, created_at=utcnow()))
            await s.commit()
        return login_id

    async def add_refresh_token(self, jti: str, user_id: str, login_id: str, expires_at: datetime) -> None:
        async with self.db.writing() as s:
            s.add(RefreshTokenRow(jti=jti, user_id=user_id, login_id=login_id, expires_at=expires_at))
            await s.commit()

    async def use_refresh_token(self, jti: str) -> RefreshTokenRow | None:
        """Marks a refresh token used; returns it when it was valid (known, unused, login not revoked)."""
        async with self.db.writing() as s:
            row = await s.get(RefreshTokenRow, jti)
            if row is None or row.used:
                return None
            login = await s.get(LoginRow, row.login_id)
            if login is None or login.revoked or aware(row.expires_at) <= utcnow():
                return None
            if not self.faults.active("refresh_token_reusable"):
                row.used = True
            await s.commit()
            return row

    async def revoke_login(self, login_id: str, access_jti: str | None, access_expires: datetime) -> None:
        async with self.db.writing() as s:
            await s.execute(update(LoginRow).where(LoginRow.id == login_id).values(revoked=True))
            await s.execute(update(RefreshTokenRow).where(RefreshTokenRow.login_id == login_id).values(used=True))
            if access_jti is not None and not await s.get(RevokedTokenRow, access_jti):
                s.add(RevokedTokenRow(jti=access_jti, expires_at=access_expires))
            await s.commit()

    async def is_revoked(self, jti: str) -> bool:
        async with self.db.session() as s:
            return await s.get(RevokedTokenRow, jti) is not None

    async def token_subject(self, user_id: str, jti: str) -> tuple[bool, User | None]:
        """(whether ``jti`` is revoked, the user or None), in one session: the check of every request."""
        async with self.db.session() as s:
            revoked = await s.get(RevokedTokenRow, jti) is not None
            row = None if revoked else await s.get(UserRow, user_id)
            return revoked, (_user(row) if row else None)
