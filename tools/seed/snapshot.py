"""What one synthetic registration answered, and the snapshot a submission freezes of it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from models.reference import ReferenceData
from tools.seed.population import APPOINTED

Names = Mapping[str, Mapping[str, str]]  # code list -> code -> name
Namer = Callable[[str, str | None], dict[str, str] | None]


@dataclass(frozen=True, slots=True)
class Answers:
    """The coded answers of one registration, drawn before its timeline."""

    county: str
    work: bool  # a work unit, else a residence
    economic: str | None
    education: tuple[str, str]  # level, degree
    part: tuple[str, str] | None
    qualification: str | None
    political: str
    ethnic: str
    start_work: date
    graduated: date

    @property
    def eligibility(self) -> list[str]:
        return ["WORK_UNIT"] if self.work else ["RESIDENCE"]


@dataclass(frozen=True, slots=True)
class Details:
    """The rest of the sections, drawn once the registration's department is known."""

    unit_name: str
    credit_code: str
    postal: str
    post: str
    title: str
    address: str
    school: str
    major: str
    verification: str
    acquired: date
    certificate: str | None  # of the qualification, when that section is saved


def named(names: Names, list_name: str, code: str | None) -> dict[str, str] | None:
    return None if code is None else {"code": code, "name": names[list_name].get(code, "")}


def snapshot(
    reference: ReferenceData,
    names: Names,
    who: dict[str, Any],
    answers: Answers,
    details: Details,
    department: str,
) -> dict[str, Any]:
    """The snapshot of a submission to ``department``."""

    def n(list_name: str, code: str | None) -> dict[str, str] | None:
        return named(names, list_name, code)

    bureau = reference.divisions[department].department
    return {
        "notice": {"eligibility": answers.eligibility},
        "basicInfo": {
            "name": who["name"],
            "phone": who["phone"],
            "idType": n("id_document_type", who["id_type"]),
            "idNumber": who["id_number"],
            "gender": n("gender", who["gender"]),
            "birthDate": who["birth"].isoformat(),
            "countryOrRegion": n("country_region", who["country"]),
            "ethnicGroup": n("ethnic_group", answers.ethnic),
            "politicalStatus": n("political_status", answers.political),
            "remarks": None,
        },
        "workUnit": _work_unit(n, answers, details, department) if answers.work else None,
        "residence": None
        if answers.work
        else {
            "divisionCode": department,
            "address": details.address,
            "postalCode": details.postal,
        },
        "education": _education(n, answers, details),
        "qualification": _qualification(n, answers.qualification, details.acquired),
        "accountingDepartment": {
            "code": bureau.code,
            "name": bureau.name,
            "rule": "OFFICE_DIVISION" if answers.work else "RESIDENCE_DIVISION",
        },
        "attachments": {},
    }


def _work_unit(n: Namer, answers: Answers, details: Details, department: str) -> dict[str, Any]:
    return {
        "creditCode": details.credit_code,
        "unitName": details.unit_name,
        "economicType": n("unit_economic_type", answers.economic),
        "officeDivisionCode": department,
        "postalCode": details.postal,
        "accountingStartDate": answers.start_work.isoformat(),
        "accountingPost": n("accounting_work_position", details.post),
        "administrativeTitle": n("accounting_admin_post", details.title),
    }


def _education(n: Namer, answers: Answers, details: Details) -> dict[str, Any]:
    part = answers.part
    return {
        "fullTime": {
            "level": n("education_level", answers.education[0]),
            "degree": n("degree", answers.education[1]),
            "verificationNumber": details.verification,
            "major": details.major,
            "school": details.school,
            "graduationDate": answers.graduated.isoformat(),
        },
        "partTime": None
        if part is None
        else {
            "level": n("education_level", part[0]),
            "degree": n("degree", part[1]),
            "verificationNumber": None,
            "major": "工商管理",
            "school": details.school,
            "graduationDate": None,
        },
    }


def _qualification(n: Namer, qualification: str | None, acquired: date) -> dict[str, Any] | None:
    if qualification is None:
        return None
    return {
        "level": n("qualification_level", qualification),
        "type": n("qualification_type", "01"),
        "acquisitionMethod": n("qualification_acquisition_method", "01"),
        "acquiredOn": acquired.isoformat(),
        "appointedPost": n("appointed_technical_position", APPOINTED[qualification]),
        "appointedOn": acquired.isoformat(),
        "certificateNumber": None,
    }
