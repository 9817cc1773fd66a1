"""What the applicant sends for each wizard step, and the rules that clean and check it.

Each ``clean_*`` function takes the raw answer of one step and either returns the values to
store or raises ``ProblemsFound`` with one ``FieldProblem`` per mistake (dotted paths as the
GraphQL API names them). No database and no GraphQL here: plain values in, plain values out.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from models.contact import check_postal_code
from models.cross_rules import (
    check_accounting_start,
    check_appointed_post_fits_level,
    check_appointment,
    check_country_for_id_type,
    check_degree_fits_level,
    check_graduation_age,
    check_not_before_birth,
)
from models.errors import ErrorCode, FieldProblem, ProblemsFound, RuleViolation
from models.normalize import has_hidden_characters, normalize_code, normalize_text
from models.reference import ReferenceData
from models.registration import EligibilityBasis
from models.unit_codes import check_unit_code

if TYPE_CHECKING:
    from models.registration_data import RegistrationData

EARLIEST_DATE = date(1900, 1, 1)
#: a date as sent: a real day, the text of one that is not (UnparsedDate: INVALID_DATE), or none
DateAnswer = date | str | None
# ID types whose number encodes birth date and gender (rules.md §1, §5.3, §5.4 2023 edition)
DERIVED_IDENTITY_TYPES = frozenset({"01", "06", "07", "05"})


def has_control_characters(value: str) -> bool:
    """NUL and other control or unassigned characters, bidi controls and zero-width characters:
    never part of a name or an address."""
    return has_hidden_characters(value) or any(
        unicodedata.category(ch) in ("Cc", "Cs", "Cn", "Co") for ch in value
    )


class _Collector:
    """Gathers problems of one step so the applicant sees them all at once."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.problems: list[FieldProblem] = []

    def add(self, field: str, code: ErrorCode, message: str = "") -> None:
        self.problems.append(
            FieldProblem(f"{self.prefix}.{field}" if self.prefix else field, code, message)
        )

    def has(self, field: str) -> bool:
        path = f"{self.prefix}.{field}" if self.prefix else field
        return any(p.field == path for p in self.problems)

    def text(
        self, field: str, raw: str | None, *, max_length: int, required: bool = True
    ) -> str | None:
        value = normalize_text(raw or "")
        if has_control_characters(value):
            self.add(field, ErrorCode.INVALID_FORMAT)
            return None
        if not value:
            if required:
                self.add(field, ErrorCode.REQUIRED)
            return None
        if len(value) > max_length:
            self.add(field, ErrorCode.TOO_LONG)
            return None
        return value

    def code(
        self,
        field: str,
        raw: str | None,
        list_name: str,
        reference: ReferenceData,
        *,
        required: bool = True,
    ) -> str | None:
        value = normalize_code(raw or "")
        if not value:
            if required:
                self.add(field, ErrorCode.REQUIRED)
            return None
        if not reference.has_code(list_name, value):
            self.add(field, ErrorCode.UNKNOWN_CODE)
            return None
        return value

    def day(
        self, field: str, value: DateAnswer, *, today: date, required: bool = True
    ) -> date | None:
        if value is None:
            if required:
                self.add(field, ErrorCode.REQUIRED)
            return None
        if not isinstance(value, date) or value < EARLIEST_DATE:
            self.add(field, ErrorCode.INVALID_DATE)
            return None
        if value > today:
            self.add(field, ErrorCode.DATE_IN_FUTURE)
            return None
        return value

    def county(self, field: str, raw: str | None, reference: ReferenceData) -> str | None:
        value = normalize_code(raw or "")
        if not value:
            self.add(field, ErrorCode.REQUIRED)
            return None
        division = reference.division(value)
        if division is None:
            self.add(field, ErrorCode.DIVISION_UNKNOWN)
            return None
        if division.level != "county":
            self.add(field, ErrorCode.DIVISION_NOT_COUNTY)
            return None
        return value

    def postal(self, field: str, raw: str | None) -> str | None:
        if not (raw or "").strip():
            self.add(field, ErrorCode.REQUIRED)
            return None
        try:
            return check_postal_code(raw or "").code
        except RuleViolation as exc:
            self.add(field, exc.code)
            return None

    def rule(self, field: str, check: object) -> None:
        """Run a cross-field check (a zero-argument callable) unless the field already failed."""
        if self.has(field):
            return
        try:
            check()  # type: ignore[operator]
        except RuleViolation as exc:
            self.add(field, exc.code, exc.message)

    def raise_if_any(self) -> None:
        if self.problems:
            raise ProblemsFound(self.problems)


