"""Unit codes: unified social credit code (GB 32100-2015, rules.md §3) and organization code
(GB 11714-1997, rules.md §4).

The form field 「统一社会信用代码（组织机构代码）」 takes either; ``check_unit_code`` decides by
the length after normalising (18 → USCC, 9 → organization code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from models.errors import ErrorCode, RuleViolation
from models.normalize import normalize_code


@dataclass(frozen=True)
class UnitCodeFacts:
    code: str  # normalised (USCC 18 chars, or org code 9 chars without hyphen)
    kind: Literal["USCC", "ORG_CODE"]
    region_code: str | None  # positions 3-8 of a USCC
    warnings: tuple[str, ...]


# --- GB 32100 --------------------------------------------------------------------------------

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_CHARSET)}
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1 3 9 27 19 26 16 17 20 29 25 13 ...
_USCC_BODY = re.compile(r"[0-9A-HJ-NPQRTUWXY]{17}")
_USCC_FULL = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")

# GB 32100-2015 Table 2: registration department (pos 1) → allowed categories (pos 2).
USCC_DEPARTMENTS: dict[str, frozenset[str]] = {
    "1": frozenset("1239"),  # 机构编制
    "2": frozenset("19"),  # 外交
    "3": frozenset("123459"),  # 司法行政
    "4": frozenset("19"),  # 文化
    "5": frozenset("1239"),  # 民政
    "6": frozenset("129"),  # 旅游
    "7": frozenset("129"),  # 宗教
    "8": frozenset("19"),  # 工会
    "9": frozenset("123"),  # 工商 (市场监管)
    "A": frozenset("19"),  # 中央军委改革和编制办公室
    "N": frozenset("1239"),  # 农业
    "Y": frozenset("1"),  # 其他
}

WARN_CATEGORY = "统一社会信用代码的机构类别代码不在已知的登记管理部门类别表中，请核对。"
WARN_EMBEDDED_ORG_CODE = "统一社会信用代码中的组织机构代码部分未通过校验，请核对。"


def uscc_check_char(body17: str) -> str:
    """The GB 32100 check character for 17 body characters; raises CREDIT_CODE_FORMAT otherwise."""
    if not _USCC_BODY.fullmatch(body17):
        raise RuleViolation(ErrorCode.CREDIT_CODE_FORMAT)
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(body17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


# --- GB 11714 --------------------------------------------------------------------------------

ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY = re.compile(r"[0-9A-Z]{8}")
_ORG_FULL = re.compile(r"[0-9A-Z]{8}[0-9X]")


def _org_value(ch: str) -> int:
    return ord(ch) - ord("0") if ch <= "9" else ord(ch) - ord("A") + 10


def org_code_check_char(body8: str) -> str:
    """The GB 11714 check character for 8 body characters; raises CREDIT_CODE_FORMAT otherwise."""
    if not _ORG_BODY.fullmatch(body8):
        raise RuleViolation(ErrorCode.CREDIT_CODE_FORMAT)
    total = sum(_org_value(ch) * w for ch, w in zip(body8, ORG_CODE_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    if c9 == 10:
        return "X"
    if c9 == 11:
        return "0"
    return str(c9)


def _org_code_ok(code9: str) -> bool:
    return bool(_ORG_FULL.fullmatch(code9)) and org_code_check_char(code9[:8]) == code9[8]


# --- the form field --------------------------------------------------------------------------


def _check_uscc(code: str) -> UnitCodeFacts:
    if not _USCC_FULL.fullmatch(code):
        raise RuleViolation(ErrorCode.CREDIT_CODE_FORMAT)
    if uscc_check_char(code[:17]) != code[17]:
        raise RuleViolation(ErrorCode.CREDIT_CODE_CHECKSUM)
    categories = USCC_DEPARTMENTS.get(code[0])
    if categories is None:
        raise RuleViolation(ErrorCode.CREDIT_CODE_DEPARTMENT)
    warnings: list[str] = []
    if code[1] not in categories:
        warnings.append(WARN_CATEGORY)
    if not _org_code_ok(code[8:17]):
        warnings.append(WARN_EMBEDDED_ORG_CODE)
    return UnitCodeFacts(code, "USCC", code[2:8], tuple(warnings))


def _check_org_code(code: str) -> UnitCodeFacts:
    if not _ORG_FULL.fullmatch(code):
        raise RuleViolation(ErrorCode.CREDIT_CODE_FORMAT)
    if org_code_check_char(code[:8]) != code[8]:
        raise RuleViolation(ErrorCode.ORG_CODE_CHECKSUM)
    return UnitCodeFacts(code, "ORG_CODE", None, ())


def check_unit_code(raw: str) -> UnitCodeFacts:
    """Validate a USCC (18 characters) or an organization code (9 characters, hyphen optional).

    Raises ``RuleViolation`` with CREDIT_CODE_FORMAT, CREDIT_CODE_CHECKSUM,
    CREDIT_CODE_DEPARTMENT or ORG_CODE_CHECKSUM.
    """
    code = normalize_code(raw)
    if len(code) == 18:
        return _check_uscc(code)
    if len(code) == 9:
        return _check_org_code(code)
    raise RuleViolation(ErrorCode.CREDIT_CODE_FORMAT)
