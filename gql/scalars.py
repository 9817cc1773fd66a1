"""The ``Date`` scalar, lenient on input: a mistyped date is the applicant's mistake, so it
must reach the rules (which answer ``INVALID_DATE`` with the field's path) instead of failing
GraphQL's coercion with an English message. Output stays ISO ``YYYY-MM-DD``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import strawberry
from graphql import ValueNode

from models.errors import ErrorCode, FieldProblem
from models.normalize import parse_day


def _serialize(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _parse_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> object:
    # a string, number, boolean or enum written inline: its text; a list or an object: its kind
    return parse_day(getattr(node, "value", node.kind))


LenientDate = strawberry.scalar(
    name="Date",
    description="A day, ISO 8601 YYYY-MM-DD. Input that is not a real day is answered by the "
    "mutation's errors (INVALID_DATE), not by a GraphQL error.",
    serialize=_serialize,
    parse_value=parse_day,
    parse_literal=_parse_literal,
)

#: passed to strawberry.Schema(scalar_overrides=...): every `date` field uses this scalar
SCALAR_OVERRIDES: dict[object, Any] = {date: LenientDate}


def unparsed_dates(days: Mapping[str, object]) -> list[FieldProblem]:
    """INVALID_DATE for each path whose Date argument was not a real day (filters of queries)."""
    return [
        FieldProblem(path, ErrorCode.INVALID_DATE)
        for path, day in days.items()
        if day is not None and not isinstance(day, date)
    ]
