"""The registration and its sections: one table per wizard section, with real columns."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.db import enum_type, utcnow


class Status(StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    RETURNED = "RETURNED"
    APPROVED = "APPROVED"
    WITHDRAWN = "WITHDRAWN"


OPEN_STATUSES = (Status.DRAFT, Status.SUBMITTED, Status.RETURNED)
EDITABLE_STATUSES = (Status.DRAFT, Status.RETURNED)


class EligibilityBasis(StrEnum):
    WORK_UNIT = "WORK_UNIT"
    HOUSEHOLD = "HOUSEHOLD"
    RESIDENCE = "RESIDENCE"
    SCHOOL = "SCHOOL"


class DepartmentRule(StrEnum):
    """Which answer chose the 会计管理部门."""

    OFFICE_DIVISION = "OFFICE_DIVISION"
    RESIDENCE_DIVISION = "RESIDENCE_DIVISION"


class EducationKind(StrEnum):
    FULL_TIME = "FULL_TIME"
    PART_TIME = "PART_TIME"


class UnitNameSource(StrEnum):
    LOOKUP = "LOOKUP"
    MANUAL = "MANUAL"


class Registration(SQLModel, table=True):
    __tablename__ = "registration"

    __table_args__ = (
        Index("ix_registration_department_status", "department_code", "status"),
        # at most one open registration per person
        Index(
            "uq_registration_open_per_person",
            "person_id",
            unique=True,
            sqlite_where=text("status IN ('DRAFT', 'SUBMITTED', 'RETURNED')"),
            postgresql_where=text("status IN ('DRAFT', 'SUBMITTED', 'RETURNED')"),
        ),
    )

    id: str = Field(primary_key=True, max_length=32)
    person_id: int = Field(foreign_key="person.id", index=True)
    status: Status = Field(default=Status.DRAFT, sa_type=enum_type(Status))
    version: int = 1
    department_code: str | None = Field(default=None, max_length=6)
    department_rule: DepartmentRule | None = Field(default=None, sa_type=enum_type(DepartmentRule))
    city_code: str | None = Field(default=None, max_length=6)
    education_saved_at: datetime | None = None
    qualification_saved_at: datetime | None = None
    # fields and attachment kinds a reviewer reopened (dotted paths); empty outside RETURNED
    reopened: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    decided_at: datetime | None = None


class NoticeSection(SQLModel, table=True):
    __tablename__ = "notice_section"

    registration_id: str = Field(primary_key=True, foreign_key="registration.id", max_length=32)
    eligibility: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    acknowledged_at: datetime = Field(default_factory=utcnow)


class BasicInfoSection(SQLModel, table=True):
    __tablename__ = "basic_info_section"

    registration_id: str = Field(primary_key=True, foreign_key="registration.id", max_length=32)
    # identity: copied from the signed-in person, never from client input
    name: str = Field(max_length=100)
    phone: str | None = Field(default=None, max_length=20)
    id_type: str = Field(max_length=4, index=True)
    id_number: str = Field(max_length=40)
    gender: str | None = Field(default=None, max_length=1)
    birth_date: date | None = None
    country_or_region: str | None = Field(default=None, max_length=8)
    ethnic_group: str | None = Field(default=None, max_length=4)
    political_status: str | None = Field(default=None, max_length=4)
    remarks: str | None = Field(default=None, max_length=500)
    saved_at: datetime | None = None


class WorkUnitSection(SQLModel, table=True):
    __tablename__ = "work_unit_section"

    registration_id: str = Field(primary_key=True, foreign_key="registration.id", max_length=32)
    credit_code: str = Field(max_length=18)
    unit_name: str = Field(max_length=200)
    unit_name_source: UnitNameSource = Field(
        default=UnitNameSource.MANUAL, sa_type=enum_type(UnitNameSource)
    )
    #: the directory's name for the credit code when the applicant typed another one
    directory_unit_name: str | None = Field(default=None, max_length=200)
    economic_type: str = Field(max_length=4, index=True)
    office_division_code: str = Field(max_length=6)
    postal_code: str = Field(max_length=6)
    accounting_start_date: date
    accounting_post: str = Field(max_length=4)
    administrative_title: str = Field(max_length=4)


class ResidenceSection(SQLModel, table=True):
    __tablename__ = "residence_section"

    registration_id: str = Field(primary_key=True, foreign_key="registration.id", max_length=32)
    division_code: str = Field(max_length=6)
    address: str = Field(max_length=200)
    postal_code: str = Field(max_length=6)


class EducationSection(SQLModel, table=True):
    __tablename__ = "education_section"

    registration_id: str = Field(primary_key=True, foreign_key="registration.id", max_length=32)
    kind: EducationKind = Field(primary_key=True, sa_type=enum_type(EducationKind))
    level: str = Field(max_length=4, index=True)
    degree: str = Field(max_length=4, index=True)
    verification_number: str | None = Field(default=None, max_length=32)
    major: str = Field(max_length=100)
    school: str = Field(max_length=100)
    graduation_date: date


class QualificationSection(SQLModel, table=True):
    __tablename__ = "qualification_section"

    registration_id: str = Field(primary_key=True, foreign_key="registration.id", max_length=32)
    level: str = Field(max_length=4, index=True)
    type: str = Field(max_length=4)
    acquisition_method: str = Field(max_length=4)
    acquired_on: date
    appointed_post: str | None = Field(default=None, max_length=4)
    appointed_on: date | None = None
    certificate_number: str | None = Field(default=None, max_length=64)


class Submission(SQLModel, table=True):
    """What the applicant submitted, frozen: the decisions refer to it."""

    __tablename__ = "submission"

    __table_args__ = (
        UniqueConstraint("registration_id", "sequence"),
        UniqueConstraint("registration_id", "idempotency_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    registration_id: str = Field(foreign_key="registration.id", index=True, max_length=32)
    sequence: int
    idempotency_key: str | None = Field(default=None, max_length=64)
    based_on_version: int  # the registration version the applicant confirmed
    snapshot: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    declaration: str = Field(max_length=100)
    submitted_at: datetime = Field(default_factory=utcnow)


class RegistrationEvent(SQLModel, table=True):
    """The append-only history of a registration; its id is the subscription cursor."""

    __tablename__ = "registration_event"

    id: int | None = Field(default=None, primary_key=True)
    registration_id: str = Field(foreign_key="registration.id", index=True, max_length=32)
    kind: str = Field(max_length=24)
    from_status: Status | None = Field(default=None, sa_type=enum_type(Status))
    to_status: Status = Field(sa_type=enum_type(Status))
    actor_kind: str = Field(max_length=16)  # APPLICANT, STAFF, SYSTEM
    actor_id: int | None = None
    comment: str | None = Field(default=None, max_length=1000)
    items: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    department_code: str | None = Field(default=None, max_length=6)
    occurred_at: datetime = Field(default_factory=utcnow)


class UnitDirectoryEntry(SQLModel, table=True):
    """A unit the service knows by its credit code: imported, or confirmed by an approval."""

    __tablename__ = "unit_directory_entry"

    credit_code: str = Field(primary_key=True, max_length=18)
    unit_name: str = Field(max_length=200)
    source: str = Field(max_length=16)  # IMPORT, APPROVED
    #: imported from an authoritative list; a name learned from an approval is not, and an
    #: approval never overwrites a name that is already there
    verified: bool = True
    updated_at: datetime = Field(default_factory=utcnow)
