"""The GraphQL edge's shared pieces: ProblemsFound as payload errors, error codes, record ids."""

from __future__ import annotations

import pytest

from gql.errors import FieldError, GraphQLErrorCode, Refused, refused, refused_now
from gql.permissions import IsAuthenticated, IsReviewer
from models.errors import ErrorCode, FieldProblem, ProblemsFound
from models.limits import is_record_id
from services.tokens import new_id


def _mistake() -> int:
    raise ProblemsFound(
        [FieldProblem("basicInfo.idNumber", ErrorCode.REQUIRED, "请填写证件号码。")]
    )


async def _async_mistake() -> int:
    return _mistake()


async def _async_value() -> int:
    return 7


async def test_refused_turns_problems_into_field_errors_and_passes_values_through() -> None:
    assert await refused(_async_value()) == 7
    outcome = await refused(_async_mistake())
    assert outcome == Refused(
        [
            FieldError(
                field="basicInfo.idNumber", code=ErrorCode.REQUIRED, message="请填写证件号码。"
            )
        ]
    )
    assert refused_now(lambda: 7) == 7
    assert isinstance(refused_now(_mistake), Refused)


def test_other_exceptions_are_not_swallowed() -> None:
    def broken() -> int:
        raise ValueError("a bug, not a user's mistake")

    with pytest.raises(ValueError):
        refused_now(broken)


def test_permission_errors_carry_the_enum_codes_as_plain_strings() -> None:
    assert IsAuthenticated.error_extensions == {"code": "UNAUTHENTICATED"}
    assert IsReviewer.error_extensions == {"code": "FORBIDDEN"}
    assert GraphQLErrorCode.BAD_REQUEST == "BAD_REQUEST"


def test_record_ids_are_32_lowercase_hex_characters() -> None:
    assert is_record_id(new_id())
    for bad in ["", "0" * 31, "0" * 33, "A" * 32, "g" * 32, "0" * 31 + "\x00", "０" * 32]:
        assert not is_record_id(bad), bad
