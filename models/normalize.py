"""Input normalisation shared by the rule modules (rules.md, "General input handling").

``normalize_code`` is for code-like fields (ID numbers, credit codes, phone and postal codes):
the result is what gets validated and stored. ``normalize_text`` is for free text such as names
and addresses, where case and inner spaces carry meaning and are kept.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

_FULLWIDTH_FIRST = 0xFF01  # ！
_FULLWIDTH_LAST = 0xFF5E  # ～
_FULLWIDTH_OFFSET = 0xFEE0  # ＡU+FF21 - 0xFEE0 = AU+0041
_IDEOGRAPHIC_SPACE = "\u3000"

# Hyphen-like characters dropped from codes besides ASCII "-" (U+FF0D becomes "-" first).
_HYPHENS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63")

_WHITESPACE_RUN = re.compile(r"\s+")

#: invisible characters that change how text reads or compares: the bidirectional controls
#: (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F) and the zero-width ones (U+200B–U+200D, U+FEFF)
HIDDEN_CHARACTERS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u200b", "\u200c", "\u200d", "\ufeff"]
)


def has_hidden_characters(value: str) -> bool:
    """Bidi controls or zero-width characters: refused in free text (INVALID_FORMAT)."""
    return not HIDDEN_CHARACTERS.isdisjoint(value)


def to_half_width(raw: str) -> str:
    """Map full-width ASCII variants (U+FF01–U+FF5E) and the ideographic space to ASCII."""
    out: list[str] = []
    for ch in raw:
        cp = ord(ch)
        if _FULLWIDTH_FIRST <= cp <= _FULLWIDTH_LAST:
            out.append(chr(cp - _FULLWIDTH_OFFSET))
        elif ch == _IDEOGRAPHIC_SPACE:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def normalize_code(raw: str) -> str:
    """Trim, full-width → half-width, upper-case, and drop all spaces and hyphens.

    >>> normalize_code(" ３３０１０６－1990 0307 123x ")
    '33010619900307123X'
    """
    half = to_half_width(raw).strip().upper()
    return "".join(ch for ch in half if not ch.isspace() and ch not in _HYPHENS)


def normalize_text(raw: str) -> str:
    """Trim, NFC-normalise, turn full-width spaces into spaces and collapse whitespace runs.

    >>> normalize_text("  浙江省\u3000杭州市   西湖区 ")
    '浙江省 杭州市 西湖区'
    """
    text = unicodedata.normalize("NFC", raw).replace(_IDEOGRAPHIC_SPACE, " ")
    return _WHITESPACE_RUN.sub(" ", text).strip()


class UnparsedDate(str):
    """What was sent for a date that is not a real day written ``YYYY-MM-DD`` ("2012-02-30",
    "2012/06/30", a number). The API takes it as it is; the rules answer ``INVALID_DATE``."""


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_day(raw: object) -> date | UnparsedDate:
    """A day from its ISO text; anything else comes back as :class:`UnparsedDate` (never raises)."""
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    text = raw.strip() if isinstance(raw, str) else repr(raw)
    if _DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    return UnparsedDate(text[:40])
