"""Staff administration: deactivate, reactivate, reset a password, move to a department, unlock,
and a staff member changing their own password. Used by the CLI and by PROVINCE mutations.

Every function raises ProblemsFound (and changes nothing) for bad input. Deactivating an account
or resetting its password ends its sessions at once; unlocking starts every (name, address)
back-off of the account afresh by bumping its login epoch.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.accounts import AuthSession, StaffAccount, StaffRole, password_ok
from models.errors import ErrorCode, FieldProblem, ProblemsFound
from models.reference import ReferenceData
from services.staff import hash_password, verify_password


def _problem(field: str, code: ErrorCode, message: str = "") -> ProblemsFound:
    return ProblemsFound([FieldProblem(field, code, message)])


async def find_staff(db: AsyncSession, username: str) -> StaffAccount:
    """The account named ``username`` (locked for update), or STAFF_ACCOUNT_NOT_FOUND."""
    account = (
        await db.exec(
            select(StaffAccount).where(StaffAccount.username == username[:40]).with_for_update()
        )
    ).first()
    if account is None:
        raise _problem("username", ErrorCode.STAFF_ACCOUNT_NOT_FOUND)
    return account


async def end_sessions(
    db: AsyncSession, staff_id: int, *, now: datetime, keep: str | None = None
) -> int:
    """Revoke every live session of the account (but ``keep``); the number revoked."""
    statement = update(AuthSession).where(
        col(AuthSession.staff_account_id) == staff_id, col(AuthSession.revoked_at).is_(None)
    )
    if keep is not None:
        statement = statement.where(col(AuthSession.id) != keep)
    result = await db.exec(statement.values(revoked_at=now))
    return int(result.rowcount or 0)


async def sessions_ended_since(db: AsyncSession, staff_id: int, since: datetime) -> list[str]:
    """The account's sessions revoked at or after ``since``: after the commit, their open
    sockets on every worker are closed (``services.revocations``)."""
    rows = await db.exec(
        select(AuthSession.id).where(
            col(AuthSession.staff_account_id) == staff_id, col(AuthSession.revoked_at) >= since
        )
    )
    return list(rows.all())


async def _save(db: AsyncSession, account: StaffAccount) -> StaffAccount:
    db.add(account)
    await db.flush()
    return account


async def deactivate_staff(
    db: AsyncSession, username: str, *, now: datetime, acting_staff_id: int | None = None
) -> StaffAccount:
    account = await find_staff(db, username)
    if account.id == acting_staff_id:
        raise _problem("username", ErrorCode.NOT_ALLOWED, "不能停用自己的账号。")
    account.active = False
    assert account.id is not None
    await end_sessions(db, account.id, now=now)
    return await _save(db, account)


async def reactivate_staff(db: AsyncSession, username: str) -> StaffAccount:
    account = await find_staff(db, username)
    account.active = True
    account.login_epoch += 1
    return await _save(db, account)


async def reset_staff_password(
    db: AsyncSession, username: str, password: str, *, now: datetime
) -> StaffAccount:
    """A new password chosen by an administrator; the account's sessions end."""
    if not password_ok(password):
        raise _problem("password", ErrorCode.PASSWORD_WEAK)
    account = await find_staff(db, username)
    account.password_hash = await hash_password(password)
    account.login_epoch += 1
    assert account.id is not None
    await end_sessions(db, account.id, now=now)
    return await _save(db, account)


async def move_staff(
    db: AsyncSession, reference: ReferenceData, username: str, department_code: str
) -> StaffAccount:
    """A reviewer moved to another department; effective on their next request."""
    if reference.department(department_code) is None:
        raise _problem("departmentCode", ErrorCode.UNKNOWN_DEPARTMENT)
    account = await find_staff(db, username)
    if account.role is not StaffRole.REVIEWER:
        raise _problem("username", ErrorCode.NOT_ALLOWED, "只有审核人员隶属于会计管理部门。")
    account.department_code = department_code
    return await _save(db, account)


async def unlock_staff(db: AsyncSession, username: str) -> StaffAccount:
    """Every address's back-off for this account starts afresh."""
    account = await find_staff(db, username)
    account.login_epoch += 1
    return await _save(db, account)


async def change_own_password(
    db: AsyncSession,
    staff_id: int,
    *,
    current_password: str,
    new_password: str,
    session_id: str,
    now: datetime,
) -> StaffAccount:
    """The signed-in staff member's new password; their other sessions end."""
    account = await db.get(StaffAccount, staff_id, with_for_update=True)
    if account is None or not account.active:
        raise _problem("currentPassword", ErrorCode.INVALID_CREDENTIALS)
    if not await verify_password(account.password_hash, current_password[:200]):
        raise _problem("currentPassword", ErrorCode.INVALID_CREDENTIALS, "原密码不正确。")
    if not password_ok(new_password):
        raise _problem("newPassword", ErrorCode.PASSWORD_WEAK)
    if new_password == current_password:
        raise _problem("newPassword", ErrorCode.NOT_ALLOWED, "新密码不能与原密码相同。")
    account.password_hash = await hash_password(new_password)
    await end_sessions(db, staff_id, now=now, keep=session_id)
    return await _save(db, account)
