"""Every table of the product, imported in one place for Alembic and for tests."""

from sqlmodel import SQLModel

from models.accounts import (
    AuthSession,
    LoginIdentity,
    Person,
    RotatedRefreshToken,
    StaffAccount,
)
from models.attachments import Attachment, Upload
from models.outbox import OutboxMessage
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
from models.review import ReturnItemRow, ReviewDecision, StaffReadLog
from models.stats import StatsCounter, StatsDaily

metadata = SQLModel.metadata

__all__ = [
    "Attachment",
    "AuthSession",
    "BasicInfoSection",
    "EducationSection",
    "LoginIdentity",
    "NoticeSection",
    "OutboxMessage",
    "Person",
    "QualificationSection",
    "Registration",
    "RegistrationEvent",
    "ResidenceSection",
    "ReturnItemRow",
    "ReviewDecision",
    "RotatedRefreshToken",
    "StaffAccount",
    "StaffReadLog",
    "StatsCounter",
    "StatsDaily",
    "Submission",
    "UnitDirectoryEntry",
    "Upload",
    "WorkUnitSection",
    "metadata",
]
