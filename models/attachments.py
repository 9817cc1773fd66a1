"""Attachment kinds, which ones a registration requires, and the upload/attachment tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from models.db import enum_type, utcnow


class AttachmentKind(StrEnum):
    ID_PHOTO = "ID_PHOTO"
    CREDIT_CODE_CERTIFICATE = "CREDIT_CODE_CERTIFICATE"
    FIRST_EMPLOYER_PROOF = "FIRST_EMPLOYER_PROOF"
    CURRENT_EMPLOYER_PROOF = "CURRENT_EMPLOYER_PROOF"
    FULL_TIME_DIPLOMA = "FULL_TIME_DIPLOMA"
    FULL_TIME_DEGREE = "FULL_TIME_DEGREE"
    PART_TIME_DIPLOMA = "PART_TIME_DIPLOMA"
    PART_TIME_DEGREE = "PART_TIME_DEGREE"
    QUALIFICATION_CERTIFICATE = "QUALIFICATION_CERTIFICATE"


NO_DEGREE = "0"


def required_attachment_kinds(
    *,
    has_work_unit: bool,
    full_time_degree: str | None,
    has_full_time: bool,
    part_time_degree: str | None,
    has_part_time: bool,
    has_qualification: bool,
) -> list[AttachmentKind]:
    """The proofs a registration needs, in the order the portal lists them."""
    kinds = [AttachmentKind.ID_PHOTO]
    if has_work_unit:
        kinds += [
            AttachmentKind.CREDIT_CODE_CERTIFICATE,
            AttachmentKind.FIRST_EMPLOYER_PROOF,
            AttachmentKind.CURRENT_EMPLOYER_PROOF,
        ]
    if has_full_time:
        kinds.append(AttachmentKind.FULL_TIME_DIPLOMA)
        if full_time_degree and full_time_degree != NO_DEGREE:
            kinds.append(AttachmentKind.FULL_TIME_DEGREE)
    if has_part_time:
        kinds.append(AttachmentKind.PART_TIME_DIPLOMA)
        if part_time_degree and part_time_degree != NO_DEGREE:
            kinds.append(AttachmentKind.PART_TIME_DEGREE)
    if has_qualification:
        kinds.append(AttachmentKind.QUALIFICATION_CERTIFICATE)
    return kinds


class UploadStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class Upload(SQLModel, table=True):
    """A presigned upload handed to the phone; the file lands under a pending key."""

    __tablename__ = "upload"

    id: str = Field(primary_key=True, max_length=32)
    registration_id: str = Field(foreign_key="registration.id", index=True, max_length=32)
    kind: AttachmentKind = Field(sa_type=enum_type(AttachmentKind))
    pending_key: str = Field(max_length=200)
    content_type: str = Field(max_length=50)
    declared_bytes: int
    max_bytes: int
    status: UploadStatus = Field(
        default=UploadStatus.PENDING, index=True, sa_type=enum_type(UploadStatus)
    )
    problems: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    attachment_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    #: the pending key was deleted after the policy expired, so nothing can land there again
    pending_cleared: bool = False


class Attachment(SQLModel, table=True):
    """A checked file of one kind; the newest one of a kind is current, earlier ones replaced."""

    __tablename__ = "attachment"

    __table_args__ = (
        Index(
            "uq_attachment_current_kind",
            "registration_id",
            "kind",
            unique=True,
            sqlite_where=text("replaced_at IS NULL"),
            postgresql_where=text("replaced_at IS NULL"),
        ),
    )

    id: str = Field(primary_key=True, max_length=32)
    registration_id: str = Field(foreign_key="registration.id", index=True, max_length=32)
    kind: AttachmentKind = Field(sa_type=enum_type(AttachmentKind))
    upload_id: str | None = Field(default=None, max_length=32)
    storage_key: str = Field(max_length=200)
    thumbnail_key: str | None = Field(default=None, max_length=200)
    width: int
    height: int
    byte_size: int
    sha256: str = Field(max_length=64)
    # advisory findings of the checks (background, enlargement, blank page): the applicant may
    # upload again; the reviewer must look before approving
    problems: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow)
    replaced_at: datetime | None = None
