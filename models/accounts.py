"""People, their logins, staff accounts and sign-in sessions (tables and plain rules)."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db import enum_type, utcnow


class StaffRole(StrEnum):
    REVIEWER = "REVIEWER"  # one 会计管理部门
    PROVINCE = "PROVINCE"  # every department
    DASHBOARD = "DASHBOARD"  # statistics only, no personal data


class SessionKind(StrEnum):
    APPLICANT = "APPLICANT"
    STAFF = "STAFF"


class Person(SQLModel, table=True):
    """One natural person with a verified identity, linked by a keyed hash of the ID number."""

    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    person_key: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=100)
    id_type: str = Field(max_length=4)
    id_number: str = Field(max_length=40)
    phone: str | None = Field(default=None, max_length=20)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class LoginIdentity(SQLModel, table=True):
    """A subject at an identity provider (alipay, zlb, dev); linked to a person once verified."""

    __tablename__ = "login_identity"

    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=16)
    subject: str = Field(max_length=128)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime = Field(default_factory=utcnow)


class StaffAccount(SQLModel, table=True):
    __tablename__ = "staff_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=20, unique=True, index=True)
    display_name: str = Field(default="", max_length=50)
    password_hash: str = Field(max_length=255)
    role: StaffRole = Field(sa_type=enum_type(StaffRole))
    department_code: str | None = Field(default=None, max_length=6, index=True)
    # part of the sign-in back-off key: unlocking bumps it, so every address starts afresh
    login_epoch: int = 0
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class AuthSession(SQLModel, table=True):
    """One signed-in device: the refresh token (stored hashed) and its revocation."""

    __tablename__ = "auth_session"

    id: str = Field(primary_key=True, max_length=32)
    kind: SessionKind = Field(sa_type=enum_type(SessionKind))
    login_identity_id: int | None = Field(default=None, foreign_key="login_identity.id")
    staff_account_id: int | None = Field(default=None, foreign_key="staff_account.id")
    refresh_token_hash: str = Field(max_length=64, unique=True, index=True)
    # the refresh token rotated away last: presented again, it revokes the session (reuse)
    created_at: datetime = Field(default_factory=utcnow)
    refreshed_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None


class RotatedRefreshToken(SQLModel, table=True):
    """A refresh token of a session that was already exchanged (stored hashed).

    Presented again within the grace period it yields the same successor (derived, never
    stored); later it is a replay, and the whole session is revoked.
    """

    __tablename__ = "rotated_refresh_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    session_id: str = Field(foreign_key="auth_session.id", index=True, max_length=32)
    rotated_at: datetime


def person_key(secret: bytes, id_type: str, id_number: str) -> str:
    """The keyed hash that links one person's logins across providers."""
    message = f"{id_type}:{id_number.upper()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{3,19}$")


def username_ok(username: str) -> bool:
    """4-20 characters, starting with a letter, letters and digits only (the portal's rule)."""
    return bool(_USERNAME.fullmatch(username))


def password_ok(password: str) -> bool:
    """6-20 characters of at least two kinds: digits, letters, symbols (the portal's rule)."""
    if not 6 <= len(password) <= 20 or any(c.isspace() or not c.isprintable() for c in password):
        return False
    kinds = (
        any(c.isdigit() for c in password),
        any(c.isascii() and c.isalpha() for c in password),
        any(not c.isalnum() for c in password),
    )
    return sum(kinds) >= 2


async def staff_accounts(session: AsyncSession, ids: set[int]) -> list[StaffAccount]:
    """The staff accounts with these ids (those that exist)."""
    if not ids:
        return []
    return list(
        (await session.exec(select(StaffAccount).where(col(StaffAccount.id).in_(ids)))).all()
    )
