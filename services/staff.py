"""Staff accounts: creation with the portal's username and password rules, and sign-in with
a back-off per (username, address) and a rate limit per address.

Nothing in sign-in tells whether a username exists: unknown and known names are answered with
the same codes after the same argon2 work, and the back-off counts failures for any name typed,
so someone elsewhere cannot lock a reviewer out (it is keyed on the address too)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

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


async def verify_password(hash_: str, password: str) -> bool:
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
    max_failures: int  # failures of one username from one address ...
    lock_for: timedelta  # ... within this window, and it is refused until the oldest ages out
    per_address: str  # e.g. "20/minute"


def _storage(redis_url: str) -> Storage:
    if redis_url:
        return RedisStorage(
            redis_url.replace("redis://", "async+redis://", 1), implementation="redispy"
        )
    return MemoryStorage()


async def _close_storage(storage: Storage) -> None:
    """Close the Redis connection pool behind a limiter (nothing to do in memory)."""
    client = getattr(getattr(storage, "bridge", None), "storage", None)
    if isinstance(storage, RedisStorage) and client is not None:
        await client.aclose()


class AddressLimiter:
    """Attempts per key (a client address, an applicant) in a moving window: in memory, or in
    Redis shared by workers. ``namespace`` keeps the uses apart."""

    def __init__(
        self, per_address: str, redis_url: str = "", namespace: str = "staff-login"
    ) -> None:
        self._limiter = MovingWindowRateLimiter(_storage(redis_url))
        self._limit = parse(per_address)
        self._namespace = namespace

    async def hit(self, address: str) -> bool:
        """Count one attempt; False when the key is over its limit."""
        return await self._limiter.hit(self._limit, self._namespace, address)

    async def aclose(self) -> None:
        await _close_storage(self._limiter.storage)


class LoginBackoff:
    """Failed sign-ins per (username, login epoch, address) in a moving window."""

    def __init__(self, policy: LoginPolicy, redis_url: str = "") -> None:
        self._limiter = MovingWindowRateLimiter(_storage(redis_url))
        seconds = max(1, int(policy.lock_for.total_seconds()))
        self._limit = parse(f"{policy.max_failures} per {seconds} seconds")

    async def blocked(self, key: tuple[str, int, str]) -> bool:
        return not await self._limiter.test(self._limit, "staff-backoff", *map(str, key))

    async def failed(self, key: tuple[str, int, str]) -> bool:
        """Count one failure; True when this failure used up the window's allowance."""
        await self._limiter.hit(self._limit, "staff-backoff", *map(str, key))
        return await self.blocked(key)

    async def clear(self, key: tuple[str, int, str]) -> None:
        await self._limiter.clear(self._limit, "staff-backoff", *map(str, key))

    async def aclose(self) -> None:
        await _close_storage(self._limiter.storage)


def _refused(code: ErrorCode = ErrorCode.INVALID_CREDENTIALS) -> ProblemsFound:
    return ProblemsFound([FieldProblem("password", code)])


async def staff_login(
    db: AsyncSession,
    backoff: LoginBackoff,
    *,
    username: str,
    password: str,
    address: str,
) -> StaffAccount:
    """The account, when the password is right and this name is not backing off here.

    Raises ProblemsFound with INVALID_CREDENTIALS (unknown user, inactive account or wrong
    password: the same answer for all) or ACCOUNT_LOCKED (too many failures of this name from
    this address lately, whether or not the name exists).
    """
    account = None
    if username_ok(username):  # a name that cannot be an account is never sent to the database
        account = (
            await db.exec(select(StaffAccount).where(StaffAccount.username == username))
        ).first()
    if account is not None and not account.active:
        account = None
    key = (username.lower(), account.login_epoch if account else 0, address)
    if await backoff.blocked(key):
        raise _refused(ErrorCode.ACCOUNT_LOCKED)
    ok = await verify_password(account.password_hash if account else _DUMMY_HASH, password)
    if account is None or not ok:
        locked = await backoff.failed(key)
        raise _refused(ErrorCode.ACCOUNT_LOCKED if locked else ErrorCode.INVALID_CREDENTIALS)
    await backoff.clear(key)
    return account
