"""A registration with all its sections, loaded together, and what follows from them:
the steps and what each misses, the required attachments, reviewer findings and the snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.attachments import Attachment, AttachmentKind, required_attachment_kinds
from models.contact import check_postal_code
from models.errors import ErrorCode, FieldProblem, RuleViolation
from models.id_numbers import check_id_number
from models.limits import is_record_id
from models.reference import ReferenceData
from models.registration import (
    BasicInfoSection,
    EducationKind,
    EducationSection,
    NoticeSection,
    QualificationSection,
    Registration,
    ResidenceSection,
    WorkUnitSection,
)
from models.unit_codes import check_unit_code


class Step(StrEnum):
    NOTICE = "NOTICE"
    BASIC_INFO = "BASIC_INFO"
    WORK_OR_RESIDENCE = "WORK_OR_RESIDENCE"
    EDUCATION = "EDUCATION"
    QUALIFICATION = "QUALIFICATION"
    ATTACHMENTS = "ATTACHMENTS"


OPTIONAL_STEPS = frozenset({Step.QUALIFICATION})


@dataclass(frozen=True, slots=True)
class StepState:
    step: Step
    complete: bool
    optional: bool
    missing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RequiredAttachment:
    kind: AttachmentKind
    required: bool
    satisfied: bool


@dataclass
class RegistrationData:
    registration: Registration
    notice: NoticeSection | None = None
    basic: BasicInfoSection | None = None
    work_unit: WorkUnitSection | None = None
    residence: ResidenceSection | None = None
    full_time: EducationSection | None = None
    part_time: EducationSection | None = None
    qualification: QualificationSection | None = None
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.registration.id

    def required_kinds(self) -> list[AttachmentKind]:
        return required_attachment_kinds(
            has_work_unit=self.work_unit is not None,
            has_full_time=self.full_time is not None,
            full_time_degree=self.full_time.degree if self.full_time else None,
            has_part_time=self.part_time is not None,
            part_time_degree=self.part_time.degree if self.part_time else None,
            has_qualification=self.qualification is not None,
        )

    def attachment(self, kind: AttachmentKind) -> Attachment | None:
        return next((a for a in self.attachments if a.kind == kind), None)

    def required_attachments(self) -> list[RequiredAttachment]:
        return [
            RequiredAttachment(kind, True, self.attachment(kind) is not None)
            for kind in self.required_kinds()
        ]

    def steps(self) -> list[StepState]:
        missing: dict[Step, list[str]] = {step: [] for step in Step}
        if self.notice is None or not self.notice.eligibility:
            missing[Step.NOTICE].append("notice.eligibility")
        basic = self.basic
        for name, value in (
            ("countryOrRegion", basic.country_or_region if basic else None),
            ("ethnicGroup", basic.ethnic_group if basic else None),
            ("politicalStatus", basic.political_status if basic else None),
            ("gender", basic.gender if basic else None),
            ("birthDate", basic.birth_date if basic else None),
        ):
            if value is None:
                missing[Step.BASIC_INFO].append(f"basicInfo.{name}")
        if self.work_unit is None and self.residence is None:
            missing[Step.WORK_OR_RESIDENCE].append("workUnit")
        if self.registration.education_saved_at is None:
            missing[Step.EDUCATION].append("education")
        for required in self.required_attachments():
            if not required.satisfied:
                missing[Step.ATTACHMENTS].append(f"attachments.{required.kind.value}")
        return [
            StepState(step, not missing[step], step in OPTIONAL_STEPS, tuple(missing[step]))
            for step in Step
        ]

    def incomplete(self) -> list[FieldProblem]:
        """Why the registration cannot be submitted yet: one problem per missing thing."""
        problems = []
        for state in self.steps():
            for path in state.missing:
                code = (
                    ErrorCode.ATTACHMENT_MISSING
                    if state.step is Step.ATTACHMENTS
                    else ErrorCode.NOTICE_NOT_ACKNOWLEDGED
                    if state.step is Step.NOTICE
                    else ErrorCode.STEP_INCOMPLETE
                )
                problems.append(FieldProblem(path, code))
        return problems

    def findings(self, today: date) -> list[FieldProblem]:
        """Things that do not block submission but that a reviewer should check (rules.md WARN)."""
        found: list[FieldProblem] = []
        if self.basic is not None:
            try:
                facts = check_id_number(self.basic.id_type, self.basic.id_number, today=today)
                found += [
                    FieldProblem("basicInfo.idNumber", ErrorCode.NEEDS_CHECK, w)
                    for w in facts.warnings
                ]
            except RuleViolation as exc:
                found.append(FieldProblem("basicInfo.idNumber", exc.code))
        if self.work_unit is not None:
            try:
                unit = check_unit_code(self.work_unit.credit_code)
                found += [
                    FieldProblem("workUnit.creditCode", ErrorCode.NEEDS_CHECK, w)
                    for w in unit.warnings
                ]
            except RuleViolation as exc:
                found.append(FieldProblem("workUnit.creditCode", exc.code))
        if self.work_unit is not None and self.work_unit.directory_unit_name:
            found.append(
                FieldProblem(
                    "workUnit.unitName",
                    ErrorCode.UNIT_NAME_DIFFERS,
                    f"单位名录中此统一社会信用代码的单位名称为“{self.work_unit.directory_unit_name}”，"
                    "与填写的不一致，请核对。",
                )
            )
        for path, postal in (
            ("workUnit.postalCode", self.work_unit.postal_code if self.work_unit else None),
            ("residence.postalCode", self.residence.postal_code if self.residence else None),
        ):
            if postal and not check_postal_code(postal).in_zhejiang_range:
                found.append(FieldProblem(path, ErrorCode.POSTAL_CODE_OUTSIDE_ZHEJIANG))
        for attachment in self.attachments:
            kind = str(getattr(attachment.kind, "value", attachment.kind))
            found += [
                FieldProblem(f"attachments.{kind}", ErrorCode(p["code"]), p["message"])
                for p in attachment.problems
            ]
        for prefix, education in (
            ("education.fullTime", self.full_time),
            ("education.partTime", self.part_time),
        ):
            number = education.verification_number if education else None
            if number is not None and not (12 <= len(number) <= 16 and number.isalnum()):
                found.append(
                    FieldProblem(
                        f"{prefix}.verificationNumber",
                        ErrorCode.NEEDS_CHECK,
                        "电子认证号通常为12-16位字母或数字，请审核人员在学信网核对。",
                    )
                )
        return found

    def snapshot(self, reference: ReferenceData) -> dict[str, Any]:
        """Everything the applicant confirmed, as plain JSON, kept unchanged with the submission."""

        def named(list_name: str, code: str | None) -> dict[str, str] | None:
            if code is None:
                return None
            return {"code": code, "name": reference.name_of(list_name, code) or ""}

        def day(value: date | None) -> str | None:
            return value.isoformat() if value else None

        def education(row: EducationSection | None) -> dict[str, Any] | None:
            if row is None:
                return None
            return {
                "level": named("education_level", row.level),
                "degree": named("degree", row.degree),
                "verificationNumber": row.verification_number,
                "major": row.major,
                "school": row.school,
                "graduationDate": day(row.graduation_date),
            }

        b, w, r, q = self.basic, self.work_unit, self.residence, self.qualification
        department = reference.department(self.registration.department_code or "")
        return {
            "notice": {"eligibility": list(self.notice.eligibility)} if self.notice else None,
            "basicInfo": None
            if b is None
            else {
                "name": b.name,
                "phone": b.phone,
                "idType": named("id_document_type", b.id_type),
                "idNumber": b.id_number,
                "gender": named("gender", b.gender),
                "birthDate": day(b.birth_date),
                "countryOrRegion": named("country_region", b.country_or_region),
                "ethnicGroup": named("ethnic_group", b.ethnic_group),
                "politicalStatus": named("political_status", b.political_status),
                "remarks": b.remarks,
            },
            "workUnit": None
            if w is None
            else {
                "creditCode": w.credit_code,
                "unitName": w.unit_name,
                "economicType": named("unit_economic_type", w.economic_type),
                "officeDivisionCode": w.office_division_code,
                "postalCode": w.postal_code,
                "accountingStartDate": day(w.accounting_start_date),
                "accountingPost": named("accounting_work_position", w.accounting_post),
                "administrativeTitle": named("accounting_admin_post", w.administrative_title),
            },
            "residence": None
            if r is None
            else {
                "divisionCode": r.division_code,
                "address": r.address,
                "postalCode": r.postal_code,
            },
            "education": {
                "fullTime": education(self.full_time),
                "partTime": education(self.part_time),
            },
            "qualification": None
            if q is None
            else {
                "level": named("qualification_level", q.level),
                "type": named("qualification_type", q.type),
                "acquisitionMethod": named(
                    "qualification_acquisition_method", q.acquisition_method
                ),
                "acquiredOn": day(q.acquired_on),
                "appointedPost": named("appointed_technical_position", q.appointed_post),
                "appointedOn": day(q.appointed_on),
                "certificateNumber": q.certificate_number,
            },
            "accountingDepartment": None
            if department is None
            else {
                "code": department.code,
                "name": department.name,
                "rule": self.registration.department_rule,
            },
            "attachments": {
                a.kind.value if isinstance(a.kind, AttachmentKind) else str(a.kind): {
                    "id": a.id,
                    "sha256": a.sha256,
                    "byteSize": a.byte_size,
                    "width": a.width,
                    "height": a.height,
                }
                for a in self.attachments
            },
        }


async def load_registration(session: AsyncSession, registration_id: str) -> RegistrationData | None:
    if not is_record_id(registration_id):
        return None
    registration = await session.get(Registration, registration_id)
    if registration is None:
        return None
    return await load_sections(session, registration)


async def load_sections(session: AsyncSession, registration: Registration) -> RegistrationData:
    rid = registration.id
    educations = (
        await session.exec(select(EducationSection).where(EducationSection.registration_id == rid))
    ).all()
    attachments = (
        await session.exec(
            select(Attachment)
            .where(Attachment.registration_id == rid, col(Attachment.replaced_at).is_(None))
            .order_by(col(Attachment.created_at))
        )
    ).all()
    return RegistrationData(
        registration=registration,
        notice=await session.get(NoticeSection, rid),
        basic=await session.get(BasicInfoSection, rid),
        work_unit=await session.get(WorkUnitSection, rid),
        residence=await session.get(ResidenceSection, rid),
        full_time=next((e for e in educations if e.kind == EducationKind.FULL_TIME), None),
        part_time=next((e for e in educations if e.kind == EducationKind.PART_TIME), None),
        qualification=await session.get(QualificationSection, rid),
        attachments=list(attachments),
    )
