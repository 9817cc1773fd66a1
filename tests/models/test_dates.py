"""Dates as sent: a real ISO day is a date, anything else is kept as text for INVALID_DATE."""

from __future__ import annotations

from datetime import date

import pytest

from models.errors import ProblemsFound
from models.normalize import UnparsedDate, parse_day
from models.reference import load_reference_data
from models.sections import EducationAnswer, clean_education


def test_real_days_parse() -> None:
    assert parse_day("2012-06-30") == date(2012, 6, 30)
    assert parse_day(" 2012-02-29 ") == date(2012, 2, 29)
    assert parse_day(date(2000, 1, 1)) == date(2000, 1, 1)


@pytest.mark.parametrize(
    "raw",
    ["2012-02-30", "2012/06/30", "20120630", "2012-6-30", "", "２０１２-06-30", 20120630, None],
)
def test_anything_else_is_kept_as_text(raw: object) -> None:
    parsed = parse_day(raw)
    assert isinstance(parsed, UnparsedDate) and not isinstance(parsed, date)
    assert len(parsed) <= 40


def test_the_rules_answer_invalid_date_with_the_path() -> None:
    answer = EducationAnswer("21", "4", None, "会计学", "浙江财经大学", parse_day("2012-02-30"))
    with pytest.raises(ProblemsFound) as caught:
        clean_education(
            answer,
            "education.fullTime",
            birth_date=date(1990, 3, 7),
            reference=load_reference_data(),
            today=date(2026, 1, 1),
        )
    assert [(p.field, p.code.value) for p in caught.value.problems] == [
        ("education.fullTime.graduationDate", "INVALID_DATE")
    ]
