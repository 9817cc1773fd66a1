"""Time: the UTC clock every timestamp column uses, and China Standard Time for calendar days.

China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact for every
date this service deals with, and needs no time-zone database on the machine.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Final

CHINA_TZ: Final = timezone(timedelta(hours=8), "Asia/Shanghai")


def utcnow() -> datetime:
    """Now, in UTC: every timestamp column stores an aware UTC time on both databases."""
    return datetime.now(UTC)


def china_now() -> datetime:
    """Now on the wall clocks of Zhejiang."""
    return datetime.now(CHINA_TZ)


def china_today() -> date:
    """Today's date in China (what "today" means to an applicant or a bureau)."""
    return china_now().date()
