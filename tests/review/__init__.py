"""The operations a reviewer's client sends, and helpers shared by the review suites."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, func, select

from models.db import transaction
from models.registration import Registration, RegistrationEvent
from models.review import ReturnItemRow, ReviewDecision, StaffReadLog
from tests.api import Api
from tests.wizard import sign_in

REVIEW_PAYLOAD = """{
  registration { id status version reopenedFields decidedAt }
  decision { id outcome comment submissionSequence checkedFields
             items { field reason { code name } note } reviewer { username } }
  errors { field code message } }"""

APPROVE = (
    "mutation($input: ApproveRegistrationInput!) { approveRegistration(input: $input) "
    + REVIEW_PAYLOAD
    + " }"
)
RETURN = (
    "mutation($input: ReturnRegistrationInput!) { returnRegistration(input: $input) "
    + REVIEW_PAYLOAD
    + " }"
)
QUEUE = """query($filter: RegistrationQueueFilter, $first: Int, $after: String) {
  registrations(filter: $filter, first: $first, after: $after) {
    totalCount errors { field code }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id status version name idType { code } maskedIdNumber maskedPhone
      submittedAt submissionCount accountingDepartment { code name } city { code } } } } }"""
DETAIL = """query($id: ID!) { registration(id: $id) {
  id status version reopenedFields submittedAt decidedAt
  basicInfo { name idNumber phone ethnicGroup { code } politicalStatus { code } }
  workUnit { unitName }
  attachments { id kind previewUrl }
  problems { field code }
  submissions { sequence submittedAt declaration basedOnVersion snapshot }
  changesSinceLastSubmission { field old new }
  decisions { outcome submissionSequence comment items { field reason { code } note }
              reviewer { username } }
  auditTrail { kind actorKind actor { username } fromStatus toStatus comment
               items { field reason { code } note } }
  history { kind status fromStatus comment items { field reason { code } note } } } }"""
RETURN_REASONS = "{ returnReasons { code name } }"

SHANGCHENG = "330102"  # 上城区财政局: the default work unit's office district
XIHU = "330106"
PROVINCE = "330000"


async def reviewer(api: Api, department: str = SHANGCHENG, name: str = "审核员") -> Api:
    return await sign_in(api, {"name": name, "reviewerDepartmentCode": department})


async def dashboard(api: Api) -> Api:
    return await sign_in(api, {"name": "看板", "staffRole": "DASHBOARD"})


def review_input(registration: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "input": {
            "registrationId": registration["id"],
            "expectedVersion": registration["version"],
            **fields,
        }
    }


async def approve(api: Api, registration: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return (await api.data(APPROVE, review_input(registration, **fields)))["approveRegistration"]  # type: ignore[no-any-return]


async def return_(api: Api, registration: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return (await api.data(RETURN, review_input(registration, **fields)))["returnRegistration"]  # type: ignore[no-any-return]


async def detail(api: Api, registration_id: str) -> dict[str, Any] | None:
    return (await api.data(DETAIL, {"id": registration_id}))["registration"]  # type: ignore[no-any-return]


def codes(payload: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in payload["errors"]}


async def stored(api: Api, registration_id: str) -> dict[str, Any]:
    """What the database holds for one registration: status, version, decisions, events."""
    async with transaction(api.services.db) as db:
        row = await db.get(Registration, registration_id)
        assert row is not None
        decisions = (
            await db.exec(
                select(ReviewDecision)
                .where(ReviewDecision.registration_id == registration_id)
                .order_by(col(ReviewDecision.id))
            )
        ).all()
        items = (
            await db.exec(
                select(ReturnItemRow)
                .where(col(ReturnItemRow.decision_id).in_([d.id for d in decisions]))
                .order_by(col(ReturnItemRow.id))
            )
        ).all()
        events = (
            await db.exec(
                select(RegistrationEvent)
                .where(RegistrationEvent.registration_id == registration_id)
                .order_by(col(RegistrationEvent.id))
            )
        ).all()
        reads = (
            await db.exec(
                select(func.count())
                .select_from(StaffReadLog)
                .where(StaffReadLog.registration_id == registration_id)
            )
        ).one()
        return {
            "status": row.status.value,
            "version": row.version,
            "reopened": list(row.reopened),
            "decisions": list(decisions),
            "items": list(items),
            "events": [e.kind for e in events],
            "reads": int(reads),
        }
