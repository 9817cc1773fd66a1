"""Reference data: the divisions of Zhejiang with their finance bureaus, and the code lists.

The files under ``reference_data/`` are copies of the product's reference set; they are read
once per process and kept in memory (a few hundred rows, never changed at run time).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal, cast

DATA_DIR = Path(__file__).parent / "reference_data"
PROVINCE_CODE = "330000"

DivisionLevel = Literal["province", "city", "county"]


@dataclass(frozen=True, slots=True)
class Option:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Department:
    """A 会计管理部门: its code is the code of its division (330102 上城区财政局)."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    level: DivisionLevel
    parent_code: str | None
    postal_code: str | None
    department: Department

    @property
    def city_code(self) -> str | None:
        if self.level == "city":
            return self.code
        return self.parent_code if self.level == "county" else None


# GraphQL field name -> list name in enums.json
FORM_OPTION_LISTS: dict[str, str] = {
    "idTypes": "id_document_type",
    "countriesOrRegions": "country_region",
    "ethnicGroups": "ethnic_group",
    "politicalStatuses": "political_status",
    "economicTypes": "unit_economic_type",
    "accountingPosts": "accounting_work_position",
    "administrativeTitles": "accounting_admin_post",
    "educationLevels": "education_level",
    "degrees": "degree",
    "qualificationLevels": "qualification_level",
    "qualificationTypes": "qualification_type",
    "acquisitionMethods": "qualification_acquisition_method",
    "appointedPosts": "appointed_technical_position",
}


@dataclass(frozen=True)
class ReferenceData:
    divisions: dict[str, Division]
    code_lists: dict[str, tuple[Option, ...]]
    _by_parent: dict[str | None, tuple[Division, ...]] = field(repr=False)
    _names: dict[str, dict[str, str]] = field(repr=False)

    def division(self, code: str) -> Division | None:
        return self.divisions.get(code)

    def children(self, parent_code: str | None) -> tuple[Division, ...]:
        """Cities of Zhejiang for ``None``; counties of a city; nothing for an unknown code."""
        return self._by_parent.get(parent_code or PROVINCE_CODE, ())

    def options(self, list_name: str) -> tuple[Option, ...]:
        return self.code_lists[list_name]

    def name_of(self, list_name: str, code: str) -> str | None:
        return self._names[list_name].get(code)

    def has_code(self, list_name: str, code: str) -> bool:
        return code in self._names[list_name]

    def department(self, code: str) -> Department | None:
        division = self.divisions.get(code)
        return division.department if division else None

    @property
    def departments(self) -> tuple[Department, ...]:
        return tuple(d.department for d in self.divisions.values())


def _read_divisions(path: Path) -> dict[str, Division]:
    divisions: dict[str, Division] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            level = cast(DivisionLevel, row["level"])
            if level not in ("province", "city", "county"):
                raise ValueError(f"unknown division level {level!r} for {row['code']}")
            divisions[row["code"]] = Division(
                code=row["code"],
                name=row["name"],
                level=level,
                parent_code=row["parent_code"] or None,
                postal_code=row["postal_code"] or None,
                department=Department(code=row["code"], name=row["finance_bureau"]),
            )
    return divisions


#: sha256 of reference_data/countries.csv as shipped (its header names the source); a test checks it
COUNTRIES_SHA256 = "e24b7be737175bea865122f5a30df9a23fe0ec2031eb202146625e626ef98679"


def _read_countries(path: Path) -> tuple[Option, ...]:
    """ISO 3166-1 alpha-3 with GB/T 2659 Chinese names; lines starting with # are comments."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return tuple(Option(code=row["code"], name=row["name"]) for row in rows)


def _read_code_lists(path: Path) -> dict[str, tuple[Option, ...]]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: tuple(Option(code=str(item["code"]), name=str(item["name"])) for item in items)
        for name, items in raw.items()
        if not name.startswith("_")
    }


@cache
def load_reference_data(data_dir: Path = DATA_DIR) -> ReferenceData:
    divisions = _read_divisions(data_dir / "zhejiang_divisions.csv")
    code_lists = _read_code_lists(data_dir / "enums.json")
    # the full country list replaces the four entries of enums.json
    code_lists["country_region"] = _read_countries(data_dir / "countries.csv")
    by_parent: dict[str | None, list[Division]] = {}
    for division in divisions.values():
        if division.parent_code:
            by_parent.setdefault(division.parent_code, []).append(division)
    return ReferenceData(
        divisions=divisions,
        code_lists=code_lists,
        _by_parent={k: tuple(v) for k, v in by_parent.items()},
        _names={name: {o.code: o.name for o in opts} for name, opts in code_lists.items()},
    )
