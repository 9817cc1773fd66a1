"""审核: approve or return a submitted registration. Resolvers stay thin: models/review.py decides."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from gql.context import Info
from gql.errors import FieldError, Refused, one_error, refused
from gql.permissions import REVIEWER
from gql.registration.resolvers import staff_actors
from gql.registration.staff_types import ReviewDecisionType
from gql.registration.types import Registration
from gql.review.types import (
    ApproveRegistrationInput,
    ForwardRegistrationInput,
    ReopenRegistrationInput,
    ReturnRegistrationInput,
    ReviewPayload,
)
from integrations.unit_directory import remember_unit
from models import review, review_moves
from models.db import transaction, utcnow
from models.errors import ErrorCode
from models.limits import MAX_FIELD_PATH, MAX_ID_INPUT, MAX_LIST_ITEMS
from models.registration_data import RegistrationData, load_registration
from services.principal import Principal

T = TypeVar("T")

Decide = Callable[
    [AsyncSession, Principal, datetime],
    Awaitable[tuple[RegistrationData, review.DecisionRecord]],
]


async def _current(info: Info, principal: Principal, registration_id: str) -> Registration | None:
    async with info.context.db() as db:
        data = await load_registration(db, registration_id)
    if data is None or not principal.may_review(data.registration.department_code):
        return None
    return Registration.of(data, info.context.reference)


@dataclass(frozen=True, slots=True)
class _Refusal:
    """A staff operation refused: its errors, and the registration as it stands (if visible)."""

    registration: Registration | None
    errors: list[FieldError]


async def _in_one_transaction(
    info: Info,
    registration_id: str,
    step: Callable[[AsyncSession, Principal, datetime], Awaitable[T]],
) -> T | _Refusal:
    """Run ``step`` in one transaction; on a mistake nothing is written."""
    principal = info.context.principal
    assert principal is not None
    if len(registration_id) > MAX_ID_INPUT:
        return _Refusal(None, one_error("registrationId", ErrorCode.NOT_FOUND))
    now = utcnow()

    async def operate() -> T:
        async with transaction(info.context.db) as session:
            return await step(session, principal, now)

    result = await refused(operate())
    if isinstance(result, Refused):
        return _Refusal(await _current(info, principal, registration_id), result.errors)
    return result


async def run_review(info: Info, registration_id: str, decide: Decide) -> ReviewPayload:
    """Decide in one transaction; on a mistake nothing is written and the payload carries the
    errors and, for a registration this reviewer may see, the registration as it stands."""
    result = await _in_one_transaction(info, registration_id, decide)
    if isinstance(result, _Refusal):
        return ReviewPayload(registration=result.registration, errors=result.errors)
    data, record = result
    await info.context.services.after_commit(data.id)
    actors = await staff_actors(info, {record.decision.reviewer_id})
    return ReviewPayload(
        registration=Registration.of(data, info.context.reference),
        decision=ReviewDecisionType.of(record, actors),
    )


@strawberry.type
class ReviewMutation:
    @strawberry.mutation(
        permission_classes=REVIEWER,
        description="审核通过 a SUBMITTED registration of the reviewer's department.",
    )
    async def approve_registration(
        self, info: Info, input: ApproveRegistrationInput
    ) -> ReviewPayload:
        return await run_review(
            info,
            input.registration_id,
            lambda s, principal, now: review.approve_registration(
                s,
                info.context.reference,
                principal,
                registration_id=input.registration_id,
                expected_version=input.expected_version,
                comment=input.comment,
                checked_fields=[c[:MAX_FIELD_PATH] for c in input.checked_fields[:MAX_LIST_ITEMS]],
                remember_unit=remember_unit,
                now=now,
            ),
        )

    @strawberry.mutation(
        permission_classes=REVIEWER,
        description="退回修改: reopen only the named fields and attachments, with reasons.",
    )
    async def return_registration(
        self, info: Info, input: ReturnRegistrationInput
    ) -> ReviewPayload:
        return await run_review(
            info,
            input.registration_id,
            lambda s, principal, now: review.return_registration(
                s,
                principal,
                registration_id=input.registration_id,
                expected_version=input.expected_version,
                items=[item.domain() for item in input.items[:MAX_LIST_ITEMS]],
                comment=input.comment,
                now=now,
            ),
        )

    @strawberry.mutation(
        permission_classes=REVIEWER,
        description="转办: send a SUBMITTED registration of the reviewer's department (the "
        "province: any) to another bureau; it stays SUBMITTED there (departmentRule FORWARDED).",
    )
    async def forward_registration(
        self, info: Info, input: ForwardRegistrationInput
    ) -> RegistrationMovePayload:
        return await run_move(
            info,
            input.registration_id,
            lambda s, principal, now: review_moves.forward_registration(
                s,
                info.context.reference,
                principal,
                registration_id=input.registration_id,
                expected_version=input.expected_version,
                department_code=input.department_code[:12],
                comment=input.comment,
                now=now,
            ),
        )

    @strawberry.mutation(
        permission_classes=REVIEWER,
        description="Reopen an approval made by mistake (the approving department or the "
        "province): back to SUBMITTED, the reason in the history.",
    )
    async def reopen_registration(
        self, info: Info, input: ReopenRegistrationInput
    ) -> RegistrationMovePayload:
        return await run_move(
            info,
            input.registration_id,
            lambda s, principal, now: review_moves.reopen_registration(
                s,
                principal,
                registration_id=input.registration_id,
                expected_version=input.expected_version,
                reason=input.reason,
                now=now,
            ),
        )


Move = Callable[[AsyncSession, Principal, datetime], Awaitable[RegistrationData]]


@strawberry.type
class RegistrationMovePayload:
    registration: Registration | None = None
    errors: list[FieldError] = strawberry.field(default_factory=list)


async def run_move(info: Info, registration_id: str, move: Move) -> RegistrationMovePayload:
    """Like run_review, for moves that record no decision (forward, reopen)."""
    result = await _in_one_transaction(info, registration_id, move)
    if isinstance(result, _Refusal):
        return RegistrationMovePayload(registration=result.registration, errors=result.errors)
    await info.context.services.after_commit(result.id)
    return RegistrationMovePayload(registration=Registration.of(result, info.context.reference))
