"""Errors at the GraphQL edge.

A user's mistake is a ``FieldError`` in the payload (never a GraphQL error): ``refused`` and
``refused_now`` turn a domain ``ProblemsFound`` into those errors, in one place. A request the
API will not serve (no token, wrong role, a malformed cursor) is a GraphQL error whose
``extensions.code`` is a ``GraphQLErrorCode``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import strawberry

from models.errors import ErrorCode as DomainErrorCode
from models.errors import FieldProblem, ProblemsFound

T = TypeVar("T")

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


@dataclass(frozen=True)
class Refused:
    """A domain operation found user mistakes and wrote nothing: its errors, for the payload."""

    errors: list[FieldError]


async def refused(operation: Awaitable[T]) -> T | Refused:
    """Await a domain operation; ``ProblemsFound`` becomes ``Refused`` with its field errors."""
    try:
        return await operation
    except ProblemsFound as exc:
        return Refused(field_errors(exc.problems))


def refused_now(operation: Callable[[], T]) -> T | Refused:
    """``refused`` for a synchronous domain operation."""
    try:
        return operation()
    except ProblemsFound as exc:
        return Refused(field_errors(exc.problems))


class GraphQLErrorCode(StrEnum):
    """``extensions.code`` of a GraphQL error (a user's input mistake is a FieldError instead)."""

    UNAUTHENTICATED = "UNAUTHENTICATED"  # no, expired or refused token: refresh or sign in
    FORBIDDEN = "FORBIDDEN"  # signed in, but not allowed
    BAD_REQUEST = "BAD_REQUEST"  # malformed request (e.g. an unreadable cursor)
    NOT_FOUND = "NOT_FOUND"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"  # body over MAX_BODY_BYTES (HTTP 413)
    BAD_USER_INPUT = "BAD_USER_INPUT"  # refused by GraphQL's coercion (gql/coercion_errors.py)


def extensions_for(code: GraphQLErrorCode) -> dict[str, str]:
    """The ``extensions`` of a GraphQL error with this code."""
    return {"code": code.value}
