"""FieldError: a user's mistake as a typed field of a mutation payload (never a GraphQL error)."""

from __future__ import annotations

from collections.abc import Iterable

import strawberry

from models.errors import ErrorCode as DomainErrorCode
from models.errors import FieldProblem

strawberry.enum(
    DomainErrorCode,
    name="ErrorCode",
    description="Stable codes of user mistakes; the README lists each with its Chinese message.",
)
ErrorCode = DomainErrorCode


@strawberry.type(description="A problem with one input field, for the applicant to fix.")
class FieldError:
    field: str = strawberry.field(description="Dotted path of the field, e.g. basicInfo.idNumber")
    code: ErrorCode
    message: str = strawberry.field(description="A Chinese sentence for the applicant")

    @classmethod
    def of(cls, problem: FieldProblem) -> FieldError:
        return cls(field=problem.field, code=problem.code, message=problem.message)


def field_errors(problems: Iterable[FieldProblem]) -> list[FieldError]:
    return [FieldError.of(p) for p in problems]


def one_error(field: str, code: DomainErrorCode, message: str = "") -> list[FieldError]:
    return [FieldError.of(FieldProblem(field, code, message))]
