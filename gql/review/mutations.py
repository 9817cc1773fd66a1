"""审核: approve or return a submitted registration. Resolvers stay thin: models/review.py decides."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from gql.context import Info
from gql.errors import Refused, one_error, refused
from gql.permissions import REVIEWER
from gql.registration.resolvers import staff_actors
from gql.registration.staff_types import ReviewDecisionType
from gql.registration.types import Registration
from gql.review.types import ApproveRegistrationInput, ReturnRegistrationInput, ReviewPayload
from integrations.unit_directory import remember_unit
from models import review
from models.db import transaction, utcnow
from models.errors import ErrorCode
from models.limits import MAX_FIELD_PATH, MAX_ID_INPUT, MAX_LIST_ITEMS
from models.registration_data import RegistrationData, load_registration
from services.principal import Principal

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


async def run_review(info: Info, registration_id: str, decide: Decide) -> ReviewPayload:
    """Decide in one transaction; on a mistake nothing is written and the payload carries the
    errors and, for a registration this reviewer may see, the registration as it stands."""
    principal = info.context.principal
    assert principal is not None
    if len(registration_id) > MAX_ID_INPUT:
        return ReviewPayload(errors=one_error("registrationId", ErrorCode.NOT_FOUND))
    now = utcnow()

    async def operate() -> tuple[RegistrationData, review.DecisionRecord]:
        async with transaction(info.context.db) as session:
            return await decide(session, principal, now)

    result = await refused(operate())
    if isinstance(result, Refused):
        return ReviewPayload(
            registration=await _current(info, principal, registration_id), errors=result.errors
        )
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
