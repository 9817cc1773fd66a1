"""What the wizard's mutations take. Identity fields are absent on purpose: they come from the login."""

from __future__ import annotations

from datetime import date

import strawberry

from gql.registration.types import EligibilityBasis, Gender
from models import sections


@strawberry.input(description="登记须知 as a section of saveRegistration")
class NoticeSectionInput:
    eligibility: list[EligibilityBasis] = strawberry.field(
        description="At least one: which of work unit, household, residence, school is in Zhejiang"
    )


@strawberry.input
class AcknowledgeNoticeInput(NoticeSectionInput):
    registration_id: strawberry.ID
    expected_version: int


@strawberry.input(
    description="基本信息: gender and birthDate only for ID types that do not encode them"
)
class BasicInfoSectionInput:
    country_or_region: str | None = None
    ethnic_group: str | None = None
    political_status: str | None = None
    remarks: str | None = None
    gender: Gender | None = None
    birth_date: date | None = None

    def answer(self) -> sections.BasicInfoAnswer:
        return sections.BasicInfoAnswer(
            country_or_region=self.country_or_region,
            ethnic_group=self.ethnic_group,
            political_status=self.political_status,
            remarks=self.remarks,
            gender=self.gender.value if self.gender else None,
            birth_date=self.birth_date,
        )


@strawberry.input(
    description="基本信息: gender and birthDate only for ID types that do not encode them"
)
class SaveBasicInfoInput(BasicInfoSectionInput):
    registration_id: strawberry.ID
    expected_version: int


@strawberry.input
class WorkUnitInput:
    credit_code: str | None = strawberry.field(
        default=None, description="统一社会信用代码(组织机构代码)"
    )
    unit_name: str | None = None
    economic_type: str | None = None
    office_division_code: str | None = strawberry.field(
        default=None, description="county-level code"
    )
    postal_code: str | None = None
    accounting_start_date: date | None = None
    accounting_post: str | None = None
    administrative_title: str | None = None

    def answer(self) -> sections.WorkUnitAnswer:
        return sections.WorkUnitAnswer(
            self.credit_code,
            self.unit_name,
            self.economic_type,
            self.office_division_code,
            self.postal_code,
            self.accounting_start_date,
            self.accounting_post,
            self.administrative_title,
        )


@strawberry.input
class ResidenceInput:
    division_code: str | None = strawberry.field(default=None, description="county-level code")
    address: str | None = None
    postal_code: str | None = None

    def answer(self) -> sections.ResidenceAnswer:
        return sections.ResidenceAnswer(self.division_code, self.address, self.postal_code)


@strawberry.input(description="Exactly one of workUnit or residence")
class WorkOrResidenceSectionInput:
    work_unit: WorkUnitInput | None = None
    residence: ResidenceInput | None = None


@strawberry.input(description="Exactly one of workUnit or residence")
class SaveWorkOrResidenceInput(WorkOrResidenceSectionInput):
    registration_id: strawberry.ID
    expected_version: int


@strawberry.input
class EducationInput:
    level: str | None = None
    degree: str | None = None
    verification_number: str | None = strawberry.field(default=None, description="电子认证号")
    major: str | None = None
    school: str | None = None
    graduation_date: date | None = None

    def answer(self) -> sections.EducationAnswer:
        return sections.EducationAnswer(
            self.level,
            self.degree,
            self.verification_number,
            self.major,
            self.school,
            self.graduation_date,
        )


@strawberry.input(description="Null entries mean the applicant has none")
class EducationSectionInput:
    full_time: EducationInput | None = None
    part_time: EducationInput | None = None

    def answers(self) -> sections.EducationAnswers:
        return sections.EducationAnswers(
            self.full_time.answer() if self.full_time else None,
            self.part_time.answer() if self.part_time else None,
        )


@strawberry.input(description="Null entries mean the applicant has none")
class SaveEducationInput(EducationSectionInput):
    registration_id: strawberry.ID
    expected_version: int


@strawberry.input
class QualificationInput:
    level: str | None = None
    type: str | None = None
    acquisition_method: str | None = None
    acquired_on: date | None = None
    appointed_post: str | None = None
    appointed_on: date | None = None
    certificate_number: str | None = None

    def answer(self) -> sections.QualificationAnswer:
        return sections.QualificationAnswer(
            self.level,
            self.type,
            self.acquisition_method,
            self.acquired_on,
            self.appointed_post,
            self.appointed_on,
            self.certificate_number,
        )


@strawberry.input(description="Null qualification: the applicant has none")
class QualificationSectionInput:
    qualification: QualificationInput | None = None


@strawberry.input(description="Null qualification: the applicant has none")
class SaveQualificationInput(QualificationSectionInput):
    registration_id: strawberry.ID
    expected_version: int


@strawberry.input(
    description="The whole form, or any part of it, in one request. Each section takes the "
    "fields of its step mutation; an absent section is left as it is. All or nothing: any "
    "error in any section and nothing is written."
)
class SaveRegistrationInput:
    registration_id: strawberry.ID
    expected_version: int
    notice: NoticeSectionInput | None = None
    basic_info: BasicInfoSectionInput | None = None
    work_or_residence: WorkOrResidenceSectionInput | None = None
    education: EducationSectionInput | None = None
    qualification: QualificationSectionInput | None = None


@strawberry.input
class SubmitRegistrationInput:
    registration_id: strawberry.ID
    expected_version: int
    agreed: bool = strawberry.field(description="同意以上资料填写无误")
    idempotency_key: str | None = None


@strawberry.input
class WithdrawRegistrationInput:
    registration_id: strawberry.ID
    expected_version: int
