"""Every table of the product, imported in one place for Alembic and for tests."""

from sqlmodel import SQLModel

from models.accounts import AuthSession, LoginIdentity, Person, StaffAccount
from models.attachments import Attachment, Upload
from models.registration import (
    BasicInfoSection,
    EducationSection,
    NoticeSection,
    QualificationSection,
    Registration,
    RegistrationEvent,
    ResidenceSection,
    Submission,
    UnitDirectoryEntry,
    WorkUnitSection,
)

metadata = SQLModel.metadata

__all__ = [
    "Attachment",
    "AuthSession",
    "BasicInfoSection",
    "EducationSection",
    "LoginIdentity",
    "NoticeSection",
    "Person",
    "QualificationSection",
    "Registration",
    "RegistrationEvent",
    "ResidenceSection",
    "StaffAccount",
    "Submission",
    "UnitDirectoryEntry",
    "Upload",
    "WorkUnitSection",
    "metadata",
]
