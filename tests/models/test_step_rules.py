"""The rules of the wizard's steps (work unit, education, qualification), called directly.

Each case changes one value of an answer the wizard accepts and names the one problem the
applicant sees. The answers are the ones tests/wizard.py sends over HTTP, converted the way
gql/registration/inputs.py converts them; tests/gql/test_wizard.py keeps one HTTP case per
step to show that these problems reach the payload and that nothing is saved.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, TypeVar

import pytest

from models.errors import ProblemsFound
from models.reference import load_reference_data
from models.sections import (
    EducationAnswer,
    QualificationAnswer,
    WorkUnitAnswer,
    clean_education,
    clean_qualification,
    clean_work_unit,
)
from tests.wizard import FULL_TIME, QUALIFICATION, WORK_UNIT

TODAY = date(2026, 6, 30)
BIRTH = date(1990, 3, 7)  # the birth date the test applicant's ID number encodes
REFERENCE = load_reference_data()
DATES = {"accountingStartDate", "graduationDate", "acquiredOn", "appointedOn"}

A = TypeVar("A")


def answer(kind: type[A], fields: dict[str, Any]) -> A:
    """The GraphQL input ``fields`` (camelCase, ISO dates) as the domain's answer."""
    values = {
        re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower(): (
            date.fromisoformat(value) if name in DATES and value is not None else value
        )
        for name, value in fields.items()
    }
    return kind(**values)


def problems(exc: pytest.ExceptionInfo[ProblemsFound]) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in exc.value.problems}


def test_the_wizards_answers_pass() -> None:
    """The baseline every case below changes one value of."""
    work = answer(WorkUnitAnswer, WORK_UNIT)
    assert clean_work_unit(work, birth_date=BIRTH, reference=REFERENCE, today=TODAY)
    education = answer(EducationAnswer, FULL_TIME)
    assert clean_education(
        education, "education.fullTime", birth_date=BIRTH, reference=REFERENCE, today=TODAY
    )
    qualification = answer(QualificationAnswer, QUALIFICATION)
    assert clean_qualification(qualification, birth_date=BIRTH, reference=REFERENCE, today=TODAY)


BAD_WORK_UNITS: list[tuple[dict[str, Any], str, str]] = [
    ({"creditCode": "91330106MA27UW5H9P"}, "workUnit.creditCode", "CREDIT_CODE_CHECKSUM"),
    ({"creditCode": "91330106IA27UW5H9N"}, "workUnit.creditCode", "CREDIT_CODE_FORMAT"),
    ({"creditCode": "01330106MA27UW5H90"}, "workUnit.creditCode", "CREDIT_CODE_DEPARTMENT"),
    ({"creditCode": "123456789"}, "workUnit.creditCode", "ORG_CODE_CHECKSUM"),
    ({"creditCode": ""}, "workUnit.creditCode", "REQUIRED"),
    ({"unitName": "  "}, "workUnit.unitName", "REQUIRED"),
    ({"unitName": "单" * 201}, "workUnit.unitName", "TOO_LONG"),
    ({"economicType": "77"}, "workUnit.economicType", "UNKNOWN_CODE"),
    ({"officeDivisionCode": "330100"}, "workUnit.officeDivisionCode", "DIVISION_NOT_COUNTY"),
    ({"officeDivisionCode": "110101"}, "workUnit.officeDivisionCode", "DIVISION_UNKNOWN"),
    ({"postalCode": "31001"}, "workUnit.postalCode", "POSTAL_CODE_FORMAT"),
    (
        {"accountingStartDate": "2003-01-01"},
        "workUnit.accountingStartDate",
        "ACCOUNTING_STARTED_TOO_YOUNG",
    ),
    ({"accountingStartDate": "2099-01-01"}, "workUnit.accountingStartDate", "DATE_IN_FUTURE"),
    ({"accountingPost": "XX"}, "workUnit.accountingPost", "UNKNOWN_CODE"),
    ({"administrativeTitle": None}, "workUnit.administrativeTitle", "REQUIRED"),
]


@pytest.mark.parametrize(("change", "field", "code"), BAD_WORK_UNITS)
def test_bad_work_unit_values(change: dict[str, Any], field: str, code: str) -> None:
    work = answer(WorkUnitAnswer, {**WORK_UNIT, **change})
    with pytest.raises(ProblemsFound) as caught:
        clean_work_unit(work, birth_date=BIRTH, reference=REFERENCE, today=TODAY)
    assert problems(caught) == {(field, code)}


BAD_EDUCATION: list[tuple[dict[str, Any], str, str]] = [
    ({"level": "21", "degree": "3"}, "education.fullTime.degree", "DEGREE_LEVEL_MISMATCH"),
    ({"level": "31", "degree": "4"}, "education.fullTime.degree", "DEGREE_LEVEL_MISMATCH"),
    ({"level": "学士", "degree": "本科"}, "education.fullTime.level", "UNKNOWN_CODE"),
    ({"graduationDate": "2003-06-30"}, "education.fullTime.graduationDate", "GRADUATED_TOO_YOUNG"),
    ({"graduationDate": "1989-06-30"}, "education.fullTime.graduationDate", "DATE_BEFORE_BIRTH"),
    ({"graduationDate": "2099-06-30"}, "education.fullTime.graduationDate", "DATE_IN_FUTURE"),
    ({"school": ""}, "education.fullTime.school", "REQUIRED"),
]


@pytest.mark.parametrize(("change", "field", "code"), BAD_EDUCATION)
def test_bad_education_values(change: dict[str, Any], field: str, code: str) -> None:
    education = answer(EducationAnswer, {**FULL_TIME, **change})
    with pytest.raises(ProblemsFound) as caught:
        clean_education(
            education, "education.fullTime", birth_date=BIRTH, reference=REFERENCE, today=TODAY
        )
    assert (field, code) in problems(caught)


BAD_QUALIFICATIONS: list[tuple[dict[str, Any], str, str]] = [
    ({"appointedOn": "2017-10-19"}, "qualification.appointedOn", "APPOINTED_BEFORE_ACQUIRED"),
    (
        {"level": "1", "appointedPost": "05"},
        "qualification.appointedPost",
        "APPOINTED_POST_ABOVE_LEVEL",
    ),
    ({"acquiredOn": "2099-01-01"}, "qualification.acquiredOn", "DATE_IN_FUTURE"),
    ({"appointedOn": None}, "qualification.appointedOn", "QUALIFICATION_INCOMPLETE"),
    ({"type": "00"}, "qualification.type", "UNKNOWN_CODE"),
]


@pytest.mark.parametrize(("change", "field", "code"), BAD_QUALIFICATIONS)
def test_bad_qualification_values(change: dict[str, Any], field: str, code: str) -> None:
    qualification = answer(QualificationAnswer, {**QUALIFICATION, **change})
    with pytest.raises(ProblemsFound) as caught:
        clean_qualification(qualification, birth_date=BIRTH, reference=REFERENCE, today=TODAY)
    assert (field, code) in problems(caught)
