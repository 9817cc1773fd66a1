"""Sign-in sessions: open, refresh (rotating the refresh token), revoke, and resolve a principal.

Refresh follows the OAuth 2.0 security BCP (RFC 9700, 4.14.2): each refresh token is used once.
Its successor is derived from it with a server key (HMAC), so a retry within
``REUSE_GRACE`` (a lost answer, two requests racing) gets the very same new pair without any
token being stored; presented later, the old token is a replay and the whole session (every
token of its family) is revoked. The exchange itself is one conditional UPDATE, so of any
number of concurrent refreshes exactly one rotates, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.accounts import (
    AuthSession,
    LoginIdentity,
    RotatedRefreshToken,
    SessionKind,
    StaffAccount,
    token_hash,
)
from services.principal import Principal
from services.tokens import (
    issue_access_token,
    new_id,
    new_refresh_token,
    successor_refresh_token,
)

REUSE_GRACE = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class SessionConfig:
    secret: str
    access_lifetime: timedelta
    refresh_lifetime: timedelta


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    session_id: str
    access_token: str
    refresh_token: str
    expires_at: datetime  # of the access token


class RefreshRejected(Exception):
    """The refresh token is unknown, rotated away, revoked or expired."""


class RefreshReplayed(RefreshRejected):
    """An exchanged refresh token came back after the grace period: the session is revoked."""

    def __init__(self, session_id: str) -> None:
        super().__init__(session_id)
        self.session_id = session_id


def _rotation_key(cfg: SessionConfig) -> bytes:
    return hashlib.sha256(b"refresh-rotation:" + cfg.secret.encode()).digest()


def _pair(cfg: SessionConfig, session_id: str, refresh: str, issued_at: datetime) -> IssuedTokens:
    """The tokens issued at ``issued_at``: the same inputs give byte-identical tokens."""
    return IssuedTokens(
        session_id=session_id,
        access_token=issue_access_token(cfg.secret, session_id, issued_at, cfg.access_lifetime),
        refresh_token=refresh,
        expires_at=issued_at + cfg.access_lifetime,
    )


def _issue(cfg: SessionConfig, row: AuthSession, now: datetime) -> IssuedTokens:
    refresh = new_refresh_token()
    row.refresh_token_hash = token_hash(refresh)
    row.refreshed_at = now
    row.expires_at = now + cfg.refresh_lifetime
    return IssuedTokens(
        session_id=row.id,
        access_token=issue_access_token(cfg.secret, row.id, now, cfg.access_lifetime),
        refresh_token=refresh,
        expires_at=now + cfg.access_lifetime,
    )


async def open_session(
    db: AsyncSession,
    cfg: SessionConfig,
    *,
    kind: SessionKind,
    now: datetime,
    login_identity_id: int | None = None,
    staff_account_id: int | None = None,
) -> IssuedTokens:
    row = AuthSession(
        id=new_id(),
        kind=kind,
        login_identity_id=login_identity_id,
        staff_account_id=staff_account_id,
        refresh_token_hash="",
        expires_at=now,
    )
    tokens = _issue(cfg, row, now)
    db.add(row)
    await db.flush()
    return tokens


async def refresh_session(
    db: AsyncSession, cfg: SessionConfig, refresh_token: str, *, now: datetime
) -> IssuedTokens:
    """New tokens for a live session; the old refresh token is then spent.

    Raises RefreshReplayed (after revoking the session) when a spent token comes back after
    ``REUSE_GRACE``, and RefreshRejected when the token is unknown, revoked or expired.
    """
    old_hash = token_hash(refresh_token)
    successor = successor_refresh_token(_rotation_key(cfg), refresh_token)
    # the conditional UPDATE is the first statement: on SQLite it takes the write lock, on
    # PostgreSQL the row lock, so concurrent exchanges of one token are serialised and only
    # the first finds the old hash still current
    moved = await db.exec(
        update(AuthSession)
        .where(
            col(AuthSession.refresh_token_hash) == old_hash,
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.expires_at) > now,
        )
        .values(
            refresh_token_hash=token_hash(successor),
            refreshed_at=now,
            expires_at=now + cfg.refresh_lifetime,
        )
    )
    if moved.rowcount == 1:
        row = (
            await db.exec(
                select(AuthSession).where(AuthSession.refresh_token_hash == token_hash(successor))
            )
        ).one()
        await _require_active_staff(db, row)
        db.add(RotatedRefreshToken(token_hash=old_hash, session_id=row.id, rotated_at=now))
        await db.flush()
        return _pair(cfg, row.id, successor, now)
    return await _exchanged_before(db, cfg, old_hash, successor, now=now)


async def _require_active_staff(db: AsyncSession, row: AuthSession) -> None:
    if row.staff_account_id is not None:
        staff = await db.get(StaffAccount, row.staff_account_id)
        if staff is None or not staff.active:
            raise RefreshRejected


async def _exchanged_before(
    db: AsyncSession, cfg: SessionConfig, old_hash: str, successor: str, *, now: datetime
) -> IssuedTokens:
    spent = await db.get(RotatedRefreshToken, old_hash)
    if spent is None:
        raise RefreshRejected
    row = await db.get(AuthSession, spent.session_id, with_for_update=True)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise RefreshRejected
    if now - spent.rotated_at > REUSE_GRACE:
        row.revoked_at = now  # a replay: cut the whole family off, the thief's copy too
        db.add(row)
        await db.flush()
        raise RefreshReplayed(row.id)
    await _require_active_staff(db, row)
    return _pair(cfg, row.id, successor, spent.rotated_at)


async def revoke_session(db: AsyncSession, session_id: str, *, now: datetime) -> None:
    row = await db.get(AuthSession, session_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
        db.add(row)
        await db.flush()


async def resolve_principal(
    db: AsyncSession, session_id: str, *, now: datetime
) -> Principal | None:
    """The principal of a live session, or None when it was revoked, expired or disabled."""
    row = await db.get(AuthSession, session_id)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.kind is SessionKind.APPLICANT and row.login_identity_id is not None:
        identity = await db.get(LoginIdentity, row.login_identity_id)
        if identity is None:
            return None
        return Principal(
            kind=SessionKind.APPLICANT,
            session_id=row.id,
            login_identity_id=identity.id,
            person_id=identity.person_id,
        )
    if row.kind is SessionKind.STAFF and row.staff_account_id is not None:
        staff = await db.get(StaffAccount, row.staff_account_id)
        if staff is None or not staff.active:
            return None
        return Principal(
            kind=SessionKind.STAFF,
            session_id=row.id,
            staff_id=staff.id,
            role=staff.role,
            department_code=staff.department_code,
        )
    return None