# -- 登记须知 ---------------------------------------------------------------------------------


def clean_eligibility(raw: list[str]) -> list[str]:
    chosen = []
    for value in raw:
        if value not in EligibilityBasis.__members__:
            raise ProblemsFound([FieldProblem("notice.eligibility", ErrorCode.UNKNOWN_CODE)])
        if value not in chosen:
            chosen.append(value)
    if not chosen:
        raise ProblemsFound([FieldProblem("notice.eligibility", ErrorCode.ELIGIBILITY_REQUIRED)])
    return [b.value for b in EligibilityBasis if b.value in chosen]


# -- 基本信息 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BasicInfoAnswer:
    country_or_region: str | None
    ethnic_group: str | None
    political_status: str | None
    remarks: str | None
    gender: str | None = None
    birth_date: DateAnswer = None


@dataclass(frozen=True)
class BasicInfoValues:
    country_or_region: str
    ethnic_group: str
    political_status: str
    remarks: str | None
    gender: str
    birth_date: date


def clean_basic_info(
    answer: BasicInfoAnswer,
    *,
    id_type: str,
    derived_gender: str | None,
    derived_birth_date: date | None,
    reference: ReferenceData,
    today: date,
) -> BasicInfoValues:
    """Gender and birth date come from the ID number where it encodes them (a differing value
    is an error); for other ID types the applicant enters them."""
    c = _Collector("basicInfo")
    country = c.code("countryOrRegion", answer.country_or_region, "country_region", reference)
    if country is not None:
        c.rule("countryOrRegion", lambda: check_country_for_id_type(id_type, country))
    ethnic = c.code("ethnicGroup", answer.ethnic_group, "ethnic_group", reference)
    political = c.code("politicalStatus", answer.political_status, "political_status", reference)
    remarks = c.text("remarks", answer.remarks, max_length=500, required=False)
    derived = id_type in DERIVED_IDENTITY_TYPES and derived_gender and derived_birth_date
    gender: str | None
    birth: date | None
    if derived:
        gender, birth = derived_gender, derived_birth_date
        if answer.gender is not None and answer.gender != derived_gender:
            c.add("gender", ErrorCode.GENDER_MISMATCH)
        if answer.birth_date is not None and not isinstance(answer.birth_date, date):
            c.add("birthDate", ErrorCode.INVALID_DATE)
        elif answer.birth_date is not None and answer.birth_date != derived_birth_date:
            c.add("birthDate", ErrorCode.BIRTH_DATE_MISMATCH)
    else:
        gender = answer.gender
        if gender is None:
            c.add("gender", ErrorCode.REQUIRED)
        elif gender not in ("1", "2"):
            c.add("gender", ErrorCode.UNKNOWN_CODE)
        birth = c.day("birthDate", answer.birth_date, today=today)
        if birth is not None and (today.year - birth.year) > 120:
            c.add("birthDate", ErrorCode.INVALID_DATE)
    c.raise_if_any()
    assert country and ethnic and political and gender and birth
    return BasicInfoValues(country, ethnic, political, remarks, gender, birth)


# -- 工作单位或居住地 -------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkUnitAnswer:
    credit_code: str | None
    unit_name: str | None
    economic_type: str | None
    office_division_code: str | None
    postal_code: str | None
    accounting_start_date: DateAnswer
    accounting_post: str | None
    administrative_title: str | None


@dataclass(frozen=True)
class WorkUnitValues:
    credit_code: str
    unit_name: str
    economic_type: str
    office_division_code: str
    postal_code: str
    accounting_start_date: date
    accounting_post: str
    administrative_title: str


@dataclass(frozen=True)
class ResidenceAnswer:
    division_code: str | None
    address: str | None
    postal_code: str | None


