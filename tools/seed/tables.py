"""The columns the seed writes, table by table, and the rows of one chunk."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COLUMNS: dict[str, tuple[str, ...]] = {
    "person": (
        "id",
        "person_key",
        "name",
        "id_type",
        "id_number",
        "phone",
        "created_at",
        "updated_at",
    ),
    "registration": (
        "id",
        "person_id",
        "status",
        "version",
        "department_code",
        "department_rule",
        "city_code",
        "education_saved_at",
        "qualification_saved_at",
        "reopened",
        "created_at",
        "updated_at",
        "submitted_at",
        "decided_at",
    ),
    "notice_section": ("registration_id", "eligibility", "acknowledged_at"),
    "basic_info_section": (
        "registration_id",
        "name",
        "phone",
        "id_type",
        "id_number",
        "gender",
        "birth_date",
        "country_or_region",
        "ethnic_group",
        "political_status",
        "remarks",
        "saved_at",
    ),
    "work_unit_section": (
        "registration_id",
        "credit_code",
        "unit_name",
        "unit_name_source",
        "economic_type",
        "office_division_code",
        "postal_code",
        "accounting_start_date",
        "accounting_post",
        "administrative_title",
    ),
    "residence_section": ("registration_id", "division_code", "address", "postal_code"),
    "education_section": (
        "registration_id",
        "kind",
        "level",
        "degree",
        "verification_number",
        "major",
        "school",
        "graduation_date",
    ),
    "qualification_section": (
        "registration_id",
        "level",
        "type",
        "acquisition_method",
        "acquired_on",
        "appointed_post",
        "appointed_on",
        "certificate_number",
    ),
    "submission": (
        "id",
        "registration_id",
        "sequence",
        "idempotency_key",
        "based_on_version",
        "snapshot",
        "declaration",
        "submitted_at",
    ),
    "registration_event": (
        "id",
        "registration_id",
        "kind",
        "from_status",
        "to_status",
        "actor_kind",
        "actor_id",
        "comment",
        "items",
        "department_code",
        "occurred_at",
    ),
    "review_decision": (
        "id",
        "registration_id",
        "submission_id",
        "outcome",
        "comment",
        "checked_fields",
        "reviewer_id",
        "department_code",
        "event_id",
        "decided_at",
    ),
    "review_return_item": ("id", "decision_id", "position", "field", "reason_code", "note"),
}
ID_TABLES = ("person", "submission", "registration_event", "review_decision", "review_return_item")


@dataclass
class Rows:
    tables: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {name: [] for name in COLUMNS}
    )

    def count(self) -> int:
        return sum(len(v) for v in self.tables.values())


@dataclass
class Ids:
    person: int
    submission: int
    registration_event: int
    review_decision: int
    review_return_item: int

    def take(self, name: str) -> int:
        value: int = getattr(self, name) + 1
        setattr(self, name, value)
        return value
