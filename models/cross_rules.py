"""Cross-field rules (rules.md §9). Each check returns None or raises ``RuleViolation``."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from models.errors import ErrorCode, RuleViolation

ENUMS_PATH = Path(__file__).resolve().parent / "reference_data" / "enums.json"

MIN_GRADUATION_AGE = 14
MIN_ACCOUNTING_AGE = 16


@cache
def _enums() -> dict[str, Any]:
    with ENUMS_PATH.open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


@cache
def _codes(list_name: str) -> frozenset[str]:
    return frozenset(str(item["code"]) for item in _enums()[list_name])


def age_on(birth_date: date, on: date) -> int:
    """Completed years of age on ``on``; a 29 February birthday turns over on 1 March in
    non-leap years. Negative when ``on`` is before the birth date."""
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - int(before_birthday)


def check_not_future(d: date, *, today: date) -> None:
    if d > today:
        raise RuleViolation(ErrorCode.DATE_IN_FUTURE)


def check_not_before_birth(d: date, birth_date: date) -> None:
    if d < birth_date:
        raise RuleViolation(ErrorCode.DATE_BEFORE_BIRTH)


def check_graduation_age(graduated_on: date, birth_date: date) -> None:
    if age_on(birth_date, graduated_on) < MIN_GRADUATION_AGE:
        raise RuleViolation(ErrorCode.GRADUATED_TOO_YOUNG)


def check_accounting_start(started_on: date, birth_date: date, *, today: date) -> None:
    check_not_future(started_on, today=today)
    if age_on(birth_date, started_on) < MIN_ACCOUNTING_AGE:
        raise RuleViolation(ErrorCode.ACCOUNTING_STARTED_TOO_YOUNG)


# degree code → education-level codes it may be combined with; 无 (0) fits every level.
_DEGREE_NEEDS_LEVEL: dict[str, frozenset[str]] = {
    "2": frozenset({"11"}),  # 博士: 博士研究生
    "3": frozenset({"11", "14"}),  # 硕士: 硕士/博士研究生
    "4": frozenset({"11", "14", "21"}),  # 学士: 本科 or above
}
_NO_DEGREE = "0"


def check_degree_fits_level(level_code: str, degree_code: str) -> None:
    """A degree never exceeds the education level. Unknown codes raise UNKNOWN_CODE."""
    if level_code not in _codes("education_level") or degree_code not in _codes("degree"):
        raise RuleViolation(ErrorCode.UNKNOWN_CODE)
    if degree_code == _NO_DEGREE:
        return
    allowed = _DEGREE_NEEDS_LEVEL.get(degree_code)
    if allowed is None or level_code not in allowed:
        raise RuleViolation(ErrorCode.DEGREE_LEVEL_MISMATCH)


def check_appointment(acquired_on: date, appointed_on: date) -> None:
    """聘任技术职务时间 must not be earlier than 取得时间 (the same day is allowed)."""
    if appointed_on < acquired_on:
        raise RuleViolation(ErrorCode.APPOINTED_BEFORE_ACQUIRED)


@cache
def _qualification_rank_by_name() -> dict[str, int]:
    """Level name (and alias) → rank; ranks follow the qualification_level codes 1..4."""
    ranks: dict[str, int] = {}
    for item in _enums()["qualification_level"]:
        rank = int(item["code"])
        ranks[str(item["name"])] = rank
        for alias in item.get("aliases", []):
            ranks[str(alias)] = rank
    return ranks


@cache
def _qualification_rank_by_code() -> dict[str, int]:
    return {str(item["code"]): int(item["code"]) for item in _enums()["qualification_level"]}


@cache
def _post_rank_by_code() -> dict[str, int]:
    names = _qualification_rank_by_name()
    ranks: dict[str, int] = {}
    for item in _enums()["appointed_technical_position"]:
        level = str(item["level"])
        if level not in names:
            raise RuntimeError(f"enums.json: appointed post level {level!r} is not a qualification")
        ranks[str(item["code"])] = names[level]
    return ranks


def check_appointed_post_fits_level(
    qualification_level_code: str, appointed_post_code: str
) -> None:
    """The appointed post (enums.json appointed_technical_position.level) must not be above the
    qualification level. Unknown codes raise UNKNOWN_CODE."""
    level_rank = _qualification_rank_by_code().get(qualification_level_code)
    post_rank = _post_rank_by_code().get(appointed_post_code)
    if level_rank is None or post_rank is None:
        raise RuleViolation(ErrorCode.UNKNOWN_CODE)
    if post_rank > level_rank:
        raise RuleViolation(ErrorCode.APPOINTED_POST_ABOVE_LEVEL)


# ID type -> the countries or regions its holder may have (None: any), and the sentence shown
_COUNTRY_FOR_ID_TYPE: dict[str, tuple[frozenset[str], bool, str]] = {
    "01": (frozenset({"CHN"}), True, "持居民身份证的，国家或地区应为中国。"),
    "02": (
        frozenset({"HKG", "MAC"}),
        True,
        "持港澳居民来往内地通行证的，国家或地区应为中国香港或中国澳门。",
    ),
    "06": (
        frozenset({"HKG", "MAC"}),
        True,
        "持港澳居民居住证的，国家或地区应为中国香港或中国澳门。",
    ),
    "03": (frozenset({"TWN"}), True, "持台湾居民来往大陆通行证的，国家或地区应为中国台湾。"),
    "07": (frozenset({"TWN"}), True, "持台湾居民居住证的，国家或地区应为中国台湾。"),
    "05": (
        frozenset({"CHN"}),
        False,
        "持外国人永久居留身份证的，国家或地区应为其国籍所属国家，不能选择中国。",
    ),
}


def check_country_for_id_type(id_type: str, country: str) -> None:
    """The ID document constrains the country or region: 居民身份证 CHN; 港澳 documents HKG or
    MAC; 台湾 documents TWN; 外国人永久居留身份证 not CHN; passports (Chinese or foreign) and
    other documents any."""
    rule = _COUNTRY_FOR_ID_TYPE.get(id_type)
    if rule is None:
        return
    codes, allowed, message = rule
    if (country in codes) != allowed:
        raise RuleViolation(ErrorCode.COUNTRY_NOT_FOR_ID_TYPE, message)
