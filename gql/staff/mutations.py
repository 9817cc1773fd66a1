"""PROVINCE mutations that administer staff accounts, and changeMyPassword for any staff."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry
import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from gql.auth.types import StaffRole
from gql.context import Info
from gql.errors import FieldError, Refused, refused
from gql.permissions import PROVINCE, STAFF
from gql.reference.types import Department
from models.accounts import StaffAccount
from models.db import transaction, utcnow
from services.staff_admin import (
    change_own_password,
    deactivate_staff,
    move_staff,
    reactivate_staff,
    reset_staff_password,
    sessions_ended_since,
    unlock_staff,
)

log = structlog.get_logger(__name__)


@strawberry.type(name="StaffAccount", description="A staff account as its administrators see it.")
class StaffAccountView:
    username: str
    display_name: str
    role: StaffRole
    department: Department | None
    active: bool


@strawberry.type
class StaffAccountPayload:
    account: StaffAccountView | None = None
    errors: list[FieldError] = strawberry.field(default_factory=list)


@strawberry.type
class ChangePasswordPayload:
    ok: bool = False
    errors: list[FieldError] = strawberry.field(default_factory=list)


@strawberry.input
class StaffAccountInput:
    username: str


@strawberry.input
class ResetStaffPasswordInput:
    username: str
    password: str = strawberry.field(description="the portal's rule: 6-20 of two kinds")


@strawberry.input
class MoveStaffInput:
    username: str
    department_code: str = strawberry.field(description="the reviewer's new department")


@strawberry.input
class ChangeMyPasswordInput:
    current_password: str
    new_password: str


def _view(info: Info, account: StaffAccount) -> StaffAccountView:
    department = (
        info.context.reference.department(account.department_code)
        if account.department_code
        else None
    )
    return StaffAccountView(
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        department=Department.of(department) if department else None,
        active=account.active,
    )


async def _administer(
    info: Info, action: str, change: Callable[[AsyncSession], Awaitable[StaffAccount]]
) -> StaffAccountPayload:
    since = utcnow()

    async def operate() -> tuple[StaffAccount, list[str]]:
        async with transaction(info.context.db) as db:
            account = await change(db)
            assert account.id is not None
            return account, await sessions_ended_since(db, account.id, since)

    result = await refused(operate())
    if isinstance(result, Refused):
        return StaffAccountPayload(errors=result.errors)
    account, ended = result
    await info.context.services.revocations.announce(ended)  # their sockets close everywhere
    principal = info.context.principal
    log.info(
        "staff_administered",
        action=action,
        username=account.username,
        by_staff_id=principal.staff_id if principal else None,
    )
    return StaffAccountPayload(account=_view(info, account))


@strawberry.type
class StaffMutation:
    @strawberry.mutation(
        description="Disable a staff account; its sessions end at once.",
        permission_classes=PROVINCE,
    )
    async def deactivate_staff(self, info: Info, input: StaffAccountInput) -> StaffAccountPayload:
        principal = info.context.principal
        acting = principal.staff_id if principal else None
        return await _administer(
            info,
            "deactivate",
            lambda db: deactivate_staff(db, input.username, now=utcnow(), acting_staff_id=acting),
        )

    @strawberry.mutation(
        description="Enable a disabled staff account.", permission_classes=PROVINCE
    )
    async def reactivate_staff(self, info: Info, input: StaffAccountInput) -> StaffAccountPayload:
        return await _administer(
            info, "reactivate", lambda db: reactivate_staff(db, input.username)
        )

    @strawberry.mutation(
        description="Set a staff member's password; their sessions end.",
        permission_classes=PROVINCE,
    )
    async def reset_staff_password(
        self, info: Info, input: ResetStaffPasswordInput
    ) -> StaffAccountPayload:
        return await _administer(
            info,
            "reset_password",
            lambda db: reset_staff_password(db, input.username, input.password[:200], now=utcnow()),
        )

    @strawberry.mutation(
        description="Move a reviewer to another department.", permission_classes=PROVINCE
    )
    async def move_staff(self, info: Info, input: MoveStaffInput) -> StaffAccountPayload:
        return await _administer(
            info,
            "move",
            lambda db: move_staff(
                db, info.context.reference, input.username, input.department_code[:6]
            ),
        )

    @strawberry.mutation(
        description="End the sign-in back-off of a staff account from every address.",
        permission_classes=PROVINCE,
    )
    async def unlock_staff(self, info: Info, input: StaffAccountInput) -> StaffAccountPayload:
        return await _administer(info, "unlock", lambda db: unlock_staff(db, input.username))

    @strawberry.mutation(
        description="Change my own password (staff); my other sessions end.",
        permission_classes=STAFF,
    )
    async def change_my_password(
        self, info: Info, input: ChangeMyPasswordInput
    ) -> ChangePasswordPayload:
        principal = info.context.principal
        assert principal is not None and principal.staff_id is not None
        now = utcnow()
        staff_id = principal.staff_id

        async def operate() -> list[str]:
            async with transaction(info.context.db) as db:
                await change_own_password(
                    db,
                    staff_id,
                    current_password=input.current_password,
                    new_password=input.new_password[:200],
                    session_id=principal.session_id,
                    now=now,
                )
                return await sessions_ended_since(db, staff_id, now)

        ended = await refused(operate())
        if isinstance(ended, Refused):
            return ChangePasswordPayload(errors=ended.errors)
        await info.context.services.revocations.announce(ended)  # the other sessions' sockets
        return ChangePasswordPayload(ok=True)