@dataclass(frozen=True)
class ResidenceValues:
    division_code: str
    address: str
    postal_code: str


def clean_work_unit(
    answer: WorkUnitAnswer, *, birth_date: date | None, reference: ReferenceData, today: date
) -> WorkUnitValues:
    c = _Collector("workUnit")
    credit_code = None
    if not (answer.credit_code or "").strip():
        c.add("creditCode", ErrorCode.REQUIRED)
    else:
        try:
            credit_code = check_unit_code(answer.credit_code or "").code
        except RuleViolation as exc:
            c.add("creditCode", exc.code)
    name = c.text("unitName", answer.unit_name, max_length=200)
    economic = c.code("economicType", answer.economic_type, "unit_economic_type", reference)
    office = c.county("officeDivisionCode", answer.office_division_code, reference)
    postal = c.postal("postalCode", answer.postal_code)
    started = c.day("accountingStartDate", answer.accounting_start_date, today=today)
    if started is not None and birth_date is not None:
        c.rule(
            "accountingStartDate", lambda: check_accounting_start(started, birth_date, today=today)
        )
    post = c.code("accountingPost", answer.accounting_post, "accounting_work_position", reference)
    title = c.code(
        "administrativeTitle", answer.administrative_title, "accounting_admin_post", reference
    )
    c.raise_if_any()
    assert credit_code and name and economic and office and postal and started and post and title
    return WorkUnitValues(credit_code, name, economic, office, postal, started, post, title)


def clean_residence(answer: ResidenceAnswer, *, reference: ReferenceData) -> ResidenceValues:
    c = _Collector("residence")
    division = c.county("divisionCode", answer.division_code, reference)
    address = c.text("address", answer.address, max_length=200)
    postal = c.postal("postalCode", answer.postal_code)
    c.raise_if_any()
    assert division and address and postal
    return ResidenceValues(division, address, postal)


# -- 学历学位 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EducationAnswer:
    level: str | None
    degree: str | None
    verification_number: str | None
    major: str | None
    school: str | None
    graduation_date: DateAnswer


@dataclass(frozen=True)
class EducationValues:
    level: str
    degree: str
    verification_number: str | None
    major: str
    school: str
    graduation_date: date


def clean_education(
    answer: EducationAnswer,
    prefix: str,
    *,
    birth_date: date | None,
    reference: ReferenceData,
    today: date,
) -> EducationValues:
    c = _Collector(prefix)
    level = c.code("level", answer.level, "education_level", reference)
    degree = c.code("degree", answer.degree, "degree", reference)
    if level and degree:
        c.rule("degree", lambda: check_degree_fits_level(level, degree))
    verification = normalize_code(answer.verification_number or "") or None
    if verification is not None and len(verification) > 32:
        c.add("verificationNumber", ErrorCode.TOO_LONG)
    elif verification is not None and has_control_characters(verification):
        c.add("verificationNumber", ErrorCode.INVALID_FORMAT)
    major = c.text("major", answer.major, max_length=100)
    school = c.text("school", answer.school, max_length=100)
    graduated = c.day("graduationDate", answer.graduation_date, today=today)
    if graduated is not None and birth_date is not None:
        c.rule("graduationDate", lambda: check_not_before_birth(graduated, birth_date))
        c.rule("graduationDate", lambda: check_graduation_age(graduated, birth_date))
    c.raise_if_any()
    assert level and degree and major and school and graduated
    return EducationValues(level, degree, verification, major, school, graduated)


# -- 专业技术资格 -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QualificationAnswer:
    level: str | None
    type: str | None
    acquisition_method: str | None
    acquired_on: DateAnswer
    appointed_post: str | None
    appointed_on: DateAnswer
    certificate_number: str | None


@dataclass(frozen=True)
class QualificationValues:
    level: str
    type: str
    acquisition_method: str
    acquired_on: date
    appointed_post: str | None
    appointed_on: date | None
    certificate_number: str | None


