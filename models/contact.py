"""Mobile phone number (rules.md §6) and postal code (rules.md §7)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.errors import ErrorCode, RuleViolation
from models.normalize import normalize_code

_MOBILE = re.compile(r"(?:\+86|86|0)?(1[3-9][0-9]{9})")
_POSTAL = re.compile(r"[0-9]{6}")

# Zhejiang county-level postal codes start with 31 or 32, except 嵊泗县 (202450).
_ZHEJIANG_POSTAL_PREFIXES = ("31", "32")
_ZHEJIANG_POSTAL_EXTRA = frozenset({"202450"})


@dataclass(frozen=True)
class PostalFacts:
    code: str
    in_zhejiang_range: bool  # False is a WARN for the reviewer, never a rejection


def check_phone(raw: str) -> str:
    """Return the 11-digit mainland mobile number; raises PHONE_FORMAT.

    Spaces, hyphens and a ``+86``/``86``/``0`` prefix are removed first.
    """
    match = _MOBILE.fullmatch(normalize_code(raw))
    if match is None:
        raise RuleViolation(ErrorCode.PHONE_FORMAT)
    return match.group(1)


def check_postal_code(raw: str) -> PostalFacts:
    """Validate a 6-digit postal code; raises POSTAL_CODE_FORMAT."""
    code = normalize_code(raw)
    if not _POSTAL.fullmatch(code):
        raise RuleViolation(ErrorCode.POSTAL_CODE_FORMAT)
    in_range = code.startswith(_ZHEJIANG_POSTAL_PREFIXES) or code in _ZHEJIANG_POSTAL_EXTRA
    return PostalFacts(code, in_range)
