"""The Registration as clients read it: nested sections named as in the portal.

Its history and staff-only fields are read by gql/registration/resolvers.py; the types they
return live in gql/registration/events.py and staff_types.py, so gql/review imports
gql/registration and never the other way round.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry

from gql.attachments.types import AttachmentType
from gql.errors import FieldError, field_errors
from gql.reference.types import Department, Division, Option
from gql.registration.events import RegistrationEvent, RegistrationStatus, parse_cursor
from gql.registration.resolvers import (
    audit_trail_for,
    changes_for,
    decisions_for,
    history_of,
    submissions_for,
)
from gql.registration.staff_types import AuditEntry, FieldChange, ReviewDecisionType, SubmissionType
from models.attachments import AttachmentKind as DomainAttachmentKind
from models.db import utcnow
from models.reference import ReferenceData
from models.registration import DepartmentRule as DomainDepartmentRule
from models.registration import EligibilityBasis as DomainEligibilityBasis
from models.registration import UnitNameSource as DomainUnitNameSource
from models.registration_data import RegistrationData
from models.registration_data import Step as DomainStep

strawberry.enum(
    DomainEligibilityBasis,
    name="EligibilityBasis",
    description="Which of these is in Zhejiang (登记须知)",
)
strawberry.enum(
    DomainDepartmentRule, name="DepartmentRule", description="Which answer chose the 会计管理部门"
)
strawberry.enum(DomainUnitNameSource, name="UnitNameSource")
strawberry.enum(DomainStep, name="Step")
strawberry.enum(DomainAttachmentKind, name="AttachmentKind")
EligibilityBasis = DomainEligibilityBasis
DepartmentRule = DomainDepartmentRule
UnitNameSource = DomainUnitNameSource
Step = DomainStep
AttachmentKind = DomainAttachmentKind


@strawberry.enum
class Gender(Enum):
    MALE = "1"
    FEMALE = "2"


def _option(reference: ReferenceData, list_name: str, code: str | None) -> Option | None:
    if code is None:
        return None
    return Option(code=code, name=reference.name_of(list_name, code) or "")


@strawberry.type(description="One wizard step: complete or not, and the field paths it misses.")
class StepState:
    step: Step
    complete: bool
    optional: bool
    missing: list[str]


@strawberry.type
class Notice:
    eligibility: list[EligibilityBasis]
    acknowledged_at: datetime


@strawberry.type(description="基本信息. name, phone, idType and idNumber come from the login.")
class BasicInfo:
    name: str
    phone: str | None
    id_type: Option
    id_number: str
    gender: Gender | None
    birth_date: date | None
    country_or_region: Option | None
    ethnic_group: Option | None
    political_status: Option | None
    remarks: str | None


@strawberry.type(description="工作单位")
class WorkUnit:
    credit_code: str
    unit_name: str
    unit_name_source: UnitNameSource
    economic_type: Option
    office_division_code: str
    office_division: Division | None
    postal_code: str
    accounting_start_date: date
    accounting_post: Option
    administrative_title: Option


@strawberry.type(description="居住地")
class Residence:
    division_code: str
    division: Division | None
    address: str
    postal_code: str


@strawberry.type
class EducationEntry:
    level: Option
    degree: Option
    verification_number: str | None
    major: str
    school: str
    graduation_date: date


@strawberry.type(description="学历学位: highest full-time and part-time education")
class Education:
    full_time: EducationEntry | None
    part_time: EducationEntry | None


@strawberry.type(description="专业技术资格")
class Qualification:
    level: Option
    type: Option
    acquisition_method: Option
    acquired_on: date
    appointed_post: Option | None
    appointed_on: date | None
    certificate_number: str | None


@strawberry.type
class RequiredAttachment:
    kind: AttachmentKind
    required: bool
    satisfied: bool


def _education(reference: ReferenceData, row: object) -> EducationEntry | None:
    from models.registration import EducationSection

    if not isinstance(row, EducationSection):
        return None
    return EducationEntry(
        level=_option(reference, "education_level", row.level) or Option(code=row.level, name=""),
        degree=_option(reference, "degree", row.degree) or Option(code=row.degree, name=""),
        verification_number=row.verification_number,
        major=row.major,
        school=row.school,
        graduation_date=row.graduation_date,
    )


@strawberry.type(description="A 会计人员信息登记, with its sections as the wizard fills them.")
class Registration:
    id: strawberry.ID
    status: RegistrationStatus
    version: int = strawberry.field(description="Send it back as expectedVersion on every edit")
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    department_rule: DepartmentRule | None
    reopened_fields: list[str] = strawberry.field(
        description="When RETURNED: the field paths and attachment kinds that may be changed"
    )
    data: strawberry.Private[RegistrationData]
    reference: strawberry.Private[ReferenceData]

    @classmethod
    def of(cls, data: RegistrationData, reference: ReferenceData) -> Registration:
        r = data.registration
        return cls(
            id=strawberry.ID(r.id),
            status=RegistrationStatus(r.status),
            version=r.version,
            created_at=r.created_at,
            updated_at=r.updated_at,
            submitted_at=r.submitted_at,
            decided_at=r.decided_at,
            department_rule=DepartmentRule(r.department_rule) if r.department_rule else None,
            reopened_fields=list(r.reopened),
            data=data,
            reference=reference,
        )

    @strawberry.field
    def steps(self) -> list[StepState]:
        return [
            StepState(
                step=s.step, complete=s.complete, optional=s.optional, missing=list(s.missing)
            )
            for s in self.data.steps()
        ]

    @strawberry.field
    def notice(self) -> Notice | None:
        n = self.data.notice
        if n is None:
            return None
        return Notice(
            eligibility=[EligibilityBasis(e) for e in n.eligibility],
            acknowledged_at=n.acknowledged_at,
        )

    @strawberry.field
    def basic_info(self) -> BasicInfo | None:
        b, ref = self.data.basic, self.reference
        if b is None:
            return None
        return BasicInfo(
            name=b.name,
            phone=b.phone,
            id_type=_option(ref, "id_document_type", b.id_type) or Option(code=b.id_type, name=""),
            id_number=b.id_number,
            gender=Gender(b.gender) if b.gender in ("1", "2") else None,
            birth_date=b.birth_date,
            country_or_region=_option(ref, "country_region", b.country_or_region),
            ethnic_group=_option(ref, "ethnic_group", b.ethnic_group),
            political_status=_option(ref, "political_status", b.political_status),
            remarks=b.remarks,
        )

    @strawberry.field
    def work_unit(self) -> WorkUnit | None:
        w, ref = self.data.work_unit, self.reference
        if w is None:
            return None
        division = ref.division(w.office_division_code)
        return WorkUnit(
            credit_code=w.credit_code,
            unit_name=w.unit_name,
            unit_name_source=UnitNameSource(w.unit_name_source),
            economic_type=_option(ref, "unit_economic_type", w.economic_type)
            or Option(code=w.economic_type, name=""),
            office_division_code=w.office_division_code,
            office_division=Division.of(division) if division else None,
            postal_code=w.postal_code,
            accounting_start_date=w.accounting_start_date,
            accounting_post=_option(ref, "accounting_work_position", w.accounting_post)
            or Option(code=w.accounting_post, name=""),
            administrative_title=_option(ref, "accounting_admin_post", w.administrative_title)
            or Option(code=w.administrative_title, name=""),
        )

    @strawberry.field
    def residence(self) -> Residence | None:
        r = self.data.residence
        if r is None:
            return None
        division = self.reference.division(r.division_code)
        return Residence(
            division_code=r.division_code,
            division=Division.of(division) if division else None,
            address=r.address,
            postal_code=r.postal_code,
        )

    @strawberry.field
    def education(self) -> Education | None:
        if self.data.registration.education_saved_at is None:
            return None
        return Education(
            full_time=_education(self.reference, self.data.full_time),
            part_time=_education(self.reference, self.data.part_time),
        )

    @strawberry.field
    def qualification(self) -> Qualification | None:
        q, ref = self.data.qualification, self.reference
        if q is None:
            return None
        return Qualification(
            level=_option(ref, "qualification_level", q.level) or Option(code=q.level, name=""),
            type=_option(ref, "qualification_type", q.type) or Option(code=q.type, name=""),
            acquisition_method=_option(
                ref, "qualification_acquisition_method", q.acquisition_method
            )
            or Option(code=q.acquisition_method, name=""),
            acquired_on=q.acquired_on,
            appointed_post=_option(ref, "appointed_technical_position", q.appointed_post),
            appointed_on=q.appointed_on,
            certificate_number=q.certificate_number,
        )

    @strawberry.field(description="所属会计管理部门, derived from the office or residence district")
    def accounting_department(self) -> Department | None:
        code = self.data.registration.department_code
        department = self.reference.department(code) if code else None
        return Department.of(department) if department else None

    @strawberry.field(description="The proofs these answers require, and whether each is uploaded")
    def required_attachments(self) -> list[RequiredAttachment]:
        return [
            RequiredAttachment(kind=r.kind, required=r.required, satisfied=r.satisfied)
            for r in self.data.required_attachments()
        ]

    @strawberry.field(
        description="Findings for the reviewer to check; they do not block submission"
    )
    def problems(self) -> list[FieldError]:
        return field_errors(self.data.findings(utcnow().date()))

    @strawberry.field
    async def attachments(self, info: strawberry.Info) -> list[AttachmentType]:
        return [await AttachmentType.of(a, info) for a in self.data.attachments]

    @strawberry.field(
        description="Status changes and review results, oldest first. With `after` (a "
        "`cursor` received before), only the events after it: the same events, with the same "
        "cursors, as the `registrationEvents` subscription; a client without WebSocket polls this."
    )
    async def history(
        self, info: strawberry.Info, after: str | None = None
    ) -> list[RegistrationEvent]:
        return await history_of(info, self.data.id, self.reference, after=parse_cursor(after))

    # -- staff only (gql/review): null unless a reviewer of this registration's department --

    @strawberry.field(description="Staff only: every submission, oldest first")
    async def submissions(self, info: strawberry.Info) -> list[SubmissionType] | None:
        return await submissions_for(info, self.data.registration)

    @strawberry.field(
        description="Staff only: what the latest submission changed against the one before "
        "(null for a first submission)"
    )
    async def changes_since_last_submission(
        self, info: strawberry.Info
    ) -> list[FieldChange] | None:
        return await changes_for(info, self.data.registration)

    @strawberry.field(description="Staff only: review decisions, oldest first")
    async def decisions(self, info: strawberry.Info) -> list[ReviewDecisionType] | None:
        return await decisions_for(info, self.data.registration)

    @strawberry.field(
        description="Staff only: the full record, transitions with actors and staff reads"
    )
    async def audit_trail(self, info: strawberry.Info) -> list[AuditEntry] | None:
        return await audit_trail_for(info, self.data.registration)


@strawberry.type
class RegistrationPayload:
    registration: Registration | None = None
    errors: list[FieldError] = strawberry.field(default_factory=list)
