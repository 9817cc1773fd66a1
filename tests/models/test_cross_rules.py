"""Cross-field rules (rules.md §9), each on both sides of its boundary."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.cross_rules import (
    age_on,
    check_accounting_start,
    check_appointed_post_fits_level,
    check_appointment,
    check_degree_fits_level,
    check_graduation_age,
    check_not_before_birth,
    check_not_future,
)
from models.errors import ErrorCode, RuleViolation

TODAY = date(2025, 6, 30)
DAY = timedelta(days=1)
BIRTH = date(1990, 3, 7)
LEAP_BIRTH = date(2000, 2, 29)


def _raises(code: ErrorCode) -> pytest.RaisesExc[RuleViolation]:
    return pytest.raises(RuleViolation, check=lambda e: e.code == code)


# --- age_on -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (BIRTH, BIRTH, 0),
        (BIRTH, date(2004, 3, 6), 13),
        (BIRTH, date(2004, 3, 7), 14),
        (BIRTH, date(2004, 3, 8), 14),
        (date(1990, 12, 31), date(2025, 12, 30), 34),
        (date(1990, 12, 31), date(2025, 12, 31), 35),
        (LEAP_BIRTH, date(2001, 2, 28), 0),  # non-leap year: not yet on 28 Feb
        (LEAP_BIRTH, date(2001, 3, 1), 1),  # ... turns over on 1 Mar
        (LEAP_BIRTH, date(2004, 2, 28), 3),
        (LEAP_BIRTH, date(2004, 2, 29), 4),  # leap year: on 29 Feb
        (LEAP_BIRTH, date(2014, 2, 28), 13),
        (LEAP_BIRTH, date(2014, 3, 1), 14),
        (BIRTH, date(1990, 3, 6), -1),  # before birth
    ],
)
def test_age_on(birth: date, on: date, age: int) -> None:
    assert age_on(birth, on) == age


# --- dates ------------------------------------------------------------------------------------


def test_not_future() -> None:
    check_not_future(TODAY, today=TODAY)
    check_not_future(TODAY - DAY, today=TODAY)
    with _raises(ErrorCode.DATE_IN_FUTURE):
        check_not_future(TODAY + DAY, today=TODAY)


def test_not_before_birth() -> None:
    check_not_before_birth(BIRTH, BIRTH)
    check_not_before_birth(BIRTH + DAY, BIRTH)
    with _raises(ErrorCode.DATE_BEFORE_BIRTH):
        check_not_before_birth(BIRTH - DAY, BIRTH)


@pytest.mark.parametrize(
    ("birth", "fourteenth"),
    [
        (BIRTH, date(2004, 3, 7)),
        (LEAP_BIRTH, date(2014, 3, 1)),
        (date(2000, 1, 1), date(2014, 1, 1)),
    ],
)
def test_graduation_age(birth: date, fourteenth: date) -> None:
    check_graduation_age(fourteenth, birth)  # exactly the 14th birthday passes
    check_graduation_age(fourteenth + DAY, birth)
    with _raises(ErrorCode.GRADUATED_TOO_YOUNG):
        check_graduation_age(fourteenth - DAY, birth)  # the day before fails
    with _raises(ErrorCode.GRADUATED_TOO_YOUNG):
        check_graduation_age(birth - DAY, birth)


@pytest.mark.parametrize(
    ("birth", "sixteenth"),
    [
        (BIRTH, date(2006, 3, 7)),
        (LEAP_BIRTH, date(2016, 2, 29)),
        (date(2004, 2, 29), date(2020, 2, 29)),
    ],
)
def test_accounting_start_age(birth: date, sixteenth: date) -> None:
    check_accounting_start(sixteenth, birth, today=TODAY)  # exactly the 16th birthday passes
    with _raises(ErrorCode.ACCOUNTING_STARTED_TOO_YOUNG):
        check_accounting_start(sixteenth - DAY, birth, today=TODAY)


def test_accounting_start_leap_birthday_in_non_leap_year() -> None:
    birth = date(2004, 2, 29)
    with _raises(ErrorCode.ACCOUNTING_STARTED_TOO_YOUNG):
        check_accounting_start(date(2019, 2, 28), birth, today=TODAY)  # still 14
    check_accounting_start(date(2020, 2, 29), birth, today=TODAY)


def test_accounting_start_not_future() -> None:
    check_accounting_start(TODAY, BIRTH, today=TODAY)
    with _raises(ErrorCode.DATE_IN_FUTURE):
        check_accounting_start(TODAY + DAY, BIRTH, today=TODAY)


def test_accounting_start_future_is_reported_before_age() -> None:
    birth = TODAY - timedelta(days=365 * 10)
    with _raises(ErrorCode.DATE_IN_FUTURE):
        check_accounting_start(TODAY + DAY, birth, today=TODAY)


def test_appointment() -> None:
    acquired = date(2017, 10, 20)
    check_appointment(acquired, acquired)  # same day passes
    check_appointment(acquired, acquired + DAY)  # portal guide sample: 2017-10-21
    with _raises(ErrorCode.APPOINTED_BEFORE_ACQUIRED):
        check_appointment(acquired, acquired - DAY)


# --- degree vs education level ----------------------------------------------------------------

LEVELS = ["11", "14", "21", "31", "41", "61", "70", "90"]
# degree → levels it fits (博士 2, 硕士 3, 学士 4, 无 0)
FITS = {
    "2": {"11"},
    "3": {"11", "14"},
    "4": {"11", "14", "21"},
    "0": set(LEVELS),
}


@pytest.mark.parametrize(
    ("level", "degree", "fits"),
    [(lv, dg, lv in FITS[dg]) for dg in sorted(FITS) for lv in LEVELS],
)
def test_degree_fits_level(level: str, degree: str, fits: bool) -> None:
    if fits:
        check_degree_fits_level(level, degree)
    else:
        with _raises(ErrorCode.DEGREE_LEVEL_MISMATCH):
            check_degree_fits_level(level, degree)


@pytest.mark.parametrize(
    ("level", "degree"), [("12", "0"), ("", "0"), ("21", "1"), ("21", "402"), ("本科", "4")]
)
def test_degree_unknown_codes(level: str, degree: str) -> None:
    with _raises(ErrorCode.UNKNOWN_CODE):
        check_degree_fits_level(level, degree)


# --- appointed post vs qualification level ----------------------------------------------------

POST_RANK = {"01": 1, "02": 1, "03": 2, "04": 3, "05": 4}  # 会计员/助理会计师/会计师/高级/正高级


@pytest.mark.parametrize(
    ("level", "post"), [(lv, post) for lv in ("1", "2", "3", "4") for post in sorted(POST_RANK)]
)
def test_appointed_post_fits_level(level: str, post: str) -> None:
    if POST_RANK[post] <= int(level):
        check_appointed_post_fits_level(level, post)
    else:
        with _raises(ErrorCode.APPOINTED_POST_ABOVE_LEVEL):
            check_appointed_post_fits_level(level, post)


def test_senior_accountant_needs_senior_level() -> None:
    check_appointed_post_fits_level("3", "04")  # 高级会计师 (副高级) fits 高级 (alias 副高级)
    with _raises(ErrorCode.APPOINTED_POST_ABOVE_LEVEL):
        check_appointed_post_fits_level("2", "04")


@pytest.mark.parametrize(
    ("level", "post"), [("0", "01"), ("5", "01"), ("1", "06"), ("1", "1"), ("初级", "01")]
)
def test_appointed_post_unknown_codes(level: str, post: str) -> None:
    with _raises(ErrorCode.UNKNOWN_CODE):
        check_appointed_post_fits_level(level, post)


# --- properties -------------------------------------------------------------------------------


@given(birth=st.dates(), on=st.dates())
def test_age_on_matches_birthday_arithmetic(birth: date, on: date) -> None:
    age = age_on(birth, on)
    assert (age >= 0) == (on >= birth)
    # turning over: the age increases by exactly one between the day before and the birthday
    if birth.month == 2 and birth.day == 29:
        return
    if birth.year + age + 1 <= date.max.year:
        assert on < birth.replace(year=birth.year + age + 1)
    if date.min.year <= birth.year + age:
        assert birth.replace(year=birth.year + age) <= on
