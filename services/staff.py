"""Staff accounts: creation with the portal's username and password rules, and sign-in with
failed-attempt limits per account (a lock) and per address (a rate limit)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from limits import parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.accounts import StaffAccount, StaffRole, password_ok, username_ok
from models.errors import ErrorCode, FieldProblem, ProblemsFound
from models.reference import ReferenceData

# argon2id, memory-hard: 64 MiB, 3 passes (RFC 9106's second recommended option)
_HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)
# verified against when the username is unknown, so both paths take the same time
_DUMMY_HASH = _HASHER.hash("not-a-real-password-1")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, password)


async def _verify(hash_: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _HASHER.verify(hash_, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


async def create_staff_account(
    db: AsyncSession,
    reference: ReferenceData,
    *,
    username: str,
    password: str,
    role: StaffRole,
    department_code: str | None,
    display_name: str = "",
) -> StaffAccount:
    problems = []
    if not username_ok(username):
        problems.append(FieldProblem("username", ErrorCode.USERNAME_FORMAT))
    if not password_ok(password):
        problems.append(FieldProblem("password", ErrorCode.PASSWORD_WEAK))
    if role is StaffRole.REVIEWER:
        if not department_code or reference.department(department_code) is None:
            problems.append(FieldProblem("departmentCode", ErrorCode.UNKNOWN_DEPARTMENT))
    elif department_code is not None:
        problems.append(FieldProblem("departmentCode", ErrorCode.NOT_ALLOWED))
    if problems:
        raise ProblemsFound(problems)
    existing = (
        await db.exec(select(StaffAccount).where(StaffAccount.username == username))
    ).first()
    if existing is not None:
        raise ProblemsFound([FieldProblem("username", ErrorCode.NOT_ALLOWED, "用户名已被使用。")])
    account = StaffAccount(
        username=username,
        display_name=display_name,
        password_hash=await hash_password(password),
        role=role,
        department_code=department_code,
    )
    db.add(account)
    await db.flush()
    return account


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    max_failures: int
    lock_for: timedelta
    per_address: str  # e.g. "20/minute"


class AddressLimiter:
    """Staff login attempts per client address: in memory, or in Redis shared by workers."""

    def __init__(self, per_address: str, redis_url: str = "") -> None:
        storage: Storage = (
            RedisStorage(
                redis_url.replace("redis://", "async+redis://", 1), implementation="redispy"
            )
            if redis_url
            else MemoryStorage()
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self._limit = parse(per_address)

    async def hit(self, address: str) -> bool:
        """Count one attempt; False when the address is over its limit."""
        return await self._limiter.hit(self._limit, "staff-login", address)


async def staff_login(
    db: AsyncSession,
    policy: LoginPolicy,
    *,
    username: str,
    password: str,
    now: datetime,
) -> StaffAccount:
    """The account, when the password is right and the account is not locked.

    Raises ProblemsFound with INVALID_CREDENTIALS (unknown user or wrong password: the same
    answer for both) or ACCOUNT_LOCKED. Failed attempts are counted on the account and lock it
    for a while after ``policy.max_failures`` in a row.
    """
    if not username_ok(username):  # cannot name an account; never sent to the database
        await _verify(_DUMMY_HASH, password)
        raise ProblemsFound([FieldProblem("password", ErrorCode.INVALID_CREDENTIALS)])
    account = (
        await db.exec(
            select(StaffAccount).where(StaffAccount.username == username).with_for_update()
        )
    ).first()
    if account is None or not account.active:
        await _verify(_DUMMY_HASH, password)
        raise ProblemsFound([FieldProblem("password", ErrorCode.INVALID_CREDENTIALS)])
    if account.locked_until is not None and account.locked_until > now:
        raise ProblemsFound([FieldProblem("username", ErrorCode.ACCOUNT_LOCKED)])
    if not await _verify(account.password_hash, password):
        account.failed_attempts += 1
        locked = account.failed_attempts >= policy.max_failures
        if locked:
            account.locked_until = now + policy.lock_for
            account.failed_attempts = 0
        db.add(account)
        await db.flush()
        code = ErrorCode.ACCOUNT_LOCKED if locked else ErrorCode.INVALID_CREDENTIALS
        raise ProblemsFound([FieldProblem("password", code)])
    account.failed_attempts = 0
    account.locked_until = None
    db.add(account)
    await db.flush()
    return account
