"""获取单位信息: a unit's name by its credit code.

The service keeps its own directory (a table filled by a CSV import and by the units confirmed
in approved registrations). Imported names are verified; a name learned from an approval is
recorded only for a code the directory does not know yet, marked unverified, and never
overwrites a name already there. ``UnitRegistry`` is the interface an external company registry can
implement later; ``lookup_unit`` asks the configured registries in turn, each with a deadline,
and says when nobody knew or nobody answered in time, so the applicant types the name.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, TextIO

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from config.backend import Backend
from config.settings import Settings
from models.db import SessionFactory, transaction, utcnow
from models.errors import RuleViolation
from models.normalize import has_hidden_characters, normalize_text
from models.registration import UnitDirectoryEntry
from models.unit_codes import check_unit_code


class LookupOutcome(StrEnum):
    FOUND = "FOUND"
    NOT_FOUND = "NOT_FOUND"
    UNAVAILABLE = "UNAVAILABLE"  # no registry answered in time


@dataclass(frozen=True, slots=True)
class UnitLookup:
    outcome: LookupOutcome
    credit_code: str
    unit_name: str | None = None
    source: str | None = None
    verified: bool = False


@dataclass(frozen=True, slots=True)
class FoundUnit:
    name: str
    verified: bool  # from an authoritative source, not learned from an applicant


class UnitRegistry(Backend, Protocol):
    name: str

    async def find(self, credit_code: str) -> FoundUnit | None:
        """The unit's registered name, or None when the registry does not know the code."""


class LocalUnitDirectory:
    """The service's own directory table."""

    name = "directory"

    def __init__(self, db: SessionFactory) -> None:
        self._db = db

    async def ping(self) -> bool:
        return True  # the table lives in the service's own database, checked on its own

    async def aclose(self) -> None:
        return None

    async def find(self, credit_code: str) -> FoundUnit | None:
        async with self._db() as session:
            entry = await session.get(UnitDirectoryEntry, credit_code)
            return FoundUnit(entry.unit_name, entry.verified) if entry else None


def from_settings(settings: Settings, db: SessionFactory) -> list[UnitRegistry]:
    """The registries ``lookupUnit`` asks, in order: today the service's own directory."""
    del settings  # no outside registry is configured yet
    return [LocalUnitDirectory(db)]


async def lookup_unit(
    registries: Sequence[UnitRegistry], credit_code: str, *, timeout_s: float = 2.0
) -> UnitLookup:
    """Ask each registry in turn; a registry that fails or is slow counts as not answering."""
    unanswered = False
    for registry in registries:
        try:
            found = await asyncio.wait_for(registry.find(credit_code), timeout=timeout_s)
        except (TimeoutError, OSError, ConnectionError):
            unanswered = True
            continue
        if found is not None and found.name:
            return UnitLookup(
                LookupOutcome.FOUND, credit_code, found.name, registry.name, found.verified
            )
    outcome = LookupOutcome.UNAVAILABLE if unanswered else LookupOutcome.NOT_FOUND
    return UnitLookup(outcome, credit_code)


async def remember_unit(
    session: AsyncSession, credit_code: str, unit_name: str, source: str
) -> None:
    """Record a unit in the directory, in the caller's transaction.

    ``IMPORT`` (an authoritative list) sets the name, verified. Any other source (an approval)
    only adds an unverified name for a code the directory does not know: the name an applicant
    typed never replaces one that is there, and other applicants see it marked unverified.
    """
    # one atomic statement: two approvals of the same unit at once must not collide
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    verified = source == "IMPORT"
    values = {
        "credit_code": credit_code,
        "unit_name": unit_name,
        "source": source,
        "verified": verified,
        "updated_at": utcnow(),
    }
    statement = insert(UnitDirectoryEntry).values(**values)
    if not verified:
        await session.exec(statement.on_conflict_do_nothing(index_elements=["credit_code"]))
        return
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["credit_code"],
            set_={
                "unit_name": unit_name,
                "source": source,
                "verified": True,
                "updated_at": values["updated_at"],
            },
        )
    )


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _rows(handle: TextIO) -> Iterable[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(handle)
    if reader.fieldnames is None or not {"credit_code", "unit_name"} <= set(reader.fieldnames):
        raise ValueError("the CSV needs the columns credit_code and unit_name")
    yield from enumerate(reader, start=2)


async def import_units_csv(db: SessionFactory, handle: TextIO) -> ImportReport:
    """Import ``credit_code,unit_name`` rows; invalid codes and empty names are reported, not stored."""
    report = ImportReport()
    valid: dict[str, str] = {}
    for line, row in _rows(handle):
        try:
            code = check_unit_code(row.get("credit_code") or "").code
        except RuleViolation as exc:
            report.rejected.append((line, exc.code.value))
            continue
        name = normalize_text(row.get("unit_name") or "")
        if not name or len(name) > 200 or has_hidden_characters(name) or not name.isprintable():
            report.rejected.append((line, "unit_name"))
            continue
        valid[code] = name
    async with transaction(db) as session:
        for code, name in valid.items():
            existing = await session.get(UnitDirectoryEntry, code)
            if existing is None:
                report.imported += 1
            else:
                report.updated += 1
            await remember_unit(session, code, name, "IMPORT")
    return report
