"""Identity-document numbers (rules.md §1, §2, §5).

``check_id_number`` validates a number for one ``id_document_type`` code from ``enums.json``
and returns the normalised number plus what it encodes (birth date, gender). It raises
``RuleViolation`` for a BLOCK-level problem; WARN-level findings come back in ``warnings``.
Warnings never contain the number or anything derived from it.

Order of the checks for the GB 11643 layout (01, 05 2023 edition, 06, 07): format, check
character, region prefix, birth date. Checking the check character first means a single
mistyped digit is always reported as ``ID_NUMBER_CHECKSUM`` (MOD 11-2 detects every
single-character substitution).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from models.cross_rules import age_on
from models.errors import ErrorCode, RuleViolation
from models.normalize import normalize_code

Gender = Literal["1", "2"]


@dataclass(frozen=True)
class IdNumberFacts:
    number: str  # normalised form to store
    birth_date: date | None  # derived where the number encodes it
    gender: Gender | None  # GB/T 2261.1 code, derived where encoded (odd digit 17 → "1")
    warnings: tuple[str, ...]  # WARN-level findings (human readable, no personal data)


# --- GB 11643 check character (ISO 7064 MOD 11-2) -------------------------------------------

# 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2; public for generators that compute the check in SQL
RESIDENT_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
RESIDENT_ID_CHECK_CHARS = "10X98765432"
_RIC_BODY = re.compile(r"[0-9]{17}")
_RIC_FULL = re.compile(r"[0-9]{17}[0-9X]")

# GB/T 2260 province-level prefixes allowed for 居民身份证 (rules.md §1 rule 4).
PROVINCE_PREFIXES = frozenset(
    [str(n) for n in range(11, 16)]
    + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)]
    + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)]
    + [str(n) for n in range(61, 66)]
)

_EARLIEST_PLAUSIBLE_BIRTH = date(1900, 1, 1)
_MIN_WORKING_AGE = 16

WARN_BORN_BEFORE_1900 = "证件号码中的出生日期早于1900年，请核对。"
WARN_UNDER_16 = "根据证件号码，持证人未满16周岁，请核对。"
WARN_TW_LEGACY = "台湾居民来往大陆通行证号码为旧版格式（含括号字母），请核对是否已换发新证。"
WARN_FOREIGN_PROVINCE = "外国人永久居留身份证号码中的受理地省级代码不在已知范围内，请核对。"


def resident_id_check_char(body17: str) -> str:
    """The GB 11643 check character for 17 body digits; raises ID_NUMBER_FORMAT otherwise."""
    if not _RIC_BODY.fullmatch(body17):
        raise RuleViolation(ErrorCode.ID_NUMBER_FORMAT)
    total = sum(int(ch) * w for ch, w in zip(body17, RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECK_CHARS[total % 11]


def convert_legacy_resident_id(number15: str) -> str:
    """Convert a 15-digit GB 11643-1989 number to 18 digits (rules.md §2, data migration only).

    Inserts ``19`` before YYMMDD and appends the check character. The result still has to pass
    ``check_id_number("01", ...)``.
    """
    number = normalize_code(number15)
    if not re.fullmatch(r"[0-9]{15}", number):
        raise RuleViolation(ErrorCode.ID_NUMBER_FORMAT)
    body = number[:6] + "19" + number[6:]
    return body + resident_id_check_char(body)


# --- shared helpers --------------------------------------------------------------------------


def _parse_yyyymmdd(digits: str) -> date | None:
    try:
        return date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def _gb11643_layout(number: str, *, prefix_ok: Callable[[str], bool], today: date) -> IdNumberFacts:
    """Checks shared by every 18-character number in the GB 11643 layout."""
    if not _RIC_FULL.fullmatch(number):
        raise RuleViolation(ErrorCode.ID_NUMBER_FORMAT)
    if resident_id_check_char(number[:17]) != number[17]:
        raise RuleViolation(ErrorCode.ID_NUMBER_CHECKSUM)
    if not prefix_ok(number):
        raise RuleViolation(ErrorCode.ID_NUMBER_REGION)
    birth = _parse_yyyymmdd(number[6:14])
    if birth is None or birth > today:
        raise RuleViolation(ErrorCode.ID_NUMBER_BIRTH_DATE)
    warnings: list[str] = []
    if birth < _EARLIEST_PLAUSIBLE_BIRTH:
        warnings.append(WARN_BORN_BEFORE_1900)
    if age_on(birth, today) < _MIN_WORKING_AGE:
        warnings.append(WARN_UNDER_16)
    gender: Gender = "1" if int(number[16]) % 2 == 1 else "2"
    return IdNumberFacts(number, birth, gender, tuple(warnings))


# --- per document type -----------------------------------------------------------------------


def _resident_id(number: str, today: date) -> IdNumberFacts:
    # §1; a 15-digit legacy number (§2) fails the format test: it is not accepted for new entries.
    return _gb11643_layout(number, prefix_ok=lambda n: n[:2] in PROVINCE_PREFIXES, today=today)


def _hk_macau_residence(number: str, today: date) -> IdNumberFacts:
    # §5.3, 港澳居民居住证
    return _gb11643_layout(number, prefix_ok=lambda n: n[:6] in ("810000", "820000"), today=today)


def _taiwan_residence(number: str, today: date) -> IdNumberFacts:
    # §5.3, 台湾居民居住证
    return _gb11643_layout(number, prefix_ok=lambda n: n[:6] == "830000", today=today)


_HK_MACAU_PERMIT = re.compile(r"[HM][0-9]{8}(?:[0-9]{2})?")
_TAIWAN_PERMIT = re.compile(r"[0-9]{8}(?:[0-9]{2})?")
_TAIWAN_PERMIT_LEGACY = re.compile(r"[0-9]{8}(?:[0-9]{2})?\([A-Z]\)")
_FOREIGN_OLD = re.compile(r"[A-Z]{3}[0-9]{12}")
_PASSPORT = re.compile(r"[A-Z0-9]{5,17}")
_OTHER = re.compile(r"[0-9A-Z]{1,30}")


def _hk_macau_permit(number: str, today: date) -> IdNumberFacts:
    # §5.1: format only, no public check digit.
    if not _HK_MACAU_PERMIT.fullmatch(number):
        raise RuleViolation(ErrorCode.ID_NUMBER_FORMAT)
    return IdNumberFacts(number, None, None, ())


def _taiwan_permit(number: str, today: date) -> IdNumberFacts:
    # §5.2: format only; a legacy booklet number such as 12345678(B) is kept whole, with a warning.
    if _TAIWAN_PERMIT.fullmatch(number):
        return IdNumberFacts(number, None, None, ())
    if _TAIWAN_PERMIT_LEGACY.fullmatch(number):
        return IdNumberFacts(number, None, None, (WARN_TW_LEGACY,))
    raise RuleViolation(ErrorCode.ID_NUMBER_FORMAT)


def _foreign_permanent_residence(number: str, today: date) -> IdNumberFacts:
    # §5.4: 2023 edition (18, GB 11643 layout starting with 9) or older edition (15, format only).
    if len(number) == 18:
        if not number.startswith("9"):
            raise RuleViolation(ErrorCode.ID_NUMBER_FORMAT)
        facts = _gb11643_layout(number, prefix_ok=lambda n: True, today=today)
        if number[1:3] not in PROVINCE_PREFIXES:
            return IdNumberFacts(
                facts.number,
                facts.birth_date,
                facts.gender,
                (*facts.warnings, WARN_FOREIGN_PROVINCE),
            )
        return facts
    if _FOREIGN_OLD.fullmatch(number):
        return IdNumberFacts(number, None, None, ())
    raise RuleViolation(ErrorCode.ID_NUMBER_FORMAT)


def _passport(number: str, today: date) -> IdNumberFacts:
    # §5.5: loose format, no checksum.
    if not _PASSPORT.fullmatch(number):
        raise RuleViolation(ErrorCode.ID_NUMBER_FORMAT)
    return IdNumberFacts(number, None, None, ())


def _other(number: str, today: date) -> IdNumberFacts:
    if not _OTHER.fullmatch(number):
        raise RuleViolation(ErrorCode.ID_NUMBER_FORMAT)
    return IdNumberFacts(number, None, None, ())


_CHECKERS: dict[str, Callable[[str, date], IdNumberFacts]] = {
    "01": _resident_id,
    "02": _hk_macau_permit,
    "03": _taiwan_permit,
    "04": _passport,
    "05": _foreign_permanent_residence,
    "06": _hk_macau_residence,
    "07": _taiwan_residence,
    "99": _other,
}


def check_id_number(id_type: str, raw: str, *, today: date) -> IdNumberFacts:
    """Validate ``raw`` as a number of document type ``id_type`` (enums.json id_document_type).

    Raises ``RuleViolation`` with UNKNOWN_CODE, ID_NUMBER_FORMAT, ID_NUMBER_CHECKSUM,
    ID_NUMBER_REGION or ID_NUMBER_BIRTH_DATE.
    """
    checker = _CHECKERS.get(id_type)
    if checker is None:
        raise RuleViolation(ErrorCode.UNKNOWN_CODE)
    return checker(normalize_code(raw), today)


# --- masking for logs and lists ------------------------------------------------------------


def _mask(value: str, keep_start: int, keep_end: int) -> str:
    hidden = len(value) - keep_start - keep_end
    return value[:keep_start] + "*" * hidden + value[len(value) - keep_end :]


def mask_id_number(number: str) -> str:
    """Mask a document number for display or logging.

    15 characters or more keep the first 6 and last 4 (``330102********1234``); 6–14 keep the
    first 2 and last 2; 4–5 keep the first 1 and last 2; anything shorter is masked completely.
    """
    n = len(number)
    if n >= 15:
        return _mask(number, 6, 4)
    if n >= 6:
        return _mask(number, 2, 2)
    if n >= 4:
        return _mask(number, 1, 2)
    return "*" * n


def mask_phone(phone: str) -> str:
    """Mask a phone number: ``138****5678``. Keeps the first 3 and last 4 of 8+ characters."""
    n = len(phone)
    if n >= 8:
        return _mask(phone, 3, 4)
    if n >= 4:
        return _mask(phone, 0, 2)
    return "*" * n
