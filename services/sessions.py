"""Sign-in sessions: open, refresh (rotating the refresh token), revoke, and resolve a principal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.accounts import AuthSession, LoginIdentity, SessionKind, StaffAccount, token_hash
from services.principal import Principal
from services.tokens import issue_access_token, new_id, new_refresh_token


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


def _issue(cfg: SessionConfig, row: AuthSession, now: datetime) -> IssuedTokens:
    refresh = new_refresh_token()
    row.previous_refresh_token_hash = row.refresh_token_hash or None
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
    """New tokens for a live session; the old refresh token stops working at once."""
    row = (
        await db.exec(
            select(AuthSession)
            .where(AuthSession.refresh_token_hash == token_hash(refresh_token))
            .with_for_update()
        )
    ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise RefreshRejected
    if row.staff_account_id is not None:
        staff = await db.get(StaffAccount, row.staff_account_id)
        if staff is None or not staff.active:
            raise RefreshRejected
    tokens = _issue(cfg, row, now)
    db.add(row)
    await db.flush()
    return tokens


async def revoke_reused_refresh(
    db: AsyncSession, refresh_token: str, *, now: datetime
) -> str | None:
    """A refresh token that was already rotated away is presented again: someone holds a
    copy. Revoke that session (the caller commits, then announces the returned id)."""
    row = (
        await db.exec(
            select(AuthSession)
            .where(AuthSession.previous_refresh_token_hash == token_hash(refresh_token))
            .with_for_update()
        )
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    row.revoked_at = now
    db.add(row)
    await db.flush()
    return row.id


async def revoke_session(db: AsyncSession, session_id: str, *, now: datetime) -> None:
    row = await db.get(AuthSession, session_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
        db.add(row)
        await db.flush()


async def deactivate_staff(db: AsyncSession, username: str, *, now: datetime) -> list[str] | None:
    """Switch a staff account off and revoke its live sessions; their ids (None: no such
    account). The caller commits, then announces the ids (``services.revocations``)."""
    staff = (await db.exec(select(StaffAccount).where(StaffAccount.username == username))).first()
    if staff is None:
        return None
    staff.active = False
    db.add(staff)
    rows = (
        await db.exec(
            select(AuthSession).where(
                AuthSession.staff_account_id == staff.id,
                AuthSession.revoked_at == None,  # noqa: E711 - SQL IS NULL
                AuthSession.expires_at > now,
            )
        )
    ).all()
    for row in rows:
        row.revoked_at = now
        db.add(row)
    await db.flush()
    return [row.id for row in rows]


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
