"""What changed between two submissions, field by field and attachment by attachment; for a
change request's first submission, against the approved record it amends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.registration import Registration, Submission


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    old: Any
    new: Any


def _is_leaf(path: str, value: Any) -> bool:
    if not isinstance(value, dict):
        return True
    if path == "accountingDepartment" or path.startswith("attachments."):
        return True
    return bool(value) and set(value) <= {"code", "name"}


def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    if path and _is_leaf(path, value):
        out[path] = value
        return
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(inner, f"{path}.{key}" if path else str(key), out)


def changes_between(previous: dict[str, Any], current: dict[str, Any]) -> list[Change]:
    """Field by field (and attachment by attachment), what differs between two snapshots.

    A coded value compares as ``{code, name}``, an attachment as its file facts (a re-upload has
    a new id and hash); a field missing on one side is ``None`` there.
    """
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    _flatten(previous, "", before)
    _flatten(current, "", after)
    paths = list(after) + [p for p in before if p not in after]
    return [
        Change(path, before.get(path), after.get(path))
        for path in paths
        if before.get(path) != after.get(path)
    ]


async def changes_since_last_submission(
    session: AsyncSession, registration_id: str
) -> list[Change] | None:
    """What the latest submission changed against the one before; None for a first submission."""
    latest_two = (
        await session.exec(
            select(Submission)
            .where(Submission.registration_id == registration_id)
            .order_by(col(Submission.sequence).desc())
            .limit(2)
        )
    ).all()
    if len(latest_two) == 2:
        current, previous = latest_two
        return changes_between(previous.snapshot, current.snapshot)
    registration = await session.get(Registration, registration_id)
    if not latest_two or registration is None or registration.amends_id is None:
        return None
    # a change's first submission: against the approved record it amends
    base = (
        await session.exec(
            select(Submission)
            .where(Submission.registration_id == registration.amends_id)
            .order_by(col(Submission.sequence).desc())
        )
    ).first()
    if base is None:
        return None
    return changes_between(_file_facts(base.snapshot), _file_facts(latest_two[0].snapshot))


def _file_facts(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A snapshot whose attachments compare by their files (a change shares the approved
    record's files under new attachment ids)."""
    attachments = snapshot.get("attachments") or {}
    return snapshot | {
        "attachments": {
            kind: {k: v for k, v in facts.items() if k != "id"}
            for kind, facts in attachments.items()
        }
    }
