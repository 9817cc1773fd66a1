"""The reviewer's queue and the reason catalogue. Resolvers stay thin: models/review.py decides."""

from __future__ import annotations

import strawberry

from gql.context import Info
from gql.errors import Refused, field_errors, refused
from gql.permissions import REVIEWER, SIGNED_IN
from gql.reference.types import Option
from gql.review.types import RegistrationConnection, RegistrationQueueFilter
from gql.scalars import unparsed_dates
from models import review
from models.limits import MAX_CURSOR_INPUT
from models.review_reasons import REASON_NAMES


@strawberry.type
class ReviewQuery:
    @strawberry.field(
        permission_classes=REVIEWER,
        description="The review queue: a reviewer's department (the province: all), oldest "
        "submission first by default. first is clamped to 0..100 (default 20). Identity "
        "numbers and phones are masked; registration(id) shows the full record.",
    )
    async def registrations(
        self,
        info: Info,
        filter: RegistrationQueueFilter | None = None,
        first: int | None = review.DEFAULT_PAGE,
        after: str | None = None,
    ) -> RegistrationConnection:
        principal = info.context.principal
        assert principal is not None
        wanted = filter.domain() if filter else review.QueueFilter()
        days = {"filter.submittedFrom": wanted.submitted_from}
        if unparsed := unparsed_dates(days | {"filter.submittedTo": wanted.submitted_to}):
            return RegistrationConnection.empty(field_errors(unparsed))

        async def queue() -> review.QueuePage:
            async with info.context.db() as db:
                return await review.review_queue(
                    db,
                    department_code=principal.effective_department,
                    queue_filter=wanted,
                    first=review.DEFAULT_PAGE if first is None else first,
                    after=after[:MAX_CURSOR_INPUT] if after else None,
                )

        page = await refused(queue())
        if isinstance(page, Refused):
            return RegistrationConnection.empty(page.errors)
        return RegistrationConnection.of(page, info.context.reference)

    @strawberry.field(
        permission_classes=SIGNED_IN, description="退回原因: the catalogue of return reasons"
    )
    def return_reasons(self) -> list[Option]:
        return [Option(code=code.value, name=name) for code, name in REASON_NAMES.items()]