def clean_qualification(
    answer: QualificationAnswer, *, birth_date: date | None, reference: ReferenceData, today: date
) -> QualificationValues:
    c = _Collector("qualification")
    level = c.code("level", answer.level, "qualification_level", reference)
    kind = c.code("type", answer.type, "qualification_type", reference)
    method = c.code(
        "acquisitionMethod",
        answer.acquisition_method,
        "qualification_acquisition_method",
        reference,
    )
    acquired = c.day("acquiredOn", answer.acquired_on, today=today)
    post = c.code(
        "appointedPost",
        answer.appointed_post,
        "appointed_technical_position",
        reference,
        required=False,
    )
    appointed = c.day("appointedOn", answer.appointed_on, today=today, required=False)
    if (answer.appointed_post is None) != (answer.appointed_on is None):
        missing = "appointedOn" if answer.appointed_on is None else "appointedPost"
        c.add(missing, ErrorCode.QUALIFICATION_INCOMPLETE)
    if level and post:
        c.rule("appointedPost", lambda: check_appointed_post_fits_level(level, post))
    if acquired and appointed:
        c.rule("appointedOn", lambda: check_appointment(acquired, appointed))
    if acquired and birth_date:
        c.rule("acquiredOn", lambda: check_not_before_birth(acquired, birth_date))
    certificate = normalize_code(answer.certificate_number or "") or None
    if certificate is not None and len(certificate) > 64:
        c.add("certificateNumber", ErrorCode.TOO_LONG)
    elif certificate is not None and has_control_characters(certificate):
        c.add("certificateNumber", ErrorCode.INVALID_FORMAT)
    c.raise_if_any()
    assert level and kind and method and acquired
    return QualificationValues(level, kind, method, acquired, post, appointed, certificate)


# -- several steps at once ----------------------------------------------------------------


@dataclass(frozen=True)
class WorkOrResidenceAnswer:
    work_unit: WorkUnitAnswer | None
    residence: ResidenceAnswer | None
    #: the unit's name in the directory, when its credit code is there
    directory_name: str | None = None


@dataclass(frozen=True)
class EducationAnswers:
    full_time: EducationAnswer | None
    part_time: EducationAnswer | None


@dataclass(frozen=True)
class QualificationStep:
    """The 专业技术资格 step; ``answer`` None: the applicant has none."""

    answer: QualificationAnswer | None


@dataclass(frozen=True)
class FormAnswers:
    """Any subset of the wizard's steps; None: that step is not part of this save."""

    notice: list[str] | None = None
    basic_info: BasicInfoAnswer | None = None
    work_or_residence: WorkOrResidenceAnswer | None = None
    education: EducationAnswers | None = None
    qualification: QualificationStep | None = None


# -- rechecking stored answers -------------------------------------------------------------


def recheck(data: RegistrationData, reference: ReferenceData, today: date) -> list[FieldProblem]:
    """Re-run every step's rules on the stored answers (dates move on; the birth date may have
    been entered after the work and education steps)."""
    problems: list[FieldProblem] = []
    birth = data.basic.birth_date if data.basic else None

    def collect(fn: Any, *args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except ProblemsFound as exc:
            problems.extend(exc.problems)

    if data.work_unit is not None:
        w = data.work_unit
        collect(
            clean_work_unit,
            WorkUnitAnswer(
                w.credit_code,
                w.unit_name,
                w.economic_type,
                w.office_division_code,
                w.postal_code,
                w.accounting_start_date,
                w.accounting_post,
                w.administrative_title,
            ),
            birth_date=birth,
            reference=reference,
            today=today,
        )
    for prefix, e in (
        ("education.fullTime", data.full_time),
        ("education.partTime", data.part_time),
    ):
        if e is not None:
            collect(
                clean_education,
                EducationAnswer(
                    e.level, e.degree, e.verification_number, e.major, e.school, e.graduation_date
                ),
                prefix,
                birth_date=birth,
                reference=reference,
                today=today,
            )
    if data.qualification is not None:
        q = data.qualification
        collect(
            clean_qualification,
            QualificationAnswer(
                q.level,
                q.type,
                q.acquisition_method,
                q.acquired_on,
                q.appointed_post,
                q.appointed_on,
                q.certificate_number,
            ),
            birth_date=birth,
            reference=reference,
            today=today,
        )
    return problems
